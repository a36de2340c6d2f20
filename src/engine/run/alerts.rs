//! The alert rules a job's driver checks (issue 15): the failure rate of its finished
//! workers — past the threshold an alert fires and, by default, the job is held: nothing new
//! starts (running nodes finish) until a person resumes it — and stragglers, nodes running
//! far longer than their finished siblings did. Alerts are stored through the journal; a
//! restarted driver finds its hold, and its counts, in what was stored.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::json;

use super::{JobMsg, JobRun};
use crate::domain::{JobStatus, NodeStatus};
use crate::engine::tree::Phase;
use crate::events::now_ms;
use crate::people::alerts::{self, Rule};
use crate::store::AlertRow;

/// What the rules watch in one job.
#[derive(Default)]
pub(super) struct Watch {
    finished: u32,
    failed: u32,
    /// The failure-rate alert fired (it fires once per job).
    fired: bool,
    /// The alert that holds the job, while it does.
    pub held: Option<AlertRow>,
    /// Nodes that got a slot while the job was held, to queue again once it is resumed.
    pub held_back: Vec<usize>,
    /// Nodes already reported as stragglers.
    stragglers: HashSet<usize>,
    /// Attempts already reported as silent: (node, attempt).
    silent: HashSet<(usize, u32)>,
}

impl JobRun {
    /// A node ends: a worker counts toward the failure rate, which may fire now.
    pub(super) fn count_for_alerts(&mut self, index: usize, status: NodeStatus) {
        if !self.nodes[index].is_worker() || !status.is_terminal() {
            return;
        }
        self.watch.finished += 1;
        self.watch.failed += u32::from(status == NodeStatus::Failed);
        self.check_failure_rate();
    }

    fn check_failure_rate(&mut self) {
        let rules = &self.ctx.alert_rules;
        let (finished, failed) = (self.watch.finished, self.watch.failed);
        let rate = f64::from(failed) / f64::from(finished.max(1));
        if self.watch.fired
            || rules.failure_rate <= 0.0
            || finished < rules.failure_rate_min_finished
            || rate <= rules.failure_rate
        {
            return;
        }
        self.watch.fired = true;
        let held = rules.failure_rate_hold;
        let percent = (rate * 100.0).round();
        let threshold = (rules.failure_rate * 100.0).round();
        let then = if held { "; new starts are held until someone resumes the job" } else { "" };
        let message = format!("{failed} of {finished} finished workers failed ({percent} % > {threshold} %){then}");
        let data = json!({"finished": finished, "failed": failed, "rate": rate, "threshold": rules.failure_rate, "held": held});
        let alert = alerts::fire(Rule::FailureRate, Some(self.job_id), None, message, &data);
        self.raise(alert.clone(), 0, Some(Rule::FailureRate));
        if held {
            self.watch.held = Some(alert);
            self.refresh_pause();
        }
    }

    /// Stores an alert and tells the stream; one that fires (`rule`) is counted.
    fn raise(&self, alert: AlertRow, depth: u8, fired: Option<Rule>) {
        self.ctx.journal.alert(alert, Some(depth));
        if let Some(rule) = fired {
            self.ctx.alerts.count(rule);
        }
    }

    /// A person lets the held job start nodes again: its alert is resolved by them.
    pub(super) fn resume(&mut self, by: String) -> Result<(), String> {
        let alert = self.watch.held.take().ok_or("the job is not held")?;
        self.raise(alerts::resolve(&alert, Some(by)), 0, None);
        for index in std::mem::take(&mut self.watch.held_back) {
            if self.nodes[index].phase == Phase::Queued {
                self.queue_for_slot(index);
            }
        }
        self.refresh_pause();
        Ok(())
    }

    /// A restarted driver: its counts from the stored nodes, its hold from the stored alerts.
    pub(super) fn restore_watch(&mut self, alerts: &[AlertRow]) {
        for node in self.nodes.iter().filter(|n| n.is_worker() && n.status.is_terminal()) {
            self.watch.finished += 1;
            self.watch.failed += u32::from(node.status == NodeStatus::Failed);
        }
        let failure_rate = || alerts.iter().filter(|a| a.rule == Rule::FailureRate.as_str());
        self.watch.fired = failure_rate().next().is_some();
        let holding = |a: &&AlertRow| a.resolved_ms.is_none() && a.data.contains("\"held\":true");
        self.watch.held = failure_rate().find(holding).cloned();
    }

