//! Which events a subscriber wants: by depth (exact or a range), job, and type. The same
//! filter comes from the query string at connect time or from a `subscribe` message later;
//! a malformed one is refused with a message that says why, never silently mismatched.

use std::collections::HashSet;

use serde::Deserialize;
use uuid::Uuid;

use crate::domain::HARD_MAX_DEPTH;
use crate::events::{Event, EventKind};

/// The kinds a subscriber may ask for.
const KINDS: &[EventKind] = EventKind::ALL;

/// A filter as written by the client.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterSpec {
    pub depth: Option<i64>,
    pub min_depth: Option<i64>,
    pub max_depth: Option<i64>,
    pub job_id: Option<Uuid>,
    /// Comma-separated, or a JSON array in a `subscribe` message.
    pub types: Option<Types>,
}

/// `types` as a comma list or an array.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Types {
    List(Vec<String>),
    Csv(String),
}

/// A checked filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    depths: Option<(i64, i64)>,
    job_id: Option<Uuid>,
    types: Option<HashSet<String>>,
}

impl Filter {
    /// Checks a filter spec.
    pub fn parse(spec: &FilterSpec) -> Result<Self, String> {
        let depths = match (spec.depth, spec.min_depth, spec.max_depth) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return Err("use `depth` or `min_depth`/`max_depth`, not both".into());
            }
            (Some(d), None, None) => Some((d, d)),
            (None, None, None) => None,
            (None, min, max) => Some((min.unwrap_or(0), max.unwrap_or(i64::from(HARD_MAX_DEPTH)))),
        };
        if let Some((min, max)) = depths {
            let cap = i64::from(HARD_MAX_DEPTH);
            if !(0..=cap).contains(&min) || !(0..=cap).contains(&max) || min > max {
                return Err(format!("depths must be 0–{cap} with min_depth ≤ max_depth"));
            }
        }
        Ok(Self { depths, job_id: spec.job_id, types: parse_types(spec.types.as_ref())? })
    }

    /// The one depth this filter is limited to, if it is (it then listens to that depth's feed).
    pub fn single_depth(&self) -> Option<u8> {
        match self.depths {
            Some((min, max)) if min == max => u8::try_from(min).ok(),
            _ => None,
        }
    }

    /// The job this filter is limited to, if any (replay reads only its events).
    pub fn job_id(&self) -> Option<Uuid> {
        self.job_id
    }

    /// True when the subscriber wants `event`.
    pub fn matches(&self, event: &Event) -> bool {
        let depth_ok = self.depths.is_none_or(|(min, max)| event.depth.is_some_and(|d| (min..=max).contains(&d)));
        let job_ok = self.job_id.is_none_or(|id| event.job_id == Some(id));
        let type_ok = self.types.as_ref().is_none_or(|t| t.contains(&event.kind));
        depth_ok && job_ok && type_ok
    }
}

fn parse_types(types: Option<&Types>) -> Result<Option<HashSet<String>>, String> {
    let names: Vec<String> = match types {
        None => return Ok(None),
        Some(Types::List(list)) => list.clone(),
        Some(Types::Csv(text)) => text.split(',').map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect(),
    };
    for name in &names {
        if !KINDS.iter().any(|k| k.as_str() == name) {
            let known: Vec<&str> = KINDS.iter().map(|k| k.as_str()).collect();
            return Err(format!("unknown event type '{name}' (known: {})", known.join(", ")));
        }
    }
    Ok(Some(names.into_iter().collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, depth: Option<i64>, job_id: Option<Uuid>) -> Event {
        let row = crate::store::EventRow { seq: 1, ts_ms: 0, kind: kind.into(), job_id, depth, data: "null".into() };
        Event::from_row(&row)
    }

    #[test]
    fn depth_job_and_type_filters_combine() {
        let job = Uuid::new_v4();
        let spec = FilterSpec {
            min_depth: Some(1),
            max_depth: Some(2),
            job_id: Some(job),
            types: Some(Types::Csv("node_completed".into())),
            ..FilterSpec::default()
        };
        let filter = Filter::parse(&spec).expect("valid");
        assert!(filter.matches(&event("node_completed", Some(2), Some(job))));
        assert!(!filter.matches(&event("node_completed", Some(3), Some(job))));
        assert!(!filter.matches(&event("node_completed", Some(1), None)));
        assert!(!filter.matches(&event("worker_started", Some(1), Some(job))));
    }

    #[test]
    fn malformed_filters_say_why() {
        let both = FilterSpec { depth: Some(1), min_depth: Some(0), ..FilterSpec::default() };
        assert!(Filter::parse(&both).unwrap_err().contains("not both"));
        let inverted = FilterSpec { min_depth: Some(3), max_depth: Some(1), ..FilterSpec::default() };
        assert!(Filter::parse(&inverted).is_err());
        let bogus = FilterSpec { types: Some(Types::List(vec!["bogus".into()])), ..FilterSpec::default() };
        assert!(Filter::parse(&bogus).unwrap_err().contains("unknown event type 'bogus'"));
    }
}
