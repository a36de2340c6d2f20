//! What the benchmarks share: a real `cadre serve` started as its own process — so that its
//! memory is measured alone and the client's work is not counted as the server's — on SQLite
//! (durable, in a temporary directory) or on the PostgreSQL named by `DATABASE_URL`.

#[allow(dead_code, reason = "each benchmark binary uses a part of the plans")]
pub mod plans;

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The key the benchmark server accepts.
pub const KEY: &str = "sk-orch-bench-key-0123456789abcdefghijklmnop";
const BIN: &str = env!("CARGO_BIN_EXE_cadre");
/// No benchmark client should be rate-limited.
const UNLIMITED_RATE: &str = "1000000";
/// Room for the `million` workload (1,010,101 nodes) and its request body (512 MiB).
const BENCH_MAX_NODES: &str = "2000000";
const BENCH_BODY_LIMIT: &str = "536870912";
const STARTUP_DEADLINE: Duration = Duration::from_secs(60);

/// A running server; killed when dropped.
pub struct BenchServer {
    /// `host:port`.
    pub address: String,
    /// `sqlite` or `postgres`.
    #[allow(dead_code, reason = "the failover benchmark runs on PostgreSQL alone")]
    pub backend: &'static str,
    child: Child,
}

impl BenchServer {
    /// Kills the server at once (SIGKILL), as a crash would.
    #[allow(dead_code, reason = "only the failover benchmark kills its server")]
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The server's peak resident memory so far (VmHWM), in KiB.
    #[allow(dead_code, reason = "the failover benchmark measures time alone")]
    pub fn peak_rss_kib(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|status| status.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_string))
            .and_then(|line| line.split_whitespace().nth(1).and_then(|kib| kib.parse().ok()))
            .unwrap_or(0)
    }

    /// CPU time the server has used so far, user and system, in milliseconds.
    #[allow(dead_code, reason = "only the agents benchmark reads it")]
    pub fn cpu_ms(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // Fields after the command name (which may hold spaces): state is the first, utime
        // the 12th and stime the 13th, in clock ticks.
        let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
        let ticks: u64 = [11, 12].iter().filter_map(|&i| fields.get(i).and_then(|f| f.parse::<u64>().ok())).sum();
        // SAFETY: sysconf reads a constant of the system and has no preconditions.
        let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1);
        ticks as f64 * 1000.0 / per_second as f64
    }
}

impl Drop for BenchServer {
    fn drop(&mut self) {
        if std::env::var_os("BENCH_SERVER_WRAPPER").is_some() {
            // A profiler writes its data when the program exits: SIGTERM to the whole group
            // lets cadre drain and exit, and the wrapper finish.
            let group = format!("-{}", self.child.id());
            let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        } else {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// A GET with the benchmark key, its answer as JSON.
#[allow(dead_code, reason = "the stream benchmark polls nothing")]
pub async fn get_json(client: &reqwest::Client, url: &str) -> serde_json::Value {
    client.get(url).bearer_auth(KEY).send().await.expect("request").json().await.expect("json")
}

/// `cadre`, or `BENCH_SERVER_WRAPPER` (a profiler's command line, split on spaces: `heaptrack
/// -o /tmp/wide`, `perf record -g -o /tmp/perf.data --`) with `cadre` as its last argument.
/// A wrapper that forks makes the peak memory reported its own.
fn server_command() -> Command {
    let wrapper = std::env::var("BENCH_SERVER_WRAPPER").unwrap_or_default();
    let mut words = wrapper.split_whitespace();
    let Some(program) = words.next() else { return Command::new(BIN) };
    let mut command = Command::new(program);
    command.args(words).arg(BIN).process_group(0);
    command
}

/// Starts the server on a store in `dir`.
#[allow(dead_code, reason = "the agents benchmark starts its server with more configuration")]
pub async fn start_server(dir: &std::path::Path) -> BenchServer {
    start_server_with(dir, &[]).await
}

/// [`start_server`] with more configuration, as `CADRE_…` variables (the server is its own
/// process: `CADRE_LLM__PROVIDERS__NAME__BASE_URL` configures `[llm.providers.NAME]`). They
/// are set after the benchmark's own, so they may also replace those.
pub async fn start_server_with(dir: &std::path::Path, env: &[(String, String)]) -> BenchServer {
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
    let address = format!("127.0.0.1:{port}");
    let backend = if std::env::var_os("DATABASE_URL").is_some() { "postgres" } else { "sqlite" };
    let log = std::fs::File::create(dir.join("server.log")).expect("log file");
    let child = server_command()
        .arg("serve")
        .env("CADRE_BIND", &address)
        .env("CADRE_DATA_DIR", dir.join("data"))
        .env("CADRE_BOOTSTRAP_KEY", KEY)
        .env("CADRE_RATE_LIMIT__PER_SECOND", UNLIMITED_RATE)
        .env("CADRE_RATE_LIMIT__BURST", UNLIMITED_RATE)
        .env("CADRE_LIMITS__MAX_NODES_PER_JOB", BENCH_MAX_NODES)
        .env("CADRE_SERVER__BODY_LIMIT_BYTES", BENCH_BODY_LIMIT)
        .env("RUST_LOG", "warn")
        .envs(env.iter().map(|(name, value)| (name, value)))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("cadre serve starts");
    let begun = Instant::now();
    while tokio::net::TcpStream::connect(&address).await.is_err() {
        assert!(begun.elapsed() < STARTUP_DEADLINE, "the server did not start: see {}", dir.display());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    BenchServer { address, backend, child }
}

/// The CPU's model name and the cores this process may use, for the reports.
#[allow(dead_code, reason = "only the benchmarks that write a report use it")]
pub fn machine() -> (String, usize) {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    (cpu, std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0))
}
