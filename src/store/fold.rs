//! A batch's updates of rows it also inserts, folded into those inserts.
//!
//! A job submitted and started, or a node started and ended, while one commit was being
//! gathered would otherwise be written as an insert and then an update of the same row:
//! twice the statements and, on PostgreSQL, two row versions. Folded, it is one insert of
//! the row as it stands at the commit. PostgreSQL needs this besides: its batch is one
//! statement, whose clauses cannot see one another's rows.

use std::collections::HashMap;

use uuid::Uuid;

use super::{Batch, JobRow, JobUpdate, NodeUpdate};

/// A batch with the updates of its own new rows set apart.
pub(super) struct Folded<'a> {
    pub batch: &'a Batch,
    /// New jobs, each with the update it got in the same batch.
    pub jobs: Vec<(&'a JobRow, Option<&'a JobUpdate>)>,
    /// Updates of jobs stored earlier.
    pub job_updates: Vec<&'a JobUpdate>,
    /// Updates of nodes this batch inserts, by node.
    pub node_folds: HashMap<Uuid, &'a NodeUpdate>,
    /// Updates of nodes stored earlier.
    pub node_updates: Vec<&'a NodeUpdate>,
}

impl<'a> Folded<'a> {
    pub fn of(batch: &'a Batch) -> Self {
        let new_jobs: HashMap<Uuid, usize> = batch.new_jobs.iter().enumerate().map(|(i, j)| (j.id, i)).collect();
        let mut job_folds = vec![None; batch.new_jobs.len()];
        let mut job_updates = Vec::with_capacity(batch.job_updates.len());
        for update in &batch.job_updates {
            match new_jobs.get(&update.id) {
                Some(&i) => job_folds[i] = Some(update),
                None => job_updates.push(update),
            }
        }
        let (node_folds, node_updates) = fold_nodes(batch);
        Self { batch, jobs: batch.new_jobs.iter().zip(job_folds).collect(), job_updates, node_folds, node_updates }
    }
}

/// Splits the node updates into those of nodes the batch inserts and the rest, the rest in
/// their order (consecutive ids: the store finds their rows near each other).
fn fold_nodes(batch: &Batch) -> (HashMap<Uuid, &NodeUpdate>, Vec<&NodeUpdate>) {
    if batch.new_nodes.is_empty() || batch.node_updates.is_empty() {
        return (HashMap::new(), batch.node_updates.iter().collect());
    }
    let positions: HashMap<Uuid, usize> = batch.node_updates.iter().enumerate().map(|(i, u)| (u.id, i)).collect();
    let mut folded = vec![false; batch.node_updates.len()];
    let mut folds = HashMap::new();
    for row in batch.new_node_rows() {
        if let Some(&i) = positions.get(&row.id) {
            folded[i] = true;
            folds.insert(row.id, &batch.node_updates[i]);
        }
    }
    let rest = batch.node_updates.iter().zip(folded).filter(|(_, f)| !f).map(|(u, _)| u).collect();
    (folds, rest)
}

/// A new job's row as the batch leaves it: its update, if it got one, applied.
pub(super) struct FoldedJob<'a> {
    pub status: &'a str,
    pub started_ms: Option<i64>,
    pub finished_ms: Option<i64>,
    pub result: Option<&'a str>,
    pub error: Option<&'a str>,
}

impl<'a> FoldedJob<'a> {
    pub fn of((job, update): &(&'a JobRow, Option<&'a JobUpdate>)) -> Self {
        match update {
            None => Self {
                status: &job.status,
                started_ms: job.started_ms,
                finished_ms: job.finished_ms,
                result: job.result.as_deref(),
                error: job.error.as_deref(),
            },
            // An update without a start keeps the stored one, as the `update` statement does.
            Some(u) => Self {
                status: u.status,
                started_ms: u.started_ms.or(job.started_ms),
                finished_ms: u.finished_ms,
                result: u.result_text(),
                error: u.error.as_deref(),
            },
        }
    }
}
