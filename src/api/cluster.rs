//! `GET /api/v1/cluster`: the replicas serving this API — this one alone without `[cluster]`,
//! every live or recently ended replica over the shared PostgreSQL with it — each with its
//! address, machine, heartbeat and state as this replica sees it now, the unfinished jobs it
//! owns and its share of each depth's quota.

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
    /// Unfinished jobs it owns (drives or queues).
    pub jobs: i64,
    /// Per depth, the slots it may hold at once: its share of the depth's quota (the shares
    /// of all replicas add up to no more than the quota). A server on its own: the quotas.
    pub shares: Vec<u32>,
    /// Per depth, the slots it held or waited for when it last settled its shares.
    pub demand: Vec<u32>,
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
    let owned = owned_jobs(&app).await?;
    let usage = app.engine.resources().usage();
    let replicas = membership
        .replicas()
        .into_iter()
        .map(|(row, state)| {
            let this = row.id == membership.replica_id;
            // This replica's own figures are read now; the others' as they last stored them.
            let (shares, demand) = if this {
                (usage.iter().map(|u| u.share).collect(), usage.iter().map(|u| u.in_use + u.waiting).collect())
            } else {
                (counts(&row.shares), counts(&row.demand))
            };
            ReplicaView {
                this,
                jobs: owned.get(&row.id).copied().unwrap_or(0),
                shares,
                demand,
                id: row.id,
                address: row.address,
                host: row.host,
                pid: row.pid,
                started_at: ms_to_rfc3339(row.started_ms),
                heartbeat_at: ms_to_rfc3339(row.heartbeat_ms),
                ended_at: row.ended_ms.map(ms_to_rfc3339),
                state,
            }
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

/// The unfinished jobs each replica owns; a server on its own owns every one.
async fn owned_jobs(app: &AppState) -> ApiResult<std::collections::HashMap<Uuid, i64>> {
    let membership = &app.cluster;
    if let Some(cluster) = membership.joined() {
        return Ok(cluster.owned_jobs().await?.into_iter().collect());
    }
    let (running, queued) = app.engine.job_counts();
    let jobs = i64::try_from(running + queued).unwrap_or(i64::MAX);
    Ok(std::collections::HashMap::from([(membership.replica_id, jobs)]))
}

fn counts(stored: &[i32]) -> Vec<u32> {
    stored.iter().map(|&n| u32::try_from(n).unwrap_or(0)).collect()
}
