//! The job driver: one task per running job that owns the job's tree and moves it forward.
//!
//! Everything that happens to a job arrives as a message on its inbox (an executor finished,
//! a back-off expired, a cancel was asked for) or as a granted slot. The driver reacts
//! synchronously — no locks, no awaits inside a transition — and records each change in the
//! journal in order. Cascades (a failure cancelling dependents, a last child finishing its
//! parent) go through an explicit work list rather than recursion, so a chain of ten thousand
//! dependent siblings cannot overflow the stack.

mod agents;
mod alerts;
mod approvals;
mod budgets;
mod clarify;
mod decomposing;
mod endings;
mod escalation;
mod mailroom;
mod notices;
mod recovery;
mod restore;
mod slots;
mod spawn;
mod staffing;
mod workers;
mod workspace;

pub(crate) use approvals::NotDecided;
pub(crate) use restore::Stored;
pub use spawn::{SpawnError, SpawnedNode};

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::executor::ExecOutcome;
use super::resources::Slot;
use super::tree::{Phase, RtNode};
use super::EngineCtx;
use crate::domain::{JobStatus, NodeStatus, DEPTHS};
use crate::events::{now_ms, EventDraft, EventKind};
use crate::store::JobUpdate;

/// Why a node was cancelled, as stored in its `error`.
pub(super) const REASON_CANCELLED: &str = "cancelled";
pub(super) const REASON_DEPENDENCY_FAILED: &str = "dependency_failed";
pub(super) const REASON_SIBLING_FAILED: &str = "sibling_failed";
const REASON_TIMEOUT: &str = "job_timeout";
/// How often a node held back by an unreachable store asks again.
const STALLED_RECHECK: Duration = Duration::from_millis(250);
/// How often a driver held back by the journal's backlog looks again (a few commits' time).
const BACKLOG_RECHECK: Duration = Duration::from_millis(5);

/// What a job driver can be told.
pub(crate) enum JobMsg {
    /// Cancel the whole job (`node: None`) or one subtree; `ack` fires once recorded.
    Cancel { node: Option<Uuid>, ack: oneshot::Sender<()> },
    /// An executor finished an attempt.
    WorkDone { index: usize, outcome: ExecOutcome },
    /// A retry back-off expired.
    RetryDue { index: usize },
    /// A node held back while the store was unreachable asks for a slot again.
    Requeue { index: usize },
    /// The job's wall-clock limit passed.
    TimedOut,
    /// The server is shutting down: start nothing new.
    Drain,
    /// The shutdown's grace has passed: stop the executors and end the driver without
    /// recording their interruption, so the next start re-runs those nodes.
    Stop,
    /// A node's decomposition ended.
    Planned { index: usize, planned: decomposing::Planned },
    /// The requester answered the question a decomposing node asked.
    Answer { answer: String, reply: oneshot::Sender<Result<(), String>> },
    /// A question went unanswered for the job's `clarify_timeout_s`.
    AnswerDue { index: usize, asked: usize },
    /// A person's decision on an approval request.
    Decide {
        id: Uuid,
        ruling: crate::people::inbox::Ruling,
        reply: oneshot::Sender<Result<crate::people::inbox::Approval, NotDecided>>,
    },
    /// An approval request's level may have run out of time.
    ApprovalDue { index: usize, id: Uuid },
    /// A person lets a job its failure-rate alert held start nodes again.
    Resume { by: String, reply: oneshot::Sender<Result<(), String>> },
    /// Time to look for stragglers.
    Sweep,
    /// An agent freed a place, or the registry changed: nodes waiting for one try again.
    AgentFreed,
    /// A node's wait for an agent may have run out.
    StaffDue { index: usize },
    /// A node's branch was merged into its parent's, or could not be.
    Merged {
        index: usize,
        step: Result<Option<crate::workspace::nodes::MergeStep>, String>,
        then: workspace::AfterMerge,
    },
    /// Add children under a running node (recursion from inside a worker).
    Spawn {
        parent: Uuid,
        children: Vec<crate::domain::NodeSpec>,
        /// Spawns once per key: asked again (an agent resumed after a crash), the same
        /// children are returned instead of new ones.
        key: Option<Uuid>,
        reply: oneshot::Sender<Result<Vec<SpawnedNode>, SpawnError>>,
    },
}

