//! The events cadre reports (SPEC §6): typed kinds, the draft the engine emits, and the
//! stored, sequence-numbered form that the event log keeps and subscribers receive.
//!
//! A draft becomes an [`Event`] only inside the journal's commit, which assigns its `seq`;
//! so an event is never seen before the state it describes is stored.

use chrono::{TimeZone, Utc};
use serde::Serialize;
use serde_json::value::RawValue;
use uuid::Uuid;

/// Declares [`EventKind`] from one list, so its variants, their wire spelling and
/// [`EventKind::ALL`] cannot disagree.
macro_rules! event_kinds {
    ($($variant:ident => $name:literal),+ $(,)?) => {
        /// The kinds of event (the `type` field on the wire).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        pub enum EventKind {
            $(#[serde(rename = $name)] $variant),+
        }

        impl EventKind {
            /// Every kind, in declaration order: what a `types=` filter accepts, and what
            /// `docs/EVENTS.md` must describe (a test below checks it does).
            pub const ALL: &'static [EventKind] = &[$(EventKind::$variant),+];

            /// The wire and stored spelling.
            pub fn as_str(self) -> &'static str {
                match self { $(EventKind::$variant => $name),+ }
            }
        }
    };
}

event_kinds! {
    JobSubmitted => "job_submitted",
    OrchestratorSpawned => "orchestrator_spawned",
    WorkerStarted => "worker_started",
    NodeRetrying => "node_retrying",
    NodeCompleted => "node_completed",
    JobCompleted => "job_completed",
    JobCancelled => "job_cancelled",
    ResourceWarning => "resource_warning",
    LlmCall => "llm_call",
    Decomposition => "decomposition",
    ClarificationRequested => "clarification_requested",
    ClarificationAnswered => "clarification_answered",
    ApprovalRequested => "approval_requested",
    ApprovalEscalated => "approval_escalated",
    ApprovalDecided => "approval_decided",
    Alert => "alert",
    AlertResolved => "alert_resolved",
    BudgetWarning => "budget_warning",
    Delegation => "delegation",
    AgentChanged => "agent_changed",
    MessageSent => "message_sent",
    MessageDelivered => "message_delivered",
    MessageAcknowledged => "message_acknowledged",
    MessageDeadLettered => "message_dead_lettered",
    WorkspaceCreated => "workspace_created",
    WorkspaceMerged => "workspace_merged",
    WorkspaceMergeFailed => "workspace_merge_failed",
    ReplicaJoined => "replica_joined",
    ReplicaLeft => "replica_left",
    JobTakenOver => "job_taken_over",
    Error => "error",
    Heartbeat => "heartbeat",
}

/// An event before it is stored. Its data is JSON text from the start: it is stored as text,
/// and sent as the same text, so no map of it is ever built on the hot path.
#[derive(Debug, Clone)]
pub struct EventDraft {
    pub kind: EventKind,
    pub job_id: Option<Uuid>,
    pub depth: Option<u8>,
    pub data: String,
}

impl EventDraft {
    /// An event about a job (and a depth within it); `data` is anything serialisable — a
    /// `json!` value, or a typed struct of borrowed fields on the hot path.
    pub fn job(kind: EventKind, job_id: Uuid, depth: Option<u8>, data: &impl Serialize) -> Self {
        Self { kind, job_id: Some(job_id), depth, data: to_json(data) }
    }

    /// An event about no job in particular (a depth's resources).
    pub fn server(kind: EventKind, depth: Option<u8>, data: &impl Serialize) -> Self {
        Self { kind, job_id: None, depth, data: to_json(data) }
    }
}

fn to_json(data: &impl Serialize) -> String {
    // Serialising plain structs and maps of strings and numbers cannot fail.
    serde_json::to_string(data).unwrap_or_else(|_| "null".into())
}

/// A stored event, as subscribers receive it.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// Position in the server-wide event log.
    pub seq: i64,
    /// When it was stored (RFC 3339).
    pub ts: String,
    /// The kind.
    #[serde(rename = "type")]
    pub kind: String,
    pub job_id: Option<Uuid>,
    pub depth: Option<i64>,
    /// As stored: JSON text, sent as it is.
    pub data: Box<RawValue>,
    /// The frame's JSON, serialised once however many subscribers send it (and shared by
    /// reference count, not copied, per subscriber).
    #[serde(skip)]
    text: std::sync::OnceLock<bytes::Bytes>,
}

impl Event {
    /// The event as a JSON text frame (UTF-8).
    pub fn text(&self) -> bytes::Bytes {
        self.text.get_or_init(|| serde_json::to_vec(self).unwrap_or_default().into()).clone()
    }

    /// Rebuilds an event from its stored row.
    pub fn from_row(row: &crate::store::EventRow) -> Self {
        // Stored data is always JSON we wrote; a row damaged outside cadre reads as null.
        let data = RawValue::from_string(row.data.clone()).unwrap_or_else(|_| null_data());
        Self {
            seq: row.seq,
            ts: ms_to_rfc3339(row.ts_ms),
            kind: row.kind.clone(),
            job_id: row.job_id,
            depth: row.depth,
            data,
            text: std::sync::OnceLock::new(),
        }
    }
}

/// The events one journal commit stored, published together: a subscriber wakes once per
/// commit rather than once per event, which is what lets a thousand subscribers follow a
/// fan-out of ten thousand nodes.
pub type EventBatch = std::sync::Arc<[std::sync::Arc<Event>]>;

