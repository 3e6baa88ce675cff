//! Risk controls: a real-time PnL monitor with drawdown from peak, the kill switch, emergency
//! liquidation, and the audit trail in which every decision carries its reason.
//!
//! # Kill switch
//! [`RiskMonitor`] halts on:
//! - **drawdown**: total PnL (mark-to-mid, net of fees) more than `max_drawdown_tick_lots` below its
//!   peak;
//! - **stale data**: two consecutive market updates more than `max_data_silence_s` apart (each call
//!   of the quoter is a market update, see [`crate::MarketView`]; a driver with its own timer calls
//!   [`RiskMonitor::check_staleness`]);
//! - **order rate**: more than `max_quote_changes_per_s` quote changes in a rolling second (each
//!   side whose order changes counts once: that is one cancel/replace message at the venue);
//! - **position limit**: |inventory| beyond the hard limit;
//! - **manual**: [`RiskMonitor::halt`].
//!
//! Once halted it stays halted, whatever the market does, until [`RiskMonitor::reset`]. A reset
//! re-bases the drawdown peak at the current PnL (the operator has accepted the loss; otherwise
//! the first mark would halt again), restarts the data clock and empties the order-rate window.
//!
//! # Emergency liquidation
//! Halted with inventory, the quoter sends one marketable limit order per decision, reducing only:
//! a long sells at `best_bid − cross_ticks`, a short buys at `best_ask + cross_ticks`, in slices of
//! at most `slice_lots` (never more than the inventory). **Price protection:** the limit price is
//! never worse than the mark at the time of the halt by more than `max_slippage_ticks`; when the
//! book has moved beyond that, the order rests at the protection price instead of chasing. Without
//! a two-sided book there is nothing to price against and nothing is sent.
//!
//! # Audit trail
//! [`AuditLog`] keeps the last `capacity` [`Decision`]s (oldest dropped first, counted) and can
//! forward each to a callback. Each decision has a [`DecisionKind`], a [`Reason`] with a stable
//! short code, and a numeric [`DecisionDetail`] (the value that triggered and the limit it was
//! compared with). Recording allocates nothing once the buffer is full.

use std::collections::VecDeque;

use serde::Deserialize;
use zkclob_core::Side;

use crate::calibration::check;
use crate::inventory::marketable_order;
use crate::quoter::{MarketView, OrderIntent, StrategyError};

/// Largest audit-log capacity.
pub const MAX_AUDIT_CAPACITY: usize = 1 << 20;
/// Largest configurable quote-change rate, changes per second.
pub const MAX_QUOTE_CHANGES_PER_S: u32 = 100_000;
/// Length of the rolling order-rate window, seconds.
pub const ORDER_RATE_WINDOW_S: f64 = 1.0;

/// Why the kill switch fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HaltReason {
    /// Drawdown from the PnL peak beyond the limit.
    Drawdown,
    /// No market update for longer than the limit.
    StaleData,
    /// Too many quote changes in a rolling second.
    OrderRate,
    /// Inventory beyond the hard limit.
    PositionLimit,
    /// An operator asked.
    Manual,
}

impl HaltReason {
    /// The reason code of a halt (`"halt:drawdown"`, …), used as [`crate::Quotes::reason`].
    pub fn code(self) -> &'static str {
        Reason::Halt(self).code()
    }
}

