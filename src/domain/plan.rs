//! Turns a validated plan tree into the flat list of nodes that the store keeps and the
//! engine runs. Inherited settings (retry policy, failure policy, role) are resolved here,
//! once, so neither the engine nor a later restart has to walk the spec again.

use std::collections::HashSet;
use std::sync::Arc;

use rand::Rng;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::recovery::RecoverySpec;
use super::spec::{Aggregate, ExecutorSpec, FailurePolicy, JobSpec, NodeSpec, ResourceLimits, RetrySpec};
use super::PlanLimits;

/// A retry policy with every default filled in (SPEC §2.4).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Wait before the second attempt.
    pub initial_backoff_ms: u64,
    /// Growth of the wait per attempt.
    pub multiplier: f64,
    /// Upper bound of the wait.
    pub max_backoff_ms: u64,
    /// Randomise each wait between half and all of it.
    pub jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_attempts: 3, initial_backoff_ms: 200, multiplier: 2.0, max_backoff_ms: 30_000, jitter: true }
    }
}

impl RetryPolicy {
    /// This policy with the fields `spec` sets overridden.
    pub fn overridden_by(self, spec: &RetrySpec) -> Self {
        Self {
            max_attempts: spec.max_attempts.unwrap_or(self.max_attempts),
            initial_backoff_ms: spec.initial_backoff_ms.unwrap_or(self.initial_backoff_ms),
            multiplier: spec.multiplier.unwrap_or(self.multiplier),
            max_backoff_ms: spec.max_backoff_ms.unwrap_or(self.max_backoff_ms),
            jitter: spec.jitter.unwrap_or(self.jitter),
        }
    }

    /// The wait after failed attempt number `attempt` (1-based): exponential, capped, and with
    /// jitter spread over [half, all] so that retries of many siblings do not stampede.
    pub fn backoff_ms(&self, attempt: u32, rng: &mut impl Rng) -> u64 {
        let exponent = attempt.saturating_sub(1).min(63) as i32;
        let raw = self.initial_backoff_ms as f64 * self.multiplier.powi(exponent);
        let capped = raw.min(self.max_backoff_ms as f64).max(0.0) as u64;
        if self.jitter && capped > 1 {
            rng.random_range(capped / 2..=capped)
        } else {
            capped
        }
    }
}

/// The part of a node's spec the engine needs at run time, stored as JSON with the node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuntimeSpec {
    /// The task in full (agents read it, their own and their ancestors').
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Sibling names this node waits for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    /// The executor of a worker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<ExecutorSpec>,
    /// An orchestrator whose children a model plans when it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decompose: Option<super::decompose::DecomposeSpec>,
    /// The check a worker's result must pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validate: Option<super::decompose::CheckSpec>,
    /// Resolved retry policy.
    pub retry: RetryPolicy,
    /// How an orchestrator combines results.
    #[serde(default)]
    pub aggregate: Aggregate,
    /// Resolved failure policy of an orchestrator.
    #[serde(default)]
    pub on_child_failure: FailurePolicy,
    /// Cap on children in progress at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_parallel: Option<u32>,
    /// Process limits of a command worker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceLimits>,
    /// The node's own envelope, if any (an earlier version's number reads as none).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "super::budget::stored_budget")]
    pub budget: Option<super::budget::NodeBudget>,
    /// When its envelope cannot cover a call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_budget_exhausted: Option<super::budget::OnBudgetExhausted>,
    /// Resolved recovery policy: the classes it or an ancestor set (the rest take the
    /// defaults of `recovery::default_action`).
    #[serde(default, skip_serializing_if = "RecoverySpec::is_empty")]
    pub recovery: RecoverySpec,
    /// The node's approval, if it has one (not inherited: requests climb the tree instead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<super::approval::ApprovalSpec>,
    /// The agent that does or runs the node, when the workforce staffs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff: Option<super::staffing::Staff>,
}

impl RuntimeSpec {
    /// A worker: a leaf with an executor, or one an agent does.
    pub fn is_worker(&self) -> bool {
        self.run.is_some() || self.staff.as_ref().is_some_and(|s| s.works)
    }
}

/// What a node inherits from its parent: the resolved retry, failure and recovery policies.
#[derive(Debug, Clone)]
pub struct Inherited {
    pub retry: RetryPolicy,
    pub on_child_failure: FailurePolicy,
    pub recovery: Arc<RecoverySpec>,
}

