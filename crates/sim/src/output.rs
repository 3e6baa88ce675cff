//! What a simulation returns besides the [`RunLog`]: the market's trades, a market-state time
//! series on the sampling grid, and counters.

use serde::{Deserialize, Serialize};

use crate::config::FLOW_DIMS;
use crate::log::{FillSide, RunLog};

/// Everything one run produces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimOutput {
    /// The strategy's samples and fills (the analytics' input).
    pub log: RunLog,
    /// Every trade in the market, ours included, in time order (empty unless
    /// [`crate::SimConfig::record_trades`]).
    pub trades: Vec<TradeRecord>,
    /// The market's state at each sampling time (same grid as `log.samples`).
    pub market: Vec<MarketSample>,
    /// Counters.
    pub stats: SimStats,
}

/// One trade of anyone.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TradeRecord {
    /// Time, seconds since the start.
    pub time_s: f64,
    /// Price, ticks.
    pub price_ticks: i64,
    /// Quantity, lots.
    pub qty_lots: u64,
    /// The aggressor's (taker's) side.
    pub aggressor: FillSide,
    /// Whether we were one of the two sides.
    pub ours: bool,
}

/// The market at one sampling time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MarketSample {
    /// Time, seconds since the start.
    pub time_s: f64,
    /// The fundamental price, ticks.
    pub fundamental_ticks: f64,
    /// Mid, ticks (the last known mid when a side is empty).
    pub mid_ticks: f64,
    /// Best bid, ticks.
    pub best_bid: Option<i64>,
    /// Best ask, ticks.
    pub best_ask: Option<i64>,
    /// Displayed bid quantity in the strategy's view depth, lots.
    pub bid_depth_lots: u64,
    /// Displayed ask quantity in the strategy's view depth, lots.
    pub ask_depth_lots: u64,
    /// Live orders in the book (everyone's).
    pub resting_orders: u64,
}

/// Counters of one run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct SimStats {
    /// Accepted Hawkes events per flow dimension ([`crate::config::FLOW_DIM_NAMES`] order),
    /// including cancels that found no resting background order.
    pub flow_events: [u64; FLOW_DIMS],
    /// Flow cancels that found no resting background order on their side.
    pub empty_cancels: u64,
    /// Market orders sent by informed traders.
    pub informed_orders: u64,
    /// Market orders sent by noise traders.
    pub noise_orders: u64,
    /// Background orders cancelled by price shocks (liquidity withdrawal).
    pub withdrawn_orders: u64,
    /// Actions applied to the book (places, cancels, amendments; everyone's).
    pub book_actions: u64,
    /// Trades (fills) in the market.
    pub trades: u64,
    /// Traded volume, lots.
    pub volume_lots: u64,
    /// Strategy decisions (calls to `quote`).
    pub decisions: u64,
    /// Decisions at which the quoter returned an error (treated as "quote nothing").
    pub quote_errors: u64,
    /// Our orders, cancels or amendments the book rejected.
    pub our_rejects: u64,
    /// Mean time from sending one of our messages to the book applying it, seconds.
    pub mean_entry_delay_s: f64,
    /// Time the first of our messages reached the book, seconds.
    pub first_order_at_book_s: Option<f64>,
    /// The fundamental at the end, ticks.
    pub final_fundamental_ticks: f64,
    /// How much of the final fundamental is permanent price impact: F minus what F would be
    /// without it, ticks.
    pub permanent_impact_ticks: f64,
}
