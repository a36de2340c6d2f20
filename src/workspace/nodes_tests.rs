//! The engine's view of a workspace, against real temporary repositories: branches made on
//! demand down a chain, a retry starting from its parent's work, diffs that outlive the merge,
//! a check that hangs, the probe at submission and a job's removal.

use std::path::PathBuf;
use std::time::Duration;

use tempfile::TempDir;
use uuid::Uuid;

use super::git::{git, COMMIT_CONFIG};
use super::nodes::Link;
use super::*;

struct Fixture {
    _dirs: (TempDir, TempDir),
    repo: PathBuf,
    ws: Workspaces,
    job: Uuid,
    ids: [Uuid; 3],
}

async fn fixture(check_timeout: Duration) -> Fixture {
    let (repo_dir, root_dir) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    let repo = repo_dir.path().to_path_buf();
    git(&repo, &["init", "--quiet", "-b", "main"]).await.unwrap();
    std::fs::write(repo.join("notes.txt"), "one\n").unwrap();
    git(&repo, &["add", "-A"]).await.unwrap();
    let mut args = COMMIT_CONFIG.to_vec();
    args.extend(["commit", "--quiet", "-m", "initial"]);
    git(&repo, &args).await.unwrap();
    let ws = Workspaces::with_check_timeout(root_dir.path().join("worktrees"), check_timeout);
    let ids = [Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7()];
    Fixture { _dirs: (repo_dir, root_dir), repo, ws, job: Uuid::now_v7(), ids }
}

impl Fixture {
    /// root → team → alice, cut to the first `depth` links.
    fn chain(&self, depth: usize) -> Vec<Link<'static>> {
        let names = ["root", "team", "alice"];
        (0..depth).map(|i| Link { id: self.ids[i], name: names[i] }).collect()
    }

    async fn prepare(&self, depth: usize) -> Worktree {
        self.ws.prepare((&self.repo, "main"), self.job, &self.chain(depth)).await.unwrap()
    }

    async fn branches(&self) -> Vec<String> {
        let listed = git(&self.repo, &["branch", "--list", "cadre/*", "--format=%(refname:short)"]).await.unwrap();
        listed.lines().map(str::to_owned).collect()
    }
}

fn write(worktree: &Worktree, file: &str, text: &str) {
    std::fs::write(worktree.path.join(file), text).unwrap();
}

#[tokio::test]
async fn the_branches_above_are_made_on_demand_and_a_retry_starts_from_its_parents_work() {
    let f = fixture(Duration::from_secs(60)).await;
    let first = f.prepare(3).await;
    assert_eq!(f.branches().await.len(), 4, "job, root, team, alice");
    write(&first, "notes.txt", "one\nfailed try\n");
    write(&first, "junk.txt", "left behind\n");
    f.ws.commit_all(&first, "a try").await.unwrap().expect("committed");
    let again = f.prepare(3).await;
    assert_eq!((again.path.clone(), again.branch.clone()), (first.path.clone(), first.branch.clone()));
    assert_eq!(std::fs::read_to_string(again.path.join("notes.txt")).unwrap(), "one\n");
    assert!(!again.path.join("junk.txt").exists(), "the earlier attempt's work is gone");
    let team = node_branch_name(f.job, f.ids[1], "team");
    assert_eq!(git::branch_sha(&f.repo, &again.branch).await.unwrap(), git::branch_sha(&f.repo, &team).await.unwrap());
}

#[tokio::test]
async fn a_nodes_diff_outlives_its_merge_and_a_node_without_a_branch_has_none() {
    let f = fixture(Duration::from_secs(60)).await;
    let alice = f.prepare(3).await;
    write(&alice, "notes.txt", "one\ntwo\n");
    f.ws.commit_all(&alice, "two").await.unwrap();
    let step = f.ws.merge_up(&f.repo, f.job, &f.chain(3), None).await.unwrap().expect("a branch");
    assert!(matches!(step.outcome, MergeOutcome::Merged { .. }), "{step:?}");
    assert_eq!(step.into, node_branch_name(f.job, f.ids[1], "team"));
    for depth in [3, 2] {
        let diff = f.ws.node_diff(&f.repo, f.job, &f.chain(depth)).await.unwrap().expect("a diff");
        assert!(diff.diff.contains("+two"), "{}", diff.diff);
        assert_eq!(diff.files, [nodes::ChangedFile { path: "notes.txt".into(), status: "M".into() }]);
    }
    let stranger = [Link { id: Uuid::now_v7(), name: "stranger" }];
    assert!(f.ws.merge_up(&f.repo, f.job, &stranger, None).await.unwrap().is_none());
    assert!(f.ws.node_diff(&f.repo, f.job, &stranger).await.unwrap().is_none());
}

