//! Extractors whose rejections speak problem+json: JSON bodies (with the offending field's
//! path on a shape error and 413 past the body limit), query strings and path ids.

use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::domain::FieldError;
use crate::error::ApiError;
use crate::state::AppState;

/// A JSON body; unknown fields and wrong types are 422 with the field's path.
pub struct AppJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for AppJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let is_json =
            request.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
                v.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
            });
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let limit = state.config.server.body_limit_bytes;
        let bytes =
            axum::body::to_bytes(request.into_body(), limit).await.map_err(|_| ApiError::PayloadTooLarge(limit))?;
        parse_json(&bytes).map(AppJson)
    }
}

/// Parses JSON, naming the path of the first field that does not fit.
///
/// JSON has one kind of number, so `5.0` is the integer 5 (as JSON Schema says too); serde
/// refuses it for an integer field, so a body refused for its shape is read once more with
/// its whole-valued numbers written as integers before the refusal stands.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if nesting(bytes) > MAX_NESTING {
        return Err(ApiError::BadRequest(format!("the body is nested deeper than {MAX_NESTING} levels")));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut deserializer).or_else(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return Err(ApiError::BadRequest(format!("the body is not valid JSON: {inner}")));
        }
        // The body is valid JSON (a syntax error returned above): read it once as a value.
        let Ok(mut body) = serde_json::from_slice::<serde_json::Value>(bytes) else {
            return Err(ApiError::BadRequest(format!("the body is not valid JSON: {inner}")));
        };
        if integralise(&mut body) > 0 {
            // Read again; what still does not fit is the body's real problem.
            return serde_path_to_error::deserialize(&body).map_err(|err| {
                let path = field_path(&body, err.path().to_string());
                ApiError::Validation(vec![FieldError { path, message: err.into_inner().to_string() }])
            });
        }
        let path = field_path(&body, path);
        Err(ApiError::Validation(vec![FieldError { path, message: inner.to_string() }]))
    })
}

/// Deepest JSON nesting a body may have. A job five levels deep nests about a dozen; the
/// limit keeps the reading of a plan's recursive nodes far from the end of a thread's stack
/// in every build.
const MAX_NESTING: usize = 64;

/// How deep the brackets of a JSON text go (strings skipped), read in one pass before any
/// recursive parsing.
fn nesting(bytes: &[u8]) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &byte in bytes {
        if in_string {
            (escaped, in_string) = match (escaped, byte) {
                (true, _) => (false, true),
                (false, b'\\') => (true, true),
                (false, b'"') => (false, false),
                _ => (false, true),
            };
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// The path serde_path_to_error gives, as a field error says it (`.` is the body itself).
fn field_path(body: &serde_json::Value, path: String) -> String {
    if path == "." {
        String::new()
    } else {
        within_run(body, path)
    }
}

/// A shape error at a node's `run` names the field inside it when one field is the cause.
fn within_run(body: &serde_json::Value, path: String) -> String {
    if !(path == "run" || path.ends_with(".run")) {
        return path;
    }
    let field = value_at(body, &path).and_then(crate::domain::ExecutorSpec::culprit);
    field.map_or(path.clone(), |field| format!("{path}.{field}"))
}

/// The value at a path as serde_path_to_error writes it (`plan.children[1].run`).
fn value_at<'a>(root: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    path.split('.').try_fold(root, |value, segment| {
        let (name, indices) = segment.split_once('[').map_or((segment, ""), |(name, rest)| (name, rest));
        let value = if name.is_empty() { value } else { value.get(name)? };
        indices
            .split('[')
            .filter(|i| !i.is_empty())
            .try_fold(value, |value, index| value.get(index.trim_end_matches(']').parse::<usize>().ok()?))
    })
}

/// Writes every whole-valued float (`5.0`) that fits an `i64` as an integer; returns how
/// many it wrote.
fn integralise(value: &mut serde_json::Value) -> usize {
    use serde_json::Value;
    match value {
        Value::Number(n) if n.is_f64() => {
            let float = n.as_f64().unwrap_or(f64::NAN);
            let whole = float.fract() == 0.0 && float.abs() < 9.0e15;
            if whole {
                *value = Value::from(float as i64);
            }
            usize::from(whole)
        }
        Value::Array(items) => items.iter_mut().map(integralise).sum(),
        Value::Object(fields) => fields.values_mut().map(integralise).sum(),
        _ => 0,
    }
}

/// A query string; a bad parameter is a 400 that says which.
pub struct AppQuery<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for AppQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        Query::<T>::try_from_uri(&parts.uri)
            .map(|Query(value)| AppQuery(value))
            .map_err(|rejection| ApiError::BadRequest(rejection.body_text()))
    }
}

/// The client address of a request, for the audit log.
pub struct Source(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Source {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Source(crate::auth::middleware::source(&parts.extensions)))
    }
}

/// Parses an id taken from the path.
pub fn parse_id(text: &str, what: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(text).map_err(|_| ApiError::BadRequest(format!("'{text}' is not a {what} id (a UUID)")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn nesting_counts_brackets_outside_strings() {
        assert_eq!(super::nesting(br#"{"a": [1, {"b": "[[[{"}]}"#), 3);
        assert_eq!(super::nesting(br#"{"a": "\"[[["}"#), 1, "an escaped quote does not end the string");
        assert_eq!(super::nesting(b"7"), 0);
    }
}
