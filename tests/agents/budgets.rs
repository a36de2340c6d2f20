//! Budgets that follow the tree, against the scripted provider: envelopes carved out and
//! given back exactly, spending bubbling up three levels as it happens, a call refused before
//! it is sent, `ask_parent` top-ups, exactly 50 of 100 concurrent calls against an envelope
//! for 50, and a kill -9 with a reservation outstanding.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::llm_server::{openai_text, openai_tool_call, Reply, Route, ScriptedLlm};
use super::{ended, llm, llm_calls, node, run_to_end, submit_id, wait_for, Store};

/// Cost, at the scripted provider's prices (3 and 15 per million), of `input` and `output` tokens.
fn cost(input: f64, output: f64) -> f64 {
    (input * 3.0 + output * 15.0) / 1e6
}

fn close(value: &Value, expected: f64) -> bool {
    value.as_f64().is_some_and(|v| (v - expected).abs() < 1e-9)
}

#[tokio::test(flavor = "multi_thread")]
async fn envelopes_are_carved_out_of_the_parent_and_what_they_did_not_spend_goes_back() {
    let provider =
        ScriptedLlm::start(vec![Reply::ok(openai_text("a", 10, 2)), Reply::ok(openai_text("b", 10, 2))]).await;
    let mut store = Store::new(&provider.url).await;
    let server = store.start();
    let plan = json!({"name": "team", "children": [
        {"name": "a", "budget": {"cost": 0.3}, "run": llm(json!({}))},
        {"name": "b", "budget": {"share": 0.5}, "depends_on": ["a"], "run": llm(json!({}))}]});
    let job =
        run_to_end(&server, &json!({"request": "split", "config": {"budget": {"cost": 1.0}}, "plan": plan})).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let call = cost(10.0, 2.0);
    let a = &node(&job, "a")["budget"];
    assert!(close(&a["allocated"]["cost"], 0.3) && close(&a["spent"]["cost"], call), "{a}");
    assert!(close(&a["returned"]["cost"], 0.3 - call) && close(&a["reserved"]["cost"], 0.0), "{a}");
    assert_eq!(a["allocated"]["tokens"], Value::Null, "the job limits no tokens");
    // Half of what the job had left when b started: a's envelope had come back, less a's call.
    let b = &node(&job, "b")["budget"];
    let share = ((1_000_000.0 - call * 1e6) * 0.5_f64).floor() / 1e6;
    assert!(close(&b["allocated"]["cost"], share) && close(&b["returned"]["cost"], share - call), "{b}");
    let total = &job["budget"];
    assert!(close(&total["allocated"]["cost"], 1.0) && close(&total["spent"]["cost"], 2.0 * call), "{total}");
    assert!(close(&total["reserved"]["cost"], 0.0), "{total}");
}

