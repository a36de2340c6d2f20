//! Signs of life of running `command` workers, for the `silent_worker` alert rule: the last
//! time (ms) each wrote to its stdout or stderr, or called back with its token. The driver
//! registers a worker when its attempt starts and forgets it when the attempt ends; the
//! executor sets the clock again once the process is running (an attempt may first wait for
//! the store's flush or a workspace's checkout, which is not the worker being silent); the
//! output readers and the API's token check note what they see.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use uuid::Uuid;

use crate::events::now_ms;

/// The last sign of life of each running command worker.
#[derive(Debug, Default)]
pub struct SignsOfLife {
    workers: Mutex<HashMap<Uuid, Arc<AtomicI64>>>,
}

impl SignsOfLife {
    /// A worker's attempt starts: its clock, which its output readers move on.
    pub fn start(&self, node_id: Uuid) -> Arc<AtomicI64> {
        let clock = Arc::new(AtomicI64::new(now_ms()));
        self.lock().insert(node_id, clock.clone());
        clock
    }

    /// The worker called back (any request with its token).
    pub fn heard_from(&self, node_id: Uuid) {
        if let Some(clock) = self.lock().get(&node_id) {
            clock.store(now_ms(), Ordering::Relaxed);
        }
    }

    /// When the worker last showed a sign of life, while it runs.
    pub fn last(&self, node_id: Uuid) -> Option<i64> {
        self.lock().get(&node_id).map(|clock| clock.load(Ordering::Relaxed))
    }

    /// Its attempt ended.
    pub fn end(&self, node_id: Uuid) {
        self.lock().remove(&node_id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Arc<AtomicI64>>> {
        self.workers.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
