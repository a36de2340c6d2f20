//! The engine's life across server processes (SPEC §2.9): picking up, at start-up, the jobs
//! a previous server left unfinished (after stopping the worker processes it left behind),
//! and the graceful shutdown that leaves running jobs stored for the next start.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use uuid::Uuid;

use super::Admission;
use crate::domain::JobStatus;
use crate::engine::run::{JobMsg, Stored};
use crate::engine::EngineError;
use crate::events::now_ms;
use crate::store::{AlertQuery, AlertRow, ApprovalRow, BudgetRow, JobRow, Orphan, SpendRow};

/// What a job keeps beside its nodes: budget books, ledger spending, approval requests,
/// alerts.
struct Kept {
    budgets: Vec<BudgetRow>,
    spending: Vec<SpendRow>,
    approvals: Vec<ApprovalRow>,
    alerts: Vec<AlertRow>,
    delegations: Vec<crate::store::DelegationRow>,
}

/// How often the shutdown looks whether the work has stopped.
const SHUTDOWN_POLL: Duration = Duration::from_millis(20);
/// How long the shutdown waits for the store to take the journal's last changes.
const SHUTDOWN_FLUSH_LIMIT: Duration = Duration::from_secs(10);

impl Admission {
    /// Picks up where a previous server stopped: jobs it left running (or cancelling)
    /// continue from their stored state, and jobs stored as queued go back in the queue, in
    /// submission order, and are admitted as places free up.
    pub(in crate::engine) async fn resume(self: &Arc<Self>) -> Result<(), EngineError> {
        let mut unfinished = self.store.jobs_in_status(JobStatus::Running.as_str()).await?;
        unfinished.extend(self.store.jobs_in_status(JobStatus::Paused.as_str()).await?);
        unfinished.extend(self.store.jobs_in_status(JobStatus::Cancelling.as_str()).await?);
        unfinished.sort_by_key(|job| job.seq);
        let queued = self.store.jobs_in_status(JobStatus::Queued.as_str()).await?;
        let inboxes = self.take_on(&unfinished, &queued);
        let interrupted = self.stop_orphans(&unfinished).await?;
        self.continue_all(&unfinished, inboxes, &interrupted).await;
        Ok(())
    }

    /// A cluster's failover: continues the jobs this replica claimed from replicas that are
    /// gone, through the same restore as [`resume`](Self::resume), for these jobs only. Worker
    /// processes they left on this machine (`host`) are stopped first; those on another machine
    /// cannot be reached from here (their own replica stops them if it is still alive).
    /// Returns how many jobs it took on. On an error none of them is driven here: the caller
    /// gives them back for the next round (`cluster::takeover`).
    pub(in crate::engine) async fn adopt(
        self: &Arc<Self>,
        orphans: &[Orphan],
        host: &str,
    ) -> Result<usize, EngineError> {
        let (unfinished, queued) = self.orphaned_jobs(orphans).await?;
        let inboxes = self.take_on(&unfinished, &queued);
        match self.settle_adoption(orphans, &unfinished, host).await {
            Ok(interrupted) => {
                self.continue_all(&unfinished, inboxes, &interrupted).await;
                Ok(unfinished.len() + queued.len())
            }
            Err(err) => {
                self.let_go(&unfinished, &queued);
                Err(err)
            }
        }
    }

