//! Decomposition in-process (the agents suite runs the same scenarios against the binary):
//! a breakdown whose agents are judged by a model and by a program, a question answered,
//! and the report — so that the engine's decomposing, clarifying and judging code is
//! measured by coverage too.

use serde_json::{json, Value};

use crate::helpers::{spawn_app_at, spawn_app_with, TestApp};
use crate::llm_server::{openai_text, Reply, Route, ScriptedLlm};

fn ok(text: &str) -> Reply {
    Reply::ok(openai_text(text, 100, 20))
}

async fn app(provider: &ScriptedLlm, decomposer: bool) -> TestApp {
    let toml = format!(
        "[providers.scripted]\nkind = \"openai\"\nbase_url = \"{}\"\nmodel = \"m\"\napi_key_env = \"\"\nmax_retries = 0",
        provider.url
    );
    let llm: cadre::llm::LlmConfig = toml::from_str(&toml).expect("providers");
    spawn_app_with(move |config| {
        config.llm = llm;
        if decomposer {
            config.decomposer.provider = "scripted".into();
        }
    })
    .await
}

fn plan() -> Value {
    json!({"project_name": "Chirp", "components": [{"type": "database", "name": "PostgreSQL",
        "specific_requirements": ["posts table"]}], "technical_constraints": [], "success_criteria": ["it works"]})
}

fn breakdown() -> Value {
    let task = |title: &str, domain: &str, depends_on: &[&str]| {
        json!({"title": title, "description": format!("{title}, exactly."), "domain": domain, "function": "f",
               "complexity": "low", "depends_on": depends_on, "success_criteria": [format!("{title} works")]})
    };
    json!({"tasks": [{"title": "All", "subtasks": [task("Posts table", "database", &[]),
        task("POST /posts", "backend", &["Posts table"])]}]})
}

