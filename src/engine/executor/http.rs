//! The `http` executor (SPEC §1): one HTTP request per attempt, through the shared client. It
//! owns turning a worker's request spec into a request, bounding what an attempt waits for and
//! reads (a timeout, a 1 MiB body), and mapping the response onto an outcome. Header values
//! never appear in errors: they often carry credentials.

use std::collections::BTreeMap;
use std::error::Error;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, RequestBuilder, Response, Url};
use serde_json::{json, Value};

use super::{ExecContext, ExecOutcome};

/// Timeout of a request whose spec sets none.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Largest response body read, in MiB; a bigger one fails the attempt.
const MAX_BODY_MIB: usize = 1;
const MAX_BODY_BYTES: usize = MAX_BODY_MIB * 1024 * 1024;

/// One call of an `http` worker.
#[derive(Debug, Clone)]
pub struct HttpRequest<'a> {
    /// Absolute `http://` or `https://` URL.
    pub url: &'a str,
    /// Method, case-insensitive (`None`: POST when there is a body, else GET).
    pub method: Option<&'a str>,
    /// Request headers; their values are kept out of every error message.
    pub headers: &'a BTreeMap<String, String>,
    /// Sent as JSON (with `content-type: application/json` unless a header sets it).
    pub body: Option<&'a Value>,
    /// Timeout for the whole exchange, body included, in seconds (`None`: 30).
    pub timeout_s: Option<u64>,
}

/// Makes the request and waits for its response, its timeout or `ctx.cancel`.
///
/// The result is `{"status", "body"}`, the body parsed as JSON when it is JSON and text
/// otherwise. A 2xx status succeeds; any other fails with the result kept. Cancellation
/// abandons the request and reports [`ExecOutcome::Cancelled`] without a result.
pub async fn call(req: &HttpRequest<'_>, ctx: &ExecContext) -> ExecOutcome {
    let builder = match build(req, &ctx.http) {
        Ok(builder) => builder,
        Err(error) => return ExecOutcome::Failed { error, result: None },
    };
    tokio::select! {
        biased;
        () = ctx.cancel.cancelled() => ExecOutcome::Cancelled { result: None },
        outcome = send(builder, req) => outcome,
    }
}

fn build(req: &HttpRequest<'_>, client: &reqwest::Client) -> Result<RequestBuilder, String> {
    let url = Url::parse(req.url).map_err(|err| format!("invalid URL `{}`: {err}", req.url))?;
    let mut builder = client.request(method(req)?, url).headers(header_map(req.headers)?).timeout(timeout(req));
    if let Some(body) = req.body {
        builder = builder.json(body);
    }
    Ok(builder)
}

fn method(req: &HttpRequest<'_>) -> Result<Method, String> {
    match req.method {
        Some(name) => Method::from_bytes(name.to_ascii_uppercase().as_bytes())
            .map_err(|_| format!("invalid HTTP method `{name}`")),
        None if req.body.is_some() => Ok(Method::POST),
        None => Ok(Method::GET),
    }
}

fn header_map(headers: &BTreeMap<String, String>) -> Result<HeaderMap, String> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| format!("invalid header name `{name}`"))?;
        let mut value = HeaderValue::from_str(value).map_err(|_| format!("invalid value for header `{name}`"))?;
        // Keeps the value out of Debug output (and out of HTTP/2 header compression tables).
        value.set_sensitive(true);
        map.insert(name, value);
    }
    Ok(map)
}

fn timeout(req: &HttpRequest<'_>) -> Duration {
    req.timeout_s.map_or(DEFAULT_TIMEOUT, Duration::from_secs)
}

async fn send(builder: RequestBuilder, req: &HttpRequest<'_>) -> ExecOutcome {
    let mut response = match builder.send().await {
        Ok(response) => response,
        Err(err) => return ExecOutcome::Failed { error: transport_error(req, err), result: None },
    };
    let status = response.status().as_u16();
    let body = match read_body(&mut response, req).await {
        Ok(body) => body,
        Err(error) => return ExecOutcome::Failed { error, result: Some(json!({ "status": status })) },
    };
    let result = json!({ "status": status, "body": decode(&body) });
    if response.status().is_success() {
        ExecOutcome::Succeeded(result)
    } else {
        ExecOutcome::Failed { error: format!("HTTP {status} from {}", req.url), result: Some(result) }
    }
}

