//! Mailboxes (issue 17) over HTTP on a running job: priority across and first in first out
//! within a priority (1,000 messages of random priorities), redelivery of a delivery not
//! acknowledged in time, dead letters after `max_deliveries` and past a time to live — each
//! escalated to the recipient's parent as a notice —, a long poll that returns when a message
//! arrives, and the refusals.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{node, spawn_app_with, TestApp};

/// A running job whose `worker` sleeps under `lead`; returns (job, lead, worker) ids.
async fn running(app: &TestApp) -> (String, String, String) {
    let plan = json!({"name": "team", "children": [{"name": "lead", "children": [
        {"name": "worker", "run": {"type": "sleep", "ms": 120_000}}]}]});
    let id = app.submit(&json!({"request": "talk", "plan": plan})).await;
    let job = app.wait_for(&id, |job| node(&job["tree"], "worker")["status"] == "running").await;
    let id_of = |name: &str| node(&job["tree"], name)["id"].as_str().expect("id").to_string();
    (id, id_of("lead"), id_of("worker"))
}

async fn send(app: &TestApp, job: &str, body: Value) -> (StatusCode, Value) {
    let response = app.post(&format!("/recursion/job/{job}/messages"), &body).await;
    (response.status(), response.json().await.expect("json"))
}

async fn receive(app: &TestApp, job: &str, node: &str, query: &str) -> Vec<Value> {
    let list = app.get_json(&format!("/recursion/job/{job}/nodes/{node}/messages?{query}")).await;
    list["messages"].as_array().expect("messages").clone()
}

async fn settle(app: &TestApp, job: &str, id: &str, how: &str) -> StatusCode {
    app.post(&format!("/recursion/job/{job}/messages/{id}/{how}"), &json!({})).await.status()
}

fn quick(config: &mut cadre::config::Config) {
    (config.mail.visibility_timeout_s, config.mail.max_deliveries) = (1, 2);
}

#[tokio::test]
async fn a_thousand_messages_come_by_priority_then_in_order() {
    let app = spawn_app_with(quick).await;
    let (job, _, worker) = running(&app).await;
    let mut sent = Vec::new();
    for i in 0..1000u32 {
        let priority = (i * 7919 + 13) % 10;
        let (status, _) = send(&app, &job, json!({"to": worker, "priority": priority, "body": {"n": i}})).await;
        assert_eq!(status, StatusCode::CREATED);
        sent.push((priority, i));
    }
    sent.sort_by_key(|&(priority, i)| (std::cmp::Reverse(priority), i));
    let mut got = Vec::new();
    while got.len() < 1000 {
        let batch = receive(&app, &job, &worker, "max=100").await;
        assert!(!batch.is_empty(), "every message comes, {} so far", got.len());
        for m in batch {
            got.push((m["priority"].as_u64().unwrap() as u32, m["body"]["n"].as_u64().unwrap() as u32));
            assert_eq!(settle(&app, &job, m["id"].as_str().unwrap(), "ack").await, StatusCode::OK);
        }
    }
    assert_eq!(got, sent, "9 first, first in first out within a priority");
    assert!(receive(&app, &job, &worker, "").await.is_empty(), "acknowledged, never again");
}

#[tokio::test]
async fn unacknowledged_messages_come_back_then_go_to_the_dead_letters_and_the_parent_hears() {
    let app = spawn_app_with(quick).await;
    let (job, lead, worker) = running(&app).await;
    let (_, sent) = send(&app, &job, json!({"to": worker, "thread_id": "t1", "body": {"ask": "schema?"}})).await;
    let id = sent["id"].as_str().unwrap();
    assert_eq!(receive(&app, &job, &worker, "").await[0]["deliveries"], 1);
    assert!(receive(&app, &job, &worker, "").await.is_empty(), "invisible while in flight");
    let again = receive(&app, &job, &worker, "wait_s=3").await;
    assert_eq!((again[0]["id"].as_str(), &again[0]["deliveries"]), (Some(id), &json!(2)), "delivered again");
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let dead = app.get_json(&format!("/recursion/job/{job}/messages?state=dead")).await;
    let dead = &dead["messages"][0];
    assert_eq!((dead["id"].as_str(), &dead["dead_reason"]), (Some(id), &json!("max_deliveries")), "{dead}");
    // The notice follows the dead letter once the recipient's parent is looked up: wait for it.
    let notice = receive(&app, &job, &lead, "wait_s=3").await;
    assert_eq!((&notice[0]["sender"], &notice[0]["priority"]), (&json!("cadre"), &json!(9)));
    assert_eq!(notice[0]["body"]["dead_letter"]["message_id"].as_str(), Some(id));
    assert_eq!(notice[0]["body"]["dead_letter"]["body"], json!({"ask": "schema?"}));
    assert_eq!(settle(&app, &job, id, "ack").await, StatusCode::NOT_FOUND, "a dead message is not acknowledged");
}

