//! An agent's conversation in one attempt: the messages so far, how many of them are stored,
//! and what the calls cost. The ledger's rows are its durable form — each row keeps the
//! messages added before its call and the answer — so a node resumed after a crash rebuilds
//! the conversation from them and goes on from its last stored turn.

use serde_json::{json, Value};

use crate::llm::{Block, Message, Role, Usage};
use crate::store::LlmCallRow;

/// Why a call is made (the ledger's `purpose`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A turn of the task.
    Execute,
    /// A correction of an answer that broke the output schema.
    Repair,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Execute => "execute",
            Self::Repair => "repair",
        }
    }
}

/// What comes next in a conversation.
#[derive(Debug, PartialEq)]
pub enum Step {
    /// A call to the model.
    Call(Purpose),
    /// The last answer asks for tools: `(id, name, input)`.
    Tools(Vec<(String, String, Value)>),
    /// The last answer is final: its text.
    Answer(String),
}

/// One attempt's conversation.
#[derive(Debug, Clone, Default)]
pub struct Conversation {
    pub messages: Vec<Message>,
    /// `messages[..recorded]` are in stored rows.
    pub recorded: usize,
    /// Calls made (the last turn's number).
    pub turns: u32,
    /// Calls made to do the task (not to repair an answer).
    pub execute_turns: u32,
    pub repairs: u32,
    pub usage: Usage,
    pub cost: f64,
    /// The model that answered last.
    pub model: Option<String>,
    /// Why the next call is made.
    pub next: Option<Purpose>,
    /// Still to be read from the store (a node picked up after a restart).
    pub unloaded: bool,
}

impl Conversation {
    /// A conversation to read from the store before it goes on.
    pub fn unloaded() -> Self {
        Self { unloaded: true, ..Self::default() }
    }

    /// The conversation the rows of one attempt record, in turn order.
    pub fn rebuild(rows: &[LlmCallRow]) -> Self {
        let mut conversation = Self::default();
        for row in rows {
            let input: Vec<Message> =
                row.input.as_deref().and_then(|t| serde_json::from_str(t).ok()).unwrap_or_default();
            conversation.messages.extend(input);
            let reply: Option<Vec<Block>> = row.reply.as_deref().and_then(|t| serde_json::from_str(t).ok());
            if let Some(content) = reply {
                conversation.messages.push(Message { role: Role::Assistant, content });
                conversation.model = Some(row.model.clone());
            }
            conversation.recorded = conversation.messages.len();
            conversation.count(row);
        }
        conversation
    }

    /// Adds a stored call's numbers.
    pub fn count(&mut self, row: &LlmCallRow) {
        self.turns = self.turns.max(u32::try_from(row.turn).unwrap_or(0));
        match row.purpose.as_str() {
            "repair" => self.repairs += 1,
            _ => self.execute_turns += 1,
        }
        let tokens = |n: i64| u64::try_from(n).unwrap_or(0);
        self.usage.input_tokens += tokens(row.input_tokens);
        self.usage.output_tokens += tokens(row.output_tokens);
        self.usage.cached_tokens += tokens(row.cached_tokens);
        self.cost += row.cost;
    }

    /// What to do next, from where the conversation stands.
    pub fn step(&self) -> Step {
        let last = self.messages.last().filter(|m| m.role == Role::Assistant);
        let Some(answer) = last else { return Step::Call(self.next.unwrap_or(Purpose::Execute)) };
        let tools: Vec<(String, String, Value)> = answer
            .content
            .iter()
            .filter_map(|block| match block {
                Block::ToolUse { id, name, input } => Some((id.clone(), name.clone(), input.clone())),
                _ => None,
            })
            .collect();
        if tools.is_empty() {
            Step::Answer(text_of(answer))
        } else {
            Step::Tools(tools)
        }
    }

    /// Messages added since the last stored row (the next row's `input`).
    pub fn unrecorded(&self) -> &[Message] {
        &self.messages[self.recorded.min(self.messages.len())..]
    }

    /// The last answer's text (what a failed node keeps as its output).
    pub fn last_text(&self) -> Option<String> {
        self.messages.iter().rev().find(|m| m.role == Role::Assistant).map(text_of)
    }

    /// The node's result: its output, the model, and what the attempt's calls used.
    pub fn result(&self, output: Value) -> Value {
        json!({"output": output, "model": self.model, "usage": self.usage_json()})
    }

    pub fn usage_json(&self) -> Value {
        json!({"input_tokens": self.usage.input_tokens, "output_tokens": self.usage.output_tokens,
               "cached_tokens": self.usage.cached_tokens, "cost": self.cost, "calls": self.turns})
    }
}

fn text_of(message: &Message) -> String {
    let texts = message.content.iter().filter_map(|block| match block {
        Block::Text { text } => Some(text.as_str()),
        _ => None,
    });
    texts.collect::<Vec<_>>().join("")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(turn: i64, purpose: &str, input: &[Message], reply: Option<Vec<Block>>) -> LlmCallRow {
        LlmCallRow {
            id: uuid::Uuid::now_v7(),
            job_id: uuid::Uuid::nil(),
            node_id: uuid::Uuid::nil(),
            depth: 1,
            attempt: 1,
            turn,
            purpose: purpose.into(),
            provider: "p".into(),
            model: "m".into(),
            input_tokens: 10,
            output_tokens: 5,
            cached_tokens: 2,
            cost: 0.5,
            latency_ms: 3,
            http_status: Some(200),
            error: None,
            tries: 1,
            request_body: None,
            request_truncated: false,
            response_body: None,
            response_truncated: false,
            input: Some(serde_json::to_string(input).expect("json")),
            reply: reply.map(|r| serde_json::to_string(&r).expect("json")),
            created_ms: 0,
        }
    }

    #[test]
    fn stored_turns_rebuild_the_conversation_and_say_what_comes_next() {
        let spawn = Block::ToolUse { id: "t1".into(), name: "spawn_children".into(), input: json!({"children": []}) };
        let rows = [row(1, "execute", &[Message::user("task")], Some(vec![spawn]))];
        let conversation = Conversation::rebuild(&rows);
        assert_eq!((conversation.turns, conversation.execute_turns, conversation.recorded), (1, 1, 2));
        assert!(matches!(conversation.step(), Step::Tools(tools) if tools[0].1 == "spawn_children"));
        let result = Block::ToolResult { id: "t1".into(), content: "{}".into(), is_error: false };
        let answer = Block::Text { text: "done".into() };
        let more = [
            row(1, "execute", &[Message::user("task")], Some(vec![Block::Text { text: "{".into() }])),
            row(2, "repair", &[Message { role: Role::User, content: vec![result] }], Some(vec![answer])),
        ];
        let conversation = Conversation::rebuild(&more);
        assert_eq!(conversation.step(), Step::Answer("done".into()));
        assert_eq!((conversation.repairs, conversation.usage.input_tokens, conversation.cost), (1, 20, 1.0));
        assert_eq!(conversation.result(json!("done"))["usage"]["calls"], 2);
    }

    #[test]
    fn a_failed_call_leaves_its_input_waiting_for_the_same_turn_again() {
        let rows = [row(1, "execute", &[Message::user("task")], None)];
        let conversation = Conversation::rebuild(&rows);
        assert_eq!(conversation.step(), Step::Call(Purpose::Execute));
        assert!(conversation.unrecorded().is_empty(), "its input is stored with the failed row");
    }
}
