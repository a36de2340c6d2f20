//! The decomposer: a request in words turned into a hierarchy of domain managers and agents
//! with hyper-specific tasks (issue 13, seed 001).
//!
//! The model plans and decomposes (its prompts and schemas are files in `config/prompts/`,
//! read by [`prompts`]); everything after its answer is plain code here, so it is
//! deterministic and tested exactly: [`task`] is the answer's shape, [`group`] puts its
//! subtasks under managers and agents and refuses what cannot run (sentences the pipeline
//! sends back for repair), and [`bundle`] turns the result into node specs whose agents
//! carry their tasks as one prompt. The private modules are grouping's steps: [`layout`]
//! where each subtask goes, [`link`] the dependencies between the nodes, [`graph`] the walks
//! they need, [`naming`] valid node names from the model's labels.

pub mod bundle;
mod graph;
pub mod group;
pub mod intent;
mod layout;
mod link;
mod naming;
pub mod pipeline;
pub mod prompts;
pub mod report;
pub mod shape;
pub mod task;
#[cfg(test)]
mod tests;

pub use bundle::{bundle, share, to_nodes, TASK_PROMPT_ENV};
pub use group::{group, AgentPlan, GroupingConfig, Manager, ManagerPlan};
pub use task::{Complexity, Decomposition, MainTask, Subtask};
