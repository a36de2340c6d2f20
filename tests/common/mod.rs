//! Support shared by the test binaries: a fresh PostgreSQL database per test when
//! `CADRE_TEST_DATABASE_URL` is set, and git for the workspace tests.

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

/// Runs git in `repo` with an identity of its own (the machine may have no git config) and
/// returns its stdout; panics unless it succeeded.
#[allow(dead_code, reason = "only the binaries that test workspaces run git")]
pub fn git(repo: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args(["-c", "user.name=test", "-c", "user.email=test@localhost", "-c", "commit.gpgsign=false"])
        .args(args)
        .current_dir(repo)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}
