//! Crash recovery of one job (SPEC §2.9): the driver's tree rebuilt from the rows a previous
//! server stored, so the job continues where that server stopped.
//!
//! The store is the truth. Ended nodes stay ended with their results. Pending nodes wait as
//! before. Orchestrators that had started wait for their children again, and aggregate when
//! the last one ends. Workers that were running lost their process with the server: each
//! gets a new attempt, counted against its retry policy, with the interruption recorded as
//! the previous attempt's error. A worker that had spawned children is not re-run (that
//! would spawn them twice): it waits for its children, and its own part counts as failed
//! when its process was cut short.
//!
//! Agents (`llm` workers) are the exception: their conversation is stored turn by turn, so
//! a running agent goes on in the same attempt from its last stored turn, after the children
//! it spawned, and is not charged a new attempt.
//!
//! Cascades the previous server may not have finished storing (dependents of a failure,
//! `fail_fast` siblings) are redone here, through the same driver code as at run time.

use std::collections::HashSet;

use serde_json::json;
use serde_json::value::RawValue;
use uuid::Uuid;

use super::{JobRun, REASON_CANCELLED, REASON_DEPENDENCY_FAILED};
use crate::domain::{json_text, JsonText, NodeStatus};
use crate::engine::tree::{OwnOutcome, Phase};
use crate::events::EventKind;
use crate::store::NodeRow;

/// The error of an attempt the server's stop cut short.
pub(crate) const INTERRUPTED: &str = "interrupted: the server stopped during this attempt";
/// The error of a worker whose process was cut short after it had spawned children.
const INTERRUPTED_AFTER_SPAWNING: &str =
    "interrupted: the server stopped while the process ran; it is not re-run because it had spawned children";

/// What the previous server left of a job.
pub(crate) struct Stored<'a> {
    /// The job's nodes, in arena order.
    pub rows: &'a [NodeRow],
    /// Nodes whose process was still recorded as running.
    pub processes: &'a HashSet<Uuid>,
    /// The job was being cancelled.
    pub cancelling: bool,
    /// Its budget envelopes' books, and what each ledger row spent.
    pub budgets: &'a [crate::store::BudgetRow],
    pub spending: &'a [crate::store::SpendRow],
    /// Its approval requests and alerts.
    pub approvals: &'a [crate::store::ApprovalRow],
    pub alerts: &'a [crate::store::AlertRow],
    /// Which agent each staffed node had.
    pub delegations: &'a [crate::store::DelegationRow],
}

impl JobRun {
    /// Rebuilds the tree's state from `stored` and sets everything that can move going.
    pub(crate) fn restore(&mut self, stored: &Stored<'_>) {
        self.restored = true;
        self.rebuild_budget(stored.rows, stored.budgets, stored.spending);
        for (index, row) in stored.rows.iter().enumerate().take(self.nodes.len()) {
            self.load_row(index, row);
        }
        self.restore_staff(stored.delegations);
        let mut requests = self.load_approvals(stored.approvals);
        self.restore_watch(stored.alerts);
        for index in 0..self.nodes.len() {
            if self.nodes[index].phase == Phase::Done && self.nodes[index].status == NodeStatus::Succeeded {
                for dependent in self.nodes[index].dependents.clone() {
                    self.nodes[dependent].unmet -= 1;
                }
            }
        }
        // Parents come before their children in the arena, so a parent's bookkeeping is
        // settled before any child of it moves.
        for index in 0..self.nodes.len() {
            if self.nodes[index].status == NodeStatus::AwaitingApproval {
                self.resume_approval(index, requests.remove(&index));
                continue;
            }
            self.resume_node(index, stored.processes);
        }
        if stored.cancelling {
            self.cancel_subtree(0, REASON_CANCELLED);
        }
        self.drain_ended();
    }

    fn load_row(&mut self, index: usize, row: &NodeRow) {
        let node = &mut self.nodes[index];
        node.status = NodeStatus::parse(&row.status).unwrap_or(NodeStatus::Pending);
        node.attempts = u32::try_from(row.attempts).unwrap_or(0);
        node.started_ms = row.started_ms;
        node.finished_ms = row.finished_ms;
        node.result = row.result.clone().and_then(|text| RawValue::from_string(text).ok()).map(JsonText::from);
        node.error = row.error.clone();
        node.warnings = row.warnings.as_deref().and_then(|text| serde_json::from_str(text).ok()).unwrap_or_default();
        node.phase = match node.status {
            NodeStatus::Succeeded | NodeStatus::Failed | NodeStatus::Cancelled => Phase::Done,
            NodeStatus::Running | NodeStatus::Retrying if !node.is_worker() => Phase::Children,
            // Interrupted workers are dealt with once their parent is settled.
            _ => Phase::Blocked,
        };
    }

