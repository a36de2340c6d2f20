//! How nodes end and what follows: aggregation when an orchestrator's children are done,
//! dependents cancelled after a failure, `fail_fast` stopping siblings, and cancellation of
//! whole subtrees. Everything here runs inside the driver's transition, synchronously, and
//! cascades through the driver's `ended` work list rather than by recursion.

use serde::Serialize;
use serde_json::value::RawValue;

use super::notices::NodeCompleted;
use super::workspace::AfterMerge;
use super::{JobRun, REASON_CANCELLED, REASON_DEPENDENCY_FAILED, REASON_SIBLING_FAILED};
use crate::domain::{json_text, FailurePolicy, JsonText, NodeStatus};
use crate::engine::aggregate::{aggregate, ChildOutcome};
use crate::engine::executor::ExecOutcome;
use crate::engine::resources::Slot;
use crate::engine::tree::{OwnOutcome, Phase};
use crate::events::EventKind;

/// The result of a worker that spawned children: its own output beside their aggregate.
#[derive(Serialize)]
struct WorkerWithChildren<'a> {
    output: Option<&'a RawValue>,
    children: &'a RawValue,
}

/// An attempt's outcome as the node records it: its result as text.
impl From<ExecOutcome> for OwnOutcome {
    fn from(outcome: ExecOutcome) -> Self {
        let text = |value: Option<serde_json::Value>| value.map(|v| json_text(&v));
        let (status, result, error) = match outcome {
            ExecOutcome::Succeeded(value) => (NodeStatus::Succeeded, Some(json_text(&value)), None),
            ExecOutcome::Failed { error, result } => (NodeStatus::Failed, text(result), Some(error)),
            // A start that waits for children has no outcome yet; read as one it is a stop.
            ExecOutcome::Cancelled { result } => {
                (NodeStatus::Cancelled, text(result), Some(REASON_CANCELLED.to_string()))
            }
            ExecOutcome::Waiting => (NodeStatus::Cancelled, None, Some(REASON_CANCELLED.to_string())),
        };
        Self { status, result, error }
    }
}

impl JobRun {
    /// Takes the children's results (they are stored; from now on they live on only inside
    /// the parent's) and combines them.
    fn aggregate_children(&mut self, index: usize) -> (JsonText, Vec<String>) {
        let children = std::mem::take(&mut self.nodes[index].children);
        let results: Vec<_> = children.iter().map(|&c| self.nodes[c].result.take()).collect();
        let outcomes = children
            .iter()
            .zip(results)
            .map(|(&c, result)| ChildOutcome { name: &self.nodes[c].name, status: self.nodes[c].status, result })
            .collect();
        let aggregated = aggregate(self.nodes[index].spec.aggregate, outcomes);
        self.nodes[index].children = children;
        aggregated
    }

    /// Succeeded when every child did; failed, naming the others, otherwise.
    fn children_verdict(&self, index: usize) -> (NodeStatus, Option<String>) {
        let unsuccessful: Vec<&str> = self.nodes[index]
            .children
            .iter()
            .filter(|&&c| self.nodes[c].status != NodeStatus::Succeeded)
            .map(|&c| &*self.nodes[c].name)
            .collect();
        if unsuccessful.is_empty() {
            (NodeStatus::Succeeded, None)
        } else {
            (NodeStatus::Failed, Some(format!("children did not succeed: {}", unsuccessful.join(", "))))
        }
    }

    pub(super) fn finish_orchestrator(&mut self, index: usize, slot: Slot) {
        let (mut result, warnings) = self.aggregate_children(index);
        if self.nodes[index].spec.decompose.is_some() {
            // A decomposing node's result is its record (plan, assignments, intent) with
            // what its children delivered: the report's substance.
            let mut record = self.record(index);
            record["delivered"] = serde_json::from_str(result.get()).unwrap_or_default();
            result = json_text(&record);
        }
        let (status, error) = match self.nodes[index].cancel_reason {
            Some(reason) => (NodeStatus::Cancelled, Some(reason.to_string())),
            None => self.children_verdict(index),
        };
        self.nodes[index].warnings = warnings;
        self.end_node(index, status, Some(result), error);
        drop(slot);
    }

    pub(super) fn end_node(
        &mut self,
        index: usize,
        status: NodeStatus,
        result: Option<JsonText>,
        error: Option<String>,
    ) {
        if status == NodeStatus::Succeeded && self.holds_for_acceptance(index, &result) {
            return;
        }
        // A leaf merged as its attempt ended; a node with children merges once they all have.
        let (status, result) = match status {
            NodeStatus::Succeeded if !self.nodes[index].children.is_empty() => {
                match self.merge_first(index, AfterMerge::End(result)) {
                    Ok(()) => return,
                    Err(AfterMerge::End(result)) => (status, result),
                    Err(AfterMerge::Work(_)) => unreachable!("given back as it was given"),
                }
            }
            _ => (status, result),
        };
        self.withdraw_approval(index);
        self.count_for_alerts(index, status);
        self.nodes[index].end(status, result, error);
        let node = &self.nodes[index];
        self.budget.close(node.id);
        self.ctx.journal.node(node.update());
        let data = NodeCompleted {
            error: node.error.as_deref(),
            name: &node.name,
            node_id: node.id,
            parent_id: node.parent.map(|p| self.nodes[p].id),
            status: status.as_str(),
        };
        self.emit(EventKind::NodeCompleted, node.depth, &data);
        self.ended.push_back(index);
    }

