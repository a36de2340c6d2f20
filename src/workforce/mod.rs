//! The standing workforce (issue 16; `docs/WORKFORCE.md`): the registry of agents — who they
//! are, whom they report to, what they can do, the executor a node they take on runs — and
//! the live roster the job drivers delegate through.
//!
//! A room beside the engine: it imports the domain and nothing of the engine or the store.
//! The engine keeps the registry's rows (through the journal, `engine::agents`) and calls in
//! here to check a registration, to pick an agent for a node ([`Workforce::try_assign`],
//! plain code in [`matching`]) and to hold it while the node runs ([`Lease`]). The roster in
//! memory is a cache of the stored registry plus the load no store needs to keep: which nodes
//! each agent holds now (rebuilt from stored delegations when a driver restores a job).

pub mod agent;
pub mod matching;
pub mod meters;
pub mod org;
pub mod shares;
pub mod templates;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;
use uuid::Uuid;

use crate::domain::staffing::{Condition, DelegateSpec, Scope};
use crate::domain::{FieldError, NodeSpec, PlanLimits};
use agent::{AgentSpec, AgentStatus};
use matching::{Ask, Member, Pick};

/// The registry's cache and the agents' live load; cheap to clone.
#[derive(Clone, Default)]
pub struct Workforce {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    roster: Mutex<Roster>,
    /// Woken whenever an agent frees a place or the registry changes.
    changed: Notify,
    meters: meters::Meters,
}

#[derive(Default)]
struct Roster {
    members: BTreeMap<String, Member>,
    /// The agent that last served a job's delegation with given requirements.
    served: HashMap<(Uuid, String), String>,
    /// In a cluster: each member holds this replica's share of its places (`Member::share`).
    clustered: bool,
    /// The nodes waiting for an agent, with the agents that could serve each.
    waiting: HashMap<Uuid, Vec<String>>,
}

/// An agent held by a node until the node ends; dropping it frees the place.
pub struct Lease {
    workforce: Workforce,
    agent: String,
    node_id: Uuid,
    started: std::time::Instant,
}

impl Lease {
    pub fn agent(&self) -> &str {
        &self.agent
    }

    /// The node ended: counted as its agent's success (`Some(true)`) or failure
    /// (`Some(false)`) — a cancelled task (`None`) as neither — and the place freed.
    pub fn end(self, succeeded: Option<bool>) {
        if let Some(succeeded) = succeeded {
            self.workforce.inner.meters.ended(&self.agent, succeeded, self.started.elapsed());
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let mut roster = self.workforce.roster();
        if let Some(member) = roster.members.get_mut(&self.agent) {
            member.running = member.running.saturating_sub(1);
            // Owed to other replicas: the place is given back, not filled here.
            if let (Some(share), Some(target)) = (member.share, member.target) {
                member.share = Some(crate::domain::share::after_one_ended(share, target));
            }
        }
        drop(roster);
        self.workforce.inner.meters.forget_node(self.node_id);
        self.workforce.inner.changed.notify_waiters();
    }
}

impl Workforce {
    fn roster(&self) -> MutexGuard<'_, Roster> {
        self.inner.roster.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Puts an agent (new or changed) into the roster, keeping its live load.
    pub fn put(&self, spec: AgentSpec, created_ms: i64, updated_ms: i64) {
        let mut roster = self.roster();
        let kept = roster.members.get(&spec.name);
        let (running, served) = kept.map_or((0, 0), |m| (m.running, m.served));
        // A new agent in a cluster has no place here until a settling gives it a share.
        let share = kept.and_then(|m| m.share).or(roster.clustered.then_some(0));
        let target = kept.and_then(|m| m.target);
        let member = Member { spec: Arc::new(spec), created_ms, updated_ms, running, served, share, target };
        roster.members.insert(member.spec.name.clone(), member);
        drop(roster);
        self.inner.changed.notify_waiters();
    }

    /// Takes an agent out of the roster.
    pub fn remove(&self, name: &str) {
        self.roster().members.remove(name);
        self.inner.changed.notify_waiters();
    }

    /// Every agent, by name.
    pub fn members(&self) -> Vec<Member> {
        self.roster().members.values().cloned().collect()
    }

    /// One agent.
    pub fn member(&self, name: &str) -> Option<Member> {
        self.roster().members.get(name).cloned()
    }

    /// The counters `/metrics` shows.
    pub fn meters(&self) -> &meters::Meters {
        &self.inner.meters
    }

    /// Resolves once an agent frees a place or the registry changes after this call.
    pub fn changed(&self) -> tokio::sync::futures::Notified<'_> {
        self.inner.changed.notified()
    }

    /// Picks and holds an agent for node `node_id` of `job_id`, or says why none can be
    /// had now. `ask.sticky_to` is filled from what served the job before.
    pub fn try_assign(&self, job_id: Uuid, node_id: Uuid, ask: &Ask<'_>) -> Result<(Lease, String), String> {
        let mut roster = self.roster();
        let key = ask.delegate.map(|d| served_key(job_id, d));
        let sticky = key.as_ref().and_then(|k| roster.served.get(k).cloned());
        let ask = Ask { sticky_to: sticky.as_deref(), ..*ask };
        match matching::pick(&roster.members, &ask) {
            Pick::Wait(why) => {
                let candidates = matching::candidates(&roster.members, &ask);
                roster.waiting.insert(node_id, candidates);
                Err(why)
            }
            Pick::Chosen { agent, reason } => {
                roster.waiting.remove(&node_id);
                if let Some(key) = key {
                    roster.served.insert(key, agent.clone());
                }
                // Held under the same lock as the pick: no other pick, and no settling of
                // this replica's shares, sees the place as free in between.
                Ok((self.hold(roster, &agent, node_id, true), reason))
            }
        }
    }

