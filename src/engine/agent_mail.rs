//! Agents' mailboxes (issue 17): every registered agent has one beside every node's, so work
//! can be addressed to a standing member of the organisation rather than to one node of one
//! job. It is the same machinery — a message row whose recipient is the agent's mailbox id
//! ([`crate::mail::agent_mailbox`]), the same delivery, visibility timeout, redelivery and
//! dead letters — with two differences: a message sent outside any job carries the nil job
//! id (and its events are the server's, not a job's), and a dead letter's notice goes to the
//! agent's manager (`reports_to`) instead of a parent node.

use std::sync::atomic::Ordering;

use uuid::Uuid;

use super::mail::Outgoing;
use super::{Engine, EngineCtx, EngineError};
use crate::mail::agent_mailbox;
use crate::store::MessageRow;
use crate::workforce::agent::AgentStatus;

impl EngineCtx {
    /// The registered agent whose mailbox `mailbox` is.
    pub(crate) fn agent_of_mailbox(&self, mailbox: Uuid) -> Option<crate::workforce::matching::Member> {
        self.workforce.members().into_iter().find(|m| agent_mailbox(&m.spec.name) == mailbox)
    }

    /// A stored open message into its mailbox here — unless it is an agent's and another
    /// replica of the cluster holds the agents' mailboxes (it picks the message up there).
    pub(crate) fn keep(&self, row: MessageRow) {
        let held_here = self.holds_agent_mail.load(Ordering::Acquire) || self.agent_of_mailbox(row.to_node).is_none();
        if held_here {
            self.mail.post(row);
        }
    }

    /// Where a dead letter to an agent's mailbox is told of: its manager's mailbox.
    pub(crate) fn agent_manager_box(&self, mailbox: Uuid) -> Option<Uuid> {
        let member = self.agent_of_mailbox(mailbox)?;
        member.spec.reports_to.as_deref().map(agent_mailbox)
    }
}

impl Engine {
    /// Sends a message to agent `name` (registered and not retired), from job `job_id` (nil
    /// when it comes from outside any job); answered once stored.
    pub async fn send_to_agent(&self, name: &str, job_id: Uuid, mut out: Outgoing) -> Result<MessageRow, EngineError> {
        self.inner.ensure_store_reachable()?;
        let ctx = &self.inner.ctx;
        let member = ctx.workforce.member(name).ok_or_else(|| EngineError::NotFound(format!("agent {name}")))?;
        if member.spec.status == AgentStatus::Retired {
            return Err(EngineError::Conflict(format!("agent {name} is retired: its mailbox is closed")));
        }
        out.to = agent_mailbox(name);
        ctx.post_any(job_id, out).await
    }

    /// Whether node `node_id` of job `job_id` is run by agent `name` now (its token may read
    /// the agent's mailbox).
    pub async fn runs_for(&self, name: &str, job_id: Uuid, node_id: Uuid) -> Result<bool, EngineError> {
        let rows = self.store().job_delegations(job_id).await?;
        Ok(rows.iter().any(|d| d.node_id == node_id && d.state == "assigned" && d.agent.as_deref() == Some(name)))
    }

    /// On the replica that holds the agents' mailboxes for a cluster: brings in the open
    /// messages other replicas stored for them (everything open, the first time). What this
    /// replica acknowledged is stored first, so that it is not taken for open again. How many
    /// came in.
    pub async fn gather_agent_mail(&self) -> Result<usize, EngineError> {
        let ctx = &self.inner.ctx;
        let Some(cluster) = ctx.store.cluster() else { return Ok(0) };
        ctx.journal.flush().await?;
        let boxes: Vec<Uuid> = ctx.workforce.members().iter().map(|m| agent_mailbox(&m.spec.name)).collect();
        let stored = cluster.open_messages_to(&boxes).await?;
        let known = ctx.mail.known_in(&boxes);
        ctx.holds_agent_mail.store(true, Ordering::Release);
        let mut added = 0;
        for row in stored.into_iter().filter(|row| !known.contains(&row.id)) {
            ctx.mail.post(row);
            added += 1;
        }
        if added > 0 {
            ctx.mail_arrived.notify_waiters();
        }
        Ok(added)
    }

    /// Open messages in agent `name`'s mailbox (the dashboard's and the agent view's count).
    pub fn agent_mail_open(&self, name: &str) -> usize {
        self.inner.ctx.mail.open(agent_mailbox(name))
    }
}
