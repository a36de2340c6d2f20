//! Nodes that wait for a person (issue 15): a node with `approval.before` asks before its
//! first start, one with `approval.after` before its success is accepted. While it waits the
//! node is `awaiting_approval`, holds no slot, its dependents wait, and the job shows
//! `paused` once nothing else can move. The request climbs the tree as its levels time out
//! (`people::approvals`); a decision or a timeout's default settles it: approved, the node
//! starts (or succeeds with the result it held); rejected, it fails. Every change of a
//! request goes through the journal before its node's, so a restart finds each waiting node
//! with its request, or a decided request whose outcome it then applies.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::{json, Value};
use uuid::Uuid;

use super::{JobMsg, JobRun};
use crate::domain::approval::ApprovalSpec;
use crate::domain::{JsonText, NodeStatus};
use crate::engine::tree::Phase;
use crate::events::{now_ms, EventKind};
use crate::people::approvals::{Level, OnTimeout, Request, State};
use crate::people::inbox::{Approval, Kind, Refused, Ruling};

/// Who decides when no node's approvers did: any admin key, unless `config.owners` says.
const DEFAULT_OWNER: &str = "scope:admin";

/// The job's requests: those waiting, by node, and what decided ones left behind.
#[derive(Default)]
pub(super) struct People {
    pub waiting: HashMap<usize, Approval>,
    /// Nodes approved to start, with the approver's input.
    pub cleared: HashMap<usize, Option<Value>>,
    /// Nodes whose result was accepted.
    pub accepted: HashSet<usize>,
    /// The job is stored as `paused` for want of a decision.
    pub paused: bool,
}

/// Why a decision did not reach a request.
#[derive(Debug)]
pub(crate) enum NotDecided {
    /// The request is not waiting in this job (decided, withdrawn, or unknown).
    NotWaiting,
    Refused(Refused),
}

impl JobRun {
    /// A node's first start: with a `before` approval a person is asked first.
    pub(super) fn admit(&mut self, index: usize) {
        let asks = self.nodes[index].spec.approval.as_ref().is_some_and(|a| a.before);
        if asks && !self.people.cleared.contains_key(&index) {
            return self.ask_approval(index, Kind::Before, Value::Null);
        }
        if self.needs_agent(index) {
            return self.staff(index);
        }
        self.queue_for_slot(index);
    }

    /// A node about to succeed whose result a person must accept first: it is held, and
    /// `true` returned.
    pub(super) fn holds_for_acceptance(&mut self, index: usize, result: &Option<JsonText>) -> bool {
        let asks = self.nodes[index].spec.approval.as_ref().is_some_and(|a| a.after);
        if !asks || self.people.accepted.contains(&index) || self.nodes[index].cancel_reason.is_some() {
            return false;
        }
        self.nodes[index].result.clone_from(result);
        let shown: Value = result.as_deref().and_then(|r| serde_json::from_str(r.get()).ok()).unwrap_or(Value::Null);
        let context = json!({"result": shown, "attempts": self.nodes[index].attempts});
        self.ask_approval(index, Kind::After, context);
        true
    }

    pub(super) fn ask_approval(&mut self, index: usize, kind: Kind, context: Value) {
        let mut spec = self.nodes[index].spec.approval.clone().unwrap_or_default();
        if kind == Kind::Escalation {
            // Deciding how to recover is not approving one's own work: anyone at the level may.
            (spec.allow_self, spec.input_schema, spec.required) = (true, None, Some(1));
            spec.prompt = Some(super::escalation::prompt(&self.nodes[index].name, &context));
        }
        let now = now_ms();
        let requested_by = self.settings.submitted_by.clone();
        let approval = Approval {
            id: Uuid::now_v7(),
            job_id: self.job_id,
            node_id: self.nodes[index].id,
            kind,
            created_ms: now,
            node_name: self.nodes[index].name.to_string(),
            prompt: spec.prompt.clone(),
            input_schema: spec.input_schema.clone(),
            request: Request::new(self.levels(index, &spec), requested_by, spec.allow_self, now),
            input: None,
            context,
            sources: Vec::new(),
        };
        // The request is stored before the node that waits for it.
        self.ctx.journal.approval(approval.row(now));
        let node = &mut self.nodes[index];
        (node.status, node.phase, node.slot) = (NodeStatus::AwaitingApproval, Phase::AwaitApproval, None);
        self.ctx.journal.node(self.nodes[index].update());
        self.emit_requested(index, &approval, EventKind::ApprovalRequested);
        self.ctx.approvals.requested.fetch_add(1, Ordering::Relaxed);
        self.ctx.approvals.waiting.fetch_add(1, Ordering::Relaxed);
        self.wait_for(index, approval);
    }

