//! PostgreSQL's batch write: a whole journal batch as one statement.
//!
//! Every kind of row (new jobs, labels, node rows, node and job updates, events, audit
//! entries, process records, ledger rows, budgets' books, approvals, alerts, agents, delegations) is bound as one array per column and spread back into rows by
//! `unnest`, each kind in a data-modifying `with` clause of a single statement. The shape
//! never changes, so PostgreSQL parses and plans it once per connection, and a batch costs
//! one round trip and one commit instead of a `begin`, a statement per kind and a `commit`:
//! with the server's cores shared by cadre and PostgreSQL, those round trips were most of a
//! small batch's time. SQLite, with no array parameters, keeps the `values` lists of
//! `sql_writes`.
//!
//! The clauses of one statement share one snapshot, so an update cannot see a row inserted
//! beside it: the updates of rows the batch itself inserts are folded into those inserts (`fold`; a
//! node started and ended within one commit is written once, which also leaves PostgreSQL one
//! row version instead of three). A batch larger than [`ROWS_PER_STATEMENT`] of any kind
//! is written as several such statements in one transaction; parents come before their
//! children in every list, so a row's parent is always in its statement or an earlier one.

use std::collections::HashMap;

use sqlx::postgres::{PgArguments, PgPool};
use sqlx::query::Query;
use sqlx::Postgres;
use uuid::Uuid;

use super::fold::{Folded, FoldedJob};
use super::{Batch, JobRow, JobUpdate, LlmCallRow, NewNodeRow, NodeUpdate};

/// Rows of each kind per statement: bounds the size of one message to the server.
const ROWS_PER_STATEMENT: usize = 10_000;

