//! The one error type of the HTTP edge, rendered as RFC 7807 `application/problem+json`.
//!
//! Domain errors (`EngineError`, `StoreError`) convert into [`ApiError`] exactly once, here;
//! infrastructure failures become a 500 or 503 with a fixed message, and their detail is
//! logged (once) instead of being sent to the client.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::FieldError;
use crate::engine::EngineError;
use crate::store::StoreError;

/// Seconds a client is told to wait after a 503.
const UNAVAILABLE_RETRY_AFTER_S: u64 = 5;
/// Seconds a client is told to wait when the admission queue is full.
const QUEUE_FULL_RETRY_AFTER_S: u64 = 10;

/// An error answer.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request could not be read.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no valid API key.
    #[error("{0}")]
    Unauthorized(Unauthenticated),
    /// 403: authenticated, but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// 404.
    #[error("{0} not found")]
    NotFound(String),
    /// 409: the request contradicts the current state.
    #[error("{0}")]
    Conflict(String),
    /// 413: the body is larger than the limit.
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// 415: not JSON.
    #[error("expected Content-Type: application/json")]
    UnsupportedMediaType,
    /// 422: the content is invalid; `errors` says where.
    #[error("the request is invalid")]
    Validation(Vec<FieldError>),
    /// 429: try again later.
    #[error("{detail}")]
    TooManyRequests { detail: String, retry_after_s: u64 },
    /// 502: a model the request needed answered with an error, or never usably.
    #[error("{0}")]
    BadGateway(String),
    /// 503: the store is unreachable, or the server is shutting down.
    #[error("{0}")]
    Unavailable(&'static str),
    /// 500: a fault on our side (detail logged, not sent).
    #[error("internal error")]
    Internal(String),
}

/// Why a request was not let in. An unknown key and a revoked or expired one read the same,
/// so that a 401 tells nobody which keys exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Unauthenticated {
    /// No `Authorization` header (nor `?token=` on the event stream).
    #[error(
        "this needs an API key: send `Authorization: Bearer sk-orch-…` (the CLI reads CADRE_API_KEY or --api-key)"
    )]
    Missing,
    /// A header that is not `Bearer <key>`.
    #[error("the Authorization header must be `Bearer <key>`")]
    NotBearer,
    /// A key that is unknown, revoked or expired.
    #[error("the API key is not valid: it is unknown, revoked or expired; ask an admin for a new one")]
    NotValid,
}

/// The RFC 7807 body.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URN naming the kind of problem (`urn:cadre:problem:not-found`).
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Validation errors with the path of each offending field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

impl ApiError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::BadGateway(_) => StatusCode::BAD_GATEWAY,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn slug(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad-request",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not-found",
            Self::Conflict(_) => "conflict",
            Self::PayloadTooLarge(_) => "payload-too-large",
            Self::UnsupportedMediaType => "unsupported-media-type",
            Self::Validation(_) => "validation-error",
            Self::TooManyRequests { .. } => "too-many-requests",
            Self::BadGateway(_) => "bad-gateway",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    fn retry_after(&self) -> Option<u64> {
        match self {
            Self::TooManyRequests { retry_after_s, .. } => Some(*retry_after_s),
            Self::Unavailable(_) => Some(UNAVAILABLE_RETRY_AFTER_S),
            _ => None,
        }
    }
}

impl IntoResponse for ApiError {
    #[expect(clippy::cognitive_complexity, reason = "the count is tracing's macro expansion, not branching")]
    fn into_response(self) -> Response {
        if let Self::Internal(detail) = &self {
            tracing::error!(error = %detail, "internal error");
        }
        let status = self.status();
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Some(seconds) = self.retry_after() {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if matches!(self, Self::Unauthorized(_)) {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl ApiError {
    /// The RFC 7807 body of this error.
    pub fn problem(&self) -> Problem {
        let status = self.status();
        Problem {
            kind: format!("urn:cadre:problem:{}", self.slug()),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail: self.to_string(),
            errors: match self {
                Self::Validation(errors) => Some(errors.clone()),
                _ => None,
            },
        }
    }
}

const STORE_UNAVAILABLE: &str = "the store is unavailable; try again shortly";
const FENCED: &str = "this replica is no longer a member of its cluster; send the request to another";

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(_) => {
                tracing::warn!(error = %err, "store unavailable");
                Self::Unavailable(STORE_UNAVAILABLE)
            }
            StoreError::Fenced => Self::Unavailable(FENCED),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(err: EngineError) -> Self {
        match err {
            EngineError::Invalid(errors) => Self::Validation(errors),
            EngineError::NotFound(what) => Self::NotFound(what),
            EngineError::Conflict(why) => Self::Conflict(why),
            EngineError::Forbidden(why) => Self::Forbidden(why),
            EngineError::StoreUnreachable => Self::Unavailable(STORE_UNAVAILABLE),
            EngineError::ShuttingDown => Self::Unavailable("the server is shutting down; try again once it is back"),
            EngineError::QueueFull(waiting) => Self::TooManyRequests {
                detail: format!("the admission queue is full ({waiting} jobs waiting)"),
                retry_after_s: QUEUE_FULL_RETRY_AFTER_S,
            },
            EngineError::Store(store) => store.into(),
            EngineError::Journal(journal) if journal.is_fenced() => Self::Unavailable(FENCED),
            EngineError::Journal(journal) => Self::Internal(journal.to_string()),
            EngineError::Config(problem) => Self::Internal(problem),
        }
    }
}

/// Result of handlers.
pub type ApiResult<T> = Result<T, ApiError>;
