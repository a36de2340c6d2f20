//! The words and bars a watcher shows, made from a [`Board`]: one plain line per event (for
//! pipes and CI logs: no control codes), the lines of the live terminal view (redrawn in
//! place, with the tokens and cost of the job's model calls as they grow), the notices that
//! stay above it (retries, failures, failed model calls), and the final summary.
//! Nodes are always named by their path, never by a bare id.

use std::collections::BTreeMap;

use super::board::{rfc3339_ms, short_id, Board, Frame, JobProgress};
use super::spend::Spend;
use crate::api::views::{JobView, NodeView};

/// Running nodes listed in the live view before "+N more".
const RUNNING_SHOWN: usize = 6;
/// Jobs shown in the live view at once (`cadre watch` may follow many).
const JOBS_SHOWN: usize = 3;
/// Failed nodes listed in the summary.
const FAILURES_SHOWN: usize = 10;
/// Characters of a depth's bar.
const BAR_WIDTH: usize = 24;
/// Characters of a job's request shown in a header.
const REQUEST_SHOWN: usize = 50;

/// One line for an event: its number, the time since its job started, its type and depth,
/// and what happened; `with_job` adds the job's short id (when several jobs share the stream).
pub(super) fn plain_line(board: &Board, frame: &Frame, with_job: bool) -> String {
    let depth = frame.depth.map(|d| format!("depth {d}")).unwrap_or_default();
    let job = frame.job_id.as_deref().and_then(|id| board.jobs.get(id));
    let since_start = job
        .and_then(|job| Some(frame.ts_ms? - job.started_ms.or(frame.ts_ms)?))
        .map(|ms| format!("+{}", duration(ms)))
        .unwrap_or_default();
    let about_job = match (&frame.job_id, with_job) {
        (Some(id), true) if frame.job_end().is_none() && frame.kind != "job_submitted" => {
            format!("{} ", short_id(id))
        }
        _ => String::new(),
    };
    let what = describe(board, frame);
    format!("#{:<6} {since_start:>9} {:<21} {depth:<8} {about_job}{what}", frame.seq, frame.kind)
}

fn describe(board: &Board, frame: &Frame) -> String {
    let data = &frame.data;
    let name = board.node_name(frame).unwrap_or_default();
    let text = |key: &str| data[key].as_str().unwrap_or("").to_string();
    match frame.kind.as_str() {
        "job_submitted" => format!("job {} {}, {} nodes", text("job_id"), text("status"), data["nodes"]),
        "orchestrator_spawned" if data.get("spawned").is_some() => {
            format!("{name} spawned {} children", data["spawned"])
        }
        "orchestrator_spawned" => format!("{name} started with {} children", data["children"]),
        "worker_started" => format!("{name} started{}", attempt_note(data["attempt"].as_i64())),
        "node_retrying" => {
            format!("{name} retrying after attempt {} of {}: {}", data["attempt"], data["max_attempts"], text("error"))
        }
        "node_completed" => format!("{name} {}{}", text("status"), error_note(data["error"].as_str())),
        "job_completed" | "job_cancelled" => {
            format!("[{}] job {}{}", text("status"), text("job_id"), error_note(data["error"].as_str()))
        }
        "resource_warning" => format!("{} of {} slots in use ({} %)", data["usage"], data["quota"], data["level"]),
        "llm_call" => format!("{name} {}", model_call(data)),
        "workspace_created" => format!("{name} works on {} (from {})", text("branch"), text("parent_branch")),
        "workspace_merged" => format!("{name} merged into {} at {:.12}", text("into"), text("sha")),
        "workspace_merge_failed" => format!("{name} could not merge into {}: {}", text("into"), merge_refusal(data)),
        "error" if name.is_empty() => text("error"),
        "error" => format!("{name}: {}", text("error")),
        _ => String::new(),
    }
}

/// Why a merge was refused: the conflicting files, or the check's exit.
fn merge_refusal(data: &serde_json::Value) -> String {
    let files: Vec<&str> = data["files"].as_array().into_iter().flatten().filter_map(|f| f.as_str()).collect();
    match (data["outcome"].as_str(), data["exit_code"].as_i64()) {
        (Some("conflict"), _) => format!("conflict in {}", files.join(", ")),
        (_, Some(code)) => format!("the check exited {code}"),
        _ => "the check did not finish".to_string(),
    }
}

