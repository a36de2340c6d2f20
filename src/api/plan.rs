//! `POST /recursion/plan`: the dry run of a decomposition (issue 13) — the server's
//! decomposer plans and breaks the request down (phases 0–2) and the tree that would run is
//! returned, with what the breakdown cost and how many agents would work, so a person can
//! read it before paying for the run. Nothing is stored: no job, no node, no ledger row.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::AppJson;
use super::views::UsageView;
use crate::auth::{Caller, Scope};
use crate::domain::validate::validate_spawn;
use crate::domain::PlanLimits;
use crate::domain::{CheckSpec, ExecutorSpec, FieldError, JobSpec, NodeSpec};
use crate::engine::calls::Unrecorded;
use crate::engine::decompose::pipeline::{Breakdown, DecomposeError, Placement};
use crate::engine::decompose::shape::Shape;
use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(plan_job))
}

/// What the decomposer would run.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PlanPreview {
    /// The architectural plan (phase 0).
    #[schema(value_type = Object)]
    pub plan: Value,
    /// The tasks and subtasks the model gave (phase 1).
    #[schema(value_type = Object)]
    pub decomposition: Value,
    /// The tree that would run: the request's root over its managers and agents (phase 2).
    pub tree: NodeSpec,
    pub estimate: PlanEstimate,
    /// What the dry run's own calls cost.
    pub usage: UsageView,
}

/// The size of the tree that would run.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PlanEstimate {
    /// Orchestrators under the root (a manager that decomposes its share included).
    pub managers: usize,
    /// Workers.
    pub agents: usize,
    pub subtasks: usize,
    /// Nodes in the tree, the root included.
    pub nodes: usize,
    /// Model calls the run makes at the least: one per `llm` agent, one per model check,
    /// two (plan, breakdown) per manager that decomposes its share, whose own agents come on
    /// top; corrections and retries on top of all.
    pub calls: usize,
}

impl PlanEstimate {
    fn of(children: &[NodeSpec], subtasks: usize) -> Self {
        let mut estimate = Self { managers: 0, agents: 0, subtasks, nodes: 1, calls: 0 };
        let mut stack: Vec<&NodeSpec> = children.iter().collect();
        while let Some(node) = stack.pop() {
            estimate.nodes += 1;
            match &node.run {
                Some(run) => {
                    estimate.agents += 1;
                    estimate.calls += usize::from(matches!(run, ExecutorSpec::Llm(_)));
                }
                None => {
                    estimate.managers += 1;
                    estimate.calls += if node.decompose.is_some() { 2 } else { 0 };
                }
            }
            estimate.calls += usize::from(matches!(node.validate, Some(CheckSpec::Llm { .. })));
            stack.extend(node.children.iter().flatten());
        }
        estimate
    }
}

/// Plan and break a request down without running it.
#[utoipa::path(post, path = "/recursion/plan", tag = "jobs", request_body = JobSpec,
    responses(
        (status = 200, description = "The plan, the breakdown and the tree that would run; nothing is stored", body = PlanPreview),
        (status = 403, description = "A key without `write` (the dry run calls a model, which costs money)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "This server has no decomposer (`[decomposer] provider` is empty)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a job, or a job that carries a `plan` of its own", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The model failed, or its answers never followed the rules", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn plan_job(
    State(app): State<AppState>,
    caller: Caller,
    AppJson(spec): AppJson<JobSpec>,
) -> ApiResult<Json<PlanPreview>> {
    caller.require(Scope::Write)?;
    if spec.plan.is_some() {
        let message = "a dry run breaks a request down: leave `plan` out".to_string();
        return Err(ApiError::Validation(vec![FieldError { path: "plan".into(), message }]));
    }
    let decomposer = app.engine.decomposer().ok_or_else(|| {
        ApiError::Conflict("this server has no decomposer: set [decomposer] provider in its configuration".into())
    })?;
    let calls = Unrecorded(decomposer.provider.clone());
    let max_depth = spec.config.max_depth.unwrap_or(app.engine.limits().default_max_depth);
    let placement = DryRun { max_depth, limits: app.engine.limits() };
    let breakdown = decomposer.breakdown(&calls, &spec.request, "", &placement).await.map_err(|err| match err {
        DecomposeError::Call(call) => ApiError::BadGateway(call.to_string()),
        invalid @ DecomposeError::Invalid { .. } => ApiError::BadGateway(invalid.to_string()),
    })?;
    Ok(Json(preview(&spec.request, breakdown)))
}

/// The root of the job that would run: its children checked as any spawn under it would be.
struct DryRun<'a> {
    max_depth: u8,
    limits: &'a PlanLimits,
}

#[async_trait::async_trait]
impl Placement for DryRun<'_> {
    fn shape(&self) -> Shape {
        if self.max_depth >= 2 {
            Shape::TOP
        } else {
            Shape::AGENTS
        }
    }

    async fn place(&self, children: &[NodeSpec]) -> Result<(), Vec<String>> {
        let errors = validate_spawn(children, (0, self.max_depth), &[], self.limits).errors;
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.iter().map(|e| format!("{}: {}", e.path, e.message)).collect())
        }
    }
}

fn preview(request: &str, breakdown: Breakdown) -> PlanPreview {
    let Breakdown { plan, decomposition, children, completions, .. } = breakdown;
    let estimate = PlanEstimate::of(&children, decomposition.tasks.iter().map(|t| t.subtasks.len()).sum());
    let title = plan.get("project_name").and_then(Value::as_str).map_or_else(|| request.to_string(), str::to_string);
    let root = serde_json::json!({"name": "project", "title": title, "children": children});
    let tree: NodeSpec = serde_json::from_value(root).unwrap_or_else(|_| unreachable!("node specs read back"));
    let usage = completions.iter().fold(UsageView::default(), |mut sum, c| {
        sum.input_tokens += i64::try_from(c.usage.input_tokens).unwrap_or(i64::MAX);
        sum.output_tokens += i64::try_from(c.usage.output_tokens).unwrap_or(i64::MAX);
        sum.cached_tokens += i64::try_from(c.usage.cached_tokens).unwrap_or(i64::MAX);
        sum.cost += c.cost;
        sum.calls += 1;
        sum
    });
    PlanPreview { plan, decomposition: serde_json::to_value(&decomposition).unwrap_or_default(), tree, estimate, usage }
}
