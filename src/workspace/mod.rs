//! Workspaces (issue 17): a git worktree per worker, on a branch of its own, merged up the tree.
//!
//! This room owns everything cadre does to a job's repository: the job branch made from the
//! declared base, a worktree and branch per node made from its parent's branch, committing
//! what a worker left behind, merging a branch into its parent's (with the job's `check` run
//! in the merged tree, see [`merge`]), a node's diff, and removing it all when the job goes.
//! Git runs as a process ([`git`]), never through a shell, and every operation on one
//! repository holds that repository's lock, so concurrent drivers never race git's own lock
//! files (`index.lock`, `.git/worktrees`, packed refs).
//!
//! The engine calls in here for a job that declares `workspace: {repo, base, merge,
//! check}` (through [`nodes`], which names a node by its chain from the root), and so does
//! the API for a node's diff and a kept workspace's removal.
//!
//! Branches: the job branch is `cadre/<job_id>/job` and a node's is
//! `cadre/<job_id>/<node name>-<short node id>`. The issue's `cadre/<job_id>` cannot be used
//! for the job branch: git stores refs as paths, and a ref `cadre/<job_id>` cannot coexist
//! with refs under `cadre/<job_id>/`. Keeping every branch of a job under one prefix also lets
//! [`Workspaces::remove_job`] find them all.

pub mod git;
pub mod merge;
pub mod nodes;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use tokio::sync::OwnedMutexGuard;
use uuid::Uuid;

use git::{branch_sha, git, git_output, path_arg, COMMIT_CONFIG};
pub use merge::MergeOutcome;

/// Why a workspace operation failed.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error("`git {command}` failed (exit {code:?}): {stderr}")]
    Git { command: String, code: Option<i32>, stderr: String },
    #[error("could not run {program}: {source}")]
    Spawn { program: String, source: std::io::Error },
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("branch {0} does not exist")]
    NoSuchBranch(String),
    #[error("the job branch {0} would be the base branch itself")]
    BranchIsBase(String),
    #[error("path {} is not UTF-8", .0.display())]
    NonUtf8Path(PathBuf),
}

/// A node's worktree: where its worker runs, and the branch checked out there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Worktree {
    /// The repository it belongs to (canonical).
    pub repo: PathBuf,
    pub path: PathBuf,
    pub branch: String,
}

/// The handle the engine keeps; cheap to clone (clones share the locks).
#[derive(Clone)]
pub struct Workspaces {
    inner: Arc<Inner>,
}

struct Inner {
    /// Where worktrees live: `<root>/<job_id>/<node_id>`, scratch merges under `<root>/.merge`.
    root: PathBuf,
    /// One lock per canonical repository path. Entries are never dropped: a job's repositories
    /// are few, and a lock that outlives its last user costs a few bytes.
    locks: Mutex<HashMap<PathBuf, Arc<tokio::sync::Mutex<()>>>>,
    /// Merges made, by outcome: merged, conflict, check failed (for `/metrics`).
    merges: [AtomicU64; 3],
    /// The longest a merge's check may run.
    check_timeout: std::time::Duration,
}

/// How many merges ended each way since the server started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MergeCounts {
    pub merged: u64,
    pub conflict: u64,
    pub check_failed: u64,
}

/// How long a check may run when the server sets no limit (`workers.timeout_s`).
const DEFAULT_CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3600);

/// The job branch's name.
pub fn job_branch_name(job_id: Uuid) -> String {
    format!("cadre/{}/job", job_id.simple())
}

/// A node's branch name: its name made safe for a ref, and the tail of its id. The tail, not
/// the head: ids are UUIDv7, whose leading digits are a timestamp shared by siblings.
pub fn node_branch_name(job_id: Uuid, node_id: Uuid, node_name: &str) -> String {
    let id = node_id.simple().to_string();
    format!("cadre/{}/{}-{}", job_id.simple(), slug(node_name), &id[id.len() - 8..])
}

