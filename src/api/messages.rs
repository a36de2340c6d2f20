//! Mailboxes over HTTP (issue 17; `docs/MAIL.md`): send (`POST /recursion/job/{id}/messages`,
//! a `write` key or a worker token within its reach), receive with a long poll
//! (`GET …/nodes/{node_id}/messages?wait_s=`, the recipient's token or a `write` key),
//! acknowledge or give back (`POST …/messages/{msg_id}/ack|nack`), and list a job's messages
//! by state — its dead letters among them (`GET …/messages?state=dead`).

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::extract::{parse_id, AppJson, AppQuery};
use crate::auth::{Caller, Scope};
use crate::engine::mail::Outgoing;
use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;
use crate::store::MessageRow;

const MAX_RECEIVE: usize = 100;
const MAX_LISTED: i64 = 1000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(send_message, list_messages))
        .routes(routes!(receive_messages))
        .routes(routes!(ack_message))
        .routes(routes!(nack_message))
}

/// A message to send.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"to": "01a23612-ff08-77a2-a677-312814e96909", "priority": 7, "thread_id": "schema", "body": {"text": "the posts table has a created_at column now"}}))]
pub struct SendMessage {
    /// The recipient node (of this job).
    pub to: Uuid,
    /// Groups a conversation (1–200 characters).
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200)]
    pub thread_id: Option<String>,
    /// 0–9, 9 the most urgent and delivered first (default 5).
    #[serde(default)]
    #[schema(maximum = 9)]
    pub priority: Option<u8>,
    /// Any JSON, up to `mail.max_body_bytes`.
    pub body: Value,
    /// Seconds before an undelivered or unacknowledged message goes to the dead letters.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub ttl_s: Option<u64>,
}

/// A message as the API shows it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MessageView {
    pub id: Uuid,
    pub job_id: Uuid,
    pub to: Uuid,
    pub from: Option<Uuid>,
    /// A key's name, `node:<id>` for a worker, `cadre` for a notice.
    pub sender: String,
    pub thread_id: Option<String>,
    pub priority: i64,
    /// Any JSON.
    pub body: Value,
    /// `pending`, `delivered`, `acknowledged` or `dead`.
    pub state: String,
    pub deliveries: i64,
    pub created_ms: i64,
    pub expires_ms: Option<i64>,
    /// Why it went to the dead letters: `ttl` or `max_deliveries`.
    pub dead_reason: Option<String>,
}

impl From<MessageRow> for MessageView {
    fn from(m: MessageRow) -> Self {
        Self {
            id: m.id,
            job_id: m.job_id,
            to: m.to_node,
            from: m.from_node,
            sender: m.sender,
            thread_id: m.thread_id,
            priority: m.priority,
            body: serde_json::from_str(&m.body).unwrap_or(Value::Null),
            state: m.state,
            deliveries: m.deliveries,
            created_ms: m.created_ms,
            expires_ms: m.expires_ms,
            dead_reason: m.dead_reason,
        }
    }
}

/// Messages.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MessageList {
    pub messages: Vec<MessageView>,
}

/// How long to wait and how many to take.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReceiveQuery {
    /// Seconds to wait for a message when none is due (default 0; more than `mail.max_wait_s`
    /// waits that long).
    pub wait_s: Option<u64>,
    /// Most messages to take (1–100, default 10).
    #[param(minimum = 1, maximum = 100)]
    pub max: Option<usize>,
}

/// Which of a job's messages.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `pending`, `delivered`, `acknowledged` or `dead` (the dead letters); all when absent.
    #[param(pattern = "^(pending|delivered|acknowledged|dead)$")]
    pub state: Option<String>,
}

