//! What the benchmarks share: a real server started in-process on SQLite (durable, in a
//! temporary directory) or on the PostgreSQL named by `DATABASE_URL`.

/// The key the benchmark server accepts.
pub const KEY: &str = "sk-orch-bench-key-0123456789abcdefghijklmnop";
/// No benchmark client should be rate-limited.
const UNLIMITED_RATE: u32 = 1_000_000;
/// Room for the `million` workload (1,010,101 nodes) and its request body.
const BENCH_MAX_NODES: usize = 2_000_000;
const BENCH_BODY_LIMIT: usize = 512 * 1024 * 1024;

/// Starts the server; returns its `host:port` and the backend's name.
pub async fn start_server(dir: &std::path::Path) -> (String, &'static str) {
    let mut config = cadre::config::Config::default();
    config.store.data_dir = dir.join("data");
    config.auth.bootstrap_key = KEY.into();
    config.rate_limit.per_second = UNLIMITED_RATE;
    config.rate_limit.burst = UNLIMITED_RATE;
    config.limits.max_nodes_per_job = BENCH_MAX_NODES;
    config.server.body_limit_bytes = BENCH_BODY_LIMIT;
    let backend = match std::env::var("DATABASE_URL") {
        Ok(url) => {
            config.store.database_url = url;
            "postgres"
        }
        Err(_) => "sqlite",
    };
    let started = cadre::app::start(config).await.expect("server starts");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = format!("127.0.0.1:{}", listener.local_addr().expect("addr").port());
    tokio::spawn(cadre::app::serve(listener, started, std::future::pending()));
    (address, backend)
}
