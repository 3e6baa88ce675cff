//! A quoter that reads its depths from a numerical (finite-difference) solution of the inventory
//! HJB, `zkclob_models::hjb::InventoryHjb::solve` with implicit Euler time stepping.

use serde::{Deserialize, Serialize};
use zkclob_models::hjb::{CjParams, GlftParams, HjbSolution, InventoryHjb, TimeStepping};

use super::{
    check_inventory, check_limit, check_live, check_time_to_horizon, finite, non_negative, positive,
    two_sided, CartJaimParams, CjMode,
};
use crate::quoter::{DepthContext, DepthModel, LiveParams, ModelDepths, StrategyError};

/// Most stored values ((steps + 1) × (2Q + 1)) of one [`HjbQuoter`] solution (80 MB of `f64`).
pub const MAX_HJB_STORED_VALUES: usize = 10_000_000;

fn default_steps() -> usize {
    2_000
}

/// Parameters of the GLFT-dynamics [`HjbQuoter`] (the spec's "numerical HJB"). TOML keys:
/// `gamma`, `sigma`, `a`, `k`, `alpha`, `max_inventory`, `horizon`, `steps`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HjbParams {
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
    /// Terminal penalty α in θ(T) = −αq², ticks per lot²; ≥ 0 (default 0).
    #[serde(rename = "alpha", default)]
    pub alpha_ticks_per_lot2: f64,
    /// Inventory limit Q, lots; 1 to [`super::MAX_INVENTORY_LOTS`].
    #[serde(rename = "max_inventory")]
    pub max_inventory_lots: i64,
    /// Horizon T, seconds; finite and > 0.
    #[serde(rename = "horizon")]
    pub horizon_s: f64,
    /// Number of implicit time steps over [0, T]; ≥ 1 with (steps + 1)(2Q + 1) ≤
    /// [`MAX_HJB_STORED_VALUES`] (default 2000).
    #[serde(rename = "steps", default = "default_steps")]
    pub steps: usize,
}

impl Default for HjbParams {
    /// Guéant's illustrative market, no terminal penalty, Q = 10, T = 600 s, 2000 steps (Δt = 0.3 s).
    fn default() -> Self {
        Self {
            gamma_per_tick_lot: 0.01,
            sigma_ticks_per_sqrt_s: 0.3,
            a_per_s: 0.9,
            k_per_tick: 0.3,
            alpha_ticks_per_lot2: 0.0,
            max_inventory_lots: 10,
            horizon_s: 600.0,
            steps: default_steps(),
        }
    }
}

/// Which HJB the quoter solves.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Dynamics {
    Glft(HjbParams),
    Cj(CartJaimParams, usize),
}

/// Depths from the implicit finite-difference solution of the inventory HJB (GLFT or
/// Cartea–Jaimungal dynamics; `../shared/spec/quoting.md`, "Numerical HJB").
///
/// The solution is computed once at construction on the grid tₖ = k·T/steps and stored whole. A
/// query at time to horizon τ reads the grid at t = T − τ, interpolating linearly between the two
/// neighbouring time slices (the scheme is first order in Δt, so the interpolation adds nothing to
/// the order). Live parameters that differ from the configured ones trigger a fresh, uncached solve
/// with the same number of steps (cost O(steps·Q)); for GLFT dynamics the live drift is ignored
/// (the GLFT HJB here has no drift term: use [`super::GlftExact`] or Cartea–Jaimungal dynamics).
#[derive(Debug, Clone, PartialEq)]
pub struct HjbQuoter {
    dynamics: Dynamics,
    solution: HjbSolution,
    horizon_s: f64,
    max_inventory_lots: i64,
    /// ε⁻ and ε⁺ added to the bid and ask depths (Cartea–Jaimungal adverse selection).
    bid_extra_ticks: f64,
    ask_extra_ticks: f64,
}

fn check_steps(steps: usize, max_inventory_lots: i64) -> Result<usize, StrategyError> {
    let states = (2 * max_inventory_lots + 1) as usize;
    if steps >= 1 && steps.saturating_add(1).saturating_mul(states) <= MAX_HJB_STORED_VALUES {
        Ok(steps)
    } else {
        Err(StrategyError::InvalidParameter {
            name: "steps",
            value: steps as f64,
            requirement: "at least 1, with (steps + 1)(2Q + 1) <= MAX_HJB_STORED_VALUES (10^7)",
        })
    }
}

