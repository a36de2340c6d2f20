//! `GET /recursion/job/{id}/nodes/{node_id}/ancestors` and `…/descendants`: one node's place
//! in its tree — the nodes above it, nearest first, and a page of those below it,
//! breadth-first — answered by the store's recursive walks (`store::LineageStore`) without
//! loading the job, so a client can follow one branch of a very large tree.
//!
//! Each node is a compact summary (the tree view's names, no spec and no result). A key needs
//! `read`; a worker token sees only its own subtree (as `logs.rs`): a node outside it is 403,
//! and its ancestors stop at the worker's own node.

use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::extract::{parse_id, AppQuery};
use super::reach::readable_subtree;
use crate::auth::Caller;
use crate::domain::{FieldError, NodeStatus};
use crate::error::{ApiError, ApiResult, Problem};
use crate::events::ms_to_rfc3339;
use crate::state::AppState;
use crate::store::{DescendantQuery, LineageRow, Store};

const DEFAULT_PAGE: i64 = 100;
const MAX_PAGE: i64 = 1000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(node_ancestors)).routes(routes!(node_descendants))
}

/// A node without its spec or result: where it sits in the tree and how it stands.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NodeSummary {
    pub id: Uuid,
    /// Null for the job's root.
    pub parent_id: Option<Uuid>,
    pub name: String,
    pub title: String,
    pub role: String,
    pub depth: i64,
    /// `orchestrator` or `worker`.
    #[schema(pattern = "^(orchestrator|worker)$")]
    pub kind: String,
    #[schema(value_type = NodeStatus)]
    pub status: String,
    pub attempts: i64,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
}

impl NodeSummary {
    fn of(row: &LineageRow) -> Self {
        Self {
            id: row.id,
            parent_id: row.parent_id,
            name: row.name.clone(),
            title: row.title.clone(),
            role: row.role.clone(),
            depth: row.depth,
            kind: row.kind.clone(),
            status: row.status.clone(),
            attempts: row.attempts,
            started_at: row.started_ms.map(ms_to_rfc3339),
            finished_at: row.finished_ms.map(ms_to_rfc3339),
        }
    }
}

/// A node's ancestors.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Ancestors {
    pub job_id: Uuid,
    pub node_id: Uuid,
    /// Its parent first, the root last (for a worker token, its own node last); empty for a root.
    pub ancestors: Vec<NodeSummary>,
}

/// A page of a node's descendants.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Descendants {
    pub job_id: Uuid,
    pub node_id: Uuid,
    /// Breadth-first: by depth, then by position in the job.
    pub descendants: Vec<NodeSummary>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

/// Page and depth of a descendants list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DescendantParams {
    /// Page size (1–1000, default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(pattern = r"^[0-9]{1,18}\.[0-9]{1,18}$")]
    pub cursor: Option<String>,
    /// Levels below the node to include (1: its children only; default: all).
    #[param(minimum = 1)]
    pub max_depth: Option<i64>,
}

/// The ancestors of one node, nearest first.
#[utoipa::path(get, path = "/recursion/job/{id}/nodes/{node_id}/ancestors", tag = "jobs",
    params(("id" = uuid::Uuid, Path, description = "Job id"), ("node_id" = uuid::Uuid, Path, description = "Node id")),
    responses(
        (status = 200, description = "Its parent, grandparent, …, root (empty for a root)", body = Ancestors),
        (status = 403, description = "A key without `read`, or outside the calling worker's subtree", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job, or no such node in it", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn node_ancestors(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, node_id)): Path<(String, String)>,
) -> ApiResult<Json<Ancestors>> {
    let (job_id, node_id) = (parse_id(&id, "job")?, parse_id(&node_id, "node")?);
    let subtree = readable_subtree(&caller, job_id)?;
    let store = app.engine.store().as_ref();
    known_node(store, job_id, node_id).await?;
    let mut rows = store.ancestors(job_id, node_id).await?;
    if let Some(top) = subtree {
        rows.truncate(visible_ancestors(&rows, node_id, top)?);
    }
    Ok(Json(Ancestors { job_id, node_id, ancestors: rows.iter().map(NodeSummary::of).collect() }))
}

/// A page of the nodes below one node, breadth-first.
#[utoipa::path(get, path = "/recursion/job/{id}/nodes/{node_id}/descendants", tag = "jobs",
    params(("id" = uuid::Uuid, Path, description = "Job id"), ("node_id" = uuid::Uuid, Path, description = "Node id"), DescendantParams),
    responses(
        (status = 200, description = "A page of descendants (empty for a leaf)", body = Descendants),
        (status = 403, description = "A key without `read`, or outside the calling worker's subtree", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job, or no such node in it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A `limit`, `cursor` or `max_depth` out of bounds or malformed; `errors` names it", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn node_descendants(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, node_id)): Path<(String, String)>,
    AppQuery(params): AppQuery<DescendantParams>,
) -> ApiResult<Json<Descendants>> {
    let (job_id, node_id) = (parse_id(&id, "job")?, parse_id(&node_id, "node")?);
    let page = Page::parse(&params)?;
    let subtree = readable_subtree(&caller, job_id)?;
    let store = app.engine.store().as_ref();
    let node = known_node(store, job_id, node_id).await?;
    if let Some(top) = subtree.filter(|&top| top != node_id) {
        visible_ancestors(&store.ancestors(job_id, node_id).await?, node_id, top)?;
    }
    let query = page.query(node.depth);
    let mut rows = store.descendants(job_id, node_id, &query).await?;
    let next_cursor = page.cut(&mut rows);
    let descendants = rows.iter().map(NodeSummary::of).collect();
    Ok(Json(Descendants { job_id, node_id, descendants, next_cursor }))
}

/// Node `node_id` of job `job_id`; 404 for an unknown job, or a node not in it.
async fn known_node(store: &dyn Store, job_id: Uuid, node_id: Uuid) -> ApiResult<LineageRow> {
    store
        .lineage_node(job_id, node_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("node {node_id} in job {job_id}")))
}

/// How many of `ancestors` (of `node`, nearest first) a worker whose subtree starts at `top`
/// may see: those up to `top` itself, none when `node` is `top`; 403 when `top` is not among
/// them, since `node` then lies outside the subtree.
fn visible_ancestors(ancestors: &[LineageRow], node: Uuid, top: Uuid) -> ApiResult<usize> {
    if node == top {
        return Ok(0);
    }
    ancestors
        .iter()
        .position(|row| row.id == top)
        .map(|at| at + 1)
        .ok_or_else(|| ApiError::Forbidden(format!("node {node} is outside this worker's subtree")))
}

/// A descendants page asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Page {
    size: i64,
    /// The `(depth, position)` of the previous page's last row.
    after: Option<(i64, i64)>,
    /// Levels below the node.
    levels: Option<i64>,
}

