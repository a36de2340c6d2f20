//! The agent registry (issue 16) over HTTP: registration with its refusals (an unknown
//! manager, a cycle, a bad executor, a bad template: 422 and nothing stored; a taken name:
//! 409), templates, changes by merge patch, removal and its refusals, the organisation chart,
//! keys without the admin scope, and the registry surviving a restart.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_app_at, TestApp, KEY};

pub fn command(argv: &[&str]) -> Value {
    json!({"type": "command", "argv": argv})
}

/// Registers an agent; panics unless it was created.
pub async fn register(app: &TestApp, agent: Value) -> Value {
    let response = app.post("/agents", &agent).await;
    let status = response.status();
    let body: Value = response.json().await.expect("json");
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

async fn refused(app: &TestApp, agent: Value) -> (StatusCode, Value) {
    let response = app.post("/agents", &agent).await;
    (response.status(), response.json().await.expect("json"))
}

pub async fn patch_agent(app: &TestApp, name: &str, body: Value) -> (StatusCode, Value) {
    let url = app.api(&format!("/agents/{name}"));
    let response = app.client.patch(url).bearer_auth(KEY).json(&body).send().await.expect("request");
    (response.status(), response.json().await.unwrap_or(Value::Null))
}

async fn names(app: &TestApp) -> Vec<String> {
    let list = app.get_json("/agents").await;
    list["agents"].as_array().expect("agents").iter().map(|a| a["name"].as_str().expect("name").to_string()).collect()
}

fn paths(problem: &Value) -> Vec<&str> {
    problem["errors"].as_array().map(|e| e.iter().filter_map(|e| e["path"].as_str()).collect()).unwrap_or_default()
}

#[tokio::test]
async fn registration_is_checked_and_refusals_store_nothing() {
    let app = spawn_app().await;
    let ceo = register(&app, json!({"name": "ceo", "title": "Chief executive", "run": command(&["true"])})).await;
    assert_eq!(
        (&ceo["status"], &ceo["concurrency"], &ceo["load"]["running"]),
        (&json!("active"), &json!(5), &json!(0))
    );
    register(&app, json!({"name": "cto", "reports_to": "ceo", "run": command(&["true"])})).await;

    let (status, problem) =
        refused(&app, json!({"name": "dev", "reports_to": "nobody", "run": command(&["true"])})).await;
    assert_eq!((status, paths(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["reports_to"]), "{problem}");
    let (status, problem) = refused(&app, json!({"name": "dev", "run": {"type": "sleep", "ms": 1}})).await;
    assert_eq!((status, paths(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["run.type"]), "{problem}");
    let (status, problem) =
        refused(&app, json!({"name": "dev", "capabilities": ["Lang=Rust"], "run": command(&["true"])})).await;
    assert_eq!((status, paths(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["capabilities[0]"]), "{problem}");
    let (status, problem) = refused(&app, json!({"from_template": "astronaut", "name": "dev"})).await;
    assert_eq!((status, paths(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["from_template"]), "{problem}");
    let (status, problem) = refused(&app, json!({"from_template": "backend-engineer", "name": "dev"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "no provider `local` on this server: {problem}");
    assert_eq!(paths(&problem), vec!["run.provider"]);
    let (status, _) = refused(&app, json!({"name": "ceo", "run": command(&["true"])})).await;
    assert_eq!(status, StatusCode::CONFLICT);

    // ceo → cto: the CEO reporting to the CTO would be a cycle.
    let (status, problem) = patch_agent(&app, "ceo", json!({"reports_to": "cto"})).await;
    assert_eq!((status, paths(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["reports_to"]), "{problem}");
    let (status, problem) = patch_agent(&app, "ceo", json!({"name": "boss"})).await;
    assert_eq!((status, paths(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["name"]));
    assert_eq!(names(&app).await, ["ceo", "cto"], "nothing refused was stored");
    assert_eq!(app.get_json("/agents/ceo").await["reports_to"], Value::Null);
}

#[tokio::test]
async fn templates_changes_removal_and_the_chart() {
    let app = spawn_app().await;
    let templates = app.get_json("/agents/templates").await;
    let listed: Vec<&str> =
        templates["templates"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert!(listed.contains(&"coding-agent-cli") && listed.contains(&"backend-engineer"), "{listed:?}");
    register(&app, json!({"name": "ceo", "run": command(&["true"])})).await;
    register(
        &app,
        json!({"name": "lead", "reports_to": "ceo", "department": "engineering", "run": command(&["true"])}),
    )
    .await;
    let made =
        register(&app, json!({"from_template": "coding-agent-cli", "name": "coder", "reports_to": "lead"})).await;
    assert_eq!(
        (&made["title"], &made["capabilities"][0], &made["run"]["type"]),
        (&json!("Coding agent"), &json!("code"), &json!("command"))
    );

    let (status, changed) =
        patch_agent(&app, "coder", json!({"status": "paused", "title": null, "concurrency": 3})).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(
        (&changed["status"], changed.get("title"), &changed["concurrency"]),
        (&json!("paused"), None, &json!(3))
    );
    let (status, _) = patch_agent(&app, "ghost", json!({"status": "paused"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let chart = app.get_json("/agents/org").await;
    assert_eq!(chart["name"], "organisation");
    let ceo = &chart["children"][0];
    assert_eq!(
        (&ceo["name"], &ceo["children"][0]["name"], &ceo["children"][0]["children"][0]["name"]),
        (&json!("ceo"), &json!("lead"), &json!("coder"))
    );
    assert_eq!((&ceo["children"][0]["children"][0]["status"], &ceo["success_rate"]), (&json!("paused"), &Value::Null));

    let response = app.delete("/agents/lead").await;
    assert_eq!(response.status(), StatusCode::CONFLICT, "coder reports to lead");
    assert_eq!(app.delete("/agents/coder").await.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.delete("/agents/coder").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get("/agents/coder").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(names(&app).await, ["ceo", "lead"]);
}

#[tokio::test]
async fn only_admin_keys_change_the_registry_and_it_survives_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = crate::common::fresh_database_url().await;
    let app = spawn_app_at(dir.path(), url.clone(), |_| {}).await;
    let key = app.post("/keys", &json!({"name": "reader", "scopes": ["read", "write"]})).await;
    let secret = key.json::<Value>().await.expect("json")["key"].as_str().expect("secret").to_string();
    let response = app
        .client
        .post(app.api("/agents"))
        .bearer_auth(&secret)
        .json(&json!({"name": "x", "run": command(&["true"])}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let listed = app.client.get(app.api("/agents")).bearer_auth(&secret).send().await.expect("request");
    assert_eq!(listed.status(), StatusCode::OK, "reading needs only `read`");
    register(&app, json!({"name": "ceo", "run": command(&["true"]), "capabilities": ["plan"]})).await;
    register(&app, json!({"name": "cfo", "reports_to": "ceo", "run": command(&["true"])})).await;
    patch_agent(&app, "cfo", json!({"status": "retired"})).await;
    let audit = app.get_json("/audit?action=agent.create").await;
    assert!(audit.to_string().contains("agent.create"), "{audit}");
    app.stop().await;

    let app = spawn_app_at(dir.path(), url, |_| {}).await;
    assert_eq!(names(&app).await, ["ceo", "cfo"]);
    let cfo = app.get_json("/agents/cfo").await;
    assert_eq!((&cfo["status"], &cfo["reports_to"]), (&json!("retired"), &json!("ceo")));
    assert_eq!(cfo["may_manage"], true, "the admin key may change it");
    let seen = app.client.get(app.api("/agents/cfo")).bearer_auth(&secret).send().await.expect("request");
    assert_eq!(seen.json::<Value>().await.expect("json")["may_manage"], false, "a key without `admin` may not");
    app.stop().await;
}
