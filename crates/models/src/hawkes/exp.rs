//! The univariate Hawkes process with exponential kernel:
//! λ(t) = μ + Σ_{tᵢ<t} α·e^(−β(t−tᵢ)).
//!
//! μ (`mu_per_s`) is the baseline rate, α (`alpha_per_s`) the jump of the intensity at each event,
//! β (`beta_per_s`) the decay rate; all three are in events per second (β in 1/s). The branching
//! ratio (mean number of events an event triggers) is α/β and must be below 1.

use rand::{Rng, RngExt};
use rand_distr::{Distribution, Exp1, Poisson};

use super::events::{EventTimes, MAX_SIMULATED_EVENTS};
use crate::error::{non_negative, positive, ModelError, Result};
use crate::optimize::{linear_step_limit, newton_maximize};
use crate::special::ks_uniform;

/// A validated, stationary exponential-kernel Hawkes model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExpHawkes {
    mu_per_s: f64,
    alpha_per_s: f64,
    beta_per_s: f64,
}

/// Log-likelihood of an event list and the compensator Λ(T) = ∫₀ᵀ λ(t) dt (expected event count).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogLikelihood {
    /// Σ ln λ(tᵢ) − Λ(T), with λ in events per second (so it depends on the time unit).
    pub loglik: f64,
    /// Λ(T), dimensionless (events).
    pub compensator: f64,
}

/// Result of a Kolmogorov–Smirnov goodness-of-fit test by time rescaling.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GoodnessOfFit {
    /// Number of rescaled inter-event times tested.
    pub count: usize,
    /// KS statistic D (sup distance between the empirical and the Exp(1) distribution functions).
    pub ks_statistic: f64,
    /// Asymptotic p-value of D. With parameters fitted on the same data it is conservative.
    pub ks_pvalue: f64,
}

/// Output of [`fit_exp_hawkes`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExpHawkesFit {
    /// The maximum-likelihood model.
    pub model: ExpHawkes,
    /// Log-likelihood and compensator at the maximum.
    pub loglik: LogLikelihood,
    /// Asymptotic standard errors of (μ, α, β) from the observed Fisher information (the inverse
    /// of minus the log-likelihood's Hessian at the maximum); NaN where it is singular.
    pub std_errors: [f64; 3],
    /// Newton iterations of the final (full-data) stage.
    pub iterations: usize,
    /// Whether the final stage met its tolerance (else it hit the iteration cap; the estimate is
    /// still the best point found).
    pub converged: bool,
}

/// Options for [`fit_exp_hawkes`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitOptions {
    /// Stationarity is enforced as α ≤ `max_branching_ratio`·β; must lie in (0, 1).
    pub max_branching_ratio: f64,
    /// Cap on Newton iterations for the final stage.
    pub max_iterations: usize,
    /// Number of events in the pilot window used to choose a starting point.
    pub pilot_events: usize,
}

impl Default for FitOptions {
    fn default() -> Self {
        Self { max_branching_ratio: 0.9999, max_iterations: 200, pilot_events: 20_000 }
    }
}

impl ExpHawkes {
    /// Builds the model λ(t) = μ + Σ α·e^(−β(t−tᵢ)).
    ///
    /// Errors: μ not finite and > 0, α not finite and ≥ 0, β not finite and > 0, or α/β ≥ 1
    /// (non-stationary: [`ModelError::NonStationary`]).
    pub fn new(mu_per_s: f64, alpha_per_s: f64, beta_per_s: f64) -> Result<Self> {
        positive("mu_per_s", mu_per_s)?;
        non_negative("alpha_per_s", alpha_per_s)?;
        positive("beta_per_s", beta_per_s)?;
        let branching_ratio = alpha_per_s / beta_per_s;
        if branching_ratio >= 1.0 {
            return Err(ModelError::NonStationary {
                branching_ratio,
                detail: format!("alpha / beta = {alpha_per_s} / {beta_per_s}"),
            });
        }
        Ok(Self { mu_per_s, alpha_per_s, beta_per_s })
    }

