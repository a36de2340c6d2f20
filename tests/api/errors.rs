//! Bad requests get a clear problem+json answer and change nothing.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, KEY};

async fn problem(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status);
    let content_type = response.headers()["content-type"].to_str().expect("ascii").to_string();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["status"], status);
    assert!(body["title"].is_string() && body["detail"].is_string() && body["type"].is_string(), "{body}");
    body
}

async fn assert_nothing_created(app: &crate::helpers::TestApp) {
    let page = app.get_json("/recursion/jobs").await;
    assert_eq!(page["jobs"], json!([]), "a refused job leaves no trace");
}

#[tokio::test]
async fn requests_without_a_valid_key_are_401() {
    let app = spawn_app().await;
    let bare = app.client.get(app.api("/recursion/jobs")).send().await.expect("request");
    let missing = problem(bare, 401).await["detail"].as_str().expect("detail").to_string();
    assert!(missing.contains("needs an API key") && missing.contains("CADRE_API_KEY"), "{missing}");
    let wrong =
        app.client.get(app.api("/recursion/jobs")).bearer_auth(format!("{KEY}x")).send().await.expect("request");
    let refused = problem(wrong, 401).await["detail"].as_str().expect("detail").to_string();
    assert!(refused.contains("not valid") && refused.contains("unknown, revoked or expired"), "{refused}");
    let basic = app.client.get(app.api("/recursion/jobs")).header("authorization", "Basic eDp5").send().await;
    let not_bearer = problem(basic.expect("request"), 401).await["detail"].as_str().expect("detail").to_string();
    assert!(not_bearer.contains("Bearer <key>"), "{not_bearer}");
    assert!(missing != refused && refused != not_bearer, "each says what to do");
    let submit =
        app.client.post(app.api("/recursion/job")).json(&json!({"request": "x"})).send().await.expect("request");
    problem(submit, 401).await;
    assert_nothing_created(&app).await;
}

#[tokio::test]
async fn unknown_jobs_and_nodes_are_404() {
    let app = spawn_app().await;
    let missing = uuid::Uuid::new_v4();
    problem(app.get(&format!("/recursion/job/{missing}")).await, 404).await;
    problem(app.delete(&format!("/recursion/job/{missing}")).await, 404).await;
    let id = app.submit(&json!({"request": "r", "plan": {"name": "w", "run": {"type": "sleep", "ms": 2000}}})).await;
    problem(app.delete(&format!("/recursion/job/{id}/nodes/{missing}")).await, 404).await;
    problem(app.get("/recursion/job/not-a-uuid").await, 400).await;
    problem(app.get("/nothing-here").await, 404).await;
}

#[tokio::test]
async fn a_malformed_plan_is_422_with_the_offending_paths() {
    let app = spawn_app().await;
    let job = json!({"request": "bad", "plan": {"name": "root", "children": [
        {"name": "ok", "run": {"type": "noop"}},
        {"name": "bad name!", "run": {"type": "noop"}},
        {"name": "both", "run": {"type": "noop"}, "children": [{"name": "x", "run": {"type": "noop"}}]},
        {"name": "orphan", "depends_on": ["ghost"], "run": {"type": "noop"}}]}});
    let body = problem(app.post("/recursion/job", &job).await, 422).await;
    let paths: Vec<&str> =
        body["errors"].as_array().expect("errors").iter().map(|e| e["path"].as_str().expect("path")).collect();
    assert!(paths.contains(&"plan.children[1].name"), "{paths:?}");
    assert!(paths.contains(&"plan.children[2]"), "{paths:?}");
    assert!(paths.contains(&"plan.children[3].depends_on[0]"), "{paths:?}");
    assert_nothing_created(&app).await;
}

#[tokio::test]
async fn unknown_fields_and_wrong_types_are_422_with_their_path() {
    let app = spawn_app().await;
    let typo = json!({"request": "typo", "plan": {"name": "r", "run": {"type": "sleep", "ms": 1}, "retyr": {}}});
    let body = problem(app.post("/recursion/job", &typo).await, 422).await;
    assert_eq!(body["errors"][0]["path"], "plan.retyr");
    assert!(body["errors"][0]["message"].as_str().expect("message").contains("retyr"));
    let wrong_type = json!({"request": "types", "plan": {"name": "r", "run": {"type": "sleep", "ms": "soon"}}});
    let body = problem(app.post("/recursion/job", &wrong_type).await, 422).await;
    assert_eq!(body["errors"][0]["path"], "plan.run.ms", "the field inside the tagged executor");
    assert!(body["errors"][0]["message"].as_str().expect("message").contains("\"soon\""));
    let not_json = app
        .client
        .post(app.api("/recursion/job"))
        .bearer_auth(KEY)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .expect("request");
    problem(not_json, 400).await;
    assert_nothing_created(&app).await;
}

#[tokio::test]
async fn depth_beyond_the_cap_is_refused_naming_the_node() {
    let app = spawn_app().await;
    let deep = json!({"request": "deep", "config": {"max_depth": 1}, "plan": {"name": "root", "children": [
        {"name": "mid", "children": [{"name": "too_deep", "run": {"type": "noop"}}]}]}});
    let body = problem(app.post("/recursion/job", &deep).await, 422).await;
    assert_eq!(body["errors"][0]["path"], "plan.children[0].children[0]");
    assert!(body["errors"][0]["message"].as_str().expect("message").contains("'too_deep'"));
    let beyond_hard_cap =
        json!({"request": "deeper", "config": {"max_depth": 6}, "plan": {"name": "r", "run": {"type": "noop"}}});
    let body = problem(app.post("/recursion/job", &beyond_hard_cap).await, 422).await;
    assert_eq!(body["errors"][0]["path"], "config.max_depth");
    assert_nothing_created(&app).await;
}

