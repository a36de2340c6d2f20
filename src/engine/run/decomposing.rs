//! Decomposing nodes at run time (issue 13): an orchestrator with `decompose` instead of
//! `children` holds its depth's slot while a model plans and breaks its work down, then its
//! children are created through the same checks as any spawn (keyed by the attempt, so a
//! replay after a crash finds them instead of making them twice), and it waits for them
//! like any orchestrator. The calls are ledger rows (`classify`, `plan`, `decompose`,
//! `repair`); a node picked up after a crash replays the stored answers instead of paying
//! again. The node's result holds its plan from then on, and the report once it ends.

use std::sync::Arc;

use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{JobMsg, JobRun, SpawnError};
use crate::domain::{json_text, Intent, NodeSpec, NodeStatus};
use crate::engine::calls::{Place, Recorder};
use crate::engine::decompose::intent::{Clarification, IntentKind};
use crate::engine::decompose::pipeline::{Decomposer, Placement};
use crate::engine::decompose::shape::Shape;
use crate::engine::resources::Slot;
use crate::engine::tree::Phase;
use crate::engine::EngineCtx;
use crate::events::EventKind;

/// Questions a request may need before the decomposer gives up on it.
pub(super) const MAX_QUESTIONS: usize = 3;

/// How a decomposition ended.
pub(crate) enum Planned {
    /// The children are in the tree; `record` is what the node keeps (plan, assignments).
    Placed {
        record: Value,
    },
    /// The requester must answer `question` first.
    Ask {
        record: Value,
        question: String,
    },
    /// It failed; `retry` when another attempt may do better (a call failed, answers broke
    /// their rules), not after a clear refusal (delegation) or a setting that cannot work.
    Failed {
        error: String,
        record: Value,
        retry: bool,
    },
    Cancelled,
}

/// The children go under the node through the driver's spawn, once per attempt.
struct DriverPlacement {
    outbox: mpsc::UnboundedSender<JobMsg>,
    node_id: Uuid,
    key: Uuid,
    shape: Shape,
}

#[async_trait::async_trait]
impl Placement for DriverPlacement {
    fn shape(&self) -> Shape {
        self.shape
    }

    async fn place(&self, children: &[NodeSpec]) -> Result<(), Vec<String>> {
        let (reply, answer) = oneshot::channel();
        let msg = JobMsg::Spawn { parent: self.node_id, children: children.to_vec(), key: Some(self.key), reply };
        let ended = || vec!["the job has ended".to_string()];
        self.outbox.send(msg).map_err(|_| ended())?;
        match answer.await.map_err(|_| ended())? {
            Ok(_) => Ok(()),
            Err(SpawnError::Invalid(errors)) => {
                Err(errors.iter().map(|e| format!("{}: {}", e.path, e.message)).collect())
            }
            Err(SpawnError::Ended(why)) => Err(vec![why]),
            Err(SpawnError::NotFound) => Err(vec!["the node is gone".into()]),
        }
    }
}

/// One run of a node's decomposition, in its own task.
struct Planning {
    decomposer: Decomposer,
    ctx: Arc<EngineCtx>,
    place: Place,
    /// Picked up again in the same attempt: stored answers are replayed.
    replay: bool,
    request: String,
    context: String,
    intent: Intent,
    clarifications: Vec<Clarification>,
    placement: DriverPlacement,
    /// The executor a direct answer runs.
    answerer: crate::domain::ExecutorSpec,
}

impl Planning {
    async fn run(self, cancel: CancellationToken) -> Planned {
        let stored = if self.replay { self.stored_calls().await } else { Ok(Vec::new()) };
        let stored = match stored {
            Ok(rows) => rows,
            Err(error) => return Planned::Failed { error, record: json!({}), retry: true },
        };
        let provider = self.decomposer.provider.clone();
        let (ledger, place) = (self.ctx.ledger.clone(), self.place.clone());
        let recorder = Recorder::new(provider, &self.decomposer.provider_name, ledger, place, stored, &|_| true);
        tokio::select! {
            planned = self.work(&recorder) => planned,
            () = cancel.cancelled() => Planned::Cancelled,
        }
    }

    async fn stored_calls(&self) -> Result<Vec<crate::store::LlmCallRow>, String> {
        self.ctx.journal.flush().await.map_err(|e| e.to_string())?;
        let rows = self.ctx.store.llm_calls(self.place.job_id, self.place.node_id).await;
        rows.map_err(|e| format!("the decomposition's calls could not be read back: {e}"))
    }

