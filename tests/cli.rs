//! The `cadre` binary end to end: `serve` on a real port, and the client commands against it,
//! as a user runs them from the README.

mod common;
#[path = "support/server.rs"]
#[allow(dead_code, reason = "each test binary uses a part of the support")]
mod server;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use server::{cadre, job_json, serve, serve_with, text, Server, BIN, STARTUP_DEADLINE};

/// Fails if the server's log holds anything that looks like a key or a worker token.
fn assert_log_has_no_secrets(data_dir: &Path) {
    let log = std::fs::read_to_string(data_dir.with_extension("log")).expect("server log");
    assert!(log.contains("cadre is listening"), "the log was captured");
    assert!(!log.contains("sk-orch-"), "a key or token reached the log");
}

fn write_job(dir: &Path, name: &str, body: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, body).expect("write job file");
    path.to_str().expect("utf-8").to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_submits_watches_inspects_validates_and_cancels() {
    let dir = tempfile::tempdir().expect("dir");
    let database_url = common::fresh_database_url().await;
    let (server, generated) = serve(&dir.path().join("data"), database_url.as_deref());
    assert!(generated.is_some(), "the first start prints a generated admin key");

    let watched = cadre(&server, &["submit", "examples/release-suite.yaml", "--watch"]);
    assert!(watched.status.success(), "{}", text(&watched));
    assert!(text(&watched).contains("[succeeded]"), "{}", text(&watched));

    let failing = write_job(
        dir.path(),
        "failing.yaml",
        "request: doomed\nplan:\n  name: root\n  retry: {max_attempts: 1}\n  run: {type: fail}\n",
    );
    let failed = cadre(&server, &["submit", &failing, "--watch"]);
    assert!(!failed.status.success(), "a failed job exits non-zero");
    assert!(text(&failed).contains("[failed]"));

    let long = write_job(
        dir.path(),
        "long.json",
        r#"{"request": "long", "plan": {"name": "w", "run": {"type": "sleep", "ms": 60000}}}"#,
    );
    let submitted = cadre(&server, &["submit", &long]);
    let job_id = text(&submitted).split_whitespace().nth(1).expect("job id").to_string();
    let status = cadre(&server, &["status", &job_id]);
    assert!(text(&status).contains("w [") && status.status.success(), "{}", text(&status));
    let cancelled = cadre(&server, &["cancel", &job_id]);
    assert!(cancelled.status.success(), "{}", text(&cancelled));
    assert!(text(&cancelled).contains("cancel"));
    let again = cadre(&server, &["cancel", &job_id]);
    assert!(!again.status.success() && text(&again).contains("409"), "{}", text(&again));

    let invalid = write_job(
        dir.path(),
        "bad.json",
        r#"{"request": "bad", "plan": {"name": "has space", "run": {"type": "noop"}}}"#,
    );
    let refused = cadre(&server, &["validate", &invalid]);
    assert!(!refused.status.success());
    assert!(text(&refused).contains("plan.name"), "{}", text(&refused));
}

#[tokio::test(flavor = "multi_thread")]
async fn every_example_job_file_is_valid() {
    let dir = tempfile::tempdir().expect("dir");
    let database_url = common::fresh_database_url().await;
    let (server, _) = serve(&dir.path().join("data"), database_url.as_deref());
    let mut checked = 0;
    for entry in std::fs::read_dir("examples").expect("examples/") {
        let path = entry.expect("entry").path();
        let output = cadre(&server, &["validate", path.to_str().expect("utf-8")]);
        assert!(output.status.success(), "{}: {}", path.display(), text(&output));
        checked += 1;
    }
    assert!(checked >= 3, "the examples are there");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_generated_key_is_shown_once_and_only_its_hash_is_stored() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let database_url = common::fresh_database_url().await;
    let (first, generated) = serve(&data, database_url.as_deref());
    let secret = generated.expect("a key is generated on the first start");
    drop(first);
    let (mut second, again) = serve(&data, database_url.as_deref());
    assert_eq!(again, None, "a restart prints no key");
    second.key = secret.clone();
    let validate_hello = cadre(&second, &["validate", "examples/hello.json"]);
    assert!(validate_hello.status.success(), "the key survives a restart: {}", text(&validate_hello));
    if database_url.is_none() {
        for entry in std::fs::read_dir(&data).expect("data dir") {
            let bytes = std::fs::read(entry.expect("entry").path()).expect("read");
            let leaked = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
            assert!(!leaked, "the secret itself is never stored");
        }
    }
    let mut migrate = Command::new(BIN);
    migrate.arg("migrate").env("CADRE_DATA_DIR", &data).env_remove("DATABASE_URL");
    if let Some(url) = &database_url {
        migrate.env("DATABASE_URL", url);
    }
    let migrated = migrate.output().expect("runs");
    assert!(migrated.status.success(), "{}", text(&migrated));
}

