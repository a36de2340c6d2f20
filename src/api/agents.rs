//! The agent registry (issue 16; `docs/WORKFORCE.md`): `GET/POST /agents`,
//! `GET/PATCH/DELETE /agents/{name}` (changes need an admin key and are audited), the
//! organisation chart (`GET /agents/org`) and the templates agents are created from
//! (`GET /agents/templates`). An agent's figures are `agent_view.rs`'s.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::agent_view::{AgentDetail, AgentView};
use super::extract::{AppJson, Source};
use crate::auth::{Caller, Scope};
use crate::error::{ApiResult, Problem};
use crate::state::AppState;
use crate::workforce::org::OrgChart;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_agents, create_agent))
        .routes(routes!(org_chart))
        .routes(routes!(list_templates))
        .routes(routes!(get_agent, change_agent, delete_agent))
}

/// The registry.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AgentList {
    pub agents: Vec<AgentView>,
}

/// An agent to register: every field of an agent, or `from_template` and the fields that
/// replace the template's (at least `name`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"from_template": "backend-engineer", "name": "alice", "reports_to": "eng-lead"}))]
pub struct NewAgent {
    /// A template under `GET /agents/templates`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_template: Option<String>,
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub fields: serde_json::Map<String, Value>,
}

/// The templates agents are created from.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TemplateList {
    pub templates: Vec<Template>,
}

/// A template: the fields an agent created from it starts with.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Template {
    pub name: String,
    #[schema(value_type = Object)]
    pub agent: Value,
}

/// List the registered agents.
#[utoipa::path(get, path = "/agents", tag = "agents",
    responses((status = 200, description = "Every agent, by name, with its live load", body = AgentList)),
    security(("bearer" = [])))]
pub async fn list_agents(State(app): State<AppState>, caller: Caller) -> ApiResult<Json<AgentList>> {
    caller.require(Scope::Read)?;
    let agents = app.engine.workforce().members().iter().map(AgentView::from).collect();
    Ok(Json(AgentList { agents }))
}

/// Register an agent.
#[utoipa::path(post, path = "/agents", tag = "agents", request_body = NewAgent,
    responses(
        (status = 201, description = "Registered", body = AgentView),
        (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "An agent of that name is registered", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a valid agent (a field named): an unknown manager, a cycle, a bad executor or template", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn create_agent(
    State(app): State<AppState>,
    caller: Caller,
    source: Source,
    AppJson(body): AppJson<NewAgent>,
) -> ApiResult<(StatusCode, Json<AgentView>)> {
    caller.require(Scope::Admin)?;
    let mut value = Value::Object(body.fields);
    if let Some(template) = body.from_template {
        value["from_template"] = Value::String(template);
    }
    let target = value.get("name").and_then(Value::as_str).map(String::from);
    let outcome = app.engine.register_agent(value).await.map_err(Into::into);
    super::record(&app, &caller, &source, "agent.create", target, &outcome);
    Ok((StatusCode::CREATED, Json(AgentView::from(&outcome?))))
}

/// The organisation chart: agents by `reports_to`, as one tree for `d3.hierarchy`.
#[utoipa::path(get, path = "/agents/org", tag = "agents",
    responses((status = 200, description = "The chart, rooted at `organisation`", body = OrgChart)),
    security(("bearer" = [])))]
pub async fn org_chart(State(app): State<AppState>, caller: Caller) -> ApiResult<Json<OrgChart>> {
    caller.require(Scope::Read)?;
    let ended = app.engine.store().agents_ended().await?;
    let ended = ended
        .into_iter()
        .map(|(agent, ok, failed)| (agent, (u64::try_from(ok).unwrap_or(0), u64::try_from(failed).unwrap_or(0))))
        .collect();
    Ok(Json(crate::workforce::org::chart(&app.engine.workforce().members(), &ended)))
}

/// The agent templates.
#[utoipa::path(get, path = "/agents/templates", tag = "agents",
    responses((status = 200, description = "Every template, by name", body = TemplateList)),
    security(("bearer" = [])))]
pub async fn list_templates(State(app): State<AppState>, caller: Caller) -> ApiResult<Json<TemplateList>> {
    caller.require(Scope::Read)?;
    let templates = app.engine.agent_templates().all();
    let templates =
        templates.iter().map(|(name, agent)| Template { name: name.clone(), agent: agent.clone() }).collect();
    Ok(Json(TemplateList { templates }))
}

/// One agent, with its performance over 24 h and all time and its recent tasks.
#[utoipa::path(get, path = "/agents/{name}", tag = "agents",
    params(("name" = String, Path, description = "The agent's name")),
    responses(
        (status = 200, description = "The agent", body = AgentDetail),
        (status = 404, description = "No such agent", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn get_agent(
    State(app): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<AgentDetail>> {
    caller.require(Scope::Read)?;
    let member = app.engine.workforce().member(&name).ok_or_else(|| not_found(&name))?;
    let may_manage = caller.require(Scope::Admin).is_ok();
    Ok(Json(super::agent_view::detail(&app, &member, may_manage).await?))
}

/// Change an agent: a JSON merge patch (RFC 7396) of its fields — `{"status": "paused"}`,
/// `{"reports_to": null}`; its name cannot change.
#[utoipa::path(patch, path = "/agents/{name}", tag = "agents",
    params(("name" = String, Path, description = "The agent's name")),
    request_body(content = Object, description = "The fields to change; `null` removes one"),
    responses(
        (status = 200, description = "Changed", body = AgentView),
        (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such agent", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The changed agent is not valid (a field named)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn change_agent(
    State(app): State<AppState>,
    caller: Caller,
    source: Source,
    Path(name): Path<String>,
    AppJson(patch): AppJson<Value>,
) -> ApiResult<Json<AgentView>> {
    caller.require(Scope::Admin)?;
    let outcome = app.engine.change_agent(&name, &patch).await.map_err(Into::into);
    super::record(&app, &caller, &source, "agent.update", Some(name), &outcome);
    Ok(Json(AgentView::from(&outcome?)))
}

/// Remove an agent that holds no task and that no one reports to (retire it to keep its
/// place in the chart).
#[utoipa::path(delete, path = "/agents/{name}", tag = "agents",
    params(("name" = String, Path, description = "The agent's name")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such agent", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "It holds tasks, or agents report to it", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn delete_agent(
    State(app): State<AppState>,
    caller: Caller,
    source: Source,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require(Scope::Admin)?;
    let outcome = app.engine.remove_agent(&name).await.map_err(Into::into);
    super::record(&app, &caller, &source, "agent.delete", Some(name), &outcome);
    outcome.map(|()| StatusCode::NO_CONTENT)
}

fn not_found(name: &str) -> crate::error::ApiError {
    crate::error::ApiError::NotFound(format!("agent '{name}'"))
}
