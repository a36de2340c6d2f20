//! One provider over HTTP: the key read from its environment variable for each call, at most
//! `max_concurrency` calls in flight, one timeout per attempt, retries of what is worth
//! retrying (see [`super::retry`]), and the protocol's translation (a [`Wire`]) on each side.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::Semaphore;

use super::anthropic::Anthropic;
use super::openai::OpenAi;
use super::{
    retry, Block, Ceiling, Completion, LlmError, Provider, ProviderConfig, ProviderKind, Request, StopReason, Usage,
};

/// How much of a non-JSON error body is kept as the error's message.
const ERROR_TEXT_CHARS: usize = 500;

/// What a protocol's answer says.
pub struct Answer {
    pub model: String,
    pub content: Vec<Block>,
    pub stop: StopReason,
    pub usage: Usage,
}

/// A protocol's translation of requests and answers.
pub trait Wire: Send + Sync {
    /// Where calls go.
    fn url(&self, base_url: &str) -> String;
    /// The headers that carry the key (and the protocol's version).
    fn auth_headers(&self, key: Option<&str>) -> Vec<(&'static str, String)>;
    /// The request body.
    fn encode(&self, request: &Request, model: &str, max_tokens: u32) -> Value;
    /// A successful answer's body.
    fn decode(&self, body: &Value) -> Result<Answer, String>;
    /// The provider's own words in an error body.
    fn error_message(&self, body: &Value) -> Option<String>;
}

/// A configured provider reached over HTTP.
pub struct HttpProvider {
    name: String,
    config: ProviderConfig,
    http: reqwest::Client,
    wire: &'static dyn Wire,
    permits: Arc<Semaphore>,
}

/// A failed attempt, and whether (and after how long) to try again.
struct Failure {
    error: LlmError,
    retryable: bool,
    asked_wait: Option<Duration>,
}

impl HttpProvider {
    pub fn new(name: &str, config: ProviderConfig, http: reqwest::Client) -> Self {
        let wire: &'static dyn Wire = match config.kind {
            ProviderKind::Openai => &OpenAi,
            ProviderKind::Anthropic => &Anthropic,
        };
        let permits = Arc::new(Semaphore::new(config.max_concurrency.max(1)));
        Self { name: name.to_string(), config, http, wire, permits }
    }

    /// The key, read now from the variable the configuration names (none when it names none).
    fn key(&self) -> Result<Option<String>, LlmError> {
        let variable = &self.config.api_key_env;
        if variable.is_empty() {
            return Ok(None);
        }
        match std::env::var(variable) {
            Ok(key) if !key.is_empty() => Ok(Some(key)),
            _ => Err(LlmError::MissingKey { provider: self.name.clone(), variable: variable.clone() }),
        }
    }

    async fn attempt(&self, body: &Value, key: Option<&str>) -> Result<Value, Failure> {
        let _permit = self.permits.acquire().await.map_err(|_| self.transport("the provider is closed".into()))?;
        let mut call = self.http.post(self.wire.url(&self.config.base_url)).json(body);
        call = call.timeout(Duration::from_secs(self.config.timeout_s.max(1)));
        for (name, value) in self.wire.auth_headers(key) {
            call = call.header(name, value);
        }
        let response = call.send().await.map_err(|e| self.sent_error(e))?;
        let status = response.status().as_u16();
        let asked_wait = retry::asked_wait(response.headers(), chrono::Utc::now());
        let bytes = response.bytes().await.map_err(|e| self.sent_error(e))?;
        let parsed: Option<Value> = serde_json::from_slice(&bytes).ok();
        if (200..300).contains(&status) {
            let unreadable = || Failure {
                error: self.unreadable("the body is not JSON".into()),
                retryable: false,
                asked_wait: None,
            };
            return parsed.ok_or_else(unreadable);
        }
        let message = parsed
            .as_ref()
            .and_then(|b| self.wire.error_message(b))
            .unwrap_or_else(|| String::from_utf8_lossy(&bytes).chars().take(ERROR_TEXT_CHARS).collect::<String>());
        let error = LlmError::Status { provider: self.name.clone(), status, message };
        Err(Failure { error, retryable: retry::is_retryable(status), asked_wait })
    }

    /// A request that got no answer: a timeout or a connection error, both worth retrying.
    fn sent_error(&self, error: reqwest::Error) -> Failure {
        if error.is_timeout() {
            let error = LlmError::Timeout { provider: self.name.clone(), seconds: self.config.timeout_s };
            return Failure { error, retryable: true, asked_wait: None };
        }
        // The chain, not the URL: reqwest's top-level message repeats the URL it called.
        let error = error.without_url();
        let mut detail = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            detail = format!("{detail}: {cause}");
            source = cause.source();
        }
        self.transport(detail)
    }

    fn transport(&self, detail: String) -> Failure {
        Failure {
            error: LlmError::Transport { provider: self.name.clone(), detail },
            retryable: true,
            asked_wait: None,
        }
    }

    fn unreadable(&self, detail: String) -> LlmError {
        LlmError::Unreadable { provider: self.name.clone(), detail }
    }

    fn completion(&self, body: &Value, attempts: u32) -> Result<Completion, LlmError> {
        let answer = self.wire.decode(body).map_err(|detail| self.unreadable(detail))?;
        let cost = answer.usage.cost(&self.config.prices);
        Ok(Completion {
            model: answer.model,
            content: answer.content,
            stop: answer.stop,
            usage: answer.usage,
            cost,
            attempts,
        })
    }
}

#[async_trait::async_trait]
impl Provider for HttpProvider {
    async fn complete(&self, request: &Request) -> Result<Completion, LlmError> {
        let key = self.key()?;
        let body = self.body(request);
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self.attempt(&body, key.as_deref()).await {
                Ok(answer) => return self.completion(&answer, attempts),
                Err(failure) if failure.retryable && attempts <= self.config.max_retries => {
                    tokio::time::sleep(retry::wait(attempts, failure.asked_wait)).await;
                }
                Err(failure) => return Err(failure.error),
            }
        }
    }

    fn body(&self, request: &Request) -> Value {
        let model = request.model.as_deref().unwrap_or(&self.config.model);
        self.wire.encode(request, model, self.config.max_tokens)
    }

    fn ceiling(&self, request: &Request) -> Ceiling {
        let prices = &self.config.prices;
        Ceiling {
            request_bytes: self.body(request).to_string().len(),
            max_tokens: request.max_tokens.unwrap_or(self.config.max_tokens),
            // A cached token never costs more than a fresh one.
            input_per_mtok: prices.input_per_mtok.max(prices.cached_per_mtok),
            output_per_mtok: prices.output_per_mtok,
        }
    }
}
