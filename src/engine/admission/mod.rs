//! Admission control (SPEC §2.8): at most `max_running_jobs` drivers at once, a persisted
//! FIFO queue behind them up to `max_queued_jobs`, and a refusal past that. Also the entry
//! points that touch a job from outside its driver: submit and cancel.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::FutureExt;
use serde_json::json;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::journal::NewJob;
use super::run::{JobMsg, JobRun, JobSettings, SpawnError, SpawnedNode, Stored, REASON_CANCELLED};
use super::{memory, tree, EngineCtx, EngineError};
use crate::config::Config;
use crate::domain::plan::flatten;
use crate::domain::spec::JobConfig;
use crate::domain::validate::validate;
use crate::domain::workspace::WorkspaceSpec;
use crate::domain::{FieldError, JobSpec, JobStatus, NodeStatus, PlanLimits, PlannedNode};
use crate::events::{now_ms, EventDraft, EventKind};
use crate::store::{JobRow, JobUpdate, LabelRow, NewNodes, NodeRow, NodeUpdate, SharedStore};
use crate::workspace::WorkspaceError;

mod decisions;
mod lifecycle;

/// How long a question to the requester waits for an answer when the job sets no limit.
const DEFAULT_CLARIFY_TIMEOUT_S: u64 = 86_400;

/// The outcome of a submission.
#[derive(Debug)]
pub struct Submitted {
    /// The job as stored.
    pub job: JobRow,
    /// False when an earlier job with the same idempotency key was returned.
    pub created: bool,
}

type Inbox = mpsc::UnboundedSender<JobMsg>;

