//! Online calibration of the market parameters a quoting model needs: σ (realised and EWMA), the
//! fill-intensity curve λ(δ) = A·e^(−kδ) per side from the depths market trades reach, and a
//! Hawkes-based adjustment of A when order flow clusters. The output is [`LiveParams`].
//!
//! # Units (`../shared/spec/quoting.md`, "Calibrating A and k")
//! - depths δ in **ticks** from the mid (the mid may be a half tick, so depths are multiples of ½);
//! - A in **events per second**, k **per tick**, σ in **ticks per √s**;
//! - [`CalibrationConfig::model_time_unit_s`] rescales σ (× √u) and A (× u) for a model whose
//!   time unit is u seconds. [`LiveParams`] is documented in seconds, so leave it at 1 unless the
//!   model is configured in another unit.
//!
//! The spec warns of a known bug elsewhere that fits on half-tick units and reports the slope as
//! per tick (a factor-of-two error in k). Here the grid is stored in ticks and the slope is per
//! tick; `tests/calibration.rs` recovers a known (A, k) from simulated trades on both a half-tick
//! and a whole-tick mid lattice.
//!
//! # A and k: the method
//! Time is cut into sampling steps of [`CalibrationConfig::step_s`] seconds on an absolute grid
//! (step n covers [n·step, (n+1)·step)). In each step we record, per side, the deepest depth from
//! the step's reference mid that a market trade reached: buy aggressors lift asks (ask side, depth
//! = price − mid), sell aggressors hit bids (bid side, depth = mid − price). The reference mid is
//! the latest mid known before the step's first trade. Over a rolling window of
//! [`CalibrationConfig::window_steps`] steps, for each grid depth δⱼ,
//! λ(δⱼ) = (steps whose trades reached ≥ δⱼ) / (window length in seconds), and
//! ln λ = ln A − kδ is fitted by least squares, skipping grid points whose count is below
//! [`CalibrationConfig::min_count_per_point`] (at least 1: zero counts have no logarithm).
//!
//! **Bias of the spec's estimator.** A step counts once however many trades reached δ, so the
//! count estimates P(at least one) = 1 − e^(−λΔ), not λΔ: it is accurate when λ(δ)·step ≪ 1. With
//! [`CalibrationConfig::saturation_correction`] the count is inverted under the Poisson assumption,
//! λ = −ln(1 − count/steps)/step, which removes the bias at coarse steps (off by default, to match
//! the spec).
//!
//! # Hawkes intensity adjustment (documented, bounded rule)
//! Market orders (consecutive prints with the same time and aggressor count once: a sweep is one
//! order) feed an exponential-kernel [`OnlineIntensity`]. The ratio r = λ(t) / λ̄, with λ̄ the
//! process's stationary mean rate μ/(1 − α/β), says whether flow is clustering. The calibrated A is
//! multiplied by `clamp(r, 1, max_a_boost)`: more expected fills at every depth, so models whose
//! quotes depend on A (GLFT: c₂ ∝ A^(−½)) quote tighter and skew less. The boost never lowers A and
//! never exceeds `max_a_boost`. The kernel is configured, or fitted by maximum likelihood from the
//! recent events with [`Calibrator::refit_hawkes`] (it allocates: call it off the quoting path).
//!
//! # Cost
//! [`Calibrator::update`] allocates nothing: every buffer is sized at construction. Work per update
//! is O(trades + steps crossed) plus O(grid points) per closed step (the fit is refreshed once per
//! update that closed a step, with logarithms of counts read from a table).

use std::collections::VecDeque;

use serde::Deserialize;
use zkclob_core::Side;
use zkclob_models::hawkes::{fit_exp_hawkes, EventTimes, ExpHawkes, FitOptions, OnlineIntensity};

use crate::quoter::{LiveParams, MarketTrade, StrategyError};

/// Most depth-grid points per side.
pub const MAX_GRID_POINTS: usize = 64;
/// Most sampling steps in the A/k window.
pub const MAX_WINDOW_STEPS: usize = 1 << 20;
/// Most mid changes in the realised-volatility window.
pub const MAX_SIGMA_WINDOW: usize = 1 << 20;
/// Most market-order times kept for a Hawkes refit.
pub const MAX_HAWKES_HISTORY: usize = 1 << 20;

/// Which σ estimate goes into [`LiveParams`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SigmaEstimator {
    /// Realised: √(Σ Δm² / Σ Δt) over the last `sigma_window` mid changes.
    Realised,
    /// Exponentially weighted variance rate with half-life `sigma_half_life_s`.
    #[default]
    Ewma,
}

/// Bounds applied to every calibrated value before it reaches a model.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ParamBounds {
    /// Smallest σ, ticks/√s (models reject σ = 0 from a market whose mid never moved).
    pub sigma_min: f64,
    /// Largest σ, ticks/√s.
    pub sigma_max: f64,
    /// Smallest A, per second.
    pub a_min_per_s: f64,
    /// Largest A, per second.
    pub a_max_per_s: f64,
    /// Smallest k, per tick.
    pub k_min_per_tick: f64,
    /// Largest k, per tick.
    pub k_max_per_tick: f64,
}

