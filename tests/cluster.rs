//! Replicas over one PostgreSQL (issue 18), with the real binary: several `cadre serve`
//! processes on loopback sharing one throwaway database.
//!
//! They need PostgreSQL, so `scripts/test.sh` runs them with `--ignored` once it has started
//! one and named it in `CADRE_TEST_DATABASE_URL`; run alone without it they fail, saying so.

mod common;
#[path = "support/cluster.rs"]
#[allow(dead_code, reason = "each test binary uses a part of the support")]
mod replicas;
#[path = "support/server.rs"]
#[allow(dead_code, reason = "each test binary uses a part of the support")]
mod server;
#[path = "support/webhook_receiver.rs"]
#[allow(dead_code, reason = "each test binary uses a part of the support")]
mod webhook_receiver;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use replicas::{
    all_succeed, assert_each_node_ended_once, database, events_stored, frames_until_done, get, replay, replica,
    replica_seen, replica_with, sleepers, wait_exit, wait_state, CLUSTER, POLL,
};
use serde_json::{json, Value};
use server::{job_json, submit_id, Server, STARTUP_DEADLINE};
use sqlx::Connection;

fn small_job(i: usize) -> Value {
    let workers: Vec<Value> =
        (0..3).map(|w| json!({"name": format!("w{w}"), "run": {"type": "sleep", "ms": 20 * w}})).collect();
    json!({"request": format!("job {i}"), "plan": {"name": "root", "children": workers}})
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
    let metrics = replicas::metrics(&b).await;
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

/// The jobs whose completion `receiver` was told of, in the order it was told.
fn completions_posted(receiver: &webhook_receiver::Receiver) -> Vec<String> {
    receiver.received().iter().map(|d| d.json()["job_id"].as_str().expect("job").to_string()).collect()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs PostgreSQL: scripts/test.sh runs it with --ignored after starting one"]
async fn one_replica_posts_each_webhook_and_another_goes_on_once_it_is_gone() {
    let url = database().await;
    let dir = tempfile::tempdir().expect("dir");
    let receiver = webhook_receiver::Receiver::start(&[]).await;
    let hooks = format!(
        "[{{name = \"ops\", url = \"{}\", events = [\"job_completed\"], secret_env = \"CLUSTER_TEST_HOOK_SECRET\"}}]",
        receiver.url("/hook")
    );
    let mut env = CLUSTER.to_vec();
    env.extend([("CADRE_NOTIFY__WEBHOOKS", hooks.as_str()), ("CLUSTER_TEST_HOOK_SECRET", "not-a-real-secret")]);
    let mut a = replica_with(dir.path(), "a", &url, None, &env);
    let b = replica_with(dir.path(), "b", &url, Some(&a.key.clone()), &env);
    let mut first = Vec::new();
    for i in 0..6 {
        first.push(submit_id(if i % 2 == 0 { &a } else { &b }, &small_job(i)).await);
    }
    receiver.wait_for(first.len()).await;
    // Long enough for a second replica's deliveries, had it made any.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut posted = completions_posted(&receiver);
    posted.sort();
    first.sort();
    assert_eq!(posted, first, "each completion posted once, though two replicas serve");
    // The replica posting them is killed: the other goes on from the stored cursor.
    a.child.kill().expect("kill -9");
    let _ = a.child.wait();
    let later = submit_id(&b, &small_job(6)).await;
    receiver.wait_for(first.len() + 1).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let posted = completions_posted(&receiver);
    assert_eq!(posted.len(), first.len() + 1, "{posted:?}");
    assert_eq!(posted.last(), Some(&later));
}

/// `method` on `path` of `server` with its key and `body`, and the answer as JSON.
async fn send_json(server: &Server, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut request =
        reqwest::Client::new().request(method, format!("{}/api/v1{path}", server.url)).bearer_auth(&server.key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let answer = request.send().await.expect("request");
    (answer.status().as_u16(), answer.json().await.unwrap_or(Value::Null))
}

/// The ids of the messages `server` delivers from agent `name`'s mailbox within `wait_s`.
async fn receive_ids(server: &Server, name: &str, wait_s: u64) -> Vec<String> {
    let path = format!("/agents/{name}/messages?wait_s={wait_s}&max=10");
    let (status, got) = send_json(server, reqwest::Method::GET, &path, None).await;
    assert_eq!(status, 200, "{got}");
    got["messages"].as_array().expect("messages").iter().map(|m| m["id"].as_str().expect("id").to_string()).collect()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs PostgreSQL: scripts/test.sh runs it with --ignored after starting one"]
async fn agents_and_their_mailboxes_are_the_clusters_and_outlive_the_replica_holding_them() {
    let url = database().await;
    let dir = tempfile::tempdir().expect("dir");
    let mut env = CLUSTER.to_vec();
    env.push(("CADRE_MAIL__VISIBILITY_TIMEOUT_S", "1"));
    let mut a = replica_with(dir.path(), "a", &url, None, &env);
    let b = replica_with(dir.path(), "b", &url, Some(&a.key.clone()), &env);
    // Made on a, known to b within a heartbeat.
    let (status, made) = send_json(
        &a,
        reqwest::Method::POST,
        "/agents",
        Some(json!({"from_template": "coding-agent-cli", "name": "rev"})),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    let begun = Instant::now();
    while send_json(&b, reqwest::Method::GET, "/agents/rev", None).await.0 != 200 {
        assert!(begun.elapsed() < STARTUP_DEADLINE, "b never learned of the agent made on a");
        tokio::time::sleep(POLL).await;
    }
    // Sent through b, received through b: one mailbox, held by the cluster's oldest replica (a).
    let (status, first) =
        send_json(&b, reqwest::Method::POST, "/agents/rev/messages", Some(json!({"body": {"n": 1}}))).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(receive_ids(&b, "rev", 5).await, [first["id"].as_str().expect("id")]);
    assert!(receive_ids(&a, "rev", 0).await.is_empty(), "delivered once, wherever it is asked for");
    let (_, second) =
        send_json(&a, reqwest::Method::POST, "/agents/rev/messages", Some(json!({"body": {"n": 2}}))).await;
    // The replica holding them dies: b takes the mailboxes over from the store. The first
    // message was never acknowledged, so it comes again; the second comes for the first time.
    a.child.kill().expect("kill -9");
    let _ = a.child.wait();
    wait_state(&b, &a.url, "dead").await;
    let mut got = Vec::new();
    let begun = Instant::now();
    while got.len() < 2 {
        got.extend(receive_ids(&b, "rev", 2).await);
        assert!(begun.elapsed() < STARTUP_DEADLINE, "b did not deliver the agent's mail: {got:?}");
    }
    got.sort();
    let mut sent = vec![first["id"].as_str().expect("id").to_string(), second["id"].as_str().expect("id").to_string()];
    sent.sort();
    assert_eq!(got, sent);
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs PostgreSQL: scripts/test.sh runs it with --ignored after starting one"]
async fn a_nodes_mail_goes_with_its_job_to_the_replica_taking_it_over() {
    let url = database().await;
    let dir = tempfile::tempdir().expect("dir");
    let mut a = replica(dir.path(), "a", &url, None);
    let b = replica(dir.path(), "b", &url, Some(&a.key.clone()));
    let id = submit_id(&a, &sleepers("waits for mail", 1, "60")).await;
    let job = server::wait_for(&a, &id, |job| job["counts"]["by_status"]["running"].as_u64() >= Some(1)).await;
    let worker = server::flatten(&job["tree"]).into_iter().find(|n| n["name"] == "w0").expect("worker");
    let node = worker["id"].as_str().expect("node").to_string();
    let sent = json!({"to": node, "body": {"task": "review"}});
    let (status, message) =
        send_json(&a, reqwest::Method::POST, &format!("/recursion/job/{id}/messages"), Some(sent)).await;
    assert_eq!(status, 201, "{message}");
    a.child.kill().expect("kill -9");
    let _ = a.child.wait();
    // Once b drives the job, the node's mailbox is there, with the message in it.
    let path = format!("/recursion/job/{id}/nodes/{node}/messages?wait_s=2");
    let begun = Instant::now();
    loop {
        let (status, got) = send_json(&b, reqwest::Method::GET, &path, None).await;
        if status == 200 && !got["messages"].as_array().expect("messages").is_empty() {
            assert_eq!(got["messages"][0]["id"], message["id"], "{got}");
            break;
        }
        assert!(begun.elapsed() < STARTUP_DEADLINE, "the node's mail was lost in the takeover: {status} {got}");
        tokio::time::sleep(POLL).await;
    }
}
