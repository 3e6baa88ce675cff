//! Bayesian optimisation: a Latin-hypercube initial design, then batches of points that maximise
//! expected improvement under a Gaussian-process model of the objective.
//!
//! Each batch is chosen sequentially by the "kriging believer" heuristic (after picking a point, the
//! model is told that its value equals the predicted mean, which removes its improvement and pushes
//! the next pick elsewhere), then the whole batch is evaluated in parallel. Expected improvement is
//! maximised over random candidates (uniform, plus perturbations of the best points so far), the
//! best few of which are refined by Nelder–Mead.

use rand::seq::SliceRandom;
use rand::RngExt;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use zkclob_models::{seeded_rng, ModelRng};

use super::gp::{Gp, Kernel};
use super::nelder_mead;
use super::{ParamSpace, Params, Phase, Recorder};
use crate::error::{BacktestError, Result};

/// Most evaluations of one Bayesian search (the model costs O(n³) per step).
pub const MAX_BAYES_TRIALS: usize = 2_000;
/// Most points per batch.
pub const MAX_BATCH: usize = 256;
/// Most expected-improvement candidates per pick.
const MAX_CANDIDATES: usize = 1 << 20;
/// Candidates refined by Nelder–Mead per pick.
const REFINED_CANDIDATES: usize = 3;
/// Standard deviation of the local perturbations around the best points, unit-cube units.
const LOCAL_SD: f64 = 0.05;
/// Two unit-cube points closer than this (max-norm) are the same point.
const SAME_POINT: f64 = 1e-9;

/// Settings of a Bayesian search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BayesConfig {
    /// Total evaluations, initial design included (at most [`MAX_BAYES_TRIALS`]).
    pub trials: usize,
    /// Size of the initial Latin-hypercube design (at least 1; capped at `trials`).
    pub initial: usize,
    /// Points proposed and evaluated in parallel per step (at most [`MAX_BATCH`]). Fixed rather than
    /// the number of cores so that a seed gives the same result on any machine.
    pub batch: usize,
    /// Seed of every random choice.
    pub seed: u64,
    /// Random candidates scored by expected improvement per pick.
    pub candidates: usize,
    /// The covariance kernel.
    pub kernel: Kernel,
    /// Exploration margin of expected improvement, in standard deviations of the objective.
    pub xi: f64,
}

impl Default for BayesConfig {
    fn default() -> Self {
        Self {
            trials: 50,
            initial: 10,
            batch: 4,
            seed: 0,
            candidates: 2048,
            kernel: Kernel::Matern52,
            xi: 0.01,
        }
    }
}

impl BayesConfig {
    fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(BacktestError::InvalidSpace(m));
        if self.trials == 0 || self.trials > MAX_BAYES_TRIALS {
            return bad(format!("Bayesian search needs 1 to {MAX_BAYES_TRIALS} trials"));
        }
        if self.initial == 0 || self.batch == 0 || self.batch > MAX_BATCH {
            return bad(format!("needs initial ≥ 1 and 1 ≤ batch ≤ {MAX_BATCH}"));
        }
        if self.candidates == 0 || self.candidates > MAX_CANDIDATES {
            return bad(format!("needs 1 to {MAX_CANDIDATES} candidates"));
        }
        if !(self.xi >= 0.0 && self.xi.is_finite()) {
            return bad("xi must be finite and ≥ 0".into());
        }
        Ok(())
    }
}

/// `n` points of a Latin hypercube in [0, 1]^d: each dimension's n strata hit exactly once.
fn latin_hypercube(n: usize, d: usize, rng: &mut ModelRng) -> Vec<Vec<f64>> {
    let mut points = vec![vec![0.0; d]; n];
    for j in 0..d {
        let mut strata: Vec<usize> = (0..n).collect();
        strata.shuffle(rng);
        for (point, s) in points.iter_mut().zip(strata) {
            point[j] = (s as f64 + rng.random::<f64>()) / n as f64;
        }
    }
    points
}

/// Runs the search, recording every evaluation in `rec`.
pub(crate) fn run<F>(space: &ParamSpace, cfg: &BayesConfig, rec: &mut Recorder, objective: &F) -> Result<()>
where
    F: Fn(&Params) -> f64 + Sync,
{
    cfg.validate()?;
    let sign = rec.goal.sign();
    let mut rng = seeded_rng(cfg.seed);
    let initial: Vec<Vec<f64>> = latin_hypercube(cfg.initial.min(cfg.trials), space.dims(), &mut rng)
        .into_iter()
        .map(|u| space.snap(&u))
        .collect();
    let values = rec.evaluate(initial.iter().map(|u| space.decode(u)).collect(), Phase::Initial, objective);
    let mut xs = initial;
    let mut ys: Vec<Option<f64>> = values.into_iter().map(|v| v.map(|v| sign * v)).collect();
    while rec.len() < cfg.trials {
        let k = cfg.batch.min(cfg.trials - rec.len());
        let batch = propose(space, cfg, &xs, &ys, k, &mut rng);
        let values =
            rec.evaluate(batch.iter().map(|u| space.decode(u)).collect(), Phase::Bayesian, objective);
        xs.extend(batch);
        ys.extend(values.into_iter().map(|v| v.map(|v| sign * v)));
    }
    Ok(())
}

