//! The call ledger over HTTP: usage a `command` worker reports with its token
//! (`POST …/nodes/{node_id}/usage`) is counted like a model call — in the node's `usage`, its
//! ancestors' `subtree_usage`, the job's total, `GET …/llm-calls`, the stats, `/metrics` and an
//! `llm_call` event — and refused to whoever may not report it.

use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{node, spawn_app, TestApp, JOB_DEADLINE, KEY};

/// A worker that reports two uses of a model with its own token, printing each answer's status.
const REPORTER: &str = r#"
report() {
  curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $CADRE_TOKEN" \
    -H 'Content-Type: application/json' -d "$1" \
    "$CADRE_URL/api/v1/recursion/job/$CADRE_JOB_ID/nodes/$CADRE_NODE_ID/usage"
}
echo "first $(report '{"model":"claude-sonnet-4-5","input_tokens":1000,"output_tokens":200,"cached_tokens":100,"cost":0.25,"provider":"anthropic"}')"
echo "second $(report '{"model":"claude-sonnet-4-5","input_tokens":500,"output_tokens":50,"cost":0.125,"provider":"anthropic"}')"
"#;

fn usage(input: i64, output: i64, cached: i64, cost: f64, calls: i64) -> Value {
    json!({"input_tokens": input, "output_tokens": output, "cached_tokens": cached, "cost": cost, "calls": calls})
}

