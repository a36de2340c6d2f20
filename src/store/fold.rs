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
        let mut job_updates: HashMap<Uuid, &JobUpdate> = batch.job_updates.iter().map(|u| (u.id, u)).collect();
        let jobs = batch.new_jobs.iter().map(|job| (job, job_updates.remove(&job.id))).collect();
        let mut node_updates: HashMap<Uuid, &NodeUpdate> = batch.node_updates.iter().map(|u| (u.id, u)).collect();
        let mut node_folds = HashMap::new();
        if !node_updates.is_empty() {
            for row in batch.new_node_rows() {
                if let Some(update) = node_updates.remove(&row.id) {
                    node_folds.insert(row.id, update);
                }
            }
        }
        Self {
            batch,
            jobs,
            job_updates: job_updates.into_values().collect(),
            node_folds,
            node_updates: node_updates.into_values().collect(),
        }
    }
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
                result: u.result.as_deref().map(serde_json::value::RawValue::get),
                error: u.error.as_deref(),
            },
        }
    }
}
