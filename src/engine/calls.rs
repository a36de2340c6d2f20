//! One model call as a ledger row, and a provider that writes every call it makes to the
//! ledger and, for a node picked up after a crash, answers the calls it had already paid for
//! from their rows instead of calling again.
//!
//! Agents keep their conversation turn by turn (see [`super::agent`]); the decomposer and the
//! validator make fixed sequences of calls (plan, breakdown, corrections; a judgement), so a
//! replay of the same sequence from the stored answers gives the same outcome at no cost.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::Value;
use uuid::Uuid;

use super::ledger::Ledger;
use crate::llm::{Block, Completion, LlmError, Provider, Request, StopReason, Usage};
use crate::store::LlmCallRow;

/// Bytes of a request or response body the ledger keeps.
pub const BODY_CAP: usize = 64 * 1024;

/// Whose call it is: the node and attempt a ledger row belongs to.
#[derive(Debug, Clone)]
pub struct Place {
    pub job_id: Uuid,
    pub node_id: Uuid,
    pub depth: u8,
    pub attempt: u32,
    /// The node's name, for the `llm_call` event.
    pub name: String,
}

/// What a row says beside the call itself.
pub struct CallFacts<'a> {
    pub provider: &'a str,
    pub purpose: &'a str,
    pub turn: i64,
    /// The messages the row records as the call's input (JSON text).
    pub input: String,
    pub latency_ms: i64,
}

/// The ledger row of one call.
pub fn call_row(
    place: &Place,
    body: &Value,
    answer: &Result<Completion, LlmError>,
    facts: CallFacts<'_>,
) -> LlmCallRow {
    let (request_body, request_truncated) = capped(body.to_string());
    let requested_model = body.get("model").and_then(Value::as_str).unwrap_or_default().to_string();
    let (response, reply) = match answer {
        Ok(c) => {
            let response =
                serde_json::json!({"model": c.model, "content": c.content, "stop": c.stop, "usage": c.usage});
            (Some(capped(response.to_string())), serde_json::to_string(&c.content).ok())
        }
        Err(_) => (None, None),
    };
    let tokens = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let usage = answer.as_ref().map(|c| c.usage).unwrap_or_default();
    LlmCallRow {
        id: Uuid::now_v7(),
        job_id: place.job_id,
        node_id: place.node_id,
        depth: i64::from(place.depth),
        attempt: i64::from(place.attempt),
        turn: facts.turn,
        purpose: facts.purpose.into(),
        provider: facts.provider.into(),
        model: answer.as_ref().map_or(requested_model, |c| c.model.clone()),
        input_tokens: tokens(usage.input_tokens),
        output_tokens: tokens(usage.output_tokens),
        cached_tokens: tokens(usage.cached_tokens),
        cost: answer.as_ref().map_or(0.0, |c| c.cost),
        latency_ms: facts.latency_ms,
        http_status: http_status(answer),
        error: answer.as_ref().err().map(ToString::to_string),
        tries: answer.as_ref().map_or(0, |c| i64::from(c.attempts)),
        request_body: Some(request_body),
        request_truncated,
        response_truncated: response.as_ref().is_some_and(|(_, truncated)| *truncated),
        response_body: response.map(|(text, _)| text),
        input: Some(facts.input),
        reply,
        created_ms: crate::events::now_ms(),
    }
}

fn http_status(answer: &Result<Completion, LlmError>) -> Option<i64> {
    match answer {
        Ok(_) => Some(200),
        Err(LlmError::Status { status, .. }) => Some(i64::from(*status)),
        Err(_) => None,
    }
}

/// A body cut to [`BODY_CAP`] bytes (at a character boundary), and whether it was cut.
pub fn capped(text: String) -> (String, bool) {
    if text.len() <= BODY_CAP {
        return (text, false);
    }
    let mut end = BODY_CAP;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (text[..end].to_string(), true)
}

/// A provider that says why each call is made: the decomposer names its phase before the
/// calls of that phase.
pub trait Calls: Provider {
    /// The calls that follow are for `purpose`; the first of them carries it, the rest are
    /// its corrections (`repair`).
    fn phase(&self, purpose: &'static str);
}

/// A provider called as it is, recording nothing (the dry run).
pub struct Unrecorded(pub Arc<dyn Provider>);

#[async_trait::async_trait]
impl Provider for Unrecorded {
    async fn complete(&self, request: &Request) -> Result<Completion, LlmError> {
        self.0.complete(request).await
    }

    fn body(&self, request: &Request) -> Value {
        self.0.body(request)
    }

