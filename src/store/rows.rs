//! Row types: the shapes the store reads and writes. Timestamps are Unix milliseconds and
//! JSON is text, so both backends store them the same way and compare them the same way.

use std::sync::Arc;

use sqlx::FromRow;
use uuid::Uuid;

use crate::domain::{JsonText, NodeStatus, PlannedNode};

/// A stored job.
#[derive(Debug, Clone, FromRow)]
pub struct JobRow {
    pub id: Uuid,
    /// Submission order (the admission queue and the jobs list use it).
    pub seq: i64,
    pub request: String,
    /// The job's `config` as JSON.
    pub config: String,
    /// Labels as a JSON object.
    pub labels: String,
    pub status: String,
    pub idempotency_key: Option<String>,
    pub root_node_id: Option<Uuid>,
    pub node_count: i64,
    pub created_ms: i64,
    pub started_ms: Option<i64>,
    pub finished_ms: Option<i64>,
    /// The root's result as JSON.
    pub result: Option<String>,
    pub error: Option<String>,
}

/// A stored node.
#[derive(Debug, Clone, FromRow)]
pub struct NodeRow {
    pub id: Uuid,
    pub job_id: Uuid,
    pub parent_id: Option<Uuid>,
    /// Position in the job's flat node list (parents first).
    pub position: i64,
    pub depth: i64,
    pub name: String,
    pub title: String,
    pub role: String,
    /// `orchestrator` or `worker`.
    pub kind: String,
    /// The runtime spec as JSON.
    pub spec: String,
    pub status: String,
    pub attempts: i64,
    pub started_ms: Option<i64>,
    pub finished_ms: Option<i64>,
    pub result: Option<String>,
    pub error: Option<String>,
    /// JSON array of notes (aggregation conflicts, for instance).
    pub warnings: Option<String>,
}

/// Nodes added to a job, written straight from the plan its driver runs: the plan is shared
/// with the driver's arena, not copied into rows, so a million-node job is held once while
/// it waits for its first commit.
#[derive(Debug, Clone)]
pub struct NewNodes {
    pub job_id: Uuid,
    /// Position of `nodes[0]` in the job's flat node list.
    pub first_position: usize,
    /// Parent of the nodes whose `parent` lies before this list (the worker that spawned them).
    pub outer_parent: Option<Uuid>,
    pub nodes: Arc<[PlannedNode]>,
}

/// A new node's row, borrowed from its plan; the columns left out start empty.
#[derive(Debug, Clone, Copy)]
pub struct NewNodeRow<'a> {
    pub id: Uuid,
    pub job_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub position: i64,
    pub depth: i64,
    pub name: &'a str,
    pub title: &'a str,
    pub role: &'a str,
    /// `orchestrator` or `worker`.
    pub kind: &'static str,
    /// The runtime spec as JSON.
    pub spec: &'a str,
    /// Always `pending`.
    pub status: &'static str,
}

impl NewNodes {
    /// The rows, in position order.
    pub fn rows(&self) -> impl Iterator<Item = NewNodeRow<'_>> {
        self.nodes.iter().enumerate().map(move |(i, node)| NewNodeRow {
            id: node.id,
            job_id: self.job_id,
            parent_id: node.parent.and_then(|p| match p.checked_sub(self.first_position) {
                Some(inside) => Some(self.nodes[inside].id),
                None => self.outer_parent,
            }),
            position: (self.first_position + i) as i64,
            depth: i64::from(node.depth),
            name: &node.name,
            title: &node.title,
            role: &node.role,
            kind: if node.is_worker() { "worker" } else { "orchestrator" },
            spec: &node.spec_json,
            status: NodeStatus::Pending.as_str(),
        })
    }
}

/// A node's changing columns.
#[derive(Debug, Clone)]
pub struct NodeUpdate {
    pub id: Uuid,
    pub status: &'static str,
    pub attempts: i64,
    pub started_ms: Option<i64>,
    pub finished_ms: Option<i64>,
    /// Shared with the driver's node: a large result is not copied to be stored.
    pub result: Option<JsonText>,
    pub error: Option<String>,
    pub warnings: Option<String>,
}

impl NodeUpdate {
    /// The result as the store writes it.
    pub fn result_text(&self) -> Option<&str> {
        self.result.as_deref().map(serde_json::value::RawValue::get)
    }
}

/// A job's changing columns.
#[derive(Debug, Clone)]
pub struct JobUpdate {
    pub id: Uuid,
    pub status: &'static str,
    pub started_ms: Option<i64>,
    pub finished_ms: Option<i64>,
    /// The root's result, shared with the driver's root node.
    pub result: Option<JsonText>,
    pub error: Option<String>,
}

