//! The job plans the benchmarks submit, built by moving each subtree into its parent
//! (`json!` would copy each subtree once per level above it).

use serde_json::{json, Value};

/// One root with `leaves` `noop` workers.
pub fn flat(leaves: usize) -> Value {
    flat_with(leaves, &json!({"type": "noop"}))
}

/// One root with `leaves` workers that each do `run`.
pub fn flat_with(leaves: usize, run: &Value) -> Value {
    let children = (0..leaves).map(|i| json!({"name": format!("n{i}"), "run": run})).collect();
    job(format!("flat {leaves}"), json!({}), orchestrator("root".into(), children))
}

/// Root → `fan_out` children each, `levels` deep, `noop` leaves.
pub fn tree(levels: u32, fan_out: usize) -> Value {
    fn node(name: String, below: u32, fan_out: usize) -> Value {
        if below == 0 {
            return leaf(name);
        }
        let children = (0..fan_out).map(|i| node(format!("{name}.{i}"), below - 1, fan_out)).collect();
        orchestrator(name, children)
    }
    job("tree".into(), json!({"max_depth": levels}), node("root".into(), levels, fan_out))
}

fn job(request: String, config: Value, plan: Value) -> Value {
    let mut job = serde_json::Map::new();
    job.insert("request".into(), Value::String(request));
    job.insert("config".into(), config);
    job.insert("plan".into(), plan);
    Value::Object(job)
}

fn leaf(name: String) -> Value {
    json!({"name": name, "run": {"type": "noop"}})
}

/// Built by moving the children in (`json!` would copy each subtree once per level above it).
fn orchestrator(name: String, children: Vec<Value>) -> Value {
    let mut node = serde_json::Map::new();
    node.insert("name".into(), Value::String(name));
    node.insert("children".into(), Value::Array(children));
    Value::Object(node)
}
