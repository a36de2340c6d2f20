//! A model that grows its own sub-team with `spawn_children`, under every limit cadre keeps.

use serde_json::{json, Value};

use super::llm_server::{anthropic_text, anthropic_tool_use, openai_text, openai_tool_call, Reply, ScriptedLlm};
use super::{last_user_text, llm, node, run_to_end, Store};

fn spawn(children: Value) -> Value {
    json!({"children": children})
}

#[tokio::test(flavor = "multi_thread")]
async fn a_model_spawns_three_agents_and_hears_their_answers() {
    let children = spawn(json!([
        {"name": "schema", "title": "Design the schema", "description": "tweets(id, text)", "run": llm(json!({}))},
        {"name": "api", "title": "Write the API", "run": llm(json!({}))},
        {"name": "ui", "title": "Draw the UI", "run": llm(json!({}))}]));
    let provider = ScriptedLlm::start(vec![
        Reply::ok(openai_tool_call("call_1", "spawn_children", &children)),
        Reply::ok(openai_text("part done", 5, 2)),
        Reply::ok(openai_text("part done", 5, 2)),
        Reply::ok(openai_text("part done", 5, 2)),
        Reply::ok(openai_text("All three parts are done.", 40, 6)),
    ])
    .await;
    let mut store = Store::new(&provider.url).await;
    let server = store.start();
    let lead = json!({"name": "lead", "title": "Lead the build", "run": llm(json!({"tools": ["spawn_children"]}))});
    let job = run_to_end(&server, &json!({"request": "Build a Twitter-like app", "plan": lead})).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["tree"]["result"]["output"], "All three parts are done.");
    let kids = job["tree"]["children"].as_array().expect("children");
    assert_eq!(kids.len(), 3);
    assert!(kids.iter().all(|k| k["status"] == "succeeded" && k["depth"] == 1), "{kids:?}");
    let received = provider.received();
    assert_eq!(received.len(), 5);
    assert!(received[0].body["tools"][0]["function"]["name"] == "spawn_children");
    let child_systems: Vec<String> =
        received[1..4].iter().map(|r| r.body["messages"][0]["content"].as_str().expect("system").to_string()).collect();
    assert!(child_systems.iter().all(|s| s.contains("Lead the build (lead)")), "{child_systems:?}");
    let schema_task = received[1..4].iter().map(|r| last_user_text(&r.body)).find(|t| t.contains("Design the schema"));
    assert!(schema_task.is_some_and(|t| t.contains("tweets(id, text)")));
    let last = &received[4].body["messages"];
    let tool_message = last.as_array().expect("messages").iter().find(|m| m["role"] == "tool").expect("tool result");
    assert_eq!(tool_message["tool_call_id"], "call_1");
    let content: Value = serde_json::from_str(tool_message["content"].as_str().expect("text")).expect("json");
    let names: Vec<&str> =
        content["children"].as_array().expect("list").iter().map(|c| c["name"].as_str().expect("name")).collect();
    assert_eq!(names, ["schema", "api", "ui"]);
    assert!(content["children"].as_array().expect("list").iter().all(|c| c["result"]["output"] == "part done"));
    // The lead's own calls: 50 + 40 in, 20 + 6 out, 30 cached; each child's: 5 in, 2 out.
    let lead = &job["tree"];
    assert_eq!(lead["usage"]["calls"], 2);
    assert_eq!((lead["usage"]["input_tokens"].as_i64(), lead["usage"]["cached_tokens"].as_i64()), (Some(90), Some(30)));
    assert!(kids.iter().all(|k| k["usage"]["input_tokens"] == 5 && k["subtree_usage"]["calls"] == 1), "{kids:?}");
    let subtree = &lead["subtree_usage"];
    assert_eq!((subtree["calls"].as_i64(), subtree["input_tokens"].as_i64()), (Some(5), Some(105)));
    assert_eq!(subtree["output_tokens"], 20 + 6 + 3 * 2);
    assert_eq!(job["usage"], *subtree, "the job's total is the root's subtree");
    let cost = (60.0 * 3.0 + 30.0 * 0.0 + 26.0 * 15.0 + 3.0 * (5.0 * 3.0 + 2.0 * 15.0)) / 1e6;
    assert!((subtree["cost"].as_f64().expect("cost") - cost).abs() < 1e-12, "{subtree}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_circular_spawn_is_refused_to_the_model_which_corrects_itself() {
    let me = llm(json!({"tools": ["spawn_children"]}));
    let again = spawn(json!([{"name": "again", "title": "Plan the work", "run": me.clone()}]));
    let better = spawn(json!([{"name": "facts", "title": "Gather facts", "run": {"type": "echo", "value": 42}}]));
    let provider = ScriptedLlm::start(vec![
        Reply::ok(openai_tool_call("call_1", "spawn_children", &again)),
        Reply::ok(openai_tool_call("call_2", "spawn_children", &better)),
        Reply::ok(openai_text("The answer is 42.", 10, 4)),
    ])
    .await;
    let mut store = Store::new(&provider.url).await;
    let server = store.start();
    let plan = json!({"name": "planner", "title": "Plan the work", "run": me});
    let job = run_to_end(&server, &json!({"request": "Plan", "plan": plan})).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let received = provider.received();
    assert_eq!(received.len(), 3);
    let refusal = last_user_text(&received[1].body);
    assert!(refusal.contains("circular recursion") && refusal.contains("'again'"), "{refusal}");
    let kids: Vec<&str> =
        job["tree"]["children"].as_array().expect("children").iter().map(|k| k["name"].as_str().expect("n")).collect();
    assert_eq!(kids, ["facts"], "the refused child was never created");
    assert!(last_user_text(&received[2].body).contains("\"result\":42"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_model_that_keeps_asking_for_tools_stops_at_max_turns() {
    let first = spawn(json!([{"name": "one", "run": {"type": "noop"}}]));
    let second = spawn(json!([{"name": "two", "run": {"type": "noop"}}]));
    let provider = ScriptedLlm::start(vec![
        Reply::ok(openai_tool_call("call_1", "spawn_children", &first)),
        Reply::ok(openai_tool_call("call_2", "spawn_children", &second)),
    ])
    .await;
    let mut store = Store::new(&provider.url).await;
    let server = store.start();
    let run = llm(json!({"tools": ["spawn_children"], "max_turns": 2}));
    let job = run_to_end(&server, &json!({"request": "loop", "plan": {"name": "looper", "run": run}})).await;
    assert_eq!(job["status"], "failed");
    let error = job["tree"]["error"].as_str().expect("error");
    assert!(error.contains("max_turns (2) reached"), "{error}");
    assert_eq!(provider.received().len(), 2);
    assert_eq!(node(&job, "one")["status"], "succeeded");
    assert_eq!(job["tree"]["children"].as_array().map(Vec::len), Some(1), "the last request ran no tool");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_provider_or_tool_is_refused_at_submission() {
    let provider = ScriptedLlm::start(Vec::new()).await;
    let mut store = Store::new(&provider.url).await;
    let server = store.start();
    let plan = json!({"name": "r", "children": [
        {"name": "a", "run": {"type": "llm", "provider": "elsewhere"}},
        {"name": "b", "run": llm(json!({"tools": ["shell"], "temperature": 7}))}]});
    let response = super::submit(&server, &json!({"request": "x", "plan": plan})).await;
    assert_eq!(response.status(), 422);
    let problem: Value = response.json().await.expect("problem");
    let paths: Vec<&str> =
        problem["errors"].as_array().expect("errors").iter().map(|e| e["path"].as_str().expect("p")).collect();
    for expected in ["plan.children[0].run.provider", "plan.children[1].run.tools", "plan.children[1].run.temperature"]
    {
        assert!(paths.contains(&expected), "{expected} missing from {problem}");
    }
    assert!(provider.received().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_tool_loop_speaks_anthropics_protocol_too_with_the_shared_prefix_cached() {
    let children = spawn(json!([{"name": "count", "run": {"type": "echo", "value": 7}}]));
    let provider = ScriptedLlm::start(vec![
        Reply::ok(anthropic_tool_use("toolu_1", "spawn_children", &children)),
        Reply::ok(anthropic_text("Seven.", 20, 2)),
    ])
    .await;
    let mut store = Store::new(&provider.url).await;
    let server = store.start();
    let run = json!({"type": "llm", "provider": "claude", "tools": ["spawn_children"]});
    let job = run_to_end(&server, &json!({"request": "Count", "plan": {"name": "counter", "run": run}})).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["tree"]["result"]["output"], "Seven.");
    assert_eq!(job["tree"]["usage"]["cached_tokens"], 90);
    let received = provider.received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].path, "/v1/messages");
    assert_eq!(received[0].headers["x-api-key"], super::KEY);
    let system = &received[0].body["system"][0];
    assert!(system["text"].as_str().is_some_and(|t| t.contains("# The job\nCount")), "{system}");
    assert_eq!(system["cache_control"]["type"], "ephemeral");
    let messages = received[1].body["messages"].as_array().expect("messages");
    let answer = messages.last().expect("the tool's result");
    assert_eq!(answer["content"][0]["type"], "tool_result");
    assert_eq!(answer["content"][0]["tool_use_id"], "toolu_1");
    assert!(answer["content"][0]["content"].as_str().is_some_and(|c| c.contains("\"result\":7")), "{answer}");
}
