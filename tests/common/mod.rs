//! Support shared by the test binaries: a fresh PostgreSQL database per test when
//! `CADRE_TEST_DATABASE_URL` is set.

use sqlx::Connection;

/// The environment variable that selects PostgreSQL.
pub const PG_ENV: &str = "CADRE_TEST_DATABASE_URL";

/// A new, empty database on the server `CADRE_TEST_DATABASE_URL` names, if it is set.
pub async fn fresh_database_url() -> Option<String> {
    let admin_url = std::env::var(PG_ENV).ok()?;
    let name = format!("cadre_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(&admin_url).await.expect("connect to PostgreSQL");
    sqlx::query(&format!("create database {name}")).execute(&mut conn).await.expect("create database");
    let (prefix, _) = admin_url.rsplit_once('/').expect("database URL has a path");
    Some(format!("{prefix}/{name}"))
}
