//! Shares that move sooner than a heartbeat. Besides the heartbeat's round, a replica settles
//! its shares (`quota::settle`) as soon as it wants more than they give it and has not said so
//! yet (its demand changed since it last stored it), as soon as a slot or task that held a
//! share above its fair part ends (the share came down in memory: the room is owed to others),
//! and whenever another replica asks (`NOTIFY cadre_shares`). It asks the others after a
//! settling that gave room back, or that stored a demand its shares do not meet: so a slot or
//! an agent's place held idle on one replica, or freed there while another waits for it, moves
//! to the other within a few round trips, not a heartbeat or two.
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
use crate::engine::resources::DepthUsage;
use crate::engine::Engine;
use crate::store::cluster::ShareSignals;
use crate::workforce::matching::Member;

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
    /// A slot or task held above this replica's fair part ended: its room is owed to others.
    Freed,
}

impl Trigger {
    pub const ALL: [Trigger; 4] = [Trigger::Heartbeat, Trigger::Wanting, Trigger::Asked, Trigger::Freed];

    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Heartbeat => "heartbeat",
            Trigger::Wanting => "wanting",
            Trigger::Asked => "asked",
            Trigger::Freed => "freed",
        }
    }
}

/// Settlings so far, by trigger (`cadre_share_settlings_total`).
#[derive(Debug, Default)]
pub struct Settlings([AtomicU64; 4]);

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

/// The shares this replica holds: slots per depth and places per agent.
#[derive(Debug, Clone, PartialEq, Default)]
struct Shares {
    depths: [u32; DEPTHS],
    agents: BTreeMap<String, u32>,
}

impl Shares {
    /// Whether some share is below what it was in `before`.
    fn below(&self, before: &Shares) -> bool {
        (0..DEPTHS).any(|d| self.depths[d] < before.depths[d])
            || self.agents.iter().any(|(agent, &n)| before.agents.get(agent).is_some_and(|&was| n < was))
    }
}

/// What this replica holds and wants now, read once for each look.
struct Here {
    usage: [DepthUsage; DEPTHS],
    members: Vec<Member>,
    demand: Demand,
}

impl Here {
    fn read(engine: &Engine) -> Self {
        let usage = engine.resources().usage();
        let demand = Demand { depths: super::quota::depth_demand(&usage), agents: engine.workforce().demand() };
        Self { usage, members: engine.workforce().members(), demand }
    }

    fn shares(&self) -> Shares {
        let agents = self.members.iter().map(|m| (m.spec.name.clone(), m.capacity())).collect();
        Shares { depths: std::array::from_fn(|d| self.usage[d].share), agents }
    }

    /// Whether some depth or agent has work waiting here (`demand`) that its share, not its
    /// quota or concurrency, holds back.
    fn wants_more(&self, demand: &Demand) -> bool {
        let usage = &self.usage;
        let depths = (0..DEPTHS).any(|d| demand.depths[d] > usage[d].share && usage[d].share < usage[d].quota);
        let agents = self.members.iter().any(|m| {
            demand.agents.get(&m.spec.name).is_some_and(|&n| n > m.capacity()) && m.capacity() < m.spec.concurrency
        });
        depths || agents
    }
}

/// This replica's settlings between heartbeats.
pub struct Rounds {
    signals: Option<ShareSignals>,
    last: Instant,
    /// The demand the last settling stored.
    told: Demand,
    /// The shares the last settling stored.
    held: Shares,
}

impl Default for Rounds {
    fn default() -> Self {
        Self { signals: None, last: Instant::now(), told: Demand::default(), held: Shares::default() }
    }
}

impl Rounds {
    /// Resolves when this replica should settle before its next heartbeat: another replica
    /// asked, it gave room back that it has not stored, or it wants more than its shares and
    /// has not said so.
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
                () = tokio::time::sleep(LOOK_EVERY) => if let Some(trigger) = self.look(engine) {
                    return trigger;
                },
            }
        }
    }

    /// Whether this replica gave room back it has not stored, or wants more than its shares
    /// and has not said so.
    fn look(&self, engine: &Engine) -> Option<Trigger> {
        let here = Here::read(engine);
        if here.shares().below(&self.held) {
            return Some(Trigger::Freed);
        }
        (here.demand != self.told && here.wants_more(&here.demand)).then_some(Trigger::Wanting)
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
        let asked = Here::read(engine).demand;
        let settled = super::quota::settle(membership, engine, release_gone).await?;
        self.last = Instant::now();
        let stored = Shares { depths: settled.depths, agents: settled.agents };
        // Lowered in this settling, or since the last as owed slots ended. (A slot ending while
        // this one stored its shares leaves the share here below the stored one: the next look
        // settles again.)
        let gave_back = settled.lowered || stored.below(&self.held);
        self.held = stored;
        let news = asked != self.told;
        self.told = asked;
        if gave_back || (news && Here::read(engine).wants_more(&self.told)) {
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
