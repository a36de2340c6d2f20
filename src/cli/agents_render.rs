//! What `cadre agents` prints in words, from the API's JSON: the registry as a table, one
//! agent with its performance (24 h and all time) and recent tasks, the organisation chart as
//! an indented tree (`├─`/`└─`), and the templates. Pure functions of the answers, so a
//! field the server leaves out reads as `-` rather than failing.

use serde_json::Value;

use super::spend::{cost, thousands};

/// Rows padded into columns two spaces apart (the last column unpadded).
pub(super) fn table(rows: &[Vec<String>]) -> Vec<String> {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().filter_map(|row| row.get(c)).map(|cell| cell.chars().count()).max().unwrap_or(0))
        .collect();
    rows.iter()
        .map(|row| {
            let cells: Vec<String> =
                row.iter().enumerate().map(|(c, cell)| format!("{cell:<width$}", width = widths[c])).collect();
            cells.join("  ").trim_end().to_string()
        })
        .collect()
}

/// A text field, or `-`.
fn text(value: &Value, field: &str) -> String {
    value[field].as_str().unwrap_or("-").to_string()
}

/// An agent's capabilities, comma separated (`-` for none).
fn capabilities(agent: &Value) -> String {
    let all: Vec<&str> = agent["capabilities"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    if all.is_empty() {
        "-".into()
    } else {
        all.join(",")
    }
}

/// `running/concurrency`.
fn load(running: &Value, concurrency: &Value) -> String {
    format!("{}/{}", running.as_u64().unwrap_or(0), concurrency.as_u64().unwrap_or(0))
}

/// `cadre agents list`: a header and an agent a row.
pub(super) fn agent_table(agents: &[Value]) -> Vec<String> {
    if agents.is_empty() {
        return vec!["no agents".into()];
    }
    let header = ["NAME", "TITLE", "STATUS", "LOAD", "REPORTS TO", "CAPABILITIES"];
    let mut rows = vec![header.map(String::from).to_vec()];
    rows.extend(agents.iter().map(|agent| {
        vec![
            text(agent, "name"),
            text(agent, "title"),
            text(agent, "status"),
            load(&agent["load"]["running"], &agent["load"]["concurrency"]),
            text(agent, "reports_to"),
            capabilities(agent),
        ]
    }));
    table(&rows)
}

/// A success rate as a whole percentage: `67 %`, or `-` before a task ended.
pub(super) fn percent(rate: &Value) -> String {
    rate.as_f64().map_or_else(|| "-".into(), |rate| format!("{:.0} %", rate * 100.0))
}

/// Milliseconds as seconds: `0.85 s`, `12.3 s`, or `-` for none.
pub(super) fn seconds(ms: &Value) -> String {
    match ms.as_i64() {
        Some(ms) if ms < 10_000 => format!("{:.2} s", ms as f64 / 1000.0),
        Some(ms) => format!("{:.1} s", ms as f64 / 1000.0),
        None => "-".into(),
    }
}

/// A count with separators.
fn count(value: &Value) -> String {
    thousands(value.as_i64().unwrap_or(0))
}

/// `cadre agents show`: the agent, its performance, its recent tasks.
pub(super) fn agent_lines(agent: &Value) -> Vec<String> {
    let title = agent["title"].as_str().map(|t| format!(" ({t})")).unwrap_or_default();
    let mut lines = vec![format!("{}{title} [{}]", text(agent, "name"), text(agent, "status"))];
    let place: Vec<String> = [("role", "role"), ("department", "department"), ("reports to", "reports_to")]
        .iter()
        .filter_map(|(label, field)| agent[*field].as_str().map(|v| format!("{label} {v}")))
        .collect();
    if !place.is_empty() {
        lines.push(format!("  {}", place.join(" · ")));
    }
    let runs = agent["run"]["type"].as_str().unwrap_or("?");
    let mut load = load(&agent["load"]["running"], &agent["load"]["concurrency"]);
    if let Some(share) = agent["load"]["share"].as_u64() {
        load.push_str(&format!(" (this replica may fill {share})"));
    }
    lines.push(format!("  load {load} · runs {runs} · capabilities {}", capabilities(agent)));
    lines.extend(budget_line(&agent["budget"]));
    lines.extend(performance_lines(&agent["performance"]));
    lines.extend(task_lines(&agent["recent_tasks"]));
    lines
}

/// The envelope each task gets, if the agent sets one.
fn budget_line(budget: &Value) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(value) = budget["cost"].as_f64() {
        parts.push(format!("cost {}", cost(value)));
    }
    if let Some(tokens) = budget["tokens"].as_i64() {
        parts.push(format!("tokens {}", thousands(tokens)));
    }
    (!parts.is_empty()).then(|| format!("  budget per task: {}", parts.join(" · ")))
}

