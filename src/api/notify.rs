//! `GET /api/v1/notify/webhooks` (admin): each configured webhook and where its deliveries
//! stand — its stored cursor, its last attempt and how it went — read from the delivery
//! tasks' status in memory (`people::notify`), with the URL cut to what is safe to show.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Caller, Scope};
use crate::config::redacted_url;
use crate::error::{ApiResult, Problem};
use crate::events::ms_to_rfc3339;
use crate::people::notify::{Hook, Outcome};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_webhooks))
}

/// One webhook.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    /// Its name in the configuration.
    pub name: String,
    /// Where it posts: scheme, host, port and first path segment; user-info becomes
    /// `redacted@`, a query `?redacted`, the rest of the path `…` (tokens live there).
    pub url: String,
    /// The event kinds it gets.
    pub events: Vec<String>,
    /// Its stored cursor: every event up to this seq is delivered, given up on, or not one
    /// of its kinds.
    pub last_seq: i64,
    /// How its last attempt went; null before the first.
    pub last_outcome: Option<Outcome>,
    /// Why its last attempt failed (`HTTP 503`, `no answer within 10 s`, …); null after a
    /// success.
    pub last_error: Option<String>,
    /// When its last attempt ended (RFC 3339).
    pub last_attempt_at: Option<String>,
    /// Failed attempts since its last delivery.
    pub failures_in_a_row: u64,
}

/// Every configured webhook, in the order configured.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    pub webhooks: Vec<WebhookView>,
}

impl From<&Hook> for WebhookView {
    fn from(hook: &Hook) -> Self {
        let latest = hook.status.latest();
        Self {
            name: hook.config.name.clone(),
            url: redacted_url(&hook.config.url),
            events: hook.config.events.clone(),
            last_seq: hook.status.last_seq(),
            last_outcome: latest.outcome,
            last_error: latest.error,
            last_attempt_at: latest.attempt_ms.map(ms_to_rfc3339),
            failures_in_a_row: latest.failures_in_a_row,
        }
    }
}

/// The webhooks and how their deliveries stand.
#[utoipa::path(get, path = "/notify/webhooks", tag = "notify",
    responses(
        (status = 200, description = "Every configured webhook", body = WebhookList),
        (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn list_webhooks(State(app): State<AppState>, caller: Caller) -> ApiResult<Json<WebhookList>> {
    caller.require(Scope::Admin)?;
    let webhooks = app.webhooks.hooks().iter().map(|hook| WebhookView::from(hook.as_ref())).collect();
    Ok(Json(WebhookList { webhooks }))
}
