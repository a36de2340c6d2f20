//! What a watcher knows of the jobs it follows, built from the event stream and the jobs'
//! trees: each node's name path, depth and status, which nodes run now, and each job's
//! status, times and what its model calls spent. No I/O here: the watcher feeds it frames and trees, and `render`
//! turns it into lines, so both are tested without a server or a terminal.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;

use super::spend::Spend;
use crate::api::views::{JobView, NodeView};
use crate::domain::NodeStatus;

/// One frame of the event stream, as far as a watcher reads it.
#[derive(Debug, Clone)]
pub(super) struct Frame {
    pub seq: i64,
    /// When the server stored it, in Unix milliseconds.
    pub ts_ms: Option<i64>,
    pub kind: String,
    pub job_id: Option<String>,
    pub depth: Option<i64>,
    pub data: Value,
}

impl Frame {
    /// Reads a text frame; None for anything that is not an event.
    pub(super) fn parse(text: &str) -> Option<Self> {
        let mut value: Value = serde_json::from_str(text).ok()?;
        let ts_ms = rfc3339_ms(value["ts"].as_str());
        Some(Self {
            seq: value["seq"].as_i64().unwrap_or_default(),
            ts_ms,
            kind: value["type"].as_str()?.to_string(),
            job_id: value["job_id"].as_str().map(str::to_string),
            depth: value["depth"].as_i64(),
            data: value["data"].take(),
        })
    }

    /// The job's final status, when this frame is a job's end.
    pub(super) fn job_end(&self) -> Option<&str> {
        matches!(self.kind.as_str(), "job_completed" | "job_cancelled")
            .then(|| self.data["status"].as_str().unwrap_or("unknown"))
    }

    /// The node this frame is about, if any.
    pub(super) fn node_id(&self) -> Option<&str> {
        ["node_id", "worker_id", "orchestrator_id"].iter().find_map(|key| self.data[*key].as_str())
    }

    /// True for an orchestrator's start, false for a spawn by one of its workers (which adds
    /// nodes and starts nothing).
    fn starts_orchestrator(&self) -> bool {
        self.kind == "orchestrator_spawned" && self.data.get("spawned").is_none()
    }
}

/// A node as the watcher knows it.
#[derive(Debug, Clone)]
pub(super) struct Node {
    /// Names from the root down: `release/unit/models`.
    pub path: String,
    pub depth: usize,
    pub status: String,
    /// The attempt under way or last made.
    pub attempt: i64,
}

/// One job as the watcher knows it.
#[derive(Debug, Default)]
pub(super) struct JobProgress {
    pub id: String,
    pub request: Option<String>,
    pub status: String,
    pub error: Option<String>,
    pub started_ms: Option<i64>,
    pub ended_ms: Option<i64>,
    pub nodes: HashMap<String, Node>,
    /// Ids of the running nodes, in the order they started.
    pub running: Vec<String>,
    /// What its model calls spent so far: the sum of its `llm_call` events, on top of the
    /// job's usage when the watch joined it running.
    pub spend: Spend,
    /// `llm_call` events up to this seq are in `spend` already (the usage of the tree
    /// fetched on joining); later ones are added.
    spend_through: i64,
    /// Node ids a tree was fetched for (once each, so an id that never shows up in the tree
    /// costs one fetch, not one per event).
    asked: HashSet<String>,
    tree_asked: bool,
    spend_seeded: bool,
}

impl JobProgress {
    /// Node counts by status, in the order statuses move through.
    pub(super) fn counts(&self) -> Vec<(&'static str, usize)> {
        NodeStatus::ALL
            .iter()
            .map(|s| (s.as_str(), self.nodes.values().filter(|n| n.status == s.as_str()).count()))
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// Per depth: nodes ended and nodes in all.
    pub(super) fn depths(&self) -> BTreeMap<usize, (usize, usize)> {
        let mut depths: BTreeMap<usize, (usize, usize)> = BTreeMap::new();
        for node in self.nodes.values() {
            let entry = depths.entry(node.depth).or_default();
            entry.0 += usize::from(is_ended(&node.status));
            entry.1 += 1;
        }
        depths
    }

    pub(super) fn is_ended(&self) -> bool {
        self.ended_ms.is_some()
    }

    /// Adds a model call's tokens and cost, unless the usage the job was joined with holds it.
    fn count_call(&mut self, frame: &Frame) {
        if frame.seq > self.spend_through {
            self.spend.add(&Spend::of_call(&frame.data));
        }
    }

    fn set_status(&mut self, frame: &Frame, id: &str, status: &str) {
        let depth = frame.depth.and_then(|d| usize::try_from(d).ok()).unwrap_or_default();
        let node = self.nodes.entry(id.to_string()).or_insert_with(|| Node {
            path: frame.data["name"].as_str().map_or_else(|| short_id(id), str::to_string),
            depth,
            status: String::new(),
            attempt: 0,
        });
        node.status = status.to_string();
        if let Some(attempt) = frame.data["attempt"].as_i64() {
            node.attempt = attempt;
        }
        self.running.retain(|r| r != id);
        if status == "running" {
            self.running.push(id.to_string());
        }
    }
}

fn is_ended(status: &str) -> bool {
    NodeStatus::parse(status).is_some_and(NodeStatus::is_terminal)
}

/// A node's id when its name is unknown: the tail, as the head of a v7 id is its time and
/// the same for nodes made together.
pub(super) fn short_id(id: &str) -> String {
    let tail: String = id.chars().rev().take(8).collect::<Vec<_>>().into_iter().rev().collect();
    format!("…{tail}")
}

/// Every job a watcher follows.
#[derive(Debug, Default)]
pub(super) struct Board {
    /// By job id (v7, so in the order they were submitted).
    pub jobs: BTreeMap<String, JobProgress>,
    /// Take node statuses from fetched trees: right when following live, wrong when the
    /// stream replays a job from its start (its events then bring every change in order).
    seed_statuses: bool,
}

impl Board {
    pub(super) fn new(replaying: bool) -> Self {
        Self { jobs: BTreeMap::new(), seed_statuses: !replaying }
    }

