//! The orchestrator: admission, the job drivers, the resource manager and the journal.
//!
//! [`Engine`] is the handle the API (and tests) use: submit, validate, cancel. A submitted
//! job is validated, flattened and stored through the [journal](journal); if the running-job
//! limit allows, a [driver](run) task takes it, otherwise it waits in the persisted FIFO
//! queue. Drivers ask the [resource manager](resources) for a slot before each piece of
//! work and hand every state change to the journal, which stores it before anyone hears of
//! it. Nothing here knows about HTTP.

mod admission;
pub mod agent;
mod agent_mail;
pub mod aggregate;
pub mod budget;
mod busy;
pub mod calls;
pub mod decompose;
pub mod executor;
pub mod journal;
pub mod ledger;
pub mod mail;
mod memory;
mod monitor;
pub mod orphans;
pub mod recovery;
mod registry;
pub mod resources;
mod run;
pub mod signs;
pub mod tokens;
mod tree;
pub mod validation;
mod workspaces;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::task::TaskTracker;
use uuid::Uuid;

use crate::config::Config;
use crate::domain::{FieldError, PlanLimits, Validation};
use crate::store::{SharedStore, StoreError};
use executor::ProcessDefaults;
use journal::{Journal, JournalError};
use resources::ResourceManager;

pub use admission::Submitted;
pub use run::SpawnedNode;

/// How an engine operation failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The submission is invalid; nothing was created.
    #[error("the job is invalid")]
    Invalid(Vec<FieldError>),
    /// No such job or node.
    #[error("{0} not found")]
    NotFound(String),
    /// The request contradicts the current state (cancelling an ended job).
    #[error("{0}")]
    Conflict(String),
    /// The caller may not do this (decide an approval it is not an approver of).
    #[error("{0}")]
    Forbidden(String),
    /// The admission queue is full.
    #[error("the admission queue is full ({0} jobs waiting)")]
    QueueFull(usize),
    /// The store cannot be reached; nothing was changed.
    #[error("the store is unreachable")]
    StoreUnreachable,
    /// The server is shutting down and takes no new work.
    #[error("the server is shutting down")]
    ShuttingDown,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// A setting the engine cannot start with (the decomposer's prompts, say).
    #[error("invalid configuration: {0}")]
    Config(String),
}

/// What job drivers share.
pub(crate) struct EngineCtx {
    pub journal: Journal,
    /// The call ledger (model calls and reported usage), writing through the journal.
    pub ledger: ledger::Ledger,
    pub tokens: tokens::TokenRing,
    pub resources: ResourceManager,
    pub process: ProcessDefaults,
    pub http: reqwest::Client,
    /// The configured LLM providers, for `llm` workers.
    pub providers: Arc<crate::llm::Providers>,
    /// The store, read by agents picked up after a restart (their conversations).
    pub store: SharedStore,
    /// The decomposer's settings and prompts, for every decomposing node.
    pub decomposers: Arc<decompose::pipeline::Decomposers>,
    /// The server's own decomposer, when `[decomposer]` names a provider.
    pub decomposer: Option<Arc<decompose::pipeline::Decomposer>>,
    /// Where workers reach this server (`CADRE_URL`); known once the listener is bound.
    pub public_url: std::sync::OnceLock<String>,
    /// Approval requests asked, escalated and decided, for `/metrics`.
    pub approvals: crate::people::inbox::Meters,
    /// The alert rules, and the alerts fired.
    pub alert_rules: crate::config::AlertsConfig,
    pub alerts: Arc<crate::people::alerts::Meters>,
    /// When each running command worker last wrote output or called back.
    pub signs: signs::SignsOfLife,
    /// The agent registry's roster and load.
    pub workforce: crate::workforce::Workforce,
    /// How long a node waits for an agent by default (`workforce.wait_timeout_s`).
    pub wait_timeout_s: u64,
    /// The agent templates (`config/agents/*.yaml` and `workforce.templates_dir`).
    pub templates: crate::workforce::templates::Templates,
    /// Registry changes go one at a time.
    pub registry_lock: tokio::sync::Mutex<()>,
    /// Every open message, by recipient; `mail_arrived` wakes waiting receives.
    pub mail: crate::mail::PostOffice,
    pub mail_arrived: tokio::sync::Notify,
    pub mail_config: crate::config::MailConfig,
    /// Whether the agents' mailboxes are kept here: always on a server of its own; in a
    /// cluster only on the replica that holds them for all (`cluster::steward`).
    pub holds_agent_mail: std::sync::atomic::AtomicBool,
    /// Git worktrees and merges for jobs that declare a workspace.
    pub workspaces: crate::workspace::Workspaces,
}

/// The orchestrator handle; cheap to clone.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<admission::Admission>,
}

/// What the engine needs from outside.
pub struct EngineParts {
    pub store: SharedStore,
    /// Stored events are published here.
    pub events: crate::events::EventFeeds,
    /// Every background task is spawned on this tracker.
    pub tracker: TaskTracker,
}