/// Per-job settings the driver applies.
pub(crate) struct JobSettings {
    /// The job's own caps per depth.
    pub caps: [Option<u32>; DEPTHS],
    /// The job's wall-clock limit.
    pub timeout: Option<Duration>,
    /// Deepest depth a node (spawned ones included) may have.
    pub max_depth: u8,
    /// Server limits (node count, roles, default retry) for spawned nodes.
    pub limits: crate::domain::PlanLimits,
    /// The job's request, which agents are told.
    pub request: Arc<str>,
    /// How the root reads a request it decomposes.
    pub intent: crate::domain::Intent,
    /// How long a question to the requester waits for its answer.
    pub clarify_timeout: Duration,
    /// The job's `config.budget`.
    pub budget: Option<crate::domain::budget::BudgetLimit>,
    /// The key that submitted the job (it may not approve its own requests unless allowed).
    pub submitted_by: Option<String>,
    /// Who decides requests no node's approvers took (`config.owners`).
    pub owners: Vec<String>,
    /// Hold the topmost model plan for approval (`config.approve_plan`).
    pub approve_plan: bool,
    /// The job's git workspace, if it declares one.
    pub workspace: Option<Arc<crate::domain::workspace::WorkspaceSpec>>,
}

/// One running job.
pub(crate) struct JobRun {
    ctx: Arc<EngineCtx>,
    job_id: Uuid,
    settings: JobSettings,
    nodes: Vec<RtNode>,
    inbox: mpsc::UnboundedReceiver<JobMsg>,
    outbox: mpsc::UnboundedSender<JobMsg>,
    slots: slots::SlotQueue,
    /// Nodes that ended and whose parent has not yet heard of it.
    ended: VecDeque<usize>,
    /// Parent of every executor's cancellation token.
    stop_all: CancellationToken,
    timed_out: bool,
    /// Picked up from the store after a restart rather than started fresh.
    restored: bool,
    /// Shutting down: no node starts any more.
    draining: bool,
    /// Shut down: executors are being stopped and the driver ends once they have.
    stopping: bool,
    /// Agents' conversations, by node, kept between the starts of an attempt.
    agents: HashMap<usize, Arc<std::sync::Mutex<Option<super::agent::conversation::Conversation>>>>,
    /// Agents queued to go on with their attempt rather than start a new one.
    resuming: HashSet<usize>,
    /// The job's budget books, shared with its callers of models and the ledger.
    budget: Arc<super::budget::JobBudget>,
    /// Approval requests: waiting, and what decided ones left behind.
    people: approvals::People,
    /// What the alert rules watch: the failure rate, a hold, stragglers flagged.
    watch: alerts::Watch,
    /// Nodes waiting for an agent.
    staffing: staffing::Staffing,
    /// The job's git workspace, if it declares one.
    workspace: Option<workspace::JobWorkspace>,
}

impl JobRun {
    pub(super) fn new(
        ctx: Arc<EngineCtx>,
        job_id: Uuid,
        settings: JobSettings,
        nodes: Vec<RtNode>,
        channel: (mpsc::UnboundedSender<JobMsg>, mpsc::UnboundedReceiver<JobMsg>),
    ) -> Self {
        let (outbox, inbox) = channel;
        let slots = slots::SlotQueue::new(ctx.resources.clone(), job_id, settings.caps);
        let budget = budgets::start_budget(&ctx, job_id, &settings, &nodes);
        let workspace = settings.workspace.clone().map(workspace::JobWorkspace::new);
        Self {
            ctx,
            job_id,
            settings,
            nodes,
            inbox,
            outbox,
            slots,
            ended: VecDeque::new(),
            stop_all: CancellationToken::new(),
            timed_out: false,
            restored: false,
            draining: false,
            stopping: false,
            agents: HashMap::new(),
            resuming: HashSet::new(),
            budget,
            people: approvals::People::default(),
            watch: alerts::Watch::default(),
            staffing: staffing::Staffing::default(),
            workspace,
        }
    }

    /// Runs the job to its end and returns its final status; `None` when a shutdown stopped
    /// it first (it stays stored as running, for the next start to continue).
    pub(super) async fn run(mut self, started_ms: i64) -> Option<JobStatus> {
        // A job restored while it waits for an answer stays paused.
        let waiting = self.nodes.iter().any(|node| node.phase == Phase::AwaitAnswer);
        self.ctx.journal.job(JobUpdate {
            id: self.job_id,
            status: if waiting { JobStatus::Paused } else { JobStatus::Running }.as_str(),
            started_ms: Some(started_ms),
            finished_ms: None,
            result: None,
            error: None,
        });
        self.arm_timeout(started_ms);
        self.arm_sweeps();
        if !self.restored {
            self.admit(0);
        }
        self.refresh_pause();
        while self.nodes[0].phase != Phase::Done && !(self.stopping && self.nothing_working()) {
            // Granted slots wait (held) while the journal is behind: new work would only
            // queue more changes in memory. Endings and cancels still go through.
            let behind = self.ctx.journal.is_behind();
            tokio::select! {
                Some(msg) = self.inbox.recv() => self.handle(msg),
                Some((index, depth, slot)) = self.slots.next(), if self.slots.any_asked() && !behind => {
                    self.on_slot(index, slot);
                    self.ask_for_slots(depth);
                }
                () = tokio::time::sleep(BACKLOG_RECHECK), if behind => {}
            }
            self.drain_ended();
            self.refresh_pause();
        }
        self.stop_all.cancel();
        self.end_staffing();
        // A token is valid only while its job runs.
        self.ctx.tokens.revoke_job(self.job_id);
        // Only a succeeded job's worktrees go, so this does nothing for one a shutdown stopped.
        self.clear_worktrees().await;
        (self.nodes[0].phase == Phase::Done).then(|| self.finish_job(started_ms))
    }

