//! An approval request as cadre keeps it: which node asks and why (`before` it starts,
//! `after` it succeeded), what the approver is shown (the prompt, the node's result and cost),
//! the rules it is decided by ([`Request`]), and what the approver gave the node (`input`).
//! Stored as one row through the journal; the row's `body` is this, as JSON.

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
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Before => "before",
            Self::After => "after",
        }
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
    /// The input does not follow the request's `input_schema`.
    #[error("{0}")]
    Input(String),
}

impl Approval {
    /// Applies a ruling; returns the state it leaves.
    pub fn rule(&mut self, ruling: Ruling, now_ms: i64) -> Result<State, Refused> {
        let approving = ruling.verdict == Verdict::Approve;
        self.request.check(&ruling.decider, ruling.verdict)?;
        if approving {
            self.check_input(ruling.input.as_ref())?;
        }
        let state = self.request.decide(&ruling.decider, ruling.verdict, ruling.comment, now_ms)?;
        self.sources.push(ruling.source);
        if approving && ruling.input.is_some() {
            self.input = ruling.input;
        }
        Ok(state)
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
        approval.kind = if row.kind == "after" { Kind::After } else { Kind::Before };
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
