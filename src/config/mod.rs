//! Configuration: built-in defaults, then `config/cadre.toml` (or `--config FILE`), then
//! `CADRE_…` environment variables, read once at start-up into typed structs that are passed
//! down explicitly. No other module reads the environment.
//!
//! Any key can be overridden as `CADRE_<SECTION>__<KEY>` (`CADRE_LIMITS__MAX_RUNNING_JOBS=5`,
//! `CADRE_RESOURCES__QUOTAS__1=4`); values are read as TOML when they parse as TOML, as text
//! otherwise. A few names are short because operators expect them: `CADRE_BIND`,
//! `CADRE_DATA_DIR`, `DATABASE_URL`, `CADRE_BOOTSTRAP_KEY`, `CADRE_LOG_FORMAT`. Unknown keys
//! are errors, so a misspelt variable does not silently do nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::domain::{PlanLimits, RetryPolicy, DEPTHS, HARD_MAX_DEPTH};

mod alerts;
mod cluster;
mod decomposer;
mod mail;
mod notify;
mod workforce;
pub use alerts::AlertsConfig;
pub use cluster::ClusterConfig;
pub use decomposer::DecomposerConfig;
pub use mail::MailConfig;
pub use notify::{redacted_url, NotifyConfig, WebhookConfig, DEFAULT_WEBHOOK_EVENTS};
pub use workforce::WorkforceConfig;

/// The configuration file read when `--config` is not given and it exists.
pub const DEFAULT_CONFIG_FILE: &str = "config/cadre.toml";
const ENV_PREFIX: &str = "CADRE_";
const ENV_ALIASES: &[(&str, &str)] = &[
    ("CADRE_BIND", "server.bind"),
    ("CADRE_LOG_FORMAT", "server.log_format"),
    ("CADRE_DATA_DIR", "store.data_dir"),
    ("DATABASE_URL", "store.database_url"),
    ("CADRE_BOOTSTRAP_KEY", "auth.bootstrap_key"),
];

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// Everything configurable.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub store: StoreConfig,
    pub auth: AuthConfig,
    pub limits: LimitsConfig,
    pub resources: ResourcesConfig,
    pub retry: RetryPolicy,
    pub workers: WorkersConfig,
    pub roles: RolesConfig,
    pub rate_limit: RateLimitConfig,
    pub stream: StreamConfig,
    /// Language-model providers (`[llm.providers.NAME]`).
    pub llm: crate::llm::LlmConfig,
    /// The model that decomposes requests (`[decomposer]`).
    pub decomposer: DecomposerConfig,
    /// Signed webhooks (`[[notify.webhooks]]`).
    pub notify: NotifyConfig,
    /// The rules that raise alerts (`[alerts]`).
    pub alerts: AlertsConfig,
    /// The agent registry (`[workforce]`).
    pub workforce: WorkforceConfig,
    /// Messages between nodes (`[mail]`).
    pub mail: MailConfig,
    /// Replicas over one PostgreSQL (`[cluster]`).
    pub cluster: ClusterConfig,
}

/// The event stream (`/ws/recursion`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StreamConfig {
    /// Seconds between pings (and `heartbeat` frames).
    pub ping_interval_s: u64,
    /// A connection that sends nothing (not even a pong) this long is closed.
    pub idle_timeout_s: u64,
    /// Frames queued for one subscriber.
    pub send_queue: usize,
    /// A subscriber whose queue stays full this long has fallen behind (closed with 1013).
    pub stall_timeout_ms: u64,
    /// Client messages per second per connection (over it: closed with 1008).
    pub client_messages_per_second: u32,
    /// Client messages allowed at once above that rate.
    pub client_message_burst: u32,
    /// Seconds of events kept for replay.
    pub retention_s: u64,
    /// Seconds a closing connection waits for its close frame to be sent.
    pub close_timeout_s: u64,
}

