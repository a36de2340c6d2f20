//! The call ledger in the store, on the backend the suite runs on: ledger rows written by a
//! journal batch come back whole (bodies, truncation flags, nulls) in the order of the
//! conversation, and the usage sums per node and per depth count every row as a call.

use cadre::store::{Batch, LlmCallRow, SharedStore};
use uuid::Uuid;

use crate::common::fresh_database_url;

async fn store(dir: &std::path::Path) -> SharedStore {
    let url = fresh_database_url().await;
    cadre::store::open(url.as_deref(), dir).await.expect("store")
}

/// A successful call of `node` at `depth`, made at `created_ms`.
fn call(job_id: Uuid, node_id: Uuid, depth: i64, created_ms: i64) -> LlmCallRow {
    LlmCallRow {
        id: Uuid::now_v7(),
        job_id,
        node_id,
        depth,
        attempt: 1,
        turn: 0,
        purpose: "execute".into(),
        provider: "anthropic".into(),
        model: "claude-sonnet-4-5".into(),
        input_tokens: 1200,
        output_tokens: 340,
        cached_tokens: 800,
        cost: 0.0042,
        latency_ms: 2310,
        http_status: Some(200),
        error: None,
        tries: 1,
        request_body: Some(r#"{"messages":[{"role":"user","content":"hi"}]}"#.into()),
        request_truncated: false,
        response_body: Some(r#"{"content":[{"type":"text","text":"hello"}]}"#.into()),
        response_truncated: false,
        input: Some(r#"[{"role":"user","content":"hi"}]"#.into()),
        reply: Some(r#"[{"type":"text","text":"hello"}]"#.into()),
        created_ms,
    }
}

/// A call that failed before any answer: no tokens, no reply.
fn failed(job_id: Uuid, node_id: Uuid, depth: i64, created_ms: i64) -> LlmCallRow {
    LlmCallRow {
        input_tokens: 0,
        output_tokens: 0,
        cached_tokens: 0,
        cost: 0.0,
        http_status: Some(429),
        error: Some("rate limited: try again later".into()),
        tries: 3,
        response_body: None,
        reply: None,
        ..call(job_id, node_id, depth, created_ms)
    }
}

fn fields(row: &LlmCallRow) -> String {
    format!("{row:?}")
}

#[tokio::test]
async fn ledger_rows_round_trip_whole_in_conversation_order() {
    let dir = tempfile::tempdir().expect("dir");
    let store = store(dir.path()).await;
    let (job, node, other) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let first = call(job, node, 2, 10);
    let cut = "{\"messages\":[{\"role\":\"user\",\"content\":\"".to_string() + &"x".repeat(100);
    let second = LlmCallRow {
        turn: 1,
        purpose: "repair".into(),
        request_body: Some(cut),
        request_truncated: true,
        response_truncated: true,
        input: None,
        ..call(job, node, 2, 5)
    };
    let retried = LlmCallRow { attempt: 2, ..failed(job, node, 2, 1) };
    // Only ledger rows: a batch of nothing else is still written.
    let batch = Batch {
        llm_calls: vec![retried.clone(), second.clone(), first.clone(), call(job, other, 2, 1)],
        ..Batch::default()
    };
    assert!(!batch.is_empty());
    store.apply(&batch).await.expect("stored");

    let rows = store.llm_calls(job, node).await.expect("read");
    let read: Vec<String> = rows.iter().map(fields).collect();
    assert_eq!(read, [fields(&first), fields(&second), fields(&retried)], "by attempt, then turn");
    assert!(store.llm_calls(other, node).await.expect("read").is_empty(), "a node of another job has none");
}

#[tokio::test]
async fn usage_sums_count_every_row_per_node_and_per_depth() {
    let dir = tempfile::tempdir().expect("dir");
    let store = store(dir.path()).await;
    let (job, a, b, elsewhere) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let batch = Batch {
        llm_calls: vec![
            call(job, a, 1, 1_000),
            LlmCallRow { turn: 1, ..call(job, a, 1, 2_000) },
            failed(job, b, 2, 3_000),
            call(elsewhere, Uuid::now_v7(), 1, 10),
        ],
        ..Batch::default()
    };
    store.apply(&batch).await.expect("stored");

    let mut usage = store.job_usage(job).await.expect("usage");
    usage.sort_by_key(|row| row.node_id);
    let sums: Vec<_> =
        usage.iter().map(|u| (u.node_id, u.input_tokens, u.output_tokens, u.cached_tokens, u.calls)).collect();
    assert_eq!(sums, [(a, 2400, 680, 1600, 2), (b, 0, 0, 0, 1)], "a failed call is a call with no tokens");
    assert!((usage[0].cost - 0.0084).abs() < 1e-12 && usage[1].cost == 0.0);

    let depths = store.usage_by_depth(500).await.expect("by depth");
    let sums: Vec<_> = depths.iter().map(|d| (d.depth, d.input_tokens, d.output_tokens, d.calls)).collect();
    assert_eq!(sums, [(1, 2400, 680, 2), (2, 0, 0, 1)], "the other job's row is older than the window");
    assert!(store.usage_by_depth(5_000).await.expect("by depth").is_empty());
    assert!(store.job_usage(Uuid::now_v7()).await.expect("usage").is_empty());
}

#[tokio::test]
async fn a_ledger_batch_larger_than_one_statement_is_stored_whole() {
    let dir = tempfile::tempdir().expect("dir");
    let store = store(dir.path()).await;
    let (job, node) = (Uuid::now_v7(), Uuid::now_v7());
    // PostgreSQL writes at most 10,000 rows of a kind per statement; SQLite 1,000 per insert.
    let rows: Vec<LlmCallRow> = (0..10_001).map(|turn| LlmCallRow { turn, ..call(job, node, 0, turn) }).collect();
    store.apply(&Batch { llm_calls: rows, ..Batch::default() }).await.expect("stored");
    let usage = store.job_usage(job).await.expect("usage");
    assert_eq!((usage.len(), usage[0].calls, usage[0].input_tokens), (1, 10_001, 10_001 * 1200));
}
