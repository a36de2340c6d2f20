//! `GET /metrics`: Prometheus text exposition of the few gauges and counters cadre keeps —
//! the event stream's, admission's, the resource manager's, the call ledger's, the
//! webhooks' and the workforce's (`agent_metrics.rs`). They are atomics and small maps already kept for `/recursion/stats`, the ledger
//! and the webhooks' status, so the format is written here rather than through a metrics
//! registry crate.

use std::fmt::Write;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

use crate::engine::budget::live::Meters;
use crate::engine::ledger::{DurationHistogram, Totals, DURATION_BUCKETS_S};
use crate::state::AppState;

/// The exposition format's content type.
const CONTENT_TYPE_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The metrics, in Prometheus text exposition format 0.0.4 (no key needed; keep the port
/// private or put it behind the scraper's network).
#[utoipa::path(get, path = "/metrics", tag = "probes",
    responses((status = 200, description = "Gauges and counters", body = String,
        content_type = "text/plain; version=0.0.4; charset=utf-8")))]
pub async fn metrics(State(app): State<AppState>) -> impl IntoResponse {
    let mut out = String::new();
    stream_metrics(&app, &mut out);
    engine_metrics(&app, &mut out);
    llm_metrics(&app.engine.ledger().totals(), &mut out);
    budget_metrics(app.engine.ledger().budgets().meters(), &mut out);
    approval_metrics(app.engine.approval_meters(), &mut out);
    alert_metrics(app.engine.alert_meters(), &mut out);
    webhook_metrics(&app.webhooks, &mut out);
    super::agent_metrics::workforce_metrics(app.engine.workforce(), &mut out);
    mail_metrics(app.engine.post_office(), &mut out);
    workspace_metrics(app.engine.workspaces().merge_counts(), &mut out);
    cluster_metrics(&app.cluster, &mut out);
    ([(CONTENT_TYPE, CONTENT_TYPE_TEXT)], out)
}

/// Messages open now and moved since the start.
fn mail_metrics(office: &crate::mail::PostOffice, out: &mut String) {
    let open = office.open_total() as u64;
    metric(out, "cadre_messages_open", "gauge", "Messages not yet acknowledged or dead-lettered.", open);
    header(out, "cadre_messages_total", "counter", "Messages by what happened to them (a redelivery counts again).");
    let m = &office.meters;
    for (event, counter) in [
        ("sent", &m.sent),
        ("delivered", &m.delivered),
        ("acknowledged", &m.acknowledged),
        ("dead_lettered", &m.dead_lettered),
    ] {
        let _ = writeln!(out, "cadre_messages_total{{event=\"{event}\"}} {}", counter.load(Ordering::Relaxed));
    }
}

/// Which replica this is, whether it is a member, and the replicas it sees by state.
fn cluster_metrics(membership: &crate::cluster::Membership, out: &mut String) {
    use crate::cluster::ReplicaState;
    header(out, "cadre_replica_info", "gauge", "This replica (1); its id and whether it runs in a cluster.");
    let _ = writeln!(
        out,
        "cadre_replica_info{{replica=\"{}\",cluster=\"{}\"}} 1",
        membership.replica_id, membership.enabled
    );
    let member = u64::from(membership.is_member());
    metric(
        out,
        "cadre_replica_member",
        "gauge",
        "1 while this replica is a member of its cluster (heartbeat current).",
        member,
    );
    header(out, "cadre_cluster_replicas", "gauge", "Replicas this one sees, by state (ended ones for an hour).");
    let replicas = membership.replicas();
    for (name, state) in [
        ("live", ReplicaState::Live),
        ("lapsed", ReplicaState::Lapsed),
        ("left", ReplicaState::Left),
        ("dead", ReplicaState::Dead),
    ] {
        let n = replicas.iter().filter(|(_, s)| *s == state).count();
        let _ = writeln!(out, "cadre_cluster_replicas{{state=\"{name}\"}} {n}");
    }
    if membership.enabled {
        header(
            out,
            "cadre_share_settlings_total",
            "counter",
            "Settlings of this replica's shares, by what started them.",
        );
        for trigger in crate::cluster::rounds::Trigger::ALL {
            let n = membership.settlings.get(trigger);
            let _ = writeln!(out, "cadre_share_settlings_total{{trigger=\"{}\"}} {n}", trigger.as_str());
        }
    }
}

/// Merges up a workspace's tree, by outcome.
fn workspace_metrics(counts: crate::workspace::MergeCounts, out: &mut String) {
    header(out, "cadre_workspace_merges_total", "counter", "Merges of a node's branch into its parent's, by outcome.");
    for (outcome, n) in
        [("merged", counts.merged), ("conflict", counts.conflict), ("check_failed", counts.check_failed)]
    {
        let _ = writeln!(out, "cadre_workspace_merges_total{{outcome=\"{outcome}\"}} {n}");
    }
}

