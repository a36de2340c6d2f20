//! Workspaces against real temporary repositories: isolation between workers, merges two
//! levels up, conflicts and failing checks that leave the target unmoved, diffs, cleanup and
//! concurrent creation on one repository.

use std::path::{Path, PathBuf};

use tempfile::TempDir;
use uuid::Uuid;

use super::git::{git, COMMIT_CONFIG};
use super::*;

const ORIGINAL: &str = "one\ntwo\nthree\n";

/// A repository with one commit on `main` (`shared.txt`) and a handle whose worktree root is
/// outside it. The temporary directories live as long as the fixture.
struct Fixture {
    _dirs: (TempDir, TempDir),
    repo: PathBuf,
    ws: Workspaces,
    job: Uuid,
}

async fn fixture() -> Fixture {
    let (repo_dir, root_dir) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    let repo = repo_dir.path().to_path_buf();
    git(&repo, &["init", "--quiet", "-b", "main"]).await.unwrap();
    std::fs::write(repo.join("shared.txt"), ORIGINAL).unwrap();
    git(&repo, &["add", "-A"]).await.unwrap();
    let mut args = COMMIT_CONFIG.to_vec();
    args.extend(["commit", "--quiet", "-m", "initial"]);
    git(&repo, &args).await.unwrap();
    let ws = Workspaces::new(root_dir.path().join("worktrees"));
    Fixture { _dirs: (repo_dir, root_dir), repo, ws, job: Uuid::now_v7() }
}

impl Fixture {
    async fn job_branch(&self) -> String {
        self.ws.job_branch(&self.repo, "main", self.job).await.unwrap()
    }

    async fn node(&self, name: &str, parent: &str) -> Worktree {
        self.ws.create(&self.repo, self.job, Uuid::now_v7(), name, parent).await.unwrap()
    }

    async fn sha(&self, branch: &str) -> String {
        git::branch_sha(&self.repo, branch).await.unwrap()
    }

    async fn file_on(&self, branch: &str) -> String {
        git(&self.repo, &["show", &format!("refs/heads/{branch}:shared.txt")]).await.unwrap()
    }
}

/// Rewrites `shared.txt` in `worktree`, replacing `from` with `to`, and commits it.
async fn edit(ws: &Workspaces, worktree: &Worktree, from: &str, to: &str) {
    let path = worktree.path.join("shared.txt");
    let text = std::fs::read_to_string(&path).unwrap().replace(from, to);
    std::fs::write(&path, text).unwrap();
    assert!(ws.commit_all(worktree, &format!("{from} -> {to}")).await.unwrap().is_some());
}

fn read(worktree: &Worktree) -> String {
    std::fs::read_to_string(worktree.path.join("shared.txt")).unwrap()
}

#[tokio::test]
async fn workers_editing_one_file_each_see_only_their_own_change() {
    let f = fixture().await;
    let job = f.job_branch().await;
    let job_sha = f.sha(&job).await;
    let (a, b) = (f.node("a", &job).await, f.node("b", &job).await);
    assert_ne!(a.path, b.path);
    assert_ne!(a.branch, b.branch);
    edit(&f.ws, &a, "one", "ONE").await;
    edit(&f.ws, &b, "three", "THREE").await;
    assert_eq!(read(&a), "ONE\ntwo\nthree\n");
    assert_eq!(read(&b), "one\ntwo\nTHREE\n");
    assert_eq!(f.file_on(&a.branch).await, "ONE\ntwo\nthree");
    // Nothing left uncommitted: nothing to commit.
    assert_eq!(f.ws.commit_all(&a, "again").await.unwrap(), None);
    assert_eq!(f.sha(&job).await, job_sha, "the job branch does not move on a worker's commit");
}

