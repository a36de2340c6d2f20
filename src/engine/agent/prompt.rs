//! What an agent is told: a system text that is the same for every node of a branch (the
//! operator's instructions, the job's request, the chain of ancestors' tasks — the stable
//! prefix a provider's prompt cache can share among siblings), and a first user message
//! with the node's own task and the results of the siblings it depends on.

use std::fmt::Write;

use crate::domain::{JsonText, LlmRun};

/// Instructions when a node's `system` gives none.
const DEFAULT_SYSTEM: &str = "You are one member of a team of agents working on a job together. \
Do your own task well and completely; the others do theirs. Answer with the result itself, \
not with a description of what you would do.";

/// What spawning is for, when the node may do it.
const SPAWN_GUIDANCE: &str = "You may split your task among a sub-team with the `spawn_children` tool: \
give each child a specific task of its own (a `title`, a precise `description`) and a `run`, \
usually `{\"type\": \"llm\", \"provider\": …}` like yours. Their results come back to you as the \
tool's result; then combine them into your answer. Do not give a child your own task.";

/// One ancestor, root first.
#[derive(Debug, Clone)]
pub struct Ancestor {
    pub name: String,
    pub title: String,
    pub description: Option<String>,
    /// The architectural plan a decomposing ancestor made (JSON text).
    pub plan: Option<String>,
}

/// Where the node stands and what it is asked.
#[derive(Debug, Clone)]
pub struct Task {
    pub name: String,
    pub title: String,
    pub description: Option<String>,
    /// The job's request.
    pub request: std::sync::Arc<str>,
    /// Root first, the parent last.
    pub ancestors: Vec<Ancestor>,
    /// Results of the siblings named in `depends_on`.
    pub dependencies: Vec<(String, Option<JsonText>)>,
    /// Why the previous attempt's result was not accepted (a failed validation).
    pub feedback: Option<String>,
}

/// The system text: instructions, the job, the chain of tasks above the node.
pub fn system(run: &LlmRun, task: &Task) -> String {
    let mut text = run.system.clone().unwrap_or_else(|| DEFAULT_SYSTEM.to_string());
    if run.tools.iter().any(|tool| tool == "spawn_children") {
        let _ = write!(text, "\n\n{SPAWN_GUIDANCE}");
    }
    let _ = write!(text, "\n\n# The job\n{}", task.request);
    if !task.ancestors.is_empty() {
        text.push_str("\n\n# Where your task sits (from the top)");
        for ancestor in &task.ancestors {
            let _ = write!(text, "\n- {} ({})", ancestor.title, ancestor.name);
            if let Some(description) = &ancestor.description {
                let _ = write!(text, ": {description}");
            }
            if let Some(plan) = &ancestor.plan {
                let _ = write!(text, "\n  The plan it made for the work below it:\n  {plan}");
            }
        }
    }
    text
}

/// The first user message: the node's task, the results it builds on, the answer's form.
pub fn task_message(run: &LlmRun, task: &Task) -> String {
    let mut text = format!("# Your task: {}", task.title);
    if let Some(description) = &task.description {
        let _ = write!(text, "\n\n{description}");
    }
    if let Some(prompt) = &run.prompt {
        let _ = write!(text, "\n\n{prompt}");
    }
    if !task.dependencies.is_empty() {
        text.push_str("\n\n# Results you build on");
        for (name, result) in &task.dependencies {
            let result = result.as_deref().map_or("null", serde_json::value::RawValue::get);
            let _ = write!(text, "\n\n## {name}\n{result}");
        }
    }
    if let Some(feedback) = &task.feedback {
        let _ = write!(
            text,
            "\n\n# Your previous attempt was checked and not accepted\n{feedback}\nFix every issue in this attempt."
        );
    }
    if let Some(schema) = &run.output_schema {
        let _ = write!(text, "\n\nAnswer with JSON only, following this JSON Schema:\n{schema}");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task() -> Task {
        Task {
            name: "api".into(),
            title: "Build the API".into(),
            description: Some("POST /tweets with {text ≤ 280}".into()),
            request: "A Twitter-like app".into(),
            ancestors: vec![
                Ancestor { name: "app".into(), title: "The app".into(), description: None, plan: None },
                Ancestor {
                    name: "backend".into(),
                    title: "Backend".into(),
                    description: Some("Rust + axum".into()),
                    plan: Some("{\"project_name\":\"Chirp\"}".into()),
                },
            ],
            dependencies: vec![(
                "schema".into(),
                Some(crate::domain::json_text(&serde_json::json!({"table": "tweets"}))),
            )],
            feedback: None,
        }
    }

    #[test]
    fn the_job_and_the_chain_of_tasks_are_in_the_system_text_and_the_own_task_is_not() {
        let run: LlmRun =
            serde_json::from_value(serde_json::json!({"provider": "p", "tools": ["spawn_children"]})).expect("run");
        let system = system(&run, &task());
        assert!(system.contains("A Twitter-like app") && system.contains("- Backend (backend): Rust + axum"));
        assert!(system.contains("spawn_children") && !system.contains("POST /tweets"));
        assert!(system.contains("The plan it made for the work below it:\n  {\"project_name\":\"Chirp\"}"));
        let message = task_message(&run, &task());
        assert!(message.starts_with("# Your task: Build the API\n\nPOST /tweets"));
        assert!(message.contains("## schema\n{\"table\":\"tweets\"}"));
    }

    #[test]
    fn a_schema_is_spelled_out_for_protocols_without_response_format() {
        let run: LlmRun = serde_json::from_value(serde_json::json!({"provider": "p", "system": "Be terse.",
            "prompt": "Name it.", "output_schema": {"type": "object"}}))
        .expect("run");
        assert!(system(&run, &task()).starts_with("Be terse.\n\n# The job"));
        let message = task_message(&run, &task());
        assert!(message.contains("Name it.") && message.ends_with("JSON Schema:\n{\"type\":\"object\"}"));
        let retried = Task { feedback: Some("- the title is missing".into()), ..task() };
        assert!(task_message(&run, &retried).contains("not accepted\n- the title is missing\nFix every issue"));
    }
}
