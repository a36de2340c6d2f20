//! Global quotas: each depth's quota holds across the cluster, not per replica.
//!
//! Shares, not slot rows: every replica grants from its own share of each depth in memory
//! (the engine's `ResourceManager`), so taking a slot costs no round trip to the database.
//! Once a round (every heartbeat) each replica stores its demand (slots held plus nodes
//! waiting, per depth), works out what it should hold from the live replicas' demands
//! ([`fair_split`]: max-min fair, the rest spread evenly, the odd slot rotating), and moves
//! its share toward that:
//!
//! - lower: it first stops granting past the lower figure (never taking back a running
//!   slot: the share comes down only as far as the slots it holds), stores the ends of the
//!   slots it gave back (a journal flush), then stores the lower share;
//! - higher: the store raises it only into the room the others' stored shares leave, under
//!   one lock (`store::cluster_quota`), and the engine grants past the old figure only after
//!   that commit.
//!
//! So at every moment the slots held on each replica are at most its stored share, and the
//! stored shares add up to at most the quota: the sum over replicas never exceeds it. A gone
//! replica's share is released only once its jobs are taken over and the workers it left are
//! stopped. The cost: a slot moves between replicas at heartbeat pace, so a depth whose quota
//! is smaller than the replicas wanting it hands its slots round every few beats.
//!
//! An agent's concurrency is shared the same way in the same round: each replica's demand
//! for an agent is the tasks it holds plus its nodes waiting that the agent could serve, and
//! the roster fills only this replica's share of the agent's places (`workforce::shares`).

use std::collections::BTreeMap;
use std::sync::Arc;

use uuid::Uuid;

use super::{Membership, ReplicaState};
use crate::domain::DEPTHS;
use crate::engine::resources::DepthUsage;
use crate::engine::Engine;
use crate::events::now_ms;
use crate::store::AgentWant;

/// Beats during which the odd slot of an uneven split stays with the same replicas.
const ROTATE_EVERY_BEATS: i64 = 10;

/// Why a round of settling shares did not finish (it is tried again at the next beat).
#[derive(Debug, thiserror::Error)]
pub enum SettleError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Engine(#[from] crate::engine::EngineError),
}

/// A replica in a cluster starts with no share: it grants nothing, and fills no agent's
/// places, until its first round has stored its shares.
pub fn start_with_none(membership: &Membership, engine: &Engine) {
    if membership.enabled {
        engine.resources().set_shares([0; DEPTHS]);
        engine.workforce().join_cluster();
    }
}

/// Slots each depth wants here: those held plus those waiting.
pub fn depth_demand(usage: &[DepthUsage; DEPTHS]) -> [u32; DEPTHS] {
    std::array::from_fn(|d| usage[d].in_use + usage[d].waiting)
}

/// What a round left: whether it gave room back (lowered a share), and the shares it stored.
#[derive(Debug, Default)]
pub struct Settled {
    pub lowered: bool,
    pub depths: [u32; DEPTHS],
    pub agents: BTreeMap<String, u32>,
}

/// One round: releases the shares of gone replicas whose jobs are taken over (when
/// `release_gone`: the heartbeat's rounds), then moves this replica's shares toward its fair
/// part of every depth's quota and every agent's places.
pub async fn settle(membership: &Arc<Membership>, engine: &Engine, release_gone: bool) -> Result<Settled, SettleError> {
    let Some(cluster) = membership.joined() else { return Ok(Settled::default()) };
    if release_gone {
        cluster.release_gone_shares().await?;
    }
    let resources = engine.resources();
    let usage = resources.usage();
    let demand = depth_demand(&usage);
    let targets = targets(membership, &demand, &resources.quotas());
    let capped = resources.cap_shares(targets);
    let (agents, agents_lowered) = lower_agents(membership, engine).await?;
    let lowered = agents_lowered || (0..DEPTHS).any(|d| capped[d] < usage[d].share);
    if lowered {
        // The ends of the slots (and tasks) given back are stored before their room is
        // offered to others.
        engine.flush().await?;
    }
    let wanted: Vec<i32> = (0..DEPTHS).map(|d| to_i32(targets[d].max(capped[d]))).collect();
    let quotas: Vec<i32> = resources.quotas().iter().map(|&q| to_i32(q)).collect();
    let demand: Vec<i32> = demand.iter().map(|&n| to_i32(n)).collect();
    let stored = cluster.settle_shares(membership.replica_id, &wanted, &demand, &quotas).await?;
    let mut settled = Settled { lowered, ..Settled::default() };
    settled.depths = std::array::from_fn(|d| stored.get(d).map_or(0, |&s| u32::try_from(s).unwrap_or(0)));
    resources.set_shares(settled.depths);
    if !agents.is_empty() {
        let stored = cluster.settle_agent_shares(membership.replica_id, &agents).await?;
        settled.agents = stored.into_iter().map(|(agent, s)| (agent, u32::try_from(s).unwrap_or(0))).collect();
        engine.workforce().set_shares(settled.agents.clone());
    }
    Ok(settled)
}