/// Reads the body chunk by chunk, giving up as soon as it outgrows [`MAX_BODY_BYTES`].
async fn read_body(response: &mut Response, req: &HttpRequest<'_>) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|err| transport_error(req, err))? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(format!("response from {} larger than {MAX_BODY_MIB} MiB", req.url));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn decode(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

fn transport_error(req: &HttpRequest<'_>, err: reqwest::Error) -> String {
    if err.is_timeout() {
        return format!("request to {} timed out after {}s", req.url, timeout(req).as_secs());
    }
    // reqwest's own message is only the top of the chain ("error sending request"); the cause
    // (refused, reset, DNS) is further down. The URL is already in our message.
    format!("request to {} failed: {}", req.url, error_chain(&err.without_url()))
}

fn error_chain(err: &(dyn Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::task::JoinHandle;
    use tokio::time::Instant;

    use super::*;

    const TEST_TIMEOUT: Duration = Duration::from_millis(300);
    const CANCEL_AFTER: Duration = Duration::from_millis(100);
    const READ_BUFFER_BYTES: usize = 4096;
    const HEAD_END: &str = "\r\n\r\n";

    fn ctx() -> ExecContext {
        super::super::test_context(TEST_TIMEOUT)
    }

    fn request<'a>(url: &'a str, headers: &'a BTreeMap<String, String>) -> HttpRequest<'a> {
        HttpRequest { url, method: None, headers, body: None, timeout_s: None }
    }

    /// A one-shot server: answers the first request with `status` and `body`, and hands back
    /// the raw request it received.
    async fn serve_once(status: &'static str, body: String) -> (String, JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().expect("local address"));
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("accept");
            let request = read_request(&mut socket).await;
            let response =
                format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
            // The client may hang up early (the oversized-body test); that is not an error here.
            let _ = socket.write_all(response.as_bytes()).await;
            request
        });
        (url, server)
    }

    async fn read_request(socket: &mut TcpStream) -> String {
        let mut data = Vec::new();
        let mut buffer = [0; READ_BUFFER_BYTES];
        while !request_complete(&data) {
            let read = socket.read(&mut buffer).await.expect("read request");
            if read == 0 {
                break;
            }
            data.extend_from_slice(&buffer[..read]);
        }
        String::from_utf8_lossy(&data).into_owned()
    }

    fn request_complete(data: &[u8]) -> bool {
        let text = String::from_utf8_lossy(data).to_ascii_lowercase();
        let Some(head_len) = text.find(HEAD_END) else { return false };
        let content_length = text[..head_len]
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))
            .and_then(|value| value.trim().parse().ok())
            .unwrap_or(0);
        data.len() >= head_len + HEAD_END.len() + content_length
    }

    /// An address where nothing listens.
    async fn closed_port_url() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        format!("http://{}/", listener.local_addr().expect("local address"))
    }

    #[tokio::test]
    async fn ok_json_response_succeeds_with_the_parsed_body() {
        let (url, server) = serve_once("200 OK", r#"{"ok": true, "n": 3}"#.to_string()).await;
        let headers = BTreeMap::new();
        let outcome = call(&request(&url, &headers), &ctx()).await;
        assert_eq!(outcome, ExecOutcome::Succeeded(json!({"status": 200, "body": {"ok": true, "n": 3}})));
        let received = server.await.expect("server");
        assert!(received.starts_with("GET /hook HTTP/1.1\r\n"), "{received}");
    }

    #[tokio::test]
    async fn text_response_keeps_the_text() {
        let (url, _server) = serve_once("201 Created", "plain words".to_string()).await;
        let headers = BTreeMap::new();
        let outcome = call(&request(&url, &headers), &ctx()).await;
        assert_eq!(outcome, ExecOutcome::Succeeded(json!({"status": 201, "body": "plain words"})));
    }

    #[tokio::test]
    async fn error_status_fails_with_the_status() {
        let (url, _server) = serve_once("500 Internal Server Error", r#"{"error": "boom"}"#.to_string()).await;
        let headers = BTreeMap::new();
        let outcome = call(&request(&url, &headers), &ctx()).await;
        let expected = Some(json!({"status": 500, "body": {"error": "boom"}}));
        assert_eq!(outcome, ExecOutcome::Failed { error: format!("HTTP 500 from {url}"), result: expected });
    }

    #[tokio::test]
    async fn method_headers_and_body_are_sent() {
        let (url, server) = serve_once("200 OK", String::new()).await;
        let headers = BTreeMap::from([("X-Token".to_string(), "s3cret".to_string())]);
        let body = json!({"a": 1});
        let req = HttpRequest { method: Some("put"), body: Some(&body), ..request(&url, &headers) };
        let outcome = call(&req, &ctx()).await;
        assert_eq!(outcome, ExecOutcome::Succeeded(json!({"status": 200, "body": ""})));
        let received = server.await.expect("server").to_ascii_lowercase();
        assert!(received.starts_with("put /hook http/1.1\r\n"), "{received}");
        assert!(received.contains("\r\nx-token: s3cret\r\n"), "{received}");
        assert!(received.contains("\r\ncontent-type: application/json\r\n"), "{received}");
        assert!(received.ends_with(r#"{"a":1}"#), "{received}");
    }

    #[tokio::test]
    async fn a_body_without_a_method_is_posted() {
        let (url, server) = serve_once("204 No Content", String::new()).await;
        let headers = BTreeMap::new();
        let body = json!([1, 2]);
        let outcome = call(&HttpRequest { body: Some(&body), ..request(&url, &headers) }, &ctx()).await;
        assert!(matches!(outcome, ExecOutcome::Succeeded(_)), "{outcome:?}");
        assert!(server.await.expect("server").starts_with("POST /hook "));
    }

    #[tokio::test]
    async fn connection_refused_fails_without_leaking_headers() {
        let url = closed_port_url().await;
        let headers = BTreeMap::from([("authorization".to_string(), "Bearer s3cret".to_string())]);
        let outcome = call(&request(&url, &headers), &ctx()).await;
        let ExecOutcome::Failed { error, result: None } = outcome else { panic!("{outcome:?}") };
        assert!(error.starts_with(&format!("request to {url} failed: ")), "{error}");
        assert!(error.to_ascii_lowercase().contains("refused"), "{error}");
        assert!(!error.contains("s3cret"), "{error}");
    }

    /// Accepts connections and never answers.
    async fn silent_server() -> (String, JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/", listener.local_addr().expect("local address"));
        let server = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        (url, server)
    }

    #[tokio::test]
    async fn cancel_abandons_a_pending_request() {
        let (url, server) = silent_server().await;
        let ctx = ctx();
        let cancel = ctx.cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(CANCEL_AFTER).await;
            cancel.cancel();
        });
        let headers = BTreeMap::new();
        let started = Instant::now();
        let outcome = call(&request(&url, &headers), &ctx).await;
        assert_eq!(outcome, ExecOutcome::Cancelled { result: None });
        assert!(started.elapsed() < DEFAULT_TIMEOUT / 2, "took {:?}", started.elapsed());
        server.abort();
    }

    #[tokio::test]
    async fn a_silent_server_times_out() {
        let (url, server) = silent_server().await;
        let headers = BTreeMap::new();
        let outcome = call(&HttpRequest { timeout_s: Some(1), ..request(&url, &headers) }, &ctx()).await;
        assert_eq!(
            outcome,
            ExecOutcome::Failed { error: format!("request to {url} timed out after 1s"), result: None }
        );
        server.abort();
    }

    #[tokio::test]
    async fn an_oversized_body_fails() {
        let (url, _server) = serve_once("200 OK", "x".repeat(MAX_BODY_BYTES + 1)).await;
        let headers = BTreeMap::new();
        let outcome = call(&request(&url, &headers), &ctx()).await;
        let error = format!("response from {url} larger than 1 MiB");
        assert_eq!(outcome, ExecOutcome::Failed { error, result: Some(json!({"status": 200})) });
    }

    #[tokio::test]
    async fn invalid_method_header_or_url_fail_before_sending() {
        let headers = BTreeMap::new();
        let bad_method = HttpRequest { method: Some("NOT A METHOD"), ..request("http://127.0.0.1:9/", &headers) };
        let bad_url = request("not a url", &headers);
        let bad_header_value = BTreeMap::from([("x-token".to_string(), "line\nbreak s3cret".to_string())]);
        let bad_header = request("http://127.0.0.1:9/", &bad_header_value);
        for req in [bad_method, bad_url, bad_header] {
            let outcome = call(&req, &ctx()).await;
            let ExecOutcome::Failed { error, result: None } = outcome else { panic!("{outcome:?}") };
            assert!(error.starts_with("invalid "), "{error}");
            assert!(!error.contains("s3cret"), "{error}");
        }
    }
}
