//! Authentication and authorisation: API keys (generation, hashing, the in-memory key ring),
//! who is calling ([`caller`]), per-caller rate limits ([`limit`]) and the middleware that
//! puts them in front of every `/api/v1` route ([`middleware`]).
//!
//! Secrets are `sk-orch-` plus random alphanumerics; only their SHA-256 is stored. A fast
//! hash is enough because the secrets are long and random (nothing to brute-force from a
//! dictionary), and it keeps the per-request check to a hash and a map lookup.

pub mod caller;
pub mod limit;
pub mod middleware;

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

use rand::distr::{Alphanumeric, SampleString};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub use caller::{Caller, KeyIdentity, Scope, Scopes};

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

/// A key as the ring keeps it.
pub struct KeyEntry {
    pub row: ApiKeyRow,
    pub scopes: Scopes,
    /// Last use, in Unix ms (0: never); written to the store now and then.
    last_used_ms: AtomicI64,
    /// Last use already written to the store.
    stored_used_ms: AtomicI64,
}

impl KeyEntry {
    /// This key as a caller's identity.
    pub fn identity(&self) -> KeyIdentity {
        KeyIdentity {
            id: self.row.id,
            name: self.row.name.clone(),
            scopes: self.scopes,
            rate: middleware::own_rate(&self.row),
            groups: self.row.groups.split(',').filter(|g| !g.is_empty()).map(String::from).collect(),
        }
    }
}

/// The keys the server accepts.
#[derive(Default)]
pub struct KeyRing {
    by_hash: RwLock<HashMap<String, Arc<KeyEntry>>>,
}

