//! `GET /recursion/stats`: per-depth quotas and usage, 24-hour activity and durations, jobs
//! by status, the usage history for charts, API latency (SPEC §4.5), and per depth the
//! tokens and cost of the last 24 h from the call ledger.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::views::UsageView;
use crate::domain::{NodeStatus, DEPTHS};
use crate::error::ApiResult;
use crate::events::{ms_to_rfc3339, now_ms};
use crate::state::{percentile, AppState};
use crate::store::{DepthUsageRow, NodeActivityRow};

/// The window of the activity figures and the history.
const WINDOW_MS: i64 = 24 * 3600 * 1000;
/// The history's bucket width.
const BUCKET_MS: i64 = 60 * 1000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_stats))
}

/// One depth.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct DepthStats {
    pub depth: usize,
    pub role: String,
    pub quota: u32,
    /// What the answering server may hold of the quota: all of it on its own; in a cluster its
    /// share, moved between replicas with their demand so the quota holds across them all.
    pub share: u32,
    /// Slots held now.
    pub in_use: u32,
    /// Most slots held at once since the server started.
    pub peak_in_use: u32,
    /// Nodes started and not ended (waiting orchestrators included).
    pub active: i64,
    /// Nodes not started yet.
    pub pending: i64,
    /// Requests waiting for a slot now.
    pub waiting_for_slot: u32,
    pub started_24h: i64,
    pub succeeded_24h: i64,
    pub failed_24h: i64,
    pub p50_ms: i64,
    pub p95_ms: i64,
    /// Model calls and reported usage at this depth over the last 24 h (the call ledger).
    pub llm: UsageView,
}

/// Usage of one depth in one minute.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HistoryPoint {
    pub ts: String,
    pub depth: i64,
    pub in_use: i64,
    pub quota: i64,
    pub pending: i64,
}

/// Jobs by status, and what the engine holds now.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct JobStats {
    pub by_status: BTreeMap<String, i64>,
    /// Jobs with a driver in this server.
    pub running: usize,
    /// Jobs waiting for admission.
    pub queued: usize,
}

/// API latency over the most recent requests.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LatencyStats {
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub samples: usize,
}

/// The statistics.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Stats {
    pub by_depth: Vec<DepthStats>,
    pub jobs: JobStats,
    pub history: Vec<HistoryPoint>,
    pub api_latency: LatencyStats,
    pub event_stream_connections: usize,
    /// Slots reclaimed from ended nodes since start.
    pub leaks_reclaimed: u64,
}

/// Statistics by depth.
#[utoipa::path(get, path = "/recursion/stats", tag = "stats",
    responses((status = 200, description = "The statistics", body = Stats)),
    security(("bearer" = [])))]
pub async fn get_stats(State(app): State<AppState>, caller: crate::auth::Caller) -> ApiResult<Json<Stats>> {
    caller.require(crate::auth::Scope::Read)?;
    let store = app.engine.store();
    let since = now_ms() - WINDOW_MS;
    let mut by_depth = depth_usage(&app);
    for count in store.active_node_counts().await? {
        let Some(depth) = usize::try_from(count.depth).ok().and_then(|d| by_depth.get_mut(d)) else { continue };
        match NodeStatus::parse(&count.status) {
            Some(NodeStatus::Pending) => depth.pending += count.count,
            Some(NodeStatus::Running | NodeStatus::Retrying) => depth.active += count.count,
            _ => {}
        }
    }
    add_activity(&mut by_depth, &store.node_activity(since).await?, since);
    add_llm_usage(&mut by_depth, &store.usage_by_depth(since).await?);
    let by_status = store.job_counts().await?.into_iter().map(|c| (c.status, c.count)).collect();
    let (running, queued) = app.engine.job_counts();
    let history = store
        .usage_since(since.div_euclid(BUCKET_MS) * BUCKET_MS)
        .await?
        .into_iter()
        .map(|s| HistoryPoint {
            ts: ms_to_rfc3339(s.ts_ms),
            depth: s.depth,
            in_use: s.in_use,
            quota: s.quota,
            pending: s.pending,
        })
        .collect();
    let (p, samples) = app.latency.percentiles_ms(&[50.0, 95.0, 99.0]);
    Ok(Json(Stats {
        by_depth,
        jobs: JobStats { by_status, running, queued },
        history,
        api_latency: LatencyStats { p50_ms: p[0], p95_ms: p[1], p99_ms: p[2], samples },
        event_stream_connections: app.stream.open.load(std::sync::atomic::Ordering::Relaxed),
        leaks_reclaimed: app.engine.resources().leaks_reclaimed(),
    }))
}

fn depth_usage(app: &AppState) -> Vec<DepthStats> {
    let roles = &app.engine.limits().roles;
    app.engine
        .resources()
        .usage()
        .iter()
        .enumerate()
        .map(|(depth, u)| DepthStats {
            depth,
            role: roles.get(depth).cloned().unwrap_or_default(),
            quota: u.quota,
            share: u.share,
            in_use: u.in_use,
            peak_in_use: u.peak,
            waiting_for_slot: u.waiting,
            ..DepthStats::default()
        })
        .collect()
}

fn add_llm_usage(by_depth: &mut [DepthStats], rows: &[DepthUsageRow]) {
    for row in rows {
        let Some(stats) = usize::try_from(row.depth).ok().and_then(|d| by_depth.get_mut(d)) else { continue };
        stats.llm = UsageView {
            input_tokens: row.input_tokens,
            output_tokens: row.output_tokens,
            cached_tokens: row.cached_tokens,
            cost: row.cost,
            calls: row.calls,
        };
    }
}

fn add_activity(by_depth: &mut [DepthStats], rows: &[NodeActivityRow], since: i64) {
    let mut durations: Vec<Vec<i64>> = vec![Vec::new(); DEPTHS];
    for row in rows {
        let Some(stats) = usize::try_from(row.depth).ok().and_then(|d| by_depth.get_mut(d)) else { continue };
        if row.started_ms.is_some_and(|s| s >= since) {
            stats.started_24h += 1;
        }
        let Some(finished) = row.finished_ms.filter(|f| *f >= since) else { continue };
        match NodeStatus::parse(&row.status) {
            Some(NodeStatus::Succeeded) => stats.succeeded_24h += 1,
            Some(NodeStatus::Failed) => stats.failed_24h += 1,
            _ => {}
        }
        if let Some(started) = row.started_ms {
            durations[stats.depth].push(finished - started);
        }
    }
    for (stats, mut samples) in by_depth.iter_mut().zip(durations) {
        samples.sort_unstable();
        stats.p50_ms = percentile(&samples, 50.0);
        stats.p95_ms = percentile(&samples, 95.0);
    }
}