#[tokio::test]
async fn merges_go_up_two_levels_to_the_job_branch() {
    let f = fixture().await;
    let job = f.job_branch().await;
    let lead = f.node("lead", &job).await;
    let (a, b) = (f.node("a", &lead.branch).await, f.node("b", &lead.branch).await);
    edit(&f.ws, &a, "one", "ONE").await;
    edit(&f.ws, &b, "three", "THREE").await;
    for leaf in [&a, &b] {
        let outcome = f.ws.merge(&f.repo, &lead.branch, &leaf.branch, None).await.unwrap();
        assert!(matches!(outcome, MergeOutcome::Merged { .. }), "{outcome:?}");
    }
    let outcome = f.ws.merge(&f.repo, &job, &lead.branch, None).await.unwrap();
    assert_eq!(outcome, MergeOutcome::Merged { sha: f.sha(&job).await });
    assert_eq!(f.file_on(&job).await, "ONE\ntwo\nTHREE");
    assert_eq!(f.file_on("main").await, "one\ntwo\nthree", "the base is never touched");
    // The lead's own checkout was brought forward with its branch.
    assert_eq!(read(&lead), "ONE\ntwo\nTHREE\n");
}

#[tokio::test]
async fn a_conflict_names_the_file_and_leaves_the_target_unmoved() {
    let f = fixture().await;
    let job = f.job_branch().await;
    let (a, b) = (f.node("a", &job).await, f.node("b", &job).await);
    edit(&f.ws, &a, "two", "TWO-a").await;
    edit(&f.ws, &b, "two", "TWO-b").await;
    assert!(matches!(f.ws.merge(&f.repo, &job, &a.branch, None).await.unwrap(), MergeOutcome::Merged { .. }));
    let before = f.sha(&job).await;
    let outcome = f.ws.merge(&f.repo, &job, &b.branch, None).await.unwrap();
    assert_eq!(outcome, MergeOutcome::Conflict { files: vec!["shared.txt".to_owned()] });
    assert_eq!(f.sha(&job).await, before);
    assert_eq!(f.file_on(&job).await, "one\nTWO-a\nthree");
}

#[tokio::test]
async fn a_failing_check_blocks_the_merge() {
    let f = fixture().await;
    let job = f.job_branch().await;
    let a = f.node("a", &job).await;
    edit(&f.ws, &a, "one", "ONE").await;
    let before = f.sha(&job).await;
    let argv = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();

    let outcome = f.ws.merge(&f.repo, &job, &a.branch, Some(&argv(&["false"]))).await.unwrap();
    assert!(matches!(outcome, MergeOutcome::CheckFailed { exit_code: Some(1), .. }), "{outcome:?}");
    let check = argv(&["sh", "-c", "echo broken; exit 3"]);
    let outcome = f.ws.merge(&f.repo, &job, &a.branch, Some(&check)).await.unwrap();
    let MergeOutcome::CheckFailed { exit_code: Some(3), output_tail } = outcome else { panic!("{outcome:?}") };
    assert_eq!(output_tail.trim(), "broken");
    assert_eq!(f.sha(&job).await, before);

    // The check sees the merged tree: it passes only where the worker's change is present.
    let check = argv(&["grep", "-q", "ONE", "shared.txt"]);
    let outcome = f.ws.merge(&f.repo, &job, &a.branch, Some(&check)).await.unwrap();
    assert!(matches!(outcome, MergeOutcome::Merged { .. }), "{outcome:?}");
    assert_ne!(f.sha(&job).await, before);
}

#[tokio::test]
async fn a_check_that_cannot_start_is_a_failed_check() {
    let f = fixture().await;
    let job = f.job_branch().await;
    let a = f.node("a", &job).await;
    edit(&f.ws, &a, "one", "ONE").await;
    let check = vec!["/nonexistent/cadre-check".to_owned()];
    let outcome = f.ws.merge(&f.repo, &job, &a.branch, Some(&check)).await.unwrap();
    assert!(matches!(outcome, MergeOutcome::CheckFailed { exit_code: None, .. }), "{outcome:?}");
}

