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
//! *settlement* replaces the reservation with what it did cost, counted as it happens in every
//! envelope above (spending bubbles up); a child envelope that closes gives back what it did
//! not spend. Reservations are
//! keyed (node, attempt, turn): asking again for a key returns the same reservation, and
//! settling a settled key does nothing — a node resumed after a crash neither pays twice nor
//! leaks a reservation. Amounts are integers (cost in millionths of the provider's currency,
//! tokens), so they add up exactly.
//!
//! One `Budgets` per job, behind a mutex its driver and its agents' calls share: a
//! reservation is checked and taken in one step, so concurrent calls never overspend. That
//! handle, which also writes every change to the journal, is [`live`]; the figures are in
//! `amounts`.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;

mod amounts;
pub mod live;

use amounts::{carved, fits, shortfall};
pub use amounts::{most_a_call_costs, Amount, Books, Crossed, Exhausted, Grant, Limit, OnExhausted, WARNING_LEVELS};
pub use live::{is_refusal, Budgeting, JobBudget, Seat, StoredBooks, BUDGET_EXCEEDED};

#[derive(Debug, Clone)]
struct Envelope {
    books: Books,
    policy: OnExhausted,
    /// Levels of [`WARNING_LEVELS`] already reported.
    warned: usize,
}

/// What a job's books are rebuilt from after a restart (see [`Budgets::restore`]).
#[derive(Debug)]
pub struct Stored<K> {
    /// (node, parent) for every node but the root.
    pub links: Vec<(K, K)>,
    /// Envelopes still open (the root's excluded): node, allocation, policy.
    pub open: Vec<(K, Limit, OnExhausted)>,
    /// Nodes whose envelope has closed.
    pub closed: Vec<K>,
    /// What each node spent, one entry per ledger row.
    pub spending: Vec<(K, Amount)>,
}

/// A reservation's key: the node, its attempt, and the call's turn within the attempt.
pub type CallKey<K> = (K, u32, u32);

/// The envelopes and open reservations of one job, its nodes named by `K` (an index in the
/// tests, a node id at run time).
#[derive(Debug)]
pub struct Budgets<K> {
    root: K,
    envelopes: HashMap<K, Envelope>,
    /// Every node the books know of → its parent (the root has none).
    parents: HashMap<K, K>,
    /// Nodes whose grant has been made: opening them again changes nothing.
    opened: HashSet<K>,
    /// Open reservations: key → (envelope, amount).
    reservations: HashMap<CallKey<K>, (K, Amount)>,
}

impl<K: Copy + Eq + Hash> Budgets<K> {
    /// A job whose root holds `limit`.
    pub fn new(root: K, limit: Limit, policy: OnExhausted) -> Self {
        let mut envelopes = HashMap::new();
        envelopes.insert(root, envelope(limit, policy));
        Self { root, envelopes, parents: HashMap::new(), opened: HashSet::from([root]), reservations: HashMap::new() }
    }

    /// The books of a job picked up after a restart, from what was stored: the parent of
    /// every node, the allocation of every envelope still open (top-ups included), the nodes
    /// whose envelope has closed, and what each node spent (its ledger). Nothing is reserved:
    /// the calls that were in flight died with the process, and a resumed node reserves again
    /// under the same keys. Warning levels already reached are not reported again.
    pub fn restore(root: K, limit: Limit, stored: Stored<K>) -> Self {
        let mut budgets = Self::new(root, limit, OnExhausted::Fail);
        budgets.parents.extend(stored.links);
        budgets.opened.extend(stored.closed);
        for (node, allocated, policy) in &stored.open {
            budgets.envelopes.insert(*node, envelope(*allocated, *policy));
            budgets.opened.insert(*node);
        }
        for (node, allocated, _) in stored.open {
            if let Some(above) = budgets.above(node) {
                budgets.books_mut(above).held = budgets.books(above).held.plus(carved(allocated));
            }
        }
        for (node, amount) in stored.spending {
            budgets.spend(budgets.envelope_of(node), amount);
        }
        budgets
    }

    /// Tells the books where `node` sits, so its spending finds its envelope before it starts.
    pub fn link(&mut self, node: K, parent: K) {
        self.parents.insert(node, parent);
    }

    /// Node `node` (whose parent is `parent`) starts: its envelope is carved out per `grant`.
    /// Opening a node again (a retry, an agent resumed) changes nothing.
    pub fn open(&mut self, node: K, parent: K, grant: Grant, policy: OnExhausted) -> Result<(), Exhausted<K>> {
        self.parents.insert(node, parent);
        if self.opened.contains(&node) {
            return Ok(());
        }
        let ancestor = self.envelope_of(parent);
        let allocated = match grant {
            Grant::Draw => {
                self.opened.insert(node);
                return Ok(());
            }
            Grant::Amount(limit) => self.carvable(ancestor, limit)?,
            Grant::Share(fraction) => self.share_of(ancestor, fraction),
        };
        self.books_mut(ancestor).held = self.books(ancestor).held.plus(carved(allocated));
        self.envelopes.insert(node, envelope(allocated, policy));
        self.opened.insert(node);
        Ok(())
    }

