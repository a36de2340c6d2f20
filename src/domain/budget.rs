//! What a job and its nodes may spend (issue 14), as the client writes it, and its checks.
//! The accounting that enforces it is `engine::budget`.

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use super::spec::{JobSpec, NodeSpec};
use super::validate::FieldError;

/// A limit on cost, tokens, or both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"cost": 2.5, "tokens": 400000}))]
pub struct BudgetLimit {
    /// In the providers' currency, at their configured prices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0)]
    pub cost: Option<f64>,
    /// Input and output tokens together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<u64>,
}

/// A node's own envelope: an amount, or a share of what its nearest enveloped ancestor has
/// left when the node starts. Without one a node draws on that ancestor as needed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"share": 0.25}))]
pub struct NodeBudget {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0)]
    pub cost: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<u64>,
    /// A fraction, above 0 and at most 1 (instead of `cost` and `tokens`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(exclusive_minimum = 0, maximum = 1)]
    pub share: Option<f64>,
}

/// What a node does when its envelope cannot cover a call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnBudgetExhausted {
    /// The node fails with `budget_exceeded`.
    Fail,
    /// Its ancestors' remaining money tops it up, nearest first, up to the job's (default).
    #[default]
    AskParent,
    /// A person is to be asked for more; granting budget through an escalation is not built
    /// yet, so it is the same as `fail`.
    AskHuman,
}

/// A stored node budget: today's object, or the number an earlier version stored (never
/// enforced, so read as none).
pub fn stored_budget<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<NodeBudget>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Stored {
        Budget(NodeBudget),
        Legacy(#[allow(dead_code, reason = "read only to be recognised")] f64),
    }
    Ok(match Option::<Stored>::deserialize(deserializer)? {
        Some(Stored::Budget(budget)) => Some(budget),
        Some(Stored::Legacy(_)) | None => None,
    })
}

/// Every problem of the job's and its nodes' budgets, and the warnings.
pub fn check(spec: &JobSpec) -> (Vec<FieldError>, Vec<FieldError>) {
    let mut errors = Vec::new();
    if let Some(budget) = &spec.config.budget {
        let mut error =
            |path: &str, message: &str| errors.push(FieldError { path: path.into(), message: message.into() });
        if budget.cost.is_none() && budget.tokens.is_none() {
            error("config.budget", "set `cost`, `tokens` or both");
        }
        if budget.cost.is_some_and(|c| !c.is_finite() || c < 0.0) {
            error("config.budget.cost", "must be a number ≥ 0");
        }
    }
    let roots = spec.plan.iter().map(|root| ("plan".to_string(), root)).collect();
    let (more, warnings) = check_nodes(roots, spec.config.budget);
    errors.extend(more);
    (errors, warnings)
}

/// The problems and warnings of the budgets of `roots` (path, node) and everything below
/// them, held to `above` (the nearest limit above them, if known). A spawn's children are
/// checked here against nothing above; the driver holds their sum to what their parent has.
pub fn check_nodes(roots: Vec<(String, &NodeSpec)>, above: Option<BudgetLimit>) -> (Vec<FieldError>, Vec<FieldError>) {
    let (mut errors, mut warnings) = (Vec::new(), Vec::new());
    let mut error = |path: String, message: String| errors.push(FieldError { path, message });
    let mut stack: Vec<(String, &NodeSpec, Option<BudgetLimit>)> =
        roots.into_iter().map(|(path, node)| (path, node, above)).collect();
    while let Some((path, node, above)) = stack.pop() {
        let here = node_problems(&path, node, above, &mut error);
        if node.on_budget_exhausted == Some(OnBudgetExhausted::AskHuman) {
            let message = "asking a person for more budget is not built yet: it fails like `fail`".to_string();
            warnings.push(FieldError { path: format!("{path}.on_budget_exhausted"), message });
        }
        for (i, child) in node.children.iter().flatten().enumerate() {
            stack.push((format!("{path}.children[{i}]"), child, here));
        }
    }
    (errors, warnings)
}

