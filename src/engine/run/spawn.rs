//! Children added at run time (SPEC §4.7): a worker — or a node it spawned — asks for a
//! sub-team under itself. The same rules as a submitted plan apply (names, depth cap,
//! node limit, `depends_on` within the batch), plus the circular-recursion check: a new node
//! whose task fingerprint equals one of its ancestors' is refused.

use serde_json::json;
use uuid::Uuid;

use super::JobRun;
use crate::domain::plan::flatten_spawned;
use crate::domain::validate::validate_spawn;
use crate::domain::{FieldError, NodeSpec, PlannedNode};
use crate::engine::tree::{self, Phase};
use crate::events::EventKind;
use crate::store::NewNodes;

/// A node created by a spawn.
#[derive(Debug, Clone)]
pub struct SpawnedNode {
    pub id: Uuid,
    pub parent_id: Uuid,
    pub name: String,
    pub depth: u8,
}

/// Why a spawn was refused.
#[derive(Debug)]
pub enum SpawnError {
    /// No such node in this job.
    NotFound,
    /// The parent has ended or is being cancelled.
    Ended(String),
    /// The children break a rule; nothing was created.
    Invalid(Vec<FieldError>),
}

impl JobRun {
    /// Adds `children` under node `parent`, stores them and starts what is ready.
    pub(super) fn spawn(
        &mut self,
        parent: Uuid,
        children: &[NodeSpec],
        key: Option<Uuid>,
    ) -> Result<Vec<SpawnedNode>, SpawnError> {
        let index = self.nodes.iter().position(|n| n.id == parent).ok_or(SpawnError::NotFound)?;
        if let Some(done) = key.and_then(|key| self.spawned_before(index, key, children.len())) {
            return Ok(done);
        }
        let node = &self.nodes[index];
        let live = matches!(node.phase, Phase::Working | Phase::Decomposing | Phase::AwaitChildren | Phase::Children);
        if !live || node.cancel_reason.is_some() {
            return Err(SpawnError::Ended(format!("node {parent} is not running ({})", node.status)));
        }
        let siblings: Vec<&str> = node.children.iter().map(|&c| &*self.nodes[c].name).collect();
        let validation =
            validate_spawn(children, (node.depth, self.settings.max_depth), &siblings, &self.settings.limits);
        let mut errors = validation.errors;
        let roots: Vec<(String, &NodeSpec)> = (0..).map(|i| format!("children[{i}]")).zip(children).collect();
        errors.extend(self.ctx.workforce.check_plan(&roots));
        let limit = self.settings.limits.max_nodes;
        if self.nodes.len() + validation.estimate.nodes > limit {
            let message = format!(
                "the job would have {} nodes, more than the limit of {limit}",
                self.nodes.len() + validation.estimate.nodes
            );
            errors.push(FieldError { path: "children".into(), message });
        }
        let inherited = crate::domain::plan::Inherited::of(&node.spec);
        let mut planned = flatten_spawned(children, node.depth, &inherited, &self.settings.limits);
        if let Some(key) = key {
            for (i, p) in planned.iter_mut().enumerate() {
                p.id = keyed_id(key, i);
            }
        }
        errors.extend(self.circular(index, &planned));
        errors.extend(self.overdrawn(index, children));
        if !errors.is_empty() {
            return Err(SpawnError::Invalid(errors));
        }
        Ok(self.attach(index, planned))
    }

    /// The children a spawn with this key made before (`count` of them at the top), if it did.
    fn spawned_before(&self, parent: usize, key: Uuid, count: usize) -> Option<Vec<SpawnedNode>> {
        let first = keyed_id(key, 0);
        self.nodes[parent].children.iter().any(|&c| self.nodes[c].id == first).then(|| {
            let ids: Vec<Uuid> = (0..count).map(|i| keyed_id(key, i)).collect();
            let node = &self.nodes[parent];
            node.children
                .iter()
                .filter(|&&c| ids.contains(&self.nodes[c].id))
                .map(|&c| SpawnedNode {
                    id: self.nodes[c].id,
                    parent_id: node.id,
                    name: self.nodes[c].name.to_string(),
                    depth: self.nodes[c].depth,
                })
                .collect()
        })
    }

