//! The built-in executors that need more than one line: `sleep` and `fail`.

use std::time::Duration;

use serde_json::Value;

use super::{ExecContext, ExecOutcome};

/// Sleeps `ms`, or less if cancelled.
pub(super) async fn sleep(ms: u64, ctx: &ExecContext) -> ExecOutcome {
    tokio::select! {
        () = tokio::time::sleep(Duration::from_millis(ms)) => ExecOutcome::Succeeded(Value::Null),
        () = ctx.cancel.cancelled() => ExecOutcome::Cancelled { result: None },
    }
}

/// Fails the first `times` attempts (every attempt when `times` is absent).
pub(super) fn fail(message: Option<&str>, times: Option<u32>, attempt: u32) -> ExecOutcome {
    if times.is_some_and(|times| attempt > times) {
        return ExecOutcome::Succeeded(serde_json::json!({ "attempt": attempt }));
    }
    ExecOutcome::Failed {
        error: message.unwrap_or("failed on purpose").to_string(),
        result: Some(serde_json::json!({ "attempt": attempt })),
    }
}
