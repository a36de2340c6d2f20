//! Per-depth quotas, per-job caps and `max_parallel` hold while many nodes wait, and every
//! slot is back when the jobs end.

use serde_json::{json, Value};

use crate::helpers::{flatten, max_overlap, spawn_app_with};

fn sleepers(prefix: &str, count: usize, ms: u64) -> Vec<Value> {
    (0..count).map(|i| json!({"name": format!("{prefix}{i}"), "run": {"type": "sleep", "ms": ms}})).collect()
}

fn workers_at_depth(job: &Value, depth: u64) -> Vec<&Value> {
    flatten(&job["tree"]).into_iter().filter(|n| n["depth"] == json!(depth) && n["kind"] == "worker").collect()
}

#[tokio::test]
async fn quotas_are_never_exceeded_while_many_nodes_wait_and_all_slots_return() {
    let app = spawn_app_with(|c| {
        c.resources.quotas.insert("1".into(), 3);
        c.resources.quotas.insert("2".into(), 2);
    })
    .await;
    let mut ids = Vec::new();
    for j in 0..3 {
        let job = json!({"request": format!("load {j}"), "plan": {"name": "root", "children": [
            {"name": "flat", "children": sleepers("f", 12, 15)},
            {"name": "wide", "run": {"type": "sleep", "ms": 5}}]}});
        ids.push(app.submit(&job).await);
    }
    let busy = app.stats().await;
    let mut all_depth2 = Vec::new();
    let mut jobs = Vec::new();
    for id in &ids {
        let job = app.wait_for_end(id).await;
        assert_eq!(job["status"], "succeeded");
        jobs.push(job);
    }
    for job in &jobs {
        all_depth2.extend(workers_at_depth(job, 2));
    }
    assert_eq!(all_depth2.len(), 36);
    assert!(max_overlap(&all_depth2) <= 2, "depth-2 quota of 2 held across jobs");
    let stats = app.stats().await;
    let depth2 = &stats["by_depth"][2];
    assert_eq!(depth2["quota"], 2);
    assert_eq!(depth2["peak_in_use"], 2, "the quota was reached: nodes really waited");
    assert!(busy["by_depth"][2]["in_use"].as_u64().expect("in_use") <= 2);
    for depth in stats["by_depth"].as_array().expect("depths") {
        assert_eq!(depth["in_use"], 0, "no slot is held after every job ended: {depth}");
        assert!(depth["peak_in_use"].as_u64() <= depth["quota"].as_u64());
    }
    assert_eq!(stats["leaks_reclaimed"], 0);
}

#[tokio::test]
async fn a_job_cap_and_max_parallel_tighten_concurrency() {
    let app = spawn_app_with(|_| {}).await;
    let job = json!({"request": "caps", "config": {"workers_by_depth": {"2": 2}}, "plan": {"name": "root", "children": [
        {"name": "capped", "children": sleepers("c", 8, 20)},
        {"name": "serial", "max_parallel": 1, "children": sleepers("s", 4, 10)}]}});
    let id = app.submit(&job).await;
    let job = app.wait_for_end(&id).await;
    assert_eq!(job["status"], "succeeded");
    let tree = &job["tree"];
    let capped: Vec<&Value> = flatten(&tree["children"][0]).into_iter().skip(1).collect();
    let serial: Vec<&Value> = flatten(&tree["children"][1]).into_iter().skip(1).collect();
    assert!(max_overlap(&capped) <= 2, "the job's cap of 2 at depth 2");
    assert_eq!(max_overlap(&serial), 1, "max_parallel 1 runs the children one by one");
    let everything: Vec<&Value> = capped.iter().chain(serial.iter()).copied().collect();
    assert!(max_overlap(&everything) <= 2, "the cap covers the whole job at that depth");
}

#[tokio::test]
async fn orchestrators_waiting_for_children_hold_no_slot() {
    // One slot per depth: if a waiting orchestrator held its slot, the second job's root
    // could never start while the first job runs, and nested levels would deadlock.
    let app = spawn_app_with(|c| {
        for depth in 0..6 {
            c.resources.quotas.insert(depth.to_string(), 1);
        }
    })
    .await;
    let job = |n: u32| {
        json!({"request": format!("nested {n}"), "plan": {"name": "root", "children": [
            {"name": "mid", "children": [{"name": "leaf", "children": sleepers("w", 3, 30)}]}]}})
    };
    let (a, b) = (app.submit(&job(1)).await, app.submit(&job(2)).await);
    let (a, b) = (app.wait_for_end(&a).await, app.wait_for_end(&b).await);
    assert_eq!(a["status"], "succeeded");
    assert_eq!(b["status"], "succeeded");
    let roots = [&a["tree"], &b["tree"]];
    let overlap = max_overlap(&roots);
    assert_eq!(overlap, 2, "both roots were in progress at once with a depth-0 quota of 1");
}