    async fn work(&self, calls: &Recorder) -> Planned {
        let mut record = json!({});
        if !self.clarifications.is_empty() {
            record["clarifications"] = json!(self.clarifications);
        }
        if self.intent == Intent::Auto {
            if let Some(done) = self.read_intent(calls, &mut record).await {
                return done;
            }
        }
        let request = self.request_with_answers();
        match self.decomposer.breakdown(calls, &request, &self.context, &self.placement).await {
            Ok(breakdown) => {
                record["plan"] = breakdown.plan;
                record["assignments"] = breakdown.assignments;
                Planned::Placed { record }
            }
            Err(err) => Planned::Failed { error: err.to_string(), record, retry: true },
        }
    }

    /// The classification, and what it decides when it is not `project`.
    async fn read_intent(&self, calls: &Recorder, record: &mut Value) -> Option<Planned> {
        for asked in 0..=MAX_QUESTIONS {
            let known = &self.clarifications[..asked.min(self.clarifications.len())];
            let classification = match self.decomposer.classify(calls, &self.request, known).await {
                Ok((classification, _)) => classification,
                Err(err) => {
                    return Some(Planned::Failed { error: err.to_string(), record: record.clone(), retry: true })
                }
            };
            record["intent"] = json!(classification);
            match classification.intent {
                IntentKind::Project => return None,
                IntentKind::DirectResponse => return Some(self.answer_directly(record.clone()).await),
                IntentKind::Delegate => {
                    let agent = classification.agent.as_deref().unwrap_or("an unnamed agent");
                    let error = format!(
                        "the request is for {agent}, but delegation to a named agent needs the agent registry, \
                         which this server does not have yet"
                    );
                    return Some(Planned::Failed { error, record: record.clone(), retry: false });
                }
                IntentKind::Clarify if asked < self.clarifications.len() => {}
                IntentKind::Clarify if asked == MAX_QUESTIONS => break,
                IntentKind::Clarify => {
                    let question = classification.question.clone().unwrap_or_else(|| classification.reason.clone());
                    return Some(Planned::Ask { record: record.clone(), question });
                }
            }
        }
        let error = format!("the request is still unclear after {MAX_QUESTIONS} questions");
        Some(Planned::Failed { error, record: record.clone(), retry: false })
    }

    /// One worker answers the request.
    async fn answer_directly(&self, record: Value) -> Planned {
        let node: NodeSpec = serde_json::from_value(json!({"name": "answer", "title": "Answer",
            "description": self.request_with_answers(), "run": self.answerer}))
        .unwrap_or_else(|_| unreachable!("a node spec reads back"));
        match self.placement.place(&[node]).await {
            Ok(()) => Planned::Placed { record },
            Err(errors) => Planned::Failed { error: errors.join("; "), record, retry: true },
        }
    }

    fn request_with_answers(&self) -> String {
        let answers = crate::engine::decompose::intent::clarifications_text(&self.clarifications);
        if answers.is_empty() {
            self.request.clone()
        } else {
            format!("{}\n\n{answers}", self.request)
        }
    }
}

impl JobRun {
    pub(super) fn is_decomposing(&self, index: usize) -> bool {
        let node = &self.nodes[index];
        node.spec.decompose.is_some() && node.children.is_empty()
    }

    /// The node's slot is granted: its decomposition starts (or goes on, in the same attempt).
    pub(super) fn start_decomposing(&mut self, index: usize, slot: Slot) {
        let replay = self.resuming.remove(&index);
        let node = &mut self.nodes[index];
        node.slot = Some(slot);
        node.phase = Phase::Decomposing;
        if !replay {
            node.status = crate::domain::NodeStatus::Running;
            node.attempts += 1;
            node.started_ms.get_or_insert_with(crate::events::now_ms);
            node.error = None;
            let node = &self.nodes[index];
            self.ctx.journal.node(node.update());
            // Started like any orchestrator (its children come once the model has planned them).
            let data = super::notices::OrchestratorSpawned {
                children: 0,
                depth: node.depth,
                name: &node.name,
                orchestrator_id: node.id,
                parent_id: node.parent.map(|p| self.nodes[p].id),
            };
            self.emit(EventKind::OrchestratorSpawned, node.depth, &data);
        }
        let planning = match self.planning(index, replay) {
            Ok(planning) => planning,
            Err(error) => return self.on_planned(index, Planned::Failed { error, record: json!({}), retry: false }),
        };
        let token = self.stop_all.child_token();
        self.nodes[index].cancel = Some(token.clone());
        let outbox = self.outbox.clone();
        tokio::spawn(async move {
            let planned = planning.run(token).await;
            let _ = outbox.send(JobMsg::Planned { index, planned });
        });
    }

