//! Worker tokens (SPEC §4.7): a secret per running command worker, valid for that node's
//! subtree and only while its job runs. Tokens live in memory only — they die with the job,
//! and with the server — and are checked by hash, like keys.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use rand::distr::{Alphanumeric, SampleString};
use uuid::Uuid;

use crate::auth::{hash_key, KEY_PREFIX};

/// Random characters in a token.
const TOKEN_RANDOM_CHARS: usize = 40;

/// What a token allows: acting within one node's subtree of one job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerGrant {
    /// Identifies the token (audit entries, rate limits) without revealing it.
    pub token_id: Uuid,
    pub job_id: Uuid,
    pub node_id: Uuid,
}

/// The live worker tokens.
#[derive(Default)]
pub struct TokenRing {
    by_hash: Mutex<HashMap<String, WorkerGrant>>,
}

impl TokenRing {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, WorkerGrant>> {
        self.by_hash.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new token for a worker node; returns the secret.
    pub fn issue(&self, job_id: Uuid, node_id: Uuid) -> String {
        let secret = format!("{KEY_PREFIX}wt-{}", Alphanumeric.sample_string(&mut rand::rng(), TOKEN_RANDOM_CHARS));
        let grant = WorkerGrant { token_id: Uuid::now_v7(), job_id, node_id };
        self.lock().insert(hash_key(&secret), grant);
        secret
    }

    /// The grant of a live token.
    pub fn check(&self, secret: &str) -> Option<WorkerGrant> {
        self.lock().get(&hash_key(secret)).copied()
    }

    /// Revokes every token of a job (when it ends).
    pub fn revoke_job(&self, job_id: Uuid) {
        self.lock().retain(|_, grant| grant.job_id != job_id);
    }
}
