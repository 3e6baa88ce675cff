//! The quoting models: each turns (inventory, time to horizon, market parameters) into bid and ask
//! depths around a reference price. Every model implements [`DepthModel`]; the pipeline
//! ([`crate::pipeline`]) wraps one into a [`crate::Quoter`], and [`quote_from_model`] does the
//! minimal wrapping for tools and examples.
//!
//! | model | type | formula (`../shared/spec/quoting.md`) | horizon |
//! |---|---|---|---|
//! | `as` | [`AvellanedaStoikov`] | r = s + μτ − qγσ²τ, spread γσ²τ + (2/γ)ln(1 + γ/k) | finite, τ given |
//! | `glft` | [`GlftAsymptotic`] | Guéant (2017) closed form with ξ, Δ and drift μ | stationary (T → ∞) |
//! | `glft-exact` | [`GlftExact`] | exact finite-inventory v = e^(−Mτ)·v(T) | finite T, precomputed |
//! | `cj` | [`CartJaim`] | Cartea–Jaimungal: φq², αq², adverse selection ε± | exact, stationary, closed |
//! | `hjb` | [`HjbQuoter`] | implicit finite differences of the same HJB | finite T, precomputed grid |
//!
//! Adjustments that are not depth models: [`glosten_milgrom`] (the information-based spread) and
//! [`MarkoutSpread`] (an add-on learned from the adverse mark-outs of our own fills).
//! [`ModelConfig`] reads any model's parameters from TOML and builds an [`AnyModel`].
//!
//! # Conventions (all models)
//! - Prices in ticks, time in seconds, inventory q in lots with limits q ∈ {−Q, …, Q}.
//! - Depths δᵇ, δᵃ are distances from the reference price S: bid = S − δᵇ, ask = S + δᵃ.
//! - There is **no bid at q = +Q and no ask at q = −Q** (`None` in [`ModelDepths`]); an inventory
//!   beyond ±Q is [`StrategyError::InventoryBeyondLimit`].
//! - With zero drift every model is symmetric: δᵇ(q) = δᵃ(−q).
//! - A depth may come out negative near the limits (it means "cross the spread"). Models report
//!   the raw value; [`depths_to_prices`] clips it to one tick inside the opposite touch (the quote
//!   stays passive), and unwinding with marketable orders is the inventory manager's decision.
//! - `reservation_offset` is the midpoint of the two quotes relative to S, (δᵃ − δᵇ)/2, and
//!   `spread` is δᵃ + δᵇ; both are `None` when a side is missing, except for Avellaneda–Stoikov,
//!   whose reservation price and spread are defined by the model at every q.
//! - Parameters are validated when a model is built and again when a [`DepthContext`] carries
//!   calibrated [`LiveParams`]: non-finite or out-of-domain values are
//!   [`StrategyError::InvalidParameter`], never a NaN depth. Models that precompute a solution
//!   ([`GlftExact`], [`CartJaim`] in exact or stationary mode, [`HjbQuoter`]) recompute it,
//!   uncached, for a context whose live parameters differ from the configured ones: rebuild the
//!   model when the calibration changes rather than passing live parameters on every call.
//!
//! # Mapping of the original plan's references
//! "Closed-form spreads (9.18)-(9.21)" are the quote sets {reservation price or skew, half-spread,
//! bid depth, ask depth} of [`AvellanedaStoikov`] and [`GlftAsymptotic`]; "inventory penalty
//! (6.14)-(6.17)" is the running penalty φq², the terminal penalty αq², the HJB and the feedback
//! depths of [`CartJaim`] (and of [`HjbQuoter`], which solves the same HJB numerically).

mod adjustments;
mod avellaneda_stoikov;
mod cartea_jaimungal;
mod config;
mod exact;
mod glft;
mod hjb_quoter;

pub use adjustments::{glosten_milgrom, GlostenMilgrom, MarkoutSpread, MarkoutSpreadParams};
pub use avellaneda_stoikov::{AsParams, AvellanedaStoikov};
pub use cartea_jaimungal::{CartJaim, CartJaimParams, CjMode};
pub use config::{AnyModel, ModelConfig, ParamValue, MODEL_NAMES};
pub use exact::{MAX_EXACT_STEPS, MAX_EXACT_TABLE_VALUES};
pub use glft::{GlftAsymptotic, GlftAsymptoticParams, GlftExact, GlftExactParams};
pub use hjb_quoter::{HjbParams, HjbQuoter, MAX_HJB_STORED_VALUES};

use crate::quoter::{
    depths_to_prices, DepthContext, DepthModel, LiveParams, MarketView, ModelDepths, OrderIntent, Quotes,
    StrategyError,
};

/// Largest inventory limit Q (lots) any model accepts. The exact and numerical models hold 2Q + 1
/// states; the closed forms would not need a limit, but one limit keeps configurations honest.
pub const MAX_INVENTORY_LOTS: i64 = 10_000;

