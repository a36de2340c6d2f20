//! Phases 0–2 in one place: the plan (one structured call), the breakdown (one structured
//! call, corrected while it breaks its schema or cannot be grouped), and the grouping into
//! managers and agents. The dry run (`POST /recursion/plan`, `cadre plan`) is exactly this;
//! a decomposing node will run it too, with its calls kept in the ledger.

use std::sync::Arc;

use serde_json::{json, Value};

use super::prompts::{Prompt, Prompts};
use super::{group, to_nodes, Decomposition, GroupingConfig};
use crate::config::DecomposerConfig;
use crate::domain::validate_llm::MAX_DESCRIPTION_CHARS;
use crate::domain::{ExecutorSpec, LlmRun, NodeSpec};
use crate::llm::structured::{ask_for_json, describe};
use crate::llm::{Block, Completion, LlmError, Message, Provider, Providers, Request, Role};

/// A configured decomposer: its model, prompts and rules.
pub struct Decomposer {
    provider: Arc<dyn Provider>,
    model: Option<String>,
    prompts: Prompts,
    grouping: GroupingConfig,
    agent: ExecutorSpec,
    max_repairs: u32,
}

/// What phases 0–2 made of a request.
#[derive(Debug, Clone)]
pub struct Breakdown {
    /// The architectural plan (phase 0).
    pub plan: Value,
    /// The tasks and subtasks (phase 1).
    pub decomposition: Decomposition,
    /// The managers and agents that would run (phase 2), as node specs.
    pub children: Vec<NodeSpec>,
    /// Every call made, corrections included.
    pub completions: Vec<Completion>,
}

