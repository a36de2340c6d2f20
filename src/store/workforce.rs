//! The workforce's rows (migration 0009): the registry (`agents`) and which agent each
//! staffed node was given (`delegations`), written through the journal like job state, and
//! the reads the registry, the driver's restore and the per-agent figures need. A trait of its
//! own, which [`Store`](super::Store) requires, so these statements stay out of `sql.rs`.

use async_trait::async_trait;
use sqlx::FromRow;
use uuid::Uuid;

use super::StoreResult;

/// A registered agent as stored; `removed` (no column) marks a deletion for the journal.
#[derive(Debug, Clone, FromRow)]
pub struct AgentRow {
    pub name: String,
    /// `active`, `paused`, `retired`.
    pub status: String,
    pub reports_to: Option<String>,
    /// The agent as JSON.
    pub body: String,
    pub created_ms: i64,
    pub updated_ms: i64,
    #[sqlx(skip)]
    pub removed: bool,
}

/// A staffed node's delegation: waiting for an agent, given one, or timed out waiting.
#[derive(Debug, Clone, FromRow)]
pub struct DelegationRow {
    pub node_id: Uuid,
    pub job_id: Uuid,
    pub agent: Option<String>,
    /// `waiting`, `assigned`, `timed_out`.
    pub state: String,
    pub reason: String,
    pub requested_ms: i64,
    pub assigned_ms: Option<i64>,
}

/// A task an agent took on, with its node's outcome (shown as it is by `GET /agents/{name}`).
#[derive(Debug, Clone, FromRow, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[schema(as = Task)]
pub struct TaskRow {
    pub job_id: Uuid,
    pub node_id: Uuid,
    pub node_name: String,
    pub status: String,
    /// Why the agent was chosen.
    pub reason: String,
    pub assigned_ms: i64,
    pub started_ms: Option<i64>,
    pub finished_ms: Option<i64>,
}

/// Tokens and cost of the model calls made by an agent's tasks.
#[derive(Debug, Clone, Copy, Default, FromRow)]
pub struct AgentSpend {
    pub tokens: i64,
    pub cost: f64,
}

#[async_trait]
pub trait WorkforceStore: Send + Sync {
    /// The whole registry.
    async fn agents(&self) -> StoreResult<Vec<AgentRow>>;
    /// Every delegation of a job.
    async fn job_delegations(&self, job_id: Uuid) -> StoreResult<Vec<DelegationRow>>;
    /// An agent's tasks assigned at or after `since_ms`, newest first, at most `limit`.
    async fn agent_tasks(&self, agent: &str, since_ms: i64, limit: i64) -> StoreResult<Vec<TaskRow>>;
    /// What an agent's tasks assigned at or after `since_ms` spent on models.
    async fn agent_spend(&self, agent: &str, since_ms: i64) -> StoreResult<AgentSpend>;
    /// Each agent's tasks that ended, as (agent, succeeded, failed).
    async fn agents_ended(&self) -> StoreResult<Vec<(String, i64, i64)>>;
}

/// [`WorkforceStore`] for a store with a `pool`, expanded beside `sql_store!`.
macro_rules! sql_workforce {
    ($store:ident) => {
        #[async_trait::async_trait]
        impl $crate::store::WorkforceStore for $store {
            async fn agents(&self) -> $crate::store::StoreResult<Vec<$crate::store::AgentRow>> {
                Ok(sqlx::query_as("select * from agents order by name").fetch_all(&self.pool).await?)
            }

            async fn job_delegations(
                &self,
                job_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Vec<$crate::store::DelegationRow>> {
                let sql = "select * from delegations where job_id = $1 order by requested_ms";
                Ok(sqlx::query_as(sql).bind(job_id).fetch_all(&self.pool).await?)
            }

            async fn agent_tasks(
                &self,
                agent: &str,
                since_ms: i64,
                limit: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::TaskRow>> {
                let sql = "select d.job_id, d.node_id, n.name as node_name, n.status, d.reason, \
                           d.assigned_ms, n.started_ms, n.finished_ms \
                           from delegations d join nodes n on n.id = d.node_id \
                           where d.agent = $1 and d.state = 'assigned' and d.assigned_ms >= $2 \
                           order by d.assigned_ms desc limit $3";
                Ok(sqlx::query_as(sql).bind(agent).bind(since_ms).bind(limit).fetch_all(&self.pool).await?)
            }

            async fn agent_spend(
                &self,
                agent: &str,
                since_ms: i64,
            ) -> $crate::store::StoreResult<$crate::store::AgentSpend> {
                let sql = "select cast(coalesce(sum(c.input_tokens + c.output_tokens), 0) as bigint) as tokens, \
                           cast(coalesce(sum(c.cost), 0) as double precision) as cost \
                           from llm_calls c join delegations d on d.node_id = c.node_id \
                           where d.agent = $1 and d.state = 'assigned' and d.assigned_ms >= $2";
                Ok(sqlx::query_as(sql).bind(agent).bind(since_ms).fetch_one(&self.pool).await?)
            }

            async fn agents_ended(&self) -> $crate::store::StoreResult<Vec<(String, i64, i64)>> {
                let sql = "select d.agent, \
                           cast(sum(case when n.status = 'succeeded' then 1 else 0 end) as bigint), \
                           cast(sum(case when n.status = 'failed' then 1 else 0 end) as bigint) \
                           from delegations d join nodes n on n.id = d.node_id \
                           where d.state = 'assigned' and d.agent is not null group by d.agent";
                Ok(sqlx::query_as(sql).fetch_all(&self.pool).await?)
            }
        }
    };
}

pub(super) use sql_workforce;
