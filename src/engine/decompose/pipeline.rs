//! Phases 0–2 in one place: the plan (one structured call), the breakdown (one structured
//! call, corrected while it breaks its schema, cannot be grouped, or is refused where it
//! would go), and the grouping into managers and agents. The dry run (`POST
//! /recursion/plan`, `cadre plan`) and a decomposing node run the same code; they differ in
//! their [`Calls`] (the node's are ledger rows, replayed after a crash) and their
//! [`Placement`] (the node's creates the children, through the same checks as any spawn).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{json, Value};

use super::prompts::{Prompt, Prompts};
use super::shape::{Grouped, Shape};
use super::{Decomposition, GroupingConfig, Manager};
use crate::config::DecomposerConfig;
use crate::domain::{DecomposeSpec, ExecutorSpec, LlmRun, ManagerSpec, NodeSpec};
use crate::engine::calls::Calls;
use crate::llm::structured::{ask_for_json, describe};
use crate::llm::{Block, Completion, LlmError, Message, Provider, Providers, Request, Role};

/// The server's decomposer settings and prompts, from which each decomposing node's own
/// decomposer is made.
pub struct Decomposers {
    config: DecomposerConfig,
    prompts: Arc<Prompts>,
    providers: Arc<Providers>,
}

/// A configured decomposer: its model, prompts and rules.
pub struct Decomposer {
    pub(crate) provider: Arc<dyn Provider>,
    pub(crate) provider_name: String,
    pub(super) model: Option<String>,
    pub(crate) prompts: Arc<Prompts>,
    pub(super) grouping: GroupingConfig,
    pub(super) agent: ExecutorSpec,
    pub(crate) max_repairs: u32,
    pub(super) validate: bool,
    /// A manager whose tasks weigh this much or more decomposes its share itself (0: never).
    pub(super) nest_weight: u32,
    /// Agents come from the registry: each agent node delegates with this.
    pub(super) delegate: Option<crate::domain::staffing::DelegateSpec>,
}

/// Where the children of a breakdown go: the shape they may take, and the checks (at run
/// time, the creation) of the children.
#[async_trait::async_trait]
pub trait Placement: Send + Sync {
    /// Whether managers fit under the node, and whether a heavy one may decompose its share.
    fn shape(&self) -> Shape;
    /// Places the children, or says in sentences why they cannot go there.
    async fn place(&self, children: &[NodeSpec]) -> Result<(), Vec<String>>;
}

/// What phases 0–2 made of a request.
#[derive(Debug, Clone)]
pub struct Breakdown {
    /// The architectural plan (phase 0).
    pub plan: Value,
    /// The tasks and subtasks (phase 1).
    pub decomposition: Decomposition,
    /// Which subtasks went to which manager and agent (phase 2).
    pub assignments: Value,
    /// The managers and agents that run, as node specs.
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

impl Decomposers {
    /// The prompts (the operator's directory over the shipped ones) and settings.
    pub fn new(config: &DecomposerConfig, providers: Arc<Providers>) -> Result<Self, String> {
        let dir = config.prompts_dir.is_dir().then_some(config.prompts_dir.as_path());
        let prompts = Prompts::load(dir).map_err(|e| e.to_string())?;
        Ok(Self { config: config.clone(), prompts: Arc::new(prompts), providers })
    }

    /// The prompts (the validator's among them).
    pub fn prompts(&self) -> Arc<Prompts> {
        self.prompts.clone()
    }

    /// The server's own decomposer, when `[decomposer]` names a provider.
    pub fn server(&self) -> Result<Option<Decomposer>, String> {
        if !self.config.is_set() {
            return Ok(None);
        }
        self.for_node(None).map(Some)
    }

