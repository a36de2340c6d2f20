//! The API reference: the OpenAPI document at [`OPENAPI_PATH`] and the bundled Swagger UI
//! at `/docs`, both public and offline (the UI's files are embedded by `utoipa-swagger-ui`).
//!
//! `/docs` answers the page itself rather than a redirect to `/docs/`: its page names its
//! files relative to `/docs/` through a `<base>` element, so both addresses work.

use std::sync::Arc;

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use utoipa_swagger_ui::Config;

/// Where the OpenAPI document is served.
pub const OPENAPI_PATH: &str = "/api/v1/openapi.json";
/// Where the reference page is served.
const DOCS: &str = "/docs";
const BASE: &str = "<head>\n    <base href=\"/docs/\">";

/// The document and the page.
pub fn router<S: Clone + Send + Sync + 'static>(document: &serde_json::Value) -> Router<S> {
    // Written once: the document does not change while the server runs.
    let document = bytes::Bytes::from(serde_json::to_vec(document).unwrap_or_default());
    let config = Arc::new(Config::new([OPENAPI_PATH]));
    Router::new()
        .route(OPENAPI_PATH, get(move || async move { ([(header::CONTENT_TYPE, "application/json")], document) }))
        .route(DOCS, get(page))
        .route(&format!("{DOCS}/"), get(page))
        .route(&format!("{DOCS}/{{*file}}"), get(file))
        .layer(Extension(config))
}

async fn page(Extension(config): Extension<Arc<Config<'static>>>) -> Response {
    let Some(index) = swagger_file("", config) else { return StatusCode::NOT_FOUND.into_response() };
    let html = String::from_utf8_lossy(&index.0).replacen("<head>", BASE, 1);
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}

async fn file(Path(file): Path<String>, Extension(config): Extension<Arc<Config<'static>>>) -> Response {
    match swagger_file(&file, config) {
        Some((bytes, content_type)) => ([(header::CONTENT_TYPE, content_type)], bytes).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A file of the page: the embedded ones served as they are (only the initializer, which
/// names our document, is written per request).
fn swagger_file(path: &str, config: Arc<Config<'static>>) -> Option<(bytes::Bytes, String)> {
    let file = utoipa_swagger_ui::serve(path, config).ok().flatten()?;
    let bytes = match file.bytes {
        std::borrow::Cow::Borrowed(embedded) => bytes::Bytes::from_static(embedded),
        std::borrow::Cow::Owned(written) => bytes::Bytes::from(written),
    };
    Some((bytes, file.content_type))
}
