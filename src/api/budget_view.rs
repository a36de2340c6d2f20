//! How a budget envelope's stored books are shown: cost in the providers' currency (the
//! books keep millionths), tokens as counted. Shared by the job view and the hierarchy.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::engine::budget::live::cost_of;
use crate::engine::budget::{Amount, Limit, StoredBooks};
use crate::store::BudgetRow;

/// Cost and tokens; in `allocated`, null is an unlimited dimension.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BudgetFigures {
    pub cost: Option<f64>,
    pub tokens: Option<i64>,
}

/// A node's budget envelope: what it was given (top-ups included), what calls in flight
/// have reserved, what its whole subtree has spent, and what it gave back to its parent when
/// it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BudgetView {
    pub allocated: BudgetFigures,
    pub reserved: BudgetFigures,
    pub spent: BudgetFigures,
    pub returned: BudgetFigures,
    /// What it does when a call cannot be covered: `fail` or `ask_parent`.
    #[schema(pattern = "^(fail|ask_parent)$")]
    pub on_exhausted: String,
    /// The share of its allocation spent, in its most spent dimension (above 1 when a report
    /// took it over); null when nothing is limited.
    pub used: Option<f64>,
}

impl BudgetView {
    /// The view of stored books; `None` when they cannot be read.
    pub fn of(books: &str) -> Option<Self> {
        let books: StoredBooks = serde_json::from_str(books).ok()?;
        let used = |spent: i64, allocated: Option<i64>| allocated.filter(|a| *a > 0).map(|a| spent as f64 / a as f64);
        let used = match (
            used(books.spent.micros, books.allocated.micros),
            used(books.spent.tokens, books.allocated.tokens),
        ) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let on_exhausted = serde_json::to_value(books.policy).ok()?.as_str()?.to_string();
        Some(Self {
            allocated: limit(books.allocated),
            reserved: amount(books.reserved),
            spent: amount(books.spent),
            returned: amount(books.returned),
            on_exhausted,
            used,
        })
    }
}

/// The views of a job's stored books, by node.
pub fn by_node(rows: &[BudgetRow]) -> HashMap<Uuid, BudgetView> {
    rows.iter().filter_map(|row| BudgetView::of(&row.books).map(|view| (row.node_id, view))).collect()
}

fn limit(limit: Limit) -> BudgetFigures {
    BudgetFigures { cost: limit.micros.map(cost_of), tokens: limit.tokens }
}

fn amount(amount: Amount) -> BudgetFigures {
    BudgetFigures { cost: Some(cost_of(amount.micros)), tokens: Some(amount.tokens) }
}
