//! Guéant–Lehalle–Fernandez-Tapia (2013) and Guéant (2017): the closed-form asymptotic quotes
//! ([`GlftAsymptotic`]) and the exact finite-inventory solution ([`GlftExact`]).
//!
//! Market: mid dS = μ dt + σ dW, fills at depth δ with intensity A·e^(−kδ), CARA utility with risk
//! aversion γ, inventory q ∈ {−Q, …, Q} lots.

use serde::{Deserialize, Serialize};

use super::exact::{ExactTable, Generator};
use super::{
    check_inventory, check_limit, check_live, check_time_to_horizon, finite, ln1p_over_x, non_negative,
    positive, two_sided,
};
use crate::quoter::{DepthContext, DepthModel, LiveParams, ModelDepths, StrategyError};

fn default_delta() -> f64 {
    1.0
}

/// Parameters of [`GlftAsymptotic`]. TOML keys are the spec's names (`gamma`, `sigma`, `a`, `k`,
/// `xi`, `delta`, `mu`, `max_inventory`); unknown keys are an error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GlftAsymptoticParams {
    /// Risk aversion γ, per tick per lot; > 0.
    #[serde(rename = "gamma")]
    pub gamma_per_tick_lot: f64,
    /// Mid volatility σ, ticks per √s; ≥ 0 (σ = 0 gives the constant half-spread c₁ and requires
    /// μ = 0).
    #[serde(rename = "sigma")]
    pub sigma_ticks_per_sqrt_s: f64,
    /// Fill intensity at zero depth A, per second; > 0.
    #[serde(rename = "a")]
    pub a_per_s: f64,
    /// Fill-intensity decay k, per tick; > 0.
    #[serde(rename = "k")]
    pub k_per_tick: f64,
    /// ξ of Guéant (2017), per tick per lot; ≥ 0. `None` means ξ = γ (the CARA model); ξ = 0 is
    /// the risk-neutral model with running penalty ½γσ²q².
    #[serde(rename = "xi", default, skip_serializing_if = "Option::is_none")]
    pub xi_per_tick_lot: Option<f64>,
    /// Order size Δ, lots; > 0 (default 1).
    #[serde(rename = "delta", default = "default_delta")]
    pub delta_lots: f64,
    /// Drift (alpha signal) μ, ticks per second; finite (default 0).
    #[serde(rename = "mu", default)]
    pub mu_ticks_per_s: f64,
    /// Inventory limit Q, lots; 1 to [`super::MAX_INVENTORY_LOTS`].
    #[serde(rename = "max_inventory")]
    pub max_inventory_lots: i64,
}

impl Default for GlftAsymptoticParams {
    /// Guéant's (2017) illustrative market: σ = 0.3 tick/√s, A = 0.9/s, k = 0.3/tick, γ = 0.01;
    /// ξ = γ, Δ = 1, μ = 0, Q = 10.
    fn default() -> Self {
        Self {
            gamma_per_tick_lot: 0.01,
            sigma_ticks_per_sqrt_s: 0.3,
            a_per_s: 0.9,
            k_per_tick: 0.3,
            xi_per_tick_lot: None,
            delta_lots: 1.0,
            mu_ticks_per_s: 0.0,
            max_inventory_lots: 10,
        }
    }
}

/// The GLFT asymptotic (T → ∞) closed form of Guéant (2017, eqs. 4.6–4.7) with drift:
///
/// - c₁ = (1/(ξΔ))·ln(1 + ξΔ/k) (→ 1/k as ξ → 0),
/// - c₂ = sqrt( γ/(2·A·Δ·k) · (1 + ξΔ/k)^(k/(ξΔ) + 1) ) (→ sqrt(γe/(2AΔk))),
/// - δᵇ(q) = c₁ + (−μ/(γσ²) + q + Δ/2)·σc₂,  δᵃ(q) = c₁ + (μ/(γσ²) − q + Δ/2)·σc₂.
///
/// Half-spread c₁ + Δσc₂/2, skew σc₂ per lot. Stationary: the context's time to horizon is
/// ignored. Live parameters replace σ, A, k and μ (cheap: two closed forms). It approximates the
/// stationary limit of [`GlftExact`]; near q = 0 the two differ by about (β²/4)(|q| + ½)/k ticks
/// with β = kσc₂ (the continuous-inventory approximation; see `docs/strategy.md`).
#[derive(Debug, Clone, PartialEq)]
pub struct GlftAsymptotic {
    params: GlftAsymptoticParams,
    constants: GlftConstants,
}

