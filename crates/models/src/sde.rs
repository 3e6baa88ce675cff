//! Stochastic differential equations for prices: geometric Brownian motion, jump-diffusions
//! (Merton with lognormal jumps, Kou with double-exponential jumps), generic Euler–Maruyama and
//! Milstein schemes, and closed-form option prices used to check the simulators.
//!
//! Conventions: time in seconds; drift μ per second; volatility σ per √s; prices in any unit
//! (ticks, dollars) as long as it is used consistently. Brownian increments are passed in
//! explicitly so one path can drive several schemes (that is how strong convergence is measured).

use rand::{Rng, RngExt};
use rand_distr::{Distribution, Exp1, StandardNormal};

use crate::error::{finite, in_range, non_negative, positive, ModelError, Result};
use crate::hawkes::exp::poisson_count;
use crate::special::normal_cdf;

/// Largest number of steps a simulator accepts in one call.
pub const MAX_SDE_STEPS: usize = 100_000_000;

fn check_steps(steps: usize) -> Result<()> {
    if steps == 0 || steps > MAX_SDE_STEPS {
        return Err(ModelError::LimitExceeded {
            what: "SDE steps (1 to limit)",
            limit: MAX_SDE_STEPS,
            got: steps,
        });
    }
    Ok(())
}

/// `steps` Brownian increments over steps of `dt_s` seconds (each N(0, dt)).
pub fn brownian_increments<R: Rng + ?Sized>(dt_s: f64, steps: usize, rng: &mut R) -> Result<Vec<f64>> {
    positive("dt_s", dt_s)?;
    check_steps(steps)?;
    let sd = dt_s.sqrt();
    Ok((0..steps).map(|_| sd * Distribution::<f64>::sample(&StandardNormal, rng)).collect())
}

/// Sums consecutive blocks of `factor` increments: the same Brownian path on a grid `factor` times
/// coarser. A trailing partial block is dropped.
pub fn coarsen_increments(dw: &[f64], factor: usize) -> Vec<f64> {
    if factor == 0 {
        return Vec::new();
    }
    dw.chunks_exact(factor).map(|c| c.iter().sum()).collect()
}

/// Euler–Maruyama for dX = a(t, X)dt + b(t, X)dW from `x0` at `t0_s`, with step `dt_s` seconds and
/// the given Brownian increments. Returns the path (`dw.len() + 1` points). Strong order ½.
pub fn euler_maruyama(
    x0: f64,
    t0_s: f64,
    dt_s: f64,
    dw: &[f64],
    drift: impl Fn(f64, f64) -> f64,
    diffusion: impl Fn(f64, f64) -> f64,
) -> Vec<f64> {
    let mut path = Vec::with_capacity(dw.len() + 1);
    let mut x = x0;
    path.push(x);
    for (i, w) in dw.iter().enumerate() {
        let t = t0_s + i as f64 * dt_s;
        x += drift(t, x) * dt_s + diffusion(t, x) * w;
        path.push(x);
    }
    path
}

/// Milstein for dX = a dt + b dW: adds ½·b·(∂b/∂x)·(ΔW² − Δt) to the Euler step. `diffusion_dx`
/// is ∂b/∂x. Returns the path (`dw.len() + 1` points). Strong order 1 for scalar SDEs.
pub fn milstein(
    x0: f64,
    t0_s: f64,
    dt_s: f64,
    dw: &[f64],
    drift: impl Fn(f64, f64) -> f64,
    diffusion: impl Fn(f64, f64) -> f64,
    diffusion_dx: impl Fn(f64, f64) -> f64,
) -> Vec<f64> {
    let mut path = Vec::with_capacity(dw.len() + 1);
    let mut x = x0;
    path.push(x);
    for (i, w) in dw.iter().enumerate() {
        let t = t0_s + i as f64 * dt_s;
        let b = diffusion(t, x);
        x += drift(t, x) * dt_s + b * w + 0.5 * b * diffusion_dx(t, x) * (w * w - dt_s);
        path.push(x);
    }
    path
}

/// Geometric Brownian motion dS = μS dt + σS dW.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gbm {
    drift_per_s: f64,
    sigma_per_sqrt_s: f64,
}

impl Gbm {
    /// Errors: a non-finite drift, or σ not finite and ≥ 0.
    pub fn new(drift_per_s: f64, sigma_per_sqrt_s: f64) -> Result<Self> {
        finite("drift_per_s", drift_per_s)?;
        non_negative("sigma_per_sqrt_s", sigma_per_sqrt_s)?;
        Ok(Self { drift_per_s, sigma_per_sqrt_s })
    }

    /// Drift μ, per second.
    pub fn drift_per_s(&self) -> f64 {
        self.drift_per_s
    }

    /// Volatility σ, per √s.
    pub fn sigma_per_sqrt_s(&self) -> f64 {
        self.sigma_per_sqrt_s
    }

