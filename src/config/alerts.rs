//! `[alerts]`: the rules that raise alerts (issue 15, seed 004's alert rules) — a job whose
//! finished workers fail too often (held until a person resumes it), a node running far past
//! its siblings, a depth's quota busy for minutes. Each can be turned off with 0.

use serde::{Deserialize, Serialize};

/// The alert rules.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsConfig {
    /// A job whose finished workers failed more than this share (0.2 = 20 %) fires
    /// `failure_rate`; 0 turns the rule off.
    pub failure_rate: f64,
    /// …once at least this many of its workers have finished.
    pub failure_rate_min_finished: u32,
    /// …and holds new starts in the job until a person resumes it.
    pub failure_rate_hold: bool,
    /// A node running longer than this many times the median of its finished siblings fires
    /// `straggler`; 0 turns the rule off.
    pub straggler_factor: f64,
    /// …once at least this many siblings have finished.
    pub straggler_min_siblings: u32,
    /// A depth whose slots stay at or above this percentage of its quota fires `quota_busy`;
    /// 0 turns the rule off.
    pub quota_busy_percent: u32,
    /// …for this many seconds.
    pub quota_busy_for_s: u64,
    /// A `command` worker that has written no output and made no call back with its token
    /// for this many seconds fires `silent_worker`; 0 turns the rule off.
    pub silent_after_s: u64,
    /// A budget envelope that has spent this percentage (80, 90 or 100: its warning levels)
    /// fires `budget`; 0 turns the rule off.
    pub budget_percent: u8,
    /// How often running nodes and quotas are looked at (seconds).
    pub check_every_s: u64,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        Self {
            failure_rate: 0.2,
            failure_rate_min_finished: 5,
            failure_rate_hold: true,
            straggler_factor: 2.0,
            straggler_min_siblings: 3,
            quota_busy_percent: 90,
            quota_busy_for_s: 300,
            silent_after_s: 600,
            budget_percent: 90,
            check_every_s: 5,
        }
    }
}

impl AlertsConfig {
    /// What is wrong with the rules, if anything.
    pub fn problem(&self) -> Option<String> {
        if !(0.0..=1.0).contains(&self.failure_rate) {
            return Some(format!("alerts.failure_rate must be 0 to 1, not {}", self.failure_rate));
        }
        if self.straggler_factor < 0.0 || (self.straggler_factor > 0.0 && self.straggler_factor < 1.0) {
            return Some(format!(
                "alerts.straggler_factor must be 0 (off) or at least 1, not {}",
                self.straggler_factor
            ));
        }
        if self.quota_busy_percent > 100 {
            return Some(format!("alerts.quota_busy_percent must be 0 to 100, not {}", self.quota_busy_percent));
        }
        if self.budget_percent > 100 {
            return Some(format!("alerts.budget_percent must be 0 to 100, not {}", self.budget_percent));
        }
        (self.check_every_s == 0).then(|| "alerts.check_every_s must be at least 1".to_string())
    }
}
