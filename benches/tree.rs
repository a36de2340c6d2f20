//! End-to-end job time: submit over HTTP, then wait until the job's terminal state is what
//! the API reports. Runs against a real server started in-process, on SQLite (a temporary
//! directory, durable: `synchronous = FULL`) or on the PostgreSQL named by `DATABASE_URL`.
//!
//! `cargo bench --bench tree -- [flat-10k|tree-5] [RUNS]`; prints the machine, backend,
//! workload, and median / min / max, and writes `target/bench/<workload>-<backend>.json`.

mod common;

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use common::{start_server, KEY};

const DEFAULT_RUNS: usize = 5;
const FLAT_LEAVES: usize = 10_000;
const POLL: Duration = Duration::from_millis(2);

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let workload = args.first().cloned().unwrap_or_else(|| "flat-10k".into());
    let runs = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(DEFAULT_RUNS);
    let job = match workload.as_str() {
        "flat-10k" => flat(FLAT_LEAVES),
        "tree-5" => tree(5, 3),
        other => panic!("unknown workload {other}: use flat-10k or tree-5"),
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let (address, backend) = start_server(dir.path()).await;
    let base = format!("http://{address}/api/v1");
    let client = reqwest::Client::new();
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        times.push(run_once(&client, &base, &job).await);
    }
    report(&workload, backend, &times);
}

async fn run_once(client: &reqwest::Client, base: &str, job: &Value) -> Duration {
    let begun = Instant::now();
    let response =
        client.post(format!("{base}/recursion/job")).bearer_auth(KEY).json(job).send().await.expect("submit");
    assert_eq!(response.status(), 202, "submitted");
    let submitted: Value = response.json().await.expect("json");
    let id = submitted["job_id"].as_str().expect("job id").to_string();
    loop {
        let page: Value = client
            .get(format!("{base}/recursion/jobs?limit=1"))
            .bearer_auth(KEY)
            .send()
            .await
            .expect("poll")
            .json()
            .await
            .expect("json");
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

fn flat(leaves: usize) -> Value {
    let children: Vec<Value> = (0..leaves).map(|i| json!({"name": format!("n{i}"), "run": {"type": "noop"}})).collect();
    json!({"request": format!("flat {leaves}"), "plan": {"name": "root", "children": children}})
}

fn tree(levels: u32, fan_out: usize) -> Value {
    fn node(name: String, below: u32, fan_out: usize) -> Value {
        if below == 0 {
            return json!({"name": name, "run": {"type": "noop"}});
        }
        let children: Vec<Value> = (0..fan_out).map(|i| node(format!("{name}.{i}"), below - 1, fan_out)).collect();
        json!({"name": name, "children": children})
    }
    json!({"request": "tree", "config": {"max_depth": levels}, "plan": node("root".into(), levels, fan_out)})
}

fn report(workload: &str, backend: &str, times: &[Duration]) {
    let mut ms: Vec<f64> = times.iter().map(|t| t.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    let median = ms[ms.len() / 2];
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let result = json!({"workload": workload, "backend": backend, "runs": ms.len(), "median_ms": median,
        "min_ms": ms[0], "max_ms": ms[ms.len() - 1], "machine": {"cpu": cpu, "cores": cores}});
    println!("{}", serde_json::to_string_pretty(&result).expect("json"));
    let out = std::path::Path::new("target/bench");
    let _ = std::fs::create_dir_all(out);
    let _ = std::fs::write(out.join(format!("{workload}-{backend}.json")), result.to_string());
}
