//! Delegation by capability (issue 16) over HTTP, on real command agents: requirements and
//! preference weights, 20 tasks spread over three equal agents, an agent's concurrency held,
//! stickiness, `scope: subordinates` keeping to a manager's line, waiting for a busy agent and
//! timing out, a paused agent passed over, and the per-agent figures after a run.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{flatten, max_overlap, node, replayed, spawn_app, TestApp};
use crate::workforce::{command, register};

fn team(children: Value) -> Value {
    json!({"request": "work for the workforce", "plan": {"name": "team", "children": children}})
}

/// Who each node was given, by node name.
fn given(job: &Value) -> BTreeMap<String, String> {
    flatten(&job["tree"])
        .into_iter()
        .filter_map(|n| Some((n["name"].as_str()?.to_string(), n["delegation"]["agent"].as_str()?.to_string())))
        .collect()
}

async fn ended(app: &TestApp, plan: Value) -> Value {
    let id = app.submit(&plan).await;
    app.wait_for_end(&id).await
}

#[tokio::test]
async fn requirements_preferences_and_a_paused_agent() {
    let app = spawn_app().await;
    for (name, capabilities) in [
        ("gopher", json!(["lang=go"])),
        ("junior", json!(["lang=rust", "level=1"])),
        ("senior", json!(["lang=rust", "level=3"])),
        ("star", json!(["lang=rust", "level=9"])),
    ] {
        register(&app, json!({"name": name, "capabilities": capabilities, "run": command(&["true"])})).await;
    }
    let (status, _) = crate::workforce::patch_agent(&app, "star", json!({"status": "paused"})).await;
    assert_eq!(status, StatusCode::OK);
    let prefer = json!([{"label": "level", "op": ">=", "value": 3, "weight": 50}]);
    let job = ended(
        &app,
        team(json!([
            {"name": "go-task", "delegate": {"require": ["lang=go"]}},
            {"name": "rust-task", "delegate": {"require": ["lang=rust"], "prefer": prefer}},
        ])),
    )
    .await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let given = given(&job);
    assert_eq!(
        (given["go-task"].as_str(), given["rust-task"].as_str()),
        ("gopher", "senior"),
        "the paused star is passed over"
    );
    let delegation = &node(&job["tree"], "rust-task")["delegation"];
    assert_eq!(delegation["state"], "assigned");
    assert!(delegation["reason"].as_str().unwrap().contains("50 preference points"), "{delegation}");
    let events = replayed(&app, job["job_id"].as_str().unwrap(), "delegation").await;
    assert!(
        events.iter().any(|e| e["agent"] == "senior" && e["outcome"] == "assigned" && e["name"] == "rust-task"),
        "{events:?}"
    );

    let response =
        app.post("/recursion/job", &team(json!([{"name": "t", "delegate": {"require": ["lang=cobol"]}}]))).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "no agent could ever take it");
    let response = app.post("/recursion/job", &team(json!([{"name": "t", "agent": "nobody"}]))).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["errors"][0]["path"], "plan.children[0].agent", "{problem}");
}

#[tokio::test]
async fn twenty_tasks_spread_over_three_equal_agents() {
    let app = spawn_app().await;
    for name in ["a", "b", "c"] {
        register(&app, json!({"name": name, "capabilities": ["pool"], "concurrency": 10, "run": command(&["true"])}))
            .await;
    }
    let tasks: Vec<Value> =
        (0..20).map(|i| json!({"name": format!("t{i}"), "delegate": {"require": ["pool"]}})).collect();
    let job = ended(&app, team(json!(tasks))).await;
    assert_eq!(job["status"], "succeeded");
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for agent in given(&job).into_values() {
        *counts.entry(agent).or_default() += 1;
    }
    let (most, least) = (counts.values().max().unwrap(), counts.values().min().unwrap());
    assert!(counts.len() == 3 && most - least <= 1, "within one of each other: {counts:?}");
}