    /// The job whose tree should be fetched before `frame` is shown: one not seen before, a
    /// worker's spawn (new nodes), or a node not in the tree fetched last.
    pub(super) fn wants_tree(&mut self, frame: &Frame) -> Option<String> {
        let job_id = frame.job_id.as_deref()?;
        let job = self.jobs.entry(job_id.to_string()).or_insert_with(|| JobProgress::new(job_id));
        let spawned = frame.kind == "orchestrator_spawned" && !frame.starts_orchestrator();
        let unknown = frame.node_id().filter(|id| !job.nodes.contains_key(*id)).map(str::to_string);
        let fresh = unknown.is_some_and(|id| job.asked.insert(id));
        let first = !std::mem::replace(&mut job.tree_asked, true);
        (first || spawned || fresh).then(|| job_id.to_string())
    }

    /// Learns a job's tree: the names, paths and depths of its nodes.
    pub(super) fn learn(&mut self, view: &JobView) {
        let id = view.job_id.to_string();
        let seed = self.seed_statuses;
        let job = self.jobs.entry(id.clone()).or_insert_with(|| JobProgress::new(&id));
        job.request = Some(view.request.clone());
        if job.status.is_empty() || seed {
            job.status.clone_from(&view.status);
        }
        job.started_ms = job.started_ms.or_else(|| rfc3339_ms(view.started_at.as_deref()));
        if let Some(tree) = &view.tree {
            learn_node(job, tree, "", seed);
        }
    }

    /// Starts a job's spend from its usage when the watch joined it running (a replay brings
    /// every call as an event instead): `frame` is the event the tree was fetched for, so it
    /// and every earlier one are counted in `usage` already. Only once per job; a call whose
    /// event arrived while the tree was fetched may count twice, until the final summary,
    /// which reads the stored total.
    pub(super) fn learn_spend(&mut self, frame: &Frame, usage: Option<Spend>) {
        let Some(job) = frame.job_id.as_deref().and_then(|id| self.jobs.get_mut(id)) else { return };
        if self.seed_statuses && !std::mem::replace(&mut job.spend_seeded, true) {
            job.spend = usage.unwrap_or_default();
            job.spend_through = frame.seq;
        }
    }

    /// Applies an event to what the board knows.
    pub(super) fn apply(&mut self, frame: &Frame) {
        let Some(job) = frame.job_id.as_deref().and_then(|id| self.jobs.get_mut(id)) else { return };
        job.started_ms = job.started_ms.or(frame.ts_ms);
        let node = frame.node_id().map(str::to_string);
        match (frame.kind.as_str(), node) {
            ("job_submitted", _) => job.status = frame.data["status"].as_str().unwrap_or("running").to_string(),
            ("orchestrator_spawned", Some(id)) if frame.starts_orchestrator() => job.set_status(frame, &id, "running"),
            ("worker_started", Some(id)) => job.set_status(frame, &id, "running"),
            ("node_retrying", Some(id)) => job.set_status(frame, &id, "retrying"),
            ("llm_call", _) => job.count_call(frame),
            ("node_completed", Some(id)) => {
                job.set_status(frame, &id, frame.data["status"].as_str().unwrap_or("unknown"));
            }
            _ => {}
        }
        if let Some(status) = frame.job_end() {
            job.status = status.to_string();
            job.error = frame.data["error"].as_str().map(str::to_string);
            job.ended_ms = frame.ts_ms.or(job.started_ms);
        }
    }

    /// The name of the node a frame is about: its path when a tree gave one, else the name
    /// the event carries (`node_completed` has it), else its short id.
    pub(super) fn node_name(&self, frame: &Frame) -> Option<String> {
        let id = frame.node_id()?;
        let carried = || frame.data["name"].as_str().map(str::to_string);
        Some(self.known_path(frame.job_id.as_deref(), id).or_else(carried).unwrap_or_else(|| short_id(id)))
    }

    fn known_path(&self, job_id: Option<&str>, node_id: &str) -> Option<String> {
        Some(self.jobs.get(job_id?)?.nodes.get(node_id)?.path.clone())
    }
}

impl JobProgress {
    fn new(id: &str) -> Self {
        Self { id: id.to_string(), spend_through: i64::MIN, ..Self::default() }
    }
}

fn learn_node(job: &mut JobProgress, node: &NodeView, parent: &str, seed: bool) {
    let path = if parent.is_empty() { node.name.clone() } else { format!("{parent}/{}", node.name) };
    let id = node.id.to_string();
    let depth = usize::try_from(node.depth).unwrap_or_default();
    match job.nodes.get_mut(&id) {
        // Met in an event before the tree came: now it has a name.
        Some(known) => {
            known.path.clone_from(&path);
            known.depth = depth;
        }
        None => {
            let status = if seed { node.status.clone() } else { "pending".to_string() };
            if status == "running" {
                job.running.push(id.clone());
            }
            job.nodes.insert(id, Node { path: path.clone(), depth, status, attempt: node.attempts });
        }
    }
    for child in &node.children {
        learn_node(job, child, &path, seed);
    }
}

/// An RFC 3339 time in Unix milliseconds.
pub(super) fn rfc3339_ms(text: Option<&str>) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text?).ok().map(|t| t.timestamp_millis())
}

#[cfg(test)]
#[path = "board_tests.rs"]
pub(super) mod tests;
