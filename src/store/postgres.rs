//! The PostgreSQL store (production).

use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};

use super::pg_bulk::write_batch;
use super::sql::sql_store;
use super::{Backend, StoreResult};

/// Connections in the pool: the journal's writer holds one, readers share the rest.
const MAX_CONNECTIONS: u32 = 16;
/// How long a query waits for a free connection before the store counts as unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// A PostgreSQL-backed store.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects and applies pending migrations.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let pool =
            PgPoolOptions::new().max_connections(MAX_CONNECTIONS).acquire_timeout(ACQUIRE_TIMEOUT).connect(url).await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Self { pool })
    }
}

sql_store!(PgStore, sqlx::Postgres, Backend::Postgres);
super::lineage::sql_lineage!(PgStore);