/// What a new key should be.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub name: String,
    pub scopes: Scopes,
    pub expires_ms: Option<i64>,
    pub rate_per_second: Option<u32>,
    pub rate_burst: Option<u32>,
    /// Groups approvers may name (`group:NAME`).
    pub groups: Vec<String>,
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

    /// Brings the ring up to the stored keys, keeping each known key's use times: how a
    /// replica of a cluster learns of keys made, revoked or changed on another.
    pub async fn refresh(&self, store: &SharedStore) -> Result<(), StoreError> {
        let rows = store.api_keys().await?;
        let fresh: HashMap<String, Arc<KeyEntry>> = {
            let known = self.read();
            rows.into_iter()
                .map(|row| {
                    let stored = row.last_used_ms.unwrap_or(0);
                    let old = known.get(&row.key_hash);
                    let used = old.map_or(stored, |e| e.last_used_ms.load(Ordering::Relaxed).max(stored));
                    let entry = KeyEntry {
                        scopes: Scopes::parse(&row.scopes),
                        last_used_ms: AtomicI64::new(used),
                        stored_used_ms: AtomicI64::new(
                            old.map_or(stored, |e| e.stored_used_ms.load(Ordering::Relaxed)),
                        ),
                        row,
                    };
                    (entry.row.key_hash.clone(), Arc::new(entry))
                })
                .collect()
        };
        *self.write() = fresh;
        Ok(())
    }

    fn insert(&self, row: ApiKeyRow) {
        let used = row.last_used_ms.unwrap_or(0);
        let entry = KeyEntry {
            scopes: Scopes::parse(&row.scopes),
            row,
            last_used_ms: AtomicI64::new(used),
            stored_used_ms: AtomicI64::new(used),
        };
        self.write().insert(entry.row.key_hash.clone(), Arc::new(entry));
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Arc<KeyEntry>>> {
        self.by_hash.write().unwrap_or_else(|p| p.into_inner())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Arc<KeyEntry>>> {
        self.by_hash.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The live key with this secret, if any; marks it used.
    pub fn check(&self, secret: &str) -> Option<Arc<KeyEntry>> {
        if !is_well_formed(secret) {
            return None;
        }
        let now = now_ms();
        let entry = self.read().get(&hash_key(secret)).cloned()?;
        let live = entry.row.revoked_ms.is_none() && entry.row.expires_ms.is_none_or(|at| at > now);
        live.then(|| {
            entry.last_used_ms.store(now, Ordering::Relaxed);
            entry
        })
    }

    /// Stores and accepts a new key with the given secret.
    pub async fn add(&self, store: &SharedStore, secret: &str, key: &NewKey) -> Result<ApiKeyRow, StoreError> {
        let row = ApiKeyRow {
            id: Uuid::now_v7(),
            name: key.name.clone(),
            key_hash: hash_key(secret),
            prefix: secret.chars().take(SHOWN_PREFIX_CHARS).collect(),
            scopes: key.scopes.to_string(),
            created_ms: now_ms(),
            expires_ms: key.expires_ms,
            revoked_ms: None,
            rate_per_second: key.rate_per_second.map(i64::from),
            rate_burst: key.rate_burst.map(i64::from),
            last_used_ms: None,
            groups: key.groups.join(","),
        };
        store.insert_api_key(&row).await?;
        self.insert(row.clone());
        Ok(row)
    }

    /// Revokes a key in the store and here; false when unknown or already revoked.
    pub async fn revoke(&self, store: &SharedStore, id: Uuid) -> Result<bool, StoreError> {
        let now = now_ms();
        if !store.revoke_api_key(id, now).await? {
            return Ok(false);
        }
        let mut ring = self.write();
        let Some((hash, entry)) = ring.iter().find(|(_, e)| e.row.id == id).map(|(h, e)| (h.clone(), e.clone())) else {
            return Ok(true);
        };
        let mut row = entry.row.clone();
        row.revoked_ms = Some(now);
        let replaced = KeyEntry {
            scopes: entry.scopes,
            row,
            last_used_ms: AtomicI64::new(entry.last_used_ms.load(Ordering::Relaxed)),
            stored_used_ms: AtomicI64::new(entry.stored_used_ms.load(Ordering::Relaxed)),
        };
        ring.insert(hash, Arc::new(replaced));
        Ok(true)
    }

    /// Every key, oldest first, with its last use.
    pub fn list(&self) -> Vec<ApiKeyRow> {
        let mut rows: Vec<ApiKeyRow> = self
            .read()
            .values()
            .map(|e| {
                let mut row = e.row.clone();
                let used = e.last_used_ms.load(Ordering::Relaxed);
                row.last_used_ms = (used > 0).then_some(used);
                row
            })
            .collect();
        rows.sort_by_key(|r| (r.created_ms, r.id));
        rows
    }

    /// Writes last-use times that changed since the previous call.
    pub async fn store_last_used(&self, store: &SharedStore) -> Result<(), StoreError> {
        let changed: Vec<(Uuid, i64)> = self
            .read()
            .values()
            .filter_map(|e| {
                let used = e.last_used_ms.load(Ordering::Relaxed);
                (used != e.stored_used_ms.swap(used, Ordering::Relaxed)).then_some((e.row.id, used))
            })
            .collect();
        store.touch_api_keys(&changed).await
    }

    /// True when no key exists.
    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
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

/// Refuses a configured bootstrap key that is not a well-formed key (empty means none).
pub fn check_bootstrap_key(configured: &str) -> Result<(), BootstrapError> {
    if configured.is_empty() || is_well_formed(configured) {
        Ok(())
    } else {
        Err(BootstrapError::Malformed)
    }
}

/// Installs the configured bootstrap key (an ordinary admin key), or generates one when no
/// key exists yet. Returns a generated secret, which the caller shows once.
pub async fn bootstrap(
    ring: &KeyRing,
    store: &SharedStore,
    configured: &str,
) -> Result<Option<String>, BootstrapError> {
    let key = NewKey {
        name: "bootstrap".into(),
        scopes: Scopes::all(),
        expires_ms: None,
        rate_per_second: None,
        rate_burst: None,
        groups: Vec::new(),
    };
    if !configured.is_empty() {
        check_bootstrap_key(configured)?;
        let known = ring.read().contains_key(&hash_key(configured));
        if !known {
            ring.add(store, configured, &key).await?;
        }
        return Ok(None);
    }
    if !ring.is_empty() {
        return Ok(None);
    }
    let secret = generate_key();
    ring.add(store, &secret, &key).await?;
    Ok(Some(secret))
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
