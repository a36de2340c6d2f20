//! Unit tests of the resource manager, including concurrent allocate/release/cancel.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use uuid::Uuid;

use super::*;

fn manager(quotas: [u32; DEPTHS]) -> (ResourceManager, mpsc::UnboundedReceiver<ResourceWarning>) {
    let (tx, rx) = mpsc::unbounded_channel();
    (ResourceManager::new(quotas, tx), rx)
}

fn request(job_id: Uuid, depth: u8, job_cap: Option<u32>) -> SlotRequest {
    SlotRequest { job_id, node_id: Uuid::new_v4(), depth, job_cap }
}

fn granted(future: &mut SlotFuture) -> Option<Slot> {
    future.try_recv().ok()
}

#[tokio::test]
async fn grants_up_to_the_quota_then_queues() {
    let (rm, _w) = manager([2, 1, 1, 1, 1, 1]);
    let job = Uuid::new_v4();
    let a = rm.acquire(request(job, 0, None)).await.expect("first slot");
    let _b = rm.acquire(request(job, 0, None)).await.expect("second slot");
    let mut third = rm.acquire(request(job, 0, None));
    assert!(granted(&mut third).is_none());
    assert_eq!(rm.usage()[0].in_use, 2);
    assert_eq!(rm.usage()[0].waiting, 1);
    drop(a);
    assert!(granted(&mut third).is_some(), "released slot goes to the waiter");
}

#[tokio::test]
async fn waiters_are_served_round_robin_across_jobs_and_fifo_within() {
    let (rm, _w) = manager([1, 1, 1, 1, 1, 1]);
    let (big, small) = (Uuid::new_v4(), Uuid::new_v4());
    let holder = rm.acquire(request(big, 2, None)).await.expect("slot");
    let mut big1 = rm.acquire(request(big, 2, None));
    let mut big2 = rm.acquire(request(big, 2, None));
    let mut small1 = rm.acquire(request(small, 2, None));
    drop(holder);
    let first = granted(&mut big1).expect("big's first waiter goes first");
    assert!(granted(&mut small1).is_none());
    drop(first);
    let second = granted(&mut small1).expect("then the other job, not big's second");
    assert!(granted(&mut big2).is_none());
    drop(second);
    assert!(granted(&mut big2).is_some());
}

#[tokio::test]
async fn a_job_cap_tightens_the_quota_without_blocking_other_jobs() {
    let (rm, _w) = manager([5, 5, 5, 5, 5, 5]);
    let (capped, free) = (Uuid::new_v4(), Uuid::new_v4());
    let _one = rm.acquire(request(capped, 1, Some(1))).await.expect("slot");
    let mut blocked = rm.acquire(request(capped, 1, Some(1)));
    assert!(granted(&mut blocked).is_none(), "the job's cap of 1 applies");
    let other = rm.acquire(request(free, 1, None)).await;
    assert!(other.is_ok(), "another job is not held up by the capped waiter");
}

#[tokio::test]
async fn withdrawn_waiters_are_skipped() {
    let (rm, _w) = manager([1, 1, 1, 1, 1, 1]);
    let job = Uuid::new_v4();
    let holder = rm.acquire(request(job, 3, None)).await.expect("slot");
    let withdrawn = rm.acquire(request(job, 3, None));
    let mut next = rm.acquire(request(job, 3, None));
    drop(withdrawn);
    drop(holder);
    let held = granted(&mut next);
    assert!(held.is_some());
    assert_eq!(rm.usage()[3].in_use, 1);
    assert_eq!(rm.usage()[3].waiting, 0);
}

#[tokio::test]
async fn warns_once_per_upward_crossing_of_80_and_90_percent() {
    let (rm, mut warnings) = manager([10, 1, 1, 1, 1, 1]);
    let job = Uuid::new_v4();
    let mut slots = Vec::new();
    for _ in 0..9 {
        slots.push(rm.acquire(request(job, 0, None)).await.expect("slot"));
    }
    let levels: Vec<u32> = std::iter::from_fn(|| warnings.try_recv().ok()).map(|w| w.level).collect();
    assert_eq!(levels, vec![80, 90]);
    slots.truncate(5);
    for _ in 0..3 {
        slots.push(rm.acquire(request(job, 0, None)).await.expect("slot"));
    }
    let again: Vec<u32> = std::iter::from_fn(|| warnings.try_recv().ok()).map(|w| w.level).collect();
    assert_eq!(again, vec![80], "usage fell below 80 % and crossed it again");
}