/// Every reason a decision can have. [`Reason::code`] is the stable short code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// Normal two-sided quoting (`quote`).
    Quote,
    /// Normal quoting with one side blocked by the hard limit or the model (`quote:one-sided`).
    QuoteOneSided,
    /// No two-sided book (`no-market`).
    NoMarket,
    /// Unusable input, e.g. time going backwards (`bad-input`).
    BadInput,
    /// The model returned an error (`model-error`).
    ModelError,
    /// Reduction: quoting only the reducing side (`reduce:one-sided`).
    ReduceOneSided,
    /// Reduction: joining the touch on the reducing side (`reduce:passive`).
    ReducePassive,
    /// Reduction: a marketable order on the reducing side (`reduce:aggressive`).
    ReduceAggressive,
    /// Reduction trigger: inventory back within the soft threshold (`reduce:cleared`).
    InventoryWithinSoft,
    /// Reduction trigger: inventory beyond the soft threshold (`reduce:beyond-soft`).
    InventoryBeyondSoft,
    /// Reduction trigger: inventory beyond the passive threshold (`reduce:beyond-passive`).
    InventoryBeyondPassive,
    /// Reduction trigger: inventory at the hard limit (`reduce:at-hard-limit`).
    InventoryAtHardLimit,
    /// Reduction trigger: one-sided for too long (`reduce:one-sided-timeout`).
    OneSidedTimeout,
    /// Reduction trigger: passive unwind for too long (`reduce:passive-timeout`).
    PassiveTimeout,
    /// The kill switch fired (`halt:<reason>`).
    Halt(HaltReason),
    /// An emergency liquidation slice (`liquidate:<reason>`).
    Liquidate(HaltReason),
    /// An operator reset the kill switch (`reset`).
    Reset,
    /// The configured base size binds (`size:base`).
    SizeBase,
    /// The room left under the hard limit binds (`size:limit-room`).
    SizeLimitRoom,
    /// The square-root impact budget binds (`size:impact-budget`).
    SizeImpactBudget,
    /// The visible liquidity at the touch binds (`size:touch-liquidity`).
    SizeTouchLiquidity,
    /// An unwind is capped by the inventory itself, so it never flips the position (`size:inventory`).
    SizeInventory,
    /// The regime signal switched parameter sets (`regime:switch`).
    RegimeSwitch,
    /// The regime signal returned an id with no parameter set (`regime:unknown`).
    RegimeUnknown,
    /// Calibrated parameters became available to the model (`calibration:ready`).
    CalibrationReady,
}

impl Reason {
    /// The stable short code.
    pub fn code(self) -> &'static str {
        use HaltReason as H;
        match self {
            Reason::Quote => "quote",
            Reason::QuoteOneSided => "quote:one-sided",
            Reason::NoMarket => "no-market",
            Reason::BadInput => "bad-input",
            Reason::ModelError => "model-error",
            Reason::ReduceOneSided => "reduce:one-sided",
            Reason::ReducePassive => "reduce:passive",
            Reason::ReduceAggressive => "reduce:aggressive",
            Reason::InventoryWithinSoft => "reduce:cleared",
            Reason::InventoryBeyondSoft => "reduce:beyond-soft",
            Reason::InventoryBeyondPassive => "reduce:beyond-passive",
            Reason::InventoryAtHardLimit => "reduce:at-hard-limit",
            Reason::OneSidedTimeout => "reduce:one-sided-timeout",
            Reason::PassiveTimeout => "reduce:passive-timeout",
            Reason::Halt(H::Drawdown) => "halt:drawdown",
            Reason::Halt(H::StaleData) => "halt:stale-data",
            Reason::Halt(H::OrderRate) => "halt:order-rate",
            Reason::Halt(H::PositionLimit) => "halt:position-limit",
            Reason::Halt(H::Manual) => "halt:manual",
            Reason::Liquidate(H::Drawdown) => "liquidate:drawdown",
            Reason::Liquidate(H::StaleData) => "liquidate:stale-data",
            Reason::Liquidate(H::OrderRate) => "liquidate:order-rate",
            Reason::Liquidate(H::PositionLimit) => "liquidate:position-limit",
            Reason::Liquidate(H::Manual) => "liquidate:manual",
            Reason::Reset => "reset",
            Reason::SizeBase => "size:base",
            Reason::SizeLimitRoom => "size:limit-room",
            Reason::SizeImpactBudget => "size:impact-budget",
            Reason::SizeTouchLiquidity => "size:touch-liquidity",
            Reason::SizeInventory => "size:inventory",
            Reason::RegimeSwitch => "regime:switch",
            Reason::RegimeUnknown => "regime:unknown",
            Reason::CalibrationReady => "calibration:ready",
        }
    }
}

