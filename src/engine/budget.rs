//! Budgets that follow the tree (issue 14, seed 003 US5): the accounting, with no I/O.
//!
//! An *envelope* is what a node may spend: the job's budget at the root, or an amount carved
//! out of the nearest enveloped ancestor's when the node starts (an explicit amount, or a
//! share of what that ancestor has left). A node without a budget of its own draws from that
//! ancestor as needed — the default, because an equal split up front strands money in the
//! subtrees that need none while others run dry; the job's cap is what the user set.
//!
//! Money moves in four ways, and every envelope's books balance at every instant:
//! `allocated = available + reserved + spent + held` (held: carved out to open child
//! envelopes). A call *reserves* the most it can cost before it is made, or is refused; its
//! *settlement* replaces the reservation with what it did cost; a child envelope that closes
//! gives back what it did not spend and its spending joins its parent's. Reservations are
//! keyed (node, attempt, turn): asking again for a key returns the same reservation, and
//! settling a settled key does nothing — a node resumed after a crash neither pays twice nor
//! leaks a reservation. Amounts are integers (cost in millionths of the provider's currency,
//! tokens), so they add up exactly.
//!
//! One `Budgets` per job, behind a mutex its driver and its agents' calls share: a
//! reservation is checked and taken in one step, so concurrent calls never overspend.

use std::collections::HashMap;

/// Cost (millionths of the provider's currency) and tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Amount {
    pub micros: i64,
    pub tokens: i64,
}

impl Amount {
    pub const ZERO: Self = Self { micros: 0, tokens: 0 };

    pub const fn new(micros: i64, tokens: i64) -> Self {
        Self { micros, tokens }
    }

    fn plus(self, other: Self) -> Self {
        Self { micros: self.micros + other.micros, tokens: self.tokens + other.tokens }
    }

    fn minus(self, other: Self) -> Self {
        Self { micros: self.micros - other.micros, tokens: self.tokens - other.tokens }
    }
}

/// What an envelope may hold, per dimension; `None`: that dimension is not limited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limit {
    pub micros: Option<i64>,
    pub tokens: Option<i64>,
}

impl Limit {
    pub const UNLIMITED: Self = Self { micros: None, tokens: None };