    /// Baseline intensity μ, events per second.
    pub fn mu_per_s(&self) -> f64 {
        self.mu_per_s
    }

    /// Jump of the intensity at each event α, events per second.
    pub fn alpha_per_s(&self) -> f64 {
        self.alpha_per_s
    }

    /// Kernel decay rate β, per second.
    pub fn beta_per_s(&self) -> f64 {
        self.beta_per_s
    }

    /// Branching ratio α/β: mean number of direct offspring per event (dimensionless, < 1).
    pub fn branching_ratio(&self) -> f64 {
        self.alpha_per_s / self.beta_per_s
    }

    /// Long-run mean event rate μ/(1 − α/β), events per second.
    pub fn stationary_rate_per_s(&self) -> f64 {
        self.mu_per_s / (1.0 - self.branching_ratio())
    }

    /// Exact log-likelihood and compensator of `events` over their window, by the O(n) recursion
    /// Aᵢ = e^(−β(tᵢ−tᵢ₋₁))·(1 + Aᵢ₋₁), λ(tᵢ) = μ + α·Aᵢ.
    pub fn log_likelihood(&self, events: &EventTimes) -> LogLikelihood {
        let d = evaluate(events, [self.mu_per_s, self.alpha_per_s, self.beta_per_s], false);
        LogLikelihood { loglik: d.loglik, compensator: d.compensator }
    }

    /// Log-likelihood and its gradient with respect to (μ, α, β), in that order, in one O(n) pass.
    pub fn log_likelihood_gradient(&self, events: &EventTimes) -> (LogLikelihood, [f64; 3]) {
        let d = evaluate(events, [self.mu_per_s, self.alpha_per_s, self.beta_per_s], true);
        (LogLikelihood { loglik: d.loglik, compensator: d.compensator }, d.gradient)
    }

    /// Intensity λ(t), events per second, at `t_s` seconds given the history `events` (only events
    /// strictly before `t_s` count).
    pub fn intensity_at(&self, events: &EventTimes, t_s: f64) -> f64 {
        let excitation: f64 = events
            .times_s()
            .iter()
            .take_while(|&&ti| ti < t_s)
            .map(|&ti| (-self.beta_per_s * (t_s - ti)).exp())
            .sum();
        self.mu_per_s + self.alpha_per_s * excitation
    }

    /// Left-limit intensities λ(tᵢ−) at every event, events per second, by the O(n) recursion.
    pub fn intensities_at_events(&self, events: &EventTimes) -> Vec<f64> {
        let mut out = Vec::with_capacity(events.len());
        let mut a = 0.0;
        let mut previous_s = 0.0;
        for (i, &t) in events.times_s().iter().enumerate() {
            if i > 0 {
                a = (-self.beta_per_s * (t - previous_s)).exp() * (1.0 + a);
            }
            out.push(self.mu_per_s + self.alpha_per_s * a);
            previous_s = t;
        }
        out
    }

    /// Time-rescaled inter-event durations τᵢ = Λ(tᵢ) − Λ(tᵢ₋₁) (with t₀ = 0). Under the model they
    /// are i.i.d. Exp(1) (the time-rescaling theorem).
    pub fn rescaled_intervals(&self, events: &EventTimes) -> Vec<f64> {
        let (mu, alpha, beta) = (self.mu_per_s, self.alpha_per_s, self.beta_per_s);
        let mut out = Vec::with_capacity(events.len());
        // `a` is the excitation sum Σ e^(−β(t−tⱼ)) just after the previous event (counting it).
        let mut a = 0.0;
        let mut previous_s = 0.0;
        for &t in events.times_s() {
            let dt = t - previous_s;
            let decay = -(-beta * dt).exp_m1();
            out.push(mu * dt + alpha / beta * a * decay);
            a = a * (1.0 - decay) + 1.0;
            previous_s = t;
        }
        out
    }