/// Works out this replica's fair part of every agent's places from the live replicas' stored
/// demands and lowers its shares to it at once; what to ask the store for, and whether any
/// share came down.
async fn lower_agents(membership: &Membership, engine: &Engine) -> Result<(Vec<AgentWant>, bool), SettleError> {
    let workforce = engine.workforce();
    let members = workforce.members();
    let Some(cluster) = membership.joined().filter(|_| !members.is_empty()) else { return Ok((Vec::new(), false)) };
    let demand = workforce.demand();
    let mut by_replica: BTreeMap<Uuid, BTreeMap<String, u32>> = BTreeMap::new();
    for (replica, agent, n) in cluster.agent_demands().await? {
        by_replica.entry(replica).or_default().insert(agent, u32::try_from(n).unwrap_or(0));
    }
    by_replica.insert(membership.replica_id, demand.clone());
    let me = by_replica.keys().position(|id| *id == membership.replica_id).unwrap_or(0);
    let offset = rotation(membership);
    let targets: BTreeMap<String, u32> = members
        .iter()
        .map(|member| {
            let name = &member.spec.name;
            let demands: Vec<u32> = by_replica.values().map(|d| d.get(name).copied().unwrap_or(0)).collect();
            (name.clone(), fair_split(member.spec.concurrency, &demands, offset)[me])
        })
        .collect();
    let (capped, lowered) = workforce.cap_shares(&targets);
    let wants = members
        .iter()
        .map(|member| {
            let name = &member.spec.name;
            let wanted = targets.get(name).copied().unwrap_or(0).max(capped.get(name).copied().unwrap_or(0));
            AgentWant {
                agent: name.clone(),
                wanted: to_i32(wanted),
                demand: to_i32(demand.get(name).copied().unwrap_or(0)),
                concurrency: to_i32(member.spec.concurrency),
            }
        })
        .collect();
    Ok((wants, lowered))
}

/// This replica's fair part of each depth's quota, given its demand now and the other live
/// replicas' demands as last stored.
fn targets(membership: &Membership, demand: &[u32; DEPTHS], quotas: &[u32; DEPTHS]) -> [u32; DEPTHS] {
    let live: Vec<(Uuid, Vec<i32>)> = membership
        .replicas()
        .into_iter()
        .filter(|(row, state)| *state == ReplicaState::Live || row.id == membership.replica_id)
        .map(|(row, _)| (row.id, row.demand))
        .collect();
    let Some(me) = live.iter().position(|(id, _)| *id == membership.replica_id) else { return [0; DEPTHS] };
    let offset = rotation(membership);
    std::array::from_fn(|d| {
        let demands: Vec<u32> = live
            .iter()
            .enumerate()
            .map(
                |(i, (_, stored))| {
                    if i == me {
                        demand[d]
                    } else {
                        stored.get(d).map_or(0, |&n| u32::try_from(n).unwrap_or(0))
                    }
                },
            )
            .collect();
        fair_split(quotas[d], &demands, offset)[me]
    })
}

/// Where the odd slot of an uneven split starts now: it moves every few beats, the same on
/// every replica.
fn rotation(membership: &Membership) -> usize {
    let beat = i64::try_from(membership.timing().0 * 1000).unwrap_or(1000).max(1);
    usize::try_from(now_ms() / (beat * ROTATE_EVERY_BEATS)).unwrap_or(0)
}

/// Splits `quota` over replicas with these demands: one slot at a time to each replica that
/// wants more, starting at `offset` (so the odd slot of an uneven split moves round as the
/// offset does), then what no one wants to those holding least, so an idle replica has room
/// for the next job it is given.
pub fn fair_split(quota: u32, demands: &[u32], offset: usize) -> Vec<u32> {
    let n = demands.len();
    let mut shares = vec![0; n];
    if n == 0 {
        return shares;
    }
    let mut left = quota;
    let mut wanting = true;
    while left > 0 && wanting {
        wanting = false;
        for i in (0..n).map(|k| (offset + k) % n) {
            if left > 0 && shares[i] < demands[i] {
                shares[i] += 1;
                left -= 1;
                wanting = true;
            }
        }
    }
    while left > 0 {
        let low = shares.iter().copied().min().unwrap_or(0);
        for i in (0..n).map(|k| (offset + k) % n) {
            if left > 0 && shares[i] == low {
                shares[i] += 1;
                left -= 1;
            }
        }
    }
    shares
}

fn to_i32(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::fair_split;

    #[test]
    fn an_idle_cluster_splits_evenly_the_odd_slot_by_the_offset() {
        assert_eq!(fair_split(8, &[0, 0, 0], 0), [3, 3, 2]);
        assert_eq!(fair_split(8, &[0, 0, 0], 1), [2, 3, 3]);
        assert_eq!(fair_split(8, &[], 0), Vec::<u32>::new());
    }

    #[test]
    fn shares_follow_demand_and_what_no_one_wants_is_spread() {
        assert_eq!(fair_split(10, &[8, 0, 0], 0), [8, 1, 1], "8 wanted, the 2 spare to those holding least");
        assert_eq!(fair_split(9, &[1, 20, 20], 0), [1, 4, 4], "max-min fair: the small demand is met in full");
        assert_eq!(fair_split(6, &[2, 2, 2], 2), [2, 2, 2]);
    }

    #[test]
    fn a_quota_smaller_than_the_replicas_wanting_it_rotates_with_the_offset() {
        let holders: Vec<usize> = (0..3)
            .map(|offset| fair_split(1, &[5, 5, 5], offset).iter().position(|&s| s == 1).expect("one holds it"))
            .collect();
        assert_eq!(holders, [0, 1, 2]);
    }

    #[test]
    fn the_split_never_exceeds_the_quota() {
        for quota in 0..20 {
            for offset in 0..4 {
                let demands = [quota / 2, 3, 0, quota];
                assert_eq!(fair_split(quota, &demands, offset).iter().sum::<u32>(), quota);
            }
        }
    }
}
