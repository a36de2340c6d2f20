//! `GET /recursion/job/{id}/report`: the job's report, read from what is stored, so it is
//! there for a running or failed job too. Markdown by default — the plan, what each manager
//! and agent delivered, verdicts, failures with their class and recovery, retries, tokens and
//! cost; JSON (`Accept: application/json` or `?format=json`) or JUnit XML (`?format=junit`)
//! of the outcome per phase, for CI pipelines to publish.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{parse_id, AppQuery};
use crate::auth::Caller;
use crate::engine::decompose::report::markdown;
use crate::error::{ApiError, ApiResult, Problem};
use crate::people::inbox::Approval;
use crate::people::report::{junit, outcome, Decided, Outcome};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(job_report))
}

/// Which form of the report.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// `markdown`, `json` or `junit`; without it, the `Accept` header decides (Markdown
    /// unless it asks for JSON or XML).
    #[param(pattern = "^(markdown|json|junit)$")]
    pub format: Option<String>,
}

/// The job's report: Markdown, JSON or JUnit XML.
#[utoipa::path(get, path = "/recursion/job/{id}/report", tag = "jobs",
    params(("id" = uuid::Uuid, Path, description = "Job id"), ReportQuery),
    responses(
        (status = 200, description = "The report", content(
            (String = "text/markdown"), (Outcome = "application/json"), (String = "application/xml"))),
        (status = 400, description = "An unknown format", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A worker token (a report covers the whole job)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn job_report(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AppQuery(query): AppQuery<ReportQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let id = parse_id(&id, "job")?;
    if matches!(caller, Caller::Worker(_)) {
        return Err(ApiError::Forbidden("a worker token cannot read the whole job's report".into()));
    }
    let format = form(query.format.as_deref(), &headers)?;
    let store = app.engine.store();
    let job = store.job(id).await?.ok_or_else(|| ApiError::NotFound(format!("job {id}")))?;
    let nodes = store.job_nodes(id).await?;
    let usage = store.job_usage(id).await?;
    let approvals = store.job_approvals(id).await?;
    let decided: Vec<Decided> =
        approvals.iter().filter_map(|row| Approval::from_row(row).ok()).map(|a| Decided::of(&a)).collect();
    Ok(match format {
        Form::Markdown => {
            let mut text = markdown(&job, &nodes, &usage);
            if !decided.is_empty() {
                text.push_str("\n## Decisions by people\n\n");
                decided.iter().for_each(|d| text.push_str(&format!("{}\n", d.line())));
            }
            ([(header::CONTENT_TYPE, "text/markdown; charset=utf-8")], text).into_response()
        }
        Form::Json => Json(Outcome { decisions: decided, ..outcome(&job, &nodes, &usage) }).into_response(),
        Form::Junit => {
            let xml = junit(&outcome(&job, &nodes, &usage)).map_err(ApiError::Internal)?;
            ([(header::CONTENT_TYPE, "application/xml; charset=utf-8")], xml).into_response()
        }
    })
}

enum Form {
    Markdown,
    Json,
    Junit,
}

/// The form asked for: the query's, else what `Accept` prefers.
fn form(format: Option<&str>, headers: &HeaderMap) -> ApiResult<Form> {
    match format {
        Some("markdown") => Ok(Form::Markdown),
        Some("json") => Ok(Form::Json),
        Some("junit") => Ok(Form::Junit),
        Some(other) => Err(ApiError::BadRequest(format!("unknown format '{other}': markdown, json or junit"))),
        None => {
            let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or_default();
            Ok(if accept.contains("application/json") {
                Form::Json
            } else if accept.contains("xml") {
                Form::Junit
            } else {
                Form::Markdown
            })
        }
    }
}
