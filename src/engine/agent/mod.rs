//! Agents: the `llm` executor. A node's conversation with its model, turn by turn — a call,
//! its answer stored in the call ledger, then what the answer asks for: tools (a sub-team
//! spawned under the node, whose results come back as the tool's result), a correction when
//! the answer breaks the output schema, or the end.
//!
//! The conversation survives its process. Every call is a ledger row holding the messages
//! added before it and the answer, written through the journal before anything acts on the
//! answer; a node picked up after a crash rebuilds its conversation from its rows, so a call
//! whose answer was stored is never paid for twice, and spawns are keyed by turn so children
//! are never spawned twice. While its children run the executor returns
//! [`ExecOutcome::Waiting`]: the node gives its slot back and is started again, in the same
//! attempt, once they have all ended.

pub mod conversation;
pub mod prompt;
pub mod tools;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::{json, Value};
use uuid::Uuid;

use super::executor::{ExecContext, ExecOutcome};
use super::journal::Journal;
use super::ledger::Ledger;
use crate::domain::LlmRun;
use crate::llm::structured::{check, describe, repair_prompt};
use crate::llm::{Block, Completion, LlmError, Message, Provider, Providers, Request, Role};
use crate::store::{LlmCallRow, SharedStore};
use conversation::{Conversation, Purpose, Step};
pub use prompt::{Ancestor, Task};
pub use tools::{ChildReport, Team};

/// Tool-asking turns an attempt may take when the run sets no `max_turns`.
pub const DEFAULT_MAX_TURNS: u32 = 10;
/// Corrections of a schema-breaking answer when the run sets no `max_repairs`.
pub const DEFAULT_MAX_REPAIRS: u32 = 2;
/// Bytes of a request or response body the ledger keeps.
pub const BODY_CAP: usize = 64 * 1024;

/// What an `llm` worker needs beside its spec: the providers, the ledger, its place in the
/// tree, its team, and its conversation (kept by the driver between starts).
pub struct AgentContext {
    pub providers: Arc<Providers>,
    pub ledger: Ledger,
    pub journal: Journal,
    pub store: SharedStore,
    pub team: Arc<dyn Team>,
    pub task: Task,
    pub depth: u8,
    /// The node's children when this start began.
    pub children: HashMap<Uuid, ChildReport>,
    /// Taken by a start, put back when it returns.
    pub conversation: Arc<Mutex<Option<Conversation>>>,
}

impl std::fmt::Debug for AgentContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentContext").field("task", &self.task.name).finish_non_exhaustive()
    }
}

/// Runs (or continues) one attempt of an `llm` worker.
pub async fn run(spec: &LlmRun, ctx: &ExecContext) -> ExecOutcome {
    let Some(agent) = ctx.agent.as_deref() else {
        return failed("internal error: an llm worker started without its agent context".into(), None);
    };
    let provider = match agent.providers.get(&spec.provider) {
        Ok(provider) => provider,
        Err(err) => return failed(err.to_string(), None),
    };
    let taken = agent.conversation.lock().map(|mut slot| slot.take()).unwrap_or_default();
    let mut conversation = match taken {
        Some(c) if c.unloaded => match agent.store.llm_calls(ctx.job_id, ctx.node_id).await {
            Ok(rows) => {
                let attempt = i64::from(ctx.attempt);
                let mine: Vec<LlmCallRow> = rows.into_iter().filter(|r| r.attempt == attempt).collect();
                Conversation::rebuild(&mine)
            }
            Err(err) => return failed(format!("the conversation could not be read back: {err}"), None),
        },
        other => other.unwrap_or_default(),
    };
    let outcome =
        Turns { spec, ctx, agent, provider: provider.as_ref(), conversation: &mut conversation }.drive().await;
    if let Ok(mut slot) = agent.conversation.lock() {
        *slot = Some(conversation);
    }
    outcome
}

fn failed(error: String, result: Option<Value>) -> ExecOutcome {
    ExecOutcome::Failed { error, result }
}

