//! Workers at run time: starting an attempt (with the worker's callback token and the
//! record of its process group), and what follows its end — a retry after a back-off, a wait
//! for children it spawned, or its end.

use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use serde_json::json;

use super::notices::WorkerStarted;
use super::recovery::with_recovery;
use super::{JobMsg, JobRun};
use crate::domain::recovery::RecoveryAction;
use crate::domain::{json_text, ExecutorSpec, NodeStatus};
use crate::engine::calls::Place;
use crate::engine::executor::{self, ExecContext, ExecOutcome, SpawnHook};
use crate::engine::journal::Journal;
use crate::engine::resources::Slot;
use crate::engine::tree::{OwnOutcome, Phase};
use crate::engine::validation::{Judges, Subject};
use crate::events::{now_ms, EventKind};
use crate::store::ProcessRow;

impl JobRun {
    pub(super) fn start_worker(&mut self, index: usize, slot: Slot) {
        if self.resuming.remove(&index) {
            // An agent going on with its attempt: nothing new to record.
            let node = &mut self.nodes[index];
            node.slot = Some(slot);
            node.phase = Phase::Working;
            return self.spawn_executor(index);
        }
        self.fresh_conversation(index);
        let node = &mut self.nodes[index];
        node.slot = Some(slot);
        node.phase = Phase::Working;
        node.status = NodeStatus::Running;
        node.attempts += 1;
        node.started_ms.get_or_insert_with(now_ms);
        // The previous attempt's error went out with its `node_retrying` event; a stored
        // error on a running node is its own process's, once it waits for spawned children.
        node.error = None;
        let parent_id = node.parent.map(|p| self.nodes[p].id);
        let node = &self.nodes[index];
        self.ctx.journal.node(node.update());
        let data = WorkerStarted {
            attempt: node.attempts,
            depth: node.depth,
            name: &node.name,
            orchestrator_id: parent_id,
            worker_id: node.id,
        };
        self.emit(EventKind::WorkerStarted, node.depth, &data);
        // A result that must pass a check is judged in the executor's task, never at once.
        let checked = node.spec.validate.is_some();
        let immediate =
            node.spec.run.as_ref().filter(|_| !checked).and_then(|run| executor::immediate(run, node.attempts));
        match immediate {
            Some(outcome) => self.on_work_done(index, outcome),
            None => self.spawn_executor(index),
        }
    }

    /// Runs the worker's executor in a task of its own, which reports its outcome.
    pub(super) fn spawn_executor(&mut self, index: usize) {
        let agent = self.agent_context(index);
        let token = self.stop_all.child_token();
        self.nodes[index].cancel = Some(token.clone());
        let node = &self.nodes[index];
        let exec = ExecContext {
            job_id: self.job_id,
            node_id: node.id,
            depth: node.depth,
            attempt: node.attempts,
            cancel: token,
            process: self.ctx.process.clone(),
            http: self.ctx.http.clone(),
            worker_env: self.worker_env(index),
            on_spawn: self.spawn_hook(index),
            agent,
            signs: matches!(node.spec.run, Some(ExecutorSpec::Command { .. })).then(|| self.ctx.signs.start(node.id)),
        };
        let (spec, outbox, journal) = (node.spec.clone(), self.outbox.clone(), self.ctx.journal.clone());
        let judged = spec.validate.as_ref().map(|_| (self.judges(), self.subject(index)));
        // A reallocated attempt runs with the limits its recovery gave it.
        let (run, resources) = self.attempt_terms(index);
        let mut workspace = self.attempt_workspace(index);
        tokio::spawn(async move {
            let Some(run) = &run else { return };
            let outcome = match durable_start(run, &journal, &exec).await {
                Some(refused) => refused,
                None => match &mut workspace {
                    Some(workspace) => match workspace.enter(run).await {
                        Ok(run) => execute(&run, resources.as_ref(), &exec).await,
                        Err(failed) => failed,
                    },
                    None => execute(run, resources.as_ref(), &exec).await,
                },
            };
            let outcome = match (&spec.validate, judged) {
                (Some(check), Some((judges, subject))) => judges.checked(check, &subject, outcome, &exec).await,
                _ => outcome,
            };
            let outcome = match &workspace {
                Some(workspace) => workspace.leave(outcome).await,
                None => outcome,
            };
            let _ = outbox.send(JobMsg::WorkDone { index, outcome });
        });
    }