    /// Holds `agent` for a node whatever its load: a node restored after a restart keeps the
    /// agent it had; `delegate`, when it was delegated, is remembered for stickiness.
    pub fn resume(&self, job_id: Uuid, node_id: Uuid, agent: &str, delegate: Option<&DelegateSpec>) -> Lease {
        let mut roster = self.roster();
        if let Some(delegate) = delegate {
            roster.served.insert(served_key(job_id, delegate), agent.to_string());
        }
        self.hold(roster, agent, node_id, false)
    }

    fn hold(&self, mut roster: MutexGuard<'_, Roster>, agent: &str, node_id: Uuid, fresh: bool) -> Lease {
        if let Some(member) = roster.members.get_mut(agent) {
            member.running += 1;
            member.served += u64::from(fresh);
        }
        drop(roster);
        self.inner.meters.started(agent, node_id, fresh);
        Lease { workforce: self.clone(), agent: agent.to_string(), node_id, started: std::time::Instant::now() }
    }

    /// Node `node_id` waits for an agent no more (it timed out, was cancelled, or its job ended).
    pub fn stop_waiting(&self, node_id: Uuid) {
        self.roster().waiting.remove(&node_id);
    }

    /// A job ended: what served it is forgotten.
    pub fn forget_job(&self, job_id: Uuid) {
        self.roster().served.retain(|(job, _), _| *job != job_id);
    }

    /// Whether `agent` reports, directly or not, to `boss`.
    pub fn reports_under(&self, agent: &str, boss: &str) -> bool {
        matching::reports_under(&self.roster().members, agent, boss)
    }

    /// What is wrong with registering `spec` (a new agent when `new`, else a change of the
    /// one with its name): its own problems, a manager that is not registered, a cycle.
    pub fn check(&self, spec: &AgentSpec, new: bool, limits: &PlanLimits) -> Vec<FieldError> {
        let mut found = spec.problems(limits);
        let roster = self.roster();
        let error = |path: &str, message: String| FieldError { path: path.into(), message };
        if new && roster.members.contains_key(&spec.name) {
            found.push(error("name", format!("an agent named '{}' is already registered", spec.name)));
        }
        let Some(manager) = spec.reports_to.as_deref().filter(|m| *m != spec.name) else { return found };
        if !roster.members.contains_key(manager) {
            found.push(error("reports_to", format!("no agent named '{manager}' is registered")));
        } else if matching::reports_under(&roster.members, manager, &spec.name) {
            found.push(error("reports_to", format!("'{manager}' reports to '{}': that would be a cycle", spec.name)));
        }
        found
    }

    /// Why `name` cannot be removed now, if it cannot: it holds tasks, or others report to it.
    pub fn removal_blocked(&self, name: &str) -> Option<String> {
        let roster = self.roster();
        let member = roster.members.get(name)?;
        if member.running > 0 {
            return Some(format!("'{name}' holds {} running tasks: pause or retire it first", member.running));
        }
        let reports: Vec<&str> = roster
            .members
            .values()
            .filter(|m| m.spec.reports_to.as_deref() == Some(name))
            .map(|m| m.spec.name.as_str())
            .collect();
        (!reports.is_empty())
            .then(|| format!("{} report to '{name}': give them another manager first", reports.join(", ")))
    }

    /// A submitted plan's agents against the registry: a named agent must be registered and
    /// not retired, and some agent that is not retired must meet each delegation's
    /// requirements (it may be busy or paused now; the node waits).
    pub fn check_plan(&self, nodes: &[(String, &NodeSpec)]) -> Vec<FieldError> {
        let roster = self.roster();
        let mut found = Vec::new();
        let mut stack = nodes.to_vec();
        while let Some((path, node)) = stack.pop() {
            if let Some(problem) = staffing_problem(&roster.members, node) {
                found.push(FieldError { path: format!("{path}.{}", problem.0), message: problem.1 });
            }
            for (i, child) in node.children.iter().flatten().enumerate() {
                stack.push((format!("{path}.children[{i}]"), child));
            }
        }
        found
    }
}

fn staffing_problem(members: &BTreeMap<String, Member>, node: &NodeSpec) -> Option<(&'static str, String)> {
    if let Some(name) = &node.agent {
        return match members.get(name).map(|m| m.spec.status) {
            None => Some(("agent", format!("no agent named '{name}' is registered"))),
            Some(AgentStatus::Retired) => Some(("agent", format!("'{name}' is retired"))),
            Some(_) => None,
        };
    }
    if let Some(problem) = node.delegate.as_ref().and_then(|d| unmatched(members, d)) {
        return Some(("delegate.require", problem));
    }
    let planned = node.decompose.as_ref().and_then(|d| d.delegate.as_ref())?;
    unmatched(members, planned).map(|problem| ("decompose.delegate.require", problem))
}

fn unmatched(members: &BTreeMap<String, Member>, delegate: &DelegateSpec) -> Option<String> {
    let required: Vec<Condition> = delegate.require.iter().filter_map(|r| Condition::parse(r).ok()).collect();
    let any = members.values().any(|m| m.spec.status != AgentStatus::Retired && m.spec.meets(&required));
    (!any).then(|| format!("no registered agent that is not retired meets [{}]", delegate.require.join(", ")))
}

/// What makes two delegations of a job "the same" for stickiness: their requirements and scope.
fn served_key(job_id: Uuid, delegate: &DelegateSpec) -> (Uuid, String) {
    let mut require = delegate.require.clone();
    require.sort();
    let scope = if delegate.scope == Scope::Subordinates { "/subordinates" } else { "" };
    (job_id, format!("{}{scope}", require.join(",")))
}
