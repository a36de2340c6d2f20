//! An approval request as cadre keeps it: which node asks and why (`before` it starts,
//! `after` it succeeded), what the approver is shown (the prompt, the node's result and cost),
//! the rules it is decided by ([`Request`]), and what the approver gave the node (`input`).
//! Stored as one row through the journal; the row's `body` is this, as JSON.

use std::sync::atomic::{AtomicI64, AtomicU64};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::approvals::{Decider, Refusal, Request, State, Verdict};
use crate::store::ApprovalRow;

/// When in a node's life it asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Before the node starts.
    Before,
    /// After it succeeded, before its result is accepted.
    After,
    /// After a failure its recovery policy escalates: retry, retry with, skip or fail.
    Escalation,
    /// A model's plan (`config.approve_plan`), before any of its children runs.
    Plan,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Before => "before",
            Self::After => "after",
            Self::Escalation => "escalation",
            Self::Plan => "plan",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "after" => Self::After,
            "escalation" => Self::Escalation,
            "plan" => Self::Plan,
            _ => Self::Before,
        }
    }
}

/// What a `retry_with` may change for the next attempt: a command's limits, an `llm`
/// worker's provider and model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryTerms {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_mb: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_seconds: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_s: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

impl RetryTerms {
    /// The terms a `retry_with` decision's input gives, or why it gives none.
    pub fn of(input: Option<&Value>) -> Result<Self, String> {
        const SHAPE: &str = "retry_with takes an input of {memory_mb, cpu_seconds, timeout_s, provider, model}";
        let terms: Self = input.map_or_else(
            || Err(SHAPE.to_string()),
            |value| serde_json::from_value(value.clone()).map_err(|e| format!("{SHAPE}: {e}")),
        )?;
        if terms == Self::default() {
            return Err(format!("{SHAPE}, at least one of them"));
        }
        if [terms.memory_mb, terms.cpu_seconds, terms.timeout_s].contains(&Some(0)) {
            return Err("retry_with limits are at least 1".into());
        }
        Ok(terms)
    }
}

/// One approval request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Approval {
    #[serde(skip)]
    pub id: Uuid,
    #[serde(skip)]
    pub job_id: Uuid,
    #[serde(skip)]
    pub node_id: Uuid,
    #[serde(skip, default = "before")]
    pub kind: Kind,
    #[serde(skip)]
    pub created_ms: i64,
    pub node_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_schema: Option<Value>,
    pub request: Request,
    /// The approver's input, once approved with one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Value>,
    /// What the approver is shown besides the prompt: the result awaiting acceptance.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub context: Value,
    /// Where each decision came from (the client address), in the order of `decisions`.
    #[serde(default)]
    pub sources: Vec<Option<String>>,
}

fn before() -> Kind {
    Kind::Before
}

/// A person's decision, as it reaches the request.
#[derive(Debug, Clone)]
pub struct Ruling {
    pub decider: Decider,
    pub verdict: Verdict,
    pub comment: Option<String>,
    pub input: Option<Value>,
    /// The client address it came from.
    pub source: Option<String>,
}

/// Why a ruling was not taken.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refused {
    #[error(transparent)]
    Rule(#[from] Refusal),
    /// The input does not follow the request's `input_schema` (or a `retry_with`'s terms).
    #[error("{0}")]
    Input(String),
    /// A decision of the wrong kind: approve/reject for an escalation, or the reverse.
    #[error("{0}")]
    Decision(String),
}

impl Approval {
    /// Applies a ruling; returns the state it leaves.
    pub fn rule(&mut self, ruling: Ruling, now_ms: i64) -> Result<State, Refused> {
        let approving = ruling.verdict.lets_go_on();
        self.check_kind(ruling.verdict)?;
        self.request.check(&ruling.decider, ruling.verdict)?;
        match ruling.verdict {
            Verdict::RetryWith => drop(RetryTerms::of(ruling.input.as_ref()).map_err(Refused::Input)?),
            Verdict::Approve => self.check_input(ruling.input.as_ref())?,
            _ => {}
        }
        let state = self.request.decide(&ruling.decider, ruling.verdict, ruling.comment, now_ms)?;
        self.sources.push(ruling.source);
        if approving && ruling.input.is_some() {
            self.input = ruling.input;
        }
        Ok(state)
    }

    fn check_kind(&self, verdict: Verdict) -> Result<(), Refused> {
        match (self.kind == Kind::Escalation, verdict.is_recovery()) {
            (true, false) => {
                Err(Refused::Decision("an escalation is decided with retry, retry_with, skip or fail".into()))
            }
            (false, true) => Err(Refused::Decision("an approval is decided with approve or reject".into())),
            _ => Ok(()),
        }
    }

    fn check_input(&self, input: Option<&Value>) -> Result<(), Refused> {
        let Some(schema) = &self.input_schema else { return Ok(()) };
        let value = input.unwrap_or(&Value::Null);
        let validator = jsonschema::validator_for(schema).map_err(|e| Refused::Input(e.to_string()))?;
        let errors: Vec<String> = validator.iter_errors(value).take(5).map(|e| e.to_string()).collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Refused::Input(format!("the input does not follow the input_schema: {}", errors.join("; "))))
        }
    }

    /// The request withdrawn: its node was cancelled.
    pub fn withdraw(&mut self) {
        if self.request.state == State::Pending {
            self.request.state = State::Cancelled;
        }
    }

    /// The row the journal writes.
    pub fn row(&self, now_ms: i64) -> ApprovalRow {
        ApprovalRow {
            id: self.id,
            job_id: self.job_id,
            node_id: self.node_id,
            kind: self.kind.as_str().into(),
            state: self.request.state.as_str().into(),
            created_ms: self.created_ms,
            updated_ms: now_ms,
            body: serde_json::to_string(self).unwrap_or_else(|_| "{}".into()),
        }
    }

    /// Reads a stored row back.
    pub fn from_row(row: &ApprovalRow) -> Result<Self, String> {
        let mut approval: Self = serde_json::from_str(&row.body).map_err(|e| format!("approval {}: {e}", row.id))?;
        approval.id = row.id;
        approval.job_id = row.job_id;
        approval.node_id = row.node_id;
        approval.created_ms = row.created_ms;
        approval.kind = Kind::parse(&row.kind);
        Ok(approval)
    }

    /// Who decided last, and at which level: `"alice at level 1"` or `"its timeout"`.
    pub fn last_decider(&self) -> String {
        match self.request.decisions.last() {
            Some(decision) => match &decision.by {
                Some(by) => format!("'{by}' (level {})", decision.level + 1),
                None => format!("the timeout of level {}", decision.level + 1),
            },
            None => "nobody".into(),
        }
    }
}

/// The server's approval counters, for `/metrics`.
#[derive(Debug, Default)]
pub struct Meters {
    /// Requests waiting for a decision in the jobs this server drives.
    pub waiting: AtomicI64,
    pub requested: AtomicU64,
    pub escalated: AtomicU64,
    pub approved: AtomicU64,
    pub rejected: AtomicU64,
    /// Withdrawn because their node was cancelled.
    pub withdrawn: AtomicU64,
}
