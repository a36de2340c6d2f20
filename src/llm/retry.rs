//! When a failed call is worth another attempt, and how long to wait first: 408, 429, 5xx
//! gateways and 529 (Anthropic's "overloaded") are; other 4xx are the caller's fault and are
//! not. A provider's own `retry-after-ms` or `retry-after` (seconds or an HTTP date) wins over
//! our exponential back-off with jitter.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;
use reqwest::header::HeaderMap;

/// Statuses that say "try again later".
const RETRYABLE: [u16; 7] = [408, 429, 500, 502, 503, 504, 529];
/// The first back-off, doubled each attempt.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// The longest wait between attempts, whatever a provider asks.
const MAX_WAIT: Duration = Duration::from_secs(60);

/// Whether an answer with this status may be retried.
pub fn is_retryable(status: u16) -> bool {
    RETRYABLE.contains(&status)
}

/// The wait a provider asked for in its headers, if any.
pub fn asked_wait(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(ms) = header("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        return Some(Duration::from_secs_f64(ms.max(0.0) / 1000.0));
    }
    let value = header("retry-after")?;
    if let Ok(seconds) = value.parse::<f64>() {
        return Some(Duration::from_secs_f64(seconds.max(0.0)));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?.with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// The wait before attempt `attempt + 1` (the first retry is `attempt` 1): what the provider
/// asked, or the back-off (doubling from 500 ms, each wait between half and all of it).
pub fn wait(attempt: u32, asked: Option<Duration>) -> Duration {
    let wait = asked.unwrap_or_else(|| {
        let full = FIRST_BACKOFF.saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1))).min(MAX_WAIT);
        full.mul_f64(rand::rng().random_range(0.5..=1.0))
    });
    wait.min(MAX_WAIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (reqwest::header::HeaderName::from_static(k), v.parse().expect("value"))).collect()
    }

    #[test]
    fn waits_asked_in_milliseconds_seconds_or_as_a_date() {
        let now = DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z").expect("time").with_timezone(&Utc);
        assert_eq!(asked_wait(&headers(&[("retry-after-ms", "250")]), now), Some(Duration::from_millis(250)));
        assert_eq!(asked_wait(&headers(&[("retry-after", "2")]), now), Some(Duration::from_secs(2)));
        let date = headers(&[("retry-after", "Tue, 01 Dec 2026 10:00:07 GMT")]);
        assert_eq!(asked_wait(&date, now), Some(Duration::from_secs(7)));
        let past = headers(&[("retry-after", "Tue, 01 Dec 2026 09:00:00 GMT")]);
        assert_eq!(asked_wait(&past, now), Some(Duration::ZERO));
        assert_eq!(asked_wait(&headers(&[("retry-after", "soon")]), now), None);
        assert_eq!(asked_wait(&HeaderMap::new(), now), None);
    }

    #[test]
    fn only_the_try_again_statuses_are_retried() {
        for status in [408, 429, 500, 502, 503, 504, 529] {
            assert!(is_retryable(status), "{status}");
        }
        for status in [400, 401, 403, 404, 413, 422, 501] {
            assert!(!is_retryable(status), "{status}");
        }
    }

    #[test]
    fn the_back_off_doubles_with_jitter_and_a_ceiling() {
        for attempt in 1..=4 {
            let full = FIRST_BACKOFF * 2u32.pow(attempt - 1);
            let waited = wait(attempt, None);
            assert!(waited >= full / 2 && waited <= full, "attempt {attempt}: {waited:?}");
        }
        assert!(wait(30, None) <= MAX_WAIT);
        assert_eq!(wait(1, Some(Duration::from_secs(3600))), MAX_WAIT, "a provider cannot park us for an hour");
    }
}