    /// The levels a request climbs: the node's own approvers, each ancestor's that names
    /// any, then the job's owners. A node that names none sets the first level's timeout.
    fn levels(&self, index: usize, spec: &ApprovalSpec) -> Vec<Level> {
        let mut levels = Vec::new();
        let mut at = Some(index);
        while let Some(i) = at {
            let node = &self.nodes[i];
            if let Some(own) = node.spec.approval.as_ref().filter(|a| !a.approvers.is_empty()) {
                levels.push(level(&node.name, own.approvers.clone(), own));
            }
            at = node.parent;
        }
        let owners = match &self.settings.owners {
            owners if owners.is_empty() => vec![DEFAULT_OWNER.to_string()],
            owners => owners.clone(),
        };
        levels.push(Level {
            owner: "job owners".into(),
            approvers: owners,
            required: 1,
            timeout_ms: None,
            on_timeout: OnTimeout::Reject,
        });
        if spec.approvers.is_empty() && spec.timeout_s.is_some() {
            levels[0].timeout_ms = spec.timeout_s.map(|s| s as i64 * 1000);
            levels[0].on_timeout = spec.on_timeout.unwrap_or_default();
        }
        levels
    }

    /// The node waits for `approval`, whose current level's deadline is armed.
    fn wait_for(&mut self, index: usize, approval: Approval) {
        self.nodes[index].phase = Phase::AwaitApproval;
        if let Some(deadline) = approval.request.deadline_ms() {
            let wait = Duration::from_millis(u64::try_from(deadline - now_ms()).unwrap_or(0));
            let (outbox, stop, id) = (self.outbox.clone(), self.stop_all.clone(), approval.id);
            tokio::spawn(async move {
                tokio::select! {
                    () = tokio::time::sleep(wait) => { let _ = outbox.send(JobMsg::ApprovalDue { index, id }); }
                    () = stop.cancelled() => {}
                }
            });
        }
        self.people.waiting.insert(index, approval);
    }

    /// A person's decision on request `id`: stored, and the node moves when it settles.
    pub(super) fn on_ruling(&mut self, id: Uuid, ruling: Ruling) -> Result<Approval, NotDecided> {
        let index = self.people.waiting.iter().find(|(_, a)| a.id == id).map(|(&i, _)| i);
        let Some(index) = index else { return Err(NotDecided::NotWaiting) };
        let approval = self.people.waiting.get_mut(&index).ok_or(NotDecided::NotWaiting)?;
        let now = now_ms();
        let state = approval.rule(ruling, now).map_err(NotDecided::Refused)?;
        let decided = approval.clone();
        self.ctx.journal.approval(decided.row(now));
        self.emit_decided(index, &decided);
        if state != State::Pending {
            let approval = self.people.waiting.remove(&index).ok_or(NotDecided::NotWaiting)?;
            self.settle(index, approval);
        }
        Ok(decided)
    }

    /// A level's time ran out: its default applies, or the request climbs a level.
    pub(super) fn on_approval_due(&mut self, index: usize, id: Uuid) {
        if self.people.waiting.get(&index).is_none_or(|a| a.id != id) {
            return;
        }
        let Some(approval) = self.people.waiting.remove(&index) else { return };
        self.tick_approval(index, approval);
    }