impl Engine {
    /// Starts the journal, the resource manager, the monitors, and admits queued jobs.
    pub async fn start(config: &Config, parts: EngineParts) -> Result<Self, EngineError> {
        let sequences = parts.store.sequences().await?;
        let journal = Journal::start(parts.store.clone(), sequences, parts.events, &parts.tracker);
        let (warnings_tx, warnings_rx) = mpsc::unbounded_channel();
        let resources = ResourceManager::new(config.quotas(), warnings_tx);
        let providers = Arc::new(crate::llm::Providers::from_config(&config.llm));
        let decomposers = decompose::pipeline::Decomposers::new(&config.decomposer, providers.clone())
            .map_err(EngineError::Config)?;
        let decomposer = decomposers.server().map_err(EngineError::Config)?.map(Arc::new);
        let workforce = crate::workforce::Workforce::default();
        let templates = crate::workforce::templates::Templates::load(config.workforce.templates_dir())
            .map_err(EngineError::Config)?;
        let ctx = Arc::new(EngineCtx {
            ledger: ledger::Ledger::new(journal.clone(), workforce.clone()),
            journal,
            tokens: tokens::TokenRing::default(),
            resources,
            process: process_defaults(config),
            http: reqwest::Client::new(),
            providers,
            store: parts.store.clone(),
            decomposers: Arc::new(decomposers),
            decomposer,
            public_url: std::sync::OnceLock::new(),
            approvals: crate::people::inbox::Meters::default(),
            alert_rules: config.alerts.clone(),
            alerts: Arc::default(),
            signs: signs::SignsOfLife::default(),
            workforce,
            wait_timeout_s: config.workforce.wait_timeout_s,
            templates,
            registry_lock: tokio::sync::Mutex::new(()),
            mail: crate::mail::PostOffice::default(),
            mail_arrived: tokio::sync::Notify::new(),
            mail_config: config.mail.clone(),
            holds_agent_mail: std::sync::atomic::AtomicBool::new(!config.cluster.enabled),
            workspaces: crate::workspace::Workspaces::with_check_timeout(
                worktrees_root(config)?,
                Duration::from_secs(config.workers.timeout_s),
            ),
        });
        registry::load(&parts.store, &ctx.workforce).await?;
        mail::start(&ctx, &parts.tracker, config.cluster.enabled).await?;
        ctx.ledger.budgets().alert_at(config.alerts.budget_percent, ctx.alerts.clone());
        let admission = admission::Admission::new(config, parts.store.clone(), ctx.clone(), sequences.job_seq);
        let engine = Self { inner: Arc::new(admission) };
        monitor::spawn_all(config, &engine, warnings_rx, &parts.tracker);
        engine.pick_up(config).await?;
        Ok(engine)
    }

    /// A single server picks up what the previous one left unfinished; a replica of a cluster
    /// owns nothing at start: its predecessor's jobs are claimed like any gone replica's (`adopt`).
    async fn pick_up(&self, config: &Config) -> Result<(), EngineError> {
        if config.cluster.enabled {
            return Ok(());
        }
        self.inner.resume().await
    }

    /// Records an event that belongs to no driver (the cluster's), in the journal's order.
    pub fn record_event(&self, draft: crate::events::EventDraft) {
        self.inner.ctx.journal.emit(draft);
    }

    /// Whether this process drives (or queues) the job: where a change to it must be made.
    pub fn drives(&self, job_id: Uuid) -> bool {
        self.inner.drives(job_id)
    }

    /// True while the store is not taking the journal's writes (unreachable, hung, or refusing
    /// them because this replica was declared gone).
    pub fn is_store_stalled(&self) -> bool {
        self.inner.ctx.journal.is_stalled()
    }

    /// Continues jobs claimed from replicas that are gone (a cluster's failover); `host` is
    /// this machine, where the gone replicas' worker processes may still run. How many it took on.
    pub async fn adopt(&self, orphans: &[crate::store::Orphan], host: &str) -> Result<usize, EngineError> {
        self.inner.adopt(orphans, host).await
    }

    /// Stops taking work, lets running nodes finish for up to `grace`, then stops the rest,
    /// leaving them stored as running for the next start to re-run, and flushes the journal.
    pub async fn shutdown(&self, grace: std::time::Duration) {
        self.inner.shutdown(grace).await;
    }

    /// Validates a submission without creating anything.
    pub fn validate(&self, spec: &crate::domain::JobSpec) -> Validation {
        let mut validation =
            crate::domain::validate::validate(&spec.clone().with_decomposer(self.limits()), self.limits());
        validation.errors.extend(admission::staffing_problems(&self.inner.ctx.workforce, spec));
        validation
    }

    /// A person's decision on approval request `id`; the request as it stands once stored.
    pub async fn decide(
        &self,
        id: Uuid,
        ruling: crate::people::inbox::Ruling,
    ) -> Result<crate::people::inbox::Approval, EngineError> {
        self.inner.ensure_store_reachable()?;
        self.inner.decide(id, ruling).await
    }

