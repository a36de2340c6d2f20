//! Failover: every heartbeat (a round, which then settles the quota shares: `quota`, as it
//! also does between heartbeats when asked: `rounds`), a live
//! replica declares dead the replicas whose heartbeat is older than the lease, claims its
//! share of the unfinished jobs no live replica owns, and continues them through the engine's
//! restore path (`Engine::adopt`).
//!
//! Declaring a replica dead comes first and commits alone: it waits for any write of that
//! replica still holding its row's share lock and refuses every later one (`store::cluster`),
//! so what the claim reads next is everything the dead replica will ever have written. The
//! claim takes at most the ceiling of orphans over live replicas per round (`for update skip
//! locked`), so concurrent survivors share the work instead of one taking it all. Jobs it
//! claimed and could not load (the store failed it midway) it gives back at once, so they are
//! orphans again for the next round rather than owned by a replica that does not drive them.

use std::sync::Arc;
use std::time::Duration;

use super::rounds::{Rounds, Trigger};
use super::Membership;
use crate::engine::Engine;
use serde_json::json;

use crate::events::{now_ms, EventDraft, EventKind};
use crate::store::{Orphan, StoreError};

/// Starts the failover sweep for this replica.
pub fn spawn(membership: Arc<Membership>, engine: Engine, tracker: &tokio_util::task::TaskTracker) {
    super::quota::start_with_none(&membership, &engine);
    if membership.enabled {
        tracker.spawn(run(membership, engine));
    }
}

async fn run(membership: Arc<Membership>, engine: Engine) {
    let (heartbeat_s, _) = membership.timing();
    let mut every = tokio::time::interval(Duration::from_secs(heartbeat_s));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut rounds = Rounds::default();
    while !membership.lost().is_cancelled() {
        let trigger = tokio::select! {
            _ = every.tick() => Trigger::Heartbeat,
            trigger = rounds.due(&membership, &engine) => trigger,
        };
        // A replica that cannot show it is a member takes nothing on.
        if membership.is_member() {
            round(&membership, &engine, &mut rounds, trigger).await;
        }
    }
}

/// A heartbeat's round (failover, shares, the steward's work), or a settling of shares alone.
async fn round(membership: &Arc<Membership>, engine: &Engine, rounds: &mut Rounds, trigger: Trigger) {
    let heartbeat = trigger == Trigger::Heartbeat;
    if heartbeat {
        if let Err(err) = sweep(membership, engine).await {
            log_failed(&err);
        }
    }
    if let Err(err) = rounds.settle(membership, engine, trigger).await {
        log_unsettled(&err);
    }
    if heartbeat {
        super::steward::round(membership, engine).await;
    }
}

/// One round: declare the lapsed, claim a share of the orphans, continue them.
async fn sweep(membership: &Membership, engine: &Engine) -> Result<(), SweepError> {
    let Some(cluster) = membership.joined() else { return Ok(()) };
    let now = now_ms();
    let declared = cluster.declare_lapsed(now - membership.lease_ms(), now).await?;
    if !declared.is_empty() {
        membership.refresh().await;
        log_declared(&declared);
        for replica in &declared {
            let data = json!({"replica": replica, "state": "dead", "by": membership.replica_id});
            engine.record_event(EventDraft::server(EventKind::ReplicaLeft, None, &data));
        }
    }
    let orphans = cluster.orphan_count().await?;
    if orphans == 0 {
        return Ok(());
    }
    let live = i64::try_from(membership.live_count().max(1)).unwrap_or(1);
    let claimed = cluster.claim_orphans(membership.replica_id, (orphans + live - 1) / live).await?;
    if claimed.is_empty() {
        return Ok(());
    }
    for orphan in &claimed {
        let data = json!({"job_id": orphan.id, "from": orphan.owner, "by": membership.replica_id});
        engine.record_event(EventDraft::job(EventKind::JobTakenOver, orphan.id, Some(0), &data));
    }
    match engine.adopt(&claimed, &membership.host()).await {
        Ok(taken) => log_taken(&claimed, taken),
        Err(err) => {
            // Loaded here they are not, so they must not stay owned here: given back to the
            // replica they came from (gone), they are orphans again for the next round.
            let ids: Vec<uuid::Uuid> = claimed.iter().map(|orphan| orphan.id).collect();
            let returned = cluster.give_back(membership.replica_id, &ids).await?;
            log_given_back(&err, returned);
        }
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
enum SweepError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Engine(#[from] crate::engine::EngineError),
}

fn log_failed(err: &SweepError) {
    tracing::warn!(error = %err, "the failover sweep failed; it runs again at the next heartbeat");
}

fn log_unsettled(err: &super::quota::SettleError) {
    tracing::warn!(error = %err, "quota shares were not settled; they are at the next heartbeat");
}

fn log_declared(replicas: &[uuid::Uuid]) {
    tracing::warn!(?replicas, "declared replicas dead: their heartbeats are older than the lease");
}

fn log_given_back(err: &crate::engine::EngineError, jobs: u64) {
    tracing::warn!(error = %err, jobs, "could not load the jobs claimed; gave them back for the next round");
}

fn log_taken(claimed: &[Orphan], taken: usize) {
    tracing::warn!(claimed = claimed.len(), taken, "took over jobs of replicas that are gone");
}
