//! `cadre messages send|receive|ack|nack|list|dead`: a running job's mailboxes (issue 17)
//! from a terminal, over `/api/v1/recursion/job/{id}/messages`. A node is named by its id or
//! by its name (looked up in the job's tree, which must hold exactly one node of that name).
//! Sending and receiving need a `write` key, listing a `read` key. `-o json` prints the
//! server's answers as they came; the words are `messages_render.rs`'s.

use std::collections::HashMap;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use super::client::Client;
use super::messages_render as render;
use super::out::Outcome;
use super::Format;

/// What to do with a job's mailboxes.
#[derive(Debug, Subcommand)]
pub enum MessagesAction {
    /// Send a message to a node of a running job.
    Send(SendArgs),
    /// Receive a node's due messages, most urgent first (`--ack`: acknowledge each).
    Receive(ReceiveArgs),
    /// Acknowledge a delivered message: it is never delivered again.
    Ack { job_id: String, msg_id: String },
    /// Give a delivered message back: it is due again at once (its deliveries still count).
    Nack { job_id: String, msg_id: String },
    /// A job's messages, oldest first.
    List {
        job_id: String,
        /// Only messages in this state.
        #[arg(long, value_parser = ["pending", "delivered", "acknowledged", "dead"])]
        state: Option<String>,
    },
    /// A job's dead letters: recipient, reason, deliveries, sender, body.
    Dead { job_id: String },
}

/// The message `cadre messages send` sends.
#[derive(Debug, Args)]
pub struct SendArgs {
    pub job_id: String,
    /// The recipient: a node id, or the name of one node of the job.
    #[arg(long)]
    pub to: String,
    #[command(flatten)]
    pub message: MessageArgs,
}

/// A message's body and terms, as `cadre messages send` and `cadre agents mail send` take them.
#[derive(Debug, Args)]
pub struct MessageArgs {
    /// The body, any JSON.
    #[arg(long, required_unless_present = "text", conflicts_with = "text")]
    pub body: Option<String>,
    /// The body as text: sent as `{"text": TEXT}`.
    #[arg(long)]
    pub text: Option<String>,
    /// 0–9, 9 the most urgent and delivered first (the server's default: 5).
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=9))]
    pub priority: Option<u8>,
    /// The conversation it belongs to.
    #[arg(long)]
    pub thread: Option<String>,
    /// Seconds before it goes to the dead letters unless delivered and acknowledged.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub ttl: Option<u64>,
}

/// Whose messages `cadre messages receive` takes, and how.
#[derive(Debug, Args)]
pub struct ReceiveArgs {
    pub job_id: String,
    /// The recipient: a node id, or the name of one node of the job.
    #[arg(long)]
    pub node: String,
    #[command(flatten)]
    pub take: TakeArgs,
}

/// How a receive takes messages, as `cadre messages receive` and `cadre agents mail receive`
/// ask.
#[derive(Debug, Args)]
pub struct TakeArgs {
    /// Seconds to wait for a message when none is due.
    #[arg(long, default_value_t = 0)]
    pub wait: u64,
    /// Most messages to take (1–100).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=100))]
    pub max: u16,
    /// Acknowledge each message once it is printed.
    #[arg(long)]
    pub ack: bool,
}

/// Runs a `messages` command.
pub(super) async fn run(client: &Client, action: MessagesAction) -> Outcome {
    let mail = Mail { client };
    match action {
        MessagesAction::Send(args) => mail.send(&args).await,
        MessagesAction::Receive(args) => mail.receive(&args).await,
        MessagesAction::Ack { job_id, msg_id } => mail.settle(&job_id, &msg_id, "ack").await,
        MessagesAction::Nack { job_id, msg_id } => mail.settle(&job_id, &msg_id, "nack").await,
        MessagesAction::List { job_id, state } => mail.list(&job_id, state.as_deref()).await,
        MessagesAction::Dead { job_id } => mail.list(&job_id, Some("dead")).await,
    }
}

struct Mail<'a> {
    client: &'a Client,
}

