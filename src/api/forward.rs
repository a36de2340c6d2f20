//! Any replica answers (issue 18; CLUSTER.md): what only a job's driver can do — a cancel, an
//! answer, a resume, a message and its acknowledgement, a receive from a mailbox, a spawn,
//! reported usage, an approval's decision, a node's diff, the removal of its workspace — sent
//! to a replica that does not drive the job is passed to the replica that does, at the address
//! it registered, and that replica's answer is returned as it is (the owner stores the change
//! before it answers). A job whose replica is gone answers 503 until another has taken it
//! over. Everything else is answered where it arrives (reads come from the database).
//!
//! Only in a cluster, and never twice: a forwarded request carries [`FORWARDED_BY`] and is
//! answered where it lands.

use std::sync::LazyLock;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{OriginalUri, Request, State};
use axum::http::{header, HeaderName, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::cluster::LIVE;

/// Set on a forwarded request: the replica that passed it on.
pub const FORWARDED_BY: HeaderName = HeaderName::from_static("x-cadre-forwarded-by");
/// The headers a forwarded request keeps (the key above all: the owner checks it again).
const KEPT: [HeaderName; 4] = [header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT, header::USER_AGENT];

static CLIENT: LazyLock<reqwest::Client> = LazyLock::new(reqwest::Client::new);

/// Passes a request about a job driven elsewhere to its replica.
pub async fn to_owner(State(app): State<AppState>, request: Request, next: Next) -> Response {
    if !app.cluster.enabled || request.headers().contains_key(&FORWARDED_BY) {
        return next.run(request).await;
    }
    if is_agent_mail(request.uri().path()) {
        return to_steward(&app, request, next).await;
    }
    to_driver(&app, request, next).await
}

/// A request about a job: answered here, or passed to the replica driving the job.
async fn to_driver(app: &AppState, request: Request, next: Next) -> Response {
    let Some(job_id) = job_of(app, request.method(), request.uri().path()).await else {
        return next.run(request).await;
    };
    if app.engine.drives(job_id) {
        return next.run(request).await;
    }
    match owner_of(app, job_id).await {
        Ok(Owner::Here) => next.run(request).await,
        Ok(Owner::At(address)) => forward(app, &address, request).await.unwrap_or_else(IntoResponse::into_response),
        Ok(Owner::Gone) => ApiError::Unavailable(GONE).into_response(),
        Err(err) => err.into_response(),
    }
}

/// An agent's mailbox is held by the cluster's steward: its requests are answered there.
async fn to_steward(app: &AppState, request: Request, next: Next) -> Response {
    match app.cluster.steward() {
        Some(steward) if steward.id == app.cluster.replica_id => next.run(request).await,
        Some(steward) if !steward.address.is_empty() => {
            forward(app, &steward.address, request).await.unwrap_or_else(IntoResponse::into_response)
        }
        _ => ApiError::Unavailable(NO_STEWARD).into_response(),
    }
}

/// `/agents/{name}/messages…`: a receive, a send, an acknowledgement.
fn is_agent_mail(path: &str) -> bool {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    matches!(parts.as_slice(), ["agents", _, "messages", ..])
}

const NO_STEWARD: &str = "no replica holds the agents' mailboxes now; one takes them within a lease: try again";

const GONE: &str = "the replica that drives this job is gone; another replica takes it over within a lease: try again";

enum Owner {
    Here,
    At(String),
    Gone,
}

/// The replica driving an unfinished job (here when it has none, or is not running).
async fn owner_of(app: &AppState, job_id: Uuid) -> Result<Owner, ApiError> {
    let Some(cluster) = app.engine.store().cluster() else { return Ok(Owner::Here) };
    Ok(match cluster.job_owner(job_id).await? {
        Some(owner) if owner.id == app.cluster.replica_id => Owner::Here,
        Some(owner) if owner.state == LIVE && !owner.address.is_empty() => Owner::At(owner.address),
        Some(_) => Owner::Gone,
        None => Owner::Here,
    })
}

/// The job a request acts on through its driver, if it is one of those.
async fn job_of(app: &AppState, method: &Method, path: &str) -> Option<Uuid> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    match parts.as_slice() {
        ["approvals", id, "decision"] if method == Method::POST => {
            let id = id.parse().ok()?;
            app.engine.store().approval(id).await.ok().flatten().map(|approval| approval.job_id)
        }
        ["recursion", "job", id, rest @ ..] if needs_driver(method, rest) => id.parse().ok(),
        _ => None,
    }
}

/// A change, or a read only the driver can answer (a mailbox, a worktree's diff).
fn needs_driver(method: &Method, rest: &[&str]) -> bool {
    match *method {
        Method::GET => matches!(rest, ["nodes", _, "messages" | "diff"]),
        _ => true,
    }
}

/// The request sent on to `address`, and its answer.
async fn forward(app: &AppState, address: &str, request: Request) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let uri = parts.extensions.get::<OriginalUri>().map_or_else(|| parts.uri.clone(), |original| original.0.clone());
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let limit = app.config.server.body_limit_bytes;
    let body = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::BadRequest("the body could not be read".into()))?;
    let mut outgoing = CLIENT
        .request(parts.method.clone(), format!("{}{path}", address.trim_end_matches('/')))
        .timeout(Duration::from_secs(app.config.server.request_timeout_s))
        .header(&FORWARDED_BY, app.cluster.replica_id.to_string())
        .body(body);
    for name in &KEPT {
        if let Some(value) = parts.headers.get(name) {
            outgoing = outgoing.header(name, value);
        }
    }
    let answer = outgoing.send().await.map_err(|_| ApiError::Unavailable(UNREACHED))?;
    relay(answer).await
}

const UNREACHED: &str = "the replica that drives this job did not answer; try again";

/// The owner's answer, status, type and body as they came.
async fn relay(answer: reqwest::Response) -> Result<Response, ApiError> {
    let status = StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut response = Response::builder().status(status);
    for name in [header::CONTENT_TYPE, header::RETRY_AFTER, header::LOCATION] {
        if let Some(value) = answer.headers().get(name.as_str()) {
            response = response.header(name, value.as_bytes());
        }
    }
    let body = answer.bytes().await.map_err(|_| ApiError::Unavailable(UNREACHED))?;
    response.body(Body::from(body)).map_err(|err| ApiError::Internal(err.to_string()))
}
