//! From the model's breakdown to the node specs that run: grouped under managers (or, at
//! the depth cap's edge, as agents only), each agent checked against its tasks' success
//! criteria when asked, a heavy manager's share left for it to decompose at the next depth,
//! and the bundles held to the description limit. Plain code, no model: every rule here is a
//! sentence the model gets back when its answer breaks it.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::bundle::share;
use super::pipeline::Decomposer;
use super::{group, to_nodes, AgentPlan, Decomposition, GroupingConfig, Manager, ManagerPlan};
use crate::domain::validate_llm::MAX_DESCRIPTION_CHARS;
use crate::domain::{CheckSpec, DecomposeKind, DecomposeSpec, NodeSpec};

/// What the children of a decomposing node may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Managers over agents (false: agents only, at the depth cap's edge or below another
    /// decomposition).
    pub managers: bool,
    /// A manager whose share weighs `nest_weight` or more decomposes it itself.
    pub nest: bool,
}

impl Shape {
    /// A job's root with room below it.
    pub const TOP: Self = Self { managers: true, nest: true };
    /// Agents directly under the node.
    pub const AGENTS: Self = Self { managers: false, nest: false };
}

/// A breakdown made into nodes.
#[derive(Debug)]
pub struct Grouped {
    pub decomposition: Decomposition,
    /// Which subtasks went to which manager and agent.
    pub assignments: Value,
    pub children: Vec<NodeSpec>,
}

impl Decomposer {
    /// The answer read as a decomposition and made into nodes, or the sentences that say why
    /// it cannot be.
    pub(super) fn grouped(&self, answer: &Value, shape: Shape) -> Result<Grouped, Vec<String>> {
        let decomposition: Decomposition =
            serde_json::from_value(answer.clone()).map_err(|e| vec![format!("the answer cannot be read: {e}")])?;
        let grouping = if shape.managers { self.grouping.clone() } else { agents_only() };
        let plans = group(&decomposition, &grouping)?;
        let instructions = self.prompts.agent_instructions.render(&[]);
        let mut managers = to_nodes(&plans, &self.agent, &instructions);
        if self.validate {
            self.add_checks(&plans, &mut managers);
        }
        if let Some(delegate) = &self.delegate {
            staff_from_registry(&mut managers, delegate);
        }
        let nested: Vec<bool> = plans.iter().map(|p| shape.nest && self.is_heavy(p)).collect();
        for ((manager, plan), _) in managers.iter_mut().zip(&plans).zip(&nested).filter(|(_, &n)| n) {
            self.nest(manager, plan);
        }
        let children = if shape.managers {
            managers
        } else {
            managers.into_iter().flat_map(|m| m.children.unwrap_or_default()).collect()
        };
        too_long(&children)?;
        let assignments = assignments(&plans, shape.managers, &nested);
        Ok(Grouped { decomposition, assignments, children })
    }

    /// Each agent judged against its tasks' success criteria by the decomposer's model.
    fn add_checks(&self, plans: &[ManagerPlan], managers: &mut [NodeSpec]) {
        for (manager, plan) in managers.iter_mut().zip(plans) {
            for (agent, agent_plan) in manager.children.iter_mut().flatten().zip(&plan.agents) {
                let criteria = agent_plan.tasks.iter().flat_map(|t| t.success_criteria.iter().cloned()).collect();
                agent.validate =
                    Some(CheckSpec::Llm { provider: self.provider_name.clone(), model: self.model.clone(), criteria });
            }
        }
    }

    fn is_heavy(&self, plan: &ManagerPlan) -> bool {
        let weight: u32 = plan.agents.iter().flat_map(|a| &a.tasks).map(|t| t.complexity.weight()).sum();
        self.nest_weight > 0 && weight >= self.nest_weight
    }

    /// The manager gets its share to decompose instead of agents.
    fn nest(&self, manager: &mut NodeSpec, plan: &ManagerPlan) {
        manager.children = None;
        manager.description = Some(share(plan));
        manager.decompose = Some(DecomposeSpec {
            kind: DecomposeKind::Llm,
            provider: Some(self.provider_name.clone()),
            model: self.model.clone(),
            managers: None,
            agent: Some(self.agent.clone()),
            max_agents_per_group: Some(self.grouping.max_agents_per_group),
            validate: Some(self.validate),
            delegate: self.delegate.clone(),
        });
    }
}

/// Each agent node asks the registry for its agent (and runs that agent's executor) instead
/// of running the decomposer's template; its bundle stays its description.
fn staff_from_registry(managers: &mut [NodeSpec], delegate: &crate::domain::staffing::DelegateSpec) {
    for agent in managers.iter_mut().flat_map(|m| m.children.iter_mut().flatten()) {
        (agent.run, agent.delegate) = (None, Some(delegate.clone()));
    }
}

/// Every subtask under one heading: what a node with no room for managers groups by.
fn agents_only() -> GroupingConfig {
    GroupingConfig {
        managers: BTreeMap::new(),
        fallback: Manager { name: "agents".into(), title: "Agents".into() },
        ..GroupingConfig::default()
    }
}

/// A node whose description (its tasks together) is over the limit, named.
fn too_long(children: &[NodeSpec]) -> Result<(), Vec<String>> {
    let limit = MAX_DESCRIPTION_CHARS;
    let mut nodes: Vec<&NodeSpec> = children.iter().collect();
    nodes.extend(children.iter().flat_map(|c| c.children.iter().flatten()));
    let errors: Vec<String> = nodes
        .into_iter()
        .filter(|node| node.description.as_ref().is_some_and(|d| d.chars().count() > limit))
        .map(|node| {
            format!(
                "the tasks of '{}' come to more than {limit} characters together: shorten their descriptions",
                node.name
            )
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// `[{manager, title, agents: [{agent, title, tasks}]}]` (a manager that decomposes its share
/// itself says so, with the agents it would otherwise have had), or `[{agent, title, tasks}]`
/// without managers.
fn assignments(plans: &[ManagerPlan], managers: bool, nested: &[bool]) -> Value {
    let agent = |a: &AgentPlan| json!({"agent": a.name, "title": a.title, "tasks": a.tasks.iter().map(|t| &t.title).collect::<Vec<_>>()});
    if !managers {
        return plans.iter().flat_map(|m| m.agents.iter().map(agent)).collect();
    }
    plans
        .iter()
        .zip(nested)
        .map(|(m, &decomposes)| {
            let mut entry =
                json!({"manager": m.name, "title": m.title, "agents": m.agents.iter().map(agent).collect::<Vec<_>>()});
            if decomposes {
                entry["decomposes"] = json!(true);
            }
            entry
        })
        .collect()
}
