//! Non-parametric Hawkes kernel estimation by EM (Lewis–Mohler 2011, Marsan–Lengliné 2008).
//!
//! The univariate kernel is a histogram: φ(t) = φ_b for t ∈ [b·h, (b+1)·h), b = 0…B−1, and zero
//! beyond the support B·h. EM alternates:
//! - E-step: event i was triggered by earlier event j with probability φ(tᵢ − tⱼ)/λ(tᵢ) and is a
//!   background event with probability μ/λ(tᵢ);
//! - M-step: μ = (background mass)/T and φ_b = (mass of pairs whose lag falls in bin b) /
//!   (h·Σⱼ exposureⱼ_b), where exposureⱼ_b ∈ [0, 1] is the fraction of bin b that lies before T for
//!   parent j (edge correction).
//!
//! The likelihood is linear in (μ, φ), so EM increases it monotonically to the maximum-likelihood
//! histogram; the observed Fisher information Σ xxᵀ/λ² (x = (1, pair counts per bin)) gives
//! standard errors.

use nalgebra::DMatrix;

use super::events::EventTimes;
use crate::error::{positive, ModelError, Result};

/// Largest number of kernel bins.
pub const MAX_KERNEL_BINS: usize = 1_000;
/// Largest number of (event, earlier event) pairs inside the support that the estimator stores.
pub const MAX_KERNEL_PAIRS: usize = 50_000_000;

/// A fitted histogram kernel.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramKernelFit {
    /// Baseline intensity μ, events per second.
    pub mu_per_s: f64,
    /// Bin width h, seconds.
    pub bin_width_s: f64,
    /// Kernel height on each bin φ_b, per second².
    pub kernel_per_s2: Vec<f64>,
    /// Standard error of μ.
    pub mu_std_error: f64,
    /// Standard errors of φ_b.
    pub kernel_std_errors: Vec<f64>,
    /// Branching ratio ∫φ = h·Σφ_b.
    pub branching_ratio: f64,
    /// Standard error of the branching ratio.
    pub branching_ratio_std_error: f64,
    /// Log-likelihood at the estimate.
    pub loglik: f64,
    /// EM iterations run.
    pub iterations: usize,
    /// Whether the tolerance was met before the cap.
    pub converged: bool,
}

