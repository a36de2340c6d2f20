//! The journal's batching, back-pressure and what a flush answers.

use sqlx::Connection;

use super::*;

fn audit_entry() -> AuditDraft {
    AuditDraft {
        key_id: None,
        key_name: None,
        source: "test".into(),
        action: "probe",
        target: None,
        outcome: "ok".into(),
        detail: None,
    }
}

#[test]
fn a_jobs_updates_in_one_batch_collapse_into_the_last_keeping_its_start() {
    let id = Uuid::new_v4();
    let update =
        |status, started_ms| JobUpdate { id, status, started_ms, finished_ms: None, result: None, error: None };
    let mut pending = Pending::default();
    pending.job_update(update("running", Some(5)));
    pending.job_update(update("cancelling", None));
    pending.job_update(update("cancelled", None));
    let updates = &pending.batch.job_updates;
    assert_eq!(updates.len(), 1, "one row per job, as one `update … from (values …)` needs");
    assert_eq!((updates[0].status, updates[0].started_ms), ("cancelled", Some(5)));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backlog_past_two_batches_holds_new_work_until_the_writer_catches_up() {
    let (journal, dir) = journal().await;
    // Another connection holds the write lock, so the writer's first commit waits.
    let mut lock = connect(&dir).await;
    sqlx::raw_sql("begin exclusive").execute(&mut lock).await.expect("lock");
    for _ in 0..=MAX_BATCH_ENTRIES + MAX_BACKLOG {
        journal.audit(audit_entry());
    }
    assert!(journal.is_behind(), "more than two batches wait behind a commit in flight");
    sqlx::raw_sql("rollback").execute(&mut lock).await.expect("unlock");
    journal.flush().await.expect("stored");
    assert!(!journal.is_behind(), "the writer has caught up");
}

/// A journal over a fresh SQLite store, and the directory holding it.
async fn journal() -> (Journal, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("dir");
    let store = crate::store::open(None, dir.path()).await.expect("store");
    let tracker = tokio_util::task::TaskTracker::new();
    (Journal::start(store, Sequences::default(), EventFeeds::default(), &tracker), dir)
}

/// Another connection to the journal's SQLite file.
async fn connect(dir: &tempfile::TempDir) -> sqlx::SqliteConnection {
    let url = format!("sqlite://{}", dir.path().join("cadre.db").display());
    sqlx::SqliteConnection::connect(&url).await.expect("open")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flush_reports_a_batch_lost_before_it_though_its_own_batch_held_nothing() {
    let (journal, dir) = journal().await;
    // The store will refuse every audit entry.
    let mut db = connect(&dir).await;
    sqlx::raw_sql("drop table audit_log").execute(&mut db).await.expect("drop");
    journal.audit(audit_entry());
    // The writer has taken the entry, so the flush lands in a batch of its own.
    while journal.health.backlog.load(Ordering::Relaxed) > 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(journal.flush().await.is_err(), "the audit entry was never stored");
    journal.flush().await.expect("reported once; nothing is lost since");
}

#[tokio::test(flavor = "multi_thread")]
async fn once_fenced_every_flush_is_refused_even_one_with_nothing_to_write() {
    let (journal, _dir) = journal().await;
    journal.health.fenced.store(true, Ordering::Relaxed);
    let refused = journal.flush().await.expect_err("a replica declared gone stores nothing");
    assert!(refused.is_fenced(), "{refused}");
}
