//! The workspace of a job's tree: what the engine asks for a node, named by its chain from
//! the root (ids and names), since branch names follow from those alone and nothing about
//! a node's branch needs storing beside the repository.
//!
//! A branch is made the first time something below it needs it, from its parent's branch at
//! that moment, and the commit it was made from is kept in a ref of its own
//! (`refs/cadre-base/<job>/…`) so that a node's diff stays answerable after its branch was
//! merged up (when `parent...branch` would show nothing).

use std::path::Path;

use serde::Serialize;
use uuid::Uuid;

use super::git::{branch_sha, git, git_output, path_arg};
use super::{job_branch_name, node_branch_name, MergeOutcome, WorkspaceError, Workspaces, Worktree};

/// One node on the way from the job's root to a node.
#[derive(Debug, Clone, Copy)]
pub struct Link<'a> {
    pub id: Uuid,
    pub name: &'a str,
}

/// A merge of a node's branch into its parent's.
#[derive(Debug, Clone)]
pub struct MergeStep {
    pub branch: String,
    pub into: String,
    pub outcome: MergeOutcome,
}

/// One file a node changed, with git's status letter (`A`, `M`, `D`, `R`…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangedFile {
    pub path: String,
    pub status: String,
}

/// What a node's branch holds that its parent's did not when it was made.
#[derive(Debug, Clone)]
pub struct NodeDiff {
    pub branch: String,
    pub parent_branch: String,
    /// The commit the branch was made from.
    pub base: String,
    pub head: String,
    pub files: Vec<ChangedFile>,
    pub diff: String,
}

/// The ref keeping the commit `branch` was made from.
fn base_ref(branch: &str) -> String {
    let rest = branch.strip_prefix("cadre/").unwrap_or(branch);
    format!("refs/cadre-base/{rest}")
}