    fn planning(&self, index: usize, replay: bool) -> Result<Planning, String> {
        let node = &self.nodes[index];
        let spec = node.spec.decompose.as_ref();
        let decomposer = self.ctx.decomposers.for_node(spec)?;
        let answerer = decomposer.answerer();
        let task = self.task(index);
        let root = node.parent.is_none();
        let request = if root { self.settings.request.to_string() } else { own_request(&task) };
        let context = if root { String::new() } else { context(&task) };
        let key = Uuid::new_v5(&node.id, format!("decompose/{}", node.attempts).as_bytes());
        Ok(Planning {
            decomposer,
            ctx: self.ctx.clone(),
            place: self.place(index),
            replay,
            request,
            context,
            intent: if root { self.settings.intent } else { Intent::Project },
            clarifications: self.clarifications(index),
            placement: DriverPlacement { outbox: self.outbox.clone(), node_id: node.id, key, shape: self.shape(index) },
            answerer,
        })
    }

    /// Managers fit when there is room for them and their agents below the node, and only at
    /// the first decomposition of a branch: below it, a manager's share goes to agents.
    fn shape(&self, index: usize) -> Shape {
        let node = &self.nodes[index];
        let mut up = node.parent;
        while let Some(i) = up {
            if self.nodes[i].spec.decompose.is_some() {
                return Shape::AGENTS;
            }
            up = self.nodes[i].parent;
        }
        if node.depth + 2 <= self.settings.max_depth {
            Shape::TOP
        } else {
            Shape::AGENTS
        }
    }

    /// The questions asked of the requester so far, as the node's result keeps them.
    pub(super) fn clarifications(&self, index: usize) -> Vec<Clarification> {
        let result = self.nodes[index].result.as_deref().map(serde_json::value::RawValue::get);
        let value: Option<Value> = result.and_then(|text| serde_json::from_str(text).ok());
        value.and_then(|v| serde_json::from_value(v["clarifications"].clone()).ok()).unwrap_or_default()
    }

    /// The plan a decomposing node made, as JSON text.
    pub(super) fn plan_of(&self, index: usize) -> Option<String> {
        let node = &self.nodes[index];
        node.spec.decompose.as_ref()?;
        let value: Value = serde_json::from_str(node.result.as_deref()?.get()).ok()?;
        value.get("plan").filter(|plan| !plan.is_null()).map(Value::to_string)
    }

    pub(super) fn on_planned(&mut self, index: usize, planned: Planned) {
        let node = &mut self.nodes[index];
        if node.phase != Phase::Decomposing {
            return;
        }
        node.cancel = None;
        if self.stopping {
            // Stopped by the shutdown: the next start goes on from the stored calls.
            node.phase = Phase::Queued;
            node.slot = None;
            return;
        }
        match planned {
            Planned::Placed { record } => self.placed(index, &record),
            Planned::Ask { record, question } => self.ask(index, record, question),
            Planned::Failed { error, record, retry } => self.planning_failed(index, (error, retry), record),
            Planned::Cancelled => self.planning_failed(index, (super::REASON_CANCELLED.to_string(), false), json!({})),
        }
    }

    fn placed(&mut self, index: usize, record: &Value) {
        let node = &mut self.nodes[index];
        node.result = Some(json_text(record));
        node.phase = Phase::Children;
        node.slot = None;
        let node = &self.nodes[index];
        self.ctx.journal.node(node.update());
        let data = json!({"node_id": node.id, "name": &*node.name, "children": node.children.len(),
                          "intent": record.get("intent").and_then(|i| i.get("intent")),
                          "project": record.pointer("/plan/project_name"), "assignments": record.get("assignments")});
        self.emit(EventKind::Decomposition, node.depth, &data);
        if self.holds_plan(index, record) {
            return;
        }
        self.pump(index);
        self.finish_if_children_ended(index);
    }

    fn planning_failed(&mut self, index: usize, (error, retry): (String, bool), record: Value) {
        let node = &self.nodes[index];
        if !node.children.is_empty() {
            // Cancelled after its children were placed: they end, then it does.
            return self.placed(index, &record);
        }
        if let Some(reason) = node.cancel_reason {
            return self.end_node(index, NodeStatus::Cancelled, None, Some(reason.to_string()));
        }
        let retry = retry && !crate::engine::budget::is_refusal(&error);
        if retry && node.attempts < node.spec.retry.max_attempts {
            return self.back_off(index, error, Some(record));
        }
        self.end_node(index, NodeStatus::Failed, Some(json_text(&record)), Some(error));
    }
}

/// What a decomposing node below the root breaks down: its own task.
fn own_request(task: &crate::engine::agent::Task) -> String {
    match &task.description {
        Some(description) => format!("{}\n\n{description}", task.title),
        None => task.title.clone(),
    }
}

/// Where a decomposing node below the root sits: the job and the chain of tasks above it.
fn context(task: &crate::engine::agent::Task) -> String {
    let mut text = format!("This is one part of a larger job: {}", task.request);
    for ancestor in &task.ancestors {
        text.push_str(&format!("\n- {} ({})", ancestor.title, ancestor.name));
        if let Some(plan) = &ancestor.plan {
            text.push_str(&format!("\n  its plan: {plan}"));
        }
    }
    text
}
