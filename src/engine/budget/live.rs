//! A job's budget at run time: the accounting of [`super::Budgets`] behind one mutex shared
//! by the job's driver (envelopes open and close as nodes start and end), its callers of
//! models (a reservation before each call) and the ledger (the settlement after it, the
//! charge of a reported usage). A reservation is checked and taken under the lock, so
//! concurrent calls never overspend; every envelope whose books change is written to the
//! journal in the same step, riding its batches — no round trip of its own.
//!
//! [`Budgeting`] holds the books of every running job for the ledger and the metrics.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Amount, Books, Budgets, CallKey, Crossed, Exhausted, Grant, Limit, OnExhausted, Stored};
use crate::engine::journal::Journal;
use crate::events::{EventDraft, EventKind};
use crate::people::alerts::Rule;
use crate::store::{BudgetRow, LlmCallRow};

/// How a node's error starts when its envelope could not cover a call (never retried: the
/// money does not come back on a schedule).
pub const BUDGET_EXCEEDED: &str = "budget_exceeded";

/// Whether an attempt's error is (or reports) a budget refusal.
pub fn is_refusal(error: &str) -> bool {
    error.contains(REFUSAL_MARK)
}

/// How a refusal's message begins, wherever it is quoted.
const REFUSAL_MARK: &str = "budget_exceeded: ";

/// An envelope's books as stored (`node_budgets.books`) and shown: cost in millionths.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredBooks {
    pub allocated: Limit,
    pub reserved: Amount,
    pub spent: Amount,
    pub returned: Amount,
    pub policy: OnExhausted,
    /// Still open (its node has not ended).
    pub open: bool,
}

/// What `/metrics` counts of budgets since the server started.
#[derive(Debug, Default)]
pub struct Meters {
    pub reservations: AtomicU64,
    pub refusals: AtomicU64,
    pub warnings: AtomicU64,
}

/// Where a node sits, for the books and the events.
#[derive(Debug, Clone)]
pub struct Seat {
    pub id: Uuid,
    pub parent: Option<Uuid>,
    pub name: Arc<str>,
    pub depth: u8,
}

struct Live {
    books: Budgets<Uuid>,
    seats: HashMap<Uuid, (Arc<str>, u8)>,
}

/// One job's books.
pub struct JobBudget {
    job_id: Uuid,
    journal: Journal,
    meters: Arc<Meters>,
    live: Mutex<Live>,
    /// The `budget` alert rule: the percentage that raises an alert, and the alerts' meters.
    alerting: Option<Alerting>,
}

/// The `budget` alert rule as a job's books apply it.
pub type Alerting = (u8, Arc<crate::people::alerts::Meters>);

impl JobBudget {
    /// The books of a job whose root `root` holds `limit` (unlimited: nothing is stored for
    /// the root, and only nodes with envelopes of their own are held to anything).
    fn new(job_id: Uuid, root: &Seat, limit: Limit, budgeting: &Budgeting) -> Self {
        let books = Budgets::new(root.id, limit, OnExhausted::Fail);
        let seats = HashMap::from([(root.id, (root.name.clone(), root.depth))]);
        let (journal, meters, alerting) =
            (budgeting.journal.clone(), budgeting.meters.clone(), budgeting.alerting.get().cloned());
        let budget = Self { job_id, journal, meters, live: Mutex::new(Live { books, seats }), alerting };
        budget.write(&budget.lock(), &[root.id]);
        budget
    }

    fn lock(&self) -> MutexGuard<'_, Live> {
        self.live.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Tells the books of nodes added to the job (at its start, by a spawn).
    pub fn link(&self, seats: impl IntoIterator<Item = Seat>) {
        let mut live = self.lock();
        for seat in seats {
            if let Some(parent) = seat.parent {
                live.books.link(seat.id, parent);
            }
            live.seats.insert(seat.id, (seat.name, seat.depth));
        }
    }

    /// Replaces the books with those rebuilt from what a previous server stored.
    pub fn rebuild(&self, root: Uuid, limit: Limit, stored: Stored<Uuid>) {
        let mut live = self.lock();
        live.books = Budgets::restore(root, limit, stored);
    }

