//! Jobs: submit, read with the tree, list, and cancel a job or one subtree (SPEC §4.1–4.3).

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{parse_id, AppJson, AppQuery, Source};
use super::page::PageRequest;
use super::views::{job_view, JobSummary, JobView, SubmitResponse, TreeOptions};
use crate::auth::{Caller, Scope};
use crate::domain::{JobSpec, JobStatus};
use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;
use crate::store::JobQuery;

/// Default page size of the jobs list.
const DEFAULT_PAGE: i64 = 50;
/// Largest page size of the jobs list.
const MAX_PAGE: i64 = 500;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(submit_job))
        .routes(routes!(get_job, cancel_job))
        .routes(routes!(cancel_node))
        .routes(routes!(list_jobs))
}

/// Submit a job.
///
/// The plan is validated and stored before the answer; the job then runs (or queues, when
/// the running-job limit is reached). A known `idempotency_key` returns the original job
/// with 200.
#[utoipa::path(post, path = "/recursion/job", tag = "jobs", request_body = JobSpec,
    responses(
        (status = 202, description = "Accepted", body = SubmitResponse),
        (status = 200, description = "The job already submitted with this idempotency key", body = SubmitResponse),
        (status = 422, description = "Invalid job", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The admission queue is full", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn submit_job(
    State(app): State<AppState>,
    caller: Caller,
    source: Source,
    AppJson(spec): AppJson<JobSpec>,
) -> ApiResult<Response> {
    let key = caller.require(Scope::Write)?.name.clone();
    let outcome = app.engine.submit(spec, Some(key)).await.map_err(ApiError::from);
    let target = outcome.as_ref().ok().map(|s| s.job.id.to_string());
    super::record(&app, &caller, &source, "job.submit", target, &outcome);
    let submitted = outcome?;
    let body = Json(SubmitResponse::from(&submitted.job));
    let location = format!("/api/v1/recursion/job/{}", submitted.job.id);
    let status = if submitted.created { StatusCode::ACCEPTED } else { StatusCode::OK };
    Ok((status, [(header::LOCATION, location)], body).into_response())
}

/// How much of the tree to return.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TreeQuery {
    /// Cut the tree below this depth (children counts stay).
    #[param(minimum = 0)]
    pub max_depth: Option<i64>,
    /// Include results (default true).
    pub results: Option<bool>,
}

