//! Replicas under load (issue 18), with the real binary over one throwaway PostgreSQL: a
//! hundred jobs over three replicas with one killed mid-run, and a rolling restart of all
//! three, each with the global quota sampled throughout from every replica's stats and from
//! the database; and a takeover whose adoption the database refuses for a while.
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

use std::sync::{Arc, Mutex};
use std::time::Duration;

use replicas::{
    all_succeed, assert_each_node_ended_once, database, events_stored, get, owners, replay, replica_seen, replica_with,
    sleepers, wait_state, CLUSTER,
};
use serde_json::Value;
use server::{submit_id, Server};
use sqlx::Connection;

/// The depth-1 quota across the cluster: smaller than three replicas' demand, so it binds.
const QUOTA: i64 = 9;
const SAMPLE_EVERY: Duration = Duration::from_millis(100);

/// The cluster's settings with the depth-1 quota at [`QUOTA`].
fn env() -> Vec<(&'static str, &'static str)> {
    let mut env = CLUSTER.to_vec();
    env.push(("CADRE_RESOURCES__QUOTAS__1", "9"));
    env
}

fn replica(dir: &std::path::Path, name: &str, url: &str, key: Option<&str>) -> Server {
    replica_with(dir, name, url, key, &env())
}

/// What the sampler saw of depth 1.
#[derive(Debug, Default)]
struct Samples {
    taken: usize,
    /// The most worker processes the database recorded at once.
    peak_running: i64,
    violations: Vec<String>,
}

/// The replicas being sampled (their URLs and a key): those that serve now.
type Watched = Arc<Mutex<Vec<(String, String)>>>;

/// Samples until `stop`: each replica's stats (the slots it holds never more than its share)
/// and, in one statement, the database (the stored shares and the worker processes recorded
/// as running never more than the quota).
async fn sample(watched: Watched, db_url: String, stop: tokio_util::sync::CancellationToken) -> Samples {
    let mut db = sqlx::PgConnection::connect(&db_url).await.expect("connect");
    let client = reqwest::Client::new();
    let mut samples = Samples::default();
    while !stop.is_cancelled() {
        let replicas = watched.lock().expect("watched").clone();
        for (url, key) in &replicas {
            let stats = client.get(format!("{url}/api/v1/recursion/stats")).bearer_auth(key).send().await;
            // A replica killed or stopping no longer answers: the database still counts it.
            let Ok(stats) = stats else { continue };
            let Ok(stats) = stats.json::<Value>().await else { continue };
            let depth = &stats["by_depth"][1];
            let (held, share) = (depth["in_use"].as_i64().unwrap_or(0), depth["share"].as_i64().unwrap_or(0));
            if held > share {
                samples.violations.push(format!("{url} held {held} slots with a share of {share}"));
            }
        }
        let (shares, running): (i64, i64) = sqlx::query_as(
            "select coalesce((select sum(shares[2]) from replicas), 0)::bigint, \
             (select count(*) from node_processes p join nodes n on n.id = p.node_id where n.depth = 1)",
        )
        .fetch_one(&mut db)
        .await
        .expect("sample");
        if shares > QUOTA || running > QUOTA {
            samples.violations.push(format!("stored shares {shares}, running {running}, quota {QUOTA}"));
        }
        samples.peak_running = samples.peak_running.max(running);
        samples.taken += 1;
        tokio::time::sleep(SAMPLE_EVERY).await;
    }
    samples
}

/// Starts the sampler over `servers`.
fn start_sampling(
    servers: &[&Server],
    url: &str,
) -> (Watched, tokio_util::sync::CancellationToken, tokio::task::JoinHandle<Samples>) {
    let watched: Watched = Arc::new(Mutex::new(servers.iter().map(|s| (s.url.clone(), s.key.clone())).collect()));
    let stop = tokio_util::sync::CancellationToken::new();
    let sampler = tokio::spawn(sample(watched.clone(), url.to_string(), stop.clone()));
    (watched, stop, sampler)
}

/// The quota held in every sample, and bound: the work filled it at some point.
fn assert_quota_held(samples: &Samples) {
    assert!(samples.violations.is_empty(), "the global quota was exceeded: {:?}", samples.violations);
    assert!(samples.taken > 10, "{samples:?}");
    assert_eq!(samples.peak_running, QUOTA, "the quota bound the work: {samples:?}");
}

/// No slot leaked: every replica serving holds none, no process is recorded, and the stored
/// shares of the replicas still serving fill the quota between them (those gone hold none).
async fn assert_nothing_held(servers: &[&Server], url: &str) {
    for server in servers {
        let stats = get(server, "/recursion/stats").await;
        let held: Vec<i64> =
            stats["by_depth"].as_array().expect("depths").iter().map(|d| d["in_use"].as_i64().unwrap_or(-1)).collect();
        assert!(held.iter().all(|&n| n == 0), "{} still holds slots: {held:?}", server.url);
    }
    let mut db = sqlx::PgConnection::connect(url).await.expect("connect");
    let (processes,): (i64,) =
        sqlx::query_as("select count(*) from node_processes").fetch_one(&mut db).await.expect("count");
    assert_eq!(processes, 0, "no worker process is left recorded");
    let held: Vec<(String, Vec<i32>)> =
        sqlx::query_as("select state, shares from replicas").fetch_all(&mut db).await.expect("shares");
    assert!(held.iter().filter(|(state, _)| state != "live").all(|(_, shares)| shares.is_empty()), "{held:?}");
    let live: i32 = held.iter().filter(|(state, _)| state == "live").map(|(_, s)| s.get(1).copied().unwrap_or(0)).sum();
    assert!(i64::from(live) <= QUOTA, "{held:?}");
}