    /// Nodes whose fingerprint repeats an ancestor's: the parent's chain, or their own
    /// ancestors within the batch.
    fn circular(&self, parent: usize, planned: &[PlannedNode]) -> Vec<FieldError> {
        let mut chain: Vec<(String, &str)> = Vec::new();
        let mut current = Some(parent);
        while let Some(i) = current {
            chain.push((self.nodes[i].fingerprint(), &*self.nodes[i].name));
            current = self.nodes[i].parent;
        }
        let fingerprints: Vec<String> = planned.iter().map(PlannedNode::fingerprint).collect();
        let repeated = |i: usize| -> Option<&str> {
            let mine = fingerprints[i].as_str();
            let mut up = planned[i].parent;
            while let Some(j) = up {
                if fingerprints[j] == mine {
                    return Some(&*planned[j].name);
                }
                up = planned[j].parent;
            }
            chain.iter().find(|(f, _)| *f == mine).map(|(_, name)| *name)
        };
        (0..planned.len())
            .filter_map(|i| {
                repeated(i).map(|ancestor| FieldError {
                    path: "children".into(),
                    message: format!(
                        "circular recursion: '{}' repeats the task of its ancestor '{ancestor}'",
                        planned[i].name
                    ),
                })
            })
            .collect()
    }

    /// Puts validated nodes in the tree and the journal, and starts the ready ones.
    fn attach(&mut self, parent: usize, planned: Vec<PlannedNode>) -> Vec<SpawnedNode> {
        let offset = self.nodes.len();
        let planned: Vec<PlannedNode> = planned
            .into_iter()
            .map(|mut p| {
                p.parent = Some(p.parent.map_or(parent, |i| offset + i));
                p
            })
            .collect();
        let planned: std::sync::Arc<[PlannedNode]> = planned.into();
        self.ctx.journal.insert_nodes(NewNodes {
            job_id: self.job_id,
            first_position: offset,
            outer_parent: Some(self.nodes[parent].id),
            nodes: planned.clone(),
        });
        let spawned: Vec<SpawnedNode> = planned
            .iter()
            .map(|p| {
                let parent_index = p.parent.unwrap_or(parent);
                let parent_id = if parent_index >= offset {
                    planned[parent_index - offset].id
                } else {
                    self.nodes[parent_index].id
                };
                SpawnedNode { id: p.id, parent_id, name: p.name.to_string(), depth: p.depth }
            })
            .collect();
        tree::append(&mut self.nodes, &planned);
        self.budget.link((offset..self.nodes.len()).map(|i| super::budgets::seat(&self.nodes, i)));
        self.announce(parent, &spawned);
        let ready: Vec<usize> =
            self.nodes[parent].children.iter().copied().filter(|&c| c >= offset && self.nodes[c].unmet == 0).collect();
        self.nodes[parent].ready.extend(ready);
        // A decomposing node starts its children once its decomposition has ended.
        if self.nodes[parent].phase != Phase::Decomposing {
            self.pump(parent);
        }
        spawned
    }

    fn announce(&self, parent: usize, spawned: &[SpawnedNode]) {
        let node = &self.nodes[parent];
        let data = json!({"orchestrator_id": node.id, "name": &*node.name, "depth": node.depth,
                          "parent_id": node.parent.map(|p| self.nodes[p].id), "spawned": spawned.len(),
                          "by": if node.phase == Phase::Decomposing { "decomposer" } else { "worker" }});
        self.emit(EventKind::OrchestratorSpawned, node.depth, &data);
    }
}

/// The id of the `i`-th node (breadth-first) of the spawn with this key: the same on every
/// asking, so a spawn repeated after a crash finds what the first one made.
fn keyed_id(key: Uuid, i: usize) -> Uuid {
    Uuid::new_v5(&key, i.to_string().as_bytes())
}