/// Quotes `size_lots` on each side around the view's mid with `model`: the minimal wrapping of a
/// [`DepthModel`] for tools and examples (the full pipeline with calibration and risk is
/// [`crate::pipeline`]).
///
/// Prices are rounded never-more-aggressive and negative depths are clipped to one tick inside
/// the opposite touch ([`depths_to_prices`]). Returns [`Quotes::none`] with reason `"no-mid"`
/// when the book has no two-sided mid.
///
/// Errors: `size_lots` = 0, a bad `time_to_horizon_s`, an inventory beyond the model's limit, or
/// any model error.
///
/// ```
/// use zkclob_strategy::models::{quote_from_model, GlftAsymptotic, GlftAsymptoticParams};
/// use zkclob_strategy::{BookLevel, MarketView};
///
/// let model = GlftAsymptotic::new(GlftAsymptoticParams::default())?;
/// let bids = [BookLevel { price_ticks: 1_000, qty_lots: 5 }];
/// let asks = [BookLevel { price_ticks: 1_002, qty_lots: 5 }];
/// let view = MarketView { time_s: 0.0, bids: &bids, asks: &asks, trades: &[], inventory_lots: 0 };
/// let quotes = quote_from_model(&model, &view, 0.0, 1)?;
/// assert!(quotes.bid.unwrap().price_ticks < 1_001 && quotes.ask.unwrap().price_ticks > 1_001);
/// # Ok::<(), zkclob_strategy::StrategyError>(())
/// ```
pub fn quote_from_model<M: DepthModel + ?Sized>(
    model: &M,
    view: &MarketView<'_>,
    time_to_horizon_s: f64,
    size_lots: u64,
) -> Result<Quotes, StrategyError> {
    if size_lots == 0 {
        return Err(StrategyError::InvalidParameter {
            name: "size_lots",
            value: 0.0,
            requirement: "at least 1",
        });
    }
    let Some(mid_ticks) = view.mid() else {
        return Ok(Quotes::none("no-mid"));
    };
    let ctx = DepthContext { inventory_lots: view.inventory_lots, time_to_horizon_s, live: None };
    let depths = model.depths(&ctx)?;
    let (bid, ask) = depths_to_prices(mid_ticks, &depths, view.best_bid(), view.best_ask());
    let order = |price_ticks: i64| OrderIntent { price_ticks, qty_lots: size_lots };
    Ok(Quotes { bid: bid.map(order), ask: ask.map(order), reason: "quote" })
}

/// Checks a parameter is finite and > 0.
pub(crate) fn positive(name: &'static str, value: f64) -> Result<f64, StrategyError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(StrategyError::InvalidParameter { name, value, requirement: "finite and > 0" })
    }
}

/// Checks a parameter is finite and ≥ 0.
pub(crate) fn non_negative(name: &'static str, value: f64) -> Result<f64, StrategyError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(StrategyError::InvalidParameter { name, value, requirement: "finite and >= 0" })
    }
}

/// Checks a parameter is finite.
pub(crate) fn finite(name: &'static str, value: f64) -> Result<f64, StrategyError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(StrategyError::InvalidParameter { name, value, requirement: "finite" })
    }
}

/// Checks an inventory limit Q ∈ [1, [`MAX_INVENTORY_LOTS`]].
pub(crate) fn check_limit(max_inventory_lots: i64) -> Result<i64, StrategyError> {
    if (1..=MAX_INVENTORY_LOTS).contains(&max_inventory_lots) {
        Ok(max_inventory_lots)
    } else {
        Err(StrategyError::InvalidParameter {
            name: "max_inventory",
            value: max_inventory_lots as f64,
            requirement: "between 1 and MAX_INVENTORY_LOTS (10000) lots",
        })
    }
}

/// Checks |q| ≤ Q.
pub(crate) fn check_inventory(inventory_lots: i64, limit: i64) -> Result<(), StrategyError> {
    if inventory_lots.checked_abs().is_some_and(|a| a <= limit) {
        Ok(())
    } else {
        Err(StrategyError::InventoryBeyondLimit { inventory: inventory_lots, limit })
    }
}

/// Checks the context's time to horizon τ ∈ [0, T].
pub(crate) fn check_time_to_horizon(time_to_horizon_s: f64, horizon_s: f64) -> Result<f64, StrategyError> {
    if time_to_horizon_s.is_finite() && (0.0..=horizon_s).contains(&time_to_horizon_s) {
        Ok(time_to_horizon_s)
    } else {
        Err(StrategyError::InvalidParameter {
            name: "time_to_horizon_s",
            value: time_to_horizon_s,
            requirement: "finite and in [0, horizon]",
        })
    }
}

/// Validates calibrated parameters (names as the CLI flags: `sigma`, `a`, `k`, `mu`).
pub(crate) fn check_live(live: &LiveParams) -> Result<LiveParams, StrategyError> {
    Ok(LiveParams {
        sigma: non_negative("sigma", live.sigma)?,
        a: positive("a", live.a)?,
        k: positive("k", live.k)?,
        drift: finite("mu", live.drift)?,
    })
}

/// Builds [`ModelDepths`] from the two raw depths of inventory q, dropping the bid at +Q and the
/// ask at −Q, with the quote midpoint offset and spread when both sides exist. A non-finite
/// depth is a [`StrategyError::Numerical`] error, never a NaN quote.
pub(crate) fn two_sided(
    inventory_lots: i64,
    limit: i64,
    bid_depth: f64,
    ask_depth: f64,
) -> Result<ModelDepths, StrategyError> {
    if !(bid_depth.is_finite() && ask_depth.is_finite()) {
        return Err(StrategyError::Numerical(format!(
            "non-finite depth at q = {inventory_lots}: bid {bid_depth}, ask {ask_depth}"
        )));
    }
    let bid = (inventory_lots < limit).then_some(bid_depth);
    let ask = (inventory_lots > -limit).then_some(ask_depth);
    let both = bid.zip(ask);
    Ok(ModelDepths {
        bid_depth: bid,
        ask_depth: ask,
        reservation_offset: both.map(|(b, a)| 0.5 * (a - b)),
        spread: both.map(|(b, a)| a + b),
    })
}

/// ln(1 + x)/x, continuous at x = 0 (value 1); accurate for tiny x.
pub(crate) fn ln1p_over_x(x: f64) -> f64 {
    if x.abs() < 1e-8 {
        1.0 - 0.5 * x
    } else {
        x.ln_1p() / x
    }
}
