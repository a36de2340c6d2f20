//! The process runner: git (and a merge's `check`) run as child processes, never through a
//! shell, with no terminal to prompt on and nothing inherited that would point git at another
//! repository. Each failure carries the tail of what the process wrote to stderr.

use std::path::Path;
use std::process::Stdio;

use tokio::process::Command;

use super::WorkspaceError;

/// How much of a process's stderr (or a check's output) an error or outcome keeps: enough to
/// name the problem, bounded so a chatty process cannot bloat a stored event.
pub const TAIL_BYTES: usize = 4096;

/// The identity and settings every committing git command runs with, so that cadre needs no
/// global git configuration and a user's signing setup never prompts for a passphrase.
pub const COMMIT_CONFIG: [&str; 6] =
    ["-c", "user.name=cadre", "-c", "user.email=cadre@localhost", "-c", "commit.gpgsign=false"];

/// What a finished git command left behind.
#[derive(Debug)]
pub struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

/// Runs `git args…` in `cwd` and returns its output whatever its exit status; for commands
/// whose non-zero exit is an answer (a conflict, "something is staged").
pub async fn git_output(cwd: &Path, args: &[&str]) -> Result<Output, WorkspaceError> {
    let mut command = Command::new("git");
    command
        .args(args)
        .current_dir(cwd)
        // A prompt would hang the engine: no credentials are ever asked for.
        .env("GIT_TERMINAL_PROMPT", "0")
        // Stable, parseable messages whatever the host's locale.
        .env("LC_ALL", "C")
        // Set when cadre itself runs under a git hook (or its tests do); they would send every
        // command to the wrong repository.
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_OBJECT_DIRECTORY")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let out = command.output().await.map_err(|source| WorkspaceError::Spawn { program: "git".into(), source })?;
    Ok(Output {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// Runs `git args…` in `cwd`, requires success and returns its stdout, trimmed.
pub async fn git(cwd: &Path, args: &[&str]) -> Result<String, WorkspaceError> {
    let out = git_output(cwd, args).await?;
    if out.success() {
        return Ok(out.stdout.trim().to_owned());
    }
    Err(failure(args, &out))
}

/// The error for a git command that exited non-zero.
pub fn failure(args: &[&str], out: &Output) -> WorkspaceError {
    WorkspaceError::Git { command: args.join(" "), code: out.code, stderr: tail(out.stderr.trim()) }
}

/// Runs a merge's check: `argv[0]` with the rest as its arguments, in `cwd`, stdout and stderr
/// together. Returns its exit code (`None` when killed by a signal or not startable) and the
/// tail of its output; a check that cannot start is a failed check, not an engine error.
pub async fn run_check(cwd: &Path, argv: &[String], limit: std::time::Duration) -> (Option<i32>, String) {
    let Some((program, args)) = argv.split_first() else { return (Some(0), String::new()) };
    let running = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    // It runs holding the repository's lock: one that hangs must not stall every job using it.
    let Ok(result) = tokio::time::timeout(limit, running).await else {
        return (None, format!("the check did not finish within {} s and was stopped", limit.as_secs()));
    };
    match result {
        Ok(out) => {
            let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&out.stderr));
            (out.status.code(), tail(&text))
        }
        Err(error) => (None, format!("could not run {program}: {error}")),
    }
}

/// The last [`TAIL_BYTES`] of `text`, cut at a character boundary.
pub fn tail(text: &str) -> String {
    if text.len() <= TAIL_BYTES {
        return text.to_owned();
    }
    let mut start = text.len() - TAIL_BYTES;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!("…{}", &text[start..])
}

/// A path as a git argument. Paths are passed as UTF-8 so that every argument list is plain
/// `&str`; cadre's data directory and a job's repository are configured as text anyway.
pub fn path_arg(path: &Path) -> Result<&str, WorkspaceError> {
    path.to_str().ok_or_else(|| WorkspaceError::NonUtf8Path(path.to_path_buf()))
}

/// The commit `refs/heads/<branch>` points at, or [`WorkspaceError::NoSuchBranch`].
pub async fn branch_sha(repo: &Path, branch: &str) -> Result<String, WorkspaceError> {
    let spec = format!("refs/heads/{branch}^{{commit}}");
    let out = git_output(repo, &["rev-parse", "--verify", "--quiet", &spec]).await?;
    if out.success() {
        return Ok(out.stdout.trim().to_owned());
    }
    Err(WorkspaceError::NoSuchBranch(branch.to_owned()))
}

/// Removes a worktree (modified or not) and forgets it; one already gone is only pruned.
pub async fn remove_worktree(repo: &Path, path: &Path) -> Result<(), WorkspaceError> {
    if tokio::fs::try_exists(path).await.unwrap_or(false) {
        git(repo, &["worktree", "remove", "--force", path_arg(path)?]).await?;
    }
    git(repo, &["worktree", "prune"]).await?;
    Ok(())
}
