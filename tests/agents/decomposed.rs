//! Decomposing nodes running for real (issue 13): a request planned, broken down, grouped
//! into managers and agents that run, judged and re-run, and reported; the intents; the
//! refusals a breakdown gets and its corrections; the depth cap.

use serde_json::{json, Value};

use super::decompose::{plan, twitter};
use super::llm_server::{openai_text, Reply, Route, ScriptedLlm};
use super::server::{cadre, text, Server};
use super::{llm_calls, node, run_to_end, submit_id, wait_for, Store};

const DECOMPOSER: [(&str, &str); 1] = [("CADRE_DECOMPOSER__PROVIDER", "scripted")];
const PLANNING: &str = "You are the architect";
const BREAKING_DOWN: &str = "You break a software project down";
const JUDGING: &str = "You check an agent";
const CLASSIFYING: &str = "You decide what kind of work";

fn ok(text: &str) -> Reply {
    Reply::ok(openai_text(text, 100, 20))
}

fn verdict(passed: bool, issue: &str) -> Reply {
    let issues: Vec<&str> = if passed { vec![] } else { vec![issue] };
    ok(&json!({"passed": passed, "issues": issues, "suggestions": ["add the missing index"]}).to_string())
}

fn route(needles: &[&str], replies: Vec<Reply>) -> Route {
    Route::new(needles, replies)
}

async fn get_text(server: &Server, path: &str) -> (u16, String) {
    let url = format!("{}/api/v1{path}", server.url);
    let response = reqwest::Client::new().get(url).bearer_auth(&server.key).send().await.expect("get");
    (response.status().as_u16(), response.text().await.expect("text"))
}

async fn post(server: &Server, path: &str, body: &Value) -> reqwest::Response {
    let url = format!("{}/api/v1{path}", server.url);
    reqwest::Client::new().post(url).bearer_auth(&server.key).json(body).send().await.expect("post")
}

