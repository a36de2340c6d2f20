//! The API test suite: a real server per test, over HTTP, on SQLite or (with
//! `CADRE_TEST_DATABASE_URL`) PostgreSQL. `scripts/test.sh` runs it on both.

mod admission;
mod agent_mail;
mod alerts;
mod approvals;
mod budgets;
mod cancel;
#[path = "../common/mod.rs"]
mod common;
mod dashboard;
mod decomposition;
mod delegation;
mod errors;
mod escalations;
mod failures;
mod helpers;
mod ledger_store;
mod lineage;
#[path = "../support/llm_server.rs"]
#[allow(dead_code, reason = "each test binary uses a part of the support")]
mod llm_server;
mod mail;
mod quotas;
mod recovery_classes;
mod recursion;
mod report_formats;
mod security;
mod store;
mod stream;
mod surface;
mod usage;
#[path = "../support/webhook_receiver.rs"]
mod webhook_receiver;
mod webhooks;
mod worker_recursion;
mod workforce;
mod workspace;
