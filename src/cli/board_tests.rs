//! Tests of the watcher's model: events and trees in, names, statuses and counts out.

use serde_json::json;

use super::*;
use crate::cli::spend::Spend;

pub(in crate::cli) const JOB: &str = "01a1fea2-f5f6-735a-96eb-d1ef34460576";
pub(in crate::cli) const ROOT: &str = "00000000-0000-0000-0000-000000000001";
pub(in crate::cli) const UNIT: &str = "00000000-0000-0000-0000-000000000002";
pub(in crate::cli) const MODELS: &str = "00000000-0000-0000-0000-000000000003";
pub(in crate::cli) const STORAGE: &str = "00000000-0000-0000-0000-000000000004";
pub(in crate::cli) const SPAWNED: &str = "00000000-0000-0000-0000-0000000000a5";

fn node(id: &str, name: &str, depth: i64, status: &str, children: Vec<Value>) -> Value {
    json!({"id": id, "name": name, "title": "", "role": "", "depth": depth, "kind": "worker", "status": status,
           "attempts": 0, "slots": 0, "started_at": null, "finished_at": null, "error": null,
           "child_count": children.len(), "children": children})
}

/// The job's tree as the API gives it; `spawned` adds a node a worker spawned.
pub(in crate::cli) fn tree(status: &str, spawned: bool) -> JobView {
    let mut unit = vec![node(MODELS, "models", 2, status, vec![]), node(STORAGE, "storage", 2, "pending", vec![])];
    if spawned {
        unit.push(node(SPAWNED, "extra", 2, "pending", vec![]));
    }
    let root = node(ROOT, "release", 0, "running", vec![node(UNIT, "unit", 1, "running", unit)]);
    serde_json::from_value(json!({"job_id": JOB, "status": "running", "request": "Run the suite", "labels": {},
        "created_at": "2026-01-01T00:00:00.000Z", "started_at": "2026-01-01T00:00:00.000Z", "finished_at": null,
        "counts": {"by_status": {}, "by_depth": {}}, "result": null, "error": null, "tree": root}))
    .expect("a job view")
}

/// The job's frame number `seq`, stored `seq` seconds after the job started.
pub(in crate::cli) fn frame(seq: i64, kind: &str, depth: i64, data: Value) -> Frame {
    let ts = format!("2026-01-01T00:00:{:02}.000Z", seq);
    let text = json!({"seq": seq, "ts": ts, "type": kind, "job_id": JOB, "depth": depth, "data": data});
    Frame::parse(&text.to_string()).expect("a frame")
}

/// A node's path, or its short id when no tree named it.
fn name(board: &Board, job_id: Option<&str>, node_id: &str) -> String {
    board.known_path(job_id, node_id).unwrap_or_else(|| short_id(node_id))
}

/// A board that knows the tree (as after the first fetch).
pub(in crate::cli) fn board(replaying: bool) -> Board {
    let mut board = Board::new(replaying);
    let first = frame(1, "job_submitted", 0, json!({"job_id": JOB, "status": "running", "nodes": 4}));
    assert_eq!(board.wants_tree(&first).as_deref(), Some(JOB), "a new job's tree is fetched");
    board.learn(&tree("pending", false));
    board.apply(&first);
    board
}

#[test]
fn nodes_are_named_by_their_path_from_the_root() {
    let board = board(true);
    assert_eq!(name(&board, Some(JOB), MODELS), "release/unit/models");
    assert_eq!(name(&board, Some(JOB), ROOT), "release");
    assert_eq!(name(&board, Some(JOB), "00000000-0000-0000-0000-00000000beef"), "…0000beef", "unknown: short id");
    assert_eq!(name(&board, None, MODELS), "…00000003");
}

#[test]
fn events_move_statuses_and_the_running_list() {
    let mut board = board(true);
    board.apply(&frame(2, "orchestrator_spawned", 0, json!({"orchestrator_id": ROOT, "children": 1})));
    board.apply(&frame(3, "worker_started", 2, json!({"worker_id": MODELS, "attempt": 1})));
    board.apply(&frame(4, "worker_started", 2, json!({"worker_id": STORAGE, "attempt": 1})));
    board.apply(&frame(5, "node_retrying", 2, json!({"node_id": MODELS, "attempt": 1, "error": "boom"})));
    let job = &board.jobs[JOB];
    assert_eq!(job.running, vec![ROOT.to_string(), STORAGE.to_string()]);
    assert_eq!(job.counts(), vec![("pending", 1), ("running", 2), ("retrying", 1)]);
    board.apply(&frame(6, "worker_started", 2, json!({"worker_id": MODELS, "attempt": 2})));
    board.apply(&frame(7, "node_completed", 2, json!({"node_id": MODELS, "name": "models", "status": "succeeded"})));
    board.apply(&frame(8, "node_completed", 2, json!({"node_id": STORAGE, "name": "storage", "status": "failed"})));
    let job = &board.jobs[JOB];
    assert_eq!(job.nodes[MODELS].attempt, 2);
    assert_eq!(job.running, vec![ROOT.to_string()]);
    assert_eq!(job.depths(), BTreeMap::from([(0, (0, 1)), (1, (0, 1)), (2, (2, 2))]));
    assert!(!job.is_ended());
    board.apply(&frame(9, "job_completed", 0, json!({"job_id": JOB, "status": "failed", "error": "storage failed"})));
    let job = &board.jobs[JOB];
    assert_eq!((job.status.as_str(), job.error.as_deref()), ("failed", Some("storage failed")));
    assert_eq!((job.started_ms, job.ended_ms), (Some(1_767_225_600_000), Some(1_767_225_609_000)));
}

