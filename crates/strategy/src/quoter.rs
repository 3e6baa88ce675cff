//! The one interface shared by backtest, simulation and live trading: a [`Quoter`] looks at a
//! [`MarketView`] and returns the [`Quotes`] it wants resting in the book.

use zkclob_core::Side;

/// One price level of the book as the strategy sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookLevel {
    /// Price, ticks.
    pub price_ticks: i64,
    /// Total visible size at the level, lots.
    pub qty_lots: u64,
}

/// One trade printed by the market (anyone's, not only ours).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MarketTrade {
    /// Time of the trade, seconds since the session start.
    pub time_s: f64,
    /// Trade price, ticks.
    pub price_ticks: i64,
    /// Trade size, lots.
    pub qty_lots: u64,
    /// The aggressor's side: `Buy` lifted an ask, `Sell` hit a bid.
    pub aggressor: Side,
}

/// What a quoter sees at one decision time. Borrowed, so building one on every market update costs
/// nothing.
#[derive(Debug, Clone, Copy)]
pub struct MarketView<'a> {
    /// Decision time, seconds since the session start (monotone non-decreasing between calls).
    pub time_s: f64,
    /// Bid levels, best (highest) first.
    pub bids: &'a [BookLevel],
    /// Ask levels, best (lowest) first.
    pub asks: &'a [BookLevel],
    /// Market trades since the previous call, oldest first.
    pub trades: &'a [MarketTrade],
    /// Our inventory, lots (positive long).
    pub inventory_lots: i64,
}

impl MarketView<'_> {
    /// Best bid price, ticks.
    pub fn best_bid(&self) -> Option<i64> {
        self.bids.first().map(|l| l.price_ticks)
    }

    /// Best ask price, ticks.
    pub fn best_ask(&self) -> Option<i64> {
        self.asks.first().map(|l| l.price_ticks)
    }

    /// Mid price in ticks (may be a half tick), when both sides have a level.
    pub fn mid(&self) -> Option<f64> {
        Some((self.best_bid()? as f64 + self.best_ask()? as f64) / 2.0)
    }
}

/// One order the quoter wants resting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderIntent {
    /// Limit price, ticks.
    pub price_ticks: i64,
    /// Size, lots (never zero).
    pub qty_lots: u64,
}

/// The quoter's answer: at most one bid and one ask (`None` = do not quote that side), and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Quotes {
    /// Desired bid.
    pub bid: Option<OrderIntent>,
    /// Desired ask.
    pub ask: Option<OrderIntent>,
    /// A short machine-readable reason for what was decided (for the audit trail), e.g. `"quote"`,
    /// `"halt:drawdown"`, `"reduce:one-sided"`.
    pub reason: &'static str,
}

impl Quotes {
    /// Quote nothing, for the given reason.
    pub fn none(reason: &'static str) -> Self {
        Quotes { bid: None, ask: None, reason }
    }
}

/// Errors of the strategy layer. Bad parameters are reported, never turned into a NaN quote.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StrategyError {
    /// A parameter is non-finite or outside its domain.
    #[error("invalid parameter {name} = {value}: must be {requirement}")]
    InvalidParameter {
        /// Parameter name as in `../shared/spec/quoting.md` (`gamma`, `sigma`, `a`, `k`, …).
        name: &'static str,
        /// The offending value.
        value: f64,
        /// What it must be.
        requirement: &'static str,
    },
    /// Inventory outside the configured limits.
    #[error("inventory {inventory} lots is beyond the limit ±{limit}")]
    InventoryBeyondLimit {
        /// The inventory, lots.
        inventory: i64,
        /// The limit Q, lots.
        limit: i64,
    },
    /// The model could not produce a finite answer (e.g. precision exhausted).
    #[error("numerical failure: {0}")]
    Numerical(String),
    /// A configuration file could not be read or parsed.
    #[error("configuration: {0}")]
    Config(String),
}

impl From<zkclob_models::ModelError> for StrategyError {
    fn from(e: zkclob_models::ModelError) -> Self {
        StrategyError::Numerical(e.to_string())
    }
}

/// The strategy interface. Implementations keep their own state (calibrators, risk monitors) and
/// must never panic or return a non-finite price: on bad input they return an error or
/// [`Quotes::none`] with a reason.
pub trait Quoter {
    /// A short stable name (`"glft"`, `"as"`, …).
    fn name(&self) -> &'static str;

