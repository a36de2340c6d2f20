//! Signed webhooks (issue 15), end to end: a receiver started by the test on loopback gets an
//! approval's request and decision, signed with the secret from the environment variable the
//! configuration names (and checked here with HMAC-SHA256, as a receiver would); a receiver
//! that answers 500 gets the same delivery again until it takes it, a 4xx is not retried;
//! a webhook resumes after its stored cursor across restarts (and a new one starts at the
//! newest event); a missing secret stops the server from starting; `/metrics` and
//! `GET /notify/webhooks` show where each stands.

use std::time::Duration;

use cadre::config::{Config, WebhookConfig, DEFAULT_WEBHOOK_EVENTS};
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_app_at, spawn_app_with, TestApp, KEY};
use crate::webhook_receiver::{Delivery, Receiver};

/// How long a test waits to be sure nothing more arrives.
const QUIET: Duration = Duration::from_millis(500);

/// Puts `secret` in this process's environment under a name of its own; returns the name.
fn secret_in_env(secret: &str) -> String {
    let name = format!("CADRE_TEST_WEBHOOK_SECRET_{}", uuid::Uuid::new_v4().simple());
    std::env::set_var(&name, secret);
    name
}

fn webhook(name: &str, url: String, secret_env: &str, events: &[&str]) -> WebhookConfig {
    let events = if events.is_empty() { DEFAULT_WEBHOOK_EVENTS.as_slice() } else { events };
    WebhookConfig {
        name: name.into(),
        url,
        events: events.iter().map(|e| e.to_string()).collect(),
        secret_env: secret_env.into(),
        timeout_s: 5,
        max_attempts: 8,
        // Short back-offs: a test waits for its retries.
        retry_initial_ms: 20,
    }
}

/// Checks the delivery as a receiver would: HMAC-SHA256 of `"<timestamp>.<body>"`, a recent
/// timestamp, and the headers that name the event.
fn verify(delivery: &Delivery, secret: &str) -> Value {
    let timestamp = delivery.header("x-cadre-timestamp");
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(format!("{timestamp}.{}", delivery.body).as_bytes());
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(delivery.header("x-cadre-signature"), expected, "the signature verifies");
    let age = chrono::Utc::now().timestamp() - timestamp.parse::<i64>().expect("unix seconds");
    assert!((0..60).contains(&age), "a fresh timestamp: {timestamp}");
    assert_eq!(delivery.header("content-type"), "application/json");
    let body = delivery.json();
    assert_eq!(delivery.header("x-cadre-event"), body["type"]);
    assert_eq!(delivery.header("x-cadre-delivery"), body["id"], "the delivery id is the event's seq");
    body
}

fn echo_job(request: &str) -> Value {
    json!({"request": request, "plan": {"name": "work", "run": {"type": "echo", "value": 1}}})
}

async fn metrics(app: &TestApp) -> String {
    app.client.get(app.url("/metrics")).send().await.expect("metrics").text().await.expect("text")
}

