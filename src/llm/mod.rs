//! Language-model providers: one conversation turn sent to a model and its answer read back,
//! over the two wire protocols that cover the field — OpenAI's chat completions (OpenAI,
//! vLLM, llama.cpp's server, Ollama, LiteLLM) and Anthropic's messages.
//!
//! The rest of cadre sees only [`Provider`]: a [`Request`] in the shape both protocols share
//! (a system text, messages of text, tool calls and tool results, tools, an output schema)
//! and a [`Completion`] with its [`Usage`]. Each protocol module only translates; retries,
//! back-off, timeouts and the per-provider limit on calls in flight live in [`client`].
//! Keys are read from the environment variable a provider's configuration names, when a
//! call is made, and go no further than the request header.

pub mod anthropic;
pub mod client;
pub mod config;
pub mod openai;
pub mod retry;
pub mod structured;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use client::HttpProvider;
pub use config::{LlmConfig, Prices, ProviderConfig, ProviderKind};
pub use structured::{ask_for_json, SchemaError, Structured, StructuredError};

/// Who speaks in a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
}

/// One piece of a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    /// Text.
    Text { text: String },
    /// The model asks for a tool to be run with these arguments.
    ToolUse { id: String, name: String, input: Value },
    /// What a tool gave back (or its error) for the call with `id`.
    ToolResult { id: String, content: String, is_error: bool },
}

/// One message of the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: Vec<Block>,
}

impl Message {
    /// A user message of plain text.
    pub fn user(text: impl Into<String>) -> Self {
        Self { role: Role::User, content: vec![Block::Text { text: text.into() }] }
    }
}

/// A tool the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub description: String,
    /// JSON Schema of its arguments.
    pub parameters: Value,
}

/// One call: everything the model sees.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// The provider's default model when absent.
    pub model: Option<String>,
    /// The system text. Anthropic's protocol marks it cacheable, as the stable prefix
    /// siblings share.
    pub system: Option<String>,
    pub messages: Vec<Message>,
    pub tools: Vec<Tool>,
    /// A JSON Schema the answer must follow (OpenAI's `response_format`; Anthropic has no
    /// such field, so it is left to the prompt and the caller's check).
    pub output_schema: Option<Value>,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f32>,
}

/// Tokens a call used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Input tokens read from the provider's prompt cache (part of `input_tokens`).
    pub cached_tokens: u64,
}

impl Usage {
    /// What the call cost at these prices: cached input at its own price, the rest of the
    /// input and the output at theirs.
    pub fn cost(&self, prices: &Prices) -> f64 {
        let fresh = self.input_tokens.saturating_sub(self.cached_tokens);
        let per_token = |tokens: u64, per_million: f64| tokens as f64 * per_million / 1_000_000.0;
        per_token(fresh, prices.input_per_mtok)
            + per_token(self.cached_tokens, prices.cached_per_mtok)
            + per_token(self.output_tokens, prices.output_per_mtok)
    }
}

/// Why the model stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// It answered.
    Done,
    /// It asked for tools.
    ToolUse,
    /// It ran out of `max_tokens`.
    MaxTokens,
    /// Anything else the provider said.
    Other,
}

/// A model's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Completion {
    /// The model that answered, as the provider names it.
    pub model: String,
    pub content: Vec<Block>,
    pub stop: StopReason,
    pub usage: Usage,
    /// `usage` at the provider's prices.
    pub cost: f64,
    /// HTTP attempts made, retries included.
    pub attempts: u32,
}

impl Completion {
    /// The answer's text, its text blocks joined.
    pub fn text(&self) -> String {
        let texts = self.content.iter().filter_map(|b| match b {
            Block::Text { text } => Some(text.as_str()),
            _ => None,
        });
        texts.collect::<Vec<_>>().join("")
    }

    /// The tool calls it asks for.
    pub fn tool_uses(&self) -> impl Iterator<Item = (&str, &str, &Value)> {
        self.content.iter().filter_map(|b| match b {
            Block::ToolUse { id, name, input } => Some((id.as_str(), name.as_str(), input)),
            _ => None,
        })
    }
}

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LlmError {
    /// The provider answered with an error status (after any retries): its own message.
    #[error("{provider} answered {status}: {message}")]
    Status { provider: String, status: u16, message: String },
    /// The provider could not be reached (after any retries).
    #[error("{provider} could not be reached: {detail}")]
    Transport { provider: String, detail: String },
    /// No answer within the provider's `timeout_s` (after any retries).
    #[error("{provider} did not answer within {seconds} s")]
    Timeout { provider: String, seconds: u64 },
    /// An answer that is not the protocol's shape.
    #[error("{provider} sent an answer that cannot be read: {detail}")]
    Unreadable { provider: String, detail: String },
    /// The environment variable that should hold the key is not set (its name, never a value).
    #[error("{provider}: the environment variable {variable} that holds its API key is not set")]
    MissingKey { provider: String, variable: String },
    /// The caller did not make the call (its budget could not cover it): why.
    #[error("{0}")]
    NotMade(String),
    /// No provider of that name is configured.
    #[error("no LLM provider named '{0}' is configured (see [llm.providers] in the configuration)")]
    UnknownProvider(String),
}

/// A model behind some protocol.
#[async_trait::async_trait]
pub trait Provider: Send + Sync {
    /// Sends one turn and waits for the answer, retrying what is worth retrying.
    async fn complete(&self, request: &Request) -> Result<Completion, LlmError>;
    /// The body `complete` sends for `request`, as the protocol writes it (never a key: keys
    /// travel in headers), for the call ledger.
    fn body(&self, request: &Request) -> Value;
    /// The figures the most a call can cost is worked out from, before it is made.
    fn ceiling(&self, request: &Request) -> Ceiling;
}

/// What bounds a call's cost before it is made: the size of its body, the output tokens it
/// may answer with, and the prices it is charged at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ceiling {
    pub request_bytes: usize,
    pub max_tokens: u32,
    pub input_per_mtok: f64,
    pub output_per_mtok: f64,
}

/// The configured providers by name.
#[derive(Clone, Default)]
pub struct Providers {
    by_name: BTreeMap<String, Arc<dyn Provider>>,
}

impl Providers {
    /// One HTTP provider per entry of `[llm.providers]`, sharing one connection pool.
    pub fn from_config(config: &LlmConfig) -> Self {
        let http = reqwest::Client::new();
        let by_name = config
            .providers
            .iter()
            .map(|(name, entry)| {
                let provider: Arc<dyn Provider> = Arc::new(HttpProvider::new(name, entry.clone(), http.clone()));
                (name.clone(), provider)
            })
            .collect();
        Self { by_name }
    }

    /// The provider of that name.
    pub fn get(&self, name: &str) -> Result<Arc<dyn Provider>, LlmError> {
        self.by_name.get(name).cloned().ok_or_else(|| LlmError::UnknownProvider(name.to_string()))
    }
}
