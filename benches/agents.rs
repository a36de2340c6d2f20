//! What an `llm` leaf costs cadre (issue 12: at most 1 ms of cadre's own time per call): a
//! flat job of 1,000 `llm` leaves against a provider that answers at once, compared with a
//! flat job of 1,000 `echo` leaves, on the same server, alternately, in one process (so that
//! both see the same noise of a shared machine). The provider is an OpenAI-protocol route
//! served by this process on loopback; it times its own handling of each call, so that what
//! remains of the difference is cadre's: the journal flush that stores a call's start first,
//! the HTTP client, the ledger row and its event, the result. A third workload, 1,000 `http`
//! leaves posting to the same route, splits that difference: an `http` leaf also waits for its
//! start to be stored and makes an HTTP call, but writes no ledger row and builds no prompt.
//!
//! Two more split what budgets (issue 14) cost a call: `llm-budgeted`, the same `llm` leaves
//! in a job with a `config.budget` far above what they spend (every call reserves the most it
//! can cost against the job's one envelope, the contended case, and settles after), and
//! `llm-enveloped`, the same again with each leaf holding an envelope of its own carved out of
//! the job's (1,000 envelopes opened and closed, and each call reserving and settling in its
//! leaf's). The provider has prices, so cost is reserved and spent as well as tokens; both runs
//! must succeed, every call must have reserved (`cadre_budget_reservations_total`) and the
//! job's books must end with nothing reserved and the ledger's tokens spent.
//!
//! A sixth, `llm-delegated`, splits what the agent registry (issue 16) costs a node: the same
//! 1,000 `llm` leaves, but each without a `run`, asking the registry for an agent instead
//! (`delegate: {require: [bench]}`), over three agents registered once at the start (`bench-a`,
//! `bench-b`, `bench-c`, each an `llm` agent of the same provider, with room for far more than
//! a job's leaves, so that no node ever waits: what is measured is the pick under the
//! workforce's lock, the `delegations` row through the journal and the `delegation` event, not
//! waiting). Every leaf must show `delegation.state == "assigned"` with an agent, and the three
//! agents must have taken within one of each other's share of the job (334/333/333).
//!
//! `cargo bench --bench agents -- [RUNS] [LEAVES]` (defaults 5 and 1,000); on PostgreSQL with
//! `DATABASE_URL=postgres://…` in front. Prints, and writes to
//! `target/bench/agents-<backend>.json`: the quotas the server runs with (the same for every
//! workload), then per workload the job's end-to-end time (median / min / max), the server's
//! CPU time, the leaves' own durations (start to end as the API reports them), the
//! provider's own time and, for the `llm` leaves, cadre's call durations (`/metrics`), and for
//! `llm-delegated` each run's leaves per agent; then the differences per leaf and the budgeted
//! and delegated runs' ratios to the `llm` run.
//!
//! The journal's commits are not counted by `/metrics`. To count them on SQLite, run the server
//! under strace and name its log: `BENCH_SERVER_WRAPPER="strace -f -qq --seccomp-bpf -e
//! trace=fsync,fdatasync -o /tmp/syncs.log" BENCH_SYNC_LOG=/tmp/syncs.log cargo bench --bench
//! agents` adds each job's fsyncs (a WAL commit under `synchronous = FULL` is one; checkpoints
//! add a few) to the figures, written to `target/bench/agents-<backend>-syncs.json`. Times and
//! CPU from such a run are strace's, not to be compared.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::http::header::CONTENT_TYPE;
use serde_json::{json, Value};

use common::plans::flat_with;
use common::{get_json, start_server_with, BenchServer, KEY};

const DEFAULT_RUNS: usize = 5;
const DEFAULT_LEAVES: usize = 1_000;
const POLL: Duration = Duration::from_millis(2);
/// The provider's name in the server's configuration.
const PROVIDER: &str = "instant";
/// High enough that the provider's own limit is not what is measured.
const PROVIDER_CONCURRENCY: usize = 1024;
/// The answer to every call, serialised once.
const ANSWER: &str = r#"{"id": "c", "object": "chat.completion", "model": "m", "choices": [{"index": 0,
"finish_reason": "stop", "message": {"role": "assistant", "content": "ok"}}],
"usage": {"prompt_tokens": 10, "completion_tokens": 2}}"#;