impl Default for StreamConfig {
    fn default() -> Self {
        Self {
            ping_interval_s: 15,
            idle_timeout_s: 60,
            send_queue: 1024,
            stall_timeout_ms: 2000,
            client_messages_per_second: 5,
            client_message_burst: 10,
            retention_s: 24 * 3600,
            close_timeout_s: 10,
        }
    }
}

/// Request rate limits (per key, per worker token, per address without credentials).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    /// Sustained requests per second of a caller without a rate of its own.
    pub per_second: u32,
    /// Requests allowed at once above the sustained rate.
    pub burst: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self { per_second: 10, burst: 20 }
    }
}

/// The HTTP server.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Listen address.
    pub bind: String,
    /// Longest a request may take.
    pub request_timeout_s: u64,
    /// Largest accepted request body.
    pub body_limit_bytes: usize,
    /// `text` or `json`.
    pub log_format: String,
    /// How workers reach this server (`CADRE_URL`); empty: the bound address.
    pub public_url: String,
    /// On SIGTERM, how long running nodes may take to finish before they are stopped and
    /// left for the next start to re-run.
    pub shutdown_grace_s: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            request_timeout_s: 30,
            body_limit_bytes: 1024 * 1024,
            log_format: "text".into(),
            public_url: String::new(),
            shutdown_grace_s: 30,
        }
    }
}

/// Where state is kept.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// SQLite lives here when no database URL is given.
    pub data_dir: PathBuf,
    /// `postgres://…` (or `sqlite:…`); empty means SQLite in `data_dir`.
    pub database_url: String,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self { data_dir: PathBuf::from("./cadre-data"), database_url: String::new() }
    }
}

impl std::fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password.
        let url = if self.database_url.is_empty() { "" } else { "[redacted]" };
        f.debug_struct("StoreConfig").field("data_dir", &self.data_dir).field("database_url", &url).finish()
    }
}

impl StoreConfig {
    /// The database URL, if one is set.
    pub fn url(&self) -> Option<&str> {
        Some(self.database_url.as_str()).filter(|u| !u.is_empty())
    }
}

/// Authentication.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// The admin key to install at start-up; empty: generate one on first start.
    pub bootstrap_key: String,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig").field("bootstrap_key", &"[redacted]").finish()
    }
}

/// Admission and size limits (SPEC §2.1, §2.8).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// `max_depth` of a job that sets none.
    pub max_depth: u8,
    pub max_running_jobs: usize,
    pub max_queued_jobs: usize,
    pub max_nodes_per_job: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self { max_depth: 3, max_running_jobs: 100, max_queued_jobs: 10_000, max_nodes_per_job: 100_000 }
    }
}

/// The resource manager.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResourcesConfig {
    /// Slots per depth (`"0" = 10`).
    pub quotas: BTreeMap<String, u32>,
    /// How often held slots are checked for leaks.
    pub leak_check_interval_s: u64,
    /// How often per-depth usage is sampled for the stats history.
    pub usage_sample_interval_s: u64,
}

impl Default for ResourcesConfig {
    fn default() -> Self {
        let quotas = [10, 8, 5, 3, 2, 1].iter().enumerate().map(|(d, q)| (d.to_string(), *q)).collect();
        Self { quotas, leak_check_interval_s: 10, usage_sample_interval_s: 60 }
    }
}

/// Defaults for command workers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkersConfig {
    /// Address-space limit per process in MiB; 0: none.
    pub memory_mb: u64,
    /// CPU-time limit per process in seconds; 0: none.
    pub cpu_seconds: u64,
    /// Wall-clock limit per process.
    pub timeout_s: u64,
    /// Between SIGTERM and SIGKILL.
    pub kill_grace_s: u64,
    /// Bytes of stdout and stderr kept.
    pub output_tail_bytes: usize,
    /// A reallocated attempt (recovery level 2) gets this many times the memory…
    pub reallocate_memory_factor: f64,
    /// …and this many times the CPU and wall time of the attempt that failed.
    pub reallocate_time_factor: f64,
}