    fn nothing_working(&self) -> bool {
        self.nodes.iter().all(|node| !matches!(node.phase, Phase::Working | Phase::Decomposing))
    }

    /// The job's wall-clock limit counts from its first start, across restarts.
    fn arm_timeout(&self, started_ms: i64) {
        let Some(limit) = self.settings.timeout else { return };
        let elapsed = Duration::from_millis(u64::try_from(now_ms() - started_ms).unwrap_or(0));
        let timeout = limit.saturating_sub(elapsed);
        let (outbox, stop) = (self.outbox.clone(), self.stop_all.clone());
        tokio::spawn(async move {
            tokio::select! {
                () = tokio::time::sleep(timeout) => { let _ = outbox.send(JobMsg::TimedOut); }
                () = stop.cancelled() => {}
            }
        });
    }

    fn handle(&mut self, msg: JobMsg) {
        match msg {
            JobMsg::Cancel { node, ack } => {
                let index = node.map_or(Some(0), |id| self.nodes.iter().position(|n| n.id == id));
                if let Some(index) = index {
                    if index == 0 {
                        self.record_job_status(JobStatus::Cancelling);
                    }
                    self.cancel_subtree(index, REASON_CANCELLED);
                }
                let _ = ack.send(());
            }
            JobMsg::WorkDone { index, outcome } => self.on_work_done(index, outcome),
            JobMsg::Planned { index, planned } => self.on_planned(index, planned),
            JobMsg::Answer { answer, reply } => drop(reply.send(self.on_answer(answer))),
            JobMsg::AnswerDue { index, asked } => self.on_answer_due(index, asked),
            JobMsg::Decide { id, ruling, reply } => drop(reply.send(self.on_ruling(id, ruling))),
            JobMsg::ApprovalDue { index, id } => self.on_approval_due(index, id),
            JobMsg::Resume { by, reply } => drop(reply.send(self.resume(by))),
            JobMsg::Sweep => self.sweep(),
            JobMsg::AgentFreed => self.on_agent_freed(),
            JobMsg::StaffDue { index } => self.on_staff_due(index),
            JobMsg::Merged { index, step, then } => self.on_merged(index, step, then),
            JobMsg::RetryDue { index } => {
                if self.nodes[index].phase == Phase::BackingOff {
                    self.queue_for_slot(index);
                }
            }
            JobMsg::Spawn { parent, children, key, reply } => {
                let _ = reply.send(self.spawn(parent, &children, key));
            }
            JobMsg::Requeue { index } => {
                if self.nodes[index].phase == Phase::Queued {
                    self.queue_for_slot(index);
                }
            }
            JobMsg::Drain => self.draining = true,
            JobMsg::Stop => {
                (self.draining, self.stopping) = (true, true);
                self.stop_all.cancel();
            }
            JobMsg::TimedOut => {
                self.timed_out = true;
                self.cancel_subtree(0, REASON_TIMEOUT);
            }
        }
    }

    fn requeue_later(&self, index: usize) {
        let (outbox, stop) = (self.outbox.clone(), self.stop_all.clone());
        tokio::spawn(async move {
            tokio::select! {
                () = tokio::time::sleep(STALLED_RECHECK) => { let _ = outbox.send(JobMsg::Requeue { index }); }
                () = stop.cancelled() => {}
            }
        });
    }

    /// Asks the resource manager for a slot at the node's depth.
    fn queue_for_slot(&mut self, index: usize) {
        let node = &mut self.nodes[index];
        if node.phase != Phase::Finishing {
            node.phase = Phase::Queued;
        }
        let depth = node.depth;
        self.slots.push(index, depth);
        self.ask_for_slots(depth);
    }

    /// Asks the resource manager for the nodes at the front of `depth`'s queue.
    fn ask_for_slots(&mut self, depth: u8) {
        let nodes = &self.nodes;
        self.slots.ask(depth, |index| {
            let node = &nodes[index];
            matches!(node.phase, Phase::Queued | Phase::Finishing).then_some(node.id)
        });
    }