    /// Goodness of fit by time rescaling: a Kolmogorov–Smirnov test of the rescaled durations
    /// against Exp(1) (equivalently of 1 − e^(−τᵢ) against Uniform(0, 1)).
    pub fn goodness_of_fit(&self, events: &EventTimes) -> GoodnessOfFit {
        let mut u: Vec<f64> = self.rescaled_intervals(events).iter().map(|tau| -(-tau).exp_m1()).collect();
        let (ks_statistic, ks_pvalue) = ks_uniform(&mut u);
        GoodnessOfFit { count: u.len(), ks_statistic, ks_pvalue }
    }

    /// Simulates event times on [0, `horizon_s`] by Ogata's thinning algorithm. Between events the
    /// intensity only decays, so its value just after the last event bounds it until the next one.
    ///
    /// Errors: a bad horizon, or more than [`MAX_SIMULATED_EVENTS`] events.
    pub fn simulate_thinning<R: Rng + ?Sized>(&self, horizon_s: f64, rng: &mut R) -> Result<EventTimes> {
        positive("horizon_s", horizon_s)?;
        let mut times = Vec::new();
        let mut t = 0.0;
        let mut excitation = 0.0; // Σ α·e^(−β(t−tᵢ)) at the current time t
        loop {
            let bound = self.mu_per_s + excitation;
            let wait: f64 = Exp1.sample(rng);
            t += wait / bound;
            if t > horizon_s {
                break;
            }
            excitation *= (-self.beta_per_s * wait / bound).exp();
            let u: f64 = rng.random();
            if u * bound <= self.mu_per_s + excitation {
                if times.len() >= MAX_SIMULATED_EVENTS {
                    return Err(too_many_events(times.len()));
                }
                times.push(t);
                excitation += self.alpha_per_s;
            }
        }
        Ok(EventTimes::from_sorted_unchecked(times, horizon_s))
    }

    /// Simulates event times on [0, `horizon_s`] by the branching (cluster) representation:
    /// immigrants arrive as a Poisson(μ) process; each event has Poisson(α/β) children at
    /// Exp(β)-distributed delays. Children after the horizon are dropped.
    ///
    /// Errors: a bad horizon, or more than [`MAX_SIMULATED_EVENTS`] events.
    pub fn simulate_branching<R: Rng + ?Sized>(&self, horizon_s: f64, rng: &mut R) -> Result<EventTimes> {
        positive("horizon_s", horizon_s)?;
        let immigrants = poisson_count(self.mu_per_s * horizon_s, rng)?;
        let mut times: Vec<f64> = (0..immigrants).map(|_| horizon_s * rng.random::<f64>()).collect();
        let mut next = 0;
        while next < times.len() {
            let parent = times[next];
            next += 1;
            for _ in 0..poisson_count(self.branching_ratio(), rng)? {
                let delay: f64 = Exp1.sample(rng);
                let child = parent + delay / self.beta_per_s;
                if child <= horizon_s {
                    if times.len() >= MAX_SIMULATED_EVENTS {
                        return Err(too_many_events(times.len()));
                    }
                    times.push(child);
                }
            }
        }
        times.sort_by(f64::total_cmp);
        Ok(EventTimes::from_sorted_unchecked(times, horizon_s))
    }
}

fn too_many_events(got: usize) -> ModelError {
    ModelError::LimitExceeded { what: "simulated events", limit: MAX_SIMULATED_EVENTS, got }
}

/// Draws a Poisson count with the given mean (0 for a zero mean).
pub(crate) fn poisson_count<R: Rng + ?Sized>(mean: f64, rng: &mut R) -> Result<usize> {
    if mean <= 0.0 {
        return Ok(0);
    }
    let law = Poisson::new(mean).map_err(|e| ModelError::Numerical(format!("Poisson({mean}): {e}")))?;
    let k: f64 = law.sample(rng);
    if k > MAX_SIMULATED_EVENTS as f64 {
        return Err(too_many_events(k as usize));
    }
    Ok(k as usize)
}

/// Log-likelihood, compensator and (optionally) derivatives with respect to θ = (μ, α, β).
#[derive(Debug, Clone, Copy, Default)]
struct Derivatives {
    loglik: f64,
    compensator: f64,
    gradient: [f64; 3],
    hessian: [[f64; 3]; 3],
}

