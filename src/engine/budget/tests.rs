//! The budget accounting checked exactly: allocation and reclamation, bubbling up, refusals,
//! top-ups, idempotent keys, warnings, and concurrent calls against one envelope.

use std::sync::{Arc, Mutex};

use super::*;
use crate::llm::Ceiling;

const COST: Limit = Limit { micros: Some(1_000_000), tokens: None };

/// Every open envelope's books balance: allocated = available + reserved + spent + held.
fn balanced(budgets: &Budgets<usize>) {
    for (index, envelope) in &budgets.envelopes {
        let b = &envelope.books;
        let available = budgets.available(*index);
        if let (Some(allocated), Some(left)) = (b.allocated.micros, available.micros) {
            assert_eq!(allocated, left + b.reserved.micros + b.spent.micros + b.held.micros, "envelope {index}");
        }
    }
}

#[test]
fn a_childs_envelope_is_carved_out_and_what_it_did_not_spend_goes_back() {
    let mut budgets = Budgets::new(0, COST, OnExhausted::Fail);
    let grant = Grant::Amount(Limit { micros: Some(300_000), tokens: None });
    budgets.open(1, 0, grant, OnExhausted::Fail).expect("fits");
    budgets.open(2, 0, Grant::Share(0.5), OnExhausted::Fail).expect("half of what is left");
    assert_eq!(budgets.books_of(2).map(|b| b.allocated.micros), Some(Some(350_000)));
    assert_eq!(budgets.available(0).micros, Some(350_000));
    budgets.reserve((1, 1, 1), Amount::new(100_000, 0)).expect("covered");
    budgets.settle((1, 1, 1), Amount::new(40_000, 120));
    balanced(&budgets);
    let closed = budgets.close(1);
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0].1.returned, Amount::new(260_000, 0), "tokens are not limited: nothing to give back");
    assert_eq!(budgets.available(0).micros, Some(610_000), "1,000,000 − 350,000 held − 40,000 spent");
    assert_eq!(budgets.books_of(0).map(|b| b.spent.micros), Some(40_000));
    balanced(&budgets);
}

#[test]
fn spending_bubbles_up_three_levels_as_it_happens_and_drawing_nodes_charge_their_ancestor() {
    let mut budgets = Budgets::new(0, COST, OnExhausted::Fail);
    budgets.open(1, 0, Grant::Amount(Limit { micros: Some(500_000), tokens: None }), OnExhausted::Fail).expect("1");
    budgets.open(2, 1, Grant::Amount(Limit { micros: Some(200_000), tokens: None }), OnExhausted::Fail).expect("2");
    budgets.open(3, 2, Grant::Draw, OnExhausted::Fail).expect("3 draws on 2");
    budgets.reserve((3, 1, 1), Amount::new(50_000, 0)).expect("from 2");
    assert_eq!(budgets.books_of(2).map(|b| b.reserved.micros), Some(50_000));
    budgets.settle((3, 1, 1), Amount::new(30_000, 0));
    let spent = |budgets: &Budgets<usize>, node| budgets.books_of(node).map(|b| b.spent.micros);
    assert_eq!(
        (spent(&budgets, 2), spent(&budgets, 1), spent(&budgets, 0)),
        (Some(30_000), Some(30_000), Some(30_000))
    );
    assert_eq!(budgets.available(0).micros, Some(500_000), "what node 1 holds is not the job's to give");
    balanced(&budgets);
    assert!(budgets.close(3).is_empty(), "no envelope of its own");
    budgets.close(2);
    assert_eq!(budgets.available(1).micros, Some(470_000), "node 2's unspent 170,000 went back to node 1");
    budgets.close(1);
    assert_eq!(spent(&budgets, 0), Some(30_000), "counted once");
    assert_eq!(budgets.available(0).micros, Some(970_000));
    balanced(&budgets);
}