    /// Stops what the claimed jobs' replica left running on this machine, forgets its process
    /// rows and loads the jobs' mail; the nodes whose attempts were interrupted.
    async fn settle_adoption(
        &self,
        orphans: &[Orphan],
        unfinished: &[JobRow],
        host: &str,
    ) -> Result<HashSet<Uuid>, EngineError> {
        let ids: HashSet<Uuid> = unfinished.iter().map(|job| job.id).collect();
        let here: HashSet<Uuid> = ids.iter().copied().filter(|&id| on_host(orphans, id, host)).collect();
        let recorded: Vec<_> = self.store.processes().await?.into_iter().filter(|p| ids.contains(&p.job_id)).collect();
        let local: Vec<_> = recorded.iter().filter(|p| here.contains(&p.job_id)).cloned().collect();
        let here: HashSet<String> = here.iter().map(Uuid::to_string).collect();
        crate::engine::orphans::stop(&local, &here, self.ctx.process.kill_grace).await;
        if let Some(cluster) = self.store.cluster() {
            let claimed: Vec<Uuid> = orphans.iter().map(|orphan| orphan.id).collect();
            // Read before the adoption is stored, so that a failure leaves nothing loaded.
            let mail = cluster.open_messages_of(&claimed).await?;
            // Stopped (or out of reach): the replica they came from no longer holds quota for them.
            cluster.adopted(&claimed).await?;
            // Their mailboxes come with them: a node's messages are kept by its job's driver.
            for row in mail {
                self.ctx.keep(row);
            }
        }
        Ok(recorded.iter().map(|process| process.node_id).collect())
    }

    /// Undoes [`take_on`](Self::take_on) for jobs whose adoption failed: no driver, no place
    /// in the queue.
    fn let_go(&self, unfinished: &[JobRow], queued: &[JobRow]) {
        let mut state = self.lock();
        for job in unfinished {
            state.running.remove(&job.id);
        }
        let dropped: HashSet<Uuid> = queued.iter().map(|job| job.id).collect();
        state.queue.retain(|id| !dropped.contains(id));
    }

    /// The claimed jobs as stored: those to continue and those to queue, each oldest first.
    async fn orphaned_jobs(&self, orphans: &[Orphan]) -> Result<(Vec<JobRow>, Vec<JobRow>), EngineError> {
        let (mut unfinished, mut queued) = (Vec::new(), Vec::new());
        for orphan in orphans {
            match self.store.job(orphan.id).await? {
                Some(job) if job.status == JobStatus::Queued.as_str() => queued.push(job),
                Some(job) if !self.lock().running.contains_key(&job.id) => unfinished.push(job),
                _ => {}
            }
        }
        unfinished.sort_by_key(|job| job.seq);
        queued.sort_by_key(|job| job.seq);
        Ok((unfinished, queued))
    }

    /// Registers unfinished jobs as running (their inboxes) and queued ones in the queue.
    fn take_on(&self, unfinished: &[JobRow], queued: &[JobRow]) -> Vec<mpsc::UnboundedReceiver<JobMsg>> {
        let mut state = self.lock();
        state.queue.extend(queued.iter().map(|j| j.id));
        unfinished
            .iter()
            .map(|job| {
                let (tx, rx) = mpsc::unbounded_channel();
                state.running.insert(job.id, tx);
                rx
            })
            .collect()
    }

    /// Restarts each unfinished job's driver, then admits what the queue holds.
    async fn continue_all(
        self: &Arc<Self>,
        unfinished: &[JobRow],
        inboxes: Vec<mpsc::UnboundedReceiver<JobMsg>>,
        interrupted: &HashSet<Uuid>,
    ) {
        for (job, inbox) in unfinished.iter().zip(inboxes) {
            self.restart(job, inbox, interrupted).await;
        }
        // Admitting happens where a driver ends; a placeholder id that is not running
        // triggers the same path.
        self.finished(Uuid::nil());
    }

    /// Stops the worker processes a previous server left running, before their nodes are
    /// re-run, and returns the nodes they belonged to.
    #[expect(clippy::cognitive_complexity, reason = "the count is tracing's macro expansion, not branching")]
    async fn stop_orphans(&self, unfinished: &[JobRow]) -> Result<HashSet<Uuid>, EngineError> {
        let recorded = self.store.processes().await?;
        let job_ids: HashSet<String> = unfinished.iter().map(|job| job.id.to_string()).collect();
        let stopped = crate::engine::orphans::stop(&recorded, &job_ids, self.ctx.process.kill_grace).await;
        if stopped > 0 {
            tracing::warn!(groups = stopped, "stopped worker processes a previous server left running");
        }
        self.store.forget_processes().await?;
        Ok(recorded.iter().map(|process| process.node_id).collect())
    }

