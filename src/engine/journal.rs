//! The journal: the only writer of job state, and the group commit that makes it cheap.
//!
//! The engine hands every state change and event to the journal in the order they happen and
//! goes on. One writer task drains whatever has queued up while the previous commit was in
//! flight and writes it as one [`Batch`] — one transaction, one fsync, multi-row statements —
//! so a fan-out of ten thousand nodes costs a few commits, not ten thousand. Only after the
//! commit are the batch's events given sequence numbers' worth of publicity: they go to the
//! broadcast that subscribers listen on, and flush barriers waiting on the batch are released.
//! Because the channel is ordered, anything stored implies everything enqueued before it is.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::events::{now_ms, Event, EventDraft, EventFeeds};
use crate::store::{
    AlertRow, ApprovalRow, AuditRow, Batch, BudgetRow, EventRow, JobRow, JobUpdate, LabelRow, LlmCallRow, NewNodes,
    NodeUpdate, ProcessRow, Sequences, SharedStore, StoreError,
};

/// Most entries folded into one batch; bounds a transaction's size and the latency of the
/// first entry in it.
const MAX_BATCH_ENTRIES: usize = 20_000;
/// First wait after a failed commit; doubles up to [`MAX_RETRY_WAIT`].
const FIRST_RETRY_WAIT: Duration = Duration::from_millis(50);
const MAX_RETRY_WAIT: Duration = Duration::from_secs(5);
/// Attempts at a batch the database rejects (not an outage) before it is dropped.
const MAX_REJECTED_ATTEMPTS: u32 = 3;
/// Entries waiting for the writer past which job drivers start no new work until it catches
/// up: a driver can change state far faster than any store commits it, and every queued
/// change (its event data above all) is memory. Two full batches keep the writer busy.
const MAX_BACKLOG: usize = 2 * MAX_BATCH_ENTRIES;
/// A commit taking longer than this means the store has stopped answering (healthy ones,
/// ten thousand nodes included, take a fraction of it).
const STALLED_COMMIT_MS: i64 = 1_000;

/// Why a flush did not succeed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the journal could not store the change: {0}")]
pub struct JournalError(pub String);

impl JournalError {
    /// The store refuses this replica's writes for good (another replica has its jobs).
    fn fenced() -> Self {
        Self(StoreError::Fenced.to_string())
    }

    /// Whether the change was refused because this replica was declared gone.
    pub fn is_fenced(&self) -> bool {
        self.0 == StoreError::Fenced.to_string()
    }
}

/// A new job with its nodes and labels.
#[derive(Debug)]
pub struct NewJob {
    pub job: JobRow,
    pub labels: Vec<LabelRow>,
    pub nodes: NewNodes,
}

/// An audit entry before it is stored.
#[derive(Debug, Clone)]
pub struct AuditDraft {
    pub key_id: Option<Uuid>,
    pub key_name: Option<String>,
    pub source: String,
    pub action: &'static str,
    pub target: Option<String>,
    pub outcome: String,
    pub detail: Option<String>,
}

enum Entry {
    Job(Box<NewJob>),
    Nodes(NewNodes),
    Audit(AuditDraft),
    Node(NodeUpdate),
    JobUpdate(JobUpdate),
    Event(EventDraft),
    /// A worker's process group started (`Some`) or ended (`None`).
    Process(Uuid, Option<ProcessRow>),
    /// A ledger row: a model call, or usage a worker reported.
    LlmCall(Box<LlmCallRow>),
    /// A budget envelope's books.
    Budget(BudgetRow),
    /// An approval request as it stands.
    Approval(Box<ApprovalRow>),
    /// An alert as it stands.
    Alert(Box<AlertRow>),
    /// A registered agent as it stands, or its removal.
    Agent(Box<crate::store::AgentRow>),
    /// A node's delegation as it stands.
    Delegation(Box<crate::store::DelegationRow>),
    /// A message as it stands.
    Message(Box<crate::store::MessageRow>),
    Flush(oneshot::Sender<Result<(), JournalError>>),
}