/// A node's budget checked against the nearest explicit limit above it; returns the limit
/// its children are held to.
fn node_problems(
    path: &str,
    node: &NodeSpec,
    above: Option<BudgetLimit>,
    error: &mut impl FnMut(String, String),
) -> Option<BudgetLimit> {
    let Some(budget) = &node.budget else { return above };
    let path = format!("{path}.budget");
    if budget.share.is_some() && (budget.cost.is_some() || budget.tokens.is_some()) {
        error(path.clone(), "a `share`, or `cost` and `tokens`, not both".into());
    }
    if budget.share.is_some_and(|s| !(s > 0.0 && s <= 1.0)) {
        error(format!("{path}.share"), "must be above 0 and at most 1".into());
    }
    if budget.cost.is_some_and(|c| !c.is_finite() || c < 0.0) {
        error(format!("{path}.cost"), "must be a number ≥ 0".into());
    }
    if budget.share.is_none() && budget.cost.is_none() && budget.tokens.is_none() {
        error(path.clone(), "set `cost`, `tokens` or `share`".into());
    }
    if let (Some(cost), Some(limit)) = (budget.cost, above.and_then(|a| a.cost)) {
        if cost > limit {
            error(format!("{path}.cost"), format!("{cost} is more than the {limit} above node '{}'", node.name));
        }
    }
    if let (Some(tokens), Some(limit)) = (budget.tokens, above.and_then(|a| a.tokens)) {
        if tokens > limit {
            error(format!("{path}.tokens"), format!("{tokens} is more than the {limit} above node '{}'", node.name));
        }
    }
    Some(BudgetLimit {
        cost: budget.cost.or(above.and_then(|a| a.cost)),
        tokens: budget.tokens.or(above.and_then(|a| a.tokens)),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn problems(job: serde_json::Value) -> (Vec<String>, Vec<String>) {
        let spec: JobSpec = serde_json::from_value(job).expect("a job");
        let (errors, warnings) = check(&spec);
        let text = |list: Vec<FieldError>| list.into_iter().map(|e| format!("{}: {}", e.path, e.message)).collect();
        (text(errors), text(warnings))
    }

    #[test]
    fn envelopes_are_checked_against_the_limit_above_them() {
        let job = |budget: serde_json::Value| {
            json!({"request": "r", "config": {"budget": {"cost": 2.0, "tokens": 1000}},
                   "plan": {"name": "root", "children": [{"name": "w", "run": {"type": "noop"}, "budget": budget,
                            "on_budget_exhausted": "ask_human"}]}})
        };
        let (errors, warnings) = problems(job(json!({"cost": 1.5})));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(warnings.len(), 1, "ask_human is fail until approvals exist: {warnings:?}");
        let (errors, _) = problems(job(json!({"cost": 3.0, "tokens": 2000})));
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].contains("3 is more than the 2 above node 'w'"), "{errors:?}");
        let (errors, _) = problems(job(json!({"share": 1.5, "cost": 1.0})));
        assert_eq!(errors.len(), 2, "{errors:?}");
        let (errors, _) =
            problems(json!({"request": "r", "config": {"budget": {}}, "plan": {"name": "w", "run": {"type": "noop"}}}));
        assert!(errors[0].starts_with("config.budget: set `cost`"), "{errors:?}");
    }

    #[test]
    fn a_stored_number_from_an_earlier_version_reads_as_no_budget() {
        #[derive(Deserialize)]
        struct Stored {
            #[serde(default, deserialize_with = "stored_budget")]
            budget: Option<NodeBudget>,
        }
        let old: Stored = serde_json::from_value(json!({"budget": 2.5})).expect("reads");
        assert_eq!(old.budget, None);
        let new: Stored = serde_json::from_value(json!({"budget": {"share": 0.5}})).expect("reads");
        assert_eq!(new.budget.and_then(|b| b.share), Some(0.5));
    }
}