fn purposes(calls: &[Value]) -> Vec<String> {
    calls.iter().map(|c| c["purpose"].as_str().expect("purpose").to_string()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_twitter_like_request_is_planned_run_judged_rerun_and_reported() {
    let routes = vec![
        route(&[PLANNING], vec![ok(&plan().to_string())]),
        // The first breakdown is not JSON; its correction is the seed's example.
        route(&[BREAKING_DOWN], vec![ok("Here are the tasks: …"), ok(&twitter("Create Posts table").to_string())]),
        route(&[JUDGING, "Add indexes"], vec![verdict(false, "posts(user_id) has no index"), verdict(true, "")]),
        route(&[JUDGING], (0..4).map(|_| verdict(true, "")).collect()),
        route(&["TASK 1/1: Add indexes", "not accepted"], vec![ok("CREATE INDEX posts_user ON posts(user_id);")]),
        route(&["TASK 1/1: Add indexes"], vec![ok("CREATE INDEX posts_created ON posts(created_at);")]),
        route(&["You are a coding agent"], (0..4).map(|i| ok(&format!("done {i}"))).collect()),
    ];
    let provider = ScriptedLlm::start_routed(routes, Vec::new()).await;
    let mut store = Store::new(&provider.url).await;
    let server = store.start();
    let job = json!({"request": "Build a Twitter-like app", "plan": {"name": "app",
        "decompose": {"type": "llm", "provider": "scripted", "validate": true}}});
    let job = run_to_end(&server, &job).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let root = &job["tree"];
    let managers: Vec<&str> =
        root["children"].as_array().expect("managers").iter().map(|m| m["name"].as_str().expect("name")).collect();
    assert_eq!(managers, ["database", "backend", "frontend"]);
    let agents = |i: usize| -> Vec<&str> {
        root["children"][i]["children"]
            .as_array()
            .expect("agents")
            .iter()
            .map(|a| a["name"].as_str().expect("name"))
            .collect()
    };
    assert_eq!(agents(0), ["table_creation-1", "table_creation-2", "indexes"], "three medium tables: two agents");
    assert_eq!(agents(1), ["api_endpoints"]);
    assert_eq!(agents(2), ["core_components"]);
    assert_eq!(root["result"]["plan"]["project_name"], "Chirp");
    assert_eq!(root["result"]["assignments"][0]["agents"][2]["tasks"], json!(["Add indexes"]));

    let indexes = node(&job, "indexes");
    assert_eq!(indexes["attempts"], 2, "judged, failed, re-run: {indexes}");
    assert_eq!(indexes["result"]["validation"]["passed"], true);
    assert_eq!(indexes["result"]["output"], "CREATE INDEX posts_user ON posts(user_id);");
    let received = provider.received();
    let rerun = received.iter().map(|r| r.body.to_string()).find(|b| b.contains("not accepted")).expect("a re-run");
    assert!(rerun.contains("posts(user_id) has no index"), "the feedback is in the prompt");
    assert!(
        received
            .iter()
            .any(|r| r.body.to_string().contains("You are a coding agent") && r.body.to_string().contains("Chirp")),
        "agents read the plan"
    );

    ledger(&server, &job).await;
    report(&server, &job).await;
}

/// Every phase's calls in the ledger with their purpose.
async fn ledger(server: &Server, job: &Value) {
    let job_id = job["job_id"].as_str().expect("id");
    let root_id = job["tree"]["id"].as_str().expect("node id");
    let calls = llm_calls(server, job_id, root_id).await;
    assert_eq!(purposes(&calls), ["plan", "decompose", "repair"]);
    let indexes_id = node(job, "indexes")["id"].as_str().expect("node id");
    let calls = llm_calls(server, job_id, indexes_id).await;
    assert_eq!(purposes(&calls), ["execute", "validate", "execute", "validate"]);
}

/// The report lists the plan, the managers, the verdicts, the retries and the calls.
async fn report(server: &Server, job: &Value) {
    let job_id = job["job_id"].as_str().expect("id");
    let (status, report) = get_text(server, &format!("/recursion/job/{job_id}/report")).await;
    assert_eq!(status, 200);
    assert!(report.starts_with("# Chirp"), "{report}");
    assert!(report.contains("### Database manager — succeeded"), "{report}");
    assert!(report.contains("(indexes) — succeeded, 1 retry\n- validation: passed"), "{report}");
    assert!(report.contains("agents: 5, retries: 1") && report.contains("model calls: 15"), "{report}");
    let printed = cadre(server, &["report", job_id]);
    assert!(printed.status.success());
    assert_eq!(text(&printed).trim_end(), report.trim_end(), "the CLI prints the same report");
}

#[tokio::test(flavor = "multi_thread")]
async fn cyclic_and_ancestor_repeating_breakdowns_are_refused_and_repaired_and_the_depth_cap_leaves_agents_only() {
    let backend_only = json!({"tasks": [{"title": "API", "subtasks": [
        {"title": "GET /posts", "description": "d", "domain": "backend", "function": "api", "complexity": "low"}]}]});
    let cyclic = json!({"tasks": [{"title": "API", "subtasks": [
        {"title": "GET /posts", "description": "d", "domain": "api", "function": "api", "complexity": "low", "depends_on": ["GET /feed"]},
        {"title": "GET /feed", "description": "d", "domain": "api", "function": "api", "complexity": "low", "depends_on": ["GET /posts"]}]}]});
    let elsewhere = json!({"tasks": [{"title": "API", "subtasks": [
        {"title": "GET /posts", "description": "d", "domain": "api", "function": "api", "complexity": "low"}]}]});
    let routes = vec![
        route(&[PLANNING], vec![ok(&plan().to_string()), ok(&plan().to_string())]),
        route(&[BREAKING_DOWN, "with no managers between"], vec![ok(&twitter("Create Posts table").to_string())]),
        route(
            &[BREAKING_DOWN],
            vec![ok(&cyclic.to_string()), ok(&backend_only.to_string()), ok(&elsewhere.to_string())],
        ),
        route(&["You are a coding agent"], (0..10).map(|i| ok(&format!("done {i}"))).collect()),
    ];
    let provider = ScriptedLlm::start_routed(routes, Vec::new()).await;
    let mut store = Store::new(&provider.url).await;
    let server = store.start();
    let decompose = json!({"type": "llm", "provider": "scripted"});
    let job =
        json!({"request": "An API", "plan": {"name": "backend", "title": "Backend manager", "decompose": decompose}});
    let job = run_to_end(&server, &job).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    // Each correction carries the conversation so far: the last holds both refusals.
    let corrections: Vec<String> =
        provider.received().iter().map(|r| r.body.to_string()).filter(|b| b.contains("cannot be run")).collect();
    let last = corrections.last().expect("the refused breakdowns were sent back");
    assert_eq!(corrections.len(), 2, "a cyclic breakdown, then one repeating an ancestor");
    assert!(last.contains("a dependency cycle between subtasks"), "{last}");
    assert!(last.contains("circular recursion: 'backend' repeats the task of its ancestor 'backend'"), "{last}");
    assert_eq!(job["tree"]["children"][0]["name"], "general", "the repaired breakdown's fallback manager");

    let capped = json!({"request": "Build a Twitter-like app", "config": {"max_depth": 1},
        "plan": {"name": "app", "decompose": decompose}});
    let capped = run_to_end(&server, &capped).await;
    assert_eq!(capped["status"], "succeeded", "{capped}");
    let children = capped["tree"]["children"].as_array().expect("children");
    assert_eq!(children.len(), 5, "agents only, no managers: {capped}");
    assert!(children.iter().all(|c| c["kind"] == "worker" && c["depth"] == 1));
    let refused = super::submit(
        &server,
        &json!({"request": "r", "config": {"max_depth": 0},
        "plan": {"name": "app", "decompose": decompose}}),
    )
    .await;
    assert_eq!(refused.status(), 422);
    let problem: Value = refused.json().await.expect("json");
    assert!(problem.to_string().contains("cannot decompose: max_depth 0 leaves no room"), "{problem}");
}

fn intent(kind: &str, extra: &Value) -> Reply {
    let mut answer = json!({"intent": kind, "confidence": 0.9, "reason": "because"});
    answer.as_object_mut().expect("object").extend(extra.as_object().cloned().unwrap_or_default());
    ok(&answer.to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_question_pauses_the_job_until_it_is_answered_even_across_a_kill() {
    let routes = vec![
        route(&[CLASSIFYING, "A: Lyon"], vec![intent("direct_response", &json!({}))]),
        route(&[CLASSIFYING], vec![intent("clarify", &json!({"question": "Which city?"}))]),
        route(&["# Your task: Answer"], vec![ok("Lyon has 520,000 inhabitants")]),
    ];
    let provider = ScriptedLlm::start_routed(routes, Vec::new()).await;
    let mut store = Store::new(&provider.url).await;
    let mut server = store.start_with(&DECOMPOSER);
    let job = json!({"request": "How many people live in the city?", "config": {"intent": "auto"}});
    let job_id = submit_id(&server, &job).await;
    let paused = wait_for(&server, &job_id, |job| job["status"] == "paused").await;
    assert_eq!(paused["tree"]["result"]["clarifications"][0]["question"], "Which city?");
    server.child.kill().expect("kill -9");
    let _ = server.child.wait();
    let server = store.start_with(&DECOMPOSER);
    wait_for(&server, &job_id, |job| job["status"] == "paused").await;
    let answered = cadre(&server, &["answer", &job_id, "Lyon"]);
    assert!(answered.status.success(), "{}", text(&answered));
    assert_eq!(text(&answered).trim(), format!("job {job_id} running"));
    let job = wait_for(&server, &job_id, super::ended).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(node(&job, "answer")["result"]["output"], "Lyon has 520,000 inhabitants");
    assert_eq!(job["tree"]["result"]["intent"]["intent"], "direct_response");
    let calls = llm_calls(&server, &job_id, job["tree"]["id"].as_str().expect("id")).await;
    assert_eq!(purposes(&calls), ["classify", "classify"], "the first classification was not asked again");
    let again = post(&server, &format!("/recursion/job/{job_id}/answer"), &json!({"answer": "Paris"})).await;
    assert_eq!(again.status(), 409);
    let refused = cadre(&server, &["answer", &job_id, "Paris"]);
    assert!(!refused.status.success() && text(&refused).contains("not waiting for an answer"), "{}", text(&refused));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unanswered_question_times_out_and_delegation_is_refused() {
    let routes = vec![
        route(&[CLASSIFYING, "Ask me"], vec![intent("clarify", &json!({"question": "What about?"}))]),
        route(&[CLASSIFYING], vec![intent("delegate", &json!({"agent": "backend-dev"}))]),
    ];
    let provider = ScriptedLlm::start_routed(routes, Vec::new()).await;
    let mut store = Store::new(&provider.url).await;
    let server = store.start_with(&DECOMPOSER);
    let asked = json!({"request": "Ask me", "config": {"intent": "auto", "clarify_timeout_s": 1}});
    let asked = run_to_end(&server, &asked).await;
    assert_eq!(asked["status"], "failed");
    assert!(asked["error"].as_str().is_some_and(|e| e.contains("no answer to the question within 1 s")), "{asked}");
    let delegated =
        run_to_end(&server, &json!({"request": "Have backend-dev do it", "config": {"intent": "auto"}})).await;
    assert_eq!(delegated["status"], "failed");
    let error = delegated["error"].as_str().unwrap_or_default();
    assert!(error.contains("backend-dev") && error.contains("agent registry"), "{delegated}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_kill_during_the_breakdown_replays_the_stored_plan_instead_of_paying_again() {
    let routes = vec![
        route(&[PLANNING], vec![ok(&plan().to_string())]),
        route(
            &[BREAKING_DOWN],
            vec![Reply::Hang(std::time::Duration::from_secs(20)), ok(&twitter("Create Posts table").to_string())],
        ),
    ];
    let provider = ScriptedLlm::start_routed(routes, Vec::new()).await;
    let mut store = Store::new(&provider.url).await;
    let mut server = store.start();
    let decompose = json!({"type": "llm", "provider": "scripted", "agent": {"type": "echo", "value": "built"}});
    let job_id = submit_id(
        &server,
        &json!({"request": "Build a Twitter-like app", "plan": {"name": "app", "decompose": decompose}}),
    )
    .await;
    let job = wait_for(&server, &job_id, |job| job["tree"]["usage"]["calls"] == 1).await;
    let root_id = job["tree"]["id"].as_str().expect("id").to_string();
    server.child.kill().expect("kill -9");
    let _ = server.child.wait();
    let server = store.start();
    let job = wait_for(&server, &job_id, super::ended).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["tree"]["attempts"], 1, "going on is not a new attempt");
    let planned = provider.received().iter().filter(|r| r.body.to_string().contains(PLANNING)).count();
    assert_eq!(planned, 1, "the stored plan was replayed, not asked again");
    let calls = llm_calls(&server, &job_id, &root_id).await;
    assert_eq!(purposes(&calls), ["plan", "decompose"]);
    assert_eq!(job["tree"]["children"].as_array().map(Vec::len), Some(3));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_heavy_managers_share_is_decomposed_again_at_the_next_depth() {
    let high = |title: &str| {
        json!({"title": title, "description": format!("{title}, exactly."), "domain": "backend",
               "function": "api", "complexity": "high", "success_criteria": [format!("{title} works")]})
    };
    let heavy = json!({"tasks": [{"title": "API", "subtasks": [high("Auth"), high("Posts"), high("Feed"), high("Search")]},
        {"title": "UI", "subtasks": [{"title": "Feed page", "description": "d", "domain": "frontend",
            "function": "pages", "complexity": "low"}]}]});
    let finer = json!({"tasks": [{"title": "Auth", "subtasks": [
        {"title": "POST /login", "description": "d", "domain": "backend", "function": "auth", "complexity": "medium"},
        {"title": "POST /signup", "description": "d", "domain": "backend", "function": "auth", "complexity": "medium"}]}]});
    let routes = vec![
        route(&[PLANNING], vec![ok(&plan().to_string()), ok(&plan().to_string())]),
        route(&[BREAKING_DOWN, "Your share of the project (4 tasks)"], vec![ok(&finer.to_string())]),
        route(&[BREAKING_DOWN], vec![ok(&heavy.to_string())]),
    ];
    let provider = ScriptedLlm::start_routed(routes, Vec::new()).await;
    let mut store = Store::new(&provider.url).await;
    let server = store.start();
    let decompose = json!({"type": "llm", "provider": "scripted", "agent": {"type": "echo", "value": "built"}});
    let job = json!({"request": "Build a Twitter-like app", "plan": {"name": "app", "decompose": decompose}});
    let job = run_to_end(&server, &job).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let backend = node(&job, "backend");
    assert_eq!(backend["depth"], 1);
    let agents: Vec<&Value> = backend["children"].as_array().expect("its own agents").iter().collect();
    assert_eq!(agents.len(), 1, "two medium auth tasks: one agent, directly under it: {backend}");
    assert_eq!((agents[0]["name"].as_str(), agents[0]["depth"].as_i64()), (Some("auth"), Some(2)));
    assert_eq!(job["tree"]["result"]["assignments"][0]["decomposes"], true);
    assert_eq!(node(&job, "frontend")["children"][0]["name"], "pages", "a light share keeps its agents");
    let nested =
        provider.received().iter().map(|r| r.body.to_string()).find(|b| b.contains("Your share of the project"));
    assert!(nested.expect("the share was planned").contains("Chirp"), "the share's planning reads the root's plan");
}
