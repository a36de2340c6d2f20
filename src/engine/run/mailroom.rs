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
use crate::store::NodeRow;

/// Messages an agent's `read_messages` takes at once.
const READ_AT_ONCE: usize = 20;

pub(super) struct DriverPost {
    pub ctx: Arc<EngineCtx>,
    pub job_id: Uuid,
    pub node_id: Uuid,
}

impl DriverPost {
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
        let target = self.recipient(to).await?;
        let out = Outgoing {
            to: target.id,
            from_node: Some(self.node_id),
            sender: format!("node:{}", self.node_id),
            thread_id,
            priority,
            body,
            ttl_s: None,
        };
        let row = self.ctx.post_message(self.job_id, out).await.map_err(|e| e.to_string())?;
        Ok(json!({"sent": row.id, "to": target.name}))
    }

    async fn read(&self, wait_s: u64) -> Result<Value, String> {
        let rows = self.ctx.deliver(self.node_id, Duration::from_secs(wait_s), READ_AT_ONCE).await;
        let mut messages = Vec::with_capacity(rows.len());
        for row in rows {
            self.ctx.acknowledge(self.node_id, row.id).await.map_err(|e| e.to_string())?;
            let body: Value = serde_json::from_str(&row.body).unwrap_or(Value::Null);
            messages
                .push(json!({"from": row.sender, "thread_id": row.thread_id, "priority": row.priority, "body": body}));
        }
        Ok(json!({"messages": messages}))
    }
}
