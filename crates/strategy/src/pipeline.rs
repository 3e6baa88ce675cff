//! [`MarketMaker`]: a [`Quoter`] assembled from a [`DepthModel`], online calibration, inventory
//! management and risk controls.
//!
//! # One decision, in order
//! 1. **Input check.** A non-finite time or one earlier than the previous call →
//!    `Quotes::none("bad-input")`, state untouched. The call counts as a market update for the
//!    stale-data check.
//! 2. **Calibration** ([`crate::calibration`]) from the view's trades and mid.
//! 3. **Book check.** No two-sided book → `"no-market"`; a crossed or locked book → `"bad-input"`.
//!    Otherwise the PnL is marked to the mid (drawdown check) and the inventory checked against the
//!    hard limit.
//! 4. **Risk gate.** Halted → the emergency-liquidation slice (`"liquidate:<why>"`) or nothing
//!    (`"halt:<why>"`) — see [`crate::risk`]. The halt stays until [`MarketMaker::reset_halt`].
//! 5. **Regime** from the optional [`RegimeSignal`]; **reduction state** from the inventory.
//! 6. In [`ReductionState::AggressiveUnwind`]: one marketable reducing order (`"reduce:aggressive"`).
//! 7. Otherwise the **model**: `depths(ctx)` with the calibrated [`crate::LiveParams`] (once
//!    available, or always with a prior) → volatility/regime spread scale and extra skew →
//!    [`depths_to_prices`] (bid rounded down, ask up: never more aggressive; a depth that would
//!    cross is clipped to one tick inside the opposite touch, so a model quote is always passive)
//!    → reduction shaping (one side only; in passive unwind the reducing side joins the touch).
//! 8. **Sizing** per side: base × regime, room under the limit, square-root impact budget, touch
//!    liquidity; a side sized 0 is dropped.
//! 9. **Order-rate gate**: the sides that changed since the previous answer count against the
//!    rolling-second limit; over it the kill switch fires and step 4's answer is returned.
//!
//! Every answer carries its reason code in [`Quotes::reason`]; every change of reason, reduction
//! state, binding size constraint, regime, halt and liquidation order is recorded in the
//! [`AuditLog`]. The hot path allocates nothing (buffers are sized at construction) and never
//! panics on garbage input; a model error becomes `Quotes::none("model-error")`.
//!
//! # Configuration
//! [`MarketMakerConfig`] (and every table under it) reads from TOML with unknown keys rejected and
//! every field defaulted:
//!
//! ```
//! use zkclob_strategy::pipeline::MarketMakerConfig;
//! let config = MarketMakerConfig::from_toml_str(r#"
//!     session_end_s = 3600.0
//!     [inventory]
//!     max_position_lots = 20
//!     [inventory.reduction]
//!     soft_threshold_lots = 10
//!     passive_threshold_lots = 15
//!     [risk]
//!     max_drawdown_tick_lots = 500.0
//!     [calibration.prior]
//!     sigma = 0.5
//!     a_per_s = 2.0
//!     k_per_tick = 1.0
//! "#)?;
//! assert_eq!(config.inventory.max_position_lots, 20);
//! assert!(MarketMakerConfig::from_toml_str("bogus = 1").is_err());
//! # Ok::<(), zkclob_strategy::StrategyError>(())
//! ```

use serde::Deserialize;
use zkclob_core::Side;

use crate::calibration::{check, CalibrationConfig, Calibrator};
use crate::inventory::{
    marketable_order, InventoryConfig, InventoryManager, OrderStyle, ReductionState, RegimeId, RegimeInputs,
    RegimeSignal,
};
use crate::quoter::{
    depths_to_prices, DepthContext, DepthModel, MarketView, OrderIntent, Quoter, Quotes, StrategyError,
};
use crate::risk::{AuditLog, DecisionCallback, DecisionKind, PnlSnapshot, Reason, RiskConfig, RiskMonitor};

