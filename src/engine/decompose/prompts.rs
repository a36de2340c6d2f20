//! The decomposer's prompts and schemas, read from `config/prompts/` — files the operator can
//! edit and version — rather than kept in Rust strings. The files shipped in the repository
//! are also built into the binary, so a server started anywhere has them; a directory given
//! in the configuration overrides them file by file. Every template is checked when it is
//! loaded: its placeholders (`{{request}}`, …) must be ones its phase fills, the required
//! ones must be there, and its schema must be a JSON Schema.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// One phase's prompt: a template and, for answers that must be JSON, their schema.
#[derive(Debug, Clone)]
pub struct Prompt {
    /// The file's stem (`plan`, `decompose`, …).
    pub name: &'static str,
    pub template: String,
    pub schema: Option<Value>,
}

/// Every prompt the decomposer uses.
#[derive(Debug, Clone)]
pub struct Prompts {
    /// Phase 0: the architectural plan.
    pub plan: Prompt,
    /// Phase 1: tasks and subtasks.
    pub decompose: Prompt,
    /// Phase 4: an agent's result against its tasks' success criteria.
    pub validate: Prompt,
    /// Intents: what kind of work a request is.
    pub classify: Prompt,
    /// The block that ends every agent's bundle of tasks.
    pub agent_instructions: Prompt,
}

/// Why the prompts could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
}

/// What each prompt is: its file's stem, the placeholders it must hold, those it may hold,
/// whether it has a schema, and the shipped text (and schema).
struct Spec {
    name: &'static str,
    required: &'static [&'static str],
    optional: &'static [&'static str],
    builtin: &'static str,
    builtin_schema: Option<&'static str>,
}

const SPECS: [Spec; 5] = [
    Spec {
        name: "plan",
        required: &["request"],
        optional: &["context"],
        builtin: include_str!("../../../config/prompts/plan.md"),
        builtin_schema: Some(include_str!("../../../config/prompts/plan.schema.json")),
    },
    Spec {
        name: "decompose",
        required: &["request", "plan", "domains"],
        optional: &["context"],
        builtin: include_str!("../../../config/prompts/decompose.md"),
        builtin_schema: Some(include_str!("../../../config/prompts/decompose.schema.json")),
    },
    Spec {
        name: "validate",
        required: &["tasks", "result"],
        optional: &[],
        builtin: include_str!("../../../config/prompts/validate.md"),
        builtin_schema: Some(include_str!("../../../config/prompts/validate.schema.json")),
    },
    Spec {
        name: "classify",
        required: &["request"],
        optional: &["context"],
        builtin: include_str!("../../../config/prompts/classify.md"),
        builtin_schema: Some(include_str!("../../../config/prompts/classify.schema.json")),
    },
    Spec {
        name: "agent_instructions",
        required: &[],
        optional: &[],
        builtin: include_str!("../../../config/prompts/agent_instructions.md"),
        builtin_schema: None,
    },
];

impl Prompts {
    /// The prompts shipped with cadre.
    pub fn builtin() -> Result<Self, PromptError> {
        Self::load(None)
    }

    /// The prompts, each file from `dir` when it has it, else the shipped one.
    pub fn load(dir: Option<&Path>) -> Result<Self, PromptError> {
        let [plan, decompose, validate, classify, agent_instructions] = SPECS.map(|spec| load_one(&spec, dir));
        Ok(Self {
            plan: plan?,
            decompose: decompose?,
            validate: validate?,
            classify: classify?,
            agent_instructions: agent_instructions?,
        })
    }
}

fn load_one(spec: &Spec, dir: Option<&Path>) -> Result<Prompt, PromptError> {
    let template = read_or(dir, &format!("{}.md", spec.name), spec.builtin)?;
    let schema = match spec.builtin_schema {
        Some(builtin) => {
            let file = format!("{}.schema.json", spec.name);
            let text = read_or(dir, &file, builtin)?;
            Some(check_schema(&file, &text)?)
        }
        None => None,
    };
    check_placeholders(spec, &template)?;
    Ok(Prompt { name: spec.name, template, schema })
}