const WRITE_BATCH: &str = "with \
    new_jobs as (insert into jobs (id, seq, request, config, labels, status, idempotency_key, root_node_id, \
        node_count, created_ms, started_ms, finished_ms, result, error) \
        select * from unnest($1::uuid[], $2::int8[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], \
        $8::uuid[], $9::int8[], $10::int8[], $11::int8[], $12::int8[], $13::text[], $14::text[])), \
    new_labels as (insert into job_labels (job_id, key, value) \
        select * from unnest($15::uuid[], $16::text[], $17::text[])), \
    new_nodes as (insert into nodes (id, job_id, parent_id, position, depth, name, title, role, kind, spec, \
        status, attempts, started_ms, finished_ms, result, error, warnings) \
        select * from unnest($18::uuid[], $19::uuid[], $20::uuid[], $21::int8[], $22::int8[], $23::text[], \
        $24::text[], $25::text[], $26::text[], $27::text[], $28::text[], $29::int8[], $30::int8[], $31::int8[], \
        $32::text[], $33::text[], $34::text[])), \
    node_changes as (update nodes set status = v.status, attempts = v.attempts, started_ms = v.started_ms, \
        finished_ms = v.finished_ms, result = v.result, error = v.error, warnings = v.warnings \
        from unnest($35::uuid[], $36::text[], $37::int8[], $38::int8[], $39::int8[], $40::text[], $41::text[], \
        $42::text[]) as v (id, status, attempts, started_ms, finished_ms, result, error, warnings) \
        where nodes.id = v.id), \
    job_changes as (update jobs set status = v.status, started_ms = coalesce(v.started_ms, jobs.started_ms), \
        finished_ms = v.finished_ms, result = v.result, error = v.error \
        from unnest($43::uuid[], $44::text[], $45::int8[], $46::int8[], $47::text[], $48::text[]) \
        as v (id, status, started_ms, finished_ms, result, error) where jobs.id = v.id), \
    new_events as (insert into events (seq, ts_ms, kind, job_id, depth, data) \
        select * from unnest($49::int8[], $50::int8[], $51::text[], $52::uuid[], $53::int8[], $54::text[])), \
    new_audit as (insert into audit_log (seq, ts_ms, key_id, key_name, source, action, target, outcome, detail) \
        select * from unnest($55::int8[], $56::int8[], $57::uuid[], $58::text[], $59::text[], $60::text[], \
        $61::text[], $62::text[], $63::text[])), \
    ended_processes as (delete from node_processes where node_id = any($64::uuid[])), \
    started_processes as (insert into node_processes (node_id, job_id, pgid, started_ticks) \
        select * from unnest($65::uuid[], $66::uuid[], $67::int8[], $68::int8[]) \
        on conflict (node_id) do update set pgid = excluded.pgid, started_ticks = excluded.started_ticks), \
    new_llm_calls as (insert into llm_calls (id, job_id, node_id, depth, attempt, turn, purpose, provider, model, \
        input_tokens, output_tokens, cached_tokens, cost, latency_ms, http_status, error, tries, request_body, \
        request_truncated, response_body, response_truncated, input, reply, created_ms) \
        select * from unnest($69::uuid[], $70::uuid[], $71::uuid[], $72::int8[], $73::int8[], $74::int8[], \
        $75::text[], $76::text[], $77::text[], $78::int8[], $79::int8[], $80::int8[], $81::float8[], $82::int8[], \
        $83::int8[], $84::text[], $85::int8[], $86::text[], $87::bool[], $88::text[], $89::bool[], $90::text[], \
        $91::text[], $92::int8[])), \
    budget_books as (insert into node_budgets (node_id, job_id, books) \
        select * from unnest($93::uuid[], $94::uuid[], $95::text[]) \
        on conflict (node_id) do update set books = excluded.books), \
    approval_rows as (insert into approvals (id, job_id, node_id, kind, state, created_ms, updated_ms, body) \
        select * from unnest($96::uuid[], $97::uuid[], $98::uuid[], $99::text[], $100::text[], $101::int8[], \
        $102::int8[], $103::text[]) \
        on conflict (id) do update set state = excluded.state, updated_ms = excluded.updated_ms, body = excluded.body), \
    alert_rows as (insert into alerts (id, job_id, node_id, rule, message, data, created_ms, resolved_ms, resolved_by) \
        select * from unnest($104::uuid[], $105::uuid[], $106::uuid[], $107::text[], $108::text[], $109::text[], \
        $110::int8[], $111::int8[], $112::text[]) \
        on conflict (id) do update set resolved_ms = excluded.resolved_ms, resolved_by = excluded.resolved_by, \
        data = excluded.data), \
    agent_rows as (insert into agents (name, status, reports_to, body, created_ms, updated_ms) \
        select * from unnest($113::text[], $114::text[], $115::text[], $116::text[], $117::int8[], $118::int8[]) \
        on conflict (name) do update set status = excluded.status, reports_to = excluded.reports_to, \
        body = excluded.body, updated_ms = excluded.updated_ms), \
    agents_gone as (delete from agents where name = any($119::text[])), \
    delegation_rows as (insert into delegations (node_id, job_id, agent, state, reason, requested_ms, assigned_ms) \
        select * from unnest($120::uuid[], $121::uuid[], $122::text[], $123::text[], $124::text[], $125::int8[], \
        $126::int8[]) \
        on conflict (node_id) do update set agent = excluded.agent, state = excluded.state, reason = excluded.reason, \
        assigned_ms = excluded.assigned_ms), \
    message_rows as (insert into messages (id, job_id, to_node, from_node, sender, thread_id, priority, body, state, \
        deliveries, visible_ms, expires_ms, created_ms, updated_ms, dead_reason) \
        select * from unnest($127::uuid[], $128::uuid[], $129::uuid[], $130::uuid[], $131::text[], $132::text[], \
        $133::int8[], $134::text[], $135::text[], $136::int8[], $137::int8[], $138::int8[], $139::int8[], $140::int8[], \
        $141::text[]) \
        on conflict (id) do update set state = excluded.state, deliveries = excluded.deliveries, \
        visible_ms = excluded.visible_ms, updated_ms = excluded.updated_ms, dead_reason = excluded.dead_reason) \
    select 1";

type PgQuery<'q> = Query<'q, Postgres, PgArguments>;

/// Statements needed to keep each under [`ROWS_PER_STATEMENT`] rows of a kind.
fn statements(b: &Batch) -> usize {
    let nodes = b.new_nodes.iter().map(|n| n.nodes.len()).sum::<usize>();
    [b.new_jobs.len(), b.new_labels.len(), nodes, b.node_updates.len(), b.events.len(), b.audit.len()]
        .into_iter()
        .chain([b.job_updates.len(), b.process_starts.len(), b.process_ends.len(), b.llm_calls.len()])
        .chain([b.budgets.len(), b.approvals.len(), b.alerts.len(), b.agents.len(), b.delegations.len()])
        .chain([b.messages.len()])
        .map(|rows| rows.div_ceil(ROWS_PER_STATEMENT))
        .max()
        .unwrap_or(0)
        .max(1)
}

