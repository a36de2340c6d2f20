//! One agent's conversation: prompt composition, schema repairs, provider failures.

use serde_json::{json, Value};

use super::llm_server::{openai_text, Reply, ScriptedLlm};
use super::{last_user_text, llm, llm_calls, node, run_to_end, Store, KEY};

#[tokio::test(flavor = "multi_thread")]
async fn a_plain_completion_is_the_nodes_result_and_the_prompt_says_where_it_stands() {
    let provider = ScriptedLlm::start(vec![Reply::ok(openai_text("Use PostgreSQL.", 120, 8))]).await;
    let mut store = Store::new(&provider.url).await;
    let server = store.start();
    let plan = json!({"name": "cto", "title": "Ship the app", "description": "A small web app", "children": [
        {"name": "facts", "run": {"type": "echo", "value": {"users": 3000}}},
        {"name": "db", "title": "Pick the database", "description": "One sentence.", "depends_on": ["facts"],
         "run": llm(json!({"model": "gpt-test", "system": "Be brief.", "prompt": "Answer now."}))}]});
    let job = run_to_end(&server, &json!({"request": "Build a Twitter-like app", "plan": plan})).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let db = node(&job, "db");
    assert_eq!(db["result"]["output"], "Use PostgreSQL.");
    assert_eq!(db["result"]["model"], "scripted-gpt");
    assert_eq!(db["result"]["usage"]["input_tokens"], 120);
    let cost = db["result"]["usage"]["cost"].as_f64().expect("cost");
    assert!((cost - (120.0 * 3.0 + 8.0 * 15.0) / 1e6).abs() < 1e-12, "{cost}");
    let received = provider.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].headers["authorization"], format!("Bearer {KEY}"));
    let body = &received[0].body;
    assert_eq!(body["model"], "gpt-test");
    let system = body["messages"][0]["content"].as_str().expect("system");
    assert!(system.starts_with("Be brief.") && system.contains("Build a Twitter-like app"), "{system}");
    assert!(system.contains("Ship the app (cto): A small web app"), "{system}");
    let task = last_user_text(body);
    assert!(task.contains("Pick the database") && task.contains("One sentence.") && task.contains("Answer now."));
    assert!(task.contains("## facts\n{\"users\":3000}"), "{task}");
    let calls = llm_calls(&server, job["job_id"].as_str().expect("id"), db["id"].as_str().expect("id")).await;
    assert_eq!(calls.len(), 1);
    assert_eq!((calls[0]["purpose"].as_str(), calls[0]["turn"].as_i64()), (Some("execute"), Some(1)));
}

fn points_schema() -> Value {
    json!({"type": "object", "required": ["title", "points"], "additionalProperties": false,
           "properties": {"title": {"type": "string"}, "points": {"type": "integer", "minimum": 1}}})
}

