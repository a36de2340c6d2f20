//! What follows a failed attempt (issue 15, seed 004's matrix): its failure classified, the
//! node's recovery policy applied — level 1 retry after a back-off, level 2 reallocate (the
//! next attempt of a `command` gets more memory and time), level 3 escalate (a person decides:
//! `engine::run::approvals`), or fail — and the decision written into the
//! attempt's stored result (`recovery {class, action, level, resources}`), where the next
//! attempt finds its limits, also after a restart.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::JobRun;
use crate::domain::recovery::{self, FailureClass, RecoveryAction};
use crate::domain::spec::{LlmFallback, ResourceLimits};
use crate::domain::{ExecutorSpec, LlmRun};
use crate::engine::recovery::{classify, reallocated};

/// The recovery of one failed attempt, as its result records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Recovery {
    pub class: FailureClass,
    pub action: RecoveryAction,
    /// Seed 004's level: 1 retry, 2 reallocate, 3 escalate; 0 when nothing follows.
    pub level: u8,
    /// The limits the next attempt runs with, when a command is reallocated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceLimits>,
    /// The provider (and model) the next attempt calls, when an `llm` worker is reallocated
    /// to its `fallback`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<LlmFallback>,
    /// Why the action is not what the policy names (an escalation with no one to ask).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl JobRun {
    /// The recovery of node `index`'s failed attempt; `again` when the retry policy leaves
    /// room for another.
    pub(super) fn recovery(&self, index: usize, error: &str, result: Option<&Value>, again: bool) -> Recovery {
        let node = &self.nodes[index];
        let class = classify(error, result);
        let wanted = recovery::action(&node.spec.recovery, class);
        let (action, note) = match wanted {
            RecoveryAction::Retry | RecoveryAction::Reallocate if !again => (wanted, Some(NO_ATTEMPTS_LEFT.into())),
            other => (other, None),
        };
        let reallocating = action == RecoveryAction::Reallocate && note.is_none();
        let resources = reallocating
            .then(|| self.limits_of(index))
            .flatten()
            .map(|limits| reallocated(&limits, self.ctx.process.reallocation));
        let fallback = match &node.spec.run {
            Some(ExecutorSpec::Llm(run)) if reallocating => run.fallback.clone(),
            _ => None,
        };
        let level = if note.is_some() { 0 } else { action.level() };
        Recovery { class, action, level, resources, fallback, note }
    }

    /// The limits node `index`'s current attempt ran with, resolved down to the server's
    /// defaults: a reallocated attempt's, else its run's and spec's. `None` for anything but
    /// a command (only a process has limits to raise).
    fn limits_of(&self, index: usize) -> Option<ResourceLimits> {
        let node = &self.nodes[index];
        let Some(ExecutorSpec::Command { timeout_s, .. }) = &node.spec.run else { return None };
        if let Some(given) = self.reallocated_limits(index) {
            return Some(given);
        }
        let own = node.spec.resources.clone().unwrap_or_default();
        let defaults = &self.ctx.process;
        Some(ResourceLimits {
            memory_mb: own.memory_mb.or(defaults.memory_mb),
            cpu_seconds: own.cpu_seconds.or(defaults.cpu_seconds),
            timeout_s: timeout_s.or(own.timeout_s).or(Some(defaults.timeout.as_secs().max(1))),
        })
    }

    /// The recovery the previous attempt recorded, which the attempt now starting follows
    /// (read from the stored result, so it survives a restart).
    fn previous_recovery(&self, index: usize) -> Option<Recovery> {
        let node = &self.nodes[index];
        if node.attempts < 2 {
            return None;
        }
        let stored: Value = serde_json::from_str(node.result.as_deref()?.get()).ok()?;
        serde_json::from_value(stored.get("recovery")?.clone()).ok()
    }

    /// A person's `retry_with`: the next attempt's limits (over the current ones) or model,
    /// written into the failed attempt's stored recovery, where that attempt reads them.
    pub(super) fn retry_with(&mut self, index: usize, terms: &crate::people::inbox::RetryTerms) {
        let node = &self.nodes[index];
        let Some(mut recovery) = serde_json::from_str::<Value>(node.result.as_deref().map_or("{}", |r| r.get())).ok()
        else {
            return;
        };
        if terms.memory_mb.or(terms.cpu_seconds).or(terms.timeout_s).is_some() {
            let now = self.limits_of(index).unwrap_or_default();
            let limits = ResourceLimits {
                memory_mb: terms.memory_mb.or(now.memory_mb),
                cpu_seconds: terms.cpu_seconds.or(now.cpu_seconds),
                timeout_s: terms.timeout_s.or(now.timeout_s),
            };
            recovery["recovery"]["resources"] = json!(limits);
        }
        if let Some(provider) = &terms.provider {
            recovery["recovery"]["fallback"] =
                json!(LlmFallback { provider: provider.clone(), model: terms.model.clone() });
        }
        self.nodes[index].result = Some(crate::domain::json_text(&recovery));
    }

    /// The limits a reallocation gave the attempt now starting.
    fn reallocated_limits(&self, index: usize) -> Option<ResourceLimits> {
        self.previous_recovery(index)?.resources
    }

    /// The executor and limits of node `index`'s attempt now starting: a reallocated
    /// command's own timeout gives way to the reallocation's, a reallocated model call goes
    /// to its fallback.
    pub(super) fn attempt_terms(&self, index: usize) -> (Option<ExecutorSpec>, Option<ResourceLimits>) {
        let spec = &self.nodes[index].spec;
        let Some(previous) = self.previous_recovery(index) else { return (spec.run.clone(), spec.resources.clone()) };
        match (spec.run.clone(), previous) {
            (Some(ExecutorSpec::Command { argv, cwd, env, .. }), Recovery { resources: Some(limits), .. }) => {
                (Some(ExecutorSpec::Command { argv, cwd, env, timeout_s: limits.timeout_s }), Some(limits))
            }
            (Some(ExecutorSpec::Llm(run)), Recovery { fallback: Some(to), .. }) => {
                let moved = LlmRun { provider: to.provider, model: to.model, ..run };
                (Some(ExecutorSpec::Llm(moved)), spec.resources.clone())
            }
            (run, _) => (run, spec.resources.clone()),
        }
    }
}

const NO_ATTEMPTS_LEFT: &str = "the retry policy allows no more attempts";

/// The attempt's result with its recovery written in (`recovery`), an object either way.
pub(super) fn with_recovery(result: Option<Value>, recovery: &Recovery) -> Value {
    let mut result = match result {
        Some(Value::Object(map)) => Value::Object(map),
        Some(other) => json!({"output": other}),
        None => json!({}),
    };
    result["recovery"] = serde_json::to_value(recovery).unwrap_or(Value::Null);
    result
}