/// Alerts fired, by rule.
fn alert_metrics(meters: &crate::people::alerts::Meters, out: &mut String) {
    let _ =
        writeln!(out, "# HELP cadre_alerts_total Alerts the rules raised, by rule.\n# TYPE cadre_alerts_total counter");
    for rule in crate::people::alerts::Rule::ALL {
        let _ = writeln!(out, "cadre_alerts_total{{rule=\"{}\"}} {}", rule.as_str(), meters.fired(rule));
    }
}

/// Approvals: waiting now, asked, escalated a level, and how they ended.
fn approval_metrics(meters: &crate::people::inbox::Meters, out: &mut String) {
    let count = |counter: &std::sync::atomic::AtomicU64| counter.load(Ordering::Relaxed);
    let waiting = u64::try_from(meters.waiting.load(Ordering::Relaxed)).unwrap_or(0);
    metric(out, "cadre_approvals_waiting", "gauge", "Approval requests waiting for a decision.", waiting);
    let requested = count(&meters.requested);
    metric(out, "cadre_approvals_requested_total", "counter", "Approval requests made.", requested);
    let escalated = count(&meters.escalated);
    metric(out, "cadre_approvals_escalated_total", "counter", "Requests moved up a level by a timeout.", escalated);
    let _ = writeln!(
        out,
        "# HELP cadre_approvals_decided_total Requests decided, by outcome.\n# TYPE cadre_approvals_decided_total counter"
    );
    for (state, counter) in
        [("approved", &meters.approved), ("rejected", &meters.rejected), ("cancelled", &meters.withdrawn)]
    {
        let _ = writeln!(out, "cadre_approvals_decided_total{{state=\"{state}\"}} {}", count(counter));
    }
}

/// Webhooks: deliveries by outcome, and where each stands in the event log.
fn webhook_metrics(webhooks: &crate::people::notify::Webhooks, out: &mut String) {
    header(
        out,
        "cadre_webhook_deliveries_total",
        "counter",
        "Webhook deliveries: delivered, failed (given up), retried.",
    );
    for hook in webhooks.hooks() {
        let name = label(&hook.config.name);
        let status = &hook.status;
        for (outcome, counter) in
            [("delivered", &status.delivered), ("failed", &status.failed), ("retried", &status.retried)]
        {
            let value = counter.load(Ordering::Relaxed);
            let _ = writeln!(out, "cadre_webhook_deliveries_total{{webhook=\"{name}\",outcome=\"{outcome}\"}} {value}");
        }
    }
    header(out, "cadre_webhook_last_delivered_seq", "gauge", "The seq each webhook has handled every event up to.");
    for hook in webhooks.hooks() {
        let (name, seq) = (label(&hook.config.name), hook.status.last_seq());
        let _ = writeln!(out, "cadre_webhook_last_delivered_seq{{webhook=\"{name}\"}} {seq}");
    }
}

/// Budgets: calls reserved for, calls and envelopes refused, warning levels crossed.
fn budget_metrics(meters: &Meters, out: &mut String) {
    let count = |counter: &std::sync::atomic::AtomicU64| counter.load(Ordering::Relaxed);
    let reservations = count(&meters.reservations);
    metric(
        out,
        "cadre_budget_reservations_total",
        "counter",
        "Model calls reserved for, before they were made, against a limited envelope.",
        reservations,
    );
    let refusals = count(&meters.refusals);
    metric(out, "cadre_budget_refusals_total", "counter", "Calls and envelopes a budget could not cover.", refusals);
    let warnings = count(&meters.warnings);
    metric(out, "cadre_budget_warnings_total", "counter", "Budget warning levels (80, 90, 100 %) crossed.", warnings);
}

fn stream_metrics(app: &AppState, out: &mut String) {
    let stream = &app.stream;
    let open = stream.open.load(Ordering::Relaxed) as u64;
    metric(out, "cadre_stream_connections", "gauge", "Open event-stream connections.", open);
    let sent = stream.events_sent.load(Ordering::Relaxed);
    metric(out, "cadre_stream_events_sent_total", "counter", "Event frames sent to subscribers.", sent);
    let lagged = stream.lagged_closes.load(Ordering::Relaxed);
    metric(out, "cadre_stream_lagged_closes_total", "counter", "Subscribers closed for falling behind (1013).", lagged);
    let replays = stream.replays.load(Ordering::Relaxed);
    metric(out, "cadre_stream_replays_total", "counter", "Connections that asked for a replay.", replays);
}