    /// The exact solution S(t + Δt) = S(t)·exp((μ − ½σ²)Δt + σΔW) along the given increments.
    pub fn exact_path(&self, s0: f64, dt_s: f64, dw: &[f64]) -> Vec<f64> {
        let mut path = Vec::with_capacity(dw.len() + 1);
        let mut s = s0;
        path.push(s);
        let mu_dt = (self.drift_per_s - 0.5 * self.sigma_per_sqrt_s * self.sigma_per_sqrt_s) * dt_s;
        for w in dw {
            s *= (mu_dt + self.sigma_per_sqrt_s * w).exp();
            path.push(s);
        }
        path
    }

    /// Simulates `steps` exact steps of `dt_s` seconds from `s0`.
    pub fn simulate<R: Rng + ?Sized>(
        &self,
        s0: f64,
        dt_s: f64,
        steps: usize,
        rng: &mut R,
    ) -> Result<Vec<f64>> {
        positive("s0", s0)?;
        let dw = brownian_increments(dt_s, steps, rng)?;
        Ok(self.exact_path(s0, dt_s, &dw))
    }
}

/// Law of the log-jump Y (S jumps to S·e^Y).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum JumpLaw {
    /// Merton: Y ~ N(mean, std²).
    LogNormal {
        /// Mean of the log-jump.
        mean: f64,
        /// Standard deviation of the log-jump.
        std: f64,
    },
    /// Kou: Y ~ Exp(η₊) with probability p, −Exp(η₋) otherwise.
    DoubleExponential {
        /// Probability of an upward jump.
        p_up: f64,
        /// Rate of upward jumps (> 1 so that E[e^Y] is finite).
        eta_up: f64,
        /// Rate of downward jumps (> 0).
        eta_down: f64,
    },
}

impl JumpLaw {
    /// E[e^Y] − 1: the mean relative jump size.
    pub fn mean_relative_jump(&self) -> f64 {
        match *self {
            JumpLaw::LogNormal { mean, std } => (mean + 0.5 * std * std).exp() - 1.0,
            JumpLaw::DoubleExponential { p_up, eta_up, eta_down } => {
                p_up * eta_up / (eta_up - 1.0) + (1.0 - p_up) * eta_down / (eta_down + 1.0) - 1.0
            }
        }
    }

    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match *self {
            JumpLaw::LogNormal { mean, std } => {
                let z: f64 = StandardNormal.sample(rng);
                mean + std * z
            }
            JumpLaw::DoubleExponential { p_up, eta_up, eta_down } => {
                let e: f64 = Exp1.sample(rng);
                if rng.random::<f64>() < p_up {
                    e / eta_up
                } else {
                    -e / eta_down
                }
            }
        }
    }
}

/// A jump-diffusion dS/S₋ = μdt + σdW + (e^Y − 1)dN − λk dt with N Poisson(λ) and k = E[e^Y] − 1,
/// compensated so that E\[Sₜ\] = S₀e^(μt). Simulated exactly on any grid: over Δt the log-price
/// moves by (μ − ½σ² − λk)Δt + σΔW + (sum of the step's Poisson(λΔt) log-jumps).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JumpDiffusion {
    drift_per_s: f64,
    sigma_per_sqrt_s: f64,
    jump_rate_per_s: f64,
    jumps: JumpLaw,
}

impl JumpDiffusion {
    /// Merton (1976): lognormal log-jumps N(`jump_log_mean`, `jump_log_std`²).
    pub fn merton(
        drift_per_s: f64,
        sigma_per_sqrt_s: f64,
        jump_rate_per_s: f64,
        jump_log_mean: f64,
        jump_log_std: f64,
    ) -> Result<Self> {
        finite("jump_log_mean", jump_log_mean)?;
        non_negative("jump_log_std", jump_log_std)?;
        Self::build(
            drift_per_s,
            sigma_per_sqrt_s,
            jump_rate_per_s,
            JumpLaw::LogNormal { mean: jump_log_mean, std: jump_log_std },
        )
    }

    /// Kou (2002): double-exponential log-jumps. Errors also for `p_up` outside [0, 1],
    /// `eta_up` ≤ 1 (E[e^Y] infinite) or `eta_down` ≤ 0.
    pub fn kou(
        drift_per_s: f64,
        sigma_per_sqrt_s: f64,
        jump_rate_per_s: f64,
        p_up: f64,
        eta_up: f64,
        eta_down: f64,
    ) -> Result<Self> {
        in_range("p_up", p_up, 0.0, 1.0, "in [0, 1]")?;
        if !(eta_up.is_finite() && eta_up > 1.0) {
            return Err(ModelError::InvalidParameter {
                name: "eta_up",
                requirement: "finite and > 1",
                value: eta_up,
            });
        }
        positive("eta_down", eta_down)?;
        Self::build(
            drift_per_s,
            sigma_per_sqrt_s,
            jump_rate_per_s,
            JumpLaw::DoubleExponential { p_up, eta_up, eta_down },
        )
    }