impl Default for ParamBounds {
    fn default() -> Self {
        Self {
            sigma_min: 1e-4,
            sigma_max: 1e4,
            a_min_per_s: 1e-4,
            a_max_per_s: 1e6,
            k_min_per_tick: 1e-3,
            k_max_per_tick: 100.0,
        }
    }
}

/// Values used where no estimate exists yet. With a prior, [`Calibrator::live_params`] always
/// answers; without one it answers only once every estimate is ready.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriorParams {
    /// σ, ticks/√s.
    pub sigma: f64,
    /// A, per second.
    pub a_per_s: f64,
    /// k, per tick.
    pub k_per_tick: f64,
}

/// Hawkes flow-intensity tracking (see the module docs for the rule).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HawkesConfig {
    /// Track the intensity and boost A.
    pub enabled: bool,
    /// Baseline μ, market orders per second.
    pub mu_per_s: f64,
    /// Jump α per market order, per second.
    pub alpha_per_s: f64,
    /// Decay β, per second (α/β < 1).
    pub beta_per_s: f64,
    /// Cap on the multiplier of A (≥ 1).
    pub max_a_boost: f64,
    /// Market-order times kept for [`Calibrator::refit_hawkes`].
    pub history_events: usize,
}

impl Default for HawkesConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            mu_per_s: 1.0,
            alpha_per_s: 0.5,
            beta_per_s: 1.0,
            max_a_boost: 2.0,
            history_events: 10_000,
        }
    }
}

/// Configuration of the [`Calibrator`]. Every field has a default; TOML tables are strict.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CalibrationConfig {
    /// Sampling step for the arrival depths, seconds.
    pub step_s: f64,
    /// Rolling window for A and k, steps.
    pub window_steps: usize,
    /// Steps observed before a fit is attempted.
    pub min_fit_steps: usize,
    /// First grid depth, ticks.
    pub grid_start_ticks: f64,
    /// Grid spacing, ticks.
    pub grid_step_ticks: f64,
    /// Number of grid depths (≤ [`MAX_GRID_POINTS`]).
    pub grid_points: usize,
    /// Grid points with fewer steps than this are left out of the fit (≥ 1).
    pub min_count_per_point: u32,
    /// Grid points needed for a fit (≥ 2).
    pub min_fit_points: usize,
    /// Invert the per-step saturation (module docs); off = the spec's count / window.
    pub saturation_correction: bool,
    /// Which σ feeds the model.
    pub sigma_estimator: SigmaEstimator,
    /// Mid changes in the realised window.
    pub sigma_window: usize,
    /// EWMA half-life, seconds.
    pub sigma_half_life_s: f64,
    /// Minimum time between two σ samples of the mid, seconds (0 = every update).
    pub sigma_sample_interval_s: f64,
    /// σ samples before σ counts as estimated.
    pub sigma_min_samples: usize,
    /// The model's time unit, seconds (σ × √u, A × u).
    pub model_time_unit_s: f64,
    /// Clamps on the output.
    pub bounds: ParamBounds,
    /// Fallback values until estimates exist.
    pub prior: Option<PriorParams>,
    /// Hawkes adjustment.
    pub hawkes: HawkesConfig,
}

impl Default for CalibrationConfig {
    fn default() -> Self {
        Self {
            step_s: 0.1,
            window_steps: 6_000,
            min_fit_steps: 600,
            grid_start_ticks: 0.5,
            grid_step_ticks: 0.5,
            grid_points: 10,
            min_count_per_point: 3,
            min_fit_points: 3,
            saturation_correction: false,
            sigma_estimator: SigmaEstimator::Ewma,
            sigma_window: 600,
            sigma_half_life_s: 60.0,
            sigma_sample_interval_s: 1.0,
            sigma_min_samples: 30,
            model_time_unit_s: 1.0,
            bounds: ParamBounds::default(),
            prior: None,
            hawkes: HawkesConfig::default(),
        }
    }
}

pub(crate) fn check(
    name: &'static str,
    value: f64,
    ok: bool,
    requirement: &'static str,
) -> Result<(), StrategyError> {
    if ok && value.is_finite() {
        Ok(())
    } else {
        Err(StrategyError::InvalidParameter { name, value, requirement })
    }
}

fn check_count(
    name: &'static str,
    value: usize,
    lo: usize,
    hi: usize,
    requirement: &'static str,
) -> Result<(), StrategyError> {
    check(name, value as f64, (lo..=hi).contains(&value), requirement)
}