#[tokio::test(flavor = "multi_thread")]
async fn workers_never_see_the_servers_own_settings() {
    let dir = tempfile::tempdir().expect("dir");
    let database_url = common::fresh_database_url().await;
    let (server, _) = serve(&dir.path().join("data"), database_url.as_deref());
    let probe = r#"{"request": "env", "plan": {"name": "w", "run": {"type": "command",
        "argv": ["sh", "-c", "echo \"[$CADRE_PROBE_SECRET][$DATABASE_URL][$CADRE_DATA_DIR]\""]}}}"#;
    let file = write_job(dir.path(), "probe.json", probe);
    let output = cadre(&server, &["submit", &file, "--watch"]);
    assert!(output.status.success(), "{}", text(&output));
    let job_id = text(&output).split_whitespace().nth(1).expect("job id").to_string();
    let job = job_json(&server, &job_id).await;
    assert_eq!(job["result"]["stdout"], "[][][]\n", "{job}");
    let spawner = r#"{"request": "spawn", "plan": {"name": "w", "run": {"type": "command", "argv": ["sh", "-c",
        "curl -sf -X POST -H \"Authorization: Bearer $CADRE_TOKEN\" -H 'Content-Type: application/json' -d '{\"children\":[{\"name\":\"c\",\"run\":{\"type\":\"noop\"}}]}' $CADRE_URL/api/v1/recursion/job/$CADRE_JOB_ID/nodes/$CADRE_NODE_ID/children"]}}}"#;
    let file = write_job(dir.path(), "spawner.json", spawner);
    let output = cadre(&server, &["submit", &file, "--watch"]);
    assert!(output.status.success(), "a worker spawned with its token: {}", text(&output));
    assert_log_has_no_secrets(&dir.path().join("data"));
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_are_created_listed_and_revoked_from_the_cli() {
    let dir = tempfile::tempdir().expect("dir");
    let database_url = common::fresh_database_url().await;
    let (server, _) = serve(&dir.path().join("data"), database_url.as_deref());
    let created = cadre(&server, &["keys", "create", "--name", "ci", "--scope", "write", "--scope", "read"]);
    assert!(created.status.success(), "{}", text(&created));
    let output = text(&created);
    let secret = output.split_whitespace().find(|w| w.starts_with("sk-orch-")).expect("secret printed").to_string();
    let id = output.split_whitespace().nth(1).expect("id").to_string();
    let listed = text(&cadre(&server, &["keys", "list"]));
    assert!(listed.contains(&id) && listed.contains("read,write") && !listed.contains(&secret), "{listed}");
    let ci = Server { child: Command::new("true").spawn().expect("placeholder"), url: server.url.clone(), key: secret };
    let submitted = cadre(&ci, &["submit", "examples/hello.json", "--watch"]);
    assert!(submitted.status.success(), "a write key submits: {}", text(&submitted));
    let forbidden = cadre(&ci, &["keys", "list"]);
    assert!(!forbidden.status.success() && text(&forbidden).contains("403"), "{}", text(&forbidden));
    let revoked = cadre(&server, &["keys", "revoke", &id]);
    assert!(revoked.status.success(), "{}", text(&revoked));
    let refused = cadre(&ci, &["status", "00000000-0000-0000-0000-000000000000"]);
    assert!(text(&refused).contains("401"), "{}", text(&refused));
    assert_log_has_no_secrets(&dir.path().join("data"));
}

#[tokio::test(flavor = "multi_thread")]
async fn queued_jobs_survive_a_restart_and_run_after_the_running_one() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let database_url = common::fresh_database_url().await;
    let one_at_a_time = [("CADRE_LIMITS__MAX_RUNNING_JOBS", "1")];
    let (mut first, key) = serve_with(&data, database_url.as_deref(), &one_at_a_time);
    first.key = key.expect("generated key");
    let long = write_job(
        dir.path(),
        "long.json",
        r#"{"request": "long", "plan": {"name": "w", "run": {"type": "sleep", "ms": 1500}}}"#,
    );
    let short = write_job(
        dir.path(),
        "short.json",
        r#"{"request": "short", "plan": {"name": "w", "run": {"type": "echo", "value": 1}}}"#,
    );
    let running = text(&cadre(&first, &["submit", &long]));
    let running_id = running.split_whitespace().nth(1).expect("id").to_string();
    let queued = text(&cadre(&first, &["submit", &short]));
    assert!(queued.ends_with("queued\n"), "{queued}");
    let queued_id = queued.split_whitespace().nth(1).expect("id").to_string();
    let secret = first.key.clone();
    drop(first);
    let (mut second, _) = serve_with(&data, database_url.as_deref(), &one_at_a_time);
    second.key = secret;
    let begun = Instant::now();
    loop {
        let job = job_json(&second, &queued_id).await;
        if job["status"] == "succeeded" {
            break;
        }
        assert!(begun.elapsed() < STARTUP_DEADLINE, "the queued job never ran: {job}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (long, short) = (job_json(&second, &running_id).await, job_json(&second, &queued_id).await);
    assert_eq!(long["status"], "succeeded", "the interrupted job continued: {long}");
    let (long_end, short_start) = (long["finished_at"].as_str(), short["started_at"].as_str());
    assert!(short_start >= long_end, "one at a time, in order: {long_end:?} then {short_start:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_prints_a_jobs_events_live_and_exits_with_its_outcome() {
    let dir = tempfile::tempdir().expect("dir");
    let database_url = common::fresh_database_url().await;
    let (server, _) = serve(&dir.path().join("data"), database_url.as_deref());
    let submitted = text(&cadre(&server, &["submit", "examples/team.yaml"]));
    let job_id = submitted.split_whitespace().nth(1).expect("id").to_string();
    let json = cadre(&server, &["watch", "--job", &job_id, "--since", "0", "--json"]);
    assert!(json.status.success(), "{}", text(&json));
    let frames: Vec<serde_json::Value> = String::from_utf8_lossy(&json.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON frame per line"))
        .collect();
    assert_eq!(frames.first().expect("frames")["type"], "job_submitted");
    assert_eq!(frames.last().expect("frames")["type"], "job_completed");
    assert!(frames.iter().all(|f| f["job_id"] == job_id.as_str()));
    let lines =
        text(&cadre(&server, &["watch", "--job", &job_id, "--since", "0", "--types", "node_completed,job_completed"]));
    assert!(lines.lines().all(|l| l.contains("node_completed") || l.contains("job_completed")), "{lines}");
    assert!(lines.trim_end().ends_with(&format!("[succeeded] job {job_id}")), "{lines}");
}
