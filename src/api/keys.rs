//! API key management (admin scope): create (the secret is shown once), list, revoke.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::extract::{parse_id, AppJson, Source};
use crate::auth::{generate_key, Caller, NewKey, Scope, Scopes};
use crate::domain::validate::is_valid_name;
use crate::domain::FieldError;
use crate::error::{ApiError, ApiResult, Problem};
use crate::events::{ms_to_rfc3339, now_ms};
use crate::state::AppState;
use crate::store::ApiKeyRow;

/// The longest a key may live, in seconds (ten years).
const MAX_EXPIRY_S: u64 = 10 * 365 * 24 * 3600;
/// The highest per-key rate a key may be given.
const MAX_RATE_PER_SECOND: u32 = 100_000;
const MAX_GROUPS: usize = 20;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_key, list_keys)).routes(routes!(revoke_key))
}

/// A key to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "ci-pipeline", "scopes": ["read", "write"], "expires_in_s": 86400}))]
pub struct CreateKey {
    /// What the key is for (`[A-Za-z0-9_.-]{1,64}`).
    #[schema(pattern = r"^[A-Za-z0-9_.-]{1,64}$")]
    pub name: String,
    /// Any of `read`, `write`, `admin`.
    #[schema(value_type = Vec<Scope>, min_items = 1)]
    pub scopes: Vec<String>,
    /// Seconds until the key expires; absent: never.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 315_360_000)]
    pub expires_in_s: Option<u64>,
    /// The key's own rate limit; absent: the server default.
    #[serde(default)]
    pub rate_limit: Option<KeyRate>,
    /// Groups the key is in, which approvers may name as `group:NAME`
    /// (`[A-Za-z0-9_.-]{1,64}` each).
    #[serde(default)]
    #[schema(max_items = 20)]
    pub groups: Vec<String>,
}

/// A rate limit.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyRate {
    /// Requests per second (1–100000).
    #[schema(minimum = 1, maximum = 100_000)]
    pub per_second: u32,
    /// Requests allowed at once; at least `per_second`.
    #[schema(minimum = 1)]
    pub burst: u32,
}

/// A key as listed (never the secret).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct KeyView {
    pub id: Uuid,
    pub name: String,
    /// The first characters of the secret, to recognise it.
    pub prefix: String,
    #[schema(value_type = Vec<Scope>)]
    pub scopes: Vec<String>,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
    pub rate_limit: Option<KeyRate>,
    /// Groups the key is in.
    pub groups: Vec<String>,
}

/// A new key, with its secret (shown this once).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedKey {
    /// The secret: store it now, it cannot be shown again.
    pub key: String,
    #[serde(flatten)]
    pub view: KeyView,
}

/// The keys.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct KeyList {
    pub keys: Vec<KeyView>,
}

impl From<&ApiKeyRow> for KeyView {
    fn from(row: &ApiKeyRow) -> Self {
        let rate_limit =
            crate::auth::middleware::own_rate(row).map(|r| KeyRate { per_second: r.per_second, burst: r.burst });
        Self {
            id: row.id,
            name: row.name.clone(),
            prefix: row.prefix.clone(),
            scopes: Scopes::parse(&row.scopes).names().into_iter().map(String::from).collect(),
            created_at: ms_to_rfc3339(row.created_ms),
            expires_at: row.expires_ms.map(ms_to_rfc3339),
            revoked_at: row.revoked_ms.map(ms_to_rfc3339),
            last_used_at: row.last_used_ms.map(ms_to_rfc3339),
            rate_limit,
            groups: row.groups.split(',').filter(|g| !g.is_empty()).map(String::from).collect(),
        }
    }
}

