//! Response shapes of the recursion API and their construction from stored rows.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::budget_view::BudgetView;
use crate::domain::{JobStatus, NodeStatus};
use crate::error::ApiError;
use crate::events::ms_to_rfc3339;
use crate::store::{JobRow, NodeRow, NodeUsageRow};

/// Answer to a submission.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SubmitResponse {
    pub job_id: Uuid,
    #[schema(value_type = JobStatus)]
    pub status: String,
    pub root_node_id: Option<Uuid>,
    pub created_at: String,
}

/// A job without its tree.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct JobSummary {
    pub job_id: Uuid,
    #[schema(value_type = JobStatus)]
    pub status: String,
    pub request: String,
    pub labels: BTreeMap<String, String>,
    pub node_count: i64,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// From start to end (or to now, while running).
    pub duration_ms: Option<i64>,
    pub error: Option<String>,
}

/// A job with its tree (`GET /recursion/job/{id}`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct JobView {
    pub job_id: Uuid,
    #[schema(value_type = JobStatus)]
    pub status: String,
    pub request: String,
    pub labels: BTreeMap<String, String>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub counts: Counts,
    pub result: Option<Value>,
    pub error: Option<String>,
    /// What the job's model calls and reported usage cost (the nodes shown); null when none.
    #[serde(default)]
    pub usage: Option<UsageView>,
    /// The job's budget (its root's envelope); null when it has none.
    #[serde(default)]
    pub budget: Option<BudgetView>,
    /// The job's git workspace (`workspace` at submission); null when it declares none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<super::workspace::WorkspaceView>,
    pub tree: Option<NodeView>,
}

/// Tokens and cost from the call ledger: model calls, and usage workers reported. A failed
/// call counts as a call with no tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"input_tokens": 1200, "output_tokens": 340, "cached_tokens": 800, "cost": 0.0042, "calls": 2}))]
pub struct UsageView {
    pub input_tokens: i64,
    pub output_tokens: i64,
    /// Input tokens read from the provider's prompt cache (part of `input_tokens`).
    pub cached_tokens: i64,
    /// At the provider's configured prices, or as a worker reported it.
    pub cost: f64,
    /// Ledger rows: model calls and usage reports.
    pub calls: i64,
}

impl UsageView {
    /// The sums of one node's rows.
    pub fn of(row: &NodeUsageRow) -> Self {
        Self {
            input_tokens: row.input_tokens,
            output_tokens: row.output_tokens,
            cached_tokens: row.cached_tokens,
            cost: row.cost,
            calls: row.calls,
        }
    }

    /// Adds another's figures.
    pub fn add(&mut self, other: &Self) {
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.cached_tokens += other.cached_tokens;
        self.cost += other.cost;
        self.calls += other.calls;
    }

    /// `None` when nothing was recorded.
    pub fn nonzero(self) -> Option<Self> {
        (self.calls > 0).then_some(self)
    }
}

/// Node counts of a job.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct Counts {
    pub by_status: BTreeMap<String, usize>,
    pub by_depth: BTreeMap<String, usize>,
}

/// One node of a job's tree.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NodeView {
    pub id: Uuid,
    pub name: String,
    pub title: String,
    pub role: String,
    pub depth: i64,
    /// `orchestrator` or `worker`.
    #[schema(pattern = "^(orchestrator|worker)$")]
    pub kind: String,
    #[schema(value_type = NodeStatus)]
    pub status: String,
    pub attempts: i64,
    /// Quota slots held now (0 or 1): a node holds one only while it does its own work.
    pub slots: u32,
    /// What this node's own model calls and reported usage cost; null when it has none.
    #[serde(default)]
    pub usage: Option<UsageView>,
    /// This node's and all its descendants' (also those `max_depth` cut off); null when none.
    #[serde(default)]
    pub subtree_usage: Option<UsageView>,
    /// Its budget envelope, when it has one (the root's is the job's); null otherwise.
    #[serde(default)]
    pub budget: Option<BudgetView>,
    /// The agent doing or running the node (or why it still waits for one), when it is staffed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delegation: Option<super::agent_view::DelegationView>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub warnings: Vec<String>,
    /// Number of direct children (also when they are truncated away).
    pub child_count: usize,
    /// True when `max_depth` cut the children off.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub truncated: bool,
    #[schema(no_recursion)]
    pub children: Vec<NodeView>,
}

/// How much of a tree to show, which nodes hold a quota slot now, and what each spent.
#[derive(Debug, Clone, Copy)]
pub struct TreeOptions<'a> {
    pub max_depth: Option<i64>,
    pub results: bool,
    pub holding: &'a HashSet<Uuid>,
    /// The job's ledger sums per node (`Store::job_usage`); nodes not shown are ignored.
    pub usage: &'a [NodeUsageRow],
    /// The job's budget envelopes (`Store::job_budgets`).
    pub budgets: &'a HashMap<Uuid, BudgetView>,
    /// Which agent each staffed node has or waits for.
    pub delegations: &'a HashMap<Uuid, super::agent_view::DelegationView>,
}