    /// The decomposer of a node: the server's settings with the node's over them.
    pub fn for_node(&self, spec: Option<&DecomposeSpec>) -> Result<Decomposer, String> {
        let config = &self.config;
        let provider_name = spec.and_then(|s| s.provider.clone()).unwrap_or_else(|| config.provider.clone());
        let provider = self.providers.get(&provider_name).map_err(|e| e.to_string())?;
        let model = spec.and_then(|s| s.model.clone()).or_else(|| config.model.clone());
        let managers = spec.and_then(|s| s.managers.as_ref()).or(config.managers.as_ref());
        let mut grouping = GroupingConfig { split_weight: config.split_weight, ..GroupingConfig::default() };
        grouping.max_agents_per_group =
            spec.and_then(|s| s.max_agents_per_group).unwrap_or(config.max_agents_per_group);
        if let Some(managers) = managers {
            grouping.managers = manager_map(managers);
        }
        let default_agent = || ExecutorSpec::Llm(LlmRun::plain(&provider_name, model.clone()));
        let agent = spec.and_then(|s| s.agent.clone()).or_else(|| config.agent.clone()).unwrap_or_else(default_agent);
        Ok(Decomposer {
            provider,
            provider_name,
            model,
            prompts: self.prompts.clone(),
            grouping,
            agent,
            max_repairs: config.max_repairs,
            validate: spec.and_then(|s| s.validate).unwrap_or(false),
            nest_weight: config.nest_weight,
            delegate: spec.and_then(|s| s.delegate.clone()),
        })
    }
}

fn manager_map(managers: &BTreeMap<String, ManagerSpec>) -> BTreeMap<String, Manager> {
    let manager = |m: &ManagerSpec| Manager {
        name: m.name.clone(),
        title: m.title.clone().unwrap_or_else(|| format!("{} manager", m.name)),
    };
    managers.iter().map(|(domain, m)| (domain.clone(), manager(m))).collect()
}

impl Decomposer {
    /// Phases 0–2 for `request`; `context` is what the node's place in a tree adds (empty for
    /// a job's root).
    pub async fn breakdown(
        &self,
        calls: &dyn Calls,
        request: &str,
        context: &str,
        placement: &dyn Placement,
    ) -> Result<Breakdown, DecomposeError> {
        let mut completions = Vec::new();
        calls.phase("plan");
        let plan_prompt = self.prompts.plan.render(&[("request", request), ("context", context)]);
        let plan = self
            .ask(calls, &self.request(plan_prompt, &self.prompts.plan), &self.prompts.plan, &mut completions)
            .await?;
        let shape = placement.shape();
        let domains = self.domains(shape.managers);
        let plan_text = serde_json::to_string_pretty(&plan).unwrap_or_default();
        let values =
            [("request", request), ("plan", plan_text.as_str()), ("domains", domains.as_str()), ("context", context)];
        let mut request = self.request(self.prompts.decompose.render(&values), &self.prompts.decompose);
        calls.phase("decompose");
        for repair in 0..=self.max_repairs {
            let answer = self.ask(calls, &request, &self.prompts.decompose, &mut completions).await?;
            let errors = match self.grouped(&answer, shape) {
                Ok(Grouped { decomposition, assignments, children }) => match placement.place(&children).await {
                    Ok(()) => return Ok(Breakdown { plan, decomposition, assignments, children, completions }),
                    Err(refused) => refused,
                },
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

    pub(crate) fn request(&self, text: String, prompt: &Prompt) -> Request {
        Request {
            model: self.model.clone(),
            messages: vec![Message::user(text)],
            output_schema: prompt.schema.clone(),
            ..Request::default()
        }
    }

    /// One answer that follows the prompt's schema (with the schema's own corrections).
    pub(crate) async fn ask(
        &self,
        calls: &dyn Calls,
        request: &Request,
        prompt: &Prompt,
        completions: &mut Vec<Completion>,
    ) -> Result<Value, DecomposeError> {
        let schema = prompt.schema.clone().unwrap_or(json!({}));
        match ask_for_json(calls, request.clone(), &schema, self.max_repairs).await {
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

    /// What answers a request directly: the agent template when it is a model, else a plain
    /// call to the decomposer's own model.
    pub fn answerer(&self) -> ExecutorSpec {
        match &self.agent {
            ExecutorSpec::Llm(_) => self.agent.clone(),
            _ => ExecutorSpec::Llm(LlmRun::plain(&self.provider_name, self.model.clone())),
        }
    }

    /// The domains the breakdown may use, as the prompt lists them.
    fn domains(&self, managers: bool) -> String {
        if !managers {
            return "any (the work goes to agents directly, with no managers between)".to_string();
        }
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
    use crate::domain::CheckSpec;

    fn decomposer() -> Decomposer {
        let llm: crate::llm::LlmConfig =
            toml::from_str("[providers.p]\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:9\"\nmodel = \"m\"")
                .expect("providers");
        let config = DecomposerConfig { provider: "p".into(), ..DecomposerConfig::default() };
        let decomposers = Decomposers::new(&config, Arc::new(Providers::from_config(&llm))).expect("valid");
        decomposers.server().expect("valid").expect("configured")
    }

    #[test]
    fn an_agent_whose_bundle_would_be_too_long_is_sent_back() {
        let long = "x".repeat(7_000);
        let subtask = |title: &str| json!({"title": title, "description": long, "domain": "backend", "function": "api", "complexity": "low"});
        let answer = json!({"tasks": [{"title": "API", "subtasks": [subtask("a"), subtask("b"), subtask("c")]}]});
        let errors = decomposer().grouped(&answer, Shape::TOP).expect_err("one agent, 21,000 characters");
        assert!(errors[0].contains("the tasks of 'api' come to more than 20000 characters"), "{errors:?}");
        let short = json!({"tasks": [{"title": "API", "subtasks": [
            {"title": "a", "description": "d", "domain": "backend", "function": "api", "complexity": "low"}]}]});
        let Grouped { children, .. } = decomposer().grouped(&short, Shape::TOP).expect("groups");
        assert_eq!(children[0].name, "backend");
        assert!(decomposer().grouped(&json!({"tasks": "none"}), Shape::TOP).unwrap_err()[0]
            .starts_with("the answer cannot be read"));
    }

    #[test]
    fn agents_only_below_the_cap_and_a_heavy_share_left_to_its_manager() {
        let task = |title: &str, domain: &str, complexity: &str| {
            json!({"title": title, "description": "d", "domain": domain, "function": "f", "complexity": complexity,
                   "success_criteria": [format!("{title} works")]})
        };
        let answer = json!({"tasks": [{"title": "All", "subtasks": [task("a", "backend", "high"),
            task("b", "backend", "high"), task("c", "backend", "high"), task("d", "backend", "high"),
            task("e", "frontend", "low")]}]});
        let flat = decomposer().grouped(&answer, Shape::AGENTS).expect("groups");
        assert!(flat.children.iter().all(|c| c.run.is_some()), "agents only");
        assert_eq!(flat.assignments[0]["agent"], "f-1");
        let mut checked = decomposer();
        checked.validate = true;
        let top = checked.grouped(&answer, Shape::TOP).expect("groups");
        let backend = &top.children[0];
        assert!(backend.children.is_none() && backend.decompose.is_some(), "weight 12: decomposed again");
        assert!(backend.description.as_deref().is_some_and(|d| d.starts_with("Your share of the project (4 tasks)")));
        assert_eq!(top.assignments[0]["decomposes"], true);
        let frontend = &top.children[1].children.as_ref().expect("agents")[0];
        assert!(matches!(&frontend.validate, Some(CheckSpec::Llm { criteria, .. }) if criteria == &["e works"]));
    }
}
