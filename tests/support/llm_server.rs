//! A scripted language-model provider for tests: it speaks both wire protocols (OpenAI's
//! `POST /chat/completions`, Anthropic's `POST /v1/messages`), answers each call with the
//! next reply of its script, and records every request it receives. No network: it listens
//! on loopback, on a port the kernel picks.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A status, headers and a JSON body.
    Json { status: u16, headers: Vec<(&'static str, String)>, body: Value },
    /// No answer for this long (longer than the provider's timeout, to time it out).
    Hang(Duration),
    /// An OpenAI answer of this text that says it used the most the call could: every byte
    /// of the request as an input token and all of its `max_tokens` — what cadre reserves.
    Worst(&'static str),
}

impl Reply {
    pub fn ok(body: Value) -> Self {
        Self::Json { status: 200, headers: Vec::new(), body }
    }

    pub fn status(status: u16, message: &str) -> Self {
        Self::Json { status, headers: Vec::new(), body: json!({"error": {"message": message}}) }
    }

    pub fn with_header(self, name: &'static str, value: &str) -> Self {
        match self {
            Self::Json { status, mut headers, body } => {
                headers.push((name, value.to_string()));
                Self::Json { status, headers, body }
            }
            hang => hang,
        }
    }
}

/// A request the server received.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    /// Header names in lower case.
    pub headers: HashMap<String, String>,
    pub body: Value,
}

/// Replies for the requests whose body contains every one of `needles`: concurrent callers
/// (agents running side by side) get the answers meant for them, whatever their order.
#[derive(Debug, Clone)]
pub struct Route {
    pub needles: Vec<String>,
    pub replies: VecDeque<Reply>,
}

impl Route {
    pub fn new(needles: &[&str], replies: Vec<Reply>) -> Self {
        Self { needles: needles.iter().map(ToString::to_string).collect(), replies: replies.into() }
    }
}

#[derive(Default)]
struct Script {
    replies: VecDeque<Reply>,
    /// Tried before `replies`, in order: the first route that matches and has a reply left.
    routes: Vec<Route>,
    received: Vec<Received>,
}

/// The running server; it stops with the test's runtime.
pub struct ScriptedLlm {
    pub url: String,
    script: Arc<Mutex<Script>>,
}

impl ScriptedLlm {
    /// Starts a server that gives these replies, in order, to whatever calls it.
    pub async fn start(replies: Vec<Reply>) -> Self {
        Self::start_routed(Vec::new(), replies).await
    }

    /// Starts a server that answers by [`Route`] first, then from `replies` in order.
    pub async fn start_routed(routes: Vec<Route>, replies: Vec<Reply>) -> Self {
        let script = Arc::new(Mutex::new(Script { replies: replies.into(), routes, received: Vec::new() }));
        let app = Router::new()
            .route("/chat/completions", post(answer))
            .route("/v1/messages", post(answer))
            .with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, script }
    }

    /// Every request received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        self.script.lock().expect("script").received.clone()
    }
}

async fn answer(
    State(script): State<Arc<Mutex<Script>>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let reply = {
        let mut script = script.lock().expect("script");
        let headers =
            headers.iter().map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or_default().to_string())).collect();
        let size = body.len() as u64;
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let text = body.to_string();
        let max_tokens = body["max_tokens"].as_u64().unwrap_or(0);
        let routed = script
            .routes
            .iter_mut()
            .find(|route| !route.replies.is_empty() && route.needles.iter().all(|n| text.contains(n.as_str())))
            .and_then(|route| route.replies.pop_front());
        script.received.push(Received { path: uri.path().to_string(), headers, body });
        match routed.or_else(|| script.replies.pop_front()) {
            Some(Reply::Worst(text)) => Some(Reply::ok(openai_text(text, size, max_tokens))),
            other => other,
        }
    };
    match reply {
        Some(Reply::Json { status, headers, body }) => {
            let mut response = (StatusCode::from_u16(status).expect("status"), axum::Json(body)).into_response();
            for (name, value) in headers {
                response.headers_mut().insert(name, value.parse().expect("header value"));
            }
            response
        }
        Some(Reply::Hang(wait)) => {
            tokio::time::sleep(wait).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
        Some(Reply::Worst(_)) => unreachable!("answered above"),
        None => (StatusCode::INTERNAL_SERVER_ERROR, "the script has no reply left").into_response(),
    }
}

/// An OpenAI answer of text.
pub fn openai_text(text: &str, input: u64, output: u64) -> Value {
    json!({"id": "chatcmpl-1", "object": "chat.completion", "model": "scripted-gpt",
           "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
           "usage": {"prompt_tokens": input, "completion_tokens": output, "total_tokens": input + output}})
}

/// An OpenAI answer that calls one tool.
pub fn openai_tool_call(id: &str, name: &str, arguments: &Value) -> Value {
    json!({"id": "chatcmpl-2", "object": "chat.completion", "model": "scripted-gpt",
           "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": null,
               "tool_calls": [{"id": id, "type": "function", "function": {"name": name, "arguments": arguments.to_string()}}]}}],
           "usage": {"prompt_tokens": 50, "completion_tokens": 20, "prompt_tokens_details": {"cached_tokens": 30}}})
}

/// An Anthropic answer of text.
pub fn anthropic_text(text: &str, input: u64, output: u64) -> Value {
    json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "scripted-claude",
           "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
           "usage": {"input_tokens": input, "output_tokens": output}})
}

/// An Anthropic answer that calls one tool, part of its input read from the cache.
pub fn anthropic_tool_use(id: &str, name: &str, input: &Value) -> Value {
    json!({"id": "msg_2", "type": "message", "role": "assistant", "model": "scripted-claude",
           "content": [{"type": "text", "text": "Let me split this."}, {"type": "tool_use", "id": id, "name": name, "input": input}],
           "stop_reason": "tool_use",
           "usage": {"input_tokens": 10, "output_tokens": 40, "cache_read_input_tokens": 90}})
}
