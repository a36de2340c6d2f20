//! Phase 4 of the decomposer, open to any worker: a result is accepted only once its check
//! passes — a model judging it against the task's success criteria (`{passed, issues,
//! suggestions}`), or a program (the tests) exiting 0. A result that fails its check fails
//! the attempt, so the node's retry policy decides what follows; the next attempt is told
//! the judgement (see [`feedback`]).
//!
//! The judge's calls are ledger rows of the worker (`validate`, `validate_repair`), replayed
//! when an attempt is picked up after a crash, like the decomposer's.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::calls::{Place, Recorder};
use super::decompose::prompts::Prompts;
use super::executor::{self, ExecContext, ExecOutcome};
use super::journal::Journal;
use super::ledger::Ledger;
use crate::domain::{CheckSpec, ExecutorSpec};
use crate::llm::structured::{ask_for_json, describe};
use crate::llm::{Message, Providers, Request};
use crate::store::SharedStore;

/// The wall-clock limit of a check command that sets none.
const DEFAULT_CHECK_TIMEOUT_S: u64 = 300;
/// Characters of a failed check command's output kept as its issue.
const OUTPUT_TAIL: usize = 2_000;

/// What a check said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub passed: bool,
    #[serde(default)]
    pub issues: Vec<String>,
    #[serde(default)]
    pub suggestions: Vec<String>,
    /// `llm` or `command`.
    #[serde(default)]
    pub by: String,
}

/// What a judge needs from the engine.
pub struct Judges {
    pub providers: Arc<Providers>,
    pub ledger: Ledger,
    pub journal: Journal,
    pub store: SharedStore,
    pub prompts: Arc<Prompts>,
}

/// The task a result is judged against.
pub struct Subject {
    pub title: String,
    pub description: Option<String>,
    pub place: Place,
}

impl Judges {
    /// Runs `check` on a successful attempt's outcome; other outcomes pass through.
    pub async fn checked(
        &self,
        check: &CheckSpec,
        subject: &Subject,
        outcome: ExecOutcome,
        exec: &ExecContext,
    ) -> ExecOutcome {
        let ExecOutcome::Succeeded(result) = outcome else { return outcome };
        let verdict = match check {
            CheckSpec::Llm { provider, model, criteria } => {
                self.by_model((provider, model.clone()), criteria, subject, &result).await
            }
            CheckSpec::Command { argv, cwd, timeout_s } => by_command((argv, cwd, *timeout_s), &result, exec).await,
        };
        match verdict {
            Ok(verdict) if verdict.passed => ExecOutcome::Succeeded(with_verdict(result, &verdict)),
            Ok(verdict) => {
                let error = format!("the result did not pass its validation: {}", verdict.issues.join("; "));
                ExecOutcome::Failed { error, result: Some(with_verdict(result, &verdict)) }
            }
            Err(error) => {
                ExecOutcome::Failed { error: format!("the validation failed: {error}"), result: Some(result) }
            }
        }
    }

    async fn by_model(
        &self,
        (provider_name, model): (&str, Option<String>),
        criteria: &[String],
        subject: &Subject,
        result: &Value,
    ) -> Result<Verdict, String> {
        let provider = self.providers.get(provider_name).map_err(|e| e.to_string())?;
        self.journal.flush().await.map_err(|e| e.to_string())?;
        let stored =
            self.store.llm_calls(subject.place.job_id, subject.place.node_id).await.map_err(|e| e.to_string())?;
        let replays = |row: &crate::store::LlmCallRow| row.purpose.starts_with("validate");
        let recorder =
            Recorder::new(provider, provider_name, self.ledger.clone(), subject.place.clone(), stored, &replays);
        recorder.set_repair_purpose("validate_repair");
        crate::engine::calls::Calls::phase(&recorder, "validate");
        let prompt = &self.prompts.validate;
        let text = prompt.render(&[("tasks", &tasks_text(subject, criteria)), ("result", &result.to_string())]);
        let request = Request { model, messages: vec![Message::user(text)], ..Request::default() };
        let schema = prompt.schema.clone().unwrap_or(json!({}));
        let structured = ask_for_json(&recorder, request, &schema, 2).await.map_err(|err| match err {
            crate::llm::StructuredError::Invalid { errors, .. } => describe(&errors),
            other => other.to_string(),
        })?;
        let mut verdict: Verdict = serde_json::from_value(structured.value).map_err(|e| e.to_string())?;
        verdict.by = "llm".into();
        Ok(verdict)
    }
}

