//! Market data derived on the engine thread from the books and the events of applied commands:
//! L2 depth windows with sequenced diffs, the trade tape, and best bid/offer.
//!
//! **Depth diffs.** For each market the engine keeps the last published top-`levels` of each
//! side. After each group of commands it compares the books' current windows with them and
//! publishes the changed levels (quantity 0: the level left the window) with the market's next
//! sequence number. A client that applies a snapshot with sequence `s` and then every diff
//! `s+1, s+2, ...` holds exactly the engine's window; a diff whose sequence is not the next one
//! means a gap, and the client fetches a new snapshot.

use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};
use zkclob_book::{Book, DepthLevel, Event};
use zkclob_core::{MarketId, Side};

/// One price level, as published.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Level {
    /// Price in ticks.
    pub price: i64,
    /// Displayed quantity in lots; 0 in a diff means the level is gone.
    pub qty: u64,
    /// Orders at the level.
    pub orders: u32,
}

impl From<DepthLevel> for Level {
    fn from(l: DepthLevel) -> Level {
        Level { price: l.price.0, qty: l.qty.0, orders: l.orders }
    }
}

/// A depth snapshot of one market.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DepthSnapshot {
    /// The market.
    pub market: u32,
    /// The sequence of the last diff this snapshot includes.
    pub seq: u64,
    /// Bids, best first.
    pub bids: Vec<Level>,
    /// Asks, best first.
    pub asks: Vec<Level>,
}

/// Changed levels of one market.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DepthDiff {
    /// The market.
    pub market: u32,
    /// This diff's sequence: one more than the previous diff's.
    pub seq: u64,
    /// Changed bid levels.
    pub bids: Vec<Level>,
    /// Changed ask levels.
    pub asks: Vec<Level>,
}

/// A trade.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Trade {
    /// The market.
    pub market: u32,
    /// Per-market trade number, from 1.
    pub trade_id: u64,
    /// Price in ticks (the maker's).
    pub price: i64,
    /// Lots.
    pub qty: u64,
    /// The taker's side.
    pub taker_side: &'static str,
    /// The resting order.
    pub maker_order: u64,
    /// The incoming order.
    pub taker_order: u64,
    /// The batch it happened in.
    pub batch: u64,
}

/// Best bid and offer of a market.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Bbo {
    /// The market.
    pub market: u32,
    /// Best bid.
    pub bid: Option<Level>,
    /// Best ask.
    pub ask: Option<Level>,
}

