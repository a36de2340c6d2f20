//! What the API shows of an agent: the agent as registered with its live load, and, for one
//! agent, its performance over the last 24 hours and all time — tasks started, succeeded and
//! failed, success rate, p50/p95 duration, tokens and cost, read from its stored delegations
//! joined with their nodes and the ledger — and its most recent tasks.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::ApiResult;
use crate::events::now_ms;
use crate::state::App;
use crate::store::TaskRow;
use crate::workforce::agent::AgentSpec;
use crate::workforce::matching::Member;

/// Tasks read for the all-time figures at most (the newest).
const MAX_TASKS_READ: i64 = 100_000;
/// Recent tasks shown.
const RECENT_TASKS: usize = 20;
const DAY_MS: i64 = 24 * 3600 * 1000;

/// An agent (every field of an `AgentSpec`) with its live load.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AgentView {
    /// The agent's fields, as registered (`AgentSpec`; a registration refuses unknown fields,
    /// which is why the answer's schema names them apart rather than flattening a closed one).
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub agent: AgentSpec,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub load: Load,
}

/// Tasks an agent holds now, against what it takes on at once.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub struct Load {
    /// Tasks it holds on the answering server.
    pub running: u32,
    pub concurrency: u32,
    /// In a cluster, the places of its concurrency the answering replica may fill now; absent
    /// on a server on its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share: Option<u32>,
}

impl From<&Member> for AgentView {
    fn from(member: &Member) -> Self {
        Self {
            agent: (*member.spec).clone(),
            created_ms: member.created_ms,
            updated_ms: member.updated_ms,
            load: Load { running: member.running, concurrency: member.spec.concurrency, share: member.share },
        }
    }
}

/// One agent in full.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AgentDetail {
    #[serde(flatten)]
    pub view: AgentView,
    pub performance: Performance,
    /// The newest tasks first.
    pub recent_tasks: Vec<TaskRow>,
    /// Whether the caller's key may change the agent (an admin key): what the dashboard
    /// offers Pause and Resume by.
    pub may_manage: bool,
    /// The agent's own mailbox (`/agents/{name}/messages`).
    pub mailbox: Mailbox,
}

/// What waits in an agent's mailbox.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub struct Mailbox {
    /// Messages not yet acknowledged or dead-lettered, delivered or not.
    pub open: usize,
}

/// The figures over two windows.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Performance {
    /// Tasks assigned in the last 24 hours.
    pub day: Figures,
    /// Every task.
    pub all: Figures,
}

/// An agent's figures over a window.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Figures {
    pub started: u64,
    pub succeeded: u64,
    pub failed: u64,
    /// Not ended yet.
    pub running: u64,
    /// Succeeded over succeeded and failed; `null` before a task ended.
    pub success_rate: Option<f64>,
    /// Median and 95th percentile of ended tasks' run time (start to end), in ms.
    pub p50_ms: Option<i64>,
    pub p95_ms: Option<i64>,
    /// Input and output tokens, and cost, of the model calls its tasks made.
    pub tokens: i64,
    pub cost: f64,
}

/// A staffed node's delegation, as its node shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DelegationView {
    /// `waiting`, `assigned` or `timed_out`.
    #[schema(pattern = "^(waiting|assigned|timed_out)$")]
    pub state: String,
    /// The agent given the node (null while it waits).
    pub agent: Option<String>,
    /// Why that agent, or why none yet.
    pub reason: String,
    pub requested_ms: i64,
    pub assigned_ms: Option<i64>,
}

/// A job's delegations by node.
pub fn by_node(rows: Vec<crate::store::DelegationRow>) -> std::collections::HashMap<Uuid, DelegationView> {
    rows.into_iter()
        .map(|d| {
            let view = DelegationView {
                state: d.state,
                agent: d.agent,
                reason: d.reason,
                requested_ms: d.requested_ms,
                assigned_ms: d.assigned_ms,
            };
            (d.node_id, view)
        })
        .collect()
}

/// The agent with its figures and recent tasks.
pub async fn detail(app: &App, member: &Member, may_manage: bool) -> ApiResult<AgentDetail> {
    let store = app.engine.store();
    let name = &member.spec.name;
    let tasks = store.agent_tasks(name, 0, MAX_TASKS_READ).await?;
    let since = now_ms() - DAY_MS;
    let mut day = figures(tasks.iter().filter(|t| t.assigned_ms >= since));
    let mut all = figures(tasks.iter());
    let spent = store.agent_spend(name, since).await?;
    (day.tokens, day.cost) = (spent.tokens, spent.cost);
    let spent = store.agent_spend(name, 0).await?;
    (all.tokens, all.cost) = (spent.tokens, spent.cost);
    let recent_tasks = tasks.into_iter().take(RECENT_TASKS).collect();
    let mailbox = Mailbox { open: app.engine.agent_mail_open(name) };
    let performance = Performance { day, all };
    Ok(AgentDetail { view: AgentView::from(member), performance, recent_tasks, may_manage, mailbox })
}

/// Counts and percentiles of `tasks` (tokens and cost are filled from the ledger apart).
pub fn figures<'a>(tasks: impl Iterator<Item = &'a TaskRow>) -> Figures {
    let mut out = Figures::default();
    let mut durations = Vec::new();
    for task in tasks {
        out.started += 1;
        match task.status.as_str() {
            "succeeded" => out.succeeded += 1,
            "failed" => out.failed += 1,
            "cancelled" => {}
            _ => out.running += 1,
        }
        if let (Some(start), Some(end), true) = (task.started_ms, task.finished_ms, task.status != "cancelled") {
            durations.push((end - start).max(0));
        }
    }
    let ended = out.succeeded + out.failed;
    out.success_rate = (ended > 0).then(|| out.succeeded as f64 / ended as f64);
    durations.sort_unstable();
    (out.p50_ms, out.p95_ms) = (percentile(&durations, 50), percentile(&durations, 95));
    out
}

/// The nearest-rank percentile of sorted values.
fn percentile(sorted: &[i64], p: usize) -> Option<i64> {
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(status: &str, took: i64) -> TaskRow {
        TaskRow {
            job_id: Uuid::nil(),
            node_id: Uuid::nil(),
            node_name: "t".into(),
            status: status.into(),
            reason: String::new(),
            assigned_ms: 0,
            started_ms: Some(1000),
            finished_ms: (status != "running").then_some(1000 + took),
        }
    }

    #[test]
    fn figures_count_and_take_percentiles() {
        let mut rows: Vec<TaskRow> = (1..=19).map(|i| row("succeeded", i * 10)).collect();
        rows.push(row("failed", 1000));
        rows.push(row("running", 0));
        let f = figures(rows.iter());
        assert_eq!((f.started, f.succeeded, f.failed, f.running), (21, 19, 1, 1));
        assert_eq!(f.success_rate, Some(0.95));
        assert_eq!((f.p50_ms, f.p95_ms), (Some(100), Some(190)));
        assert_eq!(figures([].iter()), Figures::default());
    }
}
