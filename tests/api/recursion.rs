//! Trees of several levels succeed with the right node counts, depths and aggregates.

use serde_json::{json, Value};

use crate::helpers::{flatten, node, spawn_app, uniform_tree};

async fn assert_uniform_tree_runs(levels: u32, fan_out: usize) {
    let app = spawn_app().await;
    let id = app.submit(&uniform_tree(levels, fan_out)).await;
    let job = app.wait_for_end(&id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let leaves = fan_out.pow(levels - 1);
    assert_eq!(job["result"], json!(leaves), "every orchestrator sums its children");
    assert_shape(&job, levels, fan_out);
}

fn assert_shape(job: &serde_json::Value, levels: u32, fan_out: usize) {
    let nodes = flatten(&job["tree"]);
    let expected_total: usize = (0..levels).map(|d| fan_out.pow(d)).sum();
    assert_eq!(nodes.len(), expected_total);
    assert_eq!(job["counts"]["by_status"]["succeeded"], json!(expected_total));
    for depth in 0..levels {
        let at_depth = nodes.iter().filter(|n| n["depth"] == json!(depth)).count();
        assert_eq!(at_depth, fan_out.pow(depth), "nodes at depth {depth}");
        assert_eq!(job["counts"]["by_depth"][depth.to_string()], json!(fan_out.pow(depth)));
    }
    let roles = ["cto", "pm", "tech_lead", "engineer", "junior", "intern"];
    for n in &nodes {
        let depth = n["depth"].as_u64().expect("depth") as usize;
        assert_eq!(n["role"], roles[depth], "the ladder names each depth");
        assert_eq!(n["attempts"], 1);
    }
}

#[tokio::test]
async fn a_two_level_tree_succeeds_with_the_right_counts() {
    assert_uniform_tree_runs(2, 4).await;
}

#[tokio::test]
async fn a_three_level_tree_succeeds_with_the_right_counts() {
    assert_uniform_tree_runs(3, 3).await;
}

#[tokio::test]
async fn a_five_level_tree_succeeds_with_the_right_counts() {
    assert_uniform_tree_runs(5, 3).await;
}

#[tokio::test]
async fn a_six_level_tree_reaches_the_hard_cap_of_depth_five() {
    assert_uniform_tree_runs(6, 2).await;
}

#[tokio::test]
async fn aggregates_collect_merge_and_concat_combine_children() {
    let app = spawn_app().await;
    let job = json!({"request": "aggregates", "plan": {"name": "root", "children": [
        {"name": "merged", "aggregate": "merge", "children": [
            {"name": "a", "run": {"type": "echo", "value": {"x": 1, "shared": {"k": "a"}}}},
            {"name": "b", "run": {"type": "echo", "value": {"y": 2, "shared": {"k": "b"}}}}]},
        {"name": "joined", "aggregate": "concat", "children": [
            {"name": "c", "run": {"type": "echo", "value": "ab"}},
            {"name": "d", "run": {"type": "echo", "value": "cd"}}]}]}});
    let id = app.submit(&job).await;
    let job = app.wait_for_end(&id).await;
    assert_eq!(job["status"], "succeeded");
    let merged = node(&job["tree"], "merged");
    assert_eq!(merged["result"], json!({"x": 1, "y": 2, "shared": {"k": "b"}}));
    assert_eq!(merged["warnings"][0], "merge conflict at 'shared.k': the later sibling's value wins");
    assert_eq!(node(&job["tree"], "joined")["result"], "abcd");
    let collected = job["result"].as_array().expect("collect is the default");
    assert_eq!(collected[0]["name"], "merged");
    assert_eq!(collected[1]["result"], "abcd");
}

#[tokio::test]
async fn command_workers_run_real_processes_and_keep_their_output() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("dir");
    let job = json!({"request": "commands", "plan": {"name": "root", "children": [
        {"name": "ok", "run": {"type": "command", "argv": ["sh", "-c", "echo hello $WHO; pwd"],
            "cwd": dir.path(), "env": {"WHO": "cadre"}}},
        {"name": "bad", "retry": {"max_attempts": 1}, "run": {"type": "command", "argv": ["sh", "-c", "echo oops >&2; exit 3"]}}],
        "on_child_failure": "continue"}});
    let id = app.submit(&job).await;
    let job = app.wait_for_end(&id).await;
    let ok = node(&job["tree"], "ok");
    assert_eq!(ok["status"], "succeeded");
    assert_eq!(ok["result"]["exit_code"], 0);
    let stdout = ok["result"]["stdout"].as_str().expect("stdout");
    assert!(stdout.starts_with("hello cadre\n"), "{stdout}");
    assert!(stdout.contains(dir.path().to_str().expect("utf-8")), "cwd applied: {stdout}");
    let bad = node(&job["tree"], "bad");
    assert_eq!(bad["status"], "failed");
    assert_eq!(bad["result"]["exit_code"], 3);
    assert_eq!(bad["result"]["stderr"], "oops\n");
    assert_eq!(bad["error"], "exited with code 3");
    let logs = |node_id: &Value| format!("/recursion/job/{id}/nodes/{}/logs", node_id.as_str().expect("id"));
    let bad_logs = app.get_json(&logs(&bad["id"])).await;
    assert_eq!(
        bad_logs,
        json!({"node_id": bad["id"], "status": "failed", "available": true,
        "stdout": "", "stderr": "oops\n", "exit_code": 3})
    );
    let root_logs = app.get_json(&logs(&job["tree"]["id"])).await;
    assert_eq!(root_logs["available"], false, "an orchestrator runs no process: {root_logs}");
    let elsewhere = app
        .get(&format!("/recursion/job/{}/nodes/{}/logs", uuid::Uuid::now_v7(), bad["id"].as_str().expect("id")))
        .await;
    assert_eq!(elsewhere.status(), 404, "the node must belong to the job named");
}