/// What the provider has done since it started: calls, and nanoseconds spent handling them
/// (from the request's arrival at the router to its response, body read and written included).
static CALLS: AtomicU64 = AtomicU64::new(0);
static HANDLER_NS: AtomicU64 = AtomicU64::new(0);

#[derive(Clone, Copy, PartialEq)]
enum Workload {
    Echo,
    Http,
    Llm,
    /// `llm` leaves in a job with a budget: one envelope, every call reserves and settles.
    LlmBudgeted,
    /// The same, each leaf with an envelope of its own carved out of the job's.
    LlmEnveloped,
    /// `llm` leaves without a `run`, each given one of [`AGENTS`] by the registry.
    LlmDelegated,
}

impl Workload {
    const ALL: [Self; 6] =
        [Self::Echo, Self::Http, Self::Llm, Self::LlmBudgeted, Self::LlmEnveloped, Self::LlmDelegated];

    fn name(self) -> &'static str {
        match self {
            Self::Echo => "echo",
            Self::Http => "http",
            Self::Llm => "llm",
            Self::LlmBudgeted => "llm-budgeted",
            Self::LlmEnveloped => "llm-enveloped",
            Self::LlmDelegated => "llm-delegated",
        }
    }

    fn budgeted(self) -> bool {
        matches!(self, Self::LlmBudgeted | Self::LlmEnveloped)
    }
}

/// The job's budget in the budgeted workloads: far more than 1,000 calls can reserve at once
/// or spend, so that nothing is refused.
const JOB_BUDGET_COST: f64 = 1000.0;
const JOB_BUDGET_TOKENS: u64 = 1_000_000_000;
/// Each leaf's own envelope in `llm-enveloped` (a call reserves about 0.008 and 4,300 tokens:
/// its request's bytes in and the default 4,096 tokens out).
const LEAF_BUDGET_COST: f64 = 1.0;
const LEAF_BUDGET_TOKENS: u64 = 1_000_000;
/// The provider's prices per million tokens, so that the cost dimension is reserved and spent.
const INPUT_PER_MTOK: &str = "1.0";
const OUTPUT_PER_MTOK: &str = "2.0";
/// The agents `llm-delegated`'s leaves are given, registered once at the start.
const AGENTS: [&str; 3] = ["bench-a", "bench-b", "bench-c"];
/// The capability every leaf of `llm-delegated` requires and every agent holds.
const CAPABILITY: &str = "bench";
/// Each agent's concurrency: the registry's most, far more than a job's leaves, so that no node
/// waits for an agent.
const AGENT_CONCURRENCY: u32 = 10_000;