/// Solves the GLFT HJB (live parameters, already checked, replace σ, A, k).
fn solve_glft(p: &HjbParams, live: Option<&LiveParams>) -> Result<HjbSolution, StrategyError> {
    let gamma = positive("gamma", p.gamma_per_tick_lot)?;
    let (sigma, a, k) = match live {
        Some(l) => (l.sigma, l.a, l.k),
        None => (
            non_negative("sigma", p.sigma_ticks_per_sqrt_s)?,
            positive("a", p.a_per_s)?,
            positive("k", p.k_per_tick)?,
        ),
    };
    let alpha = non_negative("alpha", p.alpha_ticks_per_lot2)?;
    let q_max = check_limit(p.max_inventory_lots)?;
    let horizon = positive("horizon", p.horizon_s)?;
    let steps = check_steps(p.steps, q_max)?;
    let hjb = InventoryHjb::glft(&GlftParams {
        sigma_ticks_per_sqrt_s: sigma,
        a_per_s: a,
        k_per_tick: k,
        gamma_per_tick_lot: gamma,
        max_inventory_lots: q_max as u32,
        horizon_s: horizon,
        terminal_penalty_ticks_per_lot2: alpha,
    })?;
    Ok(hjb.solve(steps, TimeStepping::ImplicitEuler)?)
}

/// Solves the Cartea–Jaimungal HJB with adverse selection mapped as in [`super::CartJaim`]:
/// rates λ±e^(−κε±), drift μ + λ⁺ε⁺ − λ⁻ε⁻. Returns the solution and (ε⁻, ε⁺).
fn solve_cj(
    p: &CartJaimParams,
    steps: usize,
    live: Option<&LiveParams>,
) -> Result<(HjbSolution, f64, f64), StrategyError> {
    let mut lp = positive("lambda_plus", p.lambda_plus_per_s)?;
    let mut lm = positive("lambda_minus", p.lambda_minus_per_s)?;
    let mut kappa = positive("kappa", p.kappa_per_tick)?;
    let mut mu = finite("mu", p.mu_ticks_per_s)?;
    if let Some(l) = live {
        let scale = l.a / (lp * lm).sqrt();
        (lp, lm, kappa, mu) = (lp * scale, lm * scale, l.k, l.drift);
    }
    let eps_plus = non_negative("epsilon_plus", p.epsilon_plus_ticks)?;
    let eps_minus = non_negative("epsilon_minus", p.epsilon_minus_ticks)?;
    let q_max = check_limit(p.max_inventory_lots)?;
    let horizon = positive("horizon", p.horizon_s.unwrap_or(f64::NAN))?;
    let steps = check_steps(steps, q_max)?;
    let hjb = InventoryHjb::cartea_jaimungal(&CjParams {
        lambda_buy_per_s: lp * (-kappa * eps_plus).exp(),
        lambda_sell_per_s: lm * (-kappa * eps_minus).exp(),
        kappa_per_tick: kappa,
        running_penalty_ticks_per_lot2_s: non_negative("phi", p.phi_ticks_per_lot2_s)?,
        terminal_penalty_ticks_per_lot2: non_negative("alpha", p.alpha_ticks_per_lot2)?,
        drift_ticks_per_s: mu + lp * eps_plus - lm * eps_minus,
        max_inventory_lots: q_max as u32,
        horizon_s: horizon,
    })?;
    Ok((hjb.solve(steps, TimeStepping::ImplicitEuler)?, eps_minus, eps_plus))
}

impl HjbQuoter {
    /// GLFT dynamics: validates and solves.
    ///
    /// Errors: [`StrategyError::InvalidParameter`] as for [`super::GlftExact::new`] plus a bad
    /// `steps`; [`StrategyError::Numerical`] if Newton's method fails in an implicit step.
    pub fn new(params: HjbParams) -> Result<Self, StrategyError> {
        let solution = solve_glft(&params, None)?;
        Ok(Self {
            dynamics: Dynamics::Glft(params),
            solution,
            horizon_s: params.horizon_s,
            max_inventory_lots: params.max_inventory_lots,
            bid_extra_ticks: 0.0,
            ask_extra_ticks: 0.0,
        })
    }