impl CalibrationConfig {
    /// Checks every field; errors name the field.
    pub fn validate(&self) -> Result<(), StrategyError> {
        check("step_s", self.step_s, self.step_s > 0.0, "finite and > 0")?;
        check_count("window_steps", self.window_steps, 2, MAX_WINDOW_STEPS, "in 2..=MAX_WINDOW_STEPS")?;
        check_count("min_fit_steps", self.min_fit_steps, 1, self.window_steps, "in 1..=window_steps")?;
        check("grid_start_ticks", self.grid_start_ticks, self.grid_start_ticks >= 0.0, "finite and >= 0")?;
        check("grid_step_ticks", self.grid_step_ticks, self.grid_step_ticks > 0.0, "finite and > 0")?;
        check_count("grid_points", self.grid_points, 2, MAX_GRID_POINTS, "in 2..=MAX_GRID_POINTS")?;
        let min_count = self.min_count_per_point;
        check("min_count_per_point", min_count as f64, min_count >= 1, "at least 1")?;
        check_count("min_fit_points", self.min_fit_points, 2, self.grid_points, "in 2..=grid_points")?;
        check_count("sigma_window", self.sigma_window, 2, MAX_SIGMA_WINDOW, "in 2..=MAX_SIGMA_WINDOW")?;
        check("sigma_half_life_s", self.sigma_half_life_s, self.sigma_half_life_s > 0.0, "finite and > 0")?;
        let interval = self.sigma_sample_interval_s;
        check("sigma_sample_interval_s", interval, interval >= 0.0, "finite and >= 0")?;
        // The realised window holds at most `sigma_window` samples: a larger minimum is never met.
        let max_samples = match self.sigma_estimator {
            SigmaEstimator::Realised => self.sigma_window,
            SigmaEstimator::Ewma => usize::MAX,
        };
        let requirement = "at least 1 (and at most sigma_window for the realised estimator)";
        check_count("sigma_min_samples", self.sigma_min_samples, 1, max_samples, requirement)?;
        let unit = self.model_time_unit_s;
        check("model_time_unit_s", unit, unit > 0.0, "finite and > 0")?;
        self.validate_bounds()?;
        if let Some(p) = &self.prior {
            check("prior.sigma", p.sigma, p.sigma > 0.0, "finite and > 0")?;
            check("prior.a_per_s", p.a_per_s, p.a_per_s > 0.0, "finite and > 0")?;
            check("prior.k_per_tick", p.k_per_tick, p.k_per_tick > 0.0, "finite and > 0")?;
        }
        self.validate_hawkes()
    }

    fn validate_bounds(&self) -> Result<(), StrategyError> {
        let b = &self.bounds;
        check("bounds.sigma_min", b.sigma_min, b.sigma_min > 0.0, "finite and > 0")?;
        check("bounds.sigma_max", b.sigma_max, b.sigma_max >= b.sigma_min, "finite and >= sigma_min")?;
        check("bounds.a_min_per_s", b.a_min_per_s, b.a_min_per_s > 0.0, "finite and > 0")?;
        check("bounds.a_max_per_s", b.a_max_per_s, b.a_max_per_s >= b.a_min_per_s, "finite and >= a_min")?;
        check("bounds.k_min_per_tick", b.k_min_per_tick, b.k_min_per_tick > 0.0, "finite and > 0")?;
        let k_max = b.k_max_per_tick;
        check("bounds.k_max_per_tick", k_max, k_max >= b.k_min_per_tick, "finite and >= k_min")
    }