#[tokio::test]
async fn diff_shows_a_workers_change_against_its_parent() {
    let f = fixture().await;
    let job = f.job_branch().await;
    let a = f.node("a", &job).await;
    assert_eq!(f.ws.diff(&f.repo, &job, &a.branch).await.unwrap(), "");
    edit(&f.ws, &a, "two", "TWO").await;
    let diff = f.ws.diff(&f.repo, &job, &a.branch).await.unwrap();
    assert!(diff.contains("+++ b/shared.txt"), "{diff}");
    assert!(diff.contains("-two\n+TWO\n"), "{diff}");
    let missing = f.ws.diff(&f.repo, &job, "cadre/nope").await.unwrap_err();
    assert!(matches!(missing, WorkspaceError::NoSuchBranch(_)), "{missing}");
}

async fn cadre_branches(repo: &Path) -> Vec<String> {
    let listed = git(repo, &["for-each-ref", "--format=%(refname:lstrip=2)", "refs/heads/cadre/"]).await.unwrap();
    listed.lines().map(str::to_owned).collect()
}

async fn worktree_count(repo: &Path) -> usize {
    let listed = git(repo, &["worktree", "list", "--porcelain"]).await.unwrap();
    listed.lines().filter(|l| l.starts_with("worktree ")).count()
}

#[tokio::test]
async fn removing_a_job_removes_its_worktrees_and_branches() {
    let f = fixture().await;
    let job = f.job_branch().await;
    let (a, b) = (f.node("a", &job).await, f.node("b", &job).await);
    std::fs::write(a.path.join("scratch.txt"), "uncommitted").unwrap();
    f.ws.remove(&b).await.unwrap();
    assert!(!b.path.exists());
    assert_eq!(worktree_count(&f.repo).await, 2, "main and a's");
    assert_eq!(cadre_branches(&f.repo).await.len(), 3, "a node's branch outlives its worktree");

    f.ws.remove_job(&f.repo, f.job, true).await.unwrap();
    assert!(!a.path.exists());
    assert_eq!(worktree_count(&f.repo).await, 1);
    assert_eq!(cadre_branches(&f.repo).await.len(), 3, "kept for inspection");

    f.ws.remove_job(&f.repo, f.job, false).await.unwrap();
    assert!(cadre_branches(&f.repo).await.is_empty());
    assert_eq!(f.sha("main").await, git(&f.repo, &["rev-parse", "HEAD"]).await.unwrap());
}

#[tokio::test]
async fn concurrent_creates_on_one_repository_all_succeed() {
    let f = fixture().await;
    let job = f.job_branch().await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..8 {
        let (ws, repo, job_id, parent) = (f.ws.clone(), f.repo.clone(), f.job, job.clone());
        tasks.spawn(async move { ws.create(&repo, job_id, Uuid::now_v7(), &format!("w{i}"), &parent).await });
    }
    let created: Vec<Worktree> = tasks.join_all().await.into_iter().map(Result::unwrap).collect();
    assert_eq!(created.len(), 8);
    assert_eq!(worktree_count(&f.repo).await, 9);
    for worktree in &created {
        assert_eq!(read(worktree), ORIGINAL);
    }
}

#[tokio::test]
async fn the_job_branch_needs_an_existing_base_and_is_idempotent() {
    let f = fixture().await;
    let missing = f.ws.job_branch(&f.repo, "nope", f.job).await.unwrap_err();
    assert!(matches!(missing, WorkspaceError::NoSuchBranch(ref b) if b == "nope"), "{missing}");
    let job = f.job_branch().await;
    assert_ne!(job, "main");
    assert_eq!(f.job_branch().await, job);
    let itself = f.ws.job_branch(&f.repo, &job, f.job).await.unwrap_err();
    assert!(matches!(itself, WorkspaceError::BranchIsBase(_)), "{itself}");
}

#[test]
fn node_branch_names_are_safe_refs() {
    let (job, node) = (Uuid::now_v7(), Uuid::now_v7());
    let name = node_branch_name(job, node, "../Fix the: bug~1.lock");
    let tail = &node.simple().to_string()[24..];
    assert_eq!(name, format!("cadre/{}/Fix-the-bug-1-lock-{tail}", job.simple()));
    assert!(node_branch_name(job, node, "  ").ends_with(&format!("/node-{tail}")));
}