/// The first numbers a cluster's counters handed a batch (`store::cluster`): its jobs, events
/// and audit entries are numbered from these in the batch's order, in place of the numbers a
/// single server gives them in memory.
#[derive(Debug, Clone, Copy)]
pub(super) struct Numbering {
    pub job: i64,
    pub event: i64,
    pub audit: i64,
}

/// Writes a journal batch: one statement when it fits, else several in one transaction.
pub(super) async fn write_batch(pool: &PgPool, batch: &Batch) -> Result<(), sqlx::Error> {
    if statements(batch) == 1 {
        let folded = Folded::of(batch);
        let nodes: Vec<_> = batch.new_node_rows().collect();
        return window(&folded, 0, &nodes, None).execute(pool).await.map(drop);
    }
    let mut tx = pool.begin().await?;
    write_in(&mut tx, batch, None).await?;
    tx.commit().await
}

/// Writes a journal batch inside a transaction the caller commits, numbered by `numbering`
/// when given.
pub(super) async fn write_in(
    tx: &mut sqlx::PgConnection,
    batch: &Batch,
    numbering: Option<Numbering>,
) -> Result<(), sqlx::Error> {
    let folded = Folded::of(batch);
    let mut node_rows = batch.new_node_rows();
    for k in 0..statements(batch) {
        let nodes: Vec<_> = node_rows.by_ref().take(ROWS_PER_STATEMENT).collect();
        window(&folded, k, &nodes, numbering).execute(&mut *tx).await?;
    }
    Ok(())
}

/// The numbers of the `k`th part of a list of `len` rows numbered from `first`, or each row's
/// own.
fn numbers<T>(rows: &[T], k: usize, first: Option<i64>, own: impl Fn(&T) -> i64) -> Vec<i64> {
    let offset = i64::try_from(k * ROWS_PER_STATEMENT).unwrap_or(i64::MAX);
    match first {
        Some(first) => (0..rows.len()).map(|i| first + offset + i64::try_from(i).unwrap_or(i64::MAX)).collect(),
        None => rows.iter().map(own).collect(),
    }
}

/// The `k`th slice of at most [`ROWS_PER_STATEMENT`] rows of a list.
fn part<T>(rows: &[T], k: usize) -> &[T] {
    let start = (k * ROWS_PER_STATEMENT).min(rows.len());
    &rows[start..(start + ROWS_PER_STATEMENT).min(rows.len())]
}

/// The statement for the `k`th part of every list (`nodes` is the part of the node rows).
fn window<'q>(f: &'q Folded<'q>, k: usize, nodes: &[NewNodeRow<'q>], numbering: Option<Numbering>) -> PgQuery<'q> {
    let jobs = part(&f.jobs, k);
    let job_seqs = numbers(jobs, k, numbering.map(|n| n.job), |(job, _)| job.seq);
    let query = bind_jobs(sqlx::query(WRITE_BATCH), jobs, job_seqs);
    let labels = part(&f.batch.new_labels, k);
    let query = query
        .bind(labels.iter().map(|l| l.job_id).collect::<Vec<_>>())
        .bind(labels.iter().map(|l| l.key.as_str()).collect::<Vec<_>>())
        .bind(labels.iter().map(|l| l.value.as_str()).collect::<Vec<_>>());
    let query = bind_nodes(query, nodes, &f.node_folds);
    let query = bind_changes(query, part(&f.node_updates, k), part(&f.job_updates, k));
    let query = bind_logs(query, f.batch, k, numbering);
    let budgets = part(&f.batch.budgets, k);
    let query = bind_ledger(query, part(&f.batch.llm_calls, k))
        .bind(budgets.iter().map(|b| b.node_id).collect::<Vec<_>>())
        .bind(budgets.iter().map(|b| b.job_id).collect::<Vec<_>>())
        .bind(budgets.iter().map(|b| b.books.as_str()).collect::<Vec<_>>());
    let query = bind_approvals(query, part(&f.batch.approvals, k));
    let query = bind_alerts(query, part(&f.batch.alerts, k));
    let query = bind_agents(query, part(&f.batch.agents, k));
    let query = bind_delegations(query, part(&f.batch.delegations, k));
    bind_messages(query, part(&f.batch.messages, k))
}

