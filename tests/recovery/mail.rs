//! Mailboxes across a kill -9 (issue 17): messages sent (each answered 201 once stored), some
//! delivered, some of those acknowledged, then SIGKILL. After the restart every message not
//! acknowledged comes (again), none that was acknowledged comes back, and each can be
//! acknowledged exactly once.

use std::collections::HashSet;

use serde_json::{json, Value};

use super::server::{flatten, submit_id, wait_for, Server};
use super::Store;

async fn call(server: &Server, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let client = reqwest::Client::new();
    let mut request = client.request(method, format!("{}/api/v1{path}", server.url)).bearer_auth(&server.key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn receive(server: &Server, job: &str, node: &str, max: usize) -> Vec<Value> {
    let path = format!("/recursion/job/{job}/nodes/{node}/messages?max={max}&wait_s=2");
    let (status, list) = call(server, reqwest::Method::GET, &path, None).await;
    assert_eq!(status, 200, "{list}");
    list["messages"].as_array().expect("messages").clone()
}

async fn ack(server: &Server, job: &str, id: &str) -> u16 {
    call(server, reqwest::Method::POST, &format!("/recursion/job/{job}/messages/{id}/ack"), None).await.0
}

fn ids(messages: &[Value]) -> HashSet<String> {
    messages.iter().map(|m| m["id"].as_str().expect("id").to_string()).collect()
}

/// A short visibility timeout, and no rate limit the test's sixty-odd quick requests could
/// reach on a loaded machine.
const QUICK: [(&str, &str); 3] = [
    ("CADRE_MAIL__VISIBILITY_TIMEOUT_S", "1"),
    ("CADRE_RATE_LIMIT__PER_SECOND", "1000000"),
    ("CADRE_RATE_LIMIT__BURST", "1000000"),
];

#[tokio::test]
async fn messages_in_flight_at_a_kill_are_neither_lost_nor_acknowledged_twice() {
    let mut store = Store::new().await;
    let quick = QUICK;
    let first = store.start_with(&quick);
    let plan = json!({"name": "team", "children": [{"name": "worker", "run": {"type": "sleep", "ms": 120_000}}]});
    let job = submit_id(&first, &json!({"request": "talk", "plan": plan})).await;
    let view = wait_for(&first, &job, |j| {
        flatten(&j["tree"]).iter().any(|n| n["status"] == "running" && n["kind"] == "worker")
    })
    .await;
    let worker = flatten(&view["tree"]).into_iter().find(|n| n["name"] == "worker").expect("worker")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut sent = HashSet::new();
    for n in 0..20 {
        let body = json!({"to": worker, "priority": n % 10, "body": {"n": n}});
        let (status, message) =
            call(&first, reqwest::Method::POST, &format!("/recursion/job/{job}/messages"), Some(body)).await;
        assert_eq!(status, 201, "{message}");
        sent.insert(message["id"].as_str().unwrap().to_string());
    }
    let delivered = receive(&first, &job, &worker, 10).await;
    assert_eq!(delivered.len(), 10);
    let acked: HashSet<String> = ids(&delivered[..5]);
    for id in &acked {
        assert_eq!(ack(&first, &job, id).await, 200);
    }
    drop(first);

    let second = store.start_with(&quick);
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let mut after = Vec::new();
    while after.len() < 15 {
        let batch = receive(&second, &job, &worker, 100).await;
        assert!(!batch.is_empty(), "every unacknowledged message comes: {} of 15", after.len());
        for message in &batch {
            assert_eq!(ack(&second, &job, message["id"].as_str().unwrap()).await, 200, "acknowledged once");
        }
        after.extend(batch);
    }
    let after = ids(&after);
    assert_eq!(after.len(), 15, "no repeats once acknowledged");
    assert!(after.is_disjoint(&acked), "none acknowledged before the kill came back");
    assert_eq!(after.union(&acked).cloned().collect::<HashSet<_>>(), sent, "none lost");
    for id in &acked {
        assert_eq!(ack(&second, &job, id).await, 404, "an acknowledged message is not acknowledged twice");
    }
    call(&second, reqwest::Method::DELETE, &format!("/recursion/job/{job}"), None).await;
}