    fn validate_hawkes(&self) -> Result<(), StrategyError> {
        let h = &self.hawkes;
        check("hawkes.max_a_boost", h.max_a_boost, h.max_a_boost >= 1.0, "finite and >= 1")?;
        check_count("hawkes.history_events", h.history_events, 10, MAX_HAWKES_HISTORY, "in 10..=MAX")?;
        ExpHawkes::new(h.mu_per_s, h.alpha_per_s, h.beta_per_s)?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// σ estimators
// ---------------------------------------------------------------------------------------------

/// Realised volatility over a rolling window of mid changes sampled at irregular times:
/// σ² = Σ Δm² / Σ Δt (ticks²/s), the maximum-likelihood variance rate of a Brownian mid observed
/// at arbitrary times. O(1) per sample; running sums are rebuilt every `window` samples so that
/// rounding cannot accumulate.
#[derive(Debug, Clone)]
pub struct RealisedVolatility {
    samples: VecDeque<(f64, f64)>,
    window: usize,
    sum_sq_ticks2: f64,
    sum_dt_s: f64,
    since_rebuild: usize,
}

impl RealisedVolatility {
    /// A window of `window` mid changes (≥ 1); the buffer is allocated here, once.
    pub fn new(window: usize) -> Self {
        let window = window.max(1);
        Self {
            samples: VecDeque::with_capacity(window),
            window,
            sum_sq_ticks2: 0.0,
            sum_dt_s: 0.0,
            since_rebuild: 0,
        }
    }

    /// Adds a mid change `dm_ticks` observed over `dt_s` seconds. Non-finite values or dt ≤ 0 are
    /// ignored.
    pub fn push(&mut self, dm_ticks: f64, dt_s: f64) {
        if !(dm_ticks.is_finite() && dt_s.is_finite() && dt_s > 0.0) {
            return;
        }
        if self.samples.len() == self.window {
            if let Some((sq, dt)) = self.samples.pop_front() {
                self.sum_sq_ticks2 -= sq;
                self.sum_dt_s -= dt;
            }
        }
        let sq = dm_ticks * dm_ticks;
        self.samples.push_back((sq, dt_s));
        self.sum_sq_ticks2 += sq;
        self.sum_dt_s += dt_s;
        self.since_rebuild += 1;
        if self.since_rebuild >= self.window {
            self.sum_sq_ticks2 = self.samples.iter().map(|s| s.0).sum();
            self.sum_dt_s = self.samples.iter().map(|s| s.1).sum();
            self.since_rebuild = 0;
        }
    }

    /// Number of samples in the window.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// True before the first sample.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// σ in ticks/√s, or `None` before any sample.
    pub fn sigma(&self) -> Option<f64> {
        let var = self.sum_sq_ticks2.max(0.0) / self.sum_dt_s;
        (self.sum_dt_s > 0.0 && var.is_finite()).then(|| var.sqrt())
    }
}

/// Exponentially weighted variance rate with a half-life in seconds, for irregular sampling: a
/// sample Δm over Δt has weight w = 1 − 2^(−Δt/h), and v ← v + w·(Δm²/Δt − v).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EwmaVolatility {
    half_life_s: f64,
    variance_rate: Option<f64>,
    samples: usize,
}

impl EwmaVolatility {
    /// An estimator with half-life `half_life_s` (> 0).
    pub fn new(half_life_s: f64) -> Self {
        Self { half_life_s, variance_rate: None, samples: 0 }
    }

    /// Adds a mid change `dm_ticks` over `dt_s` seconds; non-finite values or dt ≤ 0 are ignored.
    pub fn push(&mut self, dm_ticks: f64, dt_s: f64) {
        if !(dm_ticks.is_finite() && dt_s.is_finite() && dt_s > 0.0) {
            return;
        }
        let rate = dm_ticks * dm_ticks / dt_s;
        if !rate.is_finite() {
            return;
        }
        let weight = -(-std::f64::consts::LN_2 * dt_s / self.half_life_s).exp_m1();
        self.variance_rate = Some(match self.variance_rate {
            None => rate,
            Some(v) => v + weight * (rate - v),
        });
        self.samples += 1;
    }

    /// Samples seen.
    pub fn samples(&self) -> usize {
        self.samples
    }

    /// σ in ticks/√s, or `None` before any sample.
    pub fn sigma(&self) -> Option<f64> {
        self.variance_rate.map(|v| v.max(0.0).sqrt())
    }
}

// ---------------------------------------------------------------------------------------------
// A and k
// ---------------------------------------------------------------------------------------------

/// A fitted fill-intensity curve λ(δ) = A·e^(−kδ).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntensityFit {
    /// A, per second.
    pub a_per_s: f64,
    /// k, per tick.
    pub k_per_tick: f64,
    /// Grid points used.
    pub points: usize,
}

/// Why an intensity fit produced no estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FitError {
    /// Too few observed steps or usable grid points.
    #[error("not enough data: {points} usable grid points (need {needed_points}), {steps} steps (need {needed_steps})")]
    NotEnoughData {
        /// Usable grid points.
        points: usize,
        /// Required grid points.
        needed_points: usize,
        /// Steps observed in the window.
        steps: usize,
        /// Required steps.
        needed_steps: usize,
    },
    /// The fitted intensity does not decrease with depth (k ≤ 0) or is not finite.
    #[error("the fitted intensity does not decay with depth")]
    NotDecaying,
}

impl FitError {
    /// A short machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            FitError::NotEnoughData { .. } => "calibration:not-enough-data",
            FitError::NotDecaying => "calibration:not-decaying",
        }
    }
}

/// Least squares of y = c − k·x over the points; `None` unless ≥ 2 points with distinct x.
fn decay_least_squares(points: impl Iterator<Item = (f64, f64)>) -> Option<(f64, f64, usize)> {
    let (mut n, mut sx, mut sy, mut sxx, mut sxy) = (0usize, 0.0, 0.0, 0.0, 0.0);
    for (x, y) in points {
        n += 1;
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
    }
    let nf = n as f64;
    let denom = nf * sxx - sx * sx;
    if n < 2 || denom.abs() <= 1e-12 * nf * sxx.max(1e-300) {
        return None;
    }
    let slope = (nf * sxy - sx * sy) / denom;
    let intercept = (sy - slope * sx) / nf;
    Some((intercept, -slope, n))
}

