//! `GET /recursion/job/{id}/report`: a decomposed job's final report as Markdown — the plan,
//! what each manager and agent delivered, validation verdicts, retries, tokens and cost —
//! read from what is stored, so it is there for a running or failed job too.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::parse_id;
use crate::auth::Caller;
use crate::engine::decompose::report::markdown;
use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(job_report))
}

/// The job's report, as Markdown.
#[utoipa::path(get, path = "/recursion/job/{id}/report", tag = "jobs", params(("id" = uuid::Uuid, Path, description = "Job id")),
    responses(
        (status = 200, description = "The report", body = String, content_type = "text/markdown"),
        (status = 403, description = "A worker token (a report covers the whole job)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn job_report(State(app): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    let id = parse_id(&id, "job")?;
    if matches!(caller, Caller::Worker(_)) {
        return Err(ApiError::Forbidden("a worker token cannot read the whole job's report".into()));
    }
    let store = app.engine.store();
    let job = store.job(id).await?.ok_or_else(|| ApiError::NotFound(format!("job {id}")))?;
    let nodes = store.job_nodes(id).await?;
    let usage = store.job_usage(id).await?;
    let body = markdown(&job, &nodes, &usage);
    Ok(([(header::CONTENT_TYPE, "text/markdown; charset=utf-8")], body).into_response())
}
