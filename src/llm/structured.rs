//! Answers that must be JSON following a schema: the schema goes to the model (OpenAI's
//! `response_format`; the prompt otherwise), the answer is checked with a JSON Schema
//! validator, and an answer that fails is sent back with the exact errors (where, and what is
//! wrong) for another try, up to `max_repairs` times. Every completion made is returned, the
//! failed ones too, since each was paid for.

use serde_json::Value;

use super::{Block, Completion, LlmError, Message, Provider, Request, Role};

/// One way an answer breaks the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    /// A JSON pointer into the answer (`/points`, or empty for the whole answer).
    pub path: String,
    pub message: String,
}

/// A JSON answer that follows the schema, and the completions it took.
#[derive(Debug, Clone)]
pub struct Structured {
    pub value: Value,
    pub completions: Vec<Completion>,
}

/// Why no JSON answer was had.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StructuredError {
    /// The schema given is not a JSON Schema.
    #[error("output_schema is not a valid JSON Schema: {0}")]
    Schema(String),
    /// A call failed; the completions before it are kept.
    #[error("{source}")]
    Call { source: LlmError, completions: Vec<Completion> },
    /// Every answer broke the schema, the repairs included.
    #[error("the answer does not follow output_schema after {repairs} repairs: {}", describe(.errors))]
    Invalid { last_output: String, errors: Vec<SchemaError>, repairs: u32, completions: Vec<Completion> },
}

/// Asks until the answer is JSON that `schema` accepts, or `max_repairs` corrections failed.
pub async fn ask_for_json(
    provider: &dyn Provider,
    mut request: Request,
    schema: &Value,
    max_repairs: u32,
) -> Result<Structured, StructuredError> {
    let validator = jsonschema::validator_for(schema).map_err(|e| StructuredError::Schema(e.to_string()))?;
    request.output_schema = Some(schema.clone());
    let mut completions = Vec::new();
    for repair in 0..=max_repairs {
        let completion = match provider.complete(&request).await {
            Ok(completion) => completion,
            Err(source) => return Err(StructuredError::Call { source, completions }),
        };
        let text = completion.text();
        completions.push(completion);
        let errors = match check(&validator, &text) {
            Ok(value) => return Ok(Structured { value, completions }),
            Err(errors) => errors,
        };
        if repair == max_repairs {
            return Err(StructuredError::Invalid { last_output: text, errors, repairs: max_repairs, completions });
        }
        request.messages.push(Message { role: Role::Assistant, content: vec![Block::Text { text }] });
        request.messages.push(Message::user(repair_prompt(&errors)));
    }
    unreachable!("the last repair returns")
}

/// The answer as JSON (a ```json fence around it is allowed), or every way it fails.
pub(crate) fn check(validator: &jsonschema::Validator, text: &str) -> Result<Value, Vec<SchemaError>> {
    let value: Value = serde_json::from_str(unfenced(text))
        .map_err(|e| vec![SchemaError { path: String::new(), message: format!("the answer is not JSON: {e}") }])?;
    let errors: Vec<SchemaError> = validator
        .iter_errors(&value)
        .map(|error| SchemaError { path: error.instance_path().to_string(), message: error.to_string() })
        .collect();
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(errors)
    }
}

/// Models often wrap JSON in a Markdown fence.
fn unfenced(text: &str) -> &str {
    let trimmed = text.trim();
    let inner = trimmed.strip_prefix("```json").or_else(|| trimmed.strip_prefix("```"));
    inner.and_then(|rest| rest.trim_end().strip_suffix("```")).map_or(trimmed, str::trim)
}

pub(crate) fn describe(errors: &[SchemaError]) -> String {
    let described: Vec<String> = errors
        .iter()
        .map(|e| if e.path.is_empty() { e.message.clone() } else { format!("at {}: {}", e.path, e.message) })
        .collect();
    described.join("; ")
}

/// What the model is told when its answer breaks the schema.
pub(crate) fn repair_prompt(errors: &[SchemaError]) -> String {
    let lines: Vec<String> = errors
        .iter()
        .map(|e| format!("- at {}: {}", if e.path.is_empty() { "the top" } else { &e.path }, e.message))
        .collect();
    format!(
        "Your answer does not follow the required JSON Schema:\n{}\nAnswer again with only the corrected JSON.",
        lines.join("\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fenced_answers_are_read_and_every_error_is_named() {
        let validator = jsonschema::validator_for(&serde_json::json!({
            "type": "object", "required": ["title"],
            "properties": {"title": {"type": "string"}, "points": {"type": "integer"}}
        }))
        .expect("schema");
        assert_eq!(check(&validator, "```json\n{\"title\": \"x\"}\n```"), Ok(serde_json::json!({"title": "x"})));
        let errors = check(&validator, "{\"points\": \"3\"}").expect_err("two errors");
        let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
        assert!(paths.contains(&"") && paths.contains(&"/points"), "{errors:?}");
        let prose = check(&validator, "Sure! Here it is.").expect_err("not JSON");
        assert!(prose[0].message.starts_with("the answer is not JSON"));
        assert!(repair_prompt(&errors).contains("- at /points:"));
    }
}
