//! What a caller may see of a job: a key with `read` sees it all; a worker token sees only
//! its own node's subtree of its own job, and other jobs do not exist for it (404).

use uuid::Uuid;

use crate::auth::{Caller, Scope};
use crate::error::{ApiError, ApiResult};
use crate::store::{NodeRow, Store};

/// The root of what `caller` may read of job `job_id`: `None` for the whole job.
pub fn readable_subtree(caller: &Caller, job_id: Uuid) -> ApiResult<Option<Uuid>> {
    match caller {
        Caller::Worker(grant) if grant.job_id == job_id => Ok(Some(grant.node_id)),
        Caller::Worker(_) => Err(ApiError::NotFound(format!("job {job_id}"))),
        Caller::Key(_) => caller.require(Scope::Read).map(|_| None),
    }
}

/// Node `node_id` of job `job_id`, if `caller` may read it: 404 when the job has no such
/// node, 403 when it lies outside the calling worker's subtree.
pub async fn readable_node(store: &dyn Store, caller: &Caller, job_id: Uuid, node_id: Uuid) -> ApiResult<NodeRow> {
    let subtree = readable_subtree(caller, job_id)?;
    let node = store
        .node(node_id)
        .await?
        .filter(|node| node.job_id == job_id)
        .ok_or_else(|| ApiError::NotFound(format!("node {node_id}")))?;
    if let Some(root) = subtree {
        if !is_within(&store.job_nodes(job_id).await?, root, node_id) {
            return Err(ApiError::Forbidden(format!("node {node_id} is outside this worker's subtree")));
        }
    }
    Ok(node)
}

/// The nodes of the subtree rooted at `root` (all of them for `None`), parents first.
pub fn within(nodes: Vec<NodeRow>, root: Option<Uuid>) -> Vec<NodeRow> {
    let Some(root) = root else { return nodes };
    let mut inside = std::collections::HashSet::from([root]);
    nodes
        .into_iter()
        .filter(|n| {
            let keep = n.id == root || n.parent_id.is_some_and(|p| inside.contains(&p));
            if keep {
                inside.insert(n.id);
            }
            keep
        })
        .collect()
}

/// True when `node` is `ancestor` or lies below it.
pub fn is_within(nodes: &[NodeRow], ancestor: Uuid, node: Uuid) -> bool {
    let parents: std::collections::HashMap<Uuid, Option<Uuid>> = nodes.iter().map(|n| (n.id, n.parent_id)).collect();
    let mut current = Some(node);
    while let Some(id) = current {
        if id == ancestor {
            return true;
        }
        current = parents.get(&id).copied().flatten();
    }
    false
}