#[tokio::test]
async fn usage_a_worker_reports_is_counted_everywhere_a_call_is() {
    let app = spawn_app().await;
    let job = json!({"request": "agents report", "plan": {"name": "team", "children": [
        {"name": "agent", "run": {"type": "command", "argv": ["sh", "-c", REPORTER]}},
        {"name": "plain", "run": {"type": "echo", "value": 1}}]}});
    let id = app.submit(&job).await;
    let job = app.wait_for_end(&id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let agent = node(&job["tree"], "agent");
    assert_eq!(agent["result"]["stdout"], "first 201\nsecond 201\n", "{agent}");

    let spent = usage(1500, 250, 100, 0.375, 2);
    assert_eq!(agent["usage"], spent);
    assert_eq!(agent["subtree_usage"], spent);
    assert_eq!((&job["tree"]["usage"], &job["tree"]["subtree_usage"]), (&Value::Null, &spent));
    assert_eq!(
        (&node(&job["tree"], "plain")["usage"], &node(&job["tree"], "plain")["subtree_usage"]),
        (&Value::Null, &Value::Null)
    );
    assert_eq!(job["usage"], spent);

    let agent_id = agent["id"].as_str().expect("id");
    let calls = app.get_json(&format!("/recursion/job/{id}/nodes/{agent_id}/llm-calls")).await;
    let calls = calls["calls"].as_array().expect("calls");
    assert_eq!(calls.len(), 2);
    assert_eq!(
        (&calls[0]["purpose"], &calls[0]["provider"], &calls[0]["model"], &calls[0]["attempt"]),
        (&json!("report"), &json!("anthropic"), &json!("claude-sonnet-4-5"), &json!(1))
    );
    assert_eq!(
        (&calls[0]["input_tokens"], &calls[1]["input_tokens"], &calls[1]["cached_tokens"]),
        (&json!(1000), &json!(500), &json!(0))
    );
    assert_eq!(
        (&calls[0]["request"], &calls[0]["reply"], &calls[0]["http_status"]),
        (&Value::Null, &Value::Null, &Value::Null)
    );

    let stats = app.stats().await;
    assert_eq!(stats["by_depth"][1]["llm"], spent, "{}", stats["by_depth"]);
    assert_eq!(stats["by_depth"][0]["llm"], usage(0, 0, 0, 0.0, 0));
    assert_metrics(&app).await;
    assert_events(&app, &id, agent_id).await;
}

async fn assert_metrics(app: &TestApp) {
    let metrics = app.client.get(app.url("/metrics")).send().await.expect("metrics").text().await.expect("text");
    for line in [
        r#"cadre_llm_tokens_total{provider="anthropic",model="claude-sonnet-4-5",kind="input"} 1500"#,
        r#"cadre_llm_tokens_total{provider="anthropic",model="claude-sonnet-4-5",kind="cached"} 100"#,
        r#"cadre_llm_cost_total{provider="anthropic",model="claude-sonnet-4-5"} 0.375"#,
    ] {
        assert!(metrics.lines().any(|l| l == line), "no `{line}` in\n{metrics}");
    }
    assert!(!metrics.contains("cadre_llm_call_duration_seconds_count"), "a report was not timed by cadre");
}

async fn assert_events(app: &TestApp, id: &str, agent_id: &str) {
    let events = llm_call_events(app, id, 2).await;
    let data = &events[0]["data"];
    assert_eq!((&events[0]["depth"], &data["name"], &data["node_id"]), (&json!(1), &json!("agent"), &json!(agent_id)));
    assert_eq!(
        (&data["input_tokens"], &data["cost"], &data["purpose"]),
        (&json!(1000), &json!(0.25), &json!("report"))
    );
    let keys: Vec<&String> = data.as_object().expect("data").keys().collect();
    assert_eq!(keys.len(), 14, "the figures, and no prompt or body: {keys:?}");
}

/// The first `count` `llm_call` events of a job, replayed from the log.
async fn llm_call_events(app: &TestApp, job_id: &str, count: usize) -> Vec<Value> {
    let url = format!(
        "{}/ws/recursion?token={KEY}&since=0&job_id={job_id}&types=llm_call",
        app.base.replacen("http", "ws", 1)
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.expect("connects");
    let mut events = Vec::new();
    while events.len() < count {
        let message = tokio::time::timeout(Duration::from_secs(30), socket.next()).await.expect("a frame in time");
        if let Some(Ok(Message::Text(text))) = message {
            let frame: Value = serde_json::from_str(&text).expect("json");
            if frame["type"] == "llm_call" {
                events.push(frame);
            }
        }
    }
    events
}

/// A running job whose `reporter` worker left its token in `dir`, beside a sleeping
/// `bystander`; returns the job id, the token and the tree.
async fn job_with_token(app: &TestApp, dir: &Path) -> (String, String, Value) {
    let file = dir.join("token");
    let keep = format!("echo \"$CADRE_TOKEN\" > {}.tmp && mv {0}.tmp {0}; sleep 60", file.display());
    let job = json!({"request": "reports refused", "plan": {"name": "team", "children": [
        {"name": "reporter", "run": {"type": "command", "argv": ["sh", "-c", keep]}},
        {"name": "bystander", "run": {"type": "sleep", "ms": 60000}}]}});
    let id = app.submit(&job).await;
    let begun = Instant::now();
    while !file.exists() {
        assert!(begun.elapsed() < JOB_DEADLINE, "the worker never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let token = std::fs::read_to_string(&file).expect("token").trim().to_string();
    let tree = app.job(&id).await["tree"].clone();
    (id, token, tree)
}

async fn report_as(app: &TestApp, bearer: Option<&str>, job: &str, node: &str, body: &Value) -> reqwest::Response {
    let request = app.client.post(app.api(&format!("/recursion/job/{job}/nodes/{node}/usage"))).json(body);
    let request = match bearer {
        Some(token) => request.bearer_auth(token),
        None => request,
    };
    request.send().await.expect("request")
}

async fn calls_as(app: &TestApp, bearer: &str, job: &str, node: &str) -> reqwest::Response {
    let path = format!("/recursion/job/{job}/nodes/{node}/llm-calls");
    app.client.get(app.api(&path)).bearer_auth(bearer).send().await.expect("request")
}

fn id_of<'a>(tree: &'a Value, name: &str) -> &'a str {
    node(tree, name)["id"].as_str().expect("id")
}

#[tokio::test]
async fn reports_need_a_caller_who_may_report_for_the_node() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("dir");
    let (id, token, tree) = job_with_token(&app, dir.path()).await;
    let (reporter, bystander, team) = (id_of(&tree, "reporter"), id_of(&tree, "bystander"), id_of(&tree, "team"));
    let body = json!({"model": "codex", "input_tokens": 10, "output_tokens": 2});

    let created = report_as(&app, Some(&token), &id, reporter, &body).await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.expect("json");
    assert_eq!(
        (&created["provider"], &created["purpose"], &created["cost"]),
        (&json!("reported"), &json!("report"), &json!(0.0))
    );
    assert_eq!(report_as(&app, None, &id, reporter, &body).await.status(), 401);
    let reader =
        app.post("/keys", &json!({"name": "reader", "scopes": ["read"]})).await.json::<Value>().await.expect("key");
    let reader = reader["key"].as_str().expect("secret");
    assert_eq!(report_as(&app, Some(reader), &id, reporter, &body).await.status(), 403, "a key needs write");
    assert_eq!(report_as(&app, Some(&token), &id, bystander, &body).await.status(), 403, "a sibling's node");
    assert_eq!(report_as(&app, Some(&token), &id, team, &body).await.status(), 403, "its parent's node");
    assert_eq!(
        report_as(&app, Some(KEY), &id, bystander, &body).await.status(),
        201,
        "a write key reports for any node"
    );

    let unknown = uuid::Uuid::now_v7().to_string();
    assert_eq!(report_as(&app, Some(KEY), &id, &unknown, &body).await.status(), 404);
    assert_eq!(
        report_as(&app, Some(KEY), &unknown, reporter, &body).await.status(),
        404,
        "the node is not in that job"
    );
    assert_eq!(report_as(&app, Some(&token), &unknown, reporter, &body).await.status(), 404, "another job");

    let own = calls_as(&app, &token, &id, reporter).await;
    assert_eq!(own.status(), 200);
    assert_eq!(own.json::<Value>().await.expect("json")["calls"].as_array().map(Vec::len), Some(1));
    assert_eq!(calls_as(&app, &token, &id, bystander).await.status(), 403);
    assert_eq!(calls_as(&app, KEY, &id, &unknown).await.status(), 404);
    assert_eq!(
        app.client
            .get(app.api(&format!("/recursion/job/{id}/nodes/{reporter}/llm-calls")))
            .send()
            .await
            .expect("request")
            .status(),
        401
    );
    assert_eq!(app.delete(&format!("/recursion/job/{id}")).await.status(), 202);
}

#[tokio::test]
async fn unsound_figures_are_refused_and_an_ended_job_takes_no_more() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("dir");
    let (id, token, tree) = job_with_token(&app, dir.path()).await;
    let reporter = id_of(&tree, "reporter");
    let body = json!({"model": "codex", "input_tokens": 10, "output_tokens": 2});
    assert_eq!(report_as(&app, Some(&token), &id, reporter, &body).await.status(), 201);
    for (bad, field) in [
        (json!({"model": "m", "input_tokens": -1, "output_tokens": 0}), "input_tokens"),
        (json!({"model": "", "input_tokens": 1, "output_tokens": 0}), "model"),
        (json!({"model": "m".repeat(201), "input_tokens": 1, "output_tokens": 0}), "model"),
        (json!({"model": "m", "input_tokens": 1, "output_tokens": 0, "cost": -0.5}), "cost"),
        (json!({"model": "m", "input_tokens": 1, "output_tokens": 0, "prompt": "secret"}), "prompt"),
        (json!({"model": "m", "input_tokens": 1}), "output_tokens"),
    ] {
        let refused = report_as(&app, Some(&token), &id, reporter, &bad).await;
        assert_eq!(refused.status(), 422, "{bad}");
        let problem: Value = refused.json().await.expect("json");
        assert!(problem.to_string().contains(field), "{field} named in {problem}");
    }

    let job = app.job(&id).await;
    assert_eq!(job["usage"], usage(10, 2, 0, 0.0, 1), "refused reports count for nothing");
    assert_eq!(node(&job["tree"], "team")["subtree_usage"], usage(10, 2, 0, 0.0, 1));
    assert_eq!(app.delete(&format!("/recursion/job/{id}")).await.status(), 202);
    app.wait_for_end(&id).await;
    let late = report_as(&app, Some(KEY), &id, reporter, &body).await;
    assert_eq!(late.status(), 409, "an ended job's account is closed");
}