    fn plus(self, amount: Amount) -> Self {
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OnExhausted {
    /// The call is refused; the node fails with `budget_exceeded`.
    Fail,
    /// The envelope is topped up from its ancestors' remaining money, up to the job's.
    #[default]
    AskParent,
}

/// Why a reservation or a grant was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exhausted {
    /// The envelope that could not cover it (a node index).
    pub envelope: usize,
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
pub struct Crossed {
    pub envelope: usize,
    pub percent: u8,
}

/// The levels that emit a warning, in percent of an envelope's allocation.
pub const WARNING_LEVELS: [u8; 3] = [80, 90, 100];

#[derive(Debug, Clone)]
struct Envelope {
    /// The nearest enveloped ancestor.
    parent: Option<usize>,
    books: Books,
    policy: OnExhausted,
    /// Levels of [`WARNING_LEVELS`] already reported.
    warned: usize,
}

/// The envelopes and open reservations of one job.
#[derive(Debug, Default)]
pub struct Budgets {
    envelopes: HashMap<usize, Envelope>,
    /// Node index → the envelope it draws on (itself when it has one).
    draws_on: HashMap<usize, usize>,
    /// Open reservations: key → (envelope, amount).
    reservations: HashMap<(usize, u32, u32), (usize, Amount)>,
}

impl Budgets {
    /// A job whose root (node 0) holds `limit`.
    pub fn new(limit: Limit, policy: OnExhausted) -> Self {
        let mut budgets = Self::default();
        budgets.envelopes.insert(0, envelope(None, limit, policy));
        budgets.draws_on.insert(0, 0);
        budgets
    }

    /// Node `node` (whose parent is `parent`) starts: its envelope is carved out per `grant`.
    pub fn open(&mut self, node: usize, parent: usize, grant: Grant, policy: OnExhausted) -> Result<(), Exhausted> {
        let ancestor = self.envelope_of(parent);
        let allocated = match grant {
            Grant::Draw => {
                self.draws_on.insert(node, ancestor);
                return Ok(());
            }
            Grant::Amount(limit) => self.carvable(ancestor, limit)?,
            Grant::Share(fraction) => self.share_of(ancestor, fraction),
        };
        let carved = Amount::new(allocated.micros.unwrap_or(0), allocated.tokens.unwrap_or(0));
        self.books_mut(ancestor).held = self.books(ancestor).held.plus(carved);
        self.envelopes.insert(node, envelope(Some(ancestor), allocated, policy));
        self.draws_on.insert(node, node);
        Ok(())
    }

    /// Node `node` ended: its open reservations are released, and an envelope of its own
    /// closes — its spending joins its parent's, the rest goes back.
    pub fn close(&mut self, node: usize) -> Option<Amount> {
        let keys: Vec<_> = self.reservations.keys().filter(|k| k.0 == node).copied().collect();
        for key in keys {
            self.release(key);
        }
        if self.draws_on.get(&node) != Some(&node) {
            self.draws_on.remove(&node);
            return None;
        }
        let parent = self.envelopes.get(&node)?.parent?;
        let books = &self.envelopes[&node].books;
        let carved = Amount::new(books.allocated.micros.unwrap_or(0), books.allocated.tokens.unwrap_or(0));
        let limited = |allocated: Option<i64>, spent: i64| allocated.map_or(0, |a| a - spent);
        let returned = Amount::new(
            limited(books.allocated.micros, books.spent.micros),
            limited(books.allocated.tokens, books.spent.tokens),
        );
        let spent = books.spent;
        self.books_mut(node).returned = returned;
        let parent_books = self.books_mut(parent);
        parent_books.held = parent_books.held.minus(carved);
        parent_books.spent = parent_books.spent.plus(spent);
        self.envelopes.remove(&node);
        self.draws_on.remove(&node);
        Some(returned)
    }

    /// Reserves `most` for the call `key` = (node, attempt, turn) before it is made.
    pub fn reserve(&mut self, key: (usize, u32, u32), most: Amount) -> Result<Amount, Exhausted> {
        if let Some(&(_, amount)) = self.reservations.get(&key) {
            return Ok(amount);
        }
        let target = self.envelope_of(key.0);
        if !fits(self.available(target), most) {
            self.top_up(target, most)?;
        }
        self.books_mut(target).reserved = self.books(target).reserved.plus(most);
        self.reservations.insert(key, (target, most));
        Ok(most)
    }

    /// The call `key` cost `actual`: its reservation becomes spending. Returns the warning
    /// levels this crossed.
    pub fn settle(&mut self, key: (usize, u32, u32), actual: Amount) -> Vec<Crossed> {
        let Some((target, reserved)) = self.reservations.remove(&key) else { return Vec::new() };
        let books = self.books_mut(target);
        books.reserved = books.reserved.minus(reserved);
        books.spent = books.spent.plus(actual);
        self.crossed(target)
    }

    /// Spending that had no reservation (usage a worker reported).
    pub fn charge(&mut self, node: usize, actual: Amount) -> Vec<Crossed> {
        let target = self.envelope_of(node);
        self.books_mut(target).spent = self.books(target).spent.plus(actual);
        self.crossed(target)
    }

    /// A reservation whose call was never made.
    pub fn release(&mut self, key: (usize, u32, u32)) {
        if let Some((target, reserved)) = self.reservations.remove(&key) {
            let books = self.books_mut(target);
            books.reserved = books.reserved.minus(reserved);
        }
    }

    /// The books of node `node`'s own envelope, if it has one.
    pub fn books_of(&self, node: usize) -> Option<&Books> {
        self.envelopes.get(&node).map(|e| &e.books)
    }

    /// What envelope `index` has left.
    pub fn available(&self, index: usize) -> Limit {
        let books = self.books(index);
        let used = books.reserved.plus(books.spent).plus(books.held);
        Limit {
            micros: books.allocated.micros.map(|m| m - used.micros),
            tokens: books.allocated.tokens.map(|t| t - used.tokens),
        }
    }

    fn envelope_of(&self, node: usize) -> usize {
        self.draws_on.get(&node).copied().unwrap_or(0)
    }

    fn books(&self, index: usize) -> &Books {
        &self.envelopes[&index].books
    }

    fn books_mut(&mut self, index: usize) -> &mut Books {
        &mut self.envelopes.get_mut(&index).unwrap_or_else(|| unreachable!("an open envelope")).books
    }

    /// An explicit amount, refused when the ancestor cannot cover it. A dimension the grant
    /// leaves out but the ancestor limits starts at 0, so every call tops it up from the
    /// ancestor (or is refused, under `Fail`): the ancestor's limit still holds.
    fn carvable(&mut self, ancestor: usize, limit: Limit) -> Result<Limit, Exhausted> {
        let left = self.available(ancestor);
        let limit =
            Limit { micros: limit.micros.or(left.micros.map(|_| 0)), tokens: limit.tokens.or(left.tokens.map(|_| 0)) };
        let wanted = Amount::new(limit.micros.unwrap_or(0), limit.tokens.unwrap_or(0));
        if !fits(self.available(ancestor), wanted) {
            self.top_up(ancestor, wanted)?;
        }
        Ok(limit)
    }

    /// `fraction` of what the ancestor has left, in each dimension it limits.
    fn share_of(&self, ancestor: usize, fraction: f64) -> Limit {
        let left = self.available(ancestor);
        let part = |value: i64| ((value.max(0) as f64) * fraction.clamp(0.0, 1.0)).floor() as i64;
        Limit { micros: left.micros.map(part), tokens: left.tokens.map(part) }
    }

    /// Moves what `index` lacks for `wanted` from its ancestors, nearest first, when its
    /// policy asks its parent; refuses otherwise, or when no ancestor has enough.
    fn top_up(&mut self, index: usize, wanted: Amount) -> Result<(), Exhausted> {
        let refused = Exhausted { envelope: index, needed: wanted, available: self.available(index) };
        let envelope = &self.envelopes[&index];
        let (Some(parent), OnExhausted::AskParent) = (envelope.parent, envelope.policy) else { return Err(refused) };
        let lacking = shortfall(self.available(index), wanted);
        if !fits(self.available(parent), lacking) {
            self.top_up(parent, lacking).map_err(|_| refused)?;
        }
        let parent_books = self.books_mut(parent);
        parent_books.held = parent_books.held.plus(lacking);
        let books = self.books_mut(index);
        books.allocated = books.allocated.plus(lacking);
        Ok(())
    }

    /// The warning levels envelope `index` newly crossed.
    fn crossed(&mut self, index: usize) -> Vec<Crossed> {
        let envelope = self.envelopes.get_mut(&index).unwrap_or_else(|| unreachable!("an open envelope"));
        let books = &envelope.books;
        let percent = |spent: i64, allocated: Option<i64>| allocated.filter(|a| *a > 0).map_or(0, |a| spent * 100 / a);
        let reached = percent(books.spent.micros, books.allocated.micros)
            .max(percent(books.spent.tokens, books.allocated.tokens));
        let mut out = Vec::new();
        while envelope.warned < WARNING_LEVELS.len() && reached >= i64::from(WARNING_LEVELS[envelope.warned]) {
            out.push(Crossed { envelope: index, percent: WARNING_LEVELS[envelope.warned] });
            envelope.warned += 1;
        }
        out
    }
}

/// The most a call can cost, reserved before it is made: every byte of the request counted
/// as an input token (a byte-level tokenizer's token is at least one byte, so this is never
/// less than the real count), plus `max_tokens` out, at the provider's prices per million
/// tokens — which is the cost in millionths.
pub fn most_a_call_costs(
    request_bytes: usize,
    max_tokens: u32,
    (input_per_mtok, output_per_mtok): (f64, f64),
) -> Amount {
    let input = i64::try_from(request_bytes).unwrap_or(i64::MAX);
    let output = i64::from(max_tokens);
    let micros = (input as f64 * input_per_mtok + output as f64 * output_per_mtok).ceil();
    Amount::new(micros as i64, input.saturating_add(output))
}

fn envelope(parent: Option<usize>, allocated: Limit, policy: OnExhausted) -> Envelope {
    let books =
        Books { allocated, reserved: Amount::ZERO, spent: Amount::ZERO, held: Amount::ZERO, returned: Amount::ZERO };
    Envelope { parent, books, policy, warned: 0 }
}

/// Whether `wanted` fits in what is left (an unlimited dimension always fits).
fn fits(left: Limit, wanted: Amount) -> bool {
    left.micros.is_none_or(|m| m >= wanted.micros) && left.tokens.is_none_or(|t| t >= wanted.tokens)
}

/// What is missing from `left` for `wanted`, per limited dimension.
fn shortfall(left: Limit, wanted: Amount) -> Amount {
    let lacking = |left: Option<i64>, wanted: i64| left.map_or(0, |l| (wanted - l).max(0));
    Amount::new(lacking(left.micros, wanted.micros), lacking(left.tokens, wanted.tokens))
}

#[cfg(test)]
#[path = "budget_tests.rs"]
mod tests;
