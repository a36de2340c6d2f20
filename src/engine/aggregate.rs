//! Aggregation (SPEC §2.7): how an orchestrator's result is made from its children's.
//!
//! `collect` keeps every child with its status; `merge`, `sum` and `concat` combine the
//! results of the children that succeeded, so with `on_child_failure: continue` a failed
//! orchestrator still carries the partial aggregate of what did work. Anything that could
//! not be combined cleanly (a merge conflict, a non-number in a sum) is returned as a
//! warning, stored with the node, rather than failing the node.

use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use crate::domain::{json_text, Aggregate, JsonText, NodeStatus};

/// One child as aggregation sees it. The result is handed over, not borrowed: once its
/// parent has aggregated it, a child's result lives only inside the parent's, so a tree's
/// results are held once in memory rather than once per level above them.
pub struct ChildOutcome<'a> {
    pub name: &'a str,
    pub status: NodeStatus,
    pub result: Option<JsonText>,
}

impl ChildOutcome<'_> {
    /// The result parsed, for the modes that look inside it.
    fn value(&self) -> Option<Value> {
        self.result.as_deref().and_then(|text| serde_json::from_str(text.get()).ok())
    }
}

/// Combines the children's outcomes; returns the result and any warnings.
pub fn aggregate(mode: Aggregate, children: Vec<ChildOutcome<'_>>) -> (JsonText, Vec<String>) {
    let mut warnings = Vec::new();
    let value = match mode {
        Aggregate::Collect => return (collect(&children), warnings),
        Aggregate::Merge => merge(succeeded(children), &mut warnings),
        Aggregate::Sum => sum(succeeded(children), &mut warnings),
        Aggregate::Concat => concat(succeeded(children), &mut warnings),
    };
    (json_text(&value), warnings)
}

fn succeeded(children: Vec<ChildOutcome<'_>>) -> impl Iterator<Item = ChildOutcome<'_>> {
    children.into_iter().filter(|c| c.status == NodeStatus::Succeeded)
}

fn merge<'a>(children: impl Iterator<Item = ChildOutcome<'a>>, warnings: &mut Vec<String>) -> Value {
    let mut merged = Map::new();
    for child in children {
        match child.value() {
            Some(Value::Object(object)) => merge_into(&mut merged, object, "", warnings),
            Some(Value::Null) | None => {}
            Some(_) => warnings.push(format!("merge: result of '{}' is not an object; skipped", child.name)),
        }
    }
    Value::Object(merged)
}

/// One child in a `collect` result.
#[derive(Serialize)]
struct Collected<'a> {
    name: &'a str,
    status: &'static str,
    result: Option<&'a RawValue>,
}

/// `[{name, status, result}]` for every child: the children's texts joined, never parsed.
fn collect(children: &[ChildOutcome<'_>]) -> JsonText {
    let entries: Vec<Collected<'_>> = children
        .iter()
        .map(|c| Collected { name: c.name, status: c.status.as_str(), result: c.result.as_deref() })
        .collect();
    json_text(&entries)
}

fn concat<'a>(children: impl Iterator<Item = ChildOutcome<'a>>, warnings: &mut Vec<String>) -> Value {
    let mut text = String::new();
    for child in children {
        match child.value() {
            Some(Value::String(s)) => text.push_str(&s),
            Some(Value::Null) | None => {}
            Some(other) => {
                warnings.push(format!("concat: result of '{}' is not a string; its JSON is used", child.name));
                text.push_str(&other.to_string());
            }
        }
    }
    Value::String(text)
}

/// Deep-merges `from` into `into`; on a conflict the later value wins and the path is noted.
fn merge_into(into: &mut Map<String, Value>, from: Map<String, Value>, prefix: &str, warnings: &mut Vec<String>) {
    for (key, value) in from {
        let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        match (into.get_mut(&key), value) {
            (Some(Value::Object(existing)), Value::Object(incoming)) => merge_into(existing, incoming, &path, warnings),
            (Some(existing), value) if *existing != value => {
                warnings.push(format!("merge conflict at '{path}': the later sibling's value wins"));
                *existing = value;
            }
            (Some(_), _) => {}
            (None, value) => {
                into.insert(key, value);
            }
        }
    }
}