pub(super) struct Admission {
    pub(super) ctx: Arc<EngineCtx>,
    pub(super) store: SharedStore,
    pub(super) limits: PlanLimits,
    /// How long events are kept for replay.
    pub(super) event_retention: Duration,
    max_running: usize,
    max_queued: usize,
    state: Mutex<State>,
    job_seq: AtomicI64,
    /// Set at shutdown: nothing new is admitted or started.
    closing: std::sync::atomic::AtomicBool,
    /// Serialises submissions that carry an idempotency key, so two racing with the same key
    /// cannot both pass the lookup.
    keyed: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct State {
    running: HashMap<Uuid, Inbox>,
    queue: VecDeque<Uuid>,
}

enum Placement {
    Run(mpsc::UnboundedReceiver<JobMsg>),
    Queue,
}

enum CancelTarget {
    Running(Inbox),
    Queued,
    Elsewhere,
}

impl Admission {
    pub(super) fn new(config: &Config, store: SharedStore, ctx: Arc<EngineCtx>, job_seq: i64) -> Self {
        Self {
            ctx,
            store,
            limits: config.plan_limits(),
            event_retention: Duration::from_secs(config.stream.retention_s),
            max_running: config.limits.max_running_jobs,
            max_queued: config.limits.max_queued_jobs,
            state: Mutex::new(State::default()),
            job_seq: AtomicI64::new(job_seq),
            closing: std::sync::atomic::AtomicBool::new(false),
            keyed: tokio::sync::Mutex::new(()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether this process drives the job (running) or holds it (queued).
    pub(super) fn drives(&self, job_id: Uuid) -> bool {
        let state = self.lock();
        state.running.contains_key(&job_id) || state.queue.contains(&job_id)
    }

    pub(super) fn counts(&self) -> (usize, usize) {
        let state = self.lock();
        (state.running.len(), state.queue.len())
    }

    pub(super) async fn submit(
        self: &Arc<Self>,
        spec: JobSpec,
        submitted_by: Option<String>,
    ) -> Result<Submitted, EngineError> {
        let mut spec = spec.with_decomposer(&self.limits);
        let mut validation = validate(&spec, &self.limits);
        validation.errors.extend(staffing_problems(&self.ctx.workforce, &spec));
        if validation.errors.is_empty() {
            validation.errors.extend(self.workspace_problems(spec.workspace.as_ref()).await);
        }
        if !validation.errors.is_empty() {
            return Err(EngineError::Invalid(validation.errors));
        }
        spec.config.submitted_by = submitted_by;
        spec.config.workspace = spec.workspace.take();
        self.ensure_store_reachable()?;
        let _keyed = match &spec.idempotency_key {
            Some(key) => {
                let guard = self.keyed.lock().await;
                if let Some(job) = self.store.job_by_idempotency_key(key).await? {
                    return Ok(Submitted { job, created: false });
                }
                Some(guard)
            }
            None => None,
        };
        let planned = flatten(&spec, &self.limits);
        let mut job = job_row(&spec, &planned, self.job_seq.fetch_add(1, Ordering::SeqCst) + 1)?;
        let labels: Vec<LabelRow> =
            spec.labels.iter().map(|(k, v)| LabelRow { job_id: job.id, key: k.clone(), value: v.clone() }).collect();
        let (config, request) = (spec.config.clone(), spec.request.clone());
        // The request's own tree is not needed past here; a million-node job must not hold it
        // beside its rows and its driver's arena through the first commit.
        drop(spec);
        if planned.len() >= memory::LARGE_JOB_NODES {
            memory::release_freed();
        }
        let placement = self.place(job.id)?;
        job.status = match placement {
            Placement::Run(_) => JobStatus::Running.as_str().to_string(),
            Placement::Queue => JobStatus::Queued.as_str().to_string(),
        };
        let planned: Arc<[PlannedNode]> = planned.into();
        let nodes = NewNodes { job_id: job.id, first_position: 0, outer_parent: None, nodes: planned.clone() };
        self.ctx.journal.insert_job(NewJob { job: job.clone(), labels, nodes });
        let data = json!({"job_id": job.id, "depth": 0, "status": job.status, "nodes": planned.len()});
        self.ctx.journal.emit(EventDraft::job(EventKind::JobSubmitted, job.id, Some(0), &data));
        if let Placement::Run(inbox) = placement {
            self.spawn_driver(job.id, (&config, &request), &planned, inbox, None);
        }
        drop(planned);
        self.ctx.journal.flush().await?;
        Ok(Submitted { job, created: true })
    }

    /// Asks git whether the declared repository and base exist (the shape was checked).
    async fn workspace_problems(&self, workspace: Option<&WorkspaceSpec>) -> Vec<FieldError> {
        let Some(workspace) = workspace else { return Vec::new() };
        let repo = std::path::Path::new(&workspace.repo);
        let problem = match self.ctx.workspaces.probe(repo, &workspace.base).await {
            Ok(()) => return Vec::new(),
            Err(WorkspaceError::NoSuchBranch(branch)) => {
                ("workspace.base", format!("the repository has no branch {branch}"))
            }
            Err(error) => ("workspace.repo", format!("not a git working tree cadre can use: {error}")),
        };
        vec![FieldError { path: problem.0.into(), message: problem.1 }]
    }

    /// Refuses a change the store could not take now, rather than keep it in memory only.
    pub(super) fn ensure_store_reachable(&self) -> Result<(), EngineError> {
        if self.ctx.journal.is_stalled() {
            return Err(EngineError::StoreUnreachable);
        }
        Ok(())
    }

    /// Decides whether a new job runs now or queues, and reserves its place.
    fn place(&self, job_id: Uuid) -> Result<Placement, EngineError> {
        if self.closing.load(Ordering::Relaxed) {
            return Err(EngineError::ShuttingDown);
        }
        let mut state = self.lock();
        if state.running.len() < self.max_running && state.queue.is_empty() {
            let (tx, rx) = mpsc::unbounded_channel();
            state.running.insert(job_id, tx);
            Ok(Placement::Run(rx))
        } else if state.queue.len() < self.max_queued {
            state.queue.push_back(job_id);
            Ok(Placement::Queue)
        } else {
            Err(EngineError::QueueFull(state.queue.len()))
        }
    }

    /// Starts the driver of a job placed in `running`; `stored` is what a previous server
    /// left of it, when it is being picked up after a restart.
    fn spawn_driver(
        self: &Arc<Self>,
        job_id: Uuid,
        (config, request): (&JobConfig, &str),
        planned: &[PlannedNode],
        inbox: mpsc::UnboundedReceiver<JobMsg>,
        stored: Option<(&Stored<'_>, i64)>,
    ) {
        let outbox = self.lock().running.get(&job_id).cloned();
        let Some(outbox) = outbox else { return };
        let settings = JobSettings {
            caps: std::array::from_fn(|d| config.workers_by_depth.get(&d.to_string()).copied()),
            timeout: config.timeout_s.map(Duration::from_secs),
            max_depth: config.max_depth.unwrap_or(self.limits.default_max_depth).min(crate::domain::HARD_MAX_DEPTH),
            limits: self.limits.clone(),
            request: request.into(),
            intent: config.intent.unwrap_or_default(),
            clarify_timeout: Duration::from_secs(config.clarify_timeout_s.unwrap_or(DEFAULT_CLARIFY_TIMEOUT_S)),
            budget: config.budget,
            submitted_by: config.submitted_by.clone(),
            owners: config.owners.clone(),
            approve_plan: config.approve_plan,
            workspace: config.workspace.clone().map(Arc::new),
        };
        let mut run = JobRun::new(self.ctx.clone(), job_id, settings, tree::build(planned), (outbox, inbox));
        let started_ms = match stored {
            Some((stored, started_ms)) => {
                run.restore(stored);
                started_ms
            }
            None => now_ms(),
        };
        let admission = self.clone();
        let large = planned.len() >= memory::LARGE_JOB_NODES;
        tokio::spawn(async move {
            let outcome = std::panic::AssertUnwindSafe(run.run(started_ms)).catch_unwind().await;
            if large {
                memory::release_freed();
            }
            match outcome {
                Ok(Some(status)) => tracing::info!(job.id = %job_id, job.status = %status, "job ended"),
                Ok(None) => {
                    tracing::info!(job.id = %job_id, "job stopped by the shutdown; the next start continues it")
                }
                Err(_) => admission.fail_crashed_driver(job_id),
            }
            admission.finished(job_id);
        });
    }

    /// A driver panicked (a bug): its job is ended as failed rather than left running.
    fn fail_crashed_driver(&self, job_id: Uuid) {
        tracing::error!(job.id = %job_id, "the job driver panicked; the job is marked failed");
        let error = Some("internal error: the job driver stopped unexpectedly".to_string());
        let status = JobStatus::Failed.as_str();
        self.ctx.journal.job(JobUpdate {
            id: job_id,
            status,
            started_ms: None,
            finished_ms: Some(now_ms()),
            result: None,
            error,
        });
    }

    /// A driver ended: admit queued jobs into the freed places.
    fn finished(self: &Arc<Self>, job_id: Uuid) {
        let admitted: Vec<_> = {
            let mut state = self.lock();
            state.running.remove(&job_id);
            self.ctx.ledger.budgets().end(job_id);
            if self.closing.load(Ordering::Relaxed) {
                return;
            }
            let mut admitted = Vec::new();
            while state.running.len() < self.max_running {
                let Some(next) = state.queue.pop_front() else { break };
                let (tx, rx) = mpsc::unbounded_channel();
                state.running.insert(next, tx);
                admitted.push((next, rx));
            }
            admitted
        };
        for (next, inbox) in admitted {
            let admission = self.clone();
            tokio::spawn(async move { admission.start_stored(next, inbox).await });
        }
    }

    /// Starts a job that waited in the queue, from its stored form.
    async fn start_stored(self: Arc<Self>, job_id: Uuid, inbox: mpsc::UnboundedReceiver<JobMsg>) {
        match self.load(job_id).await {
            Ok((job, config, planned, _)) => self.spawn_driver(job_id, (&config, &job.request), &planned, inbox, None),
            Err(err) => {
                tracing::error!(job.id = %job_id, error = %err, "a queued job could not be loaded");
                self.finished(job_id);
            }
        }
    }

    async fn load(&self, job_id: Uuid) -> Result<(JobRow, JobConfig, Vec<PlannedNode>, Vec<NodeRow>), String> {
        let job = self.store.job(job_id).await.map_err(|e| e.to_string())?.ok_or("job vanished")?;
        let config: JobConfig = serde_json::from_str(&job.config).map_err(|e| format!("unreadable config: {e}"))?;
        let rows = self.store.job_nodes(job_id).await.map_err(|e| e.to_string())?;
        let planned = tree::planned_from_rows(&rows)?;
        Ok((job, config, planned, rows))
    }

    /// Adds children under a running node of a running job.
    pub(super) async fn spawn(
        &self,
        job_id: Uuid,
        parent: Uuid,
        children: Vec<crate::domain::NodeSpec>,
    ) -> Result<Vec<SpawnedNode>, EngineError> {
        let inbox = self.lock().running.get(&job_id).cloned();
        let (reply, answer) = oneshot::channel();
        let msg = JobMsg::Spawn { parent, children, key: None, reply };
        let sent = inbox.is_some_and(|inbox| inbox.send(msg).is_ok());
        let Some(outcome) = (if sent { answer.await.ok() } else { None }) else {
            let job = self.store.job(job_id).await?.ok_or_else(|| EngineError::NotFound(format!("job {job_id}")))?;
            return Err(EngineError::Conflict(format!("job {job_id} is not running ({})", job.status)));
        };
        let spawned = outcome.map_err(|err| match err {
            SpawnError::NotFound => EngineError::NotFound(format!("node {parent} of job {job_id}")),
            SpawnError::Ended(why) => EngineError::Conflict(why),
            SpawnError::Invalid(errors) => EngineError::Invalid(errors),
        })?;
        self.ctx.journal.flush().await?;
        Ok(spawned)
    }

    /// Gives a paused job the answer to its question.
    pub(super) async fn answer(&self, job_id: Uuid, answer: String) -> Result<(), EngineError> {
        let inbox = self.lock().running.get(&job_id).cloned();
        let (reply, answered) = oneshot::channel();
        let sent = inbox.is_some_and(|inbox| inbox.send(JobMsg::Answer { answer, reply }).is_ok());
        let Some(outcome) = (if sent { answered.await.ok() } else { None }) else {
            let job = self.store.job(job_id).await?.ok_or_else(|| EngineError::NotFound(format!("job {job_id}")))?;
            return Err(EngineError::Conflict(format!("job {job_id} is not waiting for an answer ({})", job.status)));
        };
        outcome.map_err(|why| EngineError::Conflict(format!("job {job_id}: {why}")))?;
        self.ctx.journal.flush().await?;
        Ok(())
    }

    pub(super) async fn cancel(&self, job_id: Uuid, node: Option<Uuid>) -> Result<(), EngineError> {
        if let Some(node_id) = node {
            self.check_node(job_id, node_id).await?;
        }
        match self.cancel_target(job_id, node.is_some())? {
            CancelTarget::Running(inbox) => {
                let (ack, acked) = oneshot::channel();
                if inbox.send(JobMsg::Cancel { node, ack }).is_ok() && acked.await.is_ok() {
                    self.ctx.journal.flush().await?;
                    return Ok(());
                }
                self.ctx.journal.flush().await?;
                self.refuse_cancel(job_id).await
            }
            CancelTarget::Queued => self.cancel_queued(job_id).await,
            CancelTarget::Elsewhere => self.refuse_cancel(job_id).await,
        }
    }

    fn cancel_target(&self, job_id: Uuid, one_node: bool) -> Result<CancelTarget, EngineError> {
        let mut state = self.lock();
        if let Some(inbox) = state.running.get(&job_id) {
            return Ok(CancelTarget::Running(inbox.clone()));
        }
        let Some(position) = state.queue.iter().position(|j| *j == job_id) else { return Ok(CancelTarget::Elsewhere) };
        if one_node {
            return Err(EngineError::Conflict("the job is still queued: cancel the whole job".into()));
        }
        state.queue.remove(position);
        Ok(CancelTarget::Queued)
    }

    async fn check_node(&self, job_id: Uuid, node_id: Uuid) -> Result<(), EngineError> {
        let node = self.store.node(node_id).await?.filter(|n| n.job_id == job_id);
        let node = node.ok_or_else(|| EngineError::NotFound(format!("node {node_id} of job {job_id}")))?;
        if NodeStatus::parse(&node.status).is_some_and(NodeStatus::is_terminal) {
            return Err(EngineError::Conflict(format!("node {node_id} has already ended ({})", node.status)));
        }
        Ok(())
    }

    /// The job is not running here: say why a cancel cannot happen.
    async fn refuse_cancel(&self, job_id: Uuid) -> Result<(), EngineError> {
        let job = self.store.job(job_id).await?.ok_or_else(|| EngineError::NotFound(format!("job {job_id}")))?;
        Err(EngineError::Conflict(format!("job {job_id} has already ended ({})", job.status)))
    }

    async fn cancel_queued(&self, job_id: Uuid) -> Result<(), EngineError> {
        let now = now_ms();
        for node in self.store.job_nodes(job_id).await? {
            self.ctx.journal.node(NodeUpdate {
                id: node.id,
                status: NodeStatus::Cancelled.as_str(),
                attempts: 0,
                started_ms: None,
                finished_ms: Some(now),
                result: None,
                error: Some(REASON_CANCELLED.into()),
                warnings: None,
            });
        }
        let status = JobStatus::Cancelled.as_str();
        let error = Some("cancelled while queued".to_string());
        self.ctx.journal.job(JobUpdate {
            id: job_id,
            status,
            started_ms: None,
            finished_ms: Some(now),
            result: None,
            error,
        });
        let data = json!({"job_id": job_id, "status": status});
        self.ctx.journal.emit(EventDraft::job(EventKind::JobCancelled, job_id, Some(0), &data));
        Ok(self.ctx.journal.flush().await?)
    }
}

fn job_row(spec: &JobSpec, planned: &[PlannedNode], seq: i64) -> Result<JobRow, EngineError> {
    let encode = |value: serde_json::Result<String>| {
        value.map_err(|e| {
            EngineError::Invalid(vec![crate::domain::FieldError { path: String::new(), message: e.to_string() }])
        })
    };
    Ok(JobRow {
        id: Uuid::now_v7(),
        seq,
        request: spec.request.clone(),
        config: encode(serde_json::to_string(&spec.config))?,
        labels: encode(serde_json::to_string(&spec.labels))?,
        status: String::new(),
        idempotency_key: spec.idempotency_key.clone(),
        root_node_id: planned.first().map(|n| n.id),
        node_count: planned.len() as i64,
        created_ms: now_ms(),
        started_ms: None,
        finished_ms: None,
        result: None,
        error: None,
    })
}

/// A plan's agents against the registry (named ones registered, delegations matchable).
pub(super) fn staffing_problems(
    workforce: &crate::workforce::Workforce,
    spec: &JobSpec,
) -> Vec<crate::domain::FieldError> {
    spec.plan.as_ref().map(|root| workforce.check_plan(&[("plan".to_string(), root)])).unwrap_or_default()
}
