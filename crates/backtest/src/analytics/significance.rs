//! Is the Sharpe ratio real? Stationary-bootstrap confidence intervals, the probabilistic Sharpe
//! ratio and the deflated Sharpe ratio.

use rand::RngExt;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use zkclob_models::seeded_rng;

use super::stats::{finite, mean, moments, normal_cdf, normal_quantile, quantile_sorted, sample_std};

/// Most bootstrap resamples one call may draw.
pub const MAX_BOOTSTRAP_RESAMPLES: usize = 100_000;

/// The Euler–Mascheroni constant γ, used by the expected maximum of N Sharpe ratios.
const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// How the stationary bootstrap resamples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BootstrapConfig {
    /// Number of resamples (0 disables the bootstrap; at most [`MAX_BOOTSTRAP_RESAMPLES`]).
    pub resamples: usize,
    /// Mean block length, periods; `None` = n^(1/3) (rounded, at least 1), a common rule of thumb
    /// for the mean of weakly dependent series.
    pub mean_block_len: Option<f64>,
    /// Two-sided confidence level of the intervals, in (0, 1).
    pub confidence: f64,
    /// Seed of the resampling; resample `b` uses its own generator derived from (seed, b), so the
    /// result does not depend on the number of threads.
    pub seed: u64,
}

impl Default for BootstrapConfig {
    fn default() -> Self {
        Self { resamples: 1000, mean_block_len: None, confidence: 0.95, seed: 0 }
    }
}

/// A point estimate with a percentile confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// The statistic on the original series.
    pub estimate: f64,
    /// Lower bound.
    pub lo: f64,
    /// Upper bound.
    pub hi: f64,
}

impl Interval {
    /// Whether `x` lies in [lo, hi].
    pub fn contains(&self, x: f64) -> bool {
        self.lo <= x && x <= self.hi
    }
}

/// A statistic of a (resampled) series; `None` where it is undefined.
pub type Statistic<'a> = &'a (dyn Fn(&[f64]) -> Option<f64> + Sync);

/// Percentile confidence intervals of several statistics of `data` by the stationary bootstrap of
/// Politis & Romano (1994): blocks start at uniform positions, have geometric lengths with mean
/// `mean_block_len`, and wrap around the end, which keeps the resampled series stationary and its
/// short-range dependence intact.
///
/// Entry `k` of the result is `None` when statistic `k` is undefined on `data`, or on more than half
/// of the resamples, or when `data` has fewer than two points or `resamples` is 0.
pub fn stationary_bootstrap(
    data: &[f64],
    cfg: &BootstrapConfig,
    statistics: &[Statistic<'_>],
) -> Vec<Option<Interval>> {
    let none = vec![None; statistics.len()];
    if data.len() < 2 || cfg.resamples == 0 || !(cfg.confidence > 0.0 && cfg.confidence < 1.0) {
        return none;
    }
    let block = cfg.mean_block_len.unwrap_or_else(|| (data.len() as f64).cbrt().round()).max(1.0);
    let restart_p = 1.0 / block;
    let replicates: Vec<Vec<Option<f64>>> = (0..cfg.resamples.min(MAX_BOOTSTRAP_RESAMPLES))
        .into_par_iter()
        .map_init(
            || vec![0.0; data.len()],
            |buf, b| {
                resample_into(data, restart_p, cfg.seed, b as u64, buf);
                statistics.iter().map(|s| s(buf)).collect()
            },
        )
        .collect();
    let alpha = 1.0 - cfg.confidence;
    statistics
        .iter()
        .enumerate()
        .map(|(k, stat)| {
            let estimate = stat(data)?;
            let mut values: Vec<f64> = replicates.iter().filter_map(|r| r[k]).collect();
            if values.len() * 2 < replicates.len() {
                return None;
            }
            values.sort_by(f64::total_cmp);
            let lo = quantile_sorted(&values, alpha / 2.0)?;
            let hi = quantile_sorted(&values, 1.0 - alpha / 2.0)?;
            Some(Interval { estimate, lo, hi })
        })
        .collect()
}

/// Fills `out` with one stationary-bootstrap resample of `data`.
fn resample_into(data: &[f64], restart_p: f64, seed: u64, replicate: u64, out: &mut [f64]) {
    let n = data.len();
    let mut rng = seeded_rng(seed ^ replicate.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut pos = rng.random_range(0..n);
    for (i, slot) in out.iter_mut().enumerate() {
        if i > 0 {
            pos = if rng.random::<f64>() < restart_p { rng.random_range(0..n) } else { (pos + 1) % n };
        }
        *slot = data[pos];
    }
}

/// Probabilistic Sharpe ratio (Bailey & López de Prado, 2012): the probability that the true
/// Sharpe ratio exceeds `benchmark_sr`, given an estimate `sr` from `n` returns with skewness
/// `skewness` and kurtosis `kurtosis` (3 for normal returns):
///
/// PSR = Φ( (SR − SR*)·√(n − 1) / √(1 − γ₃·SR + (γ₄ − 1)/4·SR²) ).
///
/// Both Sharpe ratios are **per period** (not annualised). `None` for n < 2 or a non-positive
/// variance term.
pub fn probabilistic_sharpe_ratio(
    sr: f64,
    benchmark_sr: f64,
    n: usize,
    skewness: f64,
    kurtosis: f64,
) -> Option<f64> {
    if n < 2 {
        return None;
    }
    let var = 1.0 - skewness * sr + (kurtosis - 1.0) / 4.0 * sr * sr;
    if var.is_nan() || var <= 0.0 {
        return None;
    }
    finite(normal_cdf((sr - benchmark_sr) * ((n - 1) as f64).sqrt() / var.sqrt()))
}

/// The expected maximum Sharpe ratio of `trials` independent trials whose Sharpe ratios have
/// variance `sharpe_variance`, under the null of no skill (Bailey & López de Prado, 2014):
///
/// E[max SR] ≈ √V · ((1 − γ)·Φ⁻¹(1 − 1/N) + γ·Φ⁻¹(1 − 1/(N·e))), γ = Euler–Mascheroni.
///
/// Units follow `sharpe_variance`. One trial (or none) has nothing to deflate: 0.
pub fn expected_max_sharpe(trials: u64, sharpe_variance: f64) -> Option<f64> {
    if sharpe_variance.is_nan() || sharpe_variance < 0.0 {
        return None;
    }
    if trials <= 1 {
        return Some(0.0);
    }
    let n = trials as f64;
    let z1 = normal_quantile(1.0 - 1.0 / n)?;
    let z2 = normal_quantile(1.0 - 1.0 / (n * std::f64::consts::E))?;
    finite(sharpe_variance.sqrt() * ((1.0 - EULER_GAMMA) * z1 + EULER_GAMMA * z2))
}

/// What a search over strategies tried: needed to deflate the Sharpe ratio of the one picked.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrialStats {
    /// Number of (effectively independent) trials.
    pub count: u64,
    /// Variance of the trials' **annualised** Sharpe ratios.
    pub sharpe_variance: f64,
}

impl TrialStats {
    /// From the annualised Sharpe ratios of all trials (non-finite ones are ignored); `None` with
    /// fewer than two finite values.
    pub fn from_sharpes(sharpes: &[f64]) -> Option<Self> {
        let finite_sr: Vec<f64> = sharpes.iter().copied().filter(|s| s.is_finite()).collect();
        let sd = sample_std(&finite_sr)?;
        Some(Self { count: finite_sr.len() as u64, sharpe_variance: sd * sd })
    }
}

/// Statistical significance of the run's performance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Significance {
    /// Bootstrap settings used (block length resolved).
    pub bootstrap: Option<BootstrapSummary>,
    /// Probabilistic Sharpe ratio against `psr_benchmark_sharpe`; `None` with fewer than two
    /// returns, zero variance, or a non-positive variance term.
    pub psr: Option<f64>,
    /// Annualised benchmark Sharpe ratio of the PSR.
    pub psr_benchmark_sharpe: f64,
    /// Deflated Sharpe ratio: the PSR against the expected maximum Sharpe ratio of `trials`;
    /// `None` without trial statistics or where the PSR is `None`.
    pub dsr: Option<f64>,
    /// The annualised expected maximum Sharpe ratio the DSR tests against.
    pub dsr_benchmark_sharpe: Option<f64>,
    /// The trials the DSR deflates for.
    pub trials: Option<TrialStats>,
}

