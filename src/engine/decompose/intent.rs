//! Intents (seed 002): before a request without a plan is planned, a model may say what kind
//! of work it is — one answer, a project, a question back to the requester, or work for a
//! named agent. The questions asked and their answers go into the next classification, so a
//! request is asked about until it is clear.

use serde::{Deserialize, Serialize};

use super::pipeline::{DecomposeError, Decomposer};
use crate::engine::calls::Calls;
use crate::llm::Completion;

/// What the classifier said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Classification {
    pub intent: IntentKind,
    pub confidence: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    pub reason: String,
}

/// The kinds of work a request can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntentKind {
    DirectResponse,
    Project,
    Clarify,
    Delegate,
}

/// A question asked of the requester and the answer given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clarification {
    pub question: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// When it was asked (ms since the epoch): its time to answer counts from here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asked_ms: Option<i64>,
}

/// The questions and answers so far, as the prompts show them.
pub fn clarifications_text(clarifications: &[Clarification]) -> String {
    let answered: Vec<String> =
        clarifications.iter().filter_map(|c| c.answer.as_ref().map(|a| format!("Q: {}\nA: {a}", c.question))).collect();
    if answered.is_empty() {
        return String::new();
    }
    format!("The requester was asked, and answered:\n\n{}", answered.join("\n\n"))
}

impl Decomposer {
    /// One classification of `request`, given what the requester has answered so far.
    pub async fn classify(
        &self,
        calls: &dyn Calls,
        request: &str,
        clarifications: &[Clarification],
    ) -> Result<(Classification, Vec<Completion>), DecomposeError> {
        calls.phase("classify");
        let context = clarifications_text(clarifications);
        let prompt = &self.prompts.classify;
        let text = prompt.render(&[("request", request), ("context", &context)]);
        let mut completions = Vec::new();
        let value = self.ask(calls, &self.request(text, prompt), prompt, &mut completions).await?;
        let classification = serde_json::from_value(value).map_err(|e| DecomposeError::Invalid {
            phase: "classify",
            repairs: 0,
            errors: format!("the answer cannot be read: {e}"),
            last_output: String::new(),
        })?;
        Ok((classification, completions))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_answered_questions_are_shown() {
        let asked = Clarification { question: "Which database?".into(), answer: None, asked_ms: None };
        assert_eq!(clarifications_text(std::slice::from_ref(&asked)), "");
        let answered = Clarification { answer: Some("PostgreSQL".into()), ..asked };
        assert!(clarifications_text(&[answered]).ends_with("Q: Which database?\nA: PostgreSQL"));
    }
}