/// c₁, σc₂ and the drift shift μ/(γσ²) of the closed form.
#[derive(Debug, Clone, Copy, PartialEq)]
struct GlftConstants {
    c1_ticks: f64,
    sigma_c2_ticks_per_lot: f64,
    drift_shift_lots: f64,
}

impl GlftConstants {
    fn new(p: &GlftAsymptoticParams, live: Option<&LiveParams>) -> Result<Self, StrategyError> {
        let gamma = positive("gamma", p.gamma_per_tick_lot)?;
        let (sigma, a, k, mu) = match live {
            Some(l) => (l.sigma, l.a, l.k, l.drift),
            None => (
                non_negative("sigma", p.sigma_ticks_per_sqrt_s)?,
                positive("a", p.a_per_s)?,
                positive("k", p.k_per_tick)?,
                finite("mu", p.mu_ticks_per_s)?,
            ),
        };
        let xi = non_negative("xi", p.xi_per_tick_lot.unwrap_or(gamma))?;
        let delta = positive("delta", p.delta_lots)?;
        if sigma == 0.0 && mu != 0.0 {
            return Err(StrategyError::InvalidParameter {
                name: "sigma",
                value: sigma,
                requirement: "> 0 when mu is not 0 (the drift term is mu/(gamma*sigma^2))",
            });
        }
        // x = ξΔ/k; c₁ = L(x)/k and (1 + x)^(1/x + 1) = e^(L(x))·(1 + x), with L(x) = ln(1 + x)/x
        // accurate for small x (ξ → 0 is continuous).
        let x = xi * delta / k;
        let l = ln1p_over_x(x);
        let c2 = (gamma / (2.0 * a * delta * k) * l.exp() * (1.0 + x)).sqrt();
        let drift_shift = if mu == 0.0 { 0.0 } else { mu / (gamma * sigma * sigma) };
        let constants =
            Self { c1_ticks: l / k, sigma_c2_ticks_per_lot: sigma * c2, drift_shift_lots: drift_shift };
        if [constants.c1_ticks, constants.sigma_c2_ticks_per_lot, drift_shift].iter().all(|v| v.is_finite()) {
            Ok(constants)
        } else {
            Err(StrategyError::Numerical(format!("GLFT constants are not finite: {constants:?}")))
        }
    }
}

impl GlftAsymptotic {
    /// Validates the parameters and precomputes c₁ and σc₂.
    ///
    /// Errors: [`StrategyError::InvalidParameter`] for γ, A, k, Δ not finite and > 0, σ or ξ not
    /// finite and ≥ 0, μ not finite, σ = 0 with μ ≠ 0, or Q outside [1, 10000];
    /// [`StrategyError::Numerical`] if the constants overflow.
    pub fn new(params: GlftAsymptoticParams) -> Result<Self, StrategyError> {
        check_limit(params.max_inventory_lots)?;
        let constants = GlftConstants::new(&params, None)?;
        Ok(Self { params, constants })
    }

    /// The configured parameters.
    pub fn params(&self) -> &GlftAsymptoticParams {
        &self.params
    }

    /// Half-spread at q = 0 and zero drift, c₁ + Δσc₂/2, ticks.
    pub fn half_spread_ticks(&self) -> f64 {
        self.constants.c1_ticks + 0.5 * self.params.delta_lots * self.constants.sigma_c2_ticks_per_lot
    }

    /// Skew σc₂: how much both quotes move down per lot of inventory, ticks per lot.
    pub fn skew_ticks_per_lot(&self) -> f64 {
        self.constants.sigma_c2_ticks_per_lot
    }
}

impl DepthModel for GlftAsymptotic {
    fn name(&self) -> &'static str {
        "glft"
    }

    fn max_inventory_lots(&self) -> Option<i64> {
        Some(self.params.max_inventory_lots)
    }

    fn depths(&self, ctx: &DepthContext) -> Result<ModelDepths, StrategyError> {
        let limit = self.params.max_inventory_lots;
        check_inventory(ctx.inventory_lots, limit)?;
        let c = match &ctx.live {
            Some(live) => GlftConstants::new(&self.params, Some(&check_live(live)?))?,
            None => self.constants,
        };
        let q = ctx.inventory_lots as f64;
        let half_delta = 0.5 * self.params.delta_lots;
        let bid = c.c1_ticks + (-c.drift_shift_lots + q + half_delta) * c.sigma_c2_ticks_per_lot;
        let ask = c.c1_ticks + (c.drift_shift_lots - q + half_delta) * c.sigma_c2_ticks_per_lot;
        two_sided(ctx.inventory_lots, limit, bid, ask)
    }
}

