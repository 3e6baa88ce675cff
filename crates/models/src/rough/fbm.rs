//! Fractional Gaussian noise (fGn), the increments of fractional Brownian motion (fBm).
//!
//! Unit-variance fGn with Hurst exponent H has autocovariance
//! γ(k) = ½(|k+1|^(2H) − 2|k|^(2H) + |k−1|^(2H)). fBm on a grid of step Δ is Δ^H times its cumulative
//! sum. H < ½ gives anti-persistent ("rough") increments, H > ½ persistent ones, H = ½ white noise.

use nalgebra::DMatrix;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use rustfft::num_complex::Complex;
use rustfft::FftPlanner;

use crate::error::{hurst as check_hurst, positive, ModelError, Result};

/// Largest fGn length [`fgn_davies_harte`] accepts (2²⁶ points; the FFT then needs about 2 GiB).
pub const MAX_FGN_POINTS: usize = 1 << 26;

/// Largest fGn length [`fgn_cholesky`] accepts: its cost is O(n³) time and O(n²) memory.
pub const MAX_CHOLESKY_POINTS: usize = 4096;

/// Autocovariance at `lag` of unit-variance fGn with Hurst exponent `hurst` (dimensionless).
pub fn fgn_autocovariance(hurst: f64, lag: usize) -> f64 {
    let k = lag as f64;
    let h2 = 2.0 * hurst;
    0.5 * ((k + 1.0).powf(h2) - 2.0 * k.powf(h2) + (k - 1.0).abs().powf(h2))
}

fn check_len(n: usize, limit: usize, what: &'static str) -> Result<()> {
    if n == 0 {
        return Err(ModelError::TooFewData { what, needed: 1, got: 0 });
    }
    if n > limit {
        return Err(ModelError::LimitExceeded { what, limit, got: n });
    }
    Ok(())
}

/// `n` points of unit-variance fGn by the Davies–Harte method (exact, O(n log n)).
///
/// The covariance is embedded in a circulant matrix of size 2m (m the next power of two ≥ n),
/// whose eigenvalues are the FFT of its first row; with z complex standard normal,
/// FFT(√(λ/2m)·z) has real and imaginary parts that are each exact draws (Dietrich–Newsam). We
/// return the real part. The eigenvalues are non-negative for fGn with any H in (0, 1).
///
/// Errors: H outside (0, 1); n = 0 or above [`MAX_FGN_POINTS`].
pub fn fgn_davies_harte<R: Rng + ?Sized>(hurst: f64, n: usize, rng: &mut R) -> Result<Vec<f64>> {
    check_hurst(hurst)?;
    check_len(n, MAX_FGN_POINTS, "Davies-Harte fGn length")?;
    let m = n.max(2).next_power_of_two();
    let size = 2 * m;
    let mut row: Vec<Complex<f64>> = (0..size)
        .map(|k| {
            let lag = if k <= m { k } else { size - k };
            Complex::new(fgn_autocovariance(hurst, lag), 0.0)
        })
        .collect();
    let mut planner = FftPlanner::<f64>::new();
    let fft = planner.plan_fft_forward(size);
    fft.process(&mut row);
    let largest = row.iter().map(|c| c.re).fold(0.0, f64::max);
    let mut spectrum = Vec::with_capacity(size);
    for (k, c) in row.iter().enumerate() {
        if c.re < -1e-9 * largest {
            return Err(ModelError::Numerical(format!(
                "circulant embedding eigenvalue {k} is negative ({}) for H = {hurst}",
                c.re
            )));
        }
        let scale = (c.re.max(0.0) / size as f64).sqrt();
        let re: f64 = StandardNormal.sample(rng);
        let im: f64 = StandardNormal.sample(rng);
        spectrum.push(Complex::new(scale * re, scale * im));
    }
    fft.process(&mut spectrum);
    Ok(spectrum.iter().take(n).map(|c| c.re).collect())
}

/// `n` points of unit-variance fGn by Cholesky factorisation of the Toeplitz covariance (exact,
/// O(n³)); a slow reference for small n.
///
/// Errors: H outside (0, 1); n = 0 or above [`MAX_CHOLESKY_POINTS`].
pub fn fgn_cholesky<R: Rng + ?Sized>(hurst: f64, n: usize, rng: &mut R) -> Result<Vec<f64>> {
    check_hurst(hurst)?;
    check_len(n, MAX_CHOLESKY_POINTS, "Cholesky fGn length")?;
    let autocov: Vec<f64> = (0..n).map(|k| fgn_autocovariance(hurst, k)).collect();
    let cov = DMatrix::from_fn(n, n, |i, j| autocov[i.abs_diff(j)]);
    let lower = cov
        .cholesky()
        .ok_or_else(|| {
            ModelError::Numerical(format!("fGn covariance (H = {hurst}, n = {n}) is not positive definite"))
        })?
        .unpack();
    let z = nalgebra::DVector::from_fn(n, |_, _| StandardNormal.sample(rng));
    Ok((lower * z).iter().copied().collect())
}

/// The fBm path 0, B(Δ), B(2Δ), … from unit-variance fGn `increments` on a grid of step
/// `step_s` seconds: B(kΔ) = Δ^H·Σ_{j<k} increments\[j\]. Returns `increments.len() + 1` points.
pub fn fbm_from_fgn(increments: &[f64], hurst: f64, step_s: f64) -> Result<Vec<f64>> {
    check_hurst(hurst)?;
    positive("step_s", step_s)?;
    let scale = step_s.powf(hurst);
    let mut path = Vec::with_capacity(increments.len() + 1);
    let mut level = 0.0;
    path.push(level);
    for x in increments {
        level += scale * x;
        path.push(level);
    }
    Ok(path)
}
