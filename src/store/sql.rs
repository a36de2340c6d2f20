//! The one implementation of [`Store`](super::Store), instantiated for each backend.
//!
//! sqlx's runtime queries are typed by database, and generic code over `sqlx::Database`
//! drowns in trait bounds; a macro that is expanded once per backend keeps the SQL written
//! once and the code concrete. The SQL is the portable subset both databases accept:
//! `$N` placeholders, `on conflict`, `update … from (values …)` whose columns are named
//! `column1…` by both. The batch write is the exception: each backend brings its own
//! `write_batch` (SQLite: a transaction of multi-row statements, `sql_writes`; PostgreSQL:
//! one statement, `pg_bulk`).

/// Node updates per `update … from (values …)` statement: 8 columns × 1000 rows stays far
/// below both backends' bind-parameter limits (SQLite 32766, PostgreSQL 65535).
pub(super) const UPDATE_CHUNK: usize = 1000;
/// Node rows per multi-row insert (17 columns each: 17,000 parameters, within SQLite's 32,766).
pub(super) const INSERT_CHUNK: usize = 1000;
/// Jobs per multi-row insert or update (14 columns each).
pub(super) const JOB_CHUNK: usize = 500;
/// Rows per multi-row insert of events and labels.
pub(super) const SMALL_ROW_CHUNK: usize = 2000;
/// Ledger rows per multi-row insert (24 columns each: 24,000 parameters).
pub(super) const LLM_CALL_CHUNK: usize = 1000;
/// The sums of ledger rows, as the usage queries select them; the casts keep PostgreSQL's
/// `sum(bigint)` (a `numeric`) an `int8`, and read alike on SQLite.
pub(super) const USAGE_SUMS: &str = "cast(sum(input_tokens) as bigint) as input_tokens, \
    cast(sum(output_tokens) as bigint) as output_tokens, cast(sum(cached_tokens) as bigint) as cached_tokens, \
    cast(sum(cost) as double precision) as cost, cast(count(*) as bigint) as calls";

