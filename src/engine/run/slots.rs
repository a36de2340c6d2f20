//! A driver's slot requests. A node that wants a slot waits in the driver's own FIFO for its
//! depth, and only the front of each FIFO — as many nodes as the depth's quota, or the job's
//! cap — is asked of the resource manager at once. A fan-out of a million leaves behind a
//! quota of three then costs a million queue entries of eight bytes, not a million pending
//! requests (a boxed future, a oneshot channel and a waiter in the manager's queue each),
//! and the order is the same: the manager serves each job's requests first come, first
//! served, and so does this queue.

use std::collections::VecDeque;

use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, StreamExt};
use uuid::Uuid;

use crate::domain::DEPTHS;
use crate::engine::resources::{ResourceManager, Slot, SlotRequest};

type SlotWait = BoxFuture<'static, (usize, u8, Option<Slot>)>;

/// The slot requests of one job.
pub(super) struct SlotQueue {
    resources: ResourceManager,
    job_id: Uuid,
    caps: [Option<u32>; DEPTHS],
    /// Requests allowed at the manager at once, per depth.
    limits: [u32; DEPTHS],
    /// Nodes waiting to be asked for, per depth.
    waiting: [VecDeque<usize>; DEPTHS],
    /// Requests at the manager, per depth.
    asked: [u32; DEPTHS],
    grants: FuturesUnordered<SlotWait>,
}

impl SlotQueue {
    pub fn new(resources: ResourceManager, job_id: Uuid, caps: [Option<u32>; DEPTHS]) -> Self {
        let quotas = resources.quotas();
        let limits = std::array::from_fn(|d| caps[d].map_or(quotas[d], |cap| cap.min(quotas[d])).max(1));
        Self {
            resources,
            job_id,
            caps,
            limits,
            waiting: Default::default(),
            asked: [0; DEPTHS],
            grants: FuturesUnordered::new(),
        }
    }

    /// Node `index`, at `depth`, waits for a slot.
    pub fn push(&mut self, index: usize, depth: u8) {
        self.waiting[depth as usize].push_back(index);
        self.resources.hold_back(depth, 1);
    }

    /// Asks the manager for the front of `depth`'s queue while fewer than its limit are
    /// asked; `wants` gives the id of a node that still wants its slot (a node cancelled
    /// while it waited is passed over).
    pub fn ask(&mut self, depth: u8, wants: impl Fn(usize) -> Option<Uuid>) {
        let d = depth as usize;
        while self.asked[d] < self.limits[d] {
            let Some(index) = self.waiting[d].pop_front() else { return };
            self.resources.hold_back(depth, -1);
            let Some(node_id) = wants(index) else { continue };
            let request = SlotRequest { job_id: self.job_id, node_id, depth, job_cap: self.caps[d] };
            let granted = self.resources.acquire(request);
            self.asked[d] += 1;
            self.grants.push(async move { (index, depth, granted.await.ok()) }.boxed());
        }
    }

    /// True while a request is at the manager.
    pub fn any_asked(&self) -> bool {
        !self.grants.is_empty()
    }

    /// The next answer from the manager: the node, its depth, and its slot (`None` if the
    /// manager went away).
    pub async fn next(&mut self) -> Option<(usize, u8, Option<Slot>)> {
        let answer = self.grants.next().await?;
        self.asked[answer.1 as usize] -= 1;
        Some(answer)
    }
}

impl Drop for SlotQueue {
    fn drop(&mut self) {
        for (depth, waiting) in (0u8..).zip(&self.waiting) {
            self.resources.hold_back(depth, -(waiting.len() as i64));
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::mpsc;

    use super::*;

    const FAN_OUT: usize = 100;

    fn id(index: usize) -> Option<Uuid> {
        Some(Uuid::from_u128(index as u128))
    }

    #[tokio::test]
    async fn only_the_front_is_asked_for_and_the_rest_still_count_as_waiting() {
        let (warnings, _heard) = mpsc::unbounded_channel();
        let resources = ResourceManager::new([1, 2, 1, 1, 1, 1], warnings);
        let mut queue = SlotQueue::new(resources.clone(), Uuid::now_v7(), [None; DEPTHS]);
        for index in 0..FAN_OUT {
            queue.push(index, 1);
        }
        queue.ask(1, id);
        assert_eq!(queue.asked[1], 2, "as many requests as the quota");
        assert_eq!((resources.usage()[1].in_use, resources.usage()[1].waiting), (2, FAN_OUT as u32 - 2));

        let mut first = Vec::new();
        for _ in 0..2 {
            let (index, depth, slot) = queue.next().await.expect("an answer");
            assert_eq!((depth, slot.is_some()), (1, true));
            first.push(index);
        }
        first.sort_unstable();
        assert_eq!(first, [0, 1], "first come, first served");
        assert_eq!(resources.usage()[1].in_use, 0, "the slots went back with the answers");

        // Node 3 was cancelled while it waited: passed over, not asked for.
        queue.ask(1, |index| (index != 3).then_some(index).and_then(id));
        let mut next: Vec<usize> = Vec::new();
        for _ in 0..2 {
            next.push(queue.next().await.expect("an answer").0);
        }
        next.sort_unstable();
        assert_eq!(next, [2, 4]);
        assert_eq!(resources.usage()[1].waiting, FAN_OUT as u32 - 5);

        drop(queue);
        assert_eq!(resources.usage()[1].waiting, 0, "a driver that ends takes its waiting nodes with it");
    }

    #[test]
    fn a_jobs_cap_below_the_quota_bounds_its_requests() {
        let (warnings, _heard) = mpsc::unbounded_channel();
        let resources = ResourceManager::new([1, 5, 1, 1, 1, 1], warnings);
        let mut caps = [None; DEPTHS];
        caps[1] = Some(2);
        let mut queue = SlotQueue::new(resources.clone(), Uuid::now_v7(), caps);
        for index in 0..FAN_OUT {
            queue.push(index, 1);
        }
        queue.ask(1, id);
        assert_eq!(queue.asked[1], 2);
        assert_eq!(resources.usage()[1].in_use, 2);
    }
}