fn sum<'a>(children: impl Iterator<Item = ChildOutcome<'a>>, warnings: &mut Vec<String>) -> Value {
    let mut integer: i64 = 0;
    let mut float: f64 = 0.0;
    let mut any_float = false;
    for child in children {
        match child.value() {
            Some(Value::Number(n)) => match n.as_i64().and_then(|i| integer.checked_add(i)) {
                Some(total) if !any_float => integer = total,
                _ => {
                    any_float = true;
                    float += n.as_f64().unwrap_or(0.0);
                }
            },
            Some(Value::Null) | None => {}
            Some(_) => warnings.push(format!("sum: result of '{}' is not a number; skipped", child.name)),
        }
    }
    if any_float {
        json!(float + integer as f64)
    } else {
        json!(integer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn child<'a>(name: &'a str, status: NodeStatus, result: &Value) -> ChildOutcome<'a> {
        ChildOutcome { name, status, result: Some(json_text(result)) }
    }

    fn aggregate(mode: Aggregate, children: Vec<ChildOutcome<'_>>) -> (Value, Vec<String>) {
        let (text, warnings) = super::aggregate(mode, children);
        (serde_json::from_str(text.get()).expect("aggregation makes JSON"), warnings)
    }

    #[test]
    fn collect_keeps_every_child_with_its_status() {
        let (a, b) = (json!(1), json!("x"));
        let (value, _) = aggregate(
            Aggregate::Collect,
            vec![child("a", NodeStatus::Succeeded, &a), child("b", NodeStatus::Failed, &b)],
        );
        assert_eq!(
            value,
            json!([{"name": "a", "status": "succeeded", "result": 1}, {"name": "b", "status": "failed", "result": "x"}])
        );
    }

    #[test]
    fn collect_joins_the_childrens_texts_as_they_are() {
        let text = JsonText::from(RawValue::from_string(r#"{"b": 2,  "a": [1]}"#.to_string()).expect("json"));
        let children = vec![
            ChildOutcome { name: "a", status: NodeStatus::Succeeded, result: Some(text) },
            ChildOutcome { name: "b", status: NodeStatus::Cancelled, result: None },
        ];
        let (joined, _) = super::aggregate(Aggregate::Collect, children);
        assert_eq!(
            joined.get(),
            r#"[{"name":"a","status":"succeeded","result":{"b": 2,  "a": [1]}},{"name":"b","status":"cancelled","result":null}]"#
        );
    }

    #[test]
    fn merge_is_deep_and_later_siblings_win_with_a_recorded_conflict() {
        let (a, b) = (json!({"x": {"y": 1, "z": 2}, "k": "a"}), json!({"x": {"y": 5}, "k": "a", "n": true}));
        let (value, warnings) = aggregate(
            Aggregate::Merge,
            vec![child("a", NodeStatus::Succeeded, &a), child("b", NodeStatus::Succeeded, &b)],
        );
        assert_eq!(value, json!({"x": {"y": 5, "z": 2}, "k": "a", "n": true}));
        assert_eq!(warnings, vec!["merge conflict at 'x.y': the later sibling's value wins".to_string()]);
    }

    #[test]
    fn sum_adds_succeeded_numbers_only() {
        let (a, b, c, d) = (json!(2), json!(3), json!(100), json!(0.5));
        let ints = vec![
            child("a", NodeStatus::Succeeded, &a),
            child("b", NodeStatus::Succeeded, &b),
            child("c", NodeStatus::Failed, &c),
        ];
        assert_eq!(aggregate(Aggregate::Sum, ints).0, json!(5));
        let mixed = vec![child("a", NodeStatus::Succeeded, &a), child("d", NodeStatus::Succeeded, &d)];
        assert_eq!(aggregate(Aggregate::Sum, mixed).0, json!(2.5));
    }

    #[test]
    fn concat_joins_strings_in_sibling_order() {
        let (a, b) = (json!("ab"), json!("cd"));
        let children = vec![child("a", NodeStatus::Succeeded, &a), child("b", NodeStatus::Succeeded, &b)];
        assert_eq!(aggregate(Aggregate::Concat, children).0, json!("abcd"));
    }
}
