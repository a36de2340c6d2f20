//! The language-model providers against a scripted server that speaks both wire protocols:
//! what goes on the wire, what comes back, which failures are retried and how long they wait,
//! and that the key goes nowhere but its header.

#[path = "support/llm_server.rs"]
#[allow(dead_code, reason = "each test uses a part of the support")]
mod llm_server;

use std::time::{Duration, Instant};

use cadre::llm::{
    Block, HttpProvider, LlmConfig, LlmError, Message, Prices, Provider, ProviderConfig, ProviderKind, Providers,
    Request, Role, StopReason, Tool, Usage,
};
use llm_server::{anthropic_text, anthropic_tool_use, openai_text, openai_tool_call, Reply, ScriptedLlm};
use serde_json::json;

/// The variable the test providers read their key from, and the key.
const KEY_ENV: &str = "CADRE_TEST_LLM_KEY";
const KEY: &str = "sk-test-never-to-be-seen-0123456789";

fn provider(kind: ProviderKind, server: &ScriptedLlm, max_retries: u32, timeout_s: u64) -> HttpProvider {
    // Once for the whole binary: the tests run on threads that all read it.
    static SET_KEY: std::sync::Once = std::sync::Once::new();
    SET_KEY.call_once(|| std::env::set_var(KEY_ENV, KEY));
    let config = ProviderConfig {
        kind,
        base_url: server.url.clone(),
        model: "default-model".into(),
        api_key_env: KEY_ENV.into(),
        timeout_s,
        max_retries,
        max_concurrency: 4,
        max_tokens: 1024,
        prices: Prices { input_per_mtok: 3.0, output_per_mtok: 15.0, cached_per_mtok: 0.3 },
    };
    HttpProvider::new("scripted", config, reqwest::Client::new())
}

/// An OpenAI-protocol provider that wants no key (a local server), with no retries.
fn keyless(base_url: String) -> ProviderConfig {
    ProviderConfig {
        kind: ProviderKind::Openai,
        base_url,
        model: "m".into(),
        api_key_env: String::new(),
        timeout_s: 5,
        max_retries: 0,
        max_concurrency: 1,
        max_tokens: 16,
        prices: Prices::default(),
    }
}

fn ask(text: &str) -> Request {
    Request {
        system: Some("You are a careful engineer.".into()),
        messages: vec![Message::user(text)],
        ..Request::default()
    }
}

#[tokio::test]
async fn an_openai_completion_sends_the_protocol_and_reads_text_usage_and_cost() {
    let server = ScriptedLlm::start(vec![Reply::ok(openai_text("hello there", 1_000, 200))]).await;
    let mut request = ask("Say hello");
    request.output_schema = Some(json!({"type": "object"}));
    let answer = provider(ProviderKind::Openai, &server, 0, 5).complete(&request).await.expect("answer");
    assert_eq!(answer.text(), "hello there");
    assert_eq!((answer.model.as_str(), answer.stop, answer.attempts), ("scripted-gpt", StopReason::Done, 1));
    assert_eq!(answer.usage, Usage { input_tokens: 1_000, output_tokens: 200, cached_tokens: 0 });
    assert!((answer.cost - (1_000.0 * 3.0 + 200.0 * 15.0) / 1_000_000.0).abs() < 1e-12, "{}", answer.cost);
    let sent = &server.received()[0];
    assert_eq!(sent.path, "/chat/completions");
    assert_eq!(sent.headers["authorization"], format!("Bearer {KEY}"));
    assert_eq!(sent.body["model"], "default-model");
    assert_eq!(sent.body["max_tokens"], 1024);
    assert_eq!(sent.body["messages"][0], json!({"role": "system", "content": "You are a careful engineer."}));
    assert_eq!(sent.body["messages"][1], json!({"role": "user", "content": "Say hello"}));
    assert_eq!(sent.body["response_format"]["type"], "json_schema");
}

#[tokio::test]
async fn an_anthropic_completion_sends_its_headers_a_cacheable_system_and_counts_cached_input() {
    let server =
        ScriptedLlm::start(vec![Reply::ok(anthropic_tool_use("toolu_1", "spawn_children", &json!({"children": []})))])
            .await;
    let mut request = ask("Split the work");
    request.model = Some("claude-x".into());
    request.tools = vec![Tool {
        name: "spawn_children".into(),
        description: "Add children".into(),
        parameters: json!({"type": "object"}),
    }];
    let answer = provider(ProviderKind::Anthropic, &server, 0, 5).complete(&request).await.expect("answer");
    assert_eq!(answer.stop, StopReason::ToolUse);
    let calls: Vec<_> = answer.tool_uses().collect();
    assert_eq!(calls, vec![("toolu_1", "spawn_children", &json!({"children": []}))]);
    assert_eq!(answer.usage, Usage { input_tokens: 100, output_tokens: 40, cached_tokens: 90 });
    let sent = &server.received()[0];
    assert_eq!(sent.path, "/v1/messages");
    assert_eq!(sent.headers["x-api-key"], KEY);
    assert_eq!(sent.headers["anthropic-version"], "2023-06-01");
    assert!(!sent.headers.contains_key("authorization"));
    assert_eq!((sent.body["model"].as_str(), sent.body["max_tokens"].as_u64()), (Some("claude-x"), Some(1024)));
    assert_eq!(sent.body["system"][0]["cache_control"]["type"], "ephemeral");
    assert_eq!(sent.body["tools"][0]["input_schema"], json!({"type": "object"}));
}

