//! The engine's side of the mailboxes (issue 17; `docs/MAIL.md`): what a send, a receive, an
//! acknowledgement and the passing of time do — decided by `mail::PostOffice` — stored through
//! the journal with their events before anyone is answered, and dead letters escalated to the
//! recipient's parent as a notice in its own mailbox.

use std::time::Duration;

use serde_json::{json, Value};
use uuid::Uuid;

use super::{Engine, EngineCtx, EngineError};
use crate::domain::JobStatus;
use crate::events::{now_ms, EventDraft, EventKind};
use crate::mail::{Refusal, Rules, PENDING};
use crate::store::MessageRow;

/// How often messages whose time or deliveries ran out are looked for.
const SWEEP_EVERY: Duration = Duration::from_millis(500);
/// How often a waiting receive looks again for a message that became due by itself.
const RECHECK: Duration = Duration::from_millis(200);
/// The sender of the notices cadre writes.
pub const CADRE: &str = "cadre";

/// A message to send.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub to: Uuid,
    pub from_node: Option<Uuid>,
    pub sender: String,
    pub thread_id: Option<String>,
    pub priority: u8,
    pub body: Value,
    pub ttl_s: Option<u64>,
}

impl EngineCtx {
    pub(crate) fn mail_rules(&self) -> Rules {
        let visibility_ms =
            i64::try_from(self.mail_config.visibility_timeout_s.saturating_mul(1000)).unwrap_or(i64::MAX);
        Rules { visibility_ms, max_deliveries: i64::from(self.mail_config.max_deliveries) }
    }

    fn record(&self, row: &MessageRow, kind: EventKind, data: Value) {
        let meters = &self.mail.meters;
        let counter = match kind {
            EventKind::MessageSent => Some(&meters.sent),
            EventKind::MessageDelivered => Some(&meters.delivered),
            EventKind::MessageAcknowledged => Some(&meters.acknowledged),
            EventKind::MessageDeadLettered => Some(&meters.dead_lettered),
            _ => None,
        };
        if let Some(counter) = counter {
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        self.journal.message(row.clone());
        // A message to an agent from outside any job is the server's news, not a job's.
        let event = if row.job_id.is_nil() {
            EventDraft::server(kind, None, &data)
        } else {
            EventDraft::job(kind, row.job_id, None, &data)
        };
        self.journal.emit(event);
    }

    /// Stores dead messages with their events, and tells each recipient's parent.
    pub(crate) async fn dead_letters(&self, dead: Vec<MessageRow>) {
        for row in dead {
            let data = json!({"message_id": row.id, "to": row.to_node, "sender": &row.sender,
                "thread_id": &row.thread_id, "reason": &row.dead_reason, "deliveries": row.deliveries});
            self.record(&row, EventKind::MessageDeadLettered, data);
            // A node's parent hears of it; for an agent's mailbox, its manager.
            let node = self.store.node(row.to_node).await.ok().flatten();
            let parent = node.map_or_else(|| self.agent_manager_box(row.to_node), |n| n.parent_id);
            if let Some(parent) = parent {
                let body: Value = serde_json::from_str(&row.body).unwrap_or(Value::Null);
                let notice = json!({"dead_letter": {"message_id": row.id, "to": row.to_node, "sender": &row.sender,
                    "reason": &row.dead_reason, "deliveries": row.deliveries, "body": body}});
                let row = new_row(
                    row.job_id,
                    &Outgoing {
                        to: parent,
                        from_node: None,
                        sender: CADRE.into(),
                        thread_id: row.thread_id.clone(),
                        priority: 9,
                        body: notice,
                        ttl_s: None,
                    },
                );
                self.record(&row, EventKind::MessageSent, sent_data(&row));
                self.keep(row);
            }
        }
        self.mail_arrived.notify_waiters();
    }
}

fn new_row(job_id: Uuid, out: &Outgoing) -> MessageRow {
    let now = now_ms();
    MessageRow {
        id: Uuid::now_v7(),
        job_id,
        to_node: out.to,
        from_node: out.from_node,
        sender: out.sender.clone(),
        thread_id: out.thread_id.clone(),
        priority: i64::from(out.priority),
        body: out.body.to_string(),
        state: PENDING.into(),
        deliveries: 0,
        visible_ms: now,
        expires_ms: out.ttl_s.map(|s| now + i64::try_from(s.saturating_mul(1000)).unwrap_or(i64::MAX / 2)),
        created_ms: now,
        updated_ms: now,
        dead_reason: None,
    }
}

fn sent_data(row: &MessageRow) -> Value {
    json!({"message_id": row.id, "to": row.to_node, "from": row.from_node, "sender": &row.sender,
        "thread_id": &row.thread_id, "priority": row.priority})
}

fn refused(refusal: Refusal, id: Uuid) -> EngineError {
    match refusal {
        Refusal::Unknown => EngineError::NotFound(format!("open message {id} in this mailbox")),
        Refusal::NotDelivered => EngineError::Conflict(format!("message {id} has not been delivered")),
    }
}

impl EngineCtx {
    /// Sends a message to a node of a running job; returns once it is stored.
    pub(crate) async fn post_message(&self, job_id: Uuid, out: Outgoing) -> Result<MessageRow, EngineError> {
        let job = self.store.job(job_id).await?.ok_or_else(|| EngineError::NotFound(format!("job {job_id}")))?;
        if JobStatus::parse(&job.status).is_some_and(JobStatus::is_terminal) {
            return Err(EngineError::Conflict(format!("job {job_id} has ended: its mailboxes are closed")));
        }
        let node = self.store.node(out.to).await?.filter(|n| n.job_id == job_id);
        node.ok_or_else(|| EngineError::NotFound(format!("node {} in job {job_id}", out.to)))?;
        self.post_any(job_id, out).await
    }

