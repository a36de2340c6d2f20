//! Merging one branch into another without touching anyone's checkout.
//!
//! The merge is made in a temporary, detached worktree of the target's commit, so neither the
//! user's checkout nor the parent node's worktree (which has the target branch checked out,
//! and where git would refuse a second checkout of it) is disturbed while git works. Only once
//! the merge commit exists and the check has passed does the target branch move, by a
//! compare-and-swap `update-ref`; a conflict or a failing check leaves it where it was. A
//! worktree that has the target checked out is then brought forward by a two-way `read-tree`,
//! which keeps any uncommitted edits there that do not collide with the merge.

use std::path::Path;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::git::{self, branch_sha, git, git_output, path_arg, COMMIT_CONFIG};
use super::{WorkspaceError, Workspaces};

/// What became of a merge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum MergeOutcome {
    /// The target branch now points at `sha` (the merge commit, or the target's own commit
    /// when there was nothing to merge).
    Merged { sha: String },
    /// Both sides changed these files in ways git could not reconcile; the target is unmoved.
    Conflict { files: Vec<String> },
    /// The check exited non-zero (`None`: killed by a signal or could not start) in the merged
    /// tree; the target is unmoved.
    CheckFailed { exit_code: Option<i32>, output_tail: String },
}

impl Workspaces {
    /// Merges `from_branch` into `into_branch` of `repo` (`git merge --no-ff`), runs `check`
    /// (an argv, no shell; empty or `None` means none) in the merged tree, and moves
    /// `into_branch` only when both succeed.
    pub async fn merge(
        &self,
        repo: &Path,
        into_branch: &str,
        from_branch: &str,
        check: Option<&[String]>,
    ) -> Result<MergeOutcome, WorkspaceError> {
        let (repo, _guard) = self.lock(repo).await?;
        let old = branch_sha(&repo, into_branch).await?;
        branch_sha(&repo, from_branch).await?;
        let scratch = self.root().join(".merge").join(Uuid::new_v4().simple().to_string());
        git(&repo, &["worktree", "add", "--detach", path_arg(&scratch)?, &old]).await?;
        let check = (check.unwrap_or_default(), self.inner.check_timeout);
        let outcome = merge_in(&scratch, into_branch, from_branch, check).await;
        // The scratch worktree goes whatever happened: the result lives in the object store.
        let cleanup = git::remove_worktree(&repo, &scratch).await;
        let outcome = outcome?;
        cleanup?;
        let outcome = match outcome {
            MergeOutcome::Merged { sha } => land(&repo, into_branch, &old, sha).await?,
            refused => refused,
        };
        self.count_merge(&outcome);
        Ok(outcome)
    }
}

/// Moves the target branch to the merge commit `sha` — unless a checkout of it has unsaved
/// edits the merge would run over, which makes it a conflict on those files.
async fn land(repo: &Path, into_branch: &str, old: &str, sha: String) -> Result<MergeOutcome, WorkspaceError> {
    let full = format!("refs/heads/{into_branch}");
    let checkouts = checkouts_of(repo, &full).await?;
    let blocked = unsaved_in_the_way(&checkouts, old, &sha).await?;
    if !blocked.is_empty() {
        return Ok(MergeOutcome::Conflict { files: blocked });
    }
    move_branch(repo, (&full, &checkouts), old, &sha).await?;
    Ok(MergeOutcome::Merged { sha })
}

/// The files a merge from `old` to `new` changes that a checkout of the target (a parent
/// worker still at work) has changed and not committed: moving the branch under it then would
/// leave its files behind the branch, and its next commit would undo the merge. Such a merge is
/// refused as a conflict on those files.
async fn unsaved_in_the_way(checkouts: &[String], old: &str, new: &str) -> Result<Vec<String>, WorkspaceError> {
    let mut blocked = Vec::new();
    for checkout in checkouts {
        let dir = Path::new(checkout);
        // Untrimmed: a status line starts with a space when only the worktree changed.
        let args = ["status", "--porcelain", "-z", "--untracked-files=all"];
        let status = git_output(dir, &args).await?;
        if !status.success() {
            return Err(git::failure(&args, &status));
        }
        let dirty = status.stdout;
        if dirty.is_empty() {
            continue;
        }
        let merged = git(dir, &["diff", "--name-only", "-z", old, new]).await?;
        let merged: Vec<&str> = merged.split('\0').filter(|f| !f.is_empty()).collect();
        for path in dirty_paths(&dirty) {
            if merged.contains(&path) && !blocked.iter().any(|b| b == path) {
                blocked.push(path.to_owned());
            }
        }
    }
    Ok(blocked)
}

