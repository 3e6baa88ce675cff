//! L2 replay: our orders simulated against recorded market-by-price data.
//!
//! L2 data (aggregated quantity per price level, plus trade prints) has no order identity, so our
//! orders cannot be put *into* the recorded book as [`crate::lobster_l3`] does. Instead they live
//! beside it: each of our resting orders carries an estimate of the quantity ahead of it in its
//! level, which trades at its price consume and which a [`QueueModel`] advances when the level
//! shrinks without a trade (cancels). See `docs/backtest.md`, "L2 replay and queue models".
//!
//! Three input formats become one [`L2Stream`] of [`L2Event`]s — each the trades that happened at
//! one time, then the visible book after them:
//! - [`parse_lobster`] / [`lobster_stream`]: a LOBSTER orderbook file and its message file;
//! - [`parse_l2_csv`]: the documented CSV of this module (depth snapshots and trades);
//! - [`parse_hftbacktest_csv`]: hftbacktest's event rows, as CSV.
//!
//! [`run_l2`] replays a stream with a [`Quoter`](zkclob_strategy::Quoter) — the strategy interface of
//! the simulator, the L3 replay and live trading, unchanged — and returns the same
//! [`RunLog`](zkclob_sim::RunLog) the analytics read.
//!
//! ```no_run
//! use zkclob_backtest::l2::{parse_lobster, run_l2, L2Config, LobsterOptions, QueueModelSpec};
//! # fn quoter() -> Box<dyn zkclob_strategy::Quoter> {
//! #     use zkclob_strategy::models::{GlftAsymptotic, GlftAsymptoticParams};
//! #     use zkclob_strategy::pipeline::{MarketMaker, MarketMakerConfig};
//! #     let model = GlftAsymptotic::new(GlftAsymptoticParams::default()).unwrap();
//! #     Box::new(MarketMaker::new(model, MarketMakerConfig::default()).unwrap())
//! # }
//!
//! let messages = std::fs::read_to_string("AAPL_message_10.csv")?;
//! let book = std::fs::read_to_string("AAPL_orderbook_10.csv")?;
//! let stream = parse_lobster(&messages, &book, &LobsterOptions::default())?;
//! let cfg = L2Config { queue: QueueModelSpec::Probabilistic { power: 2.0 }, ..L2Config::default() };
//! let out = run_l2(&stream, quoter().as_mut(), &cfg)?;
//! println!("{} fills, final pnl {:?}", out.stats.our_fills, out.log.samples.last().map(|s| s.pnl));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod format_csv;
mod format_hftbacktest;
mod format_lobster;
mod parse;
mod queue;
mod replay;

pub use format_csv::{parse_l2_csv, CsvOptions};
pub use format_hftbacktest::{
    parse_hftbacktest_csv, HftOptions, BUY_EVENT, DEPTH_CLEAR_EVENT, DEPTH_EVENT, DEPTH_SNAPSHOT_EVENT,
    EXCH_EVENT, LOCAL_EVENT, SELL_EVENT, TRADE_EVENT,
};
pub use format_lobster::{lobster_stream, parse_lobster, LobsterOptions};
pub use parse::{
    L2ParseError, L2ParseErrorKind, LobsterFile, MAX_BOOK_LEVELS, MAX_LINE_LEN, MAX_WINDOW_LEVELS,
};
pub use queue::{Probabilistic, QueueModel, QueueModelSpec, RiskAverse, MAX_QUEUE_POWER};
pub use replay::{run_l2, run_l2_with_queue_model, L2Config, L2Error, L2Output, L2Stats};

use zkclob_core::Side;
use zkclob_strategy::BookLevel;

/// One trade printed by the market in an [`L2Event`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct L2Trade {
    /// Trade price, ticks.
    pub price_ticks: i64,
    /// Trade size, lots (never zero).
    pub qty_lots: u64,
    /// The aggressor's side: `Buy` lifted asks, `Sell` hit bids.
    pub aggressor: Side,
}

/// The market at one time: the trades printed at that time, then the visible book after them.
///
/// Each side lists at most [`L2Stream::window_levels`] levels, best first, with strictly
/// worsening prices and non-zero quantities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct L2Event {
    /// Time, nanoseconds, on the source's clock (the replay measures from the first event).
    pub time_ns: i64,
    /// Trades, oldest first.
    pub trades: Vec<L2Trade>,
    /// Bid levels after the trades, best (highest) first.
    pub bids: Vec<BookLevel>,
    /// Ask levels after the trades, best (lowest) first.
    pub asks: Vec<BookLevel>,
}

impl L2Event {
    /// The levels of one side.
    pub fn levels(&self, side: Side) -> &[BookLevel] {
        match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        }
    }
}

/// A replayable L2 market: what every input format is turned into.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct L2Stream {
    /// Most levels a side shows. A side showing exactly this many may hide deeper levels: a price
    /// worse than its last level is *unknown*, not empty (LOBSTER's `N`, or the window the
    /// hftbacktest reader keeps).
    pub window_levels: usize,
    /// Events in time order.
    pub events: Vec<L2Event>,
}

/// The quantity at `price_ticks` on `side` of a displayed side: `Some(0)` when the price is within
/// what the side shows (or the side is not truncated) but has no level, `None` when it lies beyond
/// a full window.
pub(crate) fn level_qty(
    levels: &[BookLevel],
    side: Side,
    price_ticks: i64,
    window_levels: usize,
) -> Option<u64> {
    if let Some(l) = levels.iter().find(|l| l.price_ticks == price_ticks) {
        return Some(l.qty_lots);
    }
    let Some(last) = levels.last() else { return Some(0) };
    let beyond = match side {
        Side::Buy => price_ticks < last.price_ticks,
        Side::Sell => price_ticks > last.price_ticks,
    };
    if beyond && levels.len() >= window_levels {
        None
    } else {
        Some(0)
    }
}

/// Whether `price_ticks`, on the side opposite to `side`, is at or through `limit_ticks` (so an order
/// of ours on `side` at `limit_ticks` would trade with it).
pub(crate) fn marketable(side: Side, limit_ticks: i64, price_ticks: i64) -> bool {
    match side {
        Side::Buy => price_ticks <= limit_ticks,
        Side::Sell => price_ticks >= limit_ticks,
    }
}

/// Whether price `a` is strictly worse than `b` for an order resting on `side`.
pub(crate) fn strictly_worse(side: Side, a: i64, b: i64) -> bool {
    match side {
        Side::Buy => a < b,
        Side::Sell => a > b,
    }
}