/// A model call (or usage a worker reported): what for, which model, tokens, cost, time, and
/// how it failed. `execute call (turn 1, qwen2.5): 1,234 in / 56 out · cost 0.0031 · 850 ms`.
fn model_call(data: &serde_json::Value) -> String {
    let model = data["model"].as_str().unwrap_or("?");
    let spent = Spend::of_call(data).tokens_and_cost();
    match data["purpose"].as_str().unwrap_or("call") {
        "report" => format!("reported usage ({model}): {spent}"),
        purpose => {
            let latency = data["latency_ms"].as_i64().map(|ms| format!(" · {}", duration(ms))).unwrap_or_default();
            let status = data["http_status"].as_i64().filter(|s| *s >= 300).map(|s| format!(" · HTTP {s}"));
            let error = error_note(data["error"].as_str());
            format!(
                "{purpose} call (turn {}, {model}): {spent}{latency}{}{error}",
                data["turn"],
                status.unwrap_or_default()
            )
        }
    }
}

fn attempt_note(attempt: Option<i64>) -> String {
    attempt.filter(|a| *a > 1).map(|a| format!(" (attempt {a})")).unwrap_or_default()
}

fn error_note(error: Option<&str>) -> String {
    error.map(|e| format!(": {e}")).unwrap_or_default()
}

/// A line that stays above the live view: a retry, a failure, an error, a quota warning.
pub(super) fn notice(board: &Board, frame: &Frame) -> Option<String> {
    let data = &frame.data;
    let name = board.node_name(frame).unwrap_or_default();
    let error = data["error"].as_str().unwrap_or("");
    match frame.kind.as_str() {
        "node_retrying" => Some(format!(
            "↻ {name}: attempt {} of {} failed, retrying in {}: {error}",
            data["attempt"],
            data["max_attempts"],
            duration(data["delay_ms"].as_i64().unwrap_or_default())
        )),
        "node_completed" if data["status"] == "failed" => {
            Some(format!("✗ {name} failed{}", error_note(data["error"].as_str())))
        }
        "error" => Some(format!("✗ {}{error}", if name.is_empty() { String::new() } else { format!("{name}: ") })),
        "llm_call" if !error.is_empty() => Some(format!("✗ {name}: {}", model_call(data))),
        "resource_warning" => Some(format!(
            "! depth {}: {} of {} slots in use",
            frame.depth.unwrap_or_default(),
            data["usage"],
            data["quota"]
        )),
        _ => None,
    }
}

/// A job's end, as one line (when `cadre watch` follows several jobs).
pub(super) fn ended(job: &JobProgress) -> String {
    let took = job.started_ms.zip(job.ended_ms).map(|(s, e)| format!(" in {}", duration(e - s))).unwrap_or_default();
    let request = job.request.as_deref().map(|r| format!(" — {}", clip(r, REQUEST_SHOWN))).unwrap_or_default();
    let error = error_note(job.error.as_deref());
    format!("{} [{}] job {}{took}{request}{error}", mark(&job.status), job.status, job.id)
}

fn mark(status: &str) -> &'static str {
    match status {
        "succeeded" => "✓",
        "failed" => "✗",
        _ => "■",
    }
}

/// The live view: for each job still running, its status, counts, a bar per depth and the
/// nodes running now.
pub(super) fn live(board: &Board, now_ms: i64) -> Vec<String> {
    let active: Vec<&JobProgress> = board.jobs.values().filter(|j| !j.is_ended()).collect();
    let mut lines: Vec<String> = active.iter().take(JOBS_SHOWN).flat_map(|job| job_block(job, now_ms)).collect();
    if active.len() > JOBS_SHOWN {
        lines.push(format!("+{} more jobs running", active.len() - JOBS_SHOWN));
    }
    lines
}

fn job_block(job: &JobProgress, now_ms: i64) -> Vec<String> {
    let elapsed = job.started_ms.map(|s| duration(now_ms - s)).unwrap_or_default();
    let request = job.request.as_deref().map(|r| format!(" — {}", clip(r, REQUEST_SHOWN))).unwrap_or_default();
    let mut lines = vec![format!("job {} [{}] {elapsed}{request}", short_id(&job.id), job.status)];
    let counts: Vec<String> = job.counts().iter().map(|(status, n)| format!("{status} {n}")).collect();
    lines.push(format!("  {}", counts.join(" · ")));
    if job.spend.calls > 0 {
        lines.push(format!("  {}", job.spend.line()));
    }
    for (depth, (done, total)) in job.depths() {
        lines.push(format!("  depth {depth} {} {done}/{total}", bar(done, total)));
    }
    lines.extend(running(job));
    lines
}

