//! The gate in front of `/api/v1`: identify the caller (API key or worker token), count the
//! request against the caller's rate limit (or the client address's, without credentials),
//! and refuse what is neither with a 401 that is also written to the audit log. The secret
//! itself goes no further than the hash lookup: it is never logged nor stored.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;

use super::caller::Caller;
use super::limit::Rate;
use crate::engine::journal::AuditDraft;
use crate::error::{ApiError, Unauthenticated};
use crate::state::AppState;

/// The client address in a request's extensions (absent when served without connection info).
pub fn client_address(extensions: &axum::http::Extensions) -> Option<std::net::IpAddr> {
    extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())
}

/// The client address as the audit log writes it.
pub fn source(extensions: &axum::http::Extensions) -> String {
    client_address(extensions).map_or_else(|| "unknown".into(), |ip| ip.to_string())
}

/// Middleware: authenticate and rate-limit.
pub async fn authenticate(State(app): State<AppState>, mut request: Request, next: Next) -> Result<Response, ApiError> {
    let secret = bearer(request.headers());
    let caller = secret.ok().and_then(|secret| identify(&app, secret));
    match caller {
        Some(caller) => {
            let own = match &caller {
                Caller::Key(key) => key.rate,
                Caller::Worker(_) => None,
            };
            app.limits.check_caller(caller.limit_id(), own).map_err(too_many)?;
            request.extensions_mut().insert(caller);
            Ok(next.run(request).await)
        }
        None => {
            let reason = secret.err().unwrap_or(Unauthenticated::NotValid);
            if let Some(address) = client_address(request.extensions()) {
                app.limits.check_address(address).map_err(too_many)?;
            }
            app.engine.journal().audit(AuditDraft {
                key_id: None,
                key_name: None,
                source: source(request.extensions()),
                action: "auth.refused",
                target: Some(format!("{} {}", request.method(), request.uri().path())),
                outcome: "denied".into(),
                detail: Some(
                    match reason {
                        Unauthenticated::Missing => "no key",
                        Unauthenticated::NotBearer => "not a bearer key",
                        Unauthenticated::NotValid => "unknown, revoked or expired key",
                    }
                    .into(),
                ),
            });
            Err(ApiError::Unauthorized(reason))
        }
    }
}

/// The secret a request carries as `Authorization: Bearer <key>` (the scheme in any case), or
/// why it carries none.
pub fn bearer(headers: &HeaderMap) -> Result<&str, Unauthenticated> {
    let value = headers.get(AUTHORIZATION).ok_or(Unauthenticated::Missing)?;
    let value = value.to_str().map_err(|_| Unauthenticated::NotBearer)?;
    let (scheme, secret) = value.split_once(' ').ok_or(Unauthenticated::NotBearer)?;
    let secret = secret.trim();
    if scheme.eq_ignore_ascii_case("bearer") && !secret.is_empty() {
        Ok(secret)
    } else {
        Err(Unauthenticated::NotBearer)
    }
}

fn identify(app: &AppState, secret: &str) -> Option<Caller> {
    if let Some(entry) = app.keys.check(secret) {
        return Some(Caller::Key(entry.identity()));
    }
    let grant = app.engine.tokens().check(secret)?;
    // A worker calling back is alive (the `silent_worker` alert rule).
    app.engine.heard_from(grant.node_id);
    Some(Caller::Worker(grant))
}

/// A key's own rate limit, if it has one.
pub fn own_rate(row: &crate::store::ApiKeyRow) -> Option<Rate> {
    let per_second = u32::try_from(row.rate_per_second?).ok()?;
    let burst = row.rate_burst.and_then(|b| u32::try_from(b).ok()).unwrap_or(per_second);
    Some(Rate { per_second, burst })
}

fn too_many(wait: Duration) -> ApiError {
    let retry_after_s = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    ApiError::TooManyRequests { detail: "rate limit exceeded".into(), retry_after_s: retry_after_s.max(1) }
}
