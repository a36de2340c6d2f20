//! Who does a node's work when the workforce does: a registered agent named by the node
//! (`agent`), or one the registry picks by capability (`delegate`). The wire format and the
//! checks that need nothing but the plan; whether the agents exist is the registry's to say
//! at submission (`workforce::Workforce::check_plan`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Most conditions a `delegate` may list (required plus preferred).
const MAX_CONDITIONS: usize = 32;

/// Ask the registry for an agent by capability.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DelegateSpec {
    /// Capabilities the agent must have, each `label`, `label=value`, `label!=value` or a
    /// numeric comparison (`level>=3`, `>`, `<=`, `<`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 32)]
    pub require: Vec<String>,
    /// Capabilities that make an agent likelier to be picked, by weight.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 32)]
    pub prefer: Vec<Preference>,
    /// Go back to the agent that served the same job and requirements before (and wait for
    /// it while it is busy).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sticky: bool,
    /// `subordinates`: only agents reporting, directly or not, to the agent that runs the
    /// nearest staffed ancestor.
    #[serde(default, skip_serializing_if = "Scope::is_any")]
    pub scope: Scope,
    /// How long the node waits for an eligible agent with room before it fails (default
    /// `workforce.wait_timeout_s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    pub timeout_s: Option<u64>,
}

/// One preference: a comparison on a capability, worth `weight` points when it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Preference {
    /// The capability's label (`level`, `lang`).
    pub label: String,
    /// The comparison (default `=`; `exists` needs no value).
    #[serde(default)]
    pub op: Op,
    /// What the capability's value is compared with (a string or a number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub value: Option<serde_json::Value>,
    /// Points, 1–100 (default 10); a full agent costs 100.
    #[serde(default = "default_weight")]
    #[schema(minimum = 1, maximum = 100)]
    pub weight: u32,
}

fn default_weight() -> u32 {
    10
}

/// A comparison on a capability's value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = CapabilityOp)]
pub enum Op {
    #[default]
    #[serde(rename = "=")]
    Eq,
    #[serde(rename = "!=")]
    Ne,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    /// The agent has the label, whatever its value.
    #[serde(rename = "exists")]
    Exists,
}

/// Which agents a delegation may pick.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = DelegationScope)]
pub enum Scope {
    /// Any agent in the registry.
    #[default]
    Any,
    /// Only agents in the line below the agent running the nearest staffed ancestor.
    Subordinates,
}

impl Scope {
    fn is_any(&self) -> bool {
        *self == Self::Any
    }
}

/// A node's staffing as the driver keeps it: the agent named or the delegation asked for,
/// and whether the agent does the work (a leaf, which takes its executor from the agent) or
/// runs an orchestrator (whose descendants may delegate to its subordinates).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Staff {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delegate: Option<DelegateSpec>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub works: bool,
}

/// A parsed condition: `label`, or `label OP value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub label: String,
    pub op: Op,
    pub value: Option<String>,
}

impl Condition {
    /// Reads `label`, `label=value`, `label!=value`, `label>=3` and the like.
    pub fn parse(text: &str) -> Result<Self, String> {
        const OPS: [(&str, Op); 6] =
            [("!=", Op::Ne), (">=", Op::Ge), ("<=", Op::Le), ("=", Op::Eq), (">", Op::Gt), ("<", Op::Lt)];
        let found = OPS.iter().filter_map(|(sign, op)| text.find(sign).map(|at| (at, *sign, *op))).min_by_key(|f| f.0);
        let (label, op, value) = match found {
            Some((at, sign, op)) => (&text[..at], op, Some(text[at + sign.len()..].to_string())),
            None => (text, Op::Exists, None),
        };
        if !is_label(label) {
            return Err(format!(
                "'{text}': a label is 1–64 of [a-z0-9_.-] (then optionally =, !=, >, >=, <, <= and a value)"
            ));
        }
        if value.as_deref().is_some_and(|v| v.is_empty() || v.len() > 128) {
            return Err(format!("'{text}': the value after the comparison is 1–128 characters"));
        }
        if matches!(op, Op::Gt | Op::Ge | Op::Lt | Op::Le)
            && value.as_deref().and_then(|v| v.parse::<f64>().ok()).is_none()
        {
            return Err(format!("'{text}': {} compares numbers", sign(op)));
        }
        Ok(Self { label: label.to_string(), op, value })
    }

    /// The condition a preference states.
    pub fn of(preference: &Preference) -> Result<Self, String> {
        let value = match &preference.value {
            None => None,
            Some(serde_json::Value::String(text)) => Some(text.clone()),
            Some(serde_json::Value::Number(number)) => Some(number.to_string()),
            Some(_) => return Err("a string or a number".into()),
        };
        let text = match (&value, preference.op) {
            (_, Op::Exists) => preference.label.clone(),
            (Some(value), op) => format!("{}{}{value}", preference.label, sign(op)),
            (None, _) => return Err("needs a `value` (or `op: exists`)".into()),
        };
        Self::parse(&text)
    }

