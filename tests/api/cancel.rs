//! Cancelling a job or a subtree stops running work (real processes included) and frees
//! every slot.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{node, spawn_app};

/// Waits for `pidfile` to hold a pid and returns it.
async fn read_pid(pidfile: &Path) -> i32 {
    let begun = Instant::now();
    loop {
        if let Some(pid) = std::fs::read_to_string(pidfile).ok().and_then(|t| t.trim().parse().ok()) {
            return pid;
        }
        assert!(begun.elapsed() < Duration::from_secs(30), "the worker never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn is_alive(pid: i32) -> bool {
    // Signal 0 checks existence; a zombie (reaped later) counts as gone.
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // SAFETY: kill with signal 0 sends nothing; it only asks whether the pid exists.
    let exists = unsafe { libc::kill(pid, 0) } == 0;
    exists && !stat.contains(") Z ")
}

async fn wait_gone(pid: i32) {
    let begun = Instant::now();
    while is_alive(pid) {
        assert!(begun.elapsed() < Duration::from_secs(15), "process {pid} survived the cancel");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn sleeper_writing_pid(name: &str, pidfile: &Path) -> Value {
    let script = format!("sleep 300 & echo $! > {}; wait", pidfile.display());
    json!({"name": name, "run": {"type": "command", "argv": ["sh", "-c", script]}})
}

#[tokio::test]
async fn cancelling_a_job_kills_its_running_processes_and_skips_pending_nodes() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("dir");
    let pidfile = dir.path().join("pid");
    let job = json!({"request": "long", "plan": {"name": "root", "children": [
        sleeper_writing_pid("sleeper", &pidfile),
        {"name": "next", "depends_on": ["sleeper"], "run": {"type": "noop"}}]}});
    let id = app.submit(&job).await;
    let grandchild = read_pid(&pidfile).await;
    assert!(is_alive(grandchild));
    let response = app.delete(&format!("/recursion/job/{id}")).await;
    assert_eq!(response.status(), 202);
    let body: Value = response.json().await.expect("json");
    assert!(matches!(body["status"].as_str(), Some("cancelling" | "cancelled")), "{body}");
    wait_gone(grandchild).await;
    let job = app.wait_for_end(&id).await;
    assert_eq!(job["status"], "cancelled");
    assert_eq!(node(&job["tree"], "sleeper")["status"], "cancelled");
    assert_eq!(node(&job["tree"], "next")["status"], "cancelled");
    assert_eq!(node(&job["tree"], "next")["started_at"], Value::Null, "a pending node never starts");
    let stats = app.stats().await;
    assert!(stats["by_depth"].as_array().expect("depths").iter().all(|d| d["in_use"] == 0));
    let again = app.delete(&format!("/recursion/job/{id}")).await;
    assert_eq!(again.status(), 409, "an ended job cannot be cancelled");
}

#[tokio::test]
async fn cancelling_a_subtree_stops_only_that_subtree() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("dir");
    let pidfile = dir.path().join("pid");
    let job = json!({"request": "subtree", "plan": {"name": "root", "on_child_failure": "continue", "children": [
        {"name": "doomed", "children": [sleeper_writing_pid("sleeper", &pidfile), {"name": "sibling", "run": {"type": "sleep", "ms": 60000}}]},
        {"name": "survivor", "run": {"type": "sleep", "ms": 300}}]}});
    let id = app.submit(&job).await;
    let grandchild = read_pid(&pidfile).await;
    let running = app.job(&id).await;
    let doomed = node(&running["tree"], "doomed")["id"].as_str().expect("id").to_string();
    let response = app.delete(&format!("/recursion/job/{id}/nodes/{doomed}")).await;
    assert_eq!(response.status(), 202);
    wait_gone(grandchild).await;
    let job = app.wait_for_end(&id).await;
    let tree = &job["tree"];
    assert_eq!(node(tree, "doomed")["status"], "cancelled");
    assert_eq!(node(tree, "sibling")["status"], "cancelled");
    assert_eq!(node(tree, "survivor")["status"], "succeeded", "the rest of the job went on");
    assert_eq!(job["status"], "failed", "a job with a cancelled part did not fully succeed");
    let ended = app.delete(&format!("/recursion/job/{id}/nodes/{doomed}")).await;
    assert_eq!(ended.status(), 409);
}