fn fit_from_points(
    points: impl Iterator<Item = (f64, f64)>,
    needed_points: usize,
    steps: usize,
    needed_steps: usize,
) -> Result<IntensityFit, FitError> {
    let not_enough = |points| FitError::NotEnoughData { points, needed_points, steps, needed_steps };
    if steps < needed_steps {
        return Err(not_enough(0));
    }
    let (ln_a, k, used) = decay_least_squares(points).ok_or(not_enough(0))?;
    if used < needed_points {
        return Err(not_enough(used));
    }
    let a = ln_a.exp();
    if !(k > 0.0 && k.is_finite() && a > 0.0 && a.is_finite()) {
        return Err(FitError::NotDecaying);
    }
    Ok(IntensityFit { a_per_s: a, k_per_tick: k, points: used })
}

/// Fits ln λ = ln A − kδ by least squares to `(depth_ticks, intensity_per_s)` pairs; pairs with a
/// non-positive or non-finite intensity are skipped. Units: depth in ticks, so k is per tick.
///
/// Errors: fewer than 2 usable points ([`FitError::NotEnoughData`]) or k ≤ 0
/// ([`FitError::NotDecaying`]).
///
/// ```
/// use zkclob_strategy::calibration::fit_intensity_curve;
/// let depths = [0.5_f64, 1.0, 1.5, 2.0];
/// let lambdas: Vec<f64> = depths.iter().map(|d| 3.0 * (-1.5 * d).exp()).collect();
/// let fit = fit_intensity_curve(&depths, &lambdas).unwrap();
/// assert!((fit.a_per_s - 3.0).abs() < 1e-9 && (fit.k_per_tick - 1.5).abs() < 1e-9);
/// ```
pub fn fit_intensity_curve(
    depths_ticks: &[f64],
    intensities_per_s: &[f64],
) -> Result<IntensityFit, FitError> {
    let points = depths_ticks
        .iter()
        .zip(intensities_per_s)
        .filter(|(d, l)| d.is_finite() && l.is_finite() && **l > 0.0)
        .map(|(d, l)| (*d, l.ln()));
    fit_from_points(points, 2, 1, 1)
}

/// Rolling record, per side, of how many grid depths each step's deepest trade reached, with
/// running counts per grid point. Index 0 is the bid side (hit by sell aggressors), 1 the ask side.
#[derive(Debug, Clone)]
struct ArrivalWindow {
    grid_start_ticks: f64,
    grid_step_ticks: f64,
    grid_points: usize,
    /// Per step: grid points reached on [bid, ask].
    reached: VecDeque<[u8; 2]>,
    window_steps: usize,
    counts: [[u32; MAX_GRID_POINTS]; 2],
    /// ln(c) for c = 1..=window_steps (index 0 unused).
    ln_count: Vec<f64>,
}

impl ArrivalWindow {
    fn new(c: &CalibrationConfig) -> Self {
        let ln_count = (0..=c.window_steps).map(|i| (i.max(1) as f64).ln()).collect();
        Self {
            grid_start_ticks: c.grid_start_ticks,
            grid_step_ticks: c.grid_step_ticks,
            grid_points: c.grid_points,
            reached: VecDeque::with_capacity(c.window_steps),
            window_steps: c.window_steps,
            counts: [[0; MAX_GRID_POINTS]; 2],
            ln_count,
        }
    }

    fn grid_depth(&self, j: usize) -> f64 {
        self.grid_start_ticks + j as f64 * self.grid_step_ticks
    }

    /// Number of grid depths ≤ `depth_ticks` (with a tolerance for exact half-tick arithmetic).
    fn reach(&self, depth_ticks: f64) -> u8 {
        if !(depth_ticks.is_finite() && depth_ticks >= self.grid_start_ticks - 1e-9) {
            return 0;
        }
        let j = ((depth_ticks - self.grid_start_ticks) / self.grid_step_ticks + 1e-9).floor() + 1.0;
        j.min(self.grid_points as f64) as u8
    }

    fn push(&mut self, max_depth_ticks: [f64; 2]) {
        if self.reached.len() == self.window_steps {
            if let Some(old) = self.reached.pop_front() {
                for (counts, reached) in self.counts.iter_mut().zip(old) {
                    for c in &mut counts[..reached as usize] {
                        *c -= 1;
                    }
                }
            }
        }
        let new = [self.reach(max_depth_ticks[0]), self.reach(max_depth_ticks[1])];
        for (counts, reached) in self.counts.iter_mut().zip(new) {
            for c in &mut counts[..reached as usize] {
                *c += 1;
            }
        }
        self.reached.push_back(new);
    }

    fn clear(&mut self) {
        self.reached.clear();
        self.counts = [[0; MAX_GRID_POINTS]; 2];
    }

