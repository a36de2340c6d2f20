//! Level 3 of recovery (issue 15, seed 004): a failure whose class the node's recovery
//! policy escalates holds the node — its error and result stored, its dependents waiting —
//! and asks a person through an approval request of kind `escalation`, routed up the tree like
//! any other. The decision moves it: another attempt (as it was, or on the terms given), a
//! success with the decision's input as its result, or the failure standing.

use serde_json::{json, Value};

use super::JobRun;
use crate::domain::recovery::FailureClass;
use crate::domain::{json_text, NodeStatus};
use crate::events::EventKind;
use crate::people::approvals::Verdict;
use crate::people::inbox::{Approval, Kind, RetryTerms};

impl JobRun {
    /// A failure its recovery policy escalates: the node is held, its error and result
    /// stored, and a person decides — retry, retry with other terms, skip or fail.
    pub(super) fn escalate(&mut self, index: usize, error: String, result: Option<Value>, class: FailureClass) {
        let node = &mut self.nodes[index];
        node.result = result.map(|value| json_text(&value));
        node.error = Some(error.clone());
        let context = json!({"error": error, "class": class, "attempts": node.attempts});
        self.ask_approval(index, Kind::Escalation, context);
    }

    /// A model's plan, placed: with `config.approve_plan` the topmost one waits for a person
    /// before any child runs. Returns whether it waits.
    pub(super) fn holds_plan(&mut self, index: usize, record: &Value) -> bool {
        let mut above = self.nodes[index].parent;
        while let Some(ancestor) = above {
            if self.nodes[ancestor].spec.decompose.is_some() {
                return false;
            }
            above = self.nodes[ancestor].parent;
        }
        if !self.settings.approve_plan || self.people.accepted.contains(&index) {
            return false;
        }
        let children: Vec<&str> = self.nodes[index].children.iter().map(|&c| &*self.nodes[c].name).collect();
        let context =
            json!({"plan": record.get("plan"), "assignments": record.get("assignments"), "children": children});
        self.ask_approval(index, Kind::Plan, context);
        true
    }

    /// An escalation decided: the node runs again (as it was, or on the decision's terms),
    /// succeeds with the decision's input as its result, or fails as it did.
    pub(super) fn settle_escalation(&mut self, index: usize, approval: &Approval) {
        let verdict = approval.request.decisions.last().map(|d| d.verdict);
        match verdict {
            Some(Verdict::Retry | Verdict::RetryWith | Verdict::Approve) => {
                if let Ok(terms) = RetryTerms::of(approval.input.as_ref()) {
                    self.retry_with(index, &terms);
                }
                self.nodes[index].status = NodeStatus::Retrying;
                let node = &self.nodes[index];
                self.ctx.journal.node(node.update());
                let data = json!({"node_id": node.id, "name": &*node.name, "attempt": node.attempts,
                    "max_attempts": node.spec.retry.max_attempts, "delay_ms": 0, "error": node.error,
                    "decided_by": approval.last_decider()});
                self.emit(EventKind::NodeRetrying, node.depth, &data);
                self.queue_for_slot(index);
            }
            Some(Verdict::Skip) => {
                self.people.accepted.insert(index);
                let result = json_text(approval.input.as_ref().unwrap_or(&Value::Null));
                self.end_node(index, NodeStatus::Succeeded, Some(result), None);
            }
            _ => {
                let error = self.nodes[index].error.clone().unwrap_or_default();
                let error = format!("{error} (escalated; {} let the failure stand)", approval.last_decider());
                let result = self.nodes[index].result.take();
                self.end_node(index, NodeStatus::Failed, result, Some(error));
            }
        }
    }
}

/// What the people an escalation reaches are asked.
pub(super) fn prompt(name: &str, context: &Value) -> String {
    let class = context["class"].as_str().unwrap_or("process");
    let attempts = context["attempts"].as_u64().unwrap_or(1);
    let error: String = context["error"].as_str().unwrap_or("").chars().take(500).collect();
    format!(
        "'{name}' failed ({class}) after {attempts} attempt(s): {error}. Retry, retry with other limits, skip or fail?"
    )
}
