//! Running the real `cadre` binary in tests: `serve` on a free port with its own data
//! directory (and database), the client commands against it, and the job as JSON.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The binary under test, built by cargo for the integration tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_cadre");
/// How long a server (or a job a test waits for) may take.
pub const STARTUP_DEADLINE: Duration = Duration::from_secs(30);
/// A secret in the server's environment that no worker may see.
pub const PROBE_SECRET: &str = "do-not-leak-7f3a";
/// How long to wait for a generated key on the server's stdout.
const KEY_PRINT_WAIT: Duration = Duration::from_secs(1);

/// A running `cadre serve`, stopped when dropped.
pub struct Server {
    pub child: Child,
    pub url: String,
    pub key: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// Starts `cadre serve` with no bootstrap key and reads the generated key it prints (if any).
pub fn serve(data_dir: &Path, database_url: Option<&str>) -> (Server, Option<String>) {
    serve_with(data_dir, database_url, &[])
}

/// [`serve`] with extra environment variables.
pub fn serve_with(data_dir: &Path, database_url: Option<&str>, env: &[(&str, &str)]) -> (Server, Option<String>) {
    let port = free_port();
    let mut command = Command::new(BIN);
    command.envs(env.iter().copied());
    command.arg("serve").env("CADRE_BIND", format!("127.0.0.1:{port}")).env("CADRE_DATA_DIR", data_dir);
    command.env_remove("CADRE_BOOTSTRAP_KEY").env_remove("DATABASE_URL").stdout(Stdio::piped());
    let log = std::fs::File::create(data_dir.with_extension("log")).expect("log file");
    command.stderr(log);
    if let Some(url) = database_url {
        command.env("DATABASE_URL", url);
    }
    // A secret in the server's environment that no worker may see.
    command.env("CADRE_PROBE_SECRET", PROBE_SECRET);
    // Everything the server logs, so that tests can look for leaked secrets.
    command.env("RUST_LOG", "debug");
    let mut child = command.spawn().expect("cadre serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, printed) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(key) = line.split_whitespace().find(|w| w.starts_with("sk-orch-")) {
                let _ = tx.send(Some(key.to_string()));
            }
        }
    });
    let url = format!("http://127.0.0.1:{port}");
    wait_healthy(&url, &data_dir.with_extension("log"));
    // The key is printed before the server answers, so it is already in the pipe if it exists.
    let generated = printed.recv_timeout(KEY_PRINT_WAIT).ok().flatten();
    (Server { child, url, key: generated.clone().unwrap_or_default() }, generated)
}

/// Waits for `/healthz` to answer 200. The port is bound before the store opens, so an open
/// port alone does not mean the server answers yet.
pub fn wait_healthy(url: &str, log: &Path) {
    let begun = Instant::now();
    while !answers_healthz(url.trim_start_matches("http://")) {
        let log = std::fs::read_to_string(log).unwrap_or_default();
        assert!(begun.elapsed() < STARTUP_DEADLINE, "cadre serve did not start:\n{log}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn answers_healthz(address: &str) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(address) else { return false };
    let _ = stream.set_read_timeout(Some(STARTUP_DEADLINE));
    if stream.write_all(b"GET /healthz HTTP/1.0\r\n\r\n").is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.ends_with(b" 200")
}

pub fn cadre(server: &Server, args: &[&str]) -> Output {
    Command::new(BIN).args(args).env("CADRE_URL", &server.url).env("CADRE_API_KEY", &server.key).output().expect("runs")
}

pub fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

pub async fn job_json(server: &Server, job_id: &str) -> serde_json::Value {
    let url = format!("{}/api/v1/recursion/job/{job_id}", server.url);
    let response = reqwest::Client::new().get(url).bearer_auth(&server.key).send().await.expect("request");
    response.json().await.expect("job json")
}

/// Every node of a job's tree, breadth first.
pub fn flatten(tree: &Value) -> Vec<&Value> {
    let mut nodes = vec![tree];
    let mut at = 0;
    while at < nodes.len() {
        nodes.extend(nodes[at]["children"].as_array().into_iter().flatten());
        at += 1;
    }
    nodes
}

/// Every stored event of a job, replayed from the stream.
pub fn events(server: &Server, job_id: &str) -> Vec<Value> {
    let output = cadre(server, &["watch", "--job", job_id, "--since", "0", "--json"]);
    String::from_utf8_lossy(&output.stdout).lines().map(|l| serde_json::from_str(l).expect("frame")).collect()
}

/// How many times each node of the job reported its end.
pub fn completions(server: &Server, job_id: &str) -> HashMap<String, usize> {
    let mut completions: HashMap<String, usize> = HashMap::new();
    for frame in events(server, job_id).iter().filter(|f| f["type"] == "node_completed") {
        *completions.entry(frame["data"]["node_id"].as_str().expect("node").to_string()).or_default() += 1;
    }
    completions
}

/// How often a test looks at a job it waits for.
pub const JOB_POLL: Duration = Duration::from_millis(50);

pub async fn submit(server: &Server, job: &Value) -> reqwest::Response {
    let url = format!("{}/api/v1/recursion/job", server.url);
    reqwest::Client::new().post(url).bearer_auth(&server.key).json(job).send().await.expect("submit")
}

pub async fn submit_id(server: &Server, job: &Value) -> String {
    let body: Value = submit(server, job).await.json().await.expect("json");
    body["job_id"].as_str().unwrap_or_else(|| panic!("not accepted: {body}")).to_string()
}

/// The job once `ready` says so (failing the test past [`STARTUP_DEADLINE`]).
pub async fn wait_for(server: &Server, job_id: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let begun = Instant::now();
    loop {
        let job = job_json(server, job_id).await;
        if ready(&job) {
            return job;
        }
        assert!(begun.elapsed() < STARTUP_DEADLINE, "job {job_id} did not get there: {job}");
        tokio::time::sleep(JOB_POLL).await;
    }
}

pub fn ended(job: &Value) -> bool {
    matches!(job["status"].as_str(), Some("succeeded" | "failed" | "cancelled"))
}
