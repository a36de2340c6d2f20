//! Recursion from inside a worker (SPEC §4.7): real shell-script workers call back with the
//! token in their environment.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{flatten, node, spawn_app};

/// The worker: `spawn LEVEL MAX` spawns two children one level down until MAX; `copy`
/// spawns an exact copy of itself; `trespass FILE` waits for FILE to name another job and
/// a node outside its subtree, then tries to reach them.
const SCRIPT: &str = r#"#!/bin/sh
api="$CADRE_URL/api/v1/recursion"
call() { # METHOD PATH [BODY]: prints the status
  curl -s -o /tmp/cadre-body.$$ -w '%{http_code}' -X "$1" -H "Authorization: Bearer $CADRE_TOKEN" \
    -H 'Content-Type: application/json' ${3:+-d "$3"} "$api$2"
}
children="/job/$CADRE_JOB_ID/nodes/$CADRE_NODE_ID/children"
case "$1" in
spawn)
  echo "level $2 at depth $CADRE_DEPTH"
  max=$3
  if [ "$2" -lt "$max" ]; then
    next=$(($2 + 1))
    kid() { printf '{"name":"%s%s","title":"level %s %s","run":{"type":"command","argv":["sh","%s","spawn","%s","%s"]}}' "$1" "$next" "$next" "$1" "$0" "$next" "$max"; }
    echo "spawn $(call POST "$children" "{\"children\":[$(kid a),$(kid b)]}")"
  fi ;;
copy)
  echo "copy $(call POST "$children" "{\"children\":[{\"name\":\"again\",\"title\":\"Copy  Cat\",\"run\":{\"type\":\"command\",\"argv\":[\"sh\",\"$0\",\"copy\"]}}]}")"
  cat /tmp/cadre-body.$$ ;;
trespass)
  i=0; while [ ! -s "$2" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
  read other outside < "$2"
  echo "own $(call GET "/job/$CADRE_JOB_ID")"
  echo "other-read $(call GET "/job/$other")"
  echo "other-spawn $(call POST "/job/$other/nodes/$outside/children" '{"children":[{"name":"x","run":{"type":"noop"}}]}')"
  echo "outside-spawn $(call POST "/job/$CADRE_JOB_ID/nodes/$outside/children" '{"children":[{"name":"x","run":{"type":"noop"}}]}')"
  echo "list $(call GET "/jobs")" ;;
esac
rm -f /tmp/cadre-body.$$
"#;

fn script(dir: &Path) -> PathBuf {
    let path = dir.join("worker.sh");
    std::fs::write(&path, SCRIPT).expect("write script");
    path
}

fn command(name: &str, title: &str, argv: &[&str]) -> Value {
    json!({"name": name, "title": title, "run": {"type": "command", "argv": argv}})
}

fn stdout(node: &Value) -> &str {
    node["result"]["output"]["stdout"].as_str().or(node["result"]["stdout"].as_str()).unwrap_or("")
}

#[tokio::test]
async fn workers_spawn_children_that_spawn_in_turn_three_levels_down() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("dir");
    let script = script(dir.path());
    let script = script.to_str().expect("utf-8");
    let job = json!({"request": "recursive team", "config": {"max_depth": 3},
        "plan": command("boss", "level 0", &["sh", script, "spawn", "0", "3"])});
    let id = app.submit(&job).await;
    let job = app.wait_for_end(&id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let nodes = flatten(&job["tree"]);
    assert_eq!(nodes.len(), 15, "1 + 2 + 4 + 8 workers");
    assert_eq!(job["counts"]["by_depth"], json!({"0": 1, "1": 2, "2": 4, "3": 8}));
    let boss = &job["tree"];
    assert!(stdout(boss).contains("level 0 at depth 0\nspawn 201"), "{boss}");
    assert_eq!(boss["result"]["children"].as_array().expect("aggregate").len(), 2, "own output plus the children's");
    let deepest = node(&job["tree"], "a3");
    assert_eq!(deepest["depth"], 3);
    assert!(stdout(deepest).contains("level 3 at depth 3"));
}

#[tokio::test]
async fn a_worker_spawning_a_copy_of_itself_is_refused_as_circular() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("dir");
    let script = script(dir.path());
    let job = json!({"request": "copycat", "plan": command("original", "copy cat", &["sh", script.to_str().expect("utf-8"), "copy"])});
    let id = app.submit(&job).await;
    let job = app.wait_for_end(&id).await;
    let out = stdout(&job["tree"]);
    assert!(out.starts_with("copy 422"), "{out}");
    assert!(out.contains("circular recursion: 'again' repeats the task of its ancestor 'original'"), "{out}");
    assert_eq!(job["tree"]["child_count"], 0, "nothing was created");
}

