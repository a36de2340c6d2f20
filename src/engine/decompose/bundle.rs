//! The grouped plans as cadre nodes: an agent's prompt bundling its subtasks in the seed's
//! shape, and one orchestrator per manager with one worker per agent under it.
//!
//! The nodes are ordinary [`NodeSpec`]s, so they go through the same validation, depth cap,
//! node limit and circular-recursion check as any plan or spawn. The worker's executor is a
//! template the operator chooses (an `llm` worker, or a `command` running a coding-agent
//! CLI); this module only fills in the task.

use std::fmt::Write as _;

use crate::domain::{ExecutorSpec, NodeSpec};

use super::group::{AgentPlan, ManagerPlan};

/// The variable a `command` agent finds its bundled prompt in (its stdin is not used).
pub const TASK_PROMPT_ENV: &str = "CADRE_TASK_PROMPT";

const RULE: &str = "================================================================================";

/// The agent's prompt: every subtask in order ("TASK 1/2: …" between rules, its
/// description, success criteria and complexity), then the `instructions` block.
pub fn bundle(agent: &AgentPlan, instructions: &str) -> String {
    let n = agent.tasks.len();
    let mut out = format!(
        "You are a coding agent working on: {}\n\nYou have been assigned {n} related task(s) to complete. \
         Complete ALL tasks in order.\n\n",
        agent.title
    );
    for (i, task) in agent.tasks.iter().enumerate() {
        let _ =
            write!(out, "{RULE}\nTASK {}/{n}: {}\n{RULE}\n\n{}\n\n", i + 1, task.title, task.description.trim_end());
        if !task.success_criteria.is_empty() {
            out.push_str("Success criteria:\n");
            for criterion in &task.success_criteria {
                let _ = writeln!(out, "- {criterion}");
            }
            out.push('\n');
        }
        let _ = write!(out, "Complexity: {}\n\n", task.complexity);
    }
    let _ = write!(out, "{RULE}\n\n{}\n", instructions.trim());
    out
}

/// A manager's whole share (every task of its agents, in order), for a manager that
/// decomposes it itself at the next depth.
pub fn share(manager: &ManagerPlan) -> String {
    let tasks: Vec<&super::Subtask> = manager.agents.iter().flat_map(|a| &a.tasks).collect();
    let n = tasks.len();
    let mut out = format!("Your share of the project ({n} tasks): plan it, break it down and see it done.\n\n");
    for (i, task) in tasks.iter().enumerate() {
        let _ =
            write!(out, "TASK {}/{n}: {} ({})\n{}\n", i + 1, task.title, task.complexity, task.description.trim_end());
        for criterion in &task.success_criteria {
            let _ = writeln!(out, "- success: {criterion}");
        }
        out.push('\n');
    }
    out.trim_end().to_string()
}

/// One orchestrator per manager, one worker per agent running a copy of `agent_run` with the
/// bundle as its `description` (and, for a `command`, in [`TASK_PROMPT_ENV`]).
pub fn to_nodes(plans: &[ManagerPlan], agent_run: &ExecutorSpec, instructions: &str) -> Vec<NodeSpec> {
    plans
        .iter()
        .map(|manager| {
            let agents = manager.agents.iter().map(|agent| worker(agent, agent_run, instructions)).collect();
            NodeSpec { children: Some(agents), ..node(&manager.name, &manager.title, &manager.depends_on) }
        })
        .collect()
}

fn worker(agent: &AgentPlan, agent_run: &ExecutorSpec, instructions: &str) -> NodeSpec {
    let prompt = bundle(agent, instructions);
    let mut run = agent_run.clone();
    if let ExecutorSpec::Command { env, .. } = &mut run {
        env.insert(TASK_PROMPT_ENV.to_string(), prompt.clone());
    }
    NodeSpec { description: Some(prompt), run: Some(run), ..node(&agent.name, &agent.title, &agent.depends_on) }
}

/// A node with a name, title and dependencies and everything else left to inheritance.
fn node(name: &str, title: &str, depends_on: &[String]) -> NodeSpec {
    NodeSpec { title: Some(title.to_string()), depends_on: depends_on.to_vec(), ..NodeSpec::named(name) }
}
