//! The `cadre` binary end to end: `serve` on a real port, and the client commands against it,
//! as a user runs them from the README.

mod common;
#[path = "support/server.rs"]
#[allow(dead_code, reason = "each test binary uses a part of the support")]
mod server;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::git;
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
    assert!(
        text(&failed).contains("# Job report\n\n**Request:** doomed"),
        "it ends with the report: {}",
        text(&failed)
    );

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

    let listed = cadre(&server, &["jobs"]);
    let lines: Vec<String> = text(&listed).lines().map(String::from).collect();
    assert!(listed.status.success() && lines.len() == 3, "three jobs, a line each: {lines:?}");
    assert!(lines[0].starts_with(&job_id) && lines[0].contains("long"), "newest first: {lines:?}");
    let failures = cadre(&server, &["jobs", "--status", "failed"]);
    assert!(text(&failures).contains("doomed") && !text(&failures).contains("long"), "{}", text(&failures));
    let typo = cadre(&server, &["jobs", "--status", "done"]);
    assert!(!typo.status.success() && text(&typo).contains("one of: queued, running"), "{}", text(&typo));

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
    // The agent example names the provider `local` that its README section configures.
    let local = [
        ("CADRE_LLM__PROVIDERS__LOCAL__KIND", "openai"),
        ("CADRE_LLM__PROVIDERS__LOCAL__BASE_URL", "http://127.0.0.1:11434/v1"),
        ("CADRE_LLM__PROVIDERS__LOCAL__MODEL", "qwen2.5:7b"),
    ];
    let (server, _) = serve_with(&dir.path().join("data"), database_url.as_deref(), &local);
    let mut checked = 0;
    for entry in std::fs::read_dir("examples").expect("examples/") {
        let path = entry.expect("entry").path();
        // Job files only: examples/ also holds scripts that run them.
        if !path.extension().is_some_and(|e| e == "json" || e == "yaml" || e == "yml") {
            continue;
        }
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
    let plain = cadre(&server, &["watch", "--job", &job_id, "--since", "0", "--types", "node_completed,job_completed"]);
    let lines = text(&plain);
    assert!(plain.status.success(), "{lines}");
    let at = lines.find(&format!("[succeeded] job {job_id} — ")).expect("a summary after the events");
    let (events, summary) = lines.split_at(at);
    assert!(events.lines().all(|l| l.contains("node_completed") || l.contains("job_completed")), "{lines}");
    assert!(events.contains("cto/platform/storage-lead/alice succeeded"), "nodes by path: {lines}");
    assert!(summary.contains("nodes: succeeded"), "{summary}");
    assert!(!lines.contains('\x1b'), "no control codes on a pipe: {lines:?}");
}

/// `cadre` with no server settings in its environment: only its flags say where and how.
fn cadre_bare(args: &[&str]) -> Output {
    Command::new(BIN).args(args).env_remove("CADRE_URL").env_remove("CADRE_API_KEY").output().expect("runs")
}

fn json_line(output: &Output) -> serde_json::Value {
    assert!(output.status.success(), "{}", text(output));
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("one JSON document ({e}): {}", text(output)))
}

