//! What one run of a strategy produces: a time series of the strategy's state and every one of its
//! fills. The simulator and the backtester both write it; `zkclob-backtest`'s analytics read it.

use serde::{Deserialize, Serialize};
use zkclob_core::Side;

/// A side, serialisable (`zkclob_core::Side` is borsh-only, as the consensus crates want).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FillSide {
    /// We bought.
    Buy,
    /// We sold.
    Sell,
}

impl From<Side> for FillSide {
    fn from(s: Side) -> Self {
        match s {
            Side::Buy => FillSide::Buy,
            Side::Sell => FillSide::Sell,
        }
    }
}

impl From<FillSide> for Side {
    fn from(s: FillSide) -> Self {
        match s {
            FillSide::Buy => Side::Buy,
            FillSide::Sell => Side::Sell,
        }
    }
}

/// The strategy's state at one sampling time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Time, seconds since the run's start.
    pub time_s: f64,
    /// Mid price, ticks (NaN-free: the last known mid when a side is empty).
    pub mid_ticks: f64,
    /// Best bid, ticks, if any.
    pub best_bid: Option<i64>,
    /// Best ask, ticks, if any.
    pub best_ask: Option<i64>,
    /// Our resting bid price, if any.
    pub our_bid: Option<i64>,
    /// Our resting ask price, if any.
    pub our_ask: Option<i64>,
    /// Inventory, lots.
    pub inventory_lots: i64,
    /// Cash, tick·lots (fees already deducted).
    pub cash: f64,
    /// Fees paid so far (negative = rebates received), tick·lots.
    pub fees: f64,
    /// Mark-to-mid PnL: cash + inventory × mid, tick·lots.
    pub pnl: f64,
}

/// One fill of ours.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FillRecord {
    /// Time, seconds since the run's start.
    pub time_s: f64,
    /// Our side.
    pub side: FillSide,
    /// Fill price, ticks.
    pub price_ticks: i64,
    /// Quantity, lots.
    pub qty_lots: u64,
    /// Fee paid (negative = rebate), tick·lots.
    pub fee: f64,
    /// Whether we were the maker (our order was resting).
    pub maker: bool,
    /// Mid just before the fill, ticks.
    pub mid_before: f64,
}

/// A whole run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunLog {
    /// Samples at regular times (and at least at the start and the end).
    pub samples: Vec<Sample>,
    /// Our fills, in time order.
    pub fills: Vec<FillRecord>,
    /// Market events processed (orders, cancels, trades of everyone).
    pub events: u64,
    /// Orders we sent (places, cancels and replaces).
    pub orders_sent: u64,
    /// Seconds per sample interval (the sampling grid).
    pub sample_interval_s: f64,
}
