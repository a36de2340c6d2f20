//! The job's report as a CI pipeline reads it: the outcome per phase as JSON (by `Accept`)
//! and as JUnit XML (`?format=junit`), read back by an independent JUnit parser.

use std::io::Cursor;

use serde_json::{json, Value};

use crate::helpers::{spawn_app, KEY};

#[tokio::test]
async fn the_outcome_per_phase_reads_as_json_and_as_junit() {
    let app = spawn_app().await;
    let job = json!({"request": "release", "plan": {"name": "release", "on_child_failure": "continue", "children": [
        {"name": "unit", "on_child_failure": "continue", "children": [
            {"name": "fast", "run": {"type": "echo", "value": 1}},
            {"name": "broken", "run": {"type": "command", "argv": ["/nonexistent/tool"]}},
            {"name": "after", "depends_on": ["broken"], "run": {"type": "noop"}}]},
        {"name": "lint", "run": {"type": "noop"}}]}});
    let id = app.submit(&job).await;
    app.wait_for_end(&id).await;
    let url = app.api(&format!("/recursion/job/{id}/report"));
    let client = reqwest::Client::new();
    let json: Value = client
        .get(&url)
        .bearer_auth(KEY)
        .header("accept", "application/json")
        .send()
        .await
        .expect("json")
        .json()
        .await
        .expect("body");
    assert_eq!((&json["passed"], &json["failed"], &json["skipped"]), (&json!(2), &json!(1), &json!(1)), "{json}");
    let phases: Vec<&str> =
        json["phases"].as_array().expect("phases").iter().map(|p| p["name"].as_str().expect("name")).collect();
    assert_eq!(phases, ["unit", "lint"]);
    let broken = &json["phases"][0]["cases"][1];
    assert_eq!(
        (&broken["name"], &broken["failure_class"], &broken["recovery"]),
        (&json!("unit/broken"), &json!("launch"), &json!("fail"))
    );
    let response = client.get(format!("{url}?format=junit")).bearer_auth(KEY).send().await.expect("junit");
    assert!(response.headers()["content-type"].to_str().is_ok_and(|t| t.starts_with("application/xml")));
    let xml = response.text().await.expect("xml");
    let parsed = junit_parser::from_reader(Cursor::new(xml.as_bytes())).expect("a JUnit report");
    assert_eq!(parsed.suites.len(), 2);
    let unit = &parsed.suites[0];
    assert_eq!((unit.name.as_str(), unit.tests, unit.failures, unit.skipped), ("unit", 3, 1, 1), "{xml}");
    let failed = unit.cases.iter().find(|c| c.status.is_failure()).expect("a failure");
    assert_eq!(failed.name, "unit::broken", "the phase as class name, the path below it as name");
    let junit_parser::TestStatus::Failure(failure) = &failed.status else { panic!("{failed:?}") };
    assert_eq!(failure.failure_type, "launch");
    assert!(
        failure.message.contains("cannot start `/nonexistent/tool`") && failure.message.contains("(recovery: fail)"),
        "{}",
        failure.message
    );
    let markdown = client.get(&url).bearer_auth(KEY).send().await.expect("markdown");
    assert!(markdown.headers()["content-type"].to_str().is_ok_and(|t| t.starts_with("text/markdown")));
    let unknown = client.get(format!("{url}?format=pdf")).bearer_auth(KEY).send().await.expect("refused");
    assert_eq!(unknown.status(), 400);
}