fn bind_messages<'q>(query: PgQuery<'q>, rows: &'q [crate::store::MessageRow]) -> PgQuery<'q> {
    query
        .bind(rows.iter().map(|m| m.id).collect::<Vec<_>>())
        .bind(rows.iter().map(|m| m.job_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|m| m.to_node).collect::<Vec<_>>())
        .bind(rows.iter().map(|m| m.from_node).collect::<Vec<_>>())
        .bind(rows.iter().map(|m| m.sender.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|m| m.thread_id.as_deref()).collect::<Vec<_>>())
        .bind(rows.iter().map(|m| m.priority).collect::<Vec<_>>())
        .bind(rows.iter().map(|m| m.body.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|m| m.state.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|m| m.deliveries).collect::<Vec<_>>())
        .bind(rows.iter().map(|m| m.visible_ms).collect::<Vec<_>>())
        .bind(rows.iter().map(|m| m.expires_ms).collect::<Vec<_>>())
        .bind(rows.iter().map(|m| m.created_ms).collect::<Vec<_>>())
        .bind(rows.iter().map(|m| m.updated_ms).collect::<Vec<_>>())
        .bind(rows.iter().map(|m| m.dead_reason.as_deref()).collect::<Vec<_>>())
}

/// Agents kept (upserted) and removed (deleted); one row per agent in a batch, so the two
/// clauses never touch the same row.
fn bind_agents<'q>(query: PgQuery<'q>, rows: &'q [crate::store::AgentRow]) -> PgQuery<'q> {
    let (gone, kept): (Vec<&'q crate::store::AgentRow>, Vec<_>) = rows.iter().partition(|a| a.removed);
    query
        .bind(kept.iter().map(|a| a.name.as_str()).collect::<Vec<_>>())
        .bind(kept.iter().map(|a| a.status.as_str()).collect::<Vec<_>>())
        .bind(kept.iter().map(|a| a.reports_to.as_deref()).collect::<Vec<_>>())
        .bind(kept.iter().map(|a| a.body.as_str()).collect::<Vec<_>>())
        .bind(kept.iter().map(|a| a.created_ms).collect::<Vec<_>>())
        .bind(kept.iter().map(|a| a.updated_ms).collect::<Vec<_>>())
        .bind(gone.iter().map(|a| a.name.as_str()).collect::<Vec<_>>())
}

fn bind_delegations<'q>(query: PgQuery<'q>, rows: &'q [crate::store::DelegationRow]) -> PgQuery<'q> {
    query
        .bind(rows.iter().map(|d| d.node_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|d| d.job_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|d| d.agent.as_deref()).collect::<Vec<_>>())
        .bind(rows.iter().map(|d| d.state.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|d| d.reason.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|d| d.requested_ms).collect::<Vec<_>>())
        .bind(rows.iter().map(|d| d.assigned_ms).collect::<Vec<_>>())
}

fn bind_alerts<'q>(query: PgQuery<'q>, rows: &'q [crate::store::AlertRow]) -> PgQuery<'q> {
    query
        .bind(rows.iter().map(|a| a.id).collect::<Vec<_>>())
        .bind(rows.iter().map(|a| a.job_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|a| a.node_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|a| a.rule.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|a| a.message.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|a| a.data.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|a| a.created_ms).collect::<Vec<_>>())
        .bind(rows.iter().map(|a| a.resolved_ms).collect::<Vec<_>>())
        .bind(rows.iter().map(|a| a.resolved_by.as_deref()).collect::<Vec<_>>())
}

fn bind_approvals<'q>(query: PgQuery<'q>, rows: &'q [crate::store::ApprovalRow]) -> PgQuery<'q> {
    query
        .bind(rows.iter().map(|a| a.id).collect::<Vec<_>>())
        .bind(rows.iter().map(|a| a.job_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|a| a.node_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|a| a.kind.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|a| a.state.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|a| a.created_ms).collect::<Vec<_>>())
        .bind(rows.iter().map(|a| a.updated_ms).collect::<Vec<_>>())
        .bind(rows.iter().map(|a| a.body.as_str()).collect::<Vec<_>>())
}

fn bind_jobs<'q>(query: PgQuery<'q>, jobs: &[(&'q JobRow, Option<&'q JobUpdate>)], seqs: Vec<i64>) -> PgQuery<'q> {
    // A job updated in the batch that inserts it is inserted as updated.
    let folded: Vec<FoldedJob<'q>> = jobs.iter().map(FoldedJob::of).collect();
    query
        .bind(jobs.iter().map(|(j, _)| j.id).collect::<Vec<_>>())
        .bind(seqs)
        .bind(jobs.iter().map(|(j, _)| j.request.as_str()).collect::<Vec<_>>())
        .bind(jobs.iter().map(|(j, _)| j.config.as_str()).collect::<Vec<_>>())
        .bind(jobs.iter().map(|(j, _)| j.labels.as_str()).collect::<Vec<_>>())
        .bind(folded.iter().map(|j| j.status).collect::<Vec<_>>())
        .bind(jobs.iter().map(|(j, _)| j.idempotency_key.as_deref()).collect::<Vec<_>>())
        .bind(jobs.iter().map(|(j, _)| j.root_node_id).collect::<Vec<_>>())
        .bind(jobs.iter().map(|(j, _)| j.node_count).collect::<Vec<_>>())
        .bind(jobs.iter().map(|(j, _)| j.created_ms).collect::<Vec<_>>())
        .bind(folded.iter().map(|j| j.started_ms).collect::<Vec<_>>())
        .bind(folded.iter().map(|j| j.finished_ms).collect::<Vec<_>>())
        .bind(folded.iter().map(|j| j.result).collect::<Vec<_>>())
        .bind(folded.iter().map(|j| j.error).collect::<Vec<_>>())
}

