//! Mailboxes (issue 17; `docs/MAIL.md`): messages between the nodes of a job, delivered at
//! least once — by priority (9 first), first in first out within one — and redelivered when a
//! delivery is not acknowledged within its visibility timeout, until it is acknowledged, or
//! until its deliveries or its time to live run out and it goes to the job's dead letters.
//!
//! A room beside the engine that imports only the store's row type: the `PostOffice` holds
//! every open message (pending or delivered, not acknowledged or dead) by recipient and
//! decides what a receive, an acknowledgement or the passing of time does to them, returning
//! the changed rows; the engine (`engine::mail`) stores those through the journal, emits the
//! events and answers. It is a cache of the stored messages, rebuilt from them at start.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, MutexGuard};

use uuid::Uuid;

use crate::store::MessageRow;

pub const PENDING: &str = "pending";
pub const DELIVERED: &str = "delivered";
pub const ACKNOWLEDGED: &str = "acknowledged";
pub const DEAD: &str = "dead";

/// Where a message sits in its mailbox: most urgent first, then oldest.
type Place = (Reverse<i64>, i64, Uuid);

fn place(row: &MessageRow) -> Place {
    (Reverse(row.priority), row.created_ms, row.id)
}

/// How deliveries go.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// A delivered message not acknowledged within this is delivered again.
    pub visibility_ms: i64,
    /// Deliveries after which an unacknowledged message is dead.
    pub max_deliveries: i64,
}

/// The namespace agents' mailbox ids are made in (the bytes of "cadre-agent-mail").
const AGENT_MAILBOXES: Uuid = Uuid::from_u128(0x6361_6472_652d_6167_656e_742d_6d61_696c);

/// Agent `name`'s mailbox id: made from the name alone, so an agent's stored messages find
/// their mailbox again after a restart, with nothing stored beside them.
pub fn agent_mailbox(name: &str) -> Uuid {
    Uuid::new_v5(&AGENT_MAILBOXES, name.as_bytes())
}

/// Why a change to a message was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No open message with that id for that recipient.
    Unknown,
    /// It is open but was never delivered (nothing to acknowledge yet).
    NotDelivered,
}

/// Every open message, by recipient.
#[derive(Default)]
pub struct PostOffice {
    boxes: Mutex<HashMap<Uuid, BTreeMap<Place, MessageRow>>>,
    /// What happened to messages since the server started.
    pub meters: MailMeters,
}

/// Messages sent, delivered, acknowledged and dead-lettered since the server started (a
/// redelivery counts again), for `/metrics`.
#[derive(Debug, Default)]
pub struct MailMeters {
    pub sent: AtomicU64,
    pub delivered: AtomicU64,
    pub acknowledged: AtomicU64,
    pub dead_lettered: AtomicU64,
}

impl PostOffice {
    /// Open messages in every mailbox.
    pub fn open_total(&self) -> usize {
        self.boxes().values().map(BTreeMap::len).sum()
    }

    fn boxes(&self) -> MutexGuard<'_, HashMap<Uuid, BTreeMap<Place, MessageRow>>> {
        self.boxes.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A stored open message into its recipient's mailbox.
    pub fn post(&self, row: MessageRow) {
        self.boxes().entry(row.to_node).or_default().insert(place(&row), row);
    }

    /// The ids of the open messages in these mailboxes.
    pub fn known_in(&self, mailboxes: &[Uuid]) -> std::collections::HashSet<Uuid> {
        let boxes = self.boxes();
        mailboxes.iter().filter_map(|m| boxes.get(m)).flat_map(BTreeMap::values).map(|row| row.id).collect()
    }

    /// The recipient of open message `id`, if there is one.
    pub fn recipient(&self, id: Uuid) -> Option<Uuid> {
        self.boxes().values().flat_map(BTreeMap::values).find(|row| row.id == id).map(|row| row.to_node)
    }

    /// Open messages in `node`'s mailbox.
    pub fn open(&self, node: Uuid) -> usize {
        self.boxes().get(&node).map_or(0, BTreeMap::len)
    }

