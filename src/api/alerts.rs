//! `GET /api/v1/alerts`: the alerts the rules raised (a job's failure rate, stragglers, busy
//! quotas), open or resolved, filtered and paged; and `POST /recursion/job/{id}/resume`,
//! which lets a job its failure-rate alert held start nodes again (and resolves the alert in
//! the caller's name).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::extract::{parse_id, AppQuery, Source};
use super::page::TimePage;
use super::views::JobSummary;
use crate::auth::{Caller, Scope};
use crate::error::{ApiError, ApiResult, Problem};
use crate::events::ms_to_rfc3339;
use crate::state::AppState;
use crate::store::{AlertQuery, AlertRow};

const DEFAULT_PAGE: i64 = 100;
const MAX_PAGE: i64 = 500;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_alerts)).routes(routes!(resume_job))
}

/// Which rule fired.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertRule {
    /// Too many of a job's finished workers failed (the job may be held).
    FailureRate,
    /// A node running far longer than its finished siblings did.
    Straggler,
    /// A depth's quota busy for minutes.
    QuotaBusy,
    /// A budget envelope that spent most of its allocation.
    Budget,
    /// A command worker with no output and no call back for too long.
    SilentWorker,
}

/// Filters and cursor.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AlertParams {
    /// Only this job's.
    pub job_id: Option<Uuid>,
    /// Only this rule's.
    pub rule: Option<AlertRule>,
    /// Only open (`true`) or resolved (`false`) alerts.
    pub open: Option<bool>,
    /// Page size (1–500, default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(pattern = r"^[0-9]{1,18}\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")]
    pub cursor: Option<String>,
}

/// An alert.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AlertView {
    pub id: Uuid,
    pub job_id: Option<Uuid>,
    pub node_id: Option<Uuid>,
    pub rule: AlertRule,
    pub message: String,
    /// What the rule saw (`failure_rate`: finished, failed, rate, threshold, held;
    /// `straggler`: elapsed_ms, median_ms, factor, siblings; `quota_busy`: depth, in_use,
    /// quota, percent, for_s; `budget`: node_id, name, percent, allocated, spent;
    /// `silent_worker`: silent_ms, limit_s).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub created_at: String,
    pub resolved_at: Option<String>,
    /// The key that resolved it (null: its condition passed, or it is open).
    pub resolved_by: Option<String>,
    pub open: bool,
}

/// A page of alerts, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AlertList {
    pub alerts: Vec<AlertView>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

impl From<&AlertRow> for AlertView {
    fn from(row: &AlertRow) -> Self {
        let rule =
            serde_json::from_value(serde_json::Value::String(row.rule.clone())).unwrap_or(AlertRule::FailureRate);
        let data = serde_json::from_str(&row.data).unwrap_or_else(|_| serde_json::json!({}));
        Self {
            id: row.id,
            job_id: row.job_id,
            node_id: row.node_id,
            rule,
            message: row.message.clone(),
            data,
            created_at: ms_to_rfc3339(row.created_ms),
            resolved_at: row.resolved_ms.map(ms_to_rfc3339),
            resolved_by: row.resolved_by.clone(),
            open: row.resolved_ms.is_none(),
        }
    }
}

/// List alerts.
#[utoipa::path(get, path = "/alerts", tag = "alerts", params(AlertParams),
    responses(
        (status = 200, description = "A page of alerts", body = AlertList),
        (status = 400, description = "A bad filter or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A worker token, or a key without `read`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn list_alerts(
    State(app): State<AppState>,
    caller: Caller,
    AppQuery(params): AppQuery<AlertParams>,
) -> ApiResult<Json<AlertList>> {
    caller.require(Scope::Read)?;
    let page = TimePage::parse(params.limit, params.cursor.as_deref(), DEFAULT_PAGE, MAX_PAGE)?;
    let rule = params.rule.and_then(|r| serde_json::to_value(r).ok()).and_then(|v| v.as_str().map(String::from));
    let query = AlertQuery { job_id: params.job_id, rule, open: params.open, before: page.after, limit: page.size };
    let rows = app.engine.store().alerts(&query).await?;
    let next_cursor = page.next(rows.len(), rows.last().map(|r| (r.created_ms, r.id)));
    Ok(Json(AlertList { alerts: rows.iter().map(AlertView::from).collect(), next_cursor }))
}

/// Resume a held job.
///
/// A job whose failure-rate alert held it starts nodes again; the alert is resolved in the
/// caller's name.
#[utoipa::path(post, path = "/recursion/job/{id}/resume", tag = "jobs",
    params(("id" = uuid::Uuid, Path, description = "Job id")),
    responses(
        (status = 202, description = "Resumed; nodes start again", body = JobSummary),
        (status = 403, description = "A key without `write`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The job is not held", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn resume_job(
    State(app): State<AppState>,
    caller: Caller,
    source: Source,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<JobSummary>)> {
    let outcome = resume(&app, &caller, &id).await;
    super::record(&app, &caller, &source, "job.resume", Some(id), &outcome);
    Ok((StatusCode::ACCEPTED, Json(outcome?)))
}

async fn resume(app: &AppState, caller: &Caller, id: &str) -> ApiResult<JobSummary> {
    let key = caller.require(Scope::Write)?;
    let id = parse_id(id, "job")?;
    app.engine.resume(id, key.name.clone()).await?;
    let job = app.engine.store().job(id).await?.ok_or_else(|| ApiError::NotFound(format!("job {id}")))?;
    Ok(JobSummary::from(&job))
}
