//! Replicas over one PostgreSQL (issue 18), with the real binary: several `cadre serve`
//! processes on loopback sharing one throwaway database.
//!
//! They need PostgreSQL, so `scripts/test.sh` runs them with `--ignored` once it has started
//! one and named it in `CADRE_TEST_DATABASE_URL`; run alone without it they fail, saying so.

mod common;
#[path = "support/server.rs"]
#[allow(dead_code, reason = "each test binary uses a part of the support")]
mod server;

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{json, Value};
use server::{job_json, serve_with, submit_id, Server, STARTUP_DEADLINE};
use sqlx::Connection;
use tokio_tungstenite::tungstenite::Message;

/// A short lease, so that a killed replica lapses within the test; no rate limit a hundred
/// submissions at once could reach.
const CLUSTER: [(&str, &str); 5] = [
    ("CADRE_CLUSTER__ENABLED", "true"),
    ("CADRE_CLUSTER__HEARTBEAT_S", "1"),
    ("CADRE_CLUSTER__LEASE_S", "4"),
    ("CADRE_RATE_LIMIT__PER_SECOND", "1000000"),
    ("CADRE_RATE_LIMIT__BURST", "1000000"),
];
const POLL: Duration = Duration::from_millis(100);

async fn database() -> String {
    common::fresh_database_url()
        .await
        .expect("CADRE_TEST_DATABASE_URL must name a PostgreSQL server: scripts/test.sh starts one and runs these")
}

/// A replica on `url`, using `key` (the first replica prints the cluster's admin key).
fn replica(dir: &Path, name: &str, url: &str, key: Option<&str>) -> Server {
    replica_with(dir, name, url, key, &CLUSTER)
}

fn replica_with(dir: &Path, name: &str, url: &str, key: Option<&str>, env: &[(&str, &str)]) -> Server {
    let data = dir.join(name);
    std::fs::create_dir_all(&data).expect("data dir");
    let (mut server, generated) = serve_with(&data, Some(url), env);
    server.key = key.map(str::to_string).or(generated).expect("an admin key");
    server
}

async fn get(server: &Server, path: &str) -> Value {
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1{path}", server.url))
        .bearer_auth(&server.key)
        .send()
        .await
        .expect("request");
    assert!(response.status().is_success(), "GET {path}: {}", response.status());
    response.json().await.expect("json")
}

/// The replica at `address` as `server` sees it.
async fn replica_seen(server: &Server, address: &str) -> Value {
    let cluster = get(server, "/cluster").await;
    let replicas = cluster["replicas"].as_array().expect("replicas");
    replicas.iter().find(|r| r["address"] == address).cloned().unwrap_or(Value::Null)
}