/// The figures over 24 hours and all time, as a table.
pub(super) fn performance_lines(performance: &Value) -> Vec<String> {
    let header =
        ["performance", "started", "succeeded", "failed", "running", "success", "p50", "p95", "tokens", "cost"];
    let mut rows = vec![header.map(String::from).to_vec()];
    for (label, window) in [("  last 24 h", "day"), ("  all time", "all")] {
        let figures = &performance[window];
        rows.push(vec![
            label.to_string(),
            count(&figures["started"]),
            count(&figures["succeeded"]),
            count(&figures["failed"]),
            count(&figures["running"]),
            percent(&figures["success_rate"]),
            seconds(&figures["p50_ms"]),
            seconds(&figures["p95_ms"]),
            count(&figures["tokens"]),
            cost(figures["cost"].as_f64().unwrap_or(0.0)),
        ]);
    }
    table(&rows)
}

/// The recent tasks, newest first, a line each.
fn task_lines(tasks: &Value) -> Vec<String> {
    let tasks = tasks.as_array().map(Vec::as_slice).unwrap_or_default();
    if tasks.is_empty() {
        return vec!["recent tasks: none".into()];
    }
    let mut lines = vec!["recent tasks".to_string()];
    lines.extend(tasks.iter().map(task_line));
    lines
}

/// `  build [succeeded] job J · 1.20 s · why it was chosen`.
pub(super) fn task_line(task: &Value) -> String {
    let took = match (task["started_ms"].as_i64(), task["finished_ms"].as_i64()) {
        (Some(start), Some(end)) => format!(" · {}", seconds(&Value::from((end - start).max(0)))),
        _ => String::new(),
    };
    let reason = task["reason"].as_str().filter(|r| !r.is_empty()).map(|r| format!(" · {r}")).unwrap_or_default();
    format!("  {} [{}] job {}{took}{reason}", text(task, "node_name"), text(task, "status"), text(task, "job_id"))
}

/// `cadre agents org`: the agents who report to no one at the left, each one's reports
/// below it on tree branches.
pub(super) fn org_lines(chart: &Value) -> Vec<String> {
    let roots = chart["children"].as_array().map(Vec::as_slice).unwrap_or_default();
    if roots.is_empty() {
        return vec!["no agents".into()];
    }
    let mut lines = Vec::new();
    for root in roots {
        lines.push(org_label(root));
        branches(root, "", &mut lines);
    }
    lines
}

/// The reports of `node`, each on a branch under `prefix`.
fn branches(node: &Value, prefix: &str, lines: &mut Vec<String>) {
    let children = node["children"].as_array().map(Vec::as_slice).unwrap_or_default();
    for (i, child) in children.iter().enumerate() {
        let last = i + 1 == children.len();
        let (glyph, below) = if last { ("└─ ", "   ") } else { ("├─ ", "│  ") };
        lines.push(format!("{prefix}{glyph}{}", org_label(child)));
        branches(child, &format!("{prefix}{below}"), lines);
    }
}

/// `ceo (Chief executive) active 0/5 · 100 %` (the rate once a task ended).
pub(super) fn org_label(node: &Value) -> String {
    let title = node["title"].as_str().map(|t| format!(" ({t})")).unwrap_or_default();
    let rate = if node["success_rate"].is_number() {
        format!(" · {}", percent(&node["success_rate"]))
    } else {
        String::new()
    };
    let load = load(&node["running"], &node["concurrency"]);
    format!("{}{title} {} {load}{rate}", text(node, "name"), text(node, "status"))
}

