//! The application: shared state, the router with its layers, and the serve loop.
//!
//! `App` holds everything a handler may need, built once at start-up and passed through
//! axum's `State` (checked at compile time, unlike extensions). [`start`] opens the store,
//! starts the engine and the key ring; [`serve`] runs the HTTP server until the shutdown
//! future resolves. Tests use both directly, on a port-0 listener.

use std::collections::VecDeque;
use std::future::Future;
use std::ops::Deref;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use tokio::net::TcpListener;
use tokio_util::task::TaskTracker;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::auth::limit::{Rate, RateLimits};
use crate::auth::{self, KeyRing};
use crate::config::Config;
use crate::engine::{Engine, EngineParts};
use crate::events::EventFeeds;

/// How long shutdown waits for event-stream sockets to close.
const STREAM_CLOSE_GRACE: Duration = Duration::from_secs(2);
const STREAM_CLOSE_POLL: Duration = Duration::from_millis(20);
/// How often keys' last-use times are written.
const KEY_USE_FLUSH: Duration = Duration::from_secs(30);
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

/// A started application, ready to serve.
pub struct Started {
    pub state: AppState,
    pub tracker: TaskTracker,
    /// A freshly generated admin key, to be shown once.
    pub generated_key: Option<String>,
}

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Engine(#[from] crate::engine::EngineError),
    #[error(transparent)]
    Bootstrap(#[from] auth::BootstrapError),
}

/// Opens the store, starts the engine and loads the keys.
pub async fn start(config: Config) -> Result<Started, StartError> {
    // Checked before the store is opened, so that a bad key leaves nothing on disk.
    auth::check_bootstrap_key(&config.auth.bootstrap_key)?;
    let store = crate::store::open(config.store.url(), &config.store.data_dir).await?;
    let tracker = TaskTracker::new();
    let events = EventFeeds::default();
    let parts = EngineParts { store: store.clone(), events: events.clone(), tracker: tracker.clone() };
    let engine = Engine::start(&config, parts).await?;
    let keys = KeyRing::load(&store).await?;
    let generated_key = auth::bootstrap(&keys, &store, &config.auth.bootstrap_key).await?;
    let limits = RateLimits::new(Rate { per_second: config.rate_limit.per_second, burst: config.rate_limit.burst });
    let app = App {
        limits,
        views: crate::api::view_cache::ViewCache::default(),
        config,
        engine,
        keys,
        latency: LatencyRecorder::default(),
        events,
        stream: crate::ws::StreamMetrics::default(),
        shutdown: tokio_util::sync::CancellationToken::new(),
    };
    let state = AppState(Arc::new(app));
    tracker.spawn(store_key_use(state.clone()));
    Ok(Started { state, tracker, generated_key })
}

/// Upgraded sockets live outside the HTTP server's drain: give them a moment to send 1001.
async fn wait_for_streams_to_close(app: &AppState) {
    let deadline = tokio::time::Instant::now() + STREAM_CLOSE_GRACE;
    while app.stream.open.load(std::sync::atomic::Ordering::Relaxed) > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(STREAM_CLOSE_POLL).await;
    }
}

/// Where workers on this machine reach the server: `server.public_url` when set, else the
/// bound address (loopback when bound to every interface).
fn public_url(config: &Config, bound: std::net::SocketAddr) -> String {
    if !config.server.public_url.is_empty() {
        return config.server.public_url.trim_end_matches('/').to_string();
    }
    let host = if bound.ip().is_unspecified() { std::net::IpAddr::from([127, 0, 0, 1]) } else { bound.ip() };
    format!("http://{}", std::net::SocketAddr::new(host, bound.port()))
}

/// Writes keys' last-use times now and then rather than on every request, and drops idle
/// rate-limit buckets.
#[expect(clippy::cognitive_complexity, reason = "the count is tracing's macro expansion, not branching")]
async fn store_key_use(app: AppState) {
    let mut every = tokio::time::interval(KEY_USE_FLUSH);
    loop {
        every.tick().await;
        if let Err(err) = app.keys.store_last_used(app.engine.store()).await {
            tracing::warn!(error = %err, "key use times not stored");
        }
        app.limits.forget_idle();
    }
}

/// The whole HTTP surface.
pub fn router(state: AppState) -> Router {
    let timeout = Duration::from_secs(state.config.server.request_timeout_s);
    crate::api::router(state.clone())
        .layer(middleware::from_fn_with_state(state, record_latency))
        .layer(CatchPanicLayer::new())
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, timeout))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    started: Started,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let state = started.state;
    state.engine.set_public_url(public_url(&state.config, listener.local_addr()?));
    let token = state.shutdown.clone();
    let signal = async move {
        shutdown.await;
        token.cancel();
    };
    axum::serve(listener, router(state.clone()).into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(signal)
        .await?;
    wait_for_streams_to_close(&state).await;
    state.engine.shutdown(Duration::from_secs(state.config.server.shutdown_grace_s)).await;
    started.tracker.close();
    Ok(())
}

/// The request span records the method and the path only: query strings can carry tokens.
fn request_span(request: &Request) -> tracing::Span {
    tracing::info_span!("http.request", http.method = %request.method(), http.path = %request.uri().path())
}

async fn record_latency(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let begun = Instant::now();
    let response = next.run(request).await;
    app.latency.record(begun.elapsed());
    response
}

/// A ring of recent request latencies.
#[derive(Default)]
pub struct LatencyRecorder {
    samples: Mutex<VecDeque<u32>>,
}

impl LatencyRecorder {
    fn record(&self, elapsed: Duration) {
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
