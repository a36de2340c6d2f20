//! `cadre cluster`: the replicas serving the API, as the one asked sees them.

use std::process::ExitCode;

use serde_json::Value;

use super::client::Client;
use super::out::Outcome;
use super::Format;

impl Client {
    pub(super) async fn cluster(&self) -> Outcome {
        let cluster = self.send(reqwest::Method::GET, "/cluster", None).await?;
        if self.format() == Format::Json {
            self.out().json(&cluster)?;
            return Ok(ExitCode::SUCCESS);
        }
        for line in describe(&cluster, chrono::Utc::now()) {
            self.out().line(&line)?;
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// The cluster in lines: a summary, then a line per replica.
fn describe(cluster: &Value, now: chrono::DateTime<chrono::Utc>) -> Vec<String> {
    let replicas = cluster["replicas"].as_array().cloned().unwrap_or_default();
    let mut lines = vec![summary(cluster, &replicas)];
    lines.extend(replicas.iter().map(|r| replica_line(r, now)));
    lines
}

fn summary(cluster: &Value, replicas: &[Value]) -> String {
    if cluster["enabled"] != true {
        return "this server runs on its own (no cluster)".to_string();
    }
    let mut counts: Vec<(String, usize)> = Vec::new();
    for state in replicas.iter().filter_map(|r| r["state"].as_str()) {
        match counts.iter_mut().find(|(s, _)| s == state) {
            Some((_, n)) => *n += 1,
            None => counts.push((state.to_string(), 1)),
        }
    }
    let counts: Vec<String> = counts.iter().map(|(state, n)| format!("{n} {state}")).collect();
    format!(
        "a cluster of {} replicas ({}); heartbeat every {} s, lease {} s",
        replicas.len(),
        counts.join(", "),
        cluster["heartbeat_s"],
        cluster["lease_s"]
    )
}

fn replica_line(replica: &Value, now: chrono::DateTime<chrono::Utc>) -> String {
    let text = |field: &str| replica[field].as_str().unwrap_or("-").to_string();
    let beat = replica["heartbeat_at"]
        .as_str()
        .and_then(|t| t.parse::<chrono::DateTime<chrono::Utc>>().ok())
        .map_or_else(|| "-".to_string(), |t| format!("{:.1} s ago", (now - t).num_milliseconds() as f64 / 1000.0));
    let this = if replica["this"] == true { "  (this replica)" } else { "" };
    let shares: Vec<String> =
        replica["shares"].as_array().map(|s| s.iter().map(Value::to_string).collect()).unwrap_or_default();
    let shares = if shares.is_empty() { "-".to_string() } else { shares.join("/") };
    format!(
        "  {}  {:<6}  {}  {} pid {}  heartbeat {beat}  jobs {}  shares {shares}{this}",
        text("id"),
        text("state"),
        text("address"),
        text("host"),
        replica["pid"],
        replica["jobs"].as_i64().unwrap_or(0)
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_cluster_is_summed_up_by_state_and_each_replica_has_a_line() {
        let now: chrono::DateTime<chrono::Utc> = "2026-12-02T16:00:03Z".parse().expect("time");
        let replica = |id: &str, state: &str, this: bool| {
            json!({"id": id, "state": state, "address": format!("http://{id}:8080"), "host": "m", "pid": 7,
                   "heartbeat_at": "2026-12-02T16:00:01.500Z", "this": this, "jobs": 2, "shares": [4, 3, 2, 1, 1, 0]})
        };
        let cluster = json!({"enabled": true, "heartbeat_s": 1, "lease_s": 5,
            "replicas": [replica("a", "live", true), replica("b", "live", false), replica("c", "lapsed", false)]});
        let lines = describe(&cluster, now);
        assert_eq!(lines[0], "a cluster of 3 replicas (2 live, 1 lapsed); heartbeat every 1 s, lease 5 s");
        assert_eq!(
            lines[1],
            "  a  live    http://a:8080  m pid 7  heartbeat 1.5 s ago  jobs 2  shares 4/3/2/1/1/0  (this replica)"
        );
        assert!(lines[3].contains("lapsed") && !lines[3].contains("this replica"), "{}", lines[3]);
        let single = json!({"enabled": false, "replicas": [replica("a", "live", true)]});
        assert_eq!(describe(&single, now)[0], "this server runs on its own (no cluster)");
    }
}