#[tokio::test(flavor = "multi_thread")]
async fn global_options_go_before_or_after_the_subcommand_and_a_401_says_where_keys_come_from() {
    let dir = tempfile::tempdir().expect("dir");
    let database_url = common::fresh_database_url().await;
    let (server, _) = serve(&dir.path().join("data"), database_url.as_deref());
    let (url, key) = (server.url.as_str(), server.key.as_str());
    let submitted =
        json_line(&cadre_bare(&["submit", "examples/hello.json", "--url", url, "--api-key", key, "-o", "json"]));
    let job_id = submitted["job_id"].as_str().expect("job id");
    let status = json_line(&cadre_bare(&["--url", url, "--output", "json", "--api-key", key, "status", job_id]));
    assert_eq!(status["job_id"], job_id);
    let keys = json_line(&cadre_bare(&["keys", "--url", url, "list", "--output=json", "--api-key", key]));
    assert!(keys["keys"].as_array().is_some_and(|k| !k.is_empty()), "{keys}");
    let report =
        json_line(&cadre_bare(&["validate", "-o", "json", "examples/team.yaml", "--url", url, "--api-key", key]));
    assert_eq!(report["valid"], true, "{report}");

    let missing = cadre_bare(&["status", job_id, "--url", url]);
    assert!(!missing.status.success());
    let said = String::from_utf8_lossy(&missing.stderr);
    assert!(said.contains("needs an API key (401") && said.contains("set CADRE_API_KEY or pass --api-key"), "{said}");
    for command in [vec!["status", job_id], vec!["watch"]] {
        let refused = cadre_bare(&[&command[..], &["--url", url, "--api-key", "sk-orch-not-a-key"]].concat());
        let said = String::from_utf8_lossy(&refused.stderr);
        assert!(!refused.status.success() && said.contains("refused the API key (401"), "{command:?}: {said}");
        assert!(said.contains("CADRE_API_KEY") && said.contains("--api-key"), "{said}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn job_file_errors_point_at_the_line_and_column_of_the_file() {
    let dir = tempfile::tempdir().expect("dir");
    let database_url = common::fresh_database_url().await;
    let (server, _) = serve(&dir.path().join("data"), database_url.as_deref());
    let too_long = write_job(
        dir.path(),
        "long.yaml",
        "request: nap\nplan:\n  name: root\n  children:\n    - name: nap\n      run: {type: sleep, ms: 999999999999}\n",
    );
    let refused = text(&cadre(&server, &["submit", &too_long]));
    assert!(refused.contains(&format!("{too_long}:6:26: plan.children[0].run.ms: at most")), "{refused}");
    let report = cadre(&server, &["validate", &too_long]);
    assert!(!report.status.success());
    assert!(text(&report).contains(&format!("error: {too_long}:6:26: plan.children[0].run.ms: ")), "{}", text(&report));
    let unknown =
        write_job(dir.path(), "unknown.yaml", "request: r\nplan:\n  name: w\n  colour: red\n  run: {type: noop}\n");
    let refused = text(&cadre(&server, &["submit", &unknown]));
    assert!(refused.contains(&format!("{unknown}:4:3: ")) && refused.contains("colour"), "{refused}");
    let broken = write_job(dir.path(), "broken.yaml", "request: r\nplan:\n  name: [w\n  run: {type: noop}\n");
    let refused = text(&cadre(&server, &["submit", &broken]));
    let position = refused.strip_prefix(&format!("error: {broken}:")).expect("the file's name first");
    let (line, rest) = position.split_once(':').expect("line");
    let (column, rest) = rest.split_once(':').expect("column");
    assert!(line.parse::<usize>().is_ok() && column.parse::<usize>().is_ok(), "{refused}");
    assert!(rest.starts_with(" not valid YAML: "), "{refused}");
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_ends_quietly_with_exit_0_when_its_reader_goes_away() {
    let dir = tempfile::tempdir().expect("dir");
    let database_url = common::fresh_database_url().await;
    let (server, _) = serve(&dir.path().join("data"), database_url.as_deref());
    assert!(cadre(&server, &["submit", "examples/hello.json", "--watch"]).status.success());
    let mut watch = Command::new(BIN)
        .args(["watch", "--json", "--since", "0"])
        .env("CADRE_URL", &server.url)
        .env("CADRE_API_KEY", &server.key)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(watch.stdout.take().expect("stdout")));
    for _ in 0..3 {
        lines.next().expect("a line").expect("utf-8");
    }
    // Like `| head -3`: the reader goes away; the next events are written into a closed pipe.
    drop(lines);
    let begun = Instant::now();
    let status = loop {
        assert!(cadre(&server, &["submit", "examples/hello.json"]).status.success());
        if let Some(status) = watch.try_wait().expect("wait") {
            break status;
        }
        assert!(begun.elapsed() < STARTUP_DEADLINE, "watch kept running with no reader");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut said = String::new();
    std::io::Read::read_to_string(&mut watch.stderr.take().expect("stderr"), &mut said).expect("stderr");
    assert_eq!(status.code(), Some(0), "{said}");
    assert!(!said.contains("panicked"), "{said}");
}

#[tokio::test(flavor = "multi_thread")]
async fn on_a_terminal_submit_watch_redraws_in_place_and_ends_with_the_summary() {
    let dir = tempfile::tempdir().expect("dir");
    let database_url = common::fresh_database_url().await;
    let (server, _) = serve(&dir.path().join("data"), database_url.as_deref());
    let failing = write_job(dir.path(), "failing.yaml", "request: doomed\nplan:\n  name: root\n  retry: {max_attempts: 2, initial_backoff_ms: 10}\n  run: {type: fail}\n");
    for (file, succeeds) in [("examples/team.yaml", true), (failing.as_str(), false)] {
        // `script` runs the command on a pseudo-terminal and copies what it draws to stdout.
        let output = Command::new("script")
            .args(["-qec", &format!("{BIN} submit {file} --watch"), "/dev/null"])
            .env("CADRE_URL", &server.url)
            .env("CADRE_API_KEY", &server.key)
            .env("TERM", "xterm")
            .stdin(std::process::Stdio::null())
            .output()
            .expect("script (util-linux) runs");
        let drawn = text(&output);
        assert_eq!(output.status.success(), succeeds, "{drawn}");
        assert!(drawn.contains("\x1b["), "the view is redrawn in place: {drawn:?}");
        let status = if succeeds { "succeeded" } else { "failed" };
        assert!(drawn.contains(&format!("[{status}] job ")) && drawn.contains("nodes: "), "{drawn:?}");
        if !succeeds {
            assert!(drawn.contains("↻ root: attempt 1 of 2 failed") && drawn.contains("✗ root failed"), "{drawn:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn alerts_are_listed_and_a_held_job_resumed_from_the_cli() {
    let dir = tempfile::tempdir().expect("dir");
    let database_url = common::fresh_database_url().await;
    let (server, _) = serve(&dir.path().join("data"), database_url.as_deref());
    let mut children: Vec<serde_json::Value> =
        (1..=5).map(|i| serde_json::json!({"name": format!("f{i}"), "run": {"type": "fail"}})).collect();
    children.push(serde_json::json!({"name": "last", "run": {"type": "echo", "value": 1}}));
    let job = serde_json::json!({"request": "flaky", "plan": {"name": "suite", "on_child_failure": "continue",
        "max_parallel": 1, "retry": {"max_attempts": 1}, "children": children}});
    let id = server::submit_id(&server, &job).await;
    server::wait_for(&server, &id, |job| job["status"] == "paused").await;
    let listed = text(&cadre(&server, &["alerts", "--job", &id]));
    assert!(listed.contains("[open] failure_rate") && listed.contains("5 of 5 finished workers failed"), "{listed}");
    let resumed = cadre(&server, &["resume", &id]);
    assert!(resumed.status.success(), "{}", text(&resumed));
    let job = server::wait_for(&server, &id, server::ended).await;
    assert_eq!(job["tree"]["children"][5]["status"], "succeeded", "{job}");
    let listed = text(&cadre(&server, &["alerts", "--all", "--job", &id]));
    assert!(listed.contains("[resolved by bootstrap] failure_rate"), "{listed}");
    let again = cadre(&server, &["resume", &id]);
    assert!(!again.status.success() && text(&again).contains("409"), "{}", text(&again));
}

/// Creates an agent from a file with `cadre agents create --file`.
fn create_agent(server: &Server, dir: &Path, name: &str, body: &str) -> Output {
    cadre(server, &["agents", "create", "--file", &write_job(dir, name, body)])
}

#[tokio::test(flavor = "multi_thread")]
async fn agents_are_created_listed_paused_charted_shown_and_deleted_from_the_cli() {
    let dir = tempfile::tempdir().expect("dir");
    let database_url = common::fresh_database_url().await;
    let (server, _) = serve(&dir.path().join("data"), database_url.as_deref());
    let ceo = "name: ceo\ntitle: Chief executive\nrun: {type: command, argv: ['true']}\n";
    let created = create_agent(&server, dir.path(), "ceo.yaml", ceo);
    assert!(created.status.success() && text(&created).contains("agent ceo created [active]"), "{}", text(&created));
    let dev = r#"{"name": "dev", "title": "Developer", "reports_to": "ceo", "capabilities": ["lang=rust"],
        "concurrency": 2, "run": {"type": "command", "argv": ["true"]}}"#;
    let created = create_agent(&server, dir.path(), "dev.json", dev);
    assert!(created.status.success(), "{}", text(&created));
    let listed = text(&cadre(&server, &["agents", "list"]));
    assert!(listed.contains("ceo   Chief executive  active  0/5"), "{listed}");
    assert!(listed.contains("dev   Developer        active  0/2   ceo         lang=rust"), "{listed}");
    let job =
        serde_json::json!({"request": "r", "plan": {"name": "team", "children": [{"name": "build", "agent": "dev"}]}});
    let id = server::submit_id(&server, &job).await;
    assert_eq!(server::wait_for(&server, &id, server::ended).await["status"], "succeeded");
    let paused = text(&cadre(&server, &["agents", "pause", "dev"]));
    assert_eq!(paused.trim(), "agent dev paused");
    agents_read_back(&server);
    agent_mail_from_the_cli(&server);
    let bad = "name: stray\nreports_to: nobody\nrun: {type: command, argv: ['true']}\n";
    let refused = create_agent(&server, dir.path(), "stray.yaml", bad);
    assert!(!refused.status.success(), "{}", text(&refused));
    let refusal = text(&refused);
    assert!(
        refusal.contains("stray.yaml:2:") && refusal.contains(": reports_to: no agent named 'nobody'"),
        "{refusal}"
    );
    let held = cadre(&server, &["agents", "delete", "ceo"]);
    assert!(!held.status.success() && text(&held).contains("409"), "dev reports to it: {}", text(&held));
    let deleted = cadre(&server, &["agents", "delete", "dev"]);
    assert!(deleted.status.success() && text(&deleted).contains("agent dev deleted"), "{}", text(&deleted));
    assert!(!text(&cadre(&server, &["agents", "list"])).contains("dev"));
}

/// A message to `ceo`'s own mailbox, received and acknowledged; nothing is left after.
fn agent_mail_from_the_cli(server: &Server) {
    let sent = text(&cadre(server, &["agents", "mail", "send", "ceo", "--text", "hello ceo", "--priority", "8"]));
    assert!(sent.contains(" to agent ceo [pending] · priority 8"), "{sent}");
    let received = text(&cadre(server, &["agents", "mail", "receive", "ceo", "--ack"]));
    assert!(received.contains("hello ceo") && received.contains("acknowledged"), "{received}");
    let empty = text(&cadre(server, &["agents", "mail", "receive", "ceo"]));
    assert_eq!(empty.trim(), "no messages");
    let unknown = cadre(server, &["agents", "mail", "send", "nobody", "--text", "x"]);
    assert!(!unknown.status.success() && text(&unknown).contains("404"), "{}", text(&unknown));
}

/// The chart (as a tree, and as JSON) and the figures of `dev`, which ran one task.
fn agents_read_back(server: &Server) {
    let org = text(&cadre(server, &["agents", "org"]));
    assert_eq!(
        org.lines().collect::<Vec<_>>(),
        ["ceo (Chief executive) active 0/5", "└─ dev (Developer) paused 0/2 · 100 %"]
    );
    let chart = json_line(&cadre(server, &["agents", "org", "-o", "json"]));
    assert_eq!(chart["children"][0]["children"][0]["name"], "dev", "{chart}");
    let shown = text(&cadre(server, &["agents", "show", "dev"]));
    assert!(shown.starts_with("dev (Developer) [paused]\n  reports to ceo\n"), "{shown}");
    assert!(shown.contains("performance  started  succeeded  failed"), "{shown}");
    let day = shown.lines().find(|l| l.starts_with("  last 24 h")).expect("the day's figures");
    assert_eq!(day.split_whitespace().take(9).collect::<Vec<_>>(), ["last", "24", "h", "1", "1", "0", "0", "100", "%"]);
    assert!(shown.contains("recent tasks\n  build [succeeded] job "), "{shown}");
}

#[tokio::test(flavor = "multi_thread")]
async fn messages_are_sent_by_node_name_received_by_priority_acknowledged_and_listed_from_the_cli() {
    let dir = tempfile::tempdir().expect("dir");
    let database_url = common::fresh_database_url().await;
    let (server, _) = serve(&dir.path().join("data"), database_url.as_deref());
    let plan = serde_json::json!({"name": "team", "children": [{"name": "lead", "children": [
        {"name": "worker", "run": {"type": "sleep", "ms": 120_000}}]}]});
    let id = server::submit_id(&server, &serde_json::json!({"request": "talk", "plan": plan})).await;
    let running = |job: &serde_json::Value| {
        server::flatten(&job["tree"]).iter().any(|n| n["name"] == "worker" && n["status"] == "running")
    };
    server::wait_for(&server, &id, running).await;
    for (text_body, priority) in [("later", "1"), ("hi", "9")] {
        let sent =
            cadre(&server, &["messages", "send", &id, "--to", "worker", "--text", text_body, "--priority", priority]);
        assert!(sent.status.success() && text(&sent).contains("to worker [pending]"), "{}", text(&sent));
    }
    let received = cadre(&server, &["messages", "receive", &id, "--node", "worker", "--ack"]);
    let got = text(&received);
    assert!(received.status.success(), "{got}");
    let (urgent, later) = (got.find("priority 9").expect("the urgent one"), got.find("priority 1").expect("the other"));
    assert!(urgent < later && got.contains(r#"  {"text":"hi"}"#) && got.contains("  acknowledged"), "{got}");
    let listed = text(&cadre(&server, &["messages", "list", &id]));
    assert_eq!(
        listed.lines().filter(|l| l.contains(" acknowledged ") && l.contains(" worker ")).count(),
        2,
        "{listed}"
    );
    let json = json_line(&cadre(&server, &["messages", "list", &id, "--state", "acknowledged", "-o", "json"]));
    assert_eq!(json["messages"].as_array().map(Vec::len), Some(2), "{json}");
    assert_eq!(text(&cadre(&server, &["messages", "dead", &id])).trim(), "no dead letters");
    let stray = cadre(&server, &["messages", "send", &id, "--to", "nobody", "--text", "hello?"]);
    assert!(!stray.status.success() && text(&stray).contains("no node named 'nobody'"), "{}", text(&stray));
    assert!(cadre(&server, &["cancel", &id]).status.success());
}

/// A throwaway repository on `main` with a ten-line `notes.txt`.
fn notes_repo(dir: &Path) -> std::path::PathBuf {
    let repo = dir.join("repo");
    std::fs::create_dir(&repo).expect("repo dir");
    git(&repo, &["init", "--quiet", "--initial-branch=main"]);
    std::fs::write(repo.join("notes.txt"), "one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\n")
        .expect("write");
    git(&repo, &["add", "notes.txt"]);
    git(&repo, &["commit", "--quiet", "-m", "notes"]);
    repo
}

fn cadre_branches(repo: &Path) -> String {
    git(repo, &["branch", "--list", "cadre/*"])
}

#[tokio::test(flavor = "multi_thread")]
async fn workspace_diff_shows_a_nodes_change_by_name_or_id_and_remove_deletes_its_branches() {
    let dir = tempfile::tempdir().expect("dir");
    let repo = notes_repo(dir.path());
    let database_url = common::fresh_database_url().await;
    let (server, _) = serve(&dir.path().join("data"), database_url.as_deref());
    let workspace = serde_json::json!({"repo": repo.to_str().expect("utf-8"), "base": "main"});
    let sh = |name: &str, script: &str| serde_json::json!({"name": name, "run": {"type": "command", "argv": ["sh", "-c", script]}});
    let plan = serde_json::json!({"name": "team", "children": [
        sh("alice", "sed 's/^one$/ONE by alice/' notes.txt > n.new && mv n.new notes.txt"),
        sh("bob", "echo bob > bob.txt")]});
    let id =
        server::submit_id(&server, &serde_json::json!({"request": "edit", "workspace": workspace, "plan": plan})).await;
    let job = server::wait_for(&server, &id, server::ended).await;
    assert_eq!(job["status"], "succeeded", "{job}");

    let by_name = cadre(&server, &["workspace", "diff", &id, "alice"]);
    let said = text(&by_name);
    assert!(by_name.status.success(), "{said}");
    assert!(said.starts_with(&format!("branch  cadre/{}/alice-", id.replace('-', ""))), "{said}");
    assert!(said.contains("\nfrom    cadre/") && said.contains("\n  M  notes.txt\n"), "{said}");
    assert!(said.contains("-one\n+ONE by alice\n") && !said.contains("bob"), "its own change only: {said}");
    let bob = server::flatten(&job["tree"]).into_iter().find(|n| n["name"] == "bob").expect("bob")["id"].clone();
    let by_id = json_line(&cadre(&server, &["workspace", "diff", &id, bob.as_str().expect("id"), "-o", "json"]));
    assert_eq!(by_id["files"], serde_json::json!([{"path": "bob.txt", "status": "A"}]), "{by_id}");
    let unknown = cadre(&server, &["workspace", "diff", &id, "nobody"]);
    let said = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        !unknown.status.success() && said.starts_with(&format!("error: job {id} has no node named 'nobody'")),
        "{said}"
    );

    assert_eq!(cadre_branches(&repo).lines().count(), 4, "job, team, alice, bob: {}", cadre_branches(&repo));
    let removed = cadre(&server, &["workspace", "remove", &id]);
    assert!(removed.status.success(), "{}", text(&removed));
    assert_eq!(text(&removed).trim(), format!("removed the workspace of job {id}: its worktrees and branches"));
    assert_eq!(cadre_branches(&repo), "", "every branch of the job is gone");
    assert_eq!(git(&repo, &["show", "main:notes.txt"]).lines().next(), Some("one"), "main never moved");
    let gone = cadre(&server, &["workspace", "diff", &id, "alice"]);
    assert!(!gone.status.success() && text(&gone).contains("404 Not Found: a branch of node "), "{}", text(&gone));
    // Removing again finds nothing left to remove: the server answers 204 again.
    assert!(cadre(&server, &["workspace", "remove", &id]).status.success());
    workspace_refusals_are_plain_errors(&server, &repo).await;
}

/// A job without a workspace, and one that has not ended: the server's refusal, in words.
async fn workspace_refusals_are_plain_errors(server: &Server, repo: &Path) {
    let plain = text(&cadre(server, &["submit", "examples/hello.json"]));
    let plain = plain.split_whitespace().nth(1).expect("id").to_string();
    let refused = cadre(server, &["workspace", "remove", &plain]);
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && said.starts_with("error: 404 Not Found: ") && said.contains("(it declares none)"),
        "{said}"
    );
    assert!(!said.contains('{'), "words, not the problem's JSON: {said}");
    let workspace = serde_json::json!({"repo": repo.to_str().expect("utf-8"), "base": "main"});
    let long = serde_json::json!({"request": "nap", "workspace": workspace,
        "plan": {"name": "w", "run": {"type": "command", "argv": ["sleep", "60"]}}});
    let running = server::submit_id(server, &long).await;
    let refused = cadre(server, &["workspace", "remove", &running]);
    assert!(!refused.status.success() && text(&refused).contains("409 Conflict: "), "{}", text(&refused));
    let bad = cadre(server, &["workspace", "remove", "../keys"]);
    assert!(text(&bad).contains("'../keys' is not a job id"), "{}", text(&bad));
    assert!(cadre(server, &["cancel", &running]).status.success());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_workspace_team_example_script_runs_end_to_end() {
    let dir = tempfile::tempdir().expect("dir");
    let database_url = common::fresh_database_url().await;
    let (server, _) = serve(&dir.path().join("data"), database_url.as_deref());
    let output = Command::new("sh")
        .arg("examples/workspace-team.sh")
        .env("CADRE", BIN)
        .env("CADRE_URL", &server.url)
        .env("CADRE_API_KEY", &server.key)
        .env("TMPDIR", dir.path())
        .output()
        .expect("sh runs");
    let said = text(&output);
    assert!(output.status.success(), "{said}");
    let job_id = said.lines().next().and_then(|l| l.split_whitespace().nth(1)).expect("job id").to_string();
    assert_eq!(server::job_json(&server, &job_id).await["status"], "succeeded");
    let work = std::fs::read_dir(dir.path()).expect("TMPDIR").map(|e| e.expect("entry").path());
    let repo = work
        .into_iter()
        .find(|p| p.to_string_lossy().contains("cadre-workspace-team."))
        .expect("its repo")
        .join("repo");
    let branch = format!("cadre/{}/job", job_id.replace('-', ""));
    let notes = git(&repo, &["show", &format!("{branch}:TEAM.md")]);
    for change in [
        "cadre runs a job as a tree of workers.",
        "Run examples/workspace-team.sh against a server.",
        "Every section is filled in.",
    ] {
        assert!(notes.contains(change), "every worker's change is on the job branch: {notes}");
    }
    assert!(!notes.contains("TODO"), "{notes}");
    assert!(git(&repo, &["show", &format!("{branch}:hello.sh")]).contains("echo hello"));
    assert!(said.contains(&format!("== TEAM.md on {branch}\n# Team notes\n")), "the script shows it: {said}");
    assert!(git(&repo, &["show", "main:TEAM.md"]).contains("TODO: intro"), "main never moved");
}
