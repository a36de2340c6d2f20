//! API keys: generation, hashing, the in-memory key ring, and the bearer-key middleware.
//!
//! Secrets are `sk-orch-` plus random alphanumerics; only their SHA-256 is stored. A fast
//! hash is enough here because the secrets are long and random (nothing to brute-force from a
//! dictionary), and it keeps the per-request check to a hash and a map lookup. The ring is
//! loaded from the store at start-up and is the only place requests are checked against.

use std::collections::HashMap;
use std::sync::RwLock;

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use rand::distr::{Alphanumeric, SampleString};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::app::AppState;
use crate::error::ApiError;
use crate::events::now_ms;
use crate::store::{ApiKeyRow, SharedStore, StoreError};

/// Every key starts with this.
pub const KEY_PREFIX: &str = "sk-orch-";
/// Shortest acceptable key, prefix included.
pub const MIN_KEY_LEN: usize = 32;
/// Random characters in a generated key.
const GENERATED_RANDOM_CHARS: usize = 40;
/// Characters of a key kept in clear to recognise it in a list.
const SHOWN_PREFIX_CHARS: usize = 12;

/// A new random key.
pub fn generate_key() -> String {
    format!("{KEY_PREFIX}{}", Alphanumeric.sample_string(&mut rand::rng(), GENERATED_RANDOM_CHARS))
}

/// The stored form of a key.
pub fn hash_key(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// True if `secret` has the shape of a key.
pub fn is_well_formed(secret: &str) -> bool {
    secret.starts_with(KEY_PREFIX) && secret.len() >= MIN_KEY_LEN && secret.bytes().all(|b| b.is_ascii_graphic())
}

/// The keys the server accepts.
#[derive(Default)]
pub struct KeyRing {
    by_hash: RwLock<HashMap<String, ApiKeyRow>>,
}

impl KeyRing {
    /// Loads every stored key.
    pub async fn load(store: &SharedStore) -> Result<Self, StoreError> {
        let ring = Self::default();
        for key in store.api_keys().await? {
            ring.insert(key);
        }
        Ok(ring)
    }

    fn insert(&self, key: ApiKeyRow) {
        self.by_hash.write().unwrap_or_else(|p| p.into_inner()).insert(key.key_hash.clone(), key);
    }

    /// The live key with this secret, if any.
    pub fn check(&self, secret: &str) -> Option<ApiKeyRow> {
        if !is_well_formed(secret) {
            return None;
        }
        let now = now_ms();
        let ring = self.by_hash.read().unwrap_or_else(|p| p.into_inner());
        ring.get(&hash_key(secret))
            .filter(|k| k.revoked_ms.is_none() && k.expires_ms.is_none_or(|at| at > now))
            .cloned()
    }

    /// Stores and accepts a new key.
    pub async fn add(&self, store: &SharedStore, name: &str, secret: &str, scopes: &str) -> Result<(), StoreError> {
        let row = ApiKeyRow {
            id: Uuid::now_v7(),
            name: name.to_string(),
            key_hash: hash_key(secret),
            prefix: secret.chars().take(SHOWN_PREFIX_CHARS).collect(),
            scopes: scopes.to_string(),
            created_ms: now_ms(),
            expires_ms: None,
            revoked_ms: None,
        };
        store.insert_api_key(&row).await?;
        self.insert(row);
        Ok(())
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.by_hash.read().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// True when no key exists.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Why the bootstrap key could not be installed.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error("CADRE_BOOTSTRAP_KEY must start with `{KEY_PREFIX}` and be at least {MIN_KEY_LEN} characters")]
    Malformed,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Installs the configured bootstrap key, or generates one when no key exists yet.
/// Returns a generated secret, which the caller shows once.
pub async fn bootstrap(
    ring: &KeyRing,
    store: &SharedStore,
    configured: &str,
) -> Result<Option<String>, BootstrapError> {
    if !configured.is_empty() {
        if !is_well_formed(configured) {
            return Err(BootstrapError::Malformed);
        }
        if ring.check(configured).is_none() {
            ring.add(store, "bootstrap", configured, "admin,write,read").await?;
        }
        return Ok(None);
    }
    if !ring.is_empty() {
        return Ok(None);
    }
    let secret = generate_key();
    ring.add(store, "bootstrap", &secret, "admin,write,read").await?;
    Ok(Some(secret))
}

/// Middleware: refuses requests without a live key.
pub async fn require_key(State(app): State<AppState>, request: Request, next: Next) -> Result<Response, ApiError> {
    let secret = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match secret.and_then(|s| app.keys.check(s)) {
        Some(_) => Ok(next.run(request).await),
        None => Err(ApiError::Unauthorized),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_well_formed_and_distinct() {
        let (a, b) = (generate_key(), generate_key());
        assert!(is_well_formed(&a) && a.len() >= MIN_KEY_LEN);
        assert_ne!(a, b);
        assert_ne!(hash_key(&a), a, "only the hash is kept");
    }

    #[test]
    fn short_or_unprefixed_keys_are_refused() {
        assert!(!is_well_formed("sk-orch-short"));
        assert!(!is_well_formed("xx-orch-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
    }
}
