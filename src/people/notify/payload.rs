//! What a webhook receives: the body (the stored event as the stream sends it, its seq as a
//! string `id`, plus a Slack-compatible `text`), and the signature over it — HMAC-SHA256 of
//! `"<unix seconds>.<body>"`, so a receiver can check both who sent it and when (a replayed
//! body with an old timestamp, or a new timestamp on an old body, does not verify).

use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::value::RawValue;
use uuid::Uuid;

use crate::events::Event;

/// A webhook's signing secret; `Debug` never shows it.
#[derive(Clone)]
pub struct Secret(Box<[u8]>);

impl Secret {
    pub fn new(secret: String) -> Self {
        Self(secret.into_bytes().into_boxed_slice())
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

#[derive(Serialize)]
struct Body<'a> {
    /// The event's seq, as a string: receivers key deliveries by it.
    id: String,
    #[serde(rename = "type")]
    kind: &'a str,
    ts: &'a str,
    job_id: Option<Uuid>,
    depth: Option<i64>,
    data: &'a RawValue,
    text: String,
}

/// The JSON body posted for `event`, with its one-line summary.
pub fn body(event: &Event) -> Vec<u8> {
    let body = Body {
        id: event.seq.to_string(),
        kind: &event.kind,
        ts: &event.ts,
        job_id: event.job_id,
        depth: event.depth,
        data: &event.data,
        text: super::summary::text(event),
    };
    // A struct of strings, numbers and already valid JSON always serialises.
    serde_json::to_vec(&body).unwrap_or_default()
}

/// The `X-Cadre-Signature` value: `sha256=` and the lowercase hex HMAC-SHA256 of
/// `"<timestamp>.<body>"` keyed with the secret.
pub fn signature(secret: &Secret, timestamp: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length; the error type exists for fixed-size MACs.
    let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(&secret.0) else { return String::new() };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::EventRow;

    #[test]
    fn the_signature_is_the_hmac_of_timestamp_dot_body() {
        // The library against RFC 4231's test case 2, then the example of docs/PEOPLE.md
        // (which its Python and openssl recipes reproduce).
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"Jefe").expect("key");
        mac.update(b"what do ya want for nothing?");
        let rfc = hex::encode(mac.finalize().into_bytes());
        assert_eq!(rfc, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        let secret = Secret::new("s3cret".into());
        assert_eq!(
            signature(&secret, 1_700_000_000, br#"{"id":"4","type":"job_completed"}"#),
            "sha256=d599ab7944a971dd974b7927012a2f3170293e488422a680cae06a1dcc2d9fe9"
        );
        assert!(!format!("{secret:?}").contains("s3cret"));
    }

    #[test]
    fn the_body_is_the_event_with_a_string_id_and_a_text() {
        let row = EventRow {
            seq: 42,
            ts_ms: 0,
            kind: "job_completed".into(),
            job_id: Some(Uuid::nil()),
            depth: Some(0),
            data: r#"{"status":"succeeded"}"#.into(),
        };
        let body: serde_json::Value = serde_json::from_slice(&body(&Event::from_row(&row))).expect("json");
        assert_eq!(body["id"], "42");
        assert_eq!((&body["type"], &body["depth"]), (&"job_completed".into(), &0.into()));
        assert_eq!(body["data"]["status"], "succeeded");
        assert_eq!(body["ts"], "1970-01-01T00:00:00.000Z");
        assert!(body["text"].as_str().expect("text").contains("succeeded"));
    }
}
