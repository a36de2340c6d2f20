//! The rest of the surface: health, OpenAPI, the reference page, validation, listing,
//! tree options, hierarchy and stats.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, uniform_tree};

#[tokio::test]
async fn health_and_readiness_answer_without_a_key() {
    let app = spawn_app().await;
    let health = app.client.get(app.url("/healthz")).send().await.expect("request");
    assert_eq!(health.status(), 200);
    let ready = app.client.get(app.url("/readyz")).send().await.expect("request");
    assert_eq!(ready.status(), 200);
}

#[tokio::test]
async fn a_server_on_its_own_is_a_cluster_of_one() {
    let app = spawn_app().await;
    let ready: Value = app.client.get(app.url("/readyz")).send().await.expect("request").json().await.expect("json");
    let cluster = app.get_json("/cluster").await;
    assert_eq!(cluster["enabled"], false);
    let replicas = cluster["replicas"].as_array().expect("replicas");
    assert_eq!(replicas.len(), 1, "{cluster}");
    let this = &replicas[0];
    assert_eq!((this["state"].as_str(), this["this"].as_bool()), (Some("live"), Some(true)));
    assert_eq!(this["address"], app.base, "advertised at its bound address");
    assert_eq!(this["pid"], std::process::id());
    assert_eq!(
        (this["id"].clone(), ready["replica"]["id"].clone()),
        (cluster["replica_id"].clone(), cluster["replica_id"].clone())
    );
    assert_eq!(
        (ready["replica"]["cluster"].as_bool(), ready["replica"]["live_replicas"].as_u64()),
        (Some(false), Some(1))
    );
    let metrics = app.client.get(app.url("/metrics")).send().await.expect("request").text().await.expect("text");
    let info = format!("cadre_replica_info{{replica=\"{}\",cluster=\"false\"}} 1", this["id"].as_str().expect("id"));
    assert!(metrics.contains(&info), "{metrics}");
    assert!(metrics.contains("cadre_cluster_replicas{state=\"live\"} 1"), "{metrics}");
    // On its own it may hold every depth's whole quota, and owns every unfinished job.
    let stats = app.get_json("/recursion/stats").await;
    let quotas: Vec<Value> = stats["by_depth"].as_array().expect("depths").iter().map(|d| d["quota"].clone()).collect();
    let shares: Vec<Value> = stats["by_depth"].as_array().expect("depths").iter().map(|d| d["share"].clone()).collect();
    assert_eq!((this["shares"].as_array(), Some(&shares)), (Some(&quotas), Some(&quotas)), "{cluster}");
    assert_eq!(this["jobs"], 0);
    assert!(metrics.contains("cadre_slot_share{depth=\"1\"} "), "{metrics}");
    let denied = app.client.get(app.api("/cluster")).send().await.expect("request");
    assert_eq!(denied.status(), 401, "a key is needed");
}

/// Every route under `/api/v1`.
const API_ROUTES: [&str; 39] = [
    "/agents",
    "/agents/org",
    "/agents/templates",
    "/agents/{name}",
    "/agents/{name}/messages",
    "/agents/{name}/messages/{msg_id}/ack",
    "/agents/{name}/messages/{msg_id}/nack",
    "/alerts",
    "/approvals",
    "/approvals/{id}",
    "/approvals/{id}/decision",
    "/audit",
    "/cluster",
    "/keys",
    "/keys/{id}",
    "/notify/webhooks",
    "/recursion/hierarchy",
    "/recursion/job",
    "/recursion/job/{id}",
    "/recursion/job/{id}/answer",
    "/recursion/job/{id}/messages",
    "/recursion/job/{id}/messages/{msg_id}/ack",
    "/recursion/job/{id}/messages/{msg_id}/nack",
    "/recursion/job/{id}/nodes/{node_id}",
    "/recursion/job/{id}/nodes/{node_id}/ancestors",
    "/recursion/job/{id}/nodes/{node_id}/children",
    "/recursion/job/{id}/nodes/{node_id}/descendants",
    "/recursion/job/{id}/nodes/{node_id}/diff",
    "/recursion/job/{id}/nodes/{node_id}/llm-calls",
    "/recursion/job/{id}/nodes/{node_id}/logs",
    "/recursion/job/{id}/nodes/{node_id}/messages",
    "/recursion/job/{id}/nodes/{node_id}/usage",
    "/recursion/job/{id}/report",
    "/recursion/job/{id}/resume",
    "/recursion/job/{id}/workspace",
    "/recursion/jobs",
    "/recursion/plan",
    "/recursion/stats",
    "/recursion/validate",
];

