//! The per-depth resource manager (SPEC §1): quotas of working nodes per depth.
//!
//! A node asks for a slot at its depth before it does its own work and gives it back when
//! done (dropping the [`Slot`]). Orchestrators waiting for their children hold nothing, so a
//! level can never starve the level below it. When no slot is free the request waits: FIFO
//! within a job, round-robin across jobs, so one huge job cannot shut out a small one. A job
//! may cap its own use of a depth below the global quota.
//!
//! In a cluster of replicas the quota holds across all of them: this manager grants up to its
//! *share* (`cluster::quota` moves shares in the database and sets them here, lowering them
//! before the stored figure and raising them after it), so the hot path stays in memory.
//!
//! The state sits behind one `std::sync::Mutex` with short, synchronous critical sections
//! (mini-redis' `Db` pattern): allocation and release are atomic, and nothing awaits under
//! the lock. Slots are handed to waiters through oneshot channels; a waiter that went away
//! (its request future dropped) is skipped and its slot goes to the next.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::domain::share::{after_one_ended, within_target};
use crate::domain::DEPTHS;

/// Usage levels, in percent of the quota, whose upward crossing is reported.
pub const WARNING_LEVELS: [u32; 2] = [80, 90];

/// Who asks for a slot.
#[derive(Debug, Clone, Copy)]
pub struct SlotRequest {
    pub job_id: Uuid,
    pub node_id: Uuid,
    pub depth: u8,
    /// The job's own cap at this depth, if it set one.
    pub job_cap: Option<u32>,
}

/// Usage crossed a warning level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceWarning {
    pub depth: u8,
    pub in_use: u32,
    pub quota: u32,
    /// The level crossed, in percent.
    pub level: u32,
}

/// A slot held by a node that had already ended, found and reclaimed by the leak detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leak {
    pub job_id: Uuid,
    pub node_id: Uuid,
    pub depth: u8,
}

/// A snapshot of one depth.
#[derive(Debug, Clone, Copy, Default)]
pub struct DepthUsage {
    pub quota: u32,
    /// What this server may hold of the quota: all of it on its own, its share in a cluster.
    pub share: u32,
    pub in_use: u32,
    /// The most slots ever held at once.
    pub peak: u32,
    /// Requests waiting for a slot.
    pub waiting: u32,
}

/// The quota manager; cheap to clone.
#[derive(Clone)]
pub struct ResourceManager {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    warnings: mpsc::UnboundedSender<ResourceWarning>,
    /// Nodes waiting for a slot in their driver's own queue, not yet asked for (see
    /// `run::slots`): counted as waiting, kept apart so that counting costs no lock.
    held_back: [AtomicI64; DEPTHS],
}

struct State {
    depths: [DepthState; DEPTHS],
    /// Every slot handed out, by grant number.
    grants: HashMap<u64, SlotRequest>,
    /// Slots held per job and depth (for per-job caps).
    job_use: HashMap<(Uuid, u8), u32>,
    next_grant: u64,
    leaks_reclaimed: u64,
}

#[derive(Default)]
struct DepthState {
    quota: u32,
    /// The slots this server may grant: the quota, or its share of it in a cluster.
    share: u32,
    /// Its fair part as the last round worked it out: a share above it (slots held when it
    /// was lowered) comes down with each slot that ends, rather than serving waiters here.
    target: u32,
    in_use: u32,
    peak: u32,
    waiting: u32,
    /// Waiters per job, FIFO.
    queues: HashMap<Uuid, VecDeque<Waiter>>,
    /// Jobs with waiters, in round-robin order.
    rotation: VecDeque<Uuid>,
    /// Highest warning level reported since usage was last below it.
    warned: u32,
}

struct Waiter {
    request: SlotRequest,
    reply: oneshot::Sender<Slot>,
}

/// A held slot; dropping it gives it back.
#[must_use = "dropping a slot releases it at once"]
pub struct Slot {
    manager: ResourceManager,
    grant: u64,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.manager.release(self.grant);
    }
}

/// A pending request; resolves to the slot once granted.
pub type SlotFuture = oneshot::Receiver<Slot>;

