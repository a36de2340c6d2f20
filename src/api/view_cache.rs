//! The serialised answers of `GET /recursion/job/{id}` for jobs that have ended.
//!
//! An ended job never changes again, yet reading one means loading every node row and
//! building the whole tree (a 364-node job: ~7 ms of CPU and 235 KB of JSON), which is what
//! dashboards and CI scripts polling a finished job repeat. The bytes are kept once, keyed
//! by the job and the query, and shared (not copied) by every answer. Only full views (a key's
//! caller) are kept; a worker token's subtree view is always built. The oldest entries go
//! first once the cache holds [`CAPACITY_BYTES`].

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use bytes::Bytes;
use uuid::Uuid;

/// Memory the cache may hold.
const CAPACITY_BYTES: usize = 64 * 1024 * 1024;
/// Views larger than this are not kept: one must not evict everything else.
const MAX_ENTRY_BYTES: usize = 8 * 1024 * 1024;

/// A job and the query's shape (`max_depth`, `results`).
pub type ViewKey = (Uuid, Option<i64>, bool);

/// The cache; shared through the application state.
#[derive(Default)]
pub struct ViewCache {
    inner: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    views: HashMap<ViewKey, Bytes>,
    /// Insertion order, for eviction.
    order: VecDeque<ViewKey>,
    bytes: usize,
}

impl ViewCache {
    /// The kept answer, if any.
    pub fn get(&self, key: &ViewKey) -> Option<Bytes> {
        self.lock().views.get(key).cloned()
    }

    /// Keeps an ended job's answer, evicting the oldest answers past the capacity.
    pub fn put(&self, key: ViewKey, view: Bytes) {
        if view.len() > MAX_ENTRY_BYTES {
            return;
        }
        let mut entries = self.lock();
        entries.bytes += view.len();
        if let Some(previous) = entries.views.insert(key, view) {
            entries.bytes -= previous.len();
        } else {
            entries.order.push_back(key);
        }
        while entries.bytes > CAPACITY_BYTES {
            let Some(oldest) = entries.order.pop_front() else { break };
            if let Some(evicted) = entries.views.remove(&oldest) {
                entries.bytes -= evicted.len();
            }
        }
    }

    /// Forgets every kept answer of one job (usage reported as it ended must not be hidden).
    pub fn forget(&self, job_id: Uuid) {
        let mut entries = self.lock();
        let Entries { views, order, bytes } = &mut *entries;
        order.retain(|key| {
            if key.0 != job_id {
                return true;
            }
            if let Some(view) = views.remove(key) {
                *bytes -= view.len();
            }
            false
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // The map stays consistent whatever panicked while holding it: recover it.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_views_go_first_past_the_capacity() {
        let cache = ViewCache::default();
        let view = Bytes::from(vec![b'x'; MAX_ENTRY_BYTES]);
        let keys: Vec<ViewKey> = (0..9).map(|_| (Uuid::new_v4(), None, true)).collect();
        for key in &keys {
            cache.put(*key, view.clone());
        }
        assert!(cache.get(&keys[0]).is_none(), "evicted: eight of these fill the capacity");
        assert!(keys[1..].iter().all(|k| cache.get(k).is_some()));
        let huge = Bytes::from(vec![b'x'; MAX_ENTRY_BYTES + 1]);
        let key = (Uuid::new_v4(), Some(1), false);
        cache.put(key, huge);
        assert!(cache.get(&key).is_none(), "too large to keep");
    }

    #[test]
    fn forgetting_a_job_drops_each_of_its_shapes_only() {
        let cache = ViewCache::default();
        let (job, other) = (Uuid::new_v4(), Uuid::new_v4());
        for key in [(job, None, true), (job, Some(1), false), (other, None, true)] {
            cache.put(key, Bytes::from_static(b"{}"));
        }
        cache.forget(job);
        assert!(cache.get(&(job, None, true)).is_none() && cache.get(&(job, Some(1), false)).is_none());
        assert!(cache.get(&(other, None, true)).is_some());
        assert_eq!(cache.lock().bytes, 2);
    }
}
