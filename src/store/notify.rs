//! Webhook delivery bookkeeping: each webhook's cursor in the event log (migration 0007),
//! read when its delivery task starts and written by that task after each delivery. A trait
//! of its own, which [`Store`](super::Store) requires, because it is no job state: it never
//! goes through the journal, and its two statements are the same on both backends.

use async_trait::async_trait;

use super::StoreResult;

/// Where webhooks stand in the event log.
#[async_trait]
pub trait NotifyStore: Send + Sync {
    /// The seq a webhook has handled every event up to, if one was ever stored.
    async fn webhook_cursor(&self, name: &str) -> StoreResult<Option<i64>>;
    /// Records that a webhook has handled every event up to `last_seq`.
    async fn store_webhook_cursor(&self, name: &str, last_seq: i64, now_ms: i64) -> StoreResult<()>;
}

/// [`NotifyStore`] for a store with a `pool`, expanded beside `sql_store!`.
macro_rules! sql_notify {
    ($store:ident) => {
        #[async_trait::async_trait]
        impl $crate::store::NotifyStore for $store {
            async fn webhook_cursor(&self, name: &str) -> $crate::store::StoreResult<Option<i64>> {
                let row: Option<(i64,)> = sqlx::query_as("select last_seq from webhook_cursors where name = $1")
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(|(seq,)| seq))
            }

            async fn store_webhook_cursor(
                &self,
                name: &str,
                last_seq: i64,
                now_ms: i64,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "insert into webhook_cursors (name, last_seq, updated_ms) values ($1, $2, $3) \
                     on conflict (name) do update set last_seq = excluded.last_seq, updated_ms = excluded.updated_ms",
                )
                .bind(name)
                .bind(last_seq)
                .bind(now_ms)
                .execute(&self.pool)
                .await?;
                Ok(())
            }
        }
    };
}

pub(super) use sql_notify;
