//! Phase 2 of the decomposer: the model's subtasks grouped into domain managers and their
//! agents, with no model involved.
//!
//! Grouping is plain code so that the same decomposition always gives the same tree (a dry
//! run shows exactly what will run) and so that its rules can be tested exactly. What a
//! model can get wrong here — a duplicate title, a dependency on no subtask, a cycle — comes
//! back as sentences the pipeline sends to the model to repair its answer.
//!
//! The steps: titles resolved to indices ([`group`]), subtasks laid out into managers,
//! function groups and agents ([`super::layout`]), dependencies lifted to the agents and
//! managers they cross ([`super::link`]).

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::task::{Decomposition, Subtask};
use super::{graph, layout, link};

/// A domain manager as configured: the orchestrator node its subtasks go under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manager {
    /// The node's name (made valid for a node name if it is not).
    pub name: String,
    /// The node's title.
    pub title: String,
}

impl Manager {
    fn new(name: &str, title: &str) -> Self {
        Self { name: name.to_string(), title: title.to_string() }
    }
}

/// How subtasks become managers and agents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GroupingConfig {
    /// Manager by domain (matched ignoring case). Several domains may name one manager:
    /// their subtasks then go under one node.
    pub managers: BTreeMap<String, Manager>,
    /// The manager of a domain no entry names.
    pub fallback: Manager,
    /// A group heavier than this (low 1, medium 2, high 3) gets two agents.
    pub split_weight: u32,
    /// At most this many agents per group (0 counts as 1).
    pub max_agents_per_group: u32,
}

impl Default for GroupingConfig {
    /// The seed's six domain managers, a `general` fallback, split above weight 4, at most
    /// two agents per group.
    fn default() -> Self {
        let managers = [
            ("database", "Database manager"),
            ("backend", "Backend manager"),
            ("frontend", "Frontend manager"),
            ("infrastructure", "Infrastructure manager"),
            ("testing", "Testing manager"),
            ("documentation", "Documentation manager"),
        ];
        Self {
            managers: managers
                .iter()
                .map(|(domain, title)| (domain.to_string(), Manager::new(domain, title)))
                .collect(),
            fallback: Manager::new("general", "General manager"),
            split_weight: 4,
            max_agents_per_group: 2,
        }
    }
}

impl GroupingConfig {
    /// The manager of `domain` and the domain as the plan shows it: the configured key, or
    /// for the fallback the domain as the model wrote it.
    pub fn route<'a>(&'a self, domain: &'a str) -> (&'a str, &'a Manager) {
        let domain = domain.trim();
        let found = self
            .managers
            .get_key_value(domain)
            .or_else(|| self.managers.iter().find(|(key, _)| key.trim().eq_ignore_ascii_case(domain)));
        match found {
            Some((key, manager)) => (key.as_str(), manager),
            None => (domain, &self.fallback),
        }
    }
}

/// One manager orchestrator and the agents under it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagerPlan {
    pub name: String,
    pub title: String,
    /// The domain it was chosen for (the first one, when several domains share it).
    pub domain: String,
    /// Sibling managers whose work some of its subtasks depend on.
    pub depends_on: Vec<String>,
    pub agents: Vec<AgentPlan>,
}

/// One agent (a worker) and the subtasks it does, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentPlan {
    pub name: String,
    /// `Table creation`, or `Table creation (part 1)` when a group has two agents.
    pub title: String,
    /// Sibling agents (under the same manager) whose subtasks some of its subtasks need.
    pub depends_on: Vec<String>,
    pub tasks: Vec<Subtask>,
}

/// Groups a decomposition into managers and agents, or says in sentences what the model
/// must fix.
pub fn group(d: &Decomposition, config: &GroupingConfig) -> Result<Vec<ManagerPlan>, Vec<String>> {
    let tasks: Vec<&Subtask> = d.tasks.iter().flat_map(|t| &t.subtasks).collect();
    let empty: Vec<String> = d
        .tasks
        .iter()
        .filter(|t| t.subtasks.is_empty())
        .map(|t| format!("main task '{}' has no subtasks", t.title))
        .collect();
    if tasks.is_empty() {
        return Err(vec!["the decomposition has no subtasks; every main task needs at least one".to_string()]);
    }
    if !empty.is_empty() {
        return Err(empty);
    }
    let deps = resolve(&tasks)?;
    if let Some(cycle) = graph::find_cycle(&deps) {
        let path: Vec<String> = cycle.iter().map(|&t| format!("'{}'", tasks[t].title)).collect();
        return Err(vec![format!(
            "a dependency cycle between subtasks: {} (each depends on the next, so none can start)",
            path.join(" -> ")
        )]);
    }
    let layout = layout::lay_out(&tasks, &deps, config);
    let links = link::Links::new(&layout, &deps);
    let cycles = links.cycles(&layout, &tasks);
    if !cycles.is_empty() {
        return Err(cycles);
    }
    Ok(links.into_plans(layout, &tasks))
}

/// Each subtask's dependencies as indices, or every duplicate title and unknown dependency.
fn resolve(tasks: &[&Subtask]) -> Result<Vec<Vec<usize>>, Vec<String>> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut errors = Vec::new();
    let mut reported = HashSet::new();
    for (i, task) in tasks.iter().enumerate() {
        let first = *index.entry(task.title.as_str()).or_insert(i);
        if first != i && reported.insert(task.title.as_str()) {
            errors.push(format!(
                "more than one subtask is titled '{}'; titles must be unique, since depends_on names subtasks by title",
                task.title
            ));
        }
    }
    let deps = tasks.iter().map(|task| dependencies(task, &index, &mut errors)).collect();
    if errors.is_empty() {
        Ok(deps)
    } else {
        Err(errors)
    }
}

fn dependencies(task: &Subtask, index: &HashMap<&str, usize>, errors: &mut Vec<String>) -> Vec<usize> {
    let mut deps = Vec::new();
    for title in &task.depends_on {
        match index.get(title.as_str()) {
            Some(&d) if !deps.contains(&d) => deps.push(d),
            Some(_) => {}
            None => {
                errors.push(format!("subtask '{}' depends on '{title}', but no subtask has that title", task.title))
            }
        }
    }
    deps
}
