//! Executors: how a worker does its work (SPEC §1). Each takes the node's spec and a
//! context, runs until it finishes or its cancellation token fires, and reports an
//! [`ExecOutcome`]. They know nothing of quotas, retries or the store: the job driver owns
//! those.

mod builtin;
pub mod command;
pub mod http;

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::domain::spec::{ExecutorSpec, ResourceLimits};

/// Defaults for `command` workers that set no limits of their own.
#[derive(Debug, Clone)]
pub struct ProcessDefaults {
    /// Address-space limit in MiB (`None`: unlimited).
    pub memory_mb: Option<u64>,
    /// CPU-time limit in seconds (`None`: unlimited).
    pub cpu_seconds: Option<u64>,
    /// Wall-clock limit.
    pub timeout: Duration,
    /// Time between SIGTERM and SIGKILL when a process is stopped.
    pub kill_grace: Duration,
    /// Bytes of stdout and of stderr kept (the tail).
    pub output_tail_bytes: usize,
    /// How much more a reallocated attempt gets.
    pub reallocation: crate::engine::recovery::Factors,
}

/// What an executor may know about the node it works for.
#[derive(Debug, Clone)]
pub struct ExecContext {
    /// The job.
    pub job_id: Uuid,
    /// The worker node.
    pub node_id: Uuid,
    /// The node's depth.
    pub depth: u8,
    /// This attempt's number, 1 for the first.
    pub attempt: u32,
    /// Fires when the node is cancelled (or its job times out).
    pub cancel: CancellationToken,
    /// Process defaults.
    pub process: ProcessDefaults,
    /// Shared HTTP client (connection pooling across workers).
    pub http: reqwest::Client,
    /// Variables a command worker gets on top of its spec's (`CADRE_URL`, `CADRE_TOKEN`, …).
    pub worker_env: Vec<(String, String)>,
    /// Told the process group of the command once it has started.
    pub on_spawn: Option<SpawnHook>,
    /// What an `llm` worker needs beside its spec (`None` for the other executors).
    pub agent: Option<Arc<crate::engine::agent::AgentContext>>,
    /// A command worker's clock of its last output (ms), for the `silent_worker` rule.
    pub signs: Option<Arc<std::sync::atomic::AtomicI64>>,
}

/// A callback given a started command's process group id, so that the driver can record it
/// (see `engine::orphans`) without the executor knowing of the store.
#[derive(Clone)]
pub struct SpawnHook(pub Arc<dyn Fn(u32) + Send + Sync>);

impl std::fmt::Debug for SpawnHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SpawnHook")
    }
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum ExecOutcome {
    /// Done; the value is the node's result.
    Succeeded(Value),
    /// Failed; the error says why, the result keeps whatever output there was.
    Failed {
        /// Why it failed.
        error: String,
        /// Output worth keeping (exit code, output tails, response body).
        result: Option<Value>,
    },
    /// Stopped because its cancellation token fired.
    Cancelled {
        /// Output produced before it was stopped.
        result: Option<Value>,
    },
    /// Not finished: it spawned children and goes on, in the same attempt, once they have
    /// all ended (an `llm` worker's tool call). Its slot is given back meanwhile.
    Waiting,
}

/// The outcome of an executor that finishes without waiting for anything (`noop`, `echo`,
/// `fail`): the driver applies it at once instead of running a task for it.
pub fn immediate(spec: &ExecutorSpec, attempt: u32) -> Option<ExecOutcome> {
    match spec {
        ExecutorSpec::Noop => Some(ExecOutcome::Succeeded(Value::Null)),
        ExecutorSpec::Echo { value } => Some(ExecOutcome::Succeeded(value.clone())),
        ExecutorSpec::Fail { message, times } => Some(builtin::fail(message.as_deref(), *times, attempt)),
        ExecutorSpec::Sleep { .. }
        | ExecutorSpec::Command { .. }
        | ExecutorSpec::Http { .. }
        | ExecutorSpec::Llm(_) => None,
    }
}

/// Runs one attempt of a worker.
pub async fn execute(spec: &ExecutorSpec, resources: Option<&ResourceLimits>, ctx: &ExecContext) -> ExecOutcome {
    match spec {
        ExecutorSpec::Noop | ExecutorSpec::Echo { .. } | ExecutorSpec::Fail { .. } => {
            immediate(spec, ctx.attempt).unwrap_or(ExecOutcome::Cancelled { result: None })
        }
        ExecutorSpec::Sleep { ms } => builtin::sleep(*ms, ctx).await,
        ExecutorSpec::Command { argv, cwd, env, timeout_s } => {
            let request = command::CommandRequest {
                argv,
                cwd: cwd.as_deref(),
                env,
                timeout_s: timeout_s.or(resources.and_then(|r| r.timeout_s)),
                memory_mb: resources.and_then(|r| r.memory_mb),
                cpu_seconds: resources.and_then(|r| r.cpu_seconds),
            };
            command::run(&request, ctx).await
        }
        ExecutorSpec::Http { url, method, headers, body, timeout_s } => {
            let request = http::HttpRequest {
                url,
                method: method.as_deref(),
                headers,
                body: body.as_ref(),
                timeout_s: *timeout_s,
            };
            http::call(&request, ctx).await
        }
        ExecutorSpec::Llm(run) => crate::engine::agent::run(run, ctx).await,
    }
}

/// A context for executor tests, with the given wall-clock timeout.
#[cfg(test)]
pub(crate) fn test_context(timeout: Duration) -> ExecContext {
    const TEST_KILL_GRACE: Duration = Duration::from_millis(200);
    const TEST_TAIL_BYTES: usize = 4096;
    ExecContext {
        job_id: Uuid::new_v4(),
        node_id: Uuid::new_v4(),
        depth: 0,
        attempt: 1,
        cancel: CancellationToken::new(),
        process: ProcessDefaults {
            memory_mb: None,
            cpu_seconds: None,
            timeout,
            kill_grace: TEST_KILL_GRACE,
            output_tail_bytes: TEST_TAIL_BYTES,
            reallocation: crate::engine::recovery::Factors { memory: 2.0, time: 1.5 },
        },
        // A proxy from the environment must not intercept requests to the test servers.
        http: reqwest::Client::builder().no_proxy().build().expect("client builds"),
        worker_env: Vec::new(),
        on_spawn: None,
        agent: None,
        signs: None,
    }
}
