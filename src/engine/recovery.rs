//! Failures told apart (issue 15, seed 004): the class of a failed attempt, read from what
//! cadre saw of it — its error, and its result (a command's exit code, signal, timeout flag
//! and stderr; a service's status; a model call's error) — and the resources a reallocated
//! attempt gets. Pure: the driver decides with `domain::recovery` what follows.
//!
//! A worker may name a finer class itself: `failure_class` in its result (an `http` worker's
//! answer body, or a JSON object on the last line of a command's stdout).

use serde_json::Value;

use super::budget::is_refusal;
use crate::domain::recovery::FailureClass;
use crate::domain::spec::ResourceLimits;

/// SIGKILL: what the kernel's OOM killer (or a cgroup's memory limit) sends.
const SIGKILL: i64 = 9;
/// SIGXCPU: the CPU-time limit ran out.
const SIGXCPU: i64 = 24;
/// A shell's "command not found" and "not executable".
const EXIT_NOT_FOUND: i64 = 127;
const EXIT_NOT_EXECUTABLE: i64 = 126;

/// What a process prints when an allocation fails, in the languages agents run.
const OUT_OF_MEMORY: [&str; 6] = [
    "out of memory",
    "cannot allocate memory",
    "memoryerror",
    "bad_alloc",
    "memory allocation of",
    "heap out of memory",
];
const DENIED: [&str; 3] = ["permission denied", "eacces", "operation not permitted"];

/// The class of a failed attempt's failure.
pub fn classify(error: &str, result: Option<&Value>) -> FailureClass {
    if is_refusal(error) {
        return FailureClass::Budget;
    }
    if let Some(named) = result.and_then(reported) {
        return named;
    }
    let lower = error.to_ascii_lowercase();
    let stderr = result.and_then(|r| r["stderr"].as_str()).unwrap_or_default().to_ascii_lowercase();
    let (code, signal) = result.map_or((None, None), |r| (r["exit_code"].as_i64(), r["signal"].as_i64()));
    let status = result.and_then(|r| r["status"].as_i64()).or_else(|| answered_status(&lower));
    let said = |needles: &[&str]| needles.iter().any(|n| lower.contains(n) || stderr.contains(n));
    if validation_failed(&lower, result) {
        FailureClass::Validation
    } else if timed_out(&lower, result) || signal == Some(SIGXCPU) {
        FailureClass::Timeout
    } else if lower.starts_with("cannot start `") || code == Some(EXIT_NOT_FOUND) {
        FailureClass::Launch
    } else if signal == Some(SIGKILL) || said(&OUT_OF_MEMORY) {
        FailureClass::Memory
    } else if said(&DENIED) || code == Some(EXIT_NOT_EXECUTABLE) || matches!(status, Some(401 | 403)) {
        FailureClass::Permission
    } else if unreachable(&lower) || status.is_some_and(|s| s == 429 || s >= 500) {
        FailureClass::Network
    } else {
        FailureClass::Process
    }
}

/// A class the worker named itself in its result.
fn reported(result: &Value) -> Option<FailureClass> {
    let named = |value: &Value| value.get("failure_class").and_then(Value::as_str).and_then(FailureClass::parse);
    let last_line = result["stdout"].as_str().and_then(|out| out.lines().rev().find(|l| !l.trim().is_empty()));
    let printed = last_line.and_then(|line| serde_json::from_str::<Value>(line).ok());
    named(result).or_else(|| named(&result["body"])).or_else(|| printed.as_ref().and_then(named))
}

fn validation_failed(error: &str, result: Option<&Value>) -> bool {
    let judged = result.is_some_and(|r| r["validation"]["passed"] == Value::Bool(false));
    judged || error.contains("does not follow output_schema") || error.contains("did not pass its validation")
}

fn timed_out(error: &str, result: Option<&Value>) -> bool {
    let flagged = result.is_some_and(|r| r["timed_out"] == Value::Bool(true));
    flagged
        || error.starts_with("timed out after")
        || error.contains(" timed out")
        || error.contains("did not answer within")
}

/// A provider or service that could not be reached at all.
fn unreachable(error: &str) -> bool {
    error.contains("could not be reached") || (error.starts_with("request to ") && error.contains(" failed"))
}

