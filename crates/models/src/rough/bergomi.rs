//! The rough Bergomi model (Bayer–Friz–Gatheral 2016), simulated by the hybrid scheme of
//! Bennedsen–Lunde–Pakkanen (2017) with κ = 1, following McCrickerd–Pakkanen's reference code.
//!
//! Variance: Vₜ = ξ₀·exp(η·Yₜ − ½η²t^(2H)), with the Volterra process Yₜ = √(2H)∫₀ᵗ(t−s)^(H−½)dWₛ
//! (so Var Yₜ = t^(2H) and E Vₜ = ξ₀). Price: d ln Sₜ = −½Vₜdt + √Vₜ dBₜ, B = ρW + √(1−ρ²)W⊥.
//! The hybrid scheme integrates the kernel exactly on the most recent step (a pair of correlated
//! Gaussians per step) and by a Riemann sum at optimally chosen points b_k on older steps, computed
//! as one FFT convolution: O(n log n) per path.

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use rustfft::num_complex::Complex;
use rustfft::FftPlanner;

use crate::error::{hurst as check_hurst, in_range, non_negative, positive, ModelError, Result};

/// Largest number of time steps per path.
pub const MAX_BERGOMI_STEPS: usize = 1 << 22;

/// Rough Bergomi parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoughBergomi {
    hurst: f64,
    eta: f64,
    rho: f64,
    xi0_per_s: f64,
}

/// One simulated path on the grid tₖ = k·Δ, k = 0…n.
#[derive(Debug, Clone, PartialEq)]
pub struct BergomiPath {
    /// Grid times in seconds (n + 1 points).
    pub times_s: Vec<f64>,
    /// The Volterra process Yₜ (dimensionless).
    pub volterra: Vec<f64>,
    /// Instantaneous variance Vₜ, per second.
    pub variance_per_s: Vec<f64>,
    /// ln(Sₜ/S₀).
    pub log_price: Vec<f64>,
}

impl RoughBergomi {
    /// `hurst` H ∈ (0, 1) (rough volatility: H ≈ 0.1), `eta` the volatility of volatility (≥ 0,
    /// per second^H), `rho` the spot-vol correlation in [−1, 1], `xi0_per_s` the flat forward
    /// variance (> 0, per second).
    pub fn new(hurst: f64, eta: f64, rho: f64, xi0_per_s: f64) -> Result<Self> {
        check_hurst(hurst)?;
        non_negative("eta", eta)?;
        in_range("rho", rho, -1.0, 1.0, "in [-1, 1]")?;
        positive("xi0_per_s", xi0_per_s)?;
        Ok(Self { hurst, eta, rho, xi0_per_s })
    }

    /// Simulates one path over `horizon_s` seconds in `steps` steps.
    ///
    /// Errors: a bad horizon, or `steps` = 0 or above [`MAX_BERGOMI_STEPS`].
    pub fn simulate<R: Rng + ?Sized>(
        &self,
        horizon_s: f64,
        steps: usize,
        rng: &mut R,
    ) -> Result<BergomiPath> {
        positive("horizon_s", horizon_s)?;
        if steps == 0 || steps > MAX_BERGOMI_STEPS {
            return Err(ModelError::LimitExceeded {
                what: "rough Bergomi steps (1 to limit)",
                limit: MAX_BERGOMI_STEPS,
                got: steps,
            });
        }
        let dt = horizon_s / steps as f64;
        let a = self.hurst - 0.5;
        // Joint law of (ΔWᵢ, ∫ over step i of (t_{i+1} − s)^a dWₛ): covariance below.
        let c00 = dt;
        let c01 = dt.powf(a + 1.0) / (a + 1.0);
        let c11 = dt.powf(2.0 * a + 1.0) / (2.0 * a + 1.0);
        let l10 = c01 / c00.sqrt();
        let l11 = (c11 - l10 * l10).max(0.0).sqrt();
        let mut dw = Vec::with_capacity(steps);
        let mut exact = Vec::with_capacity(steps);
        let mut dw_perp = Vec::with_capacity(steps);
        for _ in 0..steps {
            let z0: f64 = StandardNormal.sample(rng);
            let z1: f64 = StandardNormal.sample(rng);
            let z2: f64 = StandardNormal.sample(rng);
            dw.push(c00.sqrt() * z0);
            exact.push(l10 * z0 + l11 * z1);
            dw_perp.push(dt.sqrt() * z2);
        }
        // Riemann part: Y2ᵢ = Σ_{k=2}^{i} g(b_k·Δ)·ΔW_{i−k}, g(x) = x^a, b_k the optimal points.
        let weights: Vec<f64> =
            (0..=steps).map(|k| if k < 2 { 0.0 } else { (optimal_point(k, a) * dt).powf(a) }).collect();
        let riemann = convolve(&weights, &dw);
        let scale = (2.0 * self.hurst).sqrt();
        let mut path = BergomiPath {
            times_s: (0..=steps).map(|i| i as f64 * dt).collect(),
            volterra: vec![0.0; steps + 1],
            variance_per_s: vec![self.xi0_per_s; steps + 1],
            log_price: vec![0.0; steps + 1],
        };
        let rho_perp = (1.0 - self.rho * self.rho).max(0.0).sqrt();
        for i in 1..=steps {
            let y = scale * (exact[i - 1] + riemann[i]);
            let t = path.times_s[i];
            path.volterra[i] = y;
            path.variance_per_s[i] =
                self.xi0_per_s * (self.eta * y - 0.5 * self.eta * self.eta * t.powf(2.0 * self.hurst)).exp();
            // Log-Euler step over [t_{i−1}, t_i] with the variance known at its start.
            let v = path.variance_per_s[i - 1];
            let db = self.rho * dw[i - 1] + rho_perp * dw_perp[i - 1];
            path.log_price[i] = path.log_price[i - 1] + v.sqrt() * db - 0.5 * v * dt;
        }
        Ok(path)
    }
}

/// b_k = ((k^(a+1) − (k−1)^(a+1))/(a+1))^(1/a), the point minimising the hybrid scheme's error;
/// at a = 0 the kernel is constant and any point will do.
fn optimal_point(k: usize, a: f64) -> f64 {
    if a.abs() < 1e-12 {
        return k as f64;
    }
    let kf = k as f64;
    ((kf.powf(a + 1.0) - (kf - 1.0).powf(a + 1.0)) / (a + 1.0)).powf(1.0 / a)
}

/// Full linear convolution (first `x.len() + 1` terms) of `g` and `x` by FFT.
fn convolve(g: &[f64], x: &[f64]) -> Vec<f64> {
    let size = (g.len() + x.len()).next_power_of_two();
    let mut planner = FftPlanner::<f64>::new();
    let forward = planner.plan_fft_forward(size);
    let inverse = planner.plan_fft_inverse(size);
    let mut gf: Vec<Complex<f64>> =
        (0..size).map(|i| Complex::new(g.get(i).copied().unwrap_or(0.0), 0.0)).collect();
    let mut xf: Vec<Complex<f64>> =
        (0..size).map(|i| Complex::new(x.get(i).copied().unwrap_or(0.0), 0.0)).collect();
    forward.process(&mut gf);
    forward.process(&mut xf);
    for (a, b) in gf.iter_mut().zip(&xf) {
        *a *= b;
    }
    inverse.process(&mut gf);
    gf.iter().take(x.len() + 1).map(|c| c.re / size as f64).collect()
}