/// Parameters of [`GlftExact`] (and of [`super::HjbQuoter`], which solves the same model
/// numerically). TOML keys: `gamma`, `sigma`, `a`, `k`, `mu`, `alpha`, `max_inventory`, `horizon`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GlftExactParams {
    /// Risk aversion γ, per tick per lot; > 0.
    #[serde(rename = "gamma")]
    pub gamma_per_tick_lot: f64,
    /// Mid volatility σ, ticks per √s; ≥ 0.
    #[serde(rename = "sigma")]
    pub sigma_ticks_per_sqrt_s: f64,
    /// Fill intensity at zero depth A, per second; > 0.
    #[serde(rename = "a")]
    pub a_per_s: f64,
    /// Fill-intensity decay k, per tick; > 0.
    #[serde(rename = "k")]
    pub k_per_tick: f64,
    /// Drift μ, ticks per second; finite (default 0). Enters as the running reward μq.
    #[serde(rename = "mu", default)]
    pub mu_ticks_per_s: f64,
    /// Terminal penalty α in θ(T) = −αq², ticks per lot²; ≥ 0 (default 0).
    #[serde(rename = "alpha", default)]
    pub alpha_ticks_per_lot2: f64,
    /// Inventory limit Q, lots; 1 to [`super::MAX_INVENTORY_LOTS`].
    #[serde(rename = "max_inventory")]
    pub max_inventory_lots: i64,
    /// Horizon T, seconds; finite and > 0.
    #[serde(rename = "horizon")]
    pub horizon_s: f64,
}

impl Default for GlftExactParams {
    /// Guéant's illustrative market (as [`GlftAsymptoticParams::default`]), no terminal penalty,
    /// Q = 10, T = 600 s.
    fn default() -> Self {
        Self {
            gamma_per_tick_lot: 0.01,
            sigma_ticks_per_sqrt_s: 0.3,
            a_per_s: 0.9,
            k_per_tick: 0.3,
            mu_ticks_per_s: 0.0,
            alpha_ticks_per_lot2: 0.0,
            max_inventory_lots: 10,
            horizon_s: 600.0,
        }
    }
}

/// The exact GLFT solution with inventory limits (Guéant 2017), with drift and terminal penalty.
///
/// With α_M = (k/2)·γσ² and η = A·(1 + γ/k)^(−(1 + k/γ)), M is the (2Q+1)×(2Q+1) tridiagonal matrix
/// M_qq = α_M·q² − kμq, off-diagonals −η, and v(t) = e^(−M(T−t))·v(T) with v_q(T) = e^(−kαq²).
/// Then δᵇ(t,q) = (1/k)·ln(v_q/v_{q+1}) + (1/γ)·ln(1 + γ/k) for q < Q, δᵃ(t,q) =
/// (1/k)·ln(v_q/v_{q−1}) + (1/γ)·ln(1 + γ/k) for q > −Q.
///
/// **Caching.** [`GlftExact::new`] solves once for the configured parameters over the whole
/// horizon, stopping early once the solution is stationary (so T = 10⁶ s costs what a few
/// relaxation times cost), and stores ln v at every step. A query at time to horizon τ takes the
/// stored step at or below τ and advances it exactly by the remainder (at most one short step,
/// O(35·(2Q+1)) operations; none at τ = T or in the stationary part). Live parameters that
/// differ from the configured ones trigger a fresh, uncached solve up to τ.
///
/// The matrix exponential is evaluated entrywise to full relative precision (see the `exact`
/// module notes in `docs/strategy.md`): `zkclob_models::hjb::InventoryHjb::exact_values` loses the
/// tails of v for realistic parameters and is used as an independent reference in the tests.
#[derive(Debug, Clone, PartialEq)]
pub struct GlftExact {
    params: GlftExactParams,
    table: ExactTable,
    depth_offset_ticks: f64,
}