impl Default for WorkersConfig {
    fn default() -> Self {
        Self {
            memory_mb: 0,
            cpu_seconds: 0,
            timeout_s: 3600,
            kill_grace_s: 5,
            output_tail_bytes: 64 * 1024,
            reallocate_memory_factor: 2.0,
            reallocate_time_factor: 1.5,
        }
    }
}

/// Role names by depth.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RolesConfig {
    pub ladder: Vec<String>,
}

impl Default for RolesConfig {
    fn default() -> Self {
        let ladder = ["cto", "pm", "tech_lead", "engineer", "junior", "intern"];
        Self { ladder: ladder.iter().map(|r| r.to_string()).collect() }
    }
}

impl Config {
    /// Loads defaults, then the file, then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_from(file, std::env::vars())
    }

    /// [`Config::load`] with the environment given explicitly (for tests).
    pub fn load_from(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut table = toml::Table::try_from(Config::default()).map_err(|e| ConfigError::Invalid(e.to_string()))?;
        let default_file = Path::new(DEFAULT_CONFIG_FILE);
        let file = file.or_else(|| default_file.exists().then_some(default_file));
        if let Some(path) = file {
            let text = std::fs::read_to_string(path)
                .map_err(|source| ConfigError::Read { path: path.display().to_string(), source })?;
            let overlay: toml::Table =
                toml::from_str(&text).map_err(|e| ConfigError::Invalid(format!("{}: {e}", path.display())))?;
            merge(&mut table, overlay);
        }
        for (name, value) in env {
            if let Some(path) = env_path(&name) {
                set_path(&mut table, &path, parse_env_value(&value))?;
            }
        }
        let config: Config = table.try_into().map_err(|e: toml::de::Error| ConfigError::Invalid(e.to_string()))?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), ConfigError> {
        if self.limits.max_depth > HARD_MAX_DEPTH {
            return Err(ConfigError::Invalid(format!("limits.max_depth must be at most {HARD_MAX_DEPTH}")));
        }
        for key in self.resources.quotas.keys() {
            if key.parse::<usize>().map_or(true, |d| d >= DEPTHS) {
                return Err(ConfigError::Invalid(format!("resources.quotas.{key}: depth must be 0–{HARD_MAX_DEPTH}")));
            }
        }
        if self.quotas().contains(&0) {
            return Err(ConfigError::Invalid("resources.quotas: every depth 0–5 needs a quota ≥ 1".into()));
        }
        if let Some(problem) = self
            .notify
            .problem()
            .or_else(|| self.alerts.problem())
            .or_else(|| self.workforce.problem())
            .or_else(|| self.mail.problem())
            .or_else(|| self.cluster.problem())
            .or_else(|| self.cluster_store_problem())
            .or_else(|| self.long_poll_problem())
        {
            return Err(ConfigError::Invalid(problem));
        }
        let providers: Vec<&String> = self.llm.providers.keys().collect();
        self.decomposer.problem(&providers).map_or(Ok(()), |problem| Err(ConfigError::Invalid(problem)))
    }

    /// Replicas coordinate through PostgreSQL; SQLite is one server's file.
    fn cluster_store_problem(&self) -> Option<String> {
        let postgres = self.store.url().is_some_and(|url| !url.starts_with("sqlite:"));
        (self.cluster.enabled && !postgres).then(|| {
            "cluster.enabled needs PostgreSQL (store.database_url or DATABASE_URL = postgres://…): \
             SQLite serves one server at a time"
                .to_string()
        })
    }

    /// A receive's longest wait must end before the request's timeout does.
    fn long_poll_problem(&self) -> Option<String> {
        (self.mail.max_wait_s >= self.server.request_timeout_s)
            .then(|| "mail.max_wait_s must be below server.request_timeout_s".to_string())
    }

    /// Quotas as an array by depth.
    pub fn quotas(&self) -> [u32; DEPTHS] {
        std::array::from_fn(|d| self.resources.quotas.get(&d.to_string()).copied().unwrap_or(0))
    }

    /// The limits a plan is validated against.
    pub fn plan_limits(&self) -> PlanLimits {
        PlanLimits {
            default_max_depth: self.limits.max_depth,
            max_nodes: self.limits.max_nodes_per_job,
            quotas: self.quotas(),
            roles: self.roles.ladder.clone(),
            default_retry: self.retry,
            providers: self.llm.providers.keys().cloned().collect(),
            decomposer: self.decomposer.is_set().then(|| self.decomposer.provider.clone()),
        }
    }
}

