//! Failover time (issue 18): two replicas of a cluster over the PostgreSQL named by
//! `DATABASE_URL`, with the default heartbeat (1 s) and lease (5 s). A chain of short command
//! workers runs on the first; it is killed with SIGKILL mid-run; the second declares it dead once
//! its last stored heartbeat is older than the lease, claims the job and runs its next worker.
//!
//! `DATABASE_URL=postgres://… cargo bench --bench failover -- [RUNS]` prints, per run and as
//! medians: the kill → the job's next `worker_started` on the survivor, and lease expiry (the
//! dead replica's last stored heartbeat + the lease) → the same, which is what the takeover
//! itself adds to the lease (up to a heartbeat for the survivor's next round, the claim and
//! the restore); and writes `target/bench/failover-postgres.json`.

mod common;

use std::time::{Duration, Instant};

use serde_json::json;
use sqlx::Connection;

use common::{start_server_with, KEY};

const DEFAULT_RUNS: usize = 3;
const STEPS: usize = 30;
const LEASE_MS: i64 = 5_000;
const DEADLINE: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(10);

#[tokio::main]
async fn main() {
    let runs = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(DEFAULT_RUNS);
    let url = std::env::var("DATABASE_URL").expect("the failover benchmark needs DATABASE_URL (PostgreSQL)");
    let mut db = sqlx::PgConnection::connect(&url).await.expect("connect");
    let mut results = Vec::new();
    for run in 0..runs {
        let (from_kill, from_expiry) = once(&mut db).await;
        println!("run {run}: kill → moving again {from_kill} ms; lease expiry → moving again {from_expiry} ms");
        results.push((from_kill, from_expiry));
    }
    let median = |pick: fn(&(i64, i64)) -> i64| {
        let mut v: Vec<i64> = results.iter().map(pick).collect();
        v.sort_unstable();
        v[v.len() / 2]
    };
    let (cpu, cores) = common::machine();
    let result = json!({"workload": "failover", "backend": "postgres", "runs": runs, "lease_ms": LEASE_MS,
        "kill_to_moving_ms": results.iter().map(|r| r.0).collect::<Vec<_>>(),
        "expiry_to_moving_ms": results.iter().map(|r| r.1).collect::<Vec<_>>(),
        "median_kill_to_moving_ms": median(|r| r.0), "median_expiry_to_moving_ms": median(|r| r.1),
        "machine": {"cpu": cpu, "cores": cores}});
    println!("{}", serde_json::to_string_pretty(&result).expect("json"));
    let out = std::path::Path::new("target/bench");
    let _ = std::fs::create_dir_all(out);
    let _ = std::fs::write(out.join("failover-postgres.json"), result.to_string());
}

/// One failover: (kill → moving, lease expiry → moving), in ms.
async fn once(db: &mut sqlx::PgConnection) -> (i64, i64) {
    let dir = tempfile::tempdir().expect("dir");
    let cluster = [("CADRE_CLUSTER__ENABLED".to_string(), "true".to_string())];
    let (a_dir, b_dir) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::create_dir_all(&a_dir).expect("dir");
    std::fs::create_dir_all(&b_dir).expect("dir");
    let mut a = start_server_with(&a_dir, &cluster).await;
    let _b = start_server_with(&b_dir, &cluster).await;
    let job = submit_chain(&a.address).await;
    wait_until(db, "select count(*) from events where job_id = $1 and kind = 'node_completed'", job, 3).await;
    let (a_id,): (uuid::Uuid,) =
        sqlx::query_as("select owner from jobs where id = $1").bind(job).fetch_one(&mut *db).await.expect("owner");
    let (last_seq,): (i64,) = sqlx::query_as("select max(seq) from events").fetch_one(&mut *db).await.expect("seq");
    let killed_at = common_now_ms();
    a.kill();
    let moving = next_start(db, job, last_seq).await;
    let (beat,): (i64,) = sqlx::query_as("select heartbeat_ms from replicas where id = $1")
        .bind(a_id)
        .fetch_one(&mut *db)
        .await
        .expect("beat");
    (moving - killed_at, moving - (beat + LEASE_MS))
}

/// When the job's next worker started after event `last_seq` (waiting for it).
async fn next_start(db: &mut sqlx::PgConnection, job: uuid::Uuid, last_seq: i64) -> i64 {
    let begun = Instant::now();
    loop {
        let row: Option<(i64,)> = sqlx::query_as(
            "select min(ts_ms) from events where job_id = $1 and seq > $2 and kind = 'worker_started' having count(*) > 0",
        )
        .bind(job)
        .bind(last_seq)
        .fetch_optional(&mut *db)
        .await
        .expect("events");
        if let Some((ts,)) = row {
            return ts;
        }
        assert!(begun.elapsed() < DEADLINE, "the job did not move again on the survivor");
        tokio::time::sleep(POLL).await;
    }
}

async fn submit_chain(address: &str) -> uuid::Uuid {
    let steps: Vec<serde_json::Value> = (0..STEPS)
        .map(|i| {
            let after: Vec<String> = if i == 0 { vec![] } else { vec![format!("s{}", i - 1)] };
            json!({"name": format!("s{i}"), "depends_on": after, "run": {"type": "command", "argv": ["sleep", "0.2"]}})
        })
        .collect();
    let job = json!({"request": "failover", "plan": {"name": "chain", "children": steps}});
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("http://{address}/api/v1/recursion/job"))
        .bearer_auth(KEY)
        .json(&job)
        .send()
        .await
        .expect("submit")
        .json()
        .await
        .expect("json");
    answer["job_id"].as_str().and_then(|id| id.parse().ok()).expect("accepted")
}

async fn wait_until(db: &mut sqlx::PgConnection, sql: &str, job: uuid::Uuid, at_least: i64) {
    let begun = Instant::now();
    loop {
        let (n,): (i64,) = sqlx::query_as(sql).bind(job).fetch_one(&mut *db).await.expect("count");
        if n >= at_least {
            return;
        }
        assert!(begun.elapsed() < DEADLINE, "the job did not get going");
        tokio::time::sleep(POLL).await;
    }
}

fn common_now_ms() -> i64 {
    i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("time").as_millis())
        .expect("fits")
}