    /// Whether an agent with these capabilities meets the condition.
    pub fn holds(&self, capabilities: &[String]) -> bool {
        let values = capabilities.iter().filter_map(|c| {
            let (label, value) = c.split_once('=').unwrap_or((c.as_str(), ""));
            (label == self.label).then_some(value)
        });
        match (&self.value, self.op) {
            (_, Op::Exists) => values.count() > 0,
            (Some(wanted), Op::Ne) => values.into_iter().all(|v| v != wanted),
            (Some(wanted), op) => values.into_iter().any(|v| compares(v, op, wanted)),
            (None, _) => false,
        }
    }
}

fn compares(have: &str, op: Op, wanted: &str) -> bool {
    let numbers = have.parse::<f64>().ok().zip(wanted.parse::<f64>().ok());
    match (op, numbers) {
        (Op::Eq, Some((a, b))) => a == b,
        (Op::Eq, None) => have == wanted,
        (Op::Gt, Some((a, b))) => a > b,
        (Op::Ge, Some((a, b))) => a >= b,
        (Op::Lt, Some((a, b))) => a < b,
        (Op::Le, Some((a, b))) => a <= b,
        _ => false,
    }
}

fn sign(op: Op) -> &'static str {
    match op {
        Op::Eq => "=",
        Op::Ne => "!=",
        Op::Gt => ">",
        Op::Ge => ">=",
        Op::Lt => "<",
        Op::Le => "<=",
        Op::Exists => "",
    }
}

/// `[a-z0-9_.-]{1,64}`: a capability's label.
pub fn is_label(text: &str) -> bool {
    (1..=64).contains(&text.len())
        && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'.' | b'-'))
}

/// What is wrong with a `delegate`, as (field, message) pairs.
pub fn check(delegate: &DelegateSpec) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    if delegate.require.len() + delegate.prefer.len() > MAX_CONDITIONS {
        problems.push((String::new(), format!("at most {MAX_CONDITIONS} conditions in all")));
    }
    for (i, text) in delegate.require.iter().enumerate() {
        if let Err(message) = Condition::parse(text) {
            problems.push((format!("require[{i}]"), message));
        }
    }
    for (i, preference) in delegate.prefer.iter().enumerate() {
        if !(1..=100).contains(&preference.weight) {
            problems.push((format!("prefer[{i}].weight"), "must be 1–100".into()));
        }
        if let Err(message) = Condition::of(preference) {
            problems.push((format!("prefer[{i}]"), message));
        }
    }
    if delegate.timeout_s == Some(0) {
        problems.push(("timeout_s".into(), "must be at least 1".into()));
    }
    problems
}

/// Delegations limited to subordinates under no staffed ancestor: there is no manager
/// whose line they could pick from.
pub fn unmanaged(root: &super::NodeSpec, path: &str) -> Vec<super::FieldError> {
    let mut found = Vec::new();
    walk(root, path, false, &mut found);
    found
}

fn walk(node: &super::NodeSpec, path: &str, managed: bool, found: &mut Vec<super::FieldError>) {
    if node.delegate.as_ref().is_some_and(|d| d.scope == Scope::Subordinates) && !managed {
        let message = "`scope: subordinates` needs an ancestor run by an agent (`agent` or `delegate`)";
        found.push(super::FieldError { path: format!("{path}.delegate.scope"), message: message.into() });
    }
    for (i, child) in node.children.iter().flatten().enumerate() {
        walk(child, &format!("{path}.children[{i}]"), managed || node.is_staffed(), found);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(list: &[&str]) -> Vec<String> {
        list.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn conditions_read_and_hold() {
        let agent = caps(&["lang=rust", "sql", "level=3"]);
        for (text, holds) in [
            ("lang=rust", true),
            ("lang=go", false),
            ("lang!=go", true),
            ("sql", true),
            ("docker", false),
            ("level>=3", true),
            ("level>3", false),
            ("level<4", true),
            ("level<=2", false),
            ("level=3.0", true),
        ] {
            assert_eq!(Condition::parse(text).unwrap().holds(&agent), holds, "{text}");
        }
        assert!(Condition::parse("Lang=rust").is_err());
        assert!(Condition::parse("level>=three").is_err());
        assert!(Condition::parse("level=").is_err());
    }

    #[test]
    fn preferences_become_conditions() {
        let preference = |op, value| Preference { label: "level".into(), op, value, weight: 50 };
        let ge = Condition::of(&preference(Op::Ge, Some(serde_json::json!(3)))).unwrap();
        assert_eq!((ge.op, ge.value.as_deref()), (Op::Ge, Some("3")));
        assert!(Condition::of(&preference(Op::Eq, None)).is_err());
        assert!(Condition::of(&preference(Op::Exists, None)).unwrap().holds(&caps(&["level=1"])));
        let bad = DelegateSpec {
            prefer: vec![Preference { weight: 0, ..preference(Op::Ge, Some(serde_json::json!(true))) }],
            ..DelegateSpec::default()
        };
        assert_eq!(check(&bad).len(), 2);
    }
}
