//! `llm` workers end to end with the real binary against a scripted provider (no network):
//! prompts, schema repairs, provider failures, a model that grows its own sub-team, turn
//! limits, kill -9 between turns, the call ledger, and the key that must go nowhere.
//! Runs on SQLite, and on PostgreSQL when `CADRE_TEST_DATABASE_URL` is set.

#[path = "../common/mod.rs"]
mod common;
#[path = "../support/llm_server.rs"]
#[allow(dead_code, reason = "each test binary uses a part of the support")]
mod llm_server;
#[path = "../support/server.rs"]
#[allow(dead_code, reason = "each test binary uses a part of the support")]
mod server;

mod budgets;
mod cli;
mod conversation;
mod decompose;
mod decomposed;
mod recovery;
mod team;

use serde_json::{json, Value};
pub use server::{ended, submit, submit_id, wait_for};
use server::{flatten, serve_with, Server};

/// The variable the scripted provider's key is read from, and the key.
pub const KEY_ENV: &str = "CADRE_TEST_AGENT_KEY";
pub const KEY: &str = "sk-agent-test-3c9d1f0b7e5a42d8";

/// A store (data directory, maybe a PostgreSQL database) that outlives servers started on it.
pub struct Store {
    dir: tempfile::TempDir,
    pub database_url: Option<String>,
    key: String,
    provider_url: String,
}

impl Store {
    pub async fn new(provider_url: &str) -> Self {
        Self {
            dir: tempfile::tempdir().expect("dir"),
            database_url: common::fresh_database_url().await,
            key: String::new(),
            provider_url: provider_url.to_string(),
        }
    }

    pub fn data(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    /// A server whose providers `scripted` (OpenAI protocol) and `claude` (Anthropic's) are
    /// the scripted one.
    pub fn start(&mut self) -> Server {
        self.start_with(&[])
    }

    /// [`Store::start`] with extra variables for the server.
    pub fn start_with(&mut self, extra: &[(&str, &str)]) -> Server {
        let provider = [
            ("CADRE_LLM__PROVIDERS__SCRIPTED__KIND", "openai"),
            ("CADRE_LLM__PROVIDERS__SCRIPTED__BASE_URL", self.provider_url.as_str()),
            ("CADRE_LLM__PROVIDERS__SCRIPTED__MODEL", "scripted-default"),
            ("CADRE_LLM__PROVIDERS__SCRIPTED__API_KEY_ENV", KEY_ENV),
            ("CADRE_LLM__PROVIDERS__SCRIPTED__MAX_RETRIES", "2"),
            ("CADRE_LLM__PROVIDERS__SCRIPTED__TIMEOUT_S", "2"),
            ("CADRE_LLM__PROVIDERS__SCRIPTED__PRICES__INPUT_PER_MTOK", "3.0"),
            ("CADRE_LLM__PROVIDERS__SCRIPTED__PRICES__OUTPUT_PER_MTOK", "15.0"),
            ("CADRE_LLM__PROVIDERS__CLAUDE__KIND", "anthropic"),
            ("CADRE_LLM__PROVIDERS__CLAUDE__BASE_URL", self.provider_url.as_str()),
            ("CADRE_LLM__PROVIDERS__CLAUDE__MODEL", "claude-test"),
            ("CADRE_LLM__PROVIDERS__CLAUDE__API_KEY_ENV", KEY_ENV),
            (KEY_ENV, KEY),
        ];
        let env: Vec<(&str, &str)> = provider.iter().chain(extra).copied().collect();
        let (mut server, generated) = serve_with(&self.data(), self.database_url.as_deref(), &env);
        if let Some(key) = generated {
            self.key = key;
        }
        server.key.clone_from(&self.key);
        server
    }
}

/// An `llm` run on the scripted provider, with extra settings.
pub fn llm(extra: Value) -> Value {
    let mut run = json!({"type": "llm", "provider": "scripted"});
    run.as_object_mut().expect("object").extend(extra.as_object().cloned().unwrap_or_default());
    run
}

pub async fn run_to_end(server: &Server, job: &Value) -> Value {
    let job_id = submit_id(server, job).await;
    wait_for(server, &job_id, ended).await
}

/// The node of that name in a job's tree.
pub fn node<'a>(job: &'a Value, name: &str) -> &'a Value {
    flatten(&job["tree"]).into_iter().find(|n| n["name"] == name).unwrap_or_else(|| panic!("no node {name}: {job}"))
}

/// A node's ledger rows.
pub async fn llm_calls(server: &Server, job_id: &str, node_id: &str) -> Vec<Value> {
    let url = format!("{}/api/v1/recursion/job/{job_id}/nodes/{node_id}/llm-calls", server.url);
    let response = reqwest::Client::new().get(url).bearer_auth(&server.key).send().await.expect("llm-calls");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    body["calls"].as_array().expect("calls").clone()
}

/// The text of the last user message of an OpenAI request the provider received.
pub fn last_user_text(body: &Value) -> String {
    let messages = body["messages"].as_array().expect("messages");
    let last = messages.iter().rev().find(|m| m["role"] == "user" || m["role"] == "tool").expect("a user message");
    last["content"].as_str().map_or_else(|| last["content"].to_string(), str::to_string)
}