#[tokio::test]
async fn a_slot_held_by_an_ended_node_is_reclaimed_and_reported() {
    let (rm, _w) = manager([1, 1, 1, 1, 1, 1]);
    let job = Uuid::new_v4();
    let leaked_request = request(job, 4, None);
    let leaked = rm.acquire(leaked_request).await.expect("slot");
    std::mem::forget(leaked);
    let mut waiter = rm.acquire(request(job, 4, None));
    assert!(rm.reclaim_leaks(|_| false).is_empty(), "a live holder is not a leak");
    let leaks = rm.reclaim_leaks(|node| node == leaked_request.node_id);
    assert_eq!(leaks, vec![Leak { job_id: job, node_id: leaked_request.node_id, depth: 4 }]);
    assert_eq!(rm.leaks_reclaimed(), 1);
    assert!(granted(&mut waiter).is_some(), "the reclaimed slot goes to the waiter");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_allocate_release_and_cancel_never_exceed_the_quota() {
    const QUOTA: u32 = 3;
    const TASKS: usize = 400;
    let (rm, _w) = manager([QUOTA; DEPTHS]);
    let working = Arc::new(AtomicU32::new(0));
    let peak = Arc::new(AtomicU32::new(0));
    let jobs: Vec<Uuid> = (0..7).map(|_| Uuid::new_v4()).collect();
    let mut handles = Vec::new();
    for i in 0..TASKS {
        let (rm, working, peak) = (rm.clone(), working.clone(), peak.clone());
        let job = jobs[i % jobs.len()];
        handles.push(tokio::spawn(async move {
            let pending = rm.acquire(request(job, 2, None));
            // Every fifth task gives up waiting, as a cancelled node does.
            let patience = if i % 5 == 0 { Duration::from_micros(50) } else { Duration::from_secs(30) };
            let Ok(Ok(slot)) = tokio::time::timeout(patience, pending).await else { return };
            let now = working.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            tokio::task::yield_now().await;
            working.fetch_sub(1, Ordering::SeqCst);
            drop(slot);
        }));
    }
    for handle in handles {
        handle.await.expect("task");
    }
    assert!(peak.load(Ordering::SeqCst) <= QUOTA);
    assert!(rm.usage()[2].peak <= QUOTA);
    assert_eq!(rm.usage()[2].in_use, 0);
    assert_eq!(rm.usage()[2].waiting, 0);
    assert!(rm.holders().is_empty());
}

#[tokio::test]
async fn a_share_below_the_quota_bounds_grants_and_a_capped_share_comes_down_as_its_slots_end() {
    let (rm, _w) = manager([4; DEPTHS]);
    let job = Uuid::new_v4();
    rm.set_shares([0; DEPTHS]);
    let mut first = rm.acquire(request(job, 1, None));
    assert!(granted(&mut first).is_none(), "a replica with no share grants nothing");
    rm.set_shares([3; DEPTHS]);
    let held: Vec<Slot> = std::iter::once(granted(&mut first).expect("raised: the waiter is served"))
        .chain((0..2).map(|_| granted(&mut rm.acquire(request(job, 1, None))).expect("within the share")))
        .collect();
    let mut fourth = rm.acquire(request(job, 1, None));
    assert!(granted(&mut fourth).is_none(), "the share, not the quota of 4, is the limit");
    // Asked to come down to 1 while it holds 3: it stays at 3 until they end, and comes down
    // with each that ends instead of serving the waiter (the room is owed to other replicas).
    assert_eq!(rm.cap_shares([1; DEPTHS])[1], 3);
    let mut held = held.into_iter();
    drop(held.next());
    assert!(granted(&mut fourth).is_none(), "an ended slot's room is given back, not reused");
    assert_eq!(rm.usage()[1].share, 2);
    drop(held.next());
    assert_eq!((rm.cap_shares([1; DEPTHS])[1], rm.usage()[1].share), (1, 1));
    assert!(granted(&mut fourth).is_none(), "the target's one slot is still held");
    drop(held.next());
    let _fourth = granted(&mut fourth).expect("within the target once the owed room is given back");
    // The store's figure is held to the target (but for slots held), and to the quota.
    rm.set_shares([3; DEPTHS]);
    assert_eq!(rm.usage()[1].share, 1, "not above the target");
    let mut fifth = rm.acquire(request(job, 1, None));
    assert!(granted(&mut fifth).is_none(), "capped at the target");
    assert_eq!(rm.cap_shares([9; DEPTHS])[1], 1, "a higher target raises nothing by itself");
    rm.set_shares([9; DEPTHS]);
    assert_eq!(rm.usage()[1].share, 4);
    assert!(granted(&mut fifth).is_some());
}
