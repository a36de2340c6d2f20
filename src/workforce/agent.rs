//! A registered agent as it is written, kept and changed: its place in the organisation
//! (`reports_to`), what it can do (`capabilities`), the executor a node it takes on
//! instantiates (`run`), how much it takes on at once and its status — with every check a
//! registration must pass that needs nothing but the agent itself (its manager and cycles
//! are the registry's: [`super::Roster::check_line`]).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::domain::budget::BudgetLimit;
use crate::domain::staffing::{is_label, Condition, Op};
use crate::domain::{ExecutorSpec, FieldError, JobSpec, NodeSpec, PlanLimits};

/// Most capabilities an agent may list.
const MAX_CAPABILITIES: usize = 64;
/// Most characters in a title, role or department.
const MAX_TEXT: usize = 200;

/// An agent of the standing workforce.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "backend-dev", "title": "Backend developer", "role": "Engineer", "department": "engineering",
    "reports_to": "eng-lead", "capabilities": ["lang=rust", "sql", "level=3"],
    "run": {"type": "llm", "provider": "main", "system": "You write Rust services."}, "concurrency": 2
}))]
pub struct AgentSpec {
    /// Unique, `[a-z0-9_.-]{1,64}`.
    #[schema(pattern = r"^[a-z0-9_.-]{1,64}$")]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 200)]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 200)]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 200)]
    pub department: Option<String>,
    /// The agent this one reports to (the organisation chart; no cycles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reports_to: Option<String>,
    /// Labels with optional values: `lang=rust`, `sql`, `level=3`.
    #[serde(default)]
    #[schema(max_items = 64)]
    pub capabilities: Vec<String>,
    /// The executor a node this agent takes on runs: `llm`, `command` or `http`.
    pub run: ExecutorSpec,
    /// Tasks it takes on at once (default 5).
    #[serde(default = "default_concurrency")]
    #[schema(minimum = 1, maximum = 10000)]
    pub concurrency: u32,
    /// An envelope per task, for a node that sets no budget of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<BudgetLimit>,
    /// `active` takes work; `paused` and `retired` get none.
    #[serde(default)]
    pub status: AgentStatus,
}

fn default_concurrency() -> u32 {
    5
}

/// Whether an agent takes new work.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgentStatus {
    #[default]
    Active,
    /// Keeps what it has, gets nothing new until it is active again.
    Paused,
    /// Gets nothing new and cannot be named by a new job.
    Retired,
}

impl AgentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Paused => "paused",
            Self::Retired => "retired",
        }
    }
}

impl AgentSpec {
    /// Reads an agent from JSON, the field of a refused one named.
    pub fn from_value(value: Value) -> Result<Self, Vec<FieldError>> {
        serde_json::from_value(value).map_err(|err| vec![FieldError { path: String::new(), message: err.to_string() }])
    }

    /// Whether the agent has every capability `required` names.
    pub fn meets(&self, required: &[Condition]) -> bool {
        required.iter().all(|c| c.holds(&self.capabilities))
    }

    /// Every problem the agent has on its own, against the server's limits (its `run` is
    /// checked as a worker's would be).
    pub fn problems(&self, limits: &PlanLimits) -> Vec<FieldError> {
        let mut found = Vec::new();
        let mut error = |path: &str, message: String| found.push(FieldError { path: path.into(), message });
        if !is_label(&self.name) {
            error("name", "1–64 of [a-z0-9_.-]".into());
        }
        for (field, text) in [("title", &self.title), ("role", &self.role), ("department", &self.department)] {
            if text.as_deref().is_some_and(|t| t.trim().is_empty() || t.chars().count() > MAX_TEXT) {
                error(field, format!("1–{MAX_TEXT} characters, not only spaces"));
            }
        }
        if self.reports_to.as_deref() == Some(self.name.as_str()) {
            error("reports_to", "an agent cannot report to itself".into());
        }
        if !(1..=10_000).contains(&self.concurrency) {
            error("concurrency", "must be 1–10000".into());
        }
        if self.budget.is_some_and(|b| {
            (b.cost.is_none() && b.tokens.is_none())
                || b.cost.is_some_and(|c| !c.is_finite() || c <= 0.0)
                || b.tokens == Some(0)
        }) {
            error("budget", "an envelope per task needs a positive `cost` or `tokens`".into());
        }
        found.extend(capability_problems(&self.capabilities));
        found.extend(run_problems(&self.run, limits));
        found
    }
}

