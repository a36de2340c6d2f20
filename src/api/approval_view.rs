//! An approval request as the API shows it: the node and what it asks, where the request
//! stands and at which level of the tree, who decided what (when, from where), what the
//! approver is shown (the held result) and may give (`input_schema`), and whether the caller
//! may decide it now.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::KeyIdentity;
use crate::events::ms_to_rfc3339;
use crate::people::approvals::{Decider, OnTimeout, Verdict};
use crate::people::inbox::Approval;

/// When in its node's life a request asks.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalKind {
    /// Before the node starts.
    Before,
    /// After it succeeded, before its result is accepted.
    After,
    /// After a failure its recovery policy escalates: decided with retry, retry_with, skip
    /// or fail.
    Escalation,
    /// A model's plan (`config.approve_plan`), before any of its children runs.
    Plan,
}

/// Where a request stands.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalState {
    Pending,
    Approved,
    Rejected,
    /// Withdrawn: its node was cancelled first.
    Cancelled,
}

/// One level of approvers: a node's (its own or an ancestor's), or the job's owners.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ApprovalLevel {
    /// Whose level: a node's name, or `job owners`.
    pub owner: String,
    /// Key names, `group:NAME`, `scope:NAME`.
    pub approvers: Vec<String>,
    pub required: u32,
    /// How long it waits; none: until someone decides.
    pub timeout_s: Option<i64>,
    pub on_timeout: OnTimeout,
}

/// One decision: a person's, or a timeout's default (`by` null).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DecisionView {
    pub decision: Verdict,
    /// The key's name; null for a timeout's default.
    pub by: Option<String>,
    /// 1 for the first level.
    pub level: usize,
    pub at: String,
    pub comment: Option<String>,
    /// The client address it came from.
    pub source: Option<String>,
}

/// An approval request.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ApprovalView {
    pub id: Uuid,
    pub job_id: Uuid,
    pub node_id: Uuid,
    pub node_name: String,
    pub kind: ApprovalKind,
    pub state: ApprovalState,
    pub prompt: Option<String>,
    /// The level it waits at (or was decided at), 1 for the first.
    pub level: usize,
    pub levels: Vec<ApprovalLevel>,
    /// Approvals given at the current level so far.
    pub approvals_at_level: usize,
    /// When the current level's time runs out.
    pub deadline: Option<String>,
    /// The key that submitted the job.
    pub requested_by: Option<String>,
    pub created_at: String,
    pub decisions: Vec<DecisionView>,
    /// A JSON Schema the approver's input must follow.
    #[schema(value_type = Option<Object>)]
    pub input_schema: Option<Value>,
    /// The input the node was given (any JSON value).
    pub input: Option<Value>,
    /// What the approver is shown: for `after`, the node's `result` and `attempts`; for an
    /// escalation, its `error`, failure `class` and `attempts`; for a plan, the `plan`, its
    /// `assignments` and the `children` it placed.
    #[schema(value_type = Object)]
    pub context: Value,
    /// Whether the calling key may decide it now (reject it, at least).
    pub may_decide: bool,
    /// Whether the calling key may also let it go on (approve, or retry or skip an
    /// escalation): not its own job's request, unless allowed.
    pub may_approve: bool,
}

/// The calling key as an approver.
pub fn decider(key: &KeyIdentity) -> Decider {
    Decider {
        name: key.name.clone(),
        groups: key.groups.clone(),
        scopes: key.scopes.names().into_iter().map(String::from).collect(),
    }
}

impl ApprovalView {
    pub fn of(approval: &Approval, decider: Option<&Decider>) -> Self {
        let request = &approval.request;
        let (kind, state) = (kind_of(approval.kind), state_of(request.state));
        let levels = request.levels.iter().map(level_view).collect();
        let decisions = request.decisions.iter().enumerate().map(|(i, d)| DecisionView {
            decision: d.verdict,
            by: d.by.clone(),
            level: d.level + 1,
            at: ms_to_rfc3339(d.at_ms),
            comment: d.comment.clone(),
            source: approval.sources.get(i).cloned().flatten(),
        });
        let at_level = request.decisions.iter().filter(|d| d.level == request.level && d.verdict.lets_go_on());
        Self {
            id: approval.id,
            job_id: approval.job_id,
            node_id: approval.node_id,
            node_name: approval.node_name.clone(),
            kind,
            state,
            prompt: approval.prompt.clone(),
            level: request.level + 1,
            levels,
            approvals_at_level: at_level.count(),
            deadline: request
                .deadline_ms()
                .filter(|_| request.state == crate::people::approvals::State::Pending)
                .map(ms_to_rfc3339),
            requested_by: request.requested_by.clone(),
            created_at: ms_to_rfc3339(approval.created_ms),
            decisions: decisions.collect(),
            input_schema: approval.input_schema.clone(),
            input: approval.input.clone(),
            context: if approval.context.is_object() {
                approval.context.clone()
            } else {
                Value::Object(Default::default())
            },
            may_decide: decider.is_some_and(|d| request.check(d, no(approval)).is_ok()),
            may_approve: decider.is_some_and(|d| request.check(d, yes(approval)).is_ok()),
        }
    }
}

fn kind_of(kind: crate::people::inbox::Kind) -> ApprovalKind {
    match kind {
        crate::people::inbox::Kind::Before => ApprovalKind::Before,
        crate::people::inbox::Kind::After => ApprovalKind::After,
        crate::people::inbox::Kind::Escalation => ApprovalKind::Escalation,
        crate::people::inbox::Kind::Plan => ApprovalKind::Plan,
    }
}

fn state_of(state: crate::people::approvals::State) -> ApprovalState {
    match state {
        crate::people::approvals::State::Pending => ApprovalState::Pending,
        crate::people::approvals::State::Approved => ApprovalState::Approved,
        crate::people::approvals::State::Rejected => ApprovalState::Rejected,
        crate::people::approvals::State::Cancelled => ApprovalState::Cancelled,
    }
}

/// The verdict that stops a request of this kind.
fn no(approval: &Approval) -> Verdict {
    if approval.kind == crate::people::inbox::Kind::Escalation {
        Verdict::Fail
    } else {
        Verdict::Reject
    }
}

/// A verdict that lets a request of this kind go on.
fn yes(approval: &Approval) -> Verdict {
    if approval.kind == crate::people::inbox::Kind::Escalation {
        Verdict::Retry
    } else {
        Verdict::Approve
    }
}

fn level_view(level: &crate::people::approvals::Level) -> ApprovalLevel {
    ApprovalLevel {
        owner: level.owner.clone(),
        approvers: level.approvers.clone(),
        required: level.required,
        timeout_s: level.timeout_ms.map(|ms| ms / 1000),
        on_timeout: level.on_timeout,
    }
}
