//! Where client commands write, and how they stop. Every line goes through [`Out`], so a
//! reader that goes away (`cadre watch --json | head -3`) ends the command quietly with exit
//! 0: `println!` would panic on the broken pipe instead.

use std::io::{ErrorKind, Write};
use std::process::ExitCode;

/// Why a client command stopped early.
#[derive(Debug)]
pub(super) enum Fail {
    /// Whoever read our output closed it: nothing is wrong, there is just no one to tell.
    Closed,
    /// A problem to report on stderr (exit 1).
    Error(String),
}

impl From<String> for Fail {
    fn from(message: String) -> Self {
        Self::Error(message)
    }
}

impl From<&str> for Fail {
    fn from(message: &str) -> Self {
        Self::Error(message.to_string())
    }
}

impl From<std::io::Error> for Fail {
    fn from(error: std::io::Error) -> Self {
        if error.kind() == ErrorKind::BrokenPipe {
            Self::Closed
        } else {
            Self::Error(format!("cannot write the output: {error}"))
        }
    }
}

/// What a client command returns.
pub(super) type Outcome = Result<ExitCode, Fail>;

/// Turns an outcome into the process's exit status, reporting an error on stderr.
pub(super) fn exit_code(outcome: Outcome) -> ExitCode {
    match outcome {
        Ok(code) => code,
        Err(Fail::Closed) => ExitCode::SUCCESS,
        Err(Fail::Error(message)) => {
            // If stderr is closed too there is nowhere left to say it.
            let _ = writeln!(std::io::stderr(), "error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Standard output, line by line, flushed at once: a watcher's lines must reach a pipe
/// when they happen, not when a buffer fills.
pub(super) struct Out {
    stdout: std::io::Stdout,
}

impl Out {
    pub(super) fn new() -> Self {
        Self { stdout: std::io::stdout() }
    }

    /// Writes one line (a newline is added).
    pub(super) fn line(&self, text: &str) -> Result<(), Fail> {
        let mut lock = self.stdout.lock();
        lock.write_all(text.as_bytes())?;
        lock.write_all(b"\n")?;
        lock.flush()?;
        Ok(())
    }

    /// Writes a value as one line of JSON.
    pub(super) fn json(&self, value: &impl serde::Serialize) -> Result<(), Fail> {
        let text = serde_json::to_string(value).map_err(|e| format!("cannot print the answer as JSON: {e}"))?;
        self.line(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_pipe_is_a_quiet_end_and_other_write_errors_are_reported() {
        let closed = Fail::from(std::io::Error::from(ErrorKind::BrokenPipe));
        assert!(matches!(closed, Fail::Closed));
        assert_eq!(exit_code(Err(closed)), ExitCode::SUCCESS);
        let full = Fail::from(std::io::Error::from(ErrorKind::StorageFull));
        assert!(matches!(full, Fail::Error(ref m) if m.contains("cannot write")), "{full:?}");
    }
}
