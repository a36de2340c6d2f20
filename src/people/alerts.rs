//! Alerts (issue 15, seed 004's alert rules): a rule that fired, as it is stored, listed and
//! sent — who it concerns (a job, a node, or the server), what it saw, and when and by whom
//! it was resolved. The rules themselves are checked where their facts live: a job's failure
//! rate and its stragglers in its driver (`engine::run::alerts`), a busy quota in the
//! resource monitor, a budget's in its books (`engine::budget::live`).

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{json, Value};
use uuid::Uuid;

use crate::events::{now_ms, EventDraft, EventKind};
use crate::store::AlertRow;

/// What fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Too many of a job's finished workers failed.
    FailureRate,
    /// A node running far longer than its finished siblings did.
    Straggler,
    /// A depth's quota busy for minutes.
    QuotaBusy,
    /// A budget envelope that spent most of its allocation.
    Budget,
    /// A command worker with no output and no call back for too long.
    SilentWorker,
}

impl Rule {
    pub const ALL: [Rule; 5] = [Rule::FailureRate, Rule::Straggler, Rule::QuotaBusy, Rule::Budget, Rule::SilentWorker];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::FailureRate => "failure_rate",
            Self::Straggler => "straggler",
            Self::QuotaBusy => "quota_busy",
            Self::Budget => "budget",
            Self::SilentWorker => "silent_worker",
        }
    }
}

/// Alerts fired, by rule, for `/metrics`.
#[derive(Debug, Default)]
pub struct Meters {
    fired: [AtomicU64; 5],
}

impl Meters {
    pub fn count(&self, rule: Rule) {
        self.fired[rule as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub fn fired(&self, rule: Rule) -> u64 {
        self.fired[rule as usize].load(Ordering::Relaxed)
    }
}

/// A new alert of `rule` about a job (and a node), with what it saw.
pub fn fire(rule: Rule, job_id: Option<Uuid>, node_id: Option<Uuid>, message: String, data: &Value) -> AlertRow {
    AlertRow {
        id: Uuid::now_v7(),
        job_id,
        node_id,
        rule: rule.as_str().into(),
        message,
        data: data.to_string(),
        created_ms: now_ms(),
        resolved_ms: None,
        resolved_by: None,
    }
}

/// `alert` resolved now, by a key (`by`) or because its condition passed (`None`).
pub fn resolve(alert: &AlertRow, by: Option<String>) -> AlertRow {
    AlertRow { resolved_ms: Some(now_ms()), resolved_by: by, ..alert.clone() }
}

/// The event of an alert that fired (`alert`) or was resolved (`alert_resolved`).
pub fn event(alert: &AlertRow, depth: Option<u8>) -> EventDraft {
    let data: Value = serde_json::from_str(&alert.data).unwrap_or(Value::Null);
    let (kind, body) = match alert.resolved_ms {
        None => (
            EventKind::Alert,
            json!({"alert_id": alert.id, "rule": alert.rule, "job_id": alert.job_id, "node_id": alert.node_id,
                   "message": alert.message, "data": data}),
        ),
        Some(_) => (
            EventKind::AlertResolved,
            json!({"alert_id": alert.id, "rule": alert.rule, "job_id": alert.job_id, "resolved_by": alert.resolved_by}),
        ),
    };
    match alert.job_id {
        Some(job_id) => EventDraft::job(kind, job_id, depth, &body),
        None => EventDraft::server(kind, depth, &body),
    }
}