    /// A node starts: its envelope is made per `grant`; refused with the node's error.
    pub fn open(&self, node: Uuid, parent: Uuid, grant: Grant, policy: OnExhausted) -> Result<(), String> {
        let mut live = self.lock();
        let opened = live.books.open(node, parent, grant, policy);
        if let Err(refused) = opened {
            self.meters.refusals.fetch_add(1, Ordering::Relaxed);
            let what = format!("node '{}' asks for {} for its envelope", self.name(&live, node), grant_text(grant));
            return Err(refusal(&live, &what, &refused));
        }
        let chain = live.books.chain(node);
        self.write(&live, &chain);
        Ok(())
    }

    /// A node ended: its reservations are released and its envelope (with any still open
    /// below it) closes.
    pub fn close(&self, node: Uuid) {
        let mut live = self.lock();
        let released = live.books.reserves_within(node);
        let closed = live.books.close(node);
        if closed.is_empty() && !released {
            return;
        }
        for (envelope, books, policy) in &closed {
            self.store(envelope, stored(books, *policy, false));
        }
        let chain = live.books.chain(node);
        self.write(&live, &chain);
    }

    /// Reserves the most a call can cost (`most`, worked out only when the call draws on a
    /// limited envelope), or refuses it with the node's error. Against an unlimited envelope
    /// (and so none above it) nothing is held back: the call's row is charged when recorded.
    pub fn reserve(&self, key: CallKey<Uuid>, most: impl FnOnce() -> Amount) -> Result<(), String> {
        let mut live = self.lock();
        let target = live.books.envelope_of(key.0);
        if live.books.books_of(target).is_none_or(|b| b.allocated == Limit::UNLIMITED) {
            return Ok(());
        }
        let most = most();
        match live.books.reserve(key, most) {
            Ok(_) => {
                self.meters.reservations.fetch_add(1, Ordering::Relaxed);
                let chain = live.books.chain(key.0);
                self.write(&live, &chain);
                Ok(())
            }
            Err(refused) => {
                self.meters.refusals.fetch_add(1, Ordering::Relaxed);
                let what = format!("a call of node '{}' may cost up to {}", self.name(&live, key.0), amount_text(most));
                Err(refusal(&live, &what, &refused))
            }
        }
    }

    /// A ledger row: the call it records is settled, or, when nothing was reserved for it (a
    /// reported usage), charged.
    pub fn record(&self, row: &LlmCallRow) {
        let actual = Amount::of_call(row.cost, row.input_tokens, row.output_tokens);
        let attempt = u32::try_from(row.attempt).unwrap_or(0);
        let key = (row.node_id, attempt, u32::try_from(row.turn).unwrap_or(0));
        let mut live = self.lock();
        let crossed = if live.books.is_reserved(key) {
            live.books.settle(key, actual)
        } else {
            live.books.charge(row.node_id, actual)
        };
        let chain = live.books.chain(row.node_id);
        self.write(&live, &chain);
        for level in crossed {
            self.warn(&live, row.node_id, level);
        }
    }

    /// What a node spawning children may give them in all: what its envelope has left,
    /// and what the envelopes above could top it up with.
    pub fn reachable(&self, node: Uuid) -> (Limit, Arc<str>) {
        let live = self.lock();
        let envelope = live.books.envelope_of(node);
        (live.books.reachable(envelope), self.name(&live, envelope))
    }

    /// The books of every envelope in `chain` that holds a limit, to the journal.
    fn write(&self, live: &Live, chain: &[Uuid]) {
        for node in chain {
            let Some(books) = live.books.books_of(*node) else { continue };
            if books.allocated != Limit::UNLIMITED {
                self.store(node, stored(books, live.books.policy_of(*node), true));
            }
        }
    }

    fn store(&self, node: &Uuid, books: StoredBooks) {
        let books = serde_json::to_string(&books).unwrap_or_default();
        self.journal.budget(BudgetRow { node_id: *node, job_id: self.job_id, books });
    }

    fn warn(&self, live: &Live, by: Uuid, crossed: Crossed<Uuid>) {
        let Some(books) = live.books.books_of(crossed.envelope) else { return };
        self.meters.warnings.fetch_add(1, Ordering::Relaxed);
        let depth = live.seats.get(&crossed.envelope).map(|seat| seat.1);
        let data = serde_json::json!({
            "node_id": crossed.envelope, "name": &*self.name(live, crossed.envelope), "by": by,
            "percent": crossed.percent, "allocated": limit_json(books.allocated), "spent": amount_json(books.spent),
        });
        self.journal.emit(EventDraft::job(EventKind::BudgetWarning, self.job_id, depth, &data));
        if let Some((at, meters)) = self.alerting.as_ref().filter(|(at, _)| *at > 0 && crossed.percent >= *at) {
            let name = self.name(live, crossed.envelope);
            let message = format!("'{name}' has spent {} % of its budget (the alert is at {at} %)", crossed.percent);
            let alert =
                crate::people::alerts::fire(Rule::Budget, Some(self.job_id), Some(crossed.envelope), message, &data);
            self.journal.alert(alert, depth);
            meters.count(Rule::Budget);
        }
    }

