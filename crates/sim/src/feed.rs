//! The market-data feed from the book to our strategy: a FIFO of book snapshots (top N levels at
//! the time of each book action), trades and our execution reports, each delivered at its stamp.
//!
//! Snapshot levels live in one ring of [`BookLevel`]s and trades in a bounded ring, so steady
//! state allocates nothing.

use std::collections::VecDeque;

use zkclob_book::{Book, DepthLevel};
use zkclob_core::Side;
use zkclob_strategy::{BookLevel, MarketTrade};

/// Most undelivered-to-a-decision trades kept for the strategy's view; older ones are dropped.
pub const MAX_VIEW_TRADES: usize = 1 << 16;

/// One feed message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum FeedKind {
    /// A book snapshot; its levels are the next `bids + asks` entries of the level ring.
    Book { bids: u16, asks: u16 },
    /// A market trade.
    Trade(MarketTrade),
    /// A fill of one of our orders.
    Fill { order_id: u64, side: Side, price_ticks: i64, qty_lots: u64, time_s: f64 },
    /// One of our orders is no longer live (filled, cancelled, rejected or never rested).
    Gone { order_id: u64 },
}

#[derive(Debug, Clone, Copy)]
struct FeedItem {
    at: f64,
    kind: FeedKind,
}

/// The feed and what has been delivered of it.
pub(crate) struct Feed {
    items: VecDeque<FeedItem>,
    levels: VecDeque<BookLevel>,
    last_at: f64,
    view_levels: usize,
    scratch: Vec<DepthLevel>,
    /// A delivery event is in the queue.
    pub(crate) scheduled: bool,
    /// Delivered bids, best first.
    pub(crate) bids: Vec<BookLevel>,
    /// Delivered asks, best first.
    pub(crate) asks: Vec<BookLevel>,
    /// Delivered trades since the last decision, oldest first.
    pub(crate) trades: VecDeque<MarketTrade>,
}

impl Feed {
    pub(crate) fn new(view_levels: usize) -> Self {
        Self {
            items: VecDeque::with_capacity(1024),
            levels: VecDeque::with_capacity(1024 * view_levels),
            last_at: 0.0,
            view_levels,
            scratch: Vec::with_capacity(view_levels),
            scheduled: false,
            bids: Vec::with_capacity(view_levels),
            asks: Vec::with_capacity(view_levels),
            trades: VecDeque::with_capacity(1024),
        }
    }

    /// The delivery time of a message sent at `t_s` with `delay_s`: never before the previous
    /// message's (FIFO).
    pub(crate) fn stamp(&mut self, t_s: f64, delay_s: f64) -> f64 {
        self.last_at = (t_s + delay_s).max(self.last_at);
        self.last_at
    }

    /// Queues a message.
    pub(crate) fn push(&mut self, at: f64, kind: FeedKind) {
        self.items.push_back(FeedItem { at, kind });
    }

    /// Queues a snapshot of the book's top levels.
    pub(crate) fn push_book(&mut self, at: f64, book: &Book) {
        let mut counts = [0u16; 2];
        for (slot, side) in [Side::Buy, Side::Sell].into_iter().enumerate() {
            self.scratch.clear();
            book.depth_into(side, self.view_levels, &mut self.scratch);
            counts[slot] = self.scratch.len() as u16;
            self.levels
                .extend(self.scratch.iter().map(|l| BookLevel { price_ticks: l.price.0, qty_lots: l.qty.0 }));
        }
        self.push(at, FeedKind::Book { bids: counts[0], asks: counts[1] });
    }

    /// Delivery time of the oldest undelivered message.
    pub(crate) fn next_at(&self) -> Option<f64> {
        self.items.front().map(|i| i.at)
    }

    /// Delivers the oldest message if it is due at `t_s`: a snapshot replaces the delivered book,
    /// a trade joins the delivered trades; the message is returned for the caller's own handling.
    pub(crate) fn pop_due(&mut self, t_s: f64) -> Option<FeedKind> {
        if self.items.front()?.at > t_s {
            return None;
        }
        let item = self.items.pop_front()?;
        match item.kind {
            FeedKind::Book { bids, asks } => {
                self.bids.clear();
                self.bids.extend(self.levels.drain(..bids as usize));
                self.asks.clear();
                self.asks.extend(self.levels.drain(..asks as usize));
            }
            FeedKind::Trade(trade) => {
                if self.trades.len() >= MAX_VIEW_TRADES {
                    self.trades.pop_front();
                }
                self.trades.push_back(trade);
            }
            FeedKind::Fill { .. } | FeedKind::Gone { .. } => {}
        }
        Some(item.kind)
    }
}