#[tokio::test(flavor = "multi_thread")]
async fn an_answer_that_breaks_the_schema_is_sent_back_with_its_errors_until_it_follows_it() {
    let provider = ScriptedLlm::start(vec![
        Reply::ok(openai_text("Sure! The title is Login.", 10, 5)),
        Reply::ok(openai_text("{\"title\": \"Login\", \"points\": \"three\"}", 10, 5)),
        Reply::ok(openai_text("```json\n{\"title\": \"Login\", \"points\": 3}\n```", 10, 5)),
    ])
    .await;
    let mut store = Store::new(&provider.url).await;
    let server = store.start();
    let plan = json!({"name": "story", "run": llm(json!({"output_schema": points_schema()}))});
    let job = run_to_end(&server, &json!({"request": "Estimate the login story", "plan": plan})).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["tree"]["result"]["output"], json!({"title": "Login", "points": 3}));
    assert_eq!(job["tree"]["result"]["usage"]["calls"], 3);
    let received = provider.received();
    assert_eq!(received[0].body["response_format"]["type"], "json_schema");
    let first_repair = last_user_text(&received[1].body);
    assert!(first_repair.contains("the answer is not JSON"), "{first_repair}");
    let second_repair = last_user_text(&received[2].body);
    assert!(second_repair.contains("- at /points:"), "{second_repair}");
    let calls = llm_calls(&server, job["job_id"].as_str().expect("id"), job["tree"]["id"].as_str().expect("id")).await;
    let purposes: Vec<&str> = calls.iter().map(|c| c["purpose"].as_str().expect("purpose")).collect();
    assert_eq!(purposes, ["execute", "repair", "repair"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_answer_that_never_follows_the_schema_fails_the_node_with_the_last_output() {
    let replies = (0..2).map(|_| Reply::ok(openai_text("{\"title\": 5}", 10, 5))).collect();
    let provider = ScriptedLlm::start(replies).await;
    let mut store = Store::new(&provider.url).await;
    let server = store.start();
    let run = llm(json!({"output_schema": points_schema(), "max_repairs": 1}));
    let plan = json!({"name": "story", "retry": {"max_attempts": 1}, "run": run});
    let job = run_to_end(&server, &json!({"request": "Estimate", "plan": plan})).await;
    assert_eq!(job["status"], "failed");
    let root = &job["tree"];
    let error = root["error"].as_str().expect("error");
    assert!(error.starts_with("the answer does not follow output_schema after 1 repairs"), "{error}");
    assert_eq!(root["result"]["output"], "{\"title\": 5}");
    assert!(root["result"]["errors"].as_array().is_some_and(|e| !e.is_empty()), "{root}");
    assert_eq!(provider.received().len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_key_fails_at_once_with_the_providers_words_and_a_busy_provider_is_retried() {
    let provider = ScriptedLlm::start(vec![
        Reply::status(401, "Incorrect API key provided"),
        Reply::status(429, "slow down").with_header("retry-after", "1"),
        Reply::status(500, "oops"),
        Reply::ok(openai_text("fine", 1, 1)),
    ])
    .await;
    let mut store = Store::new(&provider.url).await;
    let server = store.start();
    let refused = json!({"name": "refused", "retry": {"max_attempts": 1}, "run": llm(json!({}))});
    let job = run_to_end(&server, &json!({"request": "first", "plan": refused})).await;
    assert_eq!(job["status"], "failed");
    let error = job["tree"]["error"].as_str().expect("error");
    assert!(error.contains("401") && error.contains("Incorrect API key provided"), "{error}");
    assert_eq!(provider.received().len(), 1, "a 401 is not retried");
    let calls = llm_calls(&server, job["job_id"].as_str().expect("id"), job["tree"]["id"].as_str().expect("id")).await;
    assert_eq!((calls[0]["http_status"].as_i64(), calls[0]["reply"].is_null()), (Some(401), true));
    let busy = json!({"name": "busy", "retry": {"max_attempts": 1}, "run": llm(json!({}))});
    let begun = std::time::Instant::now();
    let job = run_to_end(&server, &json!({"request": "second", "plan": busy})).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert!(begun.elapsed() >= std::time::Duration::from_secs(1), "retry-after was honoured");
    let calls = llm_calls(&server, job["job_id"].as_str().expect("id"), job["tree"]["id"].as_str().expect("id")).await;
    assert_eq!(calls[0]["tries"], 3, "{calls:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_that_never_answers_times_out_and_the_node_says_so() {
    let hang = std::time::Duration::from_secs(5);
    let provider = ScriptedLlm::start(vec![Reply::Hang(hang), Reply::Hang(hang), Reply::Hang(hang)]).await;
    let mut store = Store::new(&provider.url).await;
    let server = store.start();
    let plan = json!({"name": "slow", "retry": {"max_attempts": 1}, "run": llm(json!({}))});
    let job = run_to_end(&server, &json!({"request": "wait", "plan": plan})).await;
    assert_eq!(job["status"], "failed");
    let error = job["tree"]["error"].as_str().expect("error");
    assert!(error.contains("did not answer within 2 s"), "{error}");
    assert_eq!(provider.received().len(), 3, "the first try and two retries");
}
