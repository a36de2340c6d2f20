//! Replicas over one PostgreSQL (migration 0012): who is in the cluster, each replica's
//! heartbeat, and the fenced, globally numbered write a replica's journal makes.
//!
//! A trait of its own, reached through [`Clustered::cluster`], because only PostgreSQL has
//! it: SQLite is one server's file (`claim.rs` keeps it so).
//!
//! Fencing: once a replica has joined, each of its journal's writes is one transaction that
//! first reads the replica's own row `for share` and goes on only while it says `live`. A
//! replica that takes over another's jobs first sets that replica's row to `dead`, which waits
//! for any write holding the share lock and makes every later one fail with
//! [`StoreError::Fenced`]: what the taker reads after its update is everything the lapsed
//! replica will ever have written.
//!
//! Numbering: the same transaction takes its jobs', events' and audit entries' numbers from
//! `cluster_counters` under that row's lock, so numbers are handed out in commit order across
//! replicas — a reader following `seq` never finds a later number committed before an earlier
//! one — and a `pg_notify` on [`EVENTS_CHANNEL`] tells the other replicas to read them.

use std::collections::BTreeMap;

use async_trait::async_trait;
use sqlx::postgres::{PgListener, PgPool};
use sqlx::FromRow;
use uuid::Uuid;

use super::cluster_quota::AgentWant;
use super::pg_bulk::{write_in, Numbering};
use super::{Batch, StoreError, StoreResult};

/// The channel a replica's commit notifies with the last event number it stored.
pub const EVENTS_CHANNEL: &str = "cadre_events";
/// The channel on which a replica asks the others to settle their shares now (the payload is
/// its id).
pub const SHARES_CHANNEL: &str = "cadre_shares";
/// A replica's `state` while it serves.
pub const LIVE: &str = "live";
/// A replica's `state` once it has stopped of its own accord.
pub const LEFT: &str = "left";
/// A replica's `state` once another has declared it gone.
pub const DEAD: &str = "dead";

/// One replica as stored.
#[derive(Debug, Clone, FromRow)]
pub struct ReplicaRow {
    pub id: Uuid,
    pub address: String,
    pub host: String,
    pub pid: i64,
    pub started_ms: i64,
    pub heartbeat_ms: i64,
    /// [`LIVE`], [`LEFT`] or [`DEAD`].
    pub state: String,
    pub ended_ms: Option<i64>,
    /// The slots of each depth it may hold at once (`cluster_quota`); empty: none.
    pub shares: Vec<i32>,
    /// The slots of each depth it held or waited for at its last settling.
    pub demand: Vec<i32>,
}

