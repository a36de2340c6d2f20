//! Where each field of a job file is, by the path the server names it with
//! (`plan.children[0].run.ms`), so that its complaints point at a line and column of the file
//! the person wrote rather than of the JSON the CLI sent. JSON is YAML 1.2, so one YAML
//! parser that reports positions (saphyr-parser) serves both kinds of file.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, Span};

/// A position in a file: line and column, both from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Position {
    pub line: usize,
    pub column: usize,
}

/// The position of every key and sequence item of a document, by path.
#[derive(Debug, Default)]
pub(super) struct Positions(HashMap<String, Position>);

impl Positions {
    /// Reads the positions of `text`; None when it does not parse (its parser reports that).
    pub(super) fn of(text: &str) -> Option<Self> {
        let mut walk = Walk::default();
        for event in Parser::new_from_str(text) {
            let (event, span) = event.ok()?;
            walk.event(&event, span);
        }
        Some(Self(walk.found))
    }

    /// Where `path` is; for a path that is not in the file (a missing field), where its
    /// nearest enclosing field is.
    pub(super) fn find(&self, path: &str) -> Option<Position> {
        let mut path = path;
        loop {
            if let Some(position) = self.0.get(path) {
                return Some(*position);
            }
            path = &path[..path.rfind(['.', '['])?];
        }
    }
}

/// A mapping or sequence being read, with the path it sits at.
enum Open {
    /// `key` is the key whose value comes next, or None when a key comes next.
    Map {
        path: String,
        key: Option<String>,
    },
    Seq {
        path: String,
        next: usize,
    },
}

#[derive(Default)]
struct Walk {
    open: Vec<Open>,
    found: HashMap<String, Position>,
}

impl Walk {
    fn event(&mut self, event: &Event<'_>, span: Span) {
        match event {
            // A scalar is a key where a mapping expects one, else a value like an alias.
            Event::Scalar(value, ..) if self.key(value, span) => {}
            Event::Scalar(..) | Event::Alias(_) => {
                self.node(span);
            }
            Event::MappingStart(..) => {
                let path = self.node(span);
                self.open.push(Open::Map { path, key: None });
            }
            Event::SequenceStart(..) => {
                let path = self.node(span);
                self.open.push(Open::Seq { path, next: 0 });
            }
            // The mapping around it, if any, already expects its next key: `node` took the
            // key when this value began.
            Event::MappingEnd | Event::SequenceEnd => {
                self.open.pop();
            }
            _ => {}
        }
    }

    /// Takes a scalar as a mapping's key when one is expected; records where the key is.
    fn key(&mut self, value: &str, span: Span) -> bool {
        let Some(Open::Map { path, key: key @ None }) = self.open.last_mut() else { return false };
        let full = if path.is_empty() { value.to_string() } else { format!("{path}.{value}") };
        self.found.entry(full).or_insert_with(|| position(span));
        *key = Some(value.to_string());
        true
    }

    /// A value starts: returns its path, recording a sequence item's position, and (for a
    /// scalar or alias, which end at once) gets the enclosing mapping ready for its next key.
    fn node(&mut self, span: Span) -> String {
        let path = match self.open.last_mut() {
            None => String::new(),
            Some(Open::Map { path, key }) => {
                let key = key.take().unwrap_or_default();
                if path.is_empty() {
                    key
                } else {
                    format!("{path}.{key}")
                }
            }
            Some(Open::Seq { path, next }) => {
                let item = format!("{path}[{next}]");
                *next += 1;
                self.found.entry(item.clone()).or_insert_with(|| position(span));
                item
            }
        };
        path
    }
}

fn position(span: Span) -> Position {
    Position { line: span.start.line(), column: span.start.col() + 1 }
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = "request: r\nplan:\n  name: root\n  children:\n    - name: a\n      run: {type: sleep, ms: 99}\n    - {name: b, run: {type: noop}}\n";

    fn at(line: usize, column: usize) -> Option<Position> {
        Some(Position { line, column })
    }

    #[test]
    fn keys_and_items_of_block_and_flow_yaml_are_found_by_path() {
        let positions = Positions::of(YAML).expect("parses");
        assert_eq!(positions.find("request"), at(1, 1));
        assert_eq!(positions.find("plan.name"), at(3, 3));
        assert_eq!(positions.find("plan.children[0]"), at(5, 7));
        assert_eq!(positions.find("plan.children[0].run.ms"), at(6, 26));
        assert_eq!(positions.find("plan.children[1].run.type"), at(7, 23));
    }

    #[test]
    fn a_missing_field_points_at_the_nearest_enclosing_one() {
        let positions = Positions::of(YAML).expect("parses");
        assert_eq!(positions.find("plan.children[1].retry.max_attempts"), at(7, 7));
        assert_eq!(positions.find("plan.children[5]"), at(4, 3));
        assert_eq!(positions.find("labels"), None);
    }

    #[test]
    fn json_files_are_located_too() {
        let json = "{\n  \"request\": \"r\",\n  \"plan\": {\"name\": \"w\",\n    \"run\": {\"type\": \"sleep\", \"ms\": 1}}\n}\n";
        let positions = Positions::of(json).expect("parses");
        assert_eq!(positions.find("plan.name"), at(3, 12));
        assert_eq!(positions.find("plan.run.ms"), at(4, 30));
    }

    #[test]
    fn text_that_does_not_parse_has_no_positions() {
        assert!(Positions::of("a: [1, 2\nb: }").is_none());
    }
}