#[tokio::test(flavor = "multi_thread")]
async fn spending_bubbles_up_three_levels_as_it_happens() {
    let nap = json!({"children": [{"name": "nap", "run": {"type": "sleep", "ms": 1500}}]});
    let provider = ScriptedLlm::start(vec![
        Reply::ok(openai_tool_call("call_1", "spawn_children", &nap)),
        Reply::ok(openai_text("rested", 10, 2)),
    ])
    .await;
    let mut store = Store::new(&provider.url).await;
    let server = store.start();
    let lead = json!({"name": "lead", "budget": {"tokens": 200_000}, "run": llm(json!({"tools": ["spawn_children"]}))});
    let plan = json!({"name": "org", "children": [{"name": "pm", "budget": {"tokens": 500_000}, "children": [lead]}]});
    let job = json!({"request": "three levels", "config": {"budget": {"tokens": 1_000_000}}, "plan": plan});
    let job_id = submit_id(&server, &job).await;
    // While the lead waits for its sub-team, its first call (50 in, 20 out) is counted by
    // its envelope, its manager's and the job's.
    let running = wait_for(&server, &job_id, |job| {
        job["tree"].to_string().contains("\"nap\"") && node(job, "lead")["budget"]["spent"]["tokens"] == 70
    })
    .await;
    for name in ["lead", "pm", "org"] {
        let books = &node(&running, name)["budget"];
        assert_eq!(
            (&books["spent"]["tokens"], &books["reserved"]["tokens"]),
            (&json!(70), &json!(0)),
            "{name}: {books}"
        );
    }
    assert_eq!(node(&running, "pm")["status"], "running");
    let job = wait_for(&server, &job_id, ended).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    for (name, allocated) in [("lead", 200_000), ("pm", 500_000), ("org", 1_000_000)] {
        let books = &node(&job, name)["budget"];
        assert_eq!(
            (&books["allocated"]["tokens"], &books["spent"]["tokens"]),
            (&json!(allocated), &json!(82)),
            "{books}"
        );
    }
    assert_eq!(node(&job, "lead")["budget"]["returned"]["tokens"], 200_000 - 82);
    assert_eq!(node(&job, "pm")["budget"]["returned"]["tokens"], 500_000 - 82, "the lead's came back first");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_call_the_envelope_cannot_cover_is_never_sent_and_not_retried() {
    let provider = ScriptedLlm::start(vec![Reply::ok(openai_text("never", 1, 1))]).await;
    let mut store = Store::new(&provider.url).await;
    let server = store.start();
    let plan = json!({"name": "solo", "retry": {"max_attempts": 3}, "run": llm(json!({"max_tokens": 64}))});
    let job =
        run_to_end(&server, &json!({"request": "too dear", "config": {"budget": {"tokens": 100}}, "plan": plan})).await;
    assert_eq!(job["status"], "failed", "{job}");
    let solo = &job["tree"];
    let error = solo["error"].as_str().expect("error");
    assert!(error.starts_with("budget_exceeded: a call of node 'solo' may cost up to"), "{error}");
    assert!(error.contains("the envelope of 'solo' has unlimited cost and 100 tokens left"), "{error}");
    assert_eq!(solo["attempts"], 1, "a refusal is not retried");
    assert!(provider.received().is_empty(), "the provider saw no request");
    assert_eq!((&job["budget"]["spent"]["tokens"], &job["budget"]["reserved"]["tokens"]), (&json!(0), &json!(0)));
}

#[tokio::test(flavor = "multi_thread")]
async fn ask_parent_tops_an_envelope_up_and_fail_refuses() {
    let provider = ScriptedLlm::start(vec![Reply::ok(openai_text("topped up", 10, 2))]).await;
    let mut store = Store::new(&provider.url).await;
    let server = store.start();
    let plan = json!({"name": "team", "on_child_failure": "continue", "children": [
        {"name": "asker", "budget": {"tokens": 10}, "run": llm(json!({"max_tokens": 32}))},
        {"name": "strict", "budget": {"tokens": 10}, "on_budget_exhausted": "fail", "run": llm(json!({"max_tokens": 32}))}]});
    let job = json!({"request": "top up", "config": {"budget": {"tokens": 1_000_000}}, "plan": plan});
    let job = run_to_end(&server, &job).await;
    let (asker, strict) = (node(&job, "asker"), node(&job, "strict"));
    assert_eq!(asker["status"], "succeeded", "{job}");
    assert_eq!(strict["status"], "failed");
    assert!(strict["error"].as_str().is_some_and(|e| e.starts_with("budget_exceeded")), "{strict}");
    let received = provider.received();
    assert_eq!(received.len(), 1, "only the asker's call was sent");
    // Topped up to exactly its reservation: the request's bytes and its 32 tokens out.
    let reserved = i64::try_from(received[0].body.to_string().len()).expect("size") + 32;
    let books = &asker["budget"];
    assert_eq!(books["allocated"]["tokens"].as_i64(), Some(reserved), "{books}");
    assert_eq!(
        (books["spent"]["tokens"].as_i64(), books["returned"]["tokens"].as_i64()),
        (Some(12), Some(reserved - 12))
    );
    assert_eq!(job["budget"]["spent"]["tokens"], 12);
}

#[tokio::test(flavor = "multi_thread")]
async fn of_a_hundred_concurrent_calls_against_an_envelope_for_fifty_exactly_fifty_are_made() {
    // Every answer says it used all the call could: what each call reserves, it spends.
    let provider = ScriptedLlm::start((0..101).map(|_| Reply::Worst("done")).collect()).await;
    let mut store = Store::new(&provider.url).await;
    // Half the leaves are refused by design: the failure-rate alert, which holds a job whose
    // finished workers fail too often, would hold this one with the rest unstarted whenever
    // enough refusals end before the successes do.
    let quiet = [("CADRE_RESOURCES__QUOTAS__1", "100"), ("CADRE_ALERTS__FAILURE_RATE", "0")];
    let server = store.start_with(&quiet);
    let leaf = |i: usize| json!({"name": format!("w{i:03}"), "run": llm(json!({"max_tokens": 16}))});
    let leaves = |size: usize| (0..size).map(leaf).collect::<Vec<_>>();
    let team = |size: usize| json!({"name": "team", "on_child_failure": "continue", "children": leaves(size)});
    // What one call reserves, from a job of one leaf with the same texts.
    let one = run_to_end(&server, &json!({"request": "many hands", "plan": team(1)})).await;
    let spent = one["tree"]["subtree_usage"].clone();
    let per_call = spent["input_tokens"].as_i64().expect("in") + spent["output_tokens"].as_i64().expect("out");
    let fifty = json!({"tokens": 50 * per_call});
    let job = json!({"request": "many hands", "config": {"budget": fifty}, "plan": team(100)});
    let job = run_to_end(&server, &job).await;
    let received = provider.received();
    assert_eq!(received.len(), 1 + 50, "exactly fifty calls were made");
    let sizes: std::collections::HashSet<usize> = received.iter().map(|r| r.body.to_string().len()).collect();
    assert_eq!(sizes.len(), 1, "every call reserves the same");
    let leaves: Vec<&Value> = super::server::flatten(&job["tree"]).into_iter().filter(|n| n["depth"] == 1).collect();
    let made = leaves.iter().filter(|n| n["status"] == "succeeded").count();
    let refused =
        leaves.iter().filter(|n| n["error"].as_str().is_some_and(|e| e.starts_with("budget_exceeded"))).count();
    assert_eq!((made, refused), (50, 50));
    let books = &job["budget"];
    assert_eq!(books["spent"]["tokens"].as_i64(), Some(50 * per_call), "never more than the envelope: {books}");
    assert_eq!(books["reserved"]["tokens"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn after_a_kill_with_a_reservation_outstanding_the_books_add_up_and_nothing_is_charged_twice() {
    let routes = vec![
        Route::new(&["Answer quickly"], vec![Reply::ok(openai_text("quick", 10, 2))]),
        Route::new(
            &["Think slowly"],
            vec![Reply::Hang(Duration::from_millis(1500)), Reply::ok(openai_text("slow", 30, 5))],
        ),
    ];
    let provider = ScriptedLlm::start_routed(routes, Vec::new()).await;
    let mut store = Store::new(&provider.url).await;
    let mut server = store.start();
    let plan = json!({"name": "team", "children": [
        {"name": "quick", "title": "Answer quickly", "run": llm(json!({}))},
        {"name": "slow", "title": "Think slowly", "run": llm(json!({}))}]});
    let budget = json!({"cost": 1.0, "tokens": 1_000_000});
    let job_id = submit_id(&server, &json!({"request": "a crash", "config": {"budget": budget}, "plan": plan})).await;
    let before = wait_for(&server, &job_id, |job| {
        node(job, "quick")["status"] == "succeeded" && job["budget"]["reserved"]["tokens"].as_i64().unwrap_or(0) > 0
    })
    .await;
    let begun = Instant::now();
    while provider.received().len() < 2 {
        assert!(begun.elapsed() < Duration::from_secs(30), "the slow call never came");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(before["budget"]["spent"]["tokens"], 12, "the quick call, settled: {}", before["budget"]);
    server.child.kill().expect("kill -9");
    let _ = server.child.wait();
    let server = store.start();
    let job = wait_for(&server, &job_id, ended).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let mut ledger = Vec::new();
    for name in ["quick", "slow"] {
        ledger.extend(llm_calls(&server, &job_id, node(&job, name)["id"].as_str().expect("id")).await);
    }
    assert_eq!(ledger.len(), 2, "one row per call: {ledger:?}");
    let books = &job["budget"];
    assert_eq!((&books["spent"]["tokens"], &books["reserved"]["tokens"]), (&json!(12 + 35), &json!(0)), "{books}");
    assert!(close(&books["spent"]["cost"], cost(40.0, 7.0)), "charged once each: {books}");
    assert_eq!((&books["allocated"]["tokens"], &books["allocated"]["cost"]), (&json!(1_000_000), &json!(1.0)));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_decomposition_is_held_to_the_budget_too() {
    let provider = ScriptedLlm::start(vec![Reply::ok(openai_text("never asked", 1, 1))]).await;
    let mut store = Store::new(&provider.url).await;
    let server = store.start_with(&[("CADRE_DECOMPOSER__PROVIDER", "scripted")]);
    let job = json!({"request": "Build a notes app", "config": {"budget": {"tokens": 1_000}}});
    let job = run_to_end(&server, &job).await;
    assert_eq!(job["status"], "failed", "{job}");
    let error = job["tree"]["error"].as_str().expect("error");
    assert!(error.contains("budget_exceeded: a call of node 'project' may cost up to"), "{error}");
    assert_eq!(job["tree"]["attempts"], 1, "a refusal is not retried");
    assert!(provider.received().is_empty(), "the plan call was never sent");
}
