//! The organisation chart: the registry as a tree by `reports_to`, ready for D3's
//! `d3.hierarchy` (one root, `children` everywhere), each agent with its status, live load
//! and success rate.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::matching::Member;

/// One agent in the chart.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrgNode {
    pub name: String,
    pub title: Option<String>,
    pub role: Option<String>,
    pub department: Option<String>,
    /// `active`, `paused`, `retired`.
    pub status: String,
    /// Tasks it holds now.
    pub running: u32,
    pub concurrency: u32,
    /// Succeeded over finished, all time; `null` before its first task ended.
    pub success_rate: Option<f64>,
    /// Tasks that have ended, all time.
    pub finished: u64,
    #[schema(no_recursion)]
    pub children: Vec<OrgNode>,
}

/// The whole chart: a root named `organisation` whose children are the agents who report
/// to no one.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrgChart {
    pub name: String,
    pub children: Vec<OrgNode>,
}

/// The chart of `members`; `ended` gives each agent's (succeeded, failed) tasks.
pub fn chart(members: &[Member], ended: &BTreeMap<String, (u64, u64)>) -> OrgChart {
    let mut below: BTreeMap<Option<&str>, Vec<&Member>> = BTreeMap::new();
    let names: Vec<&str> = members.iter().map(|m| m.spec.name.as_str()).collect();
    for member in members {
        // A manager missing from the list (never so in a stored registry) puts the agent at the top.
        let manager = member.spec.reports_to.as_deref().filter(|m| names.contains(m));
        below.entry(manager).or_default().push(member);
    }
    OrgChart { name: "organisation".into(), children: level(None, &below, ended) }
}

fn level(
    manager: Option<&str>,
    below: &BTreeMap<Option<&str>, Vec<&Member>>,
    ended: &BTreeMap<String, (u64, u64)>,
) -> Vec<OrgNode> {
    let Some(members) = below.get(&manager) else { return Vec::new() };
    members
        .iter()
        .map(|m| {
            let (succeeded, failed) = ended.get(&m.spec.name).copied().unwrap_or_default();
            let finished = succeeded + failed;
            OrgNode {
                name: m.spec.name.clone(),
                title: m.spec.title.clone(),
                role: m.spec.role.clone(),
                department: m.spec.department.clone(),
                status: m.spec.status.as_str().into(),
                running: m.running,
                concurrency: m.spec.concurrency,
                success_rate: (finished > 0).then(|| succeeded as f64 / finished as f64),
                finished,
                children: level(Some(&m.spec.name), below, ended),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;

    #[test]
    fn the_chart_follows_reports_to() {
        let member = |name: &str, boss: Option<&str>| Member {
            spec: Arc::new(
                serde_json::from_value(
                    json!({"name": name, "reports_to": boss, "run": {"type": "command", "argv": ["x"]}}),
                )
                .unwrap(),
            ),
            created_ms: 0,
            updated_ms: 0,
            running: 1,
            served: 0,
            share: None,
            target: None,
        };
        let members =
            [member("ceo", None), member("cto", Some("ceo")), member("dev", Some("cto")), member("cfo", Some("ceo"))];
        let ended = BTreeMap::from([("dev".to_string(), (3, 1))]);
        let chart = chart(&members, &ended);
        let ceo = &chart.children[0];
        assert_eq!((chart.children.len(), ceo.name.as_str(), ceo.children.len()), (1, "ceo", 2));
        let dev = &ceo.children[0].children[0];
        assert_eq!((dev.name.as_str(), dev.success_rate, dev.finished), ("dev", Some(0.75), 4));
    }
}
