//! Cartea–Jaimungal: running inventory penalty φq², terminal penalty αq², Poisson market orders
//! (λ⁺ buys lift our ask, λ⁻ sells hit our bid), fill probability e^(−κδ), and adverse selection
//! (each buy market order moves the mid up by ε⁺, each sell down by ε⁻).
//!
//! This is the plan's "inventory penalty (6.14)-(6.17)": the objective
//! max E[X_T + q_T(S_T − α·q_T) − φ∫q_u² du], the HJB (h the value beyond cash and marked inventory)
//!
//! ```text
//! 0 = ∂ₜh − φq² + q(μ + λ⁺ε⁺ − λ⁻ε⁻)
//!     + λ⁺·sup_δ e^(−κδ)(δ − ε⁺ + h(q−1) − h(q))·1{q>−Q}
//!     + λ⁻·sup_δ e^(−κδ)(δ − ε⁻ + h(q+1) − h(q))·1{q<Q},      h(T,q) = −αq²,
//! ```
//!
//! and the feedback depths δᵃ = 1/κ + ε⁺ − [h(q−1) − h(q)], δᵇ = 1/κ + ε⁻ − [h(q+1) − h(q)].

use serde::{Deserialize, Serialize};

use super::exact::{ExactTable, Generator};
use super::glft::depths_from_logs;
use super::{
    check_inventory, check_limit, check_live, check_time_to_horizon, finite, non_negative, positive,
};
use crate::quoter::{DepthContext, DepthModel, LiveParams, ModelDepths, StrategyError};

/// How [`CartJaim`] solves its HJB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CjMode {
    /// Finite horizon T: the exact matrix exponential ω(t) = e^(B(T−t))·ω(T), time-dependent.
    #[default]
    Exact,
    /// The exact stationary (T → ∞) limit: ω is the Perron eigenvector of B (the terminal penalty
    /// α no longer matters). Ignores the time to horizon.
    Stationary,
    /// The closed-form approximation of the stationary limit obtained by treating q as
    /// continuous (as Guéant's GLFT closed form does); needs φ > 0. Ignores the time to horizon.
    ClosedForm,
}

/// Parameters of [`CartJaim`]. TOML keys: `lambda_plus`, `lambda_minus`, `kappa`, `phi`, `alpha`,
/// `epsilon_plus`, `epsilon_minus`, `mu`, `max_inventory`, `mode` (`"exact"`, `"stationary"`,
/// `"closed-form"`), `horizon`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CartJaimParams {
    /// Arrival rate λ⁺ of buy market orders (they lift our ask), per second; > 0.
    #[serde(rename = "lambda_plus")]
    pub lambda_plus_per_s: f64,
    /// Arrival rate λ⁻ of sell market orders (they hit our bid), per second; > 0.
    #[serde(rename = "lambda_minus")]
    pub lambda_minus_per_s: f64,
    /// Fill-probability decay κ (fill probability e^(−κδ)), per tick; > 0.
    #[serde(rename = "kappa")]
    pub kappa_per_tick: f64,
    /// Running inventory penalty φ, ticks per lot² per second; ≥ 0 (> 0 for the closed form).
    #[serde(rename = "phi")]
    pub phi_ticks_per_lot2_s: f64,
    /// Terminal inventory penalty α, ticks per lot²; ≥ 0 (default 0; exact mode only).
    #[serde(rename = "alpha", default)]
    pub alpha_ticks_per_lot2: f64,
    /// Mid jump ε⁺ after each buy market order, ticks; ≥ 0 (default 0).
    #[serde(rename = "epsilon_plus", default)]
    pub epsilon_plus_ticks: f64,
    /// Mid drop ε⁻ after each sell market order, ticks; ≥ 0 (default 0).
    #[serde(rename = "epsilon_minus", default)]
    pub epsilon_minus_ticks: f64,
    /// Mid drift μ apart from the order-flow impact, ticks per second; finite (default 0).
    #[serde(rename = "mu", default)]
    pub mu_ticks_per_s: f64,
    /// Inventory limit Q, lots; 1 to [`super::MAX_INVENTORY_LOTS`].
    #[serde(rename = "max_inventory")]
    pub max_inventory_lots: i64,
    /// Solution method (default exact).
    #[serde(default)]
    pub mode: CjMode,
    /// Horizon T, seconds; finite and > 0; required in exact mode, ignored otherwise.
    #[serde(rename = "horizon", default, skip_serializing_if = "Option::is_none")]
    pub horizon_s: Option<f64>,
}