/// One O(n) pass. With Aᵢ = Σ_{j<i} e^(−βτᵢⱼ), Cᵢ = Σ τᵢⱼe^(−βτᵢⱼ), Dᵢ = Σ τᵢⱼ²e^(−βτᵢⱼ)
/// (τᵢⱼ = tᵢ − tⱼ) all updated recursively, λᵢ = μ + αAᵢ, ∂λᵢ/∂β = −αCᵢ, ∂²λᵢ/∂β² = αDᵢ; the
/// compensator is μT + α·G(β) with G = Σ (1 − e^(−βsᵢ))/β, sᵢ = T − tᵢ.
fn evaluate(events: &EventTimes, theta: [f64; 3], derivatives: bool) -> Derivatives {
    let [mu, alpha, beta] = theta;
    let horizon = events.horizon_s();
    let mut out = Derivatives::default();
    let (mut a, mut c, mut d) = (0.0f64, 0.0f64, 0.0f64);
    let mut previous_s = 0.0;
    let (mut sum_log, mut g_sum, mut g1, mut g2) = (0.0, 0.0, 0.0, 0.0);
    let (mut gr, mut h) = ([0.0; 3], [[0.0; 3]; 3]);
    for (i, &t) in events.times_s().iter().enumerate() {
        if i > 0 {
            let dt = t - previous_s;
            let e = (-beta * dt).exp();
            let a1 = a + 1.0;
            if derivatives {
                d = e * (d + 2.0 * dt * c + dt * dt * a1);
                c = e * (c + dt * a1);
            }
            a = e * a1;
        }
        previous_s = t;
        let lambda = mu + alpha * a;
        sum_log += lambda.ln();
        let s = horizon - t;
        let one_minus_e = -(-beta * s).exp_m1();
        g_sum += one_minus_e;
        if derivatives {
            let inv = 1.0 / lambda;
            let grad_i = [inv, a * inv, -alpha * c * inv];
            for p in 0..3 {
                gr[p] += grad_i[p];
                for q in 0..3 {
                    h[p][q] -= grad_i[p] * grad_i[q];
                }
            }
            h[1][2] -= c * inv;
            h[2][1] -= c * inv;
            h[2][2] += alpha * d * inv;
            let e_s = 1.0 - one_minus_e;
            g1 += s * e_s / beta - one_minus_e / (beta * beta);
            g2 += -s * s * e_s / beta - 2.0 * s * e_s / (beta * beta)
                + 2.0 * one_minus_e / (beta * beta * beta);
        }
    }
    let g = g_sum / beta;
    out.compensator = mu * horizon + alpha * g;
    out.loglik = sum_log - out.compensator;
    if derivatives {
        gr[0] -= horizon;
        gr[1] -= g;
        gr[2] -= alpha * g1;
        h[1][2] -= g1;
        h[2][1] -= g1;
        h[2][2] -= alpha * g2;
        out.gradient = gr;
        out.hessian = h;
    }
    out
}