    /// Node `node` ended: open reservations in its subtree are released, envelopes below it
    /// still open close first, and its own closes — what it did not spend goes back to the
    /// envelope above (its spending is already counted there). Returns the closed envelopes'
    /// final books and policies, deepest first. The root's envelope stays: it is the job's.
    pub fn close(&mut self, node: K) -> Vec<(K, Books, OnExhausted)> {
        let keys: Vec<_> = self.reservations.keys().filter(|k| self.is_within(k.0, node)).copied().collect();
        for key in keys {
            self.release(key);
        }
        let mut below: Vec<(usize, K)> = self
            .envelopes
            .keys()
            .filter(|&&e| e != self.root && self.is_within(e, node))
            .map(|&e| (self.depth_of(e), e))
            .collect();
        below.sort_by_key(|b| std::cmp::Reverse(b.0));
        below.into_iter().filter_map(|(_, e)| self.close_envelope(e)).collect()
    }

    fn close_envelope(&mut self, node: K) -> Option<(K, Books, OnExhausted)> {
        let above = self.above(node)?;
        let mut envelope = self.envelopes.remove(&node)?;
        let books = &mut envelope.books;
        let unspent = carved(books.allocated).minus(books.spent).minus(books.held);
        let parent_books = self.books_mut(above);
        parent_books.held = parent_books.held.minus(unspent);
        books.returned = Amount::new(unspent.micros.max(0), unspent.tokens.max(0));
        Some((node, envelope.books, envelope.policy))
    }