impl Mail<'_> {
    /// The answer as one line of JSON, or the lines `words` makes of it.
    fn print(&self, answer: &Value, words: impl FnOnce(&Value) -> Vec<String>) -> Outcome {
        self.client.print_answer(answer, words)
    }

    /// The job's tree (without results).
    async fn tree(&self, job_id: &str) -> Result<Value, String> {
        let job = self.client.send(Method::GET, &format!("/recursion/job/{job_id}?results=false"), None).await?;
        Ok(job["tree"].clone())
    }

    /// A node's id: the one given, or that of the job's one node of that name.
    async fn node_id(&self, job_id: &str, node: &str) -> Result<String, String> {
        if Uuid::parse_str(node).is_ok() {
            return Ok(node.to_string());
        }
        node_named(&self.tree(job_id).await?, job_id, node)
    }

    async fn send(&self, args: &SendArgs) -> Outcome {
        let job_id = id(&args.job_id, "job")?;
        let mut body = outgoing(&args.message)?;
        body["to"] = json!(self.node_id(&job_id, &args.to).await?);
        let path = format!("/recursion/job/{job_id}/messages");
        let sent = self.client.send(Method::POST, &path, Some(&body)).await?;
        self.print(&sent, |sent| vec![render::sent_line(sent, &args.to)])
    }

    async fn receive(&self, args: &ReceiveArgs) -> Outcome {
        let job_id = id(&args.job_id, "job")?;
        let node = self.node_id(&job_id, &args.node).await?;
        let path =
            format!("/recursion/job/{job_id}/nodes/{node}/messages?wait_s={}&max={}", args.take.wait, args.take.max);
        let answer = self.client.send(Method::GET, &path, None).await?;
        let messages = list(&answer["messages"]);
        if self.client.format() == Format::Json || messages.is_empty() {
            self.print(&answer, |_| vec!["no messages".into()])?;
        }
        for message in messages {
            if self.client.format() == Format::Text {
                self.print(message, render::message_lines)?;
            }
            if args.take.ack {
                self.ack_received(&job_id, message).await?;
            }
        }
        Ok(ExitCode::SUCCESS)
    }

    /// Acknowledges a message just received, saying so in words.
    async fn ack_received(&self, job_id: &str, message: &Value) -> Result<(), super::out::Fail> {
        let msg_id = message["id"].as_str().unwrap_or_default();
        let path = format!("/recursion/job/{job_id}/messages/{msg_id}/ack");
        self.client.send(Method::POST, &path, Some(&json!({}))).await?;
        if self.client.format() == Format::Text {
            self.client.out().line("  acknowledged")?;
        }
        Ok(())
    }

    async fn settle(&self, job_id: &str, msg_id: &str, how: &str) -> Outcome {
        let (job_id, msg_id) = (id(job_id, "job")?, id(msg_id, "message")?);
        let path = format!("/recursion/job/{job_id}/messages/{msg_id}/{how}");
        let message = self.client.send(Method::POST, &path, Some(&json!({}))).await?;
        self.print(&message, |message| vec![render::settled_line(message)])
    }

    async fn list(&self, job_id: &str, state: Option<&str>) -> Outcome {
        let job_id = id(job_id, "job")?;
        let query = state.map(|s| format!("?state={s}")).unwrap_or_default();
        let answer = self.client.send(Method::GET, &format!("/recursion/job/{job_id}/messages{query}"), None).await?;
        // Names make the table readable; without them it shows ids.
        let names = match self.client.format() {
            Format::Text => node_names(&self.tree(&job_id).await.unwrap_or(Value::Null)),
            Format::Json => HashMap::new(),
        };
        let messages = list(&answer["messages"]);
        match state {
            Some("dead") => self.print(&answer, |_| render::dead_table(messages, &names)),
            _ => self.print(&answer, |_| render::message_table(messages, &names)),
        }
    }
}

/// An id, checked so that it makes a path of the API and not something else.
pub(super) fn id(text: &str, what: &str) -> Result<String, String> {
    Uuid::parse_str(text).map(|_| text.to_string()).map_err(|_| format!("'{text}' is not a {what} id (a UUID)"))
}

/// The items of a JSON array (none if it is not one).
pub(super) fn list(value: &Value) -> &[Value] {
    value.as_array().map(Vec::as_slice).unwrap_or_default()
}

/// The body of a send, all but its recipient.
pub(super) fn outgoing(args: &MessageArgs) -> Result<Value, String> {
    let body = match (&args.body, &args.text) {
        (Some(raw), _) => serde_json::from_str(raw).map_err(|e| format!("--body is not JSON: {e}"))?,
        (None, text) => json!({ "text": text.clone().unwrap_or_default() }),
    };
    let mut message = json!({ "body": body });
    if let Some(priority) = args.priority {
        message["priority"] = json!(priority);
    }
    if let Some(thread) = &args.thread {
        message["thread_id"] = json!(thread);
    }
    if let Some(ttl) = args.ttl {
        message["ttl_s"] = json!(ttl);
    }
    Ok(message)
}

