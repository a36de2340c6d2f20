//! Choosing an agent for a node: plain code over the roster, no I/O, tested exactly.
//!
//! A named agent is taken when it is active and has room. A delegation looks at the agents
//! that meet every requirement (and, with `scope: subordinates`, report to the manager's line)
//! and takes, among the active ones with room, the one with the best score: the weights of
//! the preferences it meets, less 100 points for a full load (so a preference worth 50 is
//! worth being half as busy again). Ties go to the agent that has taken on fewest tasks, then
//! to the first name, so equal agents share work evenly even when tasks never overlap. A sticky
//! delegation goes back to the agent that served it before, and waits for it while it is busy.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::agent::{AgentSpec, AgentStatus};
use crate::domain::staffing::{Condition, DelegateSpec, Scope};

/// Points a full load costs, against preference weights of 1–100.
const LOAD_POINTS: f64 = 100.0;

/// An agent in the roster with its live load.
#[derive(Debug, Clone)]
pub struct Member {
    pub spec: Arc<AgentSpec>,
    pub created_ms: i64,
    pub updated_ms: i64,
    /// Tasks it holds now (assigned and not ended).
    pub running: u32,
    /// Tasks it has taken on since this server started (the tie-break).
    pub served: u64,
    /// In a cluster, the places of its concurrency this replica may fill (`cluster::quota`);
    /// on its own, none (all of them).
    pub share: Option<u32>,
    /// In a cluster, its fair part of the places as the last round worked it out: a share
    /// above it (tasks held when it was lowered) comes down with each task that ends.
    pub target: Option<u32>,
}

impl Member {
    /// The tasks it may hold here at once: its concurrency, or this replica's share of it.
    pub fn capacity(&self) -> u32 {
        self.share.map_or(self.spec.concurrency, |share| share.min(self.spec.concurrency))
    }

    fn has_room(&self) -> bool {
        self.spec.status == AgentStatus::Active && self.running < self.capacity()
    }

    /// "1 of 2", or in a cluster "1 of 1 here (2 across the cluster)".
    fn busy(&self) -> String {
        match self.share {
            None => format!("{} of {}", self.running, self.spec.concurrency),
            Some(_) => {
                format!("{} of {} here ({} across the cluster)", self.running, self.capacity(), self.spec.concurrency)
            }
        }
    }

    fn load(&self) -> f64 {
        f64::from(self.running) / f64::from(self.spec.concurrency.max(1))
    }
}

/// What a node asks for.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ask<'a> {
    /// `agent: NAME`.
    pub named: Option<&'a str>,
    /// `delegate: {…}`.
    pub delegate: Option<&'a DelegateSpec>,
    /// The agent running the nearest staffed ancestor (`scope: subordinates`).
    pub boss: Option<&'a str>,
    /// The agent that served the same job and requirements before (`sticky`).
    pub sticky_to: Option<&'a str>,
}

/// The outcome of a pick.
#[derive(Debug, Clone, PartialEq)]
pub enum Pick {
    Chosen {
        agent: String,
        reason: String,
    },
    /// No eligible agent has room now; why.
    Wait(String),
}

/// Picks an agent for `ask` from `members`.
pub fn pick(members: &BTreeMap<String, Member>, ask: &Ask<'_>) -> Pick {
    match (ask.named, ask.delegate) {
        (Some(name), _) => named(members, name),
        (None, Some(delegate)) => delegated(members, delegate, ask),
        (None, None) => Pick::Wait("the node asks for no agent".into()),
    }
}

fn named(members: &BTreeMap<String, Member>, name: &str) -> Pick {
    let Some(member) = members.get(name) else { return Pick::Wait(format!("no agent named '{name}' is registered")) };
    match member.spec.status {
        AgentStatus::Active if member.has_room() => {
            Pick::Chosen { agent: name.to_string(), reason: format!("named by the node ({} busy)", member.busy()) }
        }
        AgentStatus::Active => Pick::Wait(format!("'{name}' is busy ({})", member.busy())),
        status => Pick::Wait(format!("'{name}' is {}", status.as_str())),
    }
}

fn delegated(members: &BTreeMap<String, Member>, delegate: &DelegateSpec, ask: &Ask<'_>) -> Pick {
    if delegate.scope == Scope::Subordinates && ask.boss.is_none() {
        return Pick::Wait("`scope: subordinates`, and no ancestor is run by an agent".into());
    }
    let matching = eligible(members, delegate, ask);
    if let Some(member) = sticky(&matching, delegate, ask) {
        let name = &member.spec.name;
        return match member.has_room() {
            true => Pick::Chosen {
                agent: name.clone(),
                reason: format!("sticky: '{name}' served this job's {} before", wanted(delegate)),
            },
            false => Pick::Wait(format!("sticky to '{name}', which is busy ({})", member.busy())),
        };
    }
    best(&matching, delegate).unwrap_or_else(|| Pick::Wait(nobody(&matching, delegate)))
}

