//! `cadre agents list|show|create|pause|resume|retire|delete|org|templates`: the standing
//! workforce (issue 16) from a terminal, over `/api/v1/agents`. Reading needs a `read` key,
//! changing an admin key. `create` takes an agent from a YAML or JSON file (the server's
//! complaints point at its lines, as a job file's do) or from a template with a few fields
//! replaced; `pause`/`resume`/`retire` patch the agent's status. `-o json` prints the
//! server's answers as they came; the words are `agents_render.rs`'s.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::{json, Value};

use super::agents_render as render;
use super::client::Client;
use super::http::{describe_problem, Api};
use super::jobfile::JobFile;
use super::out::Outcome;
use super::ServerArgs;

/// What to do with the agent registry.
#[derive(Debug, Subcommand)]
pub enum AgentsAction {
    /// The registered agents: name, title, status, load, manager, capabilities.
    List,
    /// One agent: its performance over 24 hours and all time, and its recent tasks.
    Show { name: String },
    /// Register an agent from a file (`--file`) or a template (`NAME --from-template T`).
    Create(CreateArgs),
    /// Give an agent no new work (it finishes what it holds).
    Pause { name: String },
    /// Let a paused (or retired) agent take work again.
    Resume { name: String },
    /// Retire an agent: it gets no new work, and keeps its place in the chart.
    Retire { name: String },
    /// Remove an agent that holds no task and that no one reports to.
    Delete { name: String },
    /// The organisation chart: who reports to whom, with status, load and success rate.
    Org,
    /// The templates agents are created from.
    Templates,
    /// An agent's own mailbox: send, receive, ack, nack.
    Mail {
        #[command(subcommand)]
        action: super::agent_mail::AgentMailAction,
    },
}

/// The agent `cadre agents create` registers.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The new agent's name (with `--from-template`).
    #[arg(required_unless_present = "file", requires = "from_template", conflicts_with = "file")]
    pub name: Option<String>,
    /// A YAML (`.yaml`/`.yml`) or JSON file holding the agent.
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// The template to start from (`cadre agents templates`).
    #[arg(long, requires = "name")]
    pub from_template: Option<String>,
    /// The agent it reports to.
    #[arg(long, requires = "from_template")]
    pub reports_to: Option<String>,
    /// Its title.
    #[arg(long, requires = "from_template")]
    pub title: Option<String>,
    /// A capability, `label` or `label=value` (repeat for several; they replace the template's).
    #[arg(long = "capability", requires = "from_template")]
    pub capabilities: Vec<String>,
    /// Tasks it takes on at once.
    #[arg(long, requires = "from_template")]
    pub concurrency: Option<u32>,
}

/// Runs an `agents` command.
pub(super) async fn run(client: &Client, server: &ServerArgs, action: AgentsAction) -> Outcome {
    let agents = Agents { client, api: Api::new(server), server };
    match action {
        AgentsAction::List => agents.list().await,
        AgentsAction::Show { name } => agents.show(&name).await,
        AgentsAction::Org => agents.org().await,
        AgentsAction::Templates => agents.templates().await,
        AgentsAction::Mail { action } => super::agent_mail::run(client, action).await,
        change => agents.change(change).await,
    }
}

struct Agents<'a> {
    client: &'a Client,
    api: Api,
    server: &'a ServerArgs,
}