macro_rules! sql_store {
    ($store:ident, $db:ty, $backend:expr) => {
        #[async_trait::async_trait]
        impl $crate::store::Store for $store {
            fn backend(&self) -> $crate::store::Backend {
                $backend
            }

            async fn ping(&self) -> $crate::store::StoreResult<()> {
                sqlx::query("select 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn apply(&self, batch: &$crate::store::Batch) -> $crate::store::StoreResult<()> {
                if batch.is_empty() {
                    return Ok(());
                }
                // One transaction, written the way each backend does it fastest.
                self.write_batch(batch).await?;
                Ok(())
            }

            async fn job(&self, id: uuid::Uuid) -> $crate::store::StoreResult<Option<$crate::store::JobRow>> {
                Ok(sqlx::query_as("select * from jobs where id = $1").bind(id).fetch_optional(&self.pool).await?)
            }

            async fn job_by_idempotency_key(
                &self,
                key: &str,
            ) -> $crate::store::StoreResult<Option<$crate::store::JobRow>> {
                Ok(sqlx::query_as("select * from jobs where idempotency_key = $1")
                    .bind(key)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn node(&self, id: uuid::Uuid) -> $crate::store::StoreResult<Option<$crate::store::NodeRow>> {
                Ok(sqlx::query_as("select * from nodes where id = $1").bind(id).fetch_optional(&self.pool).await?)
            }

            async fn job_nodes(&self, job_id: uuid::Uuid) -> $crate::store::StoreResult<Vec<$crate::store::NodeRow>> {
                Ok(sqlx::query_as("select * from nodes where job_id = $1 order by position")
                    .bind(job_id)
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn list_jobs(
                &self,
                query: &$crate::store::JobQuery,
            ) -> $crate::store::StoreResult<Vec<$crate::store::JobRow>> {
                // A list never shows results, and one job's can be tens of megabytes.
                let mut sql = sqlx::QueryBuilder::<$db>::new(
                    "select j.id, j.seq, j.request, j.config, j.labels, j.status, j.idempotency_key, j.root_node_id, \
                     j.node_count, j.created_ms, j.started_ms, j.finished_ms, null as result, j.error from jobs j",
                );
                if let Some((key, value)) = &query.label {
                    sql.push(" join job_labels l on l.job_id = j.id and l.key = ");
                    sql.push_bind(key.clone()).push(" and l.value = ").push_bind(value.clone());
                }
                sql.push(" where 1 = 1");
                if let Some(status) = &query.status {
                    sql.push(" and j.status = ").push_bind(status.clone());
                }
                if let Some(before) = query.before_seq {
                    sql.push(" and j.seq < ").push_bind(before);
                }
                sql.push(" order by j.seq desc limit ").push_bind(query.limit);
                Ok(sql.build_query_as().fetch_all(&self.pool).await?)
            }

            async fn processes(&self) -> $crate::store::StoreResult<Vec<$crate::store::ProcessRow>> {
                Ok(sqlx::query_as("select node_id, job_id, pgid, started_ticks from node_processes")
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn forget_processes(&self) -> $crate::store::StoreResult<()> {
                sqlx::query("delete from node_processes").execute(&self.pool).await?;
                Ok(())
            }

            async fn jobs_in_status(&self, status: &str) -> $crate::store::StoreResult<Vec<$crate::store::JobRow>> {
                Ok(sqlx::query_as("select * from jobs where status = $1 order by seq")
                    .bind(status)
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn sequences(&self) -> $crate::store::StoreResult<$crate::store::Sequences> {
                Ok(sqlx::query_as(
                    "select coalesce((select max(seq) from jobs), 0) as job_seq, \
                     coalesce((select max(seq) from events), 0) as event_seq, \
                     coalesce((select max(seq) from audit_log), 0) as audit_seq",
                )
                .fetch_one(&self.pool)
                .await?)
            }

            async fn node_statuses(
                &self,
                ids: &[uuid::Uuid],
            ) -> $crate::store::StoreResult<Vec<$crate::store::NodeStatusRow>> {
                let mut out = Vec::with_capacity(ids.len());
                for chunk in ids.chunks($crate::store::sql::SMALL_ROW_CHUNK) {
                    let mut sql = sqlx::QueryBuilder::<$db>::new("select id, status from nodes where id in (");
                    let mut list = sql.separated(", ");
                    for id in chunk {
                        list.push_bind(*id);
                    }
                    sql.push(")");
                    let persistent = chunk.len() == $crate::store::sql::SMALL_ROW_CHUNK;
                    out.extend(sql.build_query_as().persistent(persistent).fetch_all(&self.pool).await?);
                }
                Ok(out)
            }

            async fn active_node_counts(&self) -> $crate::store::StoreResult<Vec<$crate::store::DepthStatusCount>> {
                Ok(sqlx::query_as(
                    "select n.depth as depth, n.status as status, count(*) as count \
                     from nodes n join jobs j on j.id = n.job_id \
                     where j.status in ('queued', 'running', 'cancelling') \
                     group by n.depth, n.status",
                )
                .fetch_all(&self.pool)
                .await?)
            }

            async fn node_activity(
                &self,
                since_ms: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::NodeActivityRow>> {
                Ok(sqlx::query_as(
                    "select depth, status, started_ms, finished_ms from nodes \
                     where started_ms >= $1 or finished_ms >= $1",
                )
                .bind(since_ms)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn job_counts(&self) -> $crate::store::StoreResult<Vec<$crate::store::StatusCount>> {
                Ok(sqlx::query_as("select status, count(*) as count from jobs group by status")
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn insert_api_key(&self, key: &$crate::store::ApiKeyRow) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "insert into api_keys (id, name, key_hash, prefix, scopes, created_ms, expires_ms, revoked_ms, \
                     rate_per_second, rate_burst, groups) \
                     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) on conflict (key_hash) do nothing",
                )
                .bind(key.id)
                .bind(&key.name)
                .bind(&key.key_hash)
                .bind(&key.prefix)
                .bind(&key.scopes)
                .bind(key.created_ms)
                .bind(key.expires_ms)
                .bind(key.revoked_ms)
                .bind(key.rate_per_second)
                .bind(key.rate_burst)
                .bind(&key.groups)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn api_keys(&self) -> $crate::store::StoreResult<Vec<$crate::store::ApiKeyRow>> {
                Ok(sqlx::query_as("select * from api_keys order by created_ms").fetch_all(&self.pool).await?)
            }

            async fn revoke_api_key(&self, id: uuid::Uuid, now_ms: i64) -> $crate::store::StoreResult<bool> {
                let done = sqlx::query("update api_keys set revoked_ms = $2 where id = $1 and revoked_ms is null")
                    .bind(id)
                    .bind(now_ms)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn touch_api_keys(&self, used: &[(uuid::Uuid, i64)]) -> $crate::store::StoreResult<()> {
                if used.is_empty() {
                    return Ok(());
                }
                let mut sql = sqlx::QueryBuilder::<$db>::new("update api_keys set last_used_ms = v.column2 from (");
                sql.push_values(used, |mut row, (id, at)| {
                    row.push_bind(*id).push_bind(*at);
                });
                sql.push(") as v where api_keys.id = v.column1");
                // One shape per number of keys used: not worth a cached statement.
                sql.build().persistent(false).execute(&self.pool).await?;
                Ok(())
            }

            async fn audit(
                &self,
                query: &$crate::store::AuditQuery,
            ) -> $crate::store::StoreResult<Vec<$crate::store::AuditRow>> {
                let mut sql = sqlx::QueryBuilder::<$db>::new("select * from audit_log where 1 = 1");
                if let Some(action) = &query.action {
                    sql.push(" and action = ").push_bind(action.clone());
                }
                if let Some(key_id) = query.key_id {
                    sql.push(" and key_id = ").push_bind(key_id);
                }
                if let Some(outcome) = &query.outcome {
                    sql.push(" and outcome = ").push_bind(outcome.clone());
                }
                if let Some(since) = query.since_ms {
                    sql.push(" and ts_ms >= ").push_bind(since);
                }
                if let Some(until) = query.until_ms {
                    sql.push(" and ts_ms < ").push_bind(until);
                }
                if let Some(before) = query.before_seq {
                    sql.push(" and seq < ").push_bind(before);
                }
                sql.push(" order by seq desc limit ").push_bind(query.limit);
                Ok(sql.build_query_as().fetch_all(&self.pool).await?)
            }

            async fn record_usage(
                &self,
                samples: &[$crate::store::UsageSampleRow],
                keep_since_ms: i64,
            ) -> $crate::store::StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query("delete from usage_samples where ts_ms < $1").bind(keep_since_ms).execute(&mut *tx).await?;
                if !samples.is_empty() {
                    let mut sql = sqlx::QueryBuilder::<$db>::new(
                        "insert into usage_samples (ts_ms, depth, in_use, quota, pending) ",
                    );
                    sql.push_values(samples, |mut row, s| {
                        row.push_bind(s.ts_ms)
                            .push_bind(s.depth)
                            .push_bind(s.in_use)
                            .push_bind(s.quota)
                            .push_bind(s.pending);
                    });
                    sql.push(" on conflict (ts_ms, depth) do nothing");
                    sql.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn usage_since(
                &self,
                since_ms: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::UsageSampleRow>> {
                Ok(sqlx::query_as("select * from usage_samples where ts_ms >= $1 order by ts_ms, depth")
                    .bind(since_ms)
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn events_after(
                &self,
                seq: i64,
                job_id: Option<uuid::Uuid>,
                limit: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::EventRow>> {
                let mut sql = sqlx::QueryBuilder::<$db>::new("select * from events where seq > ");
                sql.push_bind(seq);
                if let Some(job_id) = job_id {
                    sql.push(" and job_id = ").push_bind(job_id);
                }
                sql.push(" order by seq limit ").push_bind(limit);
                Ok(sql.build_query_as().fetch_all(&self.pool).await?)
            }

            async fn oldest_event_seq(&self) -> $crate::store::StoreResult<i64> {
                let (seq,): (i64,) =
                    sqlx::query_as("select coalesce(min(seq), 0) from events").fetch_one(&self.pool).await?;
                Ok(seq)
            }

            async fn prune_events(&self, before_ms: i64) -> $crate::store::StoreResult<u64> {
                let done =
                    sqlx::query("delete from events where ts_ms < $1").bind(before_ms).execute(&self.pool).await?;
                Ok(done.rows_affected())
            }

            async fn llm_calls(
                &self,
                job_id: uuid::Uuid,
                node_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Vec<$crate::store::LlmCallRow>> {
                Ok(sqlx::query_as(
                    "select * from llm_calls where job_id = $1 and node_id = $2 order by attempt, turn, created_ms, id",
                )
                .bind(job_id)
                .bind(node_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn job_usage(
                &self,
                job_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Vec<$crate::store::NodeUsageRow>> {
                let sql = format!(
                    "select node_id, {} from llm_calls where job_id = $1 group by node_id",
                    $crate::store::sql::USAGE_SUMS
                );
                Ok(sqlx::query_as(&sql).bind(job_id).fetch_all(&self.pool).await?)
            }

            async fn job_budgets(
                &self,
                job_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Vec<$crate::store::BudgetRow>> {
                Ok(sqlx::query_as("select node_id, job_id, books from node_budgets where job_id = $1")
                    .bind(job_id)
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn job_spending(
                &self,
                job_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Vec<$crate::store::SpendRow>> {
                Ok(sqlx::query_as(
                    "select node_id, cost, input_tokens, output_tokens from llm_calls where job_id = $1",
                )
                .bind(job_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn usage_by_depth(
                &self,
                since_ms: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::DepthUsageRow>> {
                let sql = format!(
                    "select depth, {} from llm_calls where created_ms >= $1 group by depth order by depth",
                    $crate::store::sql::USAGE_SUMS
                );
                Ok(sqlx::query_as(&sql).bind(since_ms).fetch_all(&self.pool).await?)
            }

            async fn approval(&self, id: uuid::Uuid) -> $crate::store::StoreResult<Option<$crate::store::ApprovalRow>> {
                read_approval(&self.pool, id).await
            }

            async fn approvals(
                &self,
                query: &$crate::store::ApprovalQuery,
            ) -> $crate::store::StoreResult<Vec<$crate::store::ApprovalRow>> {
                read_approvals(&self.pool, query).await
            }

            async fn job_approvals(
                &self,
                job_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Vec<$crate::store::ApprovalRow>> {
                read_job_approvals(&self.pool, job_id).await
            }

            async fn alerts(
                &self,
                query: &$crate::store::AlertQuery,
            ) -> $crate::store::StoreResult<Vec<$crate::store::AlertRow>> {
                read_alerts(&self.pool, query).await
            }
        }
        $crate::store::sql_people::sql_people_reads!($db);
        $crate::store::notify::sql_notify!($store);
        $crate::store::workforce::sql_workforce!($store);
        $crate::store::mail::sql_mail!($store);
    };
}

pub(super) use sql_store;
