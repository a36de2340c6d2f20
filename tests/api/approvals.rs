//! Approvals (issue 15), end to end over HTTP on a real server: a node that waits for N of
//! its approvers before it starts while the job shows `paused`, a result held until it is
//! accepted, the refusals (not an approver, one's own job, a second vote, bad input, a
//! decided request), rejection failing the node, a timeout escalating the request up the
//! tree, a timeout's default, cancellation withdrawing it, and a waiting request picked up
//! by the next server.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{node, replayed, spawn_app, spawn_app_at, TestApp, KEY};

/// Creates a key named `name` in `groups` with the `read` scope; returns its secret.
async fn key(app: &TestApp, name: &str, groups: &[&str]) -> String {
    let response = app.post("/keys", &json!({"name": name, "scopes": ["read"], "groups": groups})).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["groups"], json!(groups));
    body["key"].as_str().expect("secret").to_string()
}

async fn pending(app: &TestApp, secret: &str) -> Vec<Value> {
    let response =
        app.client.get(app.api("/approvals?state=pending")).bearer_auth(secret).send().await.expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    body["approvals"].as_array().expect("a list").clone()
}

async fn decide(app: &TestApp, secret: &str, id: &str, body: Value) -> (StatusCode, Value) {
    let url = app.api(&format!("/approvals/{id}/decision"));
    let response = app.client.post(url).bearer_auth(secret).json(&body).send().await.expect("request");
    (response.status(), response.json().await.expect("json"))
}

/// Waits until the named node awaits approval; returns the job.
async fn awaiting(app: &TestApp, id: &str, name: &str) -> Value {
    app.wait_for(id, |job| node(&job["tree"], name)["status"] == "awaiting_approval").await
}

fn echo(value: Value) -> Value {
    json!({"type": "echo", "value": value})
}

