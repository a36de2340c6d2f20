//! The budget accounting checked exactly: allocation and reclamation, bubbling up, refusals,
//! top-ups, idempotent keys, warnings, and concurrent calls against one envelope.

use std::sync::{Arc, Mutex};

use super::*;

const COST: Limit = Limit { micros: Some(1_000_000), tokens: None };

/// Every open envelope's books balance: allocated = available + reserved + spent + held.
fn balanced(budgets: &Budgets) {
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
    let mut budgets = Budgets::new(COST, OnExhausted::Fail);
    let grant = Grant::Amount(Limit { micros: Some(300_000), tokens: None });
    budgets.open(1, 0, grant, OnExhausted::Fail).expect("fits");
    budgets.open(2, 0, Grant::Share(0.5), OnExhausted::Fail).expect("half of what is left");
    assert_eq!(budgets.books_of(2).map(|b| b.allocated.micros), Some(Some(350_000)));
    assert_eq!(budgets.available(0).micros, Some(350_000));
    budgets.reserve((1, 1, 1), Amount::new(100_000, 0)).expect("covered");
    budgets.settle((1, 1, 1), Amount::new(40_000, 120));
    balanced(&budgets);
    assert_eq!(budgets.close(1), Some(Amount::new(260_000, 0)), "tokens are not limited: nothing to give back");
    assert_eq!(budgets.available(0).micros, Some(610_000), "1,000,000 − 350,000 held − 40,000 spent");
    assert_eq!(budgets.books_of(0).map(|b| b.spent.micros), Some(40_000));
    balanced(&budgets);
}

#[test]
fn spending_bubbles_up_three_levels_and_drawing_nodes_charge_their_ancestor() {
    let mut budgets = Budgets::new(COST, OnExhausted::Fail);
    budgets.open(1, 0, Grant::Amount(Limit { micros: Some(500_000), tokens: None }), OnExhausted::Fail).expect("1");
    budgets.open(2, 1, Grant::Amount(Limit { micros: Some(200_000), tokens: None }), OnExhausted::Fail).expect("2");
    budgets.open(3, 2, Grant::Draw, OnExhausted::Fail).expect("3 draws on 2");
    budgets.reserve((3, 1, 1), Amount::new(50_000, 0)).expect("from 2");
    assert_eq!(budgets.books_of(2).map(|b| b.reserved.micros), Some(50_000));
    budgets.settle((3, 1, 1), Amount::new(30_000, 0));
    assert_eq!(budgets.close(3), None, "no envelope of its own");
    budgets.close(2);
    assert_eq!(budgets.books_of(1).map(|b| b.spent.micros), Some(30_000));
    budgets.close(1);
    assert_eq!(budgets.books_of(0).map(|b| b.spent.micros), Some(30_000));
    assert_eq!(budgets.available(0).micros, Some(970_000));
    balanced(&budgets);
}

#[test]
fn a_call_that_cannot_be_covered_is_refused_or_topped_up_from_the_ancestors() {
    let mut budgets = Budgets::new(COST, OnExhausted::Fail);
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
    let mut budgets = Budgets::new(tokens, OnExhausted::Fail);
    budgets.open(1, 0, Grant::Amount(Limit { micros: Some(5), tokens: None }), OnExhausted::AskParent).expect("1");
    budgets.reserve((1, 1, 1), Amount::new(0, 800)).expect("drawn from the job's tokens");
    assert!(budgets.reserve((1, 1, 2), Amount::new(0, 300)).is_err(), "the job has 200 tokens left");
}

#[test]
fn asking_again_for_a_key_or_settling_it_twice_changes_nothing() {
    let mut budgets = Budgets::new(COST, OnExhausted::Fail);
    budgets.reserve((0, 1, 1), Amount::new(10_000, 0)).expect("first");
    budgets.reserve((0, 1, 1), Amount::new(10_000, 0)).expect("the same reservation");
    assert_eq!(budgets.books_of(0).map(|b| b.reserved.micros), Some(10_000));
    budgets.settle((0, 1, 1), Amount::new(7_000, 0));
    budgets.settle((0, 1, 1), Amount::new(7_000, 0));
    assert_eq!(budgets.books_of(0).map(|b| b.spent.micros), Some(7_000), "charged once");
    budgets.reserve((0, 2, 1), Amount::new(10_000, 0)).expect("an attempt that dies");
    budgets.close(0);
    assert_eq!(budgets.books_of(0).map(|b| b.reserved.micros), Some(0), "released when the node ends");
}

#[test]
fn each_warning_level_is_reported_once() {
    let mut budgets = Budgets::new(COST, OnExhausted::Fail);
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
    assert_eq!(most_a_call_costs(4_000, 500, (3.0, 15.0)), Amount::new(19_500, 4_500));
    assert_eq!(most_a_call_costs(1, 1, (0.1, 0.1)), Amount::new(1, 2), "rounded up, never down");
}

#[test]
fn a_hundred_concurrent_calls_against_an_envelope_for_fifty_make_exactly_fifty() {
    let budgets =
        Arc::new(Mutex::new(Budgets::new(Limit { micros: Some(50 * 1_000), tokens: None }, OnExhausted::Fail)));
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