    fn fit(&self, side: usize, c: &CalibrationConfig) -> Result<IntensityFit, FitError> {
        let steps = self.reached.len();
        let window_s = steps as f64 * c.step_s;
        let ln_window = window_s.ln();
        let points = (0..self.grid_points).filter_map(|j| {
            let count = self.counts[side][j];
            if count < c.min_count_per_point {
                return None;
            }
            let ln_lambda = if c.saturation_correction {
                if count as usize >= steps {
                    return None; // every step reached δ: λ is not identifiable
                }
                (-(-(count as f64) / steps as f64).ln_1p() / c.step_s).ln()
            } else {
                self.ln_count[count as usize] - ln_window
            };
            Some((self.grid_depth(j), ln_lambda))
        });
        fit_from_points(points, c.min_fit_points, steps, c.min_fit_steps)
    }
}

// ---------------------------------------------------------------------------------------------
// Hawkes flow intensity
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct FlowIntensity {
    online: OnlineIntensity,
    history_s: VecDeque<f64>,
    capacity: usize,
    last_order: Option<(f64, Side)>,
    max_boost: f64,
}

impl FlowIntensity {
    fn new(c: &HawkesConfig, start_s: f64) -> Result<Self, StrategyError> {
        let model = ExpHawkes::new(c.mu_per_s, c.alpha_per_s, c.beta_per_s)?;
        Ok(Self {
            online: OnlineIntensity::new(model, start_s)?,
            history_s: VecDeque::with_capacity(c.history_events),
            capacity: c.history_events,
            last_order: None,
            max_boost: c.max_a_boost,
        })
    }

    /// Records a print; prints with the same time and aggressor as the previous one are one order.
    fn record(&mut self, time_s: f64, aggressor: Side) {
        if self.last_order == Some((time_s, aggressor)) {
            return;
        }
        // Out-of-order times are rejected by the tracker; the print is then ignored.
        if self.online.record_event(time_s).is_ok() {
            self.last_order = Some((time_s, aggressor));
            if self.history_s.len() == self.capacity {
                self.history_s.pop_front();
            }
            self.history_s.push_back(time_s);
        }
    }

    fn ratio(&self, time_s: f64) -> Option<f64> {
        let now = self.online.intensity_at(time_s).ok()?;
        let ratio = now / self.online.model().stationary_rate_per_s();
        ratio.is_finite().then_some(ratio)
    }

    fn boost(&self, time_s: f64) -> f64 {
        self.ratio(time_s).map_or(1.0, |r| r.clamp(1.0, self.max_boost))
    }

    fn refit(&mut self, now_s: f64) -> Result<ExpHawkes, StrategyError> {
        let t0 = self
            .history_s
            .front()
            .copied()
            .ok_or(StrategyError::Numerical("Hawkes refit: no market orders recorded".into()))?;
        let times: Vec<f64> = self.history_s.iter().map(|t| t - t0).collect();
        let horizon = (now_s - t0).max(times.last().copied().unwrap_or(0.0));
        let fit = fit_exp_hawkes(&EventTimes::new(times, horizon)?, &FitOptions::default())?;
        let mut online = OnlineIntensity::new(fit.model, t0)?;
        for &t in &self.history_s {
            online.record_event(t)?;
        }
        self.online = online;
        Ok(fit.model)
    }
}

// ---------------------------------------------------------------------------------------------
// The calibrator
// ---------------------------------------------------------------------------------------------

/// Everything the calibrator currently knows, for logs, tests and regime signals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CalibrationSnapshot {
    /// Realised σ, ticks/√s (per second, before the time-unit scaling).
    pub sigma_realised: Option<f64>,
    /// EWMA σ, ticks/√s.
    pub sigma_ewma: Option<f64>,
    /// The bid-side fit on the current window (sell aggressors).
    pub bid_fit: Result<IntensityFit, FitError>,
    /// The ask-side fit on the current window (buy aggressors).
    pub ask_fit: Result<IntensityFit, FitError>,
    /// Hawkes intensity / stationary rate (1 when tracking is off).
    pub intensity_ratio: f64,
    /// Multiplier applied to A, in [1, max_a_boost].
    pub a_boost: f64,
    /// Steps in the A/k window.
    pub window_steps: usize,
    /// Trades ignored as unusable (non-finite time, zero size, no reference mid).
    pub trades_ignored: u64,
}

/// Online calibrator: feed it every market update with [`Calibrator::update`], read
/// [`Calibrator::live_params`].
///
/// ```
/// use zkclob_strategy::calibration::{CalibrationConfig, Calibrator};
/// let mut cal = Calibrator::new(CalibrationConfig::default())?;
/// cal.update(0.0, Some(100.5), &[]);
/// assert!(cal.live_params().is_none()); // no prior, no data yet
/// # Ok::<(), zkclob_strategy::StrategyError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Calibrator {
    config: CalibrationConfig,
    window: ArrivalWindow,
    realised: RealisedVolatility,
    ewma: EwmaVolatility,
    flow: Option<FlowIntensity>,
    /// Current step index (floor(t / step_s)), its reference mid and deepest depths so far.
    step: Option<i64>,
    step_ref_mid: Option<f64>,
    step_max_depth: [f64; 2],
    last_mid: Option<f64>,
    last_time_s: Option<f64>,
    sigma_anchor: Option<(f64, f64)>,
    fits: [Result<IntensityFit, FitError>; 2],
    last_good: [Option<IntensityFit>; 2],
    trades_ignored: u64,
}

