//! A Gaussian-process regression model on the unit cube, for Bayesian optimisation.
//!
//! Model: y = f(x) + ε, f ~ GP(0, σ²·k(x, x')), ε ~ N(0, σ²·λ), on standardised y (zero mean, unit
//! variance). k is an ARD RBF or Matérn-5/2 correlation with one length scale per dimension. σ² is
//! profiled out of the likelihood (its maximiser given the rest is yᵀ(K + λI)⁻¹y / n); the length
//! scales and the noise ratio λ maximise the profile log marginal likelihood, first over an
//! isotropic grid, then by Nelder–Mead over the ARD parameters in log space.

use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::nelder_mead;
use crate::analytics::stats::{normal_cdf, normal_pdf};

/// The covariance kernel of the Gaussian process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kernel {
    /// Squared exponential exp(−r²/2): very smooth functions.
    Rbf,
    /// Matérn ν = 5/2, (1 + √5 r + 5r²/3)·exp(−√5 r): twice differentiable functions; the usual
    /// default for hyperparameter tuning.
    Matern52,
}

/// Length-scale bounds in unit-cube coordinates.
const LENGTHSCALE_MIN: f64 = 0.01;
const LENGTHSCALE_MAX: f64 = 10.0;
/// Noise-ratio bounds: from (nearly) noise-free to noise as large as the signal.
const NOISE_MIN: f64 = 1e-8;
const NOISE_MAX: f64 = 1.0;
/// Above this many observations, hyperparameters come from the grid only (each Nelder–Mead step
/// costs an O(n³) factorisation).
const NM_MAX_OBSERVATIONS: usize = 300;

fn correlation(kernel: Kernel, a: &[f64], b: &[f64], lengthscales: &[f64]) -> f64 {
    let r2: f64 = a.iter().zip(b).zip(lengthscales).map(|((a, b), l)| ((a - b) / l).powi(2)).sum();
    match kernel {
        Kernel::Rbf => (-0.5 * r2).exp(),
        Kernel::Matern52 => {
            let r = (5.0 * r2).sqrt();
            (1.0 + r + r * r / 3.0) * (-r).exp()
        }
    }
}

/// A fitted model.
#[derive(Debug, Clone)]
pub(crate) struct Gp {
    kernel: Kernel,
    lengthscales: Vec<f64>,
    noise: f64,
    xs: Vec<Vec<f64>>,
    /// Standardised targets.
    ys: Vec<f64>,
    signal_var: f64,
    /// Lower Cholesky factor of R + λI.
    l: DMatrix<f64>,
    /// (R + λI)⁻¹ y.
    alpha: DVector<f64>,
}

/// Factorises R + λI for given hyperparameters; returns the model and its profile log likelihood.
fn factor(
    kernel: Kernel,
    xs: &[Vec<f64>],
    ys: &[f64],
    lengthscales: &[f64],
    noise: f64,
) -> Option<(Gp, f64)> {
    let n = xs.len();
    let mut r = DMatrix::from_fn(n, n, |i, j| correlation(kernel, &xs[i], &xs[j], lengthscales));
    for i in 0..n {
        r[(i, i)] += noise + 1e-10;
    }
    let chol = r.cholesky()?;
    let y = DVector::from_column_slice(ys);
    let alpha = chol.solve(&y);
    let l = chol.unpack();
    let signal_var = (y.dot(&alpha) / n as f64).max(1e-12);
    let log_det: f64 = (0..n).map(|i| l[(i, i)].ln()).sum::<f64>() * 2.0;
    let nf = n as f64;
    let loglik =
        -0.5 * nf * signal_var.ln() - 0.5 * log_det - 0.5 * nf * (1.0 + (2.0 * std::f64::consts::PI).ln());
    let gp = Gp {
        kernel,
        lengthscales: lengthscales.to_vec(),
        noise,
        xs: xs.to_vec(),
        ys: ys.to_vec(),
        signal_var,
        l,
        alpha,
    };
    loglik.is_finite().then_some((gp, loglik))
}

