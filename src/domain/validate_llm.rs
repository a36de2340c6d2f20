//! The checks of an `llm` worker's settings: the ones that need nothing but the spec (its
//! numbers, its tools, its output schema), and the one that needs the server's configuration
//! (that its provider exists), which walks a plan or a spawn request on its own.

use super::spec::{ExecutorSpec, LlmRun, NodeSpec};
use super::validate::FieldError;

/// Tools an `llm` worker may be given.
pub const TOOLS: &[&str] = &["spawn_children", "send_message", "read_messages"];
/// Most model calls asking for tools in one attempt.
pub const MAX_TURNS_LIMIT: u32 = 100;
/// Most schema corrections in one attempt.
pub const MAX_REPAIRS_LIMIT: u32 = 10;
/// Longest description of a node.
pub const MAX_DESCRIPTION_CHARS: usize = 20_000;

/// Every problem of one `llm` run, as (field, message) under the run's path.
pub fn check_run(run: &LlmRun) -> Vec<(&'static str, String)> {
    let mut problems = Vec::new();
    if run.provider.trim().is_empty() {
        problems.push(("provider", "must name a provider".to_string()));
    }
    if run.max_tokens == Some(0) {
        problems.push(("max_tokens", "must be at least 1".to_string()));
    }
    if run.temperature.is_some_and(|t| !(0.0..=2.0).contains(&t)) {
        problems.push(("temperature", "must be between 0 and 2".to_string()));
    }
    if run.max_turns.is_some_and(|t| t == 0 || t > MAX_TURNS_LIMIT) {
        problems.push(("max_turns", format!("must be 1–{MAX_TURNS_LIMIT}")));
    }
    if run.max_repairs.is_some_and(|r| r > MAX_REPAIRS_LIMIT) {
        problems.push(("max_repairs", format!("must be 0–{MAX_REPAIRS_LIMIT}")));
    }
    if let Some(unknown) = run.tools.iter().find(|tool| !TOOLS.contains(&tool.as_str())) {
        problems.push(("tools", format!("unknown tool '{unknown}'; known: {}", TOOLS.join(", "))));
    }
    if let Some(schema) = &run.output_schema {
        if let Err(err) = jsonschema::validator_for(schema) {
            problems.push(("output_schema", format!("not a valid JSON Schema: {err}")));
        }
    }
    problems
}

/// `llm` workers under `nodes` (a plan's root, or a spawn's children at `path`) that name a
/// provider the server does not have.
pub fn unknown_providers(nodes: &[(String, &NodeSpec)], providers: &[String]) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut stack: Vec<(String, &NodeSpec)> = nodes.to_vec();
    while let Some((path, node)) = stack.pop() {
        if let Some(ExecutorSpec::Llm(run)) = &node.run {
            let named =
                [(Some(&run.provider), "provider"), (run.fallback.as_ref().map(|f| &f.provider), "fallback.provider")];
            for (provider, field) in named {
                let Some(provider) = provider.filter(|p| !p.trim().is_empty() && !providers.contains(p)) else {
                    continue;
                };
                errors.push(FieldError { path: format!("{path}.run.{field}"), message: unknown(provider, providers) });
            }
        }
        for (i, child) in node.children.iter().flatten().enumerate() {
            stack.push((format!("{path}.children[{i}]"), child));
        }
    }
    errors
}

/// The message for a provider the server does not have.
pub(super) fn unknown(name: &str, providers: &[String]) -> String {
    if providers.is_empty() {
        format!("no provider named '{name}': this server has none configured (see [llm.providers])")
    } else {
        format!("no provider named '{name}'; configured: {}", providers.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(json: serde_json::Value) -> LlmRun {
        serde_json::from_value(json).expect("an llm run")
    }

    #[test]
    fn numbers_tools_and_schemas_are_checked() {
        let good = run(serde_json::json!({"provider": "p", "tools": ["spawn_children"], "max_turns": 3,
                                          "output_schema": {"type": "object"}}));
        assert!(check_run(&good).is_empty());
        let bad = run(serde_json::json!({"provider": " ", "max_tokens": 0, "temperature": 3.0, "max_turns": 0,
                                         "max_repairs": 11, "tools": ["rm_rf"], "output_schema": {"type": 7}}));
        let fields: Vec<&str> = check_run(&bad).into_iter().map(|(field, _)| field).collect();
        assert_eq!(
            fields,
            ["provider", "max_tokens", "temperature", "max_turns", "max_repairs", "tools", "output_schema"]
        );
    }

    #[test]
    fn a_misspelt_or_mistyped_field_of_an_llm_run_is_named() {
        let culprit = |run| ExecutorSpec::culprit(&run);
        assert_eq!(culprit(serde_json::json!({"type": "llm", "provider": "p", "modle": "m"})), Some("modle".into()));
        let mistyped = serde_json::json!({"type": "llm", "provider": "p", "temperature": "hot"});
        assert_eq!(culprit(mistyped), Some("temperature".into()));
        assert_eq!(culprit(serde_json::json!({"type": "llm"})), None, "a missing field is named by serde itself");
    }

    #[test]
    fn a_provider_must_be_configured() {
        let node: NodeSpec = serde_json::from_value(serde_json::json!({"name": "r", "children": [
            {"name": "a", "run": {"type": "llm", "provider": "local"}},
            {"name": "b", "run": {"type": "llm", "provider": "cloud"}}
        ]}))
        .expect("node");
        let errors = unknown_providers(&[("plan".into(), &node)], &["local".to_string()]);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].path, "plan.children[1].run.provider");
        assert!(errors[0].message.contains("configured: local"), "{}", errors[0].message);
        assert!(unknown_providers(&[("plan".into(), &node)], &[])[0].message.contains("none configured"));
    }
}
