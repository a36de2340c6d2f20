//! Agent templates (`config/agents/*.yaml`): the fields of a common kind of agent, which
//! `POST /api/v1/agents {from_template, name, …}` starts from (the seed's agent creation).
//! The shipped ones are built into the binary; `workforce.templates_dir` adds to them and
//! replaces any of the same name, file by file. Every template is read when the server starts,
//! and one that is not an agent (a wrong field, a bad type) stops the start with its file named.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::agent::{merge_patch, AgentSpec};

const SHIPPED: [(&str, &str); 4] = [
    ("backend-engineer", include_str!("../../config/agents/backend-engineer.yaml")),
    ("coding-agent-cli", include_str!("../../config/agents/coding-agent-cli.yaml")),
    ("manager", include_str!("../../config/agents/manager.yaml")),
    ("researcher", include_str!("../../config/agents/researcher.yaml")),
];

/// The templates by name (the file's stem).
#[derive(Debug, Clone, Default)]
pub struct Templates {
    by_name: BTreeMap<String, Value>,
}

impl Templates {
    /// The shipped templates, then those of `dir`.
    pub fn load(dir: Option<&Path>) -> Result<Self, String> {
        let mut by_name = BTreeMap::new();
        for (name, text) in SHIPPED {
            by_name.insert(name.to_string(), read(name, text)?);
        }
        let Some(dir) = dir else { return Ok(Self { by_name }) };
        let entries = std::fs::read_dir(dir).map_err(|e| format!("workforce.templates_dir {}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let Some(name) = template_name(&path) else { continue };
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            by_name.insert(name, read(&path.display().to_string(), &text)?);
        }
        Ok(Self { by_name })
    }

    /// The template's fields, if there is one by that name.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.by_name.get(name)
    }

    /// Every template, by name.
    pub fn all(&self) -> &BTreeMap<String, Value> {
        &self.by_name
    }

    /// The agent a creation asks for: the template's fields with the request's laid over them.
    pub fn instantiate(&self, template: &str, request: &Value) -> Result<Value, String> {
        let mut agent = self.get(template).cloned().ok_or_else(|| format!("no template named '{template}'"))?;
        merge_patch(&mut agent, request);
        Ok(agent)
    }
}

fn template_name(path: &Path) -> Option<String> {
    let extension = path.extension()?.to_str()?;
    matches!(extension, "yaml" | "yml").then(|| path.file_stem()?.to_str().map(str::to_string)).flatten()
}

/// A template's text as JSON, checked to be an agent once named.
fn read(source: &str, text: &str) -> Result<Value, String> {
    let value: Value = serde_norway::from_str(text).map_err(|e| format!("agent template {source}: {e}"))?;
    let mut named = value.clone();
    merge_patch(&mut named, &serde_json::json!({"name": "template"}));
    serde_json::from_value::<AgentSpec>(named).map_err(|e| format!("agent template {source}: {e}"))?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_templates_are_agents_and_a_directory_adds_to_them() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tester.yaml"), "title: Tester\nrun: {type: command, argv: [echo]}\n").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a template").unwrap();
        let templates = Templates::load(Some(dir.path())).unwrap();
        assert_eq!(templates.all().len(), SHIPPED.len() + 1);
        let agent = templates.instantiate("tester", &serde_json::json!({"name": "tess", "title": null})).unwrap();
        assert_eq!(agent, serde_json::json!({"name": "tess", "run": {"type": "command", "argv": ["echo"]}}));
        std::fs::write(dir.path().join("broken.yaml"), "colour: red\nrun: {type: noop}\n").unwrap();
        let refused = Templates::load(Some(dir.path())).unwrap_err();
        assert!(refused.contains("broken.yaml") && refused.contains("colour"), "{refused}");
    }
}
