//! How a node recovers from a failure (issue 15, seed 004's decision matrix), as the client
//! writes it: the classes of failure cadre tells apart, and per class what to do — retry it
//! (level 1, with back-off), reallocate (level 2: the next attempt gets more memory and time),
//! escalate it to a person (level 3), or fail. The classification and the decision are
//! `engine::recovery`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What kind of failure an attempt ended in, from what cadre saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FailureClass {
    /// The wall-clock or CPU-time limit ran out, or a service or model did not answer in time.
    Timeout,
    /// Killed for memory (the limit, or the kernel's OOM killer), or out of memory.
    Memory,
    /// Refused access: a permission denied, a 401 or 403 from a service.
    Permission,
    /// A connection that failed, a 5xx or a 429 from a service or a model's provider.
    Network,
    /// The program could not be started (missing, not executable).
    Launch,
    /// Its budget could not cover a call (`budget_exceeded`).
    Budget,
    /// A model's answer that never followed its schema, or a result its check did not accept.
    Validation,
    /// Anything else: a non-zero exit, an error the worker reported.
    Process,
}

impl FailureClass {
    pub const ALL: [Self; 8] = [
        Self::Timeout,
        Self::Memory,
        Self::Permission,
        Self::Network,
        Self::Launch,
        Self::Budget,
        Self::Validation,
        Self::Process,
    ];

    /// The stored and wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Memory => "memory",
            Self::Permission => "permission",
            Self::Network => "network",
            Self::Launch => "launch",
            Self::Budget => "budget",
            Self::Validation => "validation",
            Self::Process => "process",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|class| class.as_str() == text)
    }
}

/// What to do about a failure of a class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecoveryAction {
    /// Level 1: another attempt after a back-off, as the retry policy allows.
    Retry,
    /// Level 2: another attempt with more memory and time (a command), as the retry policy
    /// allows.
    Reallocate,
    /// Level 3: the node is held and a person decides (retry, retry with, skip or fail).
    Escalate,
    /// No other attempt.
    Fail,
}

impl RecoveryAction {
    /// The level of seed 004's matrix this action is (0 for `fail`).
    pub fn level(self) -> u8 {
        match self {
            Self::Retry => 1,
            Self::Reallocate => 2,
            Self::Escalate => 3,
            Self::Fail => 0,
        }
    }
}

/// A node's recovery policy: per class, what to do; classes it leaves out keep their default
/// (or what an ancestor set: the policy is inherited, merged class by class).
pub type RecoverySpec = BTreeMap<FailureClass, RecoveryAction>;

/// [`RecoverySpec`] as the OpenAPI document describes it: an object whose properties are the
/// classes (the wire form is that map; this type only documents it).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code, reason = "documents the map's keys for the OpenAPI document")]
pub struct RecoveryPolicy {
    #[schema(nullable = false)]
    timeout: Option<RecoveryAction>,
    #[schema(nullable = false)]
    memory: Option<RecoveryAction>,
    #[schema(nullable = false)]
    permission: Option<RecoveryAction>,
    #[schema(nullable = false)]
    network: Option<RecoveryAction>,
    #[schema(nullable = false)]
    launch: Option<RecoveryAction>,
    #[schema(nullable = false)]
    budget: Option<RecoveryAction>,
    #[schema(nullable = false)]
    validation: Option<RecoveryAction>,
    #[schema(nullable = false)]
    process: Option<RecoveryAction>,
}

/// Seed 004's matrix as defaults: a timeout or a memory kill gets more resources, a network
/// failure is retried, a program that cannot start or is refused access fails at once (trying
/// again changes nothing), a budget refusal fails (the money does not come back on a
/// schedule), and the rest is retried.
pub fn default_action(class: FailureClass) -> RecoveryAction {
    match class {
        FailureClass::Timeout | FailureClass::Memory => RecoveryAction::Reallocate,
        FailureClass::Launch | FailureClass::Permission | FailureClass::Budget => RecoveryAction::Fail,
        FailureClass::Network | FailureClass::Validation | FailureClass::Process => RecoveryAction::Retry,
    }
}

/// The action for `class` under `policy` (the node's, merged over its ancestors').
pub fn action(policy: &RecoverySpec, class: FailureClass) -> RecoveryAction {
    policy.get(&class).copied().unwrap_or_else(|| default_action(class))
}

/// `child` over `parent`: the child's entries win, class by class.
pub fn inherit(parent: &RecoverySpec, child: Option<&RecoverySpec>) -> RecoverySpec {
    let mut merged = parent.clone();
    merged.extend(child.into_iter().flatten().map(|(class, action)| (*class, *action)));
    merged
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_defaults_follow_seed_004_and_a_policy_overrides_class_by_class() {
        use FailureClass::*;
        use RecoveryAction::*;
        let defaults: Vec<RecoveryAction> = FailureClass::ALL.into_iter().map(default_action).collect();
        assert_eq!(defaults, [Reallocate, Reallocate, Fail, Retry, Fail, Fail, Retry, Retry]);
        let parent: RecoverySpec =
            serde_json::from_value(json!({"timeout": "fail", "process": "escalate"})).expect("spec");
        let child: RecoverySpec = serde_json::from_value(json!({"timeout": "retry"})).expect("spec");
        let merged = inherit(&parent, Some(&child));
        assert_eq!(
            (action(&merged, Timeout), action(&merged, Process), action(&merged, Memory)),
            (Retry, Escalate, Reallocate)
        );
        assert_eq!([Retry, Reallocate, Escalate, Fail].map(RecoveryAction::level), [1, 2, 3, 0]);
        assert!(serde_json::from_value::<RecoverySpec>(json!({"disk": "retry"})).is_err(), "an unknown class");
        assert!(serde_json::from_value::<RecoverySpec>(json!({"timeout": "pray"})).is_err(), "an unknown action");
        assert_eq!(FailureClass::ALL.map(|c| FailureClass::parse(c.as_str())), FailureClass::ALL.map(Some));
    }
}