/// One run of one workload.
#[derive(Default, Clone)]
struct Run {
    wall_ms: f64,
    server_cpu_ms: f64,
    /// Mean and 95th percentile of the leaves' start-to-end durations, as the API reports them.
    leaf_mean_ms: f64,
    leaf_p95_ms: f64,
    /// Calls the provider answered, and its own time for them.
    provider_calls: u64,
    provider_ms: f64,
    /// Ledger rows of the job (`subtree_usage.calls` of the root).
    ledger_rows: i64,
    /// Sum of cadre's call durations (`cadre_llm_call_duration_seconds_sum`: whole ms per call,
    /// from before the request is sent to the parsed answer), and their count.
    client_call_ms: f64,
    client_calls: f64,
    /// `cadre_budget_reservations_total` added during the run.
    reservations: f64,
    /// What the job's root envelope shows spent when the job has ended (cost, tokens).
    budget_spent_cost: f64,
    budget_spent_tokens: i64,
    /// fsync and fdatasync calls of the server during the run, when `BENCH_SYNC_LOG` names
    /// the log of an strace wrapping it.
    syncs: Option<u64>,
    /// The job's leaves per agent, in `llm-delegated`.
    per_agent: BTreeMap<String, usize>,
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let runs = args.first().and_then(|r| r.parse().ok()).unwrap_or(DEFAULT_RUNS).max(1);
    let leaves = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(DEFAULT_LEAVES);
    let provider_url = start_provider().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let server = start_server_with(dir.path(), &provider_env(&provider_url)).await;
    let base = format!("http://{}", server.address);
    let client = reqwest::Client::new();
    let quotas = quotas(&client, &base).await;
    register_agents(&client, &base).await;
    eprintln!("quotas by depth (as the server reports them; the same for every workload): {quotas}");
    let bodies = Workload::ALL.map(|w| (w, bytes::Bytes::from(plan(w, leaves, &provider_url).to_string())));
    // One untimed round first: the store's files grow, the connections open.
    for (workload, body) in &bodies {
        measure(*workload, &client, &base, &server, body.clone(), leaves).await;
    }
    let mut results: [Vec<Run>; 6] = Default::default();
    for run in 0..runs {
        // Rotate which goes first, so that none always follows the same other's leftovers.
        for i in (0..bodies.len()).map(|k| (run + k) % bodies.len()) {
            let (workload, body) = &bodies[i];
            let measured = measure(*workload, &client, &base, &server, body.clone(), leaves).await;
            eprintln!(
                "run {} {:>13}: {:7.1} ms, server CPU {:7.1} ms, leaf mean {:.2} ms, reservations {}{}{}",
                run + 1,
                workload.name(),
                measured.wall_ms,
                measured.server_cpu_ms,
                measured.leaf_mean_ms,
                measured.reservations,
                measured.syncs.map(|s| format!(", fsyncs {s}")).unwrap_or_default(),
                if measured.per_agent.is_empty() {
                    String::new()
                } else {
                    format!(", agents {:?}", measured.per_agent)
                }
            );
            results[i].push(measured);
        }
    }
    report(&server, &quotas, leaves, &results);
}

/// The provider's configuration, as the server reads it from its environment.
fn provider_env(url: &str) -> Vec<(String, String)> {
    let key = |field: &str| format!("CADRE_LLM__PROVIDERS__{}__{field}", PROVIDER.to_uppercase());
    vec![
        (key("KIND"), "openai".into()),
        (key("BASE_URL"), url.into()),
        (key("MODEL"), "m".into()),
        (key("API_KEY_ENV"), String::new()),
        (key("MAX_RETRIES"), "0".into()),
        (key("MAX_CONCURRENCY"), PROVIDER_CONCURRENCY.to_string()),
        (key("PRICES__INPUT_PER_MTOK"), INPUT_PER_MTOK.into()),
        (key("PRICES__OUTPUT_PER_MTOK"), OUTPUT_PER_MTOK.into()),
    ]
}

/// Registers [`AGENTS`]: `llm` agents of the provider, each holding [`CAPABILITY`].
async fn register_agents(client: &reqwest::Client, base: &str) {
    for name in AGENTS {
        let agent = json!({"name": name, "capabilities": [CAPABILITY], "run": {"type": "llm", "provider": PROVIDER},
            "concurrency": AGENT_CONCURRENCY});
        let response =
            client.post(format!("{base}/api/v1/agents")).bearer_auth(KEY).json(&agent).send().await.expect("register");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert_eq!(status, 201, "agent {name} registered: {text}");
    }
}

/// The job: `leaves` `echo` leaves whose value has the shape of an `llm` leaf's result (so
/// both store results of the same size), `leaves` `http` leaves posting to the provider's
/// route, or `leaves` `llm` leaves (in a job with a budget, and each with its own; or each
/// asking the registry for an agent instead of naming its `run`).
fn plan(workload: Workload, leaves: usize, provider_url: &str) -> Value {
    let run = match workload {
        Workload::Echo => json!({"type": "echo", "value": {"output": "ok", "model": "m", "usage":
            {"input_tokens": 10, "output_tokens": 2, "cached_tokens": 0, "cost": 0.0, "calls": 1}}}),
        Workload::Http => json!({"type": "http", "url": format!("{provider_url}/chat/completions"),
            "method": "POST", "body": {"model": "m", "messages": [{"role": "user", "content": "ok"}]}}),
        _ => json!({"type": "llm", "provider": PROVIDER}),
    };
    let mut job = flat_with(leaves, &run);
    if workload.budgeted() {
        job["config"]["budget"] = json!({"cost": JOB_BUDGET_COST, "tokens": JOB_BUDGET_TOKENS});
    }
    for leaf in job["plan"]["children"].as_array_mut().expect("the root's children") {
        edit_leaf(workload, leaf);
    }
    job
}