/// `name` reduced to letters, digits, `-` and `_` (runs of anything else become one `-`), so
/// that no node name can form an invalid or surprising ref (`..`, `.lock`, `~`, spaces).
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed: String = out.trim_matches('-').chars().take(48).collect();
    if trimmed.is_empty() {
        "node".to_owned()
    } else {
        trimmed
    }
}

impl Workspaces {
    /// A handle keeping worktrees under `root` (e.g. `<data_dir>/worktrees`).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self::with_check_timeout(root, DEFAULT_CHECK_TIMEOUT)
    }

    /// As [`Workspaces::new`], a merge's check stopped (and failed) after `check_timeout`.
    pub fn with_check_timeout(root: impl Into<PathBuf>, check_timeout: std::time::Duration) -> Self {
        let inner =
            Inner { root: root.into(), locks: Mutex::new(HashMap::new()), merges: Default::default(), check_timeout };
        Self { inner: Arc::new(inner) }
    }

    /// Where worktrees live.
    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    /// Merges so far, by outcome.
    pub fn merge_counts(&self) -> MergeCounts {
        let [merged, conflict, check_failed] = self.inner.merges.each_ref().map(|n| n.load(Ordering::Relaxed));
        MergeCounts { merged, conflict, check_failed }
    }

    fn count_merge(&self, outcome: &MergeOutcome) {
        let at = match outcome {
            MergeOutcome::Merged { .. } => 0,
            MergeOutcome::Conflict { .. } => 1,
            MergeOutcome::CheckFailed { .. } => 2,
        };
        self.inner.merges[at].fetch_add(1, Ordering::Relaxed);
    }

    /// The repository's canonical path and its lock, held until the guard drops.
    async fn lock(&self, repo: &Path) -> Result<(PathBuf, OwnedMutexGuard<()>), WorkspaceError> {
        let canonical = tokio::fs::canonicalize(repo)
            .await
            .map_err(|source| WorkspaceError::Io { path: repo.to_path_buf(), source })?;
        let mutex = {
            let mut locks = self.inner.locks.lock().unwrap_or_else(PoisonError::into_inner);
            locks.entry(canonical.clone()).or_default().clone()
        };
        Ok((canonical, mutex.lock_owned().await))
    }

    /// Creates the job branch from `base` (which must exist) and returns its name. Idempotent:
    /// a job branch left by an earlier run (a restart) is kept as it is.
    pub async fn job_branch(&self, repo: &Path, base: &str, job_id: Uuid) -> Result<String, WorkspaceError> {
        let (repo, _guard) = self.lock(repo).await?;
        nodes::ensure_job_branch(&repo, base, job_id).await
    }

    /// Creates a node's branch from `parent_branch` and checks it out in a new worktree at
    /// `<root>/<job_id>/<node_id>`.
    pub async fn create(
        &self,
        repo: &Path,
        job_id: Uuid,
        node_id: Uuid,
        node_name: &str,
        parent_branch: &str,
    ) -> Result<Worktree, WorkspaceError> {
        let (repo, _guard) = self.lock(repo).await?;
        let parent_sha = branch_sha(&repo, parent_branch).await?;
        let branch = node_branch_name(job_id, node_id, node_name);
        let path = self.job_dir(job_id).join(node_id.simple().to_string());
        git(&repo, &["worktree", "add", "--no-track", "-b", &branch, path_arg(&path)?, &parent_sha]).await?;
        Ok(Worktree { repo, path, branch })
    }

    /// Commits everything the worker left in its worktree (new, changed and deleted files).
    /// Returns the new commit, or `None` when nothing was left uncommitted.
    pub async fn commit_all(&self, worktree: &Worktree, message: &str) -> Result<Option<String>, WorkspaceError> {
        let (_, _guard) = self.lock(&worktree.repo).await?;
        let dir = &worktree.path;
        git(dir, &["add", "-A"]).await?;
        // `diff --cached --quiet` answers by its exit status: 1 means something is staged.
        let staged = git_output(dir, &["diff", "--cached", "--quiet"]).await?;
        if staged.success() {
            return Ok(None);
        }
        let mut args = COMMIT_CONFIG.to_vec();
        // `--no-verify`: the user's hooks are not cadre's gate; the job's `check` is.
        args.extend(["commit", "--quiet", "--no-verify", "-m", message]);
        git(dir, &args).await?;
        Ok(Some(git(dir, &["rev-parse", "HEAD"]).await?))
    }

    /// `branch`'s changes since it left `base_branch` (`git diff base...branch`).
    pub async fn diff(&self, repo: &Path, base_branch: &str, branch: &str) -> Result<String, WorkspaceError> {
        let (repo, _guard) = self.lock(repo).await?;
        branch_sha(&repo, base_branch).await?;
        branch_sha(&repo, branch).await?;
        let range = format!("refs/heads/{base_branch}...refs/heads/{branch}");
        let out = git_output(&repo, &["diff", "--no-color", "--no-ext-diff", &range]).await?;
        if !out.success() {
            return Err(git::failure(&["diff", &range], &out));
        }
        // Untrimmed: a diff's trailing newline is part of it.
        Ok(out.stdout)
    }

    /// Removes a node's worktree, uncommitted work and all; its branch stays.
    pub async fn remove(&self, worktree: &Worktree) -> Result<(), WorkspaceError> {
        let (repo, _guard) = self.lock(&worktree.repo).await?;
        git::remove_worktree(&repo, &worktree.path).await
    }

    /// Removes every worktree of a job and, unless `keep_branches`, every branch of it (the job
    /// branch included).
    pub async fn remove_job(&self, repo: &Path, job_id: Uuid, keep_branches: bool) -> Result<(), WorkspaceError> {
        let (repo, _guard) = self.lock(repo).await?;
        self.remove_job_worktrees(&repo, job_id).await?;
        if keep_branches {
            return Ok(());
        }
        // Branches and the refs keeping where each was made from go together.
        for prefix in
            [format!("refs/heads/cadre/{}/", job_id.simple()), format!("refs/cadre-base/{}/", job_id.simple())]
        {
            let listed = git(&repo, &["for-each-ref", "--format=%(refname)", &prefix]).await?;
            for full in listed.lines().filter(|r| !r.is_empty()) {
                git(&repo, &["update-ref", "-d", full]).await?;
            }
        }
        Ok(())
    }

    /// Removes the worktrees under the job's directory, then the directory, then git's record
    /// of anything that was there.
    async fn remove_job_worktrees(&self, repo: &Path, job_id: Uuid) -> Result<(), WorkspaceError> {
        let dir = self.job_dir(job_id);
        let io = |source| WorkspaceError::Io { path: dir.clone(), source };
        if let Some(mut entries) = read_dir_if_any(&dir).await.map_err(io)? {
            while let Some(entry) = entries.next_entry().await.map_err(io)? {
                // Not fatal: a directory git no longer knows is removed with the job's below.
                if let Err(error) = git::remove_worktree(repo, &entry.path()).await {
                    warn_unremoved(&entry.path(), &error);
                }
            }
            tokio::fs::remove_dir_all(&dir).await.map_err(io)?;
        }
        git(repo, &["worktree", "prune"]).await.map(drop)
    }

    fn job_dir(&self, job_id: Uuid) -> PathBuf {
        self.inner.root.join(job_id.simple().to_string())
    }
}

/// The directory's entries, or `None` when there is no such directory.
async fn read_dir_if_any(dir: &Path) -> std::io::Result<Option<tokio::fs::ReadDir>> {
    match tokio::fs::read_dir(dir).await {
        Ok(entries) => Ok(Some(entries)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn warn_unremoved(path: &Path, error: &WorkspaceError) {
    tracing::warn!(%error, path = %path.display(), "could not remove a worktree");
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;

#[cfg(test)]
#[path = "nodes_tests.rs"]
mod nodes_tests;