impl Default for CartJaimParams {
    /// λ± = 0.9/s and κ = 0.3/tick (Guéant's market), φ = 4.5·10⁻⁴ ticks/lot²/s (= ½γσ² of that
    /// market), α = 0.1 ticks/lot², no adverse selection, μ = 0, Q = 10, exact mode, T = 600 s.
    fn default() -> Self {
        Self {
            lambda_plus_per_s: 0.9,
            lambda_minus_per_s: 0.9,
            kappa_per_tick: 0.3,
            phi_ticks_per_lot2_s: 4.5e-4,
            alpha_ticks_per_lot2: 0.1,
            epsilon_plus_ticks: 0.0,
            epsilon_minus_ticks: 0.0,
            mu_ticks_per_s: 0.0,
            max_inventory_lots: 10,
            mode: CjMode::Exact,
            horizon_s: Some(600.0),
        }
    }
}

/// The validated coefficients of one Cartea–Jaimungal problem.
#[derive(Debug, Clone, Copy, PartialEq)]
struct CjCoefficients {
    kappa: f64,
    phi: f64,
    alpha: f64,
    /// ln(λ⁺e^(−κε⁺)) and ln(λ⁻e^(−κε⁻)): the effective (adverse-selection-discounted) rates.
    ln_rate_plus: f64,
    ln_rate_minus: f64,
    /// μ + λ⁺ε⁺ − λ⁻ε⁻, ticks per second.
    total_drift: f64,
    eps_plus: f64,
    eps_minus: f64,
    q_max: i64,
}

impl CjCoefficients {
    /// Validates; live parameters (already checked) replace κ (by k), the rates (scaled so that
    /// their geometric mean is A, keeping the configured asymmetry) and μ (by the drift).
    fn new(p: &CartJaimParams, live: Option<&LiveParams>) -> Result<Self, StrategyError> {
        let mut lp = positive("lambda_plus", p.lambda_plus_per_s)?;
        let mut lm = positive("lambda_minus", p.lambda_minus_per_s)?;
        let mut kappa = positive("kappa", p.kappa_per_tick)?;
        let mut mu = finite("mu", p.mu_ticks_per_s)?;
        if let Some(l) = live {
            let scale = l.a / (lp * lm).sqrt();
            lp *= scale;
            lm *= scale;
            kappa = l.k;
            mu = l.drift;
        }
        let eps_plus = non_negative("epsilon_plus", p.epsilon_plus_ticks)?;
        let eps_minus = non_negative("epsilon_minus", p.epsilon_minus_ticks)?;
        let c = Self {
            kappa,
            phi: non_negative("phi", p.phi_ticks_per_lot2_s)?,
            alpha: non_negative("alpha", p.alpha_ticks_per_lot2)?,
            ln_rate_plus: lp.ln() - kappa * eps_plus,
            ln_rate_minus: lm.ln() - kappa * eps_minus,
            total_drift: mu + lp * eps_plus - lm * eps_minus,
            eps_plus,
            eps_minus,
            q_max: check_limit(p.max_inventory_lots)?,
        };
        if [c.ln_rate_plus, c.ln_rate_minus, c.total_drift].iter().all(|v| v.is_finite()) {
            Ok(c)
        } else {
            Err(StrategyError::Numerical(format!("Cartea–Jaimungal coefficients are not finite: {c:?}")))
        }
    }

