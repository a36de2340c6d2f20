//! Hierarchy queries on one node: its ancestors and a page of its descendants, answered by
//! the database with `with recursive` walks over `nodes.parent_id` (indexed by migration
//! 0010) instead of loading the job's every node, so asking about one branch of a
//! million-node job costs that branch. A trait of its own, which [`Store`](super::Store)
//! requires, because its reads stand apart from the job's state and its statements are the
//! same on both backends.
//!
//! The rows leave out the spec, result, error and warnings: these answers name nodes, and a
//! result can be megabytes.

use async_trait::async_trait;
use sqlx::FromRow;
use uuid::Uuid;

use super::StoreResult;

/// A node without its spec or outcome: where it sits and how it stands.
#[derive(Debug, Clone, FromRow)]
pub struct LineageRow {
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    /// Position in the job's flat node list (parents first).
    pub position: i64,
    pub depth: i64,
    pub name: String,
    pub title: String,
    pub role: String,
    /// `orchestrator` or `worker`.
    pub kind: String,
    pub status: String,
    pub attempts: i64,
    pub started_ms: Option<i64>,
    pub finished_ms: Option<i64>,
}

/// A page of a node's descendants, in breadth-first order: by depth, then position.
#[derive(Debug, Clone, Copy)]
pub struct DescendantQuery {
    /// The deepest absolute depth to walk to (`None`: the whole subtree).
    pub max_depth: Option<i64>,
    /// Only rows after this `(depth, position)`: the cursor.
    pub after: Option<(i64, i64)>,
    pub limit: i64,
}

/// Reads up and down a job's tree.
#[async_trait]
pub trait LineageStore: Send + Sync {
    /// Node `node_id`, if it is one of job `job_id`'s.
    async fn lineage_node(&self, job_id: Uuid, node_id: Uuid) -> StoreResult<Option<LineageRow>>;
    /// The ancestors of node `node_id` of job `job_id`, nearest first (its parent, …, the
    /// root); empty for a root, and for a node that is not the job's.
    async fn ancestors(&self, job_id: Uuid, node_id: Uuid) -> StoreResult<Vec<LineageRow>>;
    /// A page of the nodes below node `node_id` of job `job_id` (not itself).
    async fn descendants(&self, job_id: Uuid, node_id: Uuid, query: &DescendantQuery) -> StoreResult<Vec<LineageRow>>;
}

/// A `nodes n` row as a [`LineageRow`].
macro_rules! lineage_columns {
    () => {
        "n.id, n.parent_id, n.position, n.depth, n.name, n.title, n.role, n.kind, n.status, n.attempts, \
         n.started_ms, n.finished_ms"
    };
}

/// `$1` node, `$2` job.
pub(super) const NODE: &str = concat!("select ", lineage_columns!(), " from nodes n where n.id = $1 and n.job_id = $2");

/// `$1` node, `$2` job: from its parent up to the root, each step one primary-key lookup.
pub(super) const ANCESTORS: &str = concat!(
    "with recursive up as (select ",
    lineage_columns!(),
    " from nodes c join nodes n on n.id = c.parent_id where c.id = $1 and c.job_id = $2 \
     union all select ",
    lineage_columns!(),
    " from up join nodes n on n.id = up.parent_id) \
     select * from up order by depth desc",
);

/// `$1` node, `$2` job, `$3` deepest depth, `$4`/`$5` the cursor's depth and position,
/// `$6` limit: down from its children, each level through the `nodes_parent` index, never
/// below `$3`; then the keyset `(depth, position) > ($4, $5)`.
pub(super) const DESCENDANTS: &str = concat!(
    "with recursive down as (select ",
    lineage_columns!(),
    " from nodes n where n.parent_id = $1 and n.job_id = $2 and n.depth <= $3 \
     union all select ",
    lineage_columns!(),
    " from down join nodes n on n.parent_id = down.id where n.depth <= $3) \
     select * from down where depth > $4 or (depth = $4 and position > $5) \
     order by depth, position limit $6",
);

/// [`LineageStore`] for a store with a `pool`, expanded beside `sql_store!`.
macro_rules! sql_lineage {
    ($store:ident) => {
        #[async_trait::async_trait]
        impl $crate::store::LineageStore for $store {
            async fn lineage_node(
                &self,
                job_id: uuid::Uuid,
                node_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Option<$crate::store::LineageRow>> {
                Ok(sqlx::query_as($crate::store::lineage::NODE)
                    .bind(node_id)
                    .bind(job_id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn ancestors(
                &self,
                job_id: uuid::Uuid,
                node_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Vec<$crate::store::LineageRow>> {
                Ok(sqlx::query_as($crate::store::lineage::ANCESTORS)
                    .bind(node_id)
                    .bind(job_id)
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn descendants(
                &self,
                job_id: uuid::Uuid,
                node_id: uuid::Uuid,
                query: &$crate::store::DescendantQuery,
            ) -> $crate::store::StoreResult<Vec<$crate::store::LineageRow>> {
                let (depth, position) = query.after.unwrap_or((-1, -1));
                Ok(sqlx::query_as($crate::store::lineage::DESCENDANTS)
                    .bind(node_id)
                    .bind(job_id)
                    .bind(query.max_depth.unwrap_or(i64::MAX))
                    .bind(depth)
                    .bind(position)
                    .bind(query.limit)
                    .fetch_all(&self.pool)
                    .await?)
            }
        }
    };
}

pub(super) use sql_lineage;
