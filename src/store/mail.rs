//! Mailboxes' rows (migration 0011): each message as it stands, written through the journal
//! like job state (the last state of a message per batch), and the reads that rebuild the
//! mailboxes at start and list a job's messages. A trait of its own, which
//! [`Store`](super::Store) requires, so these statements stay out of `sql.rs`.

use async_trait::async_trait;
use sqlx::FromRow;
use uuid::Uuid;

use super::StoreResult;

/// A message between nodes.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct MessageRow {
    pub id: Uuid,
    pub job_id: Uuid,
    /// The recipient node.
    pub to_node: Uuid,
    /// The sending node, when a worker sent it.
    pub from_node: Option<Uuid>,
    /// Who sent it: a key's name, `node:<id>`, or `cadre` for a notice.
    pub sender: String,
    pub thread_id: Option<String>,
    /// 0–9, 9 the most urgent.
    pub priority: i64,
    /// JSON.
    pub body: String,
    /// `pending`, `delivered`, `acknowledged`, `dead`.
    pub state: String,
    pub deliveries: i64,
    /// Not delivered again before this (a delivered message's visibility timeout).
    pub visible_ms: i64,
    pub expires_ms: Option<i64>,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub dead_reason: Option<String>,
}

#[async_trait]
pub trait MailStore: Send + Sync {
    /// Every message neither acknowledged nor dead, oldest first.
    async fn open_messages(&self) -> StoreResult<Vec<MessageRow>>;
    /// A job's messages in one state (all when `None`), oldest first, at most `limit`.
    async fn job_messages(&self, job_id: Uuid, state: Option<&str>, limit: i64) -> StoreResult<Vec<MessageRow>>;
}

/// [`MailStore`] for a store with a `pool`, expanded beside `sql_store!`.
macro_rules! sql_mail {
    ($store:ident) => {
        #[async_trait::async_trait]
        impl $crate::store::MailStore for $store {
            async fn open_messages(&self) -> $crate::store::StoreResult<Vec<$crate::store::MessageRow>> {
                let sql = "select * from messages where state in ('pending', 'delivered') order by created_ms, id";
                Ok(sqlx::query_as(sql).fetch_all(&self.pool).await?)
            }

            async fn job_messages(
                &self,
                job_id: uuid::Uuid,
                state: Option<&str>,
                limit: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::MessageRow>> {
                let sql = "select * from messages where job_id = $1 and (cast($2 as text) is null or state = $2) \
                           order by created_ms, id limit $3";
                Ok(sqlx::query_as(sql).bind(job_id).bind(state).bind(limit).fetch_all(&self.pool).await?)
            }
        }
    };
}

pub(super) use sql_mail;
