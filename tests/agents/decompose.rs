//! The decomposer's dry run (issue 13, phases 0–2): a request in words planned and broken
//! down by a (scripted) model into managers and agents, returned without anything stored.

use serde_json::{json, Value};

use super::llm_server::{openai_text, Reply, ScriptedLlm};
use super::server::{cadre, text, Server};
use super::{last_user_text, Store};

const DECOMPOSER: [(&str, &str); 1] = [("CADRE_DECOMPOSER__PROVIDER", "scripted")];

pub fn plan() -> Value {
    json!({"project_name": "Chirp", "technical_constraints": ["Posts are at most 280 characters"],
           "success_criteria": ["Users can post and read a feed"],
           "components": [{"type": "database", "name": "PostgreSQL", "specific_requirements": ["users, posts, followers tables"]}]})
}

fn subtask(title: &str, domain: &str, function: &str, complexity: &str, depends_on: &[&str]) -> Value {
    json!({"title": title, "description": format!("{title}, exactly."), "domain": domain, "function": function,
           "complexity": complexity, "depends_on": depends_on, "success_criteria": [format!("{title} works")]})
}

/// The seed's Twitter-like breakdown: three medium tables and a low index task, three low
/// endpoints that need the posts table, three low components.
pub fn twitter(posts_dependency: &str) -> Value {
    json!({"tasks": [
        {"title": "Data", "subtasks": [
            subtask("Create Users table", "database", "table_creation", "medium", &[]),
            subtask("Create Posts table", "database", "table_creation", "medium", &["Create Users table"]),
            subtask("Create Followers table", "database", "table_creation", "medium", &["Create Users table"]),
            subtask("Add indexes", "database", "indexes", "low", &["Create Posts table"])]},
        {"title": "API", "subtasks": [
            subtask("POST /api/posts", "backend", "api_endpoints", "low", &[posts_dependency]),
            subtask("GET /api/posts", "backend", "api_endpoints", "low", &[]),
            subtask("POST /api/posts/:id/like", "backend", "api_endpoints", "low", &[])]},
        {"title": "UI", "subtasks": [
            subtask("PostCard.tsx", "frontend", "core_components", "low", &[]),
            subtask("PostFeed.tsx", "frontend", "core_components", "low", &["PostCard.tsx"]),
            subtask("CreatePost.tsx", "frontend", "core_components", "low", &[])]}]})
}

async fn plan_request(server: &Server, body: &Value) -> reqwest::Response {
    let url = format!("{}/api/v1/recursion/plan", server.url);
    reqwest::Client::new().post(url).bearer_auth(&server.key).json(body).send().await.expect("plan")
}

fn names(nodes: &Value) -> Vec<String> {
    nodes.as_array().into_iter().flatten().map(|n| n["name"].as_str().expect("name").to_string()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_is_planned_broken_down_corrected_and_grouped_without_running_anything() {
    let provider = ScriptedLlm::start(vec![
        Reply::ok(openai_text(&plan().to_string(), 300, 120)),
        Reply::ok(openai_text(&twitter("Create Tweets table").to_string(), 900, 700)),
        Reply::ok(openai_text(&twitter("Create Posts table").to_string(), 1700, 700)),
    ])
    .await;
    let mut store = Store::new(&provider.url).await;
    let server = store.start_with(&DECOMPOSER);
    let response = plan_request(&server, &json!({"request": "Build a Twitter-like app"})).await;
    assert_eq!(response.status(), 200);
    let preview: Value = response.json().await.expect("json");
    assert_eq!(preview["plan"]["project_name"], "Chirp");
    assert_eq!(preview["tree"]["title"], "Chirp");
    let managers = &preview["tree"]["children"];
    assert_eq!(names(managers), ["database", "backend", "frontend"]);
    assert_eq!(names(&managers[0]["children"]), ["table_creation-1", "table_creation-2", "indexes"]);
    assert_eq!(names(&managers[1]["children"]), ["api_endpoints"], "three low endpoints: one agent");
    assert_eq!(managers[1]["depends_on"], json!(["database"]), "the endpoint needing a table waits for the database");
    let bundle = managers[0]["children"][0]["description"].as_str().expect("bundle");
    assert!(
        bundle.contains("TASK 1/2: Create Users table") && bundle.contains("TASK 2/2: Create Posts table"),
        "{bundle}"
    );
    assert!(bundle.contains("INSTRUCTIONS:"), "{bundle}");
    assert_eq!(managers[0]["children"][0]["run"], json!({"type": "llm", "provider": "scripted"}));
    assert_eq!(preview["estimate"], json!({"managers": 3, "agents": 5, "subtasks": 10, "nodes": 9, "calls": 5}));
    assert_eq!(preview["usage"]["calls"], 3);
    assert_eq!(preview["usage"]["input_tokens"], 2900);
    let received = provider.received();
    assert!(last_user_text(&received[0].body).contains("Build a Twitter-like app"));
    assert_eq!(received[0].body["response_format"]["json_schema"]["schema"]["title"], "ArchitecturalPlan");
    let decompose = last_user_text(&received[1].body);
    assert!(decompose.contains("\"project_name\": \"Chirp\"") && decompose.contains("database, documentation"));
    let correction = last_user_text(&received[2].body);
    assert!(
        correction.contains("This breakdown cannot be run") && correction.contains("Create Tweets table"),
        "{correction}"
    );
    let jobs = text(&cadre(&server, &["jobs", "-o", "json"]));
    assert!(!jobs.contains("job_id"), "a dry run creates no job: {jobs}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_shows_the_tree_a_request_would_become() {
    let provider = ScriptedLlm::start(vec![
        Reply::ok(openai_text(&plan().to_string(), 10, 10)),
        Reply::ok(openai_text(&twitter("Create Posts table").to_string(), 10, 10)),
    ])
    .await;
    let mut store = Store::new(&provider.url).await;
    let server = store.start_with(&DECOMPOSER);
    let file = store.data().with_extension("yaml");
    std::fs::write(&file, "request: Build a Twitter-like app\n").expect("job file");
    let output = cadre(&server, &["plan", file.to_str().expect("utf-8")]);
    let shown = text(&output);
    assert!(output.status.success(), "{shown}");
    assert!(shown.starts_with("Chirp: 3 managers, 5 agents, 10 subtasks"), "{shown}");
    assert!(shown.contains("  backend (Backend manager), after database"), "{shown}");
    assert!(shown.contains("    table_creation-1 (Table creation (part 1)) — 2 task(s)"), "{shown}");
    assert!(shown.contains("the breakdown itself: tokens 20 in / 20 out"), "{shown}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_says_clearly_why_it_cannot_be_done() {
    let provider = ScriptedLlm::start(vec![Reply::status(401, "Incorrect API key provided")]).await;
    let mut store = Store::new(&provider.url).await;
    let without = store.start();
    let response = plan_request(&without, &json!({"request": "Build it"})).await;
    assert_eq!(response.status(), 409);
    let problem: Value = response.json().await.expect("problem");
    assert!(problem["detail"].as_str().is_some_and(|d| d.contains("no decomposer")), "{problem}");
    drop(without);
    let server = store.start_with(&DECOMPOSER);
    let with_plan = json!({"request": "Build it", "plan": {"name": "r", "run": {"type": "noop"}}});
    assert_eq!(plan_request(&server, &with_plan).await.status(), 422);
    let response = plan_request(&server, &json!({"request": "Build it"})).await;
    assert_eq!(response.status(), 502);
    let problem: Value = response.json().await.expect("problem");
    assert!(problem["detail"].as_str().is_some_and(|d| d.contains("Incorrect API key provided")), "{problem}");
}
