//! One subscriber's socket: a session task that decides what to send (replay, then live
//! events, heartbeats, answers to `subscribe` messages) and a writer task (`writer.rs`) that sends it.
//!
//! The two are joined by a bounded queue: the session never waits on the socket, so one slow
//! client cannot slow the broadcast, the engine or other clients. When the queue is full —
//! or the broadcast has overtaken the session — the subscriber is too slow: the writer drops
//! what is still queued and closes with 1013 and `{"resume_from": N}`, N being the last
//! event handed to the socket, so a reconnect with `since=N` loses nothing.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{Message, Utf8Bytes, WebSocket};
use futures_util::stream::SplitStream;
use futures_util::StreamExt;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{mpsc, oneshot};

use super::filter::{Filter, FilterSpec};
use super::writer::{Closing, Outgoing, Writer};
use super::Subscription;
use crate::auth::KeyIdentity;
use crate::events::{ms_to_rfc3339, now_ms, Event, EventBatch};
use crate::state::AppState;

/// Events read from the log per replay query.
const REPLAY_PAGE: i64 = 1000;
/// Close codes (RFC 6455 §7.4.1).
const CLOSE_NORMAL: u16 = 1000;
const CLOSE_GOING_AWAY: u16 = 1001;
const CLOSE_POLICY: u16 = 1008;
const CLOSE_TRY_AGAIN: u16 = 1013;

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
    // Without `since`, the session starts at the newest stored event: nothing older is sent,
    // neither now nor when a later `subscribe` bridges from the store.
    let start = subscription.since.unwrap_or_else(|| app.events.newest());
    let written = Arc::new(AtomicI64::new(start));
    let close_timeout = Duration::from_secs(app.config.stream.close_timeout_s);
    let writer = Writer { app: app.clone(), sink, queued, close: close_rx, written: written.clone(), close_timeout };
    let writer = tokio::spawn(writer.run());
    let ending = Session::new(app, queue, start).run(&mut stream, subscription).await;
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

/// The heartbeat's clock: when to ping, and how long a silent client is given.
struct Pulse {
    ping: tokio::time::Interval,
    idle_limit: Duration,
    last_heard: Instant,
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
    fn new(app: &'a AppState, queue: mpsc::Sender<Outgoing>, start: i64) -> Self {
        let stream = &app.config.stream;
        let per_second =
            std::num::NonZeroU32::new(stream.client_messages_per_second).unwrap_or(std::num::NonZeroU32::MIN);
        let burst = std::num::NonZeroU32::new(stream.client_message_burst).unwrap_or(per_second);
        Self { app, queue, last: start, limiter: RateLimiter::direct(Quota::per_second(per_second).allow_burst(burst)) }
    }

    async fn run(mut self, stream: &mut SplitStream<WebSocket>, subscription: Subscription) -> Ending {
        let filter = match subscription.filter {
            Ok(filter) => filter,
            Err(why) => return self.refuse(&why),
        };
        // Subscribe before reading the log, so nothing committed during the replay is missed.
        let live = self.app.events.subscribe(filter.single_depth());
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
        let mut pulse = Pulse {
            ping: tokio::time::interval(Duration::from_secs(stream_config.ping_interval_s.max(1))),
            idle_limit: Duration::from_secs(stream_config.idle_timeout_s.max(1)),
            last_heard: Instant::now(),
        };
        pulse.ping.tick().await;
        loop {
            if let Err(ending) = self.step(stream, &mut live, &mut filter, &mut pulse).await {
                return ending;
            }
        }
    }

    /// Whatever comes first: shutdown, a batch of events, a client message, a heartbeat.
    async fn step(
        &mut self,
        stream: &mut SplitStream<WebSocket>,
        live: &mut tokio::sync::broadcast::Receiver<EventBatch>,
        filter: &mut Filter,
        pulse: &mut Pulse,
    ) -> Result<(), Ending> {
        tokio::select! {
            () = self.app.shutdown.cancelled() => Err(Ending::Close(CLOSE_GOING_AWAY, "the server is shutting down".into())),
            received = live.recv() => self.forward(received, filter).await,
            message = stream.next() => {
                pulse.last_heard = Instant::now();
                self.on_client(message, filter, live).await
            }
            _ = pulse.ping.tick() => self.heartbeat(pulse.last_heard.elapsed(), pulse.idle_limit),
        }
    }

    /// A client message; a new filter may need another feed: then the session listens to it
    /// and bridges from the store what it holds after the last event considered, so the
    /// `from_seq` of the acknowledgement stays true.
    async fn on_client(
        &mut self,
        message: Option<Result<Message, axum::Error>>,
        filter: &mut Filter,
        live: &mut tokio::sync::broadcast::Receiver<EventBatch>,
    ) -> Result<(), Ending> {
        let feed_depth = filter.single_depth();
        self.on_message(message, filter)?;
        if filter.single_depth() == feed_depth {
            return Ok(());
        }
        *live = self.app.events.subscribe(filter.single_depth());
        self.replay_from(filter, self.last).await
    }

    /// Sends the stored events after `since` that match, page by page.
    async fn replay(&mut self, filter: &Filter, since: i64) -> Result<(), Ending> {
        self.app.stream.replays.fetch_add(1, Ordering::Relaxed);
        self.replay_from(filter, since).await
    }

    async fn replay_from(&mut self, filter: &Filter, since: i64) -> Result<(), Ending> {
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
