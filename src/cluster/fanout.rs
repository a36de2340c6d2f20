//! The fan-out of a replica's event stream: every replica's stored events, in the cluster's
//! one `seq` order, published to this replica's subscribers.
//!
//! A replica's journal does not publish its own commits (its numbers are the cluster's,
//! taken in the store); it wakes this tail instead, and other replicas' commits wake it
//! through `LISTEN cadre_events`. Either way the tail reads the log after the last `seq` it
//! published and publishes that, so a subscriber sees one contiguous order whichever replica
//! wrote what. A poll every [`POLL`] covers a notification lost with a dropped connection.

use std::sync::Arc;
use std::time::Duration;

use crate::events::{Event, EventFeeds};
use crate::store::cluster::EventSignals;
use crate::store::SharedStore;

/// Longest a stored event waits for the tail when no notification reached it.
const POLL: Duration = Duration::from_millis(500);
/// Events read from the log per query.
const PAGE: i64 = 5_000;

/// Publishes the log after `last` as it grows, for as long as the server runs.
pub async fn tail(store: SharedStore, events: EventFeeds, mut last: i64) {
    let Some(woken) = events.tail() else { return };
    let mut signals: Option<EventSignals> = None;
    loop {
        if signals.is_none() {
            signals = listen(&store).await;
        }
        // A commit while the tail was reading left a permit: this returns at once.
        tokio::select! {
            () = woken.notified() => {},
            lost = next_signal(&mut signals) => signals = signals.filter(|_| !lost),
            () = tokio::time::sleep(POLL) => {},
        }
        last = catch_up(&store, &events, last).await;
    }
}

/// A listener for other replicas' commits, or none while it cannot connect (the poll goes on).
async fn listen(store: &SharedStore) -> Option<EventSignals> {
    let signals = store.cluster()?.event_signals().await;
    signals.map_err(|err| tracing::warn!(error = %err, "not listening for other replicas' events; polling")).ok()
}

/// Waits for a notification; true when the listener failed.
async fn next_signal(signals: &mut Option<EventSignals>) -> bool {
    match signals {
        Some(listener) => listener.next().await.is_err(),
        None => std::future::pending().await,
    }
}

/// Publishes everything stored after `last`; the new last.
async fn catch_up(store: &SharedStore, events: &EventFeeds, mut last: i64) -> i64 {
    if let Some(newest) = unheard_up_to(store, events).await {
        return newest.max(last);
    }
    loop {
        let rows = store.events_after(last, None, PAGE).await;
        let Ok(rows) = rows.map_err(|err| tracing::warn!(error = %err, "the event log could not be read")) else {
            return last;
        };
        let Some(newest) = rows.last().map(|row| row.seq) else { return last };
        events.stored_up_to(newest);
        if !events.is_unheard() {
            let published: Vec<Arc<Event>> = rows.iter().map(|row| Arc::new(Event::from_row(row))).collect();
            events.publish(&published);
        }
        last = newest;
        if i64::try_from(rows.len()).unwrap_or(i64::MAX) < PAGE {
            return last;
        }
    }
}

/// With nobody listening, only the newest number is read and nothing is published: a
/// subscriber that comes later replays from the store. The number is read before the second
/// look, so every event up to it was stored before anyone could have subscribed unseen.
async fn unheard_up_to(store: &SharedStore, events: &EventFeeds) -> Option<i64> {
    if !events.is_unheard() {
        return None;
    }
    let newest = store.sequences().await.ok()?.event_seq;
    events.is_unheard().then(|| {
        events.stored_up_to(newest);
        newest
    })
}