#[test]
fn closing_a_node_closes_the_envelopes_still_open_below_it_first() {
    let mut budgets = Budgets::new(0, COST, OnExhausted::Fail);
    budgets.open(1, 0, Grant::Amount(Limit { micros: Some(500_000), tokens: None }), OnExhausted::Fail).expect("1");
    budgets.open(2, 1, Grant::Share(0.5), OnExhausted::Fail).expect("2");
    budgets.reserve((2, 1, 1), Amount::new(10_000, 0)).expect("reserved");
    let closed: Vec<usize> = budgets.close(1).into_iter().map(|(node, _, _)| node).collect();
    assert_eq!(closed, [2, 1]);
    assert_eq!(budgets.available(0), COST, "everything came back");
    balanced(&budgets);
}

#[test]
fn books_rebuilt_from_what_was_stored_match_the_live_ones() {
    let mut live = Budgets::new(0, COST, OnExhausted::Fail);
    live.open(1, 0, Grant::Share(0.4), OnExhausted::AskParent).expect("1");
    live.open(2, 1, Grant::Draw, OnExhausted::Fail).expect("2");
    live.open(3, 0, Grant::Amount(Limit { micros: Some(100_000), tokens: None }), OnExhausted::Fail).expect("3");
    live.reserve((2, 1, 1), Amount::new(500_000, 0)).expect("topped up from the job");
    live.settle((2, 1, 1), Amount::new(450_000, 0));
    live.charge(3, Amount::new(20_000, 0));
    live.close(3);
    live.reserve((2, 1, 2), Amount::new(1_000, 0)).expect("in flight when the process dies");
    let stored = Stored {
        links: vec![(1, 0), (2, 1), (3, 0)],
        open: vec![(1, live.books_of(1).expect("open").allocated, OnExhausted::AskParent)],
        closed: vec![3],
        spending: vec![(2, Amount::new(450_000, 0)), (3, Amount::new(20_000, 0))],
    };
    let restored = Budgets::restore(0, COST, stored);
    live.release((2, 1, 2));
    for node in [0, 1] {
        assert_eq!(
            restored.books_of(node).map(|b| (b.allocated, b.spent)),
            live.books_of(node).map(|b| (b.allocated, b.spent))
        );
        assert_eq!(restored.available(node), live.available(node), "node {node}");
    }
    assert!(restored.books_of(3).is_none());
    balanced(&restored);
}

#[test]
fn a_call_that_cannot_be_covered_is_refused_or_topped_up_from_the_ancestors() {
    let mut budgets = Budgets::new(0, COST, OnExhausted::Fail);
    let small = Grant::Amount(Limit { micros: Some(100_000), tokens: None });
    budgets.open(1, 0, small, OnExhausted::Fail).expect("1");
    let refused = budgets.reserve((1, 1, 1), Amount::new(150_000, 0)).expect_err("over its envelope");
    assert_eq!((refused.envelope, refused.available.micros), (1, Some(100_000)));
    budgets.open(2, 1, Grant::Amount(Limit { micros: Some(50_000), tokens: None }), OnExhausted::AskParent).expect("2");
    budgets.reserve((2, 1, 1), Amount::new(80_000, 0)).expect("topped up by 30,000 from node 1");
    assert_eq!(budgets.books_of(2).map(|b| b.allocated.micros), Some(Some(80_000)));
    assert_eq!(budgets.available(1).micros, Some(20_000));
    balanced(&budgets);
    let beyond = budgets.reserve((2, 1, 2), Amount::new(30_000, 0)).expect_err("node 1 asks no one");
    assert_eq!(beyond.envelope, 2);
    let spawn = budgets.open(3, 0, Grant::Amount(Limit { micros: Some(2_000_000), tokens: None }), OnExhausted::Fail);
    assert_eq!(spawn.expect_err("more than the job has").needed, Amount::new(2_000_000, 0));
}

