//! `GET /metrics`: Prometheus text exposition of the few gauges and counters cadre keeps —
//! the event stream's, admission's and the resource manager's. They are atomics already
//! kept for `/recursion/stats`, so the format is written here rather than through a metrics
//! registry crate.

use std::fmt::Write;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

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
    ([(CONTENT_TYPE, CONTENT_TYPE_TEXT)], out)
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
}

fn metric(out: &mut String, name: &str, kind: &str, help: &str, value: u64) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
}
