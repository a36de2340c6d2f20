//! The PostgreSQL store (production).

use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};

use uuid::Uuid;

use super::cluster::{write_fenced, ClusterStore, Clustered};
use super::sql::sql_store;
use super::{Backend, Batch, StoreResult};

/// Connections in the pool: the journal's writer holds one, readers share the rest.
const MAX_CONNECTIONS: u32 = 16;
/// How long a query waits for a free connection before the store counts as unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// A PostgreSQL-backed store.
#[derive(Clone)]
pub struct PgStore {
    pub(super) pool: PgPool,
    /// The replica this store's journal writes are fenced to, once it joined a cluster.
    pub(super) fence: std::sync::Arc<std::sync::OnceLock<Uuid>>,
}

impl PgStore {
    /// Connects and applies pending migrations.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let pool =
            PgPoolOptions::new().max_connections(MAX_CONNECTIONS).acquire_timeout(ACQUIRE_TIMEOUT).connect(url).await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Self { pool, fence: std::sync::Arc::default() })
    }

    /// A journal batch: fenced and numbered by the cluster once this replica has joined one.
    async fn write_batch(&self, batch: &Batch) -> StoreResult<()> {
        match self.fence.get() {
            Some(replica) => write_fenced(&self.pool, batch, *replica).await,
            None => Ok(super::pg_bulk::write_batch(&self.pool, batch).await?),
        }
    }
}

impl Clustered for PgStore {
    fn cluster(&self) -> Option<&dyn ClusterStore> {
        Some(self)
    }
}

sql_store!(PgStore, sqlx::Postgres, Backend::Postgres);
super::lineage::sql_lineage!(PgStore);
