//! Signed webhooks (issue 15, "Alerts and notifications"): each `[[notify.webhooks]]` gets a
//! delivery task ([`follow`]) that posts the event kinds it wants, one at a time and in
//! order, as JSON with a one-line `text` a Slack incoming webhook accepts ([`summary`]),
//! signed with HMAC-SHA256 ([`payload`]), retried with back-off ([`send`]). Its place in the
//! event log is stored after each delivery, so a restart resumes where it stopped; its
//! counters and last attempt ([`status`]) feed `/metrics` and `GET /api/v1/notify/webhooks`.
//!
//! Delivery is at least once: a delivery cut off by a shutdown or a crash is sent again by the
//! next start, with the same `X-Cadre-Delivery` (the event's seq) for receivers to drop.
//! See `docs/PEOPLE.md`, "Notifications: webhooks".

mod follow;
mod payload;
mod send;
mod status;
mod summary;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

pub use payload::{signature, Secret};
pub use status::{Latest, Outcome, Status};

use crate::config::{ConfigError, NotifyConfig, WebhookConfig};
use crate::events::EventFeeds;
use crate::store::SharedStore;

/// How long shutdown waits for the delivery tasks to store their cursors.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// One configured webhook: its settings, its secret and HTTP client, and where it stands.
pub struct Hook {
    pub config: WebhookConfig,
    secret: Secret,
    http: reqwest::Client,
    pub status: Status,
}

impl Hook {
    fn new(config: &WebhookConfig) -> Result<Self, ConfigError> {
        let secret = Secret::new(config.read_secret()?);
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.timeout_s))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("cadre/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| ConfigError::Invalid(format!("webhook {:?}: no HTTP client: {err}", config.name)))?;
        Ok(Self { config: config.clone(), secret, http, status: Status::default() })
    }
}

/// Every configured webhook, and its delivery task once started. Cheap to clone.
#[derive(Clone, Default)]
pub struct Webhooks(Arc<Inner>);

#[derive(Default)]
struct Inner {
    hooks: Vec<Arc<Hook>>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Webhooks {
    /// The configured webhooks with their secrets read: an error (naming the variable) when
    /// one is unset or empty. Called before the store is opened, so nothing is written then.
    pub fn prepare(config: &NotifyConfig) -> Result<Self, ConfigError> {
        let hooks = config.webhooks.iter().map(|hook| Hook::new(hook).map(Arc::new)).collect::<Result<_, _>>()?;
        Ok(Self(Arc::new(Inner { hooks, tasks: Mutex::default() })))
    }

    /// Every webhook, in the order configured.
    pub fn hooks(&self) -> &[Arc<Hook>] {
        &self.0.hooks
    }

    /// Starts a delivery task per webhook on `tracker`, each ending when `shutdown` fires.
    /// Each subscribes here, before returning, so nothing published from now on passes it.
    pub fn start(&self, store: &SharedStore, events: &EventFeeds, tracker: &TaskTracker, shutdown: &CancellationToken) {
        let mut tasks = self.0.tasks.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        for hook in &self.0.hooks {
            let feed = events.subscribe(None);
            let follower = follow::Follower::new(hook.clone(), store.clone(), events.clone());
            let span = tracing::info_span!("webhook", webhook.name = %hook.config.name);
            tasks.push(tracker.spawn(follow::run(follower, feed, shutdown.clone()).instrument(span)));
        }
    }

    /// The delivery tasks for a replica of a cluster, where one replica delivers for all:
    /// they run while `delivers` (asked every `every`) says this replica is the one, and stop,
    /// storing their cursors, once it is not; the next one goes on from the stored cursors, so
    /// delivery stays at least once across a hand-over, and is not once per replica.
    pub fn start_while(
        &self,
        (store, events): (&SharedStore, &EventFeeds),
        tracker: &TaskTracker,
        shutdown: &CancellationToken,
        (every, delivers): (Duration, impl Fn() -> bool + Send + 'static),
    ) {
        if self.0.hooks.is_empty() {
            return;
        }
        let (webhooks, store, events, tasks, shutdown) =
            (self.clone(), store.clone(), events.clone(), tracker.clone(), shutdown.clone());
        tracker.spawn(async move {
            let mut running: Option<CancellationToken> = None;
            let mut tick = tokio::time::interval(every);
            while !shutdown.is_cancelled() {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    _ = tick.tick() => {}
                }
                running = webhooks.hand_over(delivers(), running, (&store, &events, &tasks, &shutdown)).await;
            }
        });
    }

    /// Starts the delivery tasks when this replica should deliver and they are not running,
    /// stops them when it should not and they are; what runs now.
    async fn hand_over(
        &self,
        delivers: bool,
        running: Option<CancellationToken>,
        (store, events, tracker, shutdown): (&SharedStore, &EventFeeds, &TaskTracker, &CancellationToken),
    ) -> Option<CancellationToken> {
        match (delivers, running) {
            (true, None) => {
                let token = shutdown.child_token();
                self.start(store, events, tracker, &token);
                log_delivering(true);
                Some(token)
            }
            (false, Some(token)) => {
                token.cancel();
                self.stopped().await;
                log_delivering(false);
                None
            }
            (_, still) => still,
        }
    }

    /// Waits (a few seconds at most) for the delivery tasks to end once `shutdown` has
    /// fired, so that the next server on this store reads their final cursors.
    pub async fn stopped(&self) {
        let tasks = std::mem::take(&mut *self.0.tasks.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
        let all = futures_util::future::join_all(tasks);
        if tokio::time::timeout(STOP_GRACE, all).await.is_err() {
            tracing::warn!("webhook delivery tasks did not stop in time; their cursors may be behind");
        }
    }
}

fn log_delivering(now: bool) {
    let who = if now { "this replica" } else { "another replica" };
    tracing::info!("{who} delivers the cluster's webhooks");
}
