//! One subscriber's socket: a session task that decides what to send (replay, then live
//! events, heartbeats, answers to `subscribe` messages) and a writer task that sends it.
//!
//! The two are joined by a bounded queue: the session never waits on the socket, so one slow
//! client cannot slow the broadcast, the engine or other clients. When the queue is full —
//! or the broadcast has overtaken the session — the subscriber is too slow: the writer drops
//! what is still queued and closes with 1013 and `{"resume_from": N}`, N being the last
//! event handed to the socket, so a reconnect with `since=N` loses nothing.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{mpsc, oneshot};

use super::filter::{Filter, FilterSpec};
use super::Subscription;
use crate::app::AppState;
use crate::auth::KeyIdentity;
use crate::events::{ms_to_rfc3339, now_ms, Event, EventBatch};

/// Events read from the log per replay query.
const REPLAY_PAGE: i64 = 1000;
/// Close codes (RFC 6455 §7.4.1).
const CLOSE_NORMAL: u16 = 1000;
const CLOSE_GOING_AWAY: u16 = 1001;
const CLOSE_POLICY: u16 = 1008;
const CLOSE_TRY_AGAIN: u16 = 1013;

enum Outgoing {
    /// A stored event (its seq counts towards `resume_from` once handed to the socket).
    Event(i64, Utf8Bytes),
    /// An error or heartbeat frame.
    Text(String),
    Ping,
}

/// The close frame to send, and whether what is still queued goes first.
struct Closing {
    code: u16,
    reason: String,
    /// False for a lagging subscriber: what is queued is dropped (it will be replayed).
    drain: bool,
}

/// How a session ended.
enum Ending {
    /// Close with this code and reason.
    Close(u16, String),
    /// The subscriber fell behind: close with 1013 and the last seq it was sent.
    Lagged,
    /// The client went away; nothing to send.
    Gone,
}

/// Runs a connection to its end.
pub async fn run(app: AppState, key: KeyIdentity, socket: WebSocket, subscription: Subscription) {
    app.stream.open.fetch_add(1, Ordering::Relaxed);
    serve(&app, socket, subscription).await;
    app.stream.open.fetch_sub(1, Ordering::Relaxed);
    tracing::debug!(key.id = %key.id, "event stream closed");
}

async fn serve(app: &AppState, socket: WebSocket, subscription: Subscription) {
    let (sink, mut stream) = socket.split();
    let (queue, queued) = mpsc::channel(app.config.stream.send_queue.max(1));
    let (close, close_rx) = oneshot::channel();
    let written = Arc::new(AtomicI64::new(subscription.since.unwrap_or(0)));
    let close_timeout = Duration::from_secs(app.config.stream.close_timeout_s);
    let writer = Writer { app: app.clone(), sink, queued, close: close_rx, written: written.clone(), close_timeout };
    let writer = tokio::spawn(writer.run());
    let ending = Session::new(app, queue).run(&mut stream, subscription).await;
    let client_left = matches!(ending, Ending::Gone);
    let _ = close.send(closing(app, ending, &written));
    let _ = writer.await;
    if !client_left {
        await_close_reply(&mut stream, close_timeout).await;
    }
}

/// The closing handshake: lets the client read the close frame and answer it before the
/// connection drops, or it may see a reset instead of the reason.
async fn await_close_reply(stream: &mut SplitStream<WebSocket>, limit: Duration) {
    let _ = tokio::time::timeout(limit, async { while let Some(Ok(_)) = stream.next().await {} }).await;
}

fn closing(app: &AppState, ending: Ending, written: &AtomicI64) -> Option<Closing> {
    match ending {
        Ending::Close(code, reason) => Some(Closing { code, reason, drain: true }),
        Ending::Lagged => {
            app.stream.lagged_closes.fetch_add(1, Ordering::Relaxed);
            let resume_from = written.load(Ordering::Relaxed);
            Some(Closing {
                code: CLOSE_TRY_AGAIN,
                reason: json!({"resume_from": resume_from}).to_string(),
                drain: false,
            })
        }
        Ending::Gone => None,
    }
}

