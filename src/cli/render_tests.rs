//! Tests of what the watcher shows: plain lines, notices, the live view and the summary.

use serde_json::json;

use super::super::board::tests::{board, frame, tree, JOB, MODELS, ROOT, STORAGE};
use super::super::spend::Spend;
use super::*;

/// Two seconds after the job started.
const NOW_MS: i64 = 1_767_225_602_000;

#[test]
fn plain_lines_name_nodes_by_path_and_have_no_control_codes() {
    let board = board(true);
    let frames = [
        frame(2, "orchestrator_spawned", 0, json!({"orchestrator_id": ROOT, "children": 1})),
        frame(3, "worker_started", 2, json!({"worker_id": MODELS, "attempt": 2})),
        frame(4, "node_retrying", 2, json!({"node_id": STORAGE, "attempt": 1, "max_attempts": 3, "error": "boom"})),
        frame(5, "node_completed", 2, json!({"node_id": MODELS, "status": "succeeded", "error": null})),
        frame(6, "job_completed", 0, json!({"job_id": JOB, "status": "succeeded", "error": null})),
    ];
    let lines: Vec<String> = frames.iter().map(|f| plain_line(&board, f, false)).collect();
    assert_eq!(lines[0], "#2         +2.0 s orchestrator_spawned  depth 0  release started with 1 children");
    assert!(lines[1].ends_with("release/unit/models started (attempt 2)"), "{}", lines[1]);
    assert!(lines[2].ends_with("release/unit/storage retrying after attempt 1 of 3: boom"), "{}", lines[2]);
    assert!(lines[3].ends_with("release/unit/models succeeded"), "{}", lines[3]);
    assert!(lines[4].ends_with(&format!("[succeeded] job {JOB}")), "{}", lines[4]);
    assert!(lines.iter().all(|l| !l.contains('\x1b') && !l.contains(MODELS)), "{lines:?}");
    let shared = plain_line(&board, &frames[1], true);
    assert!(shared.contains("…34460576 release/unit/models"), "several jobs: the job is named too: {shared}");
}

#[test]
fn workspace_lines_say_the_branch_the_merge_and_why_one_was_refused() {
    let board = board(true);
    let lines: Vec<String> = [
        frame(
            2,
            "workspace_created",
            2,
            json!({"node_id": MODELS, "branch": "cadre/j/models-1", "parent_branch": "cadre/j/unit-2"}),
        ),
        frame(
            3,
            "workspace_merged",
            2,
            json!({"node_id": MODELS, "into": "cadre/j/unit-2", "sha": "0123456789abcdef0123"}),
        ),
        frame(
            4,
            "workspace_merge_failed",
            2,
            json!({"node_id": STORAGE, "into": "cadre/j/unit-2", "outcome": "conflict",
            "files": ["a.rs", "b.rs"], "exit_code": null}),
        ),
        frame(
            5,
            "workspace_merge_failed",
            2,
            json!({"node_id": STORAGE, "into": "cadre/j/unit-2", "outcome": "check_failed",
            "files": [], "exit_code": 2}),
        ),
    ]
    .iter()
    .map(|f| plain_line(&board, f, false))
    .collect();
    assert!(lines[0].ends_with("release/unit/models works on cadre/j/models-1 (from cadre/j/unit-2)"), "{}", lines[0]);
    assert!(lines[1].ends_with("release/unit/models merged into cadre/j/unit-2 at 0123456789ab"), "{}", lines[1]);
    assert!(lines[2].ends_with("could not merge into cadre/j/unit-2: conflict in a.rs, b.rs"), "{}", lines[2]);
    assert!(lines[3].ends_with("could not merge into cadre/j/unit-2: the check exited 2"), "{}", lines[3]);
}

#[test]
fn retries_and_failures_become_notices_and_progress_does_not() {
    let board = board(true);
    let retry = frame(
        4,
        "node_retrying",
        2,
        json!({"node_id": STORAGE, "attempt": 1, "max_attempts": 3,
                                                      "delay_ms": 1500, "error": "exit 1"}),
    );
    assert_eq!(
        notice(&board, &retry).as_deref(),
        Some("↻ release/unit/storage: attempt 1 of 3 failed, retrying in 1.5 s: exit 1")
    );
    let failed = frame(5, "node_completed", 2, json!({"node_id": STORAGE, "status": "failed", "error": "exit 1"}));
    assert_eq!(notice(&board, &failed).as_deref(), Some("✗ release/unit/storage failed: exit 1"));
    let succeeded = frame(5, "node_completed", 2, json!({"node_id": MODELS, "status": "succeeded"}));
    assert_eq!(notice(&board, &succeeded), None);
    let unnamed = "00000000-0000-0000-0000-0000000000ff";
    let stranger = frame(6, "node_completed", 3, json!({"node_id": unnamed, "name": "x", "status": "failed"}));
    assert_eq!(notice(&board, &stranger).as_deref(), Some("✗ x failed"), "no tree named it: the event's name");
}

