//! Tests of the command executor: real processes, limits, output tails, timeouts, cancellation.
use std::path::PathBuf;

use uuid::Uuid;

use super::*;

/// Generous, so that a loaded machine cannot turn a quick command into a timeout.
const TEST_TIMEOUT: Duration = Duration::from_secs(10);
/// For the timeout tests: long enough for the script to print its background pid first.
const SHORT_TIMEOUT: Duration = Duration::from_millis(500);
const CANCEL_AFTER: Duration = Duration::from_millis(300);
/// How long a killed process may take to disappear from /proc.
const DEATH_TIMEOUT: Duration = Duration::from_secs(2);
const POLL_INTERVAL: Duration = Duration::from_millis(20);
/// Prints the pid of a long sleep in the background, then waits for it.
const BACKGROUND_SLEEP: &str = "sleep 300 & echo $!; wait";

fn ctx() -> ExecContext {
    super::super::test_context(TEST_TIMEOUT)
}

fn short_timeout_ctx() -> ExecContext {
    let mut ctx = ctx();
    ctx.process.timeout = SHORT_TIMEOUT;
    ctx
}

fn sh(script: &str) -> Vec<String> {
    vec!["sh".to_string(), "-c".to_string(), script.to_string()]
}

fn request<'a>(argv: &'a [String], env: &'a BTreeMap<String, String>) -> CommandRequest<'a> {
    CommandRequest { argv, cwd: None, env, timeout_s: None, memory_mb: None, cpu_seconds: None }
}

async fn run_sh(script: &str, ctx: &ExecContext) -> ExecOutcome {
    let argv = sh(script);
    let env = BTreeMap::new();
    run(&request(&argv, &env), ctx).await
}

fn result_of(outcome: &ExecOutcome) -> &Value {
    let result = match outcome {
        ExecOutcome::Succeeded(result) => Some(result),
        ExecOutcome::Failed { result, .. } | ExecOutcome::Cancelled { result } => result.as_ref(),
        ExecOutcome::Waiting => None,
    };
    result.expect("the outcome carries a result")
}

fn first_line_pid(result: &Value) -> libc::pid_t {
    let stdout = result["stdout"].as_str().expect("stdout is text");
    stdout.lines().next().and_then(|line| line.trim().parse().ok()).expect("the script printed a pid")
}

/// Whether `pid` is a live process: absent from /proc, or a zombie, counts as dead.
fn alive(pid: libc::pid_t) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
    let state = stat.rsplit_once(')').and_then(|(_, rest)| rest.trim_start().chars().next());
    !matches!(state, Some('Z' | 'X') | None)
}

