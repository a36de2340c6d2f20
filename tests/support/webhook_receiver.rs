//! A webhook receiver for tests: it records every request it gets (path, headers, body as
//! sent) and answers each with the next status of its script, 200 once the script is spent.
//! No network: it listens on loopback, on a port the kernel picks.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::Router;

/// Longest a test waits for deliveries.
const DEADLINE: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(20);

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub path: String,
    /// Header names in lower case.
    pub headers: HashMap<String, String>,
    /// The body, byte for byte (what the signature covers).
    pub body: String,
}

impl Delivery {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }
}

#[derive(Default)]
struct Script {
    statuses: VecDeque<u16>,
    received: Vec<Delivery>,
}

/// A running receiver.
pub struct Receiver {
    base: String,
    script: Arc<Mutex<Script>>,
}

impl Receiver {
    /// Starts a receiver that answers its first requests with `statuses`, then 200.
    pub async fn start(statuses: &[u16]) -> Self {
        let script =
            Arc::new(Mutex::new(Script { statuses: statuses.iter().copied().collect(), received: Vec::new() }));
        let router = Router::new().fallback(record).with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { base, script }
    }

    /// This receiver's URL for `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.base.rsplit(':').next().and_then(|p| p.parse().ok()).expect("port")
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Delivery> {
        self.script.lock().expect("script").received.clone()
    }

    /// Waits until at least `count` requests have arrived; returns them all.
    pub async fn wait_for(&self, count: usize) -> Vec<Delivery> {
        let begun = Instant::now();
        loop {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            assert!(begun.elapsed() < DEADLINE, "{count} deliveries expected, got {}: {received:#?}", received.len());
            tokio::time::sleep(POLL).await;
        }
    }
}

async fn record(State(script): State<Arc<Mutex<Script>>>, uri: Uri, headers: HeaderMap, body: Bytes) -> StatusCode {
    let headers = headers
        .iter()
        .map(|(name, value)| (name.as_str().to_string(), value.to_str().unwrap_or_default().to_string()))
        .collect();
    let delivery =
        Delivery { path: uri.path().to_string(), headers, body: String::from_utf8_lossy(&body).into_owned() };
    let mut script = script.lock().expect("script");
    script.received.push(delivery);
    let status = script.statuses.pop_front().unwrap_or(200);
    StatusCode::from_u16(status).expect("a status")
}
