//! Admission: the running-job limit, the FIFO queue, 429 past it, idempotency, and many
//! jobs at once.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_app_with};

fn sleeper(name: &str, ms: u64) -> Value {
    json!({"request": name, "plan": {"name": "root", "children": [{"name": "w", "run": {"type": "sleep", "ms": ms}}]}})
}

#[tokio::test]
async fn jobs_past_the_running_limit_queue_in_order_and_past_the_backlog_get_429() {
    let app = spawn_app_with(|c| {
        c.limits.max_running_jobs = 1;
        c.limits.max_queued_jobs = 2;
    })
    .await;
    // Long enough that it still runs when the next is submitted, even on a loaded machine.
    let first = app.submit(&sleeper("first", 2_000)).await;
    let second = app.post("/recursion/job", &sleeper("second", 10)).await;
    assert_eq!(second.status(), 202);
    let second: Value = second.json().await.expect("json");
    assert_eq!(second["status"], "queued");
    let third = app.submit(&sleeper("third", 10)).await;
    let refused = app.post("/recursion/job", &sleeper("fourth", 10)).await;
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    let jobs = [first, second["job_id"].as_str().expect("id").to_string(), third];
    let mut ended = Vec::new();
    for id in &jobs {
        ended.push(app.wait_for_end(id).await);
    }
    assert!(ended.iter().all(|j| j["status"] == "succeeded"));
    let starts: Vec<&str> = ended.iter().map(|j| j["started_at"].as_str().expect("started")).collect();
    assert!(starts[0] <= starts[1] && starts[1] <= starts[2], "admitted first in, first out: {starts:?}");
    assert!(ended[1]["started_at"].as_str() >= ended[0]["finished_at"].as_str(), "one job at a time");
    let page = app.get_json("/recursion/jobs").await;
    assert_eq!(page["jobs"].as_array().expect("jobs").len(), 3, "the refused job was not stored");
}

#[tokio::test]
async fn a_repeated_idempotency_key_returns_the_original_job() {
    let app = spawn_app().await;
    let mut job = sleeper("ci-1234", 10);
    job["idempotency_key"] = json!("ci-1234");
    let first = app.post("/recursion/job", &job).await;
    assert_eq!(first.status(), 202);
    let first: Value = first.json().await.expect("json");
    let again = app.post("/recursion/job", &job).await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.expect("json");
    assert_eq!(again["job_id"], first["job_id"]);
    let page = app.get_json("/recursion/jobs").await;
    assert_eq!(page["jobs"].as_array().expect("jobs").len(), 1);
}

#[tokio::test]
async fn a_hundred_jobs_submitted_at_once_all_finish() {
    let app = spawn_app().await;
    let submissions = (0..100).map(|i| {
        let app = &app;
        async move {
            let job = json!({"request": format!("job {i}"), "labels": {"batch": "hundred"}, "plan": {"name": "root", "children": [
                {"name": "a", "run": {"type": "echo", "value": i}},
                {"name": "b", "children": [{"name": "c", "run": {"type": "sleep", "ms": 5}}, {"name": "d", "run": {"type": "noop"}}]}]}});
            app.submit(&job).await
        }
    });
    let ids = futures_util::future::join_all(submissions).await;
    for id in &ids {
        let job = app.wait_for_end(id).await;
        assert_eq!(job["status"], "succeeded", "{job}");
    }
    let page = app.get_json("/recursion/jobs?label=batch:hundred&status=succeeded&limit=500").await;
    assert_eq!(page["jobs"].as_array().expect("jobs").len(), 100);
    let stats = app.stats().await;
    assert!(stats["by_depth"].as_array().expect("depths").iter().all(|d| d["in_use"] == 0));
    assert_eq!(stats["jobs"]["running"], 0);
}

#[tokio::test]
async fn a_queued_job_can_be_cancelled_before_it_ever_runs() {
    let app = spawn_app_with(|c| c.limits.max_running_jobs = 1).await;
    let running = app.submit(&sleeper("running", 60_000)).await;
    let queued = app.submit(&sleeper("queued", 10)).await;
    let queued_job = app.job(&queued).await;
    assert_eq!(queued_job["status"], "queued");
    let node = queued_job["tree"]["id"].as_str().expect("root id").to_string();
    let one_node = app.delete(&format!("/recursion/job/{queued}/nodes/{node}")).await;
    assert_eq!(one_node.status(), 409, "a queued job is cancelled whole or not at all");
    let response = app.delete(&format!("/recursion/job/{queued}")).await;
    assert_eq!(response.status(), 202);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["status"], "cancelled");
    let job = app.job(&queued).await;
    assert_eq!(job["error"], "cancelled while queued");
    assert!(crate::helpers::flatten(&job["tree"])
        .iter()
        .all(|n| n["status"] == "cancelled" && n["started_at"].is_null()));
    assert_eq!(app.delete(&format!("/recursion/job/{running}")).await.status(), 202);
    let ended = app.wait_for_end(&running).await;
    assert_eq!(ended["status"], "cancelled");
    assert_eq!(app.job(&queued).await["status"], "cancelled", "the freed place did not start it");
}
