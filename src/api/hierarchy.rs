//! `GET /recursion/hierarchy`: the active jobs (or one job) as a single D3-ready tree, each
//! node with its depth, role, status, slot use and child counts (SPEC §4.4).

use std::collections::{BTreeMap, HashMap, HashSet};

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::budget_view::{by_node, BudgetView};
use super::extract::{parse_id, AppQuery};
use super::views::children_index;
use crate::domain::JobStatus;
use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;
use crate::store::{JobRow, NodeRow};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_hierarchy))
}

/// Which jobs to show.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HierarchyQuery {
    /// One job, whether active or not.
    #[param(value_type = Option<uuid::Uuid>)]
    pub job_id: Option<String>,
}

/// A node's resource use.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Usage {
    /// Quota slots held now (0 or 1).
    pub slots: u32,
    /// The share of its budget envelope spent (its most spent dimension; above 1 when a
    /// reported usage took it over); null for a node without an envelope of its own.
    pub budget_used: Option<f64>,
}

/// One node of the hierarchy (the top is a synthetic node holding the jobs).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HierarchyNode {
    pub name: String,
    pub id: Option<Uuid>,
    pub job_id: Option<Uuid>,
    /// -1 for the synthetic top.
    pub depth: i64,
    pub role: Option<String>,
    /// The plan's title (the name when none was given).
    pub title: Option<String>,
    /// `orchestrator` or `worker`.
    pub kind: Option<String>,
    pub status: Option<String>,
    /// Attempts started so far (retries included).
    pub attempts: Option<i64>,
    pub usage: Option<Usage>,
    /// Its budget envelope, when it has one.
    #[serde(default)]
    pub budget: Option<BudgetView>,
    /// Direct children by status.
    pub child_counts: BTreeMap<String, usize>,
    #[schema(no_recursion)]
    pub children: Vec<HierarchyNode>,
}

/// The hierarchy of active jobs, ready for `d3.hierarchy()`.
#[utoipa::path(get, path = "/recursion/hierarchy", tag = "jobs", params(HierarchyQuery),
    responses(
        (status = 200, description = "The hierarchy", body = HierarchyNode),
        (status = 404, description = "No such job", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn get_hierarchy(
    State(app): State<AppState>,
    caller: crate::auth::Caller,
    AppQuery(query): AppQuery<HierarchyQuery>,
) -> ApiResult<Json<HierarchyNode>> {
    caller.require(crate::auth::Scope::Read)?;
    let store = app.engine.store();
    let jobs: Vec<JobRow> = match &query.job_id {
        Some(id) => {
            let id = parse_id(id, "job")?;
            vec![store.job(id).await?.ok_or_else(|| ApiError::NotFound(format!("job {id}")))?]
        }
        None => {
            let mut jobs = Vec::new();
            for status in [JobStatus::Running, JobStatus::Paused, JobStatus::Cancelling, JobStatus::Queued] {
                jobs.extend(store.jobs_in_status(status.as_str()).await?);
            }
            jobs
        }
    };
    let holding = app.engine.resources().holding();
    let mut children = Vec::with_capacity(jobs.len());
    for job in &jobs {
        let nodes = store.job_nodes(job.id).await?;
        if !nodes.is_empty() {
            let index = children_index(&nodes);
            let budgets = by_node(&store.job_budgets(job.id).await?);
            children.push(node(&nodes, &index, 0, (&holding, &budgets)));
        }
    }
    Ok(Json(HierarchyNode {
        name: "jobs".into(),
        id: None,
        job_id: None,
        depth: -1,
        role: None,
        title: None,
        kind: None,
        status: None,
        attempts: None,
        usage: None,
        budget: None,
        child_counts: counts(children.iter().filter_map(|c| c.status.clone())),
        children,
    }))
}

/// What the nodes hold: quota slots now, and budget envelopes.
type Holdings<'a> = (&'a HashSet<Uuid>, &'a HashMap<Uuid, BudgetView>);

fn node(nodes: &[NodeRow], index: &[Vec<usize>], at: usize, holdings: Holdings<'_>) -> HierarchyNode {
    let row = &nodes[at];
    let children: Vec<HierarchyNode> = index[at].iter().map(|&c| node(nodes, index, c, holdings)).collect();
    let (holding, budgets) = holdings;
    let budget = budgets.get(&row.id).cloned();
    HierarchyNode {
        name: row.name.clone(),
        id: Some(row.id),
        job_id: Some(row.job_id),
        depth: row.depth,
        role: Some(row.role.clone()),
        title: Some(row.title.clone()),
        kind: Some(row.kind.clone()),
        status: Some(row.status.clone()),
        attempts: Some(row.attempts),
        usage: Some(Usage {
            slots: u32::from(holding.contains(&row.id)),
            budget_used: budget.as_ref().and_then(|b| b.used),
        }),
        budget,
        child_counts: counts(index[at].iter().map(|&c| nodes[c].status.clone())),
        children,
    }
}

fn counts(statuses: impl Iterator<Item = String>) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for status in statuses {
        *counts.entry(status).or_default() += 1;
    }
    counts
}