    fn ceiling(&self, request: &Request) -> crate::llm::Ceiling {
        self.0.ceiling(request)
    }
}

impl Calls for Unrecorded {
    fn phase(&self, _purpose: &'static str) {}
}

/// A provider whose calls are ledger rows of one node's attempt, replayed from the stored
/// rows where the attempt had already made them.
pub struct Recorder {
    inner: Arc<dyn Provider>,
    provider: String,
    ledger: Ledger,
    place: Place,
    state: Mutex<RecorderState>,
}

struct RecorderState {
    purpose: &'static str,
    repair_purpose: &'static str,
    first_of_phase: bool,
    next_turn: i64,
    replay: VecDeque<LlmCallRow>,
}

impl Recorder {
    /// A recorder for `place`; `stored` are the rows the ledger already has for the node
    /// (any attempt: only this attempt's answered calls that `replays` picks are replayed,
    /// and new calls are numbered after all of this attempt's).
    pub fn new(
        inner: Arc<dyn Provider>,
        provider: &str,
        ledger: Ledger,
        place: Place,
        stored: Vec<LlmCallRow>,
        replays: &dyn Fn(&LlmCallRow) -> bool,
    ) -> Self {
        let attempt = i64::from(place.attempt);
        let mut mine: Vec<LlmCallRow> = stored.into_iter().filter(|r| r.attempt == attempt).collect();
        mine.sort_by_key(|r| r.turn);
        let next_turn = mine.last().map_or(1, |r| r.turn + 1);
        let replay = mine.into_iter().filter(|r| r.reply.is_some() && replays(r)).collect();
        let state =
            RecorderState { purpose: "call", repair_purpose: "repair", first_of_phase: true, next_turn, replay };
        Self { inner, provider: provider.to_string(), ledger, place, state: Mutex::new(state) }
    }

    /// The purpose of the corrections of every phase (`repair` unless set).
    pub fn set_repair_purpose(&self, purpose: &'static str) {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner).repair_purpose = purpose;
    }

    fn next(&self) -> (&'static str, i64, Option<LlmCallRow>) {
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let purpose = if state.first_of_phase { state.purpose } else { state.repair_purpose };
        state.first_of_phase = false;
        if let Some(row) = state.replay.pop_front() {
            return (purpose, row.turn, Some(row));
        }
        let turn = state.next_turn;
        state.next_turn += 1;
        (purpose, turn, None)
    }
}

#[async_trait::async_trait]
impl Provider for Recorder {
    async fn complete(&self, request: &Request) -> Result<Completion, LlmError> {
        let (purpose, turn, stored) = self.next();
        if let Some(row) = stored {
            return Ok(replayed(&row));
        }
        // Nothing is sent that the node's budget could not cover.
        self.ledger.reserve(&self.place, turn, || self.inner.ceiling(request)).map_err(LlmError::NotMade)?;
        let started = Instant::now();
        let answer = self.inner.complete(request).await;
        let facts = CallFacts {
            provider: &self.provider,
            purpose,
            turn,
            input: serde_json::to_string(&request.messages).unwrap_or_default(),
            latency_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
        };
        let row = call_row(&self.place, &self.inner.body(request), &answer, facts);
        self.ledger.record(row, &self.place.name);
        answer
    }

    fn body(&self, request: &Request) -> Value {
        self.inner.body(request)
    }

    fn ceiling(&self, request: &Request) -> crate::llm::Ceiling {
        self.inner.ceiling(request)
    }
}

impl Calls for Recorder {
    fn phase(&self, purpose: &'static str) {
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        (state.purpose, state.first_of_phase) = (purpose, true);
    }
}

/// A stored call's answer, as the provider gave it.
fn replayed(row: &LlmCallRow) -> Completion {
    let content: Vec<Block> = row.reply.as_deref().and_then(|t| serde_json::from_str(t).ok()).unwrap_or_default();
    let tokens = |n: i64| u64::try_from(n).unwrap_or(0);
    Completion {
        model: row.model.clone(),
        content,
        stop: StopReason::Done,
        usage: Usage {
            input_tokens: tokens(row.input_tokens),
            output_tokens: tokens(row.output_tokens),
            cached_tokens: tokens(row.cached_tokens),
        },
        cost: row.cost,
        attempts: u32::try_from(row.tries).unwrap_or(1),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn bodies_are_cut_at_a_character_boundary() {
        let (short, cut) = super::capped("abc".into());
        assert_eq!((short.as_str(), cut), ("abc", false));
        let long = "é".repeat(super::BODY_CAP);
        let (kept, cut) = super::capped(long);
        assert!(cut && kept.len() <= super::BODY_CAP && kept.len() > super::BODY_CAP - 2);
    }
}