#[tokio::test]
async fn a_node_waits_for_two_of_its_approvers_and_its_dependents_wait_with_it() {
    let app = spawn_app().await;
    let (alice, bob) = (key(&app, "alice", &["release"]).await, key(&app, "bob", &["release", "ops"]).await);
    let approval =
        json!({"before": true, "prompt": "Deploy 1.4 to production?", "approvers": ["group:release"], "required": 2});
    let job = json!({"request": "release", "plan": {"name": "release", "children": [
        {"name": "build", "run": echo(json!("built"))},
        {"name": "deploy", "depends_on": ["build"], "approval": approval, "run": echo(json!("deployed"))},
        {"name": "notify", "depends_on": ["deploy"], "run": echo(json!("told"))}]}});
    let id = app.submit(&job).await;
    let job = awaiting(&app, &id, "deploy").await;
    assert_eq!(node(&job["tree"], "notify")["status"], "pending", "its dependent waits");
    let job = app.wait_for(&id, |job| job["status"] == "paused").await;
    assert_eq!(node(&job["tree"], "build")["status"], "succeeded");

    assert!(pending(&app, KEY).await.is_empty(), "the admin key is not in group release");
    let inbox = pending(&app, &alice).await;
    assert_eq!(inbox.len(), 1);
    let request = &inbox[0];
    assert_eq!(
        (&request["node_name"], &request["kind"], &request["prompt"]),
        (&json!("deploy"), &json!("before"), &json!("Deploy 1.4 to production?"))
    );
    assert_eq!(
        (&request["level"], &request["requested_by"], &request["may_decide"]),
        (&json!(1), &json!("bootstrap"), &json!(true))
    );
    assert_eq!(request["levels"][0]["approvers"], json!(["group:release"]));
    assert_eq!(request["levels"][1]["owner"], "job owners", "the job's owners are the last level");
    let approval_id = request["id"].as_str().expect("id").to_string();

    let (status, after_one) =
        decide(&app, &alice, &approval_id, json!({"decision": "approve", "comment": "tests green"})).await;
    assert_eq!(status, StatusCode::OK, "{after_one}");
    assert_eq!((&after_one["state"], &after_one["approvals_at_level"]), (&json!("pending"), &json!(1)), "one of two");
    let (status, again) = decide(&app, &alice, &approval_id, json!({"decision": "approve"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "one vote per person per level: {again}");
    assert_eq!(app.job(&id).await["status"], "paused");

    let (status, decided) = decide(&app, &bob, &approval_id, json!({"decision": "approve"})).await;
    assert_eq!((status, &decided["state"]), (StatusCode::OK, &json!("approved")), "{decided}");
    let by: Vec<&Value> = decided["decisions"].as_array().expect("decisions").iter().map(|d| &d["by"]).collect();
    assert_eq!(by, [&json!("alice"), &json!("bob")]);
    assert_eq!(decided["decisions"][0]["comment"], "tests green");
    assert_eq!(decided["decisions"][0]["source"], "127.0.0.1", "from where");

    let job = app.wait_for_end(&id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(node(&job["tree"], "notify")["status"], "succeeded");
    the_record_shows_every_decision(&app, &id).await;
}

/// The events of a request and its two approvals, and the audit log's three decisions.
async fn the_record_shows_every_decision(app: &TestApp, id: &str) {
    let requested = replayed(app, id, "approval_requested").await;
    assert_eq!((requested.len(), &requested[0]["name"], &requested[0]["required"]), (1, &json!("deploy"), &json!(2)));
    let decisions = replayed(app, id, "approval_decided").await;
    let states: Vec<&Value> = decisions.iter().map(|d| &d["state"]).collect();
    assert_eq!(states, [&json!("pending"), &json!("approved")]);
    let audit = app.get_json("/audit?action=approval.decide").await;
    let outcomes: Vec<&Value> = audit["entries"].as_array().expect("entries").iter().map(|e| &e["outcome"]).collect();
    assert_eq!(outcomes.len(), 3, "every decision is audited, the refused one too: {audit}");
    the_metrics_count_it(app).await;
}

async fn the_metrics_count_it(app: &TestApp) {
    let metrics = app.client.get(app.url("/metrics")).send().await.expect("metrics").text().await.expect("text");
    for line in [
        "cadre_approvals_waiting 0",
        "cadre_approvals_requested_total 1",
        "cadre_approvals_decided_total{state=\"approved\"} 1",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in /metrics");
    }
}

#[tokio::test]
async fn refusals_change_nothing_and_a_rejection_fails_the_node() {
    let app = spawn_app().await;
    let carol = key(&app, "carol", &["qa"]).await;
    let schema = json!({"type": "object", "required": ["replicas"], "properties": {"replicas": {"type": "integer", "minimum": 1}}});
    let job = json!({"request": "two gates", "plan": {"name": "gates", "on_child_failure": "continue", "children": [
        {"name": "mine", "approval": {"before": true, "approvers": ["scope:admin", "carol"]}, "run": echo(json!(1))},
        {"name": "scaled", "approval": {"before": true, "approvers": ["carol"], "input_schema": schema},
         "run": {"type": "command", "argv": ["sh", "-c", "printf '%s' \"$CADRE_APPROVAL_INPUT\""]}},
        {"name": "after-mine", "depends_on": ["mine"], "run": echo(json!(2))}]}});
    let id = app.submit(&job).await;
    awaiting(&app, &id, "mine").await;
    let job = awaiting(&app, &id, "scaled").await;
    let all = app.get_json(&format!("/approvals?job_id={id}&mine=false")).await;
    let by_name = |name: &str| {
        all["approvals"].as_array().expect("list").iter().find(|a| a["node_name"] == name).expect("request")["id"]
            .as_str()
            .expect("id")
            .to_string()
    };
    let (mine, scaled) = (by_name("mine"), by_name("scaled"));
    pages_hold_one_each(&app, &id, [&mine, &scaled]).await;
    let own = app.get_json(&format!("/approvals/{mine}")).await;
    assert_eq!((&own["may_decide"], &own["may_approve"]), (&json!(true), &json!(false)), "it may only reject its own");

    let (status, problem) = decide(&app, KEY, &mine, json!({"decision": "approve"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the submitting key may not approve its own job: {problem}");
    let (status, _) = decide(&app, KEY, &scaled, json!({"decision": "approve"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "not an approver");
    let (status, problem) =
        decide(&app, &carol, &scaled, json!({"decision": "approve", "input": {"replicas": 0}})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["errors"][0]["path"], "input");
    let (status, _) =
        decide(&app, &carol, "0190b2c4-0000-7000-8000-000000000000", json!({"decision": "approve"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let unchanged = app.get_json(&format!("/approvals/{scaled}")).await;
    assert_eq!((&unchanged["state"], &unchanged["decisions"]), (&json!("pending"), &json!([])), "nothing changed");
    assert_eq!(job["status"], "paused");

    let (status, _) = decide(&app, &carol, &scaled, json!({"decision": "approve", "input": {"replicas": 3}})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = decide(&app, &carol, &mine, json!({"decision": "reject", "comment": "not this week"})).await;
    assert_eq!(status, StatusCode::OK);
    let job = app.wait_for_end(&id).await;
    let scaled_node = node(&job["tree"], "scaled");
    assert_eq!(scaled_node["result"]["stdout"], r#"{"replicas":3}"#, "the node received the approver's input");
    let rejected = node(&job["tree"], "mine");
    assert_eq!(rejected["status"], "failed");
    assert_eq!(rejected["error"], "the before approval was rejected by 'carol' (level 1): not this week");
    assert_eq!(node(&job["tree"], "after-mine")["status"], "cancelled", "its dependent does not run");
    let (status, _) = decide(&app, &carol, &mine, json!({"decision": "approve"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "a decided request stays decided");
}

/// Pages of one request each go through both, by their cursor.
async fn pages_hold_one_each(app: &TestApp, job: &str, ids: [&str; 2]) {
    let first = app.get_json(&format!("/approvals?job_id={job}&mine=false&limit=1")).await;
    let cursor = first["next_cursor"].as_str().expect("a full page has a cursor");
    let second = app.get_json(&format!("/approvals?job_id={job}&mine=false&limit=1&cursor={cursor}")).await;
    let paged = [&first["approvals"][0]["id"], &second["approvals"][0]["id"]];
    assert!(ids.iter().all(|id| paged.contains(&&json!(id))), "one page each: {paged:?}");
}

#[tokio::test]
async fn a_result_is_held_until_a_person_accepts_it() {
    let app = spawn_app().await;
    let dana = key(&app, "dana", &[]).await;
    let job = json!({"request": "review", "plan": {"name": "draft", "approval": {"after": true, "approvers": ["dana"],
                     "prompt": "Is the draft good?"}, "run": echo(json!({"text": "hello"}))}});
    let id = app.submit(&job).await;
    let job = app.wait_for(&id, |job| job["tree"]["status"] == "awaiting_approval" && job["status"] == "paused").await;
    assert_eq!(job["tree"]["result"], json!({"text": "hello"}), "the held result is shown");
    let request = &pending(&app, &dana).await[0];
    assert_eq!((&request["kind"], &request["context"]["result"]), (&json!("after"), &json!({"text": "hello"})));
    let (status, _) = decide(&app, &dana, request["id"].as_str().expect("id"), json!({"decision": "approve"})).await;
    assert_eq!(status, StatusCode::OK);
    let job = app.wait_for_end(&id).await;
    assert_eq!((&job["status"], &job["tree"]["result"]), (&json!("succeeded"), &json!({"text": "hello"})));
}

#[tokio::test]
async fn a_timeout_escalates_up_the_tree_and_a_default_applies() {
    let app = spawn_app().await;
    let (lead, cto) = (key(&app, "lead", &[]).await, key(&app, "cto", &[]).await);
    let team_gate = json!({"approvers": ["lead"], "timeout_s": 1, "on_timeout": "escalate"});
    let job = json!({"request": "escalate", "plan": {"name": "org", "approval": {"approvers": ["cto"]}, "children": [
        {"name": "team", "approval": team_gate, "children": [
            {"name": "risky", "approval": {"before": true, "approvers": ["dev"], "timeout_s": 1, "on_timeout": "escalate"},
             "run": echo(json!("done"))},
            {"name": "routine", "approval": {"before": true, "approvers": ["dev"], "timeout_s": 1, "on_timeout": "approve"},
             "run": echo(json!("done"))}]}]}});
    let id = app.submit(&job).await;
    awaiting(&app, &id, "risky").await;
    let job = app.wait_for(&id, |job| node(&job["tree"], "routine")["status"] == "succeeded").await;
    assert_eq!(node(&job["tree"], "risky")["status"], "awaiting_approval");
    let at_level = |level: u64| {
        let app = &app;
        let secret = if level == 2 { lead.clone() } else { cto.clone() };
        async move {
            loop {
                let found = pending(app, &secret).await.into_iter().find(|r| r["level"] == level);
                if let Some(request) = found {
                    return request;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    };
    let request = at_level(2).await;
    assert_eq!(request["levels"][1]["owner"], "team", "the parent's approvers are the next level");
    let request = at_level(3).await;
    assert_eq!(
        (&request["node_name"], &request["levels"][2]["owner"]),
        (&json!("risky"), &json!("org")),
        "then the grandparent's"
    );
    let (status, decided) =
        decide(&app, &cto, request["id"].as_str().expect("id"), json!({"decision": "approve"})).await;
    assert_eq!((status, &decided["decisions"][0]["level"]), (StatusCode::OK, &json!(3)), "decided at level 3");
    let job = app.wait_for_end(&id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let escalated = replayed(&app, &id, "approval_escalated").await;
    let owners: Vec<&Value> = escalated.iter().map(|e| &e["owner"]).collect();
    assert_eq!(owners, [&json!("team"), &json!("org")]);
    let decided = replayed(&app, &id, "approval_decided").await;
    let routine = decided.iter().find(|d| d["name"] == "routine").expect("the default");
    assert_eq!((&routine["state"], &routine["by"]), (&json!("approved"), &Value::Null), "by the clock");
}

#[tokio::test]
async fn cancelling_withdraws_a_request_and_a_waiting_one_outlives_the_server() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = crate::common::fresh_database_url().await;
    let data = dir.path().join("data");
    let app = spawn_app_at(&data, database_url.clone(), |_| {}).await;
    let erin = key(&app, "erin", &[]).await;
    let gate = json!({"before": true, "approvers": ["erin"]});
    let job = json!({"request": "kept", "plan": {"name": "kept", "approval": gate, "run": echo(json!("ran"))}});
    let id = app.submit(&job).await;
    awaiting(&app, &id, "kept").await;
    let dropped = app
        .submit(&json!({"request": "dropped", "plan": {"name": "dropped", "approval": gate, "run": echo(json!(0))}}))
        .await;
    awaiting(&app, &dropped, "dropped").await;
    assert_eq!(app.delete(&format!("/recursion/job/{dropped}")).await.status(), StatusCode::ACCEPTED);
    let ended = app.wait_for_end(&dropped).await;
    assert_eq!(ended["status"], "cancelled");
    let withdrawn = app.get_json(&format!("/approvals?job_id={dropped}&mine=false")).await;
    assert_eq!(withdrawn["approvals"][0]["state"], "cancelled");
    app.stop().await;

    let app = spawn_app_at(&data, database_url, |_| {}).await;
    let job = app.wait_for(&id, |job| job["status"] == "paused").await;
    assert_eq!(job["tree"]["status"], "awaiting_approval");
    let request = &pending(&app, &erin).await[0];
    let (status, _) = decide(&app, &erin, request["id"].as_str().expect("id"), json!({"decision": "approve"})).await;
    assert_eq!(status, StatusCode::OK);
    let job = app.wait_for_end(&id).await;
    assert_eq!((&job["status"], &job["tree"]["result"]), (&json!("succeeded"), &json!("ran")));
}

#[tokio::test]
async fn bad_approvals_are_refused_at_submission() {
    let app = spawn_app().await;
    let job = json!({"request": "bad", "config": {"owners": ["scope:root"]}, "plan": {"name": "x",
        "approval": {"before": true, "approvers": ["a"], "required": 2, "on_timeout": "approve", "input_schema": {"type": 3}},
        "run": echo(json!(1))}});
    let response = app.post("/recursion/job", &job).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = response.json().await.expect("json");
    let paths: Vec<&str> =
        problem["errors"].as_array().expect("errors").iter().filter_map(|e| e["path"].as_str()).collect();
    for expected in
        ["plan.approval.required", "plan.approval.on_timeout", "plan.approval.input_schema", "config.owners[0]"]
    {
        assert!(paths.contains(&expected), "{expected} in {paths:?}");
    }
    let forged = json!({"request": "forged", "config": {"submitted_by": "someone"}, "plan": {"name": "x", "run": echo(json!(1))}});
    assert_eq!(app.post("/recursion/job", &forged).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let jobs = app.get_json("/recursion/jobs").await;
    assert_eq!(jobs["jobs"], json!([]), "nothing was created");
}

/// A server whose decomposer provider is the scripted model at `url`.
async fn with_model(url: &str) -> TestApp {
    let toml = format!(
        "[providers.scripted]\nkind = \"openai\"\nbase_url = \"{url}\"\nmodel = \"m\"\napi_key_env = \"\"\nmax_retries = 0"
    );
    let llm: cadre::llm::LlmConfig = toml::from_str(&toml).expect("providers");
    crate::helpers::spawn_app_with(move |config| config.llm = llm).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_models_plan_waits_for_approval_before_any_agent_runs() {
    use crate::llm_server::{openai_text, Reply, Route, ScriptedLlm};
    let ok = |text: String| Reply::ok(openai_text(&text, 100, 20));
    let plan = json!({"project_name": "Chirp", "components": [{"type": "database", "name": "PostgreSQL",
        "specific_requirements": ["posts table"]}], "technical_constraints": [], "success_criteria": ["it works"]});
    let task = |title: &str, domain: &str, depends_on: &[&str]| {
        json!({"title": title, "description": format!("{title}, exactly."), "domain": domain, "function": "f",
               "complexity": "low", "depends_on": depends_on, "success_criteria": [format!("{title} works")]})
    };
    let breakdown = json!({"tasks": [{"title": "All", "subtasks": [task("Posts table", "database", &[]),
        task("POST /posts", "backend", &["Posts table"])]}]});
    let routes = vec![
        Route::new(&["You are the architect"], vec![ok(plan.to_string()), ok(plan.to_string())]),
        Route::new(&["You break a software project down"], vec![ok(breakdown.to_string()), ok(breakdown.to_string())]),
        Route::new(&["You are a coding agent"], (0..2).map(|i| ok(format!("done {i}"))).collect()),
    ];
    let provider = ScriptedLlm::start_routed(routes, Vec::new()).await;
    let app = with_model(&provider.url).await;
    let pm = key(&app, "pm", &[]).await;
    let submission = |request: &str| {
        json!({"request": request, "config": {"approve_plan": true}, "plan": {"name": "app",
               "approval": {"approvers": ["pm"]}, "decompose": {"type": "llm", "provider": "scripted"}}})
    };
    let rejected = app.submit(&submission("Build a Twitter-like app")).await;
    app.wait_for(&rejected, |job| job["status"] == "paused" && job["tree"]["status"] == "awaiting_approval").await;
    let request = pending(&app, &pm).await.remove(0);
    assert_eq!((&request["kind"], &request["context"]["plan"]["project_name"]), (&json!("plan"), &json!("Chirp")));
    assert!(request["context"]["children"].as_array().is_some_and(|c| !c.is_empty()), "what it placed: {request}");
    let (status, _) =
        decide(&app, &pm, request["id"].as_str().expect("id"), json!({"decision": "reject", "comment": "too big"}))
            .await;
    assert_eq!(status, StatusCode::OK);
    let job = app.wait_for_end(&rejected).await;
    assert_eq!(
        (&job["status"], &job["tree"]["error"]),
        (&json!("failed"), &json!("the plan was rejected by 'pm' (level 1): too big"))
    );
    let coded = |provider: &ScriptedLlm| {
        provider.received().iter().filter(|r| r.body.to_string().contains("You are a coding agent")).count()
    };
    assert_eq!(coded(&provider), 0, "nothing of a rejected plan ran");

    let approved = app.submit(&submission("Build it again")).await;
    app.wait_for(&approved, |job| job["status"] == "paused").await;
    let request = pending(&app, &pm).await.remove(0);
    let (status, _) = decide(&app, &pm, request["id"].as_str().expect("id"), json!({"decision": "approve"})).await;
    assert_eq!(status, StatusCode::OK);
    let job = app.wait_for_end(&approved).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(coded(&provider), 2, "the approved plan's two agents ran");
}
