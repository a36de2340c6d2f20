//! Durability with the real binary (SPEC §2.9–2.10): the server is killed with SIGKILL in
//! the middle of jobs, restarted on the same store, and every job must end exactly as it
//! would have without the kill — each node ending once, no quota slot left held, no event
//! sequence number reused, an idempotency key still naming its job.

mod common;
#[path = "recovery/mail.rs"]
mod mail;
#[path = "support/server.rs"]
#[allow(dead_code, reason = "each test binary uses a part of the support")]
mod server;

use std::time::{Duration, Instant};

use rand::Rng;
use serde_json::{json, Value};
use server::{
    completions, ended, events, flatten, job_json, serve_with, submit, submit_id, wait_for, Server, STARTUP_DEADLINE,
};

const POLL: Duration = Duration::from_millis(50);
/// Kills in the randomized loop.
const KILLS: usize = 20;
/// Range of the time a server lives before the loop kills it.
const LIFETIME_MS: std::ops::Range<u64> = 50..600;
/// Time for a replay of a few hundred events to arrive.
const REPLAY_WAIT: Duration = Duration::from_millis(1500);

/// A store that outlives the servers started on it.
struct Store {
    dir: tempfile::TempDir,
    database_url: Option<String>,
    key: String,
}

impl Store {
    async fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("dir"),
            database_url: common::fresh_database_url().await,
            key: String::new(),
        }
    }

    fn data(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    /// Starts a server on this store; the first start's generated key is kept for the rest.
    fn start(&mut self) -> Server {
        self.start_with(&[])
    }

    fn start_with(&mut self, env: &[(&str, &str)]) -> Server {
        let (mut server, generated) = serve_with(&self.data(), self.database_url.as_deref(), env);
        if let Some(key) = generated {
            self.key = key;
        }
        server.key.clone_from(&self.key);
        server
    }
}

/// Asserts the end state a kill must not change: the result, each node ended once, the
/// slots all returned.
async fn assert_completed_cleanly(server: &Server, job: &Value, expected_result: &Value) {
    let job_id = job["job_id"].as_str().expect("id");
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(&job["result"], expected_result);
    let nodes = flatten(&job["tree"]);
    assert!(nodes.iter().all(|n| n["status"] == "succeeded"), "{job}");
    let completions = completions(server, job_id);
    assert_eq!(completions.len(), nodes.len(), "every node reported its end");
    assert!(completions.values().all(|&n| n == 1), "a node ended twice: {completions:?}");
    assert_no_slot_held(server).await;
}

async fn assert_no_slot_held(server: &Server) {
    let url = format!("{}/api/v1/recursion/stats", server.url);
    let stats: Value = reqwest::Client::new()
        .get(url)
        .bearer_auth(&server.key)
        .send()
        .await
        .expect("stats")
        .json()
        .await
        .expect("json");
    let held: Vec<&Value> = stats["by_depth"].as_array().expect("depths").iter().filter(|d| d["in_use"] != 0).collect();
    assert!(held.is_empty(), "slots still held after the job ended: {held:?}");
    assert_eq!(stats["leaks_reclaimed"], 0);
}

