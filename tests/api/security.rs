//! Keys and scopes, rate limits and the audit log, over HTTP.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_app_with, TestApp, KEY};

async fn create_key(app: &TestApp, body: Value) -> Value {
    let response = app.post("/keys", &body).await;
    assert_eq!(response.status(), 201);
    response.json().await.expect("json")
}

async fn get_as(app: &TestApp, key: &str, path: &str) -> reqwest::Response {
    app.client.get(app.api(path)).bearer_auth(key).send().await.expect("request")
}

fn tiny_job() -> Value {
    json!({"request": "tiny", "plan": {"name": "w", "run": {"type": "noop"}}})
}

#[tokio::test]
async fn scopes_are_enforced_on_every_route() {
    let app = spawn_app().await;
    let reader = create_key(&app, json!({"name": "dashboard", "scopes": ["read"]})).await;
    let reader = reader["key"].as_str().expect("secret");
    assert!(reader.starts_with("sk-orch-") && reader.len() >= 32);
    let writer = create_key(&app, json!({"name": "ci", "scopes": ["write", "read"]})).await;
    let writer = writer["key"].as_str().expect("secret");

    let submit = |key: &str| app.client.post(app.api("/recursion/job")).bearer_auth(key).json(&tiny_job()).send();
    assert_eq!(submit(reader).await.expect("request").status(), 403, "read-only key cannot submit");
    let accepted = submit(writer).await.expect("request");
    assert_eq!(accepted.status(), 202);
    let id = accepted.json::<Value>().await.expect("json")["job_id"].as_str().expect("id").to_string();
    assert_eq!(get_as(&app, reader, &format!("/recursion/job/{id}")).await.status(), 200);
    for path in ["/recursion/jobs", "/recursion/stats", "/recursion/hierarchy"] {
        assert_eq!(get_as(&app, reader, path).await.status(), 200, "{path}");
    }
    let cancel =
        app.client.delete(app.api(&format!("/recursion/job/{id}"))).bearer_auth(reader).send().await.expect("request");
    assert_eq!(cancel.status(), 403);
    for path in ["/keys", "/audit"] {
        assert_eq!(get_as(&app, writer, path).await.status(), 403, "{path} is admin only");
    }
    let create = app.client.post(app.api("/keys")).bearer_auth(writer).json(&json!({"name": "x", "scopes": ["admin"]}));
    assert_eq!(create.send().await.expect("request").status(), 403);
}

#[tokio::test]
async fn secrets_are_shown_once_and_revoked_or_expired_keys_are_refused() {
    let app = spawn_app().await;
    let created = create_key(&app, json!({"name": "temp", "scopes": ["read"]})).await;
    let secret = created["key"].as_str().expect("secret").to_string();
    let id = created["id"].as_str().expect("id").to_string();
    assert_eq!(get_as(&app, &secret, "/recursion/jobs").await.status(), 200);
    let listed = app.get("/keys").await.text().await.expect("text");
    assert!(listed.contains(&id) && !listed.contains(&secret), "the list never shows a secret");
    let keys: Value = serde_json::from_str(&listed).expect("json");
    let entry = keys["keys"].as_array().expect("keys").iter().find(|k| k["id"] == id.as_str()).expect("listed");
    assert!(entry["last_used_at"].is_string(), "last use is tracked");
    assert_eq!(app.delete(&format!("/keys/{id}")).await.status(), 200);
    assert_eq!(get_as(&app, &secret, "/recursion/jobs").await.status(), 401, "revoked: refused at once");
    assert_eq!(app.delete(&format!("/keys/{id}")).await.status(), 409);
    assert_eq!(app.delete(&format!("/keys/{}", uuid::Uuid::new_v4())).await.status(), 404);

    let short = create_key(&app, json!({"name": "short", "scopes": ["read"], "expires_in_s": 1})).await;
    let short = short["key"].as_str().expect("secret");
    assert_eq!(get_as(&app, short, "/recursion/jobs").await.status(), 200);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(get_as(&app, short, "/recursion/jobs").await.status(), 401, "expired: refused");
}

#[tokio::test]
async fn a_bad_key_request_is_422_with_paths() {
    let app = spawn_app().await;
    let response = app.post("/keys", &json!({"name": "bad name", "scopes": ["read", "root"], "expires_in_s": 0})).await;
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.expect("json");
    let paths: Vec<&str> =
        body["errors"].as_array().expect("errors").iter().map(|e| e["path"].as_str().expect("path")).collect();
    assert_eq!(paths, vec!["name", "scopes[1]", "expires_in_s"]);
}