/// One start of an attempt, turn after turn until the attempt ends or waits.
struct Turns<'a> {
    spec: &'a LlmRun,
    ctx: &'a ExecContext,
    agent: &'a AgentContext,
    provider: &'a dyn Provider,
    conversation: &'a mut Conversation,
}

impl Turns<'_> {
    async fn drive(mut self) -> ExecOutcome {
        loop {
            let next = match self.conversation.step() {
                Step::Call(purpose) => self.call(purpose).await,
                Step::Tools(calls) => self.use_tools(calls).await,
                Step::Answer(text) => self.conclude(text),
            };
            if let Some(outcome) = next {
                return outcome;
            }
        }
    }

    /// One call to the model, stored in the ledger; `Some` when the attempt ends with it.
    async fn call(&mut self, purpose: Purpose) -> Option<ExecOutcome> {
        if self.conversation.messages.is_empty() {
            let task = prompt::task_message(self.spec, &self.agent.task);
            self.conversation.messages.push(Message::user(task));
        }
        if self.conversation.turns > 0 {
            // The previous turn is stored before the next call acts on it.
            if let Err(err) = self.agent.journal.flush().await {
                return Some(failed(err.to_string(), Some(self.partial())));
            }
        }
        let request = self.request();
        let input = serde_json::to_string(self.conversation.unrecorded()).unwrap_or_default();
        let started = Instant::now();
        let answer = tokio::select! {
            answer = self.provider.complete(&request) => answer,
            () = self.ctx.cancel.cancelled() => return Some(ExecOutcome::Cancelled { result: Some(self.partial()) }),
        };
        let latency_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let row = self.row(purpose, &request, &answer, (input, latency_ms));
        self.conversation.count(&row);
        let error = match answer {
            Ok(completion) => {
                self.conversation.messages.push(Message { role: Role::Assistant, content: completion.content });
                self.conversation.model = Some(completion.model);
                None
            }
            Err(err) => Some(err.to_string()),
        };
        self.conversation.recorded = self.conversation.messages.len();
        self.conversation.next = None;
        self.agent.ledger.record(row, &self.agent.task.name);
        error.map(|error| failed(error, Some(self.partial())))
    }

    fn request(&self) -> Request {
        Request {
            model: self.spec.model.clone(),
            system: Some(prompt::system(self.spec, &self.agent.task)),
            messages: self.conversation.messages.clone(),
            tools: tools::offered(&self.spec.tools),
            output_schema: self.spec.output_schema.clone(),
            max_tokens: self.spec.max_tokens,
            temperature: self.spec.temperature,
        }
    }

    /// Runs the tools the last answer asks for; `Some(Waiting)` while spawned children run.
    async fn use_tools(&mut self, calls: Vec<(String, String, Value)>) -> Option<ExecOutcome> {
        let max_turns = self.spec.max_turns.unwrap_or(DEFAULT_MAX_TURNS);
        if self.conversation.execute_turns >= max_turns {
            let error = format!("max_turns ({max_turns}) reached and the model still asks for tools");
            return Some(failed(error, Some(self.with_output())));
        }
        let mut results = Vec::with_capacity(calls.len());
        let mut waiting = false;
        for (id, name, input) in calls {
            let answer = self.use_tool(&id, &name, &input).await;
            waiting |= matches!(answer, Ok(None));
            let (content, is_error) = match answer {
                Ok(text) => (text.unwrap_or_default(), false),
                Err(error) => (error, true),
            };
            results.push(Block::ToolResult { id, content, is_error });
        }
        if waiting {
            return Some(ExecOutcome::Waiting);
        }
        self.conversation.messages.push(Message { role: Role::User, content: results });
        self.conversation.next = Some(Purpose::Execute);
        None
    }

    /// One tool's result: its text, `None` while it waits for children, or its error.
    async fn use_tool(&self, id: &str, name: &str, input: &Value) -> Result<Option<String>, String> {
        if name != tools::SPAWN_CHILDREN || !self.spec.tools.iter().any(|t| t == name) {
            return Err(format!("unknown tool '{name}'"));
        }
        let children = tools::requested(input)?;
        let key = format!("{}/{}/{id}", self.ctx.attempt, self.conversation.turns);
        let spawned = self.agent.team.spawn(Uuid::new_v5(&self.ctx.node_id, key.as_bytes()), children).await?;
        Ok(tools::outcome(&spawned, &self.agent.children))
    }

    /// A final answer: the result, a correction asked for, or the attempt's failure.
    fn conclude(&mut self, text: String) -> Option<ExecOutcome> {
        let Some(schema) = &self.spec.output_schema else {
            return Some(ExecOutcome::Succeeded(self.conversation.result(Value::String(text))));
        };
        let validator = match jsonschema::validator_for(schema) {
            Ok(validator) => validator,
            Err(err) => return Some(failed(format!("output_schema is not a valid JSON Schema: {err}"), None)),
        };
        let errors = match check(&validator, &text) {
            Ok(value) => return Some(ExecOutcome::Succeeded(self.conversation.result(value))),
            Err(errors) => errors,
        };
        let max_repairs = self.spec.max_repairs.unwrap_or(DEFAULT_MAX_REPAIRS);
        if self.conversation.repairs < max_repairs {
            self.conversation.messages.push(Message::user(repair_prompt(&errors)));
            self.conversation.next = Some(Purpose::Repair);
            return None;
        }
        let error =
            format!("the answer does not follow output_schema after {max_repairs} repairs: {}", describe(&errors));
        let listed: Vec<Value> = errors.iter().map(|e| json!({"path": e.path, "message": e.message})).collect();
        let mut result = self.conversation.result(Value::String(text));
        result["errors"] = Value::Array(listed);
        Some(failed(error, Some(result)))
    }

    /// What an attempt that did not finish leaves: the usage so far.
    fn partial(&self) -> Value {
        json!({"model": self.conversation.model, "usage": self.conversation.usage_json()})
    }

    /// The usage so far and the last answer's text.
    fn with_output(&self) -> Value {
        self.conversation.result(self.conversation.last_text().map_or(Value::Null, Value::String))
    }

    fn row(
        &self,
        purpose: Purpose,
        request: &Request,
        answer: &Result<Completion, LlmError>,
        (input, latency_ms): (String, i64),
    ) -> LlmCallRow {
        let body = self.provider.body(request);
        let (request_body, request_truncated) = capped(body.to_string());
        let requested_model = body.get("model").and_then(Value::as_str).unwrap_or_default().to_string();
        let (response, reply) = match answer {
            Ok(c) => {
                let response = json!({"model": c.model, "content": c.content, "stop": c.stop, "usage": c.usage});
                (Some(capped(response.to_string())), serde_json::to_string(&c.content).ok())
            }
            Err(_) => (None, None),
        };
        let tokens = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let usage = answer.as_ref().map(|c| c.usage).unwrap_or_default();
        LlmCallRow {
            id: Uuid::now_v7(),
            job_id: self.ctx.job_id,
            node_id: self.ctx.node_id,
            depth: i64::from(self.agent.depth),
            attempt: i64::from(self.ctx.attempt),
            turn: i64::from(self.conversation.turns + 1),
            purpose: purpose.as_str().into(),
            provider: self.spec.provider.clone(),
            model: answer.as_ref().map_or(requested_model, |c| c.model.clone()),
            input_tokens: tokens(usage.input_tokens),
            output_tokens: tokens(usage.output_tokens),
            cached_tokens: tokens(usage.cached_tokens),
            cost: answer.as_ref().map_or(0.0, |c| c.cost),
            latency_ms,
            http_status: http_status(answer),
            error: answer.as_ref().err().map(ToString::to_string),
            tries: answer.as_ref().map_or(0, |c| i64::from(c.attempts)),
            request_body: Some(request_body),
            request_truncated,
            response_truncated: response.as_ref().is_some_and(|(_, truncated)| *truncated),
            response_body: response.map(|(text, _)| text),
            input: Some(input),
            reply,
            created_ms: crate::events::now_ms(),
        }
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