    fn name(&self, live: &Live, node: Uuid) -> Arc<str> {
        live.seats.get(&node).map_or_else(|| node.to_string().into(), |seat| seat.0.clone())
    }
}

fn stored(books: &Books, policy: OnExhausted, open: bool) -> StoredBooks {
    StoredBooks {
        allocated: books.allocated,
        reserved: books.reserved,
        spent: books.spent,
        returned: books.returned,
        policy,
        open,
    }
}

/// The node's error for a refusal: what was asked, and what the envelope had.
fn refusal(live: &Live, what: &str, refused: &Exhausted<Uuid>) -> String {
    let name = live.seats.get(&refused.envelope).map_or_else(|| refused.envelope.to_string(), |s| s.0.to_string());
    format!("{BUDGET_EXCEEDED}: {what}, and the envelope of '{name}' has {} left", limit_text(refused.available))
}

/// A cost in the providers' currency from millionths.
pub fn cost_of(micros: i64) -> f64 {
    micros as f64 / 1_000_000.0
}

/// `cost 0.6 and 1200 tokens`.
pub(crate) fn amount_text(amount: Amount) -> String {
    format!("cost {} and {} tokens", cost_of(amount.micros), amount.tokens)
}

/// `cost 0.5 and unlimited tokens`.
pub(crate) fn limit_text(limit: Limit) -> String {
    let cost = limit.micros.map_or_else(|| "unlimited cost".to_string(), |m| format!("cost {}", cost_of(m)));
    let tokens = limit.tokens.map_or_else(|| "unlimited tokens".to_string(), |t| format!("{t} tokens"));
    format!("{cost} and {tokens}")
}

fn grant_text(grant: Grant) -> String {
    match grant {
        Grant::Amount(limit) => limit_text(limit),
        Grant::Share(fraction) => format!("a share of {fraction}"),
        Grant::Draw => "nothing of its own".into(),
    }
}

fn limit_json(limit: Limit) -> serde_json::Value {
    serde_json::json!({"cost": limit.micros.map(cost_of), "tokens": limit.tokens})
}

fn amount_json(amount: Amount) -> serde_json::Value {
    serde_json::json!({"cost": cost_of(amount.micros), "tokens": amount.tokens})
}

/// The books of every running job, for the ledger and the metrics.
pub struct Budgeting {
    journal: Journal,
    meters: Arc<Meters>,
    jobs: Mutex<HashMap<Uuid, Arc<JobBudget>>>,
    /// The `budget` alert rule, once the engine has set it.
    alerting: std::sync::OnceLock<Alerting>,
}

impl Budgeting {
    pub fn new(journal: Journal) -> Self {
        Self { journal, meters: Arc::default(), jobs: Mutex::default(), alerting: std::sync::OnceLock::new() }
    }

    /// Sets the `budget` alert rule: an envelope that spends `percent` raises an alert (0: off).
    pub fn alert_at(&self, percent: u8, meters: Arc<crate::people::alerts::Meters>) {
        let _ = self.alerting.set((percent, meters));
    }

    fn jobs(&self) -> MutexGuard<'_, HashMap<Uuid, Arc<JobBudget>>> {
        self.jobs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The books of a job starting (or picked up after a restart).
    pub fn start(&self, job_id: Uuid, root: &Seat, limit: Limit) -> Arc<JobBudget> {
        let budget = Arc::new(JobBudget::new(job_id, root, limit, self));
        self.jobs().insert(job_id, budget.clone());
        budget
    }

    /// The job has ended (or its driver stopped): its books are no longer live.
    pub fn end(&self, job_id: Uuid) {
        self.jobs().remove(&job_id);
    }

    /// The books of a running job.
    pub fn of(&self, job_id: Uuid) -> Option<Arc<JobBudget>> {
        self.jobs().get(&job_id).cloned()
    }

    pub fn meters(&self) -> &Meters {
        &self.meters
    }
}