#[tokio::test]
async fn a_key_over_its_rate_limit_gets_429_with_retry_after() {
    let app = spawn_app().await;
    let limited =
        create_key(&app, json!({"name": "slow", "scopes": ["read"], "rate_limit": {"per_second": 1, "burst": 2}}))
            .await;
    let limited = limited["key"].as_str().expect("secret");
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(get_as(&app, limited, "/recursion/jobs").await);
    }
    let last = statuses.pop().expect("three");
    assert!(statuses.iter().all(|r| r.status() == 200));
    assert_eq!(last.status(), 429);
    assert_eq!(last.headers()["retry-after"], "1");
    assert_eq!(last.headers()["content-type"], "application/problem+json");
    assert_eq!(app.get("/recursion/jobs").await.status(), 200, "other keys have their own bucket");
}

#[tokio::test]
async fn requests_without_a_key_are_limited_per_address_and_probes_never() {
    let app = spawn_app_with(|c| {
        c.rate_limit.per_second = 1;
        c.rate_limit.burst = 2;
    })
    .await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(app.client.get(app.api("/recursion/jobs")).send().await.expect("request").status());
    }
    assert_eq!(statuses, vec![401, 401, 429]);
    for _ in 0..30 {
        assert_eq!(app.client.get(app.url("/healthz")).send().await.expect("request").status(), 200);
        assert_eq!(app.client.get(app.url("/readyz")).send().await.expect("request").status(), 200);
    }
}

#[tokio::test]
async fn the_audit_log_records_state_changes_and_refusals_without_secrets() {
    let app = spawn_app().await;
    let id = app.submit(&tiny_job()).await;
    app.wait_for_end(&id).await;
    assert_eq!(app.delete(&format!("/recursion/job/{id}")).await.status(), 409);
    let created = create_key(&app, json!({"name": "audited", "scopes": ["read"]})).await;
    let secret = created["key"].as_str().expect("secret").to_string();
    let key_id = created["id"].as_str().expect("id").to_string();
    assert_eq!(app.delete(&format!("/keys/{key_id}")).await.status(), 200);
    let refused = app.client.get(app.api("/recursion/jobs")).bearer_auth(&secret).send().await.expect("request");
    assert_eq!(refused.status(), 401);
    let page = app.get("/audit").await.text().await.expect("text");
    assert!(!page.contains(&secret) && !page.contains(KEY), "no secret is ever audited");
    let page: Value = serde_json::from_str(&page).expect("json");
    let entries = page["entries"].as_array().expect("entries");
    let actions: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e["action"].as_str().expect("action"), e["outcome"].as_str().expect("outcome")))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("auth.refused", "denied"),
            ("key.revoke", "ok"),
            ("key.create", "ok"),
            ("job.cancel", "rejected: 409"),
            ("job.submit", "ok"),
        ]
    );
    let submit = &entries[4];
    assert_eq!(submit["target"], json!(id));
    assert_eq!(submit["key_name"], "bootstrap");
    assert_eq!(submit["source"], "127.0.0.1");
    let only: Value = app.get_json("/audit?action=key.create").await;
    assert_eq!(only["entries"].as_array().expect("entries").len(), 1);
    let tamper = app.client.delete(app.api("/audit")).bearer_auth(KEY).send().await.expect("request");
    assert!(tamper.status() == 405 || tamper.status() == 404, "the log cannot be deleted");
}

#[tokio::test]
async fn the_audit_log_pages_with_a_cursor() {
    let app = spawn_app().await;
    for _ in 0..3 {
        let response = app.client.get(app.api("/recursion/jobs")).send().await.expect("request");
        assert_eq!(response.status(), 401);
    }
    let first: Value = app.get_json("/audit?action=auth.refused&limit=2").await;
    assert_eq!(first["entries"].as_array().expect("entries").len(), 2);
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let second: Value = app.get_json(&format!("/audit?action=auth.refused&limit=2&cursor={cursor}")).await;
    assert_eq!(second["entries"].as_array().expect("entries").len(), 1);
    assert_eq!(second["next_cursor"], Value::Null);
    assert!(second["entries"][0]["seq"].as_i64() < first["entries"][1]["seq"].as_i64(), "newest first");
    assert_eq!(app.get("/audit?since=yesterday").await.status(), 400);
}

#[tokio::test]
async fn deep_nesting_and_unknown_query_parameters_are_refused() {
    let app = spawn_app().await;
    let mut nested = json!({"name": "leaf", "run": {"type": "noop"}});
    for level in 0..200 {
        nested = json!({"name": format!("n{level}"), "children": [nested]});
    }
    let response = app.post("/recursion/job", &json!({"request": "deep", "plan": nested})).await;
    assert_eq!(response.status(), 400, "JSON nested past the parser's limit");
    let response = app.get("/recursion/jobs?bogus=1").await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("json");
    assert!(body["detail"].as_str().expect("detail").contains("bogus"), "{body}");
    assert_eq!(app.get_json("/recursion/jobs").await["jobs"], json!([]));
}