    /// Gives a job paused on a question its answer; the decomposition goes on.
    pub async fn answer(&self, job_id: Uuid, answer: String) -> Result<(), EngineError> {
        self.inner.ensure_store_reachable()?;
        self.inner.answer(job_id, answer).await
    }

    /// Submits a job (or returns the one with the same idempotency key) for the key named
    /// `submitted_by`, which its approvals remember.
    pub async fn submit(
        &self,
        spec: crate::domain::JobSpec,
        submitted_by: Option<String>,
    ) -> Result<Submitted, EngineError> {
        self.inner.submit(spec, submitted_by).await
    }

    /// Cancels a job's whole tree.
    pub async fn cancel_job(&self, job_id: Uuid) -> Result<(), EngineError> {
        self.inner.ensure_store_reachable()?;
        self.inner.cancel(job_id, None).await
    }

    /// Adds children under a running node (recursion from inside a worker).
    pub async fn spawn(
        &self,
        job_id: Uuid,
        parent: Uuid,
        children: Vec<crate::domain::NodeSpec>,
    ) -> Result<Vec<SpawnedNode>, EngineError> {
        self.inner.ensure_store_reachable()?;
        self.inner.spawn(job_id, parent, children).await
    }

    /// Cancels one node's subtree.
    pub async fn cancel_node(&self, job_id: Uuid, node_id: Uuid) -> Result<(), EngineError> {
        self.inner.ensure_store_reachable()?;
        self.inner.cancel(job_id, Some(node_id)).await
    }

    /// The resource manager (for stats).
    pub fn resources(&self) -> &ResourceManager {
        &self.inner.ctx.resources
    }

    /// The limits submissions are checked against.
    pub fn limits(&self) -> &PlanLimits {
        &self.inner.limits
    }

    /// Waits until every change so far is stored.
    pub async fn flush(&self) -> Result<(), EngineError> {
        Ok(self.inner.ctx.journal.flush().await?)
    }

    /// Tells the engine where workers reach the server (the first call wins).
    pub fn set_public_url(&self, url: String) {
        let _ = self.inner.ctx.public_url.set(url);
    }

    /// Live worker tokens.
    pub fn tokens(&self) -> &tokens::TokenRing {
        &self.inner.ctx.tokens
    }

    /// The decomposer, when one is configured.
    pub fn decomposer(&self) -> Option<&decompose::pipeline::Decomposer> {
        self.inner.ctx.decomposer.as_deref()
    }

    /// The journal (audit entries are written through it too).
    pub fn journal(&self) -> &Journal {
        &self.inner.ctx.journal
    }

    /// A worker called back with its token: a sign of life.
    pub fn heard_from(&self, node_id: Uuid) {
        self.inner.ctx.signs.heard_from(node_id);
    }

    /// The alerts fired, by rule.
    pub fn alert_meters(&self) -> &crate::people::alerts::Meters {
        &self.inner.ctx.alerts
    }

    /// Lets a job held by its failure-rate alert start nodes again; `by` names the key.
    pub async fn resume(&self, job_id: Uuid, by: String) -> Result<(), EngineError> {
        self.inner.ensure_store_reachable()?;
        self.inner.resume_held(job_id, by).await
    }

    /// The approval counters.
    pub fn approval_meters(&self) -> &crate::people::inbox::Meters {
        &self.inner.ctx.approvals
    }

    /// The call ledger (model calls and usage workers report).
    pub fn ledger(&self) -> &ledger::Ledger {
        &self.inner.ctx.ledger
    }

    /// The store.
    pub fn store(&self) -> &SharedStore {
        &self.inner.store
    }

    /// Jobs running now and waiting for admission.
    pub fn job_counts(&self) -> (usize, usize) {
        self.inner.counts()
    }
}

fn process_defaults(config: &Config) -> ProcessDefaults {
    let w = &config.workers;
    ProcessDefaults {
        memory_mb: (w.memory_mb > 0).then_some(w.memory_mb),
        cpu_seconds: (w.cpu_seconds > 0).then_some(w.cpu_seconds),
        timeout: Duration::from_secs(w.timeout_s),
        kill_grace: Duration::from_secs(w.kill_grace_s),
        output_tail_bytes: w.output_tail_bytes,
        reallocation: recovery::Factors { memory: w.reallocate_memory_factor, time: w.reallocate_time_factor },
    }
}

/// Where worktrees live: `<data_dir>/worktrees`, absolute, since git resolves a relative path
/// against the repository it runs in, not against the server's directory.
fn worktrees_root(config: &Config) -> Result<std::path::PathBuf, EngineError> {
    std::path::absolute(config.store.data_dir.join("worktrees"))
        .map_err(|e| EngineError::Config(format!("store.data_dir: {e}")))
}
