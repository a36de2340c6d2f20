//! Job files as a person writes them: JSON or YAML, read into the JSON body the API takes,
//! with every complaint (the parser's, or the server's about a field) pointing at the line
//! and column of the file itself: `team.yaml:12:9: plan.children[0].run.ms: at most …`.

use std::path::Path;
use std::sync::OnceLock;

use serde_json::Value;

use super::locate::{Position, Positions};

/// A job file, read and parsed.
pub(super) struct JobFile {
    /// The file's name as the person gave it.
    name: String,
    text: String,
    /// The body to send.
    pub body: Value,
    /// Where each field is, worked out only if the server complains.
    positions: OnceLock<Option<Positions>>,
}

impl JobFile {
    /// Reads a job file; `.yaml`/`.yml` as YAML, anything else as JSON.
    pub(super) fn read(file: &Path) -> Result<Self, String> {
        let name = file.display().to_string();
        let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read {name}: {e}"))?;
        let is_yaml = file.extension().and_then(|e| e.to_str()).is_some_and(|e| e == "yaml" || e == "yml");
        let body = if is_yaml { parse_yaml(&name, &text)? } else { parse_json(&name, &text)? };
        Ok(Self { name, text, body, positions: OnceLock::new() })
    }

    /// One line per field error: `FILE:LINE:COLUMN: PATH: MESSAGE`, or without the position
    /// when the field cannot be found in the file.
    pub(super) fn field_error(&self, path: &str, message: &str) -> String {
        let label = if path.is_empty() { String::new() } else { format!("{path}: ") };
        match self.find(path, message) {
            Some(Position { line, column }) => format!("{}:{line}:{column}: {label}{message}", self.name),
            None => format!("{}: {label}{message}", self.name),
        }
    }

    fn find(&self, path: &str, message: &str) -> Option<Position> {
        let positions = self.positions.get_or_init(|| Positions::of(&self.text)).as_ref()?;
        // An unknown field is reported at the object holding it; the field itself is the
        // better place to point at.
        let unknown = message.strip_prefix("unknown field `").and_then(|rest| rest.split('`').next());
        let own = unknown.map(|field| if path.is_empty() { field.to_string() } else { format!("{path}.{field}") });
        own.and_then(|own| positions.find(&own)).or_else(|| positions.find(path))
    }
}

fn parse_yaml(name: &str, text: &str) -> Result<Value, String> {
    serde_norway::from_str(text).map_err(|e| {
        let message = e.to_string();
        match e.location() {
            Some(at) => {
                let message = strip_location(&message, at.line(), at.column());
                format!("{name}:{}:{}: not valid YAML: {message}", at.line(), at.column())
            }
            None => format!("{name}: not valid YAML: {message}"),
        }
    })
}

fn parse_json(name: &str, text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| {
        let message = strip_location(&e.to_string(), e.line(), e.column());
        format!("{name}:{}:{}: not valid JSON: {message}", e.line(), e.column())
    })
}

/// The parsers put the position in their messages, which the prefix now carries.
fn strip_location(message: &str, line: usize, column: usize) -> String {
    message.replacen(&format!(" at line {line} column {column}"), "", 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(name: &str, text: &str) -> Result<JobFile, String> {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        JobFile::read(&path).map(|mut f| {
            f.name = name.to_string();
            f
        })
    }

    #[test]
    fn yaml_and_json_syntax_errors_name_the_line_and_column() {
        let yaml = job("bad.yaml", "request: r\nplan:\n  name: [unclosed\n").err().expect("refused");
        assert!(yaml.contains(".yaml:4:1: not valid YAML: "), "{yaml}");
        assert!(!yaml.contains("at line 4 column 1"), "the position is said once: {yaml}");
        let json = job("bad.json", "{\n  \"request\": \"r\",\n  \"plan\": }\n").err().expect("refused");
        assert!(json.contains(".json:3:11: not valid JSON: expected value"), "{json}");
    }

    #[test]
    fn a_field_error_points_into_the_file_as_written() {
        let file = job("j.yaml", "request: r\nplan:\n  name: w\n  run: {type: sleep, ms: 999999999}\n").expect("reads");
        assert_eq!(file.body["plan"]["run"]["ms"], 999_999_999);
        assert_eq!(file.field_error("plan.run.ms", "at most 1 ms"), "j.yaml:4:22: plan.run.ms: at most 1 ms");
        let unknown = file.field_error("plan", "unknown field `run`, expected `name`");
        assert!(unknown.starts_with("j.yaml:4:3: plan: unknown field"), "{unknown}");
        assert_eq!(file.field_error("labels.x", "no"), "j.yaml: labels.x: no");
    }
}
