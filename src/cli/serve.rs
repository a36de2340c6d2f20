//! `cadre serve` and `cadre migrate`: the commands that run on the server's side and read
//! its configuration, as opposed to the REST clients beside them.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::config::Config;

fn load_config(file: Option<PathBuf>, log_format: Option<String>) -> Result<Config, String> {
    let mut config = Config::load(file.as_deref()).map_err(|e| e.to_string())?;
    if let Some(format) = log_format {
        config.server.log_format = format;
    }
    Ok(config)
}

#[expect(clippy::cognitive_complexity, reason = "the count is tracing's macro expansion, not branching")]
pub(super) async fn serve(file: Option<PathBuf>, log_format: Option<String>) -> Result<ExitCode, String> {
    let config = load_config(file, log_format)?;
    crate::telemetry::init(&config.server.log_format);
    let bind = config.server.bind.clone();
    // Bound first: a busy port must fail before anything is stored or an admin key is shown.
    let listener = tokio::net::TcpListener::bind(&bind).await.map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    let _only_server = claim_sqlite_dir(&config)?;
    let started = crate::app::start(config).await.map_err(|e| e.to_string())?;
    if let Some(secret) = &started.generated_key {
        announce_generated_key(secret);
    }
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(%address, backend = ?started.state.engine.store().backend(), "cadre is listening");
    crate::app::serve(listener, started, shutdown_signal()).await.map_err(|e| e.to_string())?;
    Ok(ExitCode::SUCCESS)
}

/// On SQLite in the data directory, that directory for this process alone (held until `serve`
/// returns); nothing on PostgreSQL. A bad bootstrap key is refused first, so that a refused
/// start still creates nothing on disk.
fn claim_sqlite_dir(config: &Config) -> Result<Option<crate::store::claim::DataDirClaim>, String> {
    if config.store.url().is_some() {
        return Ok(None);
    }
    crate::auth::check_bootstrap_key(&config.auth.bootstrap_key).map_err(|e| e.to_string())?;
    crate::store::claim::claim_data_dir(&config.store.data_dir).map(Some)
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

pub(super) async fn migrate(file: Option<PathBuf>) -> Result<ExitCode, String> {
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
