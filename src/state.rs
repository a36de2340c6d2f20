//! What every handler shares: the [`App`] built once at start-up and passed through axum's
//! `State` (checked at compile time, unlike extensions), and the recent request latencies it
//! keeps for `/recursion/stats`.
//!
//! Kept apart from `app.rs`, which assembles the router and runs the server, so that the
//! handlers (`api/`, `ws/`, `auth/`) import the state without importing what imports them.

use std::collections::VecDeque;
use std::ops::Deref;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::auth::limit::RateLimits;
use crate::auth::KeyRing;
use crate::config::Config;
use crate::engine::Engine;
use crate::events::EventFeeds;

/// API latency samples kept for the percentiles in `/recursion/stats`.
const LATENCY_SAMPLES: usize = 4096;

/// What handlers share.
pub struct App {
    /// The configuration in force.
    pub config: Config,
    /// The orchestrator.
    pub engine: Engine,
    /// Accepted API keys.
    pub keys: KeyRing,
    /// Recent API latencies.
    pub latency: LatencyRecorder,
    /// Stored events, as they are committed.
    pub events: EventFeeds,
    /// Event-stream counters.
    pub stream: crate::ws::StreamMetrics,
    /// Cancelled when the server begins to shut down (event-stream sockets close with 1001).
    pub shutdown: tokio_util::sync::CancellationToken,
    /// Request rate limits.
    pub limits: RateLimits,
    /// Serialised views of ended jobs.
    pub views: crate::api::view_cache::ViewCache,
    /// Signed webhooks and where their deliveries stand.
    pub webhooks: crate::people::notify::Webhooks,
    /// This replica and what it knows of the others (a cluster of one without `[cluster]`).
    pub cluster: Arc<crate::cluster::Membership>,
}

/// Cheap-to-clone handle to the [`App`].
#[derive(Clone)]
pub struct AppState(pub Arc<App>);

impl Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

/// A ring of recent request latencies.
#[derive(Default)]
pub struct LatencyRecorder {
    samples: Mutex<VecDeque<u32>>,
}

impl LatencyRecorder {
    /// Keeps one request's latency, dropping the oldest past the ring's size.
    pub fn record(&self, elapsed: Duration) {
        let mut samples = self.samples.lock().unwrap_or_else(|p| p.into_inner());
        if samples.len() == LATENCY_SAMPLES {
            samples.pop_front();
        }
        samples.push_back(u32::try_from(elapsed.as_micros()).unwrap_or(u32::MAX));
    }

    /// The given percentiles (0–100) in milliseconds, and the number of samples.
    pub fn percentiles_ms(&self, wanted: &[f64]) -> (Vec<f64>, usize) {
        let mut sorted: Vec<u32> = self.samples.lock().unwrap_or_else(|p| p.into_inner()).iter().copied().collect();
        sorted.sort_unstable();
        let values = wanted.iter().map(|p| percentile(&sorted, *p) as f64 / 1000.0).collect();
        (values, sorted.len())
    }
}

/// Nearest-rank percentile of sorted samples (0 when empty).
pub fn percentile<T: Copy + Default>(sorted: &[T], p: f64) -> T {
    if sorted.is_empty() {
        return T::default();
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}