#[tokio::test]
async fn a_dependency_cycle_is_refused_with_the_cycle_spelled_out() {
    let app = spawn_app().await;
    let job = json!({"request": "cycle", "plan": {"name": "root", "children": [
        {"name": "a", "depends_on": ["c"], "run": {"type": "noop"}},
        {"name": "b", "depends_on": ["a"], "run": {"type": "noop"}},
        {"name": "c", "depends_on": ["b"], "run": {"type": "noop"}},
        {"name": "free", "run": {"type": "noop"}}]}});
    let body = problem(app.post("/recursion/job", &job).await, 422).await;
    let error = &body["errors"][0];
    assert_eq!(error["path"], "plan.children");
    assert_eq!(error["message"], "dependency cycle: a -> c -> b -> a");
    assert_nothing_created(&app).await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let app = crate::helpers::spawn_app_with(|c| c.server.body_limit_bytes = 1024).await;
    let job = json!({"request": "x".repeat(2000), "plan": {"name": "r", "run": {"type": "noop"}}});
    problem(app.post("/recursion/job", &job).await, 413).await;
    assert_nothing_created(&app).await;
}

#[tokio::test]
async fn a_job_over_the_node_limit_is_refused() {
    let app = crate::helpers::spawn_app_with(|c| c.limits.max_nodes_per_job = 5).await;
    let body = problem(app.post("/recursion/job", &crate::helpers::uniform_tree(2, 5)).await, 422).await;
    assert_eq!(body["errors"][0]["path"], "plan");
    assert_eq!(body["errors"][0]["message"], "6 nodes, more than the limit of 5 nodes per job");
    assert_nothing_created(&app).await;
}

#[tokio::test]
async fn a_bad_query_value_lists_the_valid_ones() {
    let app = spawn_app().await;
    let body = problem(app.get("/recursion/jobs?status=done").await, 400).await;
    let detail = body["detail"].as_str().expect("detail");
    assert!(detail.contains("'done' is not a job status; one of: queued, running, paused, cancelling"), "{detail}");
    problem(app.get("/recursion/jobs?limit=0").await, 400).await;
    let id = app.submit(&json!({"request": "r", "plan": {"name": "w", "run": {"type": "noop"}}})).await;
    problem(app.get(&format!("/recursion/job/{id}?max_depth=-1")).await, 400).await;
}

#[tokio::test]
async fn whole_numbers_written_as_floats_are_integers() {
    let app = spawn_app().await;
    let job = json!({"request": "r", "config": {"timeout_s": 60.0}, "plan": {"name": "w", "run": {"type": "sleep", "ms": 1.0}}});
    let response = app.post("/recursion/job", &job).await;
    assert_eq!(response.status(), 202, "5.0 is the number 5");
    let fractional = json!({"request": "r", "plan": {"name": "w", "run": {"type": "sleep", "ms": 1.5}}});
    let body = problem(app.post("/recursion/job", &fractional).await, 422).await;
    assert_eq!(body["errors"][0]["path"], "plan.run.ms", "{body}");
}

#[tokio::test]
async fn a_field_error_inside_a_run_names_the_field() {
    let app = spawn_app().await;
    let typo = json!({"request": "r", "plan": {"name": "root", "children": [
        {"name": "a", "run": {"type": "noop"}},
        {"name": "b", "run": {"type": "sleep", "msec": 5}}]}});
    let body = problem(app.post("/recursion/job", &typo).await, 422).await;
    assert_eq!(body["errors"][0]["path"], "plan.children[1].run.msec", "{body}");
    let wrong_type = json!({"request": "r", "plan": {"name": "w", "run": {"type": "command", "argv": "ls"}}});
    let body = problem(app.post("/recursion/job", &wrong_type).await, 422).await;
    assert_eq!(body["errors"][0]["path"], "plan.run.argv", "{body}");
    let unknown = json!({"request": "r", "plan": {"name": "w", "run": {"type": "teleport"}}});
    let body = problem(app.post("/recursion/job", &unknown).await, 422).await;
    assert_eq!(body["errors"][0]["path"], "plan.run.type", "{body}");
    assert!(body["errors"][0]["message"].as_str().expect("message").contains("noop"), "the kinds are listed");
    assert_nothing_created(&app).await;
}

#[tokio::test]
async fn http_workers_take_http_and_https_urls_and_nothing_else() {
    let app = spawn_app().await;
    let job = |url: &str| json!({"request": "r", "plan": {"name": "w", "run": {"type": "http", "url": url}}});
    let report: Value =
        app.post("/recursion/validate", &job("https://agents.example.invalid/run")).await.json().await.expect("json");
    assert_eq!(report["valid"], true, "TLS is built in: {report}");
    let body = problem(app.post("/recursion/job", &job("ftp://files.example.invalid/")).await, 422).await;
    assert_eq!(body["errors"][0]["path"], "plan.run.url", "{body}");
    assert!(body["errors"][0]["message"].as_str().expect("message").contains("use http:// or https://"));
}