/// A handle for enqueueing changes; cheap to clone.
#[derive(Clone)]
pub struct Journal {
    tx: mpsc::UnboundedSender<Entry>,
    /// Whether the store is keeping up (see [`Journal::is_stalled`]).
    health: Arc<StoreHealth>,
}

/// What the writer knows of the store's state, for the engine to read.
#[derive(Default)]
struct StoreHealth {
    /// The last attempt found the store unreachable.
    unreachable: AtomicBool,
    /// When the commit under way began (ms since the epoch), 0 when none is.
    committing_since_ms: AtomicI64,
    /// Entries sent and not yet taken by the writer.
    backlog: AtomicUsize,
    /// The store refused a write because this replica was declared gone (for good).
    fenced: AtomicBool,
}

impl Journal {
    /// Starts the writer task; `stored` holds the highest sequence numbers already stored.
    pub fn start(
        store: SharedStore,
        stored: Sequences,
        events: EventFeeds,
        tracker: &tokio_util::task::TaskTracker,
    ) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let health = Arc::new(StoreHealth::default());
        events.stored_up_to(stored.event_seq);
        let writer = Writer {
            store,
            next_event_seq: stored.event_seq + 1,
            next_audit_seq: stored.audit_seq + 1,
            events,
            rx,
            health: health.clone(),
            unreported: None,
        };
        tracker.spawn(writer.run());
        Self { tx, health }
    }

    /// True while the store is unreachable, or a commit has hung for longer than any healthy
    /// one takes (a dead connection can take the pool's whole acquire timeout to fail): what
    /// is recorded now would wait in memory, so the engine starts no new work and takes no
    /// new jobs until the store is back.
    pub fn is_stalled(&self) -> bool {
        let since = self.health.committing_since_ms.load(Ordering::Relaxed);
        self.health.unreachable.load(Ordering::Relaxed)
            || self.health.fenced.load(Ordering::Relaxed)
            || (since > 0 && now_ms() - since > STALLED_COMMIT_MS)
    }

    /// True while more changes wait for the writer than it commits in two batches: the
    /// engine's back-pressure signal (drivers hold new starts until it clears).
    pub fn is_behind(&self) -> bool {
        self.health.backlog.load(Ordering::Relaxed) > MAX_BACKLOG
    }

    /// Enqueues a new job.
    pub fn insert_job(&self, job: NewJob) {
        self.send(Entry::Job(Box::new(job)));
    }

    /// Enqueues nodes added to a running job.
    pub fn insert_nodes(&self, nodes: NewNodes) {
        self.send(Entry::Nodes(nodes));
    }

    /// Enqueues an audit entry.
    pub fn audit(&self, entry: AuditDraft) {
        self.send(Entry::Audit(entry));
    }

    /// Enqueues a node's new state.
    pub fn node(&self, update: NodeUpdate) {
        self.send(Entry::Node(update));
    }

    /// Enqueues a job's new state.
    pub fn job(&self, update: JobUpdate) {
        self.send(Entry::JobUpdate(update));
    }

    /// Records the process group a worker's command runs in, so a restarted server can
    /// find it; `process_ended` forgets it.
    pub fn process_started(&self, process: ProcessRow) {
        self.send(Entry::Process(process.node_id, Some(process)));
    }

    /// The worker's process group has been stopped.
    pub fn process_ended(&self, node_id: Uuid) {
        self.send(Entry::Process(node_id, None));
    }

    /// Enqueues a ledger row (a model call, or usage a worker reported).
    pub fn llm_call(&self, row: LlmCallRow) {
        self.send(Entry::LlmCall(Box::new(row)));
    }

    /// Enqueues a budget envelope's books (the last of a node in a batch is written).
    pub fn budget(&self, row: BudgetRow) {
        self.send(Entry::Budget(row));
    }

    /// Enqueues an approval request as it stands (the last of a request in a batch is written).
    pub fn approval(&self, row: ApprovalRow) {
        self.send(Entry::Approval(Box::new(row)));
    }

    /// Enqueues a registered agent as it stands, or its removal (the last of an agent in a
    /// batch is written).
    pub fn agent(&self, row: crate::store::AgentRow) {
        self.send(Entry::Agent(Box::new(row)));
    }

    /// Enqueues a node's delegation as it stands (the last of a node in a batch is written).
    pub fn delegation(&self, row: crate::store::DelegationRow) {
        self.send(Entry::Delegation(Box::new(row)));
    }

    /// Enqueues a message as it stands (the last of a message in a batch is written).
    pub fn message(&self, row: crate::store::MessageRow) {
        self.send(Entry::Message(Box::new(row)));
    }

    /// Enqueues an alert as it stands (the last of an alert in a batch is written) and its
    /// event (`alert`, or `alert_resolved` once it is resolved).
    pub fn alert(&self, row: AlertRow, depth: Option<u8>) {
        let event = crate::people::alerts::event(&row, depth);
        self.send(Entry::Alert(Box::new(row)));
        self.send(Entry::Event(event));
    }

    /// Enqueues an event.
    pub fn emit(&self, event: EventDraft) {
        self.send(Entry::Event(event));
    }

    /// Waits until everything enqueued so far is stored.
    pub async fn flush(&self) -> Result<(), JournalError> {
        let (tx, rx) = oneshot::channel();
        self.send(Entry::Flush(tx));
        rx.await.map_err(|_| JournalError("the journal has stopped".into()))?
    }

    fn send(&self, entry: Entry) {
        self.health.backlog.fetch_add(1, Ordering::Relaxed);
        // The writer only stops at shutdown, after every job driver has ended.
        if self.tx.send(entry).is_err() {
            tracing::warn!("journal entry after the writer stopped; dropped");
        }
    }
}