#[tokio::test]
async fn tool_calls_and_their_results_go_back_in_each_protocols_shape() {
    let arguments = json!({"children": [{"name": "a"}]});
    let server = ScriptedLlm::start(vec![
        Reply::ok(openai_tool_call("call_1", "spawn_children", &arguments)),
        Reply::ok(anthropic_text("done", 5, 5)),
    ])
    .await;
    let openai = provider(ProviderKind::Openai, &server, 0, 5);
    let first = openai.complete(&ask("Plan")).await.expect("answer");
    assert_eq!(first.tool_uses().collect::<Vec<_>>(), vec![("call_1", "spawn_children", &arguments)]);
    assert_eq!(first.usage.cached_tokens, 30);
    let mut conversation = ask("Plan");
    conversation.messages.push(Message { role: Role::Assistant, content: first.content.clone() });
    let result = Block::ToolResult { id: "call_1".into(), content: "[{\"name\":\"a\"}]".into(), is_error: false };
    conversation.messages.push(Message { role: Role::User, content: vec![result] });
    openai.complete(&conversation).await.ok();
    let sent = &server.received()[1].body["messages"];
    assert_eq!(sent[2]["tool_calls"][0]["function"]["arguments"], arguments.to_string());
    assert_eq!(sent[3], json!({"role": "tool", "tool_call_id": "call_1", "content": "[{\"name\":\"a\"}]"}));
}

#[tokio::test]
async fn a_429_waits_as_long_as_the_provider_asks_then_succeeds() {
    let server = ScriptedLlm::start(vec![
        Reply::status(429, "slow down").with_header("retry-after-ms", "300"),
        Reply::ok(openai_text("ok", 1, 1)),
    ])
    .await;
    let begun = Instant::now();
    let answer = provider(ProviderKind::Openai, &server, 2, 5).complete(&ask("x")).await.expect("answer");
    assert!(begun.elapsed() >= Duration::from_millis(300), "the asked wait was honoured");
    assert_eq!((answer.attempts, server.received().len()), (2, 2));
}

#[tokio::test]
async fn a_server_error_is_retried_and_a_client_error_is_not() {
    let server = ScriptedLlm::start(vec![Reply::status(500, "boom"), Reply::ok(anthropic_text("fine", 1, 1))]).await;
    let answer = provider(ProviderKind::Anthropic, &server, 2, 5).complete(&ask("x")).await.expect("answer");
    assert_eq!((answer.text().as_str(), answer.attempts), ("fine", 2));

    let refused =
        ScriptedLlm::start(vec![Reply::status(401, "invalid x-api-key"), Reply::ok(anthropic_text("no", 1, 1))]).await;
    let error = provider(ProviderKind::Anthropic, &refused, 3, 5).complete(&ask("x")).await.expect_err("refused");
    assert_eq!(
        error,
        LlmError::Status { provider: "scripted".into(), status: 401, message: "invalid x-api-key".into() }
    );
    assert_eq!(refused.received().len(), 1, "a 401 is not retried");
}

#[tokio::test]
async fn retries_end_with_the_last_error_and_a_hung_provider_times_out() {
    let busy = ScriptedLlm::start(vec![Reply::status(529, "overloaded"), Reply::status(529, "still overloaded")]).await;
    let error = provider(ProviderKind::Anthropic, &busy, 1, 5).complete(&ask("x")).await.expect_err("gives up");
    assert!(error.to_string().contains("529: still overloaded"), "{error}");
    assert_eq!(busy.received().len(), 2, "one retry, as configured");

    let hung = ScriptedLlm::start(vec![Reply::Hang(Duration::from_secs(30))]).await;
    let error = provider(ProviderKind::Openai, &hung, 0, 1).complete(&ask("x")).await.expect_err("times out");
    assert_eq!(error, LlmError::Timeout { provider: "scripted".into(), seconds: 1 });
}

