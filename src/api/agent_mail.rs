//! Agents' mailboxes over HTTP (issue 17; `docs/MAIL.md`): send to a registered agent
//! (`POST /agents/{name}/messages`: a `write` key, or any worker token — from its job), receive
//! with a long poll (`GET /agents/{name}/messages?wait_s=`) and acknowledge or give back
//! (`POST /agents/{name}/messages/{msg_id}/ack|nack`): a `write` key, or the token of a node
//! the agent runs now. Messages, their order and redelivery are a node mailbox's.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::extract::{parse_id, AppJson, AppQuery};
use super::messages::{check_message, receive_terms, MessageList, MessageView, ReceiveQuery};
use crate::auth::{Caller, Scope};
use crate::engine::mail::Outgoing;
use crate::error::{ApiError, ApiResult, Problem};
use crate::mail::agent_mailbox;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(send_to_agent, receive_agent_messages))
        .routes(routes!(ack_agent_message))
        .routes(routes!(nack_agent_message))
}

/// A message to an agent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"priority": 8, "thread_id": "review", "body": {"text": "the release branch is frozen"}}))]
pub struct AgentMessage {
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

/// Send a message to a registered agent.
#[utoipa::path(post, path = "/agents/{name}/messages", tag = "mail", request_body = AgentMessage,
    params(("name" = String, Path, description = "The agent's name")),
    responses(
        (status = 201, description = "Stored; it will be delivered", body = MessageView),
        (status = 403, description = "Not a `write` key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such agent", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The agent is retired", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad priority, thread, time to live or a body too large", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The store is unavailable, or in a cluster no replica holds the agents' mailboxes yet (one takes them within a lease)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn send_to_agent(
    State(app): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    AppJson(message): AppJson<AgentMessage>,
) -> ApiResult<(StatusCode, Json<MessageView>)> {
    let (job_id, from_node, sender) = match &caller {
        Caller::Key(key) => caller.require(Scope::Write).map(|_| (Uuid::nil(), None, key.name.clone()))?,
        Caller::Worker(grant) => (grant.job_id, Some(grant.node_id), format!("node:{}", grant.node_id)),
    };
    let terms = (message.priority, message.thread_id.as_deref(), message.ttl_s);
    check_message(terms, &message.body, app.engine.max_mail_body())?;
    let out = Outgoing {
        to: Uuid::nil(),
        from_node,
        sender,
        thread_id: message.thread_id,
        priority: message.priority.unwrap_or(5),
        body: message.body,
        ttl_s: message.ttl_s,
    };
    let row = app.engine.send_to_agent(&name, job_id, out).await?;
    Ok((StatusCode::CREATED, Json(MessageView::from(row))))
}

/// Receive an agent's due messages, most urgent first, waiting up to `wait_s` for one; each is
/// delivered again unless acknowledged within the visibility timeout.
#[utoipa::path(get, path = "/agents/{name}/messages", tag = "mail",
    params(("name" = String, Path, description = "The agent's name"), ReceiveQuery),
    responses(
        (status = 200, description = "The messages delivered (none when the wait ran out)", body = MessageList),
        (status = 403, description = "Neither a `write` key nor the token of a node the agent runs", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such agent", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad `wait_s` or `max`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The store is unavailable, or in a cluster no replica holds the agents' mailboxes yet (one takes them within a lease)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn receive_agent_messages(
    State(app): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    AppQuery(query): AppQuery<ReceiveQuery>,
) -> ApiResult<Json<MessageList>> {
    let (wait, max) = receive_terms(&query, app.engine.max_mail_wait())?;
    mailbox_holder(&app, &caller, &name).await?;
    let rows = app.engine.receive_messages(agent_mailbox(&name), wait, max).await?;
    Ok(Json(MessageList { messages: rows.into_iter().map(MessageView::from).collect() }))
}

/// Acknowledge a message delivered from an agent's mailbox: it is never delivered again.
#[utoipa::path(post, path = "/agents/{name}/messages/{msg_id}/ack", tag = "mail",
    params(("name" = String, Path, description = "The agent's name"), ("msg_id" = Uuid, Path, description = "The message")),
    responses(
        (status = 200, description = "Acknowledged", body = MessageView),
        (status = 403, description = "Neither a `write` key nor the token of a node the agent runs", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such agent, or no such open message in its mailbox", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not delivered yet", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The store is unavailable, or in a cluster no replica holds the agents' mailboxes yet (one takes them within a lease)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn ack_agent_message(
    State(app): State<AppState>,
    caller: Caller,
    Path((name, msg_id)): Path<(String, String)>,
) -> ApiResult<Json<MessageView>> {
    let msg_id = parse_id(&msg_id, "message")?;
    mailbox_holder(&app, &caller, &name).await?;
    Ok(Json(MessageView::from(app.engine.ack_message(agent_mailbox(&name), msg_id).await?)))
}

/// Give a message delivered from an agent's mailbox back: due again at once.
#[utoipa::path(post, path = "/agents/{name}/messages/{msg_id}/nack", tag = "mail",
    params(("name" = String, Path, description = "The agent's name"), ("msg_id" = Uuid, Path, description = "The message")),
    responses(
        (status = 200, description = "Given back", body = MessageView),
        (status = 403, description = "Neither a `write` key nor the token of a node the agent runs", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such agent, or no such open message in its mailbox", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not delivered yet", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The store is unavailable, or in a cluster no replica holds the agents' mailboxes yet (one takes them within a lease)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn nack_agent_message(
    State(app): State<AppState>,
    caller: Caller,
    Path((name, msg_id)): Path<(String, String)>,
) -> ApiResult<Json<MessageView>> {
    let msg_id = parse_id(&msg_id, "message")?;
    mailbox_holder(&app, &caller, &name).await?;
    Ok(Json(MessageView::from(app.engine.nack_message(agent_mailbox(&name), msg_id).await?)))
}

/// That `caller` may read agent `name`'s mailbox: a `write` key, or the token of a node the
/// agent runs now; 404 for an agent not registered.
async fn mailbox_holder(app: &AppState, caller: &Caller, name: &str) -> ApiResult<()> {
    if app.engine.workforce().member(name).is_none() {
        return Err(ApiError::NotFound(format!("agent {name}")));
    }
    match caller {
        Caller::Key(_) => caller.require(Scope::Write).map(drop),
        Caller::Worker(grant) if app.engine.runs_for(name, grant.job_id, grant.node_id).await? => Ok(()),
        Caller::Worker(_) => Err(ApiError::Forbidden(format!("this worker's node is not run by agent {name}"))),
    }
}
