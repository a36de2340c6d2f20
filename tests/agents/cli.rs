//! What a person sees of agents in the CLI: tokens and cost as a watched job spends them, and
//! per node in `cadre status`.

use serde_json::json;

use super::llm_server::{openai_text, openai_tool_call, Reply, ScriptedLlm};
use super::server::{cadre, text};
use super::Store;

#[tokio::test(flavor = "multi_thread")]
async fn submit_watch_and_status_show_what_the_agents_spent() {
    let children = json!({"children": [{"name": "helper", "run": {"type": "llm", "provider": "scripted"}}]});
    let provider = ScriptedLlm::start(vec![
        Reply::ok(openai_tool_call("call_1", "spawn_children", &children)),
        Reply::ok(openai_text("helped", 1200, 30)),
        Reply::ok(openai_text("all done", 100, 10)),
    ])
    .await;
    let mut store = Store::new(&provider.url).await;
    let server = store.start();
    let file = store.data().with_extension("yaml");
    let job =
        "request: lead a team\nplan:\n  name: lead\n  run: {type: llm, provider: scripted, tools: [spawn_children]}\n";
    std::fs::write(&file, job).expect("job file");
    let watched = cadre(&server, &["submit", file.to_str().expect("utf-8"), "--watch"]);
    let output = text(&watched);
    assert!(watched.status.success(), "{output}");
    // 50 + 1,200 + 100 in (30 of them cached), 20 + 30 + 10 out, three calls.
    assert!(output.contains("tokens 1,350 in (30 cached) / 60 out"), "{output}");
    assert!(output.contains("3 calls"), "{output}");
    let job_id = output
        .split_whitespace()
        .find(|word| uuid::Uuid::parse_str(word.trim_matches(|c: char| !c.is_ascii_hexdigit() && c != '-')).is_ok())
        .map(|word| word.trim_matches(|c: char| !c.is_ascii_hexdigit() && c != '-').to_string())
        .expect("the job id is printed");
    let status = text(&cadre(&server, &["status", &job_id]));
    assert!(status.contains("tokens 1,350 in (30 cached) / 60 out"), "the job's total: {status}");
    assert!(status.contains("· subtree 1,350 in (30 cached) / 60 out"), "the lead's subtree: {status}");
    assert!(status.contains("helper [succeeded]") && status.contains("· 1,200 in / 30 out"), "{status}");
}
