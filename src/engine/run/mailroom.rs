//! An agent's door to the mailboxes (`engine::agent::Post`): sends resolved by name within
//! the node's reach (its subtree, its siblings' subtrees, its ancestors — the same rule a
//! worker token is held to) and reads of its own mailbox, acknowledged as they are handed over.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use uuid::Uuid;

use crate::engine::agent::Post;
use crate::engine::mail::Outgoing;
use crate::engine::EngineCtx;
use crate::store::{MessageRow, NodeRow};

/// Messages an agent's `read_messages` takes at once.
const READ_AT_ONCE: usize = 20;

pub(super) struct DriverPost {
    pub ctx: Arc<EngineCtx>,
    pub job_id: Uuid,
    pub node_id: Uuid,
    /// The registered agent running the node, whose mailbox it reads too.
    pub agent: Option<String>,
}

impl DriverPost {
    /// Sends to a registered agent that is not retired.
    async fn to_agent(&self, name: &str, mut out: Outgoing) -> Result<MessageRow, String> {
        let member = self.ctx.workforce.member(name).ok_or_else(|| format!("no agent named '{name}' is registered"))?;
        if member.spec.status == crate::workforce::agent::AgentStatus::Retired {
            return Err(format!("agent '{name}' is retired"));
        }
        out.to = crate::mail::agent_mailbox(name);
        self.ctx.post_any(self.job_id, out).await.map_err(|e| e.to_string())
    }

    /// Due messages from the node's mailbox, then from its agent's; the wait is spent on the
    /// last mailbox asked, and only when the others had nothing.
    async fn take(&self, wait: Duration) -> Vec<(Uuid, MessageRow)> {
        let mailboxes: Vec<Uuid> =
            std::iter::once(self.node_id).chain(self.agent.as_deref().map(crate::mail::agent_mailbox)).collect();
        let mut rows = Vec::new();
        for (at, &mailbox) in mailboxes.iter().enumerate() {
            let last = at + 1 == mailboxes.len();
            let wait = if last && rows.is_empty() { wait } else { Duration::ZERO };
            let taken = self.ctx.deliver(mailbox, wait, READ_AT_ONCE - rows.len()).await;
            rows.extend(taken.into_iter().map(|row| (mailbox, row)));
            if rows.len() >= READ_AT_ONCE {
                break;
            }
        }
        rows
    }

    /// The node `to` names (or whose id it is) among those this node reaches.
    async fn recipient(&self, to: &str) -> Result<NodeRow, String> {
        // The job's newest nodes (this one's siblings, just spawned children) may still be on
        // their way to the store; an agent's sends are few, so one flush is cheap.
        self.ctx.journal.flush().await.map_err(|e| e.to_string())?;
        let nodes = self.ctx.store.job_nodes(self.job_id).await.map_err(|e| e.to_string())?;
        let parents: HashMap<Uuid, Option<Uuid>> = nodes.iter().map(|n| (n.id, n.parent_id)).collect();
        let by_id = Uuid::parse_str(to).ok();
        let mut found = nodes.into_iter().filter(|n| by_id.map_or(n.name == to, |id| n.id == id));
        let (first, second) = (found.next(), found.next());
        let reached = |n: &NodeRow| crate::mail::reaches(&parents, self.node_id, n.id);
        match (first, second) {
            (Some(a), Some(_)) if reached(&a) => Err(format!("more than one node is named '{to}': give its id")),
            (Some(node), None) if reached(&node) => Ok(node),
            (Some(_), _) => {
                Err(format!("'{to}' is outside your reach (your subtree, your siblings' subtrees, your ancestors)"))
            }
            (None, _) => Err(format!("no node named '{to}' in this job")),
        }
    }
}

#[async_trait::async_trait]
impl Post for DriverPost {
    async fn send(&self, to: &str, body: Value, priority: u8, thread_id: Option<String>) -> Result<Value, String> {
        let mut out = Outgoing {
            to: Uuid::nil(),
            from_node: Some(self.node_id),
            sender: format!("node:{}", self.node_id),
            thread_id,
            priority,
            body,
            ttl_s: None,
        };
        if let Some(agent) = to.strip_prefix("agent:") {
            let row = self.to_agent(agent, out).await?;
            return Ok(json!({"sent": row.id, "to": to}));
        }
        let target = self.recipient(to).await?;
        out.to = target.id;
        let row = self.ctx.post_message(self.job_id, out).await.map_err(|e| e.to_string())?;
        Ok(json!({"sent": row.id, "to": target.name}))
    }

    async fn read(&self, wait_s: u64) -> Result<Value, String> {
        let rows = self.take(Duration::from_secs(wait_s)).await;
        let mut messages = Vec::with_capacity(rows.len());
        for (mailbox, row) in rows {
            self.ctx.acknowledge(mailbox, row.id).await.map_err(|e| e.to_string())?;
            let body: Value = serde_json::from_str(&row.body).unwrap_or(Value::Null);
            messages
                .push(json!({"from": row.sender, "thread_id": row.thread_id, "priority": row.priority, "body": body}));
        }
        Ok(json!({"messages": messages}))
    }
}
