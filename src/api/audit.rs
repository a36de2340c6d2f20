//! `GET /api/v1/audit` (admin): the append-only audit log, filtered and paged. Nothing in
//! the API can change or delete an entry.

use axum::extract::State;
use axum::Json;
use chrono::DateTime;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::extract::{parse_id, AppQuery};
use super::page::PageRequest;
use crate::auth::{Caller, Scope};
use crate::error::{ApiError, ApiResult, Problem};
use crate::events::ms_to_rfc3339;
use crate::state::AppState;
use crate::store::{AuditQuery, AuditRow};

const DEFAULT_PAGE: i64 = 100;
const MAX_PAGE: i64 = 1000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit))
}

/// Filters and cursor.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// Only this action (`job.submit`, `job.cancel`, `node.cancel`, `node.spawn`, `key.create`, `key.revoke`, `auth.refused`).
    pub action: Option<String>,
    /// Only entries of this key.
    #[param(value_type = Option<uuid::Uuid>)]
    pub key_id: Option<String>,
    /// Only this outcome (`ok`, `denied`, `rejected: 422`, …).
    pub outcome: Option<String>,
    /// RFC 3339: entries at or after.
    #[param(format = DateTime)]
    pub since: Option<String>,
    /// RFC 3339: entries before.
    #[param(format = DateTime)]
    pub until: Option<String>,
    /// Page size (1–1000, default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(pattern = r"^[0-9]{1,18}$")]
    pub cursor: Option<String>,
}

/// One entry.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    pub seq: i64,
    pub ts: String,
    pub key_id: Option<Uuid>,
    pub key_name: Option<String>,
    pub source: String,
    pub action: String,
    pub target: Option<String>,
    pub outcome: String,
    pub detail: Option<String>,
}

/// A page of entries, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub next_cursor: Option<String>,
}

impl From<AuditRow> for AuditEntry {
    fn from(row: AuditRow) -> Self {
        Self {
            seq: row.seq,
            ts: ms_to_rfc3339(row.ts_ms),
            key_id: row.key_id,
            key_name: row.key_name,
            source: row.source,
            action: row.action,
            target: row.target,
            outcome: row.outcome,
            detail: row.detail,
        }
    }
}

/// Read the audit log.
#[utoipa::path(get, path = "/audit", tag = "audit", params(AuditParams),
    responses(
        (status = 200, description = "A page of the audit log", body = AuditPage),
        (status = 400, description = "A bad filter", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn list_audit(
    State(app): State<AppState>,
    caller: Caller,
    AppQuery(params): AppQuery<AuditParams>,
) -> ApiResult<Json<AuditPage>> {
    caller.require(Scope::Admin)?;
    let (query, page) = parse(&params)?;
    // Entries are written through the journal; everything recorded before this request is
    // stored before it is read.
    app.engine.flush().await?;
    let rows = app.engine.store().audit(&query).await?;
    let (rows, next_cursor) = page.cut(rows, |r| r.seq);
    Ok(Json(AuditPage { entries: rows.into_iter().map(AuditEntry::from).collect(), next_cursor }))
}

fn parse(params: &AuditParams) -> ApiResult<(AuditQuery, PageRequest)> {
    let page = PageRequest::parse(params.limit, params.cursor.as_deref(), DEFAULT_PAGE, MAX_PAGE)?;
    let time = |text: &Option<String>, name: &str| -> ApiResult<Option<i64>> {
        text.as_deref()
            .map(|t| {
                DateTime::parse_from_rfc3339(t)
                    .map(|d| d.timestamp_millis())
                    .map_err(|_| ApiError::BadRequest(format!("{name} must be an RFC 3339 time")))
            })
            .transpose()
    };
    let query = AuditQuery {
        action: params.action.clone(),
        key_id: params.key_id.as_deref().map(|k| parse_id(k, "key")).transpose()?,
        outcome: params.outcome.clone(),
        since_ms: time(&params.since, "since")?,
        until_ms: time(&params.until, "until")?,
        before_seq: page.before_seq,
        limit: page.fetch(),
    };
    Ok((query, page))
}
