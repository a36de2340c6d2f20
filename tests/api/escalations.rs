//! Level 3 of recovery (issue 15, seed 004): a failure its policy escalates holds the node
//! and asks a person, routed like an approval — the node's own approvers first — who retries
//! it as it was, retries it with more memory, skips it with a result of their own, or lets
//! the failure stand; a decision of the wrong kind changes nothing.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{node, spawn_app, TestApp};

async fn requests(app: &TestApp, id: &str) -> Vec<Value> {
    let list = app.get_json(&format!("/approvals?job_id={id}&state=pending&mine=false")).await;
    list["approvals"].as_array().expect("list").clone()
}

async fn decide(app: &TestApp, secret: &str, id: &str, body: Value) -> (StatusCode, Value) {
    let url = app.api(&format!("/approvals/{id}/decision"));
    let response = app.client.post(url).bearer_auth(secret).json(&body).send().await.expect("request");
    (response.status(), response.json().await.expect("json"))
}

#[tokio::test]
async fn an_escalated_memory_failure_is_retried_with_the_memory_a_person_gives() {
    let app = spawn_app().await;
    let created: Value =
        app.post("/keys", &json!({"name": "ops", "scopes": ["read"]})).await.json().await.expect("key");
    let ops = created["key"].as_str().expect("secret").to_string();
    let hungry = json!({"type": "command", "argv": ["python3", "-c", "b = bytearray(80 * 1024 * 1024); print('fed')"]});
    let job = json!({"request": "memory", "plan": {"name": "hungry", "resources": {"memory_mb": 64},
        "recovery": {"memory": "escalate"}, "approval": {"approvers": ["ops"]}, "run": hungry}});
    let id = app.submit(&job).await;
    let job = app.wait_for(&id, |job| job["tree"]["status"] == "awaiting_approval" && job["status"] == "paused").await;
    assert_eq!(job["tree"]["attempts"], 1);
    let request = requests(&app, &id).await.remove(0);
    assert_eq!((&request["kind"], &request["levels"][0]["owner"]), (&json!("escalation"), &json!("hungry")));
    let prompt = request["prompt"].as_str().expect("prompt");
    assert!(prompt.starts_with("'hungry' failed (memory) after 1 attempt(s)"), "{prompt}");
    let request_id = request["id"].as_str().expect("id");

    let (status, problem) = decide(&app, &ops, request_id, json!({"decision": "approve"})).await;
    assert_eq!((status, &problem["errors"][0]["path"]), (StatusCode::UNPROCESSABLE_ENTITY, &json!("decision")));
    let (status, problem) =
        decide(&app, &ops, request_id, json!({"decision": "retry_with", "input": {"memory": 1}})).await;
    assert_eq!((status, &problem["errors"][0]["path"]), (StatusCode::UNPROCESSABLE_ENTITY, &json!("input")));
    let (status, _) =
        decide(&app, &ops, request_id, json!({"decision": "retry_with", "input": {"memory_mb": 256}})).await;
    assert_eq!(status, StatusCode::OK);
    let job = app.wait_for_end(&id).await;
    assert_eq!((&job["status"], &job["tree"]["attempts"]), (&json!("succeeded"), &json!(2)), "{job}");
    assert_eq!(job["tree"]["result"]["stdout"], "fed\n", "the second attempt had 256 MiB");
}

#[tokio::test]
async fn an_escalation_is_retried_skipped_or_left_failed() {
    let app = spawn_app().await;
    let job = json!({"request": "three ways", "plan": {"name": "team", "on_child_failure": "continue",
        "recovery": {"process": "escalate"}, "children": [
            {"name": "flaky", "run": {"type": "fail", "message": "once", "times": 1}},
            {"name": "optional", "run": {"type": "fail", "message": "always"}},
            {"name": "needed", "run": {"type": "fail", "message": "always"}},
            {"name": "after-optional", "depends_on": ["optional"], "run": {"type": "echo", "value": "went on"}}]}});
    let id = app.submit(&job).await;
    let pending = loop {
        let pending = requests(&app, &id).await;
        if pending.len() == 3 {
            break pending;
        }
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    };
    for request in &pending {
        let decision = match request["node_name"].as_str() {
            Some("flaky") => json!({"decision": "retry"}),
            Some("optional") => json!({"decision": "skip", "input": {"skipped": "by hand"}}),
            _ => json!({"decision": "fail"}),
        };
        let (status, body) = decide(&app, crate::helpers::KEY, request["id"].as_str().expect("id"), decision).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let job = app.wait_for_end(&id).await;
    let flaky = node(&job["tree"], "flaky");
    assert_eq!((&flaky["status"], &flaky["attempts"]), (&json!("succeeded"), &json!(2)));
    let optional = node(&job["tree"], "optional");
    assert_eq!((&optional["status"], &optional["result"]), (&json!("succeeded"), &json!({"skipped": "by hand"})));
    assert_eq!(node(&job["tree"], "after-optional")["status"], "succeeded", "a skip lets its dependents run");
    let needed = node(&job["tree"], "needed");
    assert_eq!(needed["status"], "failed");
    assert!(needed["error"].as_str().is_some_and(|e| e.starts_with("always (escalated;")), "{needed}");
    the_report_names_who_decided(&app, &id).await;
}

async fn the_report_names_who_decided(app: &TestApp, id: &str) {
    let report = app.get(&format!("/recursion/job/{id}/report")).await.text().await.expect("markdown");
    assert!(report.contains("## Decisions by people"), "{report}");
    assert!(report.contains("- escalation of 'optional': skip by 'bootstrap' (level 1)"), "{report}");
    let outcome = app.get_json(&format!("/recursion/job/{id}/report?format=json")).await;
    let decisions: Vec<&Value> =
        outcome["decisions"].as_array().expect("decisions").iter().map(|d| &d["decision"]).collect();
    assert_eq!(decisions.len(), 3, "{outcome}");
    assert!(decisions.contains(&&json!("retry")) && decisions.contains(&&json!("fail")));
}