#[tokio::test]
async fn an_agents_concurrency_is_held_and_waiting_nodes_get_it_in_turn() {
    let app = spawn_app().await;
    register(&app, json!({"name": "pair", "capabilities": ["x"], "concurrency": 2, "run": command(&["sleep", "0.3"])}))
        .await;
    let tasks: Vec<Value> = (0..6).map(|i| json!({"name": format!("t{i}"), "delegate": {"require": ["x"]}})).collect();
    let job = ended(&app, team(json!(tasks))).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let workers: Vec<&Value> = flatten(&job["tree"]).into_iter().filter(|n| n["kind"] == "worker").collect();
    assert_eq!(max_overlap(&workers), 2, "never more than the agent's concurrency at once");
    let events = replayed(&app, job["job_id"].as_str().unwrap(), "delegation").await;
    let waited = events.iter().filter(|e| e["outcome"] == "waiting").count();
    assert_eq!(waited, 4, "four waited for a place: {events:?}");
    let agent = app.get_json("/agents/pair").await;
    let all = &agent["performance"]["all"];
    assert_eq!(
        (&all["started"], &all["succeeded"], &all["failed"], &all["success_rate"]),
        (&json!(6), &json!(6), &json!(0), &json!(1.0))
    );
    assert!(all["p50_ms"].as_i64().unwrap() >= 250, "{all}");
    assert_eq!(agent["performance"]["day"]["started"], 6);
    assert_eq!(agent["recent_tasks"].as_array().unwrap().len(), 6);
    assert_eq!(agent["load"]["running"], 0, "every place given back");
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("cadre_agent_tasks_total{agent=\"pair\",outcome=\"succeeded\"} 6"), "{metrics}");
    assert!(metrics.contains("cadre_agent_running{agent=\"pair\"} 0"));
}

#[tokio::test]
async fn sticky_delegations_go_back_to_the_same_agent() {
    let app = spawn_app().await;
    for name in ["one", "two"] {
        register(&app, json!({"name": name, "capabilities": ["sql"], "run": command(&["true"])})).await;
    }
    let chain = |sticky: bool| {
        team(json!([
            {"name": "s1", "delegate": {"require": ["sql"], "sticky": sticky}},
            {"name": "s2", "depends_on": ["s1"], "delegate": {"require": ["sql"], "sticky": sticky}},
            {"name": "s3", "depends_on": ["s2"], "delegate": {"require": ["sql"], "sticky": sticky}},
        ]))
    };
    let loose = given(&ended(&app, chain(false)).await);
    assert_ne!(loose["s1"], loose["s2"], "without stickiness equal agents take turns: {loose:?}");
    let sticky = given(&ended(&app, chain(true)).await);
    assert!(sticky["s1"] == sticky["s2"] && sticky["s2"] == sticky["s3"], "{sticky:?}");
}

#[tokio::test]
async fn subordinates_only_from_the_managers_line() {
    let app = spawn_app().await;
    register(&app, json!({"name": "lead", "run": command(&["true"])})).await;
    register(&app, json!({"name": "dev", "reports_to": "lead", "capabilities": ["sql"], "run": command(&["true"])}))
        .await;
    register(
        &app,
        json!({"name": "intern", "reports_to": "dev", "capabilities": ["sql", "level=1"], "run": command(&["true"])}),
    )
    .await;
    register(&app, json!({"name": "outsider", "capabilities": ["sql", "cobol", "level=9"], "run": command(&["true"])}))
        .await;
    let scoped = |require: Value, timeout: u64| {
        json!({"request": "scoped", "plan": {"name": "squad", "agent": "lead", "children": [
            {"name": "t", "delegate": {"require": require, "scope": "subordinates", "timeout_s": timeout,
             "prefer": [{"label": "level", "op": ">=", "value": 5, "weight": 100}]}}]}})
    };
    let job = ended(&app, scoped(json!(["sql"]), 30)).await;
    let given = given(&job);
    assert_eq!(
        (given["squad"].as_str(), given["t"].as_str()),
        ("lead", "dev"),
        "the outsider scores higher but is not in lead's line"
    );

    let job = ended(&app, scoped(json!(["cobol"]), 1)).await;
    assert_eq!(job["status"], "failed");
    let t = node(&job["tree"], "t");
    assert_eq!((&t["status"], &t["delegation"]["state"]), (&json!("failed"), &json!("timed_out")));
    assert!(t["error"].as_str().unwrap().contains("no agent matches [cobol]"), "{t}");

    let unmanaged = team(json!([{"name": "t", "delegate": {"require": ["sql"], "scope": "subordinates"}}]));
    let response = app.post("/recursion/job", &unmanaged).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "no staffed ancestor to be subordinate to");
}

