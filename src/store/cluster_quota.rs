//! Quota shares in the database (migration 0013): what each replica may hold of every depth's
//! quota, changed so that the shares of all replicas that still hold any never add up to more
//! than the quota.
//!
//! Every change of a share is one transaction under one advisory lock, so two replicas never
//! raise against the same free room. A replica lowers its share whenever it likes (after it
//! has stopped granting past the lower figure: `cluster::quota`), raises it only into room
//! the others' stored shares leave, and a gone replica's share is released only once none of
//! its jobs is left unclaimed or still being adopted (`jobs.adopting_from`): until the taker
//! has stopped the workers it left, they still run, and still count.
//!
//! An agent's concurrency is shared the same way (migration 0014, `agent_shares`: a row per
//! replica and agent), under the same lock and released with the same shares.

use std::collections::{BTreeMap, HashMap};

use sqlx::postgres::PgPool;
use uuid::Uuid;

use super::cluster::{LIVE, UNFINISHED};
use super::StoreResult;

/// The advisory lock that serialises share changes across replicas (any fixed number no
/// other lock of cadre's uses).
const SHARES_LOCK: i64 = 0x0CAD_5E5A;

/// Stores this replica's demand and moves its shares toward `wanted`: a lower figure is taken
/// as it is, a higher one only as far as the room the other replicas' shares leave under
/// `quotas`. The shares now stored (all zero once the replica is no longer live).
pub(super) async fn settle(
    pool: &PgPool,
    replica: Uuid,
    wanted: &[i32],
    demand: &[i32],
    quotas: &[i32],
) -> StoreResult<Vec<i32>> {
    let mut tx = pool.begin().await?;
    sqlx::query("select pg_advisory_xact_lock($1)").bind(SHARES_LOCK).execute(&mut *tx).await?;
    let rows: Vec<(Uuid, Vec<i32>)> =
        sqlx::query_as("select id, shares from replicas where cardinality(shares) > 0 or id = $1")
            .bind(replica)
            .fetch_all(&mut *tx)
            .await?;
    let at = |shares: &[i32], d: usize| shares.get(d).copied().unwrap_or(0);
    let mine: Vec<i32> = rows.iter().find(|(id, _)| *id == replica).map(|(_, s)| s.clone()).unwrap_or_default();
    let settled: Vec<i32> = (0..quotas.len())
        .map(|d| {
            let others: i32 = rows.iter().filter(|(id, _)| *id != replica).map(|(_, s)| at(s, d)).sum();
            settled_share(at(&mine, d), wanted.get(d).copied().unwrap_or(0), i64::from(quotas[d] - others))
        })
        .collect();
    let stored = sqlx::query("update replicas set shares = $2, demand = $3 where id = $1 and state = $4")
        .bind(replica)
        .bind(&settled)
        .bind(demand)
        .bind(LIVE)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(if stored.rows_affected() == 1 { settled } else { vec![0; quotas.len()] })
}

/// Releases the shares of replicas that are gone and whose jobs have all been taken over and
/// adopted. The number of replicas released.
pub(super) async fn release_gone(pool: &PgPool) -> StoreResult<u64> {
    let sql = format!(
        "update replicas r set shares = '{{}}', demand = '{{}}' where r.state <> '{LIVE}' \
         and cardinality(r.shares) > 0 and not exists (select 1 from jobs j \
             where (j.owner = r.id and j.status in {UNFINISHED}) or j.adopting_from = r.id)"
    );
    let agents = format!(
        "delete from agent_shares s using replicas r where s.replica = r.id and r.state <> '{LIVE}' \
         and not exists (select 1 from jobs j \
             where (j.owner = r.id and j.status in {UNFINISHED}) or j.adopting_from = r.id)"
    );
    let mut tx = pool.begin().await?;
    sqlx::query("select pg_advisory_xact_lock($1)").bind(SHARES_LOCK).execute(&mut *tx).await?;
    let released = sqlx::query(&sql).execute(&mut *tx).await?.rows_affected();
    sqlx::query(&agents).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(released)
}

