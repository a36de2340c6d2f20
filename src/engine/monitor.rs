//! Background watchers of the resource manager: quota warnings become events, slots held by
//! ended nodes are reclaimed (leak detection), and per-depth usage is sampled for the stats
//! history.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::json;
use tokio::sync::mpsc;
use tokio_util::task::TaskTracker;

use super::resources::{Leak, ResourceWarning};
use super::Engine;
use crate::config::Config;
use crate::domain::NodeStatus;
use crate::events::{now_ms, EventDraft, EventKind};
use crate::store::UsageSampleRow;

/// Usage history kept for the stats chart.
const USAGE_HISTORY: Duration = Duration::from_secs(24 * 3600);

pub(super) fn spawn_all(
    config: &Config,
    engine: &Engine,
    warnings: mpsc::UnboundedReceiver<ResourceWarning>,
    tracker: &TaskTracker,
) {
    tracker.spawn(forward_warnings(engine.clone(), warnings));
    tracker.spawn(super::busy::watch(engine.clone()));
    let leak_every = Duration::from_secs(config.resources.leak_check_interval_s.max(1));
    tracker.spawn(every(leak_every, engine.clone(), |engine| async move { sweep_leaks(&engine).await }));
    let sample_every = Duration::from_secs(config.resources.usage_sample_interval_s.max(1));
    tracker.spawn(every(sample_every, engine.clone(), |engine| async move {
        sample_usage(&engine).await;
        prune_events(&engine).await;
    }));
}

async fn every<F, Fut>(period: Duration, engine: Engine, mut tick: F)
where
    F: FnMut(Engine) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        tick(engine.clone()).await;
    }
}

async fn forward_warnings(engine: Engine, mut warnings: mpsc::UnboundedReceiver<ResourceWarning>) {
    while let Some(w) = warnings.recv().await {
        let data = json!({"depth": w.depth, "usage": w.in_use, "quota": w.quota, "level": w.level});
        let event = EventDraft::server(EventKind::ResourceWarning, Some(w.depth), &data);
        engine.inner.ctx.journal.emit(event);
    }
}

/// Reclaims slots whose holder the store shows as ended. The driver releases a slot before
/// it records the node's end, so a holder stored as ended is a real leak, never a race.
#[expect(clippy::cognitive_complexity, reason = "the count is tracing's macro expansion, not branching")]
async fn sweep_leaks(engine: &Engine) {
    let holders = engine.resources().holders();
    if holders.is_empty() {
        return;
    }
    let ids: Vec<_> = holders.iter().map(|h| h.node_id).collect();
    let rows = match engine.store().node_statuses(&ids).await {
        Ok(rows) => rows,
        Err(err) => return tracing::warn!(error = %err, "leak check skipped: store unavailable"),
    };
    let ended: HashSet<_> = rows
        .into_iter()
        .filter(|r| NodeStatus::parse(&r.status).is_some_and(NodeStatus::is_terminal))
        .map(|r| r.id)
        .collect();
    for leak in engine.resources().reclaim_leaks(|node| ended.contains(&node)) {
        report_leak(engine, leak);
    }
}

fn report_leak(engine: &Engine, leak: Leak) {
    tracing::warn!(job.id = %leak.job_id, node.id = %leak.node_id, depth = leak.depth, "reclaimed a leaked slot");
    let data =
        json!({"job_id": leak.job_id, "error": "slot leak reclaimed", "node_id": leak.node_id, "depth": leak.depth});
    engine.inner.ctx.journal.emit(EventDraft::job(EventKind::Error, leak.job_id, Some(leak.depth), &data));
}

/// Forgets events past the replay retention.
async fn prune_events(engine: &Engine) {
    let keep_since = now_ms() - engine.inner.event_retention.as_millis() as i64;
    if let Err(err) = engine.store().prune_events(keep_since).await {
        tracing::warn!(error = %err, "old events not pruned");
    }
}

async fn sample_usage(engine: &Engine) {
    let ts_ms = now_ms();
    let samples: Vec<UsageSampleRow> = engine
        .resources()
        .usage()
        .iter()
        .enumerate()
        .map(|(depth, u)| UsageSampleRow {
            ts_ms,
            depth: depth as i64,
            in_use: i64::from(u.in_use),
            quota: i64::from(u.quota),
            pending: i64::from(u.waiting),
        })
        .collect();
    let keep_since = ts_ms - USAGE_HISTORY.as_millis() as i64;
    let stored = engine.store().record_usage(&samples, keep_since).await;
    if let Err(err) = stored {
        tracing::warn!(error = %err, "usage sample not stored");
    }
}