#[test]
fn a_replayed_job_starts_from_pending_and_a_live_one_from_its_tree() {
    let mut replayed = Board::new(true);
    replayed.learn(&tree("succeeded", false));
    assert_eq!(replayed.jobs[JOB].nodes[MODELS].status, "pending", "the replayed events bring the statuses");
    let mut live = Board::new(false);
    live.learn(&tree("succeeded", false));
    assert_eq!(live.jobs[JOB].nodes[MODELS].status, "succeeded");
    assert_eq!(live.jobs[JOB].running, vec![ROOT.to_string(), UNIT.to_string()]);
}

#[test]
fn the_tree_is_fetched_again_for_spawned_nodes_and_once_per_unknown_node() {
    let mut board = board(true);
    let known = frame(2, "worker_started", 2, json!({"worker_id": MODELS, "attempt": 1}));
    assert_eq!(board.wants_tree(&known), None, "a known node needs no fetch");
    let spawn = frame(3, "orchestrator_spawned", 2, json!({"orchestrator_id": MODELS, "spawned": 1, "by": "worker"}));
    assert!(board.wants_tree(&spawn).is_some(), "a worker's spawn adds nodes");
    board.learn(&tree("running", true));
    assert_eq!(name(&board, Some(JOB), SPAWNED), "release/unit/extra");
    let stranger = frame(4, "worker_started", 3, json!({"worker_id": "00000000-0000-0000-0000-0000000000ff"}));
    assert!(board.wants_tree(&stranger).is_some(), "an unknown node is looked up");
    assert_eq!(board.wants_tree(&stranger), None, "but only once");
}

#[test]
fn a_node_met_before_its_tree_gets_its_name_when_the_tree_comes() {
    let mut board = Board::new(true);
    let started = frame(2, "worker_started", 2, json!({"worker_id": MODELS, "attempt": 1}));
    let _ = board.wants_tree(&started);
    board.apply(&started);
    assert_eq!(name(&board, Some(JOB), MODELS), "…00000003");
    board.learn(&tree("pending", false));
    assert_eq!(name(&board, Some(JOB), MODELS), "release/unit/models");
    assert_eq!(board.jobs[JOB].nodes[MODELS].status, "running", "the event's status stays");
}

#[test]
fn frames_that_are_not_events_are_ignored_and_job_ends_are_recognised() {
    assert!(Frame::parse("not json").is_none());
    assert!(Frame::parse(r#"{"resume_from": 3}"#).is_none());
    let end = frame(9, "job_cancelled", 0, json!({"job_id": JOB, "status": "cancelled"}));
    assert_eq!(end.job_end(), Some("cancelled"));
    assert_eq!(frame(9, "node_completed", 0, json!({})).job_end(), None);
}

/// A model call of `models` spending `input` tokens and `cost`.
fn call(seq: i64, input: i64, cost: f64) -> Frame {
    frame(
        seq,
        "llm_call",
        2,
        json!({"node_id": MODELS, "name": "models", "purpose": "execute",
        "input_tokens": input, "output_tokens": 10, "cached_tokens": 0, "cost": cost}),
    )
}

#[test]
fn a_replayed_job_sums_every_model_call() {
    let mut board = board(true);
    board.learn_spend(&call(2, 0, 0.0), Some(Spend { calls: 9, ..Spend::default() }));
    assert_eq!(board.jobs[JOB].spend, Spend::default(), "a replay brings every call as an event");
    for (seq, input) in [(2, 100), (3, 250)] {
        board.apply(&call(seq, input, 0.01));
    }
    let spend = board.jobs[JOB].spend;
    assert_eq!((spend.input_tokens, spend.output_tokens, spend.calls), (350, 20, 2));
    assert!((spend.cost - 0.02).abs() < 1e-12);
}

#[test]
fn a_job_joined_running_starts_from_its_usage_and_adds_only_later_calls() {
    let mut board = Board::new(false);
    let joined = call(7, 100, 0.01);
    assert!(board.wants_tree(&joined).is_some());
    board.learn(&tree("running", false));
    let usage = Spend { input_tokens: 5_000, output_tokens: 400, cached_tokens: 0, cost: 0.3, calls: 5 };
    board.learn_spend(&joined, Some(usage));
    board.learn_spend(&call(8, 1, 1.0), None);
    board.apply(&joined);
    board.apply(&call(6, 100, 0.01));
    assert_eq!(board.jobs[JOB].spend, usage, "calls up to the fetch are in the usage already");
    board.apply(&call(8, 1_000, 0.1));
    assert_eq!(board.jobs[JOB].spend.input_tokens, 6_000);
    assert_eq!(board.jobs[JOB].spend.calls, 6);
}
