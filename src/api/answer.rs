//! `POST /recursion/job/{id}/answer`: the requester answers the question a decomposing job
//! asked (`clarify`, seed 002). The answer is stored with the question before the reply, the
//! job goes from `paused` back to `running`, and the decomposition goes on with it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{parse_id, AppJson, Source};
use super::views::JobSummary;
use crate::auth::{Caller, Scope};
use crate::domain::FieldError;
use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;

/// Longest answer (characters).
const MAX_ANSWER_CHARS: usize = 10_000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(answer_job))
}

/// The requester's answer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"answer": "PostgreSQL 15, and the app is for about 10,000 users"}))]
pub struct AnswerBody {
    /// 1–10000 characters, not only spaces.
    #[schema(min_length = 1, max_length = 10_000, pattern = r"\S")]
    pub answer: String,
}

/// Answer the question a paused job asked; it goes on.
#[utoipa::path(post, path = "/recursion/job/{id}/answer", tag = "jobs", request_body = AnswerBody,
    params(("id" = uuid::Uuid, Path, description = "Job id")),
    responses(
        (status = 202, description = "Stored; the job goes on", body = JobSummary),
        (status = 403, description = "A key without `write`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The job is not waiting for an answer", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An empty or too long answer", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn answer_job(
    State(app): State<AppState>,
    caller: Caller,
    source: Source,
    Path(id): Path<String>,
    AppJson(body): AppJson<AnswerBody>,
) -> ApiResult<(StatusCode, Json<JobSummary>)> {
    caller.require(Scope::Write)?;
    let outcome = answer(&app, &id, body).await;
    super::record(&app, &caller, &source, "job.answer", Some(id), &outcome);
    Ok((StatusCode::ACCEPTED, Json(outcome?)))
}

async fn answer(app: &AppState, id: &str, body: AnswerBody) -> ApiResult<JobSummary> {
    let id = parse_id(id, "job")?;
    let chars = body.answer.chars().count();
    if body.answer.trim().is_empty() || chars > MAX_ANSWER_CHARS {
        let message = format!("must be 1–{MAX_ANSWER_CHARS} characters, not only spaces");
        return Err(ApiError::Validation(vec![FieldError { path: "answer".into(), message }]));
    }
    app.engine.answer(id, body.answer).await?;
    let job = app.engine.store().job(id).await?.ok_or_else(|| ApiError::NotFound(format!("job {id}")))?;
    Ok(JobSummary::from(&job))
}