#[tokio::test]
async fn a_check_that_hangs_is_stopped_and_the_merge_refused() {
    let f = fixture(Duration::from_millis(300)).await;
    let alice = f.prepare(3).await;
    write(&alice, "notes.txt", "one\ntwo\n");
    f.ws.commit_all(&alice, "two").await.unwrap();
    let check = ["sleep".to_string(), "5".to_string()];
    let step = f.ws.merge_up(&f.repo, f.job, &f.chain(3), Some(&check)).await.unwrap().expect("a branch");
    match step.outcome {
        MergeOutcome::CheckFailed { exit_code: None, output_tail } => assert!(output_tail.contains("did not finish")),
        other => panic!("expected a stopped check, got {other:?}"),
    }
    assert_eq!(f.ws.merge_counts(), MergeCounts { merged: 0, conflict: 0, check_failed: 1 });
}

#[tokio::test]
async fn the_probe_asks_for_a_work_tree_and_its_base_and_removal_leaves_nothing() {
    let f = fixture(Duration::from_secs(60)).await;
    f.ws.probe(&f.repo, "main").await.unwrap();
    assert!(matches!(f.ws.probe(&f.repo, "nope").await, Err(WorkspaceError::NoSuchBranch(_))));
    let plain = TempDir::new().unwrap();
    assert!(f.ws.probe(plain.path(), "main").await.is_err());
    f.prepare(3).await;
    f.ws.remove_job(&f.repo, f.job, true).await.unwrap();
    assert_eq!(f.branches().await.len(), 4, "branches stay when only the worktrees go");
    f.ws.remove_job(&f.repo, f.job, false).await.unwrap();
    assert!(f.branches().await.is_empty());
    let refs = git(&f.repo, &["for-each-ref", "refs/cadre-base/"]).await.unwrap();
    assert!(refs.is_empty(), "{refs}");
}

#[tokio::test]
async fn a_merge_that_would_run_over_a_working_parents_unsaved_edit_is_a_conflict_on_that_file() {
    let f = fixture(Duration::from_secs(60)).await;
    let team = f.prepare(2).await;
    let alice = f.prepare(3).await;
    write(&alice, "notes.txt", "one\nby alice\n");
    f.ws.commit_all(&alice, "alice").await.unwrap();
    // The team's worker is still at work on notes.txt, uncommitted.
    write(&team, "notes.txt", "one\nby the team, unsaved\n");
    let before = git::branch_sha(&f.repo, &team.branch).await.unwrap();
    let step = f.ws.merge_up(&f.repo, f.job, &f.chain(3), None).await.unwrap().expect("a branch");
    assert_eq!(step.outcome, MergeOutcome::Conflict { files: vec!["notes.txt".into()] });
    assert_eq!(git::branch_sha(&f.repo, &team.branch).await.unwrap(), before, "the branch did not move");
    // An unsaved file the merge does not touch is no obstacle, and stays.
    write(&team, "notes.txt", "one\n");
    write(&team, "draft.txt", "mine\n");
    let step = f.ws.merge_up(&f.repo, f.job, &f.chain(3), None).await.unwrap().expect("a branch");
    assert!(matches!(step.outcome, MergeOutcome::Merged { .. }), "{step:?}");
    assert_eq!(std::fs::read_to_string(team.path.join("notes.txt")).unwrap(), "one\nby alice\n");
    assert_eq!(std::fs::read_to_string(team.path.join("draft.txt")).unwrap(), "mine\n");
}