/// The branch of the last node of `chain`, and its parent's (the job branch for the root).
fn branches(job_id: Uuid, chain: &[Link<'_>]) -> (String, String) {
    let branch_of = |link: &Link<'_>| node_branch_name(job_id, link.id, link.name);
    let parent = match chain.len() {
        0 | 1 => job_branch_name(job_id),
        n => branch_of(&chain[n - 2]),
    };
    (chain.last().map_or_else(|| job_branch_name(job_id), branch_of), parent)
}

impl Workspaces {
    /// Refuses a repository git does not know as a working tree, or a base it lacks.
    pub async fn probe(&self, repo: &Path, base: &str) -> Result<(), WorkspaceError> {
        let (repo, _guard) = self.lock(repo).await?;
        git(&repo, &["rev-parse", "--is-inside-work-tree"]).await?;
        branch_sha(&repo, base).await.map(drop)
    }

    /// A fresh worktree for the last node of `chain`, on its branch made (again) from its
    /// parent's branch as it is now; the branches above it are made first where missing, the
    /// job branch from `base`. A worktree or branch left by an earlier attempt is replaced:
    /// each attempt starts from its parent's work, not from a failed try.
    pub async fn prepare(
        &self,
        (repo, base): (&Path, &str),
        job_id: Uuid,
        chain: &[Link<'_>],
    ) -> Result<Worktree, WorkspaceError> {
        let (repo, _guard) = self.lock(repo).await?;
        let mut parent = ensure_job_branch(&repo, base, job_id).await?;
        let Some((node, above)) = chain.split_last() else { return Err(WorkspaceError::NoSuchBranch(parent)) };
        for link in above {
            let branch = node_branch_name(job_id, link.id, link.name);
            if branch_sha(&repo, &branch).await.is_err() {
                make_branch(&repo, &branch, &parent).await?;
            }
            parent = branch;
        }
        let branch = node_branch_name(job_id, node.id, node.name);
        let path = self.job_dir(job_id).join(node.id.simple().to_string());
        clear_path(&repo, &path).await?;
        let parent_sha = branch_sha(&repo, &parent).await?;
        // `-B`: a branch left by an earlier attempt is reset to the parent's tip.
        git(&repo, &["worktree", "add", "--no-track", "-B", &branch, path_arg(&path)?, &parent_sha]).await?;
        git(&repo, &["update-ref", &base_ref(&branch), &parent_sha]).await?;
        Ok(Worktree { repo, path, branch })
    }

    /// Merges the last node of `chain` into its parent's branch (the job branch for the
    /// root), `check` run in the merged tree; `None` when the node never had a branch
    /// (nothing below it ran in the workspace).
    pub async fn merge_up(
        &self,
        repo: &Path,
        job_id: Uuid,
        chain: &[Link<'_>],
        check: Option<&[String]>,
    ) -> Result<Option<MergeStep>, WorkspaceError> {
        let (branch, into) = branches(job_id, chain);
        if branch_sha(repo, &branch).await.is_err() {
            return Ok(None);
        }
        let outcome = self.merge(repo, &into, &branch, check).await?;
        Ok(Some(MergeStep { branch, into, outcome }))
    }

    /// The last node of `chain`'s changes since its branch was made; `None` when it has no
    /// branch.
    pub async fn node_diff(
        &self,
        repo: &Path,
        job_id: Uuid,
        chain: &[Link<'_>],
    ) -> Result<Option<NodeDiff>, WorkspaceError> {
        let (branch, parent_branch) = branches(job_id, chain);
        let (repo, _guard) = self.lock(repo).await?;
        let Ok(head) = branch_sha(&repo, &branch).await else { return Ok(None) };
        let base = git(&repo, &["rev-parse", "--verify", "--quiet", &base_ref(&branch)]).await?;
        let listed = git(&repo, &["diff", "--no-color", "--name-status", "-z", &base, &head]).await?;
        let out = git_output(&repo, &["diff", "--no-color", "--no-ext-diff", &base, &head]).await?;
        if !out.success() {
            return Err(super::git::failure(&["diff", &base, &head], &out));
        }
        let files = changed_files(&listed);
        Ok(Some(NodeDiff { branch, parent_branch, base, head, files, diff: out.stdout }))
    }
}

/// The job branch, made from `base` (with its base ref) unless an earlier run made it.
pub(super) async fn ensure_job_branch(repo: &Path, base: &str, job_id: Uuid) -> Result<String, WorkspaceError> {
    let branch = job_branch_name(job_id);
    if base == branch {
        return Err(WorkspaceError::BranchIsBase(branch));
    }
    if branch_sha(repo, &branch).await.is_err() {
        make_branch(repo, &branch, base).await?;
    }
    Ok(branch)
}

/// Makes `branch` at `from`'s tip and remembers that commit as its base.
async fn make_branch(repo: &Path, branch: &str, from: &str) -> Result<(), WorkspaceError> {
    let sha = branch_sha(repo, from).await?;
    git(repo, &["branch", "--no-track", "--force", branch, &sha]).await?;
    git(repo, &["update-ref", &base_ref(branch), &sha]).await.map(drop)
}

/// Removes whatever is at `path`: a worktree git knows, or a directory it no longer does.
async fn clear_path(repo: &Path, path: &Path) -> Result<(), WorkspaceError> {
    if super::git::remove_worktree(repo, path).await.is_err() {
        match tokio::fs::remove_dir_all(path).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(WorkspaceError::Io { path: path.to_path_buf(), source: e });
            }
            _ => {}
        }
        git(repo, &["worktree", "prune"]).await?;
    }
    Ok(())
}

/// `git diff --name-status -z` read: a status, then one path (two for renames and copies).
fn changed_files(listed: &str) -> Vec<ChangedFile> {
    let mut fields = listed.split('\0').filter(|f| !f.is_empty());
    let mut files = Vec::new();
    while let Some(status) = fields.next() {
        let renamed = status.starts_with(['R', 'C']);
        let first = fields.next().unwrap_or_default();
        let path = if renamed { fields.next().unwrap_or(first) } else { first };
        files.push(ChangedFile { path: path.to_owned(), status: status.chars().take(1).collect() });
    }
    files
}
