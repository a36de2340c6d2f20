//! Liveness (`/healthz`: the process answers) and readiness (`/readyz`: the store answers).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::app::AppState;

/// The process is up.
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// The store is reachable; 503 otherwise.
pub async fn readyz(State(app): State<AppState>) -> (StatusCode, Json<Value>) {
    match app.engine.store().ping().await {
        Ok(()) => (StatusCode::OK, Json(json!({"status": "ready"}))),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable", "detail": "the store is unreachable"})),
            )
        }
    }
}
