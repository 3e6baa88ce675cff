//! Inventory management: hard position limits, an extra inventory skew, automatic reduction as a
//! state machine with reasons, order sizing by the square-root impact law and by visible
//! liquidity, and adaptive parameters (volatility-scaled spreads, regime-switched parameter sets).
//!
//! # Hard limit
//! With limit Q and inventory q, a bid is never larger than Q − q and an ask never larger than
//! Q + q; a side with no room is not quoted. The limit in force is the smaller of
//! [`InventoryConfig::max_position_lots`] and the model's own Q.
//!
//! # Reduction state machine
//! | state | entered when | quotes |
//! |---|---|---|
//! | [`ReductionState::Normal`] | \|q\| ≤ soft | both sides from the model |
//! | [`ReductionState::OneSided`] | \|q\| > soft | only the reducing side, at the model's price |
//! | [`ReductionState::PassiveUnwind`] | \|q\| ≥ passive, or one-sided for `one_sided_timeout_s` | the reducing side joins the touch (never crossing) |
//! | [`ReductionState::AggressiveUnwind`] | \|q\| ≥ Q, or passive for `passive_timeout_s` | one marketable limit order crossing the spread, at most `aggressive_slice_lots` |
//!
//! The state is recomputed on every decision from |q| and the two timers; every change is audited
//! with its trigger ([`crate::risk::Reason`]). The timers restart when |q| falls back within the
//! soft threshold or the position changes sign. Reducing orders never exceed |q| (no flip).
//!
//! # Sizing
//! Size = min(base × regime size multiplier, limit room, impact cap, liquidity cap), floored to
//! whole lots; the binding constraint is reported. **Impact cap:** the square-root law
//! I = Y·σ_daily·√(Q/V_daily) (`../shared/spec/quoting.md`, "Other adjustments") inverted: the
//! largest Q with I ≤ `impact_budget_ticks` is V_daily·(budget / (Y·σ_daily))². σ_daily is
//! configured, or the calibrated σ (ticks/√s) × √`session_length_s`. Active only with
//! `daily_volume_lots` set. **Liquidity cap:** `touch_fraction` × the visible size at the touch —
//! our own side's touch for a passive quote (a thin queue gets a small order), the opposite touch
//! for a marketable order (what it would take) — but never below `min_liquidity_size_lots`.
//!
//! # Adaptive parameters
//! **Volatility-scaled spreads:** with a `reference_sigma` set, the symmetric part of the depths,
//! c = (δᵇ + δᵃ)/2, is multiplied by clamp((σ/σ_ref)^`sigma_exponent`, min, max) while the skew
//! (δᵇ − δᵃ)/2 is kept: the spread widens with volatility, the inventory lean is the model's. Only
//! a positive c is scaled (a crossing quote is never made more aggressive). **Regimes:** a
//! [`RegimeSignal`] (a trait, implemented by any `FnMut(&RegimeInputs) -> Option<RegimeId>`)
//! picks one of the named [`RegimeParams`] sets at each decision; `None` means the base set.
//! Reducing orders (every order outside the normal state) ignore the regime's size multiplier, so
//! a regime can never block a reduction.

use serde::Deserialize;
use zkclob_core::Side;

use crate::calibration::check;
use crate::quoter::{MarketView, ModelDepths, OrderIntent, StrategyError};
use crate::risk::{AuditLog, DecisionKind, Reason};

/// Largest configurable position limit, lots.
pub const MAX_POSITION_LOTS: i64 = 1_000_000_000;
/// Most named regimes.
pub const MAX_REGIMES: usize = 64;

/// Reduction thresholds and timeouts (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReductionConfig {
    /// Beyond this |q| quote the reducing side only, lots.
    pub soft_threshold_lots: i64,
    /// At or beyond this |q| join the touch on the reducing side, lots.
    pub passive_threshold_lots: i64,
    /// One-sided for this long → passive unwind, seconds.
    pub one_sided_timeout_s: f64,
    /// Passive for this long → aggressive unwind, seconds.
    pub passive_timeout_s: f64,
    /// Most lots per aggressive-unwind order.
    pub aggressive_slice_lots: u64,
    /// How far past the opposite touch an aggressive unwind may go, ticks (≥ 0).
    pub aggressive_cross_ticks: i64,
}

impl Default for ReductionConfig {
    fn default() -> Self {
        Self {
            soft_threshold_lots: 5,
            passive_threshold_lots: 8,
            one_sided_timeout_s: 30.0,
            passive_timeout_s: 60.0,
            aggressive_slice_lots: 1,
            aggressive_cross_ticks: 0,
        }
    }
}

