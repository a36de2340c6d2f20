//! Staffed nodes in the driver (issue 16; `docs/WORKFORCE.md`): a node that names an agent
//! (`agent`) or asks for one (`delegate`) gets it before it queues for a slot, and holds it
//! until it ends. A leaf takes its executor from the agent; an orchestrator is run by it, and
//! its descendants' `scope: subordinates` look below that agent.
//!
//! A node no eligible agent has room for waits in `Phase::AwaitAgent` (pending, holding no
//! slot), first come first served within the job: one watcher task per job wakes the driver
//! whenever an agent frees a place or the registry changes, and a timer per node fails it when
//! its wait runs out. Each step is a `delegations` row (through the journal) and a
//! `delegation` event; after a restart a node that had started keeps the agent it had.

use std::time::Duration;

use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::{JobMsg, JobRun};
use crate::domain::plan::RuntimeSpec;
use crate::domain::staffing::Staff;
use crate::domain::{ExecutorSpec, NodeStatus};
use crate::engine::tree::Phase;
use crate::events::{now_ms, EventKind};
use crate::store::DelegationRow;
use crate::workforce::agent::AgentSpec;
use crate::workforce::matching::Ask;
use crate::workforce::Lease;

/// The variable a `command` agent finds its agent's name in.
pub(crate) const AGENT_ENV: &str = "CADRE_AGENT";

/// The job's nodes waiting for an agent, oldest first, and the task that wakes the driver.
#[derive(Default)]
pub(super) struct Staffing {
    waiting: Vec<(usize, i64)>,
    watcher: Option<CancellationToken>,
}

impl JobRun {
    /// Whether the node must get its agent before it queues for a slot.
    pub(super) fn needs_agent(&self, index: usize) -> bool {
        self.nodes[index].spec.staff.is_some() && self.nodes[index].lease.is_none()
    }

    /// Gets the node its agent and queues it for a slot, or makes it wait for one.
    pub(super) fn staff(&mut self, index: usize) {
        let requested_ms = now_ms();
        match self.try_staff(index, requested_ms) {
            Ok(()) => self.queue_for_slot(index),
            Err(why) => self.wait_for_agent(index, requested_ms, why),
        }
    }

    fn try_staff(&mut self, index: usize, requested_ms: i64) -> Result<(), String> {
        let Some(staff) = self.nodes[index].spec.staff.clone() else { return Ok(()) };
        let boss = self.boss(index);
        let ask = Ask {
            named: staff.agent.as_deref(),
            delegate: staff.delegate.as_ref(),
            boss: boss.as_deref(),
            sticky_to: None,
        };
        let (lease, reason) = self.ctx.workforce.try_assign(self.job_id, self.nodes[index].id, &ask)?;
        let Some(member) = self.ctx.workforce.member(lease.agent()) else {
            return Err(format!("'{}' left the registry", lease.agent()));
        };
        self.take_on(index, &staff, &member.spec, lease);
        self.record_delegation(index, "assigned", &reason, requested_ms);
        Ok(())
    }

    /// The node holds `lease`; a leaf's executor (and envelope, if it has none) is the agent's.
    fn take_on(&mut self, index: usize, staff: &Staff, agent: &AgentSpec, lease: Lease) {
        let node = &mut self.nodes[index];
        node.lease = Some(lease);
        if !staff.works {
            return;
        }
        let task = match &node.spec.description {
            Some(description) => format!("{}\n\n{description}", node.title.as_deref().unwrap_or(&node.name)),
            None => node.title.as_deref().unwrap_or(&node.name).to_string(),
        };
        let mut run = agent.run.clone();
        if let ExecutorSpec::Command { env, .. } = &mut run {
            env.insert(AGENT_ENV.into(), agent.name.clone());
            env.entry(crate::engine::decompose::bundle::TASK_PROMPT_ENV.into()).or_insert(task);
        }
        let budget = node.spec.budget.or_else(|| {
            agent.budget.map(|b| crate::domain::budget::NodeBudget { cost: b.cost, tokens: b.tokens, share: None })
        });
        node.spec = std::sync::Arc::new(RuntimeSpec { run: Some(run), budget, ..(*node.spec).clone() });
    }

    /// The agent running the nearest ancestor that has one.
    fn boss(&self, index: usize) -> Option<String> {
        let mut at = self.nodes[index].parent;
        while let Some(parent) = at {
            if let Some(lease) = &self.nodes[parent].lease {
                return Some(lease.agent().to_string());
            }
            at = self.nodes[parent].parent;
        }
        None
    }

    fn wait_for_agent(&mut self, index: usize, requested_ms: i64, why: String) {
        self.nodes[index].phase = Phase::AwaitAgent;
        self.record_delegation(index, "waiting", &why, requested_ms);
        self.staffing.waiting.push((index, requested_ms));
        self.arm_staff_due(index);
        self.watch_workforce();
    }

