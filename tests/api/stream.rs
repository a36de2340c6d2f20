//! The event stream, `/ws/recursion`, against the real server.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::{spawn_app, spawn_app_with, uniform_tree, TestApp, KEY};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Longest a test waits for one frame.
const FRAME_DEADLINE: Duration = Duration::from_secs(30);

fn ws_url(app: &TestApp, query: &str) -> String {
    format!(
        "{}/ws/recursion?token={KEY}{}{query}",
        app.base.replacen("http", "ws", 1),
        if query.is_empty() { "" } else { "&" }
    )
}

async fn connect(app: &TestApp, query: &str) -> Socket {
    tokio_tungstenite::connect_async(ws_url(app, query)).await.expect("connects").0
}

/// The next frame that is not a heartbeat or a control frame; `None` once closed.
async fn next_frame(socket: &mut Socket) -> Option<Value> {
    loop {
        let message = tokio::time::timeout(FRAME_DEADLINE, socket.next()).await.expect("a frame in time")?;
        match message.ok()? {
            Message::Text(text) => {
                let frame: Value = serde_json::from_str(&text).expect("json frame");
                if frame["type"] != "heartbeat" {
                    return Some(frame);
                }
            }
            Message::Close(_) => return None,
            _ => {}
        }
    }
}

/// Frames of `job_id` until its `job_completed` (inclusive).
async fn job_frames(socket: &mut Socket, job_id: &str) -> Vec<Value> {
    let mut frames = Vec::new();
    while let Some(frame) = next_frame(socket).await {
        if frame["job_id"] == job_id {
            let done = frame["type"] == "job_completed" || frame["type"] == "job_cancelled";
            frames.push(frame);
            if done {
                return frames;
            }
        }
    }
    panic!("the stream closed before job {job_id} ended");
}

fn seqs(frames: &[Value]) -> Vec<i64> {
    frames.iter().map(|f| f["seq"].as_i64().expect("seq")).collect()
}

/// Reads until `count` frames of `job_id` arrived.
async fn take(socket: &mut Socket, job_id: &str, count: usize) -> Vec<Value> {
    let mut frames = Vec::new();
    while frames.len() < count {
        let frame = next_frame(socket).await.expect("open");
        if frame["job_id"] == job_id {
            frames.push(frame);
        }
    }
    frames
}

#[tokio::test]
async fn a_depth_filter_receives_every_event_at_that_depth_and_nothing_else() {
    let app = spawn_app().await;
    let mut all = connect(&app, "").await;
    let mut depth2 = connect(&app, "depth=2").await;
    let id = app.submit(&uniform_tree(5, 2)).await;
    let everything = job_frames(&mut all, &id).await;
    let expected: Vec<&Value> = everything.iter().filter(|f| f["depth"] == 2).collect();
    assert_eq!(expected.len(), 4 * 2, "four depth-2 orchestrators: spawned and completed");
    let got = take(&mut depth2, &id, expected.len()).await;
    assert_eq!(seqs(&got), expected.iter().map(|f| f["seq"].as_i64().expect("seq")).collect::<Vec<_>>());
    assert!(got.iter().all(|f| f["depth"] == 2));
    let ordered = seqs(&everything);
    assert!(ordered.windows(2).all(|w| w[0] < w[1]), "in seq order");
}

#[tokio::test]
async fn range_job_and_type_filters_combine() {
    let app = spawn_app().await;
    let first = app.submit(&uniform_tree(4, 2)).await;
    app.wait_for_end(&first).await;
    let mut all = connect(&app, "").await;
    let query = format!("min_depth=1&max_depth=2&types=node_completed,worker_started&job_id={first}");
    let mut filtered = connect(&app, &format!("{query}&since=0")).await;
    let second = app.submit(&uniform_tree(4, 2)).await;
    job_frames(&mut all, &second).await;
    let replayed = take(&mut filtered, &first, 6).await;
    assert!(replayed.iter().all(|f| f["type"] == "node_completed" || f["type"] == "worker_started"));
    assert!(replayed.iter().all(|f| (1..=2).contains(&f["depth"].as_i64().expect("depth"))));
    assert_eq!(replayed.iter().filter(|f| f["type"] == "node_completed").count(), 6, "2 + 4 nodes at depths 1-2");
}

