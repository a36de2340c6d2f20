//! What one replica does for the whole cluster, and what every replica follows from the others.
//!
//! The steward ([`Membership::steward`], the oldest live replica) holds the agents' mailboxes:
//! an agent's mailbox belongs to no job, so no job's owner can keep it, and a message must be
//! delivered by one replica to be delivered once (the API passes every agent-mailbox request
//! to the steward: `api/forward.rs`). Each round it brings in the agents' messages other
//! replicas stored (a model on another replica writing to `agent:NAME`); the first round it
//! holds them it brings in everything open, so a new steward goes on where the last stopped.
//!
//! Every replica re-reads the agent registry each round, so an agent made, changed or removed
//! on one replica is staffed, refused or retired on the others within a heartbeat.

use super::Membership;
use crate::engine::Engine;

/// One round of this replica's duties for the cluster; failures are logged and tried again
/// at the next heartbeat.
pub async fn round(membership: &Membership, engine: &Engine) {
    if !membership.enabled {
        return;
    }
    if let Err(err) = engine.refresh_registry().await {
        log_failed("the agent registry was not re-read", &err);
    }
    if membership.is_steward() {
        if let Err(err) = engine.gather_agent_mail().await {
            log_failed("the agents' mail was not gathered", &err);
        }
    }
}

fn log_failed(what: &str, err: &crate::engine::EngineError) {
    tracing::warn!(error = %err, "{what}; it is tried again at the next heartbeat");
}