#[tokio::test]
async fn a_worker_token_reaches_nothing_outside_its_subtree() {
    let app = spawn_app().await;
    let other =
        app.submit(&json!({"request": "other", "plan": {"name": "o", "run": {"type": "sleep", "ms": 3000}}})).await;
    let dir = tempfile::tempdir().expect("dir");
    let script = script(dir.path());
    let targets = dir.path().join("targets");
    let job = json!({"request": "trespass", "plan": {"name": "root", "children": [
        command("trespasser", "t", &["sh", script.to_str().expect("utf-8"), "trespass", targets.to_str().expect("utf-8")]),
        {"name": "bystander", "run": {"type": "sleep", "ms": 3000}}]}});
    let id = app.submit(&job).await;
    let running = app.job(&id).await;
    let bystander = node(&running["tree"], "bystander")["id"].as_str().expect("id").to_string();
    std::fs::write(&targets, format!("{other} {bystander}\n")).expect("write targets");
    let job = wait_for_output(&app, &id, "trespasser").await;
    let out = stdout(node(&job["tree"], "trespasser")).to_string();
    assert_eq!(out, "own 200\nother-read 404\nother-spawn 404\noutside-spawn 403\nlist 403\n");
}

async fn wait_for_output(app: &crate::helpers::TestApp, id: &str, name: &str) -> Value {
    let begun = Instant::now();
    loop {
        let job = app.job(id).await;
        if node(&job["tree"], name)["status"] != "running" && node(&job["tree"], name)["status"] != "pending" {
            return job;
        }
        assert!(begun.elapsed() < crate::helpers::JOB_DEADLINE, "{job}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn spawns_obey_the_depth_cap_and_node_limit_and_end_with_the_job() {
    let app = crate::helpers::spawn_app_with(|c| c.limits.max_nodes_per_job = 4).await;
    let dir = tempfile::tempdir().expect("dir");
    let token_file = dir.path().join("token");
    let keep_token = format!("echo \"$CADRE_TOKEN\" > {}; sleep 1", token_file.display());
    let job = json!({"request": "host", "config": {"max_depth": 2}, "plan": {"name": "root", "children": [
        {"name": "host", "run": {"type": "command", "argv": ["sh", "-c", keep_token]}}]}});
    let id = app.submit(&job).await;
    let running = app.wait_for(&id, |j| node(&j["tree"], "host")["status"] == "running").await;
    let host = node(&running["tree"], "host")["id"].as_str().expect("id").to_string();
    let path = format!("/recursion/job/{id}/nodes/{host}/children");
    let too_deep = json!({"children": [{"name": "mid", "children": [{"name": "deep", "run": {"type": "noop"}}]}]});
    let refused = app.post(&path, &too_deep).await;
    assert_eq!(refused.status(), 422);
    let body: Value = refused.json().await.expect("json");
    assert!(body["errors"][0]["message"].as_str().expect("message").contains("beyond max_depth 2"), "{body}");
    let too_many = json!({"children": [{"name": "a", "run": {"type": "noop"}}, {"name": "b", "run": {"type": "noop"}}, {"name": "c", "run": {"type": "noop"}}]});
    assert_eq!(app.post(&path, &too_many).await.status(), 422, "3 + 2 nodes > the limit of 4");
    let fine = app.post(&path, &json!({"children": [{"name": "helper", "run": {"type": "echo", "value": 7}}]})).await;
    assert_eq!(fine.status(), 201);
    let created: Value = fine.json().await.expect("json");
    assert_eq!(created["nodes"][0]["depth"], 2);
    let job = app.wait_for_end(&id).await;
    assert_eq!(job["status"], "succeeded");
    assert_eq!(node(&job["tree"], "helper")["result"], 7);
    assert_eq!(node(&job["tree"], "host")["result"]["children"][0]["result"], 7);
    assert_eq!(app.post(&path, &json!({"children": [{"name": "late", "run": {"type": "noop"}}]})).await.status(), 409);
    let token = std::fs::read_to_string(&token_file).expect("token").trim().to_string();
    let after =
        app.client.get(app.api(&format!("/recursion/job/{id}"))).bearer_auth(token).send().await.expect("request");
    assert_eq!(after.status(), 401, "the token died with its job");
}