    /// Tells parents about children that ended, until nothing more follows.
    pub(super) fn drain_ended(&mut self) {
        while let Some(child) = self.ended.pop_front() {
            if let Some(parent) = self.nodes[child].parent {
                self.child_ended(parent, child);
            }
        }
    }

    fn child_ended(&mut self, parent: usize, child: usize) {
        self.nodes[parent].ended_children += 1;
        if self.nodes[child].counted {
            self.nodes[parent].in_progress -= 1;
        }
        if self.nodes[parent].phase == Phase::Done {
            return;
        }
        let status = self.nodes[child].status;
        let dependents = self.nodes[child].dependents.clone();
        for dependent in dependents {
            if status == NodeStatus::Succeeded {
                self.nodes[dependent].unmet -= 1;
                let live = self.nodes[parent].phase == Phase::Children && self.nodes[parent].cancel_reason.is_none();
                if self.nodes[dependent].unmet == 0 && live {
                    self.nodes[parent].ready.push_back(dependent);
                }
            } else {
                self.cancel_subtree(dependent, REASON_DEPENDENCY_FAILED);
            }
        }
        if status == NodeStatus::Failed {
            self.stop_siblings_if_fail_fast(parent);
        }
        self.pump(parent);
        self.finish_if_children_ended(parent);
    }

    /// Under `fail_fast`, a child's failure cancels its siblings (once).
    pub(super) fn stop_siblings_if_fail_fast(&mut self, parent: usize) {
        if !self.fails_fast(parent) {
            return;
        }
        self.nodes[parent].failing = true;
        for sibling in self.nodes[parent].children.clone() {
            self.cancel_subtree(sibling, REASON_SIBLING_FAILED);
        }
    }

    /// Once every child has ended: an orchestrator queues to aggregate, a worker that waited
    /// for children it spawned ends.
    pub(super) fn finish_if_children_ended(&mut self, parent: usize) {
        let node = &mut self.nodes[parent];
        if node.ended_children < node.children.len() {
            return;
        }
        match node.phase {
            Phase::Children => {
                node.phase = Phase::Finishing;
                self.queue_for_slot(parent);
            }
            Phase::AwaitChildren => match node.own.take() {
                Some(own) => self.finish_worker(parent, *own),
                // An agent that waited for its children goes on with its conversation.
                None if node.cancel_reason.is_none() => self.resume_agent(parent),
                None => self.finish_worker(parent, ExecOutcome::Cancelled { result: None }.into()),
            },
            _ => {}
        }
    }

    /// Ends a worker whose process has ended (and whose spawned children, if any, have).
    /// The slot is released by `end`, after the end time is taken, so a node that gets the
    /// slot next never appears to start before this one ended.
    pub(super) fn finish_worker(&mut self, index: usize, own: OwnOutcome) {
        let OwnOutcome { status: own_status, result: own_result, error: own_error } = own;
        // An agent's answer already weighs its children's outcomes (they were its tool's
        // result): it is the node's result and verdict, and the children keep their own.
        let agent = self.agents.remove(&index).is_some();
        let node = &self.nodes[index];
        if node.children.is_empty() || agent {
            return match node.cancel_reason {
                Some(reason) => self.end_node(index, NodeStatus::Cancelled, own_result, Some(reason.to_string())),
                None => self.end_node(index, own_status, own_result, own_error),
            };
        }
        let (children, warnings) = self.aggregate_children(index);
        let result = json_text(&WorkerWithChildren { output: own_result.as_deref(), children: &children });
        let (status, error) = match (self.nodes[index].cancel_reason, own_status) {
            (Some(reason), _) => (NodeStatus::Cancelled, Some(reason.to_string())),
            (None, NodeStatus::Succeeded) => self.children_verdict(index),
            (None, status) => (status, own_error),
        };
        self.nodes[index].warnings = warnings;
        self.end_node(index, status, Some(result), error);
    }

    fn fails_fast(&self, parent: usize) -> bool {
        let node = &self.nodes[parent];
        !node.failing && node.spec.on_child_failure == FailurePolicy::FailFast
    }

    /// Cancels a node and everything under it: what has not started ends now, running
    /// executors are told to stop, orchestrators end once their children have.
    pub(super) fn cancel_subtree(&mut self, root: usize, reason: &'static str) {
        let mut unstarted = Vec::new();
        let mut stack = vec![root];
        while let Some(index) = stack.pop() {
            let node = &mut self.nodes[index];
            if node.phase == Phase::Done {
                continue;
            }
            node.cancel_reason.get_or_insert(reason);
            match node.phase {
                Phase::Blocked
                | Phase::Queued
                | Phase::BackingOff
                | Phase::AwaitAnswer
                | Phase::AwaitApproval
                | Phase::AwaitAgent => {
                    unstarted.push(index);
                    stack.extend(node.children.iter().copied());
                }
                Phase::Working | Phase::Decomposing => {
                    if let Some(token) = &node.cancel {
                        token.cancel();
                    }
                    stack.extend(node.children.iter().copied());
                }
                Phase::Children | Phase::AwaitChildren => stack.extend(node.children.iter().copied()),
                Phase::Finishing | Phase::Merging | Phase::Done => {}
            }
        }
        // Children before parents (the arena is breadth-first), so events read bottom-up.
        unstarted.sort_unstable_by(|a, b| b.cmp(a));
        for index in unstarted {
            let reason = self.nodes[index].cancel_reason.unwrap_or(reason);
            self.end_node(index, NodeStatus::Cancelled, None, Some(reason.to_string()));
        }
    }
}
