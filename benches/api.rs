//! API latency under a steady open-loop load: requests are sent at a fixed rate whatever the
//! answers' pace (so a slow answer cannot hide by slowing the sender down), and each one's
//! latency is measured from its scheduled send time.
//!
//! `cargo bench --bench api -- [RATE] [SECONDS]` (default 1,000 req/s for 10 s per route);
//! routes: `GET /recursion/job/{id}` of a finished one-node job (a client polling a status),
//! the same of a finished `tree-5` job (364 nodes, the whole tree in each answer), and
//! `POST /recursion/job` (a one-node `noop` job). Prints p50 / p95 / p99 / max and failed
//! requests per route and writes `target/bench/api-<backend>.json`.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::Mutex;

use common::{plans, start_server, KEY};

const DEFAULT_RATE: u64 = 1_000;
const DEFAULT_SECONDS: u64 = 10;
const POLL: Duration = Duration::from_millis(5);

#[tokio::main]
async fn main() {
    let args: Vec<u64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let rate = args.first().copied().unwrap_or(DEFAULT_RATE);
    let seconds = args.get(1).copied().unwrap_or(DEFAULT_SECONDS);
    let dir = tempfile::tempdir().expect("temp dir");
    let server = start_server(dir.path()).await;
    let (address, backend) = (&server.address, server.backend);
    let base = format!("http://{address}/api/v1");
    let client = reqwest::Client::new();
    let tiny = json!({"request": "tiny", "plan": {"name": "w", "run": {"type": "noop"}}});
    let mut routes = serde_json::Map::new();
    for (route, job) in [("get_job", tiny.clone()), ("get_tree5_job", plans::tree(5, 3))] {
        let url = format!("{base}/recursion/job/{}", finished_job(&client, &base, &job).await);
        let latencies = load(&client, rate, seconds, move |c| c.get(url.clone()).bearer_auth(KEY)).await;
        routes.insert(route.into(), summary(latencies));
    }
    let post_url = format!("{base}/recursion/job");
    let post = load(&client, rate, seconds, move |c| c.post(post_url.clone()).bearer_auth(KEY).json(&tiny)).await;
    routes.insert("post_job".into(), summary(post));
    let results = json!({"backend": backend, "rate_per_s": rate, "seconds": seconds,
        "server_peak_rss_kib": server.peak_rss_kib(), "routes": routes});
    println!("{}", serde_json::to_string_pretty(&results).expect("json"));
    let _ = std::fs::create_dir_all("target/bench");
    let _ = std::fs::write(format!("target/bench/api-{backend}.json"), results.to_string());
}

/// Submits `job` and waits for it to succeed; returns its id.
async fn finished_job(client: &reqwest::Client, base: &str, job: &Value) -> String {
    let submitted: Value = client
        .post(format!("{base}/recursion/job"))
        .bearer_auth(KEY)
        .json(job)
        .send()
        .await
        .expect("submit")
        .json()
        .await
        .expect("json");
    let id = submitted["job_id"].as_str().expect("id").to_string();
    loop {
        let job = common::get_json(client, &format!("{base}/recursion/job/{id}?max_depth=0")).await;
        if job["status"] == "succeeded" {
            return id;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Sends `rate` requests per second for `seconds`, each on its own task, and returns every
/// latency in microseconds, measured from the request's scheduled time.
async fn load(
    client: &reqwest::Client,
    rate: u64,
    seconds: u64,
    request: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
) -> Vec<(u64, bool)> {
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(usize::try_from(rate * seconds).unwrap_or(0))));
    let interval = Duration::from_nanos(1_000_000_000 / rate);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..rate * seconds {
        let scheduled = start + interval * u32::try_from(i).expect("fits");
        tokio::time::sleep_until(scheduled.into()).await;
        let (send, latencies) = (request(client).send(), latencies.clone());
        tasks.push(tokio::spawn(async move {
            // A failed request counts, with its latency, as a failure: the load goes on.
            let ok = match send.await {
                Ok(response) => response.status().is_success() && response.bytes().await.is_ok(),
                Err(_) => false,
            };
            let latency = u64::try_from(scheduled.elapsed().as_micros()).unwrap_or(u64::MAX);
            latencies.lock().await.push((latency, ok));
        }));
    }
    for task in tasks {
        task.await.expect("request task");
    }
    let mut latencies = std::mem::take(&mut *latencies.lock().await);
    latencies.sort_unstable();
    latencies
}

fn summary(sorted_us: Vec<(u64, bool)>) -> Value {
    let failed = sorted_us.iter().filter(|(_, ok)| !ok).count();
    let at = |p: f64| sorted_us[((sorted_us.len() as f64 * p) as usize).min(sorted_us.len() - 1)].0 as f64 / 1000.0;
    json!({"requests": sorted_us.len(), "failed": failed, "p50_ms": at(0.50), "p95_ms": at(0.95), "p99_ms": at(0.99),
           "max_ms": sorted_us[sorted_us.len() - 1].0 as f64 / 1000.0})
}