#[tokio::test(flavor = "multi_thread")]
async fn agents_judged_by_a_model_are_rerun_with_its_verdict_and_the_report_tells_it() {
    let verdict = |passed: bool| ok(&json!({"passed": passed, "issues": ["no index"], "suggestions": []}).to_string());
    let routes = vec![
        Route::new(&["You are the architect"], vec![ok(&plan().to_string())]),
        Route::new(&["You break a software project down"], vec![ok(&breakdown().to_string())]),
        Route::new(&["You check an agent", "Posts table"], vec![verdict(false), verdict(true)]),
        Route::new(&["You check an agent"], vec![verdict(true)]),
        Route::new(&["You are a coding agent"], (0..3).map(|i| ok(&format!("done {i}"))).collect()),
    ];
    let provider = ScriptedLlm::start_routed(routes, Vec::new()).await;
    let app = app(&provider, false).await;
    let decompose = json!({"type": "llm", "provider": "scripted", "validate": true});
    let id = app
        .submit(&json!({"request": "Build a Twitter-like app", "plan": {"name": "app", "decompose": decompose}}))
        .await;
    let job = app.wait_for_end(&id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let database = &job["tree"]["children"][0];
    assert_eq!((database["name"].as_str(), database["children"][0]["attempts"].as_i64()), (Some("database"), Some(2)));
    let report = app.get(&format!("/recursion/job/{id}/report")).await;
    assert_eq!(report.status(), 200);
    let report = report.text().await.expect("text");
    assert!(report.starts_with("# Chirp") && report.contains("1 retry\n- validation: passed"), "{report}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_program_that_judges_a_result_fails_it_until_the_retries_run_out() {
    let provider = ScriptedLlm::start(Vec::new()).await;
    let app = app(&provider, false).await;
    let check = json!({"type": "command", "argv": ["sh", "-c", "echo \"missing: $CADRE_RESULT\" >&2; exit 3"]});
    let plan = json!({"name": "w", "run": {"type": "echo", "value": {"built": true}}, "validate": check,
                      "retry": {"max_attempts": 2, "initial_backoff_ms": 1}});
    let id = app.submit(&json!({"request": "judged", "plan": plan})).await;
    let job = app.wait_for_end(&id).await;
    assert_eq!(job["status"], "failed", "{job}");
    let node = &job["tree"];
    assert_eq!(node["attempts"], 2);
    assert!(node["error"].as_str().is_some_and(|e| e.starts_with("the result did not pass its validation")), "{node}");
    let issues = node["result"]["validation"]["issues"].to_string();
    assert!(issues.contains("missing: {\\\"built\\\":true}"), "the program read the result: {issues}");
    assert_eq!(node["result"]["validation"]["by"], "command");
}

/// A model that asks which city, then, told Lyon, has the request answered directly.
fn city_routes() -> Vec<Route> {
    let intent = |kind: &str| {
        ok(&json!({"intent": kind, "confidence": 0.9, "reason": "r", "question": "Which city?"}).to_string())
    };
    vec![
        Route::new(&["You decide what kind of work", "A: Lyon"], vec![intent("direct_response")]),
        Route::new(&["You decide what kind of work"], vec![intent("clarify")]),
        Route::new(&["# Your task: Answer"], vec![ok("About 520,000.")]),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn a_question_is_asked_answered_and_the_request_answered_directly() {
    let provider = ScriptedLlm::start_routed(city_routes(), Vec::new()).await;
    let app = app(&provider, true).await;
    let id = app.submit(&json!({"request": "How many live there?", "config": {"intent": "auto"}})).await;
    app.wait_for(&id, |job| job["status"] == "paused").await;
    let empty = app.post(&format!("/recursion/job/{id}/answer"), &json!({"answer": " "})).await;
    assert_eq!(empty.status(), 422);
    let answered = app.post(&format!("/recursion/job/{id}/answer"), &json!({"answer": "Lyon"})).await;
    assert_eq!(answered.status(), 202);
    let job = app.wait_for_end(&id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["tree"]["children"][0]["result"]["output"], "About 520,000.");
    let report = app.get(&format!("/recursion/job/{id}/report")).await.text().await.expect("text");
    assert!(report.contains("**Intent:** direct_response") && report.contains("> **A:** Lyon"), "{report}");
    let again = app.post(&format!("/recursion/job/{id}/answer"), &json!({"answer": "Paris"})).await;
    assert_eq!(again.status(), 409);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stopped_server_leaves_a_question_waiting_and_a_running_job_for_the_next_start() {
    let provider = ScriptedLlm::start_routed(city_routes(), Vec::new()).await;
    let dir = tempfile::tempdir().expect("dir");
    let database_url = crate::common::fresh_database_url().await;
    let settings = |provider_url: String| {
        move |config: &mut cadre::config::Config| {
            let toml = format!("[providers.scripted]\nkind = \"openai\"\nbase_url = \"{provider_url}\"\nmodel = \"m\"\napi_key_env = \"\"");
            config.llm = toml::from_str(&toml).expect("providers");
            config.decomposer.provider = "scripted".into();
            config.server.shutdown_grace_s = 0;
        }
    };
    let first = spawn_app_at(&dir.path().join("data"), database_url.clone(), settings(provider.url.clone())).await;
    let asked = first.submit(&json!({"request": "How many live there?", "config": {"intent": "auto"}})).await;
    let slow = first
        .submit(&json!({"request": "slow", "plan": {"name": "root", "children": [
        {"name": "quick", "run": {"type": "noop"}},
        {"name": "nap", "depends_on": ["quick"], "run": {"type": "sleep", "ms": 1500}}]}}))
        .await;
    first.wait_for(&asked, |job| job["status"] == "paused").await;
    first.wait_for(&slow, |job| job["tree"]["children"][1]["status"] == "running").await;
    first.stop().await;

    let second = spawn_app_at(&dir.path().join("data"), database_url, settings(provider.url.clone())).await;
    let job = second.wait_for_end(&slow).await;
    assert_eq!(job["status"], "succeeded", "the interrupted sleep ran again: {job}");
    assert_eq!(second.job(&asked).await["status"], "paused", "still waiting for its answer");
    let answered = second.post(&format!("/recursion/job/{asked}/answer"), &json!({"answer": "Lyon"})).await;
    assert_eq!(answered.status(), 202);
    let job = second.wait_for_end(&asked).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    second.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_agent_grows_a_sub_team_repairs_its_answer_and_hears_its_children() {
    let children =
        json!({"children": [{"name": "helper", "title": "Help", "run": {"type": "echo", "value": "helped"}}]});
    let provider = ScriptedLlm::start(vec![
        Reply::ok(crate::llm_server::openai_tool_call("call_1", "spawn_children", &children)),
        ok("not json"),
        ok("{\"summary\": \"helped and done\"}"),
    ])
    .await;
    let app = app(&provider, false).await;
    let run = json!({"type": "llm", "provider": "scripted", "tools": ["spawn_children"],
                     "output_schema": {"type": "object", "required": ["summary"]}});
    let id = app.submit(&json!({"request": "lead a team", "plan": {"name": "lead", "run": run}})).await;
    let job = app.wait_for_end(&id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["tree"]["result"]["output"]["summary"], "helped and done");
    assert_eq!(job["tree"]["children"][0]["result"], "helped");
    let received = provider.received();
    assert_eq!(received.len(), 3, "a spawn, an answer sent back, its correction");
    assert!(received[1].body.to_string().contains("helped"), "the children's results came back as the tool's");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_breakdowns_agents_are_filled_from_the_registry() {
    let routes = vec![
        Route::new(&["You are the architect"], vec![ok(&plan().to_string())]),
        Route::new(&["You break a software project down"], vec![ok(&breakdown().to_string())]),
    ];
    let provider = ScriptedLlm::start_routed(routes, Vec::new()).await;
    let app = app(&provider, false).await;
    let coder = json!({"name": "coder", "capabilities": ["code"], "concurrency": 4,
        "run": {"type": "command", "argv": ["sh", "-c", "printf '%s|%s' \"$CADRE_AGENT\" \"$CADRE_TASK_PROMPT\""]}});
    crate::workforce::register(&app, coder).await;
    let decompose = json!({"type": "llm", "provider": "scripted", "delegate": {"require": ["code"]}});
    let refused = json!({"type": "llm", "provider": "scripted", "delegate": {"require": ["design"]}});
    let response =
        app.post("/recursion/job", &json!({"request": "r", "plan": {"name": "app", "decompose": refused}})).await;
    assert_eq!(response.status(), 422, "no registered agent could take the breakdown's work");
    let id = app
        .submit(&json!({"request": "Build a Twitter-like app", "plan": {"name": "app", "decompose": decompose}}))
        .await;
    let job = app.wait_for_end(&id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let leaves: Vec<&Value> =
        crate::helpers::flatten(&job["tree"]).into_iter().filter(|n| n["kind"] == "worker").collect();
    assert_eq!(leaves.len(), 2, "one agent per domain: {job}");
    for leaf in leaves {
        assert_eq!(leaf["delegation"]["agent"], "coder", "{leaf}");
        let stdout = leaf["result"]["stdout"].as_str().expect("stdout");
        assert!(stdout.starts_with("coder|") && stdout.contains("TASK 1/1"), "the bundle reached the agent: {stdout}");
    }
    assert_eq!(app.get_json("/agents/coder").await["performance"]["all"]["succeeded"], 2);
}