/// Three levels of orchestrators adding up numbers; each number comes from an `echo` worker
/// that waits for a `sleep` sibling, so the tree is busy for a while and always has
/// running, pending and finished nodes at once. Returns the job and its expected sum.
fn summing_job(pms: u64, leads: u64, sleep_ms: u64) -> (Value, u64) {
    let mut total = 0;
    let pm_nodes: Vec<Value> = (0..pms)
        .map(|p| {
            let lead_nodes: Vec<Value> = (0..leads)
                .map(|l| {
                    let value = p * 100 + l + 1;
                    total += value;
                    json!({"name": format!("lead-{p}-{l}"), "aggregate": "sum", "children": [
                        {"name": "wait", "run": {"type": "sleep", "ms": sleep_ms}},
                        {"name": "report", "depends_on": ["wait"], "run": {"type": "echo", "value": value}}]})
                })
                .collect();
            json!({"name": format!("pm-{p}"), "aggregate": "sum", "children": lead_nodes})
        })
        .collect();
    let plan = json!({"name": "cto", "aggregate": "sum", "retry": {"max_attempts": 100, "initial_backoff_ms": 10},
                      "children": pm_nodes});
    (json!({"request": "add it all up", "plan": plan}), total)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_interrupted_by_a_kill_completes_after_the_restart() {
    let mut store = Store::new().await;
    let first = store.start();
    let (job, total) = summing_job(3, 4, 400);
    let id = submit_id(&first, &job).await;
    let mid_flight = |j: &Value| {
        let workers: Vec<&Value> = flatten(&j["tree"]).into_iter().filter(|n| n["kind"] == "worker").collect();
        let count = |status: &str| workers.iter().filter(|n| n["status"] == status).count();
        count("succeeded") >= 2 && count("running") >= 1 && count("pending") >= 1
    };
    wait_for(&first, &id, mid_flight).await;
    drop(first);

    let second = store.start();
    let job = wait_for(&second, &id, ended).await;
    assert_completed_cleanly(&second, &job, &json!(total)).await;
    let rerun = flatten(&job["tree"]).into_iter().filter(|n| n["attempts"].as_u64() > Some(1)).count();
    assert!(rerun > 0, "the workers running at the kill got a new attempt: {job}");
}

#[tokio::test(flavor = "multi_thread")]
async fn twenty_random_kills_over_one_job_still_give_the_right_result() {
    let mut store = Store::new().await;
    let (job, total) = summing_job(3, 5, 150);
    let server = store.start();
    let id = submit_id(&server, &job).await;
    let mut server = Some(server);
    let mut rng = rand::rng();
    for _ in 0..KILLS {
        tokio::time::sleep(Duration::from_millis(rng.random_range(LIFETIME_MS))).await;
        drop(server.take());
        server = Some(store.start());
    }
    let server = server.expect("a server");
    let job = wait_for(&server, &id, ended).await;
    assert_completed_cleanly(&server, &job, &json!(total)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idempotency_key_names_the_same_job_after_a_restart() {
    let mut store = Store::new().await;
    let first = store.start();
    let job = json!({"request": "once", "idempotency_key": "deploy-42", "plan": {"name": "w", "run": {"type": "sleep", "ms": 300}}});
    let id = submit_id(&first, &job).await;
    drop(first);
    let second = store.start();
    let again = submit(&second, &job).await;
    assert_eq!(again.status(), 200, "the stored job is returned, not a new one");
    let body: Value = again.json().await.expect("json");
    assert_eq!(body["job_id"], json!(id));
}

#[tokio::test(flavor = "multi_thread")]
async fn event_numbers_continue_across_a_kill_without_a_gap_or_reuse() {
    let mut store = Store::new().await;
    let first = store.start();
    let (job, _) = summing_job(2, 2, 300);
    let id = submit_id(&first, &job).await;
    wait_for(&first, &id, |j| j["counts"]["by_status"]["succeeded"].as_u64() > Some(2)).await;
    drop(first);
    let second = store.start();
    wait_for(&second, &id, ended).await;
    let later = submit_id(&second, &json!({"request": "after", "plan": {"name": "w", "run": {"type": "noop"}}})).await;
    wait_for(&second, &later, ended).await;
    let mut seqs: Vec<i64> = all_events(&second).iter().map(|f| f["seq"].as_i64().expect("seq")).collect();
    let count = seqs.len();
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs.len(), count, "a sequence number was used twice");
    let contiguous: Vec<i64> = (1..=count as i64).collect();
    assert_eq!(seqs, contiguous, "the log has a gap");
    let seq_of = |frames: Vec<Value>| frames.iter().filter_map(|f| f["seq"].as_i64()).collect::<Vec<_>>();
    let (before, after) = (seq_of(events(&second, &id)), seq_of(events(&second, &later)));
    assert!(before.iter().max() < after.iter().min(), "numbers go on increasing after the restart");
}

/// Every stored event of every job, replayed: `watch` without `--job` follows the stream
/// until stopped, so it is stopped once the replay has had time to arrive.
fn all_events(server: &Server) -> Vec<Value> {
    let mut watch = std::process::Command::new(server::BIN)
        .args(["watch", "--since", "0", "--json"])
        .env("CADRE_URL", &server.url)
        .env("CADRE_API_KEY", &server.key)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("watch runs");
    std::thread::sleep(REPLAY_WAIT);
    let _ = watch.kill();
    let output = watch.wait_with_output().expect("watch output");
    let frames =
        String::from_utf8_lossy(&output.stdout).lines().map(|l| serde_json::from_str(l).expect("frame")).collect();
    frames
}

/// True while the process exists and is not a zombie waiting to be reaped.
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| stat.rsplit_once(')').map(|(_, rest)| rest.trim_start().to_string()))
        .is_some_and(|rest| !rest.starts_with('Z'))
}

