//! Shares that move sooner than a heartbeat. Besides the heartbeat's round, a replica settles
//! its shares (`quota::settle`) as soon as it wants more than they give it and has not said so
//! yet (its demand changed since it last stored it), and whenever another replica asks
//! (`NOTIFY cadre_shares`). It asks the others after a settling that gave room back, or that
//! stored a demand its shares do not meet: so a slot or an agent's place held idle on one
//! replica moves to another that waits for it within a few round trips, not a heartbeat or two.
//!
//! Settlings are at least [`MIN_GAP`] apart on each replica, so however busy the cluster the
//! extra rounds are bounded; a lost notification costs only the time to the next heartbeat.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::quota::SettleError;
use super::Membership;
use crate::domain::DEPTHS;
use crate::engine::Engine;
use crate::store::cluster::ShareSignals;

/// The least time between two settlings of one replica.
const MIN_GAP: Duration = Duration::from_millis(200);
/// How often a replica looks whether it wants more than its shares give it.
const LOOK_EVERY: Duration = Duration::from_millis(50);

/// What started a settling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The heartbeat's round.
    Heartbeat,
    /// This replica wanted more than its shares.
    Wanting,
    /// Another replica asked.
    Asked,
}

impl Trigger {
    pub const ALL: [Trigger; 3] = [Trigger::Heartbeat, Trigger::Wanting, Trigger::Asked];

    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Heartbeat => "heartbeat",
            Trigger::Wanting => "wanting",
            Trigger::Asked => "asked",
        }
    }
}

/// Settlings so far, by trigger (`cadre_share_settlings_total`).
#[derive(Debug, Default)]
pub struct Settlings([AtomicU64; 3]);

impl Settlings {
    fn count(&self, trigger: Trigger) {
        self.0[trigger as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(&self, trigger: Trigger) -> u64 {
        self.0[trigger as usize].load(Ordering::Relaxed)
    }
}

/// What a replica asks for: slots per depth (held plus waiting) and places per agent.
#[derive(Debug, Clone, PartialEq, Default)]
struct Demand {
    depths: [u32; DEPTHS],
    agents: BTreeMap<String, u32>,
}

/// This replica's settlings between heartbeats.
pub struct Rounds {
    signals: Option<ShareSignals>,
    last: Instant,
    /// The demand the last settling stored.
    told: Demand,
}

impl Default for Rounds {
    fn default() -> Self {
        Self { signals: None, last: Instant::now(), told: Demand::default() }
    }
}

impl Rounds {
    /// Resolves when this replica should settle before its next heartbeat: another replica
    /// asked, or it wants more than its shares and has not said so.
    pub async fn due(&mut self, membership: &Membership, engine: &Engine) -> Trigger {
        tokio::time::sleep(MIN_GAP.saturating_sub(self.last.elapsed())).await;
        if self.signals.is_none() {
            self.signals = listen(membership).await;
        }
        let me = membership.replica_id.to_string();
        loop {
            tokio::select! {
                asked = next_signal(&mut self.signals) => match asked {
                    Some(from) if from != me => return Trigger::Asked,
                    Some(_) => {}
                    None => self.signals = None,
                },
                () = tokio::time::sleep(LOOK_EVERY) => {
                    let now = demand(engine);
                    if now != self.told && wants_more(engine, &now) {
                        return Trigger::Wanting;
                    }
                }
            }
        }
    }

    /// One settling (the heartbeat's also releases the shares of gone replicas); then the
    /// others are asked to settle when this one gave room back, or wants more than it holds
    /// and says so for the first time.
    pub async fn settle(
        &mut self,
        membership: &Arc<Membership>,
        engine: &Engine,
        trigger: Trigger,
    ) -> Result<(), SettleError> {
        membership.settlings.count(trigger);
        let release_gone = trigger == Trigger::Heartbeat;
        if !release_gone {
            // The other replicas' demands as stored now, not as the last heartbeat read them.
            membership.refresh().await;
        }
        let asked = demand(engine);
        let gave_back = super::quota::settle(membership, engine, release_gone).await?;
        self.last = Instant::now();
        let news = asked != self.told;
        self.told = asked;
        if gave_back || (news && wants_more(engine, &self.told)) {
            if let Some(cluster) = membership.joined() {
                cluster.nudge(membership.replica_id).await?;
            }
        }
        Ok(())
    }
}

/// A listener for other replicas' requests, or none while it cannot connect.
async fn listen(membership: &Membership) -> Option<ShareSignals> {
    let signals = membership.joined()?.share_signals().await;
    signals
        .map_err(|err| tracing::warn!(error = %err, "not listening for share requests; settling each heartbeat"))
        .ok()
}

/// The next replica asking; `None` when the listener failed (it is made again next time).
async fn next_signal(signals: &mut Option<ShareSignals>) -> Option<String> {
    match signals {
        Some(listener) => listener.next().await.ok(),
        None => std::future::pending().await,
    }
}

fn demand(engine: &Engine) -> Demand {
    Demand { depths: super::quota::depth_demand(&engine.resources().usage()), agents: engine.workforce().demand() }
}

/// Whether some depth or agent has work waiting here (`demand`) that its share, not its quota
/// or concurrency, holds back.
fn wants_more(engine: &Engine, demand: &Demand) -> bool {
    let usage = engine.resources().usage();
    let depths = (0..DEPTHS).any(|d| demand.depths[d] > usage[d].share && usage[d].share < usage[d].quota);
    let agents = engine.workforce().members().iter().any(|m| {
        demand.agents.get(&m.spec.name).is_some_and(|&n| n > m.capacity()) && m.capacity() < m.spec.concurrency
    });
    depths || agents
}
