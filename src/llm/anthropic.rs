//! Anthropic's messages protocol: `POST {base_url}/v1/messages`. `max_tokens` is always sent
//! (the protocol requires it), and the system text is marked `cache_control` so that the
//! stable prefix siblings share is paid for once.

use serde_json::{json, Value};

use super::client::{Answer, Wire};
use super::{Block, Message, Request, Role, StopReason, Usage};

/// The protocol version this translation speaks.
const VERSION: &str = "2023-06-01";

/// The messages protocol.
pub struct Anthropic;

impl Wire for Anthropic {
    fn url(&self, base_url: &str) -> String {
        format!("{}/v1/messages", base_url.trim_end_matches('/'))
    }

    fn auth_headers(&self, key: Option<&str>) -> Vec<(&'static str, String)> {
        let mut headers = vec![("anthropic-version", VERSION.to_string())];
        headers.extend(key.map(|key| ("x-api-key", key.to_string())));
        headers
    }

    fn encode(&self, request: &Request, model: &str, max_tokens: u32) -> Value {
        let messages: Vec<Value> = request.messages.iter().map(message).collect();
        let mut body =
            json!({"model": model, "max_tokens": request.max_tokens.unwrap_or(max_tokens), "messages": messages});
        if let Some(system) = &request.system {
            body["system"] = json!([{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}]);
        }
        if let Some(temperature) = request.temperature {
            body["temperature"] = json!(temperature);
        }
        if !request.tools.is_empty() {
            let tools = request
                .tools
                .iter()
                .map(|t| json!({"name": t.name, "description": t.description, "input_schema": t.parameters}));
            body["tools"] = Value::Array(tools.collect());
        }
        body
    }

    fn decode(&self, body: &Value) -> Result<Answer, String> {
        let blocks = body["content"].as_array().ok_or("no content in the answer")?;
        let content = blocks.iter().filter_map(block).collect();
        let stop = match body["stop_reason"].as_str() {
            Some("end_turn" | "stop_sequence") => StopReason::Done,
            Some("tool_use") => StopReason::ToolUse,
            Some("max_tokens") => StopReason::MaxTokens,
            _ => StopReason::Other,
        };
        let model = body["model"].as_str().unwrap_or_default().to_string();
        Ok(Answer { model, content, stop, usage: usage(&body["usage"]) })
    }

    fn error_message(&self, body: &Value) -> Option<String> {
        body["error"]["message"].as_str().map(str::to_string)
    }
}

fn message(message: &Message) -> Value {
    let role = match message.role {
        Role::User => "user",
        Role::Assistant => "assistant",
    };
    let content: Vec<Value> = message
        .content
        .iter()
        .map(|b| match b {
            Block::Text { text } => json!({"type": "text", "text": text}),
            Block::ToolUse { id, name, input } => json!({"type": "tool_use", "id": id, "name": name, "input": input}),
            Block::ToolResult { id, content, is_error } => {
                json!({"type": "tool_result", "tool_use_id": id, "content": content, "is_error": is_error})
            }
        })
        .collect();
    json!({"role": role, "content": content})
}

fn block(block: &Value) -> Option<Block> {
    match block["type"].as_str()? {
        "text" => Some(Block::Text { text: block["text"].as_str()?.to_string() }),
        "tool_use" => Some(Block::ToolUse {
            id: block["id"].as_str()?.to_string(),
            name: block["name"].as_str()?.to_string(),
            input: block["input"].clone(),
        }),
        _ => None,
    }
}

/// Anthropic counts cache reads and writes apart from `input_tokens`; ours counts every
/// input token, cached ones included.
fn usage(usage: &Value) -> Usage {
    let count = |field: &str| usage[field].as_u64().unwrap_or(0);
    let cached = count("cache_read_input_tokens");
    Usage {
        input_tokens: count("input_tokens") + cached + count("cache_creation_input_tokens"),
        output_tokens: count("output_tokens"),
        cached_tokens: cached,
    }
}