/// The status in a model provider's error (`openai answered 503: …`).
fn answered_status(error: &str) -> Option<i64> {
    let (_, after) = error.split_once(" answered ")?;
    after.split(':').next()?.trim().parse().ok()
}

/// How much more a reallocated attempt gets (`[recovery]` in the configuration).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Factors {
    pub memory: f64,
    pub time: f64,
}

/// The limits of a reallocated attempt: memory, CPU time and wall time scaled from those the
/// failed attempt ran with (`current`, the node's own or the server's defaults).
pub fn reallocated(current: &ResourceLimits, factors: Factors) -> ResourceLimits {
    let scale = |value: Option<u64>, factor: f64| value.map(|v| ((v as f64) * factor.max(1.0)).ceil() as u64);
    ResourceLimits {
        memory_mb: scale(current.memory_mb, factors.memory),
        cpu_seconds: scale(current.cpu_seconds, factors.time),
        timeout_s: scale(current.timeout_s, factors.time),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn command(exit_code: Option<i64>, signal: Option<i64>, stderr: &str, timed_out: bool) -> Value {
        json!({"exit_code": exit_code, "signal": signal, "stdout": "", "stderr": stderr, "timed_out": timed_out})
    }

    #[test]
    fn each_class_is_told_from_what_was_seen() {
        use FailureClass::*;
        let cases = [
            ("timed out after 2s", Some(command(None, Some(9), "", true)), Timeout),
            ("killed by signal 24", Some(command(None, Some(24), "", false)), Timeout),
            ("killed by signal 9", Some(command(None, Some(9), "", false)), Memory),
            ("exited with code 1", Some(command(Some(1), None, "MemoryError: out of memory", false)), Memory),
            ("cannot start `nope`: No such file or directory (os error 2)", None, Launch),
            ("exited with code 127", Some(command(Some(127), None, "sh: nope: not found", false)), Launch),
            (
                "exited with code 1",
                Some(command(Some(1), None, "open /etc/shadow: Permission denied", false)),
                Permission,
            ),
            ("HTTP 403 from http://x", Some(json!({"status": 403, "body": {}})), Permission),
            ("HTTP 503 from http://x", Some(json!({"status": 503, "body": {}})), Network),
            ("HTTP 429 from http://x", Some(json!({"status": 429})), Network),
            ("request to http://x failed: connection refused", None, Network),
            ("openai answered 503: overloaded", None, Network),
            ("local could not be reached: connection refused", None, Network),
            ("local did not answer within 30 s", None, Timeout),
            ("budget_exceeded: a call of node 'x' may cost up to …", None, Budget),
            ("the answer does not follow output_schema after 2 repairs: …", None, Validation),
            (
                "the result did not pass its validation: no index",
                Some(json!({"validation": {"passed": false}})),
                Validation,
            ),
            ("exited with code 2", Some(command(Some(2), None, "assertion failed", false)), Process),
            ("HTTP 400 from http://x", Some(json!({"status": 400})), Process),
        ];
        for (error, result, class) in cases {
            assert_eq!(classify(error, result.as_ref()), class, "{error}");
        }
    }

    #[test]
    fn a_worker_may_name_its_own_class() {
        let mut result = command(Some(3), None, "", false);
        result["stdout"] = json!("working…\n{\"failure_class\": \"network\"}\n");
        assert_eq!(classify("exited with code 3", Some(&result)), FailureClass::Network);
        let answer = json!({"status": 500, "body": {"failure_class": "permission"}});
        assert_eq!(classify("HTTP 500 from http://x", Some(&answer)), FailureClass::Permission);
        let unknown = json!({"status": 500, "body": {"failure_class": "cosmic rays"}});
        assert_eq!(
            classify("HTTP 500 from http://x", Some(&unknown)),
            FailureClass::Network,
            "an unknown name is ignored"
        );
    }

    #[test]
    fn a_reallocated_attempt_gets_more_of_what_it_had() {
        let limits = ResourceLimits { memory_mb: Some(64), cpu_seconds: None, timeout_s: Some(10) };
        let more = reallocated(&limits, Factors { memory: 2.0, time: 1.5 });
        assert_eq!((more.memory_mb, more.cpu_seconds, more.timeout_s), (Some(128), None, Some(15)));
        let never_less = reallocated(&limits, Factors { memory: 0.5, time: 0.1 });
        assert_eq!(never_less.memory_mb, Some(64));
    }
}
