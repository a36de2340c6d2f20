//! The HTTP API: one module per resource, merged under `/api/v1` behind the bearer-key
//! check, plus the public health probes, the OpenAPI document and the bundled reference page.
//!
//! Handlers are thin: they parse, call the engine or the store, and shape the answer. The
//! OpenAPI 3.1 document is generated from the handlers' annotations (utoipa), so it cannot
//! drift from the code.

mod agent_mail;
mod agent_metrics;
pub mod agent_view;
pub mod agents;
pub mod alerts;
pub mod answer;
pub mod approval_view;
pub mod approvals;
pub mod audit;
pub mod budget_view;
pub mod cluster;
pub mod contract;
pub mod extract;
pub mod forward;
pub mod health;
pub mod hierarchy;
pub mod jobs;
pub mod keys;
pub mod lineage;
pub mod llm_calls;
pub mod logs;
pub mod messages;
pub mod metrics;
pub mod notify;
pub mod page;
pub mod plan;
pub mod reach;
pub mod reference;
pub mod report;
pub mod spawn;
pub mod stats;
pub mod usage;
pub mod validate;
pub mod view_cache;
pub mod views;
pub mod workspace;

use axum::middleware;
use axum::routing::get;
use axum::Router;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::auth::middleware::authenticate;
use crate::error::ApiError;
use crate::state::AppState;

pub use reference::OPENAPI_PATH;

#[derive(OpenApi)]
#[openapi(
    info(title = "cadre", description = "Hierarchical job orchestrator: the recursion API."),
    modifiers(&BearerAuth),
    components(schemas(crate::error::Problem, crate::domain::FieldError, crate::workforce::agent::AgentSpec)),
    tags(
        (name = "jobs", description = "Submit, inspect and cancel job trees"),
        (name = "alerts", description = "What the alert rules raised"),
        (name = "mail", description = "Messages between the nodes of a job: send, receive, acknowledge, dead letters"),
        (name = "agents", description = "The standing workforce: the agent registry and the organisation chart"),
        (name = "approvals", description = "People approving nodes: the inbox and decisions"),
        (name = "stats", description = "Quotas and usage"),
        (name = "cluster", description = "The replicas serving this API"),
        (name = "keys", description = "API keys (admin)"),
        (name = "audit", description = "Who changed what (admin)"),
        (name = "notify", description = "Webhooks and how their deliveries stand (admin)"),
        (name = "probes", description = "Liveness, readiness and metrics; no key needed"),
    )
)]
struct ApiDoc;

/// The public probes, outside `/api/v1` and the key check.
#[derive(OpenApi)]
#[openapi(paths(health::healthz, health::readyz, metrics::metrics))]
struct ProbesDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let scheme = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("sk-orch-…").build();
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// The OpenAPI document.
pub fn openapi() -> serde_json::Value {
    let (_, api) = recursion_routes().split_for_parts();
    document(api)
}

/// The recursion API's own document made whole: the probes, the shared answers, the links.
fn document(api: utoipa::openapi::OpenApi) -> serde_json::Value {
    contract::to_json(&contract::complete(api, ProbesDoc::openapi()))
}

fn recursion_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(jobs::router())
        .merge(logs::router())
        .merge(lineage::router())
        .merge(llm_calls::router())
        .merge(usage::router())
        .merge(validate::router())
        .merge(plan::router())
        .merge(answer::router())
        .merge(approvals::router())
        .merge(alerts::router())
        .merge(agents::router())
        .merge(agent_mail::router())
        .merge(messages::router())
        .merge(workspace::router())
        .merge(report::router())
        .merge(hierarchy::router())
        .merge(stats::router())
        .merge(cluster::router())
        .merge(spawn::router())
        .merge(keys::router())
        .merge(audit::router())
        .merge(notify::router())
}

/// Every route.
pub fn router(state: AppState) -> Router {
    let (api, openapi) = recursion_routes().split_for_parts();
    let openapi = document(openapi);
    // Authenticated first (a refused key costs no lookup), then passed to the job's replica.
    let api = api
        .route_layer(middleware::from_fn_with_state(state.clone(), forward::to_owner))
        .route_layer(middleware::from_fn_with_state(state.clone(), authenticate));
    Router::new()
        .nest(contract::API_PREFIX, api)
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::metrics))
        .merge(crate::ws::router())
        .merge(reference::router(&openapi))
        .fallback(crate::dashboard::serve)
        .with_state(state)
}

/// Records a state-changing call in the audit log, with its outcome.
pub(crate) fn record<T>(
    app: &crate::state::App,
    caller: &crate::auth::Caller,
    source: &extract::Source,
    action: &'static str,
    target: Option<String>,
    outcome: &Result<T, ApiError>,
) {
    let (key_id, key_name) = caller.audit_identity();
    let (outcome, detail) = match outcome {
        Ok(_) => ("ok".to_string(), None),
        Err(err) => (format!("rejected: {}", err.status().as_u16()), Some(err.to_string())),
    };
    let entry = crate::engine::journal::AuditDraft {
        key_id,
        key_name,
        source: source.0.clone(),
        action,
        target,
        outcome,
        detail,
    };
    app.engine.journal().audit(entry);
}