impl JobUpdate {
    /// The result as the store writes it.
    pub fn result_text(&self) -> Option<&str> {
        self.result.as_deref().map(serde_json::value::RawValue::get)
    }
}

/// A stored event (the replay log of the event stream).
#[derive(Debug, Clone, FromRow)]
pub struct EventRow {
    pub seq: i64,
    pub ts_ms: i64,
    pub kind: String,
    pub job_id: Option<Uuid>,
    pub depth: Option<i64>,
    pub data: String,
}

/// The process group a worker's command runs in, recorded while it runs.
#[derive(Debug, Clone, FromRow)]
pub struct ProcessRow {
    pub node_id: Uuid,
    pub job_id: Uuid,
    /// The group's id (its leader's pid).
    pub pgid: i64,
    /// The leader's start time in clock ticks since boot: tells a reused pid apart.
    pub started_ticks: i64,
}

/// One model call (or usage a worker reported), as the ledger keeps it.
#[derive(Debug, Clone, FromRow)]
pub struct LlmCallRow {
    pub id: Uuid,
    pub job_id: Uuid,
    pub node_id: Uuid,
    pub depth: i64,
    pub attempt: i64,
    pub turn: i64,
    /// `execute`, `repair`, `report` (usage a worker reported); later `plan`, `decompose`, `validate`, `classify`.
    pub purpose: String,
    pub provider: String,
    pub model: String,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cached_tokens: i64,
    pub cost: f64,
    pub latency_ms: i64,
    /// The provider's HTTP status (None when it was never reached, and for reports).
    pub http_status: Option<i64>,
    pub error: Option<String>,
    /// HTTP attempts, retries included.
    pub tries: i64,
    /// The request as sent (JSON text), capped at 64 KiB.
    pub request_body: Option<String>,
    pub request_truncated: bool,
    /// The answer (JSON text), capped at 64 KiB.
    pub response_body: Option<String>,
    pub response_truncated: bool,
    /// The conversation: messages added before this call (JSON array text, uncapped) …
    pub input: Option<String>,
    /// … and the answer's content blocks (JSON array text, uncapped). Null when the call failed.
    pub reply: Option<String>,
    pub created_ms: i64,
}

/// The books of a node's budget envelope (JSON, see `engine::budget::StoredBooks`).
#[derive(Debug, Clone, FromRow)]
pub struct BudgetRow {
    pub node_id: Uuid,
    pub job_id: Uuid,
    pub books: String,
}

/// What one ledger row spent, as budgets count it.
#[derive(Debug, Clone, FromRow)]
pub struct SpendRow {
    pub node_id: Uuid,
    pub cost: f64,
    pub input_tokens: i64,
    pub output_tokens: i64,
}

/// What a node spent (sums of its ledger rows).
#[derive(Debug, Clone, Default, FromRow)]
pub struct NodeUsageRow {
    pub node_id: Uuid,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cached_tokens: i64,
    pub cost: f64,
    pub calls: i64,
}

/// What one depth spent over a period.
#[derive(Debug, Clone, Default, FromRow)]
pub struct DepthUsageRow {
    pub depth: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cached_tokens: i64,
    pub cost: f64,
    pub calls: i64,
}

/// A job label.
#[derive(Debug, Clone)]
pub struct LabelRow {
    pub job_id: Uuid,
    pub key: String,
    pub value: String,
}

/// Changes written together in one transaction.
#[derive(Debug, Default)]
pub struct Batch {
    pub new_jobs: Vec<JobRow>,
    pub new_labels: Vec<LabelRow>,
    pub new_nodes: Vec<NewNodes>,
    pub node_updates: Vec<NodeUpdate>,
    pub job_updates: Vec<JobUpdate>,
    pub events: Vec<EventRow>,
    pub audit: Vec<AuditRow>,
    /// Worker process groups that started, and nodes whose group has ended.
    pub process_starts: Vec<ProcessRow>,
    pub process_ends: Vec<Uuid>,
    /// Ledger rows: model calls and reported usage.
    pub llm_calls: Vec<LlmCallRow>,
    /// Budget envelopes' books, the last of each node in the batch only.
    pub budgets: Vec<BudgetRow>,
    /// Approval requests, the last of each in the batch only.
    pub approvals: Vec<super::ApprovalRow>,
    /// Alerts, the last of each in the batch only.
    pub alerts: Vec<super::AlertRow>,
    /// Registered agents (or their removal), the last of each in the batch only.
    pub agents: Vec<super::AgentRow>,
    /// Delegations, the last of each node in the batch only.
    pub delegations: Vec<super::DelegationRow>,
    /// Messages as they stand, the last of each in the batch only.
    pub messages: Vec<super::MessageRow>,
}

