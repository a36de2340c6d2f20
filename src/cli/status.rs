//! What `cadre status JOB` prints in words: the job, what its model calls spent, its error,
//! then its tree, a line per node, with each node's own spend and (for a node whose
//! descendants spent too) its subtree's, and spend against budget where there is an envelope
//! (the job's, a node's own). Read from the API's answer as far as these lines
//! need it, so a server without model calls (no `usage` fields) reads the same as before.

use serde::Deserialize;
use serde_json::Value;

use super::envelope::Envelope;
use super::spend::Spend;

/// A job as `status` shows it.
#[derive(Debug, Deserialize)]
pub(super) struct StatusJob {
    job_id: String,
    status: String,
    request: String,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    usage: Option<Spend>,
    #[serde(default)]
    budget: Option<Envelope>,
    #[serde(default)]
    tree: Option<StatusNode>,
}

#[derive(Debug, Deserialize)]
struct StatusNode {
    name: String,
    status: String,
    role: String,
    attempts: i64,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    usage: Option<Spend>,
    #[serde(default)]
    subtree_usage: Option<Spend>,
    #[serde(default)]
    budget: Option<Envelope>,
    /// Read for the failure's class and what followed it (`recovery`).
    #[serde(default)]
    result: Option<Value>,
    #[serde(default)]
    children: Vec<StatusNode>,
}

impl StatusJob {
    pub(super) fn parse(view: &Value) -> Result<Self, String> {
        Self::deserialize(view).map_err(|e| format!("unexpected answer from the server: {e}"))
    }

    pub(super) fn lines(&self) -> Vec<String> {
        let mut lines = vec![format!("job {} {} — {}", self.job_id, self.status, self.request)];
        lines.extend(self.usage.map(|usage| usage.line()));
        lines.extend(self.budget.map(|budget| budget.words()));
        lines.extend(self.error.as_ref().map(|error| format!("error: {error}")));
        if let Some(tree) = &self.tree {
            node_lines(tree, 0, &mut lines);
        }
        lines
    }
}

fn node_lines(node: &StatusNode, indent: usize, out: &mut Vec<String>) {
    let error = node.error.as_deref().map(|e| format!(" — {e}{}", recovery_note(node))).unwrap_or_default();
    out.push(format!(
        "{:indent$}{} [{}] {} (attempts {}){}{error}",
        "",
        node.name,
        node.status,
        node.role,
        node.attempts,
        spend_note(node),
        indent = indent * 2
    ));
    for child in &node.children {
        node_lines(child, indent + 1, out);
    }
}

/// ` (memory, reallocate)`: the class of the node's last failure and what followed it.
fn recovery_note(node: &StatusNode) -> String {
    let Some(recovery) = node.result.as_ref().and_then(|r| r.get("recovery")) else { return String::new() };
    let word = |field: &str| recovery[field].as_str().unwrap_or("?").to_string();
    format!(" ({}, {})", word("class"), word("action"))
}

/// ` · 1,234 in / 56 out · cost 0.0031`, then ` · subtree …` when its descendants spent too.
fn spend_note(node: &StatusNode) -> String {
    let own = node.usage.map(|u| format!(" · {}", u.tokens_and_cost())).unwrap_or_default();
    let beyond = node.subtree_usage.filter(|subtree| Some(subtree.calls) != node.usage.map(|u| u.calls));
    let subtree = beyond.map(|u| format!(" · subtree {}", u.tokens_and_cost())).unwrap_or_default();
    let budget = node.budget.map(|b| format!(" · {}", b.words())).unwrap_or_default();
    format!("{own}{subtree}{budget}")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn node(name: &str, usage: Value, subtree: Value, children: Vec<Value>) -> Value {
        json!({"id": "00000000-0000-0000-0000-000000000001", "name": name, "title": name, "role": "engineer",
               "depth": 1, "kind": "worker", "status": "succeeded", "attempts": 1, "slots": 0, "error": null,
               "usage": usage, "subtree_usage": subtree, "child_count": children.len(), "children": children})
    }

    fn usage(input: i64, cost: f64, calls: i64) -> Value {
        json!({"input_tokens": input, "output_tokens": 10 * calls, "cached_tokens": 0, "cost": cost, "calls": calls})
    }

    #[test]
    fn the_job_and_its_nodes_show_their_spend_where_there_is_some() {
        let writer = node("write", usage(1_000, 0.001, 1), usage(1_000, 0.001, 1), vec![]);
        let idle = node("check", Value::Null, Value::Null, vec![]);
        let planner = node("plan", usage(2_500, 0.02, 2), usage(3_500, 0.021, 3), vec![writer, idle]);
        let mut planner = planner;
        planner["children"][0]["budget"] = json!({"allocated": {"cost": 0.5, "tokens": null},
            "reserved": {"cost": 0.0, "tokens": 0}, "spent": {"cost": 0.001, "tokens": 1_010},
            "returned": {"cost": 0.499, "tokens": 0}});
        let budget = json!({"allocated": {"cost": 1.0, "tokens": null}, "reserved": {"cost": 0.0, "tokens": 0},
                            "spent": {"cost": 0.021, "tokens": 3_530}, "returned": {"cost": 0.0, "tokens": 0}});
        let view = json!({"job_id": "j1", "status": "succeeded", "request": "Notes", "usage": usage(3_500, 0.021, 3),
                          "budget": budget, "tree": planner});
        assert_eq!(
            StatusJob::parse(&view).expect("a job").lines(),
            [
                "job j1 succeeded — Notes",
                "tokens 3,500 in / 30 out · cost 0.0210 · 3 calls",
                "budget cost 0.0210 of 1.00 (2 %)",
                "plan [succeeded] engineer (attempts 1) · 2,500 in / 20 out · cost 0.0200 \
                 · subtree 3,500 in / 30 out · cost 0.0210",
                "  write [succeeded] engineer (attempts 1) · 1,000 in / 10 out · cost 0.0010 \
                 · budget cost 0.0010 of 0.5000 (0 %) · returned cost 0.4990",
                "  check [succeeded] engineer (attempts 1)",
            ]
        );
    }

    #[test]
    fn a_server_without_model_calls_reads_as_before() {
        let mut root = node("root", Value::Null, Value::Null, vec![]);
        root.as_object_mut().map(|o| (o.remove("usage"), o.remove("subtree_usage")));
        root["error"] = json!("exit status 1");
        root["status"] = json!("failed");
        root["result"] = json!({"exit_code": 1, "recovery": {"class": "process", "action": "fail", "level": 0}});
        let view = json!({"job_id": "j2", "status": "failed", "request": "Run", "error": "root failed", "tree": root});
        assert_eq!(
            StatusJob::parse(&view).expect("a job").lines(),
            [
                "job j2 failed — Run",
                "error: root failed",
                "root [failed] engineer (attempts 1) — exit status 1 (process, fail)"
            ]
        );
        assert!(StatusJob::parse(&json!({"job_id": 3})).is_err());
    }
}
