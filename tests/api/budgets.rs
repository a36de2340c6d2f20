//! Budgets over HTTP: usage a `command` worker reports is charged to its envelope like a
//! model call (bubbling to the job's), each warning level is emitted once, and a spawn whose
//! children ask for more than their parent can have is refused with 422.

use serde_json::{json, Value};

use crate::helpers::{node, replayed, spawn_app, spawn_app_with};
use crate::llm_server::{openai_text, Reply, ScriptedLlm};

/// A worker that reports three uses of a model with its own token: 850, 100 and 100 tokens.
const REPORTER: &str = r#"
report() {
  curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $CADRE_TOKEN" \
    -H 'Content-Type: application/json' -d "{\"model\":\"m\",\"input_tokens\":$1,\"output_tokens\":0,\"cost\":$2}" \
    "$CADRE_URL/api/v1/recursion/job/$CADRE_JOB_ID/nodes/$CADRE_NODE_ID/usage"
}
echo "$(report 800 0.008) $(report 50 0.0005) $(report 100 0.001) $(report 100 0.001)"
"#;

#[tokio::test]
async fn reported_usage_is_charged_to_the_envelope_and_each_warning_level_is_emitted_once() {
    let app = spawn_app().await;
    let job = json!({"request": "report", "config": {"budget": {"tokens": 100_000, "cost": 1.0}},
        "plan": {"name": "team", "children": [
            {"name": "agent", "budget": {"tokens": 1000}, "run": {"type": "command", "argv": ["sh", "-c", REPORTER]}}]}});
    let id = app.submit(&job).await;
    let job = app.wait_for_end(&id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let agent = node(&job["tree"], "agent");
    assert_eq!(agent["result"]["stdout"], "201 201 201 201\n", "{agent}");
    let books = &agent["budget"];
    assert_eq!(books["spent"]["tokens"], 1050, "{books}");
    assert_eq!(books["allocated"]["tokens"], 1050, "the overrun was topped up from the job's: {books}");
    assert_eq!((&books["returned"]["tokens"], &books["reserved"]["tokens"]), (&json!(0), &json!(0)), "{books}");
    assert_eq!(books["on_exhausted"], "ask_parent");
    // The job's envelope counts what its subtree spent, once.
    let root = &job["budget"];
    assert_eq!((root["spent"]["tokens"].as_i64(), root["allocated"]["tokens"].as_i64()), (Some(1050), Some(100_000)));
    assert!((root["spent"]["cost"].as_f64().expect("cost") - 0.0105).abs() < 1e-9, "{root}");
    assert_eq!(job["tree"]["budget"], *root, "the root's envelope is the job's");
    let warnings = replayed(&app, &id, "budget_warning").await;
    let levels: Vec<(&str, i64)> =
        warnings.iter().map(|w| (w["name"].as_str().expect("name"), w["percent"].as_i64().expect("%"))).collect();
    assert_eq!(levels, [("agent", 80), ("agent", 90), ("agent", 100)], "{warnings:?}");
    assert_eq!(warnings[0]["allocated"]["tokens"], 1000);
    assert_eq!(warnings[0]["spent"]["tokens"], 800);
    let hierarchy = app.get_json(&format!("/recursion/hierarchy?job_id={id}")).await;
    let used = &hierarchy["children"][0]["children"][0]["usage"]["budget_used"];
    assert_eq!(used.as_f64(), Some(1.0), "{hierarchy}");
    let metrics = reqwest::get(app.url("/metrics")).await.expect("metrics").text().await.expect("text");
    assert!(metrics.contains("cadre_budget_warnings_total 3"), "{metrics}");
    the_levels_past_90_raised_alerts(&app, &id, &metrics).await;
}

/// The `budget` alert rule (at 90 % by default) raised one alert per level from 90 % up.
async fn the_levels_past_90_raised_alerts(app: &crate::helpers::TestApp, id: &str, metrics: &str) {
    let alerts = app.get_json(&format!("/alerts?job_id={id}&rule=budget")).await;
    let mut messages: Vec<&str> =
        alerts["alerts"].as_array().expect("alerts").iter().filter_map(|a| a["message"].as_str()).collect();
    messages.sort_unstable();
    assert_eq!(
        messages,
        [
            "'agent' has spent 100 % of its budget (the alert is at 90 %)",
            "'agent' has spent 90 % of its budget (the alert is at 90 %)"
        ]
    );
    assert!(metrics.contains("cadre_alerts_total{rule=\"budget\"} 2"), "{metrics}");
}

#[tokio::test]
async fn a_spawn_asking_for_more_than_its_parent_can_have_is_refused() {
    let app = spawn_app().await;
    let job = json!({"request": "grow", "config": {"budget": {"cost": 1.0}},
        "plan": {"name": "team", "budget": {"cost": 0.5}, "on_budget_exhausted": "fail",
                 "children": [{"name": "nap", "run": {"type": "sleep", "ms": 60_000}}]}});
    let id = app.submit(&job).await;
    let job = app.wait_for(&id, |job| node(&job["tree"], "nap")["status"] == "running").await;
    let team = job["tree"]["id"].as_str().expect("id");
    let children = |cost: f64, tag: &str| {
        json!({"children": [{"name": format!("big{tag}"), "budget": {"cost": cost}, "run": {"type": "noop"}},
                            {"name": format!("more{tag}"), "budget": {"cost": cost}, "run": {"type": "noop"}}]})
    };
    let refused = app.post(&format!("/recursion/job/{id}/nodes/{team}/children"), &children(0.3, "3")).await;
    assert_eq!(refused.status(), 422);
    let problem: Value = refused.json().await.expect("problem");
    let text = problem.to_string();
    assert!(text.contains("budget_exceeded: the children of node 'team' ask for cost 0.6"), "{text}");
    assert!(text.contains("the envelope of 'team' can give them cost 0.5"), "{text}");
    let job_now = app.job(&id).await;
    assert_eq!(job_now["tree"]["children"].as_array().map(Vec::len), Some(1), "nothing was created");
    let fits = app.post(&format!("/recursion/job/{id}/nodes/{team}/children"), &children(0.2, "2")).await;
    assert_eq!(fits.status(), 201);
    let job = app.wait_for(&id, |job| node(&job["tree"], "big2")["status"] == "succeeded").await;
    let big = &node(&job["tree"], "big2")["budget"];
    assert_eq!((big["allocated"]["cost"].as_f64(), big["returned"]["cost"].as_f64()), (Some(0.2), Some(0.2)), "{big}");
    let team_books = &job["tree"]["budget"];
    assert_eq!(team_books["allocated"]["cost"].as_f64(), Some(0.5), "{team_books}");
    app.delete(&format!("/recursion/job/{id}")).await;
}

#[tokio::test]
async fn a_call_or_an_envelope_that_cannot_be_covered_is_refused_in_process() {
    let provider = ScriptedLlm::start(vec![Reply::ok(openai_text("fits", 10, 2))]).await;
    let toml = format!(
        "[providers.scripted]\nkind = \"openai\"\nbase_url = \"{}\"\nmodel = \"m\"\napi_key_env = \"\"\nmax_retries = 0",
        provider.url
    );
    let llm: cadre::llm::LlmConfig = toml::from_str(&toml).expect("providers");
    let app = spawn_app_with(move |config| config.llm = llm).await;
    let run = json!({"type": "llm", "provider": "scripted", "max_tokens": 8});
    let job = json!({"request": "refusals", "config": {"budget": {"tokens": 5_000}},
        "plan": {"name": "team", "on_child_failure": "continue", "children": [
            {"name": "dear", "budget": {"tokens": 100}, "on_budget_exhausted": "fail", "run": run},
            {"name": "cheap", "budget": {"tokens": 4_000}, "run": run},
            {"name": "half", "budget": {"share": 0.5}, "on_budget_exhausted": "fail", "depends_on": ["cheap"], "children": [
                {"name": "too-big", "budget": {"tokens": 4_500}, "on_budget_exhausted": "fail", "run": {"type": "noop"}}]}]}});
    let id = app.submit(&job).await;
    let job = app.wait_for_end(&id).await;
    let dear = node(&job["tree"], "dear");
    assert!(dear["error"].as_str().is_some_and(|e| e.starts_with("budget_exceeded: a call of node 'dear'")), "{dear}");
    assert_eq!(node(&job["tree"], "cheap")["status"], "succeeded", "{job}");
    assert_eq!(provider.received().len(), 1, "only the call that fitted was sent");
    let too_big = node(&job["tree"], "too-big");
    let error = too_big["error"].as_str().expect("an error");
    assert!(error.starts_with("budget_exceeded: node 'too-big' asks for unlimited cost and 4500 tokens"), "{error}");
    assert_eq!(too_big["attempts"], 0, "refused at its start, before any attempt");
    let metrics = reqwest::get(app.url("/metrics")).await.expect("metrics").text().await.expect("text");
    assert!(
        metrics.contains("cadre_budget_refusals_total 2") && metrics.contains("cadre_budget_reservations_total 1"),
        "{metrics}"
    );
}