    /// Cartea–Jaimungal dynamics (the HJB of [`super::CartJaim`]), `steps` implicit steps over the
    /// params' horizon (required; the mode field is ignored: this is always a finite horizon).
    ///
    /// Errors: as for [`super::CartJaim::new`] plus a bad `steps`; [`StrategyError::Numerical`] if
    /// Newton's method fails in an implicit step.
    pub fn cartea_jaimungal(params: CartJaimParams, steps: usize) -> Result<Self, StrategyError> {
        let (solution, bid_extra, ask_extra) = solve_cj(&params, steps, None)?;
        let horizon_s = params.horizon_s.unwrap_or(f64::NAN);
        Ok(Self {
            dynamics: Dynamics::Cj(CartJaimParams { mode: CjMode::Exact, ..params }, steps),
            solution,
            horizon_s,
            max_inventory_lots: params.max_inventory_lots,
            bid_extra_ticks: bid_extra,
            ask_extra_ticks: ask_extra,
        })
    }

    /// The time step Δt of the grid, seconds.
    pub fn dt_s(&self) -> f64 {
        self.solution.dt_s()
    }

    /// Whether these live parameters are the configured ones (then the stored solution applies).
    fn is_configured(&self, live: &LiveParams) -> bool {
        match &self.dynamics {
            Dynamics::Glft(p) => {
                live.sigma == p.sigma_ticks_per_sqrt_s && live.a == p.a_per_s && live.k == p.k_per_tick
            }
            Dynamics::Cj(p, _) => {
                live.a == (p.lambda_plus_per_s * p.lambda_minus_per_s).sqrt()
                    && live.k == p.kappa_per_tick
                    && live.drift == p.mu_ticks_per_s
            }
        }
    }
}

/// Depths of inventory q at time to horizon τ from a stored solution, interpolated in time.
fn depths_on_grid(
    solution: &HjbSolution,
    horizon_s: f64,
    tau: f64,
    q: i64,
    limit: i64,
    (bid_extra, ask_extra): (f64, f64),
) -> Result<ModelDepths, StrategyError> {
    let steps = solution.steps();
    let position = ((horizon_s - tau) / solution.dt_s()).clamp(0.0, steps as f64);
    let k0 = (position.floor() as usize).min(steps);
    let k1 = (k0 + 1).min(steps);
    let w = position - k0 as f64;
    let blend = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => (1.0 - w) * a + w * b,
        _ => 0.0,
    };
    let bid = blend(solution.bid_depth_ticks(k0, q), solution.bid_depth_ticks(k1, q)) + bid_extra;
    let ask = blend(solution.ask_depth_ticks(k0, q), solution.ask_depth_ticks(k1, q)) + ask_extra;
    two_sided(q, limit, bid, ask)
}

impl DepthModel for HjbQuoter {
    fn name(&self) -> &'static str {
        "hjb"
    }

    fn max_inventory_lots(&self) -> Option<i64> {
        Some(self.max_inventory_lots)
    }

    fn depths(&self, ctx: &DepthContext) -> Result<ModelDepths, StrategyError> {
        let limit = self.max_inventory_lots;
        check_inventory(ctx.inventory_lots, limit)?;
        let tau = check_time_to_horizon(ctx.time_to_horizon_s, self.horizon_s)?;
        let extras = (self.bid_extra_ticks, self.ask_extra_ticks);
        let live = match ctx.live {
            Some(l) if !self.is_configured(&l) => check_live(&l)?,
            _ => {
                return depths_on_grid(&self.solution, self.horizon_s, tau, ctx.inventory_lots, limit, extras)
            }
        };
        let fresh = match &self.dynamics {
            Dynamics::Glft(p) => solve_glft(p, Some(&live))?,
            Dynamics::Cj(p, steps) => solve_cj(p, *steps, Some(&live))?.0,
        };
        depths_on_grid(&fresh, self.horizon_s, tau, ctx.inventory_lots, limit, extras)
    }
}
