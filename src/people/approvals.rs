//! An approval's rules, with no I/O: a request waits at one level of approvers at a time —
//! the node's own, then each ancestor's that names any, then the job's owners: the
//! organisation chart the tree already is — until `required` of that level's approvers have
//! approved it, one of them rejects it, or its time runs out and the level's `on_timeout`
//! applies (approve, reject, or escalate to the next level, with that level's own timeout).
//! Who decided, at which level, and when, is kept for the audit.

use serde::{Deserialize, Serialize};

pub use crate::domain::approval::OnTimeout;

/// One level of approvers: who may decide, how many must approve, how long they have.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Level {
    /// Whose level it is (a node's name, or `job owners`).
    pub owner: String,
    /// Key names, `group:NAME` or `scope:NAME` (`scope:admin`: any admin key).
    pub approvers: Vec<String>,
    pub required: u32,
    pub timeout_ms: Option<i64>,
    pub on_timeout: OnTimeout,
}

/// Who is deciding: a key's name, its groups and its scopes.
#[derive(Debug, Clone, Default)]
pub struct Decider {
    pub name: String,
    pub groups: Vec<String>,
    pub scopes: Vec<String>,
}

/// A decision a person can make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Approve,
    Reject,
    /// An escalation: run the node again as it was.
    Retry,
    /// An escalation: run it again with the limits (or model) given as the decision's input.
    RetryWith,
    /// An escalation: count it as succeeded, with the decision's input as its result.
    Skip,
    /// An escalation: let the failure stand.
    Fail,
}

impl Verdict {
    /// Whether it lets the node go on (approves, or retries or skips an escalation).
    pub fn lets_go_on(self) -> bool {
        !matches!(self, Self::Reject | Self::Fail)
    }

    /// Whether it decides an escalation rather than an approval.
    pub fn is_recovery(self) -> bool {
        matches!(self, Self::Retry | Self::RetryWith | Self::Skip | Self::Fail)
    }
}

/// A decision as recorded: by whom (or by the clock), at which level, when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub verdict: Verdict,
    /// The key's name; `None` for a timeout's default.
    pub by: Option<String>,
    pub level: usize,
    pub at_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Pending,
    Approved,
    Rejected,
    /// Withdrawn: its node was cancelled before anyone decided.
    Cancelled,
}

impl State {
    /// The stored and listed spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Cancelled => "cancelled",
        }
    }
}

/// Why a decision was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("this approval is no longer pending (it was {0:?})")]
    Closed(State),
    #[error("'{0}' is not among the approvers of this level ({1})")]
    NotAnApprover(String, String),
    #[error("'{0}' asked for this approval and may not approve it")]
    OwnRequest(String),
    #[error("'{0}' has already decided at this level")]
    AlreadyDecided(String),
}

/// One approval request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Request {
    pub levels: Vec<Level>,
    /// The level it waits at now.
    pub level: usize,
    /// When it reached that level.
    pub since_ms: i64,
    /// The key that submitted the job, which may not approve unless allowed.
    pub requested_by: Option<String>,
    pub allow_self: bool,
    pub state: State,
    pub decisions: Vec<Decision>,
}

impl Request {
    /// A request waiting at its first level from `now_ms`. `levels` must not be empty.
    pub fn new(levels: Vec<Level>, requested_by: Option<String>, allow_self: bool, now_ms: i64) -> Self {
        Self {
            levels,
            level: 0,
            since_ms: now_ms,
            requested_by,
            allow_self,
            state: State::Pending,
            decisions: Vec::new(),
        }
    }

    /// `decider` approves or rejects; returns the state it leaves.
    pub fn decide(
        &mut self,
        decider: &Decider,
        verdict: Verdict,
        comment: Option<String>,
        now_ms: i64,
    ) -> Result<State, Refusal> {
        self.check(decider, verdict)?;
        let required = self.levels[self.level].required.max(1) as usize;
        let by = Some(decider.name.clone());
        self.decisions.push(Decision { verdict, by, level: self.level, at_ms: now_ms, comment });
        self.state = match verdict {
            verdict if !verdict.lets_go_on() => State::Rejected,
            _ if self.approvals_here() >= required => State::Approved,
            _ => State::Pending,
        };
        Ok(self.state)
    }

    /// Whether `decider` may give this verdict now, and why not.
    pub fn check(&self, decider: &Decider, verdict: Verdict) -> Result<(), Refusal> {
        if self.state != State::Pending {
            return Err(Refusal::Closed(self.state));
        }
        let level = &self.levels[self.level];
        if !level.approvers.iter().any(|a| matches(a, decider)) {
            return Err(Refusal::NotAnApprover(decider.name.clone(), level.approvers.join(", ")));
        }
        if verdict.lets_go_on() && !self.allow_self && self.requested_by.as_deref() == Some(&decider.name) {
            return Err(Refusal::OwnRequest(decider.name.clone()));
        }
        let here = |d: &&Decision| d.level == self.level && d.by.as_deref() == Some(&decider.name);
        if self.decisions.iter().any(|d| here(&d)) {
            return Err(Refusal::AlreadyDecided(decider.name.clone()));
        }
        Ok(())
    }

    /// The clock at `now_ms`: a level whose time has run out applies its `on_timeout` (an
    /// escalation moves to the next level and its own timeout starts). Returns the state.
    pub fn tick(&mut self, now_ms: i64) -> State {
        while self.state == State::Pending {
            let Some(deadline) = self.deadline_ms() else { break };
            if now_ms < deadline {
                break;
            }
            let on_timeout = self.levels[self.level].on_timeout;
            match on_timeout {
                OnTimeout::Escalate if self.level + 1 < self.levels.len() => {
                    self.level += 1;
                    self.since_ms = deadline;
                }
                OnTimeout::Approve => self.default(Verdict::Approve, deadline),
                OnTimeout::Reject | OnTimeout::Escalate => self.default(Verdict::Reject, deadline),
            }
        }
        self.state
    }

    /// When the current level's time runs out, if it has a limit.
    pub fn deadline_ms(&self) -> Option<i64> {
        self.levels[self.level].timeout_ms.map(|t| self.since_ms + t)
    }

    fn default(&mut self, verdict: Verdict, at_ms: i64) {
        self.decisions.push(Decision { verdict, by: None, level: self.level, at_ms, comment: None });
        self.state = if verdict == Verdict::Approve { State::Approved } else { State::Rejected };
    }

    fn approvals_here(&self) -> usize {
        self.decisions.iter().filter(|d| d.level == self.level && d.verdict.lets_go_on()).count()
    }
}

/// Whether an approver entry names `decider`.
fn matches(approver: &str, decider: &Decider) -> bool {
    match approver.split_once(':') {
        Some(("group", group)) => decider.groups.iter().any(|g| g == group),
        Some(("scope", scope)) => decider.scopes.iter().any(|s| s == scope),
        _ => approver == decider.name,
    }
}

#[cfg(test)]
#[path = "approvals_tests.rs"]
mod tests;
