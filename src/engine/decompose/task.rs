//! The model's Phase 1 answer: main tasks, each with hyper-specific subtasks.
//!
//! These types are what the decomposition schema in `config/prompts/` describes, read
//! straight from the model's JSON once the schema has accepted it. Every struct rejects
//! unknown fields, so a field the schema and these types disagree on fails loudly in tests
//! instead of being dropped on the way to the agents.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The whole decomposition of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decomposition {
    /// Main tasks, in the order the model gave them.
    pub tasks: Vec<MainTask>,
}

/// A main task: a heading over related subtasks (it becomes no node itself; grouping
/// follows the subtasks' domains and functions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MainTask {
    pub title: String,
    /// What the main task is about; optional, since its subtasks carry the specifications.
    #[serde(default)]
    pub description: String,
    pub subtasks: Vec<Subtask>,
}

/// One unit of work an agent does, specified exactly (schemas, endpoints, props).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subtask {
    /// Unique across the whole decomposition: `depends_on` names subtasks by title.
    pub title: String,
    /// The exact specification the agent implements.
    pub description: String,
    /// Which manager gets it (`database`, `backend`, …).
    pub domain: String,
    /// A short label grouping related work within a domain (`table_creation`).
    pub function: String,
    pub complexity: Complexity,
    /// Titles of subtasks (of any main task) that must be done first.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// What a validator checks the agent's work against.
    #[serde(default)]
    pub success_criteria: Vec<String>,
}

/// How much work a subtask is; its weight decides how many agents a group gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Complexity {
    Low,
    Medium,
    High,
}

impl Complexity {
    /// The subtask's share of a group's weight: low 1, medium 2, high 3.
    pub const fn weight(self) -> u32 {
        match self {
            Self::Low => 1,
            Self::Medium => 2,
            Self::High => 3,
        }
    }

    /// The spelling the model uses, which is also what an agent's prompt shows.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }
}

impl fmt::Display for Complexity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