fn running(job: &JobProgress) -> Vec<String> {
    let mut lines: Vec<String> = job
        .running
        .iter()
        .take(RUNNING_SHOWN)
        .filter_map(|id| job.nodes.get(id))
        .map(|node| format!("  ▸ {}{}", node.path, attempt_note(Some(node.attempt))))
        .collect();
    if job.running.len() > RUNNING_SHOWN {
        lines.push(format!("  +{} more running", job.running.len() - RUNNING_SHOWN));
    }
    lines
}

fn bar(done: usize, total: usize) -> String {
    let filled = (done * BAR_WIDTH).checked_div(total).unwrap_or(0).min(BAR_WIDTH);
    format!("{}{}", "█".repeat(filled), "░".repeat(BAR_WIDTH - filled))
}

fn clip(text: &str, most: usize) -> String {
    let line = text.lines().next().unwrap_or("");
    if line.chars().count() > most || line.len() < text.trim_end().len() {
        format!("{}…", line.chars().take(most).collect::<String>())
    } else {
        line.to_string()
    }
}

/// Milliseconds for a person: `850 ms`, `3.2 s`, `4 m 05 s`, `2 h 07 m`.
pub(super) fn duration(ms: i64) -> String {
    let ms = ms.max(0);
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{:.1} s", ms as f64 / 1_000.0),
        60_000..3_600_000 => format!("{} m {:02} s", ms / 60_000, ms / 1_000 % 60),
        _ => format!("{} h {:02} m", ms / 3_600_000, ms / 60_000 % 60),
    }
}

/// One job of `cadre jobs`: id, status, nodes, how long, and what it is for.
pub(super) fn job_line(job: &serde_json::Value) -> String {
    let took = job["duration_ms"].as_i64().map(duration).unwrap_or_else(|| "-".into());
    format!(
        "{}  {:<10} {:>6} nodes  {:>8}  {}",
        job["job_id"].as_str().unwrap_or("?"),
        job["status"].as_str().unwrap_or("?"),
        job["node_count"].as_i64().unwrap_or(0),
        took,
        clip(job["request"].as_str().unwrap_or(""), 60)
    )
}

/// The end of a watch: the job's status, node counts, time taken, what its model calls spent,
/// its error, and the nodes that failed (by path).
pub(super) fn summary(job: &JobView, spend: Option<&Spend>) -> Vec<String> {
    let counts: BTreeMap<&str, usize> = job.counts.by_status.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let total: usize = counts.values().sum();
    let counts: Vec<String> = counts.iter().map(|(status, n)| format!("{status} {n}")).collect();
    let took = rfc3339_ms(job.started_at.as_deref())
        .zip(rfc3339_ms(job.finished_at.as_deref()))
        .map(|(s, e)| format!(" · took {}", duration(e - s)))
        .unwrap_or_default();
    let mut lines = vec![
        format!("[{}] job {} — {}", job.status, job.job_id, clip(&job.request, REQUEST_SHOWN)),
        format!("  {total} nodes: {}{took}", counts.join(" · ")),
    ];
    lines.extend(spend.map(|spend| format!("  {}", spend.line())));
    let mut failed = Vec::new();
    if let Some(tree) = &job.tree {
        failed_leaves(tree, "", &mut failed);
    }
    let more = failed.len().saturating_sub(FAILURES_SHOWN);
    lines.extend(failed.into_iter().take(FAILURES_SHOWN).map(|line| format!("  ✗ {line}")));
    if more > 0 {
        lines.push(format!("  +{more} more failed"));
    }
    lines.extend(job.error.iter().map(|error| format!("error: {error}")));
    lines
}

/// The failed nodes none of whose children failed: where the failure started.
fn failed_leaves(node: &NodeView, parent: &str, out: &mut Vec<String>) {
    let path = if parent.is_empty() { node.name.clone() } else { format!("{parent}/{}", node.name) };
    let before = out.len();
    for child in &node.children {
        failed_leaves(child, &path, out);
    }
    if node.status == "failed" && out.len() == before {
        out.push(format!("{path}{}", error_note(node.error.as_deref())));
    }
}

#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;