fn capability_problems(capabilities: &[String]) -> Vec<FieldError> {
    let mut found = Vec::new();
    if capabilities.len() > MAX_CAPABILITIES {
        found.push(FieldError { path: "capabilities".into(), message: format!("at most {MAX_CAPABILITIES}") });
    }
    for (i, text) in capabilities.iter().enumerate() {
        let plain = Condition::parse(text).is_ok_and(|c| matches!(c.op, Op::Exists | Op::Eq));
        if !plain {
            let message = format!("'{text}': a capability is `label` or `label=value` ([a-z0-9_.-] labels)");
            found.push(FieldError { path: format!("capabilities[{i}]"), message });
        }
        if capabilities[..i].contains(text) {
            found.push(FieldError { path: format!("capabilities[{i}]"), message: format!("'{text}' is listed twice") });
        }
    }
    found
}

/// The template's executor checked as a worker's: only work that reaches outside (a model,
/// a process, a service) makes an agent.
fn run_problems(run: &ExecutorSpec, limits: &PlanLimits) -> Vec<FieldError> {
    if !matches!(run, ExecutorSpec::Llm(_) | ExecutorSpec::Command { .. } | ExecutorSpec::Http { .. }) {
        return vec![FieldError {
            path: "run.type".into(),
            message: "an agent runs `llm`, `command` or `http`".into(),
        }];
    }
    let node = NodeSpec { run: Some(run.clone()), ..NodeSpec::named("agent") };
    let job = JobSpec {
        request: "agent".into(),
        config: crate::domain::spec::JobConfig::default(),
        plan: Some(node),
        labels: Default::default(),
        idempotency_key: None,
        workspace: None,
    };
    let validation = crate::domain::validate::validate(&job, limits);
    validation
        .errors
        .into_iter()
        .map(|e| FieldError { path: e.path.strip_prefix("plan.").unwrap_or(&e.path).to_string(), message: e.message })
        .collect()
}

/// RFC 7396: `patch` laid over `target` — objects merged key by key, `null` removing a key,
/// anything else replacing what was there.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(changes) = patch else {
        return *target = patch.clone();
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    let Value::Object(fields) = target else { return };
    for (key, change) in changes {
        if change.is_null() {
            fields.remove(key);
        } else {
            merge_patch(fields.entry(key.clone()).or_insert(Value::Null), change);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn limits() -> PlanLimits {
        crate::config::Config::default().plan_limits()
    }

    #[test]
    fn an_agent_is_checked_on_its_own() {
        let agent = AgentSpec::from_value(json!({
            "name": "Dev", "capabilities": ["lang=rust", "level>=3", "sql", "sql"],
            "run": {"type": "sleep", "ms": 1}, "concurrency": 0, "reports_to": "Dev"
        }))
        .unwrap();
        let paths: Vec<String> = agent.problems(&limits()).into_iter().map(|e| e.path).collect();
        assert_eq!(paths, ["name", "reports_to", "concurrency", "capabilities[1]", "capabilities[3]", "run.type"]);
        let command = AgentSpec::from_value(json!({"name": "dev", "run": {"type": "command", "argv": []}})).unwrap();
        assert_eq!(command.problems(&limits())[0].path, "run.argv");
        assert!(AgentSpec::from_value(json!({"name": "dev", "colour": "red", "run": {"type": "noop"}})).is_err());
    }

    #[test]
    fn a_merge_patch_replaces_and_removes() {
        let mut agent =
            json!({"name": "a", "title": "T", "capabilities": ["x"], "run": {"type": "command", "argv": ["a"]}});
        merge_patch(&mut agent, &json!({"title": null, "capabilities": ["y"], "run": {"argv": ["b"]}}));
        assert_eq!(agent, json!({"name": "a", "capabilities": ["y"], "run": {"type": "command", "argv": ["b"]}}));
    }
}
