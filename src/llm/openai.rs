//! OpenAI's chat completions protocol: `POST {base_url}/chat/completions`. The same wire is
//! spoken by vLLM, llama.cpp's server, Ollama and LiteLLM, so one translation reaches them all.

use serde_json::{json, Map, Value};

use super::client::{Answer, Wire};
use super::{Block, Message, Request, Role, StopReason, Usage};

/// The chat completions protocol.
pub struct OpenAi;

impl Wire for OpenAi {
    fn url(&self, base_url: &str) -> String {
        format!("{}/chat/completions", base_url.trim_end_matches('/'))
    }

    fn auth_headers(&self, key: Option<&str>) -> Vec<(&'static str, String)> {
        key.map(|key| vec![("authorization", format!("Bearer {key}"))]).unwrap_or_default()
    }

    fn encode(&self, request: &Request, model: &str, max_tokens: u32) -> Value {
        let mut messages: Vec<Value> = request.system.iter().map(|s| json!({"role": "system", "content": s})).collect();
        messages.extend(request.messages.iter().flat_map(message));
        let mut body =
            json!({"model": model, "messages": messages, "max_tokens": request.max_tokens.unwrap_or(max_tokens)});
        if let Some(temperature) = request.temperature {
            body["temperature"] = json!(temperature);
        }
        if !request.tools.is_empty() {
            let tools = request.tools.iter().map(|t| {
                json!({"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.parameters}})
            });
            body["tools"] = Value::Array(tools.collect());
        }
        if let Some(schema) = &request.output_schema {
            body["response_format"] =
                json!({"type": "json_schema", "json_schema": {"name": "output", "schema": schema}});
        }
        body
    }

    fn decode(&self, body: &Value) -> Result<Answer, String> {
        let choice = body["choices"].get(0).ok_or("no choices in the answer")?;
        let message = &choice["message"];
        let mut content = Vec::new();
        if let Some(text) = message["content"].as_str().filter(|t| !t.is_empty()) {
            content.push(Block::Text { text: text.to_string() });
        }
        for call in message["tool_calls"].as_array().into_iter().flatten() {
            content.push(tool_use(call)?);
        }
        let stop = match choice["finish_reason"].as_str() {
            Some("stop") => StopReason::Done,
            Some("tool_calls") => StopReason::ToolUse,
            Some("length") => StopReason::MaxTokens,
            _ => StopReason::Other,
        };
        let model = body["model"].as_str().unwrap_or_default().to_string();
        Ok(Answer { model, content, stop, usage: usage(&body["usage"]) })
    }

    fn error_message(&self, body: &Value) -> Option<String> {
        body["error"]["message"].as_str().map(str::to_string)
    }
}

/// One of our messages as the protocol's messages: tool results are messages of their own.
fn message(message: &Message) -> Vec<Value> {
    let text: String = message
        .content
        .iter()
        .filter_map(|b| match b {
            Block::Text { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    for block in &message.content {
        if let Block::ToolResult { id, content, .. } = block {
            out.push(json!({"role": "tool", "tool_call_id": id, "content": content}));
        }
    }
    let calls: Vec<Value> = message
        .content
        .iter()
        .filter_map(|b| match b {
            Block::ToolUse { id, name, input } => {
                Some(json!({"id": id, "type": "function", "function": {"name": name, "arguments": input.to_string()}}))
            }
            _ => None,
        })
        .collect();
    let role = match message.role {
        Role::User => "user",
        Role::Assistant => "assistant",
    };
    if !text.is_empty() || !calls.is_empty() {
        let mut entry = Map::new();
        entry.insert("role".into(), json!(role));
        entry.insert("content".into(), if text.is_empty() { Value::Null } else { json!(text) });
        if !calls.is_empty() {
            entry.insert("tool_calls".into(), Value::Array(calls));
        }
        out.push(Value::Object(entry));
    }
    out
}

fn tool_use(call: &Value) -> Result<Block, String> {
    let function = &call["function"];
    let name = function["name"].as_str().ok_or("a tool call without a name")?;
    let arguments = function["arguments"].as_str().unwrap_or("{}");
    let input =
        serde_json::from_str(arguments).map_err(|e| format!("tool call {name}: arguments are not JSON: {e}"))?;
    Ok(Block::ToolUse { id: call["id"].as_str().unwrap_or_default().to_string(), name: name.to_string(), input })
}

fn usage(usage: &Value) -> Usage {
    Usage {
        input_tokens: usage["prompt_tokens"].as_u64().unwrap_or(0),
        output_tokens: usage["completion_tokens"].as_u64().unwrap_or(0),
        cached_tokens: usage["prompt_tokens_details"]["cached_tokens"].as_u64().unwrap_or(0),
    }
}