/// Sends queued frames until told to close; then sends the close frame.
struct Writer {
    app: AppState,
    sink: SplitSink<WebSocket, Message>,
    queued: mpsc::Receiver<Outgoing>,
    close: oneshot::Receiver<Option<Closing>>,
    /// The last event seq handed to the socket (what `resume_from` reports).
    written: Arc<AtomicI64>,
    close_timeout: Duration,
}

impl Writer {
    async fn run(mut self) {
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

/// What the session knows.
struct Session<'a> {
    app: &'a AppState,
    queue: mpsc::Sender<Outgoing>,
    /// The last seq considered (sent or filtered out): the seam between replay and live.
    last: i64,
    limiter: DefaultDirectRateLimiter,
}

/// A client message.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientMessage {
    action: String,
    #[serde(default)]
    filter: Option<FilterSpec>,
}

impl<'a> Session<'a> {
    fn new(app: &'a AppState, queue: mpsc::Sender<Outgoing>) -> Self {
        let stream = &app.config.stream;
        let per_second =
            std::num::NonZeroU32::new(stream.client_messages_per_second).unwrap_or(std::num::NonZeroU32::MIN);
        let burst = std::num::NonZeroU32::new(stream.client_message_burst).unwrap_or(per_second);
        Self { app, queue, last: 0, limiter: RateLimiter::direct(Quota::per_second(per_second).allow_burst(burst)) }
    }

    async fn run(mut self, stream: &mut SplitStream<WebSocket>, subscription: Subscription) -> Ending {
        let filter = match subscription.filter {
            Ok(filter) => filter,
            Err(why) => return self.refuse(&why),
        };
        // Subscribe before reading the log, so nothing committed during the replay is missed.
        let live = self.app.events.subscribe();
        if let Some(since) = subscription.since {
            if let Err(ending) = self.replay(&filter, since).await {
                return ending;
            }
        }
        self.live(stream, live, filter).await
    }

    /// Live events, client messages and heartbeats until the connection ends.
    async fn live(
        &mut self,
        stream: &mut SplitStream<WebSocket>,
        mut live: tokio::sync::broadcast::Receiver<EventBatch>,
        mut filter: Filter,
    ) -> Ending {
        let stream_config = &self.app.config.stream;
        let mut ping = tokio::time::interval(Duration::from_secs(stream_config.ping_interval_s.max(1)));
        ping.tick().await;
        let idle_limit = Duration::from_secs(stream_config.idle_timeout_s.max(1));
        let mut last_heard = Instant::now();
        loop {
            let step = tokio::select! {
                () = self.app.shutdown.cancelled() => Err(Ending::Close(CLOSE_GOING_AWAY, "the server is shutting down".into())),
                received = live.recv() => self.forward(received, &filter).await,
                message = stream.next() => {
                    last_heard = Instant::now();
                    self.on_message(message, &mut filter)
                }
                _ = ping.tick() => self.heartbeat(last_heard.elapsed(), idle_limit),
            };
            if let Err(ending) = step {
                return ending;
            }
        }
    }

    /// Sends the stored events after `since` that match, page by page.
    async fn replay(&mut self, filter: &Filter, since: i64) -> Result<(), Ending> {
        self.app.stream.replays.fetch_add(1, Ordering::Relaxed);
        self.last = since;
        let store = self.app.engine.store();
        let oldest = store
            .oldest_event_seq()
            .await
            .map_err(|_| Ending::Close(CLOSE_TRY_AGAIN, "the store is unavailable".into()))?;
        if oldest > since + 1 {
            let message = format!("events before seq {oldest} are past the retention; the replay starts there");
            self.error_frame(&message, json!({"log_starts_at": oldest}))?;
        }
        loop {
            let rows = store
                .events_after(self.last, filter.job_id(), REPLAY_PAGE)
                .await
                .map_err(|_| Ending::Close(CLOSE_TRY_AGAIN, "the store is unavailable".into()))?;
            let Some(last_row) = rows.last() else { return Ok(()) };
            let page_end = last_row.seq;
            for row in &rows {
                let event = Event::from_row(row);
                if filter.matches(&event) {
                    self.send_waiting(Outgoing::Event(
                        event.seq,
                        Utf8Bytes::try_from(event.text()).unwrap_or_default(),
                    ))
                    .await?;
                }
            }
            self.last = page_end;
        }
    }