#[test]
fn a_dimension_a_grant_leaves_out_still_obeys_the_ancestors_limit() {
    let tokens = Limit { micros: None, tokens: Some(1_000) };
    let mut budgets = Budgets::new(0, tokens, OnExhausted::Fail);
    budgets.open(1, 0, Grant::Amount(Limit { micros: Some(5), tokens: None }), OnExhausted::AskParent).expect("1");
    budgets.reserve((1, 1, 1), Amount::new(0, 800)).expect("drawn from the job's tokens");
    assert!(budgets.reserve((1, 1, 2), Amount::new(0, 300)).is_err(), "the job has 200 tokens left");
}

#[test]
fn asking_again_for_a_key_or_settling_it_twice_changes_nothing() {
    let mut budgets = Budgets::new(0, COST, OnExhausted::Fail);
    budgets.reserve((0, 1, 1), Amount::new(10_000, 0)).expect("first");
    budgets.reserve((0, 1, 1), Amount::new(10_000, 0)).expect("the same reservation");
    assert_eq!(budgets.books_of(0).map(|b| b.reserved.micros), Some(10_000));
    budgets.settle((0, 1, 1), Amount::new(7_000, 0));
    budgets.settle((0, 1, 1), Amount::new(7_000, 0));
    assert_eq!(budgets.books_of(0).map(|b| b.spent.micros), Some(7_000), "charged once");
    budgets.reserve((0, 2, 1), Amount::new(10_000, 0)).expect("an attempt that dies");
    assert!(budgets.close(0).is_empty(), "the job's envelope stays");
    assert_eq!(budgets.books_of(0).map(|b| b.reserved.micros), Some(0), "released when the node ends");
}

#[test]
fn each_warning_level_is_reported_once() {
    let mut budgets = Budgets::new(0, COST, OnExhausted::Fail);
    let crossed: Vec<u8> = budgets.charge(0, Amount::new(850_000, 0)).iter().map(|c| c.percent).collect();
    assert_eq!(crossed, [80]);
    assert!(budgets.charge(0, Amount::new(10_000, 0)).is_empty());
    let crossed: Vec<u8> = budgets.charge(0, Amount::new(200_000, 0)).iter().map(|c| c.percent).collect();
    assert_eq!(crossed, [90, 100]);
    assert!(budgets.charge(0, Amount::new(1, 0)).is_empty());
}

#[test]
fn a_calls_reservation_is_never_less_than_it_can_cost() {
    // 4,000 bytes in, at most 500 out, at 3 and 15 per million tokens.
    let ceiling = |request_bytes, max_tokens, input_per_mtok, output_per_mtok| {
        most_a_call_costs(&Ceiling { request_bytes, max_tokens, input_per_mtok, output_per_mtok })
    };
    assert_eq!(ceiling(4_000, 500, 3.0, 15.0), Amount::new(19_500, 4_500));
    assert_eq!(ceiling(1, 1, 0.1, 0.1), Amount::new(1, 2), "rounded up, never down");
}

#[test]
fn a_hundred_concurrent_calls_against_an_envelope_for_fifty_make_exactly_fifty() {
    let budgets =
        Arc::new(Mutex::new(Budgets::new(0, Limit { micros: Some(50 * 1_000), tokens: None }, OnExhausted::Fail)));
    let threads: Vec<_> = (0..100u32)
        .map(|turn| {
            let budgets = budgets.clone();
            std::thread::spawn(move || {
                let reserved = budgets.lock().expect("budgets").reserve((0, 1, turn), Amount::new(1_000, 0)).is_ok();
                if reserved {
                    budgets.lock().expect("budgets").settle((0, 1, turn), Amount::new(1_000, 0));
                }
                reserved
            })
        })
        .collect();
    let made = threads.into_iter().map(|t| t.join().expect("thread")).filter(|&ok| ok).count();
    assert_eq!(made, 50);
    let budgets = budgets.lock().expect("budgets");
    assert_eq!(budgets.books_of(0).map(|b| b.spent.micros), Some(50_000), "never more than the envelope");
    balanced(&budgets);
}
