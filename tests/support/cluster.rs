//! What the cluster suites share: replicas of the real binary over one throwaway PostgreSQL,
//! reading the cluster as they see it, and the checks every failover test makes.

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{json, Value};
use sqlx::Connection;
use tokio_tungstenite::tungstenite::Message;

use super::common;
use super::server::{self, serve_with, Server, STARTUP_DEADLINE};

/// A short lease, so that a killed replica lapses within the test; no rate limit a hundred
/// submissions at once could reach.
pub const CLUSTER: [(&str, &str); 5] = [
    ("CADRE_CLUSTER__ENABLED", "true"),
    ("CADRE_CLUSTER__HEARTBEAT_S", "1"),
    ("CADRE_CLUSTER__LEASE_S", "4"),
    ("CADRE_RATE_LIMIT__PER_SECOND", "1000000"),
    ("CADRE_RATE_LIMIT__BURST", "1000000"),
];

pub const POLL: Duration = Duration::from_millis(100);

pub async fn database() -> String {
    common::fresh_database_url()
        .await
        .expect("CADRE_TEST_DATABASE_URL must name a PostgreSQL server: scripts/test.sh starts one and runs these")
}

/// A replica on `url`, using `key` (the first replica prints the cluster's admin key).
pub fn replica(dir: &Path, name: &str, url: &str, key: Option<&str>) -> Server {
    replica_with(dir, name, url, key, &CLUSTER)
}

pub fn replica_with(dir: &Path, name: &str, url: &str, key: Option<&str>, env: &[(&str, &str)]) -> Server {
    let data = dir.join(name);
    std::fs::create_dir_all(&data).expect("data dir");
    let (mut server, generated) = serve_with(&data, Some(url), env);
    server.key = key.map(str::to_string).or(generated).expect("an admin key");
    server
}

async fn request(server: &Server, path: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{}/api/v1{path}", server.url))
        .bearer_auth(&server.key)
        .send()
        .await
        .expect("request")
}

pub async fn get(server: &Server, path: &str) -> Value {
    let response = request(server, path).await;
    assert!(response.status().is_success(), "GET {path}: {}", response.status());
    response.json().await.expect("json")
}

/// Polls `path` on `server` until it answers and `ready` holds of the answer.
pub async fn wait_until(server: &Server, path: &str, ready: impl Fn(&Value) -> bool) {
    let begun = Instant::now();
    loop {
        let answer = request(server, path).await;
        if answer.status().is_success() && ready(&answer.json().await.expect("json")) {
            return;
        }
        assert!(begun.elapsed() < STARTUP_DEADLINE, "{path} on {} never became ready", server.url);
        tokio::time::sleep(POLL).await;
    }
}

/// The text `/metrics` of `server` shows now.
pub async fn metrics(server: &Server) -> String {
    reqwest::get(format!("{}/metrics", server.url)).await.expect("metrics").text().await.expect("text")
}

/// The replica at `address` as `server` sees it.
pub async fn replica_seen(server: &Server, address: &str) -> Value {
    let cluster = get(server, "/cluster").await;
    let replicas = cluster["replicas"].as_array().expect("replicas");
    replicas.iter().find(|r| r["address"] == address).cloned().unwrap_or(Value::Null)
}

/// Waits until `server` sees the replica at `address` in `state`.
pub async fn wait_state(server: &Server, address: &str, state: &str) -> Value {
    let begun = Instant::now();
    loop {
        let seen = replica_seen(server, address).await;
        if seen["state"] == state {
            return seen;
        }
        assert!(begun.elapsed() < STARTUP_DEADLINE, "{address} never became {state}: {seen}");
        tokio::time::sleep(POLL).await;
    }
}

/// The first `n` stored events, replayed by `server`.
pub async fn replay(server: &Server, n: usize) -> Vec<Value> {
    let ws = format!("{}/ws/recursion?token={}&since=0", server.url.replacen("http", "ws", 1), server.key);
    let (mut socket, _) = tokio_tungstenite::connect_async(ws).await.expect("connects");
    let mut frames = Vec::new();
    while frames.len() < n {
        let next = tokio::time::timeout(STARTUP_DEADLINE, socket.next()).await.expect("the replay goes on");
        let Some(Ok(Message::Text(text))) = next else { panic!("the replay ended early") };
        let frame: Value = serde_json::from_str(&text).expect("json");
        if frame["seq"].as_i64().unwrap_or(0) > 0 && frame["type"] != "heartbeat" {
            frames.push(frame);
        }
    }
    frames
}

/// A job of `workers` command workers, each a `sleep` process of `seconds`.
pub fn sleepers(name: &str, workers: usize, seconds: &str) -> Value {
    let children: Vec<Value> = (0..workers)
        .map(|w| json!({"name": format!("w{w}"), "run": {"type": "command", "argv": ["sleep", seconds]}}))
        .collect();
    json!({"request": name, "plan": {"name": "root", "children": children}})
}

/// Waits for every job to succeed, read from `server`.
pub async fn all_succeed(server: &Server, jobs: &[String]) -> Vec<Value> {
    let mut done = Vec::new();
    for id in jobs {
        let job = server::wait_for(server, id, server::ended).await;
        assert_eq!(job["status"], "succeeded", "{job}");
        done.push(job);
    }
    done
}

/// Each node of the job ended exactly once in the stored log.
pub fn assert_each_node_ended_once(server: &Server, job: &Value) {
    let id = job["job_id"].as_str().expect("job_id");
    let completions = server::completions(server, id);
    let nodes = server::flatten(&job["tree"]);
    assert_eq!(completions.len(), nodes.len(), "every node of {id} ended: {completions:?}");
    assert!(completions.values().all(|&n| n == 1), "no node of {id} ended twice: {completions:?}");
}

pub async fn owners(url: &str) -> Vec<(uuid::Uuid, Option<uuid::Uuid>)> {
    let mut db = sqlx::PgConnection::connect(url).await.expect("connect");
    sqlx::query_as("select id, owner from jobs").fetch_all(&mut db).await.expect("owners")
}

pub async fn events_stored(url: &str) -> (i64, i64) {
    let mut db = sqlx::PgConnection::connect(url).await.expect("connect");
    sqlx::query_as("select count(*), coalesce(max(seq), 0) from events").fetch_one(&mut db).await.expect("count")
}

pub fn wait_exit(child: &mut std::process::Child) -> std::process::ExitStatus {
    let begun = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("status") {
            return status;
        }
        assert!(begun.elapsed() < STARTUP_DEADLINE, "the replica did not stop");
        std::thread::sleep(POLL);
    }
}

/// Frames of a live subscription until every job in `jobs` has completed.
pub async fn frames_until_done(
    socket: &mut tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    jobs: &HashSet<String>,
) -> Vec<Value> {
    let mut frames = Vec::new();
    let mut done = HashSet::new();
    while done.len() < jobs.len() {
        let next = tokio::time::timeout(STARTUP_DEADLINE, socket.next()).await;
        let Ok(Some(Ok(Message::Text(text)))) = next else { continue };
        let frame: Value = serde_json::from_str(&text).expect("json");
        // A heartbeat repeats the last seq sent: it is the connection's, not an event.
        if frame["seq"].as_i64().unwrap_or(0) == 0 || frame["type"] == "heartbeat" {
            continue;
        }
        if frame["type"] == "job_completed" {
            done.insert(frame["job_id"].as_str().expect("job").to_string());
        }
        frames.push(frame);
    }
    frames
}