    /// Decides the quotes for this view.
    fn quote(&mut self, view: &MarketView<'_>) -> Result<Quotes, StrategyError>;

    /// Told about each of our own fills (after the fact), so that stateful quoters can track PnL
    /// and fill statistics. `side` is our side.
    fn on_fill(&mut self, _time_s: f64, _side: Side, _price_ticks: i64, _qty_lots: u64) {}
}

/// Market parameters a calibrator estimates online and hands to a model at each decision. Units as
/// in `../shared/spec/quoting.md`: σ ticks/√s, A per second, k per tick.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LiveParams {
    /// Mid-price volatility σ, ticks per √s.
    pub sigma: f64,
    /// Fill intensity at zero depth A, per second (one value for both sides; a calibrator with
    /// per-side fits passes their geometric mean, or the model reads the sides itself).
    pub a: f64,
    /// Fill-intensity decay k, per tick.
    pub k: f64,
    /// Short-term drift (alpha signal) μ, ticks per second.
    pub drift: f64,
}

/// What a depth model is asked: where we are and, optionally, freshly calibrated parameters that
/// replace the configured σ, A, k and μ.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DepthContext {
    /// Inventory q, lots.
    pub inventory_lots: i64,
    /// Time left to the model's horizon, T − t, seconds (ignored by stationary models).
    pub time_to_horizon_s: f64,
    /// Calibrated parameters, when the caller has them.
    pub live: Option<LiveParams>,
}

/// A model's raw answer, in ticks, before rounding. `None` = the model quotes no such side
/// (e.g. no bid at q = +Q). Depths may be negative near the limits (see [`depths_to_prices`]).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ModelDepths {
    /// δᵇ: bid = reference − δᵇ.
    pub bid_depth: Option<f64>,
    /// δᵃ: ask = reference + δᵃ.
    pub ask_depth: Option<f64>,
    /// Reservation (indifference) price offset from the reference, where the model defines one.
    pub reservation_offset: Option<f64>,
    /// Total spread δᵃ + δᵇ where the model defines it.
    pub spread: Option<f64>,
}

/// A quoting model: inventory and time in, depths out. Implemented by every model in
/// [`crate::models`]; the pipeline wraps one into a [`Quoter`].
pub trait DepthModel {
    /// A short stable name (`"as"`, `"glft"`, `"glft-exact"`, `"cj"`, `"hjb"`).
    fn name(&self) -> &'static str;
    /// The inventory limit Q in lots, if the model has one.
    fn max_inventory_lots(&self) -> Option<i64>;
    /// Depths for this context. Never returns a non-finite depth: that is an error.
    fn depths(&self, ctx: &DepthContext) -> Result<ModelDepths, StrategyError>;
}

/// Turns model depths around a reference price (ticks, may be fractional) into limit prices,
/// rounding so that a quote is never more aggressive than the model asked: the bid is rounded
/// down to a whole tick, the ask up.
///
/// **Negative depths (documented rule: clip).** A depth that would put our bid at or above the best
/// ask (or our ask at or below the best bid) is clipped to one tick inside the opposite touch, so the
/// quote stays passive (post-only). Unwinding with marketable orders is the inventory manager's
/// decision ([`crate::inventory`]), taken explicitly and with a reason, never a side effect of a
/// model depth. Returns `(bid, ask)` prices; a side is `None` when its depth is `None` or not finite.
pub fn depths_to_prices(
    reference_ticks: f64,
    depths: &ModelDepths,
    best_bid: Option<i64>,
    best_ask: Option<i64>,
) -> (Option<i64>, Option<i64>) {
    let bid = depths.bid_depth.filter(|d| d.is_finite()).and_then(|d| {
        let raw = (reference_ticks - d).floor();
        if !raw.is_finite() || raw.abs() > i64::MAX as f64 / 2.0 {
            return None;
        }
        let mut p = raw as i64;
        if let Some(ask) = best_ask {
            p = p.min(ask - 1);
        }
        Some(p)
    });
    let ask = depths.ask_depth.filter(|d| d.is_finite()).and_then(|d| {
        let raw = (reference_ticks + d).ceil();
        if !raw.is_finite() || raw.abs() > i64::MAX as f64 / 2.0 {
            return None;
        }
        let mut p = raw as i64;
        if let Some(bid) = best_bid {
            p = p.max(bid + 1);
        }
        Some(p)
    });
    (bid, ask)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_never_more_aggressive_and_negative_depths_clip_to_the_touch() {
        let d = ModelDepths { bid_depth: Some(1.2), ask_depth: Some(0.3), ..Default::default() };
        assert_eq!(depths_to_prices(100.5, &d, Some(100), Some(101)), (Some(99), Some(101)));
        let neg = ModelDepths { bid_depth: Some(-3.0), ask_depth: Some(-3.0), ..Default::default() };
        assert_eq!(depths_to_prices(100.5, &neg, Some(100), Some(101)), (Some(100), Some(101)));
        let none = ModelDepths { bid_depth: None, ask_depth: Some(f64::NAN), ..Default::default() };
        assert_eq!(depths_to_prices(100.5, &none, None, None), (None, None));
    }
}