/// The generator, terminal condition and depth offset of the GLFT model.
fn glft_problem(
    p: &GlftExactParams,
    live: Option<&LiveParams>,
) -> Result<(Generator, Vec<f64>, f64, f64), StrategyError> {
    let gamma = positive("gamma", p.gamma_per_tick_lot)?;
    let (sigma, a, k, mu) = match live {
        Some(l) => (l.sigma, l.a, l.k, l.drift),
        None => (
            non_negative("sigma", p.sigma_ticks_per_sqrt_s)?,
            positive("a", p.a_per_s)?,
            positive("k", p.k_per_tick)?,
            finite("mu", p.mu_ticks_per_s)?,
        ),
    };
    let alpha = non_negative("alpha", p.alpha_ticks_per_lot2)?;
    let q_max = check_limit(p.max_inventory_lots)?;
    // ln η = ln A − (1 + k/γ)·ln(1 + γ/k) = ln A − L(x) − ln(1 + x) with x = γ/k.
    let x = gamma / k;
    let l = ln1p_over_x(x);
    let eta = (a.ln() - l - x.ln_1p()).exp();
    let qs = (-q_max..=q_max).map(|q| q as f64);
    let n = (2 * q_max + 1) as usize;
    let generator = Generator {
        diag: qs.clone().map(|q| k * (0.5 * gamma * sigma * sigma * q * q - mu * q)).collect(),
        sub: (0..n).map(|i| if i > 0 { eta } else { 0.0 }).collect(),
        sup: (0..n).map(|i| if i + 1 < n { eta } else { 0.0 }).collect(),
    };
    let terminal = qs.map(|q| -k * alpha * q * q).collect();
    Ok((generator, terminal, k, l / k))
}

/// Depths of inventory q from a row of ln v (index q + Q), with the log-ratio scale 1/κ and the
/// depth offsets of each side.
pub(crate) fn depths_from_logs(
    log: &[f64],
    inventory_lots: i64,
    limit: i64,
    kappa: f64,
    bid_offset_ticks: f64,
    ask_offset_ticks: f64,
) -> Result<ModelDepths, StrategyError> {
    let i = (inventory_lots + limit) as usize;
    let here = log[i];
    let above = log.get(i + 1).copied().unwrap_or(here);
    let below = if i > 0 { log[i - 1] } else { here };
    let bid = bid_offset_ticks + (here - above) / kappa;
    let ask = ask_offset_ticks + (here - below) / kappa;
    two_sided(inventory_lots, limit, bid, ask)
}

impl GlftExact {
    /// Validates the parameters and solves over the horizon (see the type docs for the cost).
    ///
    /// Errors: [`StrategyError::InvalidParameter`] for γ, A, k, T not finite and > 0, σ or α not
    /// finite and ≥ 0, μ not finite, or Q outside [1, 10000]; [`StrategyError::Numerical`] for
    /// parameters so extreme that the solution needs more than
    /// [`super::MAX_EXACT_STEPS`] steps or neighbouring values differ by more than 700/k ticks.
    pub fn new(params: GlftExactParams) -> Result<Self, StrategyError> {
        let horizon = positive("horizon", params.horizon_s)?;
        let (generator, terminal, _, offset) = glft_problem(&params, None)?;
        let table = ExactTable::build(generator, &terminal, horizon)?;
        Ok(Self { params, table, depth_offset_ticks: offset })
    }

    /// The configured parameters.
    pub fn params(&self) -> &GlftExactParams {
        &self.params
    }

    /// The depth offset (1/γ)·ln(1 + γ/k), ticks.
    pub fn depth_offset_ticks(&self) -> f64 {
        self.depth_offset_ticks
    }
}

impl DepthModel for GlftExact {
    fn name(&self) -> &'static str {
        "glft-exact"
    }

    fn max_inventory_lots(&self) -> Option<i64> {
        Some(self.params.max_inventory_lots)
    }

    fn depths(&self, ctx: &DepthContext) -> Result<ModelDepths, StrategyError> {
        let limit = self.params.max_inventory_lots;
        check_inventory(ctx.inventory_lots, limit)?;
        let tau = check_time_to_horizon(ctx.time_to_horizon_s, self.params.horizon_s)?;
        let k = self.params.k_per_tick;
        let configured = LiveParams {
            sigma: self.params.sigma_ticks_per_sqrt_s,
            a: self.params.a_per_s,
            k,
            drift: self.params.mu_ticks_per_s,
        };
        match ctx.live.filter(|l| *l != configured) {
            None => {
                let offset = self.depth_offset_ticks;
                let log = match self.table.stored_row(tau) {
                    Some(row) => return depths_from_logs(row, ctx.inventory_lots, limit, k, offset, offset),
                    None => self.table.log_values(tau)?,
                };
                depths_from_logs(&log, ctx.inventory_lots, limit, k, offset, offset)
            }
            Some(live) => {
                let live = check_live(&live)?;
                let (generator, terminal, k, offset) = glft_problem(&self.params, Some(&live))?;
                let table = ExactTable::build(generator, &terminal, tau)?;
                let log = table.log_values(tau)?;
                depths_from_logs(&log, ctx.inventory_lots, limit, k, offset, offset)
            }
        }
    }
}