impl Inherited {
    /// What the children of a node with this runtime spec inherit.
    pub fn of(spec: &RuntimeSpec) -> Self {
        Self { retry: spec.retry, on_child_failure: spec.on_child_failure, recovery: Arc::new(spec.recovery.clone()) }
    }

    /// A node's own settings over what it inherits.
    fn under(&self, spec: &NodeSpec) -> Self {
        Self {
            retry: spec.retry.as_ref().map_or(self.retry, |r| self.retry.overridden_by(r)),
            on_child_failure: spec.on_child_failure.unwrap_or(self.on_child_failure),
            recovery: match &spec.recovery {
                Some(own) => Arc::new(super::recovery::inherit(&self.recovery, Some(own))),
                None => self.recovery.clone(),
            },
        }
    }
}

/// One node of a job, flattened: parents always come before their children.
///
/// The strings and the spec are shared (`Arc`) with the job driver's arena and, until they
/// are stored, with the journal: a job's nodes are held once, however many hands they pass
/// through, and a fan-out of identical workers holds one spec, not one each.
#[derive(Debug, Clone)]
pub struct PlannedNode {
    /// Node id.
    pub id: Uuid,
    /// Position of the parent in the flat list.
    pub parent: Option<usize>,
    /// Depth, 0 for the root.
    pub depth: u8,
    /// Name, unique among siblings.
    pub name: Arc<str>,
    /// Title (the name's own string when the spec sets none).
    pub title: Arc<str>,
    /// Role (defaults to the ladder's role for the depth).
    pub role: Arc<str>,
    /// Runtime settings, shared by consecutive nodes whose settings are equal.
    pub spec: Arc<RuntimeSpec>,
    /// `spec` as stored (JSON), shared likewise.
    pub spec_json: Arc<str>,
}

impl PlannedNode {
    /// True for a worker (a leaf with an executor).
    pub fn is_worker(&self) -> bool {
        self.spec.is_worker()
    }

    /// The task fingerprint (SPEC §2.2): normalised title plus executor spec. A spawn whose
    /// fingerprint equals an ancestor's is circular recursion.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.title, self.spec.run.as_ref())
    }
}

/// The fingerprint of a task: its title lower-cased with whitespace collapsed, and its
/// executor spec as JSON.
pub fn fingerprint(title: &str, run: Option<&ExecutorSpec>) -> String {
    let title = title.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    let run = run.map_or_else(|| "orchestrator".to_string(), |r| serde_json::to_string(r).unwrap_or_default());
    format!("{title}\u{1f}{run}")
}

/// Flattens a job's plan (which must have passed validation) in breadth-first order.
pub fn flatten(job: &JobSpec, limits: &PlanLimits) -> Vec<PlannedNode> {
    let Some(root) = &job.plan else { return Vec::new() };
    let base_retry = job.config.retry.as_ref().map_or(limits.default_retry, |r| limits.default_retry.overridden_by(r));
    let base = Inherited {
        retry: base_retry,
        on_child_failure: job.config.on_child_failure.unwrap_or_default(),
        recovery: Arc::default(),
    };
    flatten_from(vec![(root, None, 0u8, base)], limits)
}

/// Flattens children spawned at run time under a node at `parent_depth` with the given
/// inherited policies. Top-level nodes come back with no parent (the caller attaches them);
/// the others point into the returned list.
pub fn flatten_spawned(
    children: &[NodeSpec],
    parent_depth: u8,
    inherited: &Inherited,
    limits: &PlanLimits,
) -> Vec<PlannedNode> {
    flatten_from(children.iter().map(|c| (c, None, parent_depth + 1, inherited.clone())).collect(), limits)
}

type Pending<'a> = (&'a NodeSpec, Option<usize>, u8, Inherited);

fn flatten_from(start: Vec<Pending<'_>>, limits: &PlanLimits) -> Vec<PlannedNode> {
    let mut out = Vec::new();
    let mut shared = Shared::default();
    let mut queue = std::collections::VecDeque::from(start);
    while let Some((spec, parent, depth, inherited)) = queue.pop_front() {
        let own = inherited.under(spec);
        let index = out.len();
        out.push(shared.planned(spec, (parent, depth), &own, limits));
        for child in spec.children.iter().flatten() {
            queue.push_back((child, Some(index), depth + 1, own.clone()));
        }
    }
    out
}

/// What consecutive nodes of one flattening share: roles (a handful of distinct strings) and
/// the last runtime spec with its JSON (breadth-first order puts identical siblings, and
/// whole levels of a generated tree, next to each other).
#[derive(Default)]
struct Shared {
    roles: HashSet<Arc<str>>,
    last_spec: Option<(Arc<RuntimeSpec>, Arc<str>)>,
}

