//! The background flow's random parts: an online multivariate Hawkes sampler (Ogata thinning,
//! one candidate at a time, so the event queue interleaves it with everything else and stress
//! windows can change its baselines mid-run), the placement-level law and the size laws.

use rand::RngExt;
use rand_distr::{Distribution, Exp1, StandardNormal};
use zkclob_core::Side;
use zkclob_models::ModelRng;

use crate::config::{FlowConfig, SizeConfig, FLOW_DIMS, MAX_ORDER_LOTS};
use crate::error::SimError;

/// What a flow event does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FlowKind {
    /// A limit order.
    Limit,
    /// A market order.
    Market,
    /// A cancel of a resting background order.
    Cancel,
}

/// The kind and side of flow dimension `dim` (see [`crate::config::FLOW_DIM_NAMES`]).
pub(crate) fn dim_kind(dim: usize) -> (FlowKind, Side) {
    let kind = match dim / 2 {
        0 => FlowKind::Limit,
        1 => FlowKind::Market,
        _ => FlowKind::Cancel,
    };
    (kind, if dim % 2 == 0 { Side::Buy } else { Side::Sell })
}

/// λᵢ(t) = mᵢ·μᵢ + Σₖ Σⱼ αₖᵢⱼ·Sₖⱼ(t), with Sₖⱼ = Σ over past type-j events of e^(−βₖ(t − tₑ)) and
/// mᵢ the stress multiplier of dimension i.
pub(crate) struct HawkesFlow {
    mu: [f64; FLOW_DIMS],
    multipliers: [f64; FLOW_DIMS],
    decays: Vec<f64>,
    /// α, index (k·d + i)·d + j.
    alpha: Vec<f64>,
    /// S, index k·d + j, valid at `t_last`.
    state: Vec<f64>,
    t_last: f64,
    /// Total intensity at `t_last`: it only decays until the next event, so it bounds it.
    bound: f64,
    /// Bumped whenever a scheduled candidate becomes invalid (the multipliers changed).
    generation: u32,
    counts: [u64; FLOW_DIMS],
}

impl HawkesFlow {
    /// The configured flow (validated: shapes and stationarity).
    pub(crate) fn new(config: &FlowConfig) -> Result<Self, SimError> {
        config.hawkes()?;
        let k = config.kernels.len();
        let mut alpha = Vec::with_capacity(k * FLOW_DIMS * FLOW_DIMS);
        for kernel in &config.kernels {
            alpha.extend(kernel.alpha_per_s.iter().flatten());
        }
        let mut flow = Self {
            mu: config.baseline_per_s.to_array(),
            multipliers: [1.0; FLOW_DIMS],
            decays: config.kernels.iter().map(|c| c.decay_per_s).collect(),
            alpha,
            state: vec![0.0; k * FLOW_DIMS],
            t_last: 0.0,
            bound: 0.0,
            generation: 0,
            counts: [0; FLOW_DIMS],
        };
        flow.bound = flow.total_intensity();
        Ok(flow)
    }

    /// The generation a candidate must carry to be valid.
    pub(crate) fn generation(&self) -> u32 {
        self.generation
    }

    /// Accepted events per dimension so far.
    pub(crate) fn counts(&self) -> [u64; FLOW_DIMS] {
        self.counts
    }

    fn intensity(&self, i: usize) -> f64 {
        let d = FLOW_DIMS;
        let mut lambda = self.multipliers[i] * self.mu[i];
        for k in 0..self.decays.len() {
            let row = &self.alpha[(k * d + i) * d..(k * d + i + 1) * d];
            let s = &self.state[k * d..(k + 1) * d];
            lambda += row.iter().zip(s).map(|(a, s)| a * s).sum::<f64>();
        }
        lambda
    }

    fn total_intensity(&self) -> f64 {
        (0..FLOW_DIMS).map(|i| self.intensity(i)).sum()
    }

    fn decay_to(&mut self, t: f64) {
        let dt = t - self.t_last;
        if dt > 0.0 {
            for (k, &b) in self.decays.iter().enumerate() {
                let f = (-b * dt).exp();
                self.state[k * FLOW_DIMS..(k + 1) * FLOW_DIMS].iter_mut().for_each(|s| *s *= f);
            }
        }
        self.t_last = t;
    }

    /// The next candidate time (infinite when the intensity is zero).
    pub(crate) fn next_candidate(&self, rng: &mut ModelRng) -> f64 {
        if self.bound <= 0.0 {
            return f64::INFINITY;
        }
        let wait: f64 = Exp1.sample(rng);
        self.t_last + wait / self.bound
    }