impl Page {
    /// Checks `limit`, `cursor` and `max_depth`, naming each one that is wrong (422).
    fn parse(params: &DescendantParams) -> ApiResult<Self> {
        let size = params.limit.unwrap_or(DEFAULT_PAGE);
        let after = params.cursor.as_deref().map(parse_cursor);
        let mut errors = Vec::new();
        if !(1..=MAX_PAGE).contains(&size) {
            errors.push(field_error("limit", format!("must be 1–{MAX_PAGE}")));
        }
        if after.is_some_and(|cursor| cursor.is_none()) {
            errors.push(field_error("cursor", "is not a cursor this route gave (DEPTH.POSITION)".into()));
        }
        if params.max_depth.is_some_and(|levels| levels < 1) {
            errors.push(field_error("max_depth", "must be at least 1".into()));
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        Ok(Self { size, after: after.flatten(), levels: params.max_depth })
    }

    /// The store's query below a node at `depth`: one row more than the page, which tells
    /// whether another page follows.
    fn query(self, depth: i64) -> DescendantQuery {
        let max_depth = self.levels.map(|levels| depth.saturating_add(levels));
        DescendantQuery { max_depth, after: self.after, limit: self.size + 1 }
    }

    /// Cuts the fetched rows to the page; the next page's cursor when more follow.
    fn cut(self, rows: &mut Vec<LineageRow>) -> Option<String> {
        let size = usize::try_from(self.size).unwrap_or(usize::MAX);
        let more = rows.len() > size;
        rows.truncate(size);
        more.then(|| rows.last().map(|row| format!("{}.{}", row.depth, row.position))).flatten()
    }
}

/// `DEPTH.POSITION`, both plain decimal numbers.
fn parse_cursor(text: &str) -> Option<(i64, i64)> {
    let number = |part: &str| {
        let digits = !part.is_empty() && part.len() <= 18 && part.bytes().all(|b| b.is_ascii_digit());
        digits.then(|| part.parse::<i64>().ok()).flatten()
    };
    let (depth, position) = text.split_once('.')?;
    Some((number(depth)?, number(position)?))
}

fn field_error(path: &str, message: String) -> FieldError {
    FieldError { path: path.into(), message: format!("{path} {message}") }
}

#[cfg(test)]
mod tests {
    use super::{parse_cursor, DescendantParams, Page};

    #[test]
    fn cursors_are_two_plain_numbers() {
        assert_eq!(parse_cursor("2.17"), Some((2, 17)));
        assert_eq!(parse_cursor("0.0"), Some((0, 0)));
        for bad in ["", "2", "2.", ".3", "+1.2", "1.-2", "a.b", "1.2.3", "1234567890123456789.1"] {
            assert_eq!(parse_cursor(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_page_names_every_bad_parameter() {
        let params = DescendantParams { limit: Some(0), cursor: Some("x".into()), max_depth: Some(0) };
        let Err(crate::error::ApiError::Validation(errors)) = Page::parse(&params) else { panic!("refused") };
        let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["limit", "cursor", "max_depth"]);
        let fine = DescendantParams { limit: None, cursor: Some("1.4".into()), max_depth: Some(2) };
        let page = Page::parse(&fine).expect("accepted");
        assert_eq!(page, Page { size: 100, after: Some((1, 4)), levels: Some(2) });
        let query = page.query(3);
        assert_eq!((query.max_depth, query.after, query.limit), (Some(5), Some((1, 4)), 101));
    }
}