    fn judges(&self) -> Judges {
        Judges {
            providers: self.ctx.providers.clone(),
            ledger: self.ctx.ledger.clone(),
            journal: self.ctx.journal.clone(),
            store: self.ctx.store.clone(),
            prompts: self.ctx.decomposers.prompts(),
        }
    }

    fn subject(&self, index: usize) -> Subject {
        let node = &self.nodes[index];
        Subject {
            title: node.title.as_deref().unwrap_or(&node.name).to_string(),
            description: node.spec.description.clone(),
            place: self.place(index),
        }
    }

    /// Whose calls a node's ledger rows are: its attempt's.
    pub(super) fn place(&self, index: usize) -> Place {
        let node = &self.nodes[index];
        Place {
            job_id: self.job_id,
            node_id: node.id,
            depth: node.depth,
            attempt: node.attempts,
            name: node.name.to_string(),
        }
    }

    /// What a command worker needs to call back (SPEC §4.7): a token for its own subtree.
    fn worker_env(&self, index: usize) -> Vec<(String, String)> {
        let node = &self.nodes[index];
        if !matches!(node.spec.run, Some(ExecutorSpec::Command { .. })) {
            return Vec::new();
        }
        let token = self.ctx.tokens.issue(self.job_id, node.id);
        let url = self.ctx.public_url.get().cloned().unwrap_or_default();
        let input = self.approval_input(index).map(|input| ("CADRE_APPROVAL_INPUT".to_string(), input.to_string()));
        let mut env = vec![
            ("CADRE_URL".into(), url),
            ("CADRE_TOKEN".into(), token),
            ("CADRE_JOB_ID".into(), self.job_id.to_string()),
            ("CADRE_NODE_ID".into(), node.id.to_string()),
            ("CADRE_DEPTH".into(), node.depth.to_string()),
        ];
        env.extend(input);
        env
    }

    /// Records a command worker's process group in the store while it runs.
    fn spawn_hook(&self, index: usize) -> Option<SpawnHook> {
        let node = &self.nodes[index];
        if !matches!(node.spec.run, Some(ExecutorSpec::Command { .. })) {
            return None;
        }
        let (ctx, job_id, node_id) = (self.ctx.clone(), self.job_id, node.id);
        Some(SpawnHook(Arc::new(move |pid| {
            let started = crate::engine::orphans::start_ticks(pid).and_then(|t| i64::try_from(t).ok());
            let process = ProcessRow { node_id, job_id, pgid: i64::from(pid), started_ticks: started.unwrap_or(-1) };
            ctx.journal.process_started(process);
        })))
    }

