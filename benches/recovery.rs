//! Recovery time after a crash: a store holding `JOBS` running jobs of `NODES` nodes each is
//! left by a server that stops dead (its runtime dropped mid-flight: no shutdown, nothing
//! flushed), and a new server starts on it. Measured: from the start of `app::start` until it
//! returns with every job's driver rebuilt and running again (orphan check, load, restore).
//!
//! `cargo bench --bench recovery -- [JOBS] [NODES]` (default 100 × 1000), on SQLite in a
//! temporary directory or on the PostgreSQL named by `DATABASE_URL`.

#[allow(dead_code, reason = "this benchmark starts its servers itself and only needs the key")]
mod common;

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use common::KEY;

const DEFAULT_JOBS: usize = 100;
const DEFAULT_NODES: usize = 1000;
/// Orchestrators under each job's root; the rest of the nodes are workers under them.
const TEAMS: usize = 10;
/// Long enough that nothing ends during the benchmark.
const WORK_MS: u64 = 3_600_000;
const POLL: Duration = Duration::from_millis(20);

fn config(dir: &std::path::Path) -> (cadre::config::Config, &'static str) {
    let mut config = cadre::config::Config::default();
    config.store.data_dir = dir.join("data");
    config.auth.bootstrap_key = KEY.into();
    config.rate_limit.per_second = 1_000_000;
    config.rate_limit.burst = 1_000_000;
    match std::env::var("DATABASE_URL") {
        Ok(url) => {
            config.store.database_url = url;
            (config, "postgres")
        }
        Err(_) => (config, "sqlite"),
    }
}

fn job(nodes: usize) -> Value {
    let workers = nodes - 1 - TEAMS;
    let teams: Vec<Value> = (0..TEAMS)
        .map(|t| {
            let count = workers / TEAMS + usize::from(t < workers % TEAMS);
            let members: Vec<Value> =
                (0..count).map(|w| json!({"name": format!("w{w}"), "run": {"type": "sleep", "ms": WORK_MS}})).collect();
            json!({"name": format!("team-{t}"), "children": members})
        })
        .collect();
    json!({"request": "recovery benchmark", "plan": {"name": "root", "children": teams}})
}

/// The first server: takes the jobs, then dies with its runtime.
fn fill_and_crash(config: cadre::config::Config, jobs: usize, nodes: usize) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let started = cadre::app::start(config).await.expect("first server starts");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}/api/v1", listener.local_addr().expect("addr"));
        tokio::spawn(cadre::app::serve(listener, started, std::future::pending()));
        let client = reqwest::Client::new();
        let body = job(nodes);
        for _ in 0..jobs {
            let response = client.post(format!("{base}/recursion/job")).bearer_auth(KEY).json(&body).send().await;
            assert_eq!(response.expect("submit").status(), 202);
        }
        // Let the drivers start what the quotas allow, so the store shows running nodes.
        tokio::time::sleep(POLL * 10).await;
    });
    runtime.shutdown_background();
}

#[tokio::main]
async fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let jobs = args.first().copied().unwrap_or(DEFAULT_JOBS);
    let nodes = args.get(1).copied().unwrap_or(DEFAULT_NODES);
    let dir = tempfile::tempdir().expect("temp dir");
    let (first, backend) = config(dir.path());
    let filled = Instant::now();
    tokio::task::spawn_blocking(move || fill_and_crash(first, jobs, nodes)).await.expect("first server");
    println!("stored {jobs} jobs × {nodes} nodes in {:.1} s, then crashed", filled.elapsed().as_secs_f64());

    let (second, _) = config(dir.path());
    let begun = Instant::now();
    let started = cadre::app::start(second).await.expect("second server starts");
    let recovered = begun.elapsed();
    let (running, queued) = started.state.engine.job_counts();
    assert_eq!(running, jobs, "every job is running again");
    println!(
        "{backend}: recovery of {jobs} jobs × {nodes} nodes: {:.0} ms (restart to all {running} running, {queued} queued)",
        recovered.as_secs_f64() * 1000.0
    );
}
