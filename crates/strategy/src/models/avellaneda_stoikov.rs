//! Avellaneda–Stoikov (2008): finite-horizon quotes around a reservation price.

use serde::{Deserialize, Serialize};

use super::{
    check_inventory, check_limit, check_live, check_time_to_horizon, finite, non_negative, positive,
};
use crate::quoter::{DepthContext, DepthModel, ModelDepths, StrategyError};

/// Parameters of [`AvellanedaStoikov`]. TOML keys: `gamma`, `sigma`, `k`, `mu`, `max_inventory`,
/// `horizon`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AsParams {
    /// Risk aversion γ, per tick per lot; > 0.
    #[serde(rename = "gamma")]
    pub gamma_per_tick_lot: f64,
    /// Mid volatility σ, ticks per √s; ≥ 0 (σ = 0: no inventory skew, spread (2/γ)ln(1 + γ/k)).
    #[serde(rename = "sigma")]
    pub sigma_ticks_per_sqrt_s: f64,
    /// Fill-intensity decay k, per tick; > 0. (A does not enter the AS quotes.)
    #[serde(rename = "k")]
    pub k_per_tick: f64,
    /// Mid drift μ, ticks per second; finite (default 0). Moves the reservation price by μτ.
    #[serde(rename = "mu", default)]
    pub mu_ticks_per_s: f64,
    /// Inventory limit Q, lots; 1 to [`super::MAX_INVENTORY_LOTS`].
    #[serde(rename = "max_inventory")]
    pub max_inventory_lots: i64,
    /// Horizon T, seconds; finite and > 0. Queries must have τ = T − t in [0, T].
    #[serde(rename = "horizon")]
    pub horizon_s: f64,
}

impl Default for AsParams {
    /// σ = 0.3 tick/√s, k = 0.3/tick, γ = 0.01 (Guéant's market), μ = 0, Q = 10, T = 600 s.
    fn default() -> Self {
        Self {
            gamma_per_tick_lot: 0.01,
            sigma_ticks_per_sqrt_s: 0.3,
            k_per_tick: 0.3,
            mu_ticks_per_s: 0.0,
            max_inventory_lots: 10,
            horizon_s: 600.0,
        }
    }
}

/// The Avellaneda–Stoikov quoter. With τ = T − t (the context's time to horizon):
///
/// - reservation price r = s + μτ − q·γ·σ²·τ (μ = 0 in the original paper: the drift adds the
///   expected mid move, exactly as in the CARA certainty equivalent with dS = μdt + σdW);
/// - total spread δᵃ + δᵇ = γσ²τ + (2/γ)·ln(1 + γ/k);
/// - quotes r ∓ spread/2, i.e. δᵇ = spread/2 − (r − s) and δᵃ = spread/2 + (r − s).
///
/// The reservation offset and spread are reported at every q (the model defines them), but there
/// is no bid at q = +Q and no ask at q = −Q. Live parameters replace σ, k and μ (A is unused).
#[derive(Debug, Clone, PartialEq)]
pub struct AvellanedaStoikov {
    params: AsParams,
}

impl AvellanedaStoikov {
    /// Validates the parameters.
    ///
    /// Errors: [`StrategyError::InvalidParameter`] for γ, k, T not finite and > 0, σ not finite
    /// and ≥ 0, μ not finite, or Q outside [1, 10000].
    pub fn new(params: AsParams) -> Result<Self, StrategyError> {
        positive("gamma", params.gamma_per_tick_lot)?;
        non_negative("sigma", params.sigma_ticks_per_sqrt_s)?;
        positive("k", params.k_per_tick)?;
        finite("mu", params.mu_ticks_per_s)?;
        check_limit(params.max_inventory_lots)?;
        positive("horizon", params.horizon_s)?;
        Ok(Self { params })
    }

    /// The configured parameters.
    pub fn params(&self) -> &AsParams {
        &self.params
    }
}

impl DepthModel for AvellanedaStoikov {
    fn name(&self) -> &'static str {
        "as"
    }

    fn max_inventory_lots(&self) -> Option<i64> {
        Some(self.params.max_inventory_lots)
    }

    fn depths(&self, ctx: &DepthContext) -> Result<ModelDepths, StrategyError> {
        let p = &self.params;
        check_inventory(ctx.inventory_lots, p.max_inventory_lots)?;
        let tau = check_time_to_horizon(ctx.time_to_horizon_s, p.horizon_s)?;
        let (sigma, k, mu) = match &ctx.live {
            Some(live) => {
                let l = check_live(live)?;
                (l.sigma, l.k, l.drift)
            }
            None => (p.sigma_ticks_per_sqrt_s, p.k_per_tick, p.mu_ticks_per_s),
        };
        let gamma = p.gamma_per_tick_lot;
        let q = ctx.inventory_lots as f64;
        let risk = gamma * sigma * sigma * tau;
        let offset = mu * tau - q * risk;
        let spread = risk + 2.0 / gamma * (gamma / k).ln_1p();
        let (bid, ask) = (0.5 * spread - offset, 0.5 * spread + offset);
        let mut depths = super::two_sided(ctx.inventory_lots, p.max_inventory_lots, bid, ask)?;
        if !(offset.is_finite() && spread.is_finite()) {
            return Err(StrategyError::Numerical(format!(
                "AS spread {spread} or offset {offset} not finite"
            )));
        }
        depths.reservation_offset = Some(offset);
        depths.spread = Some(spread);
        Ok(depths)
    }
}
