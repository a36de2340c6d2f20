//! Several `cadre serve` replicas over one PostgreSQL (issue 18; docs/CLUSTER.md).
//!
//! This room owns a replica's membership: it joins the cluster at start (a fresh id per
//! process, its row in `replicas`), renews its heartbeat, keeps the latest view of the other
//! replicas for `/readyz`, `/metrics` and `GET /api/v1/cluster`, and leaves on shutdown. Its
//! [`fanout`] publishes every replica's events to this replica's subscribers in the cluster's
//! one order. The store does the rest: a joined store fences and numbers each journal write
//! (`store::cluster`). A server without `cluster.enabled` is a cluster of one that stores
//! nothing here ([`Membership::single`]).
//!
//! Its [`takeover`] continues the jobs of replicas that are gone, and its [`quota`] keeps each
//! depth's quota across the cluster by moving shares of it between replicas.

pub mod fanout;
pub mod quota;
pub mod rounds;
pub mod steward;
pub mod takeover;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use uuid::Uuid;

use crate::config::ClusterConfig;
use crate::engine::Engine;
use crate::events::{now_ms, EventDraft, EventFeeds, EventKind};
use crate::store::cluster::{DEAD, LEFT, LIVE};
use crate::store::{ReplicaRow, SharedStore, StoreError};

/// Ended replicas stay in the view for this long, so that a failover can be seen after it.
const ENDED_SHOWN_MS: i64 = 3_600_000;

/// Why a replica could not join.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cluster.enabled needs PostgreSQL: SQLite serves one server at a time")]
    NotPostgres,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What one replica knows of the cluster; shared by the handlers and its own tasks.
pub struct Membership {
    /// This replica (a fresh id per process).
    pub replica_id: Uuid,
    /// False for a server on its own.
    pub enabled: bool,
    config: ClusterConfig,
    store: SharedStore,
    /// The row this replica registered (its address filled in once the server is bound).
    this: Mutex<ReplicaRow>,
    /// When the last heartbeat was stored (ms).
    last_beat_ms: AtomicI64,
    /// The replicas as last read, oldest first.
    view: Mutex<Vec<ReplicaRow>>,
    /// This replica can no longer show it is a member (declared gone, or its heartbeat
    /// unrenewed for most of a lease): it must stop its work at once.
    lost: tokio_util::sync::CancellationToken,
    /// How many times this replica settled its shares, by what started it.
    pub settlings: rounds::Settlings,
}

/// A replica as others see it now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReplicaState {
    /// Renewing its heartbeat.
    Live,
    /// Registered as live, but its heartbeat is older than `cluster.lease_s`.
    Lapsed,
    /// Stopped of its own accord.
    Left,
    /// Declared gone by another replica.
    Dead,
}

impl Membership {
    /// A server on its own: nothing stored, itself the only replica.
    pub fn single(config: &crate::config::Config, store: SharedStore) -> Arc<Self> {
        let row = this_replica(&config.cluster.address);
        Arc::new(Self::new(config.cluster.clone(), store, row, false))
    }

    /// Joins the cluster of replicas over the store's database and starts the heartbeat and
    /// the fan-out of events on `tracker`. `events` must be [`EventFeeds::tailed`].
    pub async fn join(
        config: &crate::config::Config,
        store: SharedStore,
        events: &EventFeeds,
        tracker: &tokio_util::task::TaskTracker,
    ) -> Result<Arc<Self>, ClusterError> {
        let cluster = store.cluster().ok_or(ClusterError::NotPostgres)?;
        let row = this_replica(&config.cluster.address);
        cluster.join(&row).await?;
        let from_seq = store.sequences().await?.event_seq;
        let membership = Arc::new(Self::new(config.cluster.clone(), store.clone(), row, true));
        membership.refresh().await;
        log_joined(membership.replica_id);
        tracker.spawn(heartbeat(membership.clone()));
        tracker.spawn(fanout::tail(store, events.clone(), from_seq));
        Ok(membership)
    }

