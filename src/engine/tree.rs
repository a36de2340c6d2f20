//! The in-memory tree a job driver works on: one [`RtNode`] per node, in a flat arena
//! indexed by position (parents before children), with the bookkeeping that makes every
//! scheduling decision O(1): unmet dependency counts, children in progress, ready queues.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use serde_json::Value;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::resources::Slot;
use crate::domain::{JsonText, NodeStatus, PlannedNode, RuntimeSpec};
use crate::events::now_ms;
use crate::store::{NodeRow, NodeUpdate};

/// Where a node is in the driver's state machine (finer than its public status).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// Waiting for its parent to start, its dependencies, or its parent's `max_parallel`.
    Blocked,
    /// Waiting for a slot to start (or, after a back-off, to try again).
    Queued,
    /// A worker whose executor runs (holds a slot).
    Working,
    /// An orchestrator whose children a model is planning (holds a slot).
    Decomposing,
    /// An orchestrator waiting for the requester's answer to its question (holds no slot).
    AwaitAnswer,
    /// A worker waiting out its retry back-off.
    BackingOff,
    /// A node waiting for a person to approve its start or accept its result (holds no slot).
    AwaitApproval,
    /// A staffed node waiting for an eligible agent with room (holds no slot).
    AwaitAgent,
    /// An orchestrator waiting for its children (holds no slot).
    Children,
    /// An orchestrator whose children have ended, waiting for a slot to aggregate.
    Finishing,
    /// A worker whose process has ended, waiting for children it spawned (holds no slot).
    AwaitChildren,
    /// A node with children, all ended, whose branch is being merged into its parent's
    /// (holds no slot).
    Merging,
    /// Ended.
    Done,
}

/// How a worker's own attempt ended, as its node records it.
pub(super) struct OwnOutcome {
    pub status: NodeStatus,
    pub result: Option<JsonText>,
    pub error: Option<String>,
}

/// One node at run time.
pub(super) struct RtNode {
    pub id: Uuid,
    pub name: Arc<str>,
    pub depth: u8,
    pub parent: Option<usize>,
    pub children: Vec<usize>,
    /// Siblings that wait for this node.
    pub dependents: Vec<usize>,
    /// Dependencies not yet succeeded.
    pub unmet: usize,
    pub spec: Arc<RuntimeSpec>,
    /// The title, when it is not the name (most nodes keep one string, not two).
    pub title: Option<Arc<str>>,
    /// A worker's own outcome, kept while it waits for children it spawned.
    pub own: Option<Box<OwnOutcome>>,
    pub status: NodeStatus,
    pub phase: Phase,
    pub attempts: u32,
    pub started_ms: Option<i64>,
    pub finished_ms: Option<i64>,
    pub result: Option<JsonText>,
    pub error: Option<String>,
    pub warnings: Vec<String>,
    pub slot: Option<Slot>,
    /// Fires to stop this worker's executor.
    pub cancel: Option<CancellationToken>,
    /// Set once the node is being cancelled, with the reason.
    pub cancel_reason: Option<&'static str>,
    /// True once the parent counted this child as in progress.
    pub counted: bool,
    /// Orchestrators: children started and not ended.
    pub in_progress: u32,
    /// Orchestrators: children whose dependencies are met, waiting for `max_parallel`.
    pub ready: VecDeque<usize>,
    /// Orchestrators: children that have ended.
    pub ended_children: usize,
    /// Orchestrators: a child failed under `fail_fast`.
    pub failing: bool,
    /// The agent doing or running the node, held until it ends.
    pub lease: Option<crate::workforce::Lease>,
}

impl RtNode {
    pub fn is_worker(&self) -> bool {
        self.spec.is_worker()
    }

    /// Normalised title and executor: what circular recursion is checked against. Made when
    /// a spawn asks, not kept for every node.
    pub fn fingerprint(&self) -> String {
        crate::domain::plan::fingerprint(self.title.as_deref().unwrap_or(&self.name), self.spec.run.as_ref())
    }