    pub(super) fn on_work_done(&mut self, index: usize, outcome: ExecOutcome) {
        if matches!(self.nodes[index].spec.run, Some(ExecutorSpec::Command { .. })) {
            // The executor has stopped the whole group before reporting.
            self.ctx.journal.process_ended(self.nodes[index].id);
            self.ctx.signs.end(self.nodes[index].id);
        }
        let node = &mut self.nodes[index];
        if node.phase != Phase::Working {
            return;
        }
        if self.stopping {
            // Stopped by the shutdown, not by anything about the node: left as stored.
            node.phase = Phase::Queued;
            node.slot = None;
            return;
        }
        if outcome == ExecOutcome::Waiting {
            return self.on_waiting(index);
        }
        let Some(outcome) = self.merged_leaf(index, outcome) else { return };
        let node = &mut self.nodes[index];
        node.cancel = None;
        let retryable = node.cancel_reason.is_none() && node.children.is_empty();
        let again = node.attempts < node.spec.retry.max_attempts;
        let outcome = match outcome {
            // What follows a failure depends on its class and the node's recovery policy.
            ExecOutcome::Failed { error, result } if retryable => {
                let recovery = self.recovery(index, &error, result.as_ref(), again);
                let result = Some(with_recovery(result, &recovery));
                if recovery.action == RecoveryAction::Escalate {
                    return self.escalate(index, error, result, recovery.class);
                }
                if recovery.level > 0 {
                    return self.back_off(index, error, result);
                }
                ExecOutcome::Failed { error, result }
            }
            other => other,
        };
        let node = &mut self.nodes[index];
        let own = OwnOutcome::from(outcome);
        if node.ended_children < node.children.len() {
            // The process is done, its spawned children are not: wait for them, slot-free.
            // Its outcome is stored now, so a restart need not re-run it.
            node.phase = Phase::AwaitChildren;
            node.slot = None;
            (node.result, node.error) = (own.result.clone(), own.error.clone());
            node.own = Some(Box::new(own));
            self.ctx.journal.node(self.nodes[index].update());
            return;
        }
        self.finish_worker(index, own);
    }

    pub(super) fn back_off(&mut self, index: usize, error: String, result: Option<serde_json::Value>) {
        let node = &mut self.nodes[index];
        let delay = node.spec.retry.backoff_ms(node.attempts, &mut rand::rng());
        node.phase = Phase::BackingOff;
        node.status = NodeStatus::Retrying;
        node.slot = None;
        node.result = result.map(|value| json_text(&value));
        node.error = Some(error.clone());
        let node = &self.nodes[index];
        self.ctx.journal.node(node.update());
        let recovery = result_field(node.result.as_deref(), "recovery");
        let data = json!({"node_id": node.id, "name": &*node.name, "attempt": node.attempts,
                          "max_attempts": node.spec.retry.max_attempts, "delay_ms": delay, "error": error,
                          "recovery": recovery});
        self.emit(EventKind::NodeRetrying, node.depth, &data);
        let (outbox, stop) = (self.outbox.clone(), self.stop_all.clone());
        tokio::spawn(async move {
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(delay)) => { let _ = outbox.send(JobMsg::RetryDue { index }); }
                () = stop.cancelled() => {}
            }
        });
    }
}

/// One field of a stored result, when it is an object that has it.
fn result_field(result: Option<&serde_json::value::RawValue>, field: &str) -> Option<serde_json::Value> {
    let value: serde_json::Value = serde_json::from_str(result?.get()).ok()?;
    value.get(field).cloned()
}

/// Runs an attempt's executor. A panicking executor must still report, or its node would
/// hold its slot forever.
async fn execute(
    run: &ExecutorSpec,
    resources: Option<&crate::domain::spec::ResourceLimits>,
    exec: &ExecContext,
) -> ExecOutcome {
    let attempt = std::panic::AssertUnwindSafe(executor::execute(run, resources, exec));
    attempt
        .catch_unwind()
        .await
        .unwrap_or_else(|_| ExecOutcome::Failed { error: "the executor panicked".into(), result: None })
}

/// Work that reaches outside cadre starts only once its attempt is stored: otherwise a crash
/// right after the start would leave a process that ran with no attempt on record, and the
/// restarted server would count its re-run as the first. Returns the outcome to report instead
/// of running, if the attempt must not run.
async fn durable_start(run: &ExecutorSpec, journal: &Journal, exec: &ExecContext) -> Option<ExecOutcome> {
    if !run.acts_outside() {
        return None;
    }
    tokio::select! {
        stored = journal.flush() => stored.err().map(|err| ExecOutcome::Failed { error: err.to_string(), result: None }),
        () = exec.cancel.cancelled() => Some(ExecOutcome::Cancelled { result: None }),
    }
}