    /// M = −B: M_qq = κ(φq² − μ_total·q), M_{q,q−1} = −λ⁺e^(−κε⁺)/e, M_{q,q+1} = −λ⁻e^(−κε⁻)/e;
    /// ln ω(T) = −καq².
    fn problem(&self) -> (Generator, Vec<f64>) {
        let qs = (-self.q_max..=self.q_max).map(|q| q as f64);
        let n = (2 * self.q_max + 1) as usize;
        let (plus, minus) = ((self.ln_rate_plus - 1.0).exp(), (self.ln_rate_minus - 1.0).exp());
        let generator = Generator {
            diag: qs.clone().map(|q| self.kappa * (self.phi * q * q - self.total_drift * q)).collect(),
            sub: (0..n).map(|i| if i > 0 { plus } else { 0.0 }).collect(),
            sup: (0..n).map(|i| if i + 1 < n { minus } else { 0.0 }).collect(),
        };
        (generator, qs.map(|q| -self.kappa * self.alpha * q * q).collect())
    }

    /// The continuous-inventory approximation of the stationary depths (see [`CjMode::ClosedForm`]):
    /// ω_q ≈ ρ^q·exp(−β(q − q₀)²/2) with ρ = sqrt(λ̃⁺/λ̃⁻), β = sqrt(κφ/η̃), η̃ = sqrt(λ̃⁺λ̃⁻)/e,
    /// q₀ = μ_total/(2φ), which gives
    /// δᵃ = 1/κ + ε⁺ + (ln ρ − β(q − q₀ − ½))/κ and δᵇ = 1/κ + ε⁻ + (−ln ρ + β(q − q₀ + ½))/κ.
    fn closed_form(&self, q: f64) -> Result<(f64, f64), StrategyError> {
        if self.phi <= 0.0 {
            return Err(StrategyError::InvalidParameter {
                name: "phi",
                value: self.phi,
                requirement: "> 0 in closed-form mode (the stationary Gaussian needs a running penalty)",
            });
        }
        let ln_rho = 0.5 * (self.ln_rate_plus - self.ln_rate_minus);
        let ln_eta = 0.5 * (self.ln_rate_plus + self.ln_rate_minus) - 1.0;
        let beta = (self.kappa * self.phi).sqrt() * (-0.5 * ln_eta).exp();
        let q0 = self.total_drift / (2.0 * self.phi);
        let ask = 1.0 / self.kappa + self.eps_plus + (ln_rho - beta * (q - q0 - 0.5)) / self.kappa;
        let bid = 1.0 / self.kappa + self.eps_minus + (-ln_rho + beta * (q - q0 + 0.5)) / self.kappa;
        Ok((bid, ask))
    }
}

/// The Cartea–Jaimungal market maker (module docs): linearised by h = (1/κ)·ln ω,
/// ∂ₜω + Bω = 0 with B tridiagonal, B_qq = −φκq² + κq(μ + λ⁺ε⁺ − λ⁻ε⁻),
/// B_{q,q−1} = λ⁺e^(−κε⁺)e^(−1), B_{q,q+1} = λ⁻e^(−κε⁻)e^(−1), ω(T,q) = e^(−ακq²); depths
/// δᵃ = 1/κ + ε⁺ + (1/κ)·ln(ω_q/ω_{q−1}), δᵇ = 1/κ + ε⁻ + (1/κ)·ln(ω_q/ω_{q+1}).
///
/// [`CjMode::Exact`] and [`CjMode::Stationary`] precompute the solution at construction (the
/// caching of [`super::GlftExact`]); [`CjMode::ClosedForm`] is a formula. Live parameters replace
/// κ (by k), the arrival rates (rescaled so their geometric mean is A, keeping the configured
/// asymmetry) and μ (by the drift); σ is not a parameter of this model and is ignored.
#[derive(Debug, Clone, PartialEq)]
pub struct CartJaim {
    params: CartJaimParams,
    coefficients: CjCoefficients,
    table: Option<ExactTable>,
}

