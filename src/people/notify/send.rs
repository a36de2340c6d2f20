//! One event delivered to one webhook: signed, posted, and tried again with a doubling,
//! jittered back-off on what may pass (no connection, a timeout, 429, 5xx) up to the
//! webhook's `max_attempts`; a 4xx other than 429 (or a redirect, which is not followed: a
//! POST must not turn into a GET elsewhere) is the receiver's final word and is not retried.
//! Each attempt is signed with its own timestamp, so a receiver that refuses old timestamps
//! still accepts a late retry.

use std::time::Duration;

use rand::Rng;
use reqwest::header::CONTENT_TYPE;

use super::payload::{body, signature};
use super::status::Outcome;
use super::Hook;
use crate::events::{now_ms, Event};

/// The longest wait between attempts, whatever the receiver asks.
const MAX_WAIT: Duration = Duration::from_secs(60);

/// A failed attempt.
struct Failure {
    error: String,
    retryable: bool,
    /// A `Retry-After` the receiver sent.
    asked_wait: Option<Duration>,
}

/// Delivers `event` (or gives it up) and records how it went; returns once it is settled.
pub(super) async fn deliver(hook: &Hook, event: &Event) -> Outcome {
    let body = body(event);
    let mut attempt = 1;
    loop {
        let Err(failure) = attempt_once(hook, event, &body).await else {
            hook.status.record_delivered(now_ms());
            return Outcome::Delivered;
        };
        if !failure.retryable || attempt >= hook.config.max_attempts {
            hook.status.record_failure(Outcome::Failed, &failure.error, now_ms());
            tracing::warn!(webhook = %hook.config.name, seq = event.seq, attempts = attempt, error = %failure.error,
                "webhook delivery given up");
            return Outcome::Failed;
        }
        hook.status.record_failure(Outcome::Retrying, &failure.error, now_ms());
        tokio::time::sleep(wait(hook.config.retry_initial_ms, attempt, failure.asked_wait)).await;
        attempt += 1;
    }
}

async fn attempt_once(hook: &Hook, event: &Event, body: &[u8]) -> Result<(), Failure> {
    let timestamp = chrono::Utc::now().timestamp();
    let response = hook
        .http
        .post(&hook.config.url)
        .header(CONTENT_TYPE, "application/json")
        .header("X-Cadre-Event", &event.kind)
        .header("X-Cadre-Delivery", event.seq.to_string())
        .header("X-Cadre-Timestamp", timestamp.to_string())
        .header("X-Cadre-Signature", signature(&hook.secret, timestamp, body))
        .body(body.to_vec())
        .send()
        .await
        .map_err(|err| unanswered(&err, hook.config.timeout_s))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let asked_wait = crate::llm::retry::asked_wait(response.headers(), chrono::Utc::now());
    let retryable = status.as_u16() == 429 || status.is_server_error();
    Err(Failure { error: format!("HTTP {status}"), retryable, asked_wait })
}

/// A request that got no answer: worth another attempt. The message leaves the URL out (it
/// may carry a token) and keeps the causes (refused, reset, DNS, TLS).
fn unanswered(err: &reqwest::Error, timeout_s: u64) -> Failure {
    let error = if err.is_timeout() {
        format!("no answer within {timeout_s} s")
    } else {
        let mut detail = String::from("not delivered");
        let mut source = std::error::Error::source(err);
        while let Some(cause) = source {
            detail = format!("{detail}: {cause}");
            source = cause.source();
        }
        detail
    };
    Failure { error, retryable: true, asked_wait: None }
}

/// The wait before attempt `attempt + 1`: what the receiver asked, or `initial_ms` doubled
/// per attempt, each wait between half and all of it (so receivers that come back are not
/// hit by every sender at once), never more than a minute.
fn wait(initial_ms: u64, attempt: u32, asked: Option<Duration>) -> Duration {
    let wait = asked.unwrap_or_else(|| {
        let doubled = Duration::from_millis(initial_ms).saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)));
        doubled.min(MAX_WAIT).mul_f64(rand::rng().random_range(0.5..=1.0))
    });
    wait.min(MAX_WAIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_back_off_doubles_with_jitter_up_to_a_minute() {
        for (attempt, full) in [(1, 1000), (2, 2000), (3, 4000), (7, 60_000), (30, 60_000)] {
            let waited = wait(1000, attempt, None);
            let full = Duration::from_millis(full);
            assert!(waited >= full / 2 && waited <= full, "attempt {attempt}: {waited:?}");
        }
        assert_eq!(wait(1000, 1, Some(Duration::from_secs(3))), Duration::from_secs(3), "Retry-After wins");
        assert_eq!(wait(1000, 1, Some(Duration::from_secs(600))), MAX_WAIT, "within the ceiling");
    }
}
