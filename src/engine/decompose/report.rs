//! The final report of a decomposed job (issue 13, phase 4), as Markdown: what was planned,
//! what each manager and agent delivered, the validation verdicts, the retries, and what it
//! all cost. It is read from the stored job — the decomposing node's result (its plan and
//! what was delivered), every node's status and attempts, and the ledger — so it is the same
//! whether the job ended a second ago or before a restart, and a failed or still-running job
//! gets one too.

use std::fmt::Write as _;

use serde_json::Value;

use crate::store::{JobRow, NodeRow, NodeUsageRow};

/// Characters of an agent's output the report quotes.
const OUTPUT_EXCERPT: usize = 600;

/// The report of `job`, from its nodes and what each spent.
pub fn markdown(job: &JobRow, nodes: &[NodeRow], usage: &[NodeUsageRow]) -> String {
    let mut out = String::new();
    let root = nodes.first();
    let record = root.and_then(|r| r.result.as_deref()).and_then(|t| serde_json::from_str::<Value>(t).ok());
    let record = record.unwrap_or_default();
    let title = record.pointer("/plan/project_name").and_then(Value::as_str).unwrap_or("Job report");
    let _ = writeln!(out, "# {title}\n\n**Request:** {}\n\n**Status:** {}", job.request.trim(), job.status);
    if let Some(error) = &job.error {
        let _ = writeln!(out, "\n**Error:** {error}");
    }
    intent(&mut out, &record);
    plan(&mut out, &record);
    delivered(&mut out, nodes);
    totals(&mut out, nodes, usage);
    out
}

fn intent(out: &mut String, record: &Value) {
    if let Some(intent) = record.get("intent") {
        let kind = intent["intent"].as_str().unwrap_or("?");
        let confidence = intent["confidence"].as_f64().unwrap_or(0.0);
        let _ = writeln!(
            out,
            "\n**Intent:** {kind} (confidence {confidence:.2}) — {}",
            intent["reason"].as_str().unwrap_or("")
        );
    }
    for c in record["clarifications"].as_array().into_iter().flatten() {
        let answer = c["answer"].as_str().unwrap_or("(no answer)");
        let _ = writeln!(out, "\n> **Q:** {}\n> **A:** {answer}", c["question"].as_str().unwrap_or(""));
    }
}

fn plan(out: &mut String, record: &Value) {
    let Some(plan) = record.get("plan") else { return };
    out.push_str("\n## Plan\n");
    for component in plan["components"].as_array().into_iter().flatten() {
        let name = component["name"].as_str().unwrap_or("?");
        let _ = writeln!(out, "- **{name}** ({})", component["type"].as_str().unwrap_or("?"));
        for requirement in component["specific_requirements"].as_array().into_iter().flatten() {
            let _ = writeln!(out, "  - {}", requirement.as_str().unwrap_or(""));
        }
    }
    list(out, "Technical constraints", &plan["technical_constraints"]);
    list(out, "Success criteria", &plan["success_criteria"]);
}

fn list(out: &mut String, heading: &str, items: &Value) {
    let Some(items) = items.as_array().filter(|i| !i.is_empty()) else { return };
    let _ = writeln!(out, "\n**{heading}:**");
    for item in items {
        let _ = writeln!(out, "- {}", item.as_str().unwrap_or(""));
    }
}

/// Every node below the root, managers as headings and agents as entries.
fn delivered(out: &mut String, nodes: &[NodeRow]) {
    if nodes.len() < 2 {
        return;
    }
    out.push_str("\n## Delivered\n");
    for node in &nodes[1..] {
        if node.kind == "orchestrator" {
            let _ = writeln!(out, "\n### {} — {}", node.title, node.status);
        } else {
            agent(out, node);
        }
    }
}

fn agent(out: &mut String, node: &NodeRow) {
    let retries = node.attempts.saturating_sub(1);
    let retried =
        if retries > 0 { format!(", {retries} retr{}", if retries == 1 { "y" } else { "ies" }) } else { String::new() };
    let _ = writeln!(out, "\n**{}** ({}) — {}{retried}", node.title, node.name, node.status);
    let result: Value = node.result.as_deref().and_then(|t| serde_json::from_str(t).ok()).unwrap_or_default();
    if let Some(verdict) = result.get("validation") {
        let passed = verdict["passed"].as_bool().unwrap_or(false);
        let _ = writeln!(out, "- validation: {}", if passed { "passed" } else { "failed" });
        for issue in verdict["issues"].as_array().into_iter().flatten() {
            let _ = writeln!(out, "  - {}", issue.as_str().unwrap_or(""));
        }
    }
    if let Some(error) = &node.error {
        let _ = writeln!(out, "- error: {error}");
    }
    recovery(out, &result);
    let output = match result.get("output") {
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    if !output.is_empty() {
        let excerpt: String = output.chars().take(OUTPUT_EXCERPT).collect();
        let more = if output.chars().count() > OUTPUT_EXCERPT { " …" } else { "" };
        let _ = writeln!(out, "- output: {}{more}", excerpt.replace('\n', " "));
    }
}

/// The class of the last failure and what followed it, when the result records one.
fn recovery(out: &mut String, result: &Value) {
    let Some(recovery) = result.get("recovery") else { return };
    let (class, action) = (recovery["class"].as_str().unwrap_or("?"), recovery["action"].as_str().unwrap_or("?"));
    let note = recovery["note"].as_str().map(|n| format!(" ({n})")).unwrap_or_default();
    let _ = writeln!(out, "- failure: {class}, recovery: {action}, level {}{note}", recovery["level"]);
}

fn totals(out: &mut String, nodes: &[NodeRow], usage: &[NodeUsageRow]) {
    let retries: i64 = nodes.iter().filter(|n| n.kind == "worker").map(|n| n.attempts.saturating_sub(1)).sum();
    let (mut input, mut output, mut cost, mut calls) = (0, 0, 0.0, 0);
    for u in usage {
        (input, output, cost, calls) =
            (input + u.input_tokens, output + u.output_tokens, cost + u.cost, calls + u.calls);
    }
    let agents = nodes.iter().filter(|n| n.kind == "worker").count();
    let _ = writeln!(
        out,
        "\n## Totals\n- agents: {agents}, retries: {retries}\n- model calls: {calls}\n- tokens: {input} in / {output} out\n- cost: {cost:.4}"
    );
}