/// The unfinished jobs each replica owns.
pub(super) async fn owned_jobs(pool: &PgPool) -> StoreResult<Vec<(Uuid, i64)>> {
    let sql =
        format!("select owner, count(*) from jobs where owner is not null and status in {UNFINISHED} group by owner");
    Ok(sqlx::query_as(&sql).fetch_all(pool).await?)
}

/// What a replica asks of one agent's places at a settling.
#[derive(Debug, Clone)]
pub struct AgentWant {
    pub agent: String,
    /// The share it wants to hold.
    pub wanted: i32,
    /// The tasks it holds plus the nodes it has waiting for the agent.
    pub demand: i32,
    /// The agent's concurrency, which the shares of all replicas stay within.
    pub concurrency: i32,
}

/// The live replicas' demands per agent, as last stored.
pub(super) async fn agent_demands(pool: &PgPool) -> StoreResult<Vec<(Uuid, String, i32)>> {
    let sql = format!(
        "select s.replica, s.agent, s.demand from agent_shares s join replicas r on r.id = s.replica \
         where r.state = '{LIVE}'"
    );
    Ok(sqlx::query_as(&sql).fetch_all(pool).await?)
}

/// Stores this replica's demand for each agent and moves its shares toward what it wants, as
/// [`settle`] does for the depths; an agent it no longer names loses its row. The shares now
/// stored (none once the replica is no longer live).
pub(super) async fn settle_agents(
    pool: &PgPool,
    replica: Uuid,
    wants: &[AgentWant],
) -> StoreResult<BTreeMap<String, i32>> {
    let mut tx = pool.begin().await?;
    sqlx::query("select pg_advisory_xact_lock($1)").bind(SHARES_LOCK).execute(&mut *tx).await?;
    let live: Option<(String,)> =
        sqlx::query_as("select state from replicas where id = $1").bind(replica).fetch_optional(&mut *tx).await?;
    if live.is_none_or(|(state,)| state != LIVE) {
        return Ok(BTreeMap::new());
    }
    let others: HashMap<String, i64> =
        sqlx::query_as("select agent, sum(share)::int8 from agent_shares where replica <> $1 group by agent")
            .bind(replica)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .collect();
    let mine: HashMap<String, i32> = sqlx::query_as("select agent, share from agent_shares where replica = $1")
        .bind(replica)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .collect();
    let settled: BTreeMap<String, i32> = wants
        .iter()
        .map(|want| {
            let held = mine.get(&want.agent).copied().unwrap_or(0);
            let room = i64::from(want.concurrency) - others.get(&want.agent).copied().unwrap_or(0);
            (want.agent.clone(), settled_share(held, want.wanted, room))
        })
        .collect();
    store_agent_rows(&mut tx, replica, wants, &settled).await?;
    tx.commit().await?;
    Ok(settled)
}

async fn store_agent_rows(
    tx: &mut sqlx::PgConnection,
    replica: Uuid,
    wants: &[AgentWant],
    settled: &BTreeMap<String, i32>,
) -> StoreResult<()> {
    let agents: Vec<&str> = wants.iter().map(|w| w.agent.as_str()).collect();
    let shares: Vec<i32> = wants.iter().map(|w| settled.get(&w.agent).copied().unwrap_or(0)).collect();
    let demand: Vec<i32> = wants.iter().map(|w| w.demand).collect();
    sqlx::query("delete from agent_shares where replica = $1").bind(replica).execute(&mut *tx).await?;
    sqlx::query(
        "insert into agent_shares (replica, agent, share, demand) \
         select $1, * from unnest($2::text[], $3::int4[], $4::int4[])",
    )
    .bind(replica)
    .bind(&agents)
    .bind(&shares)
    .bind(&demand)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The share a replica holding `held` and wanting `wanted` ends with: a lower figure as it is,
/// a higher one only as far as `room` (what the other replicas' shares leave) allows, never
/// below what it held.
fn settled_share(held: i32, wanted: i32, room: i64) -> i32 {
    if wanted <= held {
        return wanted;
    }
    let room = i32::try_from(room.max(0)).unwrap_or(i32::MAX);
    held.max(wanted.min(room))
}
