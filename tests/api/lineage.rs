//! Hierarchy queries on one node (issue 16): `GET …/nodes/{node_id}/ancestors` (nearest
//! first) and `…/descendants` (breadth-first, paged by a cursor, cut by `max_depth`), their
//! refusals, and what a worker token sees of them.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{node, spawn_app, TestApp, JOB_DEADLINE};

/// Three levels, unevenly: `root` → `a` (→ `a1`, `a2`), `b` (→ `b1`), `c`.
fn tree() -> Value {
    let leaf = |name: &str| json!({"name": name, "title": format!("leaf {name}"), "run": {"type": "echo", "value": 1}});
    json!({"request": "lineage", "config": {"max_depth": 2}, "plan": {"name": "root", "children": [
        {"name": "a", "children": [leaf("a1"), leaf("a2")]},
        {"name": "b", "children": [leaf("b1")]},
        leaf("c")]}})
}

fn id_of<'a>(tree: &'a Value, name: &str) -> &'a str {
    node(tree, name)["id"].as_str().expect("id")
}

fn names(nodes: &Value) -> Vec<&str> {
    nodes.as_array().expect("array").iter().map(|n| n["name"].as_str().expect("name")).collect()
}

/// Every page of a node's descendants, following `next_cursor`.
async fn all_pages(app: &TestApp, base: &str, limit: usize) -> Vec<Value> {
    let (mut rows, mut cursor, mut pages) = (Vec::new(), None::<String>, 0);
    loop {
        let after = cursor.as_deref().map(|c| format!("&cursor={c}")).unwrap_or_default();
        let page = app.get_json(&format!("{base}?limit={limit}{after}")).await;
        let got = page["descendants"].as_array().expect("descendants");
        assert!(got.len() <= limit && !got.is_empty(), "{page}");
        rows.extend(got.iter().cloned());
        pages += 1;
        assert!(pages < 100, "the pages never end");
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return rows,
        }
    }
}

async fn problem(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status);
    let kind = response.headers()["content-type"].to_str().expect("ascii").to_string();
    assert_eq!(kind, "application/problem+json");
    response.json().await.expect("json")
}

#[tokio::test]
async fn ancestors_are_nearest_first_in_compact_summaries() {
    let app = spawn_app().await;
    let id = app.submit(&tree()).await;
    let job = app.wait_for_end(&id).await;
    let tree = &job["tree"];
    let (a2, a, root) = (id_of(tree, "a2"), id_of(tree, "a"), id_of(tree, "root"));
    let answer = app.get_json(&format!("/recursion/job/{id}/nodes/{a2}/ancestors")).await;
    assert_eq!((answer["job_id"].as_str(), answer["node_id"].as_str()), (Some(id.as_str()), Some(a2)));
    assert_eq!(names(&answer["ancestors"]), ["a", "root"]);
    let parent = &answer["ancestors"][0];
    let mut fields: Vec<&str> = parent.as_object().expect("object").keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "attempts",
            "depth",
            "finished_at",
            "id",
            "kind",
            "name",
            "parent_id",
            "role",
            "started_at",
            "status",
            "title"
        ]
    );
    assert_eq!((parent["id"].as_str(), parent["parent_id"].as_str()), (Some(a), Some(root)));
    assert_eq!(
        (&parent["depth"], &parent["kind"], &parent["status"]),
        (&json!(1), &json!("orchestrator"), &json!("succeeded"))
    );
    assert_eq!((&answer["ancestors"][1]["parent_id"], &answer["ancestors"][1]["depth"]), (&Value::Null, &json!(0)));
    let of_root = app.get_json(&format!("/recursion/job/{id}/nodes/{root}/ancestors")).await;
    assert_eq!(of_root["ancestors"], json!([]), "a root has none");
}

#[tokio::test]
async fn descendants_page_breadth_first_and_stop_at_max_depth() {
    let app = spawn_app().await;
    let id = app.submit(&tree()).await;
    let job = app.wait_for_end(&id).await;
    let (root, a, c) = (id_of(&job["tree"], "root"), id_of(&job["tree"], "a"), id_of(&job["tree"], "c"));
    let base = format!("/recursion/job/{id}/nodes/{root}/descendants");
    let whole = app.get_json(&base).await;
    assert_eq!(names(&whole["descendants"]), ["a", "b", "c", "a1", "a2", "b1"]);
    assert_eq!(whole["next_cursor"], Value::Null);
    assert_eq!(whole["descendants"][3]["parent_id"].as_str(), Some(a));
    assert!(whole["descendants"][3].get("result").is_none(), "no results in a summary");
    for limit in [1, 2, 4] {
        assert_eq!(all_pages(&app, &base, limit).await, whole["descendants"].as_array().expect("rows").clone());
    }
    let children = app.get_json(&format!("{base}?max_depth=1")).await;
    assert_eq!(names(&children["descendants"]), ["a", "b", "c"]);
    let first = app.get_json(&format!("{base}?max_depth=1&limit=2")).await;
    let cursor = first["next_cursor"].as_str().expect("a second page");
    let rest = app.get_json(&format!("{base}?max_depth=1&limit=2&cursor={cursor}")).await;
    assert_eq!((names(&rest["descendants"]), &rest["next_cursor"]), (vec!["c"], &Value::Null));
    let below_a = app.get_json(&format!("/recursion/job/{id}/nodes/{a}/descendants?max_depth=5")).await;
    assert_eq!(names(&below_a["descendants"]), ["a1", "a2"], "relative to the node");
    let leaf = app.get_json(&format!("/recursion/job/{id}/nodes/{c}/descendants")).await;
    assert_eq!((&leaf["descendants"], &leaf["next_cursor"]), (&json!([]), &Value::Null));
}

