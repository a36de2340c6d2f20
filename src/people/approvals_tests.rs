//! The approval rules checked: N of M, refusals, timeouts and escalation up the levels.

use super::*;

fn level(owner: &str, approvers: &[&str], required: u32, timeout_ms: Option<i64>, on_timeout: OnTimeout) -> Level {
    let approvers = approvers.iter().map(ToString::to_string).collect();
    Level { owner: owner.into(), approvers, required, timeout_ms, on_timeout }
}

fn key(name: &str) -> Decider {
    Decider { name: name.into(), groups: Vec::new(), scopes: vec!["write".into()] }
}

#[test]
fn two_of_three_must_approve_and_one_rejection_ends_it() {
    let levels = vec![level("release", &["ana", "ben", "group:leads"], 2, None, OnTimeout::Reject)];
    let mut request = Request::new(levels.clone(), Some("ci".into()), false, 0);
    assert_eq!(request.decide(&key("ana"), Verdict::Approve, None, 10), Ok(State::Pending));
    assert_eq!(request.decide(&key("ana"), Verdict::Approve, None, 11), Err(Refusal::AlreadyDecided("ana".into())));
    let lead = Decider { name: "cleo".into(), groups: vec!["leads".into()], scopes: Vec::new() };
    assert_eq!(request.decide(&lead, Verdict::Approve, Some("ship it".into()), 12), Ok(State::Approved));
    assert_eq!(request.decisions.iter().map(|d| d.by.as_deref()).collect::<Vec<_>>(), [Some("ana"), Some("cleo")]);
    assert_eq!(request.decide(&key("ben"), Verdict::Reject, None, 13), Err(Refusal::Closed(State::Approved)));
    let mut rejected = Request::new(levels, None, false, 0);
    assert_eq!(rejected.decide(&key("ben"), Verdict::Reject, None, 5), Ok(State::Rejected));
}

#[test]
fn strangers_and_the_requester_may_not_approve() {
    let levels = vec![level("deploy", &["ci", "scope:admin"], 1, None, OnTimeout::Reject)];
    let mut request = Request::new(levels.clone(), Some("ci".into()), false, 0);
    assert!(matches!(request.decide(&key("eve"), Verdict::Approve, None, 1), Err(Refusal::NotAnApprover(..))));
    assert_eq!(request.decide(&key("ci"), Verdict::Approve, None, 2), Err(Refusal::OwnRequest("ci".into())));
    assert_eq!(
        request.decide(&key("ci"), Verdict::Reject, None, 3),
        Ok(State::Rejected),
        "rejecting one's own is fine"
    );
    let mut allowed = Request::new(levels.clone(), Some("ci".into()), true, 0);
    assert_eq!(allowed.decide(&key("ci"), Verdict::Approve, None, 2), Ok(State::Approved));
    let admin = Decider { name: "root".into(), groups: Vec::new(), scopes: vec!["admin".into()] };
    let mut by_admin = Request::new(levels, Some("ci".into()), false, 0);
    assert!(by_admin.check(&admin, Verdict::Approve).is_ok() && by_admin.check(&key("eve"), Verdict::Reject).is_err());
    assert_eq!(by_admin.decide(&admin, Verdict::Approve, None, 2), Ok(State::Approved));
}

#[test]
fn a_timeout_applies_its_default() {
    let approve = vec![level("a", &["ana"], 1, Some(100), OnTimeout::Approve)];
    let mut request = Request::new(approve, None, false, 0);
    assert_eq!(request.tick(99), State::Pending);
    assert_eq!(request.tick(100), State::Approved);
    assert_eq!(request.decisions[0].by, None, "the clock decided");
}

#[test]
fn an_escalation_climbs_level_by_level_each_with_its_own_timeout() {
    let chain = vec![
        level("engineer", &["ana"], 1, Some(100), OnTimeout::Escalate),
        level("tech_lead", &["ben"], 1, Some(200), OnTimeout::Escalate),
        level("job owners", &["cto"], 1, Some(300), OnTimeout::Reject),
    ];
    let mut request = Request::new(chain, None, false, 0);
    assert_eq!(request.tick(150), State::Pending);
    assert_eq!(
        (request.level, request.deadline_ms()),
        (1, Some(300)),
        "the lead's own timeout runs from the escalation"
    );
    assert!(matches!(request.decide(&key("ana"), Verdict::Approve, None, 160), Err(Refusal::NotAnApprover(..))));
    assert_eq!(request.tick(650), State::Rejected, "escalated to the owners at 300, who let it time out at 600");
    let last = request.decisions.last().expect("a decision");
    assert_eq!((last.level, last.at_ms, last.by.as_deref()), (2, 600, None));
}

#[test]
fn whoever_decides_above_is_recorded_with_the_level() {
    let chain = vec![
        level("lead", &["ben"], 1, Some(10), OnTimeout::Escalate),
        level("owners", &["cto"], 1, None, OnTimeout::Reject),
    ];
    let mut decided_above = Request::new(chain, None, false, 0);
    assert_eq!(decided_above.tick(10), State::Pending);
    assert_eq!(decided_above.decide(&key("cto"), Verdict::Approve, None, 50), Ok(State::Approved));
    assert_eq!(decided_above.decisions[0].level, 1, "who decided, and at which level");
}