/// Bootstrap intervals of the mean return and of the Sharpe ratio.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BootstrapSummary {
    /// Resamples drawn.
    pub resamples: usize,
    /// Mean block length used, periods.
    pub mean_block_len: f64,
    /// Confidence level.
    pub confidence: f64,
    /// Seed.
    pub seed: u64,
    /// Mean return per period, tick·lots.
    pub mean_return: Option<Interval>,
    /// Annualised Sharpe ratio.
    pub sharpe: Option<Interval>,
}

/// Computes bootstrap intervals, PSR and DSR for a returns series.
pub fn significance(
    r: &[f64],
    periods_per_year: f64,
    cfg: &BootstrapConfig,
    psr_benchmark_sharpe: f64,
    trials: Option<TrialStats>,
) -> Significance {
    let bootstrap = (r.len() >= 2 && cfg.resamples > 0).then(|| {
        let annualised_sharpe = |x: &[f64]| -> Option<f64> {
            let s = sample_std(x)?;
            (s > 0.0).then(|| mean(x).map(|m| m / s * periods_per_year.sqrt())).flatten()
        };
        let stats: [Statistic<'_>; 2] = [&mean, &annualised_sharpe];
        let ci = stationary_bootstrap(r, cfg, &stats);
        BootstrapSummary {
            resamples: cfg.resamples.min(MAX_BOOTSTRAP_RESAMPLES),
            mean_block_len: cfg.mean_block_len.unwrap_or_else(|| (r.len() as f64).cbrt().round()).max(1.0),
            confidence: cfg.confidence,
            seed: cfg.seed,
            mean_return: ci[0],
            sharpe: ci[1],
        }
    });
    let sqrt_ppy = periods_per_year.sqrt();
    let m = moments(r).filter(|m| m.std > 0.0);
    let psr_vs = |benchmark_annual: f64| {
        let m = m?;
        probabilistic_sharpe_ratio(m.mean / m.std, benchmark_annual / sqrt_ppy, m.n, m.skewness?, m.kurtosis?)
    };
    let dsr_benchmark_sharpe = trials.and_then(|t| expected_max_sharpe(t.count, t.sharpe_variance));
    Significance {
        bootstrap,
        psr: psr_vs(psr_benchmark_sharpe),
        psr_benchmark_sharpe,
        dsr: dsr_benchmark_sharpe.and_then(psr_vs),
        dsr_benchmark_sharpe,
        trials,
    }
}
