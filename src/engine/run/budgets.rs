//! The job's budget as the driver sees it: the books learn every node as it is added, an
//! envelope opens when its node first starts (or the start is refused), closes when it ends,
//! a spawn asking its children more than their parent could have is refused, and a job
//! picked up after a restart gets its books rebuilt from what was stored.

use std::sync::Arc;

use uuid::Uuid;

use super::{JobRun, JobSettings};
use crate::domain::budget::{BudgetLimit, NodeBudget, OnBudgetExhausted};
use crate::domain::{FieldError, NodeSpec};
use crate::engine::budget::{self, Amount, Grant, JobBudget, Limit, OnExhausted, Seat, StoredBooks};
use crate::engine::tree::RtNode;
use crate::engine::EngineCtx;
use crate::store::{BudgetRow, NodeRow, SpendRow};

/// The books of a job starting, knowing every node of its tree.
pub(super) fn start_budget(ctx: &EngineCtx, job_id: Uuid, settings: &JobSettings, nodes: &[RtNode]) -> Arc<JobBudget> {
    let limit = root_limit(settings.budget, nodes[0].spec.budget);
    let budget = ctx.ledger.budgets().start(job_id, &seat(nodes, 0), limit);
    budget.link((1..nodes.len()).map(|i| seat(nodes, i)));
    budget
}

/// Where node `index` sits, for the books.
pub(super) fn seat(nodes: &[RtNode], index: usize) -> Seat {
    let node = &nodes[index];
    Seat { id: node.id, parent: node.parent.map(|p| nodes[p].id), name: node.name.clone(), depth: node.depth }
}

impl JobRun {
    /// Node `index` starts (its first start opens its envelope; later ones change nothing).
    pub(super) fn open_envelope(&self, index: usize) -> Result<(), String> {
        let node = &self.nodes[index];
        let Some(parent) = node.parent else { return Ok(()) };
        let grant = grant_of(node.spec.budget);
        self.budget.open(node.id, self.nodes[parent].id, grant, policy_of(node.spec.on_budget_exhausted))
    }

    /// Children of `parent` asking, in all, for more than `parent` could have.
    pub(super) fn overdrawn(&self, parent: usize, children: &[NodeSpec]) -> Option<FieldError> {
        let asked = children.iter().filter_map(|child| child.budget).filter(|b| b.share.is_none());
        let asked = asked.fold(Amount::ZERO, |sum, b| sum.plus(amount_of(b)));
        let (reachable, envelope) = self.budget.reachable(self.nodes[parent].id);
        let over = |left: Option<i64>, asked: i64| left.is_some_and(|left| asked > left);
        if !over(reachable.micros, asked.micros) && !over(reachable.tokens, asked.tokens) {
            return None;
        }
        let message = format!(
            "{}: the children of node '{}' ask for {}, and the envelope of '{envelope}' can give them {}",
            budget::BUDGET_EXCEEDED,
            self.nodes[parent].name,
            budget::live::amount_text(asked),
            budget::live::limit_text(reachable),
        );
        Some(FieldError { path: "children".into(), message })
    }

    /// The books of a job picked up after a restart: the open envelopes' stored
    /// allocations, and what every node spent by the ledger.
    pub(super) fn rebuild_budget(&self, rows: &[NodeRow], books: &[BudgetRow], spending: &[SpendRow]) {
        let parent_of = |row: &NodeRow| row.parent_id.map(|parent| (row.id, parent));
        let mut stored = budget::Stored {
            links: rows.iter().filter_map(parent_of).collect(),
            open: Vec::new(),
            closed: Vec::new(),
            spending: spending
                .iter()
                .map(|s| (s.node_id, Amount::of_call(s.cost, s.input_tokens, s.output_tokens)))
                .collect(),
        };
        let root = self.nodes[0].id;
        for row in books.iter().filter(|row| row.node_id != root) {
            let Ok(books) = serde_json::from_str::<StoredBooks>(&row.books) else { continue };
            match books.open {
                true => stored.open.push((row.node_id, books.allocated, books.policy)),
                false => stored.closed.push(row.node_id),
            }
        }
        let limit = root_limit(self.settings.budget, self.nodes[0].spec.budget);
        self.budget.rebuild(root, limit, stored);
    }
}

/// A node's budget as the books grant it: drawn on the ancestors when it sets none.
fn grant_of(budget: Option<NodeBudget>) -> Grant {
    match budget {
        None => Grant::Draw,
        Some(NodeBudget { share: Some(fraction), .. }) => Grant::Share(fraction),
        Some(budget) => Grant::Amount(limit_of(budget.cost, budget.tokens)),
    }
}

/// `ask_human` is `fail` until approvals exist (said at submission).
fn policy_of(policy: Option<OnBudgetExhausted>) -> OnExhausted {
    match policy.unwrap_or_default() {
        OnBudgetExhausted::AskParent => OnExhausted::AskParent,
        OnBudgetExhausted::Fail | OnBudgetExhausted::AskHuman => OnExhausted::Fail,
    }
}

fn limit_of(cost: Option<f64>, tokens: Option<u64>) -> Limit {
    Limit {
        micros: cost.map(|c| (c * 1_000_000.0).round() as i64),
        tokens: tokens.map(|t| i64::try_from(t).unwrap_or(i64::MAX)),
    }
}

fn amount_of(budget: NodeBudget) -> Amount {
    let limit = limit_of(budget.cost, budget.tokens);
    Amount::new(limit.micros.unwrap_or(0), limit.tokens.unwrap_or(0))
}

/// The job's envelope: its `config.budget`, narrowed by an amount the root sets itself (or
/// a share of it).
fn root_limit(job: Option<BudgetLimit>, root: Option<NodeBudget>) -> Limit {
    let job = job.map_or(Limit::UNLIMITED, |b| limit_of(b.cost, b.tokens));
    let Some(root) = root else { return job };
    if let Some(fraction) = root.share {
        let part = |value: i64| (value as f64 * fraction).floor() as i64;
        return Limit { micros: job.micros.map(part), tokens: job.tokens.map(part) };
    }
    let own = limit_of(root.cost, root.tokens);
    let narrower = |a: Option<i64>, b: Option<i64>| match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    Limit { micros: narrower(job.micros, own.micros), tokens: narrower(job.tokens, own.tokens) }
}