#[tokio::test]
async fn a_subscribe_message_switches_the_filter_mid_stream() {
    let app = spawn_app().await;
    let mut socket = connect(&app, "depth=0").await;
    let a = app.submit(&uniform_tree(2, 2)).await;
    let frames = take(&mut socket, &a, 3).await;
    assert!(frames.iter().all(|f| f["depth"] == 0), "job_submitted, orchestrator_spawned, node_completed at depth 0");
    socket
        .send(Message::Text(json!({"action": "subscribe", "filter": {"depth": 1}}).to_string().into()))
        .await
        .expect("send");
    loop {
        let frame = next_frame(&mut socket).await.expect("open");
        if frame["type"] == "subscribed" {
            break;
        }
    }
    let b = app.submit(&uniform_tree(2, 2)).await;
    let frames = take(&mut socket, &b, 4).await;
    assert!(frames.iter().all(|f| f["depth"] == 1), "only depth 1 now: {frames:?}");
    socket
        .send(Message::Text(json!({"action": "subscribe", "filter": {"depth": 9}}).to_string().into()))
        .await
        .expect("send");
    let error = next_frame(&mut socket).await.expect("open");
    assert_eq!(error["type"], "error");
    assert!(error["data"]["error"].as_str().expect("message").contains("invalid filter"), "{error}");
}

#[tokio::test]
async fn widening_a_single_depth_filter_loses_nothing_after_the_acknowledged_seq() {
    let app = spawn_app().await;
    let mut reference = connect(&app, "").await;
    let mut narrow = connect(&app, "depth=0").await;
    let job = json!({"request": "widen", "plan": {"name": "root", "children":
        (0..4).map(|i| json!({"name": format!("w{i}"), "run": {"type": "sleep", "ms": 400}})).collect::<Vec<_>>()}});
    let id = app.submit(&job).await;
    // The workers have started (depth-1 events a depth-0 subscriber did not take) ...
    let all = take(&mut reference, &id, 6).await;
    assert!(all.iter().filter(|f| f["type"] == "worker_started").count() >= 3, "{all:?}");
    // Each event names its node, so a client needs no tree to say which one it is about.
    let names: Vec<&str> = all.iter().filter_map(|f| f["data"]["name"].as_str()).collect();
    assert!(names.contains(&"root") && names.contains(&"w0"), "{all:?}");
    take(&mut narrow, &id, 2).await;
    // ... before it asks for every depth.
    socket_send(&mut narrow, json!({"action": "subscribe", "filter": {}})).await;
    let from_seq = loop {
        let frame = next_frame(&mut narrow).await.expect("open");
        if frame["type"] == "subscribed" {
            break frame["data"]["from_seq"].as_i64().expect("from_seq");
        }
    };
    let widened = job_frames(&mut narrow, &id).await;
    let mut expected = all;
    expected.extend(job_frames(&mut reference, &id).await);
    expected.retain(|f| f["seq"].as_i64() > Some(from_seq));
    assert_eq!(seqs(&widened), seqs(&expected), "every event after {from_seq}, from the store then live");
}

