//! `GET /recursion/job/{id}/nodes/{node_id}/llm-calls`: one node's rows of the call ledger —
//! every model call it made (and every usage it reported), with tokens, cost, latency, the
//! provider's status and the bodies as sent and received.
//!
//! A key with `read` sees every node; a worker token only the nodes of its own subtree (as
//! `logs.rs`). The bodies are stored as JSON text cut at 64 KiB: an intact one is given back
//! as JSON, a cut one (no longer JSON) as the text it was cut to, flagged `…_truncated`.

use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::extract::parse_id;
use crate::auth::Caller;
use crate::error::{ApiResult, Problem};
use crate::events::ms_to_rfc3339;
use crate::state::AppState;
use crate::store::LlmCallRow;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(node_llm_calls))
}

/// One row of the call ledger.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "01a232d8-8e81-7032-b9f9-2a46bf75aa23", "attempt": 1, "turn": 1, "purpose": "execute",
    "provider": "anthropic", "model": "claude-sonnet-4-5", "input_tokens": 1200, "output_tokens": 340,
    "cached_tokens": 800, "cost": 0.0042, "latency_ms": 2310, "http_status": 200, "error": null, "tries": 1,
    "request": {"model": "claude-sonnet-4-5", "max_tokens": 1024, "messages": [{"role": "user", "content": "…"}]},
    "request_truncated": false,
    "response": {"content": [{"type": "text", "text": "…"}], "usage": {"input_tokens": 400, "output_tokens": 340}},
    "response_truncated": false,
    "input": [{"role": "user", "content": [{"type": "text", "text": "# Your task: …"}]}],
    "reply": [{"type": "text", "text": "…"}],
    "created_at": "2026-12-01T18:23:02.786Z"}))]
pub struct LlmCallView {
    pub id: Uuid,
    /// The node's attempt the call belonged to (1 for the first).
    pub attempt: i64,
    /// The conversation's turn within the attempt (1 for the first call; 0 for reported usage).
    pub turn: i64,
    /// `execute`, `repair`, or `report` (usage a worker reported).
    pub purpose: String,
    /// The configured provider's name (`reported` when a worker named none).
    pub provider: String,
    pub model: String,
    pub input_tokens: i64,
    pub output_tokens: i64,
    /// Input tokens read from the provider's prompt cache (part of `input_tokens`).
    pub cached_tokens: i64,
    pub cost: f64,
    /// From the first HTTP attempt to the answer, retries and their waits included.
    pub latency_ms: i64,
    /// The provider's last HTTP status; null when it was never reached, and for reports.
    pub http_status: Option<i64>,
    /// Why the call failed; null when it succeeded.
    pub error: Option<String>,
    /// HTTP attempts, retries included (0 for reports).
    pub tries: i64,
    /// The request as sent: JSON, or the text it was cut to when `request_truncated`; null when none.
    pub request: Option<Value>,
    /// True when the request was longer than 64 KiB and was cut.
    pub request_truncated: bool,
    /// The provider's answer, likewise.
    pub response: Option<Value>,
    pub response_truncated: bool,
    /// What the conversation gained before this call, in the same form whatever the provider's
    /// protocol: messages of `{role, content: [blocks]}` (the task, tool results, a correction
    /// asked for); null for reports.
    pub input: Option<Value>,
    /// The answer's content blocks (text, tool calls); null when the call failed.
    pub reply: Option<Value>,
    pub created_at: String,
}

/// A node's ledger rows, by attempt, turn and time.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LlmCalls {
    pub calls: Vec<LlmCallView>,
}

/// The model calls of one node (and usage it reported).
#[utoipa::path(get, path = "/recursion/job/{id}/nodes/{node_id}/llm-calls", tag = "jobs",
    params(("id" = uuid::Uuid, Path, description = "Job id"), ("node_id" = uuid::Uuid, Path, description = "Node id")),
    responses(
        (status = 200, description = "The node's calls, oldest first (empty when it made none)", body = LlmCalls),
        (status = 403, description = "A key without `read`, or outside the calling worker's subtree", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job, or no such node in it", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn node_llm_calls(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, node_id)): Path<(String, String)>,
) -> ApiResult<Json<LlmCalls>> {
    let (job_id, node_id) = (parse_id(&id, "job")?, parse_id(&node_id, "node")?);
    let store = app.engine.store();
    super::reach::readable_node(store.as_ref(), &caller, job_id, node_id).await?;
    let calls = store.llm_calls(job_id, node_id).await?;
    Ok(Json(LlmCalls { calls: calls.iter().map(LlmCallView::of).collect() }))
}

impl LlmCallView {
    /// The view of a stored row.
    pub fn of(row: &LlmCallRow) -> Self {
        Self {
            id: row.id,
            attempt: row.attempt,
            turn: row.turn,
            purpose: row.purpose.clone(),
            provider: row.provider.clone(),
            model: row.model.clone(),
            input_tokens: row.input_tokens,
            output_tokens: row.output_tokens,
            cached_tokens: row.cached_tokens,
            cost: row.cost,
            latency_ms: row.latency_ms,
            http_status: row.http_status,
            error: row.error.clone(),
            tries: row.tries,
            request: body(row.request_body.as_deref(), row.request_truncated),
            request_truncated: row.request_truncated,
            response: body(row.response_body.as_deref(), row.response_truncated),
            response_truncated: row.response_truncated,
            input: row.input.as_deref().and_then(|text| serde_json::from_str(text).ok()),
            reply: row.reply.as_deref().and_then(|text| serde_json::from_str(text).ok()),
            created_at: ms_to_rfc3339(row.created_ms),
        }
    }
}

/// A stored body: its JSON when it is whole, else the text as stored.
fn body(text: Option<&str>, truncated: bool) -> Option<Value> {
    let text = text?;
    let parsed = (!truncated).then(|| serde_json::from_str(text).ok()).flatten();
    Some(parsed.unwrap_or_else(|| Value::String(text.to_string())))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::body;

    #[test]
    fn a_whole_body_is_json_and_a_cut_or_broken_one_its_text() {
        assert_eq!(body(Some(r#"{"a":1}"#), false), Some(json!({"a": 1})));
        assert_eq!(body(Some(r#"{"a":1"#), true), Some(json!(r#"{"a":1"#)));
        assert_eq!(body(Some(r#"{"a":1}"#), true), Some(json!(r#"{"a":1}"#)), "a cut body stays text");
        assert_eq!(body(Some("not json"), false), Some(json!("not json")));
        assert_eq!(body(None, false), None);
    }
}
