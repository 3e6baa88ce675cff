//! The fundamental price F, in ticks: F = F₀·exp(X + offset + impact), where X is a
//! jump-diffusion stepped exactly on a fixed grid, `offset` is the deterministic path of the
//! configured price shocks and `impact` is the accumulated permanent price impact of market orders
//! (see [`crate::config::ImpactConfig`]).
//!
//! Over a step of Δ seconds, X moves by (μ − λk − ½σ²)Δ + σ√Δ·Z + (the step's jumps): the jump
//! part and the compensated drift come from `zkclob_models::sde::JumpDiffusion` (built with σ = 0),
//! the diffusive part is added here so that σ can change over time: multiplied inside a
//! `volatility_spike` window, or replaced by √V from a rough-Bergomi variance path.
//!
//! X is simulated a fixed number of steps ahead of the clock, so that informed traders can know
//! where it will be ([`Fundamental::ticks_ahead`]). X draws only from its own generator, in step
//! order, and its σ multiplier is a function of the step's time, so the path does not depend on how
//! far ahead it is simulated.

use std::collections::VecDeque;

use rand_distr::{Distribution, StandardNormal};
use zkclob_models::rough::bergomi::RoughBergomi;
use zkclob_models::sde::JumpDiffusion;
use zkclob_models::ModelRng;

use crate::config::{FundamentalConfig, JumpConfig, PriceShock, StressWindow};
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
    /// X at the last step reached by the clock.
    log_sde: f64,
    /// X at the following grid steps, simulated ahead (at least `lookahead_steps` of them).
    ahead: VecDeque<f64>,
    lookahead_steps: usize,
    offset: f64,
    /// Accumulated permanent impact, log.
    impact: f64,
    step_s: f64,
    sigma_per_sqrt_s: f64,
    jumps: JumpDiffusion,
    /// Rough-Bergomi variance at the start of each step, per second.
    variance_per_s: Option<Vec<f64>>,
    /// Steps simulated so far (the clock's and those ahead).
    simulated_steps: usize,
    /// (start, end, σ multiplier) of the stress windows.
    windows: Vec<(f64, f64, f64)>,
    shocks: Vec<PriceShock>,
}

impl Fundamental {
    /// Builds the process; with rough volatility, simulates the variance path for the whole run.
    /// X is kept `lookahead_s` (rounded to whole steps) ahead of the clock.
    pub(crate) fn new(
        config: &FundamentalConfig,
        initial_ticks: f64,
        duration_s: f64,
        lookahead_s: f64,
        windows: &[StressWindow],
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
        let lookahead_steps = (lookahead_s / config.step_s).round() as usize;
        let mut fundamental = Self {
            initial_ticks,
            log_sde: 0.0,
            ahead: VecDeque::with_capacity(lookahead_steps + 1),
            lookahead_steps,
            offset: 0.0,
            impact: 0.0,
            step_s: config.step_s,
            sigma_per_sqrt_s: config.sigma_per_sqrt_s,
            jumps: jump_model(config)?,
            variance_per_s,
            simulated_steps: 0,
            windows: windows.iter().map(|w| (w.start_s, w.end_s, w.sigma_multiplier)).collect(),
            shocks: shocks.to_vec(),
        };
        fundamental.fill_ahead(rng)?;
        Ok(fundamental)
    }

    /// The grid step, seconds.
    pub(crate) fn step_s(&self) -> f64 {
        self.step_s
    }

    /// F now, ticks.
    pub(crate) fn ticks(&self) -> f64 {
        self.initial_ticks * (self.log_sde + self.offset + self.impact).exp()
    }

    /// F as it will be after the look-ahead if nothing but X moves (no new impact, no new
    /// shock), ticks: what an informed trader knows. F now without a look-ahead.
    pub(crate) fn ticks_ahead(&self) -> f64 {
        let x = match self.lookahead_steps {
            0 => self.log_sde,
            n => self.ahead.get(n - 1).copied().unwrap_or(self.log_sde),
        };
        self.initial_ticks * (x + self.offset + self.impact).exp()
    }

    /// The accumulated permanent impact, log (F is e^this times what it would be without).
    pub(crate) fn impact_log(&self) -> f64 {
        self.impact
    }

