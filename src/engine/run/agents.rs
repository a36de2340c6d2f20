//! `llm` workers at run time: what their conversation needs from the driver (their place in
//! the tree, their children's outcomes, a door to spawn through), and the one way they differ
//! from other workers — an attempt that waits for the children it spawned, without a slot,
//! and goes on once they have ended, in the same attempt, from where it stopped.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::{JobMsg, JobRun, SpawnError};
use crate::domain::{ExecutorSpec, NodeSpec};
use crate::engine::agent::conversation::Conversation;
use crate::engine::agent::{AgentContext, Ancestor, ChildReport, Task, Team};
use crate::engine::executor::ExecOutcome;
use crate::engine::tree::Phase;

/// The driver's side of `spawn_children`: a spawn message to the job's own inbox.
struct DriverTeam {
    outbox: mpsc::UnboundedSender<JobMsg>,
    node_id: Uuid,
}

#[async_trait::async_trait]
impl Team for DriverTeam {
    async fn spawn(&self, key: Uuid, children: Vec<NodeSpec>) -> Result<Vec<Uuid>, String> {
        let (reply, answer) = oneshot::channel();
        let ended = || "the job has ended".to_string();
        let msg = JobMsg::Spawn { parent: self.node_id, children, key: Some(key), reply };
        self.outbox.send(msg).map_err(|_| ended())?;
        match answer.await.map_err(|_| ended())? {
            Ok(spawned) => Ok(spawned.iter().filter(|s| s.parent_id == self.node_id).map(|s| s.id).collect()),
            Err(SpawnError::Invalid(errors)) => {
                let listed: Vec<String> = errors.iter().map(|e| format!("{}: {}", e.path, e.message)).collect();
                Err(format!("the spawn was refused: {}", listed.join("; ")))
            }
            Err(SpawnError::Ended(why)) => Err(why),
            Err(SpawnError::NotFound) => Err("the node is gone".into()),
        }
    }
}

impl JobRun {
    pub(super) fn is_agent(&self, index: usize) -> bool {
        matches!(self.nodes[index].spec.run, Some(ExecutorSpec::Llm(_)))
    }

    /// A new attempt of an agent starts with an empty conversation.
    pub(super) fn fresh_conversation(&mut self, index: usize) {
        if self.is_agent(index) {
            self.agents.insert(index, Arc::new(Mutex::new(Some(Conversation::default()))));
        }
    }

    /// An agent picked up after a restart: its conversation is read back from the ledger.
    pub(super) fn unloaded_conversation(&mut self, index: usize) {
        self.agents.insert(index, Arc::new(Mutex::new(Some(Conversation::unloaded()))));
    }

    /// What an agent's start needs from the driver (`None` for other executors).
    pub(super) fn agent_context(&mut self, index: usize) -> Option<Arc<AgentContext>> {
        if !self.is_agent(index) {
            return None;
        }
        let conversation = self.agents.entry(index).or_insert_with(|| Arc::new(Mutex::new(None))).clone();
        let node = &self.nodes[index];
        let team = Arc::new(DriverTeam { outbox: self.outbox.clone(), node_id: node.id });
        Some(Arc::new(AgentContext {
            providers: self.ctx.providers.clone(),
            ledger: self.ctx.ledger.clone(),
            journal: self.ctx.journal.clone(),
            store: self.ctx.store.clone(),
            team,
            post: Arc::new(super::mailroom::DriverPost {
                ctx: self.ctx.clone(),
                job_id: self.job_id,
                node_id: node.id,
                agent: node.lease.as_ref().map(|lease| lease.agent().to_string()),
            }),
            task: self.task(index),
            depth: node.depth,
            children: self.child_reports(index),
            conversation,
        }))
    }

    pub(super) fn task(&self, index: usize) -> Task {
        let node = &self.nodes[index];
        let title = |i: usize| self.nodes[i].title.as_deref().unwrap_or(&self.nodes[i].name).to_string();
        let mut ancestors = Vec::new();
        let mut up = node.parent;
        while let Some(i) = up {
            let description = self.nodes[i].spec.description.clone();
            let plan = self.plan_of(i);
            ancestors.push(Ancestor { name: self.nodes[i].name.to_string(), title: title(i), description, plan });
            up = self.nodes[i].parent;
        }
        ancestors.reverse();
        let siblings = node.parent.map(|p| self.nodes[p].children.as_slice()).unwrap_or_default();
        let dependencies = node
            .spec
            .depends_on
            .iter()
            .filter_map(|name| siblings.iter().find(|&&s| *self.nodes[s].name == **name))
            .map(|&s| (self.nodes[s].name.to_string(), self.nodes[s].result.clone()))
            .collect();
        Task {
            name: node.name.to_string(),
            title: title(index),
            description: node.spec.description.clone(),
            request: self.settings.request.clone(),
            ancestors,
            dependencies,
            feedback: self.feedback(index),
        }
    }

    /// Why the previous attempt's result was not accepted, when a validation failed it.
    pub(super) fn feedback(&self, index: usize) -> Option<String> {
        let node = &self.nodes[index];
        if node.attempts < 2 {
            return None;
        }
        let value: serde_json::Value = serde_json::from_str(node.result.as_deref()?.get()).ok()?;
        crate::engine::validation::feedback(value.get("validation")?)
    }

    fn child_reports(&self, index: usize) -> HashMap<Uuid, ChildReport> {
        let report = |&c: &usize| {
            let child = &self.nodes[c];
            let report = ChildReport {
                name: child.name.to_string(),
                status: child.status,
                result: child.result.clone(),
                error: child.error.clone(),
            };
            (child.id, report)
        };
        self.nodes[index].children.iter().map(report).collect()
    }

    /// An agent spawned children and waits for them: without its slot, unless they have
    /// already ended, in which case it goes straight on.
    pub(super) fn on_waiting(&mut self, index: usize) {
        let node = &mut self.nodes[index];
        node.cancel = None;
        let all_ended = node.ended_children == node.children.len();
        if node.cancel_reason.is_some() {
            let own = ExecOutcome::Cancelled { result: None }.into();
            if all_ended {
                return self.finish_worker(index, own);
            }
            node.own = Some(Box::new(own));
        } else if all_ended {
            return self.spawn_executor(index);
        }
        // No own outcome: when the children have ended, the agent resumes (see `resume_agent`).
        node.phase = Phase::AwaitChildren;
        node.slot = None;
    }

    /// The children an agent waited for have ended: it asks for a slot to go on.
    pub(super) fn resume_agent(&mut self, index: usize) {
        self.resuming.insert(index);
        self.queue_for_slot(index);
    }
}
