//! The store's batch write on its own, on the backend the suite runs on: rows a batch both
//! inserts and updates (PostgreSQL folds the updates into the inserts, since one statement's
//! clauses cannot see each other's rows), and batches larger than one statement.

use std::sync::Arc;

use cadre::domain::{json_text, plan::flatten, JobSpec, PlannedNode};
use cadre::store::{Batch, EventRow, JobRow, JobUpdate, NewNodes, NodeUpdate, SharedStore};
use serde_json::json;
use uuid::Uuid;

use crate::common::fresh_database_url;

/// More node rows than PostgreSQL's writer puts in one statement (10,000).
const WIDE: usize = 25_000;

async fn store(dir: &std::path::Path) -> SharedStore {
    let url = fresh_database_url().await;
    cadre::store::open(url.as_deref(), dir).await.expect("store")
}

fn plan(children: usize) -> Vec<PlannedNode> {
    let leaves: Vec<_> = (0..children).map(|i| json!({"name": format!("n{i}"), "run": {"type": "noop"}})).collect();
    let spec: JobSpec =
        serde_json::from_value(json!({"request": "store test", "plan": {"name": "root", "children": leaves}}))
            .expect("spec");
    let mut config = cadre::config::Config::default();
    config.limits.max_nodes_per_job = children + 1;
    flatten(&spec, &config.plan_limits())
}

fn job_row(id: Uuid, seq: i64, root: Uuid, nodes: usize) -> JobRow {
    JobRow {
        id,
        seq,
        request: "store test".into(),
        config: "{}".into(),
        labels: "{}".into(),
        status: "running".into(),
        idempotency_key: None,
        root_node_id: Some(root),
        node_count: nodes as i64,
        created_ms: 1,
        started_ms: Some(2),
        finished_ms: None,
        result: None,
        error: None,
    }
}

fn ended(id: Uuid, result: serde_json::Value) -> NodeUpdate {
    NodeUpdate {
        id,
        status: "succeeded",
        attempts: 1,
        started_ms: Some(3),
        finished_ms: Some(4),
        result: Some(json_text(&result)),
        error: None,
        warnings: None,
    }
}

#[tokio::test]
async fn rows_a_batch_inserts_and_updates_are_stored_as_updated() {
    let dir = tempfile::tempdir().expect("dir");
    let store = store(dir.path()).await;
    let planned: Arc<[PlannedNode]> = plan(2).into();
    let job_id = Uuid::now_v7();
    let mut batch = Batch::default();
    batch.new_jobs.push(job_row(job_id, 1, planned[0].id, planned.len()));
    batch.new_nodes.push(NewNodes { job_id, first_position: 0, outer_parent: None, nodes: planned.clone() });
    batch.node_updates.push(ended(planned[1].id, json!({"leaf": 1})));
    batch.job_updates.push(JobUpdate {
        id: job_id,
        status: "succeeded",
        started_ms: None,
        finished_ms: Some(9),
        result: Some(json_text(&json!([1]))),
        error: None,
    });
    store.apply(&batch).await.expect("stored");

    let job = store.job(job_id).await.expect("read").expect("job");
    assert_eq!((job.status.as_str(), job.started_ms, job.finished_ms), ("succeeded", Some(2), Some(9)));
    assert_eq!(job.result.as_deref(), Some("[1]"));
    let nodes = store.job_nodes(job_id).await.expect("nodes");
    let statuses: Vec<_> = nodes.iter().map(|n| (n.status.as_str(), n.attempts)).collect();
    assert_eq!(statuses, [("pending", 0), ("succeeded", 1), ("pending", 0)]);
    assert_eq!(nodes[1].result.as_deref(), Some(r#"{"leaf":1}"#));
    assert_eq!(nodes[1].parent_id, Some(planned[0].id));
}

#[tokio::test]
async fn a_batch_larger_than_one_statement_is_stored_whole() {
    let dir = tempfile::tempdir().expect("dir");
    let store = store(dir.path()).await;
    let planned: Arc<[PlannedNode]> = plan(WIDE).into();
    let job_id = Uuid::now_v7();
    let mut first = Batch::default();
    first.new_jobs.push(job_row(job_id, 1, planned[0].id, planned.len()));
    first.new_nodes.push(NewNodes { job_id, first_position: 0, outer_parent: None, nodes: planned.clone() });
    first.node_updates = planned.iter().step_by(2).map(|n| ended(n.id, json!(null))).collect();
    first.events = (1..=WIDE as i64)
        .map(|seq| EventRow {
            seq,
            ts_ms: seq,
            kind: "probe".into(),
            job_id: Some(job_id),
            depth: None,
            data: "{}".into(),
        })
        .collect();
    store.apply(&first).await.expect("stored");
    let second = Batch {
        node_updates: planned.iter().skip(1).step_by(2).map(|n| ended(n.id, json!(null))).collect(),
        ..Batch::default()
    };
    store.apply(&second).await.expect("stored");

    let nodes = store.job_nodes(job_id).await.expect("nodes");
    assert_eq!(nodes.len(), WIDE + 1);
    assert!(
        nodes.iter().all(|n| n.status == "succeeded"),
        "every node updated, in the batch that inserted it or later"
    );
    assert!(nodes.iter().enumerate().all(|(i, n)| n.position == i as i64 && n.id == planned[i].id));
    assert_eq!(store.events_after(0, Some(job_id), WIDE as i64 + 1).await.expect("events").len(), WIDE);
}
