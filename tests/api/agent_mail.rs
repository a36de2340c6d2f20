//! Agents' mailboxes (issue 17): a registered agent has a mailbox of its own — sent to by a
//! `write` key or any worker, read (and acknowledged) by a `write` key or by the token of a
//! node the agent runs — ordered, redelivered and dead-lettered as a node's, with a dead
//! letter's notice going to the agent's manager; unknown and retired agents refused.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{node, spawn_app_with, TestApp};
use crate::workforce::{command, register};

fn quick(config: &mut cadre::config::Config) {
    (config.mail.visibility_timeout_s, config.mail.max_deliveries) = (1, 2);
}

async fn send(app: &TestApp, agent: &str, body: Value) -> reqwest::Response {
    app.post(&format!("/agents/{agent}/messages"), &body).await
}

async fn receive(app: &TestApp, agent: &str, query: &str) -> Vec<Value> {
    let list = app.get_json(&format!("/agents/{agent}/messages?{query}")).await;
    list["messages"].as_array().expect("messages").clone()
}

async fn settle(app: &TestApp, agent: &str, id: &Value, how: &str) -> StatusCode {
    let id = id.as_str().expect("id");
    app.post(&format!("/agents/{agent}/messages/{id}/{how}"), &json!({})).await.status()
}

#[tokio::test]
async fn an_agent_gets_its_mail_by_priority_acknowledges_it_and_a_dead_letter_tells_its_manager() {
    let app = spawn_app_with(quick).await;
    register(&app, json!({"name": "boss", "run": command(&["true"])})).await;
    register(&app, json!({"name": "dev", "reports_to": "boss", "run": command(&["true"])})).await;
    for (priority, text) in [(2, "later"), (9, "urgent"), (2, "last")] {
        let sent = send(&app, "dev", json!({"priority": priority, "thread_id": "t", "body": text})).await;
        assert_eq!(sent.status(), StatusCode::CREATED);
    }
    assert_eq!(app.get_json("/agents/dev").await["mailbox"]["open"], 3);
    let got = receive(&app, "dev", "max=10").await;
    let bodies: Vec<&Value> = got.iter().map(|m| &m["body"]).collect();
    assert_eq!(bodies, [&json!("urgent"), &json!("later"), &json!("last")]);
    assert_eq!(got[0]["sender"], "bootstrap", "{}", got[0]);
    assert_eq!(got[0]["job_id"], "00000000-0000-0000-0000-000000000000");
    assert_eq!(settle(&app, "dev", &got[0]["id"], "ack").await, StatusCode::OK);
    assert_eq!(settle(&app, "dev", &got[0]["id"], "ack").await, StatusCode::NOT_FOUND, "acknowledged once");
    assert_eq!(settle(&app, "dev", &got[1]["id"], "nack").await, StatusCode::OK);
    assert_eq!(receive(&app, "dev", "").await[0]["body"], "later", "given back: due again at once");
    // Not acknowledged within the visibility timeout twice: dead, and the manager is told.
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    // `later` was delivered twice (the limit) and dies; `last`, delivered once, comes again.
    let again = receive(&app, "dev", "").await;
    assert_eq!((again.len(), &again[0]["body"], &again[0]["deliveries"]), (1, &json!("last"), &json!(2)));
    let notices = receive(&app, "boss", "wait_s=5").await;
    assert!(!notices.is_empty(), "the manager hears of the dead letter");
    assert_eq!(notices[0]["sender"], "cadre");
    assert_eq!(notices[0]["body"]["dead_letter"]["reason"], "max_deliveries", "{}", notices[0]);
    assert_eq!(notices[0]["body"]["dead_letter"]["body"], "later");
    let metrics = app.client.get(app.url("/metrics")).send().await.expect("metrics").text().await.expect("text");
    assert!(metrics.contains("cadre_messages_total{event=\"dead_lettered\"} "), "{metrics}");
}

#[tokio::test]
async fn unknown_and_retired_agents_are_refused_and_bodies_checked() {
    let app = spawn_app_with(quick).await;
    register(&app, json!({"name": "old", "run": command(&["true"])})).await;
    assert_eq!(send(&app, "ghost", json!({"body": 1})).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get("/agents/ghost/messages").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(send(&app, "old", json!({"body": 1, "priority": 10})).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let patched = app
        .client
        .patch(app.api("/agents/old"))
        .bearer_auth(crate::helpers::KEY)
        .json(&json!({"status": "retired"}))
        .send()
        .await
        .expect("patch");
    assert_eq!(patched.status(), StatusCode::OK);
    assert_eq!(send(&app, "old", json!({"body": 1})).await.status(), StatusCode::CONFLICT);
}

/// A command worker that sends to the agent `dev` with its token and reads `dev`'s mailbox.
const AGENT_READER: &str = r#"api="$CADRE_URL/api/v1/agents/dev/messages"
auth="Authorization: Bearer $CADRE_TOKEN"
echo "send $(curl -s -o /dev/null -w '%{http_code}' -X POST -H "$auth" -H 'Content-Type: application/json' -d '{"body":"from a worker"}' "$api")"
echo "read $(curl -s -H "$auth" "$api?wait_s=5&max=10")""#;

#[tokio::test]
async fn the_node_an_agent_runs_reads_its_mailbox_and_another_worker_may_only_write_to_it() {
    let app = spawn_app_with(quick).await;
    let reader = command(&["sh", "-c", AGENT_READER]);
    register(&app, json!({"name": "dev", "run": reader.clone()})).await;
    let sent = send(&app, "dev", json!({"body": "for dev", "priority": 7})).await;
    assert_eq!(sent.status(), StatusCode::CREATED);
    let plan = json!({"name": "team", "children": [
        {"name": "staffed", "agent": "dev"},
        {"name": "outsider", "depends_on": ["staffed"], "run": reader}]});
    let job = app.submit(&json!({"request": "agent mail", "plan": plan})).await;
    let view = app.wait_for_end(&job).await;
    assert_eq!(view["status"], "succeeded", "{view}");
    let stdout = |name: &str| node(&view["tree"], name)["result"]["stdout"].as_str().expect("stdout").to_string();
    let staffed = stdout("staffed");
    assert!(staffed.starts_with("send 201\nread "), "{staffed}");
    let read: Value =
        serde_json::from_str(staffed.lines().nth(1).expect("read").trim_start_matches("read ")).expect("json");
    let bodies: Vec<&Value> = read["messages"].as_array().expect("messages").iter().map(|m| &m["body"]).collect();
    assert_eq!(bodies, [&json!("for dev"), &json!("from a worker")]);
    let outsider = stdout("outsider");
    assert!(
        outsider.starts_with("send 201\nread {\"type\""),
        "a worker the agent does not run may not read: {outsider}"
    );
    assert!(outsider.contains("not run by agent dev"), "{outsider}");
}
