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
            let (held, want) = (at(&mine, d), wanted.get(d).copied().unwrap_or(0));
            if want <= held {
                want
            } else {
                held.max(want.min(quotas[d] - others))
            }
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
    let mut tx = pool.begin().await?;
    sqlx::query("select pg_advisory_xact_lock($1)").bind(SHARES_LOCK).execute(&mut *tx).await?;
    let released = sqlx::query(&sql).execute(&mut *tx).await?.rows_affected();
    tx.commit().await?;
    Ok(released)
}

/// The unfinished jobs each replica owns.
pub(super) async fn owned_jobs(pool: &PgPool) -> StoreResult<Vec<(Uuid, i64)>> {
    let sql =
        format!("select owner, count(*) from jobs where owner is not null and status in {UNFINISHED} group by owner");
    Ok(sqlx::query_as(&sql).fetch_all(pool).await?)
}