#[expect(clippy::cognitive_complexity, reason = "the count is tracing's macro expansion, not branching")]
fn log_failed_commit(err: &StoreError, rejected: u32) {
    if rejected == 0 {
        tracing::warn!(error = %err, "store unavailable; the journal retries");
    } else {
        tracing::error!(error = %err, attempt = rejected, "the store rejected a journal batch");
    }
}

struct Writer {
    store: SharedStore,
    next_event_seq: i64,
    next_audit_seq: i64,
    events: EventFeeds,
    rx: mpsc::UnboundedReceiver<Entry>,
    health: Arc<StoreHealth>,
    /// A batch that failed with no flush waiting on it: the next flush must report it, since a
    /// flush answers for every change sent before it, not only for those in its own batch.
    unreported: Option<JournalError>,
}

/// One batch being assembled, with what must happen after its commit.
#[derive(Default)]
struct Pending {
    batch: Batch,
    node_index: HashMap<Uuid, usize>,
    job_index: HashMap<Uuid, usize>,
    /// The last process change of each node in the batch.
    processes: HashMap<Uuid, Option<ProcessRow>>,
    /// The position of each node's books in the batch.
    budget_index: HashMap<Uuid, usize>,
    /// The position of each approval request in the batch.
    approval_index: HashMap<Uuid, usize>,
    /// The position of each node's delegation in the batch.
    delegation_index: HashMap<Uuid, usize>,
    /// The position of each message in the batch.
    message_index: HashMap<Uuid, usize>,
    flushes: Vec<oneshot::Sender<Result<(), JournalError>>>,
    entries: usize,
}

impl Pending {
    /// A node's books replace those it had earlier in the batch.
    fn budget(&mut self, row: BudgetRow) {
        match self.budget_index.get(&row.node_id) {
            Some(&i) => self.batch.budgets[i] = row,
            None => {
                self.budget_index.insert(row.node_id, self.batch.budgets.len());
                self.batch.budgets.push(row);
            }
        }
    }

    /// An alert replaces what it was earlier in the batch.
    fn alert(&mut self, row: AlertRow) {
        match self.batch.alerts.iter().position(|a| a.id == row.id) {
            Some(i) => self.batch.alerts[i] = row,
            None => self.batch.alerts.push(row),
        }
    }