/// What replicas keep in the database about each other.
#[async_trait]
pub trait ClusterStore: Send + Sync {
    /// Registers a replica as live, brings the counters up to what is stored, and fences
    /// every later journal write of this store to that replica's row.
    async fn join(&self, replica: &ReplicaRow) -> StoreResult<()>;
    /// Renews a replica's heartbeat; false when its row is no longer live.
    async fn beat(&self, id: Uuid, now_ms: i64) -> StoreResult<bool>;
    /// Records where a replica is reached.
    async fn advertise(&self, id: Uuid, address: &str) -> StoreResult<()>;
    /// Marks a replica as having left.
    async fn leave(&self, id: Uuid, now_ms: i64) -> StoreResult<()>;
    /// The replicas that are live, or ended after `since_ms`, oldest first.
    async fn replicas(&self, since_ms: i64) -> StoreResult<Vec<ReplicaRow>>;
    /// A listener told of every other replica's stored events.
    async fn event_signals(&self) -> StoreResult<EventSignals>;
    /// A listener told whenever a replica asks the others to settle their shares ([`nudge`]).
    ///
    /// [`nudge`]: ClusterStore::nudge
    async fn share_signals(&self) -> StoreResult<ShareSignals>;
    /// Asks every replica to settle its shares now, on behalf of `replica` (which stored a
    /// demand its shares do not meet, or gave room back).
    async fn nudge(&self, replica: Uuid) -> StoreResult<()>;
    /// Declares dead every live replica whose heartbeat is older than `cutoff_ms`: from the
    /// commit on, their writes are refused. The ids this call declared.
    async fn declare_lapsed(&self, cutoff_ms: i64, now_ms: i64) -> StoreResult<Vec<Uuid>>;
    /// Unfinished jobs no live replica owns.
    async fn orphan_count(&self) -> StoreResult<i64>;
    /// Makes `replica` the owner of up to `limit` orphans, oldest first, skipping any another
    /// replica is claiming; each with the host of the replica that had it.
    async fn claim_orphans(&self, replica: Uuid, limit: i64) -> StoreResult<Vec<Orphan>>;
    /// Returns jobs `replica` claimed and could not load to the replica they came from (gone),
    /// so another round claims them again; how many it returned.
    async fn give_back(&self, replica: Uuid, jobs: &[Uuid]) -> StoreResult<u64>;
    /// Ends the adoption of these claimed jobs: forgets the worker processes recorded for them
    /// (stopped by now, or out of reach), after which the replica they came from holds no
    /// quota for them.
    async fn adopted(&self, jobs: &[Uuid]) -> StoreResult<()>;
    /// Stores this replica's demand per depth and moves its quota shares toward `wanted`
    /// (lower at once, higher only into free room); the shares now stored.
    async fn settle_shares(&self, id: Uuid, wanted: &[i32], demand: &[i32], quotas: &[i32]) -> StoreResult<Vec<i32>>;
    /// The live replicas' demands for each agent's places, as last stored.
    async fn agent_demands(&self) -> StoreResult<Vec<(Uuid, String, i32)>>;
    /// Stores this replica's demand for each agent and moves its shares of their places
    /// toward what it wants (lower at once, higher only into free room); the shares now stored.
    async fn settle_agent_shares(&self, id: Uuid, wants: &[AgentWant]) -> StoreResult<BTreeMap<String, i32>>;
    /// Releases the shares of gone replicas whose jobs are all taken over; how many.
    async fn release_gone_shares(&self) -> StoreResult<u64>;
    /// The number of unfinished jobs each replica owns.
    async fn owned_jobs(&self) -> StoreResult<Vec<(Uuid, i64)>>;
    /// The open messages to these mailboxes (the agents', for the replica holding them).
    async fn open_messages_to(&self, mailboxes: &[Uuid]) -> StoreResult<Vec<super::MessageRow>>;
    /// The open messages of these jobs (a replica taking jobs over takes their mail).
    async fn open_messages_of(&self, jobs: &[Uuid]) -> StoreResult<Vec<super::MessageRow>>;
    /// The replica that owns an unfinished job (none: ended, unknown, or a single server's).
    async fn job_owner(&self, job: Uuid) -> StoreResult<Option<ReplicaRow>>;
}

/// A job a replica claimed from one that is gone.
#[derive(Debug, Clone, FromRow)]
pub struct Orphan {
    pub id: Uuid,
    /// The replica that had it (null: a single server's job).
    pub owner: Option<Uuid>,
    /// The machine of the replica that had it (null: a single server's job, or one unknown).
    pub host: Option<String>,
}

/// The statuses of a job that some replica must drive.
pub(super) const UNFINISHED: &str = "('queued', 'running', 'paused', 'cancelling')";

/// The cluster side of a store, where it has one.
pub trait Clustered {
    /// `Some` on PostgreSQL.
    fn cluster(&self) -> Option<&dyn ClusterStore>;
}

/// Notifications that events were stored somewhere in the cluster.
pub struct EventSignals(PgListener);

impl EventSignals {
    /// Waits for the next notification, or for a lost connection (after which anything may
    /// have been missed, so the caller reads the log either way).
    pub async fn next(&mut self) -> StoreResult<()> {
        self.0.try_recv().await?;
        Ok(())
    }
}

/// Requests to settle shares now, from any replica.
pub struct ShareSignals(PgListener);

impl ShareSignals {
    /// The id of the next replica asking (reconnecting first if the connection was lost; what
    /// was sent meanwhile is missed, and the heartbeat's round covers it).
    pub async fn next(&mut self) -> StoreResult<String> {
        Ok(self.0.recv().await?.payload().to_string())
    }
}

