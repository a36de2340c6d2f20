//! `cadre plan FILE` in words: the tree a decomposition would run — managers, their agents,
//! what waits for what — and what the dry run itself cost. No I/O here.

use serde_json::Value;

use super::spend::Spend;

/// The preview (`POST /recursion/plan`'s answer) as lines.
pub(super) fn lines(preview: &Value) -> Vec<String> {
    let tree = &preview["tree"];
    let estimate = &preview["estimate"];
    let mut out = vec![format!(
        "{}: {} managers, {} agents, {} subtasks; at least {} model calls to run it",
        text(&tree["title"]).unwrap_or_else(|| text(&tree["name"]).unwrap_or_default()),
        estimate["managers"],
        estimate["agents"],
        estimate["subtasks"],
        estimate["calls"],
    )];
    for manager in tree["children"].as_array().into_iter().flatten() {
        out.push(format!("  {}{}", named(manager), after(manager)));
        for agent in manager["children"].as_array().into_iter().flatten() {
            let tasks =
                agent["description"].as_str().map_or(0, |d| d.lines().filter(|l| l.starts_with("TASK ")).count());
            out.push(format!("    {} — {tasks} task(s){}", named(agent), after(agent)));
        }
    }
    if let Some(spend) = Spend::from_value(&preview["usage"]) {
        out.push(format!("the breakdown itself: {}", spend.line()));
    }
    out
}

fn text(value: &Value) -> Option<String> {
    value.as_str().map(str::to_string)
}

fn named(node: &Value) -> String {
    let name = text(&node["name"]).unwrap_or_default();
    match text(&node["title"]) {
        Some(title) if title != name => format!("{name} ({title})"),
        _ => name,
    }
}

fn after(node: &Value) -> String {
    let deps: Vec<&str> = node["depends_on"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    if deps.is_empty() {
        String::new()
    } else {
        format!(", after {}", deps.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn the_tree_reads_as_managers_over_agents_with_their_order_and_cost() {
        let preview = json!({
            "tree": {"name": "project", "title": "Chirp", "children": [
                {"name": "database", "title": "Database manager", "children": [
                    {"name": "table_creation-1", "title": "Table creation (part 1)",
                     "description": "TASK 1/2: Users\n…\nTASK 2/2: Posts\n"}]},
                {"name": "backend", "title": "Backend manager", "depends_on": ["database"], "children": [
                    {"name": "api_endpoints", "title": "Api endpoints", "description": "TASK 1/1: POST /posts"}]}]},
            "estimate": {"managers": 2, "agents": 2, "subtasks": 3, "nodes": 5, "calls": 2},
            "usage": {"input_tokens": 1200, "output_tokens": 300, "cached_tokens": 0, "cost": 0.0081, "calls": 2}
        });
        assert_eq!(
            super::lines(&preview),
            [
                "Chirp: 2 managers, 2 agents, 3 subtasks; at least 2 model calls to run it",
                "  database (Database manager)",
                "    table_creation-1 (Table creation (part 1)) — 2 task(s)",
                "  backend (Backend manager), after database",
                "    api_endpoints (Api endpoints) — 1 task(s)",
                "the breakdown itself: tokens 1,200 in / 300 out · cost 0.0081 · 2 calls",
            ]
        );
    }
}
