//! The job model, free of any transport or storage: what a client submits ([`spec`]), how it
//! is checked ([`validate`]), the flat node list the engine runs and the store keeps
//! ([`plan`]), and the states jobs and nodes move through ([`status`]).

pub mod approval;
pub mod budget;
pub mod decompose;
pub mod plan;
pub mod recovery;
pub mod share;
pub mod spec;
pub mod staffing;
pub mod status;
pub mod validate;
pub mod validate_decompose;
pub mod validate_llm;
pub mod workspace;

pub use decompose::{CheckSpec, DecomposeKind, DecomposeSpec, Intent, ManagerSpec};
pub use plan::{PlannedNode, RetryPolicy, RuntimeSpec};
pub use spec::{Aggregate, ExecutorSpec, FailurePolicy, JobSpec, LlmRun, NodeSpec};
pub use status::{JobStatus, NodeStatus};
pub use validate::{FieldError, Validation};

/// A node's result as JSON text. Results are made once (by an executor, or by aggregation
/// joining its children's texts) and then only copied whole — into the parent's result, the
/// store, an event — so they are kept as text, shared, rather than as `Value` trees that
/// take several times the memory and must be serialised again at every level.
pub type JsonText = std::sync::Arc<serde_json::value::RawValue>;

/// Anything serialisable as [`JsonText`]; `null` for what cannot be (a map with non-string
/// keys, which no result holds).
pub fn json_text(value: &impl serde::Serialize) -> JsonText {
    serde_json::value::to_raw_value(value)
        .or_else(|_| serde_json::value::RawValue::from_string("null".to_string()))
        .map(JsonText::from)
        .unwrap_or_else(|_| unreachable!("`null` is JSON"))
}

/// The server's hard cap on depth: no configuration can go deeper.
pub const HARD_MAX_DEPTH: u8 = 5;
/// Depths 0 to [`HARD_MAX_DEPTH`].
pub const DEPTHS: usize = HARD_MAX_DEPTH as usize + 1;

/// The server-side limits a plan is checked and resolved against.
#[derive(Debug, Clone)]
pub struct PlanLimits {
    /// `max_depth` of a job that sets none.
    pub default_max_depth: u8,
    /// Most nodes a job may have.
    pub max_nodes: usize,
    /// Global per-depth quotas (per-job caps may only be lower).
    pub quotas: [u32; DEPTHS],
    /// Role names by depth.
    pub roles: Vec<String>,
    /// Retry policy of a node that sets none and inherits none.
    pub default_retry: RetryPolicy,
    /// The LLM providers `llm` workers may name.
    pub providers: Vec<String>,
    /// The provider a `decompose` naming none uses (`[decomposer] provider`), if any.
    pub decomposer: Option<String>,
}
