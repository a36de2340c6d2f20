//! A budget envelope as the command line reads and words it: what was spent against what was
//! allocated, per limited dimension (`budget cost 0.0210 of 1.00 (2 %) · 3,500 of 100,000
//! tokens (4 %)`), with what is reserved by calls in flight and what was given back. No I/O.

use serde::Deserialize;

use super::spend::{cost, thousands};

#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(default)]
struct Figures {
    cost: Option<f64>,
    tokens: Option<i64>,
}

/// A `budget` object of the API (absent on a node without an envelope).
#[derive(Debug, Clone, Copy, Deserialize)]
pub(super) struct Envelope {
    allocated: Figures,
    #[serde(default)]
    reserved: Figures,
    spent: Figures,
    #[serde(default)]
    returned: Figures,
}

impl Envelope {
    /// `budget cost 0.0210 of 1.00 (2 %) · 3,500 of 100,000 tokens (4 %) · reserved …`.
    pub(super) fn words(&self) -> String {
        let mut parts = Vec::new();
        if let Some(allocated) = self.allocated.cost {
            let spent = self.spent.cost.unwrap_or(0.0);
            parts.push(format!("cost {} of {}{}", cost(spent), cost(allocated), percent(spent, allocated)));
        }
        if let Some(allocated) = self.allocated.tokens {
            let spent = self.spent.tokens.unwrap_or(0);
            let share = percent(spent as f64, allocated as f64);
            parts.push(format!("{} of {} tokens{share}", thousands(spent), thousands(allocated)));
        }
        if self.reserved.cost.unwrap_or(0.0) > 0.0 || self.reserved.tokens.unwrap_or(0) > 0 {
            parts.push(format!("reserved {}", figures(self.reserved)));
        }
        if self.returned.cost.unwrap_or(0.0) > 0.0 || self.returned.tokens.unwrap_or(0) > 0 {
            parts.push(format!("returned {}", figures(self.returned)));
        }
        format!("budget {}", parts.join(" · "))
    }
}

fn percent(spent: f64, allocated: f64) -> String {
    if allocated > 0.0 {
        format!(" ({:.0} %)", spent / allocated * 100.0)
    } else {
        String::new()
    }
}

fn figures(figures: Figures) -> String {
    let tokens = figures.tokens.filter(|t| *t != 0).map(|t| format!(" / {} tokens", thousands(t))).unwrap_or_default();
    format!("cost {}{tokens}", cost(figures.cost.unwrap_or(0.0)))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn envelope(value: serde_json::Value) -> Envelope {
        serde_json::from_value(value).expect("an envelope")
    }

    #[test]
    fn spend_is_worded_against_each_limited_dimension() {
        let both = envelope(json!({"allocated": {"cost": 1.0, "tokens": 100_000},
            "reserved": {"cost": 0.0, "tokens": 0}, "spent": {"cost": 0.021, "tokens": 3_500},
            "returned": {"cost": 0.0, "tokens": 0}}));
        assert_eq!(both.words(), "budget cost 0.0210 of 1.00 (2 %) · 3,500 of 100,000 tokens (4 %)");
        let tokens = envelope(json!({"allocated": {"cost": null, "tokens": 1000},
            "reserved": {"cost": 0.002, "tokens": 400}, "spent": {"cost": 0.5, "tokens": 1050},
            "returned": {"cost": 0.0, "tokens": 0}}));
        assert_eq!(tokens.words(), "budget 1,050 of 1,000 tokens (105 %) · reserved cost 0.0020 / 400 tokens");
        let closed = envelope(json!({"allocated": {"cost": 0.3}, "spent": {"cost": 0.1}, "returned": {"cost": 0.2}}));
        assert_eq!(closed.words(), "budget cost 0.1000 of 0.3000 (33 %) · returned cost 0.2000");
    }
}