    fn new(config: ClusterConfig, store: SharedStore, row: ReplicaRow, enabled: bool) -> Self {
        Self {
            replica_id: row.id,
            enabled,
            config,
            store,
            last_beat_ms: AtomicI64::new(row.heartbeat_ms),
            view: Mutex::new(vec![row.clone()]),
            this: Mutex::new(row),
            lost: tokio_util::sync::CancellationToken::new(),
            settlings: rounds::Settlings::default(),
        }
    }

    /// Records where this replica is reached, once the server is bound.
    pub async fn advertise(&self, bound_url: &str) {
        let address = if self.config.address.is_empty() { bound_url } else { self.config.address.as_str() };
        lock(&self.this).address = address.to_string();
        if let Some(cluster) = self.joined() {
            warn_failed("the replica's address was not stored", cluster.advertise(self.replica_id, address).await);
        }
        self.refresh().await;
    }

    /// Announces this replica on the event stream once it serves (nothing without a cluster).
    pub fn announce_joined(&self, engine: &Engine) {
        if self.enabled {
            let this = lock(&self.this).clone();
            let data =
                serde_json::json!({"replica": this.id, "address": this.address, "host": this.host, "pid": this.pid});
            engine.record_event(EventDraft::server(EventKind::ReplicaJoined, None, &data));
        }
    }

    /// Leaves the cluster (on shutdown), announced first while its writes are still taken:
    /// the others take its jobs at their next round instead of after a lease.
    pub async fn leave(&self, engine: &Engine) {
        if !self.enabled {
            return;
        }
        let data = serde_json::json!({"replica": self.replica_id, "state": "left", "by": self.replica_id});
        engine.record_event(EventDraft::server(EventKind::ReplicaLeft, None, &data));
        let flushed = engine.flush().await.map_err(|err| tracing::warn!(error = %err, "leaving was not announced"));
        if let Some(cluster) = self.joined().filter(|_| flushed.is_ok()) {
            warn_failed("leaving the cluster was not stored", cluster.leave(self.replica_id, now_ms()).await);
        }
    }

    /// Whether this replica may serve: on its own always; in a cluster while its heartbeat
    /// is current and it has not been declared gone.
    pub fn is_member(&self) -> bool {
        !self.enabled
            || (!self.lost.is_cancelled() && now_ms() - self.last_beat_ms.load(Ordering::Relaxed) < self.lease_ms())
    }

    /// Cancelled once this replica has lost its membership for good: the server then stops
    /// every driver and its workers at once and exits, to rejoin as a new replica.
    pub fn lost(&self) -> &tokio_util::sync::CancellationToken {
        &self.lost
    }

    /// Replicas seen live now (this one included while it is a member).
    pub fn live_count(&self) -> usize {
        self.replicas().iter().filter(|(_, state)| *state == ReplicaState::Live).count()
    }

    /// The cluster's steward: the oldest live replica, which posts the webhooks (once, not once
    /// per replica) and holds the agents' mailboxes. It changes only when it leaves or dies
    /// (a replica that joins later is younger), and the next oldest takes over.
    pub fn steward(&self) -> Option<ReplicaRow> {
        self.replicas().into_iter().find(|(_, state)| *state == ReplicaState::Live).map(|(row, _)| row)
    }

    /// Whether this replica is the steward now (and still a member).
    pub fn is_steward(&self) -> bool {
        self.is_member() && self.steward().is_some_and(|row| row.id == self.replica_id)
    }

    /// This replica's machine.
    pub fn host(&self) -> String {
        lock(&self.this).host.clone()
    }

    /// The replicas as last read, each with its state now and whether it is this one.
    pub fn replicas(&self) -> Vec<(ReplicaRow, ReplicaState)> {
        let now = now_ms();
        lock(&self.view).iter().map(|row| (row.clone(), self.state_of(row, now))).collect()
    }