    /// Reserves `most` for the call `key` before it is made. Asking again for a key returns
    /// its reservation.
    pub fn reserve(&mut self, key: CallKey<K>, most: Amount) -> Result<Amount, Exhausted<K>> {
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

    /// The call `key` cost `actual`: its reservation becomes spending, counted in every
    /// envelope above as it happens. Returns the warning levels this crossed. A key with no
    /// reservation (settled already, or never reserved) changes nothing.
    pub fn settle(&mut self, key: CallKey<K>, actual: Amount) -> Vec<Crossed<K>> {
        let Some((target, reserved)) = self.reservations.remove(&key) else { return Vec::new() };
        let books = self.books_mut(target);
        books.reserved = books.reserved.minus(reserved);
        self.spend(target, actual)
    }

    /// Spending that had no reservation (usage a worker reported).
    pub fn charge(&mut self, node: K, actual: Amount) -> Vec<Crossed<K>> {
        let target = self.envelope_of(node);
        self.spend(target, actual)
    }

    /// Whether a call of `node` or of a node below it holds a reservation.
    pub fn reserves_within(&self, node: K) -> bool {
        self.reservations.keys().any(|key| self.is_within(key.0, node))
    }

    /// Whether the call `key` holds a reservation.
    pub fn is_reserved(&self, key: CallKey<K>) -> bool {
        self.reservations.contains_key(&key)
    }

    /// The policy of node `node`'s own envelope (`Fail` when it has none).
    pub fn policy_of(&self, node: K) -> OnExhausted {
        self.envelopes.get(&node).map_or(OnExhausted::Fail, |e| e.policy)
    }

    /// A reservation whose call was never made.
    pub fn release(&mut self, key: CallKey<K>) {
        if let Some((target, reserved)) = self.reservations.remove(&key) {
            let books = self.books_mut(target);
            books.reserved = books.reserved.minus(reserved);
        }
    }

    /// The books of node `node`'s own envelope, if it has one open.
    pub fn books_of(&self, node: K) -> Option<&Books> {
        self.envelopes.get(&node).map(|e| &e.books)
    }

    /// The open envelopes from `node`'s (or the one it draws on) up to the root's.
    pub fn chain(&self, node: K) -> Vec<K> {
        let mut chain = vec![self.envelope_of(node)];
        while let Some(above) = self.above(chain[chain.len() - 1]) {
            chain.push(above);
        }
        chain
    }

    /// What envelope `index` has left.
    pub fn available(&self, index: K) -> Limit {
        let books = self.books(index);
        let used = books.reserved.plus(books.spent).plus(books.held);
        Limit {
            micros: books.allocated.micros.map(|m| m - used.micros),
            tokens: books.allocated.tokens.map(|t| t - used.tokens),
        }
    }

    /// What a node drawing on envelope `index` could have in all: what it has left, plus,
    /// when it may ask its parent, what the envelopes above could top it up with.
    pub fn reachable(&self, index: K) -> Limit {
        let left = self.available(index);
        match (self.above(index), self.envelopes[&index].policy) {
            (Some(above), OnExhausted::AskParent) => {
                let more = self.reachable(above);
                let add = |l: Option<i64>, m: Option<i64>| l.map(|l| l + m.map_or(0, |m| m.max(0)));
                Limit { micros: add(left.micros, more.micros), tokens: add(left.tokens, more.tokens) }
            }
            _ => left,
        }
    }

    /// The open envelope node `node` draws on: its own, or its nearest enveloped ancestor's.
    pub fn envelope_of(&self, node: K) -> K {
        let mut current = node;
        loop {
            if self.envelopes.contains_key(&current) {
                return current;
            }
            match self.parents.get(&current) {
                Some(&parent) => current = parent,
                None => return self.root,
            }
        }
    }

    /// The nearest open envelope strictly above `node`.
    fn above(&self, node: K) -> Option<K> {
        (node != self.root).then(|| self.envelope_of(*self.parents.get(&node).unwrap_or(&self.root)))
    }

    fn is_within(&self, node: K, ancestor: K) -> bool {
        let mut current = node;
        loop {
            if current == ancestor {
                return true;
            }
            match self.parents.get(&current) {
                Some(&parent) => current = parent,
                None => return false,
            }
        }
    }

    fn depth_of(&self, node: K) -> usize {
        let (mut depth, mut current) = (0, node);
        while let Some(&parent) = self.parents.get(&current) {
            (depth, current) = (depth + 1, parent);
        }
        depth
    }

    fn books(&self, index: K) -> &Books {
        &self.envelopes[&index].books
    }

    fn books_mut(&mut self, index: K) -> &mut Books {
        &mut self.envelopes.get_mut(&index).unwrap_or_else(|| unreachable!("an open envelope")).books
    }

    /// `actual` spent by envelope `target`: its spending and every envelope's above grow by
    /// it, and what those hold for the envelope below shrinks by as much. An envelope spent
    /// past its allocation (a provider's answer longer than asked, a reported usage) is
    /// topped up when its policy allows, so the overrun is charged where it is allowed.
    fn spend(&mut self, target: K, actual: Amount) -> Vec<Crossed<K>> {
        self.books_mut(target).spent = self.books(target).spent.plus(actual);
        let mut crossed = self.crossed(target);
        let mut current = target;
        while let Some(above) = self.above(current) {
            let books = self.books_mut(above);
            books.spent = books.spent.plus(actual);
            books.held = books.held.minus(actual);
            crossed.extend(self.crossed(above));
            current = above;
        }
        if !fits(self.available(target), Amount::ZERO) {
            // Refused top-ups leave the overrun where it is: the next call is refused.
            let _ = self.top_up(target, Amount::ZERO);
        }
        crossed
    }

    /// An explicit amount, refused when the ancestor cannot cover it. A dimension the grant
    /// leaves out but the ancestor limits starts at 0, so every call tops it up from the
    /// ancestor (or is refused, under `Fail`): the ancestor's limit still holds.
    fn carvable(&mut self, ancestor: K, limit: Limit) -> Result<Limit, Exhausted<K>> {
        let left = self.available(ancestor);
        let limit =
            Limit { micros: limit.micros.or(left.micros.map(|_| 0)), tokens: limit.tokens.or(left.tokens.map(|_| 0)) };
        if !fits(left, carved(limit)) {
            self.top_up(ancestor, carved(limit))?;
        }
        Ok(limit)
    }

    /// `fraction` of what the ancestor has left, in each dimension it limits.
    fn share_of(&self, ancestor: K, fraction: f64) -> Limit {
        let left = self.available(ancestor);
        let part = |value: i64| ((value.max(0) as f64) * fraction.clamp(0.0, 1.0)).floor() as i64;
        Limit { micros: left.micros.map(part), tokens: left.tokens.map(part) }
    }

    /// Moves what `index` lacks for `wanted` from its ancestors, nearest first, when its
    /// policy asks its parent; refuses otherwise, or when no ancestor has enough.
    fn top_up(&mut self, index: K, wanted: Amount) -> Result<(), Exhausted<K>> {
        let refused = Exhausted { envelope: index, needed: wanted, available: self.available(index) };
        let (Some(parent), OnExhausted::AskParent) = (self.above(index), self.envelopes[&index].policy) else {
            return Err(refused);
        };
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
    fn crossed(&mut self, index: K) -> Vec<Crossed<K>> {
        let envelope = self.envelopes.get_mut(&index).unwrap_or_else(|| unreachable!("an open envelope"));
        let reached = reached(&envelope.books);
        let mut out = Vec::new();
        while envelope.warned < WARNING_LEVELS.len() && reached >= i64::from(WARNING_LEVELS[envelope.warned]) {
            out.push(Crossed { envelope: index, percent: WARNING_LEVELS[envelope.warned] });
            envelope.warned += 1;
        }
        out
    }
}

/// The percentage of its allocation an envelope has spent, in its most spent dimension.
fn reached(books: &Books) -> i64 {
    let percent = |spent: i64, allocated: Option<i64>| allocated.filter(|a| *a > 0).map_or(0, |a| spent * 100 / a);
    percent(books.spent.micros, books.allocated.micros).max(percent(books.spent.tokens, books.allocated.tokens))
}

fn envelope(allocated: Limit, policy: OnExhausted) -> Envelope {
    let books =
        Books { allocated, reserved: Amount::ZERO, spent: Amount::ZERO, held: Amount::ZERO, returned: Amount::ZERO };
    Envelope { books, policy, warned: 0 }
}

#[cfg(test)]
mod tests;