#[test]
fn the_live_view_shows_counts_a_bar_per_depth_and_running_nodes_by_path() {
    let mut board = board(true);
    board.apply(&frame(2, "orchestrator_spawned", 0, json!({"orchestrator_id": ROOT, "children": 1})));
    board.apply(&frame(3, "worker_started", 2, json!({"worker_id": STORAGE, "attempt": 2})));
    board.apply(&frame(4, "node_completed", 2, json!({"node_id": MODELS, "status": "succeeded"})));
    let lines = live(&board, NOW_MS);
    let half = format!("{}{}", "█".repeat(BAR_WIDTH / 2), "░".repeat(BAR_WIDTH / 2));
    let expected = [
        "job …34460576 [running] 2.0 s — Run the suite".to_string(),
        "  pending 1 · running 2 · succeeded 1".to_string(),
        format!("  depth 0 {} 0/1", "░".repeat(BAR_WIDTH)),
        format!("  depth 1 {} 0/1", "░".repeat(BAR_WIDTH)),
        format!("  depth 2 {half} 1/2"),
        "  ▸ release".to_string(),
        "  ▸ release/unit/storage (attempt 2)".to_string(),
    ];
    assert_eq!(lines, expected);
    board.apply(&frame(5, "job_completed", 0, json!({"job_id": JOB, "status": "succeeded"})));
    assert!(live(&board, NOW_MS).is_empty(), "an ended job leaves the live view");
    assert_eq!(ended(&board.jobs[JOB]), format!("✓ [succeeded] job {JOB} in 5.0 s — Run the suite"));
}

#[test]
fn long_lists_are_capped() {
    let mut board = board(false);
    let job = board.jobs.get_mut(JOB).expect("job");
    for i in 0..(RUNNING_SHOWN + 2) {
        let id = format!("n{i}");
        job.nodes.insert(
            id.clone(),
            super::super::board::Node { path: id.clone(), depth: 3, status: "running".into(), attempt: 1 },
        );
        job.running.push(id);
    }
    let lines = live(&board, NOW_MS);
    assert!(lines.iter().any(|l| l == "  +4 more running"), "{lines:?}");
    assert_eq!(clip("a long request\nwith a second line", 6), "a long…");
    assert_eq!(clip("short", 6), "short");
}

#[test]
fn durations_read_naturally() {
    assert_eq!(duration(-5), "0 ms");
    assert_eq!(duration(850), "850 ms");
    assert_eq!(duration(3_240), "3.2 s");
    assert_eq!(duration(245_000), "4 m 05 s");
    assert_eq!(duration(7_620_000), "2 h 07 m");
}

#[test]
fn the_summary_gives_the_outcome_counts_time_and_where_it_failed() {
    let mut job = tree("failed", false);
    job.status = "failed".into();
    job.error = Some("unit failed".into());
    job.finished_at = Some("2026-01-01T00:00:03.500Z".into());
    job.counts.by_status = BTreeMap::from([("failed".to_string(), 1), ("succeeded".to_string(), 3)]);
    let tree = job.tree.as_mut().expect("tree");
    tree.status = "failed".into();
    tree.children[0].status = "failed".into();
    tree.children[0].children[0].error = Some("exit 2".into());
    assert_eq!(
        summary(&job, None),
        vec![
            format!("[failed] job {JOB} — Run the suite"),
            "  4 nodes: failed 1 · succeeded 3 · took 3.5 s".to_string(),
            "  ✗ release/unit/models: exit 2".to_string(),
            "error: unit failed".to_string(),
        ]
    );
    let spend = Spend { input_tokens: 12_345, output_tokens: 3_210, cached_tokens: 0, cost: 0.0421, calls: 7 };
    assert_eq!(summary(&job, Some(&spend))[2], "  tokens 12,345 in / 3,210 out · cost 0.0421 · 7 calls");
}

/// A model call of `models` (seq `seq`), as the stream brings it.
fn call(seq: i64, input: i64, cost: f64, error: Option<&str>) -> Frame {
    let status = if error.is_some() { json!(429) } else { json!(200) };
    frame(
        seq,
        "llm_call",
        2,
        json!({"node_id": MODELS, "name": "models", "attempt": 1, "turn": 1,
        "purpose": "execute", "provider": "local", "model": "qwen2.5", "input_tokens": input, "output_tokens": 50,
        "cached_tokens": 0, "cost": cost, "latency_ms": 850, "http_status": status, "error": error}),
    )
}

#[test]
fn model_calls_add_a_spend_line_to_the_live_view_and_a_plain_line_each() {
    let mut board = board(true);
    board.apply(&frame(2, "worker_started", 2, json!({"worker_id": MODELS, "attempt": 1})));
    assert!(!live(&board, NOW_MS).iter().any(|l| l.contains("tokens")), "no calls, no spend line");
    let first = call(3, 12_000, 0.04, None);
    assert_eq!(
        plain_line(&board, &first, false),
        "#3         +3.0 s llm_call              depth 2  release/unit/models execute call (turn 1, qwen2.5): \
         12,000 in / 50 out · cost 0.0400 · 850 ms"
    );
    assert_eq!(notice(&board, &first), None, "a call that worked is progress, not news");
    board.apply(&first);
    let failed = call(4, 345, 0.0021, Some("rate limited"));
    assert_eq!(
        notice(&board, &failed).as_deref(),
        Some(
            "✗ release/unit/models: execute call (turn 1, qwen2.5): 345 in / 50 out · cost 0.0021 · 850 ms \
              · HTTP 429: rate limited"
        )
    );
    board.apply(&failed);
    let lines = live(&board, NOW_MS);
    assert_eq!(lines[2], "  tokens 12,345 in / 100 out · cost 0.0421 · 2 calls", "{lines:?}");
    let report = frame(
        5,
        "llm_call",
        2,
        json!({"node_id": MODELS, "purpose": "report", "model": "claude",
        "input_tokens": 10, "output_tokens": 1, "cost": 0.5}),
    );
    assert!(plain_line(&board, &report, false).ends_with("models reported usage (claude): 10 in / 1 out · cost 0.5000"));
}