/// Waits until `/metrics` has every one of `lines`.
async fn metrics_show(app: &TestApp, lines: &[String]) {
    let begun = std::time::Instant::now();
    loop {
        let text = metrics(app).await;
        if lines.iter().all(|line| text.lines().any(|l| l == line)) {
            return;
        }
        assert!(begun.elapsed() < Duration::from_secs(30), "{lines:?} in /metrics:\n{text}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn an_approval_is_posted_signed_when_it_is_asked_for_and_when_it_is_decided() {
    let receiver = Receiver::start(&[]).await;
    let secret = "approvals-secret-4b1d";
    let env = secret_in_env(secret);
    let hook = webhook("release-chat", receiver.url("/hooks/release"), &env, &[]);
    let app = spawn_app_with(|c| c.notify.webhooks = vec![hook]).await;
    let approval = json!({"before": true, "prompt": "Ship it?", "approvers": ["scope:admin"], "allow_self": true});
    let job =
        json!({"request": "ship", "plan": {"name": "gate", "approval": approval, "run": {"type": "echo", "value": 1}}});
    let id = app.submit(&job).await;

    let asked = verify(&receiver.wait_for(1).await[0], secret);
    assert_eq!(
        (&asked["type"], &asked["job_id"], &asked["data"]["name"]),
        (&json!("approval_requested"), &json!(id), &json!("gate"))
    );
    assert_eq!(
        asked["text"],
        format!(":raising_hand: Approval needed: gate (job {id}) — \"Ship it?\" — approvers scope:admin")
    );
    let list = app.get_json(&format!("/approvals?job_id={id}&mine=false")).await;
    let approval_id = list["approvals"][0]["id"].as_str().expect("an approval id");
    assert_eq!(asked["data"]["approval_id"], approval_id);
    let decided = app.post(&format!("/approvals/{approval_id}/decision"), &json!({"decision": "approve"})).await;
    assert_eq!(decided.status(), StatusCode::OK);
    assert_eq!(app.wait_for_end(&id).await["status"], "succeeded");

    let deliveries = receiver.wait_for(2).await;
    let decision = verify(&deliveries[1], secret);
    assert_eq!((&decision["type"], &decision["data"]["state"]), (&json!("approval_decided"), &json!("approved")));
    assert_eq!(decision["text"], format!(":white_check_mark: Approved: gate (job {id}) by bootstrap"));
    let seq = |body: &Value| body["id"].as_str().and_then(|id| id.parse::<i64>().ok()).expect("a seq");
    assert!(seq(&decision) > seq(&asked), "in order");
    assert!(deliveries.iter().all(|d| d.path == "/hooks/release"));
    tokio::time::sleep(QUIET).await;
    assert_eq!(receiver.received().len(), 2, "only the kinds asked for: nothing about the job's other events");
}

#[tokio::test]
async fn a_failing_receiver_gets_the_same_delivery_again_until_it_takes_it_and_the_next_waits() {
    let receiver = Receiver::start(&[500, 500]).await;
    let secret = "retry-secret-77aa";
    let env = secret_in_env(secret);
    // Credentials and a token in the URL, which the status must not show.
    let url = format!("http://user:pw-hidden@127.0.0.1:{}/in?token=t0k3n-hidden", receiver.port());
    let mut hook = webhook("flaky", url, &env, &["job_completed"]);
    // Retries slow enough that the second job ends while the first's event is retried.
    hook.retry_initial_ms = 300;
    let app = spawn_app_with(|c| c.notify.webhooks = vec![hook]).await;
    let mut jobs = Vec::new();
    for request in ["retry me", "then me"] {
        let id = app.submit(&echo_job(request)).await;
        app.wait_for_end(&id).await;
        jobs.push(json!(id));
    }

    let deliveries = receiver.wait_for(4).await;
    let bodies: Vec<Value> = deliveries.iter().map(|d| verify(d, secret)).collect();
    let ids: Vec<&str> = deliveries.iter().map(|d| d.header("x-cadre-delivery")).collect();
    assert_eq!([ids[1], ids[2]], [ids[0], ids[0]], "the same delivery three times");
    assert_ne!(ids[3], ids[0]);
    assert!(bodies[..3].iter().all(|b| b == &bodies[0]), "the same body each time");
    let order: Vec<&Value> = bodies.iter().map(|b| &b["job_id"]).collect();
    assert_eq!(order, [&jobs[0], &jobs[0], &jobs[0], &jobs[1]], "the next event waits for the one retried");
    assert_eq!(
        bodies[0]["text"],
        format!(":information_source: job_completed: job {} — succeeded", jobs[0].as_str().unwrap_or(""))
    );
    let seq: i64 = ids[3].parse().expect("a seq");
    metrics_show(
        &app,
        &[
            "cadre_webhook_deliveries_total{webhook=\"flaky\",outcome=\"retried\"} 2".into(),
            "cadre_webhook_deliveries_total{webhook=\"flaky\",outcome=\"delivered\"} 2".into(),
            "cadre_webhook_deliveries_total{webhook=\"flaky\",outcome=\"failed\"} 0".into(),
            format!("cadre_webhook_last_delivered_seq{{webhook=\"flaky\"}} {seq}"),
        ],
    )
    .await;
    the_status_shows_it(&app, seq, receiver.port()).await;
}

/// `GET /notify/webhooks`: admin only, the URL without its secrets, the last attempt.
async fn the_status_shows_it(app: &TestApp, seq: i64, port: u16) {
    let response = app.get("/notify/webhooks").await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.expect("text");
    assert!(!text.contains("hidden") && !text.contains("retry-secret"), "no secret in {text}");
    let status: Value = serde_json::from_str(&text).expect("json");
    let hook = &status["webhooks"][0];
    assert!(hook["last_attempt_at"].as_str().is_some_and(|t| t.ends_with('Z')), "{hook}");
    let expected = json!({"name": "flaky", "url": format!("http://redacted@127.0.0.1:{port}/in?redacted"),
        "events": ["job_completed"], "last_seq": seq, "last_outcome": "delivered", "last_error": null,
        "last_attempt_at": hook["last_attempt_at"], "failures_in_a_row": 0});
    assert_eq!(status, json!({"webhooks": [expected]}));
    only_an_admin_sees_it(app).await;
}

async fn only_an_admin_sees_it(app: &TestApp) {
    let reader = app.post("/keys", &json!({"name": "reader", "scopes": ["read"]})).await;
    let reader: Value = reader.json().await.expect("json");
    let secret = reader["key"].as_str().expect("a key");
    let refused = app.client.get(app.api("/notify/webhooks")).bearer_auth(secret).send().await.expect("request");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN, "admin only");
}

#[tokio::test]
async fn a_refusal_is_not_retried_and_the_next_event_is_delivered_after_it() {
    let receiver = Receiver::start(&[410]).await;
    let env = secret_in_env("gone-secret");
    let hook = webhook("gone", receiver.url("/gone"), &env, &["job_completed"]);
    let app = spawn_app_with(|c| c.notify.webhooks = vec![hook]).await;
    for request in ["first", "second"] {
        let id = app.submit(&echo_job(request)).await;
        app.wait_for_end(&id).await;
    }
    let deliveries = receiver.wait_for(2).await;
    let first = deliveries[0].json();
    let second = deliveries[1].json();
    assert_ne!(first["id"], second["id"], "the refused event was not sent again");
    metrics_show(
        &app,
        &[
            "cadre_webhook_deliveries_total{webhook=\"gone\",outcome=\"failed\"} 1".into(),
            "cadre_webhook_deliveries_total{webhook=\"gone\",outcome=\"retried\"} 0".into(),
            "cadre_webhook_deliveries_total{webhook=\"gone\",outcome=\"delivered\"} 1".into(),
        ],
    )
    .await;
    tokio::time::sleep(QUIET).await;
    assert_eq!(receiver.received().len(), 2);
}

/// The job ids of the `job_completed` deliveries that reached `path`, in order.
fn completed_jobs(receiver: &Receiver, path: &str) -> Vec<Value> {
    receiver.received().iter().filter(|d| d.path == path).map(|d| d.json()["job_id"].clone()).collect()
}

#[tokio::test]
async fn a_webhook_resumes_after_its_stored_cursor_and_a_new_one_starts_at_the_newest_event() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let database_url = crate::common::fresh_database_url().await;
    let receiver = Receiver::start(&[]).await;
    let env = secret_in_env("resume-secret");
    let resumer = webhook("resumer", receiver.url("/resumer"), &env, &["job_completed"]);
    let newcomer = webhook("newcomer", receiver.url("/newcomer"), &env, &["job_completed"]);

    let first = spawn_app_at(&data, database_url.clone(), |c| c.notify.webhooks = vec![resumer.clone()]).await;
    let one = first.submit(&echo_job("one")).await;
    first.wait_for_end(&one).await;
    receiver.wait_for(1).await;
    first.stop().await;

    // The webhook is not configured here: what happens now it must hear of later.
    let second = spawn_app_at(&data, database_url.clone(), |_| {}).await;
    let two = second.submit(&echo_job("two")).await;
    second.wait_for_end(&two).await;
    second.stop().await;

    let third = spawn_app_at(&data, database_url, |c| c.notify.webhooks = vec![resumer, newcomer]).await;
    receiver.wait_for(2).await;
    let three = third.submit(&echo_job("three")).await;
    third.wait_for_end(&three).await;
    receiver.wait_for(4).await;
    tokio::time::sleep(QUIET).await;
    assert_eq!(completed_jobs(&receiver, "/resumer"), [json!(one), json!(two), json!(three)], "each exactly once");
    assert_eq!(completed_jobs(&receiver, "/newcomer"), [json!(three)], "no history for a new webhook");
    third.stop().await;
}

#[tokio::test]
async fn a_webhook_whose_secret_is_not_in_the_environment_stops_the_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let unset = format!("CADRE_TEST_WEBHOOK_SECRET_UNSET_{}", uuid::Uuid::new_v4().simple());
    let empty = secret_in_env("");
    for variable in [unset, empty] {
        let mut config = Config::default();
        config.store.data_dir = dir.path().join("data");
        config.auth.bootstrap_key = KEY.to_string();
        config.notify.webhooks = vec![webhook("ops", "http://127.0.0.1:9/hook".into(), &variable, &[])];
        let Err(err) = cadre::app::start(config).await else { panic!("started without the secret in {variable}") };
        let message = err.to_string();
        assert!(message.contains(&variable) && message.contains("\"ops\""), "{message}");
        assert!(!dir.path().join("data").exists(), "nothing is written before the check");
    }
}
