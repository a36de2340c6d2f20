//! What a plan says about approvals (issue 15): a node that a person approves before it
//! starts or whose result a person accepts, who those people are, how many of them must
//! approve and how long they have — and how a submission's approval settings are checked.
//! The rules of a request once made (levels up the tree, decisions, timeouts) live in
//! `people::approvals`; this is only the written part of a plan.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Longest wait a level may set (30 days).
pub const MAX_TIMEOUT_S: u64 = 30 * 24 * 3600;
/// Most approvers a level may name, and most approvals it may require.
pub const MAX_APPROVERS: usize = 50;
const MAX_PROMPT_CHARS: usize = 4_000;

/// What a level does when its time runs out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnTimeout {
    /// Counts as approved.
    Approve,
    /// Counts as rejected (the default).
    #[default]
    Reject,
    /// Asks the next level up: the nearest ancestor that names approvers, finally the job's
    /// owners (at the last level: rejected).
    Escalate,
}

/// A node's approval: `before` it starts, `after` it succeeds (before its result is
/// accepted), or neither — then it only names the approvers its descendants' requests are
/// routed to when they escalate.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"before": true, "prompt": "Deploy to production?", "approvers": ["group:release"], "required": 1, "timeout_s": 3600, "on_timeout": "escalate"}))]
pub struct ApprovalSpec {
    /// A person approves before the node starts.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub before: bool,
    /// A person accepts the node's result before it counts as succeeded.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub after: bool,
    /// What the approver is asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 4000)]
    pub prompt: Option<String>,
    /// Who decides at this node's level: key names, `group:NAME` (keys in a group) or
    /// `scope:NAME` (`scope:admin`: any admin key). None: the request goes to the nearest
    /// ancestor that names approvers, and finally to the job's owners.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 50)]
    pub approvers: Vec<String>,
    /// How many of them must approve (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 50)]
    pub required: Option<u32>,
    /// How long this level waits; none: until someone decides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 2_592_000)]
    pub timeout_s: Option<u64>,
    /// What its timeout does (default `reject`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_timeout: Option<OnTimeout>,
    /// A JSON Schema the approver's `input` must follow; the node receives that input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub input_schema: Option<serde_json::Value>,
    /// The key that submitted the job may approve its own request.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_self: bool,
}

impl ApprovalSpec {
    /// Approvals required at this level.
    pub fn required(&self) -> u32 {
        self.required.unwrap_or(1).max(1)
    }
}

/// The problems of an approval as written: (field under `approval`, message).
pub fn check(spec: &ApprovalSpec) -> Vec<(&'static str, String)> {
    let mut problems = check_who(spec);
    if spec.timeout_s.is_some_and(|t| t == 0 || t > MAX_TIMEOUT_S) {
        problems.push(("timeout_s", format!("must be 1 to {MAX_TIMEOUT_S} seconds")));
    }
    if spec.on_timeout.is_some() && spec.timeout_s.is_none() {
        problems.push(("on_timeout", "applies only with a `timeout_s`".into()));
    }
    if spec.prompt.as_deref().is_some_and(|p| p.chars().count() > MAX_PROMPT_CHARS) {
        problems.push(("prompt", format!("more than {MAX_PROMPT_CHARS} characters")));
    }
    if let Some(schema) = &spec.input_schema {
        if let Err(err) = jsonschema::validator_for(schema) {
            problems.push(("input_schema", format!("not a JSON Schema: {err}")));
        }
    }
    problems
}

/// The approvers and how many of them must approve.
fn check_who(spec: &ApprovalSpec) -> Vec<(&'static str, String)> {
    let mut problems = Vec::new();
    if spec.approvers.len() > MAX_APPROVERS {
        problems.push(("approvers", format!("at most {MAX_APPROVERS} approvers")));
    }
    for approver in &spec.approvers {
        if let Err(why) = check_approver(approver) {
            problems.push(("approvers", why));
        }
    }
    let required = spec.required.unwrap_or(1);
    let only_keys = spec.approvers.iter().all(|a| !a.contains(':'));
    if required == 0 || required as usize > MAX_APPROVERS {
        problems.push(("required", format!("must be 1 to {MAX_APPROVERS}")));
    } else if !spec.approvers.is_empty() && only_keys && required as usize > spec.approvers.len() {
        let named = spec.approvers.len();
        problems.push(("required", format!("{required} approvals are required and only {named} keys are named")));
    }
    problems
}

/// An approver entry: a key name, `group:NAME` or `scope:read|write|admin`.
pub fn check_approver(approver: &str) -> Result<(), String> {
    let valid_name = |name: &str| super::validate::is_valid_name(name);
    match approver.split_once(':') {
        Some(("group", group)) if valid_name(group) => Ok(()),
        Some(("scope", "read" | "write" | "admin")) => Ok(()),
        Some(("scope", other)) => Err(format!("'{other}' is not a scope (read, write or admin)")),
        None if valid_name(approver) => Ok(()),
        _ => Err(format!("'{approver}' is not a key name, `group:NAME` or `scope:NAME`")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn spec(value: serde_json::Value) -> ApprovalSpec {
        serde_json::from_value(value).expect("an approval")
    }

    #[test]
    fn approvers_counts_timeouts_and_schemas_are_checked() {
        let good = spec(json!({"before": true, "approvers": ["alice", "group:release", "scope:admin"],
                               "required": 2, "timeout_s": 60, "on_timeout": "escalate",
                               "input_schema": {"type": "object"}}));
        assert!(check(&good).is_empty(), "{:?}", check(&good));
        let bad = spec(json!({"after": true, "approvers": ["alice", "bob", "scope:root", "x y"], "required": 3,
                              "on_timeout": "approve", "input_schema": {"type": 12}}));
        let fields: Vec<&str> = check(&bad).iter().map(|(field, _)| *field).collect();
        assert_eq!(fields, ["approvers", "approvers", "on_timeout", "input_schema"]);
        let too_many = spec(json!({"before": true, "approvers": ["alice"], "required": 2}));
        assert_eq!(check(&too_many)[0].1, "2 approvals are required and only 1 keys are named");
        let zero = spec(json!({"before": true, "required": 0, "timeout_s": 0}));
        assert_eq!(check(&zero).len(), 2);
    }
}
