//! A store outage with the real binary (SPEC §2.9): the PostgreSQL cluster is stopped under a
//! running job and started again a few seconds later. The server must stay up, answer 503s
//! (with `Retry-After`) for what needs the store, start no new work while it cannot record
//! it, and finish the job once the database is back, without a restart.
//!
//! It stops the whole cluster it is given, so `scripts/test.sh` runs it on its own, with
//! `--ignored`, naming the cluster in `CADRE_TEST_PG_DATA` and `CADRE_TEST_PG_BIN`.

mod common;
#[path = "support/server.rs"]
#[allow(dead_code, reason = "each test binary uses a part of the support")]
mod server;

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use server::{completions, flatten, job_json, serve, STARTUP_DEADLINE};

const POLL: Duration = Duration::from_millis(50);
/// How long the database stays down.
const OUTAGE: Duration = Duration::from_secs(3);
/// Nodes that had already asked to start when the outage began may still start just after.
const DETECTION_SLACK: chrono::TimeDelta = chrono::TimeDelta::seconds(1);
const CHAIN: usize = 8;

/// The test's PostgreSQL cluster, controlled with `pg_ctl` as its owner.
struct Cluster {
    data: String,
    pg_ctl: String,
}

impl Cluster {
    fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run scripts/test.sh"));
        Self { data: var("CADRE_TEST_PG_DATA"), pg_ctl: format!("{}/pg_ctl", var("CADRE_TEST_PG_BIN")) }
    }

    fn control(&self, action: &str) {
        let log = format!("{}/../server.log", self.data);
        let status = Command::new("runuser")
            .args(["-u", "postgres", "--", &self.pg_ctl, "-D", &self.data, "-l", &log, "-w", "-m", "fast", action])
            .status()
            .expect("pg_ctl runs");
        assert!(status.success(), "pg_ctl {action} failed");
    }
}

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

fn started_at(node: &Value) -> chrono::DateTime<chrono::Utc> {
    node["started_at"].as_str().and_then(|t| t.parse().ok()).expect("a start time")
}

async fn call(method: reqwest::Method, url: String, key: &str, body: Option<&Value>) -> reqwest::Response {
    let mut request = reqwest::Client::new().request(method, url).bearer_auth(key);
    if let Some(body) = body {
        request = request.json(body);
    }
    request.send().await.expect("the server answers")
}

/// What the server answers while the database is down.
async fn assert_unavailable_while_down(server: &server::Server, job: &Value) {
    let api = |path: &str| format!("{}/api/v1{path}", server.url);
    let ready = reqwest::get(format!("{}/readyz", server.url)).await.expect("readyz");
    assert_eq!(ready.status(), 503, "not ready without the store");
    tokio::time::sleep(OUTAGE / 3).await;
    let read = call(reqwest::Method::GET, api("/recursion/jobs"), &server.key, None).await;
    assert_eq!(read.status(), 503);
    assert!(read.headers().contains_key("retry-after"), "a 503 says when to retry");
    assert_eq!(read.headers()["content-type"], "application/problem+json");
    let refused = call(reqwest::Method::POST, api("/recursion/job"), &server.key, Some(job)).await;
    assert_eq!(refused.status(), 503, "no job is taken that cannot be stored");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "stops the PostgreSQL cluster it is given: scripts/test.sh runs it alone, with --ignored"]
async fn a_job_survives_postgresql_stopping_and_coming_back() {
    let cluster = Cluster::from_env();
    let database_url = common::fresh_database_url().await.expect("CADRE_TEST_DATABASE_URL is set");
    let dir = tempfile::tempdir().expect("dir");
    let (mut server, key) = serve(&dir.path().join("data"), Some(&database_url));
    server.key = key.expect("generated key");
    let steps: Vec<Value> = (0..CHAIN)
        .map(|i| {
            let after: Vec<String> = (i > 0).then(|| format!("s{}", i - 1)).into_iter().collect();
            json!({"name": format!("s{i}"), "depends_on": after, "run": {"type": "sleep", "ms": 250}})
        })
        .collect();
    let job = json!({"request": "one step at a time", "plan": {"name": "chain", "children": steps}});
    let api = |path: &str| format!("{}/api/v1{path}", server.url);
    let submitted: Value =
        call(reqwest::Method::POST, api("/recursion/job"), &server.key, Some(&job)).await.json().await.expect("json");
    let id = submitted["job_id"].as_str().expect("accepted").to_string();
    let begun = Instant::now();
    while job_json(&server, &id).await["counts"]["by_status"]["succeeded"].as_u64() < Some(2) {
        assert!(begun.elapsed() < STARTUP_DEADLINE, "the job did not get going");
        tokio::time::sleep(POLL).await;
    }

    cluster.control("stop");
    let stopped_at = now();
    assert_unavailable_while_down(&server, &job).await;
    tokio::time::sleep(OUTAGE).await;
    assert!(server.child.try_wait().expect("status").is_none(), "the server is still running");
    cluster.control("start");
    let back_at = now();

    let begun = Instant::now();
    let job = loop {
        let job = job_json(&server, &id).await;
        if job["status"] == "succeeded" {
            break job;
        }
        assert!(begun.elapsed() < STARTUP_DEADLINE, "the job did not finish after the outage: {job}");
        tokio::time::sleep(POLL).await;
    };
    let nodes = flatten(&job["tree"]);
    assert!(nodes.iter().all(|n| n["status"] == "succeeded" && n["attempts"] == 1), "{job}");
    let during: Vec<&&Value> =
        nodes.iter().filter(|n| started_at(n) > stopped_at + DETECTION_SLACK && started_at(n) < back_at).collect();
    assert!(during.is_empty(), "nodes started while their start could not be stored: {during:?}");
    let completions = completions(&server, &id);
    assert_eq!(completions.len(), nodes.len());
    assert!(completions.values().all(|&n| n == 1), "{completions:?}");
    let jobs = call(reqwest::Method::GET, api("/recursion/jobs"), &server.key, None).await;
    assert_eq!(jobs.status(), 200, "reads work again without a restart");
}