#[tokio::test]
async fn http_workers_turn_the_response_into_the_result() {
    let app = spawn_app().await;
    let agent = axum::Router::new().route(
        "/agent",
        axum::routing::post(|axum::Json(body): axum::Json<serde_json::Value>| async move {
            axum::Json(json!({"answer": body["question"].as_str().map(str::len)}))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/agent", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, agent).await });
    let job = json!({"request": "http", "plan": {"name": "ask", "run": {"type": "http", "url": url,
        "body": {"question": "four"}}}});
    let id = app.submit(&job).await;
    let job = app.wait_for_end(&id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["result"], json!({"status": 200, "body": {"answer": 4}}));
}

#[tokio::test]
async fn an_ended_jobs_view_is_served_again_unchanged_and_a_running_ones_is_never_stale() {
    let app = spawn_app().await;
    let job = json!({"request": "views", "plan": {"name": "root", "children": [
        {"name": "slow", "run": {"type": "sleep", "ms": 300}},
        {"name": "echo", "run": {"type": "echo", "value": {"n": 1}}}]}});
    let id = app.submit(&job).await;
    let running = app.job(&id).await;
    assert_eq!(running["status"], "running", "{running}");
    let ended = app.wait_for_end(&id).await;
    assert_eq!(ended["status"], "succeeded", "a running job's answer was not kept: {ended}");
    let response = app.get(&format!("/recursion/job/{id}")).await;
    assert_eq!(response.headers()["content-type"], "application/json");
    let again: Value = response.json().await.expect("json");
    assert_eq!(again, ended, "the kept answer is the built one");
    let shallow = app.get_json(&format!("/recursion/job/{id}?max_depth=0")).await;
    assert_eq!(shallow["tree"]["children"], json!([]), "each query shape is its own answer: {shallow}");
    let bare = app.get_json(&format!("/recursion/job/{id}?results=false")).await;
    assert!(node(&bare["tree"], "echo").get("result").is_none_or(Value::is_null), "{bare}");
    assert_eq!(node(&ended["tree"], "echo")["result"], json!({"n": 1}));
    assert_eq!(app.get_json(&format!("/recursion/job/{id}?max_depth=0")).await, shallow);
}
