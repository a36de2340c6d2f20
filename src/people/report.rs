//! The job's outcome as a CI pipeline reads it (issue 15, seed 004's final report): per phase
//! — a top-level branch of the tree — its workers passed, failed or skipped, with durations,
//! attempts, each failure's class and recovery, and cost; as JSON, or as JUnit XML (a suite
//! per phase, a case per worker) that CI systems publish. Read from what is stored, so it is
//! there for a running job too.

use std::collections::HashMap;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::store::{children_index, JobRow, NodeRow, NodeUsageRow};

/// The outcome of a job, phase by phase.
#[derive(Debug, Serialize, ToSchema)]
pub struct Outcome {
    pub job_id: Uuid,
    pub status: String,
    pub request: String,
    pub duration_ms: Option<i64>,
    /// What the job's model calls and reported usage cost.
    pub cost: f64,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub retries: i64,
    pub phases: Vec<Phase>,
    /// What people decided: approvals, plans and escalations, in the order they were asked.
    pub decisions: Vec<Decided>,
}

/// One request a person (or a timeout) decided, or that still waits.
#[derive(Debug, Serialize, ToSchema)]
pub struct Decided {
    pub node: String,
    /// `before`, `after`, `plan` or `escalation`.
    pub kind: String,
    /// `pending`, `approved`, `rejected` or `cancelled`.
    pub state: String,
    /// The last decision: `approve`, `reject`, `retry`, `retry_with`, `skip`, `fail`.
    pub decision: Option<String>,
    /// Who made it (null: a timeout's default, or nobody yet).
    pub by: Option<String>,
    /// At which level, 1 for the first.
    pub level: Option<usize>,
    pub comment: Option<String>,
}

impl Decided {
    pub fn of(approval: &super::inbox::Approval) -> Self {
        let last = approval.request.decisions.last();
        let verdict =
            last.and_then(|d| serde_json::to_value(d.verdict).ok()).and_then(|v| v.as_str().map(String::from));
        Self {
            node: approval.node_name.clone(),
            kind: approval.kind.as_str().into(),
            state: approval.request.state.as_str().into(),
            decision: verdict,
            by: last.and_then(|d| d.by.clone()),
            level: last.map(|d| d.level + 1),
            comment: last.and_then(|d| d.comment.clone()),
        }
    }

    /// The report's line: `- escalation of 'deploy': skip by 'alice' (level 1) — "by hand"`.
    pub fn line(&self) -> String {
        let what = match (&self.decision, &self.by) {
            (Some(decision), Some(by)) => format!("{decision} by '{by}' (level {})", self.level.unwrap_or(1)),
            (Some(decision), None) => format!("{decision} by the timeout of level {}", self.level.unwrap_or(1)),
            (None, _) => self.state.clone(),
        };
        let comment = self.comment.as_deref().map(|c| format!(" — \"{c}\"")).unwrap_or_default();
        format!("- {} of '{}': {what}{comment}", self.kind, self.node)
    }
}

/// A top-level branch (or the root itself, for a job of one worker).
#[derive(Debug, Serialize, ToSchema)]
pub struct Phase {
    pub name: String,
    pub status: String,
    pub duration_ms: Option<i64>,
    pub cases: Vec<Case>,
}

/// A worker: how it ended, and how its last failure was recovered from.
#[derive(Debug, Serialize, ToSchema)]
pub struct Case {
    /// Its path from the phase down (`unit/cache`).
    pub name: String,
    pub status: String,
    pub attempts: i64,
    pub duration_ms: Option<i64>,
    pub error: Option<String>,
    /// `timeout`, `memory`, … (docs/PEOPLE.md), when it failed.
    pub failure_class: Option<String>,
    /// What followed its last failure: `retry`, `reallocate`, `escalate`, `fail`.
    pub recovery: Option<String>,
    pub cost: f64,
}

