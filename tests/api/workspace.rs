//! Workspaces (issue 17): command workers each in a git worktree of their own, their work
//! committed and merged up level by level into the job branch, a conflict or a failing check
//! failing the node that could not merge (the file named), a node's diff, the worktrees gone
//! when the job succeeds and kept when it fails, until `DELETE …/workspace`.

use std::path::PathBuf;

use serde_json::{json, Value};

use crate::common::git;
use crate::helpers::{node, replayed, spawn_app_with, TestApp};

/// Ten numbered lines: edits to the first and the last do not touch each other.
const NOTES: &str = "one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\n";

/// A throwaway repository on `main` with `notes.txt`, and a server whose data lives beside it.
struct Fixture {
    app: TestApp,
    repo: PathBuf,
    data: PathBuf,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = dir.path().join("repo");
    std::fs::create_dir(&repo).expect("repo dir");
    git(&repo, &["init", "--quiet", "--initial-branch=main"]);
    std::fs::write(repo.join("notes.txt"), NOTES).expect("write");
    git(&repo, &["add", "notes.txt"]);
    git(&repo, &["commit", "--quiet", "-m", "notes"]);
    let data = dir.path().join("data");
    let at = data.clone();
    let app = spawn_app_with(move |config| config.store.data_dir = at).await;
    Fixture { app, repo, data, _dir: dir }
}

impl Fixture {
    fn workspace(&self) -> Value {
        json!({"repo": self.repo.to_str().expect("utf-8"), "base": "main"})
    }

    fn show(&self, branch: &str, file: &str) -> String {
        git(&self.repo, &["show", &format!("{branch}:{file}")])
    }

    fn worktrees_of(&self, job_id: &str) -> PathBuf {
        self.data.join("worktrees").join(job_id.replace('-', ""))
    }