/// Every node of a tree, breadth first.
fn nodes(tree: &Value) -> Vec<&Value> {
    let mut all: Vec<&Value> = if tree.is_object() { vec![tree] } else { Vec::new() };
    let mut at = 0;
    while at < all.len() {
        all.extend(list(&all[at]["children"]));
        at += 1;
    }
    all
}

/// Node ids to names.
fn node_names(tree: &Value) -> HashMap<String, String> {
    let named = nodes(tree).into_iter().filter_map(|n| Some((n["id"].as_str()?.into(), n["name"].as_str()?.into())));
    named.collect()
}

/// The id of the one node of the tree named `name`.
pub(super) fn node_named(tree: &Value, job_id: &str, name: &str) -> Result<String, String> {
    let ids: Vec<&str> =
        nodes(tree).into_iter().filter(|n| n["name"] == name).filter_map(|n| n["id"].as_str()).collect();
    match ids.as_slice() {
        [id] => Ok((*id).to_string()),
        [] => Err(format!("job {job_id} has no node named '{name}' (give a node's name or id)")),
        many => {
            Err(format!("{} nodes of job {job_id} are named '{name}'; give one's id: {}", many.len(), many.join(", ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    fn send_args(args: &[&str]) -> Result<SendArgs, clap::Error> {
        let cli = Cli::try_parse_from(
            [&["cadre", "messages", "send", "01a23612-ff08-77a2-a677-312814e96909"], args].concat(),
        )?;
        match cli.command {
            Command::Messages { action: MessagesAction::Send(args) } => Ok(args),
            other => panic!("not a send: {other:?}"),
        }
    }

    #[test]
    fn a_send_takes_a_json_body_or_a_text_and_names_only_the_fields_given() {
        assert!(send_args(&["--to", "w"]).is_err(), "a body or a text");
        assert!(send_args(&["--to", "w", "--text", "a", "--body", "1"]).is_err(), "not both");
        assert!(send_args(&["--to", "w", "--text", "a", "--priority", "10"]).is_err(), "0–9");
        assert!(send_args(&["--to", "w", "--text", "a", "--ttl", "0"]).is_err(), "at least a second");
        let text = send_args(&["--to", "w", "--text", "hi", "--priority", "9"]).expect("parses");
        assert_eq!(outgoing(&text.message).unwrap(), json!({"body": {"text": "hi"}, "priority": 9}));
        let all = send_args(&["--to", "w", "--body", r#"{"a": [1]}"#, "--thread", "t", "--ttl", "30"]).unwrap();
        assert_eq!(outgoing(&all.message).unwrap(), json!({"body": {"a": [1]}, "thread_id": "t", "ttl_s": 30}));
        let bad = send_args(&["--to", "w", "--body", "{nope"]).unwrap();
        assert!(outgoing(&bad.message).unwrap_err().starts_with("--body is not JSON"));
    }

    #[test]
    fn a_node_name_is_resolved_when_one_node_has_it() {
        let tree = json!({"id": "r", "name": "team", "children": [
            {"id": "a", "name": "lead", "children": [{"id": "b", "name": "worker", "children": []}]},
            {"id": "c", "name": "worker", "children": []},
            {"id": "d", "name": "solo", "children": []}]});
        assert_eq!(node_named(&tree, "J", "solo").unwrap(), "d");
        assert_eq!(node_named(&tree, "J", "lead").unwrap(), "a");
        let many = node_named(&tree, "J", "worker").unwrap_err();
        assert_eq!(many, "2 nodes of job J are named 'worker'; give one's id: c, b");
        let none = node_named(&tree, "J", "nobody").unwrap_err();
        assert!(none.starts_with("job J has no node named 'nobody'"), "{none}");
        assert!(node_named(&Value::Null, "J", "x").is_err());
        assert_eq!(node_names(&tree)["b"], "worker");
    }

    #[test]
    fn ids_are_checked_before_they_make_a_path() {
        assert!(id("01a23612-ff08-77a2-a677-312814e96909", "job").is_ok());
        assert_eq!(id("../keys", "message").unwrap_err(), "'../keys' is not a message id (a UUID)");
    }
}
