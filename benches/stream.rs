//! Event-stream latency: from an event's stored time (`ts`, taken in the journal's batch) to
//! its receipt by each subscriber, with 1, 100 and 1,000 subscribers, on SQLite (durable) or
//! on `DATABASE_URL`. Two loads:
//!
//! - burst (default): one 10,000-node job, run as fast as the server can — latency at
//!   saturation, where an event waits for the commit of a large batch;
//! - steady (`BENCH_JOBS_PER_S=N`): `tree-5` jobs (364 nodes) submitted at N per second for
//!   `BENCH_SECONDS` (default 10) — latency of a stream that is being followed, not flooded.
//!
//! `cargo bench --bench stream -- [SUBSCRIBERS ...]` (default: 1 100 1000); prints p50 / p99 /
//! max per subscriber count and writes `target/bench/stream-<backend>.json`. Subscribers take
//! every node event, or only what `BENCH_FILTER` selects (`BENCH_FILTER=depth=0`).

mod common;

use std::time::Duration;

use chrono::DateTime;
use futures_util::StreamExt;
use serde_json::{json, Value};

use common::{plans, start_server, KEY};
use tokio_tungstenite::tungstenite::Message;

const LEAVES: usize = 10_000;
/// Every event a node produces, and the job's end.
const DEFAULT_FILTER: &str = "types=worker_started,node_completed,job_completed";
const RECEIVE_DEADLINE: Duration = Duration::from_secs(120);
const DEFAULT_STEADY_SECONDS: u64 = 10;
/// How long receivers of the steady load wait for the last jobs after the last submission.
const STEADY_DRAIN: Duration = Duration::from_secs(3);

#[tokio::main]
async fn main() {
    let counts: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let counts = if counts.is_empty() { vec![1, 100, 1000] } else { counts };
    let dir = tempfile::tempdir().expect("temp dir");
    let server = start_server(dir.path()).await;
    let (base, backend) = (server.address.clone(), server.backend);
    let mut results = Vec::new();
    for subscribers in counts {
        let mut latencies = run(&base, subscribers).await;
        latencies.sort_unstable();
        let at = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
        let result = json!({"subscribers": subscribers, "events_received": latencies.len(),
            "p50_ms": at(0.50), "p99_ms": at(0.99), "max_ms": latencies[latencies.len() - 1]});
        println!("{result}");
        results.push(result);
    }
    let workload = match steady_rate() {
        Some(rate) => format!("tree-5 jobs at {rate}/s"),
        None => format!("flat {LEAVES} noop"),
    };
    let report = json!({"backend": backend, "workload": workload, "results": results,
        "server_peak_rss_kib": server.peak_rss_kib()});
    println!("{report}");
    let _ = std::fs::create_dir_all("target/bench");
    let _ = std::fs::write(format!("target/bench/stream-{backend}.json"), report.to_string());
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn steady_rate() -> Option<u64> {
    std::env::var("BENCH_JOBS_PER_S").ok().and_then(|rate| rate.parse().ok())
}

/// Latencies in ms of every event every subscriber received.
async fn run(base: &str, subscribers: usize) -> Vec<i64> {
    let mut sockets = Vec::with_capacity(subscribers);
    for _ in 0..subscribers {
        let filter = std::env::var("BENCH_FILTER").unwrap_or_else(|_| DEFAULT_FILTER.into());
        let url = format!("ws://{base}/ws/recursion?token={KEY}&{filter}");
        sockets.push(tokio_tungstenite::connect_async(url).await.expect("connects").0);
    }
    match steady_rate() {
        Some(rate) => steady(base, sockets, rate).await,
        None => burst(base, sockets).await,
    }
}

/// Submits `tree-5` jobs at `rate` per second; every subscriber takes what its filter passes.
async fn steady(base: &str, sockets: Vec<Socket>, rate: u64) -> Vec<i64> {
    let seconds = std::env::var("BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(DEFAULT_STEADY_SECONDS);
    let until = tokio::time::Instant::now() + Duration::from_secs(seconds) + STEADY_DRAIN;
    let receivers: Vec<_> = sockets.into_iter().map(|socket| tokio::spawn(receive_until(socket, until))).collect();
    let body = bytes::Bytes::from(serde_json::to_vec(&plans::tree(5, 3)).expect("json"));
    let client = reqwest::Client::new();
    let (start, interval) = (tokio::time::Instant::now(), Duration::from_nanos(1_000_000_000 / rate.max(1)));
    for i in 0..rate * seconds {
        tokio::time::sleep_until(start + interval * u32::try_from(i).expect("fits")).await;
        let submit = client
            .post(format!("http://{base}/api/v1/recursion/job"))
            .bearer_auth(KEY)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.clone())
            .send();
        tokio::spawn(async move { assert_eq!(submit.await.expect("submit").status(), 202) });
    }
    futures_util::future::join_all(receivers).await.into_iter().flat_map(|r| r.expect("receiver")).collect()
}

/// Latencies of every stored event received until `until`.
async fn receive_until(mut socket: Socket, until: tokio::time::Instant) -> Vec<i64> {
    let mut latencies = Vec::new();
    while let Ok(Some(Ok(message))) = tokio::time::timeout_at(until, socket.next()).await {
        let Message::Text(text) = message else { continue };
        let received = chrono::Utc::now().timestamp_millis();
        let frame: FrameHead<'_> = serde_json::from_str(&text).expect("json");
        // Heartbeats and acknowledgements are not stored events.
        if frame.job_id.is_some() {
            let stored = DateTime::parse_from_rfc3339(frame.ts).expect("time").timestamp_millis();
            latencies.push(received - stored);
        }
    }
    latencies
}

/// One 10,000-node job as fast as the server runs it.
async fn burst(base: &str, sockets: Vec<Socket>) -> Vec<i64> {
    let children: Vec<Value> = (0..LEAVES).map(|i| json!({"name": format!("n{i}"), "run": {"type": "noop"}})).collect();
    let job = json!({"request": "stream bench", "plan": {"name": "root", "children": children}});
    let response = reqwest::Client::new()
        .post(format!("http://{base}/api/v1/recursion/job"))
        .bearer_auth(KEY)
        .json(&job)
        .send()
        .await
        .expect("submit");
    let id = response.json::<Value>().await.expect("json")["job_id"].as_str().expect("id").to_string();
    let tasks = sockets.into_iter().map(|socket| tokio::spawn(receive(socket, id.clone())));
    futures_util::future::join_all(tasks).await.into_iter().flat_map(|r| r.expect("receiver")).collect()
}

/// The fields a receiver needs, borrowed from the frame (cheaper than a full `Value`).
#[derive(serde::Deserialize)]
struct FrameHead<'a> {
    ts: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    job_id: Option<&'a str>,
}

async fn receive(mut socket: Socket, job_id: String) -> Vec<i64> {
    let mut latencies = Vec::new();
    while let Ok(Some(Ok(message))) = tokio::time::timeout(RECEIVE_DEADLINE, socket.next()).await {
        let Message::Text(text) = message else { continue };
        let received = chrono::Utc::now().timestamp_millis();
        let frame: FrameHead<'_> = serde_json::from_str(&text).expect("json");
        if frame.job_id != Some(job_id.as_str()) {
            continue;
        }
        let stored = DateTime::parse_from_rfc3339(frame.ts).expect("time").timestamp_millis();
        latencies.push(received - stored);
        if frame.kind == "job_completed" {
            break;
        }
    }
    latencies
}
