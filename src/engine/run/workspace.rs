//! Workspaces at run time (issue 17): a command worker's attempt runs in a fresh worktree of
//! its own, what it leaves there is committed when it succeeds, and, with `merge: up`, a
//! succeeded node's branch is merged into its parent's before the node is recorded as
//! succeeded — a leaf's as its attempt ends (so a conflict or a failing check is a failed
//! attempt, which the node's recovery policy retries or escalates), a node with children once
//! they have all ended (and merged). The job's worktrees go once it succeeds; a job that did
//! not keeps them for inspection until `DELETE …/workspace`.
//!
//! Git runs in tasks of their own; the driver only starts them and hears back through
//! [`JobMsg::Merged`], so a transition never waits on a process.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{json, Value};
use uuid::Uuid;

use super::{JobMsg, JobRun};
use crate::domain::workspace::WorkspaceSpec;
use crate::domain::{ExecutorSpec, JsonText, NodeStatus};
use crate::engine::executor::ExecOutcome;
use crate::engine::journal::Journal;
use crate::engine::tree::Phase;
use crate::events::{EventDraft, EventKind};
use crate::workspace::nodes::{Link, MergeStep};
use crate::workspace::{MergeOutcome, Workspaces, Worktree};

/// A job's workspace, as its driver keeps it.
pub(super) struct JobWorkspace {
    spec: Arc<WorkspaceSpec>,
    /// Nodes whose merge is done, whose ending goes on (taken once).
    merged: HashSet<usize>,
}

impl JobWorkspace {
    pub fn new(spec: Arc<WorkspaceSpec>) -> Self {
        Self { spec, merged: HashSet::new() }
    }
}

/// A node's way from the root, owned, for a task.
type Chain = Vec<(Uuid, Arc<str>)>;

fn links(chain: &Chain) -> Vec<Link<'_>> {
    chain.iter().map(|(id, name)| Link { id: *id, name }).collect()
}

/// What follows a merge: a worker's attempt goes on to its outcome, a node with children to
/// its end with the result it has.
pub(crate) enum AfterMerge {
    Work(ExecOutcome),
    End(Option<JsonText>),
}

/// What a command worker's attempt needs to work in its worktree (made in the attempt's task).
pub(super) struct AttemptWorkspace {
    workspaces: Workspaces,
    repo: PathBuf,
    base: String,
    job_id: Uuid,
    chain: Chain,
    journal: Journal,
    depth: u8,
    worktree: Option<Worktree>,
}

impl AttemptWorkspace {
    /// Makes the attempt's worktree and returns the run with its `cwd` inside it; a failure
    /// is the attempt's.
    pub async fn enter(&mut self, run: &ExecutorSpec) -> Result<ExecutorSpec, ExecOutcome> {
        let failed = |error: String| ExecOutcome::Failed { error, result: None };
        let ExecutorSpec::Command { argv, cwd, env, timeout_s } = run else { return Ok(run.clone()) };
        if !cwd.as_deref().is_none_or(crate::domain::workspace::stays_inside) {
            return Err(failed(
                "in a job with a workspace a worker's cwd must be a relative path inside its worktree".into(),
            ));
        }
        let prepared = self.workspaces.prepare((&self.repo, &self.base), self.job_id, &links(&self.chain)).await;
        let worktree = prepared.map_err(|e| failed(format!("could not make the worker's worktree: {e}")))?;
        let dir = cwd.as_deref().map_or_else(|| worktree.path.clone(), |cwd| worktree.path.join(cwd));
        let (node_id, name) = self.chain.last().cloned().unwrap_or_else(|| (Uuid::nil(), Arc::from("")));
        let parent = self.chain.len().checked_sub(2).map(|i| &self.chain[i]);
        let parent_branch = match parent {
            Some((id, name)) => crate::workspace::node_branch_name(self.job_id, *id, name),
            None => crate::workspace::job_branch_name(self.job_id),
        };
        let data = json!({"node_id": node_id, "name": &*name, "branch": &worktree.branch,
                          "parent_branch": parent_branch, "path": worktree.path});
        self.journal.emit(EventDraft::job(EventKind::WorkspaceCreated, self.job_id, Some(self.depth), &data));
        let cwd = Some(dir.to_string_lossy().into_owned());
        self.worktree = Some(worktree);
        Ok(ExecutorSpec::Command { argv: argv.clone(), cwd, env: env.clone(), timeout_s: *timeout_s })
    }