    /// Re-reads the replicas (a cluster) or this one (on its own).
    pub async fn refresh(&self) {
        let rows = match self.joined() {
            Some(cluster) => cluster.replicas(now_ms() - ENDED_SHOWN_MS).await,
            None => Ok(vec![lock(&self.this).clone()]),
        };
        if let Some(rows) = warn_failed("the cluster's replicas could not be read", rows) {
            *lock(&self.view) = rows;
        }
    }

    /// The store's cluster side, when this replica joined one.
    pub(crate) fn joined(&self) -> Option<&dyn crate::store::ClusterStore> {
        self.store.cluster().filter(|_| self.enabled)
    }

    /// Seconds between heartbeats and of a lease.
    pub fn timing(&self) -> (u64, u64) {
        (self.config.heartbeat_s, self.config.lease_s)
    }

    pub(crate) fn lease_ms(&self) -> i64 {
        i64::try_from(self.config.lease_s * 1000).unwrap_or(i64::MAX)
    }

    fn state_of(&self, row: &ReplicaRow, now: i64) -> ReplicaState {
        match row.state.as_str() {
            LEFT => ReplicaState::Left,
            DEAD => ReplicaState::Dead,
            LIVE if row.id == self.replica_id => {
                if self.is_member() {
                    ReplicaState::Live
                } else {
                    ReplicaState::Lapsed
                }
            }
            _ if now - row.heartbeat_ms >= self.lease_ms() => ReplicaState::Lapsed,
            _ => ReplicaState::Live,
        }
    }

    async fn beat(&self) {
        let Some(cluster) = self.joined() else { return };
        let now = now_ms();
        match warn_failed("heartbeat not stored", cluster.beat(self.replica_id, now).await) {
            Some(true) => {
                self.last_beat_ms.store(now, Ordering::Relaxed);
                lock(&self.this).heartbeat_ms = now;
            }
            Some(false) => self.lose("the cluster has declared this replica gone"),
            None => {}
        }
        // Others may take this replica's jobs once a lease has passed since its last stored
        // beat: stop a beat before that, so that no job is ever driven by two replicas.
        let unrenewed = now_ms() - self.last_beat_ms.load(Ordering::Relaxed);
        if unrenewed >= self.lease_ms() - self.heartbeat_ms() {
            self.lose("this replica could not renew its heartbeat for most of a lease");
        }
        self.refresh().await;
    }

    fn lose(&self, why: &str) {
        if !self.lost.is_cancelled() {
            log_lost(self.replica_id, why);
            self.lost.cancel();
        }
    }

    fn heartbeat_ms(&self) -> i64 {
        i64::try_from(self.config.heartbeat_s * 1000).unwrap_or(i64::MAX)
    }
}

/// Renews this replica's heartbeat every `cluster.heartbeat_s`, re-reading the others.
async fn heartbeat(membership: Arc<Membership>) {
    let mut every = tokio::time::interval(Duration::from_secs(membership.config.heartbeat_s));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        membership.beat().await;
    }
}

/// The row that registers this process.
fn this_replica(address: &str) -> ReplicaRow {
    let now = now_ms();
    ReplicaRow {
        id: Uuid::new_v4(),
        address: address.to_string(),
        host: host_name(),
        pid: i64::from(std::process::id()),
        started_ms: now,
        heartbeat_ms: now,
        state: LIVE.to_string(),
        ended_ms: None,
        shares: Vec::new(),
        demand: Vec::new(),
    }
}

/// The machine's name, which says whose worker processes a replica may stop after a takeover.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_string())
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

/// The value, or `None` with the failure logged as `what`.
fn warn_failed<T>(what: &str, result: Result<T, StoreError>) -> Option<T> {
    result.map_err(|err| tracing::warn!(error = %err, "{what}")).ok()
}

fn log_joined(replica: Uuid) {
    tracing::info!(%replica, "joined the cluster");
}

fn log_lost(replica: Uuid, why: &str) {
    tracing::error!(%replica, "{why}: stopping this replica's work");
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
