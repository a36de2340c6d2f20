//! The `command` executor (SPEC §1): runs a worker's argv as a real OS process, with no shell
//! in between. It owns everything about that process's life: its own process group (so that
//! stopping it also stops whatever it spawned), the resource limits set before `exec`, the
//! wall-clock timeout, the SIGTERM-then-SIGKILL stop on cancellation or timeout, and keeping
//! only the tail of its output, so that a chatty process cannot grow a node's result without
//! bound.

use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::AtomicI64;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{Child, Command};
use tokio::time::Instant;
use tokio_util::task::AbortOnDropHandle;

use super::{ExecContext, ExecOutcome};

const BYTES_PER_MIB: u64 = 1024 * 1024;

/// `process_group` argument that makes the child the leader of a new group, whose id is its pid.
const NEW_PROCESS_GROUP: i32 = 0;

/// CPU seconds between the soft limit (SIGXCPU, which a process may catch to clean up) and the
/// hard one (SIGKILL).
const CPU_HARD_LIMIT_GRACE_S: u64 = 1;

/// Size of one read from an output pipe.
const READ_CHUNK_BYTES: usize = 8 * 1024;

/// How long to wait for the output pipes to close once the process group is dead. Only a
/// process that left the group (`setsid`) can still hold them open, and its output is not worth
/// hanging the worker for.
const PIPE_DRAIN_TIMEOUT: Duration = Duration::from_secs(1);

/// The type `getrlimit`/`setrlimit` take for a resource, which glibc declares differently.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
type Resource = libc::__rlimit_resource_t;
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
type Resource = libc::c_int;

/// One run of a `command` worker: what to run and the limits the node's spec asked for.
#[derive(Debug, Clone)]
pub struct CommandRequest<'a> {
    /// Program and arguments; the program is looked up in `PATH` when it has no slash.
    pub argv: &'a [String],
    /// Working directory (`None`: the orchestrator's own).
    pub cwd: Option<&'a str>,
    /// Variables added to the inherited environment.
    pub env: &'a BTreeMap<String, String>,
    /// Wall-clock limit in seconds (`None`: [`ProcessDefaults::timeout`]).
    pub timeout_s: Option<u64>,
    /// Address-space limit in MiB (`None`: [`ProcessDefaults::memory_mb`]).
    pub memory_mb: Option<u64>,
    /// CPU-time limit in seconds (`None`: [`ProcessDefaults::cpu_seconds`]).
    pub cpu_seconds: Option<u64>,
}

/// Runs the request's process to its end, its timeout or `ctx.cancel`.
///
/// The result is `{"exit_code", "signal", "stdout", "stderr", "timed_out"}`, with the tails of
/// the output. Exit code 0 succeeds; any other ending fails, except cancellation, which is
/// reported as [`ExecOutcome::Cancelled`]. Whatever way it ends, the whole process group is
/// killed before this returns (or when the returned future is dropped).
pub async fn run(req: &CommandRequest<'_>, ctx: &ExecContext) -> ExecOutcome {
    let Some((program, args)) = req.argv.split_first() else {
        return failed("a `command` worker needs a non-empty argv".to_string());
    };
    if ctx.cancel.is_cancelled() {
        return ExecOutcome::Cancelled { result: None };
    }
    let mut child = match spawn(program, args, req, ctx) {
        Ok(child) => child,
        Err(err) => return failed(start_error(program, req.cwd, &err)),
    };
    let Some((pid, mut group)) = child.id().and_then(|pid| Some((pid, ProcessGroup::led_by(pid)?))) else {
        return failed(format!("lost track of `{program}` right after starting it"));
    };
    if let Some(hook) = &ctx.on_spawn {
        (hook.0)(pid);
    }
    // Silence counts from the process's start, not from the store's flush or a checkout before it.
    if let Some(clock) = &ctx.signs {
        clock.store(crate::events::now_ms(), std::sync::atomic::Ordering::Relaxed);
    }
    let output = OutputTails::capture(&mut child, ctx.process.output_tail_bytes, ctx.signs.as_ref());
    let timeout = req.timeout_s.map_or(ctx.process.timeout, Duration::from_secs);
    let (ending, status) = supervise(&mut child, &group, timeout, ctx).await;
    // Background processes left behind would outlive the node and keep the output pipes open.
    group.kill();
    let (stdout, stderr) = output.collect().await;
    Finished { ending, status, stdout, stderr }.into_outcome(program, timeout)
}