/// Square-root-impact and liquidity-aware sizing (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SizingConfig {
    /// Y in I = Y·σ_daily·√(Q/V), dimensionless (≈ 0.5–1).
    pub impact_coefficient: f64,
    /// Daily volume V, lots; `None` disables the impact cap.
    pub daily_volume_lots: Option<f64>,
    /// Daily σ, ticks; `None` derives it from the calibrated σ.
    pub daily_sigma_ticks: Option<f64>,
    /// Trading-session length used to turn σ per √s into σ_daily, seconds.
    pub session_length_s: f64,
    /// Most impact one order may have, ticks.
    pub impact_budget_ticks: f64,
    /// Most of the visible touch size one order may be; `None` disables the cap.
    pub touch_fraction: Option<f64>,
    /// The liquidity cap never goes below this, lots.
    pub min_liquidity_size_lots: u64,
}

impl Default for SizingConfig {
    fn default() -> Self {
        Self {
            impact_coefficient: 0.7,
            daily_volume_lots: None,
            daily_sigma_ticks: None,
            session_length_s: 23_400.0,
            impact_budget_ticks: 1.0,
            touch_fraction: None,
            min_liquidity_size_lots: 1,
        }
    }
}

/// Volatility-scaled spreads (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdaptiveConfig {
    /// σ at which the scale is 1, ticks/√s; `None` disables the scaling.
    pub reference_sigma: Option<f64>,
    /// Exponent p in (σ/σ_ref)^p.
    pub sigma_exponent: f64,
    /// Smallest scale.
    pub min_spread_scale: f64,
    /// Largest scale.
    pub max_spread_scale: f64,
}

impl Default for AdaptiveConfig {
    fn default() -> Self {
        Self { reference_sigma: None, sigma_exponent: 1.0, min_spread_scale: 0.5, max_spread_scale: 3.0 }
    }
}

/// One named parameter set a [`RegimeSignal`] can switch to.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegimeParams {
    /// Name (unique).
    pub name: String,
    /// Multiplies the symmetric part of the depths (> 0).
    #[serde(default = "one")]
    pub spread_multiplier: f64,
    /// Multiplies the base size (≥ 0; 0 = quote nothing new).
    #[serde(default = "one")]
    pub size_multiplier: f64,
    /// Replaces the extra skew, ticks per lot.
    #[serde(default)]
    pub skew_ticks_per_lot: Option<f64>,
}

fn one() -> f64 {
    1.0
}

/// Index of a regime in [`InventoryConfig::regimes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RegimeId(pub usize);

/// What a regime signal sees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RegimeInputs {
    /// Decision time, seconds.
    pub time_s: f64,
    /// Mid, ticks.
    pub mid_ticks: f64,
    /// Calibrated σ, ticks/√s, when known.
    pub sigma: Option<f64>,
    /// Hawkes intensity / stationary rate (1 when not tracked).
    pub intensity_ratio: f64,
    /// Inventory, lots.
    pub inventory_lots: i64,
}

/// The regime hook: returns the parameter set to use, `None` for the base set.
pub trait RegimeSignal {
    /// The regime for this decision.
    fn regime(&mut self, inputs: &RegimeInputs) -> Option<RegimeId>;
}

impl<F: FnMut(&RegimeInputs) -> Option<RegimeId>> RegimeSignal for F {
    fn regime(&mut self, inputs: &RegimeInputs) -> Option<RegimeId> {
        self(inputs)
    }
}

/// Inventory management configuration.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InventoryConfig {
    /// Hard limit Q, lots.
    pub max_position_lots: i64,
    /// Base order size, lots.
    pub base_size_lots: u64,
    /// Extra skew on top of the model, ticks per lot: δᵇ += s·q, δᵃ −= s·q.
    pub skew_ticks_per_lot: f64,
    /// Reduction.
    pub reduction: ReductionConfig,
    /// Sizing.
    pub sizing: SizingConfig,
    /// Volatility-scaled spreads.
    pub adaptive: AdaptiveConfig,
    /// Named parameter sets for the regime signal.
    pub regimes: Vec<RegimeParams>,
}

impl Default for InventoryConfig {
    fn default() -> Self {
        Self {
            max_position_lots: 10,
            base_size_lots: 1,
            skew_ticks_per_lot: 0.0,
            reduction: ReductionConfig::default(),
            sizing: SizingConfig::default(),
            adaptive: AdaptiveConfig::default(),
            regimes: Vec::new(),
        }
    }
}

