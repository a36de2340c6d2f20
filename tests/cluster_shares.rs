//! Shares across replicas (issue 18), with the real binary over one throwaway PostgreSQL: an
//! agent's concurrency held across three replicas, and shares that move between replicas
//! when one asks or gives room back, not only at heartbeats.
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

use replicas::{all_succeed, database, metrics, owners, replica_with, sleepers, wait_until, CLUSTER};
use serde_json::{json, Value};
use server::{submit_id, Server};
use sqlx::Connection;

/// The most of `intervals` (start, end) that overlap at any moment.
fn most_at_once(intervals: &[(i64, i64)]) -> usize {
    let mut edges: Vec<(i64, i32)> = intervals.iter().flat_map(|&(start, end)| [(start, 1), (end, -1)]).collect();
    // An end and a start at the same millisecond do not overlap: ends first.
    edges.sort_unstable();
    let (mut now, mut most) = (0_i32, 0_i32);
    for (_, step) in edges {
        now += step;
        most = most.max(now);
    }
    usize::try_from(most).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs PostgreSQL: scripts/test.sh runs it with --ignored after starting one"]
async fn an_agents_concurrency_holds_across_the_cluster() {
    let url = database().await;
    let dir = tempfile::tempdir().expect("dir");
    let a = replica_with(dir.path(), "a", &url, None, &CLUSTER);
    let servers = [
        replica_with(dir.path(), "b", &url, Some(&a.key), &CLUSTER),
        replica_with(dir.path(), "c", &url, Some(&a.key), &CLUSTER),
        a,
    ];
    let agent = json!({"name": "solo", "run": {"type": "command", "argv": ["sleep", "0.3"]}, "concurrency": 2});
    let made = reqwest::Client::new()
        .post(format!("{}/api/v1/agents", servers[2].url))
        .bearer_auth(&servers[2].key)
        .json(&agent)
        .send()
        .await
        .expect("create");
    assert_eq!(made.status().as_u16(), 201);
    for server in &servers {
        // Each replica learns of the agent within a heartbeat, and of its share of it.
        wait_until(server, "/agents/solo", |a| a["load"]["share"].is_u64()).await;
    }
    // Nine jobs of two tasks for the agent, spread over the three replicas: on their own each
    // replica would run two at once.
    let mut jobs = Vec::new();
    for i in 0..9 {
        let tasks: Vec<Value> = (0..2).map(|t| json!({"name": format!("t{t}"), "agent": "solo"})).collect();
        let job = json!({"request": format!("job {i}"), "plan": {"name": "root", "children": tasks}});
        jobs.push(submit_id(&servers[i % 3], &job).await);
    }
    all_succeed(&servers[0], &jobs).await;
    let mut db = sqlx::PgConnection::connect(&url).await.expect("connect");
    let held: Vec<(i64, i64)> = sqlx::query_as(
        "select d.assigned_ms, n.finished_ms from delegations d join nodes n on n.id = d.node_id \
         where d.agent = 'solo' and d.state = 'assigned'",
    )
    .fetch_all(&mut db)
    .await
    .expect("delegations");
    assert_eq!(held.len(), 18, "every task was given the agent");
    assert!(most_at_once(&held) <= 2, "the agent held at most 2 tasks at once across the cluster: {held:?}");
    let owners: Vec<Option<uuid::Uuid>> = owners(&url).await.into_iter().map(|(_, owner)| owner).collect();
    assert!(owners.iter().collect::<std::collections::HashSet<_>>().len() == 3, "each replica ran some: {owners:?}");
    let metrics = metrics(&servers[1]).await;
    assert!(metrics.contains("cadre_agent_share{agent=\"solo\"}"), "{metrics}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs PostgreSQL: scripts/test.sh runs it with --ignored after starting one"]
async fn a_replica_waiting_for_slots_another_holds_idle_gets_them_before_any_heartbeat() {
    let (url, _dir, [a, b]) = two_with_slow_beats().await;
    // a settled alone, so it holds every share; b joins with none and finds no room.
    let id = submit_id(&b, &sleepers("asks", 2, "0.2")).await;
    let job = all_succeed(&b, std::slice::from_ref(&id)).await.remove(0);
    assert_eq!(job["counts"]["by_status"]["succeeded"], 3, "{job}");
    assert_no_second_heartbeat(&url).await;
    assert!(settlings(&b, "wanting").await >= 1, "b settled because it wanted more");
    assert!(settlings(&a, "asked").await >= 1, "a settled because b asked");
    drop(a);
}

/// Heartbeats a minute apart: longer than a test may take, so only asking moves a share.
const SLOW_BEATS: [(&str, &str); 4] = [
    ("CADRE_CLUSTER__ENABLED", "true"),
    ("CADRE_CLUSTER__HEARTBEAT_S", "60"),
    ("CADRE_CLUSTER__LEASE_S", "180"),
    ("CADRE_RESOURCES__QUOTAS__1", "2"),
];

/// A fresh database and two replicas on it with [`SLOW_BEATS`], `a` started first.
async fn two_with_slow_beats() -> (String, tempfile::TempDir, [Server; 2]) {
    let url = database().await;
    let dir = tempfile::tempdir().expect("dir");
    let a = replica_with(dir.path(), "a", &url, None, &SLOW_BEATS);
    let b = replica_with(dir.path(), "b", &url, Some(&a.key), &SLOW_BEATS);
    (url, dir, [a, b])
}

/// No replica has had a second heartbeat.
async fn assert_no_second_heartbeat(url: &str) {
    let mut db = sqlx::PgConnection::connect(url).await.expect("connect");
    let beats: Vec<(i64, i64)> =
        sqlx::query_as("select started_ms, heartbeat_ms from replicas").fetch_all(&mut db).await.expect("rows");
    assert!(beats.iter().all(|(started, beat)| beat - started < 60_000), "{beats:?}");
}

/// The settlings `trigger` started on `server` so far.
async fn settlings(server: &Server, trigger: &str) -> u64 {
    let metrics = metrics(server).await;
    let line = format!("cadre_share_settlings_total{{trigger=\"{trigger}\"}} ");
    metrics.lines().find_map(|l| l.strip_prefix(&line)).and_then(|n| n.parse().ok()).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs PostgreSQL: scripts/test.sh runs it with --ignored after starting one"]
async fn a_replica_with_a_backlog_gives_back_the_slots_it_owes_as_they_end() {
    let (url, _dir, [a, b]) = two_with_slow_beats().await;
    // a holds both slots of depth 1 with six one-second workers to run; b then wants one.
    let backlog = submit_id(&a, &sleepers("backlog", 6, "1")).await;
    wait_until(&a, "/recursion/stats", |stats| stats["by_depth"][1]["in_use"] == 2).await;
    let waiting = submit_id(&b, &sleepers("waiting", 1, "0.2")).await;
    all_succeed(&b, &[backlog.clone(), waiting.clone()]).await;
    let mut db = sqlx::PgConnection::connect(&url).await.expect("connect");
    let started = |job: &str| {
        sqlx::query_scalar::<_, i64>("select started_ms from nodes where job_id = $1::uuid and depth = 1 order by 1")
            .bind(job.to_string())
    };
    let a_starts = started(&backlog).fetch_all(&mut db).await.expect("a's workers");
    let b_start = started(&waiting).fetch_one(&mut db).await.expect("b's worker");
    // b's fair part is one of the two slots: it gets the first that a frees, while a's backlog
    // still waits, not the room a leaves once its backlog is done (or at a heartbeat).
    assert!(b_start < a_starts[5], "b started at {b_start}, a's workers at {a_starts:?}");
    assert_no_second_heartbeat(&url).await;
    assert!(settlings(&a, "freed").await >= 1, "a settled as an owed slot ended");
}