impl ResourceManager {
    /// A manager with the given per-depth quotas; warnings are sent on `warnings`.
    pub fn new(quotas: [u32; DEPTHS], warnings: mpsc::UnboundedSender<ResourceWarning>) -> Self {
        let depths = quotas.map(|quota| DepthState { quota, share: quota, target: quota, ..DepthState::default() });
        let state =
            State { depths, grants: HashMap::new(), job_use: HashMap::new(), next_grant: 0, leaks_reclaimed: 0 };
        let held_back = std::array::from_fn(|_| AtomicI64::new(0));
        Self { inner: Arc::new(Inner { state: Mutex::new(state), warnings, held_back }) }
    }

    /// The quota of every depth.
    pub fn quotas(&self) -> [u32; DEPTHS] {
        let state = self.lock();
        std::array::from_fn(|d| state.depths[d].quota)
    }

    /// Sets what this replica may hold of each depth's quota (its share, stored by the cluster
    /// before it is raised here; never above the target but for the slots held) and hands any
    /// room it gained to waiters.
    pub fn set_shares(&self, shares: [u32; DEPTHS]) {
        let mut state = self.lock();
        for (depth, share) in (0u8..).zip(shares) {
            let state_of = &mut state.depths[depth as usize];
            state_of.share = within_target(share.min(state_of.quota), state_of.target, state_of.in_use);
            self.dispatch(&mut state, depth);
        }
    }

    /// Stops granting past `targets` where they are lower than the shares: each such share
    /// becomes the target, or the slots held if more (a running slot is never taken back, but
    /// the share comes down as they end). The shares now.
    pub fn cap_shares(&self, targets: [u32; DEPTHS]) -> [u32; DEPTHS] {
        let mut state = self.lock();
        std::array::from_fn(|d| {
            let depth = &mut state.depths[d];
            depth.target = targets[d];
            depth.share = within_target(depth.share, depth.target, depth.in_use);
            depth.share
        })
    }

    /// Adds `delta` to the nodes waiting at `depth` in a driver's own queue.
    pub fn hold_back(&self, depth: u8, delta: i64) {
        self.inner.held_back[depth as usize].fetch_add(delta, Ordering::Relaxed);
    }

    /// Asks for a slot. The future resolves when one is granted; dropping it withdraws.
    pub fn acquire(&self, request: SlotRequest) -> SlotFuture {
        let (reply, granted) = oneshot::channel();
        let mut state = self.lock();
        // Every request queues and is served by the same dispatch, so a newcomer never
        // overtakes a waiter and fairness has one code path.
        let depth = &mut state.depths[request.depth as usize];
        depth.waiting += 1;
        let queue = depth.queues.entry(request.job_id).or_default();
        if queue.is_empty() {
            depth.rotation.push_back(request.job_id);
        }
        queue.push_back(Waiter { request, reply });
        self.dispatch(&mut state, request.depth);
        granted
    }

    /// A snapshot of every depth.
    pub fn usage(&self) -> [DepthUsage; DEPTHS] {
        let state = self.lock();
        std::array::from_fn(|d| {
            let depth = &state.depths[d];
            let held_back = u32::try_from(self.inner.held_back[d].load(Ordering::Relaxed)).unwrap_or(0);
            DepthUsage {
                quota: depth.quota,
                share: depth.share,
                in_use: depth.in_use,
                peak: depth.peak,
                waiting: depth.waiting + held_back,
            }
        })
    }

    /// Nodes holding a slot now.
    pub fn holders(&self) -> Vec<SlotRequest> {
        self.lock().grants.values().copied().collect()
    }

    /// The ids of the nodes holding a slot now.
    pub fn holding(&self) -> HashSet<Uuid> {
        self.lock().grants.values().map(|grant| grant.node_id).collect()
    }

    /// Slots reclaimed from ended nodes since start.
    pub fn leaks_reclaimed(&self) -> u64 {
        self.lock().leaks_reclaimed
    }