/// Configuration of a [`MarketMaker`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MarketMakerConfig {
    /// End of the model's horizon, seconds since the session start: time to horizon = this − t.
    pub session_end_s: f64,
    /// Pass calibrated parameters to the model (else it uses its configured ones).
    pub use_live_params: bool,
    /// Decisions kept in the audit log.
    pub audit_capacity: usize,
    /// Calibration.
    pub calibration: CalibrationConfig,
    /// Inventory management.
    pub inventory: InventoryConfig,
    /// Risk controls.
    pub risk: RiskConfig,
}

impl Default for MarketMakerConfig {
    fn default() -> Self {
        Self {
            session_end_s: 23_400.0,
            use_live_params: true,
            audit_capacity: 4_096,
            calibration: CalibrationConfig::default(),
            inventory: InventoryConfig::default(),
            risk: RiskConfig::default(),
        }
    }
}

impl MarketMakerConfig {
    /// Parses and validates a TOML document. Errors: [`StrategyError::Config`] for syntax, unknown
    /// keys or wrong types; [`StrategyError::InvalidParameter`] for out-of-domain values.
    pub fn from_toml_str(text: &str) -> Result<Self, StrategyError> {
        let config: Self = toml::from_str(text).map_err(|e| StrategyError::Config(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks every field of every table.
    pub fn validate(&self) -> Result<(), StrategyError> {
        check("session_end_s", self.session_end_s, true, "finite")?;
        let cap = self.audit_capacity;
        let ok = cap <= crate::risk::MAX_AUDIT_CAPACITY;
        check("audit_capacity", cap as f64, ok, "at most MAX_AUDIT_CAPACITY")?;
        self.calibration.validate()?;
        self.inventory.validate()?;
        self.risk.validate()
    }
}

/// The full market maker (module docs).
pub struct MarketMaker<M: DepthModel> {
    model: M,
    config: MarketMakerConfig,
    calibrator: Calibrator,
    inventory: InventoryManager,
    risk: RiskMonitor,
    audit: AuditLog,
    regime_signal: Option<Box<dyn RegimeSignal + Send>>,
    regime: Option<RegimeId>,
    last_time_s: Option<f64>,
    last_quotes: Quotes,
    last_reason: Option<Reason>,
    size_bindings: [Option<Reason>; 2],
    calibration_ready: bool,
}

impl<M: DepthModel + std::fmt::Debug> std::fmt::Debug for MarketMaker<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MarketMaker")
            .field("model", &self.model)
            .field("state", &self.inventory.state())
            .field("halt", &self.risk.halted())
            .field("last_quotes", &self.last_quotes)
            .finish_non_exhaustive()
    }
}

impl<M: DepthModel> MarketMaker<M> {
    /// Builds a market maker around `model`. The hard position limit is the smaller of the
    /// configured one and the model's Q.
    ///
    /// Errors: [`StrategyError::InvalidParameter`] naming the first bad field.
    pub fn new(model: M, config: MarketMakerConfig) -> Result<Self, StrategyError> {
        config.validate()?;
        Ok(Self {
            calibrator: Calibrator::new(config.calibration.clone())?,
            inventory: InventoryManager::new(config.inventory.clone(), model.max_inventory_lots())?,
            risk: RiskMonitor::new(config.risk)?,
            audit: AuditLog::new(config.audit_capacity),
            model,
            config,
            regime_signal: None,
            regime: None,
            last_time_s: None,
            last_quotes: Quotes::none("start"),
            last_reason: None,
            size_bindings: [None; 2],
            calibration_ready: false,
        })
    }

    /// Builds a market maker from a TOML configuration ([`MarketMakerConfig::from_toml_str`]).
    pub fn from_toml_str(model: M, text: &str) -> Result<Self, StrategyError> {
        Self::new(model, MarketMakerConfig::from_toml_str(text)?)
    }

    /// Installs the regime hook.
    pub fn set_regime_signal(&mut self, signal: impl RegimeSignal + Send + 'static) {
        self.regime_signal = Some(Box::new(signal));
    }

    /// Forwards every audited decision to `callback`.
    pub fn set_decision_callback(&mut self, callback: DecisionCallback) {
        self.audit.set_callback(callback);
    }