/// Maximum-likelihood fit of an exponential-kernel Hawkes process, with stationarity enforced
/// (α ≤ `max_branching_ratio`·β).
///
/// Method: a pilot search over a log-spaced grid of β (relative to the mean event rate), solving the
/// concave (μ, α) problem for each β on the first `pilot_events` events, picks the starting point;
/// then a damped Newton method with the exact O(n) gradient and Hessian maximises the full
/// likelihood. Every iterate is feasible (see `optimize`).
///
/// Errors: fewer than 10 events, or a `max_branching_ratio` outside (0, 1).
pub fn fit_exp_hawkes(events: &EventTimes, options: &FitOptions) -> Result<ExpHawkesFit> {
    const MIN_EVENTS: usize = 10;
    if events.len() < MIN_EVENTS {
        return Err(ModelError::TooFewData {
            what: "Hawkes fit (events)",
            needed: MIN_EVENTS,
            got: events.len(),
        });
    }
    let rho = options.max_branching_ratio;
    if !(rho > 0.0 && rho < 1.0) {
        return Err(ModelError::InvalidParameter {
            name: "max_branching_ratio",
            requirement: "in the open interval (0, 1)",
            value: rho,
        });
    }
    let start = pilot_start(&events.prefix(options.pilot_events.max(MIN_EVENTS)), rho);
    let eval = |x: &[f64; 3]| {
        if !(x[0] > 0.0 && x[1] >= 0.0 && x[2] > 0.0 && x[1] <= rho * x[2]) {
            return None;
        }
        let d = evaluate(events, *x, true);
        d.loglik.is_finite().then_some((d.loglik, d.gradient, d.hessian))
    };
    let out = newton_maximize(start, options.max_iterations, eval, |x, d| feasible_step(x, d, rho))
        .ok_or_else(|| {
            ModelError::Numerical("Hawkes likelihood is not finite at the starting point".into())
        })?;
    let [mu, alpha, beta] = out.x;
    let model = ExpHawkes { mu_per_s: mu, alpha_per_s: alpha, beta_per_s: beta };
    let at_max = evaluate(events, out.x, true);
    Ok(ExpHawkesFit {
        model,
        loglik: LogLikelihood { loglik: at_max.loglik, compensator: at_max.compensator },
        std_errors: standard_errors(&at_max.hessian),
        iterations: out.iterations,
        converged: out.converged,
    })
}

/// Square roots of the diagonal of (−H)⁻¹ for a 3×3 symmetric H, by the adjugate.
fn standard_errors(h: &[[f64; 3]; 3]) -> [f64; 3] {
    let a: [[f64; 3]; 3] = std::array::from_fn(|i| std::array::from_fn(|j| -h[i][j]));
    let cof = |i: usize, j: usize| {
        let (r0, r1) = ((i + 1) % 3, (i + 2) % 3);
        let (c0, c1) = ((j + 1) % 3, (j + 2) % 3);
        a[r0][c0] * a[r1][c1] - a[r0][c1] * a[r1][c0]
    };
    let det = a[0][0] * cof(0, 0) + a[0][1] * cof(0, 1) + a[0][2] * cof(0, 2);
    std::array::from_fn(|i| {
        let var = cof(i, i) / det;
        if var > 0.0 && det.is_finite() {
            var.sqrt()
        } else {
            f64::NAN
        }
    })
}

/// Largest step keeping μ > 0, α ≥ 0, β > 0 and α ≤ ρβ.
fn feasible_step(x: &[f64; 3], d: &[f64; 3], rho: f64) -> f64 {
    linear_step_limit(&[-1.0, 0.0, 0.0], 0.0, x, d)
        .min(linear_step_limit(&[0.0, -1.0, 0.0], 0.0, x, d))
        .min(linear_step_limit(&[0.0, 0.0, -1.0], 0.0, x, d))
        .min(linear_step_limit(&[0.0, 1.0, -rho], 0.0, x, d))
}