    /// Commits what a succeeded attempt left in its worktree (a worker may have committed
    /// some itself); a commit that fails fails the attempt.
    pub async fn leave(&self, outcome: ExecOutcome) -> ExecOutcome {
        let (Some(worktree), ExecOutcome::Succeeded(_)) = (&self.worktree, &outcome) else { return outcome };
        let name = self.chain.last().map_or("node", |(_, name)| name);
        let message = format!("cadre: {name}");
        match self.workspaces.commit_all(worktree, &message).await {
            Ok(_) => outcome,
            Err(e) => {
                ExecOutcome::Failed { error: format!("could not commit the worker's changes: {e}"), result: None }
            }
        }
    }
}

/// A merge that did not happen, as a node's error and result.
fn refusal(step: &MergeStep) -> Option<(String, Value)> {
    let into = &step.into;
    let (error, detail) = match &step.outcome {
        MergeOutcome::Merged { .. } => return None,
        MergeOutcome::Conflict { files } => (
            format!("merging into {into} failed: conflict in {}", files.join(", ")),
            json!({"outcome": "conflict", "files": files}),
        ),
        MergeOutcome::CheckFailed { exit_code, output_tail } => {
            let code = exit_code.map_or_else(|| "did not finish".to_string(), |c| format!("exited {c}"));
            let detail = json!({"outcome": "check_failed", "exit_code": exit_code, "output_tail": output_tail});
            (format!("merging into {into} failed: the check {code}"), detail)
        }
    };
    let mut result = json!({"merge": detail});
    // A failing check is a result its check did not accept: recovery reads it as validation.
    if matches!(step.outcome, MergeOutcome::CheckFailed { .. }) {
        result["failure_class"] = json!("validation");
    }
    Some((error, result))
}

/// A refused merge's detail laid over what the attempt itself returned (a command's exit
/// code and output stay for the reader), an object either way.
fn with_attempt(refusal: Value, outcome: ExecOutcome) -> Value {
    let mut result = match outcome {
        ExecOutcome::Succeeded(Value::Object(map)) => Value::Object(map),
        ExecOutcome::Succeeded(other) => json!({"output": other}),
        _ => json!({}),
    };
    if let (Value::Object(fields), Some(map)) = (refusal, result.as_object_mut()) {
        map.extend(fields);
    }
    result
}

impl JobRun {
    /// The node's way from the root, ids and names.
    fn chain(&self, index: usize) -> Chain {
        let mut chain = Vec::new();
        let mut at = Some(index);
        while let Some(i) = at {
            chain.push((self.nodes[i].id, self.nodes[i].name.clone()));
            at = self.nodes[i].parent;
        }
        chain.reverse();
        chain
    }

    /// What a command worker's attempt needs to run in a worktree, when the job has a workspace.
    pub(super) fn attempt_workspace(&self, index: usize) -> Option<AttemptWorkspace> {
        let spec = &self.workspace.as_ref()?.spec;
        if !matches!(self.nodes[index].spec.run, Some(ExecutorSpec::Command { .. })) {
            return None;
        }
        Some(AttemptWorkspace {
            workspaces: self.ctx.workspaces.clone(),
            repo: PathBuf::from(&spec.repo),
            base: spec.base.clone(),
            job_id: self.job_id,
            chain: self.chain(index),
            journal: self.ctx.journal.clone(),
            depth: self.nodes[index].depth,
            worktree: None,
        })
    }

    /// Whether a node's succeeding must wait for its merge up (`then` is what follows it).
    pub(super) fn merge_first(&mut self, index: usize, then: AfterMerge) -> Result<(), AfterMerge> {
        let Some(workspace) = self.workspace.as_mut() else { return Err(then) };
        if !workspace.spec.merges_up() || workspace.merged.remove(&index) || self.nodes[index].cancel_reason.is_some() {
            return Err(then);
        }
        let (workspaces, spec, job_id) = (self.ctx.workspaces.clone(), workspace.spec.clone(), self.job_id);
        let (chain, outbox) = (self.chain(index), self.outbox.clone());
        if matches!(then, AfterMerge::End(_)) {
            self.nodes[index].phase = Phase::Merging;
        }
        tokio::spawn(async move {
            let merged = workspaces.merge_up(spec.repo.as_ref(), job_id, &links(&chain), spec.check.as_deref()).await;
            let step = merged.map_err(|e| format!("could not merge the node's branch: {e}"));
            let _ = outbox.send(JobMsg::Merged { index, step, then });
        });
        Ok(())
    }

