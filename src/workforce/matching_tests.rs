use serde_json::json;

use super::*;
use crate::domain::staffing::Preference;

fn roster(agents: &[serde_json::Value]) -> BTreeMap<String, Member> {
    agents
        .iter()
        .map(|a| {
            let mut value = a.clone();
            value["run"] = json!({"type": "command", "argv": ["true"]});
            let spec: AgentSpec = serde_json::from_value(value).unwrap();
            (
                spec.name.clone(),
                Member {
                    spec: Arc::new(spec),
                    created_ms: 0,
                    updated_ms: 0,
                    running: 0,
                    served: 0,
                    share: None,
                    target: None,
                },
            )
        })
        .collect()
}

fn delegate(require: &[&str]) -> DelegateSpec {
    DelegateSpec { require: require.iter().map(ToString::to_string).collect(), ..DelegateSpec::default() }
}

fn chosen(pick: Pick) -> String {
    match pick {
        Pick::Chosen { agent, .. } => agent,
        Pick::Wait(why) => panic!("waits: {why}"),
    }
}

#[test]
fn requirements_filter_and_load_spreads() {
    let mut members = roster(&[
        json!({"name": "go", "capabilities": ["lang=go"], "concurrency": 2}),
        json!({"name": "rust-a", "capabilities": ["lang=rust"], "concurrency": 2}),
        json!({"name": "rust-b", "capabilities": ["lang=rust"], "concurrency": 2}),
    ]);
    let ask = delegate(&["lang=rust"]);
    let ask = Ask { delegate: Some(&ask), ..Ask::default() };
    let mut taken = Vec::new();
    for _ in 0..4 {
        let agent = chosen(pick(&members, &ask));
        let member = members.get_mut(&agent).unwrap();
        (member.running, member.served) = (member.running + 1, member.served + 1);
        taken.push(agent);
    }
    assert_eq!(taken, ["rust-a", "rust-b", "rust-a", "rust-b"]);
    let Pick::Wait(why) = pick(&members, &ask) else { panic!("both are full") };
    assert!(why.contains("busy or paused"), "{why}");
}

#[test]
fn preferences_weigh_against_load() {
    let mut members = roster(&[
        json!({"name": "junior", "capabilities": ["level=1"], "concurrency": 4}),
        json!({"name": "senior", "capabilities": ["level=3"], "concurrency": 4}),
    ]);
    let prefer =
        Preference { label: "level".into(), op: crate::domain::staffing::Op::Ge, value: Some(json!(3)), weight: 50 };
    let spec = DelegateSpec { prefer: vec![prefer], ..DelegateSpec::default() };
    let ask = Ask { delegate: Some(&spec), ..Ask::default() };
    assert_eq!(chosen(pick(&members, &ask)), "senior");
    // Half loaded, the senior's 50 points are spent: a tie, which the junior wins on tasks served.
    members.get_mut("senior").unwrap().running = 2;
    members.get_mut("senior").unwrap().served = 2;
    assert_eq!(chosen(pick(&members, &ask)), "junior");
}

fn company() -> BTreeMap<String, Member> {
    roster(&[
        json!({"name": "cto"}),
        json!({"name": "lead", "reports_to": "cto"}),
        json!({"name": "dev", "reports_to": "lead", "capabilities": ["sql"], "concurrency": 1}),
        json!({"name": "outsider", "capabilities": ["sql"]}),
    ])
}

#[test]
fn named_and_subordinates() {
    let mut members = company();
    assert_eq!(chosen(pick(&members, &Ask { named: Some("lead"), ..Ask::default() })), "lead");
    assert!(matches!(pick(&members, &Ask { named: Some("ghost"), ..Ask::default() }), Pick::Wait(_)));

    let mut spec = delegate(&["sql"]);
    spec.scope = Scope::Subordinates;
    let under_cto = Ask { delegate: Some(&spec), boss: Some("cto"), ..Ask::default() };
    assert_eq!(chosen(pick(&members, &under_cto)), "dev", "the outsider is not in the CTO's line");
    assert!(matches!(pick(&members, &Ask { boss: None, ..under_cto }), Pick::Wait(_)));
    members.get_mut("dev").unwrap().running = 1;
    assert!(matches!(pick(&members, &under_cto), Pick::Wait(_)), "the only subordinate is full");
}

#[test]
fn sticky_and_paused() {
    let mut members = company();
    members.get_mut("dev").unwrap().running = 1;
    let mut sticky = delegate(&["sql"]);
    sticky.sticky = true;
    let back = Ask { delegate: Some(&sticky), sticky_to: Some("dev"), ..Ask::default() };
    assert!(matches!(pick(&members, &back), Pick::Wait(why) if why.contains("sticky")));
    members.get_mut("dev").unwrap().running = 0;
    assert_eq!(chosen(pick(&members, &back)), "dev");

    let mut paused = (*members["dev"].spec).clone();
    paused.status = AgentStatus::Paused;
    members.get_mut("dev").unwrap().spec = Arc::new(paused);
    assert_eq!(chosen(pick(&members, &back)), "outsider", "a paused agent gets no new work, sticky or not");
}
