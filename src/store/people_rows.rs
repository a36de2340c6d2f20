//! The rows of people in the loop: approval requests, as the journal writes them and the
//! approvals API lists them.

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
    /// Only requests created before this (ms): the cursor.
    pub before_ms: Option<i64>,
    pub limit: i64,
}
