//! Reads of people in the loop (approval requests, alerts), as a macro over the database type like
//! the rest of the portable SQL, expanded beside each store; the [`Store`](super::Store)
//! methods in `sql.rs` call these.

macro_rules! sql_people_reads {
    ($db:ty) => {
        async fn read_approval(
            pool: &sqlx::Pool<$db>,
            id: uuid::Uuid,
        ) -> $crate::store::StoreResult<Option<$crate::store::ApprovalRow>> {
            Ok(sqlx::query_as("select * from approvals where id = $1").bind(id).fetch_optional(pool).await?)
        }

        async fn read_approvals(
            pool: &sqlx::Pool<$db>,
            query: &$crate::store::ApprovalQuery,
        ) -> $crate::store::StoreResult<Vec<$crate::store::ApprovalRow>> {
            let mut sql = sqlx::QueryBuilder::<$db>::new("select * from approvals where 1 = 1");
            if let Some(state) = &query.state {
                sql.push(" and state = ").push_bind(state.clone());
            }
            if let Some(job_id) = query.job_id {
                sql.push(" and job_id = ").push_bind(job_id);
            }
            if let Some((ms, id)) = query.before {
                sql.push(" and (created_ms < ").push_bind(ms);
                sql.push(" or (created_ms = ").push_bind(ms).push(" and id < ").push_bind(id).push("))");
            }
            sql.push(" order by created_ms desc, id desc limit ").push_bind(query.limit);
            Ok(sql.build_query_as().persistent(false).fetch_all(pool).await?)
        }

        async fn read_alerts(
            pool: &sqlx::Pool<$db>,
            query: &$crate::store::AlertQuery,
        ) -> $crate::store::StoreResult<Vec<$crate::store::AlertRow>> {
            let mut sql = sqlx::QueryBuilder::<$db>::new("select * from alerts where 1 = 1");
            if let Some(job_id) = query.job_id {
                sql.push(" and job_id = ").push_bind(job_id);
            }
            if let Some(rule) = &query.rule {
                sql.push(" and rule = ").push_bind(rule.clone());
            }
            match query.open {
                Some(true) => drop(sql.push(" and resolved_ms is null")),
                Some(false) => drop(sql.push(" and resolved_ms is not null")),
                None => {}
            }
            if let Some((ms, id)) = query.before {
                sql.push(" and (created_ms < ").push_bind(ms);
                sql.push(" or (created_ms = ").push_bind(ms).push(" and id < ").push_bind(id).push("))");
            }
            sql.push(" order by created_ms desc, id desc limit ").push_bind(query.limit);
            Ok(sql.build_query_as().persistent(false).fetch_all(pool).await?)
        }

        async fn read_job_approvals(
            pool: &sqlx::Pool<$db>,
            job_id: uuid::Uuid,
        ) -> $crate::store::StoreResult<Vec<$crate::store::ApprovalRow>> {
            Ok(sqlx::query_as("select * from approvals where job_id = $1 order by created_ms, id")
                .bind(job_id)
                .fetch_all(pool)
                .await?)
        }
    };
}

pub(super) use sql_people_reads;
