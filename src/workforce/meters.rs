//! The workforce's counters for `/metrics`, since this server started: tasks each agent took
//! on and how they ended, how long they ran (a histogram, so Prometheus can take p50/p95),
//! and the tokens and cost of the model calls made while it held them. The API's figures over
//! 24 h and all time come from the store instead (`GET /agents/{name}`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use uuid::Uuid;

/// Upper bounds of the task-duration buckets, in seconds.
pub const DURATION_BUCKETS: [f64; 10] = [0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 14400.0];

/// One agent's counters.
#[derive(Debug, Clone, Default)]
pub struct AgentCounts {
    pub started: u64,
    pub succeeded: u64,
    pub failed: u64,
    /// Tasks ended with a duration at most each bucket's bound (cumulative, Prometheus style).
    pub buckets: [u64; DURATION_BUCKETS.len()],
    pub duration_sum_s: f64,
    pub tokens: u64,
    pub cost: f64,
}

#[derive(Default)]
pub struct Meters {
    counts: Mutex<BTreeMap<String, AgentCounts>>,
    /// The agent holding each running node, so a model call is charged to it.
    holding: Mutex<HashMap<Uuid, String>>,
}

impl Meters {
    pub(super) fn started(&self, agent: &str, node_id: Uuid, fresh: bool) {
        if fresh {
            self.counts().entry(agent.to_string()).or_default().started += 1;
        }
        self.holding.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(node_id, agent.to_string());
    }

    pub(super) fn ended(&self, agent: &str, succeeded: bool, took: Duration) {
        let mut counts = self.counts();
        let entry = counts.entry(agent.to_string()).or_default();
        if succeeded {
            entry.succeeded += 1;
        } else {
            entry.failed += 1;
        }
        let seconds = took.as_secs_f64();
        entry.duration_sum_s += seconds;
        for (bucket, bound) in entry.buckets.iter_mut().zip(DURATION_BUCKETS) {
            *bucket += u64::from(seconds <= bound);
        }
    }

    pub(super) fn forget_node(&self, node_id: Uuid) {
        self.holding.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&node_id);
    }

    /// A model call (or reported usage) of `node_id`: charged to the agent holding it, if any.
    pub fn charge(&self, node_id: Uuid, tokens: u64, cost: f64) {
        let holder = self.holding.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&node_id).cloned();
        if let Some(agent) = holder {
            let mut counts = self.counts();
            let entry = counts.entry(agent).or_default();
            entry.tokens += tokens;
            entry.cost += cost;
        }
    }

    /// Every agent's counters, by name.
    pub fn snapshot(&self) -> BTreeMap<String, AgentCounts> {
        self.counts().clone()
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, AgentCounts>> {
        self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_and_calls_are_counted_to_the_agent_holding_the_node() {
        let meters = Meters::default();
        let node = Uuid::now_v7();
        meters.started("dev", node, true);
        meters.charge(node, 120, 0.5);
        meters.charge(Uuid::now_v7(), 999, 9.0);
        meters.ended("dev", true, Duration::from_millis(700));
        meters.forget_node(node);
        meters.charge(node, 1, 1.0);
        let dev = &meters.snapshot()["dev"];
        assert_eq!((dev.started, dev.succeeded, dev.failed, dev.tokens), (1, 1, 0, 120));
        assert_eq!(dev.buckets[..4], [0, 0, 1, 1]);
    }
}