    /// At a candidate time `t`: thins it, returning the dimension of the event if it is accepted.
    pub(crate) fn fire(&mut self, t: f64, rng: &mut ModelRng) -> Option<usize> {
        let bound = self.bound;
        self.decay_to(t);
        let mut u = rng.random::<f64>() * bound;
        let mut fired = None;
        for i in 0..FLOW_DIMS {
            u -= self.intensity(i);
            if u <= 0.0 {
                fired = Some(i);
                break;
            }
        }
        if let Some(j) = fired {
            self.counts[j] += 1;
            for k in 0..self.decays.len() {
                self.state[k * FLOW_DIMS + j] += 1.0;
            }
        }
        self.bound = self.total_intensity();
        fired
    }

    /// Changes the baseline multipliers at time `t`; invalidates the scheduled candidate.
    pub(crate) fn set_multipliers(&mut self, t: f64, multipliers: [f64; FLOW_DIMS]) {
        self.decay_to(t);
        self.multipliers = multipliers;
        self.bound = self.total_intensity();
        self.generation = self.generation.wrapping_add(1);
    }
}

/// The truncated geometric placement law P(ℓ) ∝ r^ℓ on {0, …, L − 1}, by inversion.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LevelLaw {
    levels: u32,
    ln_r: f64,
    /// 1 − r^L.
    mass: f64,
}

impl LevelLaw {
    pub(crate) fn new(levels: u32, ratio: f64) -> Self {
        Self { levels, ln_r: ratio.ln(), mass: 1.0 - ratio.powi(levels as i32) }
    }

    pub(crate) fn sample(&self, rng: &mut ModelRng) -> u32 {
        let u: f64 = rng.random();
        let level = if self.ln_r == 0.0 || self.mass <= 0.0 {
            (u * self.levels as f64) as u32
        } else {
            ((1.0 - u * self.mass).ln() / self.ln_r).floor() as u32
        };
        level.min(self.levels - 1)
    }
}

impl SizeConfig {
    /// One size, lots, in 1..=[`MAX_ORDER_LOTS`].
    pub(crate) fn sample(&self, rng: &mut ModelRng) -> u64 {
        let lots = match *self {
            SizeConfig::Fixed { lots } => lots as f64,
            SizeConfig::Geometric { mean_lots } => {
                if mean_lots <= 1.0 {
                    1.0
                } else {
                    // P(s) = p(1 − p)^(s−1), p = 1/mean: s = 1 + ⌊ln U / ln(1 − p)⌋.
                    let u: f64 = 1.0 - rng.random::<f64>();
                    1.0 + (u.ln() / (1.0 - 1.0 / mean_lots).ln()).floor()
                }
            }
            SizeConfig::LogNormal { median_lots, sigma } => {
                let z: f64 = StandardNormal.sample(rng);
                (median_lots * (sigma * z).exp()).round()
            }
        };
        if lots.is_finite() {
            lots.clamp(1.0, MAX_ORDER_LOTS as f64) as u64
        } else {
            MAX_ORDER_LOTS
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_law_matches_the_truncated_geometric_probabilities() {
        let law = LevelLaw::new(4, 0.5);
        let mut rng = zkclob_models::seeded_rng(3);
        let n = 200_000;
        let mut counts = [0u32; 4];
        for _ in 0..n {
            counts[law.sample(&mut rng) as usize] += 1;
        }
        let norm = 1.0 + 0.5 + 0.25 + 0.125;
        for (l, c) in counts.iter().enumerate() {
            let p = 0.5f64.powi(l as i32) / norm;
            assert!((*c as f64 / n as f64 - p).abs() < 0.005, "level {l}: {c}");
        }
        let uniform = LevelLaw::new(3, 1.0);
        assert!((0..1000).all(|_| uniform.sample(&mut rng) < 3));
    }

    #[test]
    fn geometric_sizes_have_the_configured_mean() {
        let mut rng = zkclob_models::seeded_rng(4);
        let law = SizeConfig::Geometric { mean_lots: 3.0 };
        let n = 200_000;
        let mean = (0..n).map(|_| law.sample(&mut rng) as f64).sum::<f64>() / n as f64;
        assert!((mean - 3.0).abs() < 0.03, "mean {mean}");
        assert_eq!(SizeConfig::Geometric { mean_lots: 1.0 }.sample(&mut rng), 1);
        assert_eq!(SizeConfig::Fixed { lots: 7 }.sample(&mut rng), 7);
    }
}