impl Batch {
    /// Every new node's row, job after job.
    pub fn new_node_rows(&self) -> impl Iterator<Item = NewNodeRow<'_>> {
        self.new_nodes.iter().flat_map(NewNodes::rows)
    }

    /// True when there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.new_jobs.is_empty()
            && self.new_nodes.is_empty()
            && self.node_updates.is_empty()
            && self.job_updates.is_empty()
            && self.events.is_empty()
            && self.audit.is_empty()
            && self.process_starts.is_empty()
            && self.process_ends.is_empty()
            && self.llm_calls.is_empty()
            && self.budgets.is_empty()
            && self.approvals.is_empty()
            && self.alerts.is_empty()
            && self.agents.is_empty()
            && self.delegations.is_empty()
            && self.messages.is_empty()
    }
}

/// Filters and cursor of the jobs list.
#[derive(Debug, Clone, Default)]
pub struct JobQuery {
    pub status: Option<String>,
    pub label: Option<(String, String)>,
    /// Only jobs with a smaller `seq` (the cursor).
    pub before_seq: Option<i64>,
    pub limit: i64,
}

/// Highest sequence numbers stored.
#[derive(Debug, Clone, Copy, Default, FromRow)]
pub struct Sequences {
    pub job_seq: i64,
    pub event_seq: i64,
    pub audit_seq: i64,
}

#[derive(Debug, Clone, FromRow)]
pub struct NodeStatusRow {
    pub id: Uuid,
    pub status: String,
}

#[derive(Debug, Clone, FromRow)]
pub struct DepthStatusCount {
    pub depth: i64,
    pub status: String,
    pub count: i64,
}

#[derive(Debug, Clone, FromRow)]
pub struct StatusCount {
    pub status: String,
    pub count: i64,
}

#[derive(Debug, Clone, FromRow)]
pub struct NodeActivityRow {
    pub depth: i64,
    pub status: String,
    pub started_ms: Option<i64>,
    pub finished_ms: Option<i64>,
}

/// A stored API key: its hash, never the secret.
#[derive(Debug, Clone, FromRow)]
pub struct ApiKeyRow {
    pub id: Uuid,
    pub name: String,
    /// SHA-256 of the secret, hex.
    pub key_hash: String,
    /// The first characters of the secret, to recognise it in a list.
    pub prefix: String,
    /// Comma-separated scopes.
    pub scopes: String,
    pub created_ms: i64,
    pub expires_ms: Option<i64>,
    pub revoked_ms: Option<i64>,
    /// This key's own rate limit (requests per second), if it has one.
    pub rate_per_second: Option<i64>,
    /// This key's own burst, if it has one.
    pub rate_burst: Option<i64>,
    pub last_used_ms: Option<i64>,
    /// Comma-separated groups (approvers may name `group:NAME`).
    pub groups: String,
}

/// One entry of the append-only audit log.
#[derive(Debug, Clone, FromRow)]
pub struct AuditRow {
    pub seq: i64,
    pub ts_ms: i64,
    /// The key that acted (absent for refused authentication).
    pub key_id: Option<Uuid>,
    pub key_name: Option<String>,
    /// The client's address.
    pub source: String,
    /// What was attempted (`job.submit`, `key.revoke`, `auth.refused`, …).
    pub action: String,
    /// What it was done to (a job id, a key id, a route).
    pub target: Option<String>,
    /// `ok`, or why not (`denied`, `rejected: 422`, …).
    pub outcome: String,
    pub detail: Option<String>,
}

/// Filters and cursor of the audit log.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub action: Option<String>,
    pub key_id: Option<Uuid>,
    pub outcome: Option<String>,
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    /// Only entries with a smaller `seq` (the cursor).
    pub before_seq: Option<i64>,
    pub limit: i64,
}

/// Slots in use at one depth at one moment.
#[derive(Debug, Clone, FromRow)]
pub struct UsageSampleRow {
    pub ts_ms: i64,
    pub depth: i64,
    pub in_use: i64,
    pub quota: i64,
    pub pending: i64,
}

/// The children of each node, by position.
pub fn children_index(nodes: &[NodeRow]) -> Vec<Vec<usize>> {
    let position: std::collections::HashMap<Uuid, usize> = nodes.iter().enumerate().map(|(i, n)| (n.id, i)).collect();
    let mut children = vec![Vec::new(); nodes.len()];
    for (i, node) in nodes.iter().enumerate() {
        if let Some(p) = node.parent_id.and_then(|p| position.get(&p)) {
            children[*p].push(i);
        }
    }
    children
}
