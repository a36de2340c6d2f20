//! SQLite's batch writes: the statements a journal [`Batch`] becomes inside its transaction —
//! multi-row inserts, one `update … from (values …)` per chunk of updates — as macros over the
//! database type, expanded in `sqlite.rs` beside the [`sql_store`] instance. (PostgreSQL writes
//! a batch as one statement over arrays: `pg_bulk`.)
//!
//! Only full chunks are prepared once and kept: a remainder's statement (a shape that may
//! never recur, and for a thousand rows a large one) is prepared for its one use and
//! dropped, or the per-connection statement cache would fill with hundreds of megabytes.
//!
//! [`Batch`]: super::Batch
//! [`sql_store`]: super::sql::sql_store

macro_rules! sql_batch_writes {
    ($db:ty) => {
        type Tx<'a> = sqlx::Transaction<'a, $db>;

        async fn insert_jobs(tx: &mut Tx<'_>, folded: &$crate::store::fold::Folded<'_>) -> Result<(), sqlx::Error> {
            for chunk in folded.jobs.chunks($crate::store::sql::JOB_CHUNK) {
                let mut sql = sqlx::QueryBuilder::<$db>::new(
                    "insert into jobs (id, seq, request, config, labels, status, idempotency_key, root_node_id, \
                     node_count, created_ms, started_ms, finished_ms, result, error) ",
                );
                sql.push_values(chunk, |mut row, pair| {
                    let (job, now) = (pair.0, $crate::store::fold::FoldedJob::of(pair));
                    row.push_bind(job.id).push_bind(job.seq).push_bind(&job.request).push_bind(&job.config);
                    row.push_bind(&job.labels).push_bind(now.status).push_bind(&job.idempotency_key);
                    row.push_bind(job.root_node_id).push_bind(job.node_count).push_bind(job.created_ms);
                    row.push_bind(now.started_ms).push_bind(now.finished_ms).push_bind(now.result);
                    row.push_bind(now.error);
                });
                sql.build().persistent(chunk.len() == $crate::store::sql::JOB_CHUNK).execute(&mut **tx).await?;
            }
            let batch = folded.batch;
            for chunk in batch.new_labels.chunks($crate::store::sql::SMALL_ROW_CHUNK) {
                let mut sql = sqlx::QueryBuilder::<$db>::new("insert into job_labels (job_id, key, value) ");
                sql.push_values(chunk, |mut row, l| {
                    row.push_bind(l.job_id).push_bind(&l.key).push_bind(&l.value);
                });
                sql.build().persistent(chunk.len() == $crate::store::sql::SMALL_ROW_CHUNK).execute(&mut **tx).await?;
            }
            Ok(())
        }

        /// A batch holds at most one update per job (the journal collapses them), as one
        /// `update … from (values …)` requires.
        async fn update_jobs(tx: &mut Tx<'_>, updates: &[&$crate::store::JobUpdate]) -> Result<(), sqlx::Error> {
            for chunk in updates.chunks($crate::store::sql::JOB_CHUNK) {
                let mut sql = sqlx::QueryBuilder::<$db>::new(
                    "update jobs set status = v.column2, started_ms = coalesce(v.column3, jobs.started_ms), \
                     finished_ms = v.column4, result = v.column5, error = v.column6 from (",
                );
                sql.push_values(chunk, |mut row, job| {
                    row.push_bind(job.id).push_bind(job.status).push_bind(job.started_ms);
                    row.push_bind(job.finished_ms).push_bind(job.result_text());
                    row.push_bind(&job.error);
                });
                sql.push(") as v where jobs.id = v.column1");
                sql.build().persistent(chunk.len() == $crate::store::sql::JOB_CHUNK).execute(&mut **tx).await?;
            }
            Ok(())
        }

        async fn insert_audit(tx: &mut Tx<'_>, entries: &[$crate::store::AuditRow]) -> Result<(), sqlx::Error> {
            for chunk in entries.chunks($crate::store::sql::SMALL_ROW_CHUNK) {
                let mut sql = sqlx::QueryBuilder::<$db>::new(
                    "insert into audit_log (seq, ts_ms, key_id, key_name, source, action, target, outcome, detail) ",
                );
                sql.push_values(chunk, |mut row, a| {
                    row.push_bind(a.seq).push_bind(a.ts_ms).push_bind(a.key_id).push_bind(&a.key_name);
                    row.push_bind(&a.source).push_bind(&a.action).push_bind(&a.target).push_bind(&a.outcome);
                    row.push_bind(&a.detail);
                });
                sql.build().persistent(chunk.len() == $crate::store::sql::SMALL_ROW_CHUNK).execute(&mut **tx).await?;
            }
            Ok(())
        }

        async fn record_processes(tx: &mut Tx<'_>, batch: &$crate::store::Batch) -> Result<(), sqlx::Error> {
            for chunk in batch.process_ends.chunks($crate::store::sql::SMALL_ROW_CHUNK) {
                let mut sql = sqlx::QueryBuilder::<$db>::new("delete from node_processes where node_id in (");
                let mut ids = sql.separated(", ");
                for id in chunk {
                    ids.push_bind(*id);
                }
                sql.push(")");
                sql.build().persistent(chunk.len() == $crate::store::sql::SMALL_ROW_CHUNK).execute(&mut **tx).await?;
            }
            for chunk in batch.process_starts.chunks($crate::store::sql::SMALL_ROW_CHUNK) {
                let mut sql = sqlx::QueryBuilder::<$db>::new(
                    "insert into node_processes (node_id, job_id, pgid, started_ticks) ",
                );
                sql.push_values(chunk, |mut row, p| {
                    row.push_bind(p.node_id).push_bind(p.job_id).push_bind(p.pgid).push_bind(p.started_ticks);
                });
                sql.push(
                    " on conflict (node_id) do update set pgid = excluded.pgid, started_ticks = excluded.started_ticks",
                );
                sql.build().persistent(chunk.len() == $crate::store::sql::SMALL_ROW_CHUNK).execute(&mut **tx).await?;
            }
            Ok(())
        }

        /// A batch holds at most one row per node (the journal keeps the last).
        async fn upsert_budgets(tx: &mut Tx<'_>, rows: &[$crate::store::BudgetRow]) -> Result<(), sqlx::Error> {
            for chunk in rows.chunks($crate::store::sql::SMALL_ROW_CHUNK) {
                let mut sql = sqlx::QueryBuilder::<$db>::new("insert into node_budgets (node_id, job_id, books) ");
                sql.push_values(chunk, |mut row, b| {
                    row.push_bind(b.node_id).push_bind(b.job_id).push_bind(&b.books);
                });
                sql.push(" on conflict (node_id) do update set books = excluded.books");
                sql.build().persistent(chunk.len() == $crate::store::sql::SMALL_ROW_CHUNK).execute(&mut **tx).await?;
            }
            Ok(())
        }

        /// A batch holds at most one row per request (the journal keeps the last).
        async fn upsert_approvals(tx: &mut Tx<'_>, rows: &[$crate::store::ApprovalRow]) -> Result<(), sqlx::Error> {
            for chunk in rows.chunks($crate::store::sql::SMALL_ROW_CHUNK) {
                let mut sql = sqlx::QueryBuilder::<$db>::new(
                    "insert into approvals (id, job_id, node_id, kind, state, created_ms, updated_ms, body) ",
                );
                sql.push_values(chunk, |mut row, a| {
                    row.push_bind(a.id).push_bind(a.job_id).push_bind(a.node_id).push_bind(&a.kind);
                    row.push_bind(&a.state).push_bind(a.created_ms).push_bind(a.updated_ms).push_bind(&a.body);
                });
                sql.push(
                    " on conflict (id) do update set state = excluded.state, updated_ms = excluded.updated_ms, \
                     body = excluded.body",
                );
                sql.build().persistent(chunk.len() == $crate::store::sql::SMALL_ROW_CHUNK).execute(&mut **tx).await?;
            }
            Ok(())
        }

        /// A batch holds at most one row per alert (the journal keeps the last).
        async fn upsert_alerts(tx: &mut Tx<'_>, rows: &[$crate::store::AlertRow]) -> Result<(), sqlx::Error> {
            for chunk in rows.chunks($crate::store::sql::SMALL_ROW_CHUNK) {
                let mut sql = sqlx::QueryBuilder::<$db>::new(
                    "insert into alerts (id, job_id, node_id, rule, message, data, created_ms, resolved_ms, resolved_by) ",
                );
                sql.push_values(chunk, |mut row, a| {
                    row.push_bind(a.id).push_bind(a.job_id).push_bind(a.node_id).push_bind(&a.rule);
                    row.push_bind(&a.message).push_bind(&a.data).push_bind(a.created_ms).push_bind(a.resolved_ms);
                    row.push_bind(&a.resolved_by);
                });
                sql.push(
                    " on conflict (id) do update set resolved_ms = excluded.resolved_ms, \
                     resolved_by = excluded.resolved_by, data = excluded.data",
                );
                sql.build().persistent(chunk.len() == $crate::store::sql::SMALL_ROW_CHUNK).execute(&mut **tx).await?;
            }
            Ok(())
        }

        /// A batch holds at most one row per agent (the journal keeps the last): an upsert,
        /// or a removal.
        async fn write_agents(tx: &mut Tx<'_>, rows: &[$crate::store::AgentRow]) -> Result<(), sqlx::Error> {
            for row in rows {
                let query = match row.removed {
                    true => sqlx::query("delete from agents where name = $1").bind(&row.name),
                    false => sqlx::query(
                        "insert into agents (name, status, reports_to, body, created_ms, updated_ms) \
                         values ($1, $2, $3, $4, $5, $6) on conflict (name) do update set status = excluded.status, \
                         reports_to = excluded.reports_to, body = excluded.body, updated_ms = excluded.updated_ms",
                    )
                    .bind(&row.name)
                    .bind(&row.status)
                    .bind(&row.reports_to)
                    .bind(&row.body)
                    .bind(row.created_ms)
                    .bind(row.updated_ms),
                };
                query.execute(&mut **tx).await?;
            }
            Ok(())
        }

        /// A batch holds at most one row per node (the journal keeps the last).
        async fn upsert_delegations(tx: &mut Tx<'_>, rows: &[$crate::store::DelegationRow]) -> Result<(), sqlx::Error> {
            for chunk in rows.chunks($crate::store::sql::SMALL_ROW_CHUNK) {
                let mut sql = sqlx::QueryBuilder::<$db>::new(
                    "insert into delegations (node_id, job_id, agent, state, reason, requested_ms, assigned_ms) ",
                );
                sql.push_values(chunk, |mut row, d| {
                    row.push_bind(d.node_id).push_bind(d.job_id).push_bind(&d.agent).push_bind(&d.state);
                    row.push_bind(&d.reason).push_bind(d.requested_ms).push_bind(d.assigned_ms);
                });
                sql.push(
                    " on conflict (node_id) do update set agent = excluded.agent, state = excluded.state, \
                     reason = excluded.reason, assigned_ms = excluded.assigned_ms",
                );
                sql.build().persistent(chunk.len() == $crate::store::sql::SMALL_ROW_CHUNK).execute(&mut **tx).await?;
            }
            Ok(())
        }

        /// A batch holds at most one row per message (the journal keeps the last).
        async fn upsert_messages(tx: &mut Tx<'_>, rows: &[$crate::store::MessageRow]) -> Result<(), sqlx::Error> {
            for chunk in rows.chunks($crate::store::sql::SMALL_ROW_CHUNK) {
                let mut sql = sqlx::QueryBuilder::<$db>::new(
                    "insert into messages (id, job_id, to_node, from_node, sender, thread_id, priority, body, state, \
                     deliveries, visible_ms, expires_ms, created_ms, updated_ms, dead_reason) ",
                );
                sql.push_values(chunk, |mut row, m| {
                    row.push_bind(m.id).push_bind(m.job_id).push_bind(m.to_node).push_bind(m.from_node);
                    row.push_bind(&m.sender).push_bind(&m.thread_id).push_bind(m.priority).push_bind(&m.body);
                    row.push_bind(&m.state).push_bind(m.deliveries).push_bind(m.visible_ms).push_bind(m.expires_ms);
                    row.push_bind(m.created_ms).push_bind(m.updated_ms).push_bind(&m.dead_reason);
                });
                sql.push(
                    " on conflict (id) do update set state = excluded.state, deliveries = excluded.deliveries, \
                     visible_ms = excluded.visible_ms, updated_ms = excluded.updated_ms, dead_reason = excluded.dead_reason",
                );
                sql.build().persistent(chunk.len() == $crate::store::sql::SMALL_ROW_CHUNK).execute(&mut **tx).await?;
            }
            Ok(())
        }

        async fn insert_llm_calls(tx: &mut Tx<'_>, calls: &[$crate::store::LlmCallRow]) -> Result<(), sqlx::Error> {
            for chunk in calls.chunks($crate::store::sql::LLM_CALL_CHUNK) {
                let mut sql = sqlx::QueryBuilder::<$db>::new(
                    "insert into llm_calls (id, job_id, node_id, depth, attempt, turn, purpose, provider, model, \
                     input_tokens, output_tokens, cached_tokens, cost, latency_ms, http_status, error, tries, \
                     request_body, request_truncated, response_body, response_truncated, input, reply, created_ms) ",
                );
                sql.push_values(chunk, |mut row, c| {
                    row.push_bind(c.id).push_bind(c.job_id).push_bind(c.node_id).push_bind(c.depth);
                    row.push_bind(c.attempt).push_bind(c.turn).push_bind(&c.purpose).push_bind(&c.provider);
                    row.push_bind(&c.model).push_bind(c.input_tokens).push_bind(c.output_tokens);
                    row.push_bind(c.cached_tokens).push_bind(c.cost).push_bind(c.latency_ms);
                    row.push_bind(c.http_status).push_bind(&c.error).push_bind(c.tries);
                    row.push_bind(&c.request_body).push_bind(c.request_truncated).push_bind(&c.response_body);
                    row.push_bind(c.response_truncated).push_bind(&c.input).push_bind(&c.reply);
                    row.push_bind(c.created_ms);
                });
                let persistent = chunk.len() == $crate::store::sql::LLM_CALL_CHUNK;
                sql.build().persistent(persistent).execute(&mut **tx).await?;
            }
            Ok(())
        }
    };
}