#[tokio::test]
async fn the_key_is_named_not_shown_and_unknown_providers_say_where_to_configure_them() {
    let server = ScriptedLlm::start(vec![Reply::status(403, "forbidden")]).await;
    let error = provider(ProviderKind::Openai, &server, 0, 5).complete(&ask("x")).await.expect_err("refused");
    assert!(!format!("{error} {error:?}").contains(KEY), "the key is in no error");
    let mut config = keyless(server.url.clone());
    config.api_key_env = "CADRE_TEST_LLM_KEY_THAT_IS_NOT_SET".into();
    let missing = HttpProvider::new("local", config.clone(), reqwest::Client::new()).complete(&ask("x")).await;
    let missing = missing.expect_err("no key").to_string();
    assert!(missing.contains("CADRE_TEST_LLM_KEY_THAT_IS_NOT_SET") && missing.contains("is not set"), "{missing}");
    config.api_key_env = String::new();
    let providers = Providers::from_config(&LlmConfig { providers: [("local".to_string(), config)].into() });
    assert!(providers.get("local").is_ok());
    let unknown = providers.get("elsewhere").err().expect("unknown").to_string();
    assert!(unknown.contains("[llm.providers]"), "{unknown}");
}

#[tokio::test]
async fn https_providers_are_reached_over_tls() {
    // A server that speaks plain HTTP: a TLS client fails its handshake there, where a client
    // without TLS would refuse the scheme before connecting.
    let plain = ScriptedLlm::start(vec![Reply::ok(openai_text("never", 1, 1))]).await;
    let mut config = keyless(plain.url.replace("http://", "https://"));
    let error = HttpProvider::new("tls", config.clone(), reqwest::Client::new()).complete(&ask("x")).await;
    let error = error.expect_err("no TLS server there").to_string();
    assert!(!error.contains("scheme"), "TLS is built in: {error}");
    assert!(plain.received().is_empty(), "the handshake failed before any request: {error}");
    config.base_url = plain.url.clone();
    assert!(HttpProvider::new("plain", config, reqwest::Client::new()).complete(&ask("x")).await.is_ok());
}

fn task_schema() -> serde_json::Value {
    json!({"type": "object", "required": ["title", "points"], "additionalProperties": false,
           "properties": {"title": {"type": "string"}, "points": {"type": "integer", "minimum": 1}}})
}

#[tokio::test]
async fn json_that_breaks_the_schema_is_sent_back_with_its_errors_until_it_validates() {
    let server = ScriptedLlm::start(vec![
        Reply::ok(openai_text("Here is the task!", 10, 5)),
        Reply::ok(openai_text(r#"{"title": "Write tests", "points": 0}"#, 20, 5)),
        Reply::ok(openai_text("```json\n{\"title\": \"Write tests\", \"points\": 3}\n```", 30, 5)),
    ])
    .await;
    let provider = provider(ProviderKind::Openai, &server, 0, 5);
    let answer = cadre::llm::ask_for_json(&provider, ask("Describe the task"), &task_schema(), 2).await.expect("valid");
    assert_eq!(answer.value, json!({"title": "Write tests", "points": 3}));
    assert_eq!(answer.completions.len(), 3, "every paid call is kept");
    let received = server.received();
    assert_eq!(received[0].body["response_format"]["json_schema"]["schema"], task_schema());
    let first_repair = received[1].body["messages"].as_array().expect("messages").last().expect("last").clone();
    assert!(first_repair["content"].as_str().expect("text").contains("not JSON"), "{first_repair}");
    let second_repair = received[2].body["messages"].as_array().expect("messages").last().expect("last").clone();
    assert!(second_repair["content"].as_str().expect("text").contains("- at /points:"), "{second_repair}");
    assert_eq!(
        received[2].body["messages"].as_array().expect("messages").len(),
        6,
        "system, ask, 2 × (answer, repair)"
    );
}

#[tokio::test]
async fn json_that_never_validates_fails_with_the_last_output_and_its_errors() {
    let wrong = || Reply::ok(anthropic_text(r#"{"title": 7}"#, 10, 5));
    let server = ScriptedLlm::start(vec![wrong(), wrong(), wrong()]).await;
    let provider = provider(ProviderKind::Anthropic, &server, 0, 5);
    let error = cadre::llm::ask_for_json(&provider, ask("Describe"), &task_schema(), 2).await.expect_err("never valid");
    let cadre::llm::StructuredError::Invalid { last_output, errors, repairs, completions } = &error else {
        panic!("{error}")
    };
    assert_eq!((last_output.as_str(), *repairs, completions.len()), (r#"{"title": 7}"#, 2, 3));
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert!(paths.contains(&"/title") && paths.contains(&""), "{errors:?}");
    assert!(error.to_string().contains("after 2 repairs"), "{error}");
    let refused = cadre::llm::ask_for_json(&provider, ask("x"), &json!({"type": 12}), 0).await;
    assert!(
        matches!(refused, Err(cadre::llm::StructuredError::Schema(_))),
        "a broken schema is refused before any call"
    );
    assert_eq!(server.received().len(), 3);
}
