//! A job's workspace as the API asks about it: the declared spec, a node's diff, and the
//! removal of what an ended job kept (its worktrees, its branches, the job branch too). The
//! run-time side (worktrees per attempt, merges up) is the driver's, in `run/workspace.rs`.

use std::path::Path;

use uuid::Uuid;

use super::{Engine, EngineError};
use crate::domain::spec::JobConfig;
use crate::domain::workspace::WorkspaceSpec;
use crate::domain::JobStatus;
use crate::workspace::nodes::{Link, NodeDiff};
use crate::workspace::{WorkspaceError, Workspaces};

impl Engine {
    /// The git worktrees and merges of every job.
    pub fn workspaces(&self) -> &Workspaces {
        &self.inner.ctx.workspaces
    }

    /// Job `job_id`'s status and declared workspace; 404 for an unknown job or one without.
    pub async fn job_workspace(&self, job_id: Uuid) -> Result<(JobStatus, WorkspaceSpec), EngineError> {
        let job = self.store().job(job_id).await?.ok_or_else(|| EngineError::NotFound(format!("job {job_id}")))?;
        let config: JobConfig = serde_json::from_str(&job.config).unwrap_or_default();
        let workspace = config
            .workspace
            .ok_or_else(|| EngineError::NotFound(format!("a workspace of job {job_id} (it declares none)")))?;
        let status = JobStatus::parse(&job.status).unwrap_or(JobStatus::Running);
        Ok((status, workspace))
    }

    /// The changes of the last node of `chain` (root first, ids and names) since its branch
    /// was made; 404 when it has no branch (it never ran in the workspace, nor anything below).
    pub async fn node_diff(&self, job_id: Uuid, chain: &[(Uuid, String)]) -> Result<NodeDiff, EngineError> {
        let (_, workspace) = self.job_workspace(job_id).await?;
        let links: Vec<Link<'_>> = chain.iter().map(|(id, name)| Link { id: *id, name }).collect();
        let node = chain.last().map_or(Uuid::nil(), |(id, _)| *id);
        self.workspaces().node_diff(Path::new(&workspace.repo), job_id, &links).await.map_err(git_trouble)?.ok_or_else(
            || EngineError::NotFound(format!("a branch of node {node} (nothing of it has run in the workspace yet)")),
        )
    }

    /// Removes an ended job's worktrees and branches (the job branch included); 409 while it
    /// has not ended.
    pub async fn remove_workspace(&self, job_id: Uuid) -> Result<(), EngineError> {
        let (status, workspace) = self.job_workspace(job_id).await?;
        if !status.is_terminal() {
            return Err(EngineError::Conflict(format!("job {job_id} is {}: its workspace is in use", status.as_str())));
        }
        self.workspaces().remove_job(Path::new(&workspace.repo), job_id, false).await.map_err(git_trouble)
    }
}

/// A repository gone or broken under cadre is a conflict with the state it expected.
fn git_trouble(error: WorkspaceError) -> EngineError {
    EngineError::Conflict(format!("the job's repository: {error}"))
}
