//! Alerts (issue 15): a job whose finished workers fail too often is held — nothing new
//! starts — until a person resumes it, across a restart too; a node running far past its
//! finished siblings is reported; a depth busy at its quota for long enough raises an alert
//! that is resolved once it is not.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{node, replayed, spawn_app_at, spawn_app_with, TestApp};

async fn alerts(app: &TestApp, query: &str) -> Vec<Value> {
    app.get_json(&format!("/alerts?{query}")).await["alerts"].as_array().expect("alerts").clone()
}

/// Waits until `query` lists an alert for which `ready` holds.
async fn wait_for_alert(app: &TestApp, query: &str, ready: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..300 {
        if let Some(alert) = alerts(app, query).await.into_iter().find(|a| ready(a)) {
            return alert;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no alert for {query}: {:?}", alerts(app, query).await);
}

#[tokio::test]
async fn a_failing_job_is_held_until_a_person_resumes_it_even_across_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = crate::common::fresh_database_url().await;
    let data = dir.path().join("data");
    let app = spawn_app_at(&data, database_url.clone(), |_| {}).await;
    let mut children: Vec<Value> =
        (1..=5).map(|i| json!({"name": format!("f{i}"), "run": {"type": "fail", "message": "broken"}})).collect();
    children.extend((1..=3).map(|i| json!({"name": format!("s{i}"), "run": {"type": "echo", "value": i}})));
    let job = json!({"request": "flaky suite", "plan": {"name": "suite", "on_child_failure": "continue",
        "max_parallel": 1, "retry": {"max_attempts": 1}, "children": children}});
    let id = app.submit(&job).await;
    let held = app.wait_for(&id, |job| job["status"] == "paused").await;
    assert_eq!(node(&held["tree"], "s1")["status"], "pending", "nothing new starts: {held}");
    let alert = wait_for_alert(&app, &format!("job_id={id}&open=true"), |a| a["rule"] == "failure_rate").await;
    assert_eq!(
        (&alert["data"]["finished"], &alert["data"]["failed"], &alert["data"]["held"]),
        (&json!(5), &json!(5), &json!(true))
    );
    assert_eq!(
        alert["message"],
        "5 of 5 finished workers failed (100 % > 20 %); new starts are held until someone resumes the job"
    );
    app.stop().await;

    let app = spawn_app_at(&data, database_url, |_| {}).await;
    let job = app.wait_for(&id, |job| job["status"] == "paused").await;
    assert_eq!(node(&job["tree"], "s1")["status"], "pending", "still held after the restart");
    let resumed = app.post(&format!("/recursion/job/{id}/resume"), &json!(null)).await;
    assert_eq!(resumed.status(), StatusCode::ACCEPTED);
    let job = app.wait_for_end(&id).await;
    assert_eq!(node(&job["tree"], "s3")["status"], "succeeded", "{job}");
    let again = app.post(&format!("/recursion/job/{id}/resume"), &json!(null)).await;
    assert_eq!(again.status(), StatusCode::CONFLICT, "an ended job is not held");
    let resolved = alerts(&app, &format!("job_id={id}&open=false")).await;
    assert_eq!((resolved.len(), &resolved[0]["resolved_by"]), (1, &json!("bootstrap")));
    let events = replayed(&app, &id, "alert_resolved").await;
    assert_eq!(events[0]["resolved_by"], "bootstrap");
    let metrics = app.client.get(app.url("/metrics")).send().await.expect("metrics").text().await.expect("text");
    assert!(metrics.contains("cadre_alerts_total{rule=\"failure_rate\"}"), "{metrics}");
}

#[tokio::test]
async fn a_straggler_and_a_busy_quota_raise_alerts() {
    let app = spawn_app_with(|config| {
        config.alerts.check_every_s = 1;
        config.alerts.quota_busy_for_s = 1;
        config.resources.quotas.insert("1".into(), 4);
    })
    .await;
    let sleep = |ms: u64| json!({"type": "sleep", "ms": ms});
    let job = json!({"request": "one slow", "plan": {"name": "team", "children": [
        {"name": "a", "run": sleep(50)}, {"name": "b", "run": sleep(50)}, {"name": "c", "run": sleep(50)},
        {"name": "slow", "run": sleep(3000)}]}});
    let id = app.submit(&job).await;
    let straggler = wait_for_alert(&app, &format!("job_id={id}&rule=straggler"), |_| true).await;
    let slow_id = node(&app.job(&id).await["tree"], "slow")["id"].clone();
    assert_eq!((&straggler["node_id"], &straggler["data"]["siblings"]), (&slow_id, &json!(3)));
    app.wait_for_end(&id).await;
    // All four slots of depth 1 for one job's workers, for longer than `quota_busy_for_s`.
    let busy = json!({"request": "busy", "plan": {"name": "busy", "children":
        (0..4).map(|i| json!({"name": format!("w{i}"), "run": sleep(3000)})).collect::<Vec<_>>()}});
    let busy_id = app.submit(&busy).await;
    let fired = wait_for_alert(&app, "rule=quota_busy", |a| a["data"]["depth"] == 1).await;
    assert_eq!((&fired["job_id"], &fired["data"]["percent"]), (&Value::Null, &json!(100)));
    app.wait_for_end(&busy_id).await;
    let resolved = wait_for_alert(&app, "rule=quota_busy&open=false", |a| a["id"] == fired["id"]).await;
    assert_eq!(resolved["resolved_by"], Value::Null, "resolved by the quota coming free");
}

#[tokio::test]
async fn a_worker_silent_past_its_limit_raises_an_alert_and_output_or_a_call_back_keep_one_quiet() {
    let app = spawn_app_with(|config| {
        config.alerts.check_every_s = 1;
        // 3 s, not 1: a loaded machine can take a second or two to start python and its first
        // call (silence counts from the process's start).
        config.alerts.silent_after_s = 3;
        config.alerts.straggler_factor = 0.0;
    })
    .await;
    let sh = |script: &str| json!({"type": "command", "argv": ["sh", "-c", script]});
    let call_back = "import os, time, urllib.request as u\n\
        r = u.Request(os.environ['CADRE_URL'] + '/api/v1/recursion/job/' + os.environ['CADRE_JOB_ID'],\n\
                      headers={'Authorization': 'Bearer ' + os.environ['CADRE_TOKEN']})\n\
        for _ in range(20):\n    u.urlopen(r).read(); time.sleep(0.3)";
    let job = json!({"request": "quiet and chatty", "plan": {"name": "team", "children": [
        {"name": "quiet", "run": sh("sleep 6")},
        {"name": "chatty", "run": sh("for i in $(seq 20); do echo tick; sleep 0.3; done")},
        {"name": "caller", "run": {"type": "command", "argv": ["python3", "-c", call_back]}}]}});
    let id = app.submit(&job).await;
    let job = app.wait_for_end(&id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let silent = alerts(&app, &format!("job_id={id}&rule=silent_worker")).await;
    let quiet_id = node(&job["tree"], "quiet")["id"].clone();
    let nodes: Vec<&Value> = silent.iter().map(|a| &a["node_id"]).collect();
    assert_eq!(nodes, [&quiet_id], "only the quiet one: {silent:?}");
    assert_eq!(silent[0]["data"]["limit_s"], 3);
}
