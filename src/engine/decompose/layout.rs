//! Where each subtask goes: its domain's manager, its function's group within that manager,
//! and one of the group's one or two agents.
//!
//! Everything is by index into the flat list of subtasks, in first-appearance order, so the
//! same decomposition always lays out the same way. Dependencies only order a group here;
//! lifting them to agents and managers is [`super::link`]'s work.

use super::group::GroupingConfig;
use super::task::{Complexity, Subtask};
use super::{graph, naming};

/// The subtasks laid out, before dependencies are lifted.
pub struct Layout {
    pub managers: Vec<DraftManager>,
    /// Where each subtask went: (manager, agent), by index.
    pub at: Vec<(usize, usize)>,
}

pub struct DraftManager {
    pub name: String,
    pub title: String,
    pub domain: String,
    pub agents: Vec<DraftAgent>,
}

pub struct DraftAgent {
    pub name: String,
    pub title: String,
    /// Subtask indices, dependencies within the agent first.
    pub tasks: Vec<usize>,
}

/// A manager's subtasks by function, before they are split into agents.
struct Routed {
    name: String,
    title: String,
    domain: String,
    groups: Vec<Group>,
}

struct Group {
    key: String,
    /// The function as the model first wrote it, for titles.
    label: String,
    tasks: Vec<usize>,
}

/// Lays the subtasks out; `deps` must have no cycle.
pub fn lay_out(tasks: &[&Subtask], deps: &[Vec<usize>], config: &GroupingConfig) -> Layout {
    let mut at = vec![(0, 0); tasks.len()];
    let managers = route(tasks, config)
        .into_iter()
        .enumerate()
        .map(|(m, routed)| {
            let agents = agents(routed.groups, tasks, deps, config);
            for (a, agent) in agents.iter().enumerate() {
                for &t in &agent.tasks {
                    at[t] = (m, a);
                }
            }
            DraftManager { name: routed.name, title: routed.title, domain: routed.domain, agents }
        })
        .collect();
    Layout { managers, at }
}

/// Subtasks to managers (by manager name, so domains sharing a manager share its node) and
/// to function groups, both in first-appearance order.
fn route(tasks: &[&Subtask], config: &GroupingConfig) -> Vec<Routed> {
    let mut managers: Vec<Routed> = Vec::new();
    for (i, task) in tasks.iter().enumerate() {
        let (domain, manager) = config.route(&task.domain);
        let name = naming::manager_name(&manager.name);
        let m = managers.iter().position(|r| r.name == name).unwrap_or_else(|| {
            let title = manager.title.clone();
            managers.push(Routed { name, title, domain: domain.to_string(), groups: Vec::new() });
            managers.len() - 1
        });
        let groups = &mut managers[m].groups;
        let key = naming::function_key(&task.function);
        let g = groups.iter().position(|g| g.key == key).unwrap_or_else(|| {
            groups.push(Group { key, label: task.function.clone(), tasks: Vec::new() });
            groups.len() - 1
        });
        groups[g].tasks.push(i);
    }
    managers
}

/// A manager's agents: each group ordered, split in one or two, and named (uniquely, see
/// [`naming`]).
fn agents(groups: Vec<Group>, tasks: &[&Subtask], deps: &[Vec<usize>], config: &GroupingConfig) -> Vec<DraftAgent> {
    let mut agents = Vec::new();
    for group in groups {
        let ordered = graph::dependencies_first(&group.tasks, deps);
        let count = agent_count(&ordered, tasks, config);
        let label = naming::humanise(&group.label);
        let parts = split(ordered, tasks, count);
        let several = parts.len() > 1;
        for (k, part) in parts.into_iter().enumerate() {
            let (name, title) = if several {
                (naming::numbered(&group.key, k + 1), format!("{label} (part {})", k + 1))
            } else {
                (group.key.clone(), label.clone())
            };
            agents.push(DraftAgent { name, title, tasks: part });
        }
    }
    agents
}

/// Two agents for a group heavier than `split_weight` or holding a high-complexity subtask,
/// else one; never more than `max_agents_per_group` nor than the group has subtasks.
fn agent_count(group: &[usize], tasks: &[&Subtask], config: &GroupingConfig) -> usize {
    let weight: u32 = group.iter().map(|&t| tasks[t].complexity.weight()).sum();
    let high = group.iter().any(|&t| tasks[t].complexity == Complexity::High);
    let wanted = if weight > config.split_weight || high { 2 } else { 1 };
    let cap = usize::try_from(config.max_agents_per_group.max(1)).unwrap_or(usize::MAX);
    wanted.min(cap).min(group.len())
}

/// The ordered group cut into `count` (1 or 2) contiguous parts of the most even weight.
/// A tie gives the first part more, as the seed's example does (Users + Posts, then
/// Followers).
fn split(mut ordered: Vec<usize>, tasks: &[&Subtask], count: usize) -> Vec<Vec<usize>> {
    if count < 2 {
        return vec![ordered];
    }
    let total: u32 = ordered.iter().map(|&t| tasks[t].complexity.weight()).sum();
    let (mut left, mut best_gap, mut best_cut) = (0u32, u32::MAX, 1);
    for cut in 1..ordered.len() {
        left += tasks[ordered[cut - 1]].complexity.weight();
        let gap = (2 * left).abs_diff(total);
        if gap <= best_gap {
            (best_gap, best_cut) = (gap, cut);
        }
    }
    let second = ordered.split_off(best_cut);
    vec![ordered, second]
}