fn null_data() -> Box<RawValue> {
    RawValue::from_string("null".into()).unwrap_or_default()
}

/// Now, in Unix milliseconds (the store's time unit).
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// Unix milliseconds as RFC 3339 with millisecond precision.
pub fn ms_to_rfc3339(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// Commits' event batches a feed holds for its subscribers: how far behind the newest commit
/// a subscriber may fall before it is closed as lagging (its own send queue usually says so
/// first).
const FEED_CAPACITY: usize = 4_096;

/// Where stored events are published: one feed of every event, and one per depth holding
/// only that depth's events. A subscriber that follows a single depth (a dashboard's top
/// level, `depth=0`) listens to its depth's feed, so it is not woken, nor made to skip
/// thousands of events, for commits that hold nothing at its depth. Cheap to clone.
#[derive(Clone)]
pub struct EventFeeds {
    all: tokio::sync::broadcast::Sender<EventBatch>,
    by_depth: std::sync::Arc<[tokio::sync::broadcast::Sender<EventBatch>; crate::domain::DEPTHS]>,
    /// The seq of the newest stored event, published or not: where a subscriber that asks
    /// for no replay starts.
    newest: std::sync::Arc<std::sync::atomic::AtomicI64>,
    /// Set for a replica of a cluster: events are published by a tail of the stored log
    /// (`cluster::fanout`), which the journal wakes after each commit, rather than by the
    /// journal — the log's order is the cluster's, and other replicas' events are in it.
    tail: Option<std::sync::Arc<tokio::sync::Notify>>,
}

impl Default for EventFeeds {
    fn default() -> Self {
        let feed = || tokio::sync::broadcast::channel(FEED_CAPACITY).0;
        Self {
            all: feed(),
            by_depth: std::sync::Arc::new(std::array::from_fn(|_| feed())),
            newest: Default::default(),
            tail: None,
        }
    }
}

impl EventFeeds {
    /// Feeds published by a tail of the stored log, woken through the returned handle.
    pub fn tailed() -> Self {
        Self { tail: Some(std::sync::Arc::default()), ..Self::default() }
    }

    /// What wakes the tail after a commit, when the feeds are tailed.
    pub fn tail(&self) -> Option<&tokio::sync::Notify> {
        self.tail.as_deref()
    }

    /// Records that the events up to `seq` are stored (whether anyone listens or not).
    pub fn stored_up_to(&self, seq: i64) {
        self.newest.fetch_max(seq, std::sync::atomic::Ordering::Release);
    }

    /// The seq of the newest stored event (0 when there is none).
    pub fn newest(&self) -> i64 {
        self.newest.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Publishes one commit's events (in `seq` order) to every feed that has listeners.
    pub fn publish(&self, events: &[std::sync::Arc<Event>]) {
        // No listener is not an error: the events are in the log for replay.
        if self.all.receiver_count() > 0 {
            let _ = self.all.send(events.iter().cloned().collect());
        }
        for (depth, feed) in self.by_depth.iter().enumerate() {
            if feed.receiver_count() == 0 {
                continue;
            }
            let at_depth: EventBatch =
                events.iter().filter(|e| e.depth == i64::try_from(depth).ok()).cloned().collect();
            if !at_depth.is_empty() {
                let _ = feed.send(at_depth);
            }
        }
    }

    /// True when nobody listens (the journal then builds no events to publish).
    pub fn is_unheard(&self) -> bool {
        self.all.receiver_count() == 0 && self.by_depth.iter().all(|feed| feed.receiver_count() == 0)
    }

    /// A receiver of the feed that carries everything `depth` needs: that depth's own feed
    /// for a single depth, every event otherwise.
    pub fn subscribe(&self, depth: Option<u8>) -> tokio::sync::broadcast::Receiver<EventBatch> {
        match depth.and_then(|d| self.by_depth.get(usize::from(d))) {
            Some(feed) => feed.subscribe(),
            None => self.all.subscribe(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::EventKind;

    /// The client's guide to the stream, which must describe every kind the code has.
    const GUIDE: &str = include_str!("../docs/EVENTS.md");

    /// The names under `### ` headings of the guide's "Event types" section.
    fn documented_types() -> Vec<&'static str> {
        let section = GUIDE.split("\n## Event types").nth(1).expect("docs/EVENTS.md has an `## Event types` section");
        let section = section.split("\n## ").next().unwrap_or(section);
        section
            .lines()
            .filter_map(|line| line.strip_prefix("### `"))
            .filter_map(|rest| rest.split('`').next())
            .collect()
    }

    #[test]
    fn events_md_describes_every_event_type_and_no_other() {
        let documented = documented_types();
        for kind in EventKind::ALL {
            assert!(
                documented.contains(&kind.as_str()),
                "docs/EVENTS.md has no \"### `{}`\" heading under \"## Event types\"",
                kind.as_str()
            );
        }
        for name in documented {
            assert!(
                EventKind::ALL.iter().any(|k| k.as_str() == name),
                "docs/EVENTS.md describes `{name}`, which the code does not have"
            );
        }
    }

    #[test]
    fn wire_spelling_is_the_serialised_one() {
        for kind in EventKind::ALL {
            assert_eq!(serde_json::to_value(kind).ok(), Some(serde_json::Value::from(kind.as_str())));
        }
    }
}