/// The merge and the check, inside the scratch worktree (detached at the target's commit).
async fn merge_in(
    scratch: &Path,
    into_branch: &str,
    from_branch: &str,
    (check, limit): (&[String], std::time::Duration),
) -> Result<MergeOutcome, WorkspaceError> {
    let message = format!("cadre: merge {from_branch} into {into_branch}");
    let from_ref = format!("refs/heads/{from_branch}");
    let mut args = COMMIT_CONFIG.to_vec();
    // `--no-verify`: the user's hooks are not cadre's gate; the job's `check` is.
    args.extend(["merge", "--no-ff", "--no-edit", "--no-verify", "-m", &message, &from_ref]);
    let out = git_output(scratch, &args).await?;
    if !out.success() {
        return conflict(scratch, &args, &out).await;
    }
    let (exit_code, output_tail) = git::run_check(scratch, check, limit).await;
    if exit_code != Some(0) {
        return Ok(MergeOutcome::CheckFailed { exit_code, output_tail });
    }
    Ok(MergeOutcome::Merged { sha: git(scratch, &["rev-parse", "HEAD"]).await? })
}

/// A failed merge: the conflicting files when there are any, else git's own error (a failure
/// that is not a conflict is the engine's problem, not the node's).
async fn conflict(scratch: &Path, args: &[&str], out: &git::Output) -> Result<MergeOutcome, WorkspaceError> {
    let listed = git(scratch, &["diff", "--name-only", "--diff-filter=U", "-z"]).await?;
    let files: Vec<String> = listed.split('\0').filter(|f| !f.is_empty()).map(str::to_owned).collect();
    // Tidiness only: the scratch worktree is removed next, and the target never moved.
    let _ = git_output(scratch, &["merge", "--abort"]).await;
    if files.is_empty() {
        return Err(git::failure(args, out));
    }
    Ok(MergeOutcome::Conflict { files })
}

/// The paths `git status --porcelain -z` lists: "XY path" fields, a rename's or copy's old
/// path in the field after it (listed too: the merge may touch either).
fn dirty_paths(status: &str) -> Vec<&str> {
    let mut paths = Vec::new();
    let mut fields = status.split('\0').filter(|f| !f.is_empty());
    while let Some(field) = fields.next() {
        let (code, path) = (field.get(..2).unwrap_or_default(), field.get(3..).unwrap_or_default());
        paths.push(path);
        if code.contains(['R', 'C']) {
            paths.extend(fields.next());
        }
    }
    paths
}

/// Moves the branch (`full`, a whole ref name) from `old` to `new` (unless equal), refusing if someone else moved it in the
/// meantime, then brings forward any worktree that has it checked out.
async fn move_branch(
    repo: &Path,
    (full, checkouts): (&str, &[String]),
    old: &str,
    new: &str,
) -> Result<(), WorkspaceError> {
    if old == new {
        return Ok(());
    }
    let reason = format!("cadre: merge into {full}");
    git(repo, &["update-ref", "-m", &reason, full, new, old]).await?;
    for checkout in checkouts {
        bring_forward(Path::new(checkout), old, new).await?;
    }
    Ok(())
}

/// Updates a checkout whose branch moved from `old` to `new` under it. Best effort: an edit
/// there that collides with the merge stays as it is, and the worktree shows the difference;
/// the branch itself has moved either way.
async fn bring_forward(checkout: &Path, old: &str, new: &str) -> Result<(), WorkspaceError> {
    let out = git_output(checkout, &["read-tree", "-m", "-u", old, new]).await?;
    if !out.success() {
        let stderr = git::tail(&out.stderr);
        tracing::warn!(worktree = %checkout.display(), %stderr, "could not update a checkout of a merged branch");
    }
    Ok(())
}

/// The worktrees (the main one included) that have `full_ref` checked out.
async fn checkouts_of(repo: &Path, full_ref: &str) -> Result<Vec<String>, WorkspaceError> {
    let listing = git(repo, &["worktree", "list", "--porcelain"]).await?;
    let mut found = Vec::new();
    let mut current: Option<&str> = None;
    for line in listing.lines() {
        if let Some(path) = line.strip_prefix("worktree ") {
            current = Some(path);
        } else if line.strip_prefix("branch ") == Some(full_ref) {
            found.extend(current.map(str::to_owned));
        }
    }
    Ok(found)
}
