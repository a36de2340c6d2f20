//! Liveness (`/healthz`: the process answers) and readiness (`/readyz`: the store answers and
//! this replica is a member of its cluster).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::cluster::ReplicaState;
use crate::state::AppState;

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "probes",
    responses((status = 200, description = "The process is up", body = Object, example = json!({"status": "ok"}))))]
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Readiness: the store answers and takes this server's writes and, in a cluster, this
/// replica is a member (its heartbeat current, not declared gone); 503 otherwise. Either way it says which replica answered.
#[utoipa::path(get, path = "/readyz", tag = "probes",
    responses(
        (status = 200, description = "Ready", body = Object,
            example = json!({"status": "ready", "replica": {"id": "6f1c…", "cluster": true, "live_replicas": 3}})),
        (status = 503, description = "The store is unreachable or not taking writes, or this replica is not a member of its cluster", body = Object,
            example = json!({"status": "unavailable", "detail": "the store is unreachable"})),
    ))]
pub async fn readyz(State(app): State<AppState>) -> (StatusCode, Json<Value>) {
    let membership = &app.cluster;
    let live = membership.replicas().iter().filter(|(_, state)| *state == ReplicaState::Live).count();
    let replica = json!({"id": membership.replica_id, "cluster": membership.enabled, "live_replicas": live});
    let unavailable = |detail: &str| {
        (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "unavailable", "detail": detail, "replica": replica})))
    };
    match unready(&app).await {
        Some(detail) => unavailable(detail),
        None => (StatusCode::OK, Json(json!({"status": "ready", "replica": replica}))),
    }
}

/// Why this server is not ready, if it is not.
async fn unready(app: &AppState) -> Option<&'static str> {
    if let Err(err) = app.engine.store().ping().await {
        tracing::warn!(error = %err, "readiness check failed");
        return Some("the store is unreachable");
    }
    if app.engine.is_store_stalled() {
        return Some("the store is not taking this server's writes");
    }
    (!app.cluster.is_member())
        .then_some("this replica is not a member of its cluster (heartbeat lapsed, or declared gone)")
}