/// The nodes shown, their children and what each (and each subtree) spent, by position.
struct Tree<'a> {
    nodes: &'a [NodeRow],
    children: Vec<Vec<usize>>,
    own: Vec<Option<UsageView>>,
    subtree: Vec<Option<UsageView>>,
}

impl<'a> Tree<'a> {
    fn new(nodes: &'a [NodeRow], usage: &[NodeUsageRow]) -> Self {
        let children = children_index(nodes);
        let spent: HashMap<Uuid, UsageView> = usage.iter().map(|row| (row.node_id, UsageView::of(row))).collect();
        let own: Vec<Option<UsageView>> = nodes.iter().map(|n| spent.get(&n.id).copied()).collect();
        // Parents come before their children, so walking backwards sums each subtree once.
        let mut sums: Vec<UsageView> = own.iter().map(|u| u.unwrap_or_default()).collect();
        for index in (0..nodes.len()).rev() {
            let below = children[index].iter().fold(UsageView::default(), |mut total, &c| {
                total.add(&sums[c]);
                total
            });
            sums[index].add(&below);
        }
        let subtree = sums.into_iter().map(UsageView::nonzero).collect();
        Self { nodes, children, own, subtree }
    }

    /// The whole (shown) job's usage.
    fn total(&self) -> Option<UsageView> {
        let mut total = UsageView::default();
        self.own.iter().flatten().for_each(|u| total.add(u));
        total.nonzero()
    }
}

fn json_or_null(text: Option<&String>) -> Option<Value> {
    text.map(|t| serde_json::from_str(t).unwrap_or(Value::Null))
}

fn labels(job: &JobRow) -> BTreeMap<String, String> {
    serde_json::from_str(&job.labels).unwrap_or_default()
}

impl From<&JobRow> for SubmitResponse {
    fn from(job: &JobRow) -> Self {
        Self {
            job_id: job.id,
            status: job.status.clone(),
            root_node_id: job.root_node_id,
            created_at: ms_to_rfc3339(job.created_ms),
        }
    }
}

impl From<&JobRow> for JobSummary {
    fn from(job: &JobRow) -> Self {
        let duration_ms = job.started_ms.map(|s| job.finished_ms.unwrap_or_else(crate::events::now_ms) - s);
        Self {
            job_id: job.id,
            status: job.status.clone(),
            request: job.request.clone(),
            labels: labels(job),
            node_count: job.node_count,
            created_at: ms_to_rfc3339(job.created_ms),
            started_at: job.started_ms.map(ms_to_rfc3339),
            finished_at: job.finished_ms.map(ms_to_rfc3339),
            duration_ms,
            error: job.error.clone(),
        }
    }
}

/// Builds the job view; `nodes` are in stored order (parents first).
pub fn job_view(job: &JobRow, nodes: &[NodeRow], options: TreeOptions<'_>) -> Result<JobView, ApiError> {
    let mut counts = Counts::default();
    for node in nodes {
        *counts.by_status.entry(node.status.clone()).or_default() += 1;
        *counts.by_depth.entry(node.depth.to_string()).or_default() += 1;
    }
    let shown = Tree::new(nodes, options.usage);
    let tree = nodes.first().map(|_| node_view(&shown, 0, options));
    Ok(JobView {
        job_id: job.id,
        status: job.status.clone(),
        request: job.request.clone(),
        labels: labels(job),
        created_at: ms_to_rfc3339(job.created_ms),
        started_at: job.started_ms.map(ms_to_rfc3339),
        finished_at: job.finished_ms.map(ms_to_rfc3339),
        counts,
        result: if options.results { json_or_null(job.result.as_ref()) } else { None },
        error: job.error.clone(),
        usage: shown.total(),
        budget: nodes.first().and_then(|root| options.budgets.get(&root.id).cloned()),
        workspace: super::workspace::WorkspaceView::of_job(job.id, &job.config),
        tree,
    })
}

pub use crate::store::children_index;

fn node_view(tree: &Tree<'_>, index: usize, options: TreeOptions<'_>) -> NodeView {
    let (node, children) = (&tree.nodes[index], &tree.children[index]);
    let truncated = options.max_depth.is_some_and(|max| node.depth >= max) && !children.is_empty();
    let kids = if truncated { Vec::new() } else { children.iter().map(|&c| node_view(tree, c, options)).collect() };
    NodeView {
        id: node.id,
        name: node.name.clone(),
        title: node.title.clone(),
        role: node.role.clone(),
        depth: node.depth,
        kind: node.kind.clone(),
        status: node.status.clone(),
        attempts: node.attempts,
        slots: u32::from(options.holding.contains(&node.id)),
        usage: tree.own[index],
        subtree_usage: tree.subtree[index],
        budget: options.budgets.get(&node.id).cloned(),
        delegation: options.delegations.get(&node.id).cloned(),
        started_at: node.started_ms.map(ms_to_rfc3339),
        finished_at: node.finished_ms.map(ms_to_rfc3339),
        result: if options.results { json_or_null(node.result.as_ref()) } else { None },
        error: node.error.clone(),
        warnings: node.warnings.as_deref().and_then(|w| serde_json::from_str(w).ok()).unwrap_or_default(),
        child_count: children.len(),
        truncated,
        children: kids,
    }
}