    /// Stores a message to any mailbox (a node's or an agent's) and wakes its receivers.
    pub(crate) async fn post_any(&self, job_id: Uuid, out: Outgoing) -> Result<MessageRow, EngineError> {
        let row = new_row(job_id, &out);
        self.record(&row, EventKind::MessageSent, sent_data(&row));
        self.journal.flush().await?;
        self.keep(row.clone());
        self.mail_arrived.notify_waiters();
        Ok(row)
    }

    /// Delivers up to `max` of `node`'s due messages, waiting up to `wait` for one to come.
    pub(crate) async fn deliver(&self, node: Uuid, wait: Duration, max: usize) -> Vec<MessageRow> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let arrived = self.mail_arrived.notified();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            let (delivered, dead) = self.mail.take(node, max, now_ms(), self.mail_rules());
            if !dead.is_empty() {
                self.dead_letters(dead).await;
            }
            for row in &delivered {
                let data = json!({"message_id": row.id, "to": row.to_node, "deliveries": row.deliveries});
                self.record(row, EventKind::MessageDelivered, data);
            }
            let now = tokio::time::Instant::now();
            if !delivered.is_empty() || now >= deadline {
                return delivered;
            }
            let _ = tokio::time::timeout((deadline - now).min(RECHECK), arrived).await;
        }
    }

    /// Acknowledges a delivered message: it is never delivered again. Returns once stored.
    pub(crate) async fn acknowledge(&self, node: Uuid, id: Uuid) -> Result<MessageRow, EngineError> {
        let row = self.mail.ack(node, id, now_ms()).map_err(|r| refused(r, id))?;
        let data = json!({"message_id": id, "to": node, "deliveries": row.deliveries});
        self.record(&row, EventKind::MessageAcknowledged, data);
        self.journal.flush().await?;
        Ok(row)
    }
}

impl Engine {
    /// Sends a message to a node of a running job; answered once it is stored.
    pub async fn send_message(&self, job_id: Uuid, out: Outgoing) -> Result<MessageRow, EngineError> {
        self.inner.ensure_store_reachable()?;
        self.inner.ctx.post_message(job_id, out).await
    }

    /// Delivers up to `max` of `node`'s due messages, waiting up to `wait` for one to come.
    pub async fn receive_messages(
        &self,
        node: Uuid,
        wait: Duration,
        max: usize,
    ) -> Result<Vec<MessageRow>, EngineError> {
        Ok(self.inner.ctx.deliver(node, wait, max).await)
    }

    /// Acknowledges a delivered message: it is never delivered again. Answered once stored.
    pub async fn ack_message(&self, node: Uuid, id: Uuid) -> Result<MessageRow, EngineError> {
        self.inner.ensure_store_reachable()?;
        self.inner.ctx.acknowledge(node, id).await
    }

    /// Gives a delivered message back, to be delivered again at once.
    pub async fn nack_message(&self, node: Uuid, id: Uuid) -> Result<MessageRow, EngineError> {
        let ctx = &self.inner.ctx;
        let row = ctx.mail.nack(node, id, now_ms()).map_err(|r| refused(r, id))?;
        ctx.journal.message(row.clone());
        ctx.journal.flush().await?;
        ctx.mail_arrived.notify_waiters();
        Ok(row)
    }

    /// The recipient of an open message of job `job_id`.
    pub fn message_recipient(&self, id: Uuid) -> Option<Uuid> {
        self.inner.ctx.mail.recipient(id)
    }

    /// Every open message, and the mail counters.
    pub fn post_office(&self) -> &crate::mail::PostOffice {
        &self.inner.ctx.mail
    }

    /// The most a receive may wait.
    pub fn max_mail_wait(&self) -> Duration {
        Duration::from_secs(self.inner.ctx.mail_config.max_wait_s)
    }

    /// The largest body a message may have, in bytes of JSON.
    pub fn max_mail_body(&self) -> usize {
        self.inner.ctx.mail_config.max_body_bytes
    }
}

/// At start: the stored open messages back in their mailboxes, and the sweeper that lets
/// messages die when their time or deliveries run out.
/// A replica of a cluster owns no job at start: it gets a job's mail when it adopts the job,
/// and the agents' only if it comes to hold them.
pub(super) async fn start(
    ctx: &std::sync::Arc<EngineCtx>,
    tracker: &tokio_util::task::TaskTracker,
    clustered: bool,
) -> Result<(), EngineError> {
    if !clustered {
        for row in ctx.store.open_messages().await? {
            ctx.mail.post(row);
        }
    }
    let ctx = ctx.clone();
    tracker.spawn(async move {
        let mut every = tokio::time::interval(SWEEP_EVERY);
        loop {
            every.tick().await;
            if ctx.journal.is_stalled() {
                continue;
            }
            let dead = ctx.mail.sweep(now_ms(), ctx.mail_rules());
            if !dead.is_empty() {
                ctx.dead_letters(dead).await;
            }
        }
    });
    Ok(())
}
