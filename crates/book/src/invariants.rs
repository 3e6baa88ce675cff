//! [`Book::check_invariants`]: a full consistency check for tests and fuzzers.

use thiserror::Error;
use zkclob_core::Side;

use crate::book::{Book, NIL};

/// A broken book invariant: always a bug in the book, never a user error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("book invariant broken: {what} (order {order:?}, price {price:?})")]
pub struct InvariantViolation {
    /// Which invariant.
    pub what: &'static str,
    /// The order involved, if one.
    pub order: Option<u64>,
    /// The price level involved, if one.
    pub price: Option<i64>,
}

fn fail<T>(what: &'static str, order: Option<u64>, price: Option<i64>) -> Result<T, InvariantViolation> {
    Err(InvariantViolation { what, order, price })
}

impl Book {
    /// Checks every structural invariant of the book:
    /// - the book is not crossed (best bid < best ask);
    /// - each side's levels are strictly sorted, non-empty, on the right side;
    /// - each level's displayed total and count equal the sum over its orders;
    /// - orders within a level are in FIFO order (strictly increasing arrival sequence);
    /// - every live order is indexed exactly once, by the right id, in the right account list,
    ///   and in the GTD index exactly when it has an expiry;
    /// - every live order has a positive displayed quantity, an iceberg at most its slice;
    /// - the limits hold.
    ///
    /// Cost is linear in the size of the book; call it from tests, not hot paths.
    pub fn check_invariants(&self) -> Result<(), InvariantViolation> {
        if let (Some(b), Some(a)) = (self.best_bid(), self.best_ask()) {
            if b.price >= a.price {
                return fail("book is crossed", None, Some(b.price.0));
            }
        }
        let mut seen = 0usize;
        let mut gtd_seen = 0usize;
        for side in [Side::Buy, Side::Sell] {
            let levels = self.side_levels(side);
            if levels.len() > self.limits.max_levels_per_side as usize {
                return fail("too many levels", None, None);
            }
            for pair in levels.windows(2) {
                if pair[0].key >= pair[1].key {
                    return fail(
                        "levels not strictly sorted",
                        None,
                        Some(self.levels[pair[1].level as usize].price),
                    );
                }
            }
            if self.level_index[side as usize].len() != levels.len() {
                return fail("level index size differs from the side's levels", None, None);
            }
            for key in levels {
                let price = self.levels[key.level as usize].price;
                if self.find_level(side, price) != Some(key.level) {
                    return fail("level missing from the level index", None, Some(price));
                }
                let (count, gtd) = self.check_level(side, key.level, key.key)?;
                seen += count;
                gtd_seen += gtd;
            }
        }
        if seen != self.index.len() {
            return fail("index size differs from orders on levels", None, None);
        }
        if gtd_seen != self.gtd.len() {
            return fail("GTD index size differs from GTD orders", None, None);
        }
        if self.index.len() > self.limits.max_orders as usize {
            return fail("too many orders", None, None);
        }
        if self.orders.len() != self.index.len() + self.free_orders.len() {
            return fail("arena leaks slots", None, None);
        }
        self.check_accounts(seen)
    }

    fn check_level(&self, side: Side, level: u32, key: i64) -> Result<(usize, usize), InvariantViolation> {
        let l = &self.levels[level as usize];
        if Book::key(side, l.price) != key {
            return fail("level key differs from its price", None, Some(l.price));
        }
        if l.count == 0 || l.head == NIL {
            return fail("empty level kept", None, Some(l.price));
        }
        let (mut total, mut count, mut gtd) = (0u64, 0u32, 0usize);
        let (mut prev, mut prev_seq, mut cur) = (NIL, 0u64, l.head);
        while cur != NIL {
            let o = &self.orders[cur as usize];
            let id = Some(o.id);
            if o.level != level || o.price != l.price || o.side != side {
                return fail("order on the wrong level", id, Some(l.price));
            }
            if o.prev != prev {
                return fail("broken back link", id, Some(l.price));
            }
            if prev != NIL && o.seq <= prev_seq {
                return fail("FIFO order broken", id, Some(l.price));
            }
            if o.visible == 0 || (o.display != 0 && o.visible > o.display) {
                return fail("bad displayed quantity", id, Some(l.price));
            }
            if o.id > self.id_ceiling {
                return fail("order id above the id ceiling", id, Some(l.price));
            }
            if self.index.get(o.id, |s| self.orders[s as usize].id) != Some(cur) {
                return fail("order not indexed by its id", id, Some(l.price));
            }
            if o.expires_at != 0 {
                if self.gtd.get(&(o.expires_at, o.seq)) != Some(&cur) {
                    return fail("GTD order missing from the expiry index", id, Some(l.price));
                }
                if o.expires_at <= self.now {
                    return fail("expired order still live", id, Some(l.price));
                }
                gtd += 1;
            }
            total += o.visible;
            count += 1;
            prev_seq = o.seq;
            prev = cur;
            cur = o.next;
        }
        if l.tail != prev {
            return fail("level tail is not its last order", None, Some(l.price));
        }
        if total != l.visible_total || count != l.count {
            return fail("level total or count differs from its orders", None, Some(l.price));
        }
        Ok((count as usize, gtd))
    }

    fn check_accounts(&self, live: usize) -> Result<(), InvariantViolation> {
        let mut sum = 0usize;
        for (&account, &acct) in self.accounts.iter() {
            // Iteration order does not matter here: only a count and a pass/fail come out.
            let entry = &self.account_slots[acct as usize];
            if entry.account != account {
                return fail("account slot holds another account", None, None);
            }
            if entry.count == 0 || entry.count > self.limits.max_orders_per_account {
                return fail("account order count out of range", None, None);
            }
            let (mut n, mut prev, mut cur) = (0u32, NIL, entry.head);
            while cur != NIL {
                let o = &self.orders[cur as usize];
                if o.account != account || o.acct_prev != prev || o.acct != acct {
                    return fail("broken account list", Some(o.id), None);
                }
                n += 1;
                prev = cur;
                cur = o.acct_next;
            }
            if n != entry.count || entry.tail != prev {
                return fail("account list length or tail differs", None, None);
            }
            sum += n as usize;
        }
        if sum != live {
            return fail("account lists do not cover every order once", None, None);
        }
        let free_live =
            self.free_accounts.iter().filter(|&&s| self.account_slots[s as usize].count != 0).count();
        if free_live != 0 || self.account_slots.len() != self.accounts.len() + self.free_accounts.len() {
            return fail("account slots leak or a free slot is live", None, None);
        }
        Ok(())
    }
}