#[tokio::test]
async fn a_connection_without_since_never_receives_older_events_even_after_widening() {
    let app = spawn_app().await;
    let done = app.submit(&json!({"request": "before", "plan": {"name": "old", "run": {"type": "noop"}}})).await;
    app.wait_for_end(&done).await;
    let mut narrow = connect(&app, "depth=0").await;
    socket_send(&mut narrow, json!({"action": "subscribe", "filter": {}})).await;
    let ack = next_frame(&mut narrow).await.expect("open");
    assert_eq!(ack["type"], "subscribed", "{ack}");
    let from_seq = ack["data"]["from_seq"].as_i64().expect("from_seq");
    assert!(from_seq > 0, "the session starts at the newest stored event, not at the log's start: {ack}");
    let id = app.submit(&json!({"request": "after", "plan": {"name": "new", "run": {"type": "noop"}}})).await;
    let first = next_frame(&mut narrow).await.expect("open");
    assert_eq!(first["job_id"], id.as_str(), "nothing from before the connection: {first}");
    assert!(first["seq"].as_i64().expect("seq") > from_seq);
}

async fn socket_send(socket: &mut Socket, message: Value) {
    socket.send(Message::Text(message.to_string().into())).await.expect("send");
}

#[tokio::test]
async fn a_client_that_reconnects_with_since_ends_with_exactly_the_same_events() {
    let app = spawn_app().await;
    let mut steady = connect(&app, "").await;
    let mut flaky = connect(&app, "").await;
    let job = json!({"request": "slowish", "plan": {"name": "root", "max_parallel": 2, "children":
        (0..8).map(|i| json!({"name": format!("w{i}"), "run": {"type": "sleep", "ms": 40}})).collect::<Vec<_>>()}});
    let id = app.submit(&job).await;
    let mut before = take(&mut flaky, &id, 5).await;
    let resume = before.last().expect("frames")["seq"].as_i64().expect("seq");
    drop(flaky);
    let mut again = connect(&app, &format!("since={resume}")).await;
    before.extend(job_frames(&mut again, &id).await);
    let reference = job_frames(&mut steady, &id).await;
    assert_eq!(seqs(&before), seqs(&reference), "no gap, no duplicate");
}

#[tokio::test]
async fn a_thousand_subscribers_all_receive_every_event_in_order() {
    const SUBSCRIBERS: usize = 1000;
    let app = spawn_app().await;
    let mut sockets = Vec::with_capacity(SUBSCRIBERS);
    for _ in 0..SUBSCRIBERS {
        sockets.push(connect(&app, "").await);
    }
    let id = app.submit(&uniform_tree(3, 3)).await;
    let received = futures_util::future::join_all(sockets.iter_mut().map(|s| job_frames(s, &id))).await;
    let reference = seqs(&received[0]);
    // Submitted; 4 orchestrators spawned and 9 workers started; 13 nodes completed; the job completed.
    assert_eq!(reference.len(), 1 + 4 + 9 + 13 + 1);
    assert!(received.iter().all(|frames| seqs(frames) == reference));
}