    fn tick_approval(&mut self, index: usize, mut approval: Approval) {
        let level = approval.request.level;
        let state = approval.request.tick(now_ms());
        if state == State::Pending && approval.request.level == level {
            // Not due yet (woken early, or resumed in time): wait for the rest.
            return self.wait_for(index, approval);
        }
        // A timeout's default came from no address.
        approval.sources.resize(approval.request.decisions.len(), None);
        self.ctx.journal.approval(approval.row(now_ms()));
        if state == State::Pending {
            self.ctx.approvals.escalated.fetch_add(1, Ordering::Relaxed);
            self.emit_requested(index, &approval, EventKind::ApprovalEscalated);
            return self.wait_for(index, approval);
        }
        self.emit_decided(index, &approval);
        self.settle(index, approval);
    }

    /// A decided request moves its node: approved, it starts or succeeds; rejected, it fails.
    fn settle(&mut self, index: usize, approval: Approval) {
        let meters = &self.ctx.approvals;
        meters.waiting.fetch_sub(1, Ordering::Relaxed);
        let decided = if approval.request.state == State::Approved { &meters.approved } else { &meters.rejected };
        decided.fetch_add(1, Ordering::Relaxed);
        match (approval.kind, approval.request.state) {
            (Kind::Escalation, _) => self.settle_escalation(index, &approval),
            (Kind::Plan, State::Approved) => {
                self.people.accepted.insert(index);
                let node = &mut self.nodes[index];
                (node.status, node.phase) = (NodeStatus::Running, Phase::Children);
                self.ctx.journal.node(self.nodes[index].update());
                self.resume_children(index);
            }
            (Kind::Plan, _) => {
                // Nothing of the plan ran: its children end unstarted, then the node fails.
                for child in self.nodes[index].children.clone() {
                    self.cancel_subtree(child, super::REASON_CANCELLED);
                }
                let comment = approval.request.decisions.last().and_then(|d| d.comment.clone());
                let comment = comment.map(|c| format!(": {c}")).unwrap_or_default();
                let error = format!("the plan was rejected by {}{comment}", approval.last_decider());
                let result = self.nodes[index].result.clone();
                self.end_node(index, NodeStatus::Failed, result, Some(error));
            }
            (Kind::Before, State::Approved) => {
                self.people.cleared.insert(index, approval.input);
                self.nodes[index].status = NodeStatus::Pending;
                self.ctx.journal.node(self.nodes[index].update());
                self.queue_for_slot(index);
            }
            (Kind::After, State::Approved) => {
                self.people.accepted.insert(index);
                let result = self.nodes[index].result.take();
                self.end_node(index, NodeStatus::Succeeded, result, None);
            }
            (kind, _) => {
                let comment = approval.request.decisions.last().and_then(|d| d.comment.clone());
                let comment = comment.map(|c| format!(": {c}")).unwrap_or_default();
                let error =
                    format!("the {} approval was rejected by {}{comment}", kind.as_str(), approval.last_decider());
                let result = if kind == Kind::After { self.nodes[index].result.take() } else { None };
                self.end_node(index, NodeStatus::Failed, result, Some(error));
            }
        }
    }

    /// A node that ends while its request waits (cancelled): the request is withdrawn.
    pub(super) fn withdraw_approval(&mut self, index: usize) {
        let Some(mut approval) = self.people.waiting.remove(&index) else { return };
        approval.withdraw();
        self.ctx.approvals.waiting.fetch_sub(1, Ordering::Relaxed);
        self.ctx.approvals.withdrawn.fetch_add(1, Ordering::Relaxed);
        self.ctx.journal.approval(approval.row(now_ms()));
        self.emit_decided(index, &approval);
    }

    /// What `approval.before` gave a node to start with: the approver's input.
    pub(super) fn approval_input(&self, index: usize) -> Option<&Value> {
        self.people.cleared.get(&index).and_then(Option::as_ref)
    }

