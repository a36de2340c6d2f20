//! A webhook's delivery task. It follows the commits' event batches from the broadcast — a
//! subscriber like any other, so the engine never waits for it — and keeps only the events
//! of the kinds it delivers, in a short queue delivered one at a time, in order. It reads
//! the broadcast even while a delivery is being retried (for minutes, when a receiver is
//! down): a receiver that stops reading keeps every batch in the broadcast's ring alive, and
//! on a large fan-out that is gigabytes. Whatever the broadcast cannot give it reads from the
//! store after the last event it considered: what was stored before it subscribed or while
//! the server was down (after its stored cursor), what it missed by lagging, a gap in the
//! seqs, and what came while its queue was full.
//!
//! The cursor (every event up to it delivered, given up, or not wanted) is stored after each
//! delivery, now and then while it only skips, and when it stops.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::broadcast::error::RecvError;
use tokio::sync::broadcast::Receiver;
use tokio_util::sync::CancellationToken;

use super::Hook;
use crate::events::{now_ms, Event, EventBatch, EventFeeds};
use crate::store::{EventRow, SharedStore};

/// Events read from the store at a time.
const PAGE: i64 = 500;
/// Wanted events queued from the broadcast; past this the rest are read from the store.
const MAX_QUEUED: usize = 1000;
/// How often a cursor moved only by skipped events is stored (a delivery stores it at once).
const CURSOR_WRITE_INTERVAL: Duration = Duration::from_secs(5);
/// The cursor before the stored one is read.
const UNKNOWN: i64 = -1;
/// How long to wait before asking an unavailable store again.
const STORE_RETRY: Duration = Duration::from_secs(1);

/// One webhook's place in the event log.
pub(super) struct Follower {
    hook: Arc<Hook>,
    store: SharedStore,
    events: EventFeeds,
    /// Every event up to this seq is handled.
    cursor: i64,
    /// Every event up to this seq is handled or queued.
    seen: i64,
    /// Wanted events after `cursor`, oldest first.
    queued: VecDeque<Arc<Event>>,
    /// The broadcast cannot be trusted past `seen`: read the store first.
    behind: bool,
    /// The cursor as last stored.
    stored: Option<i64>,
    stored_at: Instant,
}

/// Runs the task until `shutdown`; an unfinished delivery is dropped (and sent again by the
/// next start, since the cursor stays before it), then the cursor is stored.
pub(super) async fn run(mut follower: Follower, mut feed: Receiver<EventBatch>, shutdown: CancellationToken) {
    tokio::select! {
        () = shutdown.cancelled() => {}
        () = follower.follow(&mut feed) => {}
    }
    follower.store_cursor().await;
}

impl Follower {
    pub fn new(hook: Arc<Hook>, store: SharedStore, events: EventFeeds) -> Self {
        Self {
            hook,
            store,
            events,
            // None until `resume` has read the stored one: a shutdown before then stores none.
            cursor: UNKNOWN,
            seen: 0,
            queued: VecDeque::new(),
            behind: true,
            stored: None,
            stored_at: Instant::now(),
        }
    }

    async fn follow(&mut self, feed: &mut Receiver<EventBatch>) {
        self.resume().await;
        loop {
            if let Some(event) = self.queued.front().cloned() {
                self.deliver(event, feed).await;
            } else if self.behind {
                self.read_store().await;
            } else if self.absorb(feed.recv().await) {
                self.store_cursor_now_and_then().await;
            } else {
                return;
            }
        }
    }

    /// Starts after the stored cursor; a webhook seen for the first time starts after the
    /// newest event (no flood of history) and stores that at once, so a restart goes on
    /// from there. A cursor past the newest event means the log started again (every
    /// event pruned, then a restart numbers from 1): it starts at the newest.
    async fn resume(&mut self) {
        let newest = self.events.newest();
        self.stored = loop {
            match self.store.webhook_cursor(&self.hook.config.name).await {
                Ok(stored) => break stored,
                Err(err) => store_trouble(&err).await,
            }
        };
        self.cursor = self.stored.map_or(newest, |seq| seq.min(newest));
        self.seen = self.cursor;
        self.hook.status.stored(self.cursor);
        self.store_cursor().await;
    }

