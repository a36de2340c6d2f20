//! Persistence: the [`Store`] trait and its PostgreSQL and SQLite implementations.
//!
//! All SQL lives under this module. The engine and the API see rows and [`Batch`]es, never a
//! connection. Both backends share one implementation (see [`sql`]): the queries are written
//! once in portable SQL and compiled for each database, so the same test suite proves both.
//! Hot-path writes arrive as a [`Batch`] — many node transitions and events in one
//! transaction and a handful of multi-row statements — which is what makes durability cheap.

pub mod claim;
pub mod cluster;
mod cluster_quota;
mod fold;
mod lineage;
mod mail;
mod notify;
mod people_rows;
mod pg_bulk;
mod rows;
mod sql;
mod sql_people;
mod sql_writes;
mod workforce;

pub mod postgres;
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use uuid::Uuid;

pub use cluster::{ClusterStore, Clustered, Orphan, ReplicaRow};
pub use cluster_quota::AgentWant;
pub use lineage::{DescendantQuery, LineageRow, LineageStore};
pub use mail::{MailStore, MessageRow};
pub use notify::NotifyStore;
pub use people_rows::*;
pub use rows::*;
pub use workforce::{AgentRow, AgentSpend, DelegationRow, TaskRow, WorkforceStore};

/// How a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached (connection refused, pool timed out, closed).
    #[error("the store is unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// The database answered with an error.
    #[error("store query failed: {0}")]
    Query(#[source] sqlx::Error),
    /// Migrations could not be applied.
    #[error("store migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value could not be read back.
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    /// This replica's row is no longer live: another replica has taken its jobs over, so its
    /// writes are refused (`cluster.rs`).
    #[error("this replica was declared gone by the cluster; its writes are refused")]
    Fenced,
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => Self::Unavailable(err),
            sqlx::Error::Database(ref db) if db.code().is_some_and(|code| is_unavailable_code(&code)) => {
                Self::Unavailable(err)
            }
            sqlx::Error::Database(ref db) if is_sqlite_busy(db.as_ref()) => Self::Unavailable(err),
            other => Self::Query(other),
        }
    }
}

/// SQLite's primary result codes for a database another connection holds locked past the
/// busy timeout: the store is there but not answering, like an unreachable server, so the
/// journal must keep its batch and retry rather than count it as rejected.
const SQLITE_BUSY: i32 = 5;
const SQLITE_LOCKED: i32 = 6;
/// Extended result codes carry the primary code in their low byte.
const SQLITE_PRIMARY_MASK: i32 = 0xff;

fn is_sqlite_busy(db: &dyn sqlx::error::DatabaseError) -> bool {
    let sqlite = db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some();
    sqlite
        .then(|| db.code())
        .flatten()
        .and_then(|code| code.parse::<i32>().ok())
        .is_some_and(|code| matches!(code & SQLITE_PRIMARY_MASK, SQLITE_BUSY | SQLITE_LOCKED))
}

/// SQLSTATE classes that mean the server went away rather than that the query was wrong:
/// 08 (connection exception) and 57P (operator intervention: shutting down, restarting).
fn is_unavailable_code(code: &str) -> bool {
    code.starts_with("08") || code.starts_with("57P")
}

/// Result of store operations.
pub type StoreResult<T> = Result<T, StoreError>;

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// PostgreSQL (production).
    Postgres,
    /// Embedded SQLite (the zero-set-up default).
    Sqlite,
}