    /// Reclaims every slot whose holder `has_ended` says has ended, and reports them.
    pub fn reclaim_leaks(&self, has_ended: impl Fn(Uuid) -> bool) -> Vec<Leak> {
        let mut state = self.lock();
        let leaked: Vec<u64> =
            state.grants.iter().filter(|(_, req)| has_ended(req.node_id)).map(|(grant, _)| *grant).collect();
        let mut leaks = Vec::with_capacity(leaked.len());
        for grant in leaked {
            if let Some(req) = self.release_locked(&mut state, grant) {
                state.leaks_reclaimed += 1;
                leaks.push(Leak { job_id: req.job_id, node_id: req.node_id, depth: req.depth });
            }
        }
        leaks
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic under this lock leaves counters that are still internally consistent
        // (every mutation is a single step), so a poisoned lock is safe to keep using.
        self.inner.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn release(&self, grant: u64) {
        let mut state = self.lock();
        self.release_locked(&mut state, grant);
    }

    /// Gives a slot back and hands freed capacity to waiters; `None` if it was already
    /// reclaimed.
    fn release_locked(&self, state: &mut State, grant: u64) -> Option<SlotRequest> {
        let request = state.grants.remove(&grant)?;
        let depth = &mut state.depths[request.depth as usize];
        depth.in_use -= 1;
        // Owed to other replicas above the target: the slot's room is given back, not served here.
        depth.share = after_one_ended(depth.share, depth.target);
        if depth.in_use * 100 < WARNING_LEVELS[0] * depth.share {
            depth.warned = 0;
        }
        let key = (request.job_id, request.depth);
        if let Some(used) = state.job_use.get_mut(&key) {
            *used -= 1;
            if *used == 0 {
                state.job_use.remove(&key);
            }
        }
        self.dispatch(state, request.depth);
        Some(request)
    }

    /// Hands free slots at `depth` to waiters, one job at a time in rotation.
    fn dispatch(&self, state: &mut State, depth: u8) {
        let d = depth as usize;
        let mut skipped = 0;
        while state.depths[d].in_use < state.depths[d].share && skipped < state.depths[d].rotation.len() {
            let Some(job) = state.depths[d].rotation.pop_front() else { break };
            match self.serve_job(state, d, job) {
                Served::Granted | Served::Withdrawn => skipped = 0,
                Served::Capped => skipped += 1,
            }
            let has_more = state.depths[d].queues.get(&job).is_some_and(|q| !q.is_empty());
            if has_more {
                state.depths[d].rotation.push_back(job);
            } else {
                state.depths[d].queues.remove(&job);
            }
        }
    }

    /// Serves the first live waiter of `job` at depth `d`, if the job's cap allows.
    fn serve_job(&self, state: &mut State, d: usize, job: Uuid) -> Served {
        let Some(front) = state.depths[d].queues.get(&job).and_then(|q| q.front()) else { return Served::Withdrawn };
        if !state.within_job_cap(&front.request) {
            return Served::Capped;
        }
        let Some(waiter) = state.depths[d].queues.get_mut(&job).and_then(VecDeque::pop_front) else {
            return Served::Withdrawn;
        };
        state.depths[d].waiting -= 1;
        if waiter.reply.is_closed() {
            return Served::Withdrawn;
        }
        let slot = self.grant(state, waiter.request);
        if let Err(slot) = waiter.reply.send(slot) {
            // The waiter left between the check and the send: undo without re-locking.
            let grant = slot.grant;
            std::mem::forget(slot);
            self.undo_grant(state, grant);
            return Served::Withdrawn;
        }
        Served::Granted
    }

    fn grant(&self, state: &mut State, request: SlotRequest) -> Slot {
        let grant = state.next_grant;
        state.next_grant += 1;
        state.grants.insert(grant, request);
        *state.job_use.entry((request.job_id, request.depth)).or_default() += 1;
        let depth = &mut state.depths[request.depth as usize];
        depth.in_use += 1;
        depth.peak = depth.peak.max(depth.in_use);
        if let Some(level) = WARNING_LEVELS.iter().rev().find(|&&l| depth.in_use * 100 >= l * depth.share) {
            if *level > depth.warned {
                depth.warned = *level;
                let warning =
                    ResourceWarning { depth: request.depth, in_use: depth.in_use, quota: depth.share, level: *level };
                let _ = self.inner.warnings.send(warning);
            }
        }
        Slot { manager: self.clone(), grant }
    }

    fn undo_grant(&self, state: &mut State, grant: u64) {
        if let Some(request) = state.grants.remove(&grant) {
            state.depths[request.depth as usize].in_use -= 1;
            if let Some(used) = state.job_use.get_mut(&(request.job_id, request.depth)) {
                *used -= 1;
            }
        }
    }
}

enum Served {
    Granted,
    Withdrawn,
    Capped,
}

impl State {
    fn within_job_cap(&self, request: &SlotRequest) -> bool {
        let used = self.job_use.get(&(request.job_id, request.depth)).copied().unwrap_or(0);
        request.job_cap.is_none_or(|cap| used < cap)
    }
}

#[cfg(test)]
#[path = "resources_tests.rs"]
mod tests;