/// Largest step index we accept (times beyond this are garbage).
const MAX_STEP_INDEX: f64 = 1e15;

impl Calibrator {
    /// Builds a calibrator; all buffers are allocated here.
    ///
    /// Errors: [`StrategyError::InvalidParameter`] naming the first bad field.
    pub fn new(config: CalibrationConfig) -> Result<Self, StrategyError> {
        config.validate()?;
        let none = FitError::NotEnoughData {
            points: 0,
            needed_points: config.min_fit_points,
            steps: 0,
            needed_steps: config.min_fit_steps,
        };
        Ok(Self {
            window: ArrivalWindow::new(&config),
            realised: RealisedVolatility::new(config.sigma_window),
            ewma: EwmaVolatility::new(config.sigma_half_life_s),
            flow: None,
            step: None,
            step_ref_mid: None,
            step_max_depth: [f64::NEG_INFINITY; 2],
            last_mid: None,
            last_time_s: None,
            sigma_anchor: None,
            fits: [Err(none); 2],
            last_good: [None; 2],
            trades_ignored: 0,
            config,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &CalibrationConfig {
        &self.config
    }

    /// Feeds one market update: the decision time, the mid after the update (`None` for an empty
    /// or one-sided book) and the market trades since the previous update, oldest first. Garbage
    /// (non-finite times or mids, zero sizes, times going backwards) is ignored, never a panic.
    pub fn update(&mut self, time_s: f64, mid_ticks: Option<f64>, trades: &[MarketTrade]) {
        if !time_s.is_finite() || self.last_time_s.is_some_and(|t| time_s < t) {
            return;
        }
        let mid_ticks = mid_ticks.filter(|m| m.is_finite());
        let mut closed = false;
        for trade in trades {
            closed |= self.on_trade(trade, time_s);
        }
        // Steps that begin after the last trade reference the mid seen now.
        closed |= self.advance_to(time_s, mid_ticks.or(self.last_mid));
        if closed {
            self.fits = [self.window.fit(0, &self.config), self.window.fit(1, &self.config)];
            for side in 0..2 {
                if let Ok(fit) = self.fits[side] {
                    self.last_good[side] = Some(fit);
                }
            }
        }
        if let Some(mid) = mid_ticks {
            self.sample_sigma(time_s, mid);
            self.last_mid = Some(mid);
        }
        if self.config.hawkes.enabled && self.flow.is_none() {
            self.flow = FlowIntensity::new(&self.config.hawkes, time_s).ok();
        }
        self.last_time_s = Some(time_s);
    }

    /// Handles one trade; returns whether a step closed.
    fn on_trade(&mut self, trade: &MarketTrade, now_s: f64) -> bool {
        if !trade.time_s.is_finite() || trade.qty_lots == 0 {
            self.trades_ignored += 1;
            return false;
        }
        // A print stamped after the decision time is clamped to it (bad clocks are not our steps).
        let time_s = trade.time_s.min(now_s);
        // Steps that open inside this batch reference the mid before the batch (the current book is
        // already the result of these trades).
        let closed = self.advance_to(time_s, self.last_mid);
        if self.config.hawkes.enabled {
            self.record_flow(time_s, trade.aggressor);
        }
        let Some(ref_mid) = self.step_ref_mid else {
            self.trades_ignored += 1;
            return closed;
        };
        let (side, depth) = match trade.aggressor {
            Side::Buy => (1, trade.price_ticks as f64 - ref_mid),
            Side::Sell => (0, ref_mid - trade.price_ticks as f64),
        };
        if depth > self.step_max_depth[side] {
            self.step_max_depth[side] = depth;
        }
        closed
    }

    fn record_flow(&mut self, time_s: f64, aggressor: Side) {
        if self.flow.is_none() {
            self.flow = FlowIntensity::new(&self.config.hawkes, time_s).ok();
        }
        if let Some(flow) = &mut self.flow {
            flow.record(time_s, aggressor);
        }
    }

    /// Moves the current step to the one containing `time_s` (never backwards), closing the steps
    /// in between; a newly opened step references `ref_mid`. Returns whether a step closed.
    fn advance_to(&mut self, time_s: f64, ref_mid: Option<f64>) -> bool {
        let index = (time_s / self.config.step_s).floor();
        if index.is_nan() || index.abs() >= MAX_STEP_INDEX {
            return false;
        }
        let index = index as i64;
        let Some(current) = self.step else {
            self.open_step(index, ref_mid);
            return false;
        };
        if index <= current {
            if self.step_ref_mid.is_none() {
                self.step_ref_mid = ref_mid;
            }
            return false;
        }
        self.window.push(self.step_max_depth);
        let empty = (index - current - 1) as u64;
        if empty >= self.config.window_steps as u64 {
            self.window.clear();
            for _ in 0..self.config.window_steps {
                self.window.push([f64::NEG_INFINITY; 2]);
            }
        } else {
            for _ in 0..empty {
                self.window.push([f64::NEG_INFINITY; 2]);
            }
        }
        self.open_step(index, ref_mid);
        true
    }

    fn open_step(&mut self, index: i64, ref_mid: Option<f64>) {
        self.step = Some(index);
        self.step_ref_mid = ref_mid;
        self.step_max_depth = [f64::NEG_INFINITY; 2];
    }

    fn sample_sigma(&mut self, time_s: f64, mid: f64) {
        match self.sigma_anchor {
            None => self.sigma_anchor = Some((time_s, mid)),
            Some((t0, m0)) if time_s - t0 >= self.config.sigma_sample_interval_s && time_s > t0 => {
                self.realised.push(mid - m0, time_s - t0);
                self.ewma.push(mid - m0, time_s - t0);
                self.sigma_anchor = Some((time_s, mid));
            }
            Some(_) => {}
        }
    }

    /// σ in ticks/√s from the configured estimator, once it has `sigma_min_samples` samples.
    pub fn sigma(&self) -> Option<f64> {
        let min = self.config.sigma_min_samples;
        match self.config.sigma_estimator {
            SigmaEstimator::Realised => (self.realised.len() >= min).then(|| self.realised.sigma()).flatten(),
            SigmaEstimator::Ewma => (self.ewma.samples() >= min).then(|| self.ewma.sigma()).flatten(),
        }
    }

    /// The multiplier on A from the Hawkes rule at `time_s` (1 when tracking is off).
    pub fn a_boost(&self, time_s: f64) -> f64 {
        self.flow.as_ref().map_or(1.0, |f| f.boost(time_s))
    }

    /// Calibrated parameters for the model at the latest update, in the model's time unit, clamped
    /// to the bounds: σ from the chosen estimator, A = √(A_bid·A_ask) × Hawkes boost, k = the mean
    /// of the two sides, drift 0 (the calibrator estimates no alpha). A side whose current window
    /// cannot be fitted keeps its last good fit. Missing estimates come from the prior; with no
    /// prior the answer is `None` until all are ready.
    pub fn live_params(&self) -> Option<LiveParams> {
        let prior = self.config.prior;
        let sigma = self.sigma().or(prior.map(|p| p.sigma))?;
        let side = |s: usize| {
            self.last_good[s].map(|f| (f.a_per_s, f.k_per_tick)).or(prior.map(|p| (p.a_per_s, p.k_per_tick)))
        };
        let ((a_bid, k_bid), (a_ask, k_ask)) = (side(0)?, side(1)?);
        let boost = self.last_time_s.map_or(1.0, |t| self.a_boost(t));
        let unit = self.config.model_time_unit_s;
        let b = &self.config.bounds;
        let clamp = |v: f64, lo: f64, hi: f64| if v.is_finite() { v.clamp(lo, hi) } else { lo };
        Some(LiveParams {
            sigma: clamp(sigma * unit.sqrt(), b.sigma_min, b.sigma_max),
            a: clamp((a_bid * a_ask).sqrt() * boost * unit, b.a_min_per_s, b.a_max_per_s),
            k: clamp(0.5 * (k_bid + k_ask), b.k_min_per_tick, b.k_max_per_tick),
            drift: 0.0,
        })
    }

    /// Everything known now.
    pub fn snapshot(&self) -> CalibrationSnapshot {
        let t = self.last_time_s.unwrap_or(0.0);
        CalibrationSnapshot {
            sigma_realised: self.realised.sigma(),
            sigma_ewma: self.ewma.sigma(),
            bid_fit: self.fits[0],
            ask_fit: self.fits[1],
            intensity_ratio: self.flow.as_ref().and_then(|f| f.ratio(t)).unwrap_or(1.0),
            a_boost: self.a_boost(t),
            window_steps: self.window.reached.len(),
            trades_ignored: self.trades_ignored,
        }
    }

    /// Refits the Hawkes kernel by maximum likelihood ([`fit_exp_hawkes`] from `zkclob-models`) on
    /// the recent market-order times (up to `hawkes.history_events`) and restarts the online
    /// intensity from them. Allocates and costs O(events × iterations): call it on a timer, off
    /// the quoting path.
    ///
    /// Errors: tracking disabled or no orders yet ([`StrategyError::Numerical`]), too few events or
    /// a failed fit (the model's error).
    pub fn refit_hawkes(&mut self, now_s: f64) -> Result<ExpHawkes, StrategyError> {
        let flow = self
            .flow
            .as_mut()
            .ok_or(StrategyError::Numerical("Hawkes refit: tracking is not enabled".into()))?;
        flow.refit(now_s)
    }
}