fn bind_nodes<'q>(query: PgQuery<'q>, nodes: &[NewNodeRow<'q>], folds: &HashMap<Uuid, &'q NodeUpdate>) -> PgQuery<'q> {
    let fold: Vec<Option<&NodeUpdate>> = nodes.iter().map(|n| folds.get(&n.id).copied()).collect();
    let query = query
        .bind(nodes.iter().map(|n| n.id).collect::<Vec<_>>())
        .bind(nodes.iter().map(|n| n.job_id).collect::<Vec<_>>())
        .bind(nodes.iter().map(|n| n.parent_id).collect::<Vec<_>>())
        .bind(nodes.iter().map(|n| n.position).collect::<Vec<_>>())
        .bind(nodes.iter().map(|n| n.depth).collect::<Vec<_>>())
        .bind(nodes.iter().map(|n| n.name).collect::<Vec<_>>())
        .bind(nodes.iter().map(|n| n.title).collect::<Vec<_>>())
        .bind(nodes.iter().map(|n| n.role).collect::<Vec<_>>())
        .bind(nodes.iter().map(|n| n.kind).collect::<Vec<_>>())
        .bind(nodes.iter().map(|n| n.spec).collect::<Vec<_>>())
        .bind(nodes.iter().zip(&fold).map(|(n, u)| u.map_or(n.status, |u| u.status)).collect::<Vec<_>>());
    bind_node_states(query, &fold)
}

/// A node's changing columns after its status (`attempts` … `warnings`); `None` for a row
/// nothing has changed yet.
fn bind_node_states<'q>(query: PgQuery<'q>, states: &[Option<&'q NodeUpdate>]) -> PgQuery<'q> {
    query
        .bind(states.iter().map(|u| u.map_or(0, |u| u.attempts)).collect::<Vec<_>>())
        .bind(states.iter().map(|u| u.and_then(|u| u.started_ms)).collect::<Vec<_>>())
        .bind(states.iter().map(|u| u.and_then(|u| u.finished_ms)).collect::<Vec<_>>())
        .bind(states.iter().map(|u| u.and_then(NodeUpdate::result_text)).collect::<Vec<_>>())
        .bind(states.iter().map(|u| u.and_then(|u| u.error.as_deref())).collect::<Vec<_>>())
        .bind(states.iter().map(|u| u.and_then(|u| u.warnings.as_deref())).collect::<Vec<_>>())
}

fn bind_changes<'q>(query: PgQuery<'q>, nodes: &[&'q NodeUpdate], jobs: &[&'q JobUpdate]) -> PgQuery<'q> {
    let states: Vec<Option<&NodeUpdate>> = nodes.iter().copied().map(Some).collect();
    let query = query
        .bind(nodes.iter().map(|u| u.id).collect::<Vec<_>>())
        .bind(nodes.iter().map(|u| u.status).collect::<Vec<_>>());
    bind_node_states(query, &states)
        .bind(jobs.iter().map(|u| u.id).collect::<Vec<_>>())
        .bind(jobs.iter().map(|u| u.status).collect::<Vec<_>>())
        .bind(jobs.iter().map(|u| u.started_ms).collect::<Vec<_>>())
        .bind(jobs.iter().map(|u| u.finished_ms).collect::<Vec<_>>())
        .bind(jobs.iter().map(|u| u.result_text()).collect::<Vec<_>>())
        .bind(jobs.iter().map(|u| u.error.as_deref()).collect::<Vec<_>>())
}