    /// Fires the kill switch by hand.
    pub fn halt(&mut self, time_s: f64) {
        self.risk.halt(time_s, crate::risk::HaltReason::Manual, 0.0, 0.0, &mut self.audit);
    }

    /// Clears a halt (see [`RiskMonitor::reset`]).
    pub fn reset_halt(&mut self, time_s: f64) {
        self.risk.reset(time_s, &mut self.audit);
    }

    /// Checks the data clock from a driver's timer, without a market update.
    pub fn check_staleness(&mut self, time_s: f64) {
        self.risk.check_staleness(time_s, &mut self.audit);
    }

    /// The model.
    pub fn model(&self) -> &M {
        &self.model
    }

    /// The configuration.
    pub fn config(&self) -> &MarketMakerConfig {
        &self.config
    }

    /// The calibrator.
    pub fn calibrator(&self) -> &Calibrator {
        &self.calibrator
    }

    /// The calibrator, mutably (e.g. for [`Calibrator::refit_hawkes`] on a timer).
    pub fn calibrator_mut(&mut self) -> &mut Calibrator {
        &mut self.calibrator
    }

    /// The inventory manager.
    pub fn inventory(&self) -> &InventoryManager {
        &self.inventory
    }

    /// The risk monitor.
    pub fn risk(&self) -> &RiskMonitor {
        &self.risk
    }

    /// Current PnL.
    pub fn pnl(&self) -> PnlSnapshot {
        self.risk.pnl()
    }

    /// The audit trail.
    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }

    fn decide(&mut self, view: &MarketView<'_>) -> Quotes {
        let t = view.time_s;
        if !t.is_finite() || self.last_time_s.is_some_and(|last| t < last) {
            let at = self.last_time_s.unwrap_or(0.0);
            self.audit.record(at, DecisionKind::Input, Reason::BadInput, t, at);
            return self.finish(at, Quotes::none(Reason::BadInput.code()), Reason::BadInput);
        }
        self.last_time_s = Some(t);
        self.risk.on_market_data(t, &mut self.audit);
        let mid = view.mid().filter(|m| m.is_finite());
        let crossed = matches!((view.best_bid(), view.best_ask()), (Some(b), Some(a)) if b >= a);
        self.calibrator.update(t, mid.filter(|_| !crossed), view.trades);
        let mid = mid.filter(|_| !crossed);
        if let Some(mid) = mid {
            // Marked before the other checks, so a halt anchors its price protection here.
            self.risk.mark(t, mid, &mut self.audit);
        }
        let q = view.inventory_lots;
        self.risk.check_position(t, q, self.inventory.hard_limit_lots(), &mut self.audit);
        let Some(mid) = mid else {
            let reason = match (self.risk.halted(), crossed) {
                (Some(h), _) => Reason::Halt(h.reason),
                (None, true) => Reason::BadInput,
                (None, false) => Reason::NoMarket,
            };
            return self.finish(t, Quotes::none(reason.code()), reason);
        };
        if self.risk.halted().is_some() {
            return self.halted_answer(t, view);
        }
        let (quotes, reason) = self.quote_live(t, view, mid);
        let changes = count_changes(&self.last_quotes, &quotes);
        if !self.risk.admit_changes(t, changes, &mut self.audit) {
            return self.halted_answer(t, view);
        }
        self.finish(t, quotes, reason)
    }

    /// The answer while halted: a liquidation slice or nothing.
    fn halted_answer(&mut self, t: f64, view: &MarketView<'_>) -> Quotes {
        let Some(halt) = self.risk.halted() else {
            return self.finish(t, Quotes::none(Reason::Quote.code()), Reason::Quote);
        };
        let Some((side, order)) = self.risk.liquidation_order(view, view.inventory_lots) else {
            let reason = Reason::Halt(halt.reason);
            return self.finish(t, Quotes::none(reason.code()), reason);
        };
        let reason = Reason::Liquidate(halt.reason);
        let quotes = one_side(side, order, reason);
        if quotes != self.last_quotes {
            let price = order.price_ticks as f64;
            self.audit.record(t, DecisionKind::Liquidation, reason, order.qty_lots as f64, price);
        }
        self.finish(t, quotes, reason)
    }