    fn emit_requested(&self, index: usize, approval: &Approval, kind: EventKind) {
        let node = &self.nodes[index];
        let request = &approval.request;
        let level = &request.levels[request.level];
        let data = json!({"approval_id": approval.id, "node_id": node.id, "name": &*node.name,
            "kind": approval.kind.as_str(), "prompt": approval.prompt, "level": request.level + 1,
            "owner": level.owner, "approvers": level.approvers, "required": level.required,
            "deadline_ms": request.deadline_ms()});
        self.emit(kind, node.depth, &data);
    }

    fn emit_decided(&self, index: usize, approval: &Approval) {
        let node = &self.nodes[index];
        let decision = approval.request.decisions.last();
        let data = json!({"approval_id": approval.id, "node_id": node.id, "name": &*node.name,
            "kind": approval.kind.as_str(), "state": approval.request.state.as_str(),
            "decision": decision.map(|d| d.verdict), "by": decision.and_then(|d| d.by.clone()),
            "level": decision.map(|d| d.level + 1), "comment": decision.and_then(|d| d.comment.clone()),
            "source": approval.sources.last().cloned().flatten()});
        self.emit(EventKind::ApprovalDecided, node.depth, &data);
    }
}

/// One node's level of approvers.
fn level(owner: &str, approvers: Vec<String>, spec: &ApprovalSpec) -> Level {
    Level {
        owner: owner.to_string(),
        approvers,
        required: spec.required(),
        timeout_ms: spec.timeout_s.map(|s| s as i64 * 1000),
        on_timeout: spec.on_timeout.unwrap_or_default(),
    }
}

impl JobRun {
    /// The requests a previous server stored: those still waiting, and what decided ones
    /// left behind. Returns the last request of each node, for [`JobRun::resume_approval`].
    pub(super) fn load_approvals(&mut self, rows: &[crate::store::ApprovalRow]) -> HashMap<usize, Approval> {
        let by_id: HashMap<Uuid, usize> = self.nodes.iter().enumerate().map(|(i, n)| (n.id, i)).collect();
        let mut last = HashMap::new();
        for row in rows {
            let (Ok(approval), Some(&index)) = (Approval::from_row(row), by_id.get(&row.node_id)) else { continue };
            match (approval.kind, approval.request.state) {
                (Kind::Before, State::Approved) => drop(self.people.cleared.insert(index, approval.input.clone())),
                (Kind::After | Kind::Plan, State::Approved) => drop(self.people.accepted.insert(index)),
                _ => {}
            }
            last.insert(index, approval);
        }
        last
    }

    /// A node stored as awaiting approval: it waits again, or — when its request was decided
    /// and the node's change not yet stored — the decision is applied now.
    pub(super) fn resume_approval(&mut self, index: usize, last: Option<Approval>) {
        match last {
            // A deadline that passed while no server ran applies at once.
            Some(approval) if approval.request.state == State::Pending => {
                self.ctx.approvals.waiting.fetch_add(1, Ordering::Relaxed);
                self.nodes[index].phase = Phase::AwaitApproval;
                self.tick_approval(index, approval);
            }
            Some(approval) if approval.request.state != State::Cancelled => {
                // Counted as waiting until `settle` counts its decision.
                self.ctx.approvals.waiting.fetch_add(1, Ordering::Relaxed);
                self.settle(index, approval);
            }
            _ => {
                let node = &self.nodes[index];
                let after = node.spec.approval.as_ref().is_some_and(|a| a.after) && node.result.is_some();
                let kind = match (&node.error, after) {
                    (Some(_), _) => Kind::Escalation,
                    (None, true) => Kind::After,
                    (None, false) => Kind::Before,
                };
                let stored: Value =
                    node.result.as_deref().and_then(|r| serde_json::from_str(r.get()).ok()).unwrap_or_default();
                let class = stored.pointer("/recovery/class").cloned();
                let context = json!({"error": node.error, "class": class, "attempts": node.attempts});
                self.ask_approval(index, kind, context);
            }
        }
    }
}
