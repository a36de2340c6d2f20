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
use super::{group, to_nodes, Decomposition, GroupingConfig, Manager, ManagerPlan};
use crate::config::DecomposerConfig;
use crate::domain::validate_llm::MAX_DESCRIPTION_CHARS;
use crate::domain::{CheckSpec, DecomposeSpec, ExecutorSpec, LlmRun, ManagerSpec, NodeSpec};
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
    model: Option<String>,
    pub(crate) prompts: Arc<Prompts>,
    grouping: GroupingConfig,
    agent: ExecutorSpec,
    pub(crate) max_repairs: u32,
    validate: bool,
}

/// Where the children of a breakdown go: whether managers fit under the node, and the
/// checks (at run time, the creation) of the children.
#[async_trait::async_trait]
pub trait Placement: Send + Sync {
    /// False at the depth cap's edge: the node gets agents only, no managers.
    fn managers_fit(&self) -> bool;
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
        let domains = self.domains(placement.managers_fit());
        let plan_text = serde_json::to_string_pretty(&plan).unwrap_or_default();
        let values =
            [("request", request), ("plan", plan_text.as_str()), ("domains", domains.as_str()), ("context", context)];
        let mut request = self.request(self.prompts.decompose.render(&values), &self.prompts.decompose);
        calls.phase("decompose");
        for repair in 0..=self.max_repairs {
            let answer = self.ask(calls, &request, &self.prompts.decompose, &mut completions).await?;
            let errors = match self.grouped(&answer, placement.managers_fit()) {
                Ok((decomposition, plans, children)) => match placement.place(&children).await {
                    Ok(()) => {
                        let assignments = assignments(&plans, placement.managers_fit());
                        return Ok(Breakdown { plan, decomposition, assignments, children, completions });
                    }
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

    /// The answer read as a decomposition and grouped (under managers, or as agents only),
    /// or the sentences that say why not.
    fn grouped(
        &self,
        answer: &Value,
        managers: bool,
    ) -> Result<(Decomposition, Vec<ManagerPlan>, Vec<NodeSpec>), Vec<String>> {
        let decomposition: Decomposition =
            serde_json::from_value(answer.clone()).map_err(|e| vec![format!("the answer cannot be read: {e}")])?;
        let plans =
            if managers { group(&decomposition, &self.grouping)? } else { group(&decomposition, &agents_only())? };
        let instructions = self.prompts.agent_instructions.render(&[]);
        let mut children = to_nodes(&plans, &self.agent, &instructions);
        if !managers {
            children = children.into_iter().flat_map(|m| m.children.unwrap_or_default()).collect();
        }
        if self.validate {
            self.add_checks(&plans, &mut children, managers);
        }
        let limit = MAX_DESCRIPTION_CHARS;
        let agents = |n: &NodeSpec| if managers { n.children.clone().unwrap_or_default() } else { vec![n.clone()] };
        let too_long: Vec<String> = children
            .iter()
            .flat_map(agents)
            .filter(|agent| agent.description.as_ref().is_some_and(|d| d.chars().count() > limit))
            .map(|agent| {
                format!(
                    "the tasks of agent '{}' come to more than {limit} characters together: shorten their descriptions",
                    agent.name
                )
            })
            .collect();
        if too_long.is_empty() {
            Ok((decomposition, plans, children))
        } else {
            Err(too_long)
        }
    }

    /// Each agent judged against its tasks' success criteria by the decomposer's model.
    fn add_checks(&self, plans: &[ManagerPlan], children: &mut [NodeSpec], managers: bool) {
        let criteria = |agent: &super::AgentPlan| -> Vec<String> {
            agent.tasks.iter().flat_map(|t| t.success_criteria.iter().cloned()).collect()
        };
        let check = |criteria: Vec<String>| CheckSpec::Llm {
            provider: self.provider_name.clone(),
            model: self.model.clone(),
            criteria,
        };
        let agent_plans: Vec<&super::AgentPlan> = plans.iter().flat_map(|m| &m.agents).collect();
        let agent_nodes: Vec<&mut NodeSpec> = if managers {
            children.iter_mut().flat_map(|m| m.children.iter_mut().flatten()).collect()
        } else {
            children.iter_mut().collect()
        };
        for (node, plan) in agent_nodes.into_iter().zip(agent_plans) {
            node.validate = Some(check(criteria(plan)));
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
            return "any (the work goes to agents directly: there is no room for managers)".to_string();
        }
        self.grouping.managers.keys().map(String::as_str).collect::<Vec<_>>().join(", ")
    }
}

/// Every subtask under one heading: what a node with no room for managers groups by.
fn agents_only() -> GroupingConfig {
    GroupingConfig {
        managers: BTreeMap::new(),
        fallback: Manager { name: "agents".into(), title: "Agents".into() },
        ..GroupingConfig::default()
    }
}

/// `[{manager, agents: [{name, tasks: [titles]}]}]`, or `[{agent, tasks}]` without managers.
fn assignments(plans: &[ManagerPlan], managers: bool) -> Value {
    let agent = |a: &super::AgentPlan| json!({"agent": a.name, "title": a.title, "tasks": a.tasks.iter().map(|t| &t.title).collect::<Vec<_>>()});
    if !managers {
        return plans.iter().flat_map(|m| m.agents.iter().map(agent)).collect();
    }
    plans
        .iter()
        .map(|m| json!({"manager": m.name, "title": m.title, "agents": m.agents.iter().map(agent).collect::<Vec<_>>()}))
        .collect()
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
        let decomposers = Decomposers::new(&config, Arc::new(Providers::from_config(&llm))).expect("valid");
        decomposers.server().expect("valid").expect("configured")
    }

    #[test]
    fn an_agent_whose_bundle_would_be_too_long_is_sent_back() {
        let long = "x".repeat(7_000);
        let subtask = |title: &str| json!({"title": title, "description": long, "domain": "backend", "function": "api", "complexity": "low"});
        let answer = json!({"tasks": [{"title": "API", "subtasks": [subtask("a"), subtask("b"), subtask("c")]}]});
        let errors = decomposer().grouped(&answer, true).expect_err("one agent, 21,000 characters");
        assert!(errors[0].contains("agent 'api' come to more than 20000 characters"), "{errors:?}");
        let short = json!({"tasks": [{"title": "API", "subtasks": [
            {"title": "a", "description": "d", "domain": "backend", "function": "api", "complexity": "low"}]}]});
        let (_, _, children) = decomposer().grouped(&short, true).expect("groups");
        assert_eq!(children[0].name, "backend");
        assert!(decomposer().grouped(&json!({"tasks": "none"}), true).unwrap_err()[0]
            .starts_with("the answer cannot be read"));
    }
}