    /// The node's state as the store keeps it.
    pub fn update(&self) -> NodeUpdate {
        NodeUpdate {
            id: self.id,
            status: self.status.as_str(),
            attempts: i64::from(self.attempts),
            started_ms: self.started_ms,
            finished_ms: self.finished_ms,
            result: self.result.clone(),
            error: self.error.clone(),
            warnings: (!self.warnings.is_empty()).then(|| Value::from(self.warnings.clone()).to_string()),
        }
    }

    /// Moves to a terminal status.
    pub fn end(&mut self, status: NodeStatus, result: Option<JsonText>, error: Option<String>) {
        self.phase = Phase::Done;
        self.status = status;
        self.finished_ms = Some(now_ms());
        self.slot = None;
        self.cancel = None;
        if let Some(lease) = self.lease.take() {
            lease.end((status != NodeStatus::Cancelled).then_some(status == NodeStatus::Succeeded));
        }
        if result.is_some() {
            self.result = result;
        }
        self.error = error;
    }
}

/// Builds the arena from a job's flat node list, resolving `depends_on` names to siblings.
pub(super) fn build(planned: &[PlannedNode]) -> Vec<RtNode> {
    let mut nodes = Vec::with_capacity(planned.len());
    append(&mut nodes, planned);
    nodes
}

/// Adds nodes (whose `parent` indices are absolute) to the arena and links them: children
/// lists, and `depends_on` resolved among each new node's siblings.
pub(super) fn append(nodes: &mut Vec<RtNode>, planned: &[PlannedNode]) {
    let first = nodes.len();
    nodes.extend(planned.iter().map(rt_node));
    let mut parents = Vec::new();
    for i in first..nodes.len() {
        if let Some(p) = nodes[i].parent {
            nodes[p].children.push(i);
            parents.push(p);
        }
    }
    parents.dedup();
    let mut edges = Vec::new();
    for p in parents {
        let by_name: HashMap<&str, usize> = nodes[p].children.iter().map(|&c| (&*nodes[c].name, c)).collect();
        for &c in nodes[p].children.iter().filter(|&&c| c >= first) {
            for dep in &nodes[c].spec.depends_on {
                if let Some(&d) = by_name.get(dep.as_str()) {
                    edges.push((d, c));
                }
            }
        }
    }
    for (dependency, dependent) in edges {
        nodes[dependency].dependents.push(dependent);
        nodes[dependent].unmet += 1;
    }
}

fn rt_node(node: &PlannedNode) -> RtNode {
    RtNode {
        title: (node.title != node.name).then(|| node.title.clone()),
        own: None,
        id: node.id,
        name: node.name.clone(),
        depth: node.depth,
        parent: node.parent,
        children: Vec::new(),
        dependents: Vec::new(),
        unmet: 0,
        spec: node.spec.clone(),
        status: NodeStatus::Pending,
        phase: Phase::Blocked,
        attempts: 0,
        started_ms: None,
        finished_ms: None,
        result: None,
        error: None,
        warnings: Vec::new(),
        slot: None,
        cancel: None,
        cancel_reason: None,
        counted: false,
        in_progress: 0,
        ready: VecDeque::new(),
        ended_children: 0,
        failing: false,
        lease: None,
    }
}

/// A stored node list back in planned form (for jobs admitted from the queue).
pub fn planned_from_rows(rows: &[NodeRow]) -> Result<Vec<PlannedNode>, String> {
    let positions: HashMap<Uuid, usize> = rows.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
    rows.iter()
        .map(|row| {
            let spec: RuntimeSpec =
                serde_json::from_str(&row.spec).map_err(|e| format!("node {}: unreadable spec: {e}", row.id))?;
            let name: Arc<str> = row.name.as_str().into();
            Ok(PlannedNode {
                id: row.id,
                parent: row.parent_id.and_then(|p| positions.get(&p).copied()),
                depth: u8::try_from(row.depth).map_err(|_| format!("node {}: bad depth", row.id))?,
                title: if row.title == row.name { name.clone() } else { row.title.as_str().into() },
                name,
                role: row.role.as_str().into(),
                spec: Arc::new(spec),
                spec_json: row.spec.as_str().into(),
            })
        })
        .collect()
}