/// Everything cadre keeps (webhooks' cursors through [`NotifyStore`]; reads up and down a
/// tree through [`LineageStore`]; the agent registry and delegations through [`WorkforceStore`];
/// the replicas of a cluster through [`Clustered`]).
#[async_trait]
pub trait Store: NotifyStore + LineageStore + WorkforceStore + MailStore + Clustered + Send + Sync + 'static {
    /// Which database this is.
    fn backend(&self) -> Backend;
    /// Checks the database answers.
    async fn ping(&self) -> StoreResult<()>;
    /// Writes a batch of changes in one transaction (group commit).
    async fn apply(&self, batch: &Batch) -> StoreResult<()>;
    /// One job.
    async fn job(&self, id: Uuid) -> StoreResult<Option<JobRow>>;
    /// The job submitted with this idempotency key, if any.
    async fn job_by_idempotency_key(&self, key: &str) -> StoreResult<Option<JobRow>>;
    /// One node.
    async fn node(&self, id: Uuid) -> StoreResult<Option<NodeRow>>;
    /// Every node of a job, parents before children.
    async fn job_nodes(&self, job_id: Uuid) -> StoreResult<Vec<NodeRow>>;
    /// A page of jobs, newest first; `result` is left out (`None`): a list never shows it.
    async fn list_jobs(&self, query: &JobQuery) -> StoreResult<Vec<JobRow>>;
    /// The worker process groups recorded as running.
    async fn processes(&self) -> StoreResult<Vec<ProcessRow>>;
    /// Forgets every recorded process group (once they have been stopped).
    async fn forget_processes(&self) -> StoreResult<()>;
    /// Jobs in one status, oldest first (the admission queue order).
    async fn jobs_in_status(&self, status: &str) -> StoreResult<Vec<JobRow>>;
    /// The highest job and event sequence numbers stored.
    async fn sequences(&self) -> StoreResult<Sequences>;
    /// Stored statuses of the given nodes.
    async fn node_statuses(&self, ids: &[Uuid]) -> StoreResult<Vec<NodeStatusRow>>;
    /// Node counts by depth and status over jobs that have not ended.
    async fn active_node_counts(&self) -> StoreResult<Vec<DepthStatusCount>>;
    /// Nodes started or finished since `since_ms`.
    async fn node_activity(&self, since_ms: i64) -> StoreResult<Vec<NodeActivityRow>>;
    /// Job counts by status.
    async fn job_counts(&self) -> StoreResult<Vec<StatusCount>>;
    /// Adds an API key (hash only).
    async fn insert_api_key(&self, key: &ApiKeyRow) -> StoreResult<()>;
    /// Every API key.
    async fn api_keys(&self) -> StoreResult<Vec<ApiKeyRow>>;
    /// Marks a key revoked; false when it is unknown or was already revoked.
    async fn revoke_api_key(&self, id: Uuid, now_ms: i64) -> StoreResult<bool>;
    /// Records when keys were last used.
    async fn touch_api_keys(&self, used: &[(Uuid, i64)]) -> StoreResult<()>;
    /// A page of the audit log, newest first.
    async fn audit(&self, query: &AuditQuery) -> StoreResult<Vec<AuditRow>>;
    /// Records per-depth usage samples and forgets those older than `keep_since_ms`.
    async fn record_usage(&self, samples: &[UsageSampleRow], keep_since_ms: i64) -> StoreResult<()>;
    /// Usage samples since `since_ms`, oldest first.
    async fn usage_since(&self, since_ms: i64) -> StoreResult<Vec<UsageSampleRow>>;
    /// Up to `limit` events after `seq`, in order, of one job or of all.
    async fn events_after(&self, seq: i64, job_id: Option<Uuid>, limit: i64) -> StoreResult<Vec<EventRow>>;
    /// The oldest stored event's seq (0 when the log is empty).
    async fn oldest_event_seq(&self) -> StoreResult<i64>;
    /// Forgets events older than `before_ms` (the replay retention).
    async fn prune_events(&self, before_ms: i64) -> StoreResult<u64>;
    /// One node's ledger rows, by attempt, turn and time.
    async fn llm_calls(&self, job_id: Uuid, node_id: Uuid) -> StoreResult<Vec<LlmCallRow>>;
    /// What each node of a job spent (nodes without ledger rows are left out).
    async fn job_usage(&self, job_id: Uuid) -> StoreResult<Vec<NodeUsageRow>>;
    /// The books of a job's budget envelopes.
    async fn job_budgets(&self, job_id: Uuid) -> StoreResult<Vec<BudgetRow>>;
    /// What each of a job's ledger rows spent, for its budget's books after a restart.
    async fn job_spending(&self, job_id: Uuid) -> StoreResult<Vec<SpendRow>>;
    /// What each depth spent since `since_ms` (depths without ledger rows are left out).
    async fn usage_by_depth(&self, since_ms: i64) -> StoreResult<Vec<DepthUsageRow>>;
    /// One approval request.
    async fn approval(&self, id: Uuid) -> StoreResult<Option<ApprovalRow>>;
    /// A page of approval requests, newest first.
    async fn approvals(&self, query: &ApprovalQuery) -> StoreResult<Vec<ApprovalRow>>;
    /// Every approval request of a job, oldest first.
    async fn job_approvals(&self, job_id: Uuid) -> StoreResult<Vec<ApprovalRow>>;
    /// A page of alerts, newest first.
    async fn alerts(&self, query: &AlertQuery) -> StoreResult<Vec<AlertRow>>;
}

/// A shared store.
pub type SharedStore = Arc<dyn Store>;

/// Opens the store named by `database_url` (PostgreSQL), or the SQLite file under
/// `data_dir`, and applies pending migrations.
pub async fn open(database_url: Option<&str>, data_dir: &std::path::Path) -> StoreResult<SharedStore> {
    match database_url {
        Some(url) if url.starts_with("sqlite:") => Ok(Arc::new(sqlite::SqliteStore::connect_url(url).await?)),
        Some(url) => Ok(Arc::new(postgres::PgStore::connect(url).await?)),
        None => Ok(Arc::new(sqlite::SqliteStore::open_dir(data_dir).await?)),
    }
}
