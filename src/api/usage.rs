//! `POST /recursion/job/{id}/nodes/{node_id}/usage`: tokens a worker spent outside cadre's
//! own model calls — a `command` worker running a coding-agent CLI, say — reported with its
//! token and counted exactly like a model call: a ledger row (purpose `report`) in the node's
//! `usage`, its ancestors' `subtree_usage`, the job's total, the stats, `/metrics` and an
//! `llm_call` event.
//!
//! A worker token may report for its own node or any node below it; a key needs `write`.
//! Only while the job has not ended (409 after): budgets will charge what is reported, and an
//! ended job's account is closed. The row is stored before the 201.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::extract::{parse_id, AppJson, Source};
use super::llm_calls::LlmCallView;
use crate::auth::{Caller, Scope};
use crate::domain::{FieldError, JobStatus};
use crate::engine::ledger::REPORT;
use crate::error::{ApiError, ApiResult, Problem};
use crate::events::now_ms;
use crate::state::AppState;
use crate::store::{LlmCallRow, NodeRow};

/// Most tokens of one kind in one report: far above any call, and low enough that no sum of
/// reports can overflow a 64-bit total.
const MAX_TOKENS: i64 = 1_000_000_000_000;
/// Most cost of one report.
const MAX_COST: f64 = 1_000_000.0;
/// Longest model name, and longest provider name (characters).
const MAX_MODEL_CHARS: usize = 200;
const MAX_PROVIDER_CHARS: usize = 100;
/// The provider of a report that names none.
const REPORTED: &str = "reported";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(report_usage))
}

/// Usage a worker spent on its own model calls.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"model": "claude-sonnet-4-5", "input_tokens": 5200, "output_tokens": 800,
    "cached_tokens": 4000, "cost": 0.021, "provider": "anthropic"}))]
pub struct UsageBody {
    /// The model that spent them (no control characters).
    #[schema(min_length = 1, max_length = 200, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub model: String,
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub input_tokens: i64,
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub output_tokens: i64,
    /// Input tokens read from a prompt cache (part of `input_tokens`); 0 when absent.
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub cached_tokens: Option<i64>,
    /// What it cost; 0 when absent.
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub cost: Option<f64>,
    /// Who served it; `reported` when absent (no control characters).
    #[schema(min_length = 1, max_length = 100, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub provider: Option<String>,
}

