//! The `cadre` command line: `serve` runs the server; the other commands are thin clients
//! of its REST API (found through `CADRE_URL` and `CADRE_API_KEY`). Options that every
//! command shares (`--url`, `--api-key`, `--config`, `--output`) are global, so they are
//! accepted before or after the subcommand.
//!
//! # Layout
//! - `client`: the one-shot REST commands; `http`: requests and how refusals read;
//!   `jobfile` and `locate`: job files, with errors at a line and column of the file.
//! - `stream`: the WebSocket follower; `view`: what a watcher shows (JSON, plain lines, or
//!   the live terminal view); `board` and `render`: the pure model behind it; `spend`: what
//!   model calls spent (tokens, cost) and how it reads.
//! - `out`: writing to stdout, where a closed pipe is a quiet end; `serve`: the server side.
//! - `agents` and `agents_render`: the agent registry (`cadre agents …`) and how it reads.
//! - `messages` and `messages_render`: a job's mailboxes (`cadre messages …`) and how they read.
//! - `workspace` and `workspace_render`: a job's git workspace (`cadre workspace …`): a node's
//!   diff, and removing what an ended job kept.

mod agent_mail;
mod agents;
mod agents_render;
mod approvals;
mod board;
mod client;
mod cluster;
mod envelope;
mod http;
mod jobfile;
mod locate;
mod messages;
mod messages_render;
mod out;
mod plan;
mod render;
mod serve;
mod spend;
mod status;
mod stream;
mod view;
mod workspace;
mod workspace_render;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

pub use serve::shutdown_signal;

/// The default server address for client commands.
const DEFAULT_URL: &str = "http://127.0.0.1:8080";

/// cadre: a hierarchical job orchestrator.
#[derive(Debug, Parser)]
#[command(name = "cadre", version, about)]
pub struct Cli {
    /// Configuration file of `serve` and `migrate` (default: config/cadre.toml when it exists).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Log format of `serve`: text or json.
    #[arg(long, global = true)]
    pub log_format: Option<String>,
    /// How client commands print what the server answers.
    #[arg(short, long, global = true, value_enum, default_value_t = Format::Text)]
    pub output: Format,
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Output formats of the client commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Words for a person; a live view on a terminal.
    Text,
    /// The server's JSON, one document per line (events included).
    Json,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (SQLite in ./cadre-data unless DATABASE_URL is set).
    Serve,
    /// Submit a job file (JSON or YAML).
    Submit {
        file: PathBuf,
        /// Follow the job until it ends (a live view on a terminal); exit non-zero unless it
        /// succeeded.
        #[arg(long)]
        watch: bool,
    },
    /// Show a job and its tree.
    Status { job_id: String },
    /// Cancel a job.
    Cancel { job_id: String },
    /// Answer the question a paused job asked; it goes on.
    Answer { job_id: String, answer: String },
    /// Print a job's report: Markdown (the plan, what each manager and agent delivered,
    /// validation verdicts, failures and their recovery, retries, tokens and cost), or the
    /// outcome per phase as JSON or JUnit XML (`--format junit > report.xml` for a CI).
    Report {
        job_id: String,
        #[arg(long, value_parser = ["markdown", "json", "junit"], default_value = "markdown")]
        format: String,
    },
    /// Validate a job file without running it.
    Validate { file: PathBuf },
    /// Break a job file's request down with the server's decomposer and show the tree that
    /// would run, without running it (it calls the model: needs a `write` key).
    Plan { file: PathBuf },
    /// List jobs, newest first.
    Jobs(JobsArgs),
    /// Apply the store's migrations and exit.
    Migrate,
    /// Follow the event stream (a live view on a terminal, plain lines otherwise).
    Watch(WatchArgs),
    /// Manage API keys (needs an admin key).
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// Approval requests: list what this key may decide, approve or reject one.
    Approvals {
        #[command(subcommand)]
        action: approvals::ApprovalsAction,
    },
    /// Alerts the rules raised, open ones first (`--all`: resolved ones too).
    Alerts {
        /// Resolved alerts too.
        #[arg(long)]
        all: bool,
        /// Only this job's.
        #[arg(long)]
        job: Option<String>,
    },
    /// Let a job its failure-rate alert held start nodes again.
    Resume { job_id: String },
    /// The replicas serving the API (one, without a cluster), as the one asked sees them.
    Cluster,
    /// The standing workforce: list, show, create, pause, resume, retire and delete agents,
    /// the organisation chart, the templates (changes need an admin key).
    Agents {
        #[command(subcommand)]
        action: agents::AgentsAction,
    },
    /// A running job's mailboxes: send to a node (by id or name), receive, acknowledge or give
    /// back, list the messages and the dead letters.
    Messages {
        #[command(subcommand)]
        action: messages::MessagesAction,
    },
    /// A job's git workspace: what a node changed on its branch (by id or name), and removing
    /// an ended job's worktrees and branches.
    Workspace {
        #[command(subcommand)]
        action: workspace::WorkspaceAction,
    },
}

/// Which jobs `cadre jobs` lists.
#[derive(Debug, Clone, clap::Args)]
pub struct JobsArgs {
    /// Only jobs in this status (queued, running, paused, cancelling, succeeded, failed, cancelled).
    #[arg(long)]
    pub status: Option<String>,
    /// Only jobs with this label, as key:value.
    #[arg(long)]
    pub label: Option<String>,
    /// How many (1–500).
    #[arg(long, default_value_t = 20)]
    pub limit: u32,
}