    /// Records the answer (audit on a change of reason) and returns it.
    fn finish(&mut self, t: f64, quotes: Quotes, reason: Reason) -> Quotes {
        if self.last_reason != Some(reason) {
            self.audit.record(t, DecisionKind::Quote, reason, 0.0, 0.0);
            self.last_reason = Some(reason);
        }
        debug_assert!(quotes.bid.is_none_or(|o| o.qty_lots > 0) && quotes.ask.is_none_or(|o| o.qty_lots > 0));
        self.last_quotes = quotes.clone();
        quotes
    }

    fn select_regime(&mut self, t: f64, mid: f64, q: i64) {
        let Some(signal) = self.regime_signal.as_mut() else {
            return;
        };
        let inputs = RegimeInputs {
            time_s: t,
            mid_ticks: mid,
            sigma: self.calibrator.sigma(),
            intensity_ratio: self.calibrator.snapshot().intensity_ratio,
            inventory_lots: q,
        };
        let id = signal.regime(&inputs);
        if id != self.regime {
            let value = id.map_or(-1.0, |r| r.0 as f64);
            let previous = self.regime.map_or(-1.0, |r| r.0 as f64);
            let known = self.inventory.regime(id).1;
            let reason = if known { Reason::RegimeSwitch } else { Reason::RegimeUnknown };
            self.audit.record(t, DecisionKind::Regime, reason, value, previous);
            self.regime = id;
        }
    }

    /// Steps 5–8 of the module docs.
    fn quote_live(&mut self, t: f64, view: &MarketView<'_>, mid: f64) -> (Quotes, Reason) {
        let q = view.inventory_lots;
        self.select_regime(t, mid, q);
        let state = self.inventory.update_state(t, q, &mut self.audit);
        let sigma = self.calibrator.sigma();
        if state == ReductionState::AggressiveUnwind {
            return self.aggressive_unwind(t, view, sigma);
        }
        let live = if self.config.use_live_params { self.calibrator.live_params() } else { None };
        if live.is_some() && !self.calibration_ready {
            self.calibration_ready = true;
            let sigma = live.map_or(0.0, |l| l.sigma);
            self.audit.record(t, DecisionKind::Calibration, Reason::CalibrationReady, sigma, 0.0);
        }
        let time_to_horizon_s = (self.config.session_end_s - t).max(0.0);
        let ctx = DepthContext { inventory_lots: q, time_to_horizon_s, live };
        let Ok(depths) = self.model.depths(&ctx) else {
            return (Quotes::none(Reason::ModelError.code()), Reason::ModelError);
        };
        let (regime, _) = self.inventory.regime(self.regime);
        let scale = self.inventory.spread_scale(sigma, regime);
        let adjusted = self.inventory.adjust_depths(&depths, q, scale, regime);
        let (best_bid, best_ask) = (view.best_bid(), view.best_ask());
        let (mut bid, mut ask) = depths_to_prices(mid, &adjusted, best_bid, best_ask);
        shape_for_reduction(state, q, &mut bid, &mut ask, best_bid, best_ask);
        if let (Some(b), Some(a)) = (bid, ask) {
            if b >= a {
                return (Quotes::none(Reason::ModelError.code()), Reason::ModelError);
            }
        }
        let reducing = state != ReductionState::Normal;
        let bid = bid.and_then(|p| self.sized(t, Side::Buy, p, view, sigma, OrderStyle::Passive, reducing));
        let ask = ask.and_then(|p| self.sized(t, Side::Sell, p, view, sigma, OrderStyle::Passive, reducing));
        let reason = match state {
            ReductionState::Normal if bid.is_none() || ask.is_none() => Reason::QuoteOneSided,
            s => s.reason(),
        };
        (Quotes { bid, ask, reason: reason.code() }, reason)
    }