impl CartJaim {
    /// Validates the parameters and, in exact or stationary mode, solves.
    ///
    /// Errors: [`StrategyError::InvalidParameter`] for λ±, κ not finite and > 0; φ, α, ε± not
    /// finite and ≥ 0; μ not finite; Q outside [1, 10000]; a missing or non-positive horizon in
    /// exact mode; φ = 0 in closed-form mode. [`StrategyError::Numerical`] for parameters too
    /// extreme to solve (see [`super::GlftExact::new`]).
    pub fn new(params: CartJaimParams) -> Result<Self, StrategyError> {
        let coefficients = CjCoefficients::new(&params, None)?;
        let table = match params.mode {
            CjMode::Exact => {
                let horizon = positive("horizon", params.horizon_s.unwrap_or(f64::NAN))?;
                let (generator, terminal) = coefficients.problem();
                Some(ExactTable::build(generator, &terminal, horizon)?)
            }
            CjMode::Stationary => {
                let (generator, terminal) = coefficients.problem();
                Some(ExactTable::build(generator, &terminal, f64::INFINITY)?)
            }
            CjMode::ClosedForm => {
                coefficients.closed_form(0.0)?;
                None
            }
        };
        Ok(Self { params, coefficients, table })
    }

    /// The configured parameters.
    pub fn params(&self) -> &CartJaimParams {
        &self.params
    }

    fn depths_with(
        &self,
        c: &CjCoefficients,
        table: Option<&ExactTable>,
        tau: f64,
        q: i64,
    ) -> Result<ModelDepths, StrategyError> {
        let (bid_offset, ask_offset) = (1.0 / c.kappa + c.eps_minus, 1.0 / c.kappa + c.eps_plus);
        if self.params.mode == CjMode::ClosedForm {
            let (bid, ask) = c.closed_form(q as f64)?;
            return super::two_sided(q, c.q_max, bid, ask);
        }
        let table = table.ok_or_else(|| StrategyError::Numerical("solution table missing".into()))?;
        let row = match self.params.mode {
            CjMode::Stationary => table
                .stationary_log_values()
                .ok_or_else(|| StrategyError::Numerical("stationary limit missing from the table".into()))?,
            _ => match table.stored_row(tau) {
                Some(row) => row,
                None => {
                    let log = table.log_values(tau)?;
                    return depths_from_logs(&log, q, c.q_max, c.kappa, bid_offset, ask_offset);
                }
            },
        };
        depths_from_logs(row, q, c.q_max, c.kappa, bid_offset, ask_offset)
    }
}

impl DepthModel for CartJaim {
    fn name(&self) -> &'static str {
        "cj"
    }

    fn max_inventory_lots(&self) -> Option<i64> {
        Some(self.params.max_inventory_lots)
    }

    fn depths(&self, ctx: &DepthContext) -> Result<ModelDepths, StrategyError> {
        check_inventory(ctx.inventory_lots, self.coefficients.q_max)?;
        let tau = match (self.params.mode, self.params.horizon_s) {
            (CjMode::Exact, Some(horizon)) => check_time_to_horizon(ctx.time_to_horizon_s, horizon)?,
            _ => 0.0,
        };
        let Some(live) = ctx.live else {
            return self.depths_with(&self.coefficients, self.table.as_ref(), tau, ctx.inventory_lots);
        };
        let live = check_live(&live)?;
        let c = CjCoefficients::new(&self.params, Some(&live))?;
        if c == self.coefficients {
            return self.depths_with(&c, self.table.as_ref(), tau, ctx.inventory_lots);
        }
        let fresh = match self.params.mode {
            CjMode::ClosedForm => None,
            CjMode::Exact => {
                let (generator, terminal) = c.problem();
                Some(ExactTable::build(generator, &terminal, tau)?)
            }
            CjMode::Stationary => {
                let (generator, terminal) = c.problem();
                Some(ExactTable::build(generator, &terminal, f64::INFINITY)?)
            }
        };
        self.depths_with(&c, fresh.as_ref(), tau, ctx.inventory_lots)
    }
}