#[tokio::test]
async fn the_openapi_document_lists_every_route_and_the_reference_page_is_served() {
    let app = spawn_app().await;
    let doc: Value =
        app.client.get(app.api("/openapi.json")).send().await.expect("request").json().await.expect("json");
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["servers"][0]["url"], "/", "paths are written whole");
    let list_params = doc["paths"]["/api/v1/recursion/jobs"]["get"]["parameters"].as_array().expect("parameters");
    assert!(
        list_params.iter().all(|p| p["in"] == "query" && p["required"] == false),
        "filters are optional query parameters: {list_params:?}"
    );
    let mut paths: Vec<&str> = doc["paths"].as_object().expect("paths").keys().map(String::as_str).collect();
    paths.sort_unstable();
    let api = API_ROUTES;
    let mut expected: Vec<String> = api.iter().map(|p| format!("/api/v1{p}")).collect();
    expected.extend(["/healthz", "/metrics", "/readyz"].map(String::from));
    expected.sort_unstable();
    assert_eq!(paths, expected);
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn the_document_states_ids_statuses_bounds_and_every_error() {
    let app = spawn_app().await;
    let doc: Value =
        app.client.get(app.api("/openapi.json")).send().await.expect("request").json().await.expect("json");
    let get_job = &doc["paths"]["/api/v1/recursion/job/{id}"]["get"];
    assert_eq!(get_job["parameters"][0]["schema"]["format"], "uuid");
    for status in ["200", "400", "401", "403", "404", "408", "429", "503"] {
        assert!(get_job["responses"].get(status).is_some(), "GET job lacks {status}");
    }
    let statuses = &doc["components"]["schemas"]["JobStatus"]["enum"];
    assert_eq!(statuses, &json!(["queued", "running", "paused", "cancelling", "succeeded", "failed", "cancelled"]));
    assert_eq!(
        doc["components"]["schemas"]["JobView"]["properties"]["status"]["$ref"],
        "#/components/schemas/JobStatus"
    );
    let limit = doc["paths"]["/api/v1/recursion/jobs"]["get"]["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .find(|p| p["name"] == "limit")
        .expect("limit")
        .clone();
    assert_eq!((&limit["schema"]["minimum"], &limit["schema"]["maximum"]), (&json!(1), &json!(500)));
    let busy = &doc["components"]["responses"]["TooManyRequests"];
    assert!(busy["headers"]["Retry-After"].is_object(), "429 says when to come back");
    assert!(busy["content"]["application/problem+json"].is_object());
}

#[tokio::test]
async fn the_reference_page_answers_at_docs_itself_with_its_files() {
    let app = spawn_app().await;
    // Redirects are not followed, so that `/docs` must answer the page itself.
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    for address in ["/docs", "/docs/"] {
        let page = client.get(app.url(address)).send().await.expect("request");
        assert_eq!(page.status(), 200, "{address} answers the page, not a redirect");
        let html = page.text().await.expect("text");
        assert!(html.contains("swagger") && html.contains("<base href=\"/docs/\">"), "{address}: {html}");
        assert!(!html.contains("cdn"), "nothing is loaded from a CDN");
    }
    let script = app.client.get(app.url("/docs/swagger-initializer.js")).send().await.expect("request");
    assert_eq!(script.status(), 200);
    assert!(script.text().await.expect("text").contains("/api/v1/openapi.json"), "the page reads our document");
}

#[tokio::test]
async fn validate_reports_an_estimate_and_creates_nothing() {
    let app = spawn_app().await;
    let report: Value = app.post("/recursion/validate", &uniform_tree(3, 2)).await.json().await.expect("json");
    assert_eq!(report["valid"], true);
    assert_eq!(report["estimate"], json!({"nodes": 7, "leaves": 4, "max_depth": 2, "workers_by_depth": {"2": 4}}));
    assert_eq!(report["capacity"]["available_by_depth"]["0"], 10);
    let bad: Value = app
        .post("/recursion/validate", &json!({"request": "", "config": {"workers_by_depth": {"1": 99}}, "plan": {"name": "r", "run": {"type": "noop"}}}))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(bad["valid"], false);
    assert_eq!(bad["errors"][0]["path"], "request");
    assert_eq!(bad["warnings"][0]["path"], "config.workers_by_depth.1");
    assert_eq!(app.get_json("/recursion/jobs").await["jobs"], json!([]));
}

#[tokio::test]
async fn the_jobs_list_pages_with_a_cursor_and_filters() {
    let app = spawn_app().await;
    for i in 0..5 {
        let mut job = uniform_tree(2, 1);
        job["labels"] = json!({"parity": if i % 2 == 0 { "even" } else { "odd" }});
        let id = app.submit(&job).await;
        app.wait_for_end(&id).await;
    }
    let first: Value = app.get_json("/recursion/jobs?limit=2").await;
    assert_eq!(first["jobs"].as_array().expect("jobs").len(), 2);
    let cursor = first["next_cursor"].as_str().expect("cursor");
    let second: Value = app.get_json(&format!("/recursion/jobs?limit=2&cursor={cursor}")).await;
    assert_ne!(second["jobs"][0]["job_id"], first["jobs"][0]["job_id"]);
    let third: Value = app
        .get_json(&format!("/recursion/jobs?limit=2&cursor={}", second["next_cursor"].as_str().expect("cursor")))
        .await;
    assert_eq!(third["jobs"].as_array().expect("jobs").len(), 1);
    assert_eq!(third["next_cursor"], Value::Null, "no cursor on the last page");
    let exact: Value = app.get_json("/recursion/jobs?limit=5").await;
    assert_eq!(exact["next_cursor"], Value::Null, "an exactly full last page has no cursor either");
    let even: Value = app.get_json("/recursion/jobs?label=parity:even").await;
    assert_eq!(even["jobs"].as_array().expect("jobs").len(), 3);
    assert_eq!(app.get("/recursion/jobs?status=bogus").await.status(), 400);
    assert_eq!(app.get("/recursion/jobs?limit=0").await.status(), 400);
}

#[tokio::test]
async fn the_tree_can_be_truncated_by_depth_and_stripped_of_results() {
    let app = spawn_app().await;
    let id = app.submit(&uniform_tree(3, 2)).await;
    app.wait_for_end(&id).await;
    let job = app.get_json(&format!("/recursion/job/{id}?max_depth=1&results=false")).await;
    let child = &job["tree"]["children"][0];
    assert_eq!(child["truncated"], true);
    assert_eq!(child["child_count"], 2);
    assert_eq!(child["children"], json!([]));
    assert!(job["result"].is_null() && child.get("result").is_none());
}

#[tokio::test]
async fn hierarchy_and_stats_describe_a_running_job() {
    let app = spawn_app().await;
    let job = json!({"request": "watch me", "plan": {"name": "root", "children": [
        {"name": "slow", "run": {"type": "sleep", "ms": 1500}}, {"name": "quick", "run": {"type": "noop"}}]}});
    let id = app.submit(&job).await;
    app.wait_for(&id, |j| crate::helpers::node(&j["tree"], "slow")["status"] == "running").await;
    let hierarchy = app.get_json("/recursion/hierarchy").await;
    assert_eq!(hierarchy["name"], "jobs");
    let root = &hierarchy["children"][0];
    assert_eq!(root["job_id"], json!(id));
    assert_eq!(root["role"], "cto");
    let slow = root["children"].as_array().expect("children").iter().find(|c| c["name"] == "slow").expect("slow");
    assert_eq!(slow["usage"]["slots"], 1, "a working node holds its slot");
    assert_eq!(
        (slow["attempts"].clone(), slow["kind"].clone(), slow["title"].clone()),
        (json!(1), json!("worker"), json!("slow"))
    );
    assert_eq!(root["usage"]["slots"], 0, "a waiting orchestrator holds none");
    let tree = app.job(&id).await["tree"].clone();
    assert_eq!(crate::helpers::node(&tree, "slow")["slots"], 1, "the job's tree shows the held slot too");
    assert_eq!(tree["slots"], 0);
    let stats = app.stats().await;
    assert_eq!(stats["by_depth"][1]["in_use"], 1);
    assert_eq!(stats["by_depth"][0]["active"], 1);
    assert_eq!(stats["by_depth"][1]["role"], "pm");
    assert_eq!(stats["jobs"]["running"], 1);
    let one = app.get_json(&format!("/recursion/hierarchy?job_id={id}")).await;
    assert_eq!(one["children"].as_array().expect("children").len(), 1);
}

#[tokio::test]
async fn usage_is_sampled_into_the_history_and_held_slots_are_checked_for_leaks() {
    let app = crate::helpers::spawn_app_with(|c| {
        c.resources.usage_sample_interval_s = 1;
        c.resources.leak_check_interval_s = 1;
    })
    .await;
    let id = app.submit(&json!({"request": "hold", "plan": {"name": "w", "run": {"type": "sleep", "ms": 1500}}})).await;
    let job = app.wait_for_end(&id).await;
    assert_eq!(job["status"], "succeeded");
    let stats = app.stats().await;
    let history = stats["history"].as_array().expect("history");
    assert!(history.len() >= 6, "one sample per depth at least: {history:?}");
    assert!(history.iter().any(|p| p["depth"] == 0 && p["in_use"] == 1), "the held slot was sampled");
    assert_eq!(stats["leaks_reclaimed"], 0, "a live holder is never reclaimed");
}