    /// Delivers up to `max` of `node`'s messages that are due, in order, and lets die those
    /// whose time or deliveries ran out; returns (delivered, dead), each row as it now stands.
    pub fn take(&self, node: Uuid, max: usize, now: i64, rules: Rules) -> (Vec<MessageRow>, Vec<MessageRow>) {
        let mut boxes = self.boxes();
        let Some(mailbox) = boxes.get_mut(&node) else { return (Vec::new(), Vec::new()) };
        let (mut delivered, mut dead) = (Vec::new(), Vec::new());
        let mut gone = Vec::new();
        for (at, row) in mailbox.iter_mut() {
            if let Some(reason) = dies(row, now, rules) {
                gone.push(*at);
                dead.push(kill(row, reason, now));
            } else if row.visible_ms <= now && delivered.len() < max {
                (row.state, row.deliveries, row.visible_ms, row.updated_ms) =
                    (DELIVERED.into(), row.deliveries + 1, now + rules.visibility_ms, now);
                delivered.push(row.clone());
            }
        }
        for at in gone {
            mailbox.remove(&at);
        }
        (delivered, dead)
    }

    /// Acknowledges `id` in `node`'s mailbox: it leaves the mailbox for good.
    pub fn ack(&self, node: Uuid, id: Uuid, now: i64) -> Result<MessageRow, Refusal> {
        let mut boxes = self.boxes();
        let mailbox = boxes.get_mut(&node).ok_or(Refusal::Unknown)?;
        let at = *mailbox.keys().find(|at| at.2 == id).ok_or(Refusal::Unknown)?;
        if mailbox[&at].state != DELIVERED {
            return Err(Refusal::NotDelivered);
        }
        let mut row = mailbox.remove(&at).ok_or(Refusal::Unknown)?;
        (row.state, row.updated_ms) = (ACKNOWLEDGED.into(), now);
        Ok(row)
    }

    /// Gives a delivered message back: it is due again at once.
    pub fn nack(&self, node: Uuid, id: Uuid, now: i64) -> Result<MessageRow, Refusal> {
        let mut boxes = self.boxes();
        let mailbox = boxes.get_mut(&node).ok_or(Refusal::Unknown)?;
        let row = mailbox.values_mut().find(|row| row.id == id).ok_or(Refusal::Unknown)?;
        if row.state != DELIVERED {
            return Err(Refusal::NotDelivered);
        }
        (row.state, row.visible_ms, row.updated_ms) = (PENDING.into(), now, now);
        Ok(row.clone())
    }

    /// Every message whose time or deliveries ran out, taken out dead (a mailbox nobody reads
    /// still lets its messages die).
    pub fn sweep(&self, now: i64, rules: Rules) -> Vec<MessageRow> {
        let mut dead = Vec::new();
        for mailbox in self.boxes().values_mut() {
            mailbox.retain(|_, row| match dies(row, now, rules) {
                Some(reason) => {
                    dead.push(kill(row, reason, now));
                    false
                }
                None => true,
            });
        }
        dead
    }

    /// Drops a job's open messages (the job ended; they stay stored as they were).
    pub fn close_job(&self, job_id: Uuid) {
        self.boxes().retain(|_, mailbox| {
            mailbox.retain(|_, row| row.job_id != job_id);
            !mailbox.is_empty()
        });
    }
}

/// Whether a worker at `from` may write to `to` (given each node's parent): its own subtree,
/// its siblings' subtrees (everything under its parent) and its ancestors — nowhere else.
pub fn reaches(parents: &HashMap<Uuid, Option<Uuid>>, from: Uuid, to: Uuid) -> bool {
    let top = parents.get(&from).copied().flatten().unwrap_or(from);
    below(parents, top, to) || below(parents, to, from)
}

/// Whether `node` is `ancestor` or lies below it.
fn below(parents: &HashMap<Uuid, Option<Uuid>>, ancestor: Uuid, node: Uuid) -> bool {
    let mut at = Some(node);
    // Bounded by the tree's size, so a corrupt parent loop cannot spin.
    for _ in 0..=parents.len() {
        match at {
            Some(id) if id == ancestor => return true,
            Some(id) => at = parents.get(&id).copied().flatten(),
            None => return false,
        }
    }
    false
}

/// Why an open message dies now, if it does: past its time to live, or delivered as often as
/// allowed and not acknowledged within the last visibility timeout.
fn dies(row: &MessageRow, now: i64, rules: Rules) -> Option<&'static str> {
    if row.expires_ms.is_some_and(|at| at <= now) {
        return Some("ttl");
    }
    (row.deliveries >= rules.max_deliveries && row.visible_ms <= now).then_some("max_deliveries")
}

fn kill(row: &MessageRow, reason: &str, now: i64) -> MessageRow {
    MessageRow { state: DEAD.into(), dead_reason: Some(reason.into()), updated_ms: now, ..row.clone() }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