/// Why no breakdown was had.
#[derive(Debug, thiserror::Error)]
pub enum DecomposeError {
    /// A call failed (after the provider's retries).
    #[error("{0}")]
    Call(#[from] LlmError),
    /// The model's answers kept breaking the schema or the grouping rules.
    #[error("the {phase} does not follow its rules after {repairs} corrections: {errors}")]
    Invalid { phase: &'static str, repairs: u32, errors: String, last_output: String },
}

impl Decomposer {
    /// The decomposer `config` describes, if it names a provider.
    pub fn from_config(config: &DecomposerConfig, providers: &Providers) -> Result<Option<Self>, String> {
        if !config.is_set() {
            return Ok(None);
        }
        let provider = providers.get(&config.provider).map_err(|e| e.to_string())?;
        let dir = config.prompts_dir.is_dir().then_some(config.prompts_dir.as_path());
        let prompts = Prompts::load(dir).map_err(|e| e.to_string())?;
        let grouping = GroupingConfig {
            split_weight: config.split_weight,
            max_agents_per_group: config.max_agents_per_group,
            ..GroupingConfig::default()
        };
        let default_agent = || {
            let run = LlmRun {
                provider: config.provider.clone(),
                model: config.model.clone(),
                system: None,
                prompt: None,
                output_schema: None,
                max_tokens: None,
                temperature: None,
                tools: Vec::new(),
                max_turns: None,
                max_repairs: None,
            };
            ExecutorSpec::Llm(run)
        };
        let agent = config.agent.clone().unwrap_or_else(default_agent);
        Ok(Some(Self {
            provider,
            model: config.model.clone(),
            prompts,
            grouping,
            agent,
            max_repairs: config.max_repairs,
        }))
    }

    /// Phases 0–2 for `request`; `context` is what the node's place in a tree adds (empty for
    /// a job's root).
    pub async fn breakdown(&self, request: &str, context: &str) -> Result<Breakdown, DecomposeError> {
        let mut completions = Vec::new();
        let plan_prompt = self.prompts.plan.render(&[("request", request), ("context", context)]);
        let plan = self.structured(&self.prompts.plan, plan_prompt, &mut completions).await?;
        let domains = self.domains();
        let plan_text = serde_json::to_string_pretty(&plan).unwrap_or_default();
        let values =
            [("request", request), ("plan", plan_text.as_str()), ("domains", domains.as_str()), ("context", context)];
        let mut request = self.request(self.prompts.decompose.render(&values), &self.prompts.decompose);
        for repair in 0..=self.max_repairs {
            let answer = self.ask(&request, &self.prompts.decompose, &mut completions).await?;
            let errors = match self.grouped(&answer) {
                Ok((decomposition, children)) => {
                    return Ok(Breakdown { plan, decomposition, children, completions });
                }
                Err(errors) => errors,
            };
            if repair == self.max_repairs {
                let errors = errors.join("; ");
                return Err(DecomposeError::Invalid {
                    phase: "breakdown",
                    repairs: repair,
                    errors,
                    last_output: answer.to_string(),
                });
            }
            request
                .messages
                .push(Message { role: Role::Assistant, content: vec![Block::Text { text: answer.to_string() }] });
            request.messages.push(Message::user(regroup_prompt(&errors)));
        }
        unreachable!("the last correction returns")
    }

    fn request(&self, text: String, prompt: &Prompt) -> Request {
        Request {
            model: self.model.clone(),
            messages: vec![Message::user(text)],
            output_schema: prompt.schema.clone(),
            ..Request::default()
        }
    }

    async fn structured(
        &self,
        prompt: &Prompt,
        text: String,
        completions: &mut Vec<Completion>,
    ) -> Result<Value, DecomposeError> {
        self.ask(&self.request(text, prompt), prompt, completions).await
    }

    /// One answer that follows the prompt's schema (with the schema's own corrections).
    async fn ask(
        &self,
        request: &Request,
        prompt: &Prompt,
        completions: &mut Vec<Completion>,
    ) -> Result<Value, DecomposeError> {
        let schema = prompt.schema.clone().unwrap_or(json!({}));
        match ask_for_json(self.provider.as_ref(), request.clone(), &schema, self.max_repairs).await {
            Ok(structured) => {
                completions.extend(structured.completions);
                Ok(structured.value)
            }
            Err(crate::llm::StructuredError::Call { source, completions: made }) => {
                completions.extend(made);
                Err(source.into())
            }
            Err(crate::llm::StructuredError::Invalid { last_output, errors, repairs, completions: made }) => {
                completions.extend(made);
                Err(DecomposeError::Invalid { phase: prompt.name, repairs, errors: describe(&errors), last_output })
            }
            Err(crate::llm::StructuredError::Schema(message)) => Err(DecomposeError::Invalid {
                phase: prompt.name,
                repairs: 0,
                errors: message,
                last_output: String::new(),
            }),
        }
    }

    /// The answer read as a decomposition and grouped, or the sentences that say why not.
    fn grouped(&self, answer: &Value) -> Result<(Decomposition, Vec<NodeSpec>), Vec<String>> {
        let decomposition: Decomposition =
            serde_json::from_value(answer.clone()).map_err(|e| vec![format!("the answer cannot be read: {e}")])?;
        let plans = group(&decomposition, &self.grouping)?;
        let instructions = self.prompts.agent_instructions.render(&[]);
        let children = to_nodes(&plans, &self.agent, &instructions);
        let limit = MAX_DESCRIPTION_CHARS;
        let too_long: Vec<String> = children
            .iter()
            .flat_map(|manager| manager.children.iter().flatten())
            .filter(|agent| agent.description.as_ref().is_some_and(|d| d.chars().count() > limit))
            .map(|agent| {
                format!(
                    "the tasks of agent '{}' come to more than {limit} characters together: shorten their descriptions",
                    agent.name
                )
            })
            .collect();
        if too_long.is_empty() {
            Ok((decomposition, children))
        } else {
            Err(too_long)
        }
    }

    /// The domains the breakdown may use, as the prompt lists them.
    fn domains(&self) -> String {
        self.grouping.managers.keys().map(String::as_str).collect::<Vec<_>>().join(", ")
    }
}

fn regroup_prompt(errors: &[String]) -> String {
    let lines: Vec<String> = errors.iter().map(|e| format!("- {e}")).collect();
    format!("This breakdown cannot be run:\n{}\nAnswer again with the corrected JSON.", lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decomposer() -> Decomposer {
        let llm: crate::llm::LlmConfig =
            toml::from_str("[providers.p]\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:9\"\nmodel = \"m\"")
                .expect("providers");
        let config = DecomposerConfig { provider: "p".into(), ..DecomposerConfig::default() };
        Decomposer::from_config(&config, &Providers::from_config(&llm)).expect("valid").expect("configured")
    }

    #[test]
    fn an_agent_whose_bundle_would_be_too_long_is_sent_back() {
        let long = "x".repeat(7_000);
        let subtask = |title: &str| json!({"title": title, "description": long, "domain": "backend", "function": "api", "complexity": "low"});
        let answer = json!({"tasks": [{"title": "API", "subtasks": [subtask("a"), subtask("b"), subtask("c")]}]});
        let errors = decomposer().grouped(&answer).expect_err("one agent, 21,000 characters");
        assert!(errors[0].contains("agent 'api' come to more than 20000 characters"), "{errors:?}");
        let short = json!({"tasks": [{"title": "API", "subtasks": [
            {"title": "a", "description": "d", "domain": "backend", "function": "api", "complexity": "low"}]}]});
        let (_, children) = decomposer().grouped(&short).expect("groups");
        assert_eq!(children[0].name, "backend");
        assert!(
            decomposer().grouped(&json!({"tasks": "none"})).unwrap_err()[0].starts_with("the answer cannot be read")
        );
    }
}