#[async_trait]
impl ClusterStore for super::postgres::PgStore {
    async fn join(&self, r: &ReplicaRow) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "insert into replicas (id, address, host, pid, started_ms, heartbeat_ms, state) \
             values ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(r.id)
        .bind(&r.address)
        .bind(&r.host)
        .bind(r.pid)
        .bind(r.started_ms)
        .bind(r.heartbeat_ms)
        .bind(LIVE)
        .execute(&mut *tx)
        .await?;
        // A single server numbers in memory: catch the counters up with what it stored.
        sqlx::query(
            "update cluster_counters set \
             job_seq = greatest(job_seq, coalesce((select max(seq) from jobs), 0)), \
             event_seq = greatest(event_seq, coalesce((select max(seq) from events), 0)), \
             audit_seq = greatest(audit_seq, coalesce((select max(seq) from audit_log), 0))",
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.fence.set(r.id).map_err(|_| StoreError::Corrupt("this store has joined the cluster already".into()))
    }

    async fn beat(&self, id: Uuid, now_ms: i64) -> StoreResult<bool> {
        let renewed = sqlx::query("update replicas set heartbeat_ms = $2 where id = $1 and state = $3")
            .bind(id)
            .bind(now_ms)
            .bind(LIVE)
            .execute(&self.pool)
            .await?;
        Ok(renewed.rows_affected() == 1)
    }

