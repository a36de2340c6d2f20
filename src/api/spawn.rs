//! `POST /recursion/job/{id}/nodes/{node_id}/children`: recursion from inside a worker
//! (SPEC §4.7). A worker's token may add children under its own node or any node below it;
//! a key needs the `write` scope. Depth cap, node limit and the circular-recursion check
//! apply; the new nodes are stored before the 201.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::extract::{parse_id, AppJson, Source};
use crate::auth::{Caller, Scope};
use crate::domain::NodeSpec;
use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(spawn_children))
}

/// Children to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"children": [{"name": "follow-up", "run": {"type": "noop"}}]}))]
pub struct SpawnBody {
    /// Node specs, exactly as in a plan.
    pub children: Vec<NodeSpec>,
}

/// A node that was added.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SpawnedView {
    pub id: Uuid,
    pub parent_id: Uuid,
    pub name: String,
    pub depth: u8,
}

/// What was added, parents before children.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Spawned {
    pub nodes: Vec<SpawnedView>,
}

/// Add children under a running node.
#[utoipa::path(post, path = "/recursion/job/{id}/nodes/{node_id}/children", tag = "jobs", request_body = SpawnBody,
    params(("id" = uuid::Uuid, Path, description = "Job id"), ("node_id" = uuid::Uuid, Path, description = "Parent node id")),
    responses(
        (status = 201, description = "Created and stored", body = Spawned),
        (status = 403, description = "Outside the token's subtree, or a key without `write`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job or node", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The node or job is not running", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid children: depth, node limit, names, circular recursion", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn spawn_children(
    State(app): State<AppState>,
    caller: Caller,
    source: Source,
    Path((id, node_id)): Path<(String, String)>,
    AppJson(body): AppJson<SpawnBody>,
) -> ApiResult<(StatusCode, Json<Spawned>)> {
    let outcome = spawn(&app, &caller, &id, &node_id, body).await;
    super::record(&app, &caller, &source, "node.spawn", Some(format!("{id}/{node_id}")), &outcome);
    Ok((StatusCode::CREATED, Json(outcome?)))
}

async fn spawn(app: &AppState, caller: &Caller, id: &str, node_id: &str, body: SpawnBody) -> ApiResult<Spawned> {
    let (job_id, parent) = (parse_id(id, "job")?, parse_id(node_id, "node")?);
    authorize(app, caller, job_id, parent).await?;
    let nodes = app.engine.spawn(job_id, parent, body.children).await?;
    let nodes = nodes
        .into_iter()
        .map(|n| SpawnedView { id: n.id, parent_id: n.parent_id, name: n.name, depth: n.depth })
        .collect();
    Ok(Spawned { nodes })
}

/// A key needs `write`; a token must belong to this job (else the job does not exist for it)
/// and the parent must be its own node or below it.
async fn authorize(app: &AppState, caller: &Caller, job_id: Uuid, parent: Uuid) -> ApiResult<()> {
    let Caller::Worker(grant) = caller else {
        return caller.require(Scope::Write).map(|_| ());
    };
    if grant.job_id != job_id {
        return Err(ApiError::NotFound(format!("job {job_id}")));
    }
    let nodes = app.engine.store().job_nodes(job_id).await?;
    if !super::reach::is_within(&nodes, grant.node_id, parent) {
        return Err(ApiError::Forbidden(format!("node {parent} is outside this worker's subtree")));
    }
    Ok(())
}