#[tokio::test]
async fn a_worker_reports_for_the_children_it_spawned() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("dir");
    let (id, token, tree) = job_with_token(&app, dir.path()).await;
    let reporter = id_of(&tree, "reporter");
    let spawn = app
        .client
        .post(app.api(&format!("/recursion/job/{id}/nodes/{reporter}/children")))
        .bearer_auth(&token)
        .json(&json!({"children": [{"name": "helper", "run": {"type": "sleep", "ms": 60000}}]}))
        .send()
        .await
        .expect("spawn");
    assert_eq!(spawn.status(), 201);
    let helper = spawn.json::<Value>().await.expect("json")["nodes"][0]["id"].as_str().expect("id").to_string();
    let body = json!({"model": "m", "input_tokens": 7, "output_tokens": 3, "cached_tokens": 1, "cost": 0.5});
    assert_eq!(report_as(&app, Some(&token), &id, &helper, &body).await.status(), 201);
    let job = app.job(&id).await;
    assert_eq!(node(&job["tree"], "helper")["usage"], usage(7, 3, 1, 0.5, 1));
    assert_eq!(node(&job["tree"], "helper")["depth"], 2);
    assert_eq!(
        (&node(&job["tree"], "reporter")["usage"], &node(&job["tree"], "reporter")["subtree_usage"]),
        (&Value::Null, &usage(7, 3, 1, 0.5, 1))
    );
    assert_eq!(app.stats().await["by_depth"][2]["llm"], usage(7, 3, 1, 0.5, 1));
    assert_eq!(app.delete(&format!("/recursion/job/{id}")).await.status(), 202);
}

#[tokio::test]
async fn the_ledger_routes_document_every_answer_they_give() {
    let app = spawn_app().await;
    let doc =
        app.client.get(app.api("/openapi.json")).send().await.expect("request").json::<Value>().await.expect("json");
    let paths = &doc["paths"];
    let statuses = |path: &str, method: &str| {
        let responses = paths[format!("/api/v1/recursion/job/{{id}}/nodes/{{node_id}}/{path}")][method]["responses"]
            .as_object()
            .expect("responses")
            .keys()
            .cloned()
            .collect::<Vec<_>>();
        responses.join(",")
    };
    assert_eq!(statuses("llm-calls", "get"), "200,400,401,403,404,408,429,503");
    assert_eq!(statuses("usage", "post"), "201,400,401,403,404,408,409,413,415,422,429,503");
    let schemas = &doc["components"]["schemas"];
    for schema in ["LlmCallView", "UsageBody", "UsageView"] {
        assert!(schemas[schema]["example"].is_object(), "{schema} has an example");
    }
    assert_eq!(schemas["LlmCalls"]["properties"]["calls"]["items"]["$ref"], "#/components/schemas/LlmCallView");
    assert_eq!(
        schemas["NodeView"]["properties"]["subtree_usage"]["oneOf"][1]["$ref"],
        "#/components/schemas/UsageView"
    );
    assert_eq!(schemas["UsageBody"]["additionalProperties"], false, "unknown fields are refused");
}