/// Which part of the strategy decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DecisionKind {
    /// The overall answer of a quote call changed reason.
    Quote,
    /// The inventory-reduction state machine changed state.
    Reduction,
    /// A side's binding size limit changed (detail: the size, and the side as limit ±1).
    Sizing,
    /// The kill switch fired.
    Halt,
    /// An emergency liquidation order was sent.
    Liquidation,
    /// The kill switch was reset.
    Reset,
    /// The parameter regime changed.
    Regime,
    /// The calibration state changed.
    Calibration,
    /// Input was rejected.
    Input,
}

/// The numbers behind a decision: what was observed and what it was compared with (units as the
/// reason implies: tick·lots for drawdown, seconds for staleness, changes for order rate, lots for
/// inventory and sizes).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DecisionDetail {
    /// The observed value.
    pub value: f64,
    /// The limit or threshold.
    pub limit: f64,
}

/// One audited decision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    /// When, seconds.
    pub time_s: f64,
    /// Which component decided.
    pub kind: DecisionKind,
    /// Why.
    pub reason: Reason,
    /// The numbers.
    pub detail: DecisionDetail,
}

/// A callback receiving every decision as it is recorded.
pub type DecisionCallback = Box<dyn FnMut(&Decision) + Send>;

/// Bounded audit trail (see the module docs).
pub struct AuditLog {
    entries: VecDeque<Decision>,
    capacity: usize,
    dropped: u64,
    callback: Option<DecisionCallback>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("len", &self.entries.len())
            .field("capacity", &self.capacity)
            .field("dropped", &self.dropped)
            .field("callback", &self.callback.is_some())
            .finish()
    }
}

impl AuditLog {
    /// A log keeping the last `capacity` decisions (at most [`MAX_AUDIT_CAPACITY`]; 0 keeps none,
    /// which is useful with a callback).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.min(MAX_AUDIT_CAPACITY);
        Self { entries: VecDeque::with_capacity(capacity), capacity, dropped: 0, callback: None }
    }

    /// Forwards every future decision to `callback` as well.
    pub fn set_callback(&mut self, callback: DecisionCallback) {
        self.callback = Some(callback);
    }

    /// Records a decision.
    pub fn record(&mut self, time_s: f64, kind: DecisionKind, reason: Reason, value: f64, limit: f64) {
        let decision = Decision { time_s, kind, reason, detail: DecisionDetail { value, limit } };
        if let Some(cb) = &mut self.callback {
            cb(&decision);
        }
        if self.capacity == 0 {
            self.dropped += 1;
            return;
        }
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
            self.dropped += 1;
        }
        self.entries.push_back(decision);
    }

    /// The kept decisions, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &Decision> + '_ {
        self.entries.iter()
    }

    /// The most recent decision.
    pub fn last(&self) -> Option<&Decision> {
        self.entries.back()
    }

    /// Decisions kept.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no decision is kept.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Decisions dropped because the log was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Whether a kept decision has this reason.
    pub fn contains(&self, reason: Reason) -> bool {
        self.entries.iter().any(|d| d.reason == reason)
    }
}

// ---------------------------------------------------------------------------------------------
// PnL
// ---------------------------------------------------------------------------------------------

/// PnL at one mark. Money is in tick·lots (the value of one tick on one lot).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PnlSnapshot {
    /// Position from our fills, lots.
    pub position_lots: i64,
    /// Cash: −Σ signed qty × price, tick·lots.
    pub cash_tick_lots: f64,
    /// Fees paid (negative = rebates earned), tick·lots.
    pub fees_tick_lots: f64,
    /// Average entry price of the open position, ticks (0 when flat).
    pub avg_entry_ticks: f64,
    /// Realised PnL (average-cost method, before fees), tick·lots.
    pub realised_tick_lots: f64,
    /// Unrealised PnL at the mark, tick·lots.
    pub unrealised_tick_lots: f64,
    /// The mark (last mid), ticks.
    pub mark_ticks: Option<f64>,
    /// realised + unrealised − fees = cash + position·mark − fees, tick·lots.
    pub total_tick_lots: f64,
    /// Highest total seen, tick·lots.
    pub peak_tick_lots: f64,
    /// peak − total (≥ 0), tick·lots.
    pub drawdown_tick_lots: f64,
}

