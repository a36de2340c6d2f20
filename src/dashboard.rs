//! The dashboard's files (built by Vite into `frontend/dist`) served at `/`. A release build
//! embeds them in the binary; a debug build reads them from `frontend/dist` as they are now,
//! so a rebuilt dashboard shows without recompiling the server.
//!
//! Hashed files under `assets/` never change under the same name, so browsers may keep them
//! for a year; `index.html` names the current hashes and is revalidated on every load. Paths
//! without a file extension are the single-page app's own routes and get `index.html`.
//! Unknown `/api/…` paths never reach this module's fallback page: they answer JSON 404s.

use axum::extract::OriginalUri;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use rust_embed::{EmbeddedFile, RustEmbed};

use crate::error::ApiError;

#[derive(RustEmbed)]
#[folder = "frontend/dist/"]
#[allow_missing = true]
struct Assets;

/// The page every client-side route is answered with.
const INDEX: &str = "index.html";
/// Vite's folder of content-hashed files.
const HASHED_PREFIX: &str = "assets/";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";
/// Answered at `/` by a binary built with `CADRE_SKIP_FRONTEND=1` and no prior build.
const NOT_BUILT: &str = "The dashboard was not built into this binary (CADRE_SKIP_FRONTEND was set). \
The API is at /api/v1 and its reference at /docs.";

/// The page may talk only to its own origin (REST and the event stream) and load nothing
/// from elsewhere; styles set by D3 as attributes need `'unsafe-inline'`.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; \
style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Prefixes owned by the server itself: a miss under them is a JSON 404, never the app.
const SERVER_PREFIXES: [&str; 4] = ["/api/", "/ws/", "/docs", "/metrics"];

/// The fallback of the whole router: a dashboard file, the app's page, or a JSON 404.
pub async fn serve(method: Method, OriginalUri(uri): OriginalUri, headers: HeaderMap) -> Response {
    let path = uri.path();
    let for_server = SERVER_PREFIXES.iter().any(|prefix| path.starts_with(prefix)) || path == "/api";
    if for_server || (method != Method::GET && method != Method::HEAD) {
        return ApiError::NotFound(format!("route {path}")).into_response();
    }
    let name = path.trim_start_matches('/');
    if let Some(file) = Assets::get(name).filter(|_| !name.is_empty()) {
        return file_response(name, &file, &headers);
    }
    if is_app_route(name) {
        return match Assets::get(INDEX) {
            Some(index) => file_response(INDEX, &index, &headers),
            None => (StatusCode::SERVICE_UNAVAILABLE, NOT_BUILT).into_response(),
        };
    }
    ApiError::NotFound(format!("file {path}")).into_response()
}

/// A client-side route rather than a missing file: its last segment has no extension.
fn is_app_route(name: &str) -> bool {
    !name.rsplit('/').next().unwrap_or_default().contains('.')
}

fn file_response(name: &str, file: &EmbeddedFile, request: &HeaderMap) -> Response {
    let etag = format!("\"{}\"", hex::encode(file.metadata.sha256_hash()));
    let cache = if name.starts_with(HASHED_PREFIX) { IMMUTABLE } else { REVALIDATE };
    let mut headers = HeaderMap::new();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    let unchanged = request.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| v == etag);
    if unchanged {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    if let Ok(value) = HeaderValue::from_str(file.metadata.mimetype()) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    (headers, file.data.clone()).into_response()
}

#[cfg(test)]
mod tests {
    use super::is_app_route;

    #[test]
    fn paths_without_an_extension_are_app_routes() {
        assert!(is_app_route(""));
        assert!(is_app_route("jobs/0193"));
        assert!(!is_app_route("assets/index-abc123.js"));
        assert!(!is_app_route("favicon.ico"));
    }
}
