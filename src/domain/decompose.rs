//! What a job or a node asks of the decomposer (issue 13): an orchestrator whose children a
//! model plans (`decompose`), a worker whose result a check judges before it is accepted
//! (`validate`), and how a request without a plan is read first (`intent`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::spec::{ExecutorSpec, JobSpec, NodeSpec};
use super::PlanLimits;

/// An orchestrator whose children a model plans when the node runs, instead of `children`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"type": "llm", "provider": "local", "validate": true}))]
pub struct DecomposeSpec {
    /// How the children are found: `llm` (plan, break down, group).
    #[serde(rename = "type")]
    pub kind: DecomposeKind,
    /// A provider under `[llm.providers]`; the server's `[decomposer] provider` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// The model; the decomposer's (or the provider's) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Manager by domain, replacing the server's mapping (`{"backend": {"name": "api"}}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managers: Option<BTreeMap<String, ManagerSpec>>,
    /// What each agent runs; the server's `[decomposer] agent` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<ExecutorSpec>,
    /// Agents a group of tasks may get (default from the server, 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 10)]
    pub max_agents_per_group: Option<u32>,
    /// Judge each agent's result against its tasks' success criteria, re-running it with
    /// the judgement when it fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validate: Option<bool>,
    /// Fill the agents from the registry instead: each agent node asks for one by
    /// capability (this delegation), and runs the executor of the agent it is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delegate: Option<super::staffing::DelegateSpec>,
}

/// The kinds of decomposition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecomposeKind {
    /// A model plans and breaks the work down; plain code groups it.
    Llm,
}

/// The orchestrator a domain's tasks go under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ManagerSpec {
    /// The node's name (`[A-Za-z0-9_.-]{1,64}`).
    pub name: String,
    /// The node's title; `<name> manager` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// A check a worker's successful result must pass before it is accepted; a result that fails
/// it fails the attempt, and the next attempt hears why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum CheckSpec {
    /// A model judges the result against the criteria: `{passed, issues, suggestions}`.
    Llm {
        /// A provider under `[llm.providers]`.
        provider: String,
        /// The model; the provider's default when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        model: Option<String>,
        /// What the result must satisfy.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        criteria: Vec<String>,
    },
    /// A program judges (the tests, say): exit status 0 passes; its output is the issue.
    Command {
        /// Program and arguments; no shell is involved.
        argv: Vec<String>,
        /// Working directory.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cwd: Option<String>,
        /// Wall-clock limit (default 300 s).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timeout_s: Option<u64>,
    },
}

/// How a job without a plan is read before it is planned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// Plan and break it down (the default).
    #[default]
    Project,
    /// A model first says what the request is: a direct answer, a project, a question back
    /// to the requester, or work for a named agent.
    Auto,
}

/// Longest title the implicit root takes from the request.
const ROOT_TITLE_CHARS: usize = 80;

impl JobSpec {
    /// A job with no plan on a server with a decomposer: its plan is one root the decomposer
    /// breaks down (`project`, titled by the request's first line).
    #[must_use]
    pub fn with_decomposer(mut self, limits: &PlanLimits) -> Self {
        if self.plan.is_none() && limits.decomposer.is_some() {
            let first_line = self.request.trim().lines().next().unwrap_or_default();
            let title: String = first_line.chars().take(ROOT_TITLE_CHARS).collect();
            let root = serde_json::json!({"name": "project", "title": title, "decompose": {"type": "llm"}});
            self.plan = Some(serde_json::from_value::<NodeSpec>(root).unwrap_or_else(|_| unreachable!("a root")));
        }
        self
    }
}
