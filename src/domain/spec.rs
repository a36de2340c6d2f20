//! The submitted job as the client wrote it: request, config and the plan tree.
//!
//! These types are the wire format of `POST /recursion/job` and of job files given to the
//! CLI. Every struct rejects unknown fields, so a typo in a job file is an error rather than
//! a silently ignored setting. Checks that need more than the shape of the data live in
//! [`super::validate`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A job submission (`POST /recursion/job`, `cadre submit FILE`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "request": "Say hello, then wait a moment",
    "labels": {"example": "hello"},
    "plan": {"name": "hello", "children": [
        {"name": "greet", "run": {"type": "echo", "value": {"greeting": "hello, world"}}},
        {"name": "pause", "depends_on": ["greet"], "run": {"type": "sleep", "ms": 50}}
    ]}
}))]
pub struct JobSpec {
    /// What the job is for, in words (1–10000 characters, not only spaces).
    #[schema(min_length = 1, max_length = 10_000, pattern = r"\S")]
    pub request: String,
    /// Per-job settings; every field has a server default.
    #[serde(default)]
    pub config: JobConfig,
    /// The explicit tree. Required until a decomposer is configured on the server.
    #[serde(default)]
    pub plan: Option<NodeSpec>,
    /// Free-form labels, filterable in the jobs list.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// A second submission with the same key returns the first job instead of a new one.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200)]
    pub idempotency_key: Option<String>,
    /// A git repository the job's command workers work in, each in a worktree of its own,
    /// their branches merged up the tree (see docs/WORKSPACES.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<super::workspace::WorkspaceSpec>,
}

/// Settings that apply to one job.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JobConfig {
    /// Deepest depth a node may have (0–5, default from the server config).
    #[serde(default)]
    #[schema(maximum = 5)]
    pub max_depth: Option<u8>,
    /// Per-depth worker caps for this job; they can only tighten the server quotas.
    #[serde(default)]
    pub workers_by_depth: BTreeMap<String, u32>,
    /// Failure policy inherited by every orchestrator that sets none.
    #[serde(default)]
    pub on_child_failure: Option<FailurePolicy>,
    /// Retry policy inherited by every node that sets none.
    #[serde(default)]
    pub retry: Option<RetrySpec>,
    /// Wall-clock limit for the whole job; past it the tree is cancelled and the job fails.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub timeout_s: Option<u64>,
    /// What the whole job may spend (`{cost, tokens}`, either or both). Checked at
    /// submission, not yet enforced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<super::budget::BudgetLimit>,
    /// How a request without a plan is read first: `project` (plan it, the default) or
    /// `auto` (a model says whether to answer, plan, ask back or delegate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<super::decompose::Intent>,
    /// How long a question back to the requester waits for `POST …/answer` before the job
    /// fails (default 86400 s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    pub clarify_timeout_s: Option<u64>,
    /// Who decides an approval no node's approvers took (the last level): key names,
    /// `group:NAME` or `scope:NAME`; default `scope:admin`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 50)]
    pub owners: Vec<String>,
    /// Hold a model's plan for a person's approval before any of its children runs (the
    /// topmost decomposition of the job; its node's `approval.approvers` decide, else the
    /// job's owners).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub approve_plan: bool,
    /// The key that submitted the job (set by the server; a submission may not set it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(read_only)]
    pub submitted_by: Option<String>,
    /// The job's `workspace`, kept with its settings (set by the server from the
    /// submission's top-level `workspace`; a submission may not set it here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(read_only)]
    pub workspace: Option<super::workspace::WorkspaceSpec>,
}

