//! `[workforce]`: the agent registry's settings (issue 16) — where more agent templates are
//! read from, and how long a node waits for an agent with room before it fails.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkforceConfig {
    /// A directory of `*.yaml` agent templates, added to the shipped ones (a file replaces
    /// the shipped template of its name); empty for the shipped ones only.
    pub templates_dir: String,
    /// How long a node waits for an eligible agent with room when its `delegate` sets no
    /// `timeout_s` (and a node naming a busy agent always), in seconds.
    pub wait_timeout_s: u64,
}

impl Default for WorkforceConfig {
    fn default() -> Self {
        Self { templates_dir: String::new(), wait_timeout_s: 3600 }
    }
}

impl WorkforceConfig {
    pub(super) fn problem(&self) -> Option<String> {
        (self.wait_timeout_s == 0).then(|| "workforce.wait_timeout_s must be at least 1".to_string())
    }

    /// The templates directory, when one is set.
    pub fn templates_dir(&self) -> Option<&std::path::Path> {
        (!self.templates_dir.trim().is_empty()).then(|| std::path::Path::new(&self.templates_dir))
    }
}