#[tokio::test]
async fn heartbeats_arrive_and_a_silent_client_is_closed() {
    let app = spawn_app_with(|c| {
        c.stream.ping_interval_s = 1;
        c.stream.idle_timeout_s = 2;
    })
    .await;
    let mut listening = connect(&app, "").await;
    let beat = tokio::time::timeout(FRAME_DEADLINE, async {
        loop {
            if let Some(Ok(Message::Text(text))) = listening.next().await {
                let frame: Value = serde_json::from_str(&text).expect("json");
                if frame["type"] == "heartbeat" {
                    return frame;
                }
            }
        }
    })
    .await
    .expect("a heartbeat");
    assert!(beat["seq"].is_i64() && beat["ts"].is_string());
    let mut silent = connect(&app, "").await;
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let closed = loop {
        match tokio::time::timeout(FRAME_DEADLINE, silent.next()).await.expect("in time") {
            Some(Ok(Message::Close(frame))) => break frame,
            Some(Ok(_)) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    let frame = closed.expect("a close frame with a reason");
    assert!(frame.reason.contains("idle"), "{frame:?}");
}

#[tokio::test]
async fn a_flood_of_client_messages_is_closed_with_1008() {
    let app = spawn_app().await;
    let mut socket = connect(&app, "").await;
    for _ in 0..50 {
        let message = json!({"action": "subscribe", "filter": {}}).to_string();
        if socket.send(Message::Text(message.into())).await.is_err() {
            break;
        }
    }
    let code = loop {
        match tokio::time::timeout(FRAME_DEADLINE, socket.next()).await.expect("in time") {
            Some(Ok(Message::Close(frame))) => break frame.map(|f| f.code),
            Some(Ok(_)) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(code, Some(CloseCode::Policy));
}

#[tokio::test]
async fn unauthenticated_and_wrong_scope_connections_are_refused() {
    let app = spawn_app().await;
    let base = format!("{}/ws/recursion", app.base.replacen("http", "ws", 1));
    let bare = tokio_tungstenite::connect_async(base.clone()).await.expect_err("refused");
    assert!(bare.to_string().contains("401"), "{bare}");
    let created: Value =
        app.post("/keys", &json!({"name": "writer", "scopes": ["write"]})).await.json().await.expect("json");
    let writer = created["key"].as_str().expect("secret");
    let mut request = base.clone().into_client_request().expect("request");
    request.headers_mut().insert("authorization", format!("Bearer {writer}").parse().expect("header"));
    let forbidden = tokio_tungstenite::connect_async(request).await.expect_err("refused");
    assert!(forbidden.to_string().contains("403"), "{forbidden}");
    let mut request = base.into_client_request().expect("request");
    request.headers_mut().insert("authorization", format!("Bearer {KEY}").parse().expect("header"));
    assert!(tokio_tungstenite::connect_async(request).await.is_ok(), "a read key in the header is enough");
    let plain = app.client.get(app.url("/ws/recursion")).bearer_auth(KEY).send().await.expect("request");
    assert_eq!(plain.status(), 400, "a plain GET is told to upgrade");
    assert_eq!(plain.headers()["content-type"], "application/problem+json");
    let anonymous = app.client.get(app.url("/ws/recursion")).send().await.expect("request");
    assert_eq!(anonymous.status(), 401);
    let mut bad = connect(&app, "depth=7").await;
    let error = next_frame(&mut bad).await.expect("an error frame");
    assert_eq!(error["type"], "error");
    assert!(error["data"]["error"].as_str().expect("message").contains("depths must be"), "{error}");
}

/// A client whose socket receive buffer is tiny, so that not reading backs up the server fast.
async fn connect_with_small_buffer(app: &TestApp, query: &str) -> Socket {
    const RECEIVE_BUFFER: u32 = 4096;
    let address = app.base.trim_start_matches("http://").parse().expect("address");
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(RECEIVE_BUFFER).expect("buffer size");
    let stream = socket.connect(address).await.expect("connect");
    let request = ws_url(app, query).into_client_request().expect("request");
    tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(stream)).await.expect("handshake").0
}

/// Enough events (about two per node, a few hundred bytes each: 10 MB) to overflow the kernel's
/// socket buffers (up to 4 MiB here) behind a client that does not read.
const LOUD_NODES: usize = 20_000;

#[tokio::test]
async fn a_stalled_consumer_is_closed_with_1013_and_resumes_without_loss() {
    let app = spawn_app_with(|c| {
        c.stream.send_queue = 16;
        c.stream.stall_timeout_ms = 300;
    })
    .await;
    let mut healthy = connect(&app, "").await;
    let mut stalled = connect_with_small_buffer(&app, "").await;
    let job = json!({"request": "loud", "plan": {"name": "root", "children":
        (0..LOUD_NODES).map(|i| json!({"name": format!("w{i}"), "run": {"type": "noop"}})).collect::<Vec<_>>()}});
    let id = app.submit(&job).await;
    let reference = job_frames(&mut healthy, &id).await;
    // Only now does the stalled client read: what was sent before the close, then the close.
    let mut before = Vec::new();
    let begun = std::time::Instant::now();
    let resume_from = loop {
        assert!(begun.elapsed() < FRAME_DEADLINE, "no 1013 close came");
        match tokio::time::timeout(FRAME_DEADLINE, stalled.next()).await.expect("in time").expect("open") {
            Ok(Message::Text(text)) => {
                let frame: Value = serde_json::from_str(&text).expect("json");
                if frame["job_id"] == id.as_str() {
                    before.push(frame);
                }
            }
            Ok(Message::Close(Some(frame))) => {
                assert_eq!(frame.code, CloseCode::Again, "1013: try again later");
                let reason: Value = serde_json::from_str(&frame.reason).expect("json reason");
                break reason["resume_from"].as_i64().expect("resume_from");
            }
            Ok(_) => {}
            Err(err) => panic!("expected a 1013 close, got {err}"),
        }
    };
    assert!(before.len() < reference.len(), "the stalled client was cut off before the end");
    assert!(before.last().is_none_or(|f| f["seq"].as_i64().expect("seq") <= resume_from));
    let mut resumed = connect(&app, &format!("since={resume_from}")).await;
    before.extend(job_frames(&mut resumed, &id).await);
    assert_eq!(seqs(&before), seqs(&reference), "nothing lost, nothing twice");
}

#[tokio::test]
async fn a_replay_from_before_the_retention_says_where_the_log_starts() {
    let app = spawn_app_with(|c| {
        c.stream.retention_s = 2;
        c.resources.usage_sample_interval_s = 1;
    })
    .await;
    let old = app.submit(&uniform_tree(2, 2)).await;
    app.wait_for_end(&old).await;
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let fresh = app.submit(&uniform_tree(2, 2)).await;
    let mut socket = connect(&app, "since=1").await;
    let error = next_frame(&mut socket).await.expect("open");
    assert_eq!(error["type"], "error", "{error}");
    let starts = error["data"]["log_starts_at"].as_i64().expect("log_starts_at");
    assert!(starts > 2, "the old job's events were pruned");
    let frame = next_frame(&mut socket).await.expect("open");
    assert_eq!(frame["job_id"], json!(fresh), "the replay goes on from where the log starts");
}

#[tokio::test]
async fn metrics_count_connections_replays_and_slots() {
    let app = spawn_app().await;
    let _live = connect(&app, "since=0").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let text = app.client.get(app.url("/metrics")).send().await.expect("request").text().await.expect("text");
    assert!(text.contains("\ncadre_stream_connections 1\n"), "{text}");
    assert!(text.contains("\ncadre_stream_replays_total 1\n"), "{text}");
    assert!(text.contains("cadre_slot_quota{depth=\"0\"} 10"), "{text}");
    assert!(text.contains("# TYPE cadre_stream_events_sent_total counter"));
}

#[tokio::test]
async fn shutdown_closes_every_socket_with_1001() {
    let dir = tempfile::tempdir().expect("dir");
    let mut config = cadre::config::Config::default();
    config.store.data_dir = dir.path().join("data");
    config.auth.bootstrap_key = KEY.into();
    if let Some(url) = crate::common::fresh_database_url().await {
        config.store.database_url = url;
    }
    let started = cadre::app::start(config).await.expect("starts");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(cadre::app::serve(listener, started, async move {
        let _ = stopped.await;
    }));
    let url = format!("ws://{address}/ws/recursion?token={KEY}");
    let mut socket = tokio_tungstenite::connect_async(url).await.expect("connects").0;
    let _ = stop.send(());
    let code = loop {
        match tokio::time::timeout(FRAME_DEADLINE, socket.next()).await.expect("in time") {
            Some(Ok(Message::Close(frame))) => break frame.map(|f| f.code),
            Some(Ok(_)) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(code, Some(CloseCode::Away));
    drop(socket);
    server.await.expect("joined").expect("served");
}