fn read_or(dir: Option<&Path>, file: &str, builtin: &str) -> Result<String, PromptError> {
    let Some(path) = dir.map(|d| d.join(file)).filter(|p| p.exists()) else { return Ok(builtin.to_string()) };
    std::fs::read_to_string(&path).map_err(|source| PromptError::Read { path, source })
}

fn check_schema(file: &str, text: &str) -> Result<Value, PromptError> {
    let invalid = |message: String| PromptError::Invalid { file: file.to_string(), message };
    let schema: Value = serde_json::from_str(text).map_err(|e| invalid(format!("not JSON: {e}")))?;
    jsonschema::validator_for(&schema).map_err(|e| invalid(format!("not a JSON Schema: {e}")))?;
    Ok(schema)
}

fn check_placeholders(spec: &Spec, template: &str) -> Result<(), PromptError> {
    let invalid = |message: String| PromptError::Invalid { file: format!("{}.md", spec.name), message };
    let found = placeholders(template);
    if let Some(unknown) = found.iter().find(|p| !spec.required.contains(p) && !spec.optional.contains(p)) {
        let known: Vec<&str> = spec.required.iter().chain(spec.optional).copied().collect();
        return Err(invalid(format!("unknown placeholder {{{{{unknown}}}}}; this prompt fills: {}", known.join(", "))));
    }
    if let Some(missing) = spec.required.iter().find(|r| !found.contains(r)) {
        return Err(invalid(format!("the placeholder {{{{{missing}}}}} is missing")));
    }
    Ok(())
}

/// The names of the `{{name}}` placeholders in a template, in order.
fn placeholders(template: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        names.push(after[..end].trim());
        rest = &after[end + 2..];
    }
    names
}

impl Prompt {
    /// The template with each `{{name}}` replaced by its value, in one pass: a value holding
    /// braces of its own (a request quoting a template) is left as it is.
    pub fn render(&self, values: &[(&str, &str)]) -> String {
        let mut out = String::with_capacity(self.template.len());
        let mut rest = self.template.as_str();
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else {
                rest = &rest[start..];
                break;
            };
            let name = after[..end].trim();
            out.push_str(values.iter().find(|(key, _)| *key == name).map_or("", |(_, value)| value));
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        out.trim().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_prompts_load_with_their_schemas() {
        let prompts = Prompts::builtin().expect("the shipped prompts are valid");
        assert!(prompts.plan.schema.is_some() && prompts.agent_instructions.schema.is_none());
        let plan = prompts.plan.render(&[("request", "A {{plan}} app"), ("context", "")]);
        assert!(plan.contains("A {{plan}} app") && !plan.contains("{{context}}"), "{plan}");
        let decompose = prompts.decompose.render(&[("request", "r"), ("plan", "P"), ("domains", "database, backend")]);
        assert!(decompose.contains("one of database, backend") && decompose.contains("Bad: \"Create API"));
    }

    #[test]
    fn an_operators_file_overrides_and_is_checked() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(dir.path().join("classify.md"), "Sort {{request}} out.").expect("write");
        let prompts = Prompts::load(Some(dir.path())).expect("loads");
        assert_eq!(prompts.classify.render(&[("request", "this")]), "Sort this out.");
        assert!(prompts.plan.template.contains("architect"), "the others stay the shipped ones");
        std::fs::write(dir.path().join("classify.md"), "Sort {{reqest}} out.").expect("write");
        let typo = Prompts::load(Some(dir.path())).expect_err("an unknown placeholder").to_string();
        assert!(typo.contains("classify.md: unknown placeholder {{reqest}}"), "{typo}");
        std::fs::write(dir.path().join("classify.md"), "Sort it out.").expect("write");
        let missing = Prompts::load(Some(dir.path())).expect_err("a missing placeholder").to_string();
        assert!(missing.contains("{{request}} is missing"), "{missing}");
        std::fs::write(dir.path().join("classify.md"), "{{request}}").expect("write");
        std::fs::write(dir.path().join("validate.schema.json"), "{\"type\": 12}").expect("write");
        let schema = Prompts::load(Some(dir.path())).expect_err("a bad schema").to_string();
        assert!(schema.starts_with("validate.schema.json: not a JSON Schema"), "{schema}");
    }
}