/// Send a message to a node of a running job (a worker token reaches its own subtree, its
/// ancestors and its siblings' subtrees).
#[utoipa::path(post, path = "/recursion/job/{id}/messages", tag = "mail", request_body = SendMessage,
    params(("id" = Uuid, Path, description = "Job id")),
    responses(
        (status = 201, description = "Stored; it will be delivered", body = MessageView),
        (status = 403, description = "Not a `write` key, or a recipient out of the worker's reach", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job, or no such node in it", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The job has ended", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad priority, thread, time to live or a body too large", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn send_message(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AppJson(message): AppJson<SendMessage>,
) -> ApiResult<(StatusCode, Json<MessageView>)> {
    let job_id = parse_id(&id, "job")?;
    let (sender, from_node) =
        super::reach::mail_sender(app.engine.store().as_ref(), &caller, job_id, message.to).await?;
    check_message(
        (message.priority, message.thread_id.as_deref(), message.ttl_s),
        &message.body,
        app.engine.max_mail_body(),
    )?;
    let out = Outgoing {
        to: message.to,
        from_node,
        sender,
        thread_id: message.thread_id,
        priority: message.priority.unwrap_or(5),
        body: message.body,
        ttl_s: message.ttl_s,
    };
    let row = app.engine.send_message(job_id, out).await?;
    Ok((StatusCode::CREATED, Json(MessageView::from(row))))
}

/// A message's priority, thread, time to live (`(priority, thread_id, ttl_s)`) and body size.
pub(super) fn check_message(
    (priority, thread_id, ttl_s): (Option<u8>, Option<&str>, Option<u64>),
    body: &Value,
    max_body: usize,
) -> ApiResult<()> {
    let mut errors = Vec::new();
    let mut error =
        |path: &str, text: String| errors.push(crate::domain::FieldError { path: path.into(), message: text });
    if priority.is_some_and(|p| p > 9) {
        error("priority", "0–9".into());
    }
    if thread_id.is_some_and(|t| t.trim().is_empty() || t.chars().count() > 200) {
        error("thread_id", "1–200 characters, not only spaces".into());
    }
    if ttl_s == Some(0) {
        error("ttl_s", "at least 1".into());
    }
    let size = body.to_string().len();
    if size > max_body {
        error("body", format!("{size} bytes of JSON, more than {max_body}"));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// A job's messages, oldest first: its dead letters with `state=dead`.
#[utoipa::path(get, path = "/recursion/job/{id}/messages", tag = "mail",
    params(("id" = Uuid, Path, description = "Job id"), ListQuery),
    responses(
        (status = 200, description = "The messages (at most 1,000)", body = MessageList),
        (status = 404, description = "No such job", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown `state`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn list_messages(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AppQuery(query): AppQuery<ListQuery>,
) -> ApiResult<Json<MessageList>> {
    caller.require(Scope::Read)?;
    let job_id = parse_id(&id, "job")?;
    let state = query.state;
    if state.as_deref().is_some_and(|s| !matches!(s, "pending" | "delivered" | "acknowledged" | "dead")) {
        let message = "one of pending, delivered, acknowledged, dead".to_string();
        return Err(ApiError::Validation(vec![crate::domain::FieldError { path: "state".into(), message }]));
    }
    let store = app.engine.store();
    store.job(job_id).await?.ok_or_else(|| ApiError::NotFound(format!("job {job_id}")))?;
    let rows = store.job_messages(job_id, state.as_deref(), MAX_LISTED).await?;
    Ok(Json(MessageList { messages: rows.into_iter().map(MessageView::from).collect() }))
}

/// Receive a node's due messages, most urgent first, waiting up to `wait_s` for one; each is
/// delivered again unless acknowledged within the visibility timeout.
#[utoipa::path(get, path = "/recursion/job/{id}/nodes/{node_id}/messages", tag = "mail",
    params(("id" = Uuid, Path, description = "Job id"), ("node_id" = Uuid, Path, description = "The recipient"), ReceiveQuery),
    responses(
        (status = 200, description = "The messages delivered (none when the wait ran out)", body = MessageList),
        (status = 403, description = "Neither the recipient's token nor a `write` key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job or node", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad `wait_s` or `max`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn receive_messages(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, node_id)): Path<(String, String)>,
    AppQuery(query): AppQuery<ReceiveQuery>,
) -> ApiResult<Json<MessageList>> {
    let (job_id, node_id) = (parse_id(&id, "job")?, parse_id(&node_id, "node")?);
    let (wait, max) = receive_terms(&query, app.engine.max_mail_wait())?;
    super::reach::mailbox_owner(app.engine.store().as_ref(), &caller, job_id, node_id).await?;
    let rows = app.engine.receive_messages(node_id, wait, max).await?;
    Ok(Json(MessageList { messages: rows.into_iter().map(MessageView::from).collect() }))
}

/// How long a receive waits and how many it takes; a longer wait than the server allows is
/// shortened, not refused.
pub(super) fn receive_terms(query: &ReceiveQuery, max_wait: Duration) -> ApiResult<(Duration, usize)> {
    let max = query.max.unwrap_or(10);
    if !(1..=MAX_RECEIVE).contains(&max) {
        let message = format!("1–{MAX_RECEIVE}");
        return Err(ApiError::Validation(vec![crate::domain::FieldError { path: "max".into(), message }]));
    }
    Ok((Duration::from_secs(query.wait_s.unwrap_or(0)).min(max_wait), max))
}

/// Acknowledge a delivered message: it is never delivered again.
#[utoipa::path(post, path = "/recursion/job/{id}/messages/{msg_id}/ack", tag = "mail",
    params(("id" = Uuid, Path, description = "Job id"), ("msg_id" = Uuid, Path, description = "The message")),
    responses(
        (status = 200, description = "Acknowledged", body = MessageView),
        (status = 403, description = "Neither the recipient's token nor a `write` key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such open message in this job", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not delivered yet", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn ack_message(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, msg_id)): Path<(String, String)>,
) -> ApiResult<Json<MessageView>> {
    let (node, msg_id) = recipient(&app, &caller, &id, &msg_id).await?;
    Ok(Json(MessageView::from(app.engine.ack_message(node, msg_id).await?)))
}

/// Give a delivered message back: it is due again at once (its deliveries still count).
#[utoipa::path(post, path = "/recursion/job/{id}/messages/{msg_id}/nack", tag = "mail",
    params(("id" = Uuid, Path, description = "Job id"), ("msg_id" = Uuid, Path, description = "The message")),
    responses(
        (status = 200, description = "Given back", body = MessageView),
        (status = 403, description = "Neither the recipient's token nor a `write` key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such open message in this job", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not delivered yet", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn nack_message(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, msg_id)): Path<(String, String)>,
) -> ApiResult<Json<MessageView>> {
    let (node, msg_id) = recipient(&app, &caller, &id, &msg_id).await?;
    Ok(Json(MessageView::from(app.engine.nack_message(node, msg_id).await?)))
}

/// The open message's recipient, once the caller is known to be it (or a `write` key).
async fn recipient(app: &AppState, caller: &Caller, id: &str, msg_id: &str) -> ApiResult<(Uuid, Uuid)> {
    let (job_id, msg_id) = (parse_id(id, "job")?, parse_id(msg_id, "message")?);
    let node =
        app.engine.message_recipient(msg_id).ok_or_else(|| ApiError::NotFound(format!("open message {msg_id}")))?;
    super::reach::mailbox_owner(app.engine.store().as_ref(), caller, job_id, node).await?;
    Ok((node, msg_id))
}