/// One node of the plan: an orchestrator (with `children`, or `decompose` for children a
/// model plans) or a worker (with `run`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeSpec {
    /// Unique among siblings, `[A-Za-z0-9_.-]{1,64}`.
    #[schema(pattern = r"^[A-Za-z0-9_.-]{1,64}$")]
    pub name: String,
    /// Human-readable title.
    #[serde(default)]
    pub title: Option<String>,
    /// The task in full, for an agent (an `llm` worker, or a node an agent's children read
    /// as their ancestor's context): exact schemas, endpoints, acceptance criteria.
    #[serde(default)]
    #[schema(max_length = 20_000)]
    pub description: Option<String>,
    /// Role name; defaults to the role of the node's depth in the server's ladder.
    #[serde(default)]
    pub role: Option<String>,
    /// Names of siblings that must succeed before this node starts.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// Sub-nodes (this node is an orchestrator).
    #[serde(default)]
    #[schema(no_recursion)]
    pub children: Option<Vec<NodeSpec>>,
    /// The executor (this node is a worker).
    #[serde(default)]
    pub run: Option<ExecutorSpec>,
    /// Children planned by a model when the node runs (this node is an orchestrator whose
    /// children are not written out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decompose: Option<super::decompose::DecomposeSpec>,
    /// A check a worker's result must pass before it is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validate: Option<super::decompose::CheckSpec>,
    /// Retry policy for this node and, unless they set their own, its descendants.
    #[serde(default)]
    pub retry: Option<RetrySpec>,
    /// How an orchestrator combines its children's results.
    #[serde(default)]
    pub aggregate: Option<Aggregate>,
    /// What an orchestrator does when a child fails.
    #[serde(default)]
    pub on_child_failure: Option<FailurePolicy>,
    /// How many of this orchestrator's children may be in progress at once.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub max_parallel: Option<u32>,
    /// Per-process limits for a `command` worker.
    #[serde(default)]
    pub resources: Option<ResourceLimits>,
    /// This node's own envelope (`{cost, tokens}` or `{share}`); without one it draws on its
    /// nearest enveloped ancestor as needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<super::budget::NodeBudget>,
    /// When its envelope cannot cover a call (default `ask_parent`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_budget_exhausted: Option<super::budget::OnBudgetExhausted>,
    /// What to do per class of failure (`retry`, `reallocate`, `escalate`, `fail`), for this
    /// node and, unless they set their own, its descendants; classes left out keep their
    /// defaults (timeout and memory reallocate, network retries, launch, permission and
    /// budget fail, the rest retry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::domain::recovery::RecoveryPolicy>)]
    pub recovery: Option<super::recovery::RecoverySpec>,
    /// A person approves this node before it starts (`before`), accepts its result
    /// (`after`), or — with neither — decides what its descendants escalate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<super::approval::ApprovalSpec>,
    /// The registered agent that does this node's work: a leaf without `run` takes its
    /// executor from the agent; an orchestrator is run by it (and its descendants may
    /// delegate to the agent's subordinates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^[a-z0-9_.-]{1,64}$")]
    pub agent: Option<String>,
    /// An agent picked from the registry by capability: least loaded first, weighted by
    /// preferences, sticky on request, optionally only among a manager's subordinates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delegate: Option<super::staffing::DelegateSpec>,
}

impl NodeSpec {
    /// A node with a name and nothing else: every setting left to inheritance.
    pub fn named(name: &str) -> Self {
        Self {
            name: name.to_string(),
            title: None,
            description: None,
            role: None,
            depends_on: Vec::new(),
            children: None,
            run: None,
            decompose: None,
            validate: None,
            retry: None,
            aggregate: None,
            on_child_failure: None,
            max_parallel: None,
            resources: None,
            budget: None,
            on_budget_exhausted: None,
            recovery: None,
            approval: None,
            agent: None,
            delegate: None,
        }
    }

    /// The node names or asks for an agent.
    pub fn is_staffed(&self) -> bool {
        self.agent.is_some() || self.delegate.is_some()
    }
}

/// How a worker does its work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ExecutorSpec {
    /// Succeeds at once with a null result.
    Noop,
    /// Sleeps, then succeeds.
    Sleep {
        /// Milliseconds to sleep.
        ms: u64,
    },
    /// Succeeds with the given value as its result.
    Echo {
        /// Any JSON value.
        #[serde(default)]
        value: serde_json::Value,
    },
    /// Fails its first `times` attempts, then succeeds (for tests and demos).
    Fail {
        /// The error message of a failed attempt.
        #[serde(default)]
        message: Option<String>,
        /// How many attempts fail; absent means every attempt fails.
        #[serde(default)]
        times: Option<u32>,
    },
    /// Runs an OS process in its own process group.
    Command {
        /// Program and arguments; no shell is involved.
        argv: Vec<String>,
        /// Working directory.
        #[serde(default)]
        cwd: Option<String>,
        /// Extra environment variables.
        #[serde(default)]
        env: BTreeMap<String, String>,
        /// Wall-clock limit for the process.
        #[serde(default)]
        timeout_s: Option<u64>,
    },
    /// Calls an HTTP agent service; the response becomes the result.
    Http {
        /// `http://` or `https://` URL of the service.
        url: String,
        /// HTTP method (default GET, or POST when a body is given).
        #[serde(default)]
        method: Option<String>,
        /// Request headers.
        #[serde(default)]
        headers: BTreeMap<String, String>,
        /// JSON body.
        #[serde(default)]
        body: Option<serde_json::Value>,
        /// Limit for the whole call.
        #[serde(default)]
        timeout_s: Option<u64>,
    },
    /// Asks a language model; with `tools: ["spawn_children"]` the model may grow a sub-team
    /// under the node and hear its results (see `docs/AGENTS.md`).
    Llm(LlmRun),
}

