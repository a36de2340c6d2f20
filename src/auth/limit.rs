//! Rate limits (governor): a token bucket per caller — each key, or worker token — and one
//! per client address for requests without valid credentials. Keying by address alone would
//! make every client behind one proxy (or on loopback) a single client, so authenticated
//! traffic is always counted per credential.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use uuid::Uuid;

/// A rate: sustained requests per second and the burst allowed above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub per_second: u32,
    pub burst: u32,
}

impl Rate {
    fn quota(self) -> Quota {
        let per_second = NonZeroU32::new(self.per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(self.burst.max(self.per_second)).unwrap_or(per_second);
        Quota::per_second(per_second).allow_burst(burst)
    }
}

/// Every bucket.
pub struct RateLimits {
    /// Callers at the default rate (most keys, every worker token), in one keyed limiter
    /// whose idle entries [`RateLimits::forget_idle`] drops, so short-lived tokens do not pile up.
    callers: DefaultKeyedRateLimiter<Uuid>,
    /// Keys with a rate of their own (as many as such keys).
    own_rates: Mutex<HashMap<Uuid, Arc<DefaultDirectRateLimiter>>>,
    addresses: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

impl RateLimits {
    /// Buckets with `default` for callers without a rate of their own and for addresses.
    pub fn new(default: Rate) -> Self {
        Self {
            callers: RateLimiter::keyed(default.quota()),
            own_rates: Mutex::new(HashMap::new()),
            addresses: RateLimiter::keyed(default.quota()),
            clock: DefaultClock::default(),
        }
    }

    /// Counts a request of a caller; `Err` holds how long to wait.
    pub fn check_caller(&self, id: Uuid, own: Option<Rate>) -> Result<(), Duration> {
        let Some(rate) = own else {
            return self.callers.check_key(&id).map_err(|late| late.wait_time_from(self.clock.now()));
        };
        let limiter = {
            let mut own_rates = self.own_rates.lock().unwrap_or_else(|p| p.into_inner());
            own_rates.entry(id).or_insert_with(|| Arc::new(RateLimiter::direct(rate.quota()))).clone()
        };
        limiter.check().map_err(|late| late.wait_time_from(self.clock.now()))
    }

    /// Drops the buckets of callers and addresses that have been idle long enough to be full
    /// again (forgetting them changes nothing but memory).
    pub fn forget_idle(&self) {
        self.callers.retain_recent();
        self.addresses.retain_recent();
    }

    /// Counts a request without valid credentials from `address`.
    pub fn check_address(&self, address: IpAddr) -> Result<(), Duration> {
        self.addresses.check_key(&address).map_err(|late| late.wait_time_from(self.clock.now()))
    }

    /// Forgets a caller's bucket (its key was revoked or its token expired).
    pub fn forget(&self, id: Uuid) {
        self.own_rates.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_gets_its_burst_then_waits() {
        let limits = RateLimits::new(Rate { per_second: 1, burst: 3 });
        let id = Uuid::new_v4();
        for _ in 0..3 {
            assert!(limits.check_caller(id, None).is_ok());
        }
        let wait = limits.check_caller(id, None).expect_err("over the burst");
        assert!(wait <= Duration::from_secs(1));
        assert!(limits.check_caller(Uuid::new_v4(), None).is_ok(), "another caller has its own bucket");
    }

    #[test]
    fn a_caller_with_its_own_rate_uses_it() {
        let limits = RateLimits::new(Rate { per_second: 1, burst: 1 });
        let id = Uuid::new_v4();
        let generous = Some(Rate { per_second: 100, burst: 100 });
        assert!((0..50).all(|_| limits.check_caller(id, generous).is_ok()));
    }

    #[test]
    fn idle_callers_are_forgotten() {
        let limits = RateLimits::new(Rate { per_second: 1000, burst: 1 });
        for _ in 0..100 {
            assert!(limits.check_caller(Uuid::new_v4(), None).is_ok());
        }
        assert_eq!(limits.callers.len(), 100);
        // At 1,000/s a one-request bucket is full again after a millisecond.
        std::thread::sleep(Duration::from_millis(20));
        limits.forget_idle();
        assert_eq!(limits.callers.len(), 0, "worker tokens that went quiet leave nothing behind");
    }
}