/// Tracks cash, position, realised/unrealised PnL, fees and drawdown from our fills and the mid.
#[derive(Debug, Clone, Default)]
pub struct PnlTracker {
    fee_per_lot_ticks: f64,
    s: PnlSnapshot,
}

impl PnlTracker {
    /// A flat tracker charging `fee_per_lot_ticks` per lot filled (negative = rebate).
    pub fn new(fee_per_lot_ticks: f64) -> Self {
        Self { fee_per_lot_ticks, s: PnlSnapshot::default() }
    }

    /// Records one of our fills (`side` is ours). Sizes beyond i64 saturate; nothing panics.
    pub fn on_fill(&mut self, side: Side, price_ticks: i64, qty_lots: u64) {
        let qty = i64::try_from(qty_lots).unwrap_or(i64::MAX);
        if qty == 0 {
            return;
        }
        let signed = if side == Side::Buy { qty } else { -qty };
        let price = price_ticks as f64;
        let s = &mut self.s;
        s.cash_tick_lots -= signed as f64 * price;
        s.fees_tick_lots += self.fee_per_lot_ticks * qty as f64;
        let pos = s.position_lots;
        if pos == 0 || (pos > 0) == (signed > 0) {
            let total = pos.unsigned_abs() as f64 + qty as f64;
            s.avg_entry_ticks = (s.avg_entry_ticks * pos.unsigned_abs() as f64 + price * qty as f64) / total;
        } else {
            let closed = qty.min(pos.abs());
            s.realised_tick_lots += closed as f64 * (price - s.avg_entry_ticks) * pos.signum() as f64;
            if qty > pos.abs() {
                s.avg_entry_ticks = price; // flipped: the remainder opens at this price
            }
        }
        s.position_lots = pos.saturating_add(signed);
        if s.position_lots == 0 {
            s.avg_entry_ticks = 0.0;
        }
        self.refresh();
    }

    /// Marks the position at `mid_ticks` (non-finite marks are ignored).
    pub fn mark(&mut self, mid_ticks: f64) {
        if mid_ticks.is_finite() {
            self.s.mark_ticks = Some(mid_ticks);
            self.refresh();
        }
    }

    fn refresh(&mut self) {
        let s = &mut self.s;
        s.unrealised_tick_lots = match s.mark_ticks {
            Some(m) if s.position_lots != 0 => s.position_lots as f64 * (m - s.avg_entry_ticks),
            _ => 0.0,
        };
        s.total_tick_lots = s.realised_tick_lots + s.unrealised_tick_lots - s.fees_tick_lots;
        if s.total_tick_lots > s.peak_tick_lots {
            s.peak_tick_lots = s.total_tick_lots;
        }
        s.drawdown_tick_lots = s.peak_tick_lots - s.total_tick_lots;
    }

    /// Forgets the peak: the drawdown restarts from the current total.
    pub fn rebase_peak(&mut self) {
        self.s.peak_tick_lots = self.s.total_tick_lots;
        self.s.drawdown_tick_lots = 0.0;
    }

    /// The current numbers.
    pub fn snapshot(&self) -> PnlSnapshot {
        self.s
    }
}

// ---------------------------------------------------------------------------------------------
// Kill switch
// ---------------------------------------------------------------------------------------------

/// Emergency liquidation settings (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LiquidationConfig {
    /// Liquidate when halted with inventory (else just cancel everything).
    pub enabled: bool,
    /// Most lots per order.
    pub slice_lots: u64,
    /// How far past the opposite touch the limit price may go, ticks (≥ 0).
    pub cross_ticks: i64,
    /// Price protection: most ticks worse than the mark at the halt.
    pub max_slippage_ticks: f64,
}

impl Default for LiquidationConfig {
    fn default() -> Self {
        Self { enabled: true, slice_lots: 1, cross_ticks: 0, max_slippage_ticks: 10.0 }
    }
}