impl Shared {
    fn role(&mut self, role: &str) -> Arc<str> {
        if let Some(known) = self.roles.get(role) {
            return known.clone();
        }
        let role: Arc<str> = role.into();
        self.roles.insert(role.clone());
        role
    }

    fn spec(&mut self, spec: RuntimeSpec) -> (Arc<RuntimeSpec>, Arc<str>) {
        if let Some((last, json)) = &self.last_spec {
            if **last == spec {
                return (last.clone(), json.clone());
            }
        }
        let json: Arc<str> = serde_json::to_string(&spec).unwrap_or_else(|_| "{}".into()).into();
        let spec = Arc::new(spec);
        self.last_spec = Some((spec.clone(), json.clone()));
        (spec, json)
    }

    fn planned(
        &mut self,
        spec: &NodeSpec,
        (parent, depth): (Option<usize>, u8),
        inherited: &Inherited,
        limits: &PlanLimits,
    ) -> PlannedNode {
        let role = spec.role.as_deref().or_else(|| limits.roles.get(depth as usize).map(String::as_str));
        let name: Arc<str> = spec.name.as_str().into();
        let (runtime, spec_json) = self.spec(RuntimeSpec {
            description: spec.description.clone(),
            depends_on: spec.depends_on.clone(),
            run: spec.run.clone(),
            decompose: spec.decompose.clone(),
            validate: spec.validate.clone(),
            retry: inherited.retry,
            aggregate: spec.aggregate.unwrap_or_default(),
            on_child_failure: inherited.on_child_failure,
            max_parallel: spec.max_parallel,
            resources: spec.resources.clone(),
            budget: spec.budget,
            on_budget_exhausted: spec.on_budget_exhausted,
            recovery: (*inherited.recovery).clone(),
            approval: spec.approval.clone(),
            staff: spec.is_staffed().then(|| super::staffing::Staff {
                agent: spec.agent.clone(),
                delegate: spec.delegate.clone(),
                works: spec.children.is_none() && spec.decompose.is_none() && spec.run.is_none(),
            }),
        });
        PlannedNode {
            id: Uuid::now_v7(),
            parent,
            depth,
            title: spec.title.as_deref().map_or_else(|| name.clone(), Arc::from),
            name,
            role: self.role(role.unwrap_or_default()),
            spec: runtime,
            spec_json,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let policy = RetryPolicy { jitter: false, max_backoff_ms: 1000, ..RetryPolicy::default() };
        let mut rng = rand::rng();
        let waits: Vec<u64> = (1..=5).map(|a| policy.backoff_ms(a, &mut rng)).collect();
        assert_eq!(waits, vec![200, 400, 800, 1000, 1000]);
    }

    #[test]
    fn identical_siblings_share_one_spec_and_different_ones_do_not() {
        let job: JobSpec =
            serde_json::from_value(serde_json::json!({"request": "j", "plan": {"name": "root", "children": [
                {"name": "a", "run": {"type": "noop"}},
                {"name": "b", "run": {"type": "noop"}},
                {"name": "c", "title": "Third", "run": {"type": "echo", "value": "hi"}}
            ]}}))
            .expect("spec");
        let limits = crate::config::Config::default().plan_limits();
        let planned = flatten(&job, &limits);
        let [root, a, b, c] = planned.as_slice() else { panic!("four nodes") };
        assert!(Arc::ptr_eq(&a.spec, &b.spec) && Arc::ptr_eq(&a.spec_json, &b.spec_json));
        assert!(!Arc::ptr_eq(&b.spec, &c.spec) && !Arc::ptr_eq(&root.spec, &a.spec));
        assert_eq!(serde_json::from_str::<RuntimeSpec>(&c.spec_json).expect("json"), *c.spec);
        assert!(Arc::ptr_eq(&a.name, &a.title), "a title left out is the name's string");
        assert_eq!((&*c.title, &*c.name), ("Third", "c"));
        assert!(Arc::ptr_eq(&a.role, &b.role), "one string per distinct role");
    }

    #[test]
    fn jitter_stays_within_half_and_all() {
        let policy = RetryPolicy::default();
        let mut rng = rand::rng();
        for _ in 0..100 {
            let wait = policy.backoff_ms(2, &mut rng);
            assert!((200..=400).contains(&wait), "{wait}");
        }
    }
}