    /// An agent's row replaces what it was earlier in the batch (a handful per batch at most).
    fn agent(&mut self, row: crate::store::AgentRow) {
        self.batch.agents.retain(|a| a.name != row.name);
        self.batch.agents.push(row);
    }

    /// A delegation replaces what it was earlier in the batch.
    fn delegation(&mut self, row: crate::store::DelegationRow) {
        match self.delegation_index.get(&row.node_id) {
            Some(&i) => self.batch.delegations[i] = row,
            None => {
                self.delegation_index.insert(row.node_id, self.batch.delegations.len());
                self.batch.delegations.push(row);
            }
        }
    }

    /// A message replaces what it was earlier in the batch.
    fn message(&mut self, row: crate::store::MessageRow) {
        match self.message_index.get(&row.id) {
            Some(&i) => self.batch.messages[i] = row,
            None => {
                self.message_index.insert(row.id, self.batch.messages.len());
                self.batch.messages.push(row);
            }
        }
    }

    /// A request replaces what it was earlier in the batch.
    fn approval(&mut self, row: ApprovalRow) {
        match self.approval_index.get(&row.id) {
            Some(&i) => self.batch.approvals[i] = row,
            None => {
                self.approval_index.insert(row.id, self.batch.approvals.len());
                self.batch.approvals.push(row);
            }
        }
    }

    /// Several transitions of one node in a batch collapse into the last one.
    fn node_update(&mut self, update: NodeUpdate) {
        match self.node_index.get(&update.id) {
            Some(&i) => self.batch.node_updates[i] = update,
            None => {
                self.node_index.insert(update.id, self.batch.node_updates.len());
                self.batch.node_updates.push(update);
            }
        }
    }

    /// Likewise a job's, keeping a start time an earlier one set (the store keeps the stored
    /// start when an update brings none).
    fn job_update(&mut self, mut update: JobUpdate) {
        match self.job_index.get(&update.id) {
            Some(&i) => {
                update.started_ms = update.started_ms.or(self.batch.job_updates[i].started_ms);
                self.batch.job_updates[i] = update;
            }
            None => {
                self.job_index.insert(update.id, self.batch.job_updates.len());
                self.batch.job_updates.push(update);
            }
        }
    }
}

impl Writer {
    async fn run(mut self) {
        while let Some(first) = self.rx.recv().await {
            let mut pending = Pending::default();
            self.add(&mut pending, first);
            while pending.entries < MAX_BATCH_ENTRIES {
                match self.rx.try_recv() {
                    Ok(entry) => self.add(&mut pending, entry),
                    Err(_) => break,
                }
            }
            self.health.backlog.fetch_sub(pending.entries, Ordering::Relaxed);
            self.commit(pending).await;
        }
    }

    fn add(&mut self, pending: &mut Pending, entry: Entry) {
        pending.entries += 1;
        let batch = &mut pending.batch;
        match entry {
            Entry::Job(new) => {
                let NewJob { job, labels, nodes } = *new;
                batch.new_jobs.push(job);
                batch.new_labels.extend(labels);
                batch.new_nodes.push(nodes);
            }
            Entry::Node(update) => pending.node_update(update),
            Entry::Nodes(nodes) => batch.new_nodes.push(nodes),
            Entry::Audit(draft) => {
                batch.audit.push(AuditRow {
                    seq: self.next_audit_seq,
                    ts_ms: now_ms(),
                    key_id: draft.key_id,
                    key_name: draft.key_name,
                    source: draft.source,
                    action: draft.action.to_string(),
                    target: draft.target,
                    outcome: draft.outcome,
                    detail: draft.detail,
                });
                self.next_audit_seq += 1;
            }
            Entry::JobUpdate(update) => pending.job_update(update),
            Entry::Event(draft) => {
                batch.events.push(EventRow {
                    seq: self.next_event_seq,
                    ts_ms: now_ms(),
                    kind: draft.kind.as_str().to_string(),
                    job_id: draft.job_id,
                    depth: draft.depth.map(i64::from),
                    data: draft.data,
                });
                self.next_event_seq += 1;
            }
            Entry::Process(node_id, process) => {
                pending.processes.insert(node_id, process);
            }
            Entry::LlmCall(row) => batch.llm_calls.push(*row),
            Entry::Budget(row) => pending.budget(row),
            Entry::Approval(row) => pending.approval(*row),
            Entry::Alert(row) => pending.alert(*row),
            Entry::Agent(row) => pending.agent(*row),
            Entry::Delegation(row) => pending.delegation(*row),
            Entry::Message(row) => pending.message(*row),
            Entry::Flush(done) => pending.flushes.push(done),
        }
    }