    /// Moves F by `delta_ticks` for good (permanent price impact); F stays positive.
    pub(crate) fn add_impact_ticks(&mut self, delta_ticks: f64) {
        let f = self.ticks();
        let target = (f + delta_ticks).max(0.5 * f);
        self.impact += (target / f).ln();
    }

    /// Advances one grid step that ends at `t_s`.
    pub(crate) fn step(&mut self, t_s: f64, rng: &mut ModelRng) -> Result<(), SimError> {
        if self.ahead.is_empty() {
            self.simulate_step(rng)?;
        }
        if let Some(x) = self.ahead.pop_front() {
            self.log_sde = x;
        }
        self.fill_ahead(rng)?;
        self.refresh_offset(t_s);
        Ok(())
    }

    /// Simulates until `lookahead_steps` steps are ahead of the clock.
    fn fill_ahead(&mut self, rng: &mut ModelRng) -> Result<(), SimError> {
        while self.ahead.len() < self.lookahead_steps {
            self.simulate_step(rng)?;
        }
        Ok(())
    }

    /// Simulates the next grid step of X after the last one simulated.
    fn simulate_step(&mut self, rng: &mut ModelRng) -> Result<(), SimError> {
        let dt = self.step_s;
        let index = self.simulated_steps;
        let variance = match &self.variance_per_s {
            Some(v) => v.get(index).or(v.last()).copied().unwrap_or(0.0),
            None => self.sigma_per_sqrt_s * self.sigma_per_sqrt_s,
        };
        let m = self.sigma_multiplier((index + 1) as f64 * dt);
        let var = variance * m * m;
        let z: f64 = StandardNormal.sample(rng);
        let diffusion = -0.5 * var * dt + (var * dt).sqrt() * z;
        let last = self.ahead.back().copied().unwrap_or(self.log_sde);
        self.ahead.push_back(last + diffusion + self.jumps.log_increment(dt, rng)?);
        self.simulated_steps += 1;
        Ok(())
    }

    /// The product of the σ multipliers of the stress windows active at `t_s`.
    fn sigma_multiplier(&self, t_s: f64) -> f64 {
        self.windows.iter().filter(|w| w.0 <= t_s && t_s < w.1).map(|w| w.2).product()
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

    fn process(lookahead_s: f64, seed: u64) -> (Fundamental, ModelRng) {
        let config = FundamentalConfig::default();
        let windows =
            [StressWindow { start_s: 3.0, end_s: 6.0, sigma_multiplier: 4.0, ..Default::default() }];
        let mut rng = zkclob_models::seeded_rng(seed);
        let f = Fundamental::new(&config, 10_000.0, 60.0, lookahead_s, &windows, &[], &mut rng)
            .expect("the default fundamental is valid");
        (f, rng)
    }

    #[test]
    fn the_path_does_not_depend_on_how_far_ahead_it_is_simulated() {
        let (mut now, mut rng_now) = process(0.0, 7);
        let (mut ahead, mut rng_ahead) = process(2.0, 7);
        let (mut seen, mut rng_seen) = process(2.0, 7);
        let steps = 200;
        let mut later = Vec::new();
        for k in 1..=steps {
            let t = k as f64 * 0.1;
            now.step(t, &mut rng_now).expect("step");
            ahead.step(t, &mut rng_ahead).expect("step");
            assert_eq!(now.ticks(), ahead.ticks(), "step {k}");
            later.push(seen.ticks_ahead());
            seen.step(t, &mut rng_seen).expect("step");
        }
        // What the look-ahead showed 20 steps (2 s) before is where F then was.
        let (mut check, mut rng) = process(0.0, 7);
        for k in 1..=steps {
            check.step(k as f64 * 0.1, &mut rng).expect("step");
            if k >= 20 {
                assert_eq!(later[k - 20], check.ticks(), "step {k}");
            }
        }
    }

    #[test]
    fn impact_moves_f_and_the_look_ahead_alike() {
        let (mut f, _) = process(1.0, 3);
        let (before, ahead_before) = (f.ticks(), f.ticks_ahead());
        f.add_impact_ticks(2.5);
        assert!((f.ticks() - before - 2.5).abs() < 1e-9);
        assert!((f.ticks_ahead() / ahead_before - f.ticks() / before).abs() < 1e-12);
        f.add_impact_ticks(-1e9);
        assert!(f.ticks() > 0.0, "F stays positive");
    }

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