    fn resume_node(&mut self, index: usize, processes: &HashSet<Uuid>) {
        let node = &self.nodes[index];
        match (node.phase, node.status) {
            (Phase::Children, _) if self.is_decomposing(index) => self.resume_decomposing(index),
            (Phase::Children, _) => self.resume_children(index),
            // An agent goes on from its last stored turn, in the same attempt.
            (Phase::Blocked, NodeStatus::Running) if self.is_agent(index) => self.resume_stored_agent(index),
            (Phase::Blocked, NodeStatus::Running | NodeStatus::Retrying) if !node.children.is_empty() => {
                let interrupted = processes.contains(&node.id);
                self.nodes[index].own =
                    Some(Box::new(own_outcome(&self.nodes[index].result, &self.nodes[index].error, interrupted)));
                self.nodes[index].phase = Phase::AwaitChildren;
                self.resume_children(index);
            }
            (Phase::Blocked, NodeStatus::Running | NodeStatus::Retrying) => self.rerun_worker(index),
            (Phase::Blocked, _) if index == 0 => self.admit(0),
            _ => {}
        }
    }

    /// A started orchestrator (or a worker waiting for children it spawned): count what has
    /// ended and what is under way, redo unfinished cascades, then carry on or finish.
    pub(super) fn resume_children(&mut self, parent: usize) {
        let children = self.nodes[parent].children.clone();
        for &child in &children {
            match (self.nodes[child].phase, self.nodes[child].status) {
                (Phase::Done, _) => self.nodes[parent].ended_children += 1,
                (_, NodeStatus::Pending) => {}
                _ => {
                    self.nodes[child].counted = true;
                    self.nodes[parent].in_progress += 1;
                }
            }
        }
        self.redo_cascades(parent, &children);
        let ready: Vec<usize> = children
            .iter()
            .copied()
            .filter(|&c| self.nodes[c].status == NodeStatus::Pending && self.nodes[c].unmet == 0)
            .collect();
        self.nodes[parent].ready.extend(ready);
        self.pump(parent);
        self.finish_if_children_ended(parent);
    }

    fn redo_cascades(&mut self, parent: usize, children: &[usize]) {
        for &child in children {
            let failed = self.nodes[child].phase == Phase::Done && self.nodes[child].status != NodeStatus::Succeeded;
            if !failed {
                continue;
            }
            for dependent in self.nodes[child].dependents.clone() {
                self.cancel_subtree(dependent, REASON_DEPENDENCY_FAILED);
            }
            if self.nodes[child].status == NodeStatus::Failed {
                self.stop_siblings_if_fail_fast(parent);
            }
        }
    }

    /// A node that was decomposing: it waits for its answer again, or goes on from its stored
    /// calls in the same attempt (a retry waiting out its back-off starts the next one).
    fn resume_decomposing(&mut self, index: usize) {
        if self.nodes[index].status == NodeStatus::Retrying {
            return self.queue_for_slot(index);
        }
        if self.awaits_answer(index) {
            return self.await_answer(index);
        }
        self.resuming.insert(index);
        self.queue_for_slot(index);
    }

    /// An agent that was running: it waits for the children it had spawned, if any have not
    /// ended, then reads its conversation back and goes on.
    fn resume_stored_agent(&mut self, index: usize) {
        self.unloaded_conversation(index);
        if self.nodes[index].children.is_empty() {
            return self.resume_agent(index);
        }
        self.nodes[index].phase = Phase::AwaitChildren;
        self.resume_children(index);
    }

    /// A worker whose process died with the server: a new attempt when its retry policy
    /// allows one, failed otherwise.
    fn rerun_worker(&mut self, index: usize) {
        let node = &mut self.nodes[index];
        if node.attempts >= node.spec.retry.max_attempts {
            let result = node.result.take();
            return self.end_node(index, NodeStatus::Failed, result, Some(INTERRUPTED.to_string()));
        }
        node.status = NodeStatus::Retrying;
        node.error = Some(INTERRUPTED.to_string());
        let node = &self.nodes[index];
        self.ctx.journal.node(node.update());
        let data = json!({"node_id": node.id, "name": &*node.name, "attempt": node.attempts,
                          "max_attempts": node.spec.retry.max_attempts, "delay_ms": 0, "error": INTERRUPTED});
        self.emit(EventKind::NodeRetrying, node.depth, &data);
        self.queue_for_slot(index);
    }
}

/// The outcome of a worker's own process, as far as the store knows it.
fn own_outcome(result: &Option<JsonText>, error: &Option<String>, interrupted: bool) -> OwnOutcome {
    let (status, result, error) = match (interrupted, error) {
        (true, _) => (NodeStatus::Failed, None, INTERRUPTED_AFTER_SPAWNING.to_string()),
        (false, Some(error)) => (NodeStatus::Failed, result.clone(), error.clone()),
        (false, None) => {
            let result = result.clone().unwrap_or_else(|| json_text(&serde_json::Value::Null));
            return OwnOutcome { status: NodeStatus::Succeeded, result: Some(result), error: None };
        }
    };
    OwnOutcome { status, result, error: Some(error) }
}