/// The config path an environment variable names, if it is one of ours.
fn env_path(name: &str) -> Option<Vec<String>> {
    if let Some((_, path)) = ENV_ALIASES.iter().find(|(alias, _)| *alias == name) {
        return Some(path.split('.').map(str::to_string).collect());
    }
    let rest = name.strip_prefix(ENV_PREFIX)?;
    rest.contains("__").then(|| rest.split("__").map(str::to_ascii_lowercase).collect())
}

fn parse_env_value(value: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("v = {value}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(value.to_string()))
}

fn set_path(table: &mut toml::Table, path: &[String], value: toml::Value) -> Result<(), ConfigError> {
    let (last, parents) = path.split_last().ok_or_else(|| ConfigError::Invalid("empty key".into()))?;
    let mut current = table;
    for key in parents {
        let entry = current.entry(key.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
        current =
            entry.as_table_mut().ok_or_else(|| ConfigError::Invalid(format!("{} is not a section", path.join("."))))?;
    }
    current.insert(last.clone(), value);
    Ok(())
}

fn merge(base: &mut toml::Table, overlay: toml::Table) {
    for (key, value) in overlay {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(existing)), toml::Value::Table(incoming)) => merge(existing, incoming),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_shipped_file_holds_exactly_the_built_in_defaults() {
        let shipped = Config::load_from(Some(Path::new(DEFAULT_CONFIG_FILE)), env(&[])).expect("loads");
        let built_in = toml::Table::try_from(Config::default()).expect("serialises");
        assert_eq!(toml::Table::try_from(shipped).expect("serialises"), built_in);
        let text = std::fs::read_to_string(DEFAULT_CONFIG_FILE).expect("read");
        let file: toml::Table = toml::from_str(&text).expect("parses");
        assert_eq!(file, built_in, "every default is written in the file");
    }

    #[test]
    fn environment_overrides_the_file_with_short_and_nested_names() {
        let vars = env(&[
            ("CADRE_BIND", "0.0.0.0:9000"),
            ("DATABASE_URL", "postgres://u:p@h/db"),
            ("CADRE_LIMITS__MAX_RUNNING_JOBS", "7"),
            ("CADRE_RESOURCES__QUOTAS__1", "4"),
            ("CADRE_URL", "http://ignored"),
        ]);
        let config = Config::load_from(Some(Path::new(DEFAULT_CONFIG_FILE)), vars).expect("loads");
        assert_eq!(config.server.bind, "0.0.0.0:9000");
        assert_eq!(config.store.url(), Some("postgres://u:p@h/db"));
        assert_eq!(config.limits.max_running_jobs, 7);
        assert_eq!(config.quotas(), [10, 4, 5, 3, 2, 1]);
        assert!(!format!("{config:?}").contains("u:p"), "the database password is redacted");
    }

    #[test]
    fn a_misspelt_variable_is_an_error() {
        let err = Config::load_from(None, env(&[("CADRE_LIMITS__MAX_RUNING_JOBS", "7")])).unwrap_err();
        assert!(err.to_string().contains("max_runing_jobs"), "{err}");
    }
}