#[tokio::test]
async fn unknown_nodes_and_bad_parameters_are_refused_as_problems() {
    let app = spawn_app().await;
    let id = app.submit(&tree()).await;
    let other = app.submit(&tree()).await;
    let job = app.wait_for_end(&id).await;
    app.wait_for_end(&other).await;
    let root = id_of(&job["tree"], "root");
    let unknown = uuid::Uuid::now_v7();
    for route in ["ancestors", "descendants"] {
        let missing = app.get(&format!("/recursion/job/{id}/nodes/{unknown}/{route}")).await;
        problem(missing, 404).await;
        let elsewhere = app.get(&format!("/recursion/job/{other}/nodes/{root}/{route}")).await;
        let body = problem(elsewhere, 404).await;
        assert!(body["detail"].as_str().expect("detail").contains(root), "{body}");
        problem(app.get(&format!("/recursion/job/{unknown}/nodes/{root}/{route}")).await, 404).await;
    }
    let base = format!("/recursion/job/{id}/nodes/{root}/descendants");
    for (query, field) in [
        ("cursor=1", "cursor"),
        ("cursor=x.2", "cursor"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("max_depth=0", "max_depth"),
    ] {
        let body = problem(app.get(&format!("{base}?{query}")).await, 422).await;
        assert_eq!(body["errors"][0]["path"], field, "{query}: {body}");
    }
    problem(app.get(&format!("{base}?limit=many")).await, 400).await;
    problem(app.get(&format!("{base}?depth=1")).await, 400).await;
}

#[tokio::test]
async fn a_worker_token_sees_only_its_own_subtree() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("token");
    let keep = format!("echo \"$CADRE_TOKEN\" > {}.tmp && mv {0}.tmp {0}; sleep 60", file.display());
    let job = json!({"request": "worker lineage", "plan": {"name": "team", "children": [
        {"name": "host", "run": {"type": "command", "argv": ["sh", "-c", keep]}},
        {"name": "bystander", "run": {"type": "sleep", "ms": 60000}}]}});
    let id = app.submit(&job).await;
    let token = read_token(&file).await;
    let running = app.job(&id).await["tree"].clone();
    let (host, bystander, team) = (id_of(&running, "host"), id_of(&running, "bystander"), id_of(&running, "team"));
    let spawn = app.client.post(app.api(&format!("/recursion/job/{id}/nodes/{host}/children"))).bearer_auth(&token);
    let spawn = spawn.json(&json!({"children": [{"name": "kid", "run": {"type": "sleep", "ms": 60000}}]}));
    let spawned: Value = spawn.send().await.expect("request").json().await.expect("json");
    let kid = spawned["nodes"][0]["id"].as_str().expect("kid");
    let worker = Worker { app: &app, token: &token, job: &id };

    let seen = worker.json(kid, "ancestors").await;
    assert_eq!(names(&seen["ancestors"]), ["host"], "up to the worker's own node, no further");
    let by_key = app.get_json(&format!("/recursion/job/{id}/nodes/{kid}/ancestors")).await;
    assert_eq!(names(&by_key["ancestors"]), ["host", "team"]);
    assert_eq!(worker.json(host, "ancestors").await["ancestors"], json!([]));
    assert_eq!(names(&worker.json(host, "descendants").await["descendants"]), ["kid"]);
    for outside in [bystander, team] {
        for route in ["ancestors", "descendants"] {
            problem(worker.get(outside, route).await, 403).await;
        }
    }
    let other = app.submit(&tree()).await;
    problem(Worker { job: &other, ..worker }.get(host, "ancestors").await, 404).await;
    assert_eq!(app.delete(&format!("/recursion/job/{id}")).await.status(), 202);
}

/// Calls made with a worker's token.
#[derive(Clone, Copy)]
struct Worker<'a> {
    app: &'a TestApp,
    token: &'a str,
    job: &'a str,
}

impl Worker<'_> {
    async fn get(self, node: &str, route: &str) -> reqwest::Response {
        let path = format!("/recursion/job/{}/nodes/{node}/{route}", self.job);
        self.app.client.get(self.app.api(&path)).bearer_auth(self.token).send().await.expect("request")
    }

    async fn json(self, node: &str, route: &str) -> Value {
        let response = self.get(node, route).await;
        assert_eq!(response.status(), 200, "{route} of {node}");
        response.json().await.expect("json")
    }
}

async fn read_token(file: &std::path::Path) -> String {
    let begun = Instant::now();
    while !file.exists() {
        assert!(begun.elapsed() < JOB_DEADLINE, "the worker never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    std::fs::read_to_string(file).expect("token").trim().to_string()
}
