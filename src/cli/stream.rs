//! Following the event stream (`/ws/recursion`) for `cadre watch` and `cadre submit --watch`:
//! each frame goes to a [`Sink`] that shows it, which is also told to redraw a few times a
//! second (the live view's elapsed time moves on between events). A subscriber closed for
//! falling behind (1013) reconnects at once with the `resume_from` it was given, so nothing
//! is missed; a 1013 without one (the server could not read its store to replay) reconnects a
//! second later after the last event shown.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::Value;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

use super::board::Frame;
use super::out::Fail;
use super::ServerArgs;

/// How often a sink is asked to redraw while no event comes.
const REDRAW_EVERY: Duration = Duration::from_millis(250);

/// What to follow.
pub(super) struct Watch {
    /// Query parameters of the stream (filters, and `since`).
    pub query: Vec<(String, String)>,
    /// Stop when this job ends.
    pub until_job: Option<String>,
}

/// How a watch ended.
pub(super) enum Watched {
    /// The followed job ended with this status.
    JobEnded(String),
    /// The server closed the stream.
    Closed(String),
}

/// Shows what the stream brings.
pub(super) trait Sink {
    /// One event (never a heartbeat), as its text and as read.
    async fn frame(&mut self, text: &str, frame: &Frame) -> Result<(), Fail>;
    /// Time passed with no event.
    fn tick(&mut self);
}

/// Follows the stream until the job ends or the server closes it.
pub(super) async fn follow(server: &ServerArgs, watch: &Watch, sink: &mut impl Sink) -> Result<Watched, Fail> {
    let mut since = watch.query.iter().find(|(k, _)| k == "since").map(|(_, v)| v.clone());
    loop {
        match follow_once(server, watch, since.as_deref(), sink).await? {
            Session::Resume(Some(seq)) => since = Some(seq.to_string()),
            Session::Resume(None) => {}
            Session::Done(watched) => return Ok(watched),
        }
    }
}

enum Session {
    /// Connect again, after this seq (or after the same one as before, when none was seen).
    Resume(Option<i64>),
    Done(Watched),
}

/// How long to wait before reconnecting after a 1013 that gave no `resume_from` (the server
/// could not read the store to replay).
const STORE_RETRY: Duration = Duration::from_secs(1);

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn follow_once(
    server: &ServerArgs,
    watch: &Watch,
    since: Option<&str>,
    sink: &mut impl Sink,
) -> Result<Session, Fail> {
    let mut socket = connect(server, watch, since).await?;
    let mut redraw = tokio::time::interval(REDRAW_EVERY);
    let mut last_seq = since.and_then(|since| since.parse::<i64>().ok());
    loop {
        let message = tokio::select! {
            message = socket.next() => message,
            _ = redraw.tick() => {
                sink.tick();
                continue;
            }
        };
        let Some(message) = message else { break };
        let message = message.map_err(|e| format!("the event stream broke: {e}"))?;
        if let Some(session) = receive(message, watch, sink, &mut last_seq).await? {
            return Ok(session);
        }
    }
    Ok(Session::Done(Watched::Closed("the connection ended".into())))
}

async fn connect(server: &ServerArgs, watch: &Watch, since: Option<&str>) -> Result<Socket, Fail> {
    let mut query: Vec<String> =
        watch.query.iter().filter(|(k, _)| k != "since").map(|(k, v)| format!("{k}={v}")).collect();
    if let Some(since) = since {
        query.push(format!("since={since}"));
    }
    let url =
        format!("{}/ws/recursion?{}", server.url.trim_end_matches('/').replacen("http", "ws", 1), query.join("&"));
    let mut request = url.into_client_request().map_err(|e| format!("bad server URL: {e}"))?;
    if let Some(key) = &server.api_key {
        let value = format!("Bearer {key}").parse().map_err(|_| "the API key is not a valid header value")?;
        request.headers_mut().insert("authorization", value);
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            let body = response.body().as_deref().map(String::from_utf8_lossy).unwrap_or_default();
            let refusal = super::http::describe_problem(response.status(), &body, server.api_key.is_some(), None);
            Err(Fail::Error(format!("cannot open the event stream: {refusal}")))
        }
        Err(e) => Err(Fail::Error(format!("cannot open the event stream: {e}"))),
    }
}

/// Handles one message; returns how the session ends, if it does.
async fn receive(
    message: Message,
    watch: &Watch,
    sink: &mut impl Sink,
    last_seq: &mut Option<i64>,
) -> Result<Option<Session>, Fail> {
    match message {
        Message::Text(text) => {
            let Some(frame) = Frame::parse(&text).filter(|f| f.kind != "heartbeat") else { return Ok(None) };
            sink.frame(&text, &frame).await?;
            *last_seq = Some(frame.seq);
            let ours = watch.until_job.is_some() && frame.job_id == watch.until_job;
            Ok(frame.job_end().filter(|_| ours).map(|status| Session::Done(Watched::JobEnded(status.to_string()))))
        }
        Message::Close(Some(frame)) if frame.code == CloseCode::Again => {
            let reason: Value = serde_json::from_str(&frame.reason).unwrap_or(Value::Null);
            match reason["resume_from"].as_i64() {
                Some(resume) => Ok(Some(Session::Resume(Some(resume)))),
                // The server could not replay (its store was unavailable): try again shortly.
                None => {
                    tokio::time::sleep(STORE_RETRY).await;
                    Ok(Some(Session::Resume(*last_seq)))
                }
            }
        }
        Message::Close(frame) => {
            let reason = frame.map(|f| format!("{} {}", u16::from(f.code), f.reason)).unwrap_or_default();
            Ok(Some(Session::Done(Watched::Closed(reason))))
        }
        _ => Ok(None),
    }
}