/// Get a job with its depth tree.
#[utoipa::path(get, path = "/recursion/job/{id}", tag = "jobs", params(("id" = uuid::Uuid, Path, description = "Job id"), TreeQuery),
    responses(
        (status = 200, description = "The job", body = JobView),
        (status = 404, description = "No such job", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn get_job(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AppQuery(query): AppQuery<TreeQuery>,
) -> ApiResult<Response> {
    let id = parse_id(&id, "job")?;
    if query.max_depth.is_some_and(|depth| depth < 0) {
        return Err(ApiError::BadRequest("max_depth must be 0 or more".into()));
    }
    let subtree = super::reach::readable_subtree(&caller, id)?;
    let results = query.results.unwrap_or(true);
    let key = (id, query.max_depth, results);
    if let Some(view) = subtree.is_none().then(|| app.views.get(&key)).flatten() {
        return Ok(json_bytes(view));
    }
    let store = app.engine.store();
    let job = store.job(id).await?.ok_or_else(|| ApiError::NotFound(format!("job {id}")))?;
    let nodes = super::reach::within(store.job_nodes(id).await?, subtree);
    let holding = app.engine.resources().holding();
    let usage = store.job_usage(id).await?;
    let budgets = super::budget_view::by_node(&store.job_budgets(id).await?);
    let delegations = super::agent_view::by_node(store.job_delegations(id).await?);
    let options = TreeOptions {
        max_depth: query.max_depth,
        results,
        holding: &holding,
        usage: &usage,
        budgets: &budgets,
        delegations: &delegations,
    };
    let view = job_view(&job, &nodes, options)?;
    let ended = JobStatus::parse(&job.status).is_some_and(JobStatus::is_terminal);
    if !(ended && subtree.is_none()) {
        return Ok(Json(view).into_response());
    }
    let bytes = bytes::Bytes::from(serde_json::to_vec(&view).map_err(|e| ApiError::Internal(e.to_string()))?);
    app.views.put(key, bytes.clone());
    Ok(json_bytes(bytes))
}

fn json_bytes(body: bytes::Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Cancel a job: its whole tree stops (running commands get SIGTERM, then SIGKILL).
#[utoipa::path(delete, path = "/recursion/job/{id}", tag = "jobs", params(("id" = uuid::Uuid, Path, description = "Job id")),
    responses(
        (status = 202, description = "Cancelling or cancelled", body = JobSummary),
        (status = 404, description = "No such job", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The job has already ended", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn cancel_job(
    State(app): State<AppState>,
    caller: Caller,
    source: Source,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<JobSummary>)> {
    caller.require(Scope::Write)?;
    let outcome = cancel(&app, &id, None).await;
    super::record(&app, &caller, &source, "job.cancel", Some(id), &outcome);
    Ok((StatusCode::ACCEPTED, Json(outcome?)))
}

async fn cancel(app: &AppState, id: &str, node_id: Option<&str>) -> ApiResult<JobSummary> {
    let id = parse_id(id, "job")?;
    match node_id {
        Some(node_id) => app.engine.cancel_node(id, parse_id(node_id, "node")?).await?,
        None => app.engine.cancel_job(id).await?,
    }
    let job = app.engine.store().job(id).await?.ok_or_else(|| ApiError::NotFound(format!("job {id}")))?;
    Ok(JobSummary::from(&job))
}

/// Cancel one node and everything under it.
#[utoipa::path(delete, path = "/recursion/job/{id}/nodes/{node_id}", tag = "jobs",
    params(("id" = uuid::Uuid, Path, description = "Job id"), ("node_id" = uuid::Uuid, Path, description = "Node id")),
    responses(
        (status = 202, description = "The subtree is being cancelled", body = JobSummary),
        (status = 404, description = "No such job or node", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The node or job has already ended", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn cancel_node(
    State(app): State<AppState>,
    caller: Caller,
    source: Source,
    Path((id, node_id)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<JobSummary>)> {
    caller.require(Scope::Write)?;
    let outcome = cancel(&app, &id, Some(&node_id)).await;
    super::record(&app, &caller, &source, "node.cancel", Some(format!("{id}/{node_id}")), &outcome);
    Ok((StatusCode::ACCEPTED, Json(outcome?)))
}

/// Filters and cursor of the jobs list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only jobs in this status.
    #[param(value_type = Option<JobStatus>)]
    pub status: Option<String>,
    /// Only jobs with this label, as `key:value`.
    #[param(pattern = r"^[^:]*:")]
    pub label: Option<String>,
    /// Page size (1–500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(pattern = r"^[0-9]{1,18}$")]
    pub cursor: Option<String>,
}

/// A page of jobs, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct JobPage {
    pub jobs: Vec<JobSummary>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// List jobs.
#[utoipa::path(get, path = "/recursion/jobs", tag = "jobs", params(ListQuery),
    responses(
        (status = 200, description = "A page of jobs", body = JobPage),
        (status = 400, description = "A bad filter", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn list_jobs(
    State(app): State<AppState>,
    caller: Caller,
    AppQuery(query): AppQuery<ListQuery>,
) -> ApiResult<Json<JobPage>> {
    caller.require(Scope::Read)?;
    let (job_query, page) = parse_list_query(&query)?;
    let rows = app.engine.store().list_jobs(&job_query).await?;
    let (rows, next_cursor) = page.cut(rows, |j| j.seq);
    Ok(Json(JobPage { jobs: rows.iter().map(JobSummary::from).collect(), next_cursor }))
}

fn parse_list_query(query: &ListQuery) -> ApiResult<(JobQuery, PageRequest)> {
    if let Some(status) = &query.status {
        if JobStatus::parse(status).is_none() {
            let known: Vec<&str> = JobStatus::ALL.iter().map(|s| s.as_str()).collect();
            return Err(ApiError::BadRequest(format!(
                "status '{status}' is not a job status; one of: {}",
                known.join(", ")
            )));
        }
    }
    let label = match &query.label {
        Some(label) => {
            let (key, value) = label
                .split_once(':')
                .ok_or_else(|| ApiError::BadRequest(format!("label '{label}' must be key:value")))?;
            Some((key.to_string(), value.to_string()))
        }
        None => None,
    };
    let page = PageRequest::parse(query.limit, query.cursor.as_deref(), DEFAULT_PAGE, MAX_PAGE)?;
    let job_query = JobQuery { status: query.status.clone(), label, before_seq: page.before_seq, limit: page.fetch() };
    Ok((job_query, page))
}