/// Report tokens a worker spent (a coding-agent CLI, for instance).
#[utoipa::path(post, path = "/recursion/job/{id}/nodes/{node_id}/usage", tag = "jobs", request_body = UsageBody,
    params(("id" = uuid::Uuid, Path, description = "Job id"), ("node_id" = uuid::Uuid, Path, description = "The node that spent them")),
    responses(
        (status = 201, description = "Recorded and stored, as the node's ledger shows it", body = LlmCallView),
        (status = 403, description = "Outside the token's subtree, or a key without `write`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job, or no such node in it", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The job has ended", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Negative or too large figures, or a model name out of bounds", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn report_usage(
    State(app): State<AppState>,
    caller: Caller,
    source: Source,
    Path((id, node_id)): Path<(String, String)>,
    AppJson(body): AppJson<UsageBody>,
) -> ApiResult<(StatusCode, Json<LlmCallView>)> {
    let outcome = report(&app, &caller, &id, &node_id, body).await;
    super::record(&app, &caller, &source, "node.usage", Some(format!("{id}/{node_id}")), &outcome);
    Ok((StatusCode::CREATED, Json(outcome?)))
}

async fn report(app: &AppState, caller: &Caller, id: &str, node_id: &str, body: UsageBody) -> ApiResult<LlmCallView> {
    let (job_id, node_id) = (parse_id(id, "job")?, parse_id(node_id, "node")?);
    let node = authorize(app, caller, job_id, node_id).await?;
    let errors = body.problems();
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let job = app.engine.store().job(job_id).await?.ok_or_else(|| ApiError::NotFound(format!("job {job_id}")))?;
    if JobStatus::parse(&job.status).is_some_and(JobStatus::is_terminal) {
        return Err(ApiError::Conflict(format!("job {job_id} has ended ({}): its usage is closed", job.status)));
    }
    let row = body.into_row(&node);
    let view = LlmCallView::of(&row);
    app.engine.ledger().record(row, &node.name);
    app.engine.flush().await?;
    // The job may have ended meanwhile and its view been kept without this row.
    app.views.forget(job_id);
    Ok(view)
}

/// The node, once the caller may report for it: a key needs `write`; a token must belong to
/// this job (else the job does not exist for it) and reach the node from its own.
async fn authorize(app: &AppState, caller: &Caller, job_id: Uuid, node_id: Uuid) -> ApiResult<NodeRow> {
    let store = app.engine.store();
    let not_found = || ApiError::NotFound(format!("node {node_id}"));
    let Caller::Worker(grant) = caller else {
        caller.require(Scope::Write)?;
        return store.node(node_id).await?.filter(|node| node.job_id == job_id).ok_or_else(not_found);
    };
    if grant.job_id != job_id {
        return Err(ApiError::NotFound(format!("job {job_id}")));
    }
    let nodes = store.job_nodes(job_id).await?;
    let node = nodes.iter().find(|node| node.id == node_id).cloned().ok_or_else(not_found)?;
    if !super::reach::is_within(&nodes, grant.node_id, node_id) {
        return Err(ApiError::Forbidden(format!("node {node_id} is outside this worker's subtree")));
    }
    Ok(node)
}

impl UsageBody {
    /// What the schema states and serde cannot check.
    fn problems(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let mut check = |ok: bool, path: &str, message: &str| {
            if !ok {
                errors.push(FieldError { path: path.into(), message: message.into() });
            }
        };
        let tokens = |value: i64| (0..=MAX_TOKENS).contains(&value);
        check(name_ok(&self.model, MAX_MODEL_CHARS), "model", "must be 1 to 200 characters, none a control character");
        check(tokens(self.input_tokens), "input_tokens", "must be 0 to 1000000000000");
        check(tokens(self.output_tokens), "output_tokens", "must be 0 to 1000000000000");
        check(self.cached_tokens.is_none_or(tokens), "cached_tokens", "must be 0 to 1000000000000");
        check(self.cost.is_none_or(|c| (0.0..=MAX_COST).contains(&c)), "cost", "must be 0 to 1000000");
        let provider_ok = self.provider.as_deref().is_none_or(|p| name_ok(p, MAX_PROVIDER_CHARS));
        check(provider_ok, "provider", "must be 1 to 100 characters, none a control character");
        errors
    }

    /// The ledger row of this report for `node`, at the node's current attempt.
    fn into_row(self, node: &NodeRow) -> LlmCallRow {
        LlmCallRow {
            id: Uuid::now_v7(),
            job_id: node.job_id,
            node_id: node.id,
            depth: node.depth,
            attempt: node.attempts,
            turn: 0,
            purpose: REPORT.into(),
            provider: self.provider.unwrap_or_else(|| REPORTED.into()),
            model: self.model,
            input_tokens: self.input_tokens,
            output_tokens: self.output_tokens,
            cached_tokens: self.cached_tokens.unwrap_or(0),
            cost: self.cost.unwrap_or(0.0),
            latency_ms: 0,
            http_status: None,
            error: None,
            tries: 0,
            request_body: None,
            request_truncated: false,
            response_body: None,
            response_truncated: false,
            input: None,
            reply: None,
            created_ms: now_ms(),
        }
    }
}

/// 1 to `max` characters, none of them a control character.
fn name_ok(name: &str, max: usize) -> bool {
    (1..=max).contains(&name.chars().count()) && !name.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(model: &str, input_tokens: i64, cost: Option<f64>) -> UsageBody {
        UsageBody { model: model.into(), input_tokens, output_tokens: 0, cached_tokens: None, cost, provider: None }
    }

    #[test]
    fn figures_and_names_are_held_to_the_schema() {
        assert!(body("m", 0, Some(0.0)).problems().is_empty());
        let paths = |b: UsageBody| b.problems().into_iter().map(|e| e.path).collect::<Vec<_>>();
        assert_eq!(paths(body("", -1, Some(-0.5))), ["model", "input_tokens", "cost"]);
        assert_eq!(paths(body("a\u{0}b", MAX_TOKENS + 1, None)), ["model", "input_tokens"]);
        assert_eq!(paths(body(&"é".repeat(200), MAX_TOKENS, Some(MAX_COST))), Vec::<String>::new());
        assert_eq!(paths(body(&"é".repeat(201), 0, None)), ["model"]);
    }
}
