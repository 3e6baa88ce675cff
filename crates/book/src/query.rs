//! Read-only views of the book: best bid/offer, L2 depth, L3 order-by-order iteration.

use alloc::vec::Vec;
use zkclob_core::{AccountId, OrderId, Price, Qty, Side};

use crate::book::{Book, OrderView, NIL};

/// One aggregated price level (L2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DepthLevel {
    /// The level's price.
    pub price: Price,
    /// Sum of displayed quantities (iceberg reserves are hidden).
    pub qty: Qty,
    /// Number of orders at the level.
    pub orders: u32,
}

impl Book {
    /// The best bid: price and displayed quantity.
    pub fn best_bid(&self) -> Option<DepthLevel> {
        self.best(Side::Buy)
    }

    /// The best ask: price and displayed quantity.
    pub fn best_ask(&self) -> Option<DepthLevel> {
        self.best(Side::Sell)
    }

    /// The best level of `side`.
    pub fn best(&self, side: Side) -> Option<DepthLevel> {
        self.best_level(side).map(|l| self.depth_level(l))
    }

    /// The spread in ticks, when both sides have orders.
    pub fn spread_ticks(&self) -> Option<i64> {
        Some(self.best_ask()?.price.0 - self.best_bid()?.price.0)
    }

    fn depth_level(&self, level: u32) -> DepthLevel {
        let l = &self.levels[level as usize];
        DepthLevel { price: Price(l.price), qty: Qty(l.visible_total), orders: l.count }
    }

    /// Appends up to `n` levels of `side`, best first, to `out` (L2). Allocation-free when `out`
    /// has capacity.
    pub fn depth_into(&self, side: Side, n: usize, out: &mut Vec<DepthLevel>) {
        out.extend(self.side_levels(side).iter().rev().take(n).map(|k| self.depth_level(k.level)));
    }

    /// Up to `n` levels of `side`, best first (L2).
    pub fn depth(&self, side: Side, n: usize) -> Vec<DepthLevel> {
        let mut out = Vec::with_capacity(n.min(self.side_levels(side).len()));
        self.depth_into(side, n, &mut out);
        out
    }

    /// A live order by id.
    pub fn order(&self, id: OrderId) -> Option<OrderView> {
        self.slot_of(id).map(|s| self.view(s))
    }

    /// The live orders of `account`, in the order they entered the book (an amended order that
    /// lost its priority counts as entering again). Linear in the account's orders here.
    pub fn account_orders(&self, account: AccountId) -> impl Iterator<Item = OrderView> + '_ {
        let mut cur = self.account_entry(account.0).map_or(NIL, |a| a.head);
        core::iter::from_fn(move || {
            if cur == NIL {
                return None;
            }
            let slot = cur;
            cur = self.orders[slot as usize].acct_next;
            Some(self.view(slot))
        })
    }

    /// Every order of `side`, best level first and in time priority within a level (L3).
    pub fn orders(&self, side: Side) -> L3Iter<'_> {
        let levels = self.side_levels(side);
        let mut it = L3Iter { book: self, side, level_pos: levels.len(), cur: NIL };
        it.advance_level();
        it
    }
}

/// Iterator over a side's orders in priority order; see [`Book::orders`].
#[derive(Debug)]
pub struct L3Iter<'a> {
    book: &'a Book,
    side: Side,
    /// Index one past the level being walked, in the side's ascending vector.
    level_pos: usize,
    cur: u32,
}

impl L3Iter<'_> {
    fn advance_level(&mut self) {
        let levels = self.book.side_levels(self.side);
        while self.cur == NIL && self.level_pos > 0 {
            self.level_pos -= 1;
            self.cur = self.book.levels[levels[self.level_pos].level as usize].head;
        }
    }
}

impl Iterator for L3Iter<'_> {
    type Item = OrderView;

    fn next(&mut self) -> Option<OrderView> {
        if self.cur == NIL {
            return None;
        }
        let view = self.book.view(self.cur);
        self.cur = self.book.orders[self.cur as usize].next;
        if self.cur == NIL {
            self.advance_level();
        }
        Some(view)
    }
}
