//! PostgreSQL's row-volume writes: each column of a batch's node rows, node updates or
//! events is bound as one array and spread back into rows by `unnest`.
//!
//! One statement of fixed shape per kind of row, whatever the batch's size: PostgreSQL
//! plans it once per connection, where a `values` list of a thousand rows costs a parse and
//! plan of thousands of expressions each time (measured as most of the server's CPU time on
//! `flat-10k`). SQLite has no array parameters and keeps the `values` lists of `sql_writes`.

use serde_json::value::RawValue;
use sqlx::{Postgres, Transaction};

use super::{Batch, EventRow, NodeUpdate};

type Tx<'a> = Transaction<'a, Postgres>;

/// Rows per statement: bounds the size of one message to the server, not a limit of it.
const ROWS_PER_STATEMENT: usize = 10_000;

pub(super) async fn insert_nodes(tx: &mut Tx<'_>, batch: &Batch) -> Result<(), sqlx::Error> {
    let mut rows = batch.new_node_rows();
    loop {
        let chunk: Vec<_> = rows.by_ref().take(ROWS_PER_STATEMENT).collect();
        if chunk.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "insert into nodes (id, job_id, parent_id, position, depth, name, title, role, kind, spec, status) \
             select * from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::int8[], $5::int8[], $6::text[], \
             $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])",
        )
        .bind(chunk.iter().map(|n| n.id).collect::<Vec<_>>())
        .bind(chunk.iter().map(|n| n.job_id).collect::<Vec<_>>())
        .bind(chunk.iter().map(|n| n.parent_id).collect::<Vec<_>>())
        .bind(chunk.iter().map(|n| n.position).collect::<Vec<_>>())
        .bind(chunk.iter().map(|n| n.depth).collect::<Vec<_>>())
        .bind(chunk.iter().map(|n| n.name).collect::<Vec<_>>())
        .bind(chunk.iter().map(|n| n.title).collect::<Vec<_>>())
        .bind(chunk.iter().map(|n| n.role).collect::<Vec<_>>())
        .bind(chunk.iter().map(|n| n.kind).collect::<Vec<_>>())
        .bind(chunk.iter().map(|n| n.spec).collect::<Vec<_>>())
        .bind(chunk.iter().map(|n| n.status).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
}

pub(super) async fn update_nodes(tx: &mut Tx<'_>, updates: &[NodeUpdate]) -> Result<(), sqlx::Error> {
    for chunk in updates.chunks(ROWS_PER_STATEMENT) {
        sqlx::query(
            "update nodes set status = v.status, attempts = v.attempts, started_ms = v.started_ms, \
             finished_ms = v.finished_ms, result = v.result, error = v.error, warnings = v.warnings \
             from unnest($1::uuid[], $2::text[], $3::int8[], $4::int8[], $5::int8[], $6::text[], $7::text[], \
             $8::text[]) as v (id, status, attempts, started_ms, finished_ms, result, error, warnings) \
             where nodes.id = v.id",
        )
        .bind(chunk.iter().map(|u| u.id).collect::<Vec<_>>())
        .bind(chunk.iter().map(|u| u.status).collect::<Vec<_>>())
        .bind(chunk.iter().map(|u| u.attempts).collect::<Vec<_>>())
        .bind(chunk.iter().map(|u| u.started_ms).collect::<Vec<_>>())
        .bind(chunk.iter().map(|u| u.finished_ms).collect::<Vec<_>>())
        .bind(chunk.iter().map(|u| u.result.as_deref().map(RawValue::get)).collect::<Vec<_>>())
        .bind(chunk.iter().map(|u| u.error.as_deref()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|u| u.warnings.as_deref()).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

pub(super) async fn insert_events(tx: &mut Tx<'_>, events: &[EventRow]) -> Result<(), sqlx::Error> {
    for chunk in events.chunks(ROWS_PER_STATEMENT) {
        sqlx::query(
            "insert into events (seq, ts_ms, kind, job_id, depth, data) \
             select * from unnest($1::int8[], $2::int8[], $3::text[], $4::uuid[], $5::int8[], $6::text[])",
        )
        .bind(chunk.iter().map(|e| e.seq).collect::<Vec<_>>())
        .bind(chunk.iter().map(|e| e.ts_ms).collect::<Vec<_>>())
        .bind(chunk.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|e| e.job_id).collect::<Vec<_>>())
        .bind(chunk.iter().map(|e| e.depth).collect::<Vec<_>>())
        .bind(chunk.iter().map(|e| e.data.as_str()).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
