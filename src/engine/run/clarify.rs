//! A decomposing root that must ask the requester something first (seed 002's `clarify`):
//! the question is stored in the node's result, the node gives its slot back, the job shows
//! `paused`, and it waits — for `POST …/answer`, which stores the answer and lets the
//! decomposition go on in the same attempt, or for the job's `clarify_timeout_s`, which
//! fails it. Both survive a restart: the question, its time and the answer are stored.

use std::time::Duration;

use serde_json::{json, Value};

use super::{JobMsg, JobRun};
use crate::domain::{json_text, JobStatus, NodeStatus};
use crate::engine::decompose::intent::Clarification;
use crate::engine::tree::Phase;
use crate::events::{now_ms, EventKind};

impl JobRun {
    /// The decomposition asks `question`: the node waits for the answer, slot-free.
    pub(super) fn ask(&mut self, index: usize, mut record: Value, question: String) {
        let mut clarifications = self.clarifications(index);
        clarifications.push(Clarification { question: question.clone(), answer: None, asked_ms: Some(now_ms()) });
        record["clarifications"] = json!(clarifications);
        let node = &mut self.nodes[index];
        node.result = Some(json_text(&record));
        node.slot = None;
        self.ctx.journal.node(self.nodes[index].update());
        let timeout_s = self.settings.clarify_timeout.as_secs();
        let node = &self.nodes[index];
        let data = json!({"node_id": node.id, "name": &*node.name, "question": question, "timeout_s": timeout_s});
        self.emit(EventKind::ClarificationRequested, node.depth, &data);
        self.await_answer(index);
    }

    /// Waits for the answer to the last question, until its time runs out.
    pub(super) fn await_answer(&mut self, index: usize) {
        let clarifications = self.clarifications(index);
        let asked = clarifications.len();
        let asked_ms = clarifications.last().and_then(|c| c.asked_ms).unwrap_or_else(now_ms);
        self.nodes[index].phase = Phase::AwaitAnswer;
        self.record_job_status(JobStatus::Paused);
        let waited = Duration::from_millis(u64::try_from(now_ms() - asked_ms).unwrap_or(0));
        let left = self.settings.clarify_timeout.saturating_sub(waited);
        let (outbox, stop) = (self.outbox.clone(), self.stop_all.clone());
        tokio::spawn(async move {
            tokio::select! {
                () = tokio::time::sleep(left) => { let _ = outbox.send(JobMsg::AnswerDue { index, asked }); }
                () = stop.cancelled() => {}
            }
        });
    }

    /// The requester's answer: stored with the question, then the decomposition goes on.
    pub(super) fn on_answer(&mut self, answer: String) -> Result<(), String> {
        let Some(index) = self.nodes.iter().position(|n| n.phase == Phase::AwaitAnswer) else {
            return Err("the job is not waiting for an answer".into());
        };
        let mut clarifications = self.clarifications(index);
        let question = clarifications.last().map(|c| c.question.clone()).unwrap_or_default();
        if let Some(last) = clarifications.last_mut() {
            last.answer = Some(answer);
        }
        let mut record = self.record(index);
        record["clarifications"] = json!(clarifications);
        self.nodes[index].result = Some(json_text(&record));
        self.ctx.journal.node(self.nodes[index].update());
        self.record_job_status(JobStatus::Running);
        let node = &self.nodes[index];
        let data = json!({"node_id": node.id, "name": &*node.name, "question": question});
        self.emit(EventKind::ClarificationAnswered, node.depth, &data);
        self.resuming.insert(index);
        self.queue_for_slot(index);
        Ok(())
    }

    /// The question's time ran out: the node fails (the job with it).
    pub(super) fn on_answer_due(&mut self, index: usize, asked: usize) {
        let node = &self.nodes[index];
        if node.phase != Phase::AwaitAnswer || self.clarifications(index).len() != asked {
            return;
        }
        self.record_job_status(JobStatus::Running);
        let limit = self.settings.clarify_timeout.as_secs();
        let error = format!("no answer to the question within {limit} s (config.clarify_timeout_s)");
        let result = node.result.clone();
        self.end_node(index, NodeStatus::Failed, result, Some(error));
    }

    /// What the node keeps so far (its result as JSON).
    pub(super) fn record(&self, index: usize) -> Value {
        let text = self.nodes[index].result.as_deref().map(serde_json::value::RawValue::get);
        text.and_then(|t| serde_json::from_str(t).ok()).unwrap_or_else(|| json!({}))
    }

    /// True when the node's last question has no answer yet.
    pub(super) fn awaits_answer(&self, index: usize) -> bool {
        self.clarifications(index).last().is_some_and(|c| c.answer.is_none())
    }
}