/// Waits until `server` sees the replica at `address` in `state`.
async fn wait_state(server: &Server, address: &str, state: &str) -> Value {
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

fn small_job(i: usize) -> Value {
    let workers: Vec<Value> =
        (0..3).map(|w| json!({"name": format!("w{w}"), "run": {"type": "sleep", "ms": 20 * w}})).collect();
    json!({"request": format!("job {i}"), "plan": {"name": "root", "children": workers}})
}

/// Frames of a live subscription until every job in `jobs` has completed.
async fn frames_until_done(
    socket: &mut tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    jobs: &HashSet<String>,
) -> Vec<Value> {
    let mut frames = Vec::new();
    let mut done = HashSet::new();
    while done.len() < jobs.len() {
        let next = tokio::time::timeout(STARTUP_DEADLINE, socket.next()).await;
        let Ok(Some(Ok(Message::Text(text)))) = next else { continue };
        let frame: Value = serde_json::from_str(&text).expect("json");
        if frame["seq"].as_i64().unwrap_or(0) == 0 {
            continue;
        }
        if frame["type"] == "job_completed" {
            done.insert(frame["job_id"].as_str().expect("job").to_string());
        }
        frames.push(frame);
    }
    frames
}

/// The first `n` stored events, replayed by `server`.
async fn replay(server: &Server, n: usize) -> Vec<Value> {
    let ws = format!("{}/ws/recursion?token={}&since=0", server.url.replacen("http", "ws", 1), server.key);
    let (mut socket, _) = tokio_tungstenite::connect_async(ws).await.expect("connects");
    let mut frames = Vec::new();
    while frames.len() < n {
        let next = tokio::time::timeout(STARTUP_DEADLINE, socket.next()).await.expect("the replay goes on");
        let Some(Ok(Message::Text(text))) = next else { panic!("the replay ended early") };
        let frame: Value = serde_json::from_str(&text).expect("json");
        if frame["seq"].as_i64().unwrap_or(0) > 0 {
            frames.push(frame);
        }
    }
    frames
}

/// `b` lists both replicas as live, itself as the one answering, in the API and the CLI.
async fn assert_b_sees_both(a: &Server, b: &Server) {
    let cluster = get(b, "/cluster").await;
    assert_eq!(cluster["enabled"], true);
    let live: Vec<&Value> =
        cluster["replicas"].as_array().expect("list").iter().filter(|r| r["state"] == "live").collect();
    assert_eq!(live.len(), 2, "{cluster}");
    let this: Vec<&&Value> = live.iter().filter(|r| r["this"] == true).collect();
    assert_eq!((this.len(), this[0]["address"].as_str()), (1, Some(b.url.as_str())), "{cluster}");
    assert!(live.iter().any(|r| r["address"] == a.url.as_str()), "{cluster}");
    let described = server::text(&server::cadre(b, &["cluster"]));
    assert!(described.contains("a cluster of 2 replicas (2 live)"), "{described}");
    assert!(described.contains(a.url.as_str()) && described.contains("(this replica)"), "{described}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs PostgreSQL: scripts/test.sh runs it with --ignored after starting one"]
async fn replicas_see_each_other_and_each_streams_every_replicas_events_in_one_order() {
    let url = database().await;
    let dir = tempfile::tempdir().expect("dir");
    let mut a = replica(dir.path(), "a", &url, None);
    let b = replica(dir.path(), "b", &url, Some(&a.key.clone()));

    assert_b_sees_both(&a, &b).await;

    // A subscriber on b, then jobs submitted to both.
    let ws = format!("{}/ws/recursion?token={}&since=0", b.url.replacen("http", "ws", 1), b.key);
    let (mut socket, _) = tokio_tungstenite::connect_async(ws).await.expect("connects");
    let mut jobs = HashSet::new();
    for i in 0..6 {
        let to = if i % 2 == 0 { &a } else { &b };
        jobs.insert(submit_id(to, &small_job(i)).await);
    }
    let frames = frames_until_done(&mut socket, &jobs).await;
    let seqs: Vec<i64> = frames.iter().map(|f| f["seq"].as_i64().expect("seq")).collect();
    let expected: Vec<i64> = (1..=i64::try_from(seqs.len()).expect("len")).collect();
    assert_eq!(seqs, expected, "one contiguous order of both replicas' events");
    let joined: HashSet<&str> =
        frames.iter().filter(|f| f["type"] == "replica_joined").filter_map(|f| f["data"]["address"].as_str()).collect();
    assert_eq!(joined, HashSet::from([a.url.as_str(), b.url.as_str()]), "each replica announced itself");
    // Every job is read back whole from the other replica, and b's stream was a's log.
    for id in &jobs {
        let (on_a, on_b) = (job_json(&a, id).await, job_json(&b, id).await);
        assert_eq!((on_a["status"].as_str(), on_b["status"].as_str()), (Some("succeeded"), Some("succeeded")));
    }
    let from_a = replay(&a, frames.len()).await;
    let key = |f: &Value| {
        (f["seq"].as_i64(), f["type"].as_str().map(str::to_string), f["job_id"].as_str().map(str::to_string))
    };
    assert_eq!(
        from_a.iter().map(key).collect::<Vec<_>>(),
        frames.iter().map(key).collect::<Vec<_>>(),
        "a's log is b's stream"
    );

    // Killed: b sees a lapse, and stays ready on its own.
    a.child.kill().expect("kill -9");
    let _ = a.child.wait();
    wait_state(&b, &a.url, "lapsed").await;
    let ready: Value = reqwest::get(format!("{}/readyz", b.url)).await.expect("readyz").json().await.expect("json");
    assert_eq!((ready["status"].as_str(), ready["replica"]["live_replicas"].as_u64()), (Some("ready"), Some(1)));
    let metrics = reqwest::get(format!("{}/metrics", b.url)).await.expect("metrics").text().await.expect("text");
    assert!(metrics.contains("cadre_cluster_replicas{state=\"lapsed\"} 1"), "{metrics}");
    assert!(metrics.contains("cadre_replica_member 1"), "{metrics}");

    // Stopped with SIGTERM: it leaves.
    let mut c = replica(dir.path(), "c", &url, Some(&b.key));
    wait_state(&b, &c.url, "live").await;
    let pid = i32::try_from(c.child.id()).expect("pid");
    // SAFETY: signalling a child process this test started and still holds.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    assert!(c.child.wait().expect("exits").success(), "a clean exit");
    let left = wait_state(&b, &c.url, "left").await;
    assert!(left["ended_at"].is_string(), "{left}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs PostgreSQL: scripts/test.sh runs it with --ignored after starting one"]
async fn a_replica_declared_gone_writes_nothing_more_and_stops() {
    let url = database().await;
    let dir = tempfile::tempdir().expect("dir");
    // Slow beats: the refusal of its writes is seen before its heartbeat finds it gone.
    let slow =
        [CLUSTER[0], ("CADRE_CLUSTER__HEARTBEAT_S", "5"), ("CADRE_CLUSTER__LEASE_S", "15"), CLUSTER[3], CLUSTER[4]];
    let mut a = replica_with(dir.path(), "a", &url, None, &slow);
    let id = submit_id(&a, &small_job(0)).await;
    server::wait_for(&a, &id, server::ended).await;
    // What a replica taking a's jobs over does first.
    let mut db = sqlx::PgConnection::connect(&url).await.expect("connect");
    let declared = sqlx::query("update replicas set state = 'dead', ended_ms = 1 where state = 'live'")
        .execute(&mut db)
        .await
        .expect("declare");
    assert_eq!(declared.rows_affected(), 1);
    let counts = || async {
        let mut db = sqlx::PgConnection::connect(&url).await.expect("connect");
        let row: (i64, i64) = sqlx::query_as("select (select count(*) from jobs), (select count(*) from events)")
            .fetch_one(&mut db)
            .await
            .expect("count");
        row
    };
    let before = counts().await;
    let refused = server::submit(&a, &small_job(1)).await;
    assert_eq!(refused.status(), 503, "a job that cannot be stored is refused");
    assert_eq!(counts().await, before, "nothing more was written");
    let begun = Instant::now();
    loop {
        let ready = reqwest::get(format!("{}/readyz", a.url)).await.expect("readyz");
        if ready.status() == 503 {
            let body: Value = ready.json().await.expect("json");
            assert!(body["detail"].as_str().is_some_and(|d| d.contains("not taking")), "{body}");
            break;
        }
        assert!(begun.elapsed() < STARTUP_DEADLINE, "a replica declared gone stays ready");
        tokio::time::sleep(POLL).await;
    }
    // Its next heartbeat finds it gone: it stops and exits, to rejoin as a new replica.
    assert!(!wait_exit(&mut a.child).success());
    assert_eq!(counts().await, before, "nothing more was written");
}

/// A job of `workers` command workers, each a `sleep` process of `seconds`.
fn sleepers(name: &str, workers: usize, seconds: &str) -> Value {
    let children: Vec<Value> = (0..workers)
        .map(|w| json!({"name": format!("w{w}"), "run": {"type": "command", "argv": ["sleep", seconds]}}))
        .collect();
    json!({"request": name, "plan": {"name": "root", "children": children}})
}

/// Waits for every job to succeed, read from `server`.
async fn all_succeed(server: &Server, jobs: &[String]) -> Vec<Value> {
    let mut done = Vec::new();
    for id in jobs {
        let job = server::wait_for(server, id, server::ended).await;
        assert_eq!(job["status"], "succeeded", "{job}");
        done.push(job);
    }
    done
}

/// Each node of the job ended exactly once in the stored log.
fn assert_each_node_ended_once(server: &Server, job: &Value) {
    let id = job["job_id"].as_str().expect("job_id");
    let completions = server::completions(server, id);
    let nodes = server::flatten(&job["tree"]);
    assert_eq!(completions.len(), nodes.len(), "every node of {id} ended: {completions:?}");
    assert!(completions.values().all(|&n| n == 1), "no node of {id} ended twice: {completions:?}");
}

async fn owners(url: &str) -> Vec<(uuid::Uuid, Option<uuid::Uuid>)> {
    let mut db = sqlx::PgConnection::connect(url).await.expect("connect");
    sqlx::query_as("select id, owner from jobs").fetch_all(&mut db).await.expect("owners")
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs PostgreSQL: scripts/test.sh runs it with --ignored after starting one"]
async fn a_hundred_jobs_over_three_replicas_all_succeed_though_one_is_killed_and_each_node_ends_once() {
    let url = database().await;
    let dir = tempfile::tempdir().expect("dir");
    let mut a = replica(dir.path(), "a", &url, None);
    let b = replica(dir.path(), "b", &url, Some(&a.key.clone()));
    let c = replica(dir.path(), "c", &url, Some(&a.key.clone()));
    // Submitted at once, round-robin, so that the killed replica still has most of its work.
    let bodies: Vec<Value> = (0..100).map(|i| sleepers(&format!("job {i}"), 3, "0.5")).collect();
    let submits = bodies.iter().enumerate().map(|(i, body)| submit_id([&a, &b, &c][i % 3], body));
    let jobs: Vec<String> = futures_util::future::join_all(submits).await;
    let a_id = get(&a, "/cluster").await["replica_id"].as_str().expect("id").to_string();
    let a_jobs: Vec<String> = jobs.iter().step_by(3).cloned().collect();
    tokio::time::sleep(Duration::from_millis(700)).await;
    a.child.kill().expect("kill -9");
    let _ = a.child.wait();
    let done = all_succeed(&b, &jobs).await;
    for job in &done {
        assert_each_node_ended_once(&c, job);
    }
    let retried =
        done.iter().flat_map(|job| server::flatten(&job["tree"])).filter(|n| n["attempts"].as_u64() > Some(1)).count();
    assert!(retried > 0, "the killed replica's running workers were re-run after the takeover");
    // a's jobs that had not finished are now b's or c's (those that had stay a's).
    let owned = owners(&url).await;
    let taken = owned
        .iter()
        .filter(|(id, owner)| a_jobs.contains(&id.to_string()) && owner.is_some_and(|o| o.to_string() != a_id));
    assert!(taken.count() > 0, "{owned:?}");
    assert_eq!(replica_seen(&b, &a.url).await["state"], "dead");
    let log = replay(&b, usize::try_from(events_stored(&url).await.0).expect("count")).await;
    let left: Vec<&Value> = log.iter().filter(|f| f["type"] == "replica_left").collect();
    assert_eq!(
        (left.len(), left[0]["data"]["replica"].as_str(), left[0]["data"]["state"].as_str()),
        (1, Some(a_id.as_str()), Some("dead"))
    );
    let taken: Vec<&Value> = log.iter().filter(|f| f["type"] == "job_taken_over").collect();
    assert!(!taken.is_empty() && taken.iter().all(|f| f["data"]["from"] == a_id.as_str()), "{taken:?}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs PostgreSQL: scripts/test.sh runs it with --ignored after starting one"]
async fn sigterm_hands_a_replicas_jobs_over_at_once() {
    let url = database().await;
    let dir = tempfile::tempdir().expect("dir");
    let mut a = replica(dir.path(), "a", &url, None);
    let b = replica(dir.path(), "b", &url, Some(&a.key.clone()));
    let id = submit_id(&a, &sleepers("long", 2, "3")).await;
    server::wait_for(&a, &id, |job| job["counts"]["by_status"]["running"].as_u64() >= Some(2)).await;
    let begun = Instant::now();
    // SAFETY: signalling a child process this test started and still holds.
    assert_eq!(unsafe { libc::kill(i32::try_from(a.child.id()).expect("pid"), libc::SIGTERM) }, 0);
    assert!(a.child.wait().expect("exits").success(), "a clean exit");
    assert!(begun.elapsed() < Duration::from_secs(4), "it did not wait for its 3 s workers: {:?}", begun.elapsed());
    assert_eq!(replica_seen(&b, &a.url).await["state"], "left");
    let log = replay(&b, usize::try_from(events_stored(&url).await.0).expect("count")).await;
    assert!(log.iter().any(|f| f["type"] == "replica_left" && f["data"]["state"] == "left"), "a announced it left");
    let job = all_succeed(&b, std::slice::from_ref(&id)).await.remove(0);
    assert_each_node_ended_once(&b, &job);
    // Taken over at b's next round, not after a lease.
    let took = begun.elapsed();
    assert!(took < Duration::from_secs(4 + 3 + 1), "handed over and finished in {took:?}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs PostgreSQL: scripts/test.sh runs it with --ignored after starting one"]
async fn a_replica_paused_past_its_lease_writes_nothing_for_the_jobs_it_lost() {
    let url = database().await;
    let dir = tempfile::tempdir().expect("dir");
    let mut a = replica(dir.path(), "a", &url, None);
    let b = replica(dir.path(), "b", &url, Some(&a.key.clone()));
    let chain: Vec<Value> = (0..6)
        .map(|i| {
            let after: Vec<String> = if i == 0 { vec![] } else { vec![format!("s{}", i - 1)] };
            json!({"name": format!("s{i}"), "depends_on": after, "run": {"type": "command", "argv": ["sleep", "0.4"]}})
        })
        .collect();
    let id = submit_id(&a, &json!({"request": "a chain", "plan": {"name": "chain", "children": chain}})).await;
    server::wait_for(&a, &id, |job| job["counts"]["by_status"]["succeeded"].as_u64() >= Some(1)).await;
    let pid = i32::try_from(a.child.id()).expect("pid");
    // SAFETY: signalling a child process this test started and still holds.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGSTOP) }, 0);
    wait_state(&b, &a.url, "dead").await;
    let job = all_succeed(&b, std::slice::from_ref(&id)).await.remove(0);
    let stored = events_stored(&url).await;
    // SAFETY: as above.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGCONT) }, 0);
    let status = wait_exit(&mut a.child);
    assert!(!status.success(), "a replica that lost its place exits to rejoin anew");
    let log = std::fs::read_to_string(dir.path().join("a.log")).expect("log");
    assert!(log.contains("stopping this replica's work"), "{log}");
    assert_eq!(events_stored(&url).await, stored, "nothing was written after the takeover");
    assert_each_node_ended_once(&b, &job);
}

async fn events_stored(url: &str) -> (i64, i64) {
    let mut db = sqlx::PgConnection::connect(url).await.expect("connect");
    sqlx::query_as("select count(*), coalesce(max(seq), 0) from events").fetch_one(&mut db).await.expect("count")
}

fn wait_exit(child: &mut std::process::Child) -> std::process::ExitStatus {
    let begun = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("status") {
            return status;
        }
        assert!(begun.elapsed() < STARTUP_DEADLINE, "the replica did not stop");
        std::thread::sleep(POLL);
    }
}

async fn call(method: reqwest::Method, server: &Server, path: &str, key: &str) -> reqwest::Response {
    let url = format!("{}/api/v1{path}", server.url);
    reqwest::Client::new().request(method, url).bearer_auth(key).send().await.expect("request")
}

/// Polls until `server` answers `path` with `status` for `key`.
async fn wait_status(server: &Server, path: &str, key: &str, status: u16) {
    let begun = Instant::now();
    while call(reqwest::Method::GET, server, path, key).await.status() != status {
        assert!(begun.elapsed() < STARTUP_DEADLINE, "{path} never answered {status}");
        tokio::time::sleep(POLL).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs PostgreSQL: scripts/test.sh runs it with --ignored after starting one"]
async fn any_replica_takes_a_cancel_for_a_job_another_drives_and_keys_follow_from_one_to_another() {
    let url = database().await;
    let dir = tempfile::tempdir().expect("dir");
    let a = replica(dir.path(), "a", &url, None);
    let b = replica(dir.path(), "b", &url, Some(&a.key.clone()));
    // A key made on a is taken by b, and refused there once revoked on a.
    let made: Value = reqwest::Client::new()
        .post(format!("{}/api/v1/keys", a.url))
        .bearer_auth(&a.key)
        .json(&json!({"name": "ci", "scopes": ["read", "write"]}))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    let key = made["key"].as_str().expect("secret").to_string();
    wait_status(&b, "/recursion/jobs", &key, 200).await;

    let id = submit_id(&a, &sleepers("long", 2, "30")).await;
    server::wait_for(&a, &id, |job| job["counts"]["by_status"]["running"].as_u64() >= Some(2)).await;
    let cancelled = call(reqwest::Method::DELETE, &b, &format!("/recursion/job/{id}"), &key).await;
    assert_eq!(cancelled.status(), 202, "b passed the cancel to a: {:?}", cancelled.text().await);
    let job = server::wait_for(&b, &id, server::ended).await;
    assert_eq!(job["status"], "cancelled", "{job}");
    let again = call(reqwest::Method::DELETE, &b, &format!("/recursion/job/{id}"), &key).await;
    assert_eq!(again.status(), 409, "an ended job is answered where the request lands");

    let revoked =
        call(reqwest::Method::DELETE, &a, &format!("/keys/{}", made["id"].as_str().expect("id")), &a.key).await;
    assert!(revoked.status().is_success(), "{}", revoked.status());
    wait_status(&b, "/recursion/jobs", &key, 401).await;
}
