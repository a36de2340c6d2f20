//! End-to-end job time: submit over HTTP, then wait until the job's terminal state is what
//! the API reports. Runs against a real server started in-process, on SQLite (a temporary
//! directory, durable: `synchronous = FULL`) or on the PostgreSQL named by `DATABASE_URL`.
//!
//! `cargo bench --bench tree -- WORKLOAD [RUNS]`; prints the machine, backend, workload, and
//! median / min / max and the server's peak resident memory, and writes `target/bench/<workload>-<backend>.json`. Workloads:
//! `tree-5` (364 nodes), `flat-10k` (10,001), `wide-deep` (depth 5, fan-out 10: 111,111),
//! `million` (depth 3, fan-out 100: 1,010,101; also peak RSS per node), `concurrent` (100
//! `tree-5` jobs submitted at once, timed until the last ends).
//!
//! `BENCH_REPLICAS=N` (with `DATABASE_URL`) starts N replicas of a cluster over that
//! PostgreSQL instead of one server (`BENCH_REPLICAS=1`: one replica with `cluster.enabled`):
//! `concurrent` submits its jobs round-robin to them, the single-job workloads submit to the
//! first; every run is timed the same way, and the peak memory is the replicas' sum.

mod common;

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use common::plans::{flat, tree};
use common::{start_server, KEY};

const DEFAULT_RUNS: usize = 5;
const FLAT_LEAVES: usize = 10_000;
const CONCURRENT_JOBS: usize = 100;
const POLL: Duration = Duration::from_millis(2);

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let workload = args.first().cloned().unwrap_or_else(|| "flat-10k".into());
    let runs = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(DEFAULT_RUNS);
    let (job, copies) = match workload.as_str() {
        "flat-10k" => (flat(FLAT_LEAVES), 1),
        "tree-5" => (tree(5, 3), 1),
        "wide-deep" => (tree(5, 10), 1),
        "million" => (tree(3, 100), 1),
        "concurrent" => (tree(5, 3), CONCURRENT_JOBS),
        other => panic!("unknown workload {other}: use tree-5, flat-10k, wide-deep, million or concurrent"),
    };
    let nodes = count_nodes(&job["plan"]) * copies;
    // Serialised once: the client's own work is not what is measured.
    let body = bytes::Bytes::from(serde_json::to_vec(&job).expect("json"));
    drop(job);
    let dir = tempfile::tempdir().expect("temp dir");
    let servers = start_replicas(dir.path()).await;
    let bases: Vec<String> = servers.iter().map(|s| format!("http://{}/api/v1", s.address)).collect();
    let client = reqwest::Client::new();
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        times.push(if copies == 1 {
            run_once(&client, &bases[0], body.clone()).await
        } else {
            run_many(&client, &bases, &body, copies).await
        });
    }
    report(&workload, &servers, &times, nodes);
}

/// One server, or `BENCH_REPLICAS` replicas of a cluster (each its own data directory).
async fn start_replicas(dir: &std::path::Path) -> Vec<common::BenchServer> {
    let Some(replicas) = std::env::var("BENCH_REPLICAS").ok().and_then(|n| n.parse::<usize>().ok()) else {
        return vec![start_server(dir).await];
    };
    assert!(std::env::var_os("DATABASE_URL").is_some(), "BENCH_REPLICAS needs DATABASE_URL (PostgreSQL)");
    let cluster = [("CADRE_CLUSTER__ENABLED".to_string(), "true".to_string())];
    let mut servers = Vec::new();
    for i in 0..replicas {
        let own = dir.join(format!("replica-{i}"));
        std::fs::create_dir_all(&own).expect("dir");
        servers.push(common::start_server_with(&own, &cluster).await);
    }
    servers
}

fn submit(client: &reqwest::Client, base: &str, body: bytes::Bytes) -> reqwest::RequestBuilder {
    client
        .post(format!("{base}/recursion/job"))
        .bearer_auth(KEY)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
}

fn count_nodes(node: &Value) -> usize {
    1 + node["children"].as_array().map_or(0, |children| children.iter().map(count_nodes).sum())
}

/// Submits `copies` of the job at once, round-robin to the servers, and waits until every one
/// has succeeded.
async fn run_many(client: &reqwest::Client, bases: &[String], body: &bytes::Bytes, copies: usize) -> Duration {
    let begun = Instant::now();
    let base = &bases[0];
    let submits = (0..copies).map(|i| submit(client, &bases[i % bases.len()], body.clone()).send());
    let ids: Vec<String> = futures_util::future::join_all(submits)
        .await
        .into_iter()
        .map(|response| {
            let response = response.expect("submit");
            assert_eq!(response.status(), 202, "submitted");
            response
        })
        .map(|response| {
            response.headers()["location"].to_str().expect("location").rsplit('/').next().expect("id").to_string()
        })
        .collect();
    let mut pending: std::collections::HashSet<String> = ids.into_iter().collect();
    while !pending.is_empty() {
        let page = common::get_json(client, &format!("{base}/recursion/jobs?status=succeeded&limit=500")).await;
        for done in page["jobs"].as_array().into_iter().flatten() {
            pending.remove(done["job_id"].as_str().unwrap_or_default());
        }
        tokio::time::sleep(POLL).await;
    }
    begun.elapsed()
}

async fn run_once(client: &reqwest::Client, base: &str, body: bytes::Bytes) -> Duration {
    let begun = Instant::now();
    let response = submit(client, base, body).send().await.expect("submit");
    assert_eq!(response.status(), 202, "submitted");
    let submitted: Value = response.json().await.expect("json");
    let id = submitted["job_id"].as_str().expect("job id").to_string();
    loop {
        let page = common::get_json(client, &format!("{base}/recursion/jobs?limit=1")).await;
        let latest = &page["jobs"][0];
        if latest["job_id"] == id.as_str()
            && matches!(latest["status"].as_str(), Some("succeeded" | "failed" | "cancelled"))
        {
            assert_eq!(latest["status"], "succeeded");
            return begun.elapsed();
        }
        tokio::time::sleep(POLL).await;
    }
}

fn report(workload: &str, servers: &[common::BenchServer], times: &[Duration], nodes: usize) {
    let mut ms: Vec<f64> = times.iter().map(|t| t.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    let median = ms[ms.len() / 2];
    let (cpu, cores) = common::machine();
    let (peak_kib, backend) = (servers.iter().map(common::BenchServer::peak_rss_kib).sum::<u64>(), servers[0].backend);
    let replicas = std::env::var("BENCH_REPLICAS").ok().and_then(|n| n.parse::<usize>().ok());
    let result = json!({"workload": workload, "backend": backend, "runs": ms.len(), "nodes": nodes,
        "median_ms": median, "min_ms": ms[0], "max_ms": ms[ms.len() - 1],
        "nodes_per_s": (nodes as f64 / (median / 1000.0)).round(),
        "peak_rss_kib": peak_kib, "peak_rss_bytes_per_node": (peak_kib * 1024) as f64 / nodes as f64,
        "replicas": replicas, "machine": {"cpu": cpu, "cores": cores}});
    println!("{}", serde_json::to_string_pretty(&result).expect("json"));
    let out = std::path::Path::new("target/bench");
    let _ = std::fs::create_dir_all(out);
    let name =
        replicas.map_or_else(|| format!("{workload}-{backend}"), |n| format!("{workload}-{backend}-{n}-replicas"));
    let _ = std::fs::write(out.join(format!("{name}.json")), result.to_string());
}