/// Kill-switch limits and PnL settings.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RiskConfig {
    /// Halt when the drawdown exceeds this, tick·lots.
    pub max_drawdown_tick_lots: f64,
    /// Halt when two market updates are further apart than this, seconds.
    pub max_data_silence_s: f64,
    /// Halt beyond this many quote changes (per side) in a rolling second.
    pub max_quote_changes_per_s: u32,
    /// Fee per lot filled, ticks (negative = rebate).
    pub fee_per_lot_ticks: f64,
    /// Emergency liquidation.
    pub liquidation: LiquidationConfig,
}

impl Default for RiskConfig {
    fn default() -> Self {
        Self {
            max_drawdown_tick_lots: 1_000.0,
            max_data_silence_s: 5.0,
            max_quote_changes_per_s: 50,
            fee_per_lot_ticks: 0.0,
            liquidation: LiquidationConfig::default(),
        }
    }
}

impl RiskConfig {
    /// Checks every field.
    pub fn validate(&self) -> Result<(), StrategyError> {
        let dd = self.max_drawdown_tick_lots;
        check("max_drawdown_tick_lots", dd, dd > 0.0, "finite and > 0")?;
        let silence = self.max_data_silence_s;
        check("max_data_silence_s", silence, silence > 0.0, "finite and > 0")?;
        let rate = self.max_quote_changes_per_s;
        let ok = (1..=MAX_QUOTE_CHANGES_PER_S).contains(&rate);
        check("max_quote_changes_per_s", rate as f64, ok, "in 1..=MAX_QUOTE_CHANGES_PER_S")?;
        check("fee_per_lot_ticks", self.fee_per_lot_ticks, true, "finite")?;
        let l = &self.liquidation;
        check("liquidation.slice_lots", l.slice_lots as f64, l.slice_lots >= 1, "at least 1")?;
        check(
            "liquidation.cross_ticks",
            l.cross_ticks as f64,
            (0..=1_000_000).contains(&l.cross_ticks),
            "in 0..=1e6",
        )?;
        let slip = l.max_slippage_ticks;
        check("liquidation.max_slippage_ticks", slip, slip >= 0.0, "finite and >= 0")
    }
}

/// The halt in force.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HaltState {
    /// Why.
    pub reason: HaltReason,
    /// Since when, seconds.
    pub since_s: f64,
    /// The mark when the halt fired (the liquidation's price-protection anchor), ticks.
    pub mark_ticks: Option<f64>,
}

/// PnL monitor, kill switch and liquidation (module docs).
#[derive(Debug, Clone)]
pub struct RiskMonitor {
    config: RiskConfig,
    pnl: PnlTracker,
    change_times_s: VecDeque<f64>,
    last_data_s: Option<f64>,
    halt: Option<HaltState>,
}

