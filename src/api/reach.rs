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

/// Who sends a message to `to` in job `job_id`: a `write` key by its name, or a worker whose
/// reach takes in `to` — its own subtree, its ancestors and its siblings' subtrees (everything
/// under its parent, and the line above it).
pub async fn mail_sender(
    store: &dyn Store,
    caller: &Caller,
    job_id: Uuid,
    to: Uuid,
) -> ApiResult<(String, Option<Uuid>)> {
    let grant = match caller {
        Caller::Key(key) => return caller.require(Scope::Write).map(|_| (key.name.clone(), None)),
        Caller::Worker(grant) if grant.job_id == job_id => grant,
        Caller::Worker(_) => return Err(ApiError::NotFound(format!("job {job_id}"))),
    };
    let parents: std::collections::HashMap<Uuid, Option<Uuid>> =
        store.job_nodes(job_id).await?.iter().map(|n| (n.id, n.parent_id)).collect();
    let sender = grant.node_id;
    if !parents.contains_key(&to) {
        return Err(ApiError::NotFound(format!("node {to}")));
    }
    if !crate::mail::reaches(&parents, sender, to) {
        return Err(ApiError::Forbidden(format!("node {to} is outside this worker's reach")));
    }
    Ok((format!("node:{sender}"), Some(sender)))
}

/// That `caller` may read and acknowledge node `node_id`'s mailbox in job `job_id`: the node's
/// own token, or a `write` key; 404 when the job has no such node.
pub async fn mailbox_owner(store: &dyn Store, caller: &Caller, job_id: Uuid, node_id: Uuid) -> ApiResult<()> {
    let node = store.node(node_id).await?.filter(|n| n.job_id == job_id);
    node.ok_or_else(|| ApiError::NotFound(format!("node {node_id}")))?;
    match caller {
        Caller::Key(_) => caller.require(Scope::Write).map(drop),
        Caller::Worker(grant) if grant.job_id != job_id => Err(ApiError::NotFound(format!("job {job_id}"))),
        Caller::Worker(grant) if grant.node_id == node_id => Ok(()),
        Caller::Worker(_) => Err(ApiError::Forbidden("a worker reads its own mailbox only".into())),
    }
}
