//! What model calls spent, as the command line reads and writes it: a job's, a node's or a
//! subtree's `usage` from the API (absent or null on a server without model calls), the
//! figures of one `llm_call` event, their sums, and the words they become
//! (`tokens 12,345 in / 3,210 out · cost 0.0421 · 7 calls`). No I/O here.

use serde::Deserialize;
use serde_json::Value;

/// Tokens (cached ones are part of the input), cost at the server's configured prices, and
/// calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(default)]
pub(super) struct Spend {
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cached_tokens: i64,
    pub cost: f64,
    pub calls: i64,
}

impl Spend {
    /// A `usage` object of the API; None for null, a missing field or anything else.
    pub(super) fn from_value(value: &Value) -> Option<Self> {
        value.is_object().then(|| Self::deserialize(value).ok()).flatten()
    }

    /// What one `llm_call` event adds: its tokens and cost, and one call.
    pub(super) fn of_call(data: &Value) -> Self {
        Self { calls: 1, ..Self::from_value(data).unwrap_or_default() }
    }

    pub(super) fn add(&mut self, other: &Self) {
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.cached_tokens += other.cached_tokens;
        self.cost += other.cost;
        self.calls += other.calls;
    }

    /// `12,345 in (8,000 cached) / 3,210 out · cost 0.0421`.
    pub(super) fn tokens_and_cost(&self) -> String {
        let cached = match self.cached_tokens {
            0 => String::new(),
            n => format!(" ({} cached)", thousands(n)),
        };
        format!(
            "{} in{cached} / {} out · cost {}",
            thousands(self.input_tokens),
            thousands(self.output_tokens),
            cost(self.cost)
        )
    }

    /// `tokens 12,345 in / 3,210 out · cost 0.0421 · 7 calls`.
    pub(super) fn line(&self) -> String {
        let calls = if self.calls == 1 { "1 call".to_string() } else { format!("{} calls", thousands(self.calls)) };
        format!("tokens {} · {calls}", self.tokens_and_cost())
    }
}

/// A whole number with thousands separators: `12,345`.
pub(super) fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    if n < 0 {
        out.insert(0, '-');
    }
    out
}

/// A cost at the configured prices (whose currency the server does not name): four decimals
/// below 1, two from 1 on, `<0.0001` for a cost that rounds to nothing, `0` for none.
pub(super) fn cost(value: f64) -> String {
    match value {
        v if !v.is_finite() || v <= 0.0 => "0".to_string(),
        v if v < 0.000_05 => "<0.0001".to_string(),
        v if v < 1.0 => format!("{v:.4}"),
        v => format!("{v:.2}"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn usages_are_read_when_present_and_a_call_counts_once() {
        assert_eq!(Spend::from_value(&Value::Null), None);
        assert_eq!(Spend::from_value(&json!({"job_id": "j"})["usage"]), None, "an older server sends none");
        let usage =
            json!({"input_tokens": 1200, "output_tokens": 340, "cached_tokens": 800, "cost": 0.0042, "calls": 2});
        let mut spend = Spend::from_value(&usage).expect("a usage");
        assert_eq!((spend.input_tokens, spend.calls), (1200, 2));
        let call = json!({"node_id": "n", "model": "m", "input_tokens": 100, "output_tokens": 10, "cost": 0.5,
                          "http_status": null});
        spend.add(&Spend::of_call(&call));
        assert_eq!(spend, Spend { input_tokens: 1300, output_tokens: 350, cached_tokens: 800, cost: 0.5042, calls: 3 });
        assert_eq!(Spend::from_value(&json!({"input_tokens": "many"})), None, "a malformed usage is none");
    }

    #[test]
    fn spend_reads_with_separators_and_a_cost_precise_to_its_size() {
        let spend = Spend { input_tokens: 12_345, output_tokens: 3_210, cached_tokens: 0, cost: 0.04213, calls: 7 };
        assert_eq!(spend.line(), "tokens 12,345 in / 3,210 out · cost 0.0421 · 7 calls");
        let cached = Spend { cached_tokens: 8_000, calls: 1, cost: 12.345, ..spend };
        assert_eq!(cached.line(), "tokens 12,345 in (8,000 cached) / 3,210 out · cost 12.35 · 1 call");
        assert_eq!(
            [0, 7, 999, 1_000, 1_234_567, -4_500].map(thousands),
            ["0", "7", "999", "1,000", "1,234,567", "-4,500"]
        );
        assert_eq!([0.0, 0.000_01, 0.0042, 1.0, f64::NAN].map(cost), ["0", "<0.0001", "0.0042", "1.00", "0"]);
    }
}