/// What `cadre watch` follows.
#[derive(Debug, Clone, clap::Args)]
pub struct WatchArgs {
    /// Only this job's events (and stop when it ends, with its outcome as the exit status).
    #[arg(long)]
    pub job: Option<String>,
    /// Only events at this depth.
    #[arg(long, conflicts_with_all = ["min_depth", "max_depth"])]
    pub depth: Option<u8>,
    /// Only events at this depth or deeper.
    #[arg(long)]
    pub min_depth: Option<u8>,
    /// Only events at this depth or shallower.
    #[arg(long)]
    pub max_depth: Option<u8>,
    /// Only these event types (comma list).
    #[arg(long)]
    pub types: Option<String>,
    /// Replay the stored events after this sequence number first.
    #[arg(long)]
    pub since: Option<i64>,
    /// Print the raw JSON frames (the same as `--output json`).
    #[arg(long)]
    pub json: bool,
}

/// What to do with keys.
#[derive(Debug, Subcommand)]
pub enum KeysAction {
    /// Create a key; its secret is printed once.
    Create {
        /// What the key is for.
        #[arg(long)]
        name: String,
        /// read, write or admin (repeat for several).
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// Seconds until it expires.
        #[arg(long)]
        expires_in_s: Option<u64>,
        /// Its own rate limit, requests per second.
        #[arg(long, requires = "burst")]
        rate: Option<u32>,
        /// Its own burst.
        #[arg(long, requires = "rate")]
        burst: Option<u32>,
        /// A group it is in, which approvers may name as `group:NAME` (repeat for several).
        #[arg(long = "group")]
        groups: Vec<String>,
    },
    /// List keys (never their secrets).
    List,
    /// Revoke a key by id.
    Revoke { id: String },
}

/// Where the server is, and the key to show it.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerArgs {
    /// Server URL of client commands.
    #[arg(long, global = true, env = "CADRE_URL", default_value = DEFAULT_URL)]
    pub url: String,
    /// API key of client commands.
    #[arg(long, global = true, env = "CADRE_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Serve => report(serve::serve(cli.config, cli.log_format).await),
        Command::Migrate => report(serve::migrate(cli.config).await),
        command => out::exit_code(client_command(command, cli.server, cli.output).await),
    }
}

fn report(outcome: Result<ExitCode, String>) -> ExitCode {
    out::exit_code(outcome.map_err(out::Fail::Error))
}

async fn client_command(command: Command, server: ServerArgs, format: Format) -> out::Outcome {
    let client = client::Client::new(&server, format);
    match command {
        Command::Submit { file, watch } => client.submit(&file, watch).await,
        command @ (Command::Status { .. }
        | Command::Cancel { .. }
        | Command::Answer { .. }
        | Command::Resume { .. }
        | Command::Report { .. }) => job_command(&client, command).await,
        command @ (Command::Validate { .. } | Command::Plan { .. } | Command::Jobs(_) | Command::Cluster) => {
            server_command(&client, command).await
        }
        command @ (Command::Keys { .. } | Command::Approvals { .. } | Command::Alerts { .. }) => {
            people_command(&client, command).await
        }
        Command::Watch(args) => client.watch(args).await,
        command @ (Command::Agents { .. } | Command::Messages { .. } | Command::Workspace { .. }) => {
            workforce_command(&client, &server, command).await
        }
        Command::Serve | Command::Migrate => Err("not a client command".into()),
    }
}

/// The commands that ask the server about a plan, its jobs or itself.
async fn server_command(client: &client::Client, command: Command) -> out::Outcome {
    match command {
        Command::Validate { file } => client.validate(&file).await,
        Command::Plan { file } => client.plan(&file).await,
        Command::Jobs(args) => client.jobs(args).await,
        Command::Cluster => client.cluster().await,
        _ => Err("not a command about the server".into()),
    }
}

/// The commands about keys, approvals and alerts.
async fn people_command(client: &client::Client, command: Command) -> out::Outcome {
    match command {
        Command::Keys { action } => client.keys(action).await,
        Command::Approvals { action } => client.approvals(action).await,
        Command::Alerts { all, job } => client.alerts(all, job).await,
        _ => Err("not a command about people".into()),
    }
}

/// The commands about agents, the mail between nodes and the git workspace they work in.
async fn workforce_command(client: &client::Client, server: &ServerArgs, command: Command) -> out::Outcome {
    match command {
        Command::Agents { action } => agents::run(client, server, action).await,
        Command::Messages { action } => messages::run(client, action).await,
        Command::Workspace { action } => workspace::run(client, server, action).await,
        _ => Err("not a command about the workforce".into()),
    }
}

/// The commands about one job.
async fn job_command(client: &client::Client, command: Command) -> out::Outcome {
    match command {
        Command::Status { job_id } => client.status(&job_id).await,
        Command::Cancel { job_id } => client.cancel(&job_id).await,
        Command::Answer { job_id, answer } => client.answer(&job_id, &answer).await,
        Command::Resume { job_id } => client.resume(&job_id).await,
        Command::Report { job_id, format } => client.report(&job_id, &format).await,
        _ => Err("not a job command".into()),
    }
}