/// The agents that are not retired, meet every requirement and are in scope.
fn eligible<'m>(members: &'m BTreeMap<String, Member>, delegate: &DelegateSpec, ask: &Ask<'_>) -> Vec<&'m Member> {
    let required: Vec<Condition> = delegate.require.iter().filter_map(|r| Condition::parse(r).ok()).collect();
    let in_scope = |m: &&Member| match (delegate.scope, ask.boss) {
        (Scope::Subordinates, Some(boss)) => reports_under(members, &m.spec.name, boss),
        (Scope::Subordinates, None) => false,
        _ => true,
    };
    members
        .values()
        .filter(|m| m.spec.status != AgentStatus::Retired && m.spec.meets(&required))
        .filter(in_scope)
        .collect()
}

/// The active agent a sticky delegation goes back to, if it has one.
fn sticky<'m>(matching: &[&'m Member], delegate: &DelegateSpec, ask: &Ask<'_>) -> Option<&'m Member> {
    let name = ask.sticky_to.filter(|_| delegate.sticky)?;
    matching.iter().copied().find(|m| m.spec.name == name && m.spec.status == AgentStatus::Active)
}

/// The active agents a node that waits could be given once one has room: what it asks of
/// the cluster's places (`cluster::quota` counts it in their demand).
pub fn candidates(members: &BTreeMap<String, Member>, ask: &Ask<'_>) -> Vec<String> {
    let active = |m: &&Member| m.spec.status == AgentStatus::Active;
    let chosen: Vec<&Member> = match (ask.named, ask.delegate) {
        (Some(name), _) => members.get(name).into_iter().collect(),
        (None, Some(delegate)) => {
            let matching = eligible(members, delegate, ask);
            match sticky(&matching, delegate, ask) {
                Some(member) => vec![member],
                None => matching,
            }
        }
        (None, None) => Vec::new(),
    };
    chosen.into_iter().filter(active).map(|m| m.spec.name.clone()).collect()
}

fn best(matching: &[&Member], delegate: &DelegateSpec) -> Option<Pick> {
    let preferences: Vec<(Condition, u32)> =
        delegate.prefer.iter().filter_map(|p| Condition::of(p).ok().map(|c| (c, p.weight))).collect();
    let points =
        |m: &Member| -> u32 { preferences.iter().filter(|(c, _)| c.holds(&m.spec.capabilities)).map(|(_, w)| w).sum() };
    let score = |m: &Member| f64::from(points(m)) - LOAD_POINTS * m.load();
    let chosen = matching.iter().filter(|m| m.has_room()).max_by(|a, b| {
        score(a).total_cmp(&score(b)).then(b.served.cmp(&a.served)).then(b.spec.name.cmp(&a.spec.name))
    })?;
    let reason = format!(
        "{} of {} matching agents had room; '{}' had {} busy and met {} preference points",
        matching.iter().filter(|m| m.has_room()).count(),
        matching.len(),
        chosen.spec.name,
        chosen.busy(),
        points(chosen)
    );
    Some(Pick::Chosen { agent: chosen.spec.name.clone(), reason })
}

fn nobody(matching: &[&Member], delegate: &DelegateSpec) -> String {
    if matching.is_empty() {
        return format!("no agent matches {}", wanted(delegate));
    }
    let paused = matching.iter().filter(|m| m.spec.status == AgentStatus::Paused).count();
    format!("all {} agents matching {} are busy or paused ({paused} paused)", matching.len(), wanted(delegate))
}

fn wanted(delegate: &DelegateSpec) -> String {
    match delegate.require.is_empty() {
        true => "any capability".into(),
        false => format!("[{}]", delegate.require.join(", ")),
    }
}

/// Whether `agent` reports, directly or not, to `boss`.
pub fn reports_under(members: &BTreeMap<String, Member>, agent: &str, boss: &str) -> bool {
    let mut at = members.get(agent).and_then(|m| m.spec.reports_to.as_deref());
    // A registry never holds a cycle; the bound only keeps a corrupt one from looping.
    for _ in 0..members.len() {
        match at {
            Some(manager) if manager == boss => return true,
            Some(manager) => at = members.get(manager).and_then(|m| m.spec.reports_to.as_deref()),
            None => return false,
        }
    }
    false
}

#[cfg(test)]
#[path = "matching_tests.rs"]
mod tests;
