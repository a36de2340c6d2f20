//! The `quota_busy` alert rule: a depth whose slots stay at or above `alerts.quota_busy_percent`
//! of its quota for `alerts.quota_busy_for_s` fires an alert (the server's, not a job's), and
//! the alert is resolved once the depth drops below. Sampled every `alerts.check_every_s`.

use std::time::Duration;

use serde_json::json;

use super::Engine;
use crate::domain::DEPTHS;
use crate::events::now_ms;
use crate::people::alerts::{self, Rule};
use crate::store::AlertRow;

/// Per depth: busy since when, and the alert fired for it.
#[derive(Default)]
struct Busy {
    since_ms: [Option<i64>; DEPTHS],
    fired: [Option<AlertRow>; DEPTHS],
}

/// Watches the quotas until the server stops.
pub(super) async fn watch(engine: Engine) {
    let rules = engine.inner.ctx.alert_rules.clone();
    if rules.quota_busy_percent == 0 {
        return;
    }
    let mut busy = Busy::default();
    let mut ticks = tokio::time::interval(Duration::from_secs(rules.check_every_s.max(1)));
    loop {
        ticks.tick().await;
        for (depth, usage) in engine.resources().usage().iter().enumerate() {
            let percent = u64::from(usage.in_use) * 100 / u64::from(usage.quota.max(1));
            let data = json!({"depth": depth, "in_use": usage.in_use, "quota": usage.quota, "percent": percent,
                              "for_s": rules.quota_busy_for_s});
            busy.look(&engine, depth, percent >= u64::from(rules.quota_busy_percent), &data);
        }
    }
}

impl Busy {
    fn look(&mut self, engine: &Engine, depth: usize, over: bool, data: &serde_json::Value) {
        let ctx = &engine.inner.ctx;
        let now = now_ms();
        if !over {
            self.since_ms[depth] = None;
            if let Some(alert) = self.fired[depth].take() {
                let resolved = alerts::resolve(&alert, None);
                ctx.journal.alert(resolved, u8::try_from(depth).ok());
            }
            return;
        }
        let since = *self.since_ms[depth].get_or_insert(now);
        let for_ms = i64::try_from(ctx.alert_rules.quota_busy_for_s * 1000).unwrap_or(i64::MAX);
        if self.fired[depth].is_some() || now - since < for_ms {
            return;
        }
        let message = format!(
            "depth {depth} has used {} of its {} slots ({} %) for {} s",
            data["in_use"], data["quota"], data["percent"], ctx.alert_rules.quota_busy_for_s
        );
        let alert = alerts::fire(Rule::QuotaBusy, None, None, message, data);
        ctx.journal.alert(alert.clone(), u8::try_from(depth).ok());
        ctx.alerts.count(Rule::QuotaBusy);
        self.fired[depth] = Some(alert);
    }
}
