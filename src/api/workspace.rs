//! A job's git workspace over HTTP: `GET …/nodes/{node_id}/diff` (what a node changed since
//! its branch was made from its parent's) and `DELETE …/workspace` (removing what an ended
//! job kept: its worktrees and its branches). The job view shows the declared workspace as
//! [`WorkspaceView`]. A key needs `read` for the diff (a worker token: its own subtree) and
//! `write` to remove.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::extract::{parse_id, Source};
use super::reach::readable_subtree;
use crate::auth::{Caller, Scope};
use crate::domain::spec::JobConfig;
use crate::domain::workspace::{MergeMode, WorkspaceSpec};
use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;
use crate::workspace::job_branch_name;
use crate::workspace::nodes::ChangedFile;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(node_diff)).routes(routes!(remove_workspace))
}

/// The job's declared workspace, with the branch its work is merged up into.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WorkspaceView {
    pub repo: String,
    pub base: String,
    pub merge: MergeMode,
    pub check: Option<Vec<String>>,
    /// `cadre/<job>/job`: where `merge: up` brings the whole tree's work.
    pub job_branch: String,
}

impl WorkspaceView {
    /// The workspace a stored job's `config` declares, if any.
    pub fn of_job(job_id: Uuid, config: &str) -> Option<Self> {
        let WorkspaceSpec { repo, base, merge, check } = serde_json::from_str::<JobConfig>(config).ok()?.workspace?;
        Some(Self { repo, base, merge, check, job_branch: job_branch_name(job_id) })
    }
}

/// What a node's branch holds that its parent's did not when the branch was made.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NodeDiffView {
    pub job_id: Uuid,
    pub node_id: Uuid,
    pub branch: String,
    /// Its parent's branch (the job branch for the root).
    pub parent_branch: String,
    /// The commit the branch was made from.
    pub base: String,
    /// The branch's tip.
    pub head: String,
    pub files: Vec<FileView>,
    /// `git diff base head`, unified.
    pub diff: String,
}

/// A changed file and git's status letter for it (`A`, `M`, `D`, `R`, …).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FileView {
    pub path: String,
    pub status: String,
}

impl From<ChangedFile> for FileView {
    fn from(file: ChangedFile) -> Self {
        Self { path: file.path, status: file.status }
    }
}

/// A node's changes on its own branch.
#[utoipa::path(get, path = "/recursion/job/{id}/nodes/{node_id}/diff", tag = "jobs",
    params(("id" = uuid::Uuid, Path, description = "Job id"), ("node_id" = uuid::Uuid, Path, description = "Node id")),
    responses(
        (status = 200, description = "The node's diff since its branch was made", body = NodeDiffView),
        (status = 403, description = "A key without `read`, or outside the calling worker's subtree", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job or node, a job without a workspace, or a node with no branch yet", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The job's repository is gone or git failed on it", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn node_diff(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, node_id)): Path<(String, String)>,
) -> ApiResult<Json<NodeDiffView>> {
    let (job_id, node_id) = (parse_id(&id, "job")?, parse_id(&node_id, "node")?);
    let subtree = readable_subtree(&caller, job_id)?;
    let store = app.engine.store().as_ref();
    let node = store.lineage_node(job_id, node_id).await?;
    let node = node.ok_or_else(|| ApiError::NotFound(format!("node {node_id} in job {job_id}")))?;
    let ancestors = store.ancestors(job_id, node_id).await?;
    if let Some(top) = subtree.filter(|&top| top != node_id) {
        if !ancestors.iter().any(|row| row.id == top) {
            return Err(ApiError::Forbidden(format!("node {node_id} is outside this worker's subtree")));
        }
    }
    let chain: Vec<(Uuid, String)> =
        ancestors.iter().rev().chain(std::iter::once(&node)).map(|row| (row.id, row.name.clone())).collect();
    let diff = app.engine.node_diff(job_id, &chain).await?;
    Ok(Json(NodeDiffView {
        job_id,
        node_id,
        branch: diff.branch,
        parent_branch: diff.parent_branch,
        base: diff.base,
        head: diff.head,
        files: diff.files.into_iter().map(FileView::from).collect(),
        diff: diff.diff,
    }))
}

/// Remove what an ended job kept in its repository: its worktrees and every branch it made,
/// the job branch included (merge or copy the job branch first to keep its work).
#[utoipa::path(delete, path = "/recursion/job/{id}/workspace", tag = "jobs",
    params(("id" = uuid::Uuid, Path, description = "Job id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "A key without `write`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job, or a job without a workspace", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The job has not ended, or git failed on its repository", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn remove_workspace(
    State(app): State<AppState>,
    caller: Caller,
    source: Source,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let job_id = parse_id(&id, "job")?;
    caller.require(Scope::Write)?;
    let outcome = app.engine.remove_workspace(job_id).await.map_err(Into::into);
    super::record(&app, &caller, &source, "workspace.delete", Some(job_id.to_string()), &outcome);
    outcome.map(|()| StatusCode::NO_CONTENT)
}
