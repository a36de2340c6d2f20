//! `/api/v1/approvals`: the inbox of approval requests — what the calling key may decide
//! (`?mine=true`, the default for pending ones) or all of them — one request, and
//! `POST …/{id}/decision`, which the request's job driver applies and stores before the
//! answer. Every decision is in the audit log (`approval.decide`, who, from where, the
//! outcome) as well as in the request itself.

use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::approval_view::{decider, ApprovalState, ApprovalView};
use super::extract::{parse_id, AppJson, AppQuery, Source};
use super::page::TimePage;
use crate::auth::{Caller, Scope};
use crate::error::{ApiError, ApiResult, Problem};
use crate::people::approvals::Verdict;
use crate::people::inbox::{Approval, Ruling};
use crate::state::AppState;
use crate::store::ApprovalQuery;

const DEFAULT_PAGE: i64 = 100;
const MAX_PAGE: i64 = 500;
const MAX_COMMENT_CHARS: usize = 4_000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_approvals)).routes(routes!(get_approval)).routes(routes!(decide))
}

/// Filters and cursor.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ApprovalParams {
    /// Only requests in this state.
    pub state: Option<ApprovalState>,
    /// Only this job's.
    pub job_id: Option<uuid::Uuid>,
    /// Only those the calling key may decide now (default: true when `state=pending`).
    pub mine: Option<bool>,
    /// Page size (1–500, default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(pattern = r"^[0-9]{1,18}\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")]
    pub cursor: Option<String>,
}

/// A page of requests, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ApprovalList {
    pub approvals: Vec<ApprovalView>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

/// A person's decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"decision": "approve", "comment": "looks right", "input": {"replicas": 3}}))]
pub struct DecisionBody {
    /// `approve` or `reject` an approval; `retry`, `retry_with`, `skip` or `fail` an
    /// escalation.
    pub decision: Verdict,
    /// Why (kept with the decision and in the audit log).
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub comment: Option<String>,
    /// Approving: a value the node receives, checked against the request's `input_schema`.
    /// `retry_with`: the next attempt's terms (`memory_mb`, `cpu_seconds`, `timeout_s`,
    /// `provider`, `model`). `skip`: the result the node succeeds with.
    #[serde(default)]
    pub input: Option<serde_json::Value>,
}

/// List approval requests.
#[utoipa::path(get, path = "/approvals", tag = "approvals", params(ApprovalParams),
    responses(
        (status = 200, description = "A page of requests", body = ApprovalList),
        (status = 400, description = "A bad filter or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A worker token, or a key without `read`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn list_approvals(
    State(app): State<AppState>,
    caller: Caller,
    AppQuery(params): AppQuery<ApprovalParams>,
) -> ApiResult<Json<ApprovalList>> {
    let key = caller.require(Scope::Read)?;
    let page = TimePage::parse(params.limit, params.cursor.as_deref(), DEFAULT_PAGE, MAX_PAGE)?;
    let state = params.state.map(|s| serde_json::to_value(s).ok().and_then(|v| v.as_str().map(String::from)));
    let mine = params.mine.unwrap_or(matches!(params.state, Some(ApprovalState::Pending)));
    let query = ApprovalQuery { state: state.flatten(), job_id: params.job_id, before: page.after, limit: page.size };
    let rows = app.engine.store().approvals(&query).await?;
    let next_cursor = page.next(rows.len(), rows.last().map(|r| (r.created_ms, r.id)));
    let me = decider(key);
    let approvals = rows
        .iter()
        .filter_map(|row| Approval::from_row(row).ok())
        .map(|approval| ApprovalView::of(&approval, Some(&me)))
        .filter(|view| !mine || view.may_decide)
        .collect();
    Ok(Json(ApprovalList { approvals, next_cursor }))
}

/// Get one approval request.
#[utoipa::path(get, path = "/approvals/{id}", tag = "approvals",
    params(("id" = uuid::Uuid, Path, description = "Approval request id")),
    responses(
        (status = 200, description = "The request", body = ApprovalView),
        (status = 403, description = "A worker token, or a key without `read`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn get_approval(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ApprovalView>> {
    let key = caller.require(Scope::Read)?;
    let id = parse_id(&id, "approval")?;
    let row = app.engine.store().approval(id).await?.ok_or_else(|| ApiError::NotFound(format!("approval {id}")))?;
    let approval = Approval::from_row(&row).map_err(ApiError::Internal)?;
    Ok(Json(ApprovalView::of(&approval, Some(&decider(key)))))
}

/// Approve or reject a request.
///
/// The decision is applied by the request's job and stored before the answer; with
/// `required` approvals at its level reached (or one rejection) the node moves on.
#[utoipa::path(post, path = "/approvals/{id}/decision", tag = "approvals", request_body = DecisionBody,
    params(("id" = uuid::Uuid, Path, description = "Approval request id")),
    responses(
        (status = 200, description = "Stored; the request as it stands", body = ApprovalView),
        (status = 403, description = "Not an approver of its current level, or approving one's own job's request", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No longer pending, or already decided by this key at this level", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A decision of the wrong kind for the request, an input that does not follow its input_schema (or a retry_with's terms), or a comment too long", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn decide(
    State(app): State<AppState>,
    caller: Caller,
    source: Source,
    Path(id): Path<String>,
    AppJson(body): AppJson<DecisionBody>,
) -> ApiResult<Json<ApprovalView>> {
    let outcome = decision(&app, &caller, &source, &id, body).await;
    super::record(&app, &caller, &source, "approval.decide", Some(id), &outcome);
    outcome.map(Json)
}

async fn decision(
    app: &AppState,
    caller: &Caller,
    source: &Source,
    id: &str,
    body: DecisionBody,
) -> ApiResult<ApprovalView> {
    let key = match caller {
        Caller::Key(key) => key,
        Caller::Worker(_) => return Err(ApiError::Forbidden("a worker token cannot decide an approval".into())),
    };
    let id = parse_id(id, "approval")?;
    if body.comment.as_deref().is_some_and(|c| c.chars().count() > MAX_COMMENT_CHARS) {
        let message = format!("more than {MAX_COMMENT_CHARS} characters");
        return Err(ApiError::Validation(vec![crate::domain::FieldError { path: "comment".into(), message }]));
    }
    let me = decider(key);
    let ruling = Ruling {
        decider: me.clone(),
        verdict: body.decision,
        comment: body.comment,
        input: body.input,
        source: Some(source.0.clone()),
    };
    let approval = app.engine.decide(id, ruling).await?;
    Ok(ApprovalView::of(&approval, Some(&me)))
}
