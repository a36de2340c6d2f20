//! Agents across a kill -9, and the key that must go nowhere but the provider's header.

use std::time::Duration;

use serde_json::{json, Value};

use super::llm_server::{openai_text, openai_tool_call, Reply, ScriptedLlm};
use super::server::{events, job_json};
use super::{ended, llm, llm_calls, node, submit_id, wait_for, Store, KEY};

#[tokio::test(flavor = "multi_thread")]
async fn a_kill_after_a_spawn_resumes_the_conversation_without_a_repeated_call_or_child() {
    let children = json!({"children": [{"name": "wait", "run": {"type": "sleep", "ms": 1500}}]});
    let provider = ScriptedLlm::start(vec![
        Reply::ok(openai_tool_call("call_1", "spawn_children", &children)),
        Reply::ok(openai_text("waited well", 30, 3)),
    ])
    .await;
    let mut store = Store::new(&provider.url).await;
    let mut server = store.start();
    let plan = json!({"name": "lead", "run": llm(json!({"tools": ["spawn_children"]}))});
    let job_id = submit_id(&server, &json!({"request": "wait a bit", "plan": plan})).await;
    wait_for(&server, &job_id, |job| job["tree"]["children"].as_array().is_some_and(|c| !c.is_empty())).await;
    server.child.kill().expect("kill -9");
    let _ = server.child.wait();
    let server = store.start();
    let job = wait_for(&server, &job_id, ended).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["tree"]["result"]["output"], "waited well");
    assert_eq!(job["tree"]["attempts"], 1, "going on is not a new attempt: {job}");
    assert_eq!(job["tree"]["children"].as_array().map(Vec::len), Some(1), "no child spawned twice");
    let received = provider.received();
    assert_eq!(received.len(), 2, "the stored turn was not asked again");
    let tool_result = super::last_user_text(&received[1].body);
    assert!(tool_result.contains("\"status\":\"succeeded\"") && !tool_result.contains("refused"), "{tool_result}");
    let calls = llm_calls(&server, &job_id, job["tree"]["id"].as_str().expect("id")).await;
    let turns: Vec<(i64, i64)> =
        calls.iter().map(|c| (c["attempt"].as_i64().expect("a"), c["turn"].as_i64().expect("t"))).collect();
    assert_eq!(turns, [(1, 1), (1, 2)]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_call_cut_short_by_a_kill_is_asked_again_as_the_same_turn() {
    let provider = ScriptedLlm::start(vec![
        Reply::Hang(Duration::from_millis(1500)),
        Reply::ok(openai_text("second time lucky", 10, 2)),
    ])
    .await;
    let mut store = Store::new(&provider.url).await;
    let mut server = store.start();
    let plan = json!({"name": "solo", "run": llm(json!({}))});
    let job_id = submit_id(&server, &json!({"request": "answer", "plan": plan})).await;
    let begun = std::time::Instant::now();
    while provider.received().is_empty() {
        assert!(begun.elapsed() < Duration::from_secs(30), "the call never came");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.child.kill().expect("kill -9");
    let _ = server.child.wait();
    let server = store.start();
    let job = wait_for(&server, &job_id, ended).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["tree"]["attempts"], 1);
    let calls = llm_calls(&server, &job_id, job["tree"]["id"].as_str().expect("id")).await;
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!((calls[0]["attempt"].as_i64(), calls[0]["turn"].as_i64()), (Some(1), Some(1)));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_key_is_in_no_log_row_event_or_result() {
    let children = json!({"children": [{"name": "helper", "retry": {"max_attempts": 1}, "run": llm(json!({}))}]});
    let provider = ScriptedLlm::start(vec![
        Reply::ok(openai_tool_call("call_1", "spawn_children", &children)),
        Reply::status(401, "Incorrect API key provided"),
        Reply::ok(openai_text("done", 1, 1)),
    ])
    .await;
    let mut store = Store::new(&provider.url).await;
    let server = store.start();
    let plan = json!({"name": "lead", "run": llm(json!({"tools": ["spawn_children"]}))});
    let job_id = submit_id(&server, &json!({"request": "keep it secret", "plan": plan})).await;
    let job = wait_for(&server, &job_id, ended).await;
    assert_eq!(node(&job, "helper")["status"], "failed", "{job}");
    assert!(provider.received().iter().all(|r| r.headers["authorization"] == format!("Bearer {KEY}")));
    let mut seen = job_json(&server, &job_id).await.to_string();
    for n in super::server::flatten(&job["tree"]) {
        let calls = llm_calls(&server, &job_id, n["id"].as_str().expect("id")).await;
        seen.push_str(&Value::from(calls).to_string());
    }
    seen.push_str(&Value::from(events(&server, &job_id)).to_string());
    assert!(seen.contains("Incorrect API key provided") && !seen.contains(KEY), "the key is in the API's answers");
    drop(server);
    let log = std::fs::read_to_string(store.data().with_extension("log")).expect("log");
    assert!(log.contains("DEBUG") && !log.contains(KEY), "the key is in the server's log");
    assert!(!stored_text(&store).await.contains(KEY), "the key is in the store");
}

/// Everything the store holds, as text: the SQLite files' bytes, or every PostgreSQL row.
async fn stored_text(store: &Store) -> String {
    let Some(url) = &store.database_url else {
        let mut text = String::new();
        for entry in std::fs::read_dir(store.data()).expect("data dir").flatten() {
            text.push_str(&String::from_utf8_lossy(&std::fs::read(entry.path()).unwrap_or_default()));
        }
        return text;
    };
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
    let tables: Vec<(String,)> =
        sqlx::query_as("select table_name::text from information_schema.tables where table_schema = 'public'")
            .fetch_all(&mut conn)
            .await
            .expect("tables");
    let mut text = String::new();
    for (table,) in tables {
        let rows: Vec<(Option<String>,)> =
            sqlx::query_as(&format!("select t::text from \"{table}\" t")).fetch_all(&mut conn).await.expect("rows");
        text.extend(rows.into_iter().filter_map(|(row,)| row));
    }
    text
}