    fn branches(&self) -> Vec<String> {
        git(&self.repo, &["branch", "--list", "cadre/*", "--format=%(refname:short)"])
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

/// A command worker running a shell script in its worktree.
fn sh(name: &str, script: &str) -> Value {
    json!({"name": name, "run": {"type": "command", "argv": ["sh", "-c", script]}})
}

/// Replaces line `line` of notes.txt with `text`, waits `pause` seconds, then prints the file.
fn edit_line(name: &str, line: u32, text: &str, pause: &str) -> Value {
    sh(name, &format!("sed -i '{line}s/.*/{text}/' notes.txt && sleep {pause} && cat notes.txt"))
}

fn stdout(tree: &Value, name: &str) -> String {
    node(tree, name)["result"]["stdout"].as_str().expect("stdout").to_string()
}

fn job_branch(job_id: &str) -> String {
    format!("cadre/{}/job", job_id.replace('-', ""))
}

#[tokio::test]
async fn workers_edit_in_isolation_and_their_work_merges_up_two_levels() {
    let f = fixture().await;
    let plan = json!({"name": "root", "children": [{"name": "team", "children": [
        edit_line("alice", 1, "ONE by alice", "0.5"),
        edit_line("bob", 10, "TEN by bob", "0.5")]}]});
    let id = f.app.submit(&json!({"request": "two editors", "workspace": f.workspace(), "plan": plan})).await;
    let job = f.app.wait_for_end(&id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["workspace"]["job_branch"], job_branch(&id));
    // Each saw only its own change while it worked.
    let (alice, bob) = (stdout(&job["tree"], "alice"), stdout(&job["tree"], "bob"));
    assert!(alice.starts_with("ONE by alice\n") && alice.ends_with("\nten\n"), "{alice}");
    assert!(bob.starts_with("one\n") && bob.ends_with("\nTEN by bob\n"), "{bob}");
    // Both reached the job branch through the team's and the root's; the base never moved.
    let merged = f.show(&job_branch(&id), "notes.txt");
    assert!(merged.starts_with("ONE by alice\n") && merged.ends_with("\nTEN by bob\n"), "{merged}");
    assert_eq!(f.show("main", "notes.txt"), NOTES);
    let merges = replayed(&f.app, &id, "workspace_merged").await;
    let mut merged_nodes: Vec<&str> = merges.iter().map(|m| m["name"].as_str().expect("name")).collect();
    merged_nodes.sort_unstable();
    assert_eq!(merged_nodes, ["alice", "bob", "root", "team"]);
    let created = replayed(&f.app, &id, "workspace_created").await;
    assert_eq!(created.len(), 2, "{created:?}");
    // A succeeded job's worktrees are gone; its branches stay.
    assert!(!f.worktrees_of(&id).exists());
    assert_eq!(git(&f.repo, &["worktree", "list", "--porcelain"]).matches("worktree ").count(), 1);
    assert_eq!(f.branches().len(), 5, "{:?}", f.branches());
    diffs_show_each_nodes_own_work(&f, &id, &job["tree"]).await;
}

/// A leaf's diff is its own change; its parent's holds both children's.
async fn diffs_show_each_nodes_own_work(f: &Fixture, id: &str, tree: &Value) {
    let diff_of =
        |name: &str| format!("/recursion/job/{id}/nodes/{}/diff", node(tree, name)["id"].as_str().expect("id"));
    let alice = f.app.get_json(&diff_of("alice")).await;
    assert_eq!(alice["files"], json!([{"path": "notes.txt", "status": "M"}]));
    let text = alice["diff"].as_str().expect("diff");
    assert!(text.contains("-one\n+ONE by alice\n") && !text.contains("bob"), "{text}");
    assert!(alice["parent_branch"].as_str().expect("parent").contains("/team-"), "{alice}");
    let team = f.app.get_json(&diff_of("team")).await;
    let text = team["diff"].as_str().expect("diff");
    assert!(text.contains("+ONE by alice") && text.contains("+TEN by bob"), "{text}");
    let root = f.app.get_json(&diff_of("root")).await;
    assert_eq!(root["parent_branch"], job_branch(id));
}

#[tokio::test]
async fn a_conflict_fails_the_node_that_merged_second_naming_the_file_and_its_worktree_is_kept() {
    let f = fixture().await;
    let plan = json!({"name": "root", "children": [
        edit_line("quick", 1, "quick", "0"),
        edit_line("slow", 1, "slow", "2")]});
    let job =
        json!({"request": "clash", "workspace": f.workspace(), "config": {"retry": {"max_attempts": 1}}, "plan": plan});
    let id = f.app.submit(&job).await;
    let job = f.app.wait_for_end(&id).await;
    assert_eq!(job["status"], "failed", "{job}");
    let (quick, slow) = (node(&job["tree"], "quick"), node(&job["tree"], "slow"));
    assert_eq!(quick["status"], "succeeded");
    assert_eq!(slow["status"], "failed");
    let error = slow["error"].as_str().expect("error");
    assert!(error.contains("conflict in notes.txt") && error.contains("/root-"), "{error}");
    assert_eq!(slow["result"]["merge"], json!({"outcome": "conflict", "files": ["notes.txt"]}));
    let failed = replayed(&f.app, &id, "workspace_merge_failed").await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(
        (&failed[0]["name"], &failed[0]["outcome"], &failed[0]["files"]),
        (&json!("slow"), &json!("conflict"), &json!(["notes.txt"]))
    );
    // The root's branch has the first merge only, and nothing reached the job branch.
    let root_branch = failed[0]["into"].as_str().expect("into");
    assert!(f.show(root_branch, "notes.txt").starts_with("quick\n"));
    assert_eq!(f.show(&job_branch(&id), "notes.txt"), NOTES);
    // Kept for inspection, with the slow worker's edit still in its worktree.
    let slow_dir = f.worktrees_of(&id).join(slow["id"].as_str().expect("id").replace('-', ""));
    assert!(std::fs::read_to_string(slow_dir.join("notes.txt")).expect("kept").starts_with("slow\n"));
    // Until removed by hand: worktrees and every branch of the job.
    let removed = f.app.delete(&format!("/recursion/job/{id}/workspace")).await;
    assert_eq!(removed.status(), 204);
    assert!(!f.worktrees_of(&id).exists());
    assert!(f.branches().is_empty(), "{:?}", f.branches());
    let again = f.app.get(&format!("/recursion/job/{id}/nodes/{}/diff", quick["id"].as_str().expect("id"))).await;
    assert_eq!(again.status(), 404);
}

#[tokio::test]
async fn a_failing_check_blocks_the_merge() {
    let f = fixture().await;
    let mut workspace = f.workspace();
    workspace["check"] =
        json!(["sh", "-c", "if grep -q forbidden notes.txt; then echo 'forbidden word found' >&2; exit 3; fi"]);
    // `continue`: whichever merges first, the good one is not cancelled by the bad one's failure.
    let plan = json!({"name": "root", "on_child_failure": "continue", "children": [
        edit_line("good", 1, "fine", "0"),
        edit_line("bad", 10, "forbidden", "0")]});
    let job =
        json!({"request": "checked", "workspace": workspace, "config": {"retry": {"max_attempts": 1}}, "plan": plan});
    let id = f.app.submit(&job).await;
    let job = f.app.wait_for_end(&id).await;
    assert_eq!(job["status"], "failed", "{job}");
    assert_eq!(node(&job["tree"], "good")["status"], "succeeded");
    let bad = node(&job["tree"], "bad");
    assert!(bad["error"].as_str().expect("error").contains("the check exited 3"), "{bad}");
    assert_eq!(bad["result"]["merge"]["outcome"], "check_failed");
    assert!(bad["result"]["merge"]["output_tail"].as_str().expect("tail").contains("forbidden word found"));
    assert_eq!(bad["result"]["recovery"]["class"], "validation", "{bad}");
    let root_branch =
        replayed(&f.app, &id, "workspace_merge_failed").await[0]["into"].as_str().expect("into").to_string();
    let root_notes = f.show(&root_branch, "notes.txt");
    assert!(root_notes.starts_with("fine\n") && !root_notes.contains("forbidden"), "{root_notes}");
}

#[tokio::test]
async fn a_workspace_must_name_a_repository_and_a_branch_git_knows_and_workers_stay_inside() {
    let f = fixture().await;
    let refused = |workspace: Value, plan: Value| json!({"request": "r", "workspace": workspace, "plan": plan});
    let leaf = json!({"name": "w", "run": {"type": "command", "argv": ["true"]}});
    let not_a_repo = f.data.parent().expect("dir").join("plain");
    std::fs::create_dir_all(&not_a_repo).expect("dir");
    let cases = [
        (json!({"repo": not_a_repo, "base": "main"}), leaf.clone(), "workspace.repo"),
        (json!({"repo": f.repo, "base": "nope"}), leaf.clone(), "workspace.base"),
        (json!({"repo": "relative/repo", "base": "main"}), leaf.clone(), "workspace.repo"),
        (json!({"repo": f.repo, "base": "main", "check": []}), leaf.clone(), "workspace.check"),
        (
            f.workspace(),
            json!({"name": "w", "run": {"type": "command", "argv": ["true"], "cwd": "/tmp"}}),
            "plan.run.cwd",
        ),
    ];
    for (workspace, plan, field) in cases {
        let response = f.app.post("/recursion/job", &refused(workspace, plan)).await;
        assert_eq!(response.status(), 422);
        let problem: Value = response.json().await.expect("json");
        assert_eq!(problem["errors"][0]["path"], field, "{problem}");
    }
    let sneaky = json!({"request": "r", "config": {"workspace": f.workspace()}, "plan": leaf});
    assert_eq!(f.app.post("/recursion/job", &sneaky).await.status(), 422);
    let jobs = f.app.get_json("/recursion/jobs").await;
    assert_eq!(jobs["jobs"].as_array().map(Vec::len), Some(0), "{jobs}");
    assert!(f.branches().is_empty());
}

#[tokio::test]
async fn a_diff_needs_a_workspace_and_a_branch_and_removal_an_ended_job() {
    let f = fixture().await;
    let plain =
        f.app.submit(&json!({"request": "plain", "plan": {"name": "w", "run": {"type": "echo", "value": 1}}})).await;
    let job = f.app.wait_for_end(&plain).await;
    let root = job["tree"]["id"].as_str().expect("id");
    assert_eq!(f.app.get(&format!("/recursion/job/{plain}/nodes/{root}/diff")).await.status(), 404);
    assert_eq!(f.app.delete(&format!("/recursion/job/{plain}/workspace")).await.status(), 404);
    // An echo worker never runs in a worktree: no branch, 404 with the reason.
    let plan = json!({"name": "root", "children": [
        {"name": "echo", "run": {"type": "echo", "value": 1}},
        sh("slow", "sleep 1.5")]});
    let id = f.app.submit(&json!({"request": "mixed", "workspace": f.workspace(), "plan": plan})).await;
    let running = f.app.wait_for(&id, |job| node(&job["tree"], "echo")["status"] == "succeeded").await;
    let busy = f.app.delete(&format!("/recursion/job/{id}/workspace")).await;
    assert_eq!(busy.status(), 409);
    let echo = node(&running["tree"], "echo")["id"].as_str().expect("id").to_string();
    let response = f.app.get(&format!("/recursion/job/{id}/nodes/{echo}/diff")).await;
    assert_eq!(response.status(), 404);
    let problem: Value = response.json().await.expect("json");
    assert!(
        problem["detail"].as_str().expect("detail").contains("nothing of it has run in the workspace"),
        "{problem}"
    );
    assert_eq!(f.app.wait_for_end(&id).await["status"], "succeeded");
    let metrics = f.app.client.get(f.app.url("/metrics")).send().await.expect("metrics").text().await.expect("text");
    assert!(metrics.contains("cadre_workspace_merges_total{outcome=\"merged\"} "), "{metrics}");
}