/// Standardises the (maximisation-signed) values; non-finite ones become the worst finite value.
/// `None` with fewer than two finite values.
fn standardise(ys: &[Option<f64>]) -> Option<Vec<f64>> {
    let finite: Vec<f64> = ys.iter().flatten().copied().collect();
    if finite.len() < 2 {
        return None;
    }
    let worst = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let filled: Vec<f64> = ys.iter().map(|y| y.unwrap_or(worst)).collect();
    let mean = filled.iter().sum::<f64>() / filled.len() as f64;
    let sd = (filled.iter().map(|y| (y - mean).powi(2)).sum::<f64>() / filled.len() as f64).sqrt();
    let sd = if sd > 0.0 { sd } else { 1.0 };
    Some(filled.iter().map(|y| (y - mean) / sd).collect())
}

/// Proposes `k` new unit-cube points.
fn propose(
    space: &ParamSpace,
    cfg: &BayesConfig,
    xs: &[Vec<f64>],
    ys: &[Option<f64>],
    k: usize,
    rng: &mut ModelRng,
) -> Vec<Vec<f64>> {
    let mut gp = standardise(ys).and_then(|y| Gp::fit(cfg.kernel, xs, &y));
    let mut taken: Vec<Vec<f64>> = xs.to_vec();
    let mut batch = Vec::with_capacity(k);
    for _ in 0..k {
        let pick = gp.as_ref().map(|gp| maximise_ei(gp, space, cfg, &taken, rng));
        let x = match pick {
            Some(x) if !taken.iter().any(|t| same_point(t, &x)) => x,
            // No model yet, or expected improvement points at a known point: explore at random.
            _ => space.snap(&(0..space.dims()).map(|_| rng.random::<f64>()).collect::<Vec<_>>()),
        };
        gp = gp.and_then(|g| {
            let believed = g.predict(&x).0;
            g.with_observation(x.clone(), believed)
        });
        taken.push(x.clone());
        batch.push(x);
    }
    batch
}

fn same_point(a: &[f64], b: &[f64]) -> bool {
    a.iter().zip(b).all(|(a, b)| (a - b).abs() < SAME_POINT)
}

/// The candidate pool: uniform points and Gaussian perturbations of the best points so far.
fn candidates(
    gp: &Gp,
    space: &ParamSpace,
    cfg: &BayesConfig,
    taken: &[Vec<f64>],
    rng: &mut ModelRng,
) -> Vec<Vec<f64>> {
    let d = space.dims();
    let mut pool: Vec<Vec<f64>> = (0..cfg.candidates)
        .map(|_| space.snap(&(0..d).map(|_| rng.random::<f64>()).collect::<Vec<_>>()))
        .collect();
    let mut ranked: Vec<(f64, &Vec<f64>)> = taken.iter().map(|x| (gp.predict(x).0, x)).collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    let per_best = (cfg.candidates / 8).max(1);
    for (_, centre) in ranked.into_iter().take(5) {
        for _ in 0..per_best {
            let u: Vec<f64> = centre.iter().map(|c| (c + LOCAL_SD * gaussian(rng)).clamp(0.0, 1.0)).collect();
            pool.push(space.snap(&u));
        }
    }
    pool
}

/// A standard normal draw (Box–Muller).
fn gaussian(rng: &mut ModelRng) -> f64 {
    let u1 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    let u2 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// The unit-cube point of largest expected improvement: best candidates refined by Nelder–Mead.
fn maximise_ei(
    gp: &Gp,
    space: &ParamSpace,
    cfg: &BayesConfig,
    taken: &[Vec<f64>],
    rng: &mut ModelRng,
) -> Vec<f64> {
    let best = gp.best_target();
    let pool = candidates(gp, space, cfg, taken, rng);
    let scores: Vec<f64> = pool.par_iter().map(|x| gp.expected_improvement(x, best, cfg.xi)).collect();
    let mut order: Vec<usize> = (0..pool.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let d = space.dims();
    let (lo, hi) = (vec![0.0; d], vec![1.0; d]);
    let refined: Vec<(Vec<f64>, f64)> = order
        .iter()
        .take(REFINED_CANDIDATES)
        .map(|&i| {
            let mut neg_ei = |u: &[f64]| -gp.expected_improvement(&space.snap(u), best, cfg.xi);
            let (u, v) = nelder_mead::minimize(&mut neg_ei, &pool[i], 0.02, &lo, &hi, 20 * (d + 1));
            (space.snap(&u), -v)
        })
        .collect();
    let top = order.first().map(|&i| (pool[i].clone(), scores[i]));
    refined
        .into_iter()
        .chain(top)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(x, _)| x)
        .unwrap_or_else(|| vec![0.5; d])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin_hypercube_hits_every_stratum_once() {
        let pts = latin_hypercube(10, 3, &mut seeded_rng(1));
        for j in 0..3 {
            let mut strata: Vec<usize> = pts.iter().map(|p| (p[j] * 10.0).floor() as usize).collect();
            strata.sort_unstable();
            assert_eq!(strata, (0..10).collect::<Vec<_>>());
        }
    }

    #[test]
    fn standardise_needs_two_finite_values_and_fills_the_rest_with_the_worst() {
        assert_eq!(standardise(&[Some(1.0), None]), None);
        let z = standardise(&[Some(1.0), None, Some(3.0)]).unwrap();
        assert_eq!(z[0], z[1]);
        assert!(z[2] > z[0]);
    }
}