impl Gp {
    /// Fits a model to standardised targets `ys` at unit-cube points `xs` (at least one point).
    pub(crate) fn fit(kernel: Kernel, xs: &[Vec<f64>], ys: &[f64]) -> Option<Gp> {
        let d = xs.first()?.len();
        const GRID_L: [f64; 9] = [0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.5];
        const GRID_NOISE: [f64; 4] = [1e-6, 1e-4, 1e-2, 1e-1];
        let grid: Vec<(f64, f64)> =
            GRID_L.iter().flat_map(|&l| GRID_NOISE.iter().map(move |&n| (l, n))).collect();
        let (l0, n0, _) = grid
            .par_iter()
            .filter_map(|&(l, n)| factor(kernel, xs, ys, &vec![l; d], n).map(|(_, ll)| (l, n, ll)))
            .max_by(|a, b| a.2.total_cmp(&b.2))?;
        if xs.len() > NM_MAX_OBSERVATIONS {
            return factor(kernel, xs, ys, &vec![l0; d], n0).map(|(gp, _)| gp);
        }
        // θ = (ln ℓ₁, …, ln ℓ_d, ln λ).
        let mut theta0 = vec![l0.ln(); d];
        theta0.push(n0.ln());
        let mut lo = vec![LENGTHSCALE_MIN.ln(); d];
        lo.push(NOISE_MIN.ln());
        let mut hi = vec![LENGTHSCALE_MAX.ln(); d];
        hi.push(NOISE_MAX.ln());
        let split = |t: &[f64]| -> (Vec<f64>, f64) { (t[..d].iter().map(|v| v.exp()).collect(), t[d].exp()) };
        let mut neg_ll = |t: &[f64]| {
            let (ls, noise) = split(t);
            factor(kernel, xs, ys, &ls, noise).map_or(f64::INFINITY, |(_, ll)| -ll)
        };
        let (theta, _) = nelder_mead::minimize(&mut neg_ll, &theta0, 0.5, &lo, &hi, 25 * (d + 1) + 50);
        let (ls, noise) = split(&theta);
        factor(kernel, xs, ys, &ls, noise)
            .or_else(|| factor(kernel, xs, ys, &vec![l0; d], n0))
            .map(|(gp, _)| gp)
    }

    /// The same model (hyperparameters kept) with one more observation.
    pub(crate) fn with_observation(&self, x: Vec<f64>, y: f64) -> Option<Gp> {
        let mut xs = self.xs.clone();
        xs.push(x);
        let mut ys = self.ys.clone();
        ys.push(y);
        factor(self.kernel, &xs, &ys, &self.lengthscales, self.noise).map(|(gp, _)| gp)
    }

    /// Posterior mean and standard deviation of the latent f at `x`, standardised units.
    pub(crate) fn predict(&self, x: &[f64]) -> (f64, f64) {
        let r = DVector::from_iterator(
            self.xs.len(),
            self.xs.iter().map(|xi| correlation(self.kernel, x, xi, &self.lengthscales)),
        );
        let mean = r.dot(&self.alpha);
        let explained = self.l.solve_lower_triangular(&r).map_or(1.0, |v| v.dot(&v));
        let var = self.signal_var * (1.0 - explained).max(1e-12);
        (mean, var.sqrt())
    }

    /// Expected improvement over `best` (maximisation) with exploration margin `xi`.
    pub(crate) fn expected_improvement(&self, x: &[f64], best: f64, xi: f64) -> f64 {
        let (mean, sd) = self.predict(x);
        let gain = mean - best - xi;
        if sd <= 1e-12 {
            return gain.max(0.0);
        }
        let z = gain / sd;
        (gain * normal_cdf(z) + sd * normal_pdf(z)).max(0.0)
    }

    /// Largest standardised target in the training set.
    pub(crate) fn best_target(&self) -> f64 {
        self.ys.iter().copied().fold(f64::NEG_INFINITY, f64::max)
    }

    /// Fitted length scales (unit-cube coordinates).
    #[cfg(test)]
    pub(crate) fn lengthscales(&self) -> &[f64] {
        &self.lengthscales
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolates_a_smooth_function() {
        let xs: Vec<Vec<f64>> = (0..12).map(|i| vec![i as f64 / 11.0]).collect();
        let ys: Vec<f64> = xs.iter().map(|x| (6.0 * x[0]).sin()).collect();
        let gp = Gp::fit(Kernel::Matern52, &xs, &ys).expect("fit");
        for (x, y) in xs.iter().zip(&ys) {
            assert!((gp.predict(x).0 - y).abs() < 1e-2);
        }
        let (m, sd) = gp.predict(&[0.5 / 11.0]);
        assert!((m - (6.0 * 0.5 / 11.0f64).sin()).abs() < 0.05, "mean {m}");
        assert!(sd < 0.1);
        assert!(gp.lengthscales()[0] > 0.05);
    }

    #[test]
    fn ard_finds_the_irrelevant_dimension() {
        // y depends on x0 only: the fitted length scale of x1 should be much longer.
        let mut xs = Vec::new();
        for i in 0..6 {
            for j in 0..6 {
                xs.push(vec![i as f64 / 5.0, j as f64 / 5.0]);
            }
        }
        let ys: Vec<f64> = xs.iter().map(|x| (4.0 * x[0]).cos()).collect();
        let gp = Gp::fit(Kernel::Rbf, &xs, &ys).expect("fit");
        assert!(gp.lengthscales()[1] > 3.0 * gp.lengthscales()[0], "{:?}", gp.lengthscales());
    }

    #[test]
    fn expected_improvement_is_zero_at_a_known_point_below_best() {
        let xs = vec![vec![0.2], vec![0.8]];
        let gp = Gp::fit(Kernel::Rbf, &xs, &[1.0, -1.0]).expect("fit");
        assert!(gp.expected_improvement(&[0.8], 1.0, 0.0) < 1e-3);
        assert!(gp.expected_improvement(&[0.5], 1.0, 0.0) > gp.expected_improvement(&[0.8], 1.0, 0.0));
    }
}
