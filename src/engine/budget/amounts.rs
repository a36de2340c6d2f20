//! The figures budgets are kept in: amounts and limits in integers (cost in millionths of
//! the provider's currency, tokens), how an envelope is granted, what a refusal says, and the
//! most a call can cost before it is made.

use serde::{Deserialize, Serialize};

use crate::llm::Ceiling;

/// Cost (millionths of the provider's currency) and tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Amount {
    pub micros: i64,
    pub tokens: i64,
}

impl Amount {
    pub const ZERO: Self = Self { micros: 0, tokens: 0 };

    pub const fn new(micros: i64, tokens: i64) -> Self {
        Self { micros, tokens }
    }

    /// What one call or report cost: its cost in millionths (rounded to the nearest) and
    /// its input and output tokens.
    pub fn of_call(cost: f64, input_tokens: i64, output_tokens: i64) -> Self {
        let micros = (cost.max(0.0) * 1_000_000.0).round() as i64;
        Self { micros, tokens: input_tokens.max(0).saturating_add(output_tokens.max(0)) }
    }

    pub fn plus(self, other: Self) -> Self {
        Self { micros: self.micros + other.micros, tokens: self.tokens + other.tokens }
    }

    pub fn minus(self, other: Self) -> Self {
        Self { micros: self.micros - other.micros, tokens: self.tokens - other.tokens }
    }
}

/// What an envelope may hold, per dimension; `None`: that dimension is not limited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limit {
    pub micros: Option<i64>,
    pub tokens: Option<i64>,
}

impl Limit {
    pub const UNLIMITED: Self = Self { micros: None, tokens: None };

    pub(super) fn plus(self, amount: Amount) -> Self {
        Self { micros: self.micros.map(|m| m + amount.micros), tokens: self.tokens.map(|t| t + amount.tokens) }
    }
}

/// How a node's envelope is made when it starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Grant {
    /// Its own envelope of this much (never more than the ancestor has left).
    Amount(Limit),
    /// This fraction (0–1) of what the ancestor has left when the node starts.
    Share(f64),
    /// No envelope: its calls draw on the nearest enveloped ancestor (the default).
    Draw,
}

/// What happens when an envelope cannot cover a call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnExhausted {
    /// The call is refused; the node fails with `budget_exceeded`.
    Fail,
    /// The envelope is topped up from its ancestors' remaining money, up to the job's.
    #[default]
    AskParent,
}

/// Why a reservation or a grant was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exhausted<K> {
    /// The envelope that could not cover it.
    pub envelope: K,
    pub needed: Amount,
    /// What it had left (`None` per unlimited dimension).
    pub available: Limit,
}

/// An envelope's books.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Books {
    pub allocated: Limit,
    pub reserved: Amount,
    pub spent: Amount,
    /// Carved out to child envelopes still open.
    pub held: Amount,
    /// Given back to the parent when it closed.
    pub returned: Amount,
}

/// A warning level crossed: `percent` of `envelope`'s allocation is spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crossed<K> {
    pub envelope: K,
    pub percent: u8,
}

/// The levels that emit a warning, in percent of an envelope's allocation.
pub const WARNING_LEVELS: [u8; 3] = [80, 90, 100];

/// The most a call can cost, reserved before it is made: every byte of the request counted
/// as an input token (a byte-level tokenizer's token is at least one byte, so this is never
/// less than the real count), plus `max_tokens` out, at the provider's prices per million
/// tokens — which is the cost in millionths.
pub fn most_a_call_costs(ceiling: &Ceiling) -> Amount {
    let input = i64::try_from(ceiling.request_bytes).unwrap_or(i64::MAX);
    let output = i64::from(ceiling.max_tokens);
    let micros = (input as f64 * ceiling.input_per_mtok + output as f64 * ceiling.output_per_mtok).ceil();
    Amount::new(micros as i64, input.saturating_add(output))
}

/// What an allocation takes out of the envelope above (nothing for an unlimited dimension).
pub(super) fn carved(limit: Limit) -> Amount {
    Amount::new(limit.micros.unwrap_or(0), limit.tokens.unwrap_or(0))
}

/// Whether `wanted` fits in what is left (an unlimited dimension always fits).
pub(super) fn fits(left: Limit, wanted: Amount) -> bool {
    left.micros.is_none_or(|m| m >= wanted.micros) && left.tokens.is_none_or(|t| t >= wanted.tokens)
}

/// What is missing from `left` for `wanted`, per limited dimension.
pub(super) fn shortfall(left: Limit, wanted: Amount) -> Amount {
    let lacking = |left: Option<i64>, wanted: i64| left.map_or(0, |l| (wanted - l).max(0));
    Amount::new(lacking(left.micros, wanted.micros), lacking(left.tokens, wanted.tokens))
}
