//! Test support: starts a real cadre server (the library's own `app::start` and `app::serve`)
//! on a port-0 listener, with a fresh database per test — a SQLite file in a temporary
//! directory, or, when `CADRE_TEST_DATABASE_URL` names a PostgreSQL server, a new database
//! created on it — and talks to it over HTTP.

use std::time::{Duration, Instant};

use cadre::config::Config;
use serde_json::{json, Value};
use tokio::sync::oneshot;

/// The admin key every test server accepts.
pub const KEY: &str = "sk-orch-test-key-0123456789abcdefghijklmnop";
/// Longest a test waits for a job to end.
pub const JOB_DEADLINE: Duration = Duration::from_secs(60);
/// A rate no test reaches.
pub const UNLIMITED_RATE: u32 = 1_000_000;
const POLL: Duration = Duration::from_millis(20);

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    shutdown: oneshot::Sender<()>,
    serving: tokio::task::JoinHandle<std::io::Result<()>>,
    _dir: Option<tempfile::TempDir>,
}

/// A server with the default configuration.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A server whose configuration `adjust` may change first.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = crate::common::fresh_database_url().await;
    let mut app = spawn_app_at(&dir.path().join("data"), database_url, adjust).await;
    app._dir = Some(dir);
    app
}

/// A server on this data directory (or PostgreSQL database): a second one started on the
/// same after [`TestApp::stop`] picks up where the first stopped.
pub async fn spawn_app_at(
    data_dir: &std::path::Path,
    database_url: Option<String>,
    adjust: impl FnOnce(&mut Config),
) -> TestApp {
    let mut config = Config::default();
    config.store.data_dir = data_dir.to_path_buf();
    config.auth.bootstrap_key = KEY.to_string();
    config.server.bind = "127.0.0.1:0".into();
    // Tests poll fast; the rate-limit tests set their own limits.
    config.rate_limit.per_second = UNLIMITED_RATE;
    config.rate_limit.burst = UNLIMITED_RATE;
    if let Some(url) = database_url {
        config.store.database_url = url;
    }
    adjust(&mut config);
    let started = cadre::app::start(config).await.expect("app starts");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = oneshot::channel::<()>();
    let serving = tokio::spawn(cadre::app::serve(listener, started, async move {
        let _ = rx.await;
    }));
    TestApp { base, client: reqwest::Client::new(), shutdown: tx, serving, _dir: None }
}

impl TestApp {
    /// Shuts the server down as a SIGTERM would (its running nodes left for the next start)
    /// and waits until it has.
    pub async fn stop(self) {
        let _ = self.shutdown.send(());
        self.serving.await.expect("the server task").expect("the server stops cleanly");
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn api(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.api(path)).bearer_auth(KEY).send().await.expect("request")
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let response = self.get(path).await;
        assert!(response.status().is_success(), "GET {path}: {}", response.status());
        response.json().await.expect("json")
    }

    pub async fn post(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client.post(self.api(path)).bearer_auth(KEY).json(body).send().await.expect("request")
    }

    pub async fn delete(&self, path: &str) -> reqwest::Response {
        self.client.delete(self.api(path)).bearer_auth(KEY).send().await.expect("request")
    }

    /// Submits a job and returns its id; panics unless it was accepted.
    pub async fn submit(&self, job: &Value) -> String {
        let response = self.post("/recursion/job", job).await;
        let status = response.status();
        let body: Value = response.json().await.expect("json");
        assert_eq!(status, 202, "submit: {body}");
        body["job_id"].as_str().expect("job_id").to_string()
    }

    pub async fn job(&self, id: &str) -> Value {
        self.get_json(&format!("/recursion/job/{id}")).await
    }

    /// Polls until the job has ended and returns it.
    pub async fn wait_for_end(&self, id: &str) -> Value {
        self.wait_for(id, |job| matches!(job["status"].as_str(), Some("succeeded" | "failed" | "cancelled"))).await
    }

    /// Polls until `ready` holds for the job and returns it.
    pub async fn wait_for(&self, id: &str, ready: impl Fn(&Value) -> bool) -> Value {
        let begun = Instant::now();
        loop {
            let job = self.job(id).await;
            if ready(&job) {
                return job;
            }
            assert!(begun.elapsed() < JOB_DEADLINE, "job {id} did not get there in time: {job}");
            tokio::time::sleep(POLL).await;
        }
    }

    pub async fn stats(&self) -> Value {
        self.get_json("/recursion/stats").await
    }
}

/// Every node of a tree, depth-first.
pub fn flatten(tree: &Value) -> Vec<&Value> {
    let mut out = vec![tree];
    for child in tree["children"].as_array().into_iter().flatten() {
        out.extend(flatten(child));
    }
    out
}

/// The node with this name (first found).
pub fn node<'a>(tree: &'a Value, name: &str) -> &'a Value {
    flatten(tree).into_iter().find(|n| n["name"] == name).unwrap_or_else(|| panic!("no node {name}"))
}

/// A job whose tree has `levels` levels, `fan_out` children per orchestrator, and `echo 1`
/// leaves; every orchestrator sums, so the root's result is the number of leaves.
pub fn uniform_tree(levels: u32, fan_out: usize) -> Value {
    json!({
        "request": format!("{levels}-level tree, fan-out {fan_out}"),
        "config": {"max_depth": levels - 1},
        "plan": subtree("root", levels - 1, fan_out),
    })
}

fn subtree(name: &str, below: u32, fan_out: usize) -> Value {
    if below == 0 {
        return json!({"name": name, "run": {"type": "echo", "value": 1}});
    }
    let children: Vec<Value> = (0..fan_out).map(|i| subtree(&format!("{name}.{i}"), below - 1, fan_out)).collect();
    json!({"name": name, "aggregate": "sum", "children": children})
}

/// The most intervals `[started_at, finished_at)` of these nodes that overlap at any instant.
pub fn max_overlap(nodes: &[&Value]) -> usize {
    let mut edges: Vec<(String, i32)> = Vec::new();
    for n in nodes {
        let (Some(start), Some(end)) = (n["started_at"].as_str(), n["finished_at"].as_str()) else { continue };
        edges.push((start.to_string(), 1));
        edges.push((end.to_string(), -1));
    }
    // Ends sort before starts at the same instant: a slot given back and taken again
    // within one millisecond is not an overlap.
    edges.sort();
    let (mut now, mut most) = (0i32, 0i32);
    for (_, delta) in edges {
        now += delta;
        most = most.max(now);
    }
    most as usize
}

/// The data of every event of `kind` a job emitted, replayed from the log (read until the
/// stream has been quiet for 2 s, so call it once the job has ended).
pub async fn replayed(app: &TestApp, job_id: &str, kind: &str) -> Vec<Value> {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let url =
        format!("{}/ws/recursion?token={KEY}&since=0&job_id={job_id}&types={kind}", app.base.replacen("http", "ws", 1));
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.expect("connects");
    let mut found = Vec::new();
    while let Ok(Some(Ok(message))) = tokio::time::timeout(std::time::Duration::from_secs(2), socket.next()).await {
        if let Message::Text(text) = message {
            let frame: Value = serde_json::from_str(&text).expect("json");
            if frame["type"] == kind {
                found.push(frame["data"].clone());
            }
        }
    }
    found
}