/// Gives a leaf of `llm-enveloped` its envelope, and one of `llm-delegated` its delegation in
/// place of its `run`.
fn edit_leaf(workload: Workload, leaf: &mut Value) {
    match workload {
        Workload::LlmEnveloped => leaf["budget"] = json!({"cost": LEAF_BUDGET_COST, "tokens": LEAF_BUDGET_TOKENS}),
        Workload::LlmDelegated => {
            let leaf = leaf.as_object_mut().expect("a leaf");
            leaf.remove("run");
            leaf.insert("delegate".into(), json!({"require": [CAPABILITY]}));
        }
        _ => {}
    }
}

/// Starts the provider on a loopback port the kernel picks; its base URL.
async fn start_provider() -> String {
    async fn timed(request: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
        let begun = Instant::now();
        let response = next.run(request).await;
        HANDLER_NS.fetch_add(u64::try_from(begun.elapsed().as_nanos()).unwrap_or(u64::MAX), Ordering::Relaxed);
        CALLS.fetch_add(1, Ordering::Relaxed);
        response
    }
    async fn answer(_body: bytes::Bytes) -> impl axum::response::IntoResponse {
        ([(CONTENT_TYPE, "application/json")], ANSWER)
    }
    let app = axum::Router::new()
        .route("/chat/completions", axum::routing::post(answer))
        .layer(axum::middleware::from_fn(timed));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

async fn quotas(client: &reqwest::Client, base: &str) -> String {
    let stats = get_json(client, &format!("{base}/api/v1/recursion/stats")).await;
    let depths = stats["by_depth"].as_array().cloned().unwrap_or_default();
    let pairs: Vec<String> = depths.iter().map(|d| format!("{}:{}", d["depth"], d["quota"])).collect();
    format!("{{{}}}", pairs.join(", "))
}

/// From `/metrics`: `cadre_llm_call_duration_seconds_sum` (in ms) and `_count` of the
/// provider, and `cadre_budget_reservations_total`.
async fn counters(client: &reqwest::Client, base: &str) -> (f64, f64, f64) {
    let text = client.get(format!("{base}/metrics")).send().await.expect("metrics").text().await.expect("text");
    let series = |prefix: &str| {
        let prefix = format!("{prefix} ");
        text.lines().find_map(|l| l.strip_prefix(prefix.as_str())).and_then(|v| v.parse().ok()).unwrap_or(0.0)
    };
    let durations = |name: &str| series(&format!("cadre_llm_call_duration_seconds_{name}{{provider=\"{PROVIDER}\"}}"));
    (durations("sum") * 1000.0, durations("count"), series("cadre_budget_reservations_total"))
}

/// The fsync and fdatasync calls in the strace log `BENCH_SYNC_LOG` names, if it does.
fn syncs() -> Option<u64> {
    let log =
        std::fs::read_to_string(std::env::var_os("BENCH_SYNC_LOG")?).expect("the strace log BENCH_SYNC_LOG names");
    Some(log.lines().filter(|l| l.contains("fsync(") || l.contains("fdatasync(")).count() as u64)
}

/// Runs the job once and gathers the figures.
async fn measure(
    workload: Workload,
    client: &reqwest::Client,
    base: &str,
    server: &BenchServer,
    body: bytes::Bytes,
    leaves: usize,
) -> Run {
    let (calls, handler_ns) = (CALLS.load(Ordering::Relaxed), HANDLER_NS.load(Ordering::Relaxed));
    let (client_ms, client_calls, reservations) = counters(client, base).await;
    let synced = syncs();
    let cpu = server.cpu_ms();
    let begun = Instant::now();
    let id = run_job(workload, client, base, body).await;
    let wall_ms = begun.elapsed().as_secs_f64() * 1000.0;
    let server_cpu_ms = server.cpu_ms() - cpu;
    let (provider_calls, provider_ns) =
        (CALLS.load(Ordering::Relaxed) - calls, HANDLER_NS.load(Ordering::Relaxed) - handler_ns);
    let synced = synced.zip(syncs()).map(|(before, after)| after - before);
    let (client_ms_after, client_calls_after, reservations_after) = counters(client, base).await;
    let job = get_json(client, &format!("{base}/api/v1/recursion/job/{id}?results=false")).await;
    let root = &job["tree"];
    let mut durations = leaf_durations(root);
    assert_eq!(durations.len(), leaves, "every leaf has a start and an end");
    durations.sort_by(f64::total_cmp);
    let reservations = reservations_after - reservations;
    let spent = &job["budget"]["spent"];
    if workload.budgeted() {
        check_books(workload, &job, leaves, reservations);
    }
    let per_agent = if workload == Workload::LlmDelegated { check_delegations(&job, leaves) } else { BTreeMap::new() };
    Run {
        wall_ms,
        server_cpu_ms,
        leaf_mean_ms: durations.iter().sum::<f64>() / durations.len() as f64,
        leaf_p95_ms: durations[durations.len() * 95 / 100],
        provider_calls,
        provider_ms: provider_ns as f64 / 1e6,
        ledger_rows: root["subtree_usage"]["calls"].as_i64().unwrap_or(0),
        client_call_ms: client_ms_after - client_ms,
        client_calls: client_calls_after - client_calls,
        reservations,
        budget_spent_cost: spent["cost"].as_f64().unwrap_or(0.0),
        budget_spent_tokens: spent["tokens"].as_i64().unwrap_or(0),
        syncs: synced,
        per_agent,
    }
}

/// Fails loudly unless a budgeted job's every call reserved, its books (and each leaf's, in
/// `llm-enveloped`) end with nothing reserved, and its root spent what its ledger rows used.
fn check_books(workload: Workload, job: &Value, leaves: usize, reservations: f64) {
    let name = workload.name();
    assert_eq!(reservations, leaves as f64, "{name}: every call reserves once (cadre_budget_reservations_total)");
    let budget = &job["budget"];
    assert!(budget.is_object(), "{name}: the job shows its budget: {job}");
    assert_eq!(budget["reserved"]["tokens"], 0, "{name}: nothing stays reserved: {budget}");
    let usage = &job["tree"]["subtree_usage"];
    let used = usage["input_tokens"].as_i64().unwrap_or(-1) + usage["output_tokens"].as_i64().unwrap_or(-1);
    assert_eq!(
        budget["spent"]["tokens"].as_i64(),
        Some(used),
        "{name}: the root spent the ledger's tokens: {budget} {usage}"
    );
    assert!(budget["spent"]["cost"].as_f64().unwrap_or(0.0) > 0.0, "{name}: cost is spent: {budget}");
    if workload == Workload::LlmEnveloped {
        check_leaf_books(name, job, leaves);
    }
}

/// Fails loudly unless every leaf of `llm-enveloped` shows its own envelope, which spent and
/// holds nothing reserved.
fn check_leaf_books(name: &str, job: &Value, leaves: usize) {
    let children = job["tree"]["children"].as_array().map(Vec::as_slice).unwrap_or_default();
    let enveloped: Vec<&Value> = children.iter().filter(|c| c["budget"].is_object()).collect();
    assert_eq!(enveloped.len(), leaves, "{name}: every leaf shows its envelope");
    for leaf in enveloped {
        let books = &leaf["budget"];
        assert_eq!(books["reserved"]["tokens"], 0, "{name}: nothing stays reserved in a leaf: {books}");
        assert!(books["spent"]["tokens"].as_i64().unwrap_or(0) > 0, "{name}: each leaf spent from its own: {books}");
    }
}

/// Fails loudly unless every leaf of `llm-delegated` shows an agent assigned, and the agents
/// took within one of each other's share; the leaves per agent.
fn check_delegations(job: &Value, leaves: usize) -> BTreeMap<String, usize> {
    let children = job["tree"]["children"].as_array().map(Vec::as_slice).unwrap_or_default();
    assert_eq!(children.len(), leaves, "llm-delegated: every leaf is in the job");
    let mut per_agent: BTreeMap<String, usize> = AGENTS.iter().map(|a| ((*a).to_string(), 0)).collect();
    for leaf in children {
        let delegation = &leaf["delegation"];
        assert_eq!(delegation["state"], "assigned", "llm-delegated: every leaf is assigned an agent: {leaf}");
        let agent = delegation["agent"].as_str().unwrap_or_else(|| panic!("llm-delegated: an agent: {leaf}"));
        *per_agent.get_mut(agent).unwrap_or_else(|| panic!("llm-delegated: one of {AGENTS:?}: {leaf}")) += 1;
    }
    let (least, most) = (per_agent.values().min(), per_agent.values().max());
    assert!(
        most.zip(least).is_some_and(|(most, least)| most - least <= 1),
        "llm-delegated: the agents take within one of each other's share: {per_agent:?}"
    );
    per_agent
}

/// Submits the job and waits until the API reports that it succeeded; its id.
async fn run_job(workload: Workload, client: &reqwest::Client, base: &str, body: bytes::Bytes) -> String {
    let response = client
        .post(format!("{base}/api/v1/recursion/job"))
        .bearer_auth(KEY)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .expect("submit");
    assert_eq!(response.status(), 202, "submitted");
    let submitted: Value = response.json().await.expect("json");
    let id = submitted["job_id"].as_str().expect("job id").to_string();
    loop {
        let page = get_json(client, &format!("{base}/api/v1/recursion/jobs?limit=1")).await;
        let latest = &page["jobs"][0];
        if latest["job_id"] == id.as_str()
            && matches!(latest["status"].as_str(), Some("succeeded" | "failed" | "cancelled"))
        {
            assert_eq!(latest["status"], "succeeded", "the {} job succeeds", workload.name());
            return id;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Start-to-end milliseconds of every leaf under `node`.
fn leaf_durations(node: &Value) -> Vec<f64> {
    let children = node["children"].as_array().map(Vec::as_slice).unwrap_or_default();
    if children.is_empty() {
        let at = |key: &str| {
            node[key].as_str().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()).map(|t| t.timestamp_millis())
        };
        return match (at("started_at"), at("finished_at")) {
            (Some(start), Some(end)) => vec![(end - start) as f64],
            _ => Vec::new(),
        };
    }
    children.iter().flat_map(leaf_durations).collect()
}

/// Median, min and max.
fn spread(values: impl Iterator<Item = f64>) -> Value {
    let mut values: Vec<f64> = values.collect();
    values.sort_by(f64::total_cmp);
    let round = |v: f64| (v * 100.0).round() / 100.0;
    json!({"median": round(values[values.len() / 2]), "min": round(values[0]), "max": round(values[values.len() - 1])})
}

fn summary(runs: &[Run], leaves: usize) -> Value {
    let per_leaf = |f: fn(&Run) -> f64| spread(runs.iter().map(|r| f(r) / leaves as f64));
    let mut out = json!({
        "wall_ms": spread(runs.iter().map(|r| r.wall_ms)),
        "server_cpu_ms": spread(runs.iter().map(|r| r.server_cpu_ms)),
        "server_cpu_ms_per_leaf": per_leaf(|r| r.server_cpu_ms),
        "leaf_mean_ms": spread(runs.iter().map(|r| r.leaf_mean_ms)),
        "leaf_p95_ms": spread(runs.iter().map(|r| r.leaf_p95_ms)),
        "ledger_rows": runs.iter().map(|r| r.ledger_rows).max().unwrap_or(0),
    });
    if runs.iter().any(|r| r.provider_calls > 0) {
        out["provider_calls"] = json!(runs.iter().map(|r| r.provider_calls).max().unwrap_or(0));
        out["provider_ms_per_call"] = spread(runs.iter().map(|r| r.provider_ms / r.provider_calls.max(1) as f64));
    }
    if runs.iter().any(|r| r.client_calls > 0.0) {
        out["cadre_call_ms_per_call"] = spread(runs.iter().map(|r| r.client_call_ms / r.client_calls.max(1.0)));
    }
    out["budget_reservations"] = spread(runs.iter().map(|r| r.reservations));
    if runs.iter().any(|r| r.budget_spent_tokens > 0) {
        out["budget_spent"] = json!({"cost": runs[0].budget_spent_cost, "tokens": runs[0].budget_spent_tokens});
    }
    if runs.iter().all(|r| r.syncs.is_some()) {
        out["fsyncs"] = spread(runs.iter().map(|r| r.syncs.unwrap_or(0) as f64));
    }
    if runs.iter().any(|r| !r.per_agent.is_empty()) {
        out["leaves_per_agent"] = json!(runs.iter().map(|r| &r.per_agent).collect::<Vec<_>>());
    }
    out
}

/// `runs` over `base`: the wall and server-CPU ratios within each round, then their median,
/// min and max; and the ratio of the medians.
fn ratio(base: &[Run], runs: &[Run]) -> Value {
    let rounds = || base.iter().zip(runs);
    let median = |of: &[Run]| spread(of.iter().map(|r| r.wall_ms))["median"].as_f64().unwrap_or(0.0);
    json!({
        "wall": spread(rounds().map(|(b, r)| r.wall_ms / b.wall_ms)),
        "wall_of_medians": (median(runs) / median(base) * 1000.0).round() / 1000.0,
        "server_cpu": spread(rounds().map(|(b, r)| r.server_cpu_ms / b.server_cpu_ms)),
    })
}

/// What `runs` cost more than `base` per leaf: differences taken within each round of runs,
/// then their median, min and max (and the difference of the medians, for comparison).
fn difference(base: &[Run], runs: &[Run], leaves: usize) -> Value {
    let per_leaf = leaves as f64;
    let rounds = || base.iter().zip(runs);
    let median = |f: fn(&Run) -> f64, of: &[Run]| spread(of.iter().map(f))["median"].as_f64().unwrap_or(0.0);
    let wall = |r: &Run| r.wall_ms;
    json!({
        "wall": spread(rounds().map(|(b, r)| (r.wall_ms - b.wall_ms) / per_leaf)),
        "wall_of_medians": ((median(wall, runs) - median(wall, base)) / per_leaf * 1000.0).round() / 1000.0,
        "server_cpu": spread(rounds().map(|(b, r)| (r.server_cpu_ms - b.server_cpu_ms) / per_leaf)),
        "leaf_duration": spread(rounds().map(|(b, r)| r.leaf_mean_ms - b.leaf_mean_ms)),
        "provider_own": spread(runs.iter().map(|r| r.provider_ms / per_leaf)),
    })
}

fn report(server: &BenchServer, quotas: &str, leaves: usize, results: &[Vec<Run>; 6]) {
    let [echo, http, llm, budgeted, enveloped, delegated] = results;
    let (cpu, cores) = common::machine();
    let result = json!({
        "workload": "agents", "backend": server.backend, "runs": echo.len(), "leaves": leaves,
        "quotas": quotas, "provider_max_concurrency": PROVIDER_CONCURRENCY,
        "provider_prices_per_mtok": {"input": INPUT_PER_MTOK, "output": OUTPUT_PER_MTOK},
        "echo": summary(echo, leaves), "http": summary(http, leaves), "llm": summary(llm, leaves),
        "llm-budgeted": summary(budgeted, leaves), "llm-enveloped": summary(enveloped, leaves),
        "llm-delegated": summary(delegated, leaves), "agents": AGENTS, "agent_concurrency": AGENT_CONCURRENCY,
        "per_leaf_ms": {
            "llm_minus_echo": difference(echo, llm, leaves),
            "http_minus_echo": difference(echo, http, leaves),
            "llm_minus_http": difference(http, llm, leaves),
            "llm_budgeted_minus_llm": difference(llm, budgeted, leaves),
            "llm_enveloped_minus_llm": difference(llm, enveloped, leaves),
            "llm_delegated_minus_llm": difference(llm, delegated, leaves),
        },
        "ratios": {
            "llm_budgeted_over_llm": ratio(llm, budgeted),
            "llm_enveloped_over_llm": ratio(llm, enveloped),
            "llm_delegated_over_llm": ratio(llm, delegated),
        },
        "peak_rss_kib": server.peak_rss_kib(),
        "machine": {"cpu": cpu, "cores": cores}});
    println!("{}", serde_json::to_string_pretty(&result).expect("json"));
    let out = std::path::Path::new("target/bench");
    let _ = std::fs::create_dir_all(out);
    // A run under strace counts commits; its times are strace's, so it keeps its own file.
    let counted = if std::env::var_os("BENCH_SYNC_LOG").is_some() { "-syncs" } else { "" };
    let _ = std::fs::write(out.join(format!("agents-{}{counted}.json", server.backend)), result.to_string());
}