impl Agents<'_> {
    /// The commands that change the registry (an admin key's).
    async fn change(&self, action: AgentsAction) -> Outcome {
        match action {
            AgentsAction::Create(args) => self.create(&args).await,
            AgentsAction::Pause { name } => self.set_status(&name, "paused").await,
            AgentsAction::Resume { name } => self.set_status(&name, "active").await,
            AgentsAction::Retire { name } => self.set_status(&name, "retired").await,
            AgentsAction::Delete { name } => self.delete(&name).await,
            _ => Err("not a change to the registry".into()),
        }
    }

    async fn get(&self, path: &str) -> Result<Value, String> {
        self.api.send(Method::GET, path, None, None).await
    }

    /// The answer as one line of JSON, or the lines `words` makes of it.
    fn print(&self, answer: &Value, words: impl FnOnce(&Value) -> Vec<String>) -> Outcome {
        self.client.print_answer(answer, words)
    }

    async fn list(&self) -> Outcome {
        let answer = self.get("/agents").await?;
        self.print(&answer, |answer| render::agent_table(list(&answer["agents"])))
    }

    async fn show(&self, name: &str) -> Outcome {
        let agent = self.get(&agent_path(name)?).await?;
        self.print(&agent, render::agent_lines)
    }

    async fn org(&self) -> Outcome {
        let chart = self.get("/agents/org").await?;
        self.print(&chart, render::org_lines)
    }

    async fn templates(&self) -> Outcome {
        let answer = self.get("/agents/templates").await?;
        self.print(&answer, |answer| render::template_lines(list(&answer["templates"])))
    }

    async fn create(&self, args: &CreateArgs) -> Outcome {
        let agent: Value = match &args.file {
            Some(path) => {
                let file = JobFile::read(path)?;
                self.api.send(Method::POST, "/agents", Some(&file.body), Some(&file)).await?
            }
            None => self.api.send(Method::POST, "/agents", Some(&from_template(args)), None).await?,
        };
        self.print(&agent, |agent| vec![format!("agent {} created [{}]", text(agent, "name"), text(agent, "status"))])
    }

    async fn set_status(&self, name: &str, status: &str) -> Outcome {
        let patch = json!({ "status": status });
        let agent: Value = self.api.send(Method::PATCH, &agent_path(name)?, Some(&patch), None).await?;
        self.print(&agent, |agent| vec![format!("agent {} {}", text(agent, "name"), text(agent, "status"))])
    }

    /// A 204 has no body for [`Api::send`] to read, so the request is made here.
    async fn delete(&self, name: &str) -> Outcome {
        let base = format!("{}/api/v1", self.server.url.trim_end_matches('/'));
        let mut request = reqwest::Client::new().delete(format!("{base}{}", agent_path(name)?));
        if let Some(key) = &self.server.api_key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.map_err(|e| format!("cannot reach the server at {base}: {e}"))?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            return Err(describe_problem(status, &body, self.server.api_key.is_some(), None).into());
        }
        self.print(&json!({"name": name, "deleted": true}), |_| vec![format!("agent {name} deleted")])
    }
}

/// The items of a JSON array (none if it is not one).
fn list(value: &Value) -> &[Value] {
    value.as_array().map(Vec::as_slice).unwrap_or_default()
}

fn text<'v>(value: &'v Value, field: &str) -> &'v str {
    value[field].as_str().unwrap_or("?")
}

/// The body of a creation from a template: its name and the fields given to replace.
fn from_template(args: &CreateArgs) -> Value {
    let mut body = json!({"from_template": args.from_template, "name": args.name});
    let fields = [
        ("reports_to", args.reports_to.clone().map(Value::from)),
        ("title", args.title.clone().map(Value::from)),
        ("capabilities", (!args.capabilities.is_empty()).then(|| json!(args.capabilities))),
        ("concurrency", args.concurrency.map(Value::from)),
    ];
    for (field, value) in fields {
        if let Some(value) = value {
            body[field] = value;
        }
    }
    body
}

/// `/agents/NAME` with the name escaped; `.` and `..` are refused, as a URL reads them as steps.
pub(super) fn agent_path(name: &str) -> Result<String, String> {
    if matches!(name, "" | "." | "..") {
        return Err(format!("'{name}' cannot name an agent"));
    }
    let escaped: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    Ok(format!("/agents/{escaped}"))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    fn create(args: &[&str]) -> Result<CreateArgs, clap::Error> {
        let cli = Cli::try_parse_from([&["cadre", "agents", "create"], args].concat())?;
        match cli.command {
            Command::Agents { action: AgentsAction::Create(args) } => Ok(args),
            other => panic!("not a creation: {other:?}"),
        }
    }

    #[test]
    fn a_creation_is_from_a_file_or_a_named_template_with_its_fields_replaced() {
        assert!(create(&["--file", "a.yaml"]).is_ok());
        assert!(create(&[]).is_err(), "a file or a name");
        assert!(create(&["alice"]).is_err(), "a name needs a template");
        assert!(create(&["alice", "--from-template", "t", "--file", "a.yaml"]).is_err());
        assert!(create(&["--file", "a.yaml", "--title", "x"]).is_err(), "fields replace a template's");
        let args = create(&[
            "alice",
            "--from-template",
            "backend-engineer",
            "--reports-to",
            "lead",
            "--capability",
            "lang=rust",
            "--capability",
            "sql",
            "--concurrency",
            "3",
        ])
        .expect("parses");
        assert_eq!(
            from_template(&args),
            json!({"from_template": "backend-engineer", "name": "alice", "reports_to": "lead",
                   "capabilities": ["lang=rust", "sql"], "concurrency": 3})
        );
    }

    #[test]
    fn a_name_is_escaped_in_the_path_and_dot_segments_are_refused() {
        assert_eq!(agent_path("dev-1.a_b").unwrap(), "/agents/dev-1.a_b");
        assert_eq!(agent_path("a/b c").unwrap(), "/agents/a%2Fb%20c");
        assert!(agent_path("..").is_err() && agent_path(".").is_err() && agent_path("").is_err());
    }
}