/// For each β on a grid, maximises the (concave) likelihood in (μ, α) on the pilot window and
/// returns the best (μ, α, β).
fn pilot_start(pilot: &EventTimes, rho: f64) -> [f64; 3] {
    let horizon = pilot.horizon_s();
    let rate = pilot.len() as f64 / horizon;
    let mut best = ([0.5 * rate, 0.0, rate], f64::NEG_INFINITY);
    let mut excitation = vec![0.0; pilot.len()];
    for exponent in -2..=6 {
        let beta = rate * 10f64.powf(0.5 * exponent as f64);
        // Aᵢ for this β, and G(β) = Σ (1 − e^(−β(T − tᵢ)))/β.
        let mut a = 0.0;
        let mut previous_s = 0.0;
        let mut g = 0.0;
        for (i, &t) in pilot.times_s().iter().enumerate() {
            if i > 0 {
                a = (-beta * (t - previous_s)).exp() * (1.0 + a);
            }
            excitation[i] = a;
            previous_s = t;
            g -= (-beta * (horizon - t)).exp_m1() / beta;
        }
        let eval = |x: &[f64; 2]| {
            if !(x[0] > 0.0 && x[1] >= 0.0) {
                return None;
            }
            let (mut f, mut g0, mut g1, mut h00, mut h01, mut h11) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
            for &ai in &excitation {
                let inv = 1.0 / (x[0] + x[1] * ai);
                f -= inv.ln();
                g0 += inv;
                g1 += ai * inv;
                h00 -= inv * inv;
                h01 -= ai * inv * inv;
                h11 -= ai * ai * inv * inv;
            }
            f -= x[0] * horizon + x[1] * g;
            Some((f, [g0 - horizon, g1 - g], [[h00, h01], [h01, h11]]))
        };
        let limit = |x: &[f64; 2], d: &[f64; 2]| {
            linear_step_limit(&[-1.0, 0.0], 0.0, x, d)
                .min(linear_step_limit(&[0.0, -1.0], 0.0, x, d))
                .min(linear_step_limit(&[0.0, 1.0], rho * beta, x, d))
        };
        if let Some(out) = newton_maximize([0.5 * rate, 0.3 * rho * beta], 50, eval, limit) {
            if out.value > best.1 {
                best = ([out.x[0], out.x[1].max(1e-6 * rho * beta), beta], out.value);
            }
        }
    }
    best.0
}

/// Live intensity tracking: O(1) work per event and per query, for use on a market-data feed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OnlineIntensity {
    model: ExpHawkes,
    last_update_s: f64,
    /// Σ α·e^(−β(t−tᵢ)) at `last_update_s`, events per second.
    excitation_per_s: f64,
    /// Number of events recorded so far.
    events_recorded: usize,
}

impl OnlineIntensity {
    /// Starts tracking at time `start_s` (seconds) with no past events.
    pub fn new(model: ExpHawkes, start_s: f64) -> Result<Self> {
        crate::error::finite("start_s", start_s)?;
        Ok(Self { model, last_update_s: start_s, excitation_per_s: 0.0, events_recorded: 0 })
    }

    fn excitation_at(&self, t_s: f64) -> Result<f64> {
        if !t_s.is_finite() || t_s < self.last_update_s {
            return Err(ModelError::UnsortedEvents {
                index: self.events_recorded,
                time_s: t_s,
                previous_s: self.last_update_s,
            });
        }
        Ok(self.excitation_per_s * (-self.model.beta_per_s * (t_s - self.last_update_s)).exp())
    }

    /// Intensity λ(t), events per second, at `t_s` ≥ the last update. Does not change the state.
    /// Errors: a time before the last update ([`ModelError::UnsortedEvents`], indexed by the
    /// number of events recorded so far) or a non-finite time.
    pub fn intensity_at(&self, t_s: f64) -> Result<f64> {
        Ok(self.model.mu_per_s + self.excitation_at(t_s)?)
    }

    /// Records an event at `t_s` (≥ the last update) and returns the intensity just before it.
    pub fn record_event(&mut self, t_s: f64) -> Result<f64> {
        let excitation = self.excitation_at(t_s)?;
        self.excitation_per_s = excitation + self.model.alpha_per_s;
        self.last_update_s = t_s;
        self.events_recorded += 1;
        Ok(self.model.mu_per_s + excitation)
    }

    /// Expected number of events in (t, t + window] given the history so far, counting the events
    /// that the window's own events trigger. The mean intensity m(s) obeys m′ = βμ − (β − α)m, so
    /// with m* = μ/(1 − α/β) the count is m*·w + (λ(t) − m*)·(1 − e^(−(β−α)w))/(β − α).
    pub fn expected_events(&self, t_s: f64, window_s: f64) -> Result<f64> {
        non_negative("window_s", window_s)?;
        let lambda_now = self.intensity_at(t_s)?;
        let m = &self.model;
        let steady = m.stationary_rate_per_s();
        let rate = m.beta_per_s - m.alpha_per_s;
        Ok(steady * window_s - (lambda_now - steady) * (-rate * window_s).exp_m1() / rate)
    }

    /// The model being tracked.
    pub fn model(&self) -> &ExpHawkes {
        &self.model
    }
}
