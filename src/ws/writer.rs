//! The writing half of a subscriber's socket: sends what the session queues, in order, and
//! the close frame at the end — after what is queued, or instead of it for a subscriber that
//! fell behind (it will be replayed). It records the last event handed to the socket, which
//! is what a 1013's `resume_from` reports.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::stream::SplitSink;
use futures_util::SinkExt;
use tokio::sync::{mpsc, oneshot};

use crate::state::AppState;

/// A frame for the writer.
pub(super) enum Outgoing {
    /// A stored event (its seq counts towards `resume_from` once handed to the socket).
    Event(i64, Utf8Bytes),
    /// An error or heartbeat frame.
    Text(String),
    Ping,
}

/// The close frame to send, and whether what is still queued goes first.
pub(super) struct Closing {
    pub(super) code: u16,
    pub(super) reason: String,
    /// False for a lagging subscriber: what is queued is dropped (it will be replayed).
    pub(super) drain: bool,
}

/// Sends queued frames until told to close; then sends the close frame.
pub(super) struct Writer {
    pub(super) app: AppState,
    pub(super) sink: SplitSink<WebSocket, Message>,
    pub(super) queued: mpsc::Receiver<Outgoing>,
    pub(super) close: oneshot::Receiver<Option<Closing>>,
    /// The last event seq handed to the socket (what `resume_from` reports).
    pub(super) written: Arc<AtomicI64>,
    pub(super) close_timeout: Duration,
}

impl Writer {
    pub(super) async fn run(mut self) {
        while let Some(outgoing) = self.next().await {
            if !self.send(outgoing).await {
                return;
            }
        }
    }

    /// The next frame to send; `None` once the close frame has been dealt with.
    async fn next(&mut self) -> Option<Outgoing> {
        let next = tokio::select! {
            biased;
            closing = &mut self.close => return self.finish(closing.ok().flatten()).await,
            next = self.queued.recv() => next,
        };
        match next {
            Some(outgoing) => Some(outgoing),
            // The session is over; its verdict is on its way.
            None => {
                let closing = (&mut self.close).await.ok().flatten();
                self.finish(closing).await
            }
        }
    }

    /// Feeds one frame (and flushes when nothing else waits); false when the socket is gone
    /// or a close arrived meanwhile.
    async fn send(&mut self, outgoing: Outgoing) -> bool {
        let (seq, message) = match outgoing {
            Outgoing::Event(seq, text) => (Some(seq), Message::Text(text)),
            Outgoing::Text(text) => (None, Message::Text(text.into())),
            Outgoing::Ping => (None, Message::Ping(Default::default())),
        };
        // Once fed, a frame is in the socket's buffer ahead of any close frame: it counts as sent.
        let fed = tokio::select! {
            biased;
            closing = &mut self.close => return self.finish(closing.ok().flatten()).await.is_some(),
            fed = self.sink.feed(message) => fed,
        };
        if fed.is_err() {
            return false;
        }
        if let Some(seq) = seq {
            self.written.store(seq, Ordering::Relaxed);
            self.app.stream.events_sent.fetch_add(1, Ordering::Relaxed);
        }
        self.flush_when_idle().await
    }

    /// Flushes once nothing else is queued (many frames, one write); false as for `send`.
    async fn flush_when_idle(&mut self) -> bool {
        if !self.queued.is_empty() {
            return true;
        }
        tokio::select! {
            biased;
            closing = &mut self.close => self.finish(closing.ok().flatten()).await.is_some(),
            flushed = self.sink.flush() => flushed.is_ok(),
        }
    }

    /// Sends the close frame — after what is queued, unless the subscriber lagged — within
    /// the close timeout. Always `None`: nothing follows a close.
    async fn finish(&mut self, closing: Option<Closing>) -> Option<Outgoing> {
        let closing = closing?;
        let (sink, queued) = (&mut self.sink, &mut self.queued);
        let _ = tokio::time::timeout(self.close_timeout, async {
            if closing.drain {
                while let Ok(outgoing) = queued.try_recv() {
                    match outgoing {
                        Outgoing::Event(_, text) => sink.feed(Message::Text(text)).await?,
                        Outgoing::Text(text) => sink.feed(Message::Text(text.into())).await?,
                        Outgoing::Ping => {}
                    }
                }
            }
            sink.send(Message::Close(Some(CloseFrame { code: closing.code, reason: closing.reason.into() }))).await
        })
        .await;
        None
    }
}
