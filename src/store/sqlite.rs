//! The embedded SQLite store: the zero-set-up default (`$CADRE_DATA_DIR/cadre.db`).
//!
//! WAL mode lets readers run beside the single writer; `synchronous = FULL` makes every
//! commit durable, which group commit makes affordable.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

use super::sql::sql_store;
use super::{Backend, StoreError, StoreResult};

/// The database file inside the data directory.
pub const DB_FILE: &str = "cadre.db";
/// Readers plus the one writer; SQLite serialises writers anyway.
const MAX_CONNECTIONS: u32 = 8;
/// How long a writer waits on a lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A SQLite-backed store.
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) `dir/cadre.db`.
    pub async fn open_dir(dir: &Path) -> StoreResult<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Corrupt(format!("cannot create data directory {}: {e}", dir.display())))?;
        Self::open(SqliteConnectOptions::new().filename(dir.join(DB_FILE))).await
    }

    /// Opens a `sqlite:` URL.
    pub async fn connect_url(url: &str) -> StoreResult<Self> {
        Self::open(SqliteConnectOptions::from_str(url)?).await
    }

    async fn open(options: SqliteConnectOptions) -> StoreResult<Self> {
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new().max_connections(MAX_CONNECTIONS).connect_with(options).await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Self { pool })
    }
}

sql_store!(SqliteStore, sqlx::Sqlite, Backend::Sqlite);

impl SqliteStore {
    /// A journal batch as one transaction.
    async fn write_batch(&self, batch: &super::Batch) -> StoreResult<()> {
        Ok(write_batch(&self.pool, batch).await?)
    }
}

impl super::Clustered for SqliteStore {
    /// None: one server owns a SQLite file.
    fn cluster(&self) -> Option<&dyn super::ClusterStore> {
        None
    }
}
super::lineage::sql_lineage!(SqliteStore);
super::sql_writes::sql_batch_writes!(sqlx::Sqlite);
super::sql_writes::values_bulk_writes!(sqlx::Sqlite);

/// A journal batch as one transaction of multi-row statements, updates of the rows it
/// inserts folded into the inserts (`fold`).
async fn write_batch(pool: &SqlitePool, batch: &super::Batch) -> Result<(), sqlx::Error> {
    let folded = super::fold::Folded::of(batch);
    let mut tx = pool.begin().await?;
    insert_jobs(&mut tx, &folded).await?;
    insert_nodes(&mut tx, &folded).await?;
    update_nodes(&mut tx, &folded.node_updates).await?;
    update_jobs(&mut tx, &folded.job_updates).await?;
    insert_logs(&mut tx, batch).await?;
    tx.commit().await
}

/// The rows that are only ever appended or dropped (events, audit entries, process records,
/// ledger rows), and the budgets' books and approval requests, which are replaced whole.
async fn insert_logs(tx: &mut Tx<'_>, batch: &super::Batch) -> Result<(), sqlx::Error> {
    insert_events(tx, &batch.events).await?;
    insert_audit(tx, &batch.audit).await?;
    record_processes(tx, batch).await?;
    insert_llm_calls(tx, &batch.llm_calls).await?;
    upsert_budgets(tx, &batch.budgets).await?;
    upsert_approvals(tx, &batch.approvals).await?;
    upsert_alerts(tx, &batch.alerts).await?;
    insert_rooms(tx, batch).await
}

/// The rows of the rooms beside the engine: the workforce's and the mailboxes'.
async fn insert_rooms(tx: &mut Tx<'_>, batch: &super::Batch) -> Result<(), sqlx::Error> {
    write_agents(tx, &batch.agents).await?;
    upsert_delegations(tx, &batch.delegations).await?;
    upsert_messages(tx, &batch.messages).await
}
