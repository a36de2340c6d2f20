//! The call ledger: every model call a worker makes, and every usage a worker reports, as one
//! `llm_calls` row.
//!
//! [`Ledger::record`] is the one way in. It hands the row to the journal (so it is stored in
//! order with the node's own transitions, and batched like them), emits an `llm_call` event
//! carrying the figures but never a prompt or a body, and adds the figures to the in-memory
//! counters `/metrics` exposes. The job's budget is settled from it: the reservation made
//! before the call ([`Ledger::reserve`]) is replaced by what the row says it cost, and a
//! reported usage is charged (see `budget`); a row is never changed once recorded. Kept
//! beside the journal rather than in `llm/`, which knows nothing of the engine: the ledger is
//! where the engine's bookkeeping meets the providers' figures.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use uuid::Uuid;

use super::budget::{most_a_call_costs, Budgeting};
use super::calls::Place;
use super::journal::Journal;
use crate::events::{EventDraft, EventKind};
use crate::llm::Ceiling;
use crate::store::LlmCallRow;

/// Upper bounds (seconds) of the call-duration histogram's buckets; `+Inf` comes after.
pub const DURATION_BUCKETS_S: [f64; 11] = [0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0];

/// The ledger's handle; cheap to clone.
#[derive(Clone)]
pub struct Ledger {
    journal: Journal,
    metrics: Arc<Mutex<Totals>>,
    budgets: Arc<Budgeting>,
    /// Charged with each call of a node an agent holds (its `/metrics` figures).
    workforce: crate::workforce::Workforce,
}

/// The `llm_call` event's data: the figures, never a prompt or a body.
#[derive(Serialize)]
struct LlmCallEvent<'a> {
    attempt: i64,
    cached_tokens: i64,
    cost: f64,
    error: Option<&'a str>,
    http_status: Option<i64>,
    input_tokens: i64,
    latency_ms: i64,
    model: &'a str,
    name: &'a str,
    node_id: Uuid,
    output_tokens: i64,
    provider: &'a str,
    purpose: &'a str,
    turn: i64,
}

/// Tokens and cost of one provider and model since the server started.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelTotals {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cached_tokens: u64,
    pub cost: f64,
}

/// Call durations of one provider: a count per bucket of [`DURATION_BUCKETS_S`] (not
/// cumulative; the last is `+Inf`), their sum and count.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DurationHistogram {
    pub buckets: [u64; DURATION_BUCKETS_S.len() + 1],
    pub sum_seconds: f64,
    pub count: u64,
}

impl DurationHistogram {
    fn observe(&mut self, seconds: f64) {
        let bucket = DURATION_BUCKETS_S.iter().position(|bound| seconds <= *bound).unwrap_or(DURATION_BUCKETS_S.len());
        self.buckets[bucket] += 1;
        self.sum_seconds += seconds;
        self.count += 1;
    }
}

/// What the ledger has counted since the server started, for `/metrics`.
#[derive(Debug, Clone, Default)]
pub struct Totals {
    /// By (provider, model).
    pub tokens: BTreeMap<(String, String), ModelTotals>,
    /// By provider; calls only (a reported usage was not timed by cadre).
    pub durations: BTreeMap<String, DurationHistogram>,
    /// Failed calls by (provider, HTTP status or `none`).
    pub errors: BTreeMap<(String, String), u64>,
    /// Rows by (provider, purpose): what the calls were for (`execute`, `plan`, `validate`, …).
    pub purposes: BTreeMap<(String, String), u64>,
}

impl Totals {
    fn add(&mut self, row: &LlmCallRow) {
        let model = self.tokens.entry((row.provider.clone(), row.model.clone())).or_default();
        model.input_tokens += non_negative(row.input_tokens);
        model.output_tokens += non_negative(row.output_tokens);
        model.cached_tokens += non_negative(row.cached_tokens);
        model.cost += row.cost.max(0.0);
        *self.purposes.entry((row.provider.clone(), row.purpose.clone())).or_default() += 1;
        if row.purpose != REPORT {
            let seconds = non_negative(row.latency_ms) as f64 / 1000.0;
            self.durations.entry(row.provider.clone()).or_default().observe(seconds);
        }
        if row.error.is_some() {
            let status = row.http_status.map_or_else(|| "none".to_string(), |s| s.to_string());
            *self.errors.entry((row.provider.clone(), status)).or_default() += 1;
        }
    }
}

/// The purpose of a row a worker reported rather than a call cadre made.
pub const REPORT: &str = "report";

