//! The workforce's part of `GET /metrics`: per agent, its live load and, since this server
//! started, the tasks it took on and how they ended, their duration (a histogram: p50/p95 by
//! `histogram_quantile`), its success ratio, and the tokens and cost of its tasks' model calls.

use std::fmt::Write;

use super::metrics::{header, label};
use crate::workforce::matching::Member;
use crate::workforce::meters::DURATION_BUCKETS;
use crate::workforce::Workforce;

pub(super) fn workforce_metrics(workforce: &Workforce, out: &mut String) {
    load_metrics(&workforce.members(), out);
    let counts = workforce.meters().snapshot();
    header(out, "cadre_agent_tasks_total", "counter", "Tasks agents took on (started) and how they ended.");
    for (agent, c) in &counts {
        let agent = label(agent);
        for (outcome, n) in [("started", c.started), ("succeeded", c.succeeded), ("failed", c.failed)] {
            let _ = writeln!(out, "cadre_agent_tasks_total{{agent=\"{agent}\",outcome=\"{outcome}\"}} {n}");
        }
    }
    header(out, "cadre_agent_success_ratio", "gauge", "Succeeded over ended tasks since the server started.");
    for (agent, c) in counts.iter().filter(|(_, c)| c.succeeded + c.failed > 0) {
        let ratio = c.succeeded as f64 / (c.succeeded + c.failed) as f64;
        let _ = writeln!(out, "cadre_agent_success_ratio{{agent=\"{}\"}} {ratio}", label(agent));
    }
    header(out, "cadre_agent_task_duration_seconds", "histogram", "How long agents' tasks ran, start to end.");
    for (agent, c) in &counts {
        let agent = label(agent);
        let name = "cadre_agent_task_duration_seconds";
        for (bound, n) in DURATION_BUCKETS.iter().zip(c.buckets) {
            let _ = writeln!(out, "{name}_bucket{{agent=\"{agent}\",le=\"{bound}\"}} {n}");
        }
        let ended = c.succeeded + c.failed;
        let _ = writeln!(out, "{name}_bucket{{agent=\"{agent}\",le=\"+Inf\"}} {ended}");
        let _ = writeln!(
            out,
            "{name}_sum{{agent=\"{agent}\"}} {}\n{name}_count{{agent=\"{agent}\"}} {ended}",
            c.duration_sum_s
        );
    }
    header(out, "cadre_agent_tokens_total", "counter", "Input and output tokens of agents' tasks' model calls.");
    for (agent, c) in &counts {
        let _ = writeln!(out, "cadre_agent_tokens_total{{agent=\"{}\"}} {}", label(agent), c.tokens);
    }
    header(out, "cadre_agent_cost_total", "counter", "Cost of agents' tasks' model calls, at the providers' prices.");
    for (agent, c) in &counts {
        let _ = writeln!(out, "cadre_agent_cost_total{{agent=\"{}\"}} {}", label(agent), c.cost);
    }
}

/// Per agent, the tasks it holds, its concurrency and, in a cluster, this replica's share.
fn load_metrics(members: &[Member], out: &mut String) {
    header(out, "cadre_agent_running", "gauge", "Tasks each agent holds now.");
    for m in members {
        let _ = writeln!(out, "cadre_agent_running{{agent=\"{}\"}} {}", label(&m.spec.name), m.running);
    }
    header(out, "cadre_agent_concurrency", "gauge", "Tasks each agent takes on at once.");
    for m in members {
        let _ = writeln!(out, "cadre_agent_concurrency{{agent=\"{}\"}} {}", label(&m.spec.name), m.spec.concurrency);
    }
    let shared: Vec<_> = members.iter().filter_map(|m| m.share.map(|share| (&m.spec.name, share))).collect();
    if !shared.is_empty() {
        header(out, "cadre_agent_share", "gauge", "Places of each agent this replica may fill (a cluster).");
        for (agent, share) in shared {
            let _ = writeln!(out, "cadre_agent_share{{agent=\"{}\"}} {share}", label(agent));
        }
    }
}