impl InventoryConfig {
    /// Checks every field; errors name the field.
    pub fn validate(&self) -> Result<(), StrategyError> {
        let q = self.max_position_lots;
        check(
            "max_position_lots",
            q as f64,
            (1..=MAX_POSITION_LOTS).contains(&q),
            "in 1..=MAX_POSITION_LOTS",
        )?;
        check("base_size_lots", self.base_size_lots as f64, self.base_size_lots >= 1, "at least 1")?;
        check("skew_ticks_per_lot", self.skew_ticks_per_lot, true, "finite")?;
        let r = &self.reduction;
        let soft = r.soft_threshold_lots;
        let passive = r.passive_threshold_lots;
        check("reduction.soft_threshold_lots", soft as f64, (0..=passive).contains(&soft), "in 0..=passive")?;
        check("reduction.passive_threshold_lots", passive as f64, passive <= q, "at most max_position_lots")?;
        let t1 = r.one_sided_timeout_s;
        check("reduction.one_sided_timeout_s", t1, t1 > 0.0, "finite and > 0")?;
        let t2 = r.passive_timeout_s;
        check("reduction.passive_timeout_s", t2, t2 > 0.0, "finite and > 0")?;
        let slice = r.aggressive_slice_lots;
        check("reduction.aggressive_slice_lots", slice as f64, slice >= 1, "at least 1")?;
        let cross = r.aggressive_cross_ticks;
        check(
            "reduction.aggressive_cross_ticks",
            cross as f64,
            (0..=1_000_000).contains(&cross),
            "in 0..=1e6",
        )?;
        self.validate_sizing()?;
        self.validate_adaptive()
    }

    fn validate_sizing(&self) -> Result<(), StrategyError> {
        let s = &self.sizing;
        check(
            "sizing.impact_coefficient",
            s.impact_coefficient,
            s.impact_coefficient > 0.0,
            "finite and > 0",
        )?;
        if let Some(v) = s.daily_volume_lots {
            check("sizing.daily_volume_lots", v, v > 0.0, "finite and > 0")?;
        }
        if let Some(sd) = s.daily_sigma_ticks {
            check("sizing.daily_sigma_ticks", sd, sd > 0.0, "finite and > 0")?;
        }
        check("sizing.session_length_s", s.session_length_s, s.session_length_s > 0.0, "finite and > 0")?;
        let b = s.impact_budget_ticks;
        check("sizing.impact_budget_ticks", b, b > 0.0, "finite and > 0")?;
        if let Some(f) = s.touch_fraction {
            check("sizing.touch_fraction", f, f > 0.0, "finite and > 0")?;
        }
        Ok(())
    }