    /// Sizes an order at `price_ticks`; `None` when the size comes out 0.
    #[allow(clippy::too_many_arguments)]
    fn sized(
        &mut self,
        t: f64,
        side: Side,
        price_ticks: i64,
        view: &MarketView<'_>,
        sigma: Option<f64>,
        style: OrderStyle,
        reducing: bool,
    ) -> Option<OrderIntent> {
        let inv = &self.inventory;
        let q = view.inventory_lots;
        let start = match style {
            OrderStyle::Passive => inv.config().base_size_lots,
            OrderStyle::Marketable => inv.config().reduction.aggressive_slice_lots,
        };
        // Reducing orders ignore the regime's size multiplier: a regime must not block a reduction.
        let regime = inv.regime(if reducing { None } else { self.regime }).0;
        let size = inv.size(side, q, start, view, sigma, regime, style, reducing);
        let slot = usize::from(side == Side::Sell);
        if self.size_bindings[slot] != Some(size.binding) {
            self.size_bindings[slot] = Some(size.binding);
            let side_code = if side == Side::Buy { 1.0 } else { -1.0 };
            self.audit.record(t, DecisionKind::Sizing, size.binding, size.qty_lots as f64, side_code);
        }
        (size.qty_lots > 0).then_some(OrderIntent { price_ticks, qty_lots: size.qty_lots })
    }

    fn aggressive_unwind(&mut self, t: f64, view: &MarketView<'_>, sigma: Option<f64>) -> (Quotes, Reason) {
        let q = view.inventory_lots;
        let reason = Reason::ReduceAggressive;
        let side = if q > 0 { Side::Sell } else { Side::Buy };
        let size =
            self.sized(t, side, 0, view, sigma, OrderStyle::Marketable, true).map_or(0, |o| o.qty_lots);
        let cross = self.inventory.config().reduction.aggressive_cross_ticks;
        match marketable_order(view, q, size, cross, None) {
            Some((side, order)) => (one_side(side, order, reason), reason),
            None => (Quotes::none(reason.code()), reason),
        }
    }
}

/// Keeps only the reducing side outside [`ReductionState::Normal`]; in passive unwind the reducing
/// side joins its touch (or stays inside the spread where the model already was), never crossing.
fn shape_for_reduction(
    state: ReductionState,
    q: i64,
    bid: &mut Option<i64>,
    ask: &mut Option<i64>,
    best_bid: Option<i64>,
    best_ask: Option<i64>,
) {
    match state {
        ReductionState::Normal | ReductionState::AggressiveUnwind => {}
        ReductionState::OneSided | ReductionState::PassiveUnwind => {
            let passive = state == ReductionState::PassiveUnwind;
            if q > 0 {
                *bid = None;
                if passive {
                    *ask = best_ask.map(|touch| {
                        let p = ask.map_or(touch, |a| a.min(touch));
                        best_bid.map_or(p, |b| p.max(b.saturating_add(1)))
                    });
                }
            } else if q < 0 {
                *ask = None;
                if passive {
                    *bid = best_bid.map(|touch| {
                        let p = bid.map_or(touch, |b| b.max(touch));
                        best_ask.map_or(p, |a| p.min(a.saturating_sub(1)))
                    });
                }
            }
        }
    }
}

fn one_side(side: Side, order: OrderIntent, reason: Reason) -> Quotes {
    match side {
        Side::Buy => Quotes { bid: Some(order), ask: None, reason: reason.code() },
        Side::Sell => Quotes { bid: None, ask: Some(order), reason: reason.code() },
    }
}

/// Sides whose order differs from the previous answer (each is one cancel/replace message).
fn count_changes(previous: &Quotes, next: &Quotes) -> u32 {
    u32::from(previous.bid != next.bid) + u32::from(previous.ask != next.ask)
}

impl<M: DepthModel> Quoter for MarketMaker<M> {
    fn name(&self) -> &'static str {
        self.model.name()
    }

    fn quote(&mut self, view: &MarketView<'_>) -> Result<Quotes, StrategyError> {
        Ok(self.decide(view))
    }

    fn on_fill(&mut self, _time_s: f64, side: Side, price_ticks: i64, qty_lots: u64) {
        self.risk.on_fill(side, price_ticks, qty_lots);
    }
}