    async fn commit(&mut self, mut pending: Pending) {
        for (node_id, process) in pending.processes.drain() {
            match process {
                Some(process) => pending.batch.process_starts.push(process),
                None => pending.batch.process_ends.push(node_id),
            }
        }
        let outcome = self.store_with_retry(&pending.batch).await;
        if let Some(tail) = self.events.tail() {
            // A replica: the tail reads what was stored, numbered by the cluster, and publishes it.
            tail.notify_one();
        } else if let (Ok(()), Some(last)) = (&outcome, pending.batch.events.last()) {
            self.events.stored_up_to(last.seq);
        }
        // With no subscriber there is nobody to build events for: they are in the log for replay.
        let tailed = self.events.tail().is_some();
        if outcome.is_ok() && !tailed && !pending.batch.events.is_empty() && !self.events.is_unheard() {
            let published: Vec<Arc<Event>> =
                pending.batch.events.iter().map(|row| Arc::new(Event::from_row(row))).collect();
            self.events.publish(&published);
        }
        let answer = self.answer_for_flushes(outcome, !pending.flushes.is_empty());
        for done in pending.flushes {
            let _ = done.send(answer.clone());
        }
    }

    /// What the batch's flushes are told: its own outcome, or an earlier batch's failure that
    /// no flush has reported yet (a flush whose batch held nothing must not answer "stored"
    /// for changes an earlier batch lost).
    fn answer_for_flushes(&mut self, outcome: Result<(), JournalError>, flushing: bool) -> Result<(), JournalError> {
        if !flushing {
            if let Err(err) = outcome {
                self.unreported.get_or_insert(err);
            }
            return Ok(());
        }
        match self.unreported.take() {
            Some(earlier) if outcome.is_ok() => Err(earlier),
            _ => outcome,
        }
    }

    /// Another replica has this one's jobs: nothing more may be written, ever.
    fn fenced(&self) -> JournalError {
        self.health.fenced.store(true, Ordering::Relaxed);
        tracing::error!("the cluster has declared this replica gone: its writes are refused");
        JournalError::fenced()
    }

    async fn store_with_retry(&self, batch: &Batch) -> Result<(), JournalError> {
        if self.health.fenced.load(Ordering::Relaxed) {
            // For good, and even for a batch with nothing in it, which the store does not visit.
            return Err(JournalError::fenced());
        }
        let mut wait = FIRST_RETRY_WAIT;
        let mut rejected = 0;
        loop {
            self.health.committing_since_ms.store(now_ms(), Ordering::Relaxed);
            let applied = self.store.apply(batch).await;
            self.health.committing_since_ms.store(0, Ordering::Relaxed);
            match applied {
                Ok(()) => {
                    self.health.unreachable.store(false, Ordering::Relaxed);
                    return Ok(());
                }
                Err(StoreError::Fenced) => return Err(self.fenced()),
                Err(err) => {
                    self.health.unreachable.store(matches!(err, StoreError::Unavailable(_)), Ordering::Relaxed);
                    if !matches!(err, StoreError::Unavailable(_)) {
                        rejected += 1;
                    }
                    log_failed_commit(&err, rejected);
                    if rejected >= MAX_REJECTED_ATTEMPTS {
                        return Err(JournalError(err.to_string()));
                    }
                }
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(MAX_RETRY_WAIT);
        }
    }
}

#[cfg(test)]
#[path = "journal_tests.rs"]
mod tests;