    fn on_slot(&mut self, index: usize, slot: Option<Slot>) {
        let Some(slot) = slot else { return };
        let node = &self.nodes[index];
        // While draining only aggregation, which is instant, may still happen.
        if self.draining && node.phase != Phase::Finishing {
            return drop(slot);
        }
        // Nothing new starts while its start could not be stored.
        if self.ctx.journal.is_stalled() && node.phase == Phase::Queued {
            drop(slot);
            return self.requeue_later(index);
        }
        // A job its failure-rate alert holds starts nothing new until a person resumes it.
        if self.watch.held.is_some() && node.phase == Phase::Queued {
            drop(slot);
            return self.watch.held_back.push(index);
        }
        // A node restored without the agent it had (gone from the registry) asks again.
        if node.phase == Phase::Queued && self.needs_agent(index) && !self.resuming.contains(&index) {
            drop(slot);
            return self.staff(index);
        }
        if node.phase == Phase::Queued && !self.resuming.contains(&index) {
            if let Err(refused) = self.open_envelope(index) {
                drop(slot);
                return self.end_node(index, NodeStatus::Failed, None, Some(refused));
            }
        }
        match (self.nodes[index].phase, self.nodes[index].is_worker()) {
            (Phase::Queued, true) => self.start_worker(index, slot),
            (Phase::Queued, false) if self.is_decomposing(index) => self.start_decomposing(index, slot),
            (Phase::Queued, false) => self.start_orchestrator(index, slot),
            (Phase::Finishing, _) => self.finish_orchestrator(index, slot),
            // Cancelled while waiting: the slot goes straight back.
            _ => drop(slot),
        }
    }

    fn start_orchestrator(&mut self, index: usize, slot: Slot) {
        let node = &mut self.nodes[index];
        node.phase = Phase::Children;
        node.status = NodeStatus::Running;
        node.attempts += 1;
        node.started_ms = Some(now_ms());
        let node = &self.nodes[index];
        self.ctx.journal.node(node.update());
        let data = notices::OrchestratorSpawned {
            children: node.children.len(),
            depth: node.depth,
            name: &node.name,
            orchestrator_id: node.id,
            parent_id: node.parent.map(|p| self.nodes[p].id),
        };
        self.emit(EventKind::OrchestratorSpawned, node.depth, &data);
        // A plan decomposes instantly; the slot covered that work and is released now, before
        // the wait for the children, so waiting orchestrators never hold quota.
        drop(slot);
        let ready: Vec<usize> = node.children.iter().copied().filter(|&c| self.nodes[c].unmet == 0).collect();
        self.nodes[index].ready.extend(ready);
        self.pump(index);
    }

    /// Starts ready children while the orchestrator's `max_parallel` allows.
    fn pump(&mut self, parent: usize) {
        let limit = self.nodes[parent].spec.max_parallel.unwrap_or(u32::MAX);
        while self.nodes[parent].in_progress < limit {
            let Some(child) = self.nodes[parent].ready.pop_front() else { break };
            if self.nodes[child].phase == Phase::Blocked {
                self.nodes[child].counted = true;
                self.nodes[parent].in_progress += 1;
                self.admit(child);
            }
        }
    }

    pub(super) fn record_job_status(&self, status: JobStatus) {
        self.ctx.journal.job(JobUpdate {
            id: self.job_id,
            status: status.as_str(),
            // Kept as stored (the store keeps the existing start time when given none).
            started_ms: None,
            finished_ms: None,
            result: None,
            error: None,
        });
    }

    fn finish_job(&self, started_ms: i64) -> JobStatus {
        let root = &self.nodes[0];
        let (status, error) = match root.status {
            NodeStatus::Succeeded => (JobStatus::Succeeded, None),
            NodeStatus::Cancelled if self.timed_out => {
                let limit = self.settings.timeout.map_or(0, |t| t.as_secs());
                (JobStatus::Failed, Some(format!("the job timed out after {limit} s")))
            }
            NodeStatus::Cancelled => (JobStatus::Cancelled, root.error.clone()),
            _ => (JobStatus::Failed, root.error.clone()),
        };
        self.ctx.journal.job(JobUpdate {
            id: self.job_id,
            status: status.as_str(),
            started_ms: Some(started_ms),
            finished_ms: Some(now_ms()),
            result: root.result.clone(),
            error: error.clone(),
        });
        let kind = if status == JobStatus::Cancelled { EventKind::JobCancelled } else { EventKind::JobCompleted };
        // Borrowed, not copied: a job's result holds its whole tree's.
        let data = notices::JobEnded {
            error: error.as_deref(),
            job_id: self.job_id,
            result: root.result.as_deref(),
            status: status.as_str(),
        };
        self.emit(kind, 0, &data);
        status
    }

    fn emit(&self, kind: EventKind, depth: u8, data: &impl serde::Serialize) {
        self.ctx.journal.emit(EventDraft::job(kind, self.job_id, Some(depth), data));
    }
}