    async fn advertise(&self, id: Uuid, address: &str) -> StoreResult<()> {
        sqlx::query("update replicas set address = $2 where id = $1")
            .bind(id)
            .bind(address)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn leave(&self, id: Uuid, now_ms: i64) -> StoreResult<()> {
        sqlx::query("update replicas set state = $2, ended_ms = $3 where id = $1 and state = $4")
            .bind(id)
            .bind(LEFT)
            .bind(now_ms)
            .bind(LIVE)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn replicas(&self, since_ms: i64) -> StoreResult<Vec<ReplicaRow>> {
        Ok(sqlx::query_as(
            "select * from replicas where state = $1 or coalesce(ended_ms, heartbeat_ms) >= $2 \
             order by started_ms, id",
        )
        .bind(LIVE)
        .bind(since_ms)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn event_signals(&self) -> StoreResult<EventSignals> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(EVENTS_CHANNEL).await?;
        Ok(EventSignals(listener))
    }

    async fn share_signals(&self) -> StoreResult<ShareSignals> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(SHARES_CHANNEL).await?;
        Ok(ShareSignals(listener))
    }

    async fn nudge(&self, replica: Uuid) -> StoreResult<()> {
        sqlx::query("select pg_notify($1, $2)")
            .bind(SHARES_CHANNEL)
            .bind(replica.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn declare_lapsed(&self, cutoff_ms: i64, now_ms: i64) -> StoreResult<Vec<Uuid>> {
        let rows: Vec<(Uuid,)> = sqlx::query_as(
            "update replicas set state = $1, ended_ms = $2 where state = $3 and heartbeat_ms < $4 returning id",
        )
        .bind(DEAD)
        .bind(now_ms)
        .bind(LIVE)
        .bind(cutoff_ms)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    async fn orphan_count(&self) -> StoreResult<i64> {
        let sql = format!(
            "select count(*) from jobs j left join replicas r on r.id = j.owner \
             where j.status in {UNFINISHED} and r.state is distinct from '{LIVE}'"
        );
        let (count,): (i64,) = sqlx::query_as(&sql).fetch_one(&self.pool).await?;
        Ok(count)
    }

    async fn claim_orphans(&self, replica: Uuid, limit: i64) -> StoreResult<Vec<Orphan>> {
        let sql = format!(
            "with taken as (select j.id, j.owner from jobs j left join replicas r on r.id = j.owner \
                 where j.status in {UNFINISHED} and r.state is distinct from '{LIVE}' \
                 order by j.seq limit $2 for update of j skip locked), \
             moved as (update jobs set owner = $1, adopting_from = coalesce(jobs.adopting_from, taken.owner) \
                 from taken where jobs.id = taken.id \
                 returning jobs.id, taken.owner) \
             select moved.id, moved.owner, r.host from moved left join replicas r on r.id = moved.owner"
        );
        Ok(sqlx::query_as(&sql).bind(replica).bind(limit).fetch_all(&self.pool).await?)
    }

    async fn job_owner(&self, job: Uuid) -> StoreResult<Option<ReplicaRow>> {
        let sql = format!(
            "select r.* from jobs j join replicas r on r.id = j.owner where j.id = $1 and j.status in {UNFINISHED}"
        );
        Ok(sqlx::query_as(&sql).bind(job).fetch_optional(&self.pool).await?)
    }

    async fn give_back(&self, replica: Uuid, jobs: &[Uuid]) -> StoreResult<u64> {
        let sql = "update jobs set owner = adopting_from where id = any($1) and owner = $2";
        Ok(sqlx::query(sql).bind(jobs).bind(replica).execute(&self.pool).await?.rows_affected())
    }

    async fn adopted(&self, jobs: &[Uuid]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("delete from node_processes where job_id = any($1)").bind(jobs).execute(&mut *tx).await?;
        sqlx::query("update jobs set adopting_from = null where id = any($1)").bind(jobs).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn settle_shares(&self, id: Uuid, wanted: &[i32], demand: &[i32], quotas: &[i32]) -> StoreResult<Vec<i32>> {
        super::cluster_quota::settle(&self.pool, id, wanted, demand, quotas).await
    }

    async fn agent_demands(&self) -> StoreResult<Vec<(Uuid, String, i32)>> {
        super::cluster_quota::agent_demands(&self.pool).await
    }

    async fn settle_agent_shares(&self, id: Uuid, wants: &[AgentWant]) -> StoreResult<BTreeMap<String, i32>> {
        super::cluster_quota::settle_agents(&self.pool, id, wants).await
    }

    async fn release_gone_shares(&self) -> StoreResult<u64> {
        super::cluster_quota::release_gone(&self.pool).await
    }

    async fn owned_jobs(&self) -> StoreResult<Vec<(Uuid, i64)>> {
        super::cluster_quota::owned_jobs(&self.pool).await
    }

    async fn open_messages_to(&self, mailboxes: &[Uuid]) -> StoreResult<Vec<super::MessageRow>> {
        let sql = "select * from messages where state in ('pending', 'delivered') and to_node = any($1) \
                   order by created_ms, id";
        Ok(sqlx::query_as(sql).bind(mailboxes).fetch_all(&self.pool).await?)
    }

    async fn open_messages_of(&self, jobs: &[Uuid]) -> StoreResult<Vec<super::MessageRow>> {
        let sql = "select * from messages where state in ('pending', 'delivered') and job_id = any($1) \
                   order by created_ms, id";
        Ok(sqlx::query_as(sql).bind(jobs).fetch_all(&self.pool).await?)
    }
}

/// A joined replica's journal write: fenced to its row, numbered from the counters, and
/// announced to the other replicas on commit.
pub(super) async fn write_fenced(pool: &PgPool, batch: &Batch, replica: Uuid) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    let state: Option<(String,)> = sqlx::query_as("select state from replicas where id = $1 for share")
        .bind(replica)
        .fetch_optional(&mut *tx)
        .await?;
    if state.as_ref().map(|(s,)| s.as_str()) != Some(LIVE) {
        return Err(StoreError::Fenced);
    }
    let numbering = number(&mut tx, batch).await?;
    write_in(&mut tx, batch, Some(numbering)).await?;
    if !batch.new_jobs.is_empty() {
        // A job belongs to the replica that took it, until that replica is gone.
        let ids: Vec<Uuid> = batch.new_jobs.iter().map(|job| job.id).collect();
        sqlx::query("update jobs set owner = $1 where id = any($2)").bind(replica).bind(ids).execute(&mut *tx).await?;
    }
    if let Some(last) = batch.events.len().checked_sub(1) {
        let last = numbering.event + i64::try_from(last).unwrap_or(i64::MAX);
        sqlx::query("select pg_notify($1, $2)").bind(EVENTS_CHANNEL).bind(last.to_string()).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Takes the batch's numbers from the counters (none, and no lock, when it needs none).
async fn number(tx: &mut sqlx::PgConnection, batch: &Batch) -> StoreResult<Numbering> {
    let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    let (jobs, events, audit) = (count(batch.new_jobs.len()), count(batch.events.len()), count(batch.audit.len()));
    if jobs + events + audit == 0 {
        return Ok(Numbering { job: 0, event: 0, audit: 0 });
    }
    let (job, event, audit): (i64, i64, i64) = sqlx::query_as(
        "update cluster_counters set job_seq = job_seq + $1, event_seq = event_seq + $2, \
         audit_seq = audit_seq + $3 where id = 1 \
         returning job_seq - $1 + 1, event_seq - $2 + 1, audit_seq - $3 + 1",
    )
    .bind(jobs)
    .bind(events)
    .bind(audit)
    .fetch_one(&mut *tx)
    .await?;
    Ok(Numbering { job, event, audit })
}