fn pids(path: &std::path::Path) -> Vec<u32> {
    std::fs::read_to_string(path).unwrap_or_default().lines().filter_map(|l| l.parse().ok()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn command_workers_left_by_a_killed_server_are_stopped_before_their_nodes_rerun() {
    const WORKERS: usize = 3;
    let mut store = Store::new().await;
    let log = store.dir.path().join("pids");
    let script = format!("echo $$ >> {}; sleep 2; echo done", log.display());
    let workers: Vec<Value> = (0..WORKERS)
        .map(|i| json!({"name": format!("w{i}"), "run": {"type": "command", "argv": ["sh", "-c", script]}}))
        .collect();
    let job = json!({"request": "processes", "plan": {"name": "root", "children": workers}});
    let first = store.start();
    let id = submit_id(&first, &job).await;
    let begun = Instant::now();
    while pids(&log).len() < WORKERS {
        assert!(begun.elapsed() < STARTUP_DEADLINE, "the workers never started");
        tokio::time::sleep(POLL).await;
    }
    let orphans = pids(&log);
    assert!(orphans.iter().all(|&pid| alive(pid)), "SIGKILL to the server leaves its workers running");
    drop(first);

    let second = store.start();
    let survivors: Vec<u32> = orphans.iter().copied().filter(|&pid| alive(pid)).collect();
    assert!(survivors.is_empty(), "processes of the killed server still run after the restart: {survivors:?}");
    let job = wait_for(&second, &id, ended).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let workers: Vec<&Value> = flatten(&job["tree"]).into_iter().filter(|n| n["kind"] == "worker").collect();
    assert!(workers.iter().all(|w| w["attempts"] == 2 && w["result"]["stdout"] == "done\n"), "{job}");
    assert_eq!(pids(&log).len(), 2 * WORKERS, "each worker ran once more, and only once");
}

/// Sends SIGTERM and waits for the server to exit; returns its exit code and how long it took.
fn terminate(server: &mut Server) -> (Option<i32>, Duration) {
    let pid = libc::pid_t::try_from(server.child.id()).expect("pid");
    // SAFETY: kill only sends a signal to the server this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let begun = Instant::now();
    let status = server.child.wait().expect("exit status");
    (status.code(), begun.elapsed())
}

fn node_named<'a>(job: &'a Value, name: &str) -> &'a Value {
    flatten(&job["tree"]).into_iter().find(|n| n["name"] == name).expect("node")
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_lets_running_nodes_finish_starts_nothing_new_and_exits_0() {
    let mut store = Store::new().await;
    let mut first = store.start_with(&[("CADRE_SERVER__SHUTDOWN_GRACE_S", "20")]);
    let job = json!({"request": "drain", "plan": {"name": "root", "children": [
        {"name": "first", "run": {"type": "sleep", "ms": 800}},
        {"name": "then", "depends_on": ["first"], "run": {"type": "noop"}}]}});
    let id = submit_id(&first, &job).await;
    wait_for(&first, &id, |j| node_named(j, "first")["status"] == "running").await;
    let (code, _) = terminate(&mut first);
    assert_eq!(code, Some(0));
    let exited_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);

    let second = store.start();
    let stopped = job_json(&second, &id).await;
    assert_eq!(node_named(&stopped, "first")["status"], "succeeded", "the running node finished: {stopped}");
    assert_eq!(node_named(&stopped, "first")["attempts"], 1);
    let job = wait_for(&second, &id, ended).await;
    assert_eq!(job["status"], "succeeded", "the next start continued the job: {job}");
    let then = node_named(&job, "then");
    assert_eq!(then["attempts"], 1);
    assert!(then["started_at"].as_str() > Some(exited_at.as_str()), "nothing new started while draining: {then}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_stops_what_outlasts_the_grace_and_the_next_start_reruns_it() {
    const GRACE_S: u64 = 1;
    let mut store = Store::new().await;
    let grace = GRACE_S.to_string();
    let mut first = store.start_with(&[("CADRE_SERVER__SHUTDOWN_GRACE_S", grace.as_str())]);
    let job = json!({"request": "long", "plan": {"name": "root", "children": [
        {"name": "long", "run": {"type": "command", "argv": ["sleep", "3"]}}]}});
    let id = submit_id(&first, &job).await;
    wait_for(&first, &id, |j| node_named(j, "long")["status"] == "running").await;
    let (code, took) = terminate(&mut first);
    assert_eq!(code, Some(0));
    assert!(took >= Duration::from_secs(GRACE_S), "the grace was given: {took:?}");

    let second = store.start();
    let job = wait_for(&second, &id, ended).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(node_named(&job, "long")["attempts"], 2, "re-run after being stopped: {job}");
}

/// Holds the store's write lock from outside the server, as a backup tool or a long
/// migration might, until dropped by `release`.
enum StoreLock {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl StoreLock {
    async fn take(store: &Store) -> Self {
        use sqlx::Connection;
        if let Some(url) = &store.database_url {
            let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
            sqlx::raw_sql("begin; lock table nodes in exclusive mode").execute(&mut conn).await.expect("lock");
            return Self::Postgres(conn);
        }
        let url = format!("sqlite://{}", store.data().join("cadre.db").display());
        let mut conn = sqlx::SqliteConnection::connect(&url).await.expect("open");
        sqlx::raw_sql("begin exclusive").execute(&mut conn).await.expect("lock");
        Self::Sqlite(conn)
    }

    async fn release(self) {
        match self {
            Self::Sqlite(mut conn) => sqlx::raw_sql("rollback").execute(&mut conn).await.map(drop),
            Self::Postgres(mut conn) => sqlx::raw_sql("rollback").execute(&mut conn).await.map(drop),
        }
        .expect("unlock");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_command_starts_only_once_its_attempt_is_stored() {
    const GATE_MS: u64 = 1_500;
    /// Taken this long after the gate is seen running: before it ends, with little time
    /// for the server's commits to notice the lock before the command is due.
    const LOCK_AFTER: Duration = Duration::from_millis(1_000);
    /// How long the lock is held: well past the gate's end.
    const HOLD: Duration = Duration::from_millis(2_000);
    let mut store = Store::new().await;
    let server = store.start();
    let log = store.dir.path().join("pids");
    let script = format!("echo $$ >> {}", log.display());
    let job = json!({"request": "durable start", "plan": {"name": "root", "children": [
        {"name": "gate", "run": {"type": "sleep", "ms": GATE_MS}},
        {"name": "side-effect", "depends_on": ["gate"], "run": {"type": "command", "argv": ["sh", "-c", script]}}]}});
    let id = submit_id(&server, &job).await;
    wait_for(&server, &id, |j| node_named(j, "gate")["status"] == "running").await;
    tokio::time::sleep(LOCK_AFTER).await;
    let lock = StoreLock::take(&store).await;
    tokio::time::sleep(HOLD).await;
    let ran_unrecorded = pids(&log);
    lock.release().await;
    assert!(ran_unrecorded.is_empty(), "the command ran while its start could not be stored");
    let job = wait_for(&server, &id, ended).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(node_named(&job, "side-effect")["attempts"], 1);
    assert_eq!(pids(&log).len(), 1, "the command ran once the store was back");
}

/// Runs the `cadre` binary against `server` with another key.
fn cadre_as(server: &Server, key: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(server::BIN)
        .args(args)
        .env("CADRE_URL", &server.url)
        .env("CADRE_API_KEY", key)
        .output()
        .expect("runs")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_waiting_at_a_kill_is_decided_after_the_restart_from_the_cli() {
    let mut store = Store::new().await;
    let first = store.start();
    let created = server::cadre(&first, &["keys", "create", "--name", "rel", "--scope", "read", "--group", "release"]);
    let printed = server::text(&created);
    let secret = printed.split_whitespace().find(|w| w.starts_with("sk-orch-")).expect("secret").to_string();
    let gate = json!({"before": true, "prompt": "Ship?", "approvers": ["group:release"]});
    let echo_input = json!({"type": "command", "argv": ["sh", "-c", "printf '%s' \"$CADRE_APPROVAL_INPUT\""]});
    let job = json!({"request": "gated", "plan": {"name": "team", "children": [
        {"name": "build", "run": {"type": "echo", "value": 1}},
        {"name": "gate", "depends_on": ["build"], "approval": gate, "run": echo_input},
        {"name": "after", "depends_on": ["gate"], "run": {"type": "echo", "value": 2}}]}});
    let id = submit_id(&first, &job).await;
    wait_for(&first, &id, |j| j["status"] == "paused").await;
    drop(first);

    let second = store.start();
    let job = wait_for(&second, &id, |j| j["status"] == "paused").await;
    assert_eq!(node_named(&job, "gate")["status"], "awaiting_approval", "{job}");
    let listed = server::text(&cadre_as(&second, &secret, &["approvals", "list"]));
    assert!(listed.contains("'gate'") && listed.contains("\"Ship?\""), "{listed}");
    let approval_id = listed.split_whitespace().next().expect("an id").to_string();
    let unknown = cadre_as(&second, &secret, &["approvals", "reject", "0190b2c4-0000-7000-8000-000000000000"]);
    assert!(!unknown.status.success() && server::text(&unknown).contains("404"), "{}", server::text(&unknown));
    let args = ["approvals", "approve", approval_id.as_str(), "--comment", "ok", "--input", r#"{"n":1}"#];
    let approved = cadre_as(&second, &secret, &args);
    assert!(approved.status.success() && server::text(&approved).contains("[approved]"), "{}", server::text(&approved));

    let job = wait_for(&second, &id, ended).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(node_named(&job, "gate")["result"]["stdout"], r#"{"n":1}"#);
    let asked = events(&second, &id).into_iter().filter(|f| f["type"] == "approval_requested").count();
    assert_eq!(asked, 1, "the restart did not ask again");
    assert!(completions(&second, &id).values().all(|&n| n == 1));
}
