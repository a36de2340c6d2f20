//! The events cadre reports (SPEC §6): typed kinds, the draft the engine emits, and the
//! stored, sequence-numbered form that the event log keeps and subscribers receive.
//!
//! A draft becomes an [`Event`] only inside the journal's commit, which assigns its `seq`;
//! so an event is never seen before the state it describes is stored.

use chrono::{TimeZone, Utc};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

/// The kinds of event (the `type` field on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    JobSubmitted,
    OrchestratorSpawned,
    WorkerStarted,
    NodeRetrying,
    NodeCompleted,
    JobCompleted,
    JobCancelled,
    ResourceWarning,
    Error,
    Heartbeat,
}

impl EventKind {
    /// The wire and stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::JobSubmitted => "job_submitted",
            Self::OrchestratorSpawned => "orchestrator_spawned",
            Self::WorkerStarted => "worker_started",
            Self::NodeRetrying => "node_retrying",
            Self::NodeCompleted => "node_completed",
            Self::JobCompleted => "job_completed",
            Self::JobCancelled => "job_cancelled",
            Self::ResourceWarning => "resource_warning",
            Self::Error => "error",
            Self::Heartbeat => "heartbeat",
        }
    }
}

/// An event before it is stored.
#[derive(Debug, Clone)]
pub struct EventDraft {
    pub kind: EventKind,
    pub job_id: Option<Uuid>,
    pub depth: Option<u8>,
    pub data: Value,
}

impl EventDraft {
    /// An event about a job (and a depth within it).
    pub fn job(kind: EventKind, job_id: Uuid, depth: Option<u8>, data: Value) -> Self {
        Self { kind, job_id: Some(job_id), depth, data }
    }
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
    pub data: Value,
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
        Self::stored(row, serde_json::from_str(&row.data).unwrap_or(Value::Null))
    }

    /// The event just stored as `row`, with the data it was stored from (which saves
    /// parsing back what was serialised a moment ago).
    pub fn stored(row: &crate::store::EventRow, data: Value) -> Self {
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