const fn failed(error: String) -> ExecOutcome {
    ExecOutcome::Failed { error, result: None }
}

fn start_error(program: &str, cwd: Option<&str>, err: &io::Error) -> String {
    match cwd {
        Some(cwd) => format!("cannot start `{program}` in `{cwd}`: {err}"),
        None => format!("cannot start `{program}`: {err}"),
    }
}

/// The server's own settings (`CADRE_…`, `DATABASE_URL`) can carry secrets — the bootstrap
/// key, a database password — so a worker never inherits them; it gets the rest of the
/// environment and whatever its spec sets.
fn is_server_variable(name: &std::ffi::OsStr) -> bool {
    name.to_str().is_some_and(|n| n == "DATABASE_URL" || n.starts_with("CADRE_"))
}

fn spawn(program: &str, args: &[String], req: &CommandRequest<'_>, ctx: &ExecContext) -> io::Result<Child> {
    let defaults = &ctx.process;
    let mut command = Command::new(program);
    for (name, _) in std::env::vars_os() {
        if is_server_variable(&name) {
            command.env_remove(name);
        }
    }
    command
        .args(args)
        .envs(req.env)
        // The worker's identity comes last, so a spec cannot impersonate another node.
        .envs(ctx.worker_env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .process_group(NEW_PROCESS_GROUP);
    if let Some(cwd) = req.cwd {
        command.current_dir(cwd);
    }
    let limits = Limits::new(req.memory_mb.or(defaults.memory_mb), req.cpu_seconds.or(defaults.cpu_seconds));
    // A pre-exec hook makes the standard library fork instead of using the cheaper
    // posix_spawn, so only install one when there is something to set.
    if !limits.is_empty() {
        // SAFETY: the hook runs in the forked child, where only async-signal-safe calls are
        // allowed; `apply` makes nothing but getrlimit/setrlimit system calls on values computed
        // here, before the fork, and neither allocates nor takes locks.
        unsafe {
            command.pre_exec(move || limits.apply());
        }
    }
    command.spawn()
}

/// How waiting for the process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// It exited (or was killed) on its own.
    Exited,
    /// The wall-clock limit ran out and it was stopped.
    TimedOut,
    /// The node was cancelled and it was stopped.
    Cancelled,
}

async fn supervise(
    child: &mut Child,
    group: &ProcessGroup,
    timeout: Duration,
    ctx: &ExecContext,
) -> (Ending, io::Result<ExitStatus>) {
    let ending = tokio::select! {
        status = child.wait() => return (Ending::Exited, status),
        () = tokio::time::sleep(timeout) => Ending::TimedOut,
        () = ctx.cancel.cancelled() => Ending::Cancelled,
    };
    (ending, stop(child, group, ctx.process.kill_grace).await)
}

/// Asks the whole group to stop, gives it `grace` to do so, then kills it.
async fn stop(child: &mut Child, group: &ProcessGroup, grace: Duration) -> io::Result<ExitStatus> {
    group.signal(libc::SIGTERM);
    if let Ok(status) = tokio::time::timeout(grace, child.wait()).await {
        return status;
    }
    group.signal(libc::SIGKILL);
    child.wait().await
}

/// The child's process group, whose id is the child's pid. Killed when dropped, so that a
/// caller dropping [`run`]'s future mid-flight leaves no process behind.
struct ProcessGroup {
    pgid: libc::pid_t,
    armed: bool,
}