/// Side as published.
pub fn side_str(side: Side) -> &'static str {
    match side {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

#[derive(Default)]
struct MarketFeed {
    seq: u64,
    bids: Vec<Level>,
    asks: Vec<Level>,
    trades: VecDeque<Trade>,
    trade_count: u64,
    bbo: Option<(Option<Level>, Option<Level>)>,
}

/// The engine's market-data state.
pub struct MarketData {
    levels: usize,
    history: usize,
    feeds: BTreeMap<MarketId, MarketFeed>,
    scratch: Vec<DepthLevel>,
}

/// What one group of commands changed.
#[derive(Default, Debug)]
pub struct Changes {
    /// Depth diffs.
    pub diffs: Vec<DepthDiff>,
    /// New trades.
    pub trades: Vec<Trade>,
    /// Markets whose best bid or offer moved.
    pub bbos: Vec<Bbo>,
}

fn diff_side(old: &[Level], new: &[Level]) -> Vec<Level> {
    let mut out = Vec::new();
    let old_by: BTreeMap<i64, Level> = old.iter().map(|l| (l.price, *l)).collect();
    let new_by: BTreeMap<i64, Level> = new.iter().map(|l| (l.price, *l)).collect();
    for (p, l) in &new_by {
        if old_by.get(p) != Some(l) {
            out.push(*l);
        }
    }
    for p in old_by.keys() {
        if !new_by.contains_key(p) {
            out.push(Level { price: *p, qty: 0, orders: 0 });
        }
    }
    out
}

impl MarketData {
    /// Depth windows of `levels` per side and `history` trades per market.
    pub fn new(levels: usize, history: usize) -> MarketData {
        MarketData { levels: levels.max(1), history, feeds: BTreeMap::new(), scratch: Vec::new() }
    }

    fn window(&mut self, book: &Book, side: Side) -> Vec<Level> {
        self.scratch.clear();
        book.depth_into(side, self.levels, &mut self.scratch);
        self.scratch.iter().map(|l| Level::from(*l)).collect()
    }

    /// Records the trades among `events` (in the batch `batch`) and appends them to `changes`.
    pub fn record_trades(&mut self, batch: u64, events: &[(MarketId, Event)], changes: &mut Changes) {
        for (m, e) in events {
            if let Event::Fill(f) = e {
                let feed = self.feeds.entry(*m).or_default();
                feed.trade_count += 1;
                let t = Trade {
                    market: m.0,
                    trade_id: feed.trade_count,
                    price: f.price.0,
                    qty: f.qty.0,
                    taker_side: side_str(f.taker_side),
                    maker_order: f.maker_order.0,
                    taker_order: f.taker_order.0,
                    batch,
                };
                if feed.trades.len() == self.history {
                    feed.trades.pop_front();
                }
                if self.history > 0 {
                    feed.trades.push_back(t);
                }
                changes.trades.push(t);
            }
        }
    }

    /// Compares the books of `markets` with the published windows; appends diffs and BBO moves.
    pub fn refresh<'a>(&mut self, books: impl Iterator<Item = (MarketId, &'a Book)>, changes: &mut Changes) {
        for (id, book) in books {
            let bids = self.window(book, Side::Buy);
            let asks = self.window(book, Side::Sell);
            let feed = self.feeds.entry(id).or_default();
            let db = diff_side(&feed.bids, &bids);
            let da = diff_side(&feed.asks, &asks);
            if !db.is_empty() || !da.is_empty() {
                feed.seq += 1;
                changes.diffs.push(DepthDiff { market: id.0, seq: feed.seq, bids: db, asks: da });
            }
            let bbo = (bids.first().copied(), asks.first().copied());
            if feed.bbo != Some(bbo) {
                feed.bbo = Some(bbo);
                changes.bbos.push(Bbo { market: id.0, bid: bbo.0, ask: bbo.1 });
            }
            feed.bids = bids;
            feed.asks = asks;
        }
    }

    /// The published window of a market, with its sequence.
    pub fn snapshot(&self, market: MarketId) -> DepthSnapshot {
        match self.feeds.get(&market) {
            Some(f) => {
                DepthSnapshot { market: market.0, seq: f.seq, bids: f.bids.clone(), asks: f.asks.clone() }
            }
            None => DepthSnapshot { market: market.0, seq: 0, bids: Vec::new(), asks: Vec::new() },
        }
    }

    /// The latest trades of a market, newest last.
    pub fn trades(&self, market: MarketId, limit: usize) -> Vec<Trade> {
        self.feeds
            .get(&market)
            .map(|f| f.trades.iter().rev().take(limit).rev().copied().collect())
            .unwrap_or_default()
    }

    /// Best bid and offer as published.
    pub fn bbo(&self, market: MarketId) -> Bbo {
        let (bid, ask) = self.feeds.get(&market).and_then(|f| f.bbo).unwrap_or((None, None));
        Bbo { market: market.0, bid, ask }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(window: &mut BTreeMap<i64, Level>, diff: &[Level]) {
        for l in diff {
            if l.qty == 0 {
                window.remove(&l.price);
            } else {
                window.insert(l.price, *l);
            }
        }
    }

    #[test]
    fn applying_diffs_to_the_old_window_gives_the_new_one() {
        let lv = |p, q| Level { price: p, qty: q, orders: 1 };
        let old = vec![lv(100, 5), lv(99, 3), lv(98, 1)];
        let new = vec![lv(101, 2), lv(100, 5), lv(98, 4)];
        let d = diff_side(&old, &new);
        let mut w: BTreeMap<i64, Level> = old.iter().map(|l| (l.price, *l)).collect();
        apply(&mut w, &d);
        let want: BTreeMap<i64, Level> = new.iter().map(|l| (l.price, *l)).collect();
        assert_eq!(w, want);
        assert_eq!(d.len(), 3, "unchanged levels are not repeated: {d:?}");
    }
}
