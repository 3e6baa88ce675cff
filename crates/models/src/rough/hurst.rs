//! Estimators of the Hurst exponent H of a path (log-volatility, fBm, a price…).
//!
//! All three take the *path* X₀, X₁, …; the R/S and DFA estimators work on its increments.
//! - **Variogram** (Gatheral–Jaisson–Rosenbaum): m(ℓ) = mean (X_{t+ℓ} − X_t)² ∝ ℓ^(2H); H is half the
//!   slope of ln m on ln ℓ over lags 1…L.
//! - **R/S** (Hurst–Mandelbrot) with the Anis–Lloyd–Peters small-sample correction: the mean rescaled
//!   range of increment blocks of size s grows like s^H; we regress ln(R/S) − ln E_ALP[R/S] on ln s
//!   and add ½, which removes the bias that white noise itself shows at small s.
//! - **DFA-1** (Peng et al.): the RMS residual F(s) of linear fits to the integrated increments in
//!   windows of size s grows like s^H.
//!
//! See `docs/models.md` for the measured bias and spread of each estimator and the tolerances the
//! tests use.

use crate::error::{all_finite, ModelError, Result};
use crate::special::{linear_fit, ln_gamma};

/// Minimum path length the estimators accept.
pub const MIN_HURST_POINTS: usize = 128;

/// Which estimator to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HurstMethod {
    /// Second-moment variogram of the path.
    Variogram,
    /// Rescaled range with the Anis–Lloyd–Peters correction.
    RescaledRange,
    /// Detrended fluctuation analysis (linear detrending).
    Dfa,
}

/// A Hurst estimate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HurstEstimate {
    /// The estimate of H (dimensionless; not clamped to (0, 1)).
    pub hurst: f64,
    /// Standard error of the regression slope behind it. Points at neighbouring scales are
    /// correlated, so this understates the estimator's true spread; it is a goodness-of-line measure.
    pub regression_std_error: f64,
    /// Number of scales (lags or window sizes) in the regression.
    pub scales: usize,
}

/// Estimates H of `path` with `method`.
///
/// Errors: fewer than [`MIN_HURST_POINTS`] points, a non-finite value, or a constant path.
pub fn hurst_exponent(path: &[f64], method: HurstMethod) -> Result<HurstEstimate> {
    match method {
        HurstMethod::Variogram => hurst_variogram(path),
        HurstMethod::RescaledRange => hurst_rescaled_range(path),
        HurstMethod::Dfa => hurst_dfa(path),
    }
}

fn check_path(path: &[f64], what: &'static str) -> Result<()> {
    if path.len() < MIN_HURST_POINTS {
        return Err(ModelError::TooFewData { what, needed: MIN_HURST_POINTS, got: path.len() });
    }
    all_finite(what, path)?;
    let first = path[0];
    if path.iter().all(|&x| x == first) {
        return Err(ModelError::Numerical(format!("{what}: the path is constant, H is undefined")));
    }
    Ok(())
}

fn finish(log_scale: &[f64], log_stat: &[f64], slope_factor: f64, offset: f64) -> Result<HurstEstimate> {
    if log_scale.len() < 3 || log_stat.iter().any(|v| !v.is_finite()) {
        return Err(ModelError::Numerical("Hurst regression has too few usable scales".into()));
    }
    let (slope, _, se) = linear_fit(log_scale, log_stat);
    Ok(HurstEstimate {
        hurst: offset + slope * slope_factor,
        regression_std_error: se * slope_factor,
        scales: log_scale.len(),
    })
}

/// Log-spaced integer scales from `lo` to `hi` inclusive, ratio about 2^(1/4), without repeats.
fn log_scales(lo: usize, hi: usize) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::new();
    let mut s = lo as f64;
    while s <= hi as f64 + 1e-9 {
        let k = s.round() as usize;
        if out.last() != Some(&k) {
            out.push(k);
        }
        s *= 2f64.powf(0.25);
    }
    out
}