/// Fits μ and a histogram kernel with `bins` bins of width `bin_width_s` seconds by EM.
///
/// Stops when the log-likelihood gains less than `tolerance`·(1 + |loglik|) in an iteration or after
/// `max_iterations`. Errors: fewer than 10 events, a bad bin specification, or more than
/// [`MAX_KERNEL_PAIRS`] pairs within the support.
pub fn fit_histogram_kernel_em(
    events: &EventTimes,
    bins: usize,
    bin_width_s: f64,
    max_iterations: usize,
    tolerance: f64,
) -> Result<HistogramKernelFit> {
    positive("bin_width_s", bin_width_s)?;
    if bins == 0 || bins > MAX_KERNEL_BINS {
        return Err(ModelError::LimitExceeded {
            what: "kernel bins (1 to limit)",
            limit: MAX_KERNEL_BINS,
            got: bins,
        });
    }
    if events.len() < 10 {
        return Err(ModelError::TooFewData {
            what: "histogram kernel EM (events)",
            needed: 10,
            got: events.len(),
        });
    }
    let times = events.times_s();
    let horizon = events.horizon_s();
    let support = bins as f64 * bin_width_s;
    // Pairs (child, bin) grouped by child: `starts[i]..starts[i+1]` indexes `pair_bins`.
    let mut starts = Vec::with_capacity(times.len() + 1);
    let mut pair_bins: Vec<u32> = Vec::new();
    let mut first = 0;
    for (i, &t) in times.iter().enumerate() {
        starts.push(pair_bins.len());
        while t - times[first] >= support {
            first += 1;
        }
        for &tj in &times[first..i] {
            // `min` guards the rounding case (t − tⱼ)/h = B for a lag just below the support.
            pair_bins.push((((t - tj) / bin_width_s) as usize).min(bins - 1) as u32);
        }
        if pair_bins.len() > MAX_KERNEL_PAIRS {
            return Err(ModelError::LimitExceeded {
                what: "kernel pairs within the support",
                limit: MAX_KERNEL_PAIRS,
                got: pair_bins.len(),
            });
        }
    }
    starts.push(pair_bins.len());
    // Exposure: expected-children denominator h·Σⱼ (fraction of bin b before T).
    let exposure: Vec<f64> = (0..bins)
        .map(|b| {
            times
                .iter()
                .map(|&tj| ((horizon - tj - b as f64 * bin_width_s) / bin_width_s).clamp(0.0, 1.0))
                .sum::<f64>()
                * bin_width_s
        })
        .collect();
    let n = times.len() as f64;
    let mut mu = 0.5 * n / horizon;
    let mut phi: Vec<f64> =
        exposure.iter().map(|e| if *e > 0.0 { 0.5 * n / support / n.max(1.0) } else { 0.0 }).collect();
    let mut previous = f64::NEG_INFINITY;
    let mut iterations = 0;
    let mut converged = false;
    let mut mass = vec![0.0; bins];
    while iterations < max_iterations {
        iterations += 1;
        mass.iter_mut().for_each(|m| *m = 0.0);
        let mut background = 0.0;
        let mut loglik = -mu * horizon - phi.iter().zip(&exposure).map(|(p, e)| p * e).sum::<f64>();
        for i in 0..times.len() {
            let pairs = &pair_bins[starts[i]..starts[i + 1]];
            let lambda = mu + pairs.iter().map(|&b| phi[b as usize]).sum::<f64>();
            loglik += lambda.ln();
            background += mu / lambda;
            for &b in pairs {
                mass[b as usize] += phi[b as usize] / lambda;
            }
        }
        if loglik - previous < tolerance * (1.0 + loglik.abs()) {
            converged = true;
            previous = loglik;
            break;
        }
        previous = loglik;
        mu = background / horizon;
        for b in 0..bins {
            phi[b] = if exposure[b] > 0.0 { mass[b] / exposure[b] } else { 0.0 };
        }
    }
    let (mu_std_error, kernel_std_errors, branching_ratio_std_error) =
        histogram_standard_errors(mu, &phi, bin_width_s, &starts, &pair_bins);
    Ok(HistogramKernelFit {
        mu_per_s: mu,
        bin_width_s,
        branching_ratio: bin_width_s * phi.iter().sum::<f64>(),
        kernel_per_s2: phi,
        mu_std_error,
        kernel_std_errors,
        branching_ratio_std_error,
        loglik: previous,
        iterations,
        converged,
    })
}

fn histogram_standard_errors(
    mu: f64,
    phi: &[f64],
    h: f64,
    starts: &[usize],
    pair_bins: &[u32],
) -> (f64, Vec<f64>, f64) {
    let bins = phi.len();
    let mut info = DMatrix::<f64>::zeros(bins + 1, bins + 1);
    let mut x = vec![0.0; bins + 1];
    for i in 0..starts.len() - 1 {
        x.iter_mut().for_each(|v| *v = 0.0);
        x[0] = 1.0;
        let pairs = &pair_bins[starts[i]..starts[i + 1]];
        for &b in pairs {
            x[b as usize + 1] += 1.0;
        }
        let lambda = mu + pairs.iter().map(|&b| phi[b as usize]).sum::<f64>();
        let w = 1.0 / (lambda * lambda);
        for p in 0..=bins {
            if x[p] == 0.0 {
                continue;
            }
            for q in 0..=bins {
                info[(p, q)] += x[p] * x[q] * w;
            }
        }
    }
    let Some(cov) = info.try_inverse() else {
        return (f64::NAN, vec![f64::NAN; bins], f64::NAN);
    };
    let se = |p: usize| if cov[(p, p)] > 0.0 { cov[(p, p)].sqrt() } else { f64::NAN };
    let branching_var: f64 =
        (1..=bins).flat_map(|p| (1..=bins).map(move |q| (p, q))).map(|(p, q)| h * h * cov[(p, q)]).sum();
    (se(0), (1..=bins).map(se).collect(), if branching_var > 0.0 { branching_var.sqrt() } else { f64::NAN })
}
