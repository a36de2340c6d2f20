//! The live event stream, `GET /ws/recursion` (SPEC §6): every stored event, in `seq` order,
//! filtered by depth, job and type, with replay from the stored log (`?since=`) joined to the
//! live feed without gap or duplicate, heartbeats, and back-pressure that closes a consumer
//! too slow to keep up (1013, with the `resume_from` it can reconnect with).
//!
//! The handshake (this file) authenticates — `Authorization: Bearer` or `?token=` for
//! browsers, never logged — and needs the `read` scope; [`connection`] runs the socket.

pub mod connection;
pub mod filter;
mod writer;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize};

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use crate::auth::{Caller, KeyIdentity, Scope};
use crate::error::{ApiError, Unauthenticated};
use crate::state::AppState;
use filter::{Filter, FilterSpec, Types};

/// Counters of the stream, for `/metrics` and `/recursion/stats`.
#[derive(Debug, Default)]
pub struct StreamMetrics {
    /// Connections open now.
    pub open: AtomicUsize,
    /// Event frames written to sockets.
    pub events_sent: AtomicU64,
    /// Connections closed because they fell behind (1013).
    pub lagged_closes: AtomicU64,
    /// Connections that asked for a replay (`since`).
    pub replays: AtomicU64,
}

/// The stream's route.
pub fn router() -> Router<AppState> {
    Router::new().route("/ws/recursion", get(upgrade))
}

/// What the query string asked for, checked.
pub struct Subscription {
    pub filter: Result<Filter, String>,
    pub since: Option<i64>,
}

async fn upgrade(
    State(app): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let key = authenticate(&app, &headers, query.get("token").map(String::as_str))?;
    let ws = ws.map_err(|rejection| {
        ApiError::BadRequest(format!("expected a WebSocket upgrade: {}", rejection.body_text()))
    })?;
    let subscription = subscription(&query);
    Ok(ws.on_upgrade(move |socket| connection::run(app, key, socket, subscription)))
}

/// The key of the request, which must carry `read`.
fn authenticate(app: &AppState, headers: &HeaderMap, token: Option<&str>) -> Result<KeyIdentity, ApiError> {
    // A browser cannot set headers on a WebSocket, so `?token=` stands in for a missing header.
    let secret = match (crate::auth::middleware::bearer(headers), token.map(str::trim)) {
        (Err(Unauthenticated::Missing), Some(token)) if !token.is_empty() => token,
        (secret, _) => secret.map_err(ApiError::Unauthorized)?,
    };
    let entry = app.keys.check(secret).ok_or(ApiError::Unauthorized(Unauthenticated::NotValid))?;
    Caller::Key(entry.identity()).require(Scope::Read).cloned()
}

fn subscription(query: &HashMap<String, String>) -> Subscription {
    let since = match query.get("since").map(|s| s.parse::<i64>()) {
        Some(Ok(seq)) if seq >= 0 => Some(seq),
        Some(_) => return Subscription { filter: Err("since must be a sequence number ≥ 0".into()), since: None },
        None => None,
    };
    Subscription { filter: parse_query_filter(query), since }
}

fn parse_query_filter(query: &HashMap<String, String>) -> Result<Filter, String> {
    let known = ["depth", "min_depth", "max_depth", "job_id", "types", "since", "token"];
    if let Some(unknown) = query.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(format!("unknown parameter '{unknown}'"));
    }
    let number = |name: &str| -> Result<Option<i64>, String> {
        query.get(name).map(|v| v.parse::<i64>().map_err(|_| format!("{name} must be a number"))).transpose()
    };
    let job_id = query
        .get("job_id")
        .map(|v| uuid::Uuid::parse_str(v).map_err(|_| "job_id must be a UUID".to_string()))
        .transpose()?;
    Filter::parse(&FilterSpec {
        depth: number("depth")?,
        min_depth: number("min_depth")?,
        max_depth: number("max_depth")?,
        job_id,
        types: query.get("types").map(|t| Types::Csv(t.clone())),
    })
}