/// The row-volume writes (nodes and events) as multi-row `values` lists: what SQLite, which
/// has no array parameters, gets. PostgreSQL has its own in `pg_bulk`.
macro_rules! values_bulk_writes {
    ($db:ty) => {
        async fn insert_nodes(tx: &mut Tx<'_>, folded: &$crate::store::fold::Folded<'_>) -> Result<(), sqlx::Error> {
            let mut rows = folded.batch.new_node_rows();
            loop {
                let chunk: Vec<_> = rows.by_ref().take($crate::store::sql::INSERT_CHUNK).collect();
                if chunk.is_empty() {
                    return Ok(());
                }
                // Rows nobody updated yet (most of a large submission) leave the changing
                // columns out: six binds fewer per row.
                let folds = &folded.node_folds;
                let columns = if folds.is_empty() { "" } else { ", attempts, started_ms, finished_ms, result, error, warnings" };
                let mut sql = sqlx::QueryBuilder::<$db>::new(format!(
                    "insert into nodes (id, job_id, parent_id, position, depth, name, title, role, kind, spec, status{columns}) "
                ));
                sql.push_values(&chunk, |mut row, n| {
                    // A node updated in the batch that inserts it is inserted as updated.
                    let now = folds.get(&n.id).copied();
                    row.push_bind(n.id).push_bind(n.job_id).push_bind(n.parent_id).push_bind(n.position);
                    row.push_bind(n.depth).push_bind(n.name).push_bind(n.title).push_bind(n.role);
                    row.push_bind(n.kind).push_bind(n.spec).push_bind(now.map_or(n.status, |u| u.status));
                    if !folds.is_empty() {
                        row.push_bind(now.map_or(0, |u| u.attempts)).push_bind(now.and_then(|u| u.started_ms));
                        row.push_bind(now.and_then(|u| u.finished_ms));
                        row.push_bind(now.and_then($crate::store::NodeUpdate::result_text));
                        row.push_bind(now.and_then(|u| u.error.as_deref()));
                        row.push_bind(now.and_then(|u| u.warnings.as_deref()));
                    }
                });
                sql.build().persistent(chunk.len() == $crate::store::sql::INSERT_CHUNK).execute(&mut **tx).await?;
            }
        }

        async fn update_nodes(tx: &mut Tx<'_>, updates: &[&$crate::store::NodeUpdate]) -> Result<(), sqlx::Error> {
            for chunk in updates.chunks($crate::store::sql::UPDATE_CHUNK) {
                let mut sql = sqlx::QueryBuilder::<$db>::new(
                    "update nodes set status = v.column2, attempts = v.column3, started_ms = v.column4, \
                     finished_ms = v.column5, result = v.column6, error = v.column7, warnings = v.column8 from (",
                );
                sql.push_values(chunk, |mut row, u| {
                    row.push_bind(u.id).push_bind(u.status).push_bind(u.attempts).push_bind(u.started_ms);
                    row.push_bind(u.finished_ms).push_bind(u.result_text());
                    row.push_bind(&u.error).push_bind(&u.warnings);
                });
                sql.push(") as v where nodes.id = v.column1");
                sql.build().persistent(chunk.len() == $crate::store::sql::UPDATE_CHUNK).execute(&mut **tx).await?;
            }
            Ok(())
        }

        async fn insert_events(tx: &mut Tx<'_>, events: &[$crate::store::EventRow]) -> Result<(), sqlx::Error> {
            for chunk in events.chunks($crate::store::sql::SMALL_ROW_CHUNK) {
                let mut sql = sqlx::QueryBuilder::<$db>::new("insert into events (seq, ts_ms, kind, job_id, depth, data) ");
                sql.push_values(chunk, |mut row, e| {
                    row.push_bind(e.seq).push_bind(&e.ts_ms).push_bind(&e.kind);
                    row.push_bind(e.job_id).push_bind(e.depth).push_bind(&e.data);
                });
                sql.build().persistent(chunk.len() == $crate::store::sql::SMALL_ROW_CHUNK).execute(&mut **tx).await?;
            }
            Ok(())
        }
    };
}

pub(crate) use {sql_batch_writes, values_bulk_writes};
