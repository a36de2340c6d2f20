//! The mailbox tools an agent may call (issue 17): `send_message` writes to a node within its
//! reach — its own subtree, its siblings' subtrees, its ancestors — by name or id;
//! `read_messages` takes the messages due in its own mailbox (waiting a little for one) and
//! acknowledges them as the tool's result is handed to the model. Both go through the narrow
//! [`Post`] door the driver gives the agent, so this module knows nothing of the mailboxes.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::llm::Tool;

pub const SEND_MESSAGE: &str = "send_message";
pub const READ_MESSAGES: &str = "read_messages";
/// The longest an agent's `read_messages` waits.
pub const MAX_READ_WAIT_S: u64 = 30;

/// The agent's mailbox and its way to others'.
#[async_trait::async_trait]
pub trait Post: Send + Sync {
    /// Sends `body` to the node named (or with the id) `to`; the message's id, or why not.
    async fn send(&self, to: &str, body: Value, priority: u8, thread_id: Option<String>) -> Result<Value, String>;
    /// The messages due in the agent's own mailbox, acknowledged (waiting up to `wait_s`).
    async fn read(&self, wait_s: u64) -> Result<Value, String>;
}

pub fn tools(names: &[String]) -> Vec<Tool> {
    let mut offered = Vec::new();
    if names.iter().any(|n| n == SEND_MESSAGE) {
        offered.push(send_message());
    }
    if names.iter().any(|n| n == READ_MESSAGES) {
        offered.push(read_messages());
    }
    offered
}

fn send_message() -> Tool {
    Tool {
        name: SEND_MESSAGE.into(),
        description: "Send a message to another node of this job: one in your own subtree, your siblings' \
            subtrees, or your ancestors (by its name, or its id); or to a registered agent as `agent:NAME`. \
            Priority 0-9, 9 the most urgent; a thread_id groups a conversation."
            .into(),
        parameters: json!({"type": "object", "required": ["to", "body"], "properties": {
            "to": {"type": "string", "description": "The recipient node's name or id, or `agent:NAME`."},
            "body": {"description": "Any JSON: text or an object."},
            "priority": {"type": "integer", "minimum": 0, "maximum": 9},
            "thread_id": {"type": "string"}
        }}),
    }
}

fn read_messages() -> Tool {
    Tool {
        name: READ_MESSAGES.into(),
        description: "Read the messages waiting in your mailbox (and, when a registered agent runs you, in \
            that agent's), most urgent first (each is acknowledged). wait_s: seconds to wait for one when none \
            is waiting (at most 30)."
            .into(),
        parameters: json!({"type": "object", "properties": {"wait_s": {"type": "integer", "minimum": 0, "maximum": 30}}}),
    }
}

/// Runs a mail tool through `post`; `None` when `name` is not one of them.
pub async fn call(post: &dyn Post, name: &str, input: &Value) -> Option<Result<String, String>> {
    let answer = match name {
        SEND_MESSAGE => send(post, input).await,
        READ_MESSAGES => {
            let wait_s = input.get("wait_s").and_then(Value::as_u64).unwrap_or(0).min(MAX_READ_WAIT_S);
            post.read(wait_s).await
        }
        _ => return None,
    };
    Some(answer.map(|value| value.to_string()))
}

async fn send(post: &dyn Post, input: &Value) -> Result<Value, String> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Arguments {
        to: String,
        body: Value,
        #[serde(default)]
        priority: Option<u8>,
        #[serde(default)]
        thread_id: Option<String>,
    }
    let arguments: Arguments =
        serde_json::from_value(input.clone()).map_err(|e| format!("the arguments cannot be read: {e}"))?;
    let priority = arguments.priority.unwrap_or(5);
    if priority > 9 {
        return Err("priority: 0-9".into());
    }
    post.send(&arguments.to, arguments.body, priority, arguments.thread_id).await
}
