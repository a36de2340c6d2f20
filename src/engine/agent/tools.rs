//! The tools an agent may call. `spawn_children` grows a sub-team under the node through
//! the job driver — the same checks as a worker's spawn route (names, depth cap, node
//! limit, circular recursion, providers) — and its result is the children's outcomes once
//! they have all ended. A refused spawn is the tool's error, so the model can correct it.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::domain::{JsonText, NodeSpec, NodeStatus};
use crate::llm::Tool;

/// The tool's name.
pub const SPAWN_CHILDREN: &str = "spawn_children";

/// Adds children under the agent's node: the job driver behind a narrow door.
#[async_trait::async_trait]
pub trait Team: Send + Sync {
    /// Spawns `children` under the node, or returns why not (for the model to read). The
    /// same `key` spawns once: asked again, it returns the ids it gave the first time.
    async fn spawn(&self, key: Uuid, children: Vec<NodeSpec>) -> Result<Vec<Uuid>, String>;
}

/// How a child of the node ended, as the driver knew it when the agent (re)started.
#[derive(Debug, Clone)]
pub struct ChildReport {
    pub name: String,
    pub status: NodeStatus,
    pub result: Option<JsonText>,
    pub error: Option<String>,
}

/// The tools of an `llm` run, as the model is offered them.
pub fn offered(names: &[String]) -> Vec<Tool> {
    names.iter().filter(|name| *name == SPAWN_CHILDREN).map(|_| spawn_children()).collect()
}

fn spawn_children() -> Tool {
    Tool {
        name: SPAWN_CHILDREN.into(),
        description: "Create sub-tasks under your task, each run by its own worker (usually another \
            model: run {\"type\": \"llm\", \"provider\": …}). Returns every child's status and result once \
            they have all finished. Names are unique among your children: [A-Za-z0-9_.-]{1,64}."
            .into(),
        parameters: json!({
            "type": "object",
            "required": ["children"],
            "properties": {"children": {"type": "array", "minItems": 1, "items": {
                "type": "object",
                "required": ["name", "run"],
                "properties": {
                    "name": {"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,64}$"},
                    "title": {"type": "string"},
                    "description": {"type": "string", "description": "The child's task in full."},
                    "depends_on": {"type": "array", "items": {"type": "string"}},
                    "run": {"type": "object", "description": "The executor, e.g. {\"type\": \"llm\", \"provider\": \"…\"}."}
                }
            }}}
        }),
    }
}

/// The children a `spawn_children` call asks for, or why its arguments cannot be read.
pub fn requested(input: &Value) -> Result<Vec<NodeSpec>, String> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Arguments {
        children: Vec<NodeSpec>,
    }
    let arguments: Arguments =
        serde_json::from_value(input.clone()).map_err(|e| format!("the arguments cannot be read: {e}"))?;
    if arguments.children.is_empty() {
        return Err("children: give at least one child".into());
    }
    Ok(arguments.children)
}

/// The tool's result once the spawned children have all ended: `None` while one has not.
pub fn outcome(spawned: &[Uuid], children: &HashMap<Uuid, ChildReport>) -> Option<String> {
    let mut reports = Vec::with_capacity(spawned.len());
    for id in spawned {
        let child = children.get(id).filter(|c| c.status.is_terminal())?;
        let result: Value =
            child.result.as_deref().and_then(|r| serde_json::from_str(r.get()).ok()).unwrap_or(Value::Null);
        reports
            .push(json!({"name": child.name, "status": child.status.as_str(), "result": result, "error": child.error}));
    }
    Some(json!({"children": reports}).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_read_as_node_specs_and_bad_ones_say_why() {
        let children = requested(&json!({"children": [{"name": "a", "run": {"type": "noop"}}]})).expect("one child");
        assert_eq!(children[0].name, "a");
        assert!(requested(&json!({"children": []})).unwrap_err().contains("at least one"));
        assert!(requested(&json!({"kids": []})).unwrap_err().contains("cannot be read"));
    }

    #[test]
    fn the_result_waits_for_every_spawned_child() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let report = |status| ChildReport {
            name: "a".into(),
            status,
            result: Some(crate::domain::json_text(&json!({"output": "hi"}))),
            error: None,
        };
        let mut children = HashMap::from([(a, report(NodeStatus::Succeeded)), (b, report(NodeStatus::Running))]);
        assert_eq!(outcome(&[a, b], &children), None);
        children.get_mut(&b).expect("b").status = NodeStatus::Failed;
        let text = outcome(&[a, b], &children).expect("both ended");
        assert!(text.contains("\"status\":\"succeeded\"") && text.contains("\"output\":\"hi\""), "{text}");
        assert!(offered(&["spawn_children".into()])[0].parameters["required"][0] == "children");
    }
}
