//! `GET /api/v1/cluster`: the replicas serving this API — this one alone without `[cluster]`,
//! every live or recently ended replica over the shared PostgreSQL with it — each with its
//! address, machine, heartbeat and state as this replica sees it now.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::{Caller, Scope};
use crate::cluster::ReplicaState;
use crate::error::{ApiResult, Problem};
use crate::events::ms_to_rfc3339;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(cluster))
}

/// The cluster as the answering replica sees it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ClusterView {
    /// False for a server on its own (`cluster.enabled` unset): it is the only replica.
    pub enabled: bool,
    /// The replica that answered.
    pub replica_id: Uuid,
    /// Seconds between heartbeats.
    pub heartbeat_s: u64,
    /// A heartbeat older than this lapses a replica.
    pub lease_s: u64,
    /// Live replicas and those that ended in the last hour, oldest first.
    pub replicas: Vec<ReplicaView>,
}

/// One replica.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReplicaView {
    pub id: Uuid,
    /// Where it is reached (`cluster.address`, else its public URL).
    pub address: String,
    /// The machine it runs on.
    pub host: String,
    pub pid: i64,
    pub started_at: String,
    /// Its last stored heartbeat.
    pub heartbeat_at: String,
    /// When it left or was declared gone.
    pub ended_at: Option<String>,
    pub state: ReplicaState,
    /// This is the replica that answered.
    pub this: bool,
}

/// The cluster's replicas.
#[utoipa::path(get, path = "/cluster", tag = "cluster",
    responses(
        (status = 200, description = "The replicas as this one sees them", body = ClusterView),
        (status = 403, description = "A worker token, or a key without `read`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn cluster(State(app): State<AppState>, caller: Caller) -> ApiResult<Json<ClusterView>> {
    caller.require(Scope::Read)?;
    let membership = &app.cluster;
    membership.refresh().await;
    let (heartbeat_s, lease_s) = membership.timing();
    let replicas = membership
        .replicas()
        .into_iter()
        .map(|(row, state)| ReplicaView {
            this: row.id == membership.replica_id,
            id: row.id,
            address: row.address,
            host: row.host,
            pid: row.pid,
            started_at: ms_to_rfc3339(row.started_ms),
            heartbeat_at: ms_to_rfc3339(row.heartbeat_ms),
            ended_at: row.ended_ms.map(ms_to_rfc3339),
            state,
        })
        .collect();
    Ok(Json(ClusterView {
        enabled: membership.enabled,
        replica_id: membership.replica_id,
        heartbeat_s,
        lease_s,
        replicas,
    }))
}