#[tokio::test]
async fn a_node_waits_for_its_busy_agent_and_another_times_out() {
    let app = spawn_app().await;
    register(
        &app,
        json!({"name": "solo", "concurrency": 1, "capabilities": ["solo"], "run": command(&["sleep", "2"])}),
    )
    .await;
    let mut plan = team(json!([
        {"name": "first", "agent": "solo"},
        {"name": "impatient", "delegate": {"require": ["solo"], "timeout_s": 1}},
        {"name": "patient", "agent": "solo"},
    ]));
    plan["plan"]["on_child_failure"] = json!("continue");
    let job = ended(&app, plan).await;
    let (first, impatient, patient) =
        (node(&job["tree"], "first"), node(&job["tree"], "impatient"), node(&job["tree"], "patient"));
    assert_eq!((&first["status"], &patient["status"]), (&json!("succeeded"), &json!("succeeded")), "{job}");
    assert_eq!((&impatient["status"], &impatient["delegation"]["state"]), (&json!("failed"), &json!("timed_out")));
    assert!(impatient["error"].as_str().unwrap().contains("busy"), "{impatient}");
    assert!(
        patient["started_at"].as_str() >= first["finished_at"].as_str(),
        "the patient one started once the first ended"
    );
}

#[tokio::test]
async fn a_restarted_server_gives_a_started_node_back_its_agent() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = crate::common::fresh_database_url().await;
    let app = crate::helpers::spawn_app_at(dir.path(), url.clone(), |c| c.server.shutdown_grace_s = 0).await;
    register(&app, json!({"name": "solo", "concurrency": 1, "run": command(&["sleep", "1"])})).await;
    register(&app, json!({"name": "other", "concurrency": 1, "run": command(&["sleep", "1"])})).await;
    let id = app.submit(&team(json!([{"name": "long", "agent": "solo"}, {"name": "next", "agent": "solo"}]))).await;
    app.wait_for(&id, |job| node(&job["tree"], "long")["status"] == "running").await;
    app.stop().await;

    let app = crate::helpers::spawn_app_at(dir.path(), url, |_| {}).await;
    let job = app.wait_for_end(&id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let (long, next) = (node(&job["tree"], "long"), node(&job["tree"], "next"));
    assert_eq!((&long["delegation"]["agent"], &long["attempts"]), (&json!("solo"), &json!(2)), "{long}");
    assert!(
        next["started_at"].as_str() >= long["finished_at"].as_str(),
        "solo's one place was held across the restart"
    );
    assert_eq!(app.get_json("/agents/solo").await["load"]["running"], 0);
    app.stop().await;
}

#[tokio::test]
async fn an_agents_budget_per_task_is_the_envelope_of_a_node_that_sets_none() {
    let app = spawn_app().await;
    let agent =
        json!({"name": "thrifty", "capabilities": ["x"], "budget": {"tokens": 1000}, "run": command(&["true"])});
    register(&app, agent).await;
    let job = ended(
        &app,
        team(json!([
            {"name": "own", "delegate": {"require": ["x"]}},
            {"name": "set", "delegate": {"require": ["x"]}, "budget": {"tokens": 50}},
        ])),
    )
    .await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(node(&job["tree"], "own")["budget"]["allocated"]["tokens"], 1000, "the agent's envelope");
    assert_eq!(node(&job["tree"], "set")["budget"]["allocated"]["tokens"], 50, "the node's own wins");
}