    /// A leaf's branch goes up before it is recorded as succeeded (a refused merge is a failed
    /// attempt like any other): `None` while it merges, else the outcome to go on with.
    pub(super) fn merged_leaf(&mut self, index: usize, outcome: ExecOutcome) -> Option<ExecOutcome> {
        if !matches!(outcome, ExecOutcome::Succeeded(_)) || !self.nodes[index].children.is_empty() {
            return Some(outcome);
        }
        match self.merge_first(index, AfterMerge::Work(outcome)) {
            Ok(()) => None,
            Err(AfterMerge::Work(outcome)) => Some(outcome),
            Err(AfterMerge::End(_)) => unreachable!("given back as it was given"),
        }
    }

    /// A merge ended: the node goes on to succeed, or fails naming what stopped it.
    pub(super) fn on_merged(&mut self, index: usize, step: Result<Option<MergeStep>, String>, then: AfterMerge) {
        let refused = match &step {
            Ok(Some(step)) => {
                self.announce_merge(index, step);
                refusal(step)
            }
            Ok(None) => None,
            Err(error) => Some((error.clone(), json!({"merge": {"outcome": "error"}}))),
        };
        match (refused, then) {
            (None, then) => {
                if let Some(workspace) = self.workspace.as_mut() {
                    workspace.merged.insert(index);
                }
                match then {
                    AfterMerge::Work(outcome) => self.on_work_done(index, outcome),
                    AfterMerge::End(result) => self.end_node(index, NodeStatus::Succeeded, result, None),
                }
            }
            (Some((error, refusal)), AfterMerge::Work(outcome)) => {
                let result = with_attempt(refusal, outcome);
                self.on_work_done(index, ExecOutcome::Failed { error, result: Some(result) });
            }
            (Some((error, _)), AfterMerge::End(result)) => {
                self.end_node(index, NodeStatus::Failed, result, Some(error))
            }
        }
    }

    fn announce_merge(&self, index: usize, step: &MergeStep) {
        let node = &self.nodes[index];
        let (kind, data) = match &step.outcome {
            MergeOutcome::Merged { sha } => (
                EventKind::WorkspaceMerged,
                json!({"node_id": node.id, "name": &*node.name, "branch": step.branch, "into": step.into, "sha": sha}),
            ),
            MergeOutcome::Conflict { files } => (
                EventKind::WorkspaceMergeFailed,
                json!({"node_id": node.id, "name": &*node.name, "branch": step.branch, "into": step.into,
                       "outcome": "conflict", "files": files, "exit_code": null, "output_tail": ""}),
            ),
            MergeOutcome::CheckFailed { exit_code, output_tail } => (
                EventKind::WorkspaceMergeFailed,
                json!({"node_id": node.id, "name": &*node.name, "branch": step.branch, "into": step.into,
                       "outcome": "check_failed", "files": [], "exit_code": exit_code, "output_tail": output_tail}),
            ),
        };
        self.emit(kind, node.depth, &data);
    }

    /// A succeeded job's worktrees go (its branches stay: the job branch is what it made); a
    /// job that did not succeed keeps them for inspection.
    /// (Owned, so the driver need not be shared across the await.)
    pub(super) fn clear_worktrees(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let succeeded = self.nodes[0].status == NodeStatus::Succeeded;
        let repo = self.workspace.as_ref().filter(|_| succeeded).map(|w| PathBuf::from(&w.spec.repo));
        let (workspaces, job_id) = (self.ctx.workspaces.clone(), self.job_id);
        async move {
            let Some(repo) = repo else { return };
            if let Err(error) = workspaces.remove_job(&repo, job_id, true).await {
                tracing::warn!(job.id = %job_id, %error, "could not remove the job's worktrees");
            }
        }
    }
}