    /// Delivers the oldest queued event, reading the broadcast meanwhile.
    async fn deliver(&mut self, event: Arc<Event>, feed: &mut Receiver<EventBatch>) {
        let hook = self.hook.clone();
        let delivery = async move { super::send::deliver(&hook, &event).await };
        tokio::pin!(delivery);
        loop {
            tokio::select! {
                _ = &mut delivery => break,
                received = feed.recv() => {
                    if !self.absorb(received) {
                        delivery.as_mut().await;
                        break;
                    }
                }
            }
        }
        self.queued.pop_front();
        self.advance();
        self.store_cursor().await;
    }

    /// Takes what the broadcast brought; false once it is closed.
    fn absorb(&mut self, received: Result<EventBatch, RecvError>) -> bool {
        match received {
            Ok(batch) => self.take_batch(&batch),
            Err(RecvError::Lagged(_)) => self.behind = true,
            Err(RecvError::Closed) => return false,
        }
        true
    }

    /// Queues a commit's wanted events when they follow `seen`; a gap (events that reached
    /// nobody, a batch the journal dropped) or a full queue sends it to the store instead.
    fn take_batch(&mut self, batch: &EventBatch) {
        if self.behind {
            return;
        }
        let after = self.seen;
        for event in batch.iter().filter(|event| event.seq > after) {
            let wanted = self.hook.config.wants(&event.kind);
            if event.seq != self.seen + 1 || (wanted && self.queued.len() >= MAX_QUEUED) {
                self.behind = true;
                return;
            }
            self.seen = event.seq;
            if wanted {
                self.queued.push_back(event.clone());
            }
        }
        self.advance();
    }

    /// Queues the wanted events of the next page of the store after `seen`; an empty page
    /// means the store has nothing more, and the broadcast takes over.
    async fn read_store(&mut self) {
        let rows = self.page().await;
        if rows.is_empty() {
            self.behind = false;
            return;
        }
        for row in rows {
            self.seen = row.seq;
            if self.hook.config.wants(&row.kind) {
                self.queued.push_back(Arc::new(Event::from_row(&row)));
            }
        }
        self.advance();
        self.store_cursor_now_and_then().await;
    }

    async fn page(&self) -> Vec<EventRow> {
        loop {
            match self.store.events_after(self.seen, None, PAGE).await {
                Ok(rows) => return rows,
                Err(err) => store_trouble(&err).await,
            }
        }
    }

    /// Moves the cursor up to the oldest queued event (or all that was seen).
    fn advance(&mut self) {
        self.cursor = self.queued.front().map_or(self.seen, |event| event.seq - 1);
    }

    async fn store_cursor_now_and_then(&mut self) {
        if self.stored_at.elapsed() >= CURSOR_WRITE_INTERVAL {
            self.store_cursor().await;
        }
    }

    /// Stores the cursor if it moved; a failed write is tried again with the next one.
    async fn store_cursor(&mut self) {
        if self.cursor == UNKNOWN || self.stored == Some(self.cursor) {
            return;
        }
        match self.store.store_webhook_cursor(&self.hook.config.name, self.cursor, now_ms()).await {
            Ok(()) => {
                self.stored = Some(self.cursor);
                self.stored_at = Instant::now();
                self.hook.status.stored(self.cursor);
            }
            Err(err) => cursor_not_stored(&err, self.cursor),
        }
    }
}

/// Apart from the callers: tracing's macro counts as branches there.
async fn store_trouble(err: &crate::store::StoreError) {
    tracing::warn!(error = %err, "webhook cannot read the store; trying again");
    tokio::time::sleep(STORE_RETRY).await;
}

fn cursor_not_stored(err: &crate::store::StoreError, seq: i64) {
    tracing::warn!(error = %err, seq, "webhook cursor not stored; it is written with the next one");
}
