//! `GET /recursion/job/{id}/nodes/{node_id}/logs`: the stdout and stderr tails a `command`
//! worker left (SPEC §4.8).
//!
//! The tails are part of the node's stored result (`stdout`, `stderr`, `exit_code`), or of
//! its `output` when the worker also spawned children; this route lifts them out so a client
//! need not know either shape. They exist once the process has ended.

use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::extract::parse_id;
use crate::auth::Caller;
use crate::error::{ApiResult, Problem};
use crate::state::AppState;
use crate::store::NodeRow;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(node_logs))
}

/// A node's output tails.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NodeLogs {
    pub node_id: Uuid,
    pub status: String,
    /// False for nodes that run no process, and before a process has ended.
    pub available: bool,
    /// The last bytes of standard output.
    pub stdout: String,
    /// The last bytes of standard error.
    pub stderr: String,
    pub exit_code: Option<i64>,
}

/// The output tails of one node's process.
#[utoipa::path(get, path = "/recursion/job/{id}/nodes/{node_id}/logs", tag = "jobs",
    params(("id" = uuid::Uuid, Path, description = "Job id"), ("node_id" = uuid::Uuid, Path, description = "Node id")),
    responses(
        (status = 200, description = "The tails (empty and `available: false` when there are none)", body = NodeLogs),
        (status = 403, description = "Outside the calling worker's subtree", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job or node", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn node_logs(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, node_id)): Path<(String, String)>,
) -> ApiResult<Json<NodeLogs>> {
    let (job_id, node_id) = (parse_id(&id, "job")?, parse_id(&node_id, "node")?);
    let node = super::reach::readable_node(app.engine.store().as_ref(), &caller, job_id, node_id).await?;
    Ok(Json(NodeLogs::of(&node)))
}

impl NodeLogs {
    fn of(node: &NodeRow) -> Self {
        let result: Option<Value> = node.result.as_deref().and_then(|text| serde_json::from_str(text).ok());
        let process = result.as_ref().and_then(process_output);
        let text =
            |field: &str| process.and_then(|p| p.get(field)).and_then(Value::as_str).unwrap_or_default().to_string();
        Self {
            node_id: node.id,
            status: node.status.clone(),
            available: process.is_some(),
            stdout: text("stdout"),
            stderr: text("stderr"),
            exit_code: process.and_then(|p| p.get("exit_code")).and_then(Value::as_i64),
        }
    }
}

/// The process part of a stored result: the result itself, or its `output` for a worker
/// whose result also carries its children's.
fn process_output(result: &Value) -> Option<&Value> {
    let has_tails = |value: &&Value| value.get("stdout").is_some_and(Value::is_string);
    Some(result).filter(has_tails).or_else(|| result.get("output").filter(has_tails))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::process_output;

    #[test]
    fn tails_are_found_in_the_result_or_its_output() {
        let own = json!({"stdout": "a", "stderr": "", "exit_code": 0});
        assert_eq!(process_output(&own), Some(&own));
        let spawned = json!({"output": own.clone(), "children": []});
        assert_eq!(process_output(&spawned), Some(&own));
        assert_eq!(process_output(&json!({"greeting": "hi"})), None);
        assert_eq!(process_output(&json!("plain")), None);
    }
}