#[tokio::test]
async fn a_time_to_live_a_long_poll_and_the_refusals() {
    let app = spawn_app_with(quick).await;
    let (job, lead, worker) = running(&app).await;
    send(&app, &job, json!({"to": worker, "ttl_s": 1, "body": "soon stale"})).await;
    tokio::time::sleep(Duration::from_millis(1700)).await;
    assert!(receive(&app, &job, &worker, "").await.is_empty(), "past its time to live");
    let notice = receive(&app, &job, &lead, "").await;
    assert_eq!(notice[0]["body"]["dead_letter"]["reason"], "ttl");

    let begun = Instant::now();
    let waiting = {
        let (url, client) =
            (app.api(&format!("/recursion/job/{job}/nodes/{worker}/messages?wait_s=10")), app.client.clone());
        tokio::spawn(async move {
            client.get(url).bearer_auth(crate::helpers::KEY).send().await.unwrap().json::<Value>().await.unwrap()
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, sent) = send(&app, &job, json!({"to": worker, "body": "now"})).await;
    let got = waiting.await.unwrap();
    assert_eq!(got["messages"][0]["id"], sent["id"]);
    assert!(begun.elapsed() < Duration::from_secs(10), "the poll returned when the message came");
    assert_eq!(settle(&app, &job, sent["id"].as_str().unwrap(), "nack").await, StatusCode::OK);
    assert_eq!(receive(&app, &job, &worker, "").await[0]["deliveries"], 2, "given back, due at once");

    let (status, _) = send(&app, &job, json!({"to": worker, "priority": 10, "body": 1})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = send(&app, &job, json!({"to": "01a23612-ff08-77a2-a677-312814e96909", "body": 1})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, fresh) = send(&app, &job, json!({"to": lead, "body": 1})).await;
    assert_eq!(
        settle(&app, &job, fresh["id"].as_str().unwrap(), "ack").await,
        StatusCode::CONFLICT,
        "not delivered yet"
    );
    app.delete(&format!("/recursion/job/{job}")).await;
    app.wait_for_end(&job).await;
    let (status, _) = send(&app, &job, json!({"to": lead, "body": 1})).await;
    assert_eq!(status, StatusCode::CONFLICT, "an ended job's mailboxes are closed");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_agent_sends_to_a_sibling_and_reads_its_own_mailbox() {
    use crate::llm_server::{openai_text, openai_tool_call, Reply, ScriptedLlm};
    let provider = ScriptedLlm::start(vec![
        Reply::ok(openai_tool_call(
            "c1",
            "send_message",
            &json!({"to": "listener", "body": {"q": "ready?"}, "priority": 8}),
        )),
        Reply::ok(openai_tool_call("c2", "send_message", &json!({"to": "stranger", "body": "hi"}))),
        Reply::ok(openai_tool_call("c3", "read_messages", &json!({"wait_s": 20}))),
        Reply::ok(openai_text("heard 42", 10, 2)),
    ])
    .await;
    let toml = format!(
        "[providers.scripted]\nkind = \"openai\"\nbase_url = \"{}\"\nmodel = \"m\"\napi_key_env = \"\"\nmax_retries = 0",
        provider.url
    );
    let llm: cadre::llm::LlmConfig = toml::from_str(&toml).expect("providers");
    let app = spawn_app_with(move |config| config.llm = llm).await;
    let talker = json!({"type": "llm", "provider": "scripted", "tools": ["send_message", "read_messages"]});
    let plan = json!({"name": "team", "children": [
        {"name": "pair", "children": [{"name": "talker", "run": talker}, {"name": "listener", "run": {"type": "sleep", "ms": 60_000}}]},
        {"name": "other", "children": [{"name": "stranger", "run": {"type": "sleep", "ms": 60_000}}]}]});
    let job = app.submit(&json!({"request": "talk", "plan": plan})).await;
    let view = app.wait_for(&job, |j| node(&j["tree"], "listener")["status"] == "running").await;
    let (listener, talker) = (
        node(&view["tree"], "listener")["id"].as_str().unwrap().to_string(),
        node(&view["tree"], "talker")["id"].as_str().unwrap().to_string(),
    );
    let heard = receive(&app, &job, &listener, "wait_s=20").await;
    assert_eq!(
        (&heard[0]["body"], &heard[0]["priority"], &heard[0]["from"]),
        (&json!({"q": "ready?"}), &json!(8), &json!(talker))
    );
    send(&app, &job, json!({"to": talker, "body": {"answer": 42}})).await;
    let view = app.wait_for(&job, |j| node(&j["tree"], "talker")["status"] == "succeeded").await;
    assert_eq!(node(&view["tree"], "talker")["result"]["output"], "heard 42");
    let received = provider.received();
    assert!(
        received[2].body.to_string().contains("outside your reach"),
        "a cousin is out of reach: {}",
        received[2].body
    );
    assert!(received[3].body.to_string().contains("42"), "the message came back as the tool's result");
    let acknowledged = app.get_json(&format!("/recursion/job/{job}/messages?state=acknowledged")).await;
    assert!(
        acknowledged["messages"].as_array().unwrap().iter().any(|m| m["body"] == json!({"answer": 42})),
        "read means acknowledged"
    );
    app.delete(&format!("/recursion/job/{job}")).await;
}

/// A worker that waits for FILE to name its sibling and a cousin, then tries its token on each.
const REACHING: &str = r#"i=0; while [ ! -s "$1" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
read sibling cousin < "$1"
api="$CADRE_URL/api/v1/recursion/job/$CADRE_JOB_ID"
call() { curl -s -o /dev/null -w '%{http_code}' -X "$1" -H "Authorization: Bearer $CADRE_TOKEN" -H 'Content-Type: application/json' ${3:+-d "$3"} "$api$2"; }
echo "sibling $(call POST /messages "{\"to\":\"$sibling\",\"body\":\"hi\"}")"
echo "cousin $(call POST /messages "{\"to\":\"$cousin\",\"body\":\"hi\"}")"
echo "own-box $(call GET "/nodes/$CADRE_NODE_ID/messages")"
echo "sibling-box $(call GET "/nodes/$sibling/messages")""#;

#[tokio::test]
async fn a_worker_token_writes_within_its_reach_and_reads_only_its_own_mailbox() {
    let app = spawn_app_with(quick).await;
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("ids");
    let writer = json!({"type": "command", "argv": ["sh", "-c", REACHING, "reaching", file.to_str().unwrap()]});
    let sleep = json!({"type": "sleep", "ms": 60_000});
    let plan = json!({"name": "team", "on_child_failure": "continue", "children": [
        {"name": "lead", "children": [{"name": "writer", "run": writer}, {"name": "sibling", "run": sleep}]},
        {"name": "other", "children": [{"name": "cousin", "run": sleep}]}]});
    let job = app.submit(&json!({"request": "reach", "plan": plan})).await;
    let view = app.wait_for(&job, |j| node(&j["tree"], "writer")["status"] == "running").await;
    let id = |name: &str| node(&view["tree"], name)["id"].as_str().unwrap().to_string();
    std::fs::write(&file, format!("{} {}\n", id("sibling"), id("cousin"))).expect("write");
    let view = app.wait_for(&job, |j| node(&j["tree"], "writer")["status"] == "succeeded").await;
    let stdout = node(&view["tree"], "writer")["result"]["stdout"].as_str().unwrap().to_string();
    assert_eq!(stdout, "sibling 201\ncousin 403\nown-box 200\nsibling-box 403\n");
    let heard = receive(&app, &job, &id("sibling"), "").await;
    assert_eq!(
        (&heard[0]["sender"], &heard[0]["from"]),
        (&json!(format!("node:{}", id("writer"))), &json!(id("writer")))
    );
    app.delete(&format!("/recursion/job/{job}")).await;
}