    /// Looks for stragglers and silent workers every `alerts.check_every_s` while the job runs.
    pub(super) fn arm_sweeps(&self) {
        let rules = &self.ctx.alert_rules;
        if rules.straggler_factor <= 0.0 && rules.silent_after_s == 0 {
            return;
        }
        let every = Duration::from_secs(self.ctx.alert_rules.check_every_s.max(1));
        let (outbox, stop) = (self.outbox.clone(), self.stop_all.clone());
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            loop {
                tokio::select! {
                    _ = ticks.tick() => if outbox.send(JobMsg::Sweep).is_err() { return },
                    () = stop.cancelled() => return,
                }
            }
        });
    }

    /// The periodic look at running nodes.
    pub(super) fn sweep(&mut self) {
        self.look_for_stragglers();
        self.look_for_silence();
    }

    /// Command workers that have shown no sign of life (output, a call back) for
    /// `silent_after_s`, once per attempt.
    fn look_for_silence(&mut self) {
        let limit_s = self.ctx.alert_rules.silent_after_s;
        if limit_s == 0 {
            return;
        }
        let now = now_ms();
        for index in 0..self.nodes.len() {
            let node = &self.nodes[index];
            let key = (index, node.attempts);
            let Some(last) = (node.phase == Phase::Working).then(|| self.ctx.signs.last(node.id)).flatten() else {
                continue;
            };
            let silent_ms = now - last;
            if silent_ms < i64::try_from(limit_s * 1000).unwrap_or(i64::MAX) || self.watch.silent.contains(&key) {
                continue;
            }
            self.watch.silent.insert(key);
            let message = format!("'{}' has written nothing and not called back for {} s", node.name, silent_ms / 1000);
            let data = json!({"silent_ms": silent_ms, "limit_s": limit_s, "attempt": node.attempts});
            let alert = alerts::fire(Rule::SilentWorker, Some(self.job_id), Some(node.id), message, &data);
            self.raise(alert, node.depth, Some(Rule::SilentWorker));
        }
    }

    /// Working nodes past `straggler_factor` times their finished siblings' median.
    fn look_for_stragglers(&mut self) {
        if self.ctx.alert_rules.straggler_factor <= 0.0 {
            return;
        }
        let now = now_ms();
        let working: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| self.nodes[i].phase == Phase::Working && !self.watch.stragglers.contains(&i))
            .collect();
        for index in working {
            if let Some(data) = self.straggling(index, now) {
                self.watch.stragglers.insert(index);
                let node = &self.nodes[index];
                let message = format!(
                    "'{}' has run {} s, more than {} × its siblings' median of {} s",
                    node.name,
                    data["elapsed_ms"].as_i64().unwrap_or(0) / 1000,
                    data["factor"],
                    data["median_ms"].as_i64().unwrap_or(0) / 1000
                );
                let alert = alerts::fire(Rule::Straggler, Some(self.job_id), Some(node.id), message, &data);
                self.raise(alert, node.depth, Some(Rule::Straggler));
            }
        }
    }

    /// What makes node `index` a straggler now, if it is one.
    fn straggling(&self, index: usize, now: i64) -> Option<serde_json::Value> {
        let rules = &self.ctx.alert_rules;
        let parent = self.nodes[index].parent?;
        let mut took: Vec<i64> = (self.nodes[parent].children.iter())
            .map(|&c| &self.nodes[c])
            .filter(|n| n.status == NodeStatus::Succeeded)
            .filter_map(|n| n.started_ms.zip(n.finished_ms).map(|(s, f)| f - s))
            .collect();
        if took.len() < rules.straggler_min_siblings as usize {
            return None;
        }
        took.sort_unstable();
        let median = took[took.len() / 2].max(1);
        let elapsed = now - self.nodes[index].started_ms?;
        let factor = rules.straggler_factor;
        (elapsed as f64 > factor * median as f64)
            .then(|| json!({"elapsed_ms": elapsed, "median_ms": median, "factor": factor, "siblings": took.len()}))
    }

    /// `paused` while the job is held, or a request waits and nothing else can move;
    /// `running` again after.
    pub(super) fn refresh_pause(&mut self) {
        let held = self.watch.held.is_some();
        if self.people.waiting.is_empty() && !self.people.paused && !held {
            return;
        }
        let paused = held
            || !self.people.waiting.is_empty()
                && !self.nodes.iter().any(|n| {
                    matches!(
                        n.phase,
                        Phase::Queued | Phase::Working | Phase::Decomposing | Phase::BackingOff | Phase::Finishing
                    )
                });
        if paused != self.people.paused && !self.nodes.iter().any(|n| n.phase == Phase::AwaitAnswer) {
            self.people.paused = paused;
            self.record_job_status(if paused { JobStatus::Paused } else { JobStatus::Running });
        }
    }
}
