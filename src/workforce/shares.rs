//! An agent's concurrency across a cluster: each replica fills at most its share of an
//! agent's places, and the shares of all replicas add up to no more than the concurrency.
//!
//! The same scheme as the depth quotas (`cluster::quota`): the roster keeps this replica's
//! share of every agent in memory, so picking an agent costs no round trip; once a heartbeat
//! the replica publishes its demand per agent (tasks held plus nodes waiting that it could
//! serve), lowers its share at once (never below what it holds) and raises it only through
//! the store, into room the other replicas' stored shares leave. A server on its own has no
//! shares: an agent's concurrency is all its own.

use std::collections::BTreeMap;

use super::Workforce;
use crate::domain::share::within_target;

impl Workforce {
    /// This replica is in a cluster: it fills no agent's places until its first round has
    /// stored a share of them.
    pub fn join_cluster(&self) {
        let mut roster = self.roster();
        roster.clustered = true;
        for member in roster.members.values_mut() {
            member.share = Some(0);
        }
    }

    /// Per agent, the tasks it holds here plus the nodes here waiting that it could serve.
    pub fn demand(&self) -> BTreeMap<String, u32> {
        let roster = self.roster();
        let mut demand: BTreeMap<String, u32> =
            roster.members.values().map(|m| (m.spec.name.clone(), m.running)).collect();
        for name in roster.waiting.values().flatten() {
            if let Some(n) = demand.get_mut(name) {
                *n += 1;
            }
        }
        demand
    }

    /// Lowers at once each share above its target (never below the tasks held); the shares
    /// now in force, which the store may then raise, and whether any came down.
    pub fn cap_shares(&self, targets: &BTreeMap<String, u32>) -> (BTreeMap<String, u32>, bool) {
        let mut roster = self.roster();
        let (mut capped, mut lowered) = (BTreeMap::new(), false);
        for member in roster.members.values_mut() {
            let target = targets.get(&member.spec.name).copied().unwrap_or(0);
            let held = member.share.unwrap_or(member.spec.concurrency);
            let share = within_target(held, target, member.running);
            lowered |= share < held;
            member.share = Some(share);
            member.target = Some(target);
            capped.insert(member.spec.name.clone(), share);
        }
        (capped, lowered)
    }

    /// The shares as stored (never above the target but for the tasks held); a node waiting
    /// for an agent whose share rose tries again.
    pub fn set_shares(&self, shares: BTreeMap<String, u32>) {
        let mut roster = self.roster();
        for member in roster.members.values_mut() {
            let stored = shares.get(&member.spec.name).copied().unwrap_or(0);
            member.share = Some(member.target.map_or(stored, |target| within_target(stored, target, member.running)));
        }
        drop(roster);
        self.inner.changed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;
    use uuid::Uuid;

    use crate::workforce::matching::Ask;
    use crate::workforce::Workforce;

    fn with_agent(concurrency: u32) -> Workforce {
        let workforce = Workforce::default();
        let spec = json!({"name": "solo", "run": {"type": "sleep", "ms": 1}, "concurrency": concurrency});
        workforce.put(serde_json::from_value(spec).unwrap(), 0, 0);
        workforce
    }

    fn ask() -> Ask<'static> {
        Ask { named: Some("solo"), ..Ask::default() }
    }

    #[test]
    fn a_replica_in_a_cluster_fills_only_its_share_and_counts_what_waits() {
        let workforce = with_agent(3);
        workforce.join_cluster();
        let job = Uuid::new_v4();
        let why = workforce.try_assign(job, Uuid::new_v4(), &ask()).err().expect("no share yet");
        assert!(why.contains("0 of 0 here (3 across the cluster)"), "{why}");
        assert_eq!(workforce.demand()["solo"], 1, "the waiting node asks for a place");
        workforce.set_shares(BTreeMap::from([("solo".to_string(), 1)]));
        let (held, _) = workforce.try_assign(job, Uuid::new_v4(), &ask()).expect("one place here");
        let waiting = Uuid::new_v4();
        assert!(workforce.try_assign(job, waiting, &ask()).is_err(), "the share is full though 3 are allowed");
        assert_eq!(workforce.demand()["solo"], 3, "one held, two waiting");
        workforce.stop_waiting(waiting);
        assert_eq!(workforce.demand()["solo"], 2);
        drop(held);
        assert_eq!(workforce.demand()["solo"], 1);
    }

    #[test]
    fn a_share_comes_down_at_once_to_the_tasks_held_and_with_each_that_ends() {
        let workforce = with_agent(4);
        workforce.join_cluster();
        workforce.set_shares(BTreeMap::from([("solo".to_string(), 3)]));
        let leases: Vec<_> =
            (0..2).map(|_| workforce.try_assign(Uuid::new_v4(), Uuid::new_v4(), &ask()).expect("room").0).collect();
        let (capped, lowered) = workforce.cap_shares(&BTreeMap::from([("solo".to_string(), 0)]));
        assert_eq!((capped["solo"], lowered), (2, true), "two are held");
        assert!(workforce.try_assign(Uuid::new_v4(), Uuid::new_v4(), &ask()).is_err());
        let mut leases = leases.into_iter();
        drop(leases.next());
        // The ended task's place is owed to the others: given back, not filled here.
        assert_eq!(workforce.member("solo").expect("solo").share, Some(1));
        assert!(workforce.try_assign(Uuid::new_v4(), Uuid::new_v4(), &ask()).is_err());
        workforce.set_shares(BTreeMap::from([("solo".to_string(), 3)]));
        assert_eq!(workforce.member("solo").expect("solo").share, Some(1), "the store's figure, held to the target");
        drop(leases);
        assert_eq!(workforce.member("solo").expect("solo").share, Some(0));
        assert_eq!(workforce.cap_shares(&BTreeMap::new()).0["solo"], 0);
        assert_eq!(workforce.member("solo").expect("solo").capacity(), 0);
    }

    #[test]
    fn a_last_place_goes_to_one_of_many_picking_at_once() {
        for _ in 0..200 {
            let workforce = with_agent(1);
            let start = std::sync::Barrier::new(4);
            let taken: usize = std::thread::scope(|scope| {
                let pickers: Vec<_> = (0..4)
                    .map(|_| {
                        scope.spawn(|| {
                            start.wait();
                            workforce.try_assign(Uuid::new_v4(), Uuid::new_v4(), &ask()).ok().map(std::mem::forget)
                        })
                    })
                    .collect();
                pickers.into_iter().filter_map(|p| p.join().expect("picker")).count()
            });
            assert_eq!(taken, 1, "an agent of concurrency 1 was given to {taken} nodes at once");
        }
    }

    #[test]
    fn a_server_on_its_own_has_all_of_an_agents_places() {
        let workforce = with_agent(2);
        let leases: Vec<_> =
            (0..2).map(|_| workforce.try_assign(Uuid::new_v4(), Uuid::new_v4(), &ask()).expect("room").0).collect();
        assert_eq!(leases.len(), 2);
        assert_eq!(workforce.member("solo").expect("solo").share, None);
    }
}
