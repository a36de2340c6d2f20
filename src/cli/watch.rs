//! Following the event stream from the terminal: `cadre watch` and `cadre submit --watch`.
//! A subscriber closed for falling behind (1013) reconnects at once with the `resume_from`
//! it was given, so the output has no gap.

use futures_util::StreamExt;
use serde_json::Value;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

use super::ServerArgs;

/// What to follow.
pub(super) struct Watch {
    /// Query parameters of the stream (filters).
    pub query: Vec<(String, String)>,
    /// Print raw JSON frames instead of lines.
    pub json: bool,
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

/// Follows the stream until the job ends or the server closes it.
pub(super) async fn follow(server: &ServerArgs, watch: &Watch) -> Result<Watched, String> {
    let mut since = watch.query.iter().find(|(k, _)| k == "since").map(|(_, v)| v.clone());
    loop {
        match follow_once(server, watch, since.as_deref()).await? {
            Session::Resume(seq) => since = Some(seq.to_string()),
            Session::Done(watched) => return Ok(watched),
        }
    }
}

enum Session {
    Resume(i64),
    Done(Watched),
}

async fn follow_once(server: &ServerArgs, watch: &Watch, since: Option<&str>) -> Result<Session, String> {
    let mut query: Vec<String> =
        watch.query.iter().filter(|(k, _)| k != "since").map(|(k, v)| format!("{k}={v}")).collect();
    if let Some(since) = since {
        query.push(format!("since={since}"));
    }
    let url =
        format!("{}/ws/recursion?{}", server.url.trim_end_matches('/').replacen("http", "ws", 1), query.join("&"));
    let mut request = url.into_client_request().map_err(|e| format!("bad server URL: {e}"))?;
    if let Some(key) = &server.api_key {
        let value =
            format!("Bearer {key}").parse().map_err(|_| "the API key is not a valid header value".to_string())?;
        request.headers_mut().insert("authorization", value);
    }
    let (mut socket, _) =
        tokio_tungstenite::connect_async(request).await.map_err(|e| format!("cannot open the event stream: {e}"))?;
    while let Some(message) = socket.next().await {
        match message.map_err(|e| format!("the event stream broke: {e}"))? {
            Message::Text(text) => {
                if let Some(status) = show(&text, watch) {
                    return Ok(Session::Done(Watched::JobEnded(status)));
                }
            }
            Message::Close(Some(frame)) if frame.code == CloseCode::Again => {
                let reason: Value = serde_json::from_str(&frame.reason).unwrap_or(Value::Null);
                let resume = reason["resume_from"].as_i64().ok_or("closed for falling behind, without resume_from")?;
                return Ok(Session::Resume(resume));
            }
            Message::Close(frame) => {
                let reason = frame.map(|f| format!("{} {}", u16::from(f.code), f.reason)).unwrap_or_default();
                return Ok(Session::Done(Watched::Closed(reason)));
            }
            _ => {}
        }
    }
    Ok(Session::Done(Watched::Closed("the connection ended".into())))
}

/// Prints a frame; returns the job's status when it is the followed job's end.
fn show(text: &str, watch: &Watch) -> Option<String> {
    let frame: Value = serde_json::from_str(text).ok()?;
    let kind = frame["type"].as_str().unwrap_or("");
    if kind == "heartbeat" {
        return None;
    }
    if watch.json {
        println!("{text}");
    } else {
        println!("{}", line(&frame));
    }
    let ended = matches!(kind, "job_completed" | "job_cancelled");
    let ours = watch.until_job.as_deref().is_some_and(|job| frame["job_id"].as_str() == Some(job));
    (ended && ours).then(|| frame["data"]["status"].as_str().unwrap_or("unknown").to_string())
}

/// One human-readable line per event.
fn line(frame: &Value) -> String {
    let data = &frame["data"];
    let depth = frame["depth"].as_i64().map(|d| format!("depth {d}")).unwrap_or_default();
    let what = match frame["type"].as_str().unwrap_or("") {
        "job_completed" | "job_cancelled" => {
            format!("[{}] job {}", data["status"].as_str().unwrap_or("?"), data["job_id"].as_str().unwrap_or("?"))
        }
        "node_completed" => {
            format!("{} {}", data["name"].as_str().unwrap_or("?"), data["status"].as_str().unwrap_or("?"))
        }
        "node_retrying" => format!(
            "{} retrying after attempt {}: {}",
            data["node_id"],
            data["attempt"],
            data["error"].as_str().unwrap_or("")
        ),
        "resource_warning" => format!("{} of {} slots in use ({} %)", data["usage"], data["quota"], data["level"]),
        "error" => data["error"].as_str().unwrap_or("").to_string(),
        _ => String::new(),
    };
    format!("#{:<6} {:<21} {:<8} {what}", frame["seq"], frame["type"].as_str().unwrap_or("?"), depth)
}
