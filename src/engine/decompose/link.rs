//! Subtask dependencies lifted to the nodes that run them, and the cycles that lifting can
//! make.
//!
//! Within one agent a dependency is only an order (the agent does its subtasks in turn);
//! between two agents of one manager the dependent agent waits for the other; between
//! managers the whole dependent manager waits for the other, since `depends_on` joins
//! siblings only. Lifting can close a cycle the subtasks themselves do not have (an agent
//! holding both a dependency and a dependent of another agent), so both levels are checked
//! and each cycle is reported with the subtask dependencies that make it up.

use std::collections::BTreeMap;

use super::graph;
use super::group::{AgentPlan, ManagerPlan};
use super::layout::Layout;
use super::task::Subtask;

/// Why one node depends on another: the first (subtask, dependency) pair that made it.
type Witness = (usize, usize);
/// Per node, the nodes it depends on, in sibling order, each with its witness.
type Edges = Vec<BTreeMap<usize, Witness>>;

pub struct Links {
    managers: Edges,
    /// Per manager, between its agents.
    agents: Vec<Edges>,
}

impl Links {
    /// The dependencies between managers and between each manager's agents.
    pub fn new(layout: &Layout, deps: &[Vec<usize>]) -> Self {
        let mut managers: Edges = vec![BTreeMap::new(); layout.managers.len()];
        let mut agents: Vec<Edges> = layout.managers.iter().map(|m| vec![BTreeMap::new(); m.agents.len()]).collect();
        for (task, task_deps) in deps.iter().enumerate() {
            let (m, a) = layout.at[task];
            for &dep in task_deps {
                let (dm, da) = layout.at[dep];
                if m != dm {
                    managers[m].entry(dm).or_insert((task, dep));
                } else if a != da {
                    agents[m][a].entry(da).or_insert((task, dep));
                }
            }
        }
        Self { managers, agents }
    }

    /// A sentence per cycle: one per manager whose agents have one, then the managers'.
    pub fn cycles(&self, layout: &Layout, tasks: &[&Subtask]) -> Vec<String> {
        let mut errors = Vec::new();
        for (manager, edges) in layout.managers.iter().zip(&self.agents) {
            if let Some(cycle) = graph::find_cycle(&targets(edges)) {
                let spelled = spell(&cycle, |a| &manager.agents[a].name, edges, tasks);
                errors.push(format!(
                    "a dependency cycle between the agents of manager '{}': {spelled}; an agent does its subtasks \
                     in turn and waits for the agents it depends on, so change these subtasks' function or dependencies",
                    manager.name
                ));
            }
        }
        if let Some(cycle) = graph::find_cycle(&targets(&self.managers)) {
            let spelled = spell(&cycle, |m| &layout.managers[m].name, &self.managers, tasks);
            errors.push(format!(
                "a dependency cycle between managers: {spelled}; a manager starts only when the managers it \
                 depends on have finished, so dependencies between domains must all point one way"
            ));
        }
        errors
    }

    /// The plans, with each node's `depends_on` in sibling order.
    pub fn into_plans(self, layout: Layout, tasks: &[&Subtask]) -> Vec<ManagerPlan> {
        let names: Vec<String> = layout.managers.iter().map(|m| m.name.clone()).collect();
        layout
            .managers
            .into_iter()
            .zip(self.managers.iter().zip(&self.agents))
            .map(|(manager, (deps, agent_edges))| {
                let agent_names: Vec<String> = manager.agents.iter().map(|a| a.name.clone()).collect();
                let agents = manager
                    .agents
                    .into_iter()
                    .zip(agent_edges)
                    .map(|(agent, deps)| AgentPlan {
                        name: agent.name,
                        title: agent.title,
                        depends_on: deps.keys().map(|&a| agent_names[a].clone()).collect(),
                        tasks: agent.tasks.iter().map(|&t| tasks[t].clone()).collect(),
                    })
                    .collect();
                ManagerPlan {
                    name: manager.name,
                    title: manager.title,
                    domain: manager.domain,
                    depends_on: deps.keys().map(|&m| names[m].clone()).collect(),
                    agents,
                }
            })
            .collect()
    }
}

fn targets(edges: &Edges) -> Vec<Vec<usize>> {
    edges.iter().map(|deps| deps.keys().copied().collect()).collect()
}

/// `x -> y -> x ('A' depends on 'B'; 'B' depends on 'C')`: the path, each node depending on
/// the next, and the subtask dependency behind each step.
fn spell<'a>(cycle: &[usize], name: impl Fn(usize) -> &'a String, edges: &Edges, tasks: &[&Subtask]) -> String {
    let path: Vec<&str> = cycle.iter().map(|&n| name(n).as_str()).collect();
    let reasons: Vec<String> = cycle
        .windows(2)
        .filter_map(|step| edges[step[0]].get(&step[1]))
        .map(|&(task, dep)| format!("'{}' depends on '{}'", tasks[task].title, tasks[dep].title))
        .collect();
    format!("{} ({})", path.join(" -> "), reasons.join("; "))
}
