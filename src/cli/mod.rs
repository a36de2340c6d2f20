//! The `cadre` command line: `serve` runs the server; the other commands are thin clients
//! of its REST API (found through `CADRE_URL` and `CADRE_API_KEY`).

mod client;
mod watch;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;

/// The default server address for client commands.
const DEFAULT_URL: &str = "http://127.0.0.1:8080";

/// cadre: a hierarchical job orchestrator.
#[derive(Debug, Parser)]
#[command(name = "cadre", version, about)]
pub struct Cli {
    /// Configuration file (default: config/cadre.toml when it exists).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Log format of `serve`: text or json.
    #[arg(long, global = true)]
    pub log_format: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (SQLite in ./cadre-data unless DATABASE_URL is set).
    Serve,
    /// Submit a job file (JSON or YAML).
    Submit {
        file: PathBuf,
        /// Follow the job until it ends; exit non-zero unless it succeeded.
        #[arg(long)]
        watch: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Show a job and its tree.
    Status {
        job_id: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Cancel a job.
    Cancel {
        job_id: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Validate a job file without running it.
    Validate {
        file: PathBuf,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Apply the store's migrations and exit.
    Migrate,
    /// Print events live from the event stream.
    Watch {
        /// Only this job's events (and stop when it ends).
        #[arg(long)]
        job: Option<String>,
        /// Only events at this depth.
        #[arg(long, conflicts_with_all = ["min_depth", "max_depth"])]
        depth: Option<u8>,
        /// Only events at this depth or deeper.
        #[arg(long)]
        min_depth: Option<u8>,
        /// Only events at this depth or shallower.
        #[arg(long)]
        max_depth: Option<u8>,
        /// Only these event types (comma list).
        #[arg(long)]
        types: Option<String>,
        /// Replay the stored events after this sequence number first.
        #[arg(long)]
        since: Option<i64>,
        /// Print the raw JSON frames.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Manage API keys (needs an admin key).
    Keys {
        #[command(subcommand)]
        action: KeysAction,
        #[command(flatten)]
        server: ServerArgs,
    },
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
    },
    /// List keys (never their secrets).
    List,
    /// Revoke a key by id.
    Revoke { id: String },
}

/// Where the server is.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerArgs {
    /// Server URL.
    #[arg(long, env = "CADRE_URL", default_value = DEFAULT_URL)]
    pub url: String,
    /// API key.
    #[arg(long, env = "CADRE_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> ExitCode {
    let outcome = match cli.command {
        Command::Serve => serve(cli.config, cli.log_format).await,
        Command::Migrate => migrate(cli.config).await,
        command => client_command(command).await,
    };
    match outcome {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn client_command(command: Command) -> Result<ExitCode, String> {
    match command {
        Command::Submit { file, watch, server } => client::Client::new(server).submit(&file, watch).await,
        Command::Status { job_id, server } => client::Client::new(server).status(&job_id).await,
        Command::Cancel { job_id, server } => client::Client::new(server).cancel(&job_id).await,
        Command::Validate { file, server } => client::Client::new(server).validate(&file).await,
        Command::Keys { action, server } => client::Client::new(server).keys(action).await,
        command @ Command::Watch { .. } => watch_command(command).await,
        Command::Serve | Command::Migrate => Err("not a client command".into()),
    }
}

async fn watch_command(command: Command) -> Result<ExitCode, String> {
    let Command::Watch { job, depth, min_depth, max_depth, types, since, json, server } = command else {
        return Err("not a watch command".into());
    };
    let filters = [
        ("job_id", job.clone()),
        ("depth", depth.map(|d| d.to_string())),
        ("min_depth", min_depth.map(|d| d.to_string())),
        ("max_depth", max_depth.map(|d| d.to_string())),
        ("types", types),
        ("since", since.map(|s| s.to_string())),
    ];
    let query = filters.into_iter().filter_map(|(k, v)| v.map(|v| (k.to_string(), v))).collect();
    client::watch(&server, watch::Watch { query, json, until_job: job }).await
}

fn load_config(file: Option<PathBuf>, log_format: Option<String>) -> Result<Config, String> {
    let mut config = Config::load(file.as_deref()).map_err(|e| e.to_string())?;
    if let Some(format) = log_format {
        config.server.log_format = format;
    }
    Ok(config)
}

#[expect(clippy::cognitive_complexity, reason = "the count is tracing's macro expansion, not branching")]
async fn serve(file: Option<PathBuf>, log_format: Option<String>) -> Result<ExitCode, String> {
    let config = load_config(file, log_format)?;
    crate::telemetry::init(&config.server.log_format);
    let bind = config.server.bind.clone();
    let started = crate::app::start(config).await.map_err(|e| e.to_string())?;
    if let Some(secret) = &started.generated_key {
        announce_generated_key(secret);
    }
    let listener = tokio::net::TcpListener::bind(&bind).await.map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(%address, backend = ?started.state.engine.store().backend(), "cadre is listening");
    crate::app::serve(listener, started, shutdown_signal()).await.map_err(|e| e.to_string())?;
    Ok(ExitCode::SUCCESS)
}

/// Shows a generated admin key once, on the terminal only: the store keeps just its hash.
fn announce_generated_key(secret: &str) {
    use std::io::Write;
    let notice = format!(
        "No API key existed, so an admin key was created. It is shown this once:\n\n    {secret}\n\n\
         Use it as:  export CADRE_API_KEY={secret}\n"
    );
    // A closed stdout (`cadre serve | head`) must not stop the server.
    let _ = std::io::stdout().write_all(notice.as_bytes());
}

async fn migrate(file: Option<PathBuf>) -> Result<ExitCode, String> {
    let config = load_config(file, None)?;
    let store = crate::store::open(config.store.url(), &config.store.data_dir).await.map_err(|e| e.to_string())?;
    println!("migrations applied ({:?})", store.backend());
    Ok(ExitCode::SUCCESS)
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        () = sigterm() => {},
    }
}

async fn sigterm() {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut signal) => {
            signal.recv().await;
        }
        Err(_) => std::future::pending::<()>().await,
    }
}
