//! `[decomposer]`: the model that turns a request into managers and agents (issue 13) — which
//! provider and model, where the operator's prompts are, how many corrections a breakdown
//! gets, the grouping thresholds, and the executor each agent runs.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::domain::{ExecutorSpec, ManagerSpec};

/// The decomposer's settings; with no `provider` there is no decomposer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DecomposerConfig {
    /// A provider named under `[llm.providers]`; empty: this server has no decomposer.
    pub provider: String,
    /// The model; the provider's default when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// A directory whose files replace the shipped prompts (`plan.md`, `decompose.schema.json`, …).
    pub prompts_dir: PathBuf,
    /// Corrections a plan or a breakdown gets when it breaks its schema or cannot be grouped.
    pub max_repairs: u32,
    /// Agents a group of tasks may get.
    pub max_agents_per_group: u32,
    /// A group heavier than this (low 1, medium 2, high 3 per task) gets a second agent.
    pub split_weight: u32,
    /// A manager whose tasks weigh this much or more (low 1, medium 2, high 3) decomposes its
    /// share itself at the next depth, when the depth cap leaves room; 0: never.
    pub nest_weight: u32,
    /// What each agent runs; default an `llm` worker on the decomposer's provider and model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<ExecutorSpec>,
    /// Manager by domain (`[decomposer.managers.backend] name = "api"`); absent: the six
    /// domain managers (database, backend, frontend, infrastructure, testing, documentation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managers: Option<BTreeMap<String, ManagerSpec>>,
}

impl Default for DecomposerConfig {
    fn default() -> Self {
        Self {
            provider: String::new(),
            model: None,
            prompts_dir: PathBuf::from("config/prompts"),
            max_repairs: 2,
            max_agents_per_group: 2,
            split_weight: 4,
            nest_weight: 12,
            agent: None,
            managers: None,
        }
    }
}

impl DecomposerConfig {
    /// Whether a decomposer is configured.
    pub fn is_set(&self) -> bool {
        !self.provider.is_empty()
    }

    /// What is wrong with these settings, given the configured providers.
    pub fn problem(&self, providers: &[&String]) -> Option<String> {
        if self.is_set() && !providers.contains(&&self.provider) {
            return Some(format!("decomposer.provider: no provider named '{}' under [llm.providers]", self.provider));
        }
        if let Some((domain, _)) =
            self.managers.iter().flatten().find(|(_, m)| !crate::domain::validate::is_valid_name(&m.name))
        {
            return Some(format!("decomposer.managers.{domain}.name must match [A-Za-z0-9_.-]{{1,64}}"));
        }
        (self.max_agents_per_group == 0).then(|| "decomposer.max_agents_per_group must be at least 1".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_with_defaults_and_names_what_is_wrong() {
        let config: DecomposerConfig =
            toml::from_str("provider = \"local\"\nagent = { type = \"command\", argv = [\"claude\", \"-p\"] }")
                .expect("reads");
        assert_eq!((config.max_repairs, config.max_agents_per_group, config.split_weight), (2, 2, 4));
        assert!(matches!(config.agent, Some(ExecutorSpec::Command { .. })));
        let local = "local".to_string();
        assert_eq!(config.problem(&[&local]), None);
        assert!(config.problem(&[]).is_some_and(|p| p.contains("no provider named 'local'")));
        assert!(!DecomposerConfig::default().is_set());
    }
}
