//! Dependencies, retries and the two failure policies.

use serde_json::json;

use crate::helpers::{node, spawn_app};

#[tokio::test]
async fn depends_on_orders_siblings() {
    let app = spawn_app().await;
    let job = json!({"request": "phases", "plan": {"name": "suite", "children": [
        {"name": "perf", "depends_on": ["integration"], "run": {"type": "sleep", "ms": 10}},
        {"name": "unit", "children": [
            {"name": "u1", "run": {"type": "sleep", "ms": 30}},
            {"name": "u2", "run": {"type": "sleep", "ms": 20}}]},
        {"name": "integration", "depends_on": ["unit"], "run": {"type": "sleep", "ms": 20}}]}});
    let id = app.submit(&job).await;
    let job = app.wait_for_end(&id).await;
    assert_eq!(job["status"], "succeeded");
    let tree = &job["tree"];
    let (unit, integration, perf) = (node(tree, "unit"), node(tree, "integration"), node(tree, "perf"));
    let at = |n: &serde_json::Value, field: &str| n[field].as_str().expect(field).to_string();
    assert!(at(integration, "started_at") >= at(unit, "finished_at"), "integration waits for unit");
    assert!(at(perf, "started_at") >= at(integration, "finished_at"), "perf waits for integration");
}

#[tokio::test]
async fn a_flaky_worker_is_retried_until_it_succeeds() {
    let app = spawn_app().await;
    let job = json!({"request": "flaky", "plan": {"name": "root", "retry": {"initial_backoff_ms": 5}, "children": [
        {"name": "flaky", "run": {"type": "fail", "times": 2}},
        {"name": "hopeless", "retry": {"max_attempts": 2}, "run": {"type": "fail", "message": "no luck"}}],
        "on_child_failure": "continue"}});
    let id = app.submit(&job).await;
    let job = app.wait_for_end(&id).await;
    let flaky = node(&job["tree"], "flaky");
    assert_eq!(flaky["status"], "succeeded");
    assert_eq!(flaky["attempts"], 3, "two failures, then success, with the default of 3 attempts");
    let hopeless = node(&job["tree"], "hopeless");
    assert_eq!(hopeless["status"], "failed");
    assert_eq!(hopeless["attempts"], 2);
    assert_eq!(hopeless["error"], "no luck");
}

#[tokio::test]
async fn fail_fast_cancels_a_running_sibling_and_fails_the_parent() {
    let app = spawn_app().await;
    let job = json!({"request": "fail fast", "config": {"retry": {"max_attempts": 1}}, "plan": {"name": "root", "children": [
        {"name": "broken", "run": {"type": "fail"}},
        {"name": "slow", "run": {"type": "command", "argv": ["sleep", "30"]}},
        {"name": "later", "depends_on": ["slow"], "run": {"type": "noop"}}]}});
    let id = app.submit(&job).await;
    let job = app.wait_for_end(&id).await;
    assert_eq!(job["status"], "failed");
    let tree = &job["tree"];
    assert_eq!(node(tree, "broken")["status"], "failed");
    let slow = node(tree, "slow");
    assert_eq!(slow["status"], "cancelled");
    assert_eq!(slow["error"], "sibling_failed");
    assert_eq!(node(tree, "later")["status"], "cancelled", "never started");
    assert!(tree["error"].as_str().expect("error").contains("broken"));
}

#[tokio::test]
async fn continue_lets_the_rest_finish_and_fails_with_a_partial_aggregate() {
    let app = spawn_app().await;
    let job = json!({"request": "continue", "config": {"retry": {"max_attempts": 1}}, "plan": {"name": "root",
        "on_child_failure": "continue", "aggregate": "sum", "children": [
        {"name": "broken", "run": {"type": "fail"}},
        {"name": "after_broken", "depends_on": ["broken"], "run": {"type": "echo", "value": 100}},
        {"name": "a", "run": {"type": "echo", "value": 2}},
        {"name": "b", "run": {"type": "sleep", "ms": 50}},
        {"name": "c", "depends_on": ["a"], "run": {"type": "echo", "value": 3}}]}});
    let id = app.submit(&job).await;
    let job = app.wait_for_end(&id).await;
    assert_eq!(job["status"], "failed");
    let tree = &job["tree"];
    assert_eq!(node(tree, "b")["status"], "succeeded", "siblings finish under continue");
    assert_eq!(node(tree, "c")["status"], "succeeded");
    let dependent = node(tree, "after_broken");
    assert_eq!(dependent["status"], "cancelled");
    assert_eq!(dependent["error"], "dependency_failed");
    assert_eq!(job["result"], json!(5), "the sum of what succeeded");
}

#[tokio::test]
async fn a_job_past_its_timeout_is_stopped_and_failed() {
    let app = spawn_app().await;
    let job = json!({"request": "too slow", "config": {"timeout_s": 1},
        "plan": {"name": "root", "children": [{"name": "forever", "run": {"type": "sleep", "ms": 60000}}]}});
    let id = app.submit(&job).await;
    let job = app.wait_for_end(&id).await;
    assert_eq!(job["status"], "failed");
    assert_eq!(job["error"], "the job timed out after 1 s");
    assert_eq!(node(&job["tree"], "forever")["status"], "cancelled");
}
