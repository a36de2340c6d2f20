//! The HTTP API: one module per resource, merged under `/api/v1` behind the bearer-key
//! check, plus the public health probes, the OpenAPI document and the bundled reference page.
//!
//! Handlers are thin: they parse, call the engine or the store, and shape the answer. The
//! OpenAPI 3.1 document is generated from the handlers' annotations (utoipa), so it cannot
//! drift from the code.

pub mod audit;
pub mod extract;
pub mod health;
pub mod hierarchy;
pub mod jobs;
pub mod keys;
pub mod logs;
pub mod metrics;
pub mod page;
pub mod reach;
pub mod spawn;
pub mod stats;
pub mod validate;
pub mod view_cache;
pub mod views;

use axum::middleware;
use axum::routing::get;
use axum::Router;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

use crate::app::AppState;
use crate::auth::middleware::authenticate;
use crate::error::ApiError;

/// Where the OpenAPI document is served.
pub const OPENAPI_PATH: &str = "/api/v1/openapi.json";

#[derive(OpenApi)]
#[openapi(
    info(title = "cadre", description = "Hierarchical job orchestrator: the recursion API."),
    servers((url = "/api/v1")),
    modifiers(&BearerAuth),
    components(schemas(crate::error::Problem, crate::domain::FieldError)),
    tags((name = "jobs", description = "Submit, inspect and cancel job trees"), (name = "stats", description = "Quotas and usage"))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let scheme = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("sk-orch-…").build();
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// The OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, api) = recursion_routes().split_for_parts();
    api
}

fn recursion_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(jobs::router())
        .merge(logs::router())
        .merge(validate::router())
        .merge(hierarchy::router())
        .merge(stats::router())
        .merge(spawn::router())
        .merge(keys::router())
        .merge(audit::router())
}

/// Every route.
pub fn router(state: AppState) -> Router {
    let (api, openapi) = recursion_routes().split_for_parts();
    let api = api.route_layer(middleware::from_fn_with_state(state.clone(), authenticate));
    Router::new()
        .nest("/api/v1", api)
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::metrics))
        .merge(crate::ws::router())
        .merge(SwaggerUi::new("/docs").url(OPENAPI_PATH, openapi))
        .fallback(crate::dashboard::serve)
        .with_state(state)
}

/// Records a state-changing call in the audit log, with its outcome.
pub(crate) fn record<T>(
    app: &crate::app::App,
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
