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
pub mod mail_tools;
pub mod prompt;
pub mod tools;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::{json, Value};
use uuid::Uuid;

use super::calls::{call_row, CallFacts, Place};
use super::executor::{ExecContext, ExecOutcome};
use super::journal::Journal;
use super::ledger::Ledger;
use crate::domain::LlmRun;
use crate::llm::structured::{check, describe, repair_prompt};
use crate::llm::{Block, Completion, LlmError, Message, Provider, Providers, Request, Role};
use crate::store::{LlmCallRow, SharedStore};
use conversation::{Conversation, Purpose, Step};
pub use mail_tools::Post;
pub use prompt::{Ancestor, Task};
pub use tools::{ChildReport, Team};

/// Tool-asking turns an attempt may take when the run sets no `max_turns`.
pub const DEFAULT_MAX_TURNS: u32 = 10;
/// Corrections of a schema-breaking answer when the run sets no `max_repairs`.
pub const DEFAULT_MAX_REPAIRS: u32 = 2;

/// What an `llm` worker needs beside its spec: the providers, the ledger, its place in the
/// tree, its team, and its conversation (kept by the driver between starts).
pub struct AgentContext {
    pub providers: Arc<Providers>,
    pub ledger: Ledger,
    pub journal: Journal,
    pub store: SharedStore,
    pub team: Arc<dyn Team>,
    /// Its mailbox and its way to others' (`send_message`, `read_messages`).
    pub post: Arc<dyn Post>,
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
                // A validation's calls follow the conversation; they are not part of it.
                let mine: Vec<LlmCallRow> =
                    rows.into_iter().filter(|r| r.attempt == attempt && !r.purpose.starts_with("validate")).collect();
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
        let turn = i64::from(self.conversation.turns + 1);
        // Nothing is sent that the node's budget could not cover.
        if let Err(refused) = self.agent.ledger.reserve(&self.place(), turn, || self.provider.ceiling(&request)) {
            return Some(failed(refused, Some(self.partial())));
        }
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
            tools: [tools::offered(&self.spec.tools), mail_tools::tools(&self.spec.tools)].concat(),
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
        if !self.spec.tools.iter().any(|t| t == name) {
            return Err(format!("unknown tool '{name}'"));
        }
        if let Some(answer) = mail_tools::call(self.agent.post.as_ref(), name, input).await {
            return answer.map(Some);
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
        let turn = i64::from(self.conversation.turns + 1);
        let facts = CallFacts { provider: &self.spec.provider, purpose: purpose.as_str(), turn, input, latency_ms };
        call_row(&self.place(), &self.provider.body(request), answer, facts)
    }

    /// Whose calls these are: this node's attempt.
    fn place(&self) -> Place {
        Place {
            job_id: self.ctx.job_id,
            node_id: self.ctx.node_id,
            depth: self.agent.depth,
            attempt: self.ctx.attempt,
            name: String::new(),
        }
    }
}