/// Variogram estimator over lags 1…min(32, n/8).
pub fn hurst_variogram(path: &[f64]) -> Result<HurstEstimate> {
    check_path(path, "variogram Hurst estimator")?;
    let max_lag = (path.len() / 8).min(32);
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for lag in 1..=max_lag {
        let m2: f64 =
            path.windows(lag + 1).map(|w| (w[lag] - w[0]).powi(2)).sum::<f64>() / (path.len() - lag) as f64;
        xs.push((lag as f64).ln());
        ys.push(m2.ln());
    }
    finish(&xs, &ys, 0.5, 0.0)
}

/// Anis–Lloyd–Peters expected R/S of `s` i.i.d. normal values.
fn expected_rs(s: usize) -> f64 {
    let n = s as f64;
    let ratio = if s <= 340 {
        (ln_gamma((n - 1.0) / 2.0) - ln_gamma(n / 2.0)).exp() / std::f64::consts::PI.sqrt()
    } else {
        1.0 / (n * std::f64::consts::PI / 2.0).sqrt()
    };
    let sum: f64 = (1..s).map(|i| ((n - i as f64) / i as f64).sqrt()).sum();
    (n - 0.5) / n * ratio * sum
}

/// Rescaled-range estimator with the Anis–Lloyd–Peters correction, block sizes 16…n/4.
pub fn hurst_rescaled_range(path: &[f64]) -> Result<HurstEstimate> {
    check_path(path, "R/S Hurst estimator")?;
    let increments: Vec<f64> = path.windows(2).map(|w| w[1] - w[0]).collect();
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for s in log_scales(16, increments.len() / 4) {
        let mut total = 0.0;
        let mut blocks = 0usize;
        for block in increments.chunks_exact(s) {
            let mean = block.iter().sum::<f64>() / s as f64;
            let (mut cum, mut lo, mut hi, mut ss) = (0.0f64, 0.0f64, 0.0f64, 0.0);
            for x in block {
                cum += x - mean;
                lo = lo.min(cum);
                hi = hi.max(cum);
                ss += (x - mean) * (x - mean);
            }
            let sd = (ss / s as f64).sqrt();
            if sd > 0.0 {
                total += (hi - lo) / sd;
                blocks += 1;
            }
        }
        if blocks > 0 {
            xs.push((s as f64).ln());
            ys.push((total / blocks as f64).ln() - expected_rs(s).ln());
        }
    }
    finish(&xs, &ys, 1.0, 0.5)
}

/// DFA-1 estimator: window sizes 16…n/4, non-overlapping windows, linear detrending.
pub fn hurst_dfa(path: &[f64]) -> Result<HurstEstimate> {
    check_path(path, "DFA Hurst estimator")?;
    let increments: Vec<f64> = path.windows(2).map(|w| w[1] - w[0]).collect();
    let mean = increments.iter().sum::<f64>() / increments.len() as f64;
    let mut profile = Vec::with_capacity(increments.len());
    let mut level = 0.0;
    for x in &increments {
        level += x - mean;
        profile.push(level);
    }
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for s in log_scales(16, increments.len() / 4) {
        // For x = 0…s−1 the regressor's mean and centred sum of squares are closed-form.
        let sf = s as f64;
        let x_mean = (sf - 1.0) / 2.0;
        let sxx = sf * (sf * sf - 1.0) / 12.0;
        let (mut total, mut windows) = (0.0, 0usize);
        for w in profile.chunks_exact(s) {
            let y_mean = w.iter().sum::<f64>() / sf;
            let sxy: f64 = w.iter().enumerate().map(|(i, y)| (i as f64 - x_mean) * (y - y_mean)).sum();
            let syy: f64 = w.iter().map(|y| (y - y_mean) * (y - y_mean)).sum();
            total += (syy - sxy * sxy / sxx) / sf;
            windows += 1;
        }
        let f2 = total / windows as f64;
        if f2 > 0.0 {
            xs.push(sf.ln());
            ys.push(0.5 * f2.ln());
        }
    }
    finish(&xs, &ys, 1.0, 0.0)
}