/// The settings of an `llm` worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LlmRun {
    /// A provider named under `[llm.providers]` in the server's configuration.
    #[schema(min_length = 1)]
    pub provider: String,
    /// The model; the provider's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Instructions put before the job's context in the system text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// What to do, on top of the node's title and description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// A JSON Schema the answer must follow; the answer is then the JSON value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<serde_json::Value>,
    /// Output tokens per call (the provider's `max_tokens` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    pub max_tokens: Option<u32>,
    /// Sampling temperature, 0–2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 2)]
    pub temperature: Option<f32>,
    /// Tools the model may call: `spawn_children`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<String>,
    /// Model calls that may ask for tools before the node fails (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 100)]
    pub max_turns: Option<u32>,
    /// Corrections asked for when the answer breaks `output_schema` (default 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(maximum = 10)]
    pub max_repairs: Option<u32>,
    /// Where a reallocated attempt goes (recovery level 2: by default after a timeout): another
    /// provider, and model. Without one a reallocated attempt is retried as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<LlmFallback>,
}

/// Another provider (and model) for a reallocated attempt of an `llm` worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LlmFallback {
    #[schema(min_length = 1)]
    pub provider: String,
    /// The model; the provider's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

impl LlmRun {
    /// A run on `provider` (and `model`) with every other setting at its default.
    pub fn plain(provider: &str, model: Option<String>) -> Self {
        Self {
            provider: provider.to_string(),
            model,
            system: None,
            prompt: None,
            output_schema: None,
            max_tokens: None,
            temperature: None,
            tools: Vec::new(),
            max_turns: None,
            max_repairs: None,
            fallback: None,
        }
    }
}

impl ExecutorSpec {
    /// The field of a `run` object that makes it unreadable, when one field alone does.
    ///
    /// serde reads a tagged enum whole before choosing its variant, so its errors name the
    /// `run` and not the field inside it. An unknown field or kind names itself; otherwise the
    /// culprit is the field whose removal makes the error go away or turn into "missing field"
    /// for that same field.
    pub fn culprit(run: &serde_json::Value) -> Option<String> {
        let fields = run.as_object()?;
        let whole = serde_json::from_value::<ExecutorSpec>(run.clone()).err()?.to_string();
        if whole.starts_with("unknown variant") {
            return Some("type".into());
        }
        if let Some(unknown) = whole.strip_prefix("unknown field `").and_then(|rest| rest.split('`').next()) {
            return Some(unknown.to_string());
        }
        let is_culprit = |key: &&String| {
            let mut without = fields.clone();
            without.remove(key.as_str());
            match serde_json::from_value::<ExecutorSpec>(serde_json::Value::Object(without)) {
                Ok(_) => true,
                Err(err) => err.to_string().starts_with(&format!("missing field `{key}`")),
            }
        };
        fields.keys().filter(|key| *key != "type").find(is_culprit).cloned()
    }

    /// Whether the work reaches outside cadre (a process, a call to a service), so that
    /// running it twice is visible to the world and its start must be stored first.
    ///
    /// A model call reaches outside too, but its record is its ledger row, stored (after the
    /// start, in the journal's order) before its answer is used; a call cut short by a crash
    /// is sent again as the same turn whether or not its start was stored, so waiting for that
    /// commit would add a commit's wait to every call and prevent nothing.
    pub fn acts_outside(&self) -> bool {
        matches!(self, Self::Command { .. } | Self::Http { .. })
    }
}

/// Retry policy; absent fields take the defaults of SPEC §2.4.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetrySpec {
    /// Attempts in all, the first included (default 3).
    #[serde(default)]
    pub max_attempts: Option<u32>,
    /// Wait before the second attempt (default 200 ms).
    #[serde(default)]
    pub initial_backoff_ms: Option<u64>,
    /// Growth of the wait per attempt (default 2.0).
    #[serde(default)]
    pub multiplier: Option<f64>,
    /// Upper bound of the wait (default 30000 ms).
    #[serde(default)]
    pub max_backoff_ms: Option<u64>,
    /// Randomise each wait between half and all of it (default true).
    #[serde(default)]
    pub jitter: Option<bool>,
}

/// Per-process limits of a `command` worker.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceLimits {
    /// Address-space limit in MiB.
    #[serde(default)]
    pub memory_mb: Option<u64>,
    /// CPU-time limit in seconds.
    #[serde(default)]
    pub cpu_seconds: Option<u64>,
    /// Wall-clock limit in seconds (the executor's own `timeout_s` wins when both are set).
    #[serde(default)]
    pub timeout_s: Option<u64>,
}

/// How an orchestrator combines its children's results.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Aggregate {
    /// `[{name, status, result}]` for every child.
    #[default]
    Collect,
    /// Deep-merge the children's JSON objects; later siblings win conflicts.
    Merge,
    /// Add the children's numeric results.
    Sum,
    /// Concatenate the children's string results.
    Concat,
}

/// What an orchestrator does when one of its children fails.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FailurePolicy {
    /// Cancel the running siblings and fail at once.
    #[default]
    FailFast,
    /// Let the other children finish; fail at the end with a partial aggregate.
    Continue,
}