impl RiskMonitor {
    /// Builds a monitor. Errors: [`StrategyError::InvalidParameter`] naming the bad field.
    pub fn new(config: RiskConfig) -> Result<Self, StrategyError> {
        config.validate()?;
        Ok(Self {
            pnl: PnlTracker::new(config.fee_per_lot_ticks),
            change_times_s: VecDeque::with_capacity(config.max_quote_changes_per_s as usize + 2),
            last_data_s: None,
            halt: None,
            config,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &RiskConfig {
        &self.config
    }

    /// The halt in force, if any.
    pub fn halted(&self) -> Option<HaltState> {
        self.halt
    }

    /// Current PnL.
    pub fn pnl(&self) -> PnlSnapshot {
        self.pnl.snapshot()
    }

    /// Records one of our fills.
    pub fn on_fill(&mut self, side: Side, price_ticks: i64, qty_lots: u64) {
        self.pnl.on_fill(side, price_ticks, qty_lots);
    }

    /// Fires the kill switch (a no-op when already halted: the first reason stands).
    pub fn halt(&mut self, time_s: f64, reason: HaltReason, value: f64, limit: f64, audit: &mut AuditLog) {
        if self.halt.is_some() {
            return;
        }
        let mark_ticks = self.pnl.snapshot().mark_ticks;
        self.halt = Some(HaltState { reason, since_s: time_s, mark_ticks });
        audit.record(time_s, DecisionKind::Halt, Reason::Halt(reason), value, limit);
    }

    /// Clears a halt (module docs: the drawdown peak is re-based, the data clock and the order
    /// rate window restart). Recorded even when not halted.
    pub fn reset(&mut self, time_s: f64, audit: &mut AuditLog) {
        let was = self.halt.take();
        self.pnl.rebase_peak();
        self.last_data_s = Some(time_s);
        self.change_times_s.clear();
        audit.record(time_s, DecisionKind::Reset, Reason::Reset, f64::from(u8::from(was.is_some())), 0.0);
    }

    /// Checks the data clock at `time_s` without counting it as an update.
    pub fn check_staleness(&mut self, time_s: f64, audit: &mut AuditLog) {
        if let Some(last) = self.last_data_s {
            let silence = time_s - last;
            if silence > self.config.max_data_silence_s {
                self.halt(time_s, HaltReason::StaleData, silence, self.config.max_data_silence_s, audit);
            }
        }
    }

    /// A market update arrived at `time_s`: checks the silence since the previous one.
    pub fn on_market_data(&mut self, time_s: f64, audit: &mut AuditLog) {
        self.check_staleness(time_s, audit);
        self.last_data_s = Some(time_s);
    }

    /// Marks to `mid_ticks` and checks the drawdown.
    pub fn mark(&mut self, time_s: f64, mid_ticks: f64, audit: &mut AuditLog) {
        self.pnl.mark(mid_ticks);
        let dd = self.pnl.snapshot().drawdown_tick_lots;
        if dd > self.config.max_drawdown_tick_lots {
            self.halt(time_s, HaltReason::Drawdown, dd, self.config.max_drawdown_tick_lots, audit);
        }
    }

    /// Checks |inventory| against the hard limit.
    pub fn check_position(
        &mut self,
        time_s: f64,
        inventory_lots: i64,
        limit_lots: i64,
        audit: &mut AuditLog,
    ) {
        if inventory_lots.unsigned_abs() > limit_lots.unsigned_abs() {
            let value = inventory_lots as f64;
            self.halt(time_s, HaltReason::PositionLimit, value, limit_lots as f64, audit);
        }
    }

    /// Asks to send `changes` order changes at `time_s`. Over the rolling-second limit, the switch
    /// fires and the answer is `false`; otherwise they are counted and the answer is `true`.
    pub fn admit_changes(&mut self, time_s: f64, changes: u32, audit: &mut AuditLog) -> bool {
        if changes == 0 {
            return true;
        }
        while self.change_times_s.front().is_some_and(|&t| t <= time_s - ORDER_RATE_WINDOW_S) {
            self.change_times_s.pop_front();
        }
        let max = self.config.max_quote_changes_per_s as usize;
        let wanted = self.change_times_s.len() + changes as usize;
        if wanted > max {
            self.halt(time_s, HaltReason::OrderRate, wanted as f64, max as f64, audit);
            return false;
        }
        for _ in 0..changes {
            self.change_times_s.push_back(time_s);
        }
        true
    }

    /// The liquidation order for a halted monitor holding `inventory_lots`, against `view`'s book
    /// (module docs), or `None` when not halted, disabled, flat or without a two-sided book.
    /// Returns our side and the order.
    pub fn liquidation_order(
        &self,
        view: &MarketView<'_>,
        inventory_lots: i64,
    ) -> Option<(Side, OrderIntent)> {
        let halt = self.halt?;
        let l = &self.config.liquidation;
        if !l.enabled || inventory_lots == 0 {
            return None;
        }
        let anchor = halt.mark_ticks.or(view.mid())?;
        let protection = if inventory_lots > 0 {
            (anchor - l.max_slippage_ticks).ceil()
        } else {
            (anchor + l.max_slippage_ticks).floor()
        };
        if protection.is_nan() || protection.abs() >= i64::MAX as f64 / 2.0 {
            return None;
        }
        let size = l.slice_lots.min(inventory_lots.unsigned_abs());
        marketable_order(view, inventory_lots, size, l.cross_ticks, Some(protection as i64))
    }
}
