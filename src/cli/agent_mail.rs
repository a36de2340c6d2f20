//! `cadre agents mail send|receive|ack|nack NAME`: a registered agent's own mailbox (issue 17)
//! from a terminal, over `/api/v1/agents/{name}/messages`. The words are those of
//! `cadre messages` (`messages_render.rs`): a message received reads the same whether it came
//! to a node or to an agent.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::{json, Value};

use super::client::Client;
use super::messages::{id, list, outgoing, MessageArgs, TakeArgs};
use super::messages_render as render;
use super::out::Outcome;
use super::Format;

/// What to do with an agent's mailbox.
#[derive(Debug, Subcommand)]
pub enum AgentMailAction {
    /// Send a message to a registered agent (a `write` key).
    Send {
        name: String,
        #[command(flatten)]
        message: MessageArgs,
    },
    /// Receive the agent's due messages, most urgent first (`--ack`: acknowledge each).
    Receive(AgentReceiveArgs),
    /// Acknowledge a message delivered from the agent's mailbox.
    Ack { name: String, msg_id: String },
    /// Give a delivered message back to the agent's mailbox: due again at once.
    Nack { name: String, msg_id: String },
}

/// How `cadre agents mail receive` takes an agent's messages.
#[derive(Debug, Args)]
pub struct AgentReceiveArgs {
    pub name: String,
    #[command(flatten)]
    pub take: TakeArgs,
}

/// Runs an `agents mail` command.
pub(super) async fn run(client: &Client, action: AgentMailAction) -> Outcome {
    match action {
        AgentMailAction::Send { name, message } => send(client, &name, &message).await,
        AgentMailAction::Receive(args) => receive(client, &args).await,
        AgentMailAction::Ack { name, msg_id } => settle(client, &name, &msg_id, "ack").await,
        AgentMailAction::Nack { name, msg_id } => settle(client, &name, &msg_id, "nack").await,
    }
}

/// The mailbox's path, the name escaped as `cadre agents show` escapes it.
fn mailbox(name: &str) -> Result<String, String> {
    Ok(format!("{}/messages", super::agents::agent_path(name)?))
}

async fn send(client: &Client, name: &str, message: &MessageArgs) -> Outcome {
    let body = outgoing(message)?;
    let sent = client.send(Method::POST, &mailbox(name)?, Some(&body)).await?;
    client.print_answer(&sent, |sent| vec![render::sent_line(sent, &format!("agent {name}"))])
}

async fn receive(client: &Client, args: &AgentReceiveArgs) -> Outcome {
    let path = format!("{}?wait_s={}&max={}", mailbox(&args.name)?, args.take.wait, args.take.max);
    let answer = client.send(Method::GET, &path, None).await?;
    let messages = list(&answer["messages"]);
    if client.format() == Format::Json || messages.is_empty() {
        client.print_answer(&answer, |_| vec!["no messages".into()])?;
    }
    for message in messages {
        if client.format() == Format::Text {
            client.print_answer(message, render::message_lines)?;
        }
        if args.take.ack {
            ack_received(client, &args.name, message).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Acknowledges a message just received, saying so in words.
async fn ack_received(client: &Client, name: &str, message: &Value) -> Result<(), super::out::Fail> {
    let msg_id = message["id"].as_str().unwrap_or_default();
    client.send(Method::POST, &format!("{}/{msg_id}/ack", mailbox(name)?), Some(&json!({}))).await?;
    if client.format() == Format::Text {
        client.out().line("  acknowledged")?;
    }
    Ok(())
}

async fn settle(client: &Client, name: &str, msg_id: &str, how: &str) -> Outcome {
    let msg_id = id(msg_id, "message")?;
    let path = format!("{}/{msg_id}/{how}", mailbox(name)?);
    let message = client.send(Method::POST, &path, Some(&json!({}))).await?;
    client.print_answer(&message, |message| vec![render::settled_line(message)])
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::agents::AgentsAction;
    use crate::cli::{Cli, Command};

    fn action(args: &[&str]) -> Result<AgentMailAction, clap::Error> {
        match Cli::try_parse_from([&["cadre", "agents", "mail"], args].concat())?.command {
            Command::Agents { action: AgentsAction::Mail { action } } => Ok(action),
            other => panic!("not an agents mail command: {other:?}"),
        }
    }

    #[test]
    fn mail_takes_an_agent_a_body_and_the_usual_terms() {
        assert!(action(&["send", "dev"]).is_err(), "a body or a text");
        let sent = action(&["send", "dev", "--text", "hi", "--priority", "8"]).expect("parses");
        let AgentMailAction::Send { name, message } = sent else { panic!("a send") };
        assert_eq!(
            (name.as_str(), outgoing(&message).unwrap()),
            ("dev", json!({"body": {"text": "hi"}, "priority": 8}))
        );
        let AgentMailAction::Receive(args) = action(&["receive", "dev", "--wait", "5", "--ack"]).unwrap() else {
            panic!("a receive")
        };
        assert_eq!((args.take.wait, args.take.max, args.take.ack), (5, 10, true));
        assert!(action(&["ack", "dev"]).is_err(), "a message id");
    }

    #[test]
    fn an_agents_name_is_one_path_segment() {
        assert_eq!(mailbox("backend-dev").unwrap(), "/agents/backend-dev/messages");
        assert_eq!(mailbox("a/../keys").unwrap(), "/agents/a%2F..%2Fkeys/messages");
        assert!(mailbox("..").is_err());
    }
}