fn engine_metrics(app: &AppState, out: &mut String) {
    let (running, queued) = app.engine.job_counts();
    metric(out, "cadre_jobs_running", "gauge", "Jobs with a driver in this server.", running as u64);
    metric(out, "cadre_jobs_queued", "gauge", "Jobs waiting for admission.", queued as u64);
    let leaks = app.engine.resources().leaks_reclaimed();
    metric(out, "cadre_slot_leaks_reclaimed_total", "counter", "Quota slots reclaimed from ended nodes.", leaks);
    let usage = app.engine.resources().usage();
    let _ = writeln!(out, "# HELP cadre_slots_in_use Quota slots held, by depth.\n# TYPE cadre_slots_in_use gauge");
    for (depth, u) in usage.iter().enumerate() {
        let _ = writeln!(out, "cadre_slots_in_use{{depth=\"{depth}\"}} {}", u.in_use);
    }
    let _ = writeln!(out, "# HELP cadre_slot_quota Quota slots, by depth.\n# TYPE cadre_slot_quota gauge");
    for (depth, u) in usage.iter().enumerate() {
        let _ = writeln!(out, "cadre_slot_quota{{depth=\"{depth}\"}} {}", u.quota);
    }
    let help = "Quota slots this server may hold, by depth (its share of the quota in a cluster).";
    let _ = writeln!(out, "# HELP cadre_slot_share {help}\n# TYPE cadre_slot_share gauge");
    for (depth, u) in usage.iter().enumerate() {
        let _ = writeln!(out, "cadre_slot_share{{depth=\"{depth}\"}} {}", u.share);
    }
}

/// The call ledger's counters: tokens and cost by provider and model, call durations by
/// provider (reported usage was not timed, so it is not among them), failed calls by status.
fn llm_metrics(totals: &Totals, out: &mut String) {
    header(out, "cadre_llm_tokens_total", "counter", "Model tokens (calls and reported usage), by kind.");
    for ((provider, model), t) in &totals.tokens {
        let (provider, model) = (label(provider), label(model));
        for (kind, value) in [("input", t.input_tokens), ("output", t.output_tokens), ("cached", t.cached_tokens)] {
            let _ = writeln!(
                out,
                "cadre_llm_tokens_total{{provider=\"{provider}\",model=\"{model}\",kind=\"{kind}\"}} {value}"
            );
        }
    }
    header(out, "cadre_llm_cost_total", "counter", "Cost of model calls and reported usage.");
    for ((provider, model), t) in &totals.tokens {
        let (provider, model) = (label(provider), label(model));
        let _ = writeln!(out, "cadre_llm_cost_total{{provider=\"{provider}\",model=\"{model}\"}} {}", t.cost);
    }
    header(out, "cadre_llm_call_duration_seconds", "histogram", "Model call durations, retries included.");
    for (provider, histogram) in &totals.durations {
        duration_series(out, &label(provider), histogram);
    }
    header(
        out,
        "cadre_llm_calls_total",
        "counter",
        "Ledger rows by purpose: execute, classify, plan, decompose, repair, validate, report, ….",
    );
    for ((provider, purpose), count) in &totals.purposes {
        let (provider, purpose) = (label(provider), label(purpose));
        let _ = writeln!(out, "cadre_llm_calls_total{{provider=\"{provider}\",purpose=\"{purpose}\"}} {count}");
    }
    header(out, "cadre_llm_errors_total", "counter", "Failed model calls, by HTTP status (`none`: never answered).");
    for ((provider, status), count) in &totals.errors {
        let (provider, status) = (label(provider), label(status));
        let _ = writeln!(out, "cadre_llm_errors_total{{provider=\"{provider}\",status=\"{status}\"}} {count}");
    }
}

fn duration_series(out: &mut String, provider: &str, histogram: &DurationHistogram) {
    let name = "cadre_llm_call_duration_seconds";
    let mut cumulative = 0;
    let bounds = DURATION_BUCKETS_S.iter().map(f64::to_string).chain(["+Inf".to_string()]);
    for (bound, count) in bounds.zip(histogram.buckets) {
        cumulative += count;
        let _ = writeln!(out, "{name}_bucket{{provider=\"{provider}\",le=\"{bound}\"}} {cumulative}");
    }
    let _ = writeln!(out, "{name}_sum{{provider=\"{provider}\"}} {}", histogram.sum_seconds);
    let _ = writeln!(out, "{name}_count{{provider=\"{provider}\"}} {}", histogram.count);
}

/// A label value as the exposition format writes it: backslash, quote and newline escaped.
pub(super) fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

pub(super) fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn metric(out: &mut String, name: &str, kind: &str, help: &str, value: u64) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label(r#"a\b"c"#), r#"a\\b\"c"#);
        assert_eq!(label("line\nbreak"), r"line\nbreak");
    }

    #[test]
    fn a_histogram_is_cumulative_and_ends_at_inf() {
        let mut histogram = DurationHistogram::default();
        histogram.buckets[0] = 2;
        histogram.buckets[DURATION_BUCKETS_S.len()] = 1;
        histogram.sum_seconds = 200.1;
        histogram.count = 3;
        let mut out = String::new();
        duration_series(&mut out, "p", &histogram);
        assert!(out.contains("cadre_llm_call_duration_seconds_bucket{provider=\"p\",le=\"0.1\"} 2\n"), "{out}");
        assert!(out.contains("{provider=\"p\",le=\"120\"} 2\n"), "{out}");
        assert!(out.contains("{provider=\"p\",le=\"+Inf\"} 3\n"), "{out}");
        assert!(out.contains("cadre_llm_call_duration_seconds_count{provider=\"p\"} 3"), "{out}");
    }
}
