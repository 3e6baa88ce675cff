//! The fundamental price F, in ticks: F = F₀·exp(X + offset), where X is a jump-diffusion stepped
//! exactly on a fixed grid and `offset` is the deterministic path of the configured price shocks.
//!
//! Over a step of Δ seconds, X moves by (μ − λk − ½σ²)Δ + σ√Δ·Z + (the step's jumps): the jump
//! part and the compensated drift come from `zkclob_models::sde::JumpDiffusion` (built with σ = 0),
//! the diffusive part is added here so that σ can change over time: multiplied inside a
//! `volatility_spike` window, or replaced by √V from a rough-Bergomi variance path.

use rand_distr::{Distribution, StandardNormal};
use zkclob_models::rough::bergomi::RoughBergomi;
use zkclob_models::sde::JumpDiffusion;
use zkclob_models::ModelRng;

use crate::config::{FundamentalConfig, JumpConfig, PriceShock};
use crate::error::SimError;

/// The jump part of the fundamental (σ = 0), validating the jump parameters.
pub(crate) fn jump_model(f: &FundamentalConfig) -> Result<JumpDiffusion, SimError> {
    let model = match f.jumps {
        JumpConfig::None => JumpDiffusion::merton(f.drift_per_s, 0.0, 0.0, 0.0, 0.0)?,
        JumpConfig::Merton { rate_per_s, log_mean, log_std } => {
            check_jump_rate(rate_per_s)?;
            JumpDiffusion::merton(f.drift_per_s, 0.0, rate_per_s, log_mean, log_std)?
        }
        JumpConfig::Kou { rate_per_s, p_up, eta_up, eta_down } => {
            check_jump_rate(rate_per_s)?;
            JumpDiffusion::kou(f.drift_per_s, 0.0, rate_per_s, p_up, eta_up, eta_down)?
        }
    };
    // A mean relative jump this large makes the compensator meaningless (and E[e^Y] overflows).
    let k = model.jumps().mean_relative_jump();
    crate::error::check("fundamental.jumps (mean relative jump)", k, k.abs() <= 10.0, "in [-10, 10]")?;
    Ok(model)
}

fn check_jump_rate(rate: f64) -> Result<(), SimError> {
    crate::error::check("fundamental.jumps.rate_per_s", rate, (0.0..=100.0).contains(&rate), "in [0, 100]")
}

/// The fundamental's state.
pub(crate) struct Fundamental {
    initial_ticks: f64,
    log_sde: f64,
    offset: f64,
    step_s: f64,
    sigma_per_sqrt_s: f64,
    jumps: JumpDiffusion,
    /// Rough-Bergomi variance at the start of each step, per second.
    variance_per_s: Option<Vec<f64>>,
    step_index: usize,
    sigma_multiplier: f64,
    shocks: Vec<PriceShock>,
}

impl Fundamental {
    /// Builds the process; with rough volatility, simulates the variance path for the whole run.
    pub(crate) fn new(
        config: &FundamentalConfig,
        initial_ticks: f64,
        duration_s: f64,
        shocks: &[PriceShock],
        rng: &mut ModelRng,
    ) -> Result<Self, SimError> {
        let variance_per_s = match config.rough {
            None => None,
            Some(r) => {
                let xi0 = config.sigma_per_sqrt_s * config.sigma_per_sqrt_s;
                let model = RoughBergomi::new(r.hurst, r.eta, 0.0, xi0)?;
                let steps = (duration_s / config.step_s).ceil().max(1.0) as usize;
                Some(model.simulate(steps as f64 * config.step_s, steps, rng)?.variance_per_s)
            }
        };
        Ok(Self {
            initial_ticks,
            log_sde: 0.0,
            offset: 0.0,
            step_s: config.step_s,
            sigma_per_sqrt_s: config.sigma_per_sqrt_s,
            jumps: jump_model(config)?,
            variance_per_s,
            step_index: 0,
            sigma_multiplier: 1.0,
            shocks: shocks.to_vec(),
        })
    }

    /// The grid step, seconds.
    pub(crate) fn step_s(&self) -> f64 {
        self.step_s
    }

    /// F now, ticks.
    pub(crate) fn ticks(&self) -> f64 {
        self.initial_ticks * (self.log_sde + self.offset).exp()
    }

    /// Sets the σ multiplier (stress windows).
    pub(crate) fn set_sigma_multiplier(&mut self, m: f64) {
        self.sigma_multiplier = m;
    }

    /// Advances one grid step that ends at `t_s`.
    pub(crate) fn step(&mut self, t_s: f64, rng: &mut ModelRng) -> Result<(), SimError> {
        let dt = self.step_s;
        let variance = match &self.variance_per_s {
            Some(v) => v.get(self.step_index).or(v.last()).copied().unwrap_or(0.0),
            None => self.sigma_per_sqrt_s * self.sigma_per_sqrt_s,
        };
        let var = variance * self.sigma_multiplier * self.sigma_multiplier;
        let z: f64 = StandardNormal.sample(rng);
        let diffusion = -0.5 * var * dt + (var * dt).sqrt() * z;
        self.log_sde += diffusion + self.jumps.log_increment(dt, rng)?;
        self.step_index += 1;
        self.refresh_offset(t_s);
        Ok(())
    }

    /// Recomputes the shock offset at `t_s` (called at each step and at each shock's time).
    pub(crate) fn refresh_offset(&mut self, t_s: f64) {
        self.offset = self.shocks.iter().map(|s| shock_offset(s, t_s)).sum();
    }
}

/// The log-offset of one shock at `t_s`: 0 before it, the full jump at it, then linearly back by
/// `recovery_fraction` of it over `recovery_s`.
fn shock_offset(s: &PriceShock, t_s: f64) -> f64 {
    if t_s < s.time_s {
        return 0.0;
    }
    let progress = if s.recovery_s > 0.0 { ((t_s - s.time_s) / s.recovery_s).min(1.0) } else { 1.0 };
    s.log_jump * (1.0 - s.recovery_fraction * progress)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shock_offset_drops_then_recovers_the_configured_share() {
        let s = PriceShock {
            time_s: 10.0,
            log_jump: -0.1,
            recovery_fraction: 0.5,
            recovery_s: 20.0,
            withdraw_fraction: 0.0,
        };
        assert_eq!(shock_offset(&s, 9.9), 0.0);
        assert_eq!(shock_offset(&s, 10.0), -0.1);
        assert!((shock_offset(&s, 20.0) + 0.075).abs() < 1e-15);
        assert!((shock_offset(&s, 100.0) + 0.05).abs() < 1e-15);
    }
}
