//! The application's start and run: [`start`] opens the store, starts the engine, the key
//! ring and the webhooks' delivery tasks and builds the shared [`App`](crate::state::App);
//! [`router`] puts the HTTP surface behind its layers; [`serve`] runs it until the shutdown
//! future resolves. Tests use both directly, on a port-0 listener.

use std::future::Future;
use std::sync::Arc;
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
use crate::cluster::Membership;
use crate::config::Config;
use crate::engine::{Engine, EngineParts};
use crate::events::EventFeeds;
use crate::people::notify::Webhooks;
use crate::state::{App, AppState, LatencyRecorder};

/// How long shutdown waits for event-stream sockets to close.
const STREAM_CLOSE_GRACE: Duration = Duration::from_secs(2);
const STREAM_CLOSE_POLL: Duration = Duration::from_millis(20);
/// How often keys' last-use times are written.
const KEY_USE_FLUSH: Duration = Duration::from_secs(30);

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
    /// A webhook's secret is missing (the message names its variable).
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Cluster(#[from] crate::cluster::ClusterError),
}

/// Opens the store, starts the engine and loads the keys.
pub async fn start(config: Config) -> Result<Started, StartError> {
    // Checked before the store is opened, so that a bad key leaves nothing on disk.
    auth::check_bootstrap_key(&config.auth.bootstrap_key)?;
    let webhooks = Webhooks::prepare(&config.notify)?;
    let store = crate::store::open(config.store.url(), &config.store.data_dir).await?;
    let tracker = TaskTracker::new();
    let (events, cluster) = if config.cluster.enabled {
        let events = EventFeeds::tailed();
        let cluster = Membership::join(&config, store.clone(), &events, &tracker).await?;
        (events, cluster)
    } else {
        (EventFeeds::default(), Membership::single(&config, store.clone()))
    };
    let parts = EngineParts { store: store.clone(), events: events.clone(), tracker: tracker.clone() };
    let engine = Engine::start(&config, parts).await?;
    crate::cluster::takeover::spawn(cluster.clone(), engine.clone(), &tracker);
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
        webhooks,
        cluster,
    };
    let state = AppState(Arc::new(app));
    tracker.spawn(store_key_use(state.clone()));
    if state.cluster.enabled {
        tracker.spawn(follow_keys(state.clone()));
        let (membership, every) = (state.cluster.clone(), Duration::from_secs(state.cluster.timing().0));
        let delivers = move || membership.is_steward();
        state.webhooks.start_while((&store, &state.events), &tracker, &state.shutdown, (every, delivers));
    } else {
        state.webhooks.start(&store, &state.events, &tracker, &state.shutdown);
    }
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

/// A replica re-reads the keys every heartbeat, so that a key made or revoked on another
/// replica is accepted or refused here within a second or so.
#[expect(clippy::cognitive_complexity, reason = "the count is tracing's macro expansion, not branching")]
async fn follow_keys(app: AppState) {
    let (heartbeat_s, _) = app.cluster.timing();
    let mut every = tokio::time::interval(Duration::from_secs(heartbeat_s));
    loop {
        every.tick().await;
        if let Err(err) = app.keys.refresh(app.engine.store()).await {
            tracing::warn!(error = %err, "the keys were not re-read");
        }
    }
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
    let url = public_url(&state.config, listener.local_addr()?);
    state.cluster.advertise(&url).await;
    state.cluster.announce_joined(&state.engine);
    state.engine.set_public_url(url);
    let token = state.shutdown.clone();
    let lost = state.cluster.lost().clone();
    let signal = async move {
        tokio::select! {
            () = shutdown => {},
            () = lost.cancelled() => {},
        }
        token.cancel();
    };
    axum::serve(listener, router(state.clone()).into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(signal)
        .await?;
    wait_for_streams_to_close(&state).await;
    state.webhooks.stopped().await;
    // A replica hands its jobs over at once (the others continue them) rather than letting
    // its running nodes finish; one declared gone stops at once and writes nothing more.
    let grace =
        if state.cluster.enabled { Duration::ZERO } else { Duration::from_secs(state.config.server.shutdown_grace_s) };
    state.engine.shutdown(grace).await;
    started.tracker.close();
    if state.cluster.lost().is_cancelled() {
        return Err(std::io::Error::other(
            "this replica lost its place in the cluster (declared gone, or its heartbeat unrenewed); \
             its jobs are continued by the other replicas: start it again to rejoin as a new replica",
        ));
    }
    state.cluster.leave(&state.engine).await;
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
