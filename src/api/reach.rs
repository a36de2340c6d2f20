//! What a caller may see of a job: a key with `read` sees it all; a worker token sees only
//! its own node's subtree of its own job, and other jobs do not exist for it (404).

use uuid::Uuid;

use crate::auth::{Caller, Scope};
use crate::error::{ApiError, ApiResult};
use crate::store::NodeRow;

/// The root of what `caller` may read of job `job_id`: `None` for the whole job.
pub fn readable_subtree(caller: &Caller, job_id: Uuid) -> ApiResult<Option<Uuid>> {
    match caller {
        Caller::Worker(grant) if grant.job_id == job_id => Ok(Some(grant.node_id)),
        Caller::Worker(_) => Err(ApiError::NotFound(format!("job {job_id}"))),
        Caller::Key(_) => caller.require(Scope::Read).map(|_| None),
    }
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