    fn validate_adaptive(&self) -> Result<(), StrategyError> {
        let a = &self.adaptive;
        if let Some(r) = a.reference_sigma {
            check("adaptive.reference_sigma", r, r > 0.0, "finite and > 0")?;
        }
        check("adaptive.sigma_exponent", a.sigma_exponent, true, "finite")?;
        let lo = a.min_spread_scale;
        check("adaptive.min_spread_scale", lo, lo > 0.0, "finite and > 0")?;
        check(
            "adaptive.max_spread_scale",
            a.max_spread_scale,
            a.max_spread_scale >= lo,
            "finite and >= min",
        )?;
        let n = self.regimes.len();
        check("regimes", n as f64, n <= MAX_REGIMES, "at most MAX_REGIMES entries")?;
        for (i, r) in self.regimes.iter().enumerate() {
            check(
                "regimes.spread_multiplier",
                r.spread_multiplier,
                r.spread_multiplier > 0.0,
                "finite and > 0",
            )?;
            check("regimes.size_multiplier", r.size_multiplier, r.size_multiplier >= 0.0, "finite and >= 0")?;
            if let Some(s) = r.skew_ticks_per_lot {
                check("regimes.skew_ticks_per_lot", s, true, "finite")?;
            }
            let unique = self.regimes[..i].iter().all(|o| o.name != r.name);
            check("regimes.name", i as f64, unique, "unique")?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Square-root impact
// ---------------------------------------------------------------------------------------------

/// Square-root impact I = Y·σ_daily·√(Q/V_daily), ticks (σ_daily in ticks, Q and V in lots).
pub fn sqrt_impact_ticks(y: f64, sigma_daily_ticks: f64, qty_lots: f64, daily_volume_lots: f64) -> f64 {
    y * sigma_daily_ticks * (qty_lots / daily_volume_lots).sqrt()
}

/// The largest whole size Q with I(Q) ≤ `budget_ticks`: ⌊V·(budget/(Y·σ_daily))²⌋, checked against
/// the forward formula so rounding never lets it exceed the budget. Non-finite or non-positive
/// inputs give 0 (no size can be justified); a zero σ gives `u64::MAX` (no impact).
pub fn max_size_within_impact(
    y: f64,
    sigma_daily_ticks: f64,
    daily_volume_lots: f64,
    budget_ticks: f64,
) -> u64 {
    let finite = [y, sigma_daily_ticks, daily_volume_lots, budget_ticks].iter().all(|v| v.is_finite());
    if !finite || y <= 0.0 || daily_volume_lots <= 0.0 || budget_ticks <= 0.0 || sigma_daily_ticks < 0.0 {
        return 0;
    }
    if sigma_daily_ticks == 0.0 {
        return u64::MAX;
    }
    let ratio = budget_ticks / (y * sigma_daily_ticks);
    let q = (daily_volume_lots * ratio * ratio).floor();
    if q.is_nan() {
        return 0;
    }
    if q >= 1e18 {
        return 1_000_000_000_000_000_000;
    }
    let mut q = q as u64;
    while q > 0 && sqrt_impact_ticks(y, sigma_daily_ticks, q as f64, daily_volume_lots) > budget_ticks {
        q -= 1;
    }
    q
}

/// A marketable limit order reducing `inventory_lots` (a long sells at `best_bid − cross_ticks`, a
/// short buys at `best_ask + cross_ticks`) of `size_lots`, its price bounded by `protection_ticks`
/// (the lowest sell / highest buy price accepted). Returns our side and the order, or `None` when
/// flat, the size is 0, or the needed touch is missing.
pub fn marketable_order(
    view: &MarketView<'_>,
    inventory_lots: i64,
    size_lots: u64,
    cross_ticks: i64,
    protection_ticks: Option<i64>,
) -> Option<(Side, OrderIntent)> {
    if size_lots == 0 || inventory_lots == 0 {
        return None;
    }
    let (side, price) = if inventory_lots > 0 {
        let p = view.best_bid()?.saturating_sub(cross_ticks);
        (Side::Sell, protection_ticks.map_or(p, |floor| p.max(floor)))
    } else {
        let p = view.best_ask()?.saturating_add(cross_ticks);
        (Side::Buy, protection_ticks.map_or(p, |cap| p.min(cap)))
    };
    Some((side, OrderIntent { price_ticks: price, qty_lots: size_lots }))
}

// ---------------------------------------------------------------------------------------------
// Reduction state machine
// ---------------------------------------------------------------------------------------------

/// Where the reduction state machine is (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum ReductionState {
    /// Both sides.
    #[default]
    Normal,
    /// Reducing side only.
    OneSided,
    /// Reducing side joins the touch.
    PassiveUnwind,
    /// A marketable reducing order.
    AggressiveUnwind,
}

impl ReductionState {
    /// The reason a quote in this state carries.
    pub fn reason(self) -> Reason {
        match self {
            ReductionState::Normal => Reason::Quote,
            ReductionState::OneSided => Reason::ReduceOneSided,
            ReductionState::PassiveUnwind => Reason::ReducePassive,
            ReductionState::AggressiveUnwind => Reason::ReduceAggressive,
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct ReductionMachine {
    state: ReductionState,
    beyond_soft_since_s: Option<f64>,
    passive_since_s: Option<f64>,
    sign: i64,
}

impl ReductionMachine {
    /// Recomputes the state; returns the new state with its trigger and threshold when it changed.
    fn update(
        &mut self,
        time_s: f64,
        q: i64,
        r: &ReductionConfig,
        hard: i64,
    ) -> Option<(ReductionState, Reason, f64)> {
        use ReductionState as S;
        let abs = q.checked_abs().unwrap_or(i64::MAX);
        if q.signum() != self.sign {
            self.beyond_soft_since_s = None;
            self.passive_since_s = None;
            self.sign = q.signum();
        }
        let pick = if abs <= r.soft_threshold_lots {
            self.beyond_soft_since_s = None;
            self.passive_since_s = None;
            (S::Normal, Reason::InventoryWithinSoft, r.soft_threshold_lots as f64)
        } else {
            let since = *self.beyond_soft_since_s.get_or_insert(time_s);
            let mut pick = if abs >= hard {
                (S::AggressiveUnwind, Reason::InventoryAtHardLimit, hard as f64)
            } else if abs >= r.passive_threshold_lots {
                (S::PassiveUnwind, Reason::InventoryBeyondPassive, r.passive_threshold_lots as f64)
            } else {
                (S::OneSided, Reason::InventoryBeyondSoft, r.soft_threshold_lots as f64)
            };
            if pick.0 < S::PassiveUnwind && time_s - since >= r.one_sided_timeout_s {
                pick = (S::PassiveUnwind, Reason::OneSidedTimeout, r.one_sided_timeout_s);
            }
            if pick.0 >= S::PassiveUnwind {
                let passive_since = *self.passive_since_s.get_or_insert(time_s);
                if pick.0 < S::AggressiveUnwind && time_s - passive_since >= r.passive_timeout_s {
                    pick = (S::AggressiveUnwind, Reason::PassiveTimeout, r.passive_timeout_s);
                }
            } else {
                self.passive_since_s = None;
            }
            pick
        };
        (pick.0 != self.state).then(|| {
            self.state = pick.0;
            pick
        })
    }
}

// ---------------------------------------------------------------------------------------------
// The manager
// ---------------------------------------------------------------------------------------------

/// A size and the constraint that set it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizeDecision {
    /// Lots (0 = do not send).
    pub qty_lots: u64,
    /// [`Reason::SizeBase`], [`Reason::SizeLimitRoom`], [`Reason::SizeImpactBudget`],
    /// [`Reason::SizeTouchLiquidity`] or [`Reason::SizeInventory`].
    pub binding: Reason,
}

/// How an order will meet the book, for the liquidity cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStyle {
    /// Rests in the book: capped by our own side's touch.
    Passive,
    /// Crosses the spread: capped by the opposite touch.
    Marketable,
}

/// Position limits, skew, reduction, sizing and adaptive parameters (module docs).
#[derive(Debug, Clone)]
pub struct InventoryManager {
    config: InventoryConfig,
    hard_limit_lots: i64,
    base_regime: RegimeParams,
    machine: ReductionMachine,
}

impl InventoryManager {
    /// Builds a manager; `model_limit_lots` is the model's own Q, if it has one.
    ///
    /// Errors: [`StrategyError::InvalidParameter`] naming the bad field.
    pub fn new(config: InventoryConfig, model_limit_lots: Option<i64>) -> Result<Self, StrategyError> {
        config.validate()?;
        let hard_limit_lots = match model_limit_lots {
            Some(m) if m >= 1 => config.max_position_lots.min(m),
            Some(m) => {
                return Err(StrategyError::InvalidParameter {
                    name: "model max_inventory_lots",
                    value: m as f64,
                    requirement: "at least 1",
                })
            }
            None => config.max_position_lots,
        };
        let base_regime = RegimeParams {
            name: "base".into(),
            spread_multiplier: 1.0,
            size_multiplier: 1.0,
            skew_ticks_per_lot: None,
        };
        Ok(Self { config, hard_limit_lots, base_regime, machine: ReductionMachine::default() })
    }

    /// The configuration.
    pub fn config(&self) -> &InventoryConfig {
        &self.config
    }

    /// The hard limit in force, lots.
    pub fn hard_limit_lots(&self) -> i64 {
        self.hard_limit_lots
    }

    /// The current reduction state.
    pub fn state(&self) -> ReductionState {
        self.machine.state
    }

    /// Updates the reduction state for inventory `q` at `time_s`, auditing any change.
    pub fn update_state(&mut self, time_s: f64, q: i64, audit: &mut AuditLog) -> ReductionState {
        let (r, hard) = (&self.config.reduction, self.hard_limit_lots);
        if let Some((_, trigger, threshold)) = self.machine.update(time_s, q, r, hard) {
            audit.record(time_s, DecisionKind::Reduction, trigger, q as f64, threshold);
        }
        self.machine.state
    }

    /// Room left under the hard limit for an order on `side` (ours) at inventory `q`, lots.
    pub fn room_lots(&self, side: Side, q: i64) -> u64 {
        let room = match side {
            Side::Buy => self.hard_limit_lots.saturating_sub(q),
            Side::Sell => self.hard_limit_lots.saturating_add(q),
        };
        room.max(0) as u64
    }

    /// The id of the regime named `name`.
    pub fn regime_id(&self, name: &str) -> Option<RegimeId> {
        self.config.regimes.iter().position(|r| r.name == name).map(RegimeId)
    }

    /// The parameter set for `id` (`None` or an unknown id: the base set) and whether it was known.
    pub fn regime(&self, id: Option<RegimeId>) -> (&RegimeParams, bool) {
        match id {
            None => (&self.base_regime, true),
            Some(RegimeId(i)) => self.config.regimes.get(i).map_or((&self.base_regime, false), |r| (r, true)),
        }
    }

    /// The spread multiplier: regime multiplier × volatility scale (module docs).
    pub fn spread_scale(&self, sigma: Option<f64>, regime: &RegimeParams) -> f64 {
        let a = &self.config.adaptive;
        let vol = match (a.reference_sigma, sigma) {
            (Some(reference), Some(s)) if s.is_finite() && s > 0.0 => {
                let v = (s / reference).powf(a.sigma_exponent);
                if v.is_finite() {
                    v.clamp(a.min_spread_scale, a.max_spread_scale)
                } else {
                    a.max_spread_scale
                }
            }
            _ => 1.0,
        };
        regime.spread_multiplier * vol
    }

    /// Applies the spread scale and the extra skew to the model's depths at inventory `q`.
    /// A side whose result is not finite is dropped.
    pub fn adjust_depths(
        &self,
        depths: &ModelDepths,
        q: i64,
        scale: f64,
        regime: &RegimeParams,
    ) -> ModelDepths {
        let skew = regime.skew_ticks_per_lot.unwrap_or(self.config.skew_ticks_per_lot) * q as f64;
        let widen = |c: f64| if c > 0.0 { c * scale } else { c };
        let (bid, ask) = match (depths.bid_depth, depths.ask_depth) {
            (Some(b), Some(a)) => {
                let (center, lean) = (0.5 * (b + a), 0.5 * (b - a));
                (Some(widen(center) + lean), Some(widen(center) - lean))
            }
            (b, a) => (b.map(widen), a.map(widen)),
        };
        let finite = |d: f64| d.is_finite().then_some(d);
        let bid_depth = bid.map(|b| b + skew).and_then(finite);
        let ask_depth = ask.map(|a| a - skew).and_then(finite);
        let spread = bid_depth.zip(ask_depth).map(|(b, a)| b + a);
        ModelDepths { bid_depth, ask_depth, reservation_offset: depths.reservation_offset, spread }
    }

    /// The size of an order on `side` (ours) at inventory `q`, starting from `start_lots`
    /// (before the regime multiplier). `reducing` caps it at |q| so it never flips the position.
    #[allow(clippy::too_many_arguments)]
    pub fn size(
        &self,
        side: Side,
        q: i64,
        start_lots: u64,
        view: &MarketView<'_>,
        sigma: Option<f64>,
        regime: &RegimeParams,
        style: OrderStyle,
        reducing: bool,
    ) -> SizeDecision {
        let start = (start_lots as f64 * regime.size_multiplier).floor();
        let start = if start.is_finite() && start >= 0.0 { start.min(u64::MAX as f64) as u64 } else { 0 };
        let mut out = SizeDecision { qty_lots: start, binding: Reason::SizeBase };
        let mut cap = |qty: u64, binding: Reason| {
            if qty < out.qty_lots {
                out = SizeDecision { qty_lots: qty, binding };
            }
        };
        cap(self.room_lots(side, q), Reason::SizeLimitRoom);
        if reducing {
            cap(q.unsigned_abs(), Reason::SizeInventory);
        }
        let s = &self.config.sizing;
        if let Some(volume) = s.daily_volume_lots {
            let daily_sigma = s.daily_sigma_ticks.or(sigma.map(|x| x * s.session_length_s.sqrt()));
            if let Some(sd) = daily_sigma {
                let max = max_size_within_impact(s.impact_coefficient, sd, volume, s.impact_budget_ticks);
                cap(max, Reason::SizeImpactBudget);
            }
        }
        if let Some(fraction) = s.touch_fraction {
            let touch_side = match style {
                OrderStyle::Passive => side,
                OrderStyle::Marketable => side.opposite(),
            };
            let levels = if touch_side == Side::Buy { view.bids } else { view.asks };
            let visible = levels.first().map_or(0, |l| l.qty_lots) as f64;
            let liquid = (fraction * visible).floor().min(u64::MAX as f64) as u64;
            cap(liquid.max(s.min_liquidity_size_lots), Reason::SizeTouchLiquidity);
        }
        out
    }
}