    /// Queues an event, waiting for room while the writer drains bursts; a subscriber whose
    /// queue stays full for the stall timeout has fallen behind.
    async fn send_waiting(&self, outgoing: Outgoing) -> Result<(), Ending> {
        let stall = Duration::from_millis(self.app.config.stream.stall_timeout_ms);
        self.queue.send_timeout(outgoing, stall).await.map_err(|err| match err {
            mpsc::error::SendTimeoutError::Timeout(_) => Ending::Lagged,
            mpsc::error::SendTimeoutError::Closed(_) => Ending::Gone,
        })
    }

    async fn forward(&mut self, received: Result<EventBatch, RecvError>, filter: &Filter) -> Result<(), Ending> {
        let batch = match received {
            Ok(batch) => batch,
            Err(RecvError::Lagged(_)) => return Err(Ending::Lagged),
            Err(RecvError::Closed) => {
                return Err(Ending::Close(CLOSE_GOING_AWAY, "the server is shutting down".into()))
            }
        };
        for event in batch.iter() {
            // Events up to the end of the replay were already considered there.
            if event.seq <= self.last {
                continue;
            }
            self.last = event.seq;
            if filter.matches(event) {
                self.send_waiting(Outgoing::Event(event.seq, Utf8Bytes::try_from(event.text()).unwrap_or_default()))
                    .await?;
            }
        }
        Ok(())
    }

    fn on_message(&mut self, message: Option<Result<Message, axum::Error>>, filter: &mut Filter) -> Result<(), Ending> {
        let text = match message {
            None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return Err(Ending::Gone),
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(_)) => return Ok(()),
        };
        if self.limiter.check().is_err() {
            return Err(Ending::Close(CLOSE_POLICY, "too many client messages".into()));
        }
        match serde_json::from_str::<ClientMessage>(&text) {
            Ok(ClientMessage { action, filter: Some(spec) }) if action == "subscribe" => match Filter::parse(&spec) {
                Ok(new) => {
                    *filter = new;
                    self.ack(filter)
                }
                Err(why) => self.error_frame(&format!("invalid filter: {why}"), json!({})),
            },
            Ok(_) => self.error_frame("expected {\"action\": \"subscribe\", \"filter\": {…}}", json!({})),
            Err(err) => self.error_frame(&format!("unreadable message: {err}"), json!({})),
        }
    }

    fn ack(&self, _filter: &Filter) -> Result<(), Ending> {
        self.frame("subscribed", json!({"from_seq": self.last}))
    }

    fn heartbeat(&self, silent_for: Duration, idle_limit: Duration) -> Result<(), Ending> {
        if silent_for > idle_limit {
            return Err(Ending::Close(CLOSE_NORMAL, "idle: no message or pong in time".into()));
        }
        // A subscriber whose queue is full is busy receiving a burst and needs no heartbeat;
        // only a queue that stays full (the stall timeout) means it has fallen behind.
        let _ = self.queue.try_send(Outgoing::Ping);
        let _ = self.frame("heartbeat", json!({}));
        Ok(())
    }

    fn error_frame(&self, message: &str, extra: serde_json::Value) -> Result<(), Ending> {
        let mut data = json!({"error": message});
        if let (Some(data), Some(extra)) = (data.as_object_mut(), extra.as_object()) {
            data.extend(extra.clone());
        }
        self.frame("error", data)
    }

    /// A frame that is not a stored event: it carries the last seq the connection has seen.
    fn frame(&self, kind: &str, data: serde_json::Value) -> Result<(), Ending> {
        let frame = json!({"seq": self.last, "ts": ms_to_rfc3339(now_ms()), "type": kind, "job_id": null, "depth": null, "data": data});
        self.queue.try_send(Outgoing::Text(frame.to_string())).map_err(|_| Ending::Lagged)
    }

    fn refuse(&self, why: &str) -> Ending {
        let _ = self.error_frame(&format!("invalid filter: {why}"), json!({}));
        Ending::Close(CLOSE_POLICY, "invalid filter".into())
    }
}
