//! Logging set-up (tracing): human-readable text by default, JSON lines with
//! `--log-format json`; `RUST_LOG` filters. Secrets never reach a log line: keys are checked
//! by hash and no request header is recorded.

use tracing_subscriber::EnvFilter;

/// The filter used when `RUST_LOG` is unset.
const DEFAULT_FILTER: &str = "info,sqlx=warn";

/// Installs the global subscriber; a second call is a no-op (tests start many apps).
pub fn init(format: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if format == "json" { builder.json().try_init() } else { builder.try_init() };
}
