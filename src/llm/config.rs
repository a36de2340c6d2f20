//! `[llm.providers.NAME]`: where each provider is, its protocol, its default model, the name
//! of the environment variable holding its key (never the key), its limits and its prices.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Every configured provider.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LlmConfig {
    pub providers: BTreeMap<String, ProviderConfig>,
}

/// The wire protocol a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// `POST {base_url}/chat/completions`, `Authorization: Bearer`.
    Openai,
    /// `POST {base_url}/v1/messages`, `x-api-key` and `anthropic-version`.
    Anthropic,
}

/// One provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    pub kind: ProviderKind,
    /// `https://api.openai.com/v1`, `http://127.0.0.1:11434/v1` (Ollama), `https://api.anthropic.com`.
    pub base_url: String,
    /// The model a call that names none uses.
    pub model: String,
    /// The name of the environment variable that holds the key; empty for a local server
    /// that wants none.
    #[serde(default)]
    pub api_key_env: String,
    /// Limit of one HTTP attempt, in seconds.
    #[serde(default = "default_timeout_s")]
    pub timeout_s: u64,
    /// Attempts after the first on 408, 429, 5xx, 529, connection errors and timeouts.
    #[serde(default = "default_max_retries")]
    pub max_retries: u32,
    /// Calls in flight to this provider at once (apart from the depth quotas).
    #[serde(default = "default_max_concurrency")]
    pub max_concurrency: usize,
    /// Output tokens a call asks for when it sets no `max_tokens` (Anthropic requires one).
    #[serde(default = "default_max_tokens")]
    pub max_tokens: u32,
    #[serde(default)]
    pub prices: Prices,
}

/// Prices per million tokens, in the currency the operator chooses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Prices {
    pub input_per_mtok: f64,
    pub output_per_mtok: f64,
    pub cached_per_mtok: f64,
}

fn default_timeout_s() -> u64 {
    120
}

fn default_max_retries() -> u32 {
    3
}

fn default_max_concurrency() -> usize {
    8
}

fn default_max_tokens() -> u32 {
    4096
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_provider_table_reads_with_its_defaults_and_refuses_unknown_keys() {
        let text = r#"
            [providers.local]
            kind = "openai"
            base_url = "http://127.0.0.1:11434/v1"
            model = "qwen2.5:7b"
            prices = { input_per_mtok = 3.0, output_per_mtok = 15.0 }
        "#;
        let config: LlmConfig = toml::from_str(text).expect("reads");
        let local = &config.providers["local"];
        assert_eq!(
            (local.kind, local.timeout_s, local.max_retries, local.max_concurrency),
            (ProviderKind::Openai, 120, 3, 8)
        );
        assert_eq!(local.api_key_env, "", "a local server needs no key");
        assert_eq!(local.prices.cached_per_mtok, 0.0);
        let typo = text.replace("model =", "modle =");
        assert!(toml::from_str::<LlmConfig>(&typo).is_err(), "a misspelt key is an error");
        let wrong_kind = text.replace("\"openai\"", "\"gemini\"");
        assert!(toml::from_str::<LlmConfig>(&wrong_kind).is_err());
    }
}
