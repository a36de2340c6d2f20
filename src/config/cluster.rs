//! `[cluster]`: several `cadre serve` replicas over one PostgreSQL (issue 18, docs/CLUSTER.md).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterConfig {
    /// Join the cluster of replicas sharing `store.database_url` (PostgreSQL only).
    pub enabled: bool,
    /// How often this replica renews its heartbeat, in seconds.
    pub heartbeat_s: u64,
    /// A replica whose heartbeat is older than this is lapsed: its jobs may be taken over.
    pub lease_s: u64,
    /// Where the other replicas and people reach this one (`http://10.0.0.5:8080`); empty:
    /// `server.public_url`, else the bound address.
    pub address: String,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self { enabled: false, heartbeat_s: 1, lease_s: 5, address: String::new() }
    }
}

impl ClusterConfig {
    pub(super) fn problem(&self) -> Option<String> {
        if self.heartbeat_s == 0 {
            return Some("cluster.heartbeat_s must be at least 1".into());
        }
        // Two missed beats must not lapse a lease: a busy replica is not a dead one.
        (self.lease_s < 3 * self.heartbeat_s)
            .then(|| "cluster.lease_s must be at least three times cluster.heartbeat_s".to_string())
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn load(pairs: &[(&str, &str)]) -> Result<Config, String> {
        let env = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        Config::load_from(None, env).map_err(|e| e.to_string())
    }

    #[test]
    fn a_cluster_needs_postgresql_and_a_lease_longer_than_a_few_beats() {
        let on = ("CADRE_CLUSTER__ENABLED", "true");
        let sqlite = load(&[on]).unwrap_err();
        assert!(sqlite.contains("cluster.enabled needs PostgreSQL"), "{sqlite}");
        let file = load(&[on, ("DATABASE_URL", "sqlite:/tmp/x.db")]).unwrap_err();
        assert!(file.contains("needs PostgreSQL"), "{file}");
        let config = load(&[on, ("DATABASE_URL", "postgres://h/db")]).expect("PostgreSQL is fine");
        assert!(config.cluster.enabled);
        let short = load(&[("CADRE_CLUSTER__LEASE_S", "2")]).unwrap_err();
        assert!(short.contains("three times cluster.heartbeat_s"), "{short}");
        assert!(load(&[("CADRE_CLUSTER__HEARTBEAT_S", "0")]).unwrap_err().contains("at least 1"));
    }
}