fn non_negative(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

impl Ledger {
    /// A ledger writing through `journal`.
    pub fn new(journal: Journal, workforce: crate::workforce::Workforce) -> Self {
        let budgets = Arc::new(Budgeting::new(journal.clone()));
        Self { journal, metrics: Arc::default(), budgets, workforce }
    }

    /// The running jobs' budgets.
    pub fn budgets(&self) -> &Arc<Budgeting> {
        &self.budgets
    }

    /// Reserves, before the call of `place`'s attempt numbered `turn` is made, the most it can
    /// cost; refused (the node's error) when its envelope cannot cover it. Asked again for
    /// the same call (a node resumed after a crash), it holds the one reservation. `ceiling`
    /// is asked only when the call draws on a limited envelope (it serialises the request).
    pub fn reserve(&self, place: &Place, turn: i64, ceiling: impl FnOnce() -> Ceiling) -> Result<(), String> {
        let Some(budget) = self.budgets.of(place.job_id) else { return Ok(()) };
        let key = (place.node_id, place.attempt, u32::try_from(turn).unwrap_or(0));
        budget.reserve(key, || most_a_call_costs(&ceiling()))
    }

    /// Records one call (or reported usage) of the node named `name`: the row goes to the
    /// journal, an `llm_call` event after it, and the figures into the counters. Nothing
    /// waits for the store; flush the journal to know it is stored.
    pub fn record(&self, row: LlmCallRow, name: &str) {
        let event = LlmCallEvent {
            attempt: row.attempt,
            cached_tokens: row.cached_tokens,
            cost: row.cost,
            error: row.error.as_deref(),
            http_status: row.http_status,
            input_tokens: row.input_tokens,
            latency_ms: row.latency_ms,
            model: &row.model,
            name,
            node_id: row.node_id,
            output_tokens: row.output_tokens,
            provider: &row.provider,
            purpose: &row.purpose,
            turn: row.turn,
        };
        let draft = EventDraft::job(EventKind::LlmCall, row.job_id, u8::try_from(row.depth).ok(), &event);
        self.metrics.lock().unwrap_or_else(std::sync::PoisonError::into_inner).add(&row);
        if let Some(budget) = self.budgets.of(row.job_id) {
            budget.record(&row);
        }
        let tokens = u64::try_from(row.input_tokens + row.output_tokens).unwrap_or(0);
        self.workforce.meters().charge(row.node_id, tokens, row.cost);
        self.journal.llm_call(row);
        self.journal.emit(draft);
    }

    /// A copy of the counters.
    pub fn totals(&self) -> Totals {
        self.metrics.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(
        provider: &str,
        purpose: &str,
        latency_ms: i64,
        http_status: Option<i64>,
        error: Option<&str>,
    ) -> LlmCallRow {
        LlmCallRow {
            id: Uuid::now_v7(),
            job_id: Uuid::now_v7(),
            node_id: Uuid::now_v7(),
            depth: 1,
            attempt: 1,
            turn: 0,
            purpose: purpose.into(),
            provider: provider.into(),
            model: "m".into(),
            input_tokens: 10,
            output_tokens: 5,
            cached_tokens: 2,
            cost: 0.5,
            latency_ms,
            http_status,
            error: error.map(Into::into),
            tries: 1,
            request_body: None,
            request_truncated: false,
            response_body: None,
            response_truncated: false,
            input: None,
            reply: None,
            created_ms: 0,
        }
    }

    #[test]
    fn totals_sum_tokens_time_calls_only_and_count_errors_by_status() {
        let mut totals = Totals::default();
        totals.add(&row("openai", "execute", 150, Some(200), None));
        totals.add(&row("openai", "execute", 200_000, Some(429), Some("rate limited")));
        totals.add(&row("openai", "execute", 50, None, Some("connection refused")));
        totals.add(&row("openai", REPORT, 0, None, None));
        let model = &totals.tokens[&("openai".to_string(), "m".to_string())];
        assert_eq!((model.input_tokens, model.output_tokens, model.cached_tokens), (40, 20, 8));
        assert!((model.cost - 2.0).abs() < 1e-9);
        let durations = &totals.durations["openai"];
        assert_eq!(durations.count, 3, "a report was not timed");
        assert_eq!(
            (durations.buckets[0], durations.buckets[1], durations.buckets[DURATION_BUCKETS_S.len()]),
            (1, 1, 1)
        );
        assert_eq!(totals.errors[&("openai".to_string(), "429".to_string())], 1);
        assert_eq!(totals.errors[&("openai".to_string(), "none".to_string())], 1);
        let purpose = |p: &str| totals.purposes[&("openai".to_string(), p.to_string())];
        assert_eq!((purpose("execute"), purpose(REPORT)), (3, 1));
    }
}
