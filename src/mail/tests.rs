use super::*;

const RULES: Rules = Rules { visibility_ms: 1000, max_deliveries: 2 };

fn message(to: Uuid, priority: i64, created_ms: i64) -> MessageRow {
    MessageRow {
        id: Uuid::now_v7(),
        job_id: Uuid::nil(),
        to_node: to,
        from_node: None,
        sender: "test".into(),
        thread_id: None,
        priority,
        body: "{}".into(),
        state: PENDING.into(),
        deliveries: 0,
        visible_ms: created_ms,
        expires_ms: None,
        created_ms,
        updated_ms: created_ms,
        dead_reason: None,
    }
}

#[test]
fn priority_first_then_first_in_first_out() {
    let (office, node) = (PostOffice::default(), Uuid::now_v7());
    let sent = [(1, 10), (9, 11), (1, 12), (5, 13), (9, 14)];
    for (priority, at) in sent {
        office.post(message(node, priority, at));
    }
    let (delivered, dead) = office.take(node, 10, 100, RULES);
    let order: Vec<(i64, i64)> = delivered.iter().map(|m| (m.priority, m.created_ms)).collect();
    assert_eq!(order, [(9, 11), (9, 14), (5, 13), (1, 10), (1, 12)]);
    assert!(dead.is_empty());
    assert!(office.take(node, 10, 100, RULES).0.is_empty(), "in flight until the visibility timeout");
}

#[test]
fn unacknowledged_deliveries_come_back_then_die() {
    let (office, node) = (PostOffice::default(), Uuid::now_v7());
    let sent = message(node, 5, 0);
    office.post(sent.clone());
    assert_eq!(office.take(node, 1, 0, RULES).0[0].deliveries, 1);
    assert!(office.take(node, 1, 999, RULES).0.is_empty());
    let again = office.take(node, 1, 1000, RULES).0;
    assert_eq!((again[0].id, again[0].deliveries), (sent.id, 2), "delivered again");
    let (delivered, dead) = office.take(node, 1, 2000, RULES);
    assert!(delivered.is_empty());
    assert_eq!((dead[0].state.as_str(), dead[0].dead_reason.as_deref()), (DEAD, Some("max_deliveries")));
    assert_eq!(office.open(node), 0);
}

#[test]
fn acks_nacks_and_time_to_live() {
    let (office, node) = (PostOffice::default(), Uuid::now_v7());
    let first = message(node, 5, 0);
    office.post(first.clone());
    assert_eq!(office.ack(node, first.id, 1), Err(Refusal::NotDelivered));
    office.take(node, 1, 1, RULES);
    assert_eq!(office.nack(node, first.id, 2).unwrap().visible_ms, 2, "due again at once");
    office.take(node, 1, 2, RULES);
    assert_eq!(office.ack(node, first.id, 3).unwrap().state, ACKNOWLEDGED);
    assert_eq!(office.ack(node, first.id, 4), Err(Refusal::Unknown), "acknowledged once");

    let short = MessageRow { expires_ms: Some(50), ..message(node, 5, 0) };
    office.post(short.clone());
    assert!(office.sweep(49, RULES).is_empty());
    let dead = office.sweep(50, RULES);
    assert_eq!((dead[0].id, dead[0].dead_reason.as_deref()), (short.id, Some("ttl")));
}

#[test]
fn a_worker_reaches_its_subtree_its_siblings_subtrees_and_its_ancestors() {
    let [root, lead, other_lead, worker, sibling, nephew, cousin] = [(); 7].map(|()| Uuid::now_v7());
    let parents = HashMap::from([
        (root, None),
        (lead, Some(root)),
        (other_lead, Some(root)),
        (worker, Some(lead)),
        (sibling, Some(lead)),
        (nephew, Some(sibling)),
        (cousin, Some(other_lead)),
    ]);
    for (to, reached) in [
        (worker, true),
        (sibling, true),
        (nephew, true),
        (lead, true),
        (root, true),
        (cousin, false),
        (other_lead, false),
    ] {
        assert_eq!(reaches(&parents, worker, to), reached, "{to}");
    }
    assert!(reaches(&parents, root, cousin), "the root reaches the whole tree");
}