    fn build(drift_per_s: f64, sigma_per_sqrt_s: f64, jump_rate_per_s: f64, jumps: JumpLaw) -> Result<Self> {
        finite("drift_per_s", drift_per_s)?;
        non_negative("sigma_per_sqrt_s", sigma_per_sqrt_s)?;
        non_negative("jump_rate_per_s", jump_rate_per_s)?;
        Ok(Self { drift_per_s, sigma_per_sqrt_s, jump_rate_per_s, jumps })
    }

    /// The jump law.
    pub fn jumps(&self) -> JumpLaw {
        self.jumps
    }

    /// ln(S(t+Δt)/S(t)) for one exact step of `dt_s` seconds.
    pub fn log_increment<R: Rng + ?Sized>(&self, dt_s: f64, rng: &mut R) -> Result<f64> {
        let sigma = self.sigma_per_sqrt_s;
        let compensator = self.jump_rate_per_s * self.jumps.mean_relative_jump();
        let z: f64 = StandardNormal.sample(rng);
        let mut x = (self.drift_per_s - 0.5 * sigma * sigma - compensator) * dt_s + sigma * dt_s.sqrt() * z;
        for _ in 0..poisson_count(self.jump_rate_per_s * dt_s, rng)? {
            x += self.jumps.sample(rng);
        }
        Ok(x)
    }

    /// Simulates `steps` exact steps of `dt_s` seconds from `s0`; returns `steps + 1` prices.
    pub fn simulate<R: Rng + ?Sized>(
        &self,
        s0: f64,
        dt_s: f64,
        steps: usize,
        rng: &mut R,
    ) -> Result<Vec<f64>> {
        positive("s0", s0)?;
        positive("dt_s", dt_s)?;
        check_steps(steps)?;
        let mut path = Vec::with_capacity(steps + 1);
        let mut s = s0;
        path.push(s);
        for _ in 0..steps {
            s *= self.log_increment(dt_s, rng)?.exp();
            path.push(s);
        }
        Ok(path)
    }

    /// Merton's series for a European call under the risk-neutral measure (drift = `rate_per_s`):
    /// C = Σₙ e^(−λ′T)(λ′T)ⁿ/n! · BS(S₀, K, rₙ, σₙ, T) with λ′ = λ(1 + k), σₙ² = σ² + nδ²/T,
    /// rₙ = r − λk + n·ln(1 + k)/T. Summed until the Poisson tail is below 1e-16.
    ///
    /// Errors: non-lognormal jumps, or a non-positive spot, strike or maturity.
    pub fn merton_call_price(&self, s0: f64, strike: f64, rate_per_s: f64, maturity_s: f64) -> Result<f64> {
        let JumpLaw::LogNormal { mean, std } = self.jumps else {
            return Err(ModelError::InvalidParameter {
                name: "jumps",
                requirement: "lognormal (Merton) for the series",
                value: f64::NAN,
            });
        };
        positive("s0", s0)?;
        positive("strike", strike)?;
        finite("rate_per_s", rate_per_s)?;
        positive("maturity_s", maturity_s)?;
        let k = self.jumps.mean_relative_jump();
        let lambda_t = self.jump_rate_per_s * (1.0 + k) * maturity_s;
        let mut weight = (-lambda_t).exp();
        let mut cumulative = 0.0;
        let mut price = 0.0;
        for n in 0..10_000 {
            let nf = n as f64;
            if n > 0 {
                weight *= lambda_t / nf;
            }
            let sigma_n = (self.sigma_per_sqrt_s.powi(2) + nf * std * std / maturity_s).sqrt();
            let rate_n = rate_per_s - self.jump_rate_per_s * k + nf * (mean + 0.5 * std * std) / maturity_s;
            price += weight * black_scholes_call(s0, strike, rate_n, sigma_n, maturity_s);
            cumulative += weight;
            if 1.0 - cumulative < 1e-16 && nf > lambda_t {
                break;
            }
        }
        Ok(price)
    }
}

/// Black–Scholes price of a European call: S₀Φ(d₁) − Ke^(−rT)Φ(d₂). With σ = 0 or T = 0 it is the
/// discounted intrinsic value of the forward.
pub fn black_scholes_call(
    s0: f64,
    strike: f64,
    rate_per_s: f64,
    sigma_per_sqrt_s: f64,
    maturity_s: f64,
) -> f64 {
    let discount = (-rate_per_s * maturity_s).exp();
    let vol = sigma_per_sqrt_s * maturity_s.sqrt();
    if vol <= 0.0 {
        return (s0 - strike * discount).max(0.0);
    }
    let d1 =
        ((s0 / strike).ln() + (rate_per_s + 0.5 * sigma_per_sqrt_s * sigma_per_sqrt_s) * maturity_s) / vol;
    s0 * normal_cdf(d1) - strike * discount * normal_cdf(d1 - vol)
}