    fn arm_staff_due(&self, index: usize) {
        let spec = &self.nodes[index].spec;
        let delegated = spec.staff.as_ref().and_then(|s| s.delegate.as_ref()).and_then(|d| d.timeout_s);
        let wait = Duration::from_secs(delegated.unwrap_or(self.ctx.wait_timeout_s));
        let (outbox, stop) = (self.outbox.clone(), self.stop_all.clone());
        tokio::spawn(async move {
            tokio::select! {
                () = tokio::time::sleep(wait) => { let _ = outbox.send(JobMsg::StaffDue { index }); }
                () = stop.cancelled() => {}
            }
        });
    }

    /// One task per job while nodes wait: it tells the driver whenever an agent frees a place
    /// or the registry changes.
    fn watch_workforce(&mut self) {
        if self.staffing.watcher.is_some() {
            return;
        }
        let token = self.stop_all.child_token();
        self.staffing.watcher = Some(token.clone());
        let (workforce, outbox) = (self.ctx.workforce.clone(), self.outbox.clone());
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = workforce.changed() => { if outbox.send(JobMsg::AgentFreed).is_err() { return } }
                    () = token.cancelled() => return,
                }
            }
        });
    }

    /// Something changed in the workforce: the waiting nodes try again, oldest first.
    pub(super) fn on_agent_freed(&mut self) {
        let waiting = std::mem::take(&mut self.staffing.waiting);
        for (index, requested_ms) in waiting {
            if self.nodes[index].phase != Phase::AwaitAgent {
                self.ctx.workforce.stop_waiting(self.nodes[index].id);
                continue;
            }
            match self.try_staff(index, requested_ms) {
                Ok(()) => self.queue_for_slot(index),
                Err(_) => self.staffing.waiting.push((index, requested_ms)),
            }
        }
        if self.staffing.waiting.is_empty() {
            if let Some(watcher) = self.staffing.watcher.take() {
                watcher.cancel();
            }
        }
    }

    /// A node's wait for an agent ran out: it gets one if one has just freed up, else it
    /// fails with why it got none.
    pub(super) fn on_staff_due(&mut self, index: usize) {
        if self.nodes[index].phase != Phase::AwaitAgent {
            return;
        }
        let Some(at) = self.staffing.waiting.iter().position(|(i, _)| *i == index) else { return };
        let (_, requested_ms) = self.staffing.waiting.remove(at);
        match self.try_staff(index, requested_ms) {
            Ok(()) => self.queue_for_slot(index),
            Err(why) => {
                self.ctx.workforce.stop_waiting(self.nodes[index].id);
                self.record_delegation(index, "timed_out", &why, requested_ms);
                let waited = (now_ms() - requested_ms).max(0) / 1000;
                self.end_node(index, NodeStatus::Failed, None, Some(format!("no agent within {waited} s: {why}")));
            }
        }
    }

    fn record_delegation(&self, index: usize, state: &str, reason: &str, requested_ms: i64) {
        let node = &self.nodes[index];
        let agent = node.lease.as_ref().map(|l| l.agent().to_string());
        let assigned_ms = (state == "assigned").then(now_ms);
        self.ctx.journal.delegation(DelegationRow {
            node_id: node.id,
            job_id: self.job_id,
            agent: agent.clone(),
            state: state.into(),
            reason: reason.into(),
            requested_ms,
            assigned_ms,
        });
        let outcome = if state == "timed_out" { "timed_out" } else { state };
        let data =
            json!({"node_id": node.id, "name": &*node.name, "agent": agent, "outcome": outcome, "reason": reason});
        self.emit(EventKind::Delegation, node.depth, &data);
    }

    /// After a restart: a node that had started keeps the agent it was given.
    pub(super) fn restore_staff(&mut self, rows: &[DelegationRow]) {
        for row in rows.iter().filter(|r| r.state == "assigned") {
            let Some(index) = self.nodes.iter().position(|n| n.id == row.node_id) else { continue };
            let started =
                !matches!(self.nodes[index].status, NodeStatus::Pending) && self.nodes[index].phase != Phase::Done;
            let (Some(agent), Some(staff), true) = (&row.agent, self.nodes[index].spec.staff.clone(), started) else {
                continue;
            };
            let Some(member) = self.ctx.workforce.member(agent) else { continue };
            let lease = self.ctx.workforce.resume(self.job_id, row.node_id, agent, staff.delegate.as_ref());
            self.take_on(index, &staff, &member.spec, lease);
        }
    }

    /// The job ended: nothing of it waits any more, and what served it is forgotten.
    pub(super) fn end_staffing(&mut self) {
        if let Some(watcher) = self.staffing.watcher.take() {
            watcher.cancel();
        }
        for (index, _) in std::mem::take(&mut self.staffing.waiting) {
            self.ctx.workforce.stop_waiting(self.nodes[index].id);
        }
        self.ctx.workforce.forget_job(self.job_id);
    }
}
