//! The API test suite: a real server per test, over HTTP, on SQLite or (with
//! `CADRE_TEST_DATABASE_URL`) PostgreSQL. `scripts/test.sh` runs it on both.

mod admission;
mod cancel;
#[path = "../common/mod.rs"]
mod common;
mod dashboard;
mod errors;
mod failures;
mod helpers;
mod ledger_store;
mod quotas;
mod recursion;
mod security;
mod store;
mod stream;
mod surface;
mod usage;
mod worker_recursion;