/// The outcome of `job` from its stored nodes (parents first) and ledger sums.
pub fn outcome(job: &JobRow, nodes: &[NodeRow], usage: &[NodeUsageRow]) -> Outcome {
    let cost: HashMap<Uuid, f64> = usage.iter().map(|u| (u.node_id, u.cost)).collect();
    let children = children_index(nodes);
    let phases: Vec<usize> = match children.first() {
        Some(top) if !top.is_empty() => top.clone(),
        _ => (0..nodes.len().min(1)).collect(),
    };
    let phases: Vec<Phase> = phases.into_iter().map(|p| phase(nodes, &children, p, &cost)).collect();
    let cases = || phases.iter().flat_map(|p| &p.cases);
    let count = |status: &str| cases().filter(|c| c.status == status).count();
    Outcome {
        job_id: job.id,
        status: job.status.clone(),
        request: job.request.clone(),
        duration_ms: job.started_ms.zip(job.finished_ms).map(|(s, f)| f - s),
        cost: usage.iter().map(|u| u.cost).sum(),
        passed: count("succeeded"),
        failed: count("failed"),
        skipped: cases().count() - count("succeeded") - count("failed"),
        retries: cases().map(|c| (c.attempts - 1).max(0)).sum(),
        phases,
        decisions: Vec::new(),
    }
}

fn phase(nodes: &[NodeRow], children: &[Vec<usize>], at: usize, cost: &HashMap<Uuid, f64>) -> Phase {
    let mut cases = Vec::new();
    let mut stack = vec![(at, nodes[at].name.clone())];
    while let Some((index, path)) = stack.pop() {
        if nodes[index].kind == "worker" {
            cases.push(case(&nodes[index], path.clone(), cost));
        }
        for &child in children[index].iter().rev() {
            stack.push((child, format!("{path}/{}", nodes[child].name)));
        }
    }
    let node = &nodes[at];
    Phase { name: node.name.clone(), status: node.status.clone(), duration_ms: span(node), cases }
}

fn case(node: &NodeRow, name: String, cost: &HashMap<Uuid, f64>) -> Case {
    let result: Value = node.result.as_deref().and_then(|t| serde_json::from_str(t).ok()).unwrap_or_default();
    let failed = node.status == "failed";
    let recovery = failed.then(|| result.get("recovery")).flatten();
    let word = |field: &str| recovery.and_then(|r| r[field].as_str()).map(str::to_string);
    Case {
        name,
        status: node.status.clone(),
        attempts: node.attempts,
        duration_ms: span(node),
        error: node.error.clone(),
        failure_class: word("class"),
        recovery: word("action"),
        cost: cost.get(&node.id).copied().unwrap_or(0.0),
    }
}

fn span(node: &NodeRow) -> Option<i64> {
    node.started_ms.zip(node.finished_ms).map(|(s, f)| f - s)
}

/// The outcome as JUnit XML: a suite per phase, a case per worker (a failure with its class
/// as the type, skipped for a cancelled or unfinished one).
pub fn junit(outcome: &Outcome) -> Result<String, String> {
    let mut report = Report::new(format!("cadre job {}", outcome.job_id));
    for phase in &outcome.phases {
        let mut suite = TestSuite::new(phase.name.as_str());
        suite.set_time(millis(phase.duration_ms));
        suite.add_test_cases(phase.cases.iter().map(|c| test_case(&phase.name, c)));
        report.add_test_suite(suite);
    }
    report.set_time(millis(outcome.duration_ms));
    report.to_string().map_err(|e| e.to_string())
}

fn test_case(phase: &str, case: &Case) -> TestCase {
    let status = match case.status.as_str() {
        "succeeded" => TestCaseStatus::success(),
        "failed" => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_type(case.failure_class.as_deref().unwrap_or("process"));
            let recovery = case.recovery.as_deref().map(|r| format!(" (recovery: {r})")).unwrap_or_default();
            status.set_message(format!("{}{recovery}", case.error.as_deref().unwrap_or("failed")));
            status
        }
        _ => TestCaseStatus::skipped(),
    };
    // The phase is the case's class name; its own name is its path below the phase.
    let name = case.name.strip_prefix(phase).and_then(|n| n.strip_prefix('/')).unwrap_or(&case.name);
    let mut test = TestCase::new(name, status);
    test.set_classname(phase);
    test.set_time(millis(case.duration_ms));
    test
}

fn millis(ms: Option<i64>) -> Duration {
    Duration::from_millis(u64::try_from(ms.unwrap_or(0)).unwrap_or(0))
}