impl ProcessGroup {
    fn led_by(pid: u32) -> Option<Self> {
        libc::pid_t::try_from(pid).ok().map(|pgid| Self { pgid, armed: true })
    }

    fn signal(&self, signal: libc::c_int) {
        // SAFETY: killpg only sends a signal. Its one expected failure, ESRCH (the group is
        // already gone), is exactly the state we want, so the result is not checked.
        unsafe {
            libc::killpg(self.pgid, signal);
        }
    }

    /// SIGKILLs the group, once: after the leader is reaped its id may eventually be reused,
    /// so the group is never signalled again.
    fn kill(&mut self) {
        if self.armed {
            self.signal(libc::SIGKILL);
            self.armed = false;
        }
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Resource limits, computed before the fork so that applying them needs no allocation.
#[derive(Debug, Clone, Copy)]
struct Limits {
    address_space: Option<libc::rlimit>,
    cpu: Option<libc::rlimit>,
}

impl Limits {
    fn new(memory_mb: Option<u64>, cpu_seconds: Option<u64>) -> Self {
        let address_space = memory_mb.map(|mb| {
            let bytes = mb.saturating_mul(BYTES_PER_MIB);
            libc::rlimit { rlim_cur: bytes, rlim_max: bytes }
        });
        let cpu = cpu_seconds.map(|seconds| libc::rlimit {
            rlim_cur: seconds,
            rlim_max: seconds.saturating_add(CPU_HARD_LIMIT_GRACE_S),
        });
        Self { address_space, cpu }
    }

    const fn is_empty(&self) -> bool {
        self.address_space.is_none() && self.cpu.is_none()
    }

    /// Runs in the forked child, before `exec`: must stay async-signal-safe.
    fn apply(&self) -> io::Result<()> {
        if let Some(limit) = self.address_space {
            set_limit(libc::RLIMIT_AS, limit)?;
        }
        if let Some(limit) = self.cpu {
            set_limit(libc::RLIMIT_CPU, limit)?;
        }
        Ok(())
    }
}

/// Sets `wanted`, lowered to the inherited hard limit: an unprivileged process cannot raise
/// its hard limit, and a process already held tighter than asked should still start.
fn set_limit(resource: Resource, wanted: libc::rlimit) -> io::Result<()> {
    let mut current = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: a plain system call writing into a valid, local struct.
    if unsafe { libc::getrlimit(resource, &raw mut current) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let hard = wanted.rlim_max.min(current.rlim_max);
    let limit = libc::rlimit { rlim_cur: wanted.rlim_cur.min(hard), rlim_max: hard };
    // SAFETY: a plain system call reading a valid, local struct.
    if unsafe { libc::setrlimit(resource, &raw const limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The tails of the child's stdout and stderr, filled by reader tasks while it runs.
struct OutputTails {
    stdout: TailReader,
    stderr: TailReader,
}

impl OutputTails {
    fn capture(child: &mut Child, capacity: usize, signs: Option<&Arc<AtomicI64>>) -> Self {
        Self {
            stdout: TailReader::spawn(child.stdout.take(), capacity, signs.cloned()),
            stderr: TailReader::spawn(child.stderr.take(), capacity, signs.cloned()),
        }
    }

    /// Waits (boundedly) for both pipes to close and returns what was kept of each.
    async fn collect(self) -> (String, String) {
        let deadline = Instant::now() + PIPE_DRAIN_TIMEOUT;
        tokio::join!(self.stdout.finish(deadline), self.stderr.finish(deadline))
    }
}

/// One pipe's reader task and the buffer it fills. The buffer is shared rather than returned
/// by the task so that what was read survives the task being abandoned.
struct TailReader {
    tail: Arc<Mutex<TailBuffer>>,
    task: Option<AbortOnDropHandle<()>>,
}

impl TailReader {
    fn spawn<R>(pipe: Option<R>, capacity: usize, signs: Option<Arc<AtomicI64>>) -> Self
    where
        R: AsyncRead + Unpin + Send + 'static,
    {
        let tail = Arc::new(Mutex::new(TailBuffer::new(capacity)));
        let task = pipe.map(|pipe| AbortOnDropHandle::new(tokio::spawn(read_into(pipe, Arc::clone(&tail), signs))));
        Self { tail, task }
    }

    async fn finish(self, deadline: Instant) -> String {
        if let Some(task) = self.task {
            // Past the deadline the task is dropped, which aborts it; what it read is kept.
            let _ = tokio::time::timeout_at(deadline, task).await;
        }
        lock(&self.tail).to_string_lossy()
    }
}

async fn read_into<R: AsyncRead + Unpin>(mut pipe: R, tail: Arc<Mutex<TailBuffer>>, signs: Option<Arc<AtomicI64>>) {
    let mut chunk = vec![0; READ_CHUNK_BYTES];
    // A read error ends the capture like EOF does: the exit status, not the pipe, decides how
    // the run went.
    while let Ok(read @ 1..) = pipe.read(&mut chunk).await {
        lock(&tail).push(&chunk[..read]);
        if let Some(clock) = &signs {
            // Output is a sign of life (the `silent_worker` alert rule).
            clock.store(crate::events::now_ms(), std::sync::atomic::Ordering::Relaxed);
        }
    }
}

fn lock(tail: &Mutex<TailBuffer>) -> MutexGuard<'_, TailBuffer> {
    // The buffer is valid after any panic mid-push (bytes are only ever dropped or appended).
    tail.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The last `capacity` bytes written to it.
#[derive(Debug)]
struct TailBuffer {
    bytes: VecDeque<u8>,
    capacity: usize,
}

impl TailBuffer {
    const fn new(capacity: usize) -> Self {
        Self { bytes: VecDeque::new(), capacity }
    }

    fn push(&mut self, chunk: &[u8]) {
        let kept = &chunk[chunk.len().saturating_sub(self.capacity)..];
        let overflow = (self.bytes.len() + kept.len()).saturating_sub(self.capacity);
        self.bytes.drain(..overflow);
        self.bytes.extend(kept);
    }

    /// The tail as text; it may start mid-character, which becomes U+FFFD.
    fn to_string_lossy(&self) -> String {
        let (front, back) = self.bytes.as_slices();
        String::from_utf8_lossy(&[front, back].concat()).into_owned()
    }
}

/// Everything known once the process is gone.
struct Finished {
    ending: Ending,
    status: io::Result<ExitStatus>,
    stdout: String,
    stderr: String,
}

impl Finished {
    fn result(&self) -> Value {
        let status = self.status.as_ref().ok();
        json!({
            "exit_code": status.and_then(ExitStatus::code),
            "signal": status.and_then(ExitStatusExt::signal),
            "stdout": self.stdout,
            "stderr": self.stderr,
            "timed_out": self.ending == Ending::TimedOut,
        })
    }

    fn into_outcome(self, program: &str, timeout: Duration) -> ExecOutcome {
        let result = self.result();
        let error = match (self.ending, &self.status) {
            (Ending::Cancelled, _) => return ExecOutcome::Cancelled { result: Some(result) },
            (Ending::TimedOut, _) => format!("timed out after {}s", timeout.as_secs_f64()),
            (Ending::Exited, Ok(status)) if status.success() => return ExecOutcome::Succeeded(result),
            (Ending::Exited, Ok(status)) => describe_failure(*status),
            (Ending::Exited, Err(err)) => format!("lost track of `{program}` while waiting for it: {err}"),
        };
        ExecOutcome::Failed { error, result: Some(result) }
    }
}

fn describe_failure(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with code {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        (None, None) => format!("ended abnormally ({status})"),
    }
}

#[cfg(test)]
#[path = "command_tests.rs"]
mod tests;
