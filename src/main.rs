//! The `cadre` binary: parses the command line and hands over to the library, where all the
//! behaviour lives (so that tests drive exactly what the binary runs).

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    cadre::cli::run(cadre::cli::Cli::parse()).await
}