/// Ledger rows (model calls and reported usage).
fn bind_ledger<'q>(query: PgQuery<'q>, calls: &'q [LlmCallRow]) -> PgQuery<'q> {
    let text = |field: fn(&'q LlmCallRow) -> &'q str| calls.iter().map(field).collect::<Vec<_>>();
    let optional =
        |field: fn(&'q LlmCallRow) -> &'q Option<String>| calls.iter().map(|c| field(c).as_deref()).collect::<Vec<_>>();
    let int = |field: fn(&LlmCallRow) -> i64| calls.iter().map(field).collect::<Vec<_>>();
    query
        .bind(calls.iter().map(|c| c.id).collect::<Vec<_>>())
        .bind(calls.iter().map(|c| c.job_id).collect::<Vec<_>>())
        .bind(calls.iter().map(|c| c.node_id).collect::<Vec<_>>())
        .bind(int(|c| c.depth))
        .bind(int(|c| c.attempt))
        .bind(int(|c| c.turn))
        .bind(text(|c| &c.purpose))
        .bind(text(|c| &c.provider))
        .bind(text(|c| &c.model))
        .bind(int(|c| c.input_tokens))
        .bind(int(|c| c.output_tokens))
        .bind(int(|c| c.cached_tokens))
        .bind(calls.iter().map(|c| c.cost).collect::<Vec<_>>())
        .bind(int(|c| c.latency_ms))
        .bind(calls.iter().map(|c| c.http_status).collect::<Vec<_>>())
        .bind(optional(|c| &c.error))
        .bind(int(|c| c.tries))
        .bind(optional(|c| &c.request_body))
        .bind(calls.iter().map(|c| c.request_truncated).collect::<Vec<_>>())
        .bind(optional(|c| &c.response_body))
        .bind(calls.iter().map(|c| c.response_truncated).collect::<Vec<_>>())
        .bind(optional(|c| &c.input))
        .bind(optional(|c| &c.reply))
        .bind(int(|c| c.created_ms))
}

/// Events, audit entries and process records of the `k`th part.
fn bind_logs<'q>(query: PgQuery<'q>, batch: &'q Batch, k: usize, numbering: Option<Numbering>) -> PgQuery<'q> {
    let (events, audit) = (part(&batch.events, k), part(&batch.audit, k));
    let event_seqs = numbers(events, k, numbering.map(|n| n.event), |e| e.seq);
    let audit_seqs = numbers(audit, k, numbering.map(|n| n.audit), |a| a.seq);
    let (ended, started) = (part(&batch.process_ends, k), part(&batch.process_starts, k));
    query
        .bind(event_seqs)
        .bind(events.iter().map(|e| e.ts_ms).collect::<Vec<_>>())
        .bind(events.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>())
        .bind(events.iter().map(|e| e.job_id).collect::<Vec<_>>())
        .bind(events.iter().map(|e| e.depth).collect::<Vec<_>>())
        .bind(events.iter().map(|e| e.data.as_str()).collect::<Vec<_>>())
        .bind(audit_seqs)
        .bind(audit.iter().map(|a| a.ts_ms).collect::<Vec<_>>())
        .bind(audit.iter().map(|a| a.key_id).collect::<Vec<_>>())
        .bind(audit.iter().map(|a| a.key_name.as_deref()).collect::<Vec<_>>())
        .bind(audit.iter().map(|a| a.source.as_str()).collect::<Vec<_>>())
        .bind(audit.iter().map(|a| a.action.as_str()).collect::<Vec<_>>())
        .bind(audit.iter().map(|a| a.target.as_deref()).collect::<Vec<_>>())
        .bind(audit.iter().map(|a| a.outcome.as_str()).collect::<Vec<_>>())
        .bind(audit.iter().map(|a| a.detail.as_deref()).collect::<Vec<_>>())
        .bind(ended.to_vec())
        .bind(started.iter().map(|p| p.node_id).collect::<Vec<_>>())
        .bind(started.iter().map(|p| p.job_id).collect::<Vec<_>>())
        .bind(started.iter().map(|p| p.pgid).collect::<Vec<_>>())
        .bind(started.iter().map(|p| p.started_ticks).collect::<Vec<_>>())
}
