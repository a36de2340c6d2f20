//! Where one webhook stands, kept in memory for `/metrics` and `GET /notify/webhooks`:
//! counters of deliveries by outcome, its stored cursor, and what its last attempt did.
//! Written only by its delivery task; read by handlers under a short std mutex (no await
//! under it), atomics for what the metrics read.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;

use serde::Serialize;

/// What the last attempt at a delivery came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The receiver answered 2xx.
    Delivered,
    /// It failed and will be tried again after a back-off.
    Retrying,
    /// It failed and was given up on (a 4xx other than 429, or the last attempt).
    Failed,
}

/// The latest attempt, as an admin sees it.
#[derive(Debug, Clone, Default)]
pub struct Latest {
    pub outcome: Option<Outcome>,
    /// Why the last attempt failed (none after a success).
    pub error: Option<String>,
    /// When the last attempt ended (Unix ms).
    pub attempt_ms: Option<i64>,
    /// Failed attempts since the last success.
    pub failures_in_a_row: u64,
}

/// One webhook's counters and latest attempt.
#[derive(Debug, Default)]
pub struct Status {
    /// Events the receiver accepted.
    pub delivered: AtomicU64,
    /// Events given up on.
    pub failed: AtomicU64,
    /// Attempts that failed and were followed by another.
    pub retried: AtomicU64,
    /// The stored cursor: every event up to it is handled.
    last_seq: AtomicI64,
    latest: Mutex<Latest>,
}

impl Status {
    /// The stored cursor.
    pub fn last_seq(&self) -> i64 {
        self.last_seq.load(Ordering::Relaxed)
    }

    /// The latest attempt.
    pub fn latest(&self) -> Latest {
        self.lock().clone()
    }

    pub(super) fn stored(&self, seq: i64) {
        self.last_seq.store(seq, Ordering::Relaxed);
    }

    pub(super) fn record_delivered(&self, now_ms: i64) {
        self.delivered.fetch_add(1, Ordering::Relaxed);
        *self.lock() =
            Latest { outcome: Some(Outcome::Delivered), error: None, attempt_ms: Some(now_ms), failures_in_a_row: 0 };
    }

    pub(super) fn record_failure(&self, outcome: Outcome, error: &str, now_ms: i64) {
        let counter = if outcome == Outcome::Retrying { &self.retried } else { &self.failed };
        counter.fetch_add(1, Ordering::Relaxed);
        let mut latest = self.lock();
        latest.outcome = Some(outcome);
        latest.error = Some(error.to_string());
        latest.attempt_ms = Some(now_ms);
        latest.failures_in_a_row += 1;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Latest> {
        self.latest.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_count_in_a_row_until_a_success() {
        let status = Status::default();
        status.record_failure(Outcome::Retrying, "HTTP 500", 1);
        status.record_failure(Outcome::Failed, "HTTP 503", 2);
        let latest = status.latest();
        assert_eq!((latest.outcome, latest.failures_in_a_row), (Some(Outcome::Failed), 2));
        assert_eq!(latest.error.as_deref(), Some("HTTP 503"));
        status.record_delivered(3);
        let latest = status.latest();
        assert_eq!((latest.outcome, latest.failures_in_a_row, latest.error), (Some(Outcome::Delivered), 0, None));
        let counts = [&status.delivered, &status.retried, &status.failed].map(|c| c.load(Ordering::Relaxed));
        assert_eq!(counts, [1, 1, 1]);
    }
}