/// `cadre agents templates`: each template's name and title.
pub(super) fn template_lines(templates: &[Value]) -> Vec<String> {
    if templates.is_empty() {
        return vec!["no templates".into()];
    }
    let rows: Vec<Vec<String>> = templates.iter().map(|t| vec![text(t, "name"), text(&t["agent"], "title")]).collect();
    table(&rows)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_registry_reads_as_a_table_with_load_and_capabilities() {
        let agents = [
            json!({"name": "ceo", "title": "Chief executive", "status": "active", "capabilities": [],
                   "load": {"running": 0, "concurrency": 5}}),
            json!({"name": "dev", "status": "paused", "reports_to": "ceo", "capabilities": ["lang=rust", "sql"],
                   "load": {"running": 1, "concurrency": 2}}),
        ];
        assert_eq!(
            agent_table(&agents),
            [
                "NAME  TITLE            STATUS  LOAD  REPORTS TO  CAPABILITIES",
                "ceo   Chief executive  active  0/5   -           -",
                "dev   -                paused  1/2   ceo         lang=rust,sql",
            ]
        );
        assert_eq!(agent_table(&[]), ["no agents"]);
    }

    #[test]
    fn the_org_chart_is_an_indented_tree() {
        let node = |name: &str, rate: Value, children: Vec<Value>| {
            json!({"name": name, "title": null, "status": "active", "running": 0, "concurrency": 5,
                   "success_rate": rate, "children": children})
        };
        let mut ceo = node(
            "ceo",
            json!(1.0),
            vec![
                node("cto", Value::Null, vec![node("dev", json!(0.5), vec![]), node("ops", Value::Null, vec![])]),
                node("cfo", Value::Null, vec![node("clerk", Value::Null, vec![])]),
            ],
        );
        ceo["title"] = json!("Chief executive");
        let chart = json!({"name": "organisation", "children": [ceo]});
        assert_eq!(
            org_lines(&chart),
            [
                "ceo (Chief executive) active 0/5 · 100 %",
                "├─ cto active 0/5",
                "│  ├─ dev active 0/5 · 50 %",
                "│  └─ ops active 0/5",
                "└─ cfo active 0/5",
                "   └─ clerk active 0/5",
            ]
        );
        assert_eq!(org_lines(&json!({"name": "organisation", "children": []})), ["no agents"]);
    }

    #[test]
    fn an_agent_shows_its_performance_and_recent_tasks() {
        let figures = |started: u64, rate: Value| {
            json!({"started": started, "succeeded": 2, "failed": 1, "running": 0, "success_rate": rate,
                   "p50_ms": 850, "p95_ms": 12_345, "tokens": 12_345, "cost": 0.0123})
        };
        let agent = json!({"name": "dev", "title": "Developer", "status": "active", "reports_to": "ceo",
            "capabilities": ["sql"], "run": {"type": "command"}, "load": {"running": 0, "concurrency": 2},
            "budget": {"cost": 0.5},
            "performance": {"day": figures(3, json!(0.6667)), "all": figures(1234, json!(0.6667))},
            "recent_tasks": [{"job_id": "j1", "node_name": "build", "status": "succeeded", "reason": "has sql",
                              "assigned_ms": 0, "started_ms": 1000, "finished_ms": 2500}]});
        let lines = agent_lines(&agent);
        assert_eq!(lines[0], "dev (Developer) [active]");
        assert_eq!(lines[1], "  reports to ceo");
        assert_eq!(lines[2], "  load 0/2 · runs command · capabilities sql");
        assert_eq!(lines[3], "  budget per task: cost 0.5000");
        assert!(lines[4].starts_with("performance  started  succeeded"), "{lines:#?}");
        assert_eq!(
            lines[5],
            "  last 24 h  3        2          1       0        67 %     0.85 s  12.3 s  12,345  0.0123"
        );
        assert!(lines[6].starts_with("  all time   1,234 "), "{lines:#?}");
        assert_eq!(lines[7..], ["recent tasks", "  build [succeeded] job j1 · 1.50 s · has sql"]);
        let mut clustered = agent.clone();
        clustered["load"]["share"] = json!(1);
        assert_eq!(
            agent_lines(&clustered)[2],
            "  load 0/2 (this replica may fill 1) · runs command · capabilities sql"
        );
    }

    #[test]
    fn missing_figures_read_as_dashes() {
        assert_eq!(percent(&Value::Null), "-");
        assert_eq!(seconds(&Value::Null), "-");
        let lines = performance_lines(&json!({}));
        let cells: Vec<&str> = lines[1].split_whitespace().collect();
        assert_eq!(cells, ["last", "24", "h", "0", "0", "0", "0", "-", "-", "-", "0", "0"]);
        let templates = [json!({"name": "manager", "agent": {"title": "Engineering manager"}})];
        assert_eq!(template_lines(&templates), ["manager  Engineering manager"]);
    }
}