/// Create a key.
#[utoipa::path(post, path = "/keys", tag = "keys", request_body = CreateKey,
    responses(
        (status = 201, description = "Created; the secret is in `key`", body = CreatedKey),
        (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn create_key(
    State(app): State<AppState>,
    caller: Caller,
    source: Source,
    AppJson(body): AppJson<CreateKey>,
) -> ApiResult<(StatusCode, Json<CreatedKey>)> {
    caller.require(Scope::Admin)?;
    let outcome = create(&app, &body).await;
    let target = outcome.as_ref().ok().map(|(_, row)| row.id.to_string());
    super::record(&app, &caller, &source, "key.create", target, &outcome);
    let (secret, row) = outcome?;
    Ok((StatusCode::CREATED, Json(CreatedKey { key: secret, view: KeyView::from(&row) })))
}

async fn create(app: &AppState, body: &CreateKey) -> ApiResult<(String, ApiKeyRow)> {
    let key = parse_new_key(body)?;
    let secret = generate_key();
    let row = app.keys.add(app.engine.store(), &secret, &key).await?;
    Ok((secret, row))
}

fn parse_new_key(body: &CreateKey) -> ApiResult<NewKey> {
    let mut errors = Vec::new();
    let mut error = |path: &str, message: String| errors.push(FieldError { path: path.into(), message });
    if !is_valid_name(&body.name) {
        error("name", "must match [A-Za-z0-9_.-]{1,64}".into());
    }
    for (i, name) in body.scopes.iter().enumerate() {
        if Scope::parse(name).is_none() {
            error(&format!("scopes[{i}]"), format!("'{name}' is not a scope (read, write, admin)"));
        }
    }
    if body.scopes.is_empty() {
        error("scopes", "at least one scope".into());
    }
    if body.expires_in_s.is_some_and(|s| s == 0 || s > MAX_EXPIRY_S) {
        error("expires_in_s", format!("must be 1–{MAX_EXPIRY_S}"));
    }
    if let Some(rate) = body.rate_limit {
        if rate.per_second == 0 || rate.per_second > MAX_RATE_PER_SECOND || rate.burst < rate.per_second {
            error("rate_limit", format!("per_second must be 1–{MAX_RATE_PER_SECOND} and burst at least per_second"));
        }
    }
    errors.extend(group_errors(&body.groups));
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok(NewKey {
        groups: body.groups.clone(),
        name: body.name.clone(),
        scopes: body.scopes.iter().filter_map(|s| Scope::parse(s)).collect(),
        expires_ms: body.expires_in_s.map(|s| now_ms() + (s as i64) * 1000),
        rate_per_second: body.rate_limit.map(|r| r.per_second),
        rate_burst: body.rate_limit.map(|r| r.burst),
    })
}

/// The problems of a key's groups.
fn group_errors(groups: &[String]) -> Vec<FieldError> {
    let mut errors: Vec<FieldError> = (groups.iter().enumerate())
        .filter(|(_, group)| !is_valid_name(group))
        .map(|(i, _)| FieldError { path: format!("groups[{i}]"), message: "must match [A-Za-z0-9_.-]{1,64}".into() })
        .collect();
    if groups.len() > MAX_GROUPS {
        errors.push(FieldError { path: "groups".into(), message: format!("at most {MAX_GROUPS} groups") });
    }
    errors
}

/// List keys (secrets are never shown again).
#[utoipa::path(get, path = "/keys", tag = "keys",
    responses(
        (status = 200, description = "The keys", body = KeyList),
        (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn list_keys(State(app): State<AppState>, caller: Caller) -> ApiResult<Json<KeyList>> {
    caller.require(Scope::Admin)?;
    Ok(Json(KeyList { keys: app.keys.list().iter().map(KeyView::from).collect() }))
}

/// Revoke a key; it is refused from its next request on.
#[utoipa::path(delete, path = "/keys/{id}", tag = "keys", params(("id" = uuid::Uuid, Path, description = "Key id")),
    responses(
        (status = 200, description = "Revoked", body = KeyView),
        (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such key", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already revoked", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn revoke_key(
    State(app): State<AppState>,
    caller: Caller,
    source: Source,
    Path(id): Path<String>,
) -> ApiResult<Json<KeyView>> {
    caller.require(Scope::Admin)?;
    let outcome = revoke(&app, &id).await;
    super::record(&app, &caller, &source, "key.revoke", Some(id), &outcome);
    outcome.map(Json)
}

async fn revoke(app: &AppState, id: &str) -> ApiResult<KeyView> {
    let id = parse_id(id, "key")?;
    let known =
        app.keys.list().into_iter().find(|k| k.id == id).ok_or_else(|| ApiError::NotFound(format!("key {id}")))?;
    if known.revoked_ms.is_some() || !app.keys.revoke(app.engine.store(), id).await? {
        return Err(ApiError::Conflict(format!("key {id} is already revoked")));
    }
    app.limits.forget(id);
    let revoked = app.keys.list().into_iter().find(|k| k.id == id).unwrap_or(known);
    Ok(KeyView::from(&revoked))
}