    /// A job's budget books, ledger spending and approval requests as stored.
    async fn books(&self, job_id: Uuid) -> Result<Kept, EngineError> {
        let store = &self.store;
        let alerts = AlertQuery { job_id: Some(job_id), limit: 10_000, ..AlertQuery::default() };
        Ok(Kept {
            budgets: store.job_budgets(job_id).await?,
            spending: store.job_spending(job_id).await?,
            approvals: store.job_approvals(job_id).await?,
            alerts: store.alerts(&alerts).await?,
            delegations: store.job_delegations(job_id).await?,
        })
    }

    /// Continues one job a previous server left unfinished.
    #[expect(clippy::cognitive_complexity, reason = "the count is tracing's macro expansion, not branching")]
    async fn restart(
        self: &Arc<Self>,
        job: &JobRow,
        inbox: mpsc::UnboundedReceiver<JobMsg>,
        interrupted: &HashSet<Uuid>,
    ) {
        let (_, config, planned, rows) = match self.load(job.id).await {
            Ok(loaded) => loaded,
            Err(err) => {
                tracing::error!(job.id = %job.id, error = %err, "an unfinished job could not be loaded");
                self.fail_crashed_driver(job.id);
                return self.finished(job.id);
            }
        };
        let books = match self.books(job.id).await {
            Ok(books) => books,
            Err(err) => {
                tracing::error!(job.id = %job.id, error = %err, "an unfinished job's budget could not be loaded");
                self.fail_crashed_driver(job.id);
                return self.finished(job.id);
            }
        };
        let cancelling = job.status == JobStatus::Cancelling.as_str();
        let (budgets, spending) = (&books.budgets, &books.spending);
        let (approvals, alerts) = (&books.approvals, &books.alerts);
        let delegations = &books.delegations;
        let stored = Stored {
            rows: &rows,
            processes: interrupted,
            cancelling,
            budgets,
            spending,
            approvals,
            alerts,
            delegations,
        };
        let started_ms = job.started_ms.unwrap_or_else(now_ms);
        tracing::info!(job.id = %job.id, nodes = rows.len(), "continuing a job the previous server left unfinished");
        self.spawn_driver(job.id, (&config, &job.request), &planned, inbox, Some((&stored, started_ms)));
    }

    /// The shutdown (see `Engine::shutdown`): drain every driver, wait for the slots to come
    /// back or the grace to pass, stop the drivers, and flush what they recorded.
    pub(in crate::engine) async fn shutdown(&self, grace: Duration) {
        self.closing.store(true, Ordering::Relaxed);
        self.tell_every_driver(|| JobMsg::Drain);
        wait_until(grace, || self.ctx.resources.holders().is_empty()).await;
        self.tell_every_driver(|| JobMsg::Stop);
        // Executors stop their processes within the kill grace (SIGTERM, then SIGKILL).
        wait_until(self.ctx.process.kill_grace + SHUTDOWN_POLL, || self.lock().running.is_empty()).await;
        self.flush_at_shutdown().await;
    }

    #[expect(clippy::cognitive_complexity, reason = "the count is tracing's macro expansion, not branching")]
    async fn flush_at_shutdown(&self) {
        match tokio::time::timeout(SHUTDOWN_FLUSH_LIMIT, self.ctx.journal.flush()).await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => tracing::error!(error = %err, "the journal could not be flushed at shutdown"),
            Err(_) => {
                tracing::error!("the store stayed unreachable; changes not yet stored are lost with this process")
            }
        }
    }

    fn tell_every_driver(&self, message: impl Fn() -> JobMsg) {
        for inbox in self.lock().running.values() {
            let _ = inbox.send(message());
        }
    }
}

/// Whether the replica that had job `id` ran on `host` (a job from a single server, or from a
/// replica no longer known, is taken to have run here: its processes are looked for).
fn on_host(orphans: &[Orphan], id: Uuid, host: &str) -> bool {
    orphans.iter().find(|o| o.id == id).and_then(|o| o.host.as_deref()).is_none_or(|h| h == host)
}

/// Polls `done` until it holds or `limit` has passed.
async fn wait_until(limit: Duration, done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + limit;
    while !done() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(SHUTDOWN_POLL).await;
    }
}
