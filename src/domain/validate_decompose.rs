//! The checks of `decompose` and `validate` that need the server's configuration: that the
//! providers they name (or fall back to) exist, and that their numbers and names are sane.
//! The structural rules (one of `children`, `run`, `decompose`; room below a decomposing
//! node) are in [`super::validate`] with the rest of the tree's shape.

use super::decompose::{CheckSpec, DecomposeSpec};
use super::spec::NodeSpec;
use super::validate::{is_valid_name, FieldError};
use super::validate_llm::unknown;
use super::PlanLimits;

/// Most agents a group of tasks may get.
pub const MAX_AGENTS_PER_GROUP: u32 = 10;

/// Every problem of the `decompose` and `validate` settings under `nodes`.
pub fn problems(nodes: &[(String, &NodeSpec)], limits: &PlanLimits) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut stack: Vec<(String, &NodeSpec)> = nodes.to_vec();
    while let Some((path, node)) = stack.pop() {
        if let Some(decompose) = &node.decompose {
            decomposing(decompose, &format!("{path}.decompose"), limits, &mut errors);
        }
        if let Some(check) = &node.validate {
            checked(check, &format!("{path}.validate"), limits, &mut errors);
        }
        for (i, child) in node.children.iter().flatten().enumerate() {
            stack.push((format!("{path}.children[{i}]"), child));
        }
    }
    errors
}

fn decomposing(spec: &DecomposeSpec, path: &str, limits: &PlanLimits, errors: &mut Vec<FieldError>) {
    let mut error = |field: &str, message: String| {
        errors.push(FieldError { path: format!("{path}{field}"), message });
    };
    match spec.provider.as_ref().or(limits.decomposer.as_ref()) {
        None => error(
            ".provider",
            "names no provider and this server has no decomposer: name one, or set [decomposer] provider".into(),
        ),
        Some(name) if !limits.providers.contains(name) => error(".provider", unknown(name, &limits.providers)),
        Some(_) => {}
    }
    if spec.max_agents_per_group.is_some_and(|n| n == 0 || n > MAX_AGENTS_PER_GROUP) {
        error(".max_agents_per_group", format!("must be 1–{MAX_AGENTS_PER_GROUP}"));
    }
    for (domain, manager) in spec.managers.iter().flatten() {
        if !is_valid_name(&manager.name) {
            error(&format!(".managers.{domain}.name"), "must match [A-Za-z0-9_.-]{1,64}".into());
        }
    }
    if let Some(crate::domain::ExecutorSpec::Llm(run)) = &spec.agent {
        if !limits.providers.contains(&run.provider) {
            error(".agent.provider", unknown(&run.provider, &limits.providers));
        }
    }
}

fn checked(spec: &CheckSpec, path: &str, limits: &PlanLimits, errors: &mut Vec<FieldError>) {
    let mut error = |field: &str, message: String| {
        errors.push(FieldError { path: format!("{path}{field}"), message });
    };
    match spec {
        CheckSpec::Llm { provider, .. } if !limits.providers.contains(provider) => {
            error(".provider", unknown(provider, &limits.providers));
        }
        CheckSpec::Command { argv, timeout_s, .. } => {
            if argv.first().is_none_or(|program| program.is_empty()) {
                error(".argv", "needs at least the program to run".into());
            }
            if *timeout_s == Some(0) {
                error(".timeout_s", "must be at least 1".into());
            }
        }
        CheckSpec::Llm { .. } => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::domain::{validate::validate, JobSpec};

    fn errors(job: serde_json::Value, decomposer: Option<&str>) -> Vec<String> {
        let mut limits = crate::config::Config::default().plan_limits();
        limits.providers = vec!["local".into()];
        limits.decomposer = decomposer.map(str::to_string);
        let spec: JobSpec = serde_json::from_value(job).expect("a job");
        let spec = spec.with_decomposer(&limits);
        validate(&spec, &limits).errors.iter().map(|e| format!("{}: {}", e.path, e.message)).collect()
    }

    #[test]
    fn providers_numbers_names_and_shapes_are_checked() {
        let plan =
            |decompose: serde_json::Value| json!({"request": "r", "plan": {"name": "app", "decompose": decompose}});
        assert!(errors(plan(json!({"type": "llm", "provider": "local"})), None).is_empty());
        let none = errors(plan(json!({"type": "llm"})), None);
        assert!(none[0].starts_with("plan.decompose.provider: names no provider"), "{none:?}");
        assert!(errors(plan(json!({"type": "llm"})), Some("local")).is_empty(), "the server's decomposer");
        let wrong = errors(
            plan(json!({"type": "llm", "provider": "cloud", "max_agents_per_group": 0,
            "managers": {"backend": {"name": "not a name"}}, "agent": {"type": "llm", "provider": "other"}})),
            None,
        );
        assert_eq!(wrong.len(), 4, "{wrong:?}");
        let both = errors(
            json!({"request": "r", "plan": {"name": "app", "decompose": {"type": "llm", "provider": "local"},
            "children": [{"name": "w", "run": {"type": "noop"}}]}}),
            None,
        );
        assert!(both[0].contains("not several"), "{both:?}");
        let check = errors(
            json!({"request": "r", "plan": {"name": "app", "validate": {"type": "command", "argv": []},
            "children": [{"name": "w", "run": {"type": "noop"}, "validate": {"type": "llm", "provider": "gone"}}]}}),
            None,
        );
        assert_eq!(check.len(), 3, "an orchestrator's check, an empty argv, an unknown provider: {check:?}");
    }

    #[test]
    fn a_request_alone_gets_a_decomposing_root_only_where_a_decomposer_is_set() {
        let request = json!({"request": "Build a Twitter-like app\nwith a feed"});
        assert!(errors(request.clone(), None)[0].starts_with("plan: required"));
        assert!(errors(request, Some("local")).is_empty());
    }
}