async fn assert_dies(pid: libc::pid_t) {
    let deadline = Instant::now() + DEATH_TIMEOUT;
    while alive(pid) {
        assert!(Instant::now() < deadline, "process {pid} survived");
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

#[tokio::test]
async fn success_captures_stdout() {
    let outcome = run_sh("echo hello", &ctx()).await;
    let expected = json!({"exit_code": 0, "signal": null, "stdout": "hello\n", "stderr": "", "timed_out": false});
    assert_eq!(outcome, ExecOutcome::Succeeded(expected));
}

#[tokio::test]
async fn nonzero_exit_fails_with_exit_code() {
    let outcome = run_sh("echo oops >&2; exit 3", &ctx()).await;
    let ExecOutcome::Failed { error, result: Some(result) } = outcome else { panic!("{outcome:?}") };
    assert_eq!(error, "exited with code 3");
    assert_eq!(result["exit_code"], 3);
    assert_eq!(result["stderr"], "oops\n");
}

#[tokio::test]
async fn killed_by_signal_fails_with_signal() {
    let outcome = run_sh("kill -9 $$", &ctx()).await;
    let ExecOutcome::Failed { error, result: Some(result) } = outcome else { panic!("{outcome:?}") };
    assert_eq!(error, "killed by signal 9");
    assert_eq!(result["exit_code"], Value::Null);
    assert_eq!(result["signal"], 9);
}

#[tokio::test]
async fn env_and_cwd_are_applied() {
    let dir = std::env::temp_dir().canonicalize().expect("temp dir");
    let dir_text = dir.to_str().expect("utf-8 temp dir");
    let argv = sh(r#"echo "$CADRE_TEST_VAR"; pwd -P; test -n "$PATH" && echo inherited"#);
    let env = BTreeMap::from([("CADRE_TEST_VAR".to_string(), "hello world".to_string())]);
    let req = CommandRequest { cwd: Some(dir_text), ..request(&argv, &env) };
    let outcome = run(&req, &ctx()).await;
    assert!(matches!(outcome, ExecOutcome::Succeeded(_)), "{outcome:?}");
    assert_eq!(result_of(&outcome)["stdout"], format!("hello world\n{dir_text}\ninherited\n"));
}

#[tokio::test]
async fn only_the_tail_of_each_stream_is_kept() {
    let mut ctx = ctx();
    ctx.process.output_tail_bytes = 4;
    let outcome = run_sh("printf 0123456789; printf abcdefghij >&2", &ctx).await;
    assert_eq!(result_of(&outcome)["stdout"], "6789");
    assert_eq!(result_of(&outcome)["stderr"], "ghij");
}

#[test]
fn tail_buffer_drops_the_oldest_bytes() {
    let mut tail = TailBuffer::new(5);
    tail.push(b"abc");
    tail.push(b"defg");
    assert_eq!(tail.to_string_lossy(), "cdefg");
    tail.push(b"0123456789");
    assert_eq!(tail.to_string_lossy(), "56789");
    let mut nothing = TailBuffer::new(0);
    nothing.push(b"abc");
    assert_eq!(nothing.to_string_lossy(), "");
}

#[tokio::test]
async fn timeout_kills_the_process_group() {
    let outcome = run_sh(BACKGROUND_SLEEP, &short_timeout_ctx()).await;
    let ExecOutcome::Failed { error, result: Some(result) } = outcome else { panic!("{outcome:?}") };
    assert_eq!(error, "timed out after 0.5s");
    assert_eq!(result["timed_out"], true);
    assert_eq!(result["signal"], libc::SIGTERM);
    assert_dies(first_line_pid(&result)).await;
}

#[tokio::test]
async fn processes_ignoring_sigterm_are_killed_after_the_grace() {
    let outcome = run_sh(&format!("trap '' TERM; {BACKGROUND_SLEEP}"), &short_timeout_ctx()).await;
    let ExecOutcome::Failed { result: Some(result), .. } = outcome else { panic!("{outcome:?}") };
    assert_eq!(result["signal"], libc::SIGKILL);
    assert_dies(first_line_pid(&result)).await;
}

#[tokio::test]
async fn request_timeout_overrides_the_default() {
    let mut ctx = ctx();
    ctx.process.timeout = Duration::from_millis(1);
    let argv = sh("sleep 0.1; echo done");
    let env = BTreeMap::new();
    let outcome = run(&CommandRequest { timeout_s: Some(5), ..request(&argv, &env) }, &ctx).await;
    assert!(matches!(outcome, ExecOutcome::Succeeded(_)), "{outcome:?}");
}

#[tokio::test]
async fn cancel_stops_the_group_and_reports_cancelled() {
    let ctx = ctx();
    let cancel = ctx.cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(CANCEL_AFTER).await;
        cancel.cancel();
    });
    let outcome = run_sh(BACKGROUND_SLEEP, &ctx).await;
    let ExecOutcome::Cancelled { result: Some(result) } = outcome else { panic!("{outcome:?}") };
    assert_eq!(result["timed_out"], false);
    assert_dies(first_line_pid(&result)).await;
}

#[tokio::test]
async fn dropping_the_run_kills_the_group() {
    let pid_file = std::env::temp_dir().join(format!("cadre-pid-{}", Uuid::new_v4()));
    let script = format!("sleep 300 & echo $! > '{}'; wait", pid_file.display());
    let ctx = ctx();
    let abandoned = tokio::time::timeout(CANCEL_AFTER, run_sh(&script, &ctx)).await;
    assert!(abandoned.is_err(), "{abandoned:?}");
    let pid = std::fs::read_to_string(&pid_file).expect("pid file").trim().parse().expect("a pid");
    let _ = std::fs::remove_file(&pid_file);
    assert_dies(pid).await;
}

#[tokio::test]
async fn already_cancelled_starts_nothing() {
    let ctx = ctx();
    ctx.cancel.cancel();
    assert_eq!(run_sh("echo never", &ctx).await, ExecOutcome::Cancelled { result: None });
}

#[tokio::test]
async fn background_processes_are_killed_after_a_normal_exit() {
    let started = Instant::now();
    let outcome = run_sh("sleep 300 & echo $!", &ctx()).await;
    assert!(matches!(outcome, ExecOutcome::Succeeded(_)), "{outcome:?}");
    // The pipes closed because the group died, not because the drain gave up.
    assert!(started.elapsed() < PIPE_DRAIN_TIMEOUT, "took {:?}", started.elapsed());
    assert_dies(first_line_pid(result_of(&outcome))).await;
}

#[tokio::test]
async fn closing_stdout_early_does_not_lose_the_exit() {
    let outcome = run_sh("echo early; exec >&-; sleep 0.1; echo late >&2; exit 4", &ctx()).await;
    let ExecOutcome::Failed { error, result: Some(result) } = outcome else { panic!("{outcome:?}") };
    assert_eq!(error, "exited with code 4");
    assert_eq!(result["stdout"], "early\n");
    assert_eq!(result["stderr"], "late\n");
}

#[tokio::test]
async fn a_process_that_left_the_group_cannot_hang_the_run() {
    let outcome = run_sh("setsid sh -c 'echo $$; exec sleep 300' & sleep 0.2", &ctx()).await;
    assert!(matches!(outcome, ExecOutcome::Succeeded(_)), "{outcome:?}");
    let escaped = first_line_pid(result_of(&outcome));
    // SAFETY: signals the test's own stray process.
    unsafe {
        libc::kill(escaped, libc::SIGKILL);
    }
}

#[tokio::test]
async fn limits_are_set_from_the_request_or_the_defaults() {
    let mut ctx = ctx();
    ctx.process.memory_mb = Some(64);
    ctx.process.cpu_seconds = Some(100);
    let argv = sh("ulimit -v; ulimit -t");
    let env = BTreeMap::new();
    let outcome = run(&CommandRequest { cpu_seconds: Some(7), ..request(&argv, &env) }, &ctx).await;
    assert_eq!(result_of(&outcome)["stdout"], "65536\n7\n");
}

#[tokio::test]
async fn memory_limit_stops_a_memory_hungry_process() {
    let argv: Vec<String> =
        ["python3", "-c", "x = bytearray(500 * 1024 * 1024)"].iter().map(ToString::to_string).collect();
    let env = BTreeMap::new();
    let outcome = run(&CommandRequest { memory_mb: Some(100), ..request(&argv, &env) }, &ctx()).await;
    let ExecOutcome::Failed { result: Some(result), .. } = &outcome else { panic!("{outcome:?}") };
    assert!(result["exit_code"].as_i64().is_some_and(|code| code != 0), "{outcome:?}");
    assert!(result["stderr"].as_str().is_some_and(|stderr| stderr.contains("MemoryError")), "{outcome:?}");
}

#[tokio::test]
async fn missing_program_fails_to_start() {
    let argv = vec!["cadre-no-such-program".to_string()];
    let env = BTreeMap::new();
    let outcome = run(&request(&argv, &env), &ctx()).await;
    let ExecOutcome::Failed { error, result: None } = outcome else { panic!("{outcome:?}") };
    assert!(error.starts_with("cannot start `cadre-no-such-program`: No such file or directory"), "{error}");
}

#[tokio::test]
async fn missing_cwd_fails_to_start() {
    let missing: PathBuf = std::env::temp_dir().join(format!("cadre-missing-{}", Uuid::new_v4()));
    let missing = missing.to_str().expect("utf-8 temp dir").to_string();
    let argv = sh("true");
    let env = BTreeMap::new();
    let outcome = run(&CommandRequest { cwd: Some(&missing), ..request(&argv, &env) }, &ctx()).await;
    let ExecOutcome::Failed { error, result: None } = outcome else { panic!("{outcome:?}") };
    assert!(error.starts_with(&format!("cannot start `sh` in `{missing}`")), "{error}");
}

#[tokio::test]
async fn empty_argv_fails() {
    let env = BTreeMap::new();
    let outcome = run(&request(&[], &env), &ctx()).await;
    assert!(matches!(outcome, ExecOutcome::Failed { result: None, .. }), "{outcome:?}");
}

/// The `silent_worker` clock: set when the process starts (however long the attempt waited
/// before it) and moved by its output.
#[tokio::test]
async fn the_sign_of_life_clock_starts_with_the_process_and_moves_with_its_output() {
    use std::sync::atomic::{AtomicI64, Ordering};
    let clock = Arc::new(AtomicI64::new(0));
    let quiet = ExecContext { signs: Some(clock.clone()), ..ctx() };
    let before = crate::events::now_ms();
    assert!(matches!(run_sh("sleep 0.2", &quiet).await, ExecOutcome::Succeeded(_)));
    let started = clock.load(Ordering::Relaxed);
    assert!(started >= before, "a silent process's clock reads its start: {started} < {before}");

    let chatty = ExecContext { signs: Some(clock.clone()), ..ctx() };
    let second = crate::events::now_ms();
    assert!(matches!(run_sh("sleep 0.3; echo late", &chatty).await, ExecOutcome::Succeeded(_)));
    let spoke = clock.load(Ordering::Relaxed);
    assert!(spoke >= second + 300, "its output moved the clock: {spoke}, run at {second}");
}
