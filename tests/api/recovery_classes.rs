//! Failures told apart and recovered from (issue 15, seed 004's matrix), produced for real: a
//! command killed by its memory limit re-run with twice the memory, a timeout re-run with
//! more time, a missing program failed at once, a 503 retried, and an escalation inherited
//! from the parent held for a person.

use serde_json::{json, Value};

use std::time::Duration;

use crate::helpers::{node, replayed, spawn_app, spawn_app_with};
use crate::llm_server::{openai_text, Reply, ScriptedLlm};

fn command(script: &str) -> Value {
    json!({"type": "command", "argv": ["sh", "-c", script]})
}

#[tokio::test]
async fn a_command_killed_for_memory_is_rerun_with_twice_the_memory() {
    let app = spawn_app().await;
    let hungry = json!({"type": "command", "argv": ["python3", "-c", "b = bytearray(80 * 1024 * 1024); print('fed')"]});
    let job = json!({"request": "memory", "plan": {"name": "hungry", "resources": {"memory_mb": 64},
                     "retry": {"max_attempts": 2, "initial_backoff_ms": 10}, "run": hungry}});
    let id = app.submit(&job).await;
    let job = app.wait_for_end(&id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!((&job["tree"]["attempts"], &job["tree"]["result"]["stdout"]), (&json!(2), &json!("fed\n")));
    let retried = replayed(&app, &id, "node_retrying").await;
    let recovery = &retried[0]["recovery"];
    assert_eq!(
        (&recovery["class"], &recovery["action"], &recovery["level"]),
        (&json!("memory"), &json!("reallocate"), &json!(2))
    );
    assert_eq!(recovery["resources"]["memory_mb"], 128, "{recovery}");
}

#[tokio::test]
async fn a_timeout_is_rerun_with_more_time_and_a_missing_program_fails_at_once() {
    let app = spawn_app().await;
    let slow = json!({"type": "command", "argv": ["sleep", "1.5"], "timeout_s": 1});
    let job = json!({"request": "time", "plan": {"name": "team", "on_child_failure": "continue",
        "retry": {"max_attempts": 3, "initial_backoff_ms": 10}, "children": [
            {"name": "slow", "run": slow},
            {"name": "missing", "run": {"type": "command", "argv": ["/nonexistent/program"]}}]}});
    let id = app.submit(&job).await;
    let job = app.wait_for_end(&id).await;
    let slow = node(&job["tree"], "slow");
    assert_eq!((&slow["status"], &slow["attempts"]), (&json!("succeeded"), &json!(2)), "{slow}");
    let retried = replayed(&app, &id, "node_retrying").await;
    let recovery = &retried[0]["recovery"];
    assert_eq!((&recovery["class"], &recovery["action"]), (&json!("timeout"), &json!("reallocate")), "{recovery}");
    assert_eq!(recovery["resources"]["timeout_s"], 2, "1 s × 1.5, rounded up");
    let missing = node(&job["tree"], "missing");
    assert_eq!(
        (&missing["status"], &missing["attempts"]),
        (&json!("failed"), &json!(1)),
        "trying again changes nothing"
    );
    let recovery = &missing["result"]["recovery"];
    assert_eq!(
        (&recovery["class"], &recovery["action"], &recovery["level"]),
        (&json!("launch"), &json!("fail"), &json!(0))
    );
    let report = app.get(&format!("/recursion/job/{id}/report")).await.text().await.expect("report");
    assert!(report.contains("- failure: launch, recovery: fail, level 0"), "{report}");
}

#[tokio::test]
async fn a_503_is_retried_and_an_inherited_escalation_waits_for_a_person() {
    let service = ScriptedLlm::start(vec![Reply::status(503, "busy"), Reply::ok(openai_text("up", 1, 1))]).await;
    let app = spawn_app().await;
    let call = json!({"type": "http", "url": format!("{}/chat/completions", service.url), "method": "POST"});
    let job = json!({"request": "network", "plan": {"name": "team", "on_child_failure": "continue",
        "recovery": {"process": "escalate"}, "retry": {"max_attempts": 3, "initial_backoff_ms": 10}, "children": [
            {"name": "call", "run": call},
            {"name": "broken", "run": command("echo 'assertion failed' >&2; exit 3")}]}});
    let id = app.submit(&job).await;
    let job = app.wait_for(&id, |job| node(&job["tree"], "broken")["status"] == "awaiting_approval").await;
    let recovery = &node(&job["tree"], "broken")["result"]["recovery"];
    assert_eq!(
        (&recovery["class"], &recovery["action"], &recovery["level"]),
        (&json!("process"), &json!("escalate"), &json!(3)),
        "{recovery}"
    );
    let requests = app.get_json(&format!("/approvals?job_id={id}&mine=false")).await;
    let request = &requests["approvals"][0];
    assert_eq!((&request["kind"], &request["context"]["class"]), (&json!("escalation"), &json!("process")));
    let decision = json!({"decision": "fail", "comment": "a real bug"});
    let decided = app.post(&format!("/approvals/{}/decision", request["id"].as_str().expect("id")), &decision).await;
    assert_eq!(decided.status(), 200, "the job's owners (admin keys) decide an escalation no node's approvers took");
    let job = app.wait_for_end(&id).await;
    let call = node(&job["tree"], "call");
    assert_eq!((&call["status"], &call["attempts"]), (&json!("succeeded"), &json!(2)), "{call}");
    assert_eq!(service.received().len(), 2);
    let broken = node(&job["tree"], "broken");
    assert_eq!((&broken["status"], &broken["attempts"]), (&json!("failed"), &json!(1)), "{broken}");
    let error = broken["error"].as_str().expect("error");
    assert!(error.ends_with("(escalated; 'bootstrap' (level 1) let the failure stand)"), "{error}");
    let retried = replayed(&app, &id, "node_retrying").await;
    assert_eq!(retried.len(), 1);
    assert_eq!((&retried[0]["name"], &retried[0]["recovery"]["class"]), (&json!("call"), &json!("network")));
}

#[tokio::test]
async fn a_model_that_times_out_is_reallocated_to_its_fallback_provider() {
    let provider =
        ScriptedLlm::start(vec![Reply::Hang(Duration::from_millis(1500)), Reply::ok(openai_text("on time", 3, 1))])
            .await;
    let toml = format!(
        "[providers.primary]\nkind = \"openai\"\nbase_url = \"{0}\"\nmodel = \"slow\"\napi_key_env = \"\"\nmax_retries = 0\ntimeout_s = 1\n\
         [providers.backup]\nkind = \"openai\"\nbase_url = \"{0}\"\nmodel = \"quick\"\napi_key_env = \"\"\nmax_retries = 0",
        provider.url
    );
    let llm: cadre::llm::LlmConfig = toml::from_str(&toml).expect("providers");
    let app = spawn_app_with(move |config| config.llm = llm).await;
    let run = json!({"type": "llm", "provider": "primary", "fallback": {"provider": "backup"}});
    let job = json!({"request": "answer", "plan": {"name": "solo", "retry": {"max_attempts": 2, "initial_backoff_ms": 10}, "run": run}});
    let id = app.submit(&job).await;
    let job = app.wait_for_end(&id).await;
    assert_eq!((&job["status"], &job["tree"]["attempts"]), (&json!("succeeded"), &json!(2)), "{job}");
    let retried = replayed(&app, &id, "node_retrying").await;
    let recovery = &retried[0]["recovery"];
    assert_eq!((&recovery["class"], &recovery["action"]), (&json!("timeout"), &json!("reallocate")), "{recovery}");
    assert_eq!(recovery["fallback"]["provider"], "backup");
    let node_id = job["tree"]["id"].as_str().expect("id");
    let calls = app.get_json(&format!("/recursion/job/{id}/nodes/{node_id}/llm-calls")).await;
    let used: Vec<(i64, &str, &str)> = calls["calls"]
        .as_array()
        .expect("calls")
        .iter()
        .map(|c| {
            (
                c["attempt"].as_i64().expect("attempt"),
                c["provider"].as_str().expect("p"),
                c["model"].as_str().expect("m"),
            )
        })
        .collect();
    assert_eq!(used, [(1, "primary", "slow"), (2, "backup", "scripted-gpt")], "the second attempt called the fallback");
    let unknown = json!({"request": "x", "plan": {"name": "solo", "run": {"type": "llm", "provider": "primary", "fallback": {"provider": "nowhere"}}}});
    let refused: Value = app.post("/recursion/validate", &unknown).await.json().await.expect("json");
    assert_eq!(refused["errors"][0]["path"], "plan.run.fallback.provider", "{refused}");
}