/// Every stored event, replayed by `server`: numbered 1..n with no gap or repeat, and every
/// job in `jobs` submitted and completed exactly once in it.
async fn assert_one_whole_log(server: &Server, url: &str, jobs: &[String]) -> Vec<Value> {
    let log = replay(server, usize::try_from(events_stored(url).await.0).expect("count")).await;
    let seqs: Vec<i64> = log.iter().map(|f| f["seq"].as_i64().expect("seq")).collect();
    let expected: Vec<i64> = (1..=i64::try_from(seqs.len()).expect("len")).collect();
    assert_eq!(seqs, expected, "one contiguous order");
    for id in jobs {
        let count = |kind: &str| log.iter().filter(|f| f["type"] == kind && f["job_id"] == id.as_str()).count();
        assert_eq!((count("job_submitted"), count("job_completed")), (1, 1), "job {id}");
    }
    log
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs PostgreSQL: scripts/test.sh runs it with --ignored after starting one"]
async fn a_hundred_jobs_over_three_replicas_all_succeed_though_one_is_killed_and_each_node_ends_once() {
    let url = database().await;
    let dir = tempfile::tempdir().expect("dir");
    let mut a = replica(dir.path(), "a", &url, None);
    let b = replica(dir.path(), "b", &url, Some(&a.key.clone()));
    let c = replica(dir.path(), "c", &url, Some(&a.key.clone()));
    let (_watched, stop, sampler) = start_sampling(&[&a, &b, &c], &url);
    // A subscriber on a replica that survives, from the first event on.
    let ws = format!("{}/ws/recursion?token={}&since=0", b.url.replacen("http", "ws", 1), b.key);
    let (mut socket, _) = tokio_tungstenite::connect_async(ws).await.expect("connects");
    // Submitted at once, round-robin, so that the killed replica still has most of its work.
    let bodies: Vec<Value> = (0..100).map(|i| sleepers(&format!("job {i}"), 3, "0.3")).collect();
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
    // The subscriber saw every event of every job, numbered without a gap across the failover.
    let frames = replicas::frames_until_done(&mut socket, &jobs.iter().cloned().collect()).await;
    let log = assert_one_whole_log(&b, &url, &jobs).await;
    let seen: Vec<i64> = frames.iter().map(|f| f["seq"].as_i64().expect("seq")).collect();
    assert_eq!(seen, log.iter().take(seen.len()).map(|f| f["seq"].as_i64().expect("seq")).collect::<Vec<_>>());
    // a's jobs that had not finished are now b's or c's (those that had stay a's).
    let owned = owners(&url).await;
    let taken = owned
        .iter()
        .filter(|(id, owner)| a_jobs.contains(&id.to_string()) && owner.is_some_and(|o| o.to_string() != a_id));
    assert!(taken.count() > 0, "{owned:?}");
    assert_eq!(replica_seen(&b, &a.url).await["state"], "dead");
    let left: Vec<&Value> = log.iter().filter(|f| f["type"] == "replica_left").collect();
    assert_eq!(
        (left.len(), left[0]["data"]["replica"].as_str(), left[0]["data"]["state"].as_str()),
        (1, Some(a_id.as_str()), Some("dead"))
    );
    let taken: Vec<&Value> = log.iter().filter(|f| f["type"] == "job_taken_over").collect();
    assert!(!taken.is_empty() && taken.iter().all(|f| f["data"]["from"] == a_id.as_str()), "{taken:?}");
    stop.cancel();
    assert_quota_held(&sampler.await.expect("sampler"));
    assert_nothing_held(&[&b, &c], &url).await;
}

/// Submits a job every 50 ms to the replicas being watched, in turn, until `stop`; one that
/// cannot be reached or refuses is retried on the next with the same idempotency key, so
/// that a submission stored before its answer was lost is not stored twice.
async fn keep_submitting(watched: Watched, stop: tokio_util::sync::CancellationToken) -> Vec<String> {
    let client = reqwest::Client::new();
    let mut jobs = Vec::new();
    let mut turn = 0usize;
    while !stop.is_cancelled() {
        let mut body = sleepers(&format!("load {}", jobs.len()), 3, "0.3");
        body["idempotency_key"] = Value::from(format!("load-{}", jobs.len()));
        loop {
            let (url, key) = {
                let replicas = watched.lock().expect("watched");
                turn += 1;
                replicas[turn % replicas.len()].clone()
            };
            let sent = client.post(format!("{url}/api/v1/recursion/job")).bearer_auth(&key).json(&body).send().await;
            let accepted = match sent {
                Ok(answer) if answer.status().is_success() => answer.json::<Value>().await.ok(),
                _ => None,
            };
            if let Some(id) = accepted.and_then(|a| a["job_id"].as_str().map(str::to_string)) {
                jobs.push(id);
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    jobs
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs PostgreSQL: scripts/test.sh runs it with --ignored after starting one"]
async fn a_rolling_restart_of_all_three_replicas_under_load_loses_nothing() {
    let url = database().await;
    let dir = tempfile::tempdir().expect("dir");
    let first = replica(dir.path(), "a0", &url, None);
    let key = first.key.clone();
    let mut serving =
        vec![first, replica(dir.path(), "b0", &url, Some(&key)), replica(dir.path(), "c0", &url, Some(&key))];
    let (watched, stop_sampling, sampler) = start_sampling(&serving.iter().collect::<Vec<_>>(), &url);
    let stop_load = tokio_util::sync::CancellationToken::new();
    let load = tokio::spawn(keep_submitting(watched.clone(), stop_load.clone()));
    tokio::time::sleep(Duration::from_secs(2)).await;
    for round in 0..3 {
        // Out of the rotation, then stopped: it hands its jobs over and leaves.
        let mut old = serving.remove(0);
        watched.lock().expect("watched").retain(|(u, _)| *u != old.url);
        // SAFETY: signalling a child process this test started and still holds.
        assert_eq!(unsafe { libc::kill(i32::try_from(old.child.id()).expect("pid"), libc::SIGTERM) }, 0);
        assert!(old.child.wait().expect("exits").success(), "a clean exit");
        let new = replica(dir.path(), &format!("{}1", ["a", "b", "c"][round]), &url, Some(&key));
        wait_state(&serving[0], &new.url, "live").await;
        wait_state(&serving[0], &old.url, "left").await;
        watched.lock().expect("watched").push((new.url.clone(), new.key.clone()));
        serving.push(new);
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    stop_load.cancel();
    let jobs = load.await.expect("load");
    assert!(jobs.len() > 50, "the load went on through the restarts: {}", jobs.len());
    let done = all_succeed(&serving[0], &jobs).await;
    for job in &done {
        assert_each_node_ended_once(&serving[1], job);
    }
    let log = assert_one_whole_log(&serving[2], &url, &jobs).await;
    let left = log.iter().filter(|f| f["type"] == "replica_left" && f["data"]["state"] == "left").count();
    assert_eq!(left, 3, "each replica announced that it left");
    stop_sampling.cancel();
    assert_quota_held(&sampler.await.expect("sampler"));
    assert_nothing_held(&serving.iter().collect::<Vec<_>>(), &url).await;
}

/// Refuses, while it stands, every attempt to store a job's adoption (and counts them).
const REFUSE_ADOPTIONS: &str = "create sequence adoptions_refused; \
    create function refuse_adoption() returns trigger language plpgsql as $$ \
    begin perform nextval('adoptions_refused'); raise exception 'adoption refused by the test'; end $$; \
    create trigger refuse_adoption before update on jobs for each row \
    when (old.adopting_from is not null and new.adopting_from is null) execute function refuse_adoption()";

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs PostgreSQL: scripts/test.sh runs it with --ignored after starting one"]
async fn jobs_a_replica_claims_and_cannot_load_are_given_back_and_taken_over_later() {
    let url = database().await;
    let dir = tempfile::tempdir().expect("dir");
    let mut a = replica_with(dir.path(), "a", &url, None, &CLUSTER);
    let b = replica_with(dir.path(), "b", &url, Some(&a.key), &CLUSTER);
    let id = submit_id(&a, &sleepers("stranded", 2, "1")).await;
    server::wait_for(&a, &id, |job| job["counts"]["by_status"]["running"].as_u64() >= Some(2)).await;
    let mut db = sqlx::PgConnection::connect(&url).await.expect("connect");
    sqlx::raw_sql(REFUSE_ADOPTIONS).execute(&mut db).await.expect("trigger");
    a.child.kill().expect("kill -9");
    let _ = a.child.wait();
    // b claims the job, fails to load it, gives it back, and claims it again next round: a
    // replica that kept what it could not load would be refused once and never again.
    let begun = std::time::Instant::now();
    loop {
        let (refused,): (i64,) =
            sqlx::query_as("select case when is_called then last_value else 0 end from adoptions_refused")
                .fetch_one(&mut db)
                .await
                .expect("count");
        if refused >= 2 {
            break;
        }
        assert!(begun.elapsed() < server::STARTUP_DEADLINE, "the job was not claimed again after a failed adoption");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    sqlx::raw_sql("drop trigger refuse_adoption on jobs").execute(&mut db).await.expect("drop");
    let job = all_succeed(&b, std::slice::from_ref(&id)).await.remove(0);
    assert_each_node_ended_once(&b, &job);
    let log = std::fs::read_to_string(dir.path().join("b.log")).expect("log");
    assert!(log.contains("gave them back for the next round"), "{log}");
}