/// The task and its criteria, as the validation prompt shows them.
fn tasks_text(subject: &Subject, criteria: &[String]) -> String {
    let mut text = format!("# {}", subject.title);
    if let Some(description) = &subject.description {
        text.push_str("\n\n");
        text.push_str(description);
    }
    if !criteria.is_empty() {
        text.push_str("\n\nSuccess criteria:");
        for criterion in criteria {
            text.push_str("\n- ");
            text.push_str(criterion);
        }
    }
    text
}

/// A check program: passes when it exits 0; its output is the issue when it does not. It
/// finds the result in `CADRE_RESULT`.
async fn by_command(
    (argv, cwd, timeout_s): (&[String], &Option<String>, Option<u64>),
    result: &Value,
    exec: &ExecContext,
) -> Result<Verdict, String> {
    let run = ExecutorSpec::Command {
        argv: argv.to_vec(),
        cwd: cwd.clone(),
        env: BTreeMap::from([("CADRE_RESULT".to_string(), result.to_string())]),
        timeout_s: Some(timeout_s.unwrap_or(DEFAULT_CHECK_TIMEOUT_S)),
    };
    let check = ExecContext { on_spawn: None, agent: None, ..exec.clone() };
    match executor::execute(&run, None, &check).await {
        ExecOutcome::Succeeded(_) => {
            Ok(Verdict { passed: true, issues: vec![], suggestions: vec![], by: "command".into() })
        }
        ExecOutcome::Failed { error, result } => {
            let output =
                result.map(|r| format!("{}{}", r["stdout"].as_str().unwrap_or(""), r["stderr"].as_str().unwrap_or("")));
            let mut issues = vec![format!("`{}` {error}", argv.join(" "))];
            issues.extend(output.map(|o| tail(&o)).filter(|o| !o.trim().is_empty()));
            Ok(Verdict { passed: false, issues, suggestions: vec![], by: "command".into() })
        }
        ExecOutcome::Cancelled { .. } | ExecOutcome::Waiting => Err("the check was stopped".into()),
    }
}

fn tail(text: &str) -> String {
    let count = text.chars().count();
    text.chars().skip(count.saturating_sub(OUTPUT_TAIL)).collect()
}

/// The result with its verdict beside it (`validation`), kept whether it passed or not.
fn with_verdict(result: Value, verdict: &Verdict) -> Value {
    let mut object = match result {
        Value::Object(map) => Value::Object(map),
        other => json!({"output": other}),
    };
    object["validation"] = json!(verdict);
    object
}

/// What the next attempt is told of a verdict that failed it.
pub fn feedback(validation: &Value) -> Option<String> {
    let verdict: Verdict = serde_json::from_value(validation.clone()).ok()?;
    if verdict.passed {
        return None;
    }
    let mut text = String::from("Issues:");
    for issue in &verdict.issues {
        text.push_str("\n- ");
        text.push_str(issue);
    }
    if !verdict.suggestions.is_empty() {
        text.push_str("\nSuggestions:");
        for suggestion in &verdict.suggestions {
            text.push_str("\n- ");
            text.push_str(suggestion);
        }
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_verdict_becomes_the_next_attempts_feedback() {
        let verdict =
            json!({"passed": false, "issues": ["no index on user_id"], "suggestions": ["add it"], "by": "llm"});
        assert_eq!(feedback(&verdict).as_deref(), Some("Issues:\n- no index on user_id\nSuggestions:\n- add it"));
        assert_eq!(feedback(&json!({"passed": true})), None);
        let kept = with_verdict(json!("text"), &serde_json::from_value(verdict).expect("verdict"));
        assert_eq!((kept["output"].as_str(), kept["validation"]["passed"].as_bool()), (Some("text"), Some(false)));
    }
}
