//! The rows of people in the loop: approval requests and alerts, as the journal writes them
//! and the API lists them.

use sqlx::FromRow;
use uuid::Uuid;

/// One approval request: the columns it is listed by, and the rest as JSON (`body`, see
/// `engine::approvals::Stored`).
#[derive(Debug, Clone, FromRow)]
pub struct ApprovalRow {
    pub id: Uuid,
    pub job_id: Uuid,
    pub node_id: Uuid,
    /// `before`, `after`.
    pub kind: String,
    /// `pending`, `approved`, `rejected`.
    pub state: String,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub body: String,
}

/// Filters of the approvals list (newest first).
#[derive(Debug, Clone, Default)]
pub struct ApprovalQuery {
    pub state: Option<String>,
    pub job_id: Option<Uuid>,
    /// Only requests listed after this one (created before it, or at the same ms with a
    /// smaller id): the cursor.
    pub before: Option<(i64, Uuid)>,
    pub limit: i64,
}

/// An alert: a rule that fired, what it saw, and when (and by whom) it was resolved.
#[derive(Debug, Clone, FromRow)]
pub struct AlertRow {
    pub id: Uuid,
    pub job_id: Option<Uuid>,
    pub node_id: Option<Uuid>,
    /// `failure_rate`, `straggler`, `quota_busy`, `budget`.
    pub rule: String,
    pub message: String,
    /// What the rule saw, as JSON.
    pub data: String,
    pub created_ms: i64,
    pub resolved_ms: Option<i64>,
    pub resolved_by: Option<String>,
}

/// Filters of the alerts list (newest first).
#[derive(Debug, Clone, Default)]
pub struct AlertQuery {
    pub job_id: Option<Uuid>,
    pub rule: Option<String>,
    /// Only unresolved (`Some(true)`) or resolved (`Some(false)`) alerts.
    pub open: Option<bool>,
    /// The cursor, as for approvals.
    pub before: Option<(i64, Uuid)>,
    pub limit: i64,
}
