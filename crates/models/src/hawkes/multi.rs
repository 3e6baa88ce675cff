//! Multivariate Hawkes processes with sum-of-exponentials kernels sharing a set of decay rates:
//!
//! λᵢ(t) = μᵢ + Σⱼ Σ_{tₑ<t, dₑ=j} Σₖ αᵢⱼₖ·e^(−βₖ(t−tₑ)),   i, j ∈ {0, …, d−1}, k ∈ {0, …, K−1}.
//!
//! αᵢⱼₖ (events per second) is the jump of the intensity of dimension i caused by an event of
//! dimension j through the k-th decay βₖ (per second). The kernel-norm matrix
//! Γᵢⱼ = Σₖ αᵢⱼₖ/βₖ (mean number of type-i children of a type-j event) must have spectral
//! radius < 1. The univariate exponential kernel is d = K = 1; a univariate sum of exponentials is
//! d = 1.
//!
//! Fitting uses the EM algorithm of the branching structure with the decays fixed (as `tick`'s
//! `HawkesSumExpKern` does; scan decays outside if they are unknown). Its M-step is solved exactly
//! under the row-sum constraint Σⱼ Γᵢⱼ ≤ ρ < 1, a sufficient condition for stationarity (it bounds
//! the spectral radius by ρ).

use nalgebra::DMatrix;
use rand::{Rng, RngExt};
use rand_distr::{Distribution, Exp1};

use super::events::MAX_SIMULATED_EVENTS;
use super::exp::poisson_count;
use crate::error::{non_negative, positive, ModelError, Result};

/// Largest dimension d accepted.
pub const MAX_DIMENSION: usize = 64;
/// Largest number of decays K accepted.
pub const MAX_DECAYS: usize = 16;

/// Events of several types: sorted times in seconds with the dimension of each.
#[derive(Debug, Clone, PartialEq)]
pub struct MarkedEvents {
    times_s: Vec<f64>,
    dims: Vec<usize>,
    dimension: usize,
    horizon_s: f64,
}

impl MarkedEvents {
    /// Validates `times_s` (ascending, in [0, horizon_s]) and `dims` (each < `dimension`).
    pub fn new(times_s: Vec<f64>, dims: Vec<usize>, dimension: usize, horizon_s: f64) -> Result<Self> {
        if times_s.len() != dims.len() {
            return Err(ModelError::ShapeMismatch(format!(
                "{} times but {} dimensions",
                times_s.len(),
                dims.len()
            )));
        }
        if let Some(index) = dims.iter().position(|&d| d >= dimension) {
            return Err(ModelError::ShapeMismatch(format!(
                "event {index} has dimension {} but the process has {dimension}",
                dims[index]
            )));
        }
        let checked = super::events::EventTimes::new(times_s, horizon_s)?;
        Ok(Self { times_s: checked.times_s().to_vec(), dims, dimension, horizon_s })
    }

    /// Event times in seconds.
    pub fn times_s(&self) -> &[f64] {
        &self.times_s
    }

    /// Dimension of each event.
    pub fn dims(&self) -> &[usize] {
        &self.dims
    }

    /// Number of dimensions d.
    pub fn dimension(&self) -> usize {
        self.dimension
    }

    /// End of the observation window, seconds.
    pub fn horizon_s(&self) -> f64 {
        self.horizon_s
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.times_s.len()
    }

    /// True when there are no events.
    pub fn is_empty(&self) -> bool {
        self.times_s.is_empty()
    }
}

/// A validated, stationary multivariate sum-of-exponentials Hawkes model.
#[derive(Debug, Clone, PartialEq)]
pub struct MultiHawkes {
    mu_per_s: Vec<f64>,
    decays_per_s: Vec<f64>,
    /// αᵢⱼₖ at index (i·d + j)·K + k.
    alpha_per_s: Vec<f64>,
}

/// Options for [`fit_multi_hawkes_em`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MultiFitOptions {
    /// Row sums of the kernel-norm matrix are kept ≤ this (in (0, 1)).
    pub max_row_branching: f64,
    /// EM iteration cap.
    pub max_iterations: usize,
    /// Stop when the log-likelihood gains less than this times (1 + |loglik|) in an iteration.
    pub tolerance: f64,
}

impl Default for MultiFitOptions {
    fn default() -> Self {
        Self { max_row_branching: 0.999, max_iterations: 5_000, tolerance: 1e-12 }
    }
}

/// Output of [`fit_multi_hawkes_em`].
#[derive(Debug, Clone, PartialEq)]
pub struct MultiHawkesFit {
    /// The fitted model.
    pub model: MultiHawkes,
    /// Log-likelihood at the estimate.
    pub loglik: f64,
    /// Standard errors of μᵢ (from the observed Fisher information; NaN where undefined).
    pub mu_std_errors: Vec<f64>,
    /// Standard errors of αᵢⱼₖ, same layout as [`MultiHawkes::alpha_per_s`].
    pub alpha_std_errors: Vec<f64>,
    /// EM iterations run.
    pub iterations: usize,
    /// Whether the tolerance was met before the iteration cap.
    pub converged: bool,
}

impl MultiHawkes {
    /// Builds the model from μ (length d), the decays β (length K) and α (length d·d·K, index
    /// (i·d + j)·K + k: effect of a type-j event on dimension i through decay k).
    ///
    /// Errors: empty or oversized shapes, μ not > 0, β not > 0, α not ≥ 0 (all finite), or a
    /// kernel-norm matrix with spectral radius ≥ 1 ([`ModelError::NonStationary`]).
    pub fn new(mu_per_s: Vec<f64>, decays_per_s: Vec<f64>, alpha_per_s: Vec<f64>) -> Result<Self> {
        let d = mu_per_s.len();
        let k = decays_per_s.len();
        if d == 0 || d > MAX_DIMENSION || k == 0 || k > MAX_DECAYS {
            return Err(ModelError::ShapeMismatch(format!(
                "need 1..={MAX_DIMENSION} dimensions and 1..={MAX_DECAYS} decays, got {d} and {k}"
            )));
        }
        if alpha_per_s.len() != d * d * k {
            return Err(ModelError::ShapeMismatch(format!(
                "alpha has {} entries, expected d·d·K = {}",
                alpha_per_s.len(),
                d * d * k
            )));
        }
        for &m in &mu_per_s {
            positive("mu_per_s", m)?;
        }
        for &b in &decays_per_s {
            positive("decays_per_s", b)?;
        }
        for &a in &alpha_per_s {
            non_negative("alpha_per_s", a)?;
        }
        let model = Self { mu_per_s, decays_per_s, alpha_per_s };
        let radius = model.branching_ratio()?;
        if radius >= 1.0 {
            return Err(ModelError::NonStationary {
                branching_ratio: radius,
                detail: "spectral radius of the kernel-norm matrix".into(),
            });
        }
        Ok(model)
    }

    /// Number of dimensions d.
    pub fn dimension(&self) -> usize {
        self.mu_per_s.len()
    }

    /// Baseline intensities μ, events per second.
    pub fn mu_per_s(&self) -> &[f64] {
        &self.mu_per_s
    }

    /// Decay rates β, per second.
    pub fn decays_per_s(&self) -> &[f64] {
        &self.decays_per_s
    }

    /// Jumps α, events per second, index (i·d + j)·K + k.
    pub fn alpha_per_s(&self) -> &[f64] {
        &self.alpha_per_s
    }

    fn alpha(&self, i: usize, j: usize, k: usize) -> f64 {
        let (d, kk) = (self.dimension(), self.decays_per_s.len());
        self.alpha_per_s[(i * d + j) * kk + k]
    }

    /// Kernel-norm matrix Γᵢⱼ = Σₖ αᵢⱼₖ/βₖ (row i = target, column j = source), dimensionless.
    pub fn kernel_norms(&self) -> DMatrix<f64> {
        let d = self.dimension();
        DMatrix::from_fn(d, d, |i, j| {
            (0..self.decays_per_s.len()).map(|k| self.alpha(i, j, k) / self.decays_per_s[k]).sum()
        })
    }

    /// Spectral radius of Γ: the branching ratio of the multivariate process.
    pub fn branching_ratio(&self) -> Result<f64> {
        let gamma = self.kernel_norms();
        let eig = gamma.complex_eigenvalues();
        let radius = eig.iter().map(|c| c.norm()).fold(0.0, f64::max);
        if radius.is_finite() {
            Ok(radius)
        } else {
            Err(ModelError::Numerical("eigenvalues of the kernel-norm matrix are not finite".into()))
        }
    }

    /// Stationary mean rates (I − Γ)⁻¹μ, events per second.
    pub fn stationary_rates_per_s(&self) -> Result<Vec<f64>> {
        let d = self.dimension();
        let a = DMatrix::identity(d, d) - self.kernel_norms();
        let mu = nalgebra::DVector::from_column_slice(&self.mu_per_s);
        let x = a.lu().solve(&mu).ok_or_else(|| ModelError::Numerical("I − Γ is singular".into()))?;
        Ok(x.iter().copied().collect())
    }

    fn check_shape(&self, events: &MarkedEvents) -> Result<()> {
        if events.dimension() != self.dimension() {
            return Err(ModelError::ShapeMismatch(format!(
                "events have {} dimensions, the model {}",
                events.dimension(),
                self.dimension()
            )));
        }
        Ok(())
    }

    /// Exact log-likelihood Σₑ ln λ_{dₑ}(tₑ) − Σᵢ ∫₀ᵀ λᵢ, by the O(n·d·K) recursion.
    pub fn log_likelihood(&self, events: &MarkedEvents) -> Result<f64> {
        Ok(self.log_likelihood_gradient(events)?.0)
    }

    /// Log-likelihood and its gradient with respect to μ (length d) and α (layout of
    /// [`MultiHawkes::alpha_per_s`]), the decays held fixed.
    pub fn log_likelihood_gradient(&self, events: &MarkedEvents) -> Result<(f64, Vec<f64>, Vec<f64>)> {
        self.check_shape(events)?;
        let (d, kk) = (self.dimension(), self.decays_per_s.len());
        let features = Features::new(events, &self.decays_per_s);
        let mut grad_mu = vec![-events.horizon_s(); d];
        let mut grad_alpha = vec![0.0; d * d * kk];
        for i in 0..d {
            for j in 0..d {
                for k in 0..kk {
                    grad_alpha[(i * d + j) * kk + k] = -features.exposure[j * kk + k];
                }
            }
        }
        let mut loglik = -self.mu_per_s.iter().sum::<f64>() * events.horizon_s();
        for (i, j, k) in triples(d, kk) {
            loglik -= self.alpha(i, j, k) * features.exposure[j * kk + k];
        }
        for (e, &i) in events.dims().iter().enumerate() {
            let x = features.row(e);
            let row = &self.alpha_per_s[i * d * kk..(i + 1) * d * kk];
            let lambda = self.mu_per_s[i] + row.iter().zip(x).map(|(a, s)| a * s).sum::<f64>();
            loglik += lambda.ln();
            grad_mu[i] += 1.0 / lambda;
            for (g, s) in grad_alpha[i * d * kk..(i + 1) * d * kk].iter_mut().zip(x) {
                *g += s / lambda;
            }
        }
        Ok((loglik, grad_mu, grad_alpha))
    }

    /// Intensities λ(t) of all dimensions at `t_s`, given the events strictly before it.
    pub fn intensity_at(&self, events: &MarkedEvents, t_s: f64) -> Result<Vec<f64>> {
        self.check_shape(events)?;
        let mut out = self.mu_per_s.clone();
        for (&te, &j) in events.times_s().iter().zip(events.dims()).take_while(|(&te, _)| te < t_s) {
            for (i, o) in out.iter_mut().enumerate() {
                for (k, &b) in self.decays_per_s.iter().enumerate() {
                    *o += self.alpha(i, j, k) * (-b * (t_s - te)).exp();
                }
            }
        }
        Ok(out)
    }

    /// Ogata thinning on [0, `horizon_s`]: the total intensity only decays between events, so its
    /// value after the last event bounds it until the next.
    pub fn simulate_thinning<R: Rng + ?Sized>(&self, horizon_s: f64, rng: &mut R) -> Result<MarkedEvents> {
        positive("horizon_s", horizon_s)?;
        let (d, kk) = (self.dimension(), self.decays_per_s.len());
        let mut state = vec![0.0; d * kk]; // Σ e^(−βₖ(t − tₑ)) over type-j events, index j·K + k
        let (mut times, mut dims) = (Vec::new(), Vec::new());
        let mut t = 0.0;
        let mut lambdas = vec![0.0; d];
        loop {
            self.fill_intensities(&state, &mut lambdas);
            let bound: f64 = lambdas.iter().sum();
            let wait: f64 = Exp1.sample(rng);
            let dt = wait / bound;
            t += dt;
            if t > horizon_s {
                break;
            }
            for j in 0..d {
                for (k, &b) in self.decays_per_s.iter().enumerate() {
                    state[j * kk + k] *= (-b * dt).exp();
                }
            }
            self.fill_intensities(&state, &mut lambdas);
            let mut u = rng.random::<f64>() * bound;
            if let Some(i) = (0..d).find(|&i| {
                u -= lambdas[i];
                u <= 0.0
            }) {
                if times.len() >= MAX_SIMULATED_EVENTS {
                    return Err(ModelError::LimitExceeded {
                        what: "simulated events",
                        limit: MAX_SIMULATED_EVENTS,
                        got: times.len(),
                    });
                }
                times.push(t);
                dims.push(i);
                for k in 0..kk {
                    state[i * kk + k] += 1.0;
                }
            }
        }
        Ok(MarkedEvents { times_s: times, dims, dimension: d, horizon_s })
    }

    fn fill_intensities(&self, state: &[f64], out: &mut [f64]) {
        let (d, kk) = (self.dimension(), self.decays_per_s.len());
        for (i, o) in out.iter_mut().enumerate() {
            let row = &self.alpha_per_s[i * d * kk..(i + 1) * d * kk];
            *o = self.mu_per_s[i] + row.iter().zip(state).map(|(a, s)| a * s).sum::<f64>();
        }
    }

    /// Branching (cluster) simulation on [0, `horizon_s`]: Poisson(μᵢT) immigrants per dimension;
    /// each type-j event has Poisson(αᵢⱼₖ/βₖ) type-i children at Exp(βₖ) delays, for every i, k.
    pub fn simulate_branching<R: Rng + ?Sized>(&self, horizon_s: f64, rng: &mut R) -> Result<MarkedEvents> {
        positive("horizon_s", horizon_s)?;
        let (d, kk) = (self.dimension(), self.decays_per_s.len());
        let mut events: Vec<(f64, usize)> = Vec::new();
        for i in 0..d {
            for _ in 0..poisson_count(self.mu_per_s[i] * horizon_s, rng)? {
                events.push((horizon_s * rng.random::<f64>(), i));
            }
        }
        let mut next = 0;
        while next < events.len() {
            let (parent, j) = events[next];
            next += 1;
            for (i, k) in (0..d).flat_map(|i| (0..kk).map(move |k| (i, k))) {
                let beta = self.decays_per_s[k];
                for _ in 0..poisson_count(self.alpha(i, j, k) / beta, rng)? {
                    let delay: f64 = Exp1.sample(rng);
                    let child = parent + delay / beta;
                    if child <= horizon_s {
                        if events.len() >= MAX_SIMULATED_EVENTS {
                            return Err(ModelError::LimitExceeded {
                                what: "simulated events",
                                limit: MAX_SIMULATED_EVENTS,
                                got: events.len(),
                            });
                        }
                        events.push((child, i));
                    }
                }
            }
        }
        events.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (times, dims) = events.into_iter().unzip();
        Ok(MarkedEvents { times_s: times, dims, dimension: d, horizon_s })
    }
}

fn triples(d: usize, kk: usize) -> impl Iterator<Item = (usize, usize, usize)> {
    (0..d).flat_map(move |i| (0..d).flat_map(move |j| (0..kk).map(move |k| (i, j, k))))
}

/// Per-event excitation features Sⱼₖ(tₑ−) = Σ_{type-j events before tₑ} e^(−βₖ(tₑ − t)) and the
/// exposures Gⱼₖ = Σ_{type-j events} (1 − e^(−βₖ(T − t)))/βₖ. The intensity is linear in them.
struct Features {
    width: usize,
    values: Vec<f64>,
    exposure: Vec<f64>,
}

impl Features {
    fn new(events: &MarkedEvents, decays: &[f64]) -> Self {
        let (d, kk) = (events.dimension(), decays.len());
        let width = d * kk;
        let mut values = Vec::with_capacity(events.len() * width);
        let mut state = vec![0.0; width];
        let mut exposure = vec![0.0; width];
        let mut previous_s = 0.0;
        for (&t, &j) in events.times_s().iter().zip(events.dims()) {
            let dt = t - previous_s;
            for (k, &b) in decays.iter().enumerate() {
                let factor = (-b * dt).exp();
                for j in 0..d {
                    state[j * kk + k] *= factor;
                }
            }
            values.extend_from_slice(&state);
            for (k, &b) in decays.iter().enumerate() {
                state[j * kk + k] += 1.0;
                exposure[j * kk + k] -= (-b * (events.horizon_s() - t)).exp_m1() / b;
            }
            previous_s = t;
        }
        Self { width, values, exposure }
    }

    fn row(&self, e: usize) -> &[f64] {
        &self.values[e * self.width..(e + 1) * self.width]
    }
}

/// Fits μ and α of a multivariate sum-of-exponentials Hawkes process with the decays fixed, by EM
/// on the branching structure, with the row sums of Γ kept ≤ `max_row_branching` (stationarity).
///
/// E-step: each type-i event's responsibility splits into background μᵢ/λᵢ and excitation
/// αᵢⱼₖSⱼₖ/λᵢ. M-step: μᵢ = (background mass)/T and, for row i,
/// αᵢⱼₖ = Pᵢⱼₖ/(Gⱼₖ + ν/βₖ) with ν ≥ 0 the multiplier of the row constraint (0 if it is slack,
/// else found by bisection). The likelihood increases at every iteration.
///
/// Errors: shape mismatches, a dimension with no events, a bad option.
pub fn fit_multi_hawkes_em(
    events: &MarkedEvents,
    decays_per_s: &[f64],
    options: &MultiFitOptions,
) -> Result<MultiHawkesFit> {
    let d = events.dimension();
    let kk = decays_per_s.len();
    let rho = options.max_row_branching;
    if !(rho > 0.0 && rho < 1.0) {
        return Err(ModelError::InvalidParameter {
            name: "max_row_branching",
            requirement: "in (0, 1)",
            value: rho,
        });
    }
    let mut counts = vec![0usize; d];
    for &i in events.dims() {
        counts[i] += 1;
    }
    if counts.contains(&0) {
        return Err(ModelError::TooFewData {
            what: "multivariate Hawkes fit (events in the emptiest dimension)",
            needed: 1,
            got: 0,
        });
    }
    let horizon = events.horizon_s();
    let start_alpha = vec![0.5 * rho / (d * kk) as f64; d * d * kk];
    let start_alpha: Vec<f64> =
        start_alpha.iter().enumerate().map(|(idx, a)| a * decays_per_s[idx % kk]).collect();
    let mu: Vec<f64> = counts.iter().map(|&c| 0.5 * c as f64 / horizon).collect();
    let mut model = MultiHawkes::new(mu, decays_per_s.to_vec(), start_alpha)?;
    let features = Features::new(events, decays_per_s);
    let width = d * kk;
    let mut previous = f64::NEG_INFINITY;
    let mut iterations = 0;
    let mut converged = false;
    while iterations < options.max_iterations {
        iterations += 1;
        let mut background = vec![0.0; d];
        let mut mass = vec![0.0; d * width];
        let mut loglik = 0.0;
        for (e, &i) in events.dims().iter().enumerate() {
            let x = features.row(e);
            let row = &model.alpha_per_s[i * width..(i + 1) * width];
            let lambda = model.mu_per_s[i] + row.iter().zip(x).map(|(a, s)| a * s).sum::<f64>();
            loglik += lambda.ln();
            background[i] += model.mu_per_s[i] / lambda;
            for (m, (a, s)) in mass[i * width..(i + 1) * width].iter_mut().zip(row.iter().zip(x)) {
                *m += a * s / lambda;
            }
        }
        loglik -= model.mu_per_s.iter().sum::<f64>() * horizon;
        loglik -= (0..d)
            .map(|i| (0..width).map(|c| model.alpha_per_s[i * width + c] * features.exposure[c]).sum::<f64>())
            .sum::<f64>();
        if loglik - previous < options.tolerance * (1.0 + loglik.abs()) {
            converged = true;
            break;
        }
        previous = loglik;
        for i in 0..d {
            model.mu_per_s[i] = (background[i] / horizon).max(1e-300);
            let row_mass = &mass[i * width..(i + 1) * width];
            let new_row = constrained_row(row_mass, &features.exposure, decays_per_s, rho);
            model.alpha_per_s[i * width..(i + 1) * width].copy_from_slice(&new_row);
        }
    }
    let (mu_std_errors, alpha_std_errors) = multi_standard_errors(&model, events, &features);
    let loglik = model.log_likelihood(events)?;
    Ok(MultiHawkesFit { model, loglik, mu_std_errors, alpha_std_errors, iterations, converged })
}

/// Maximises Σ P_c ln a_c − Σ a_c G_c subject to Σ a_c/β_{c mod K} ≤ ρ, a ≥ 0.
fn constrained_row(mass: &[f64], exposure: &[f64], decays: &[f64], rho: f64) -> Vec<f64> {
    let kk = decays.len();
    let solve = |nu: f64| -> Vec<f64> {
        mass.iter().zip(exposure).enumerate().map(|(c, (p, g))| p / (g + nu / decays[c % kk])).collect()
    };
    let row_norm = |a: &[f64]| a.iter().enumerate().map(|(c, v)| v / decays[c % kk]).sum::<f64>();
    let free = solve(0.0);
    if row_norm(&free) <= rho {
        return free;
    }
    // row_norm(solve(ν)) decreases in ν; bracket and bisect.
    let (mut lo, mut hi) = (0.0, 1.0);
    while row_norm(&solve(hi)) > rho && hi < 1e300 {
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if row_norm(&solve(mid)) > rho {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    solve(hi)
}

/// Standard errors from the observed information of the per-row likelihoods, which are separable:
/// row i's information is Σ_{type-i events} x xᵀ/λ² with x = (1, S(tₑ−)).
fn multi_standard_errors(
    model: &MultiHawkes,
    events: &MarkedEvents,
    features: &Features,
) -> (Vec<f64>, Vec<f64>) {
    let d = model.dimension();
    let width = features.width;
    let mut mu_se = vec![f64::NAN; d];
    let mut alpha_se = vec![f64::NAN; d * width];
    for i in 0..d {
        let mut info = DMatrix::<f64>::zeros(width + 1, width + 1);
        let row = &model.alpha_per_s[i * width..(i + 1) * width];
        for (e, _) in events.dims().iter().enumerate().filter(|(_, &di)| di == i) {
            let x = features.row(e);
            let lambda = model.mu_per_s[i] + row.iter().zip(x).map(|(a, s)| a * s).sum::<f64>();
            let full: Vec<f64> = std::iter::once(1.0).chain(x.iter().copied()).collect();
            for p in 0..=width {
                for q in 0..=width {
                    info[(p, q)] += full[p] * full[q] / (lambda * lambda);
                }
            }
        }
        if let Some(inv) = info.try_inverse() {
            let se = |p: usize| if inv[(p, p)] > 0.0 { inv[(p, p)].sqrt() } else { f64::NAN };
            mu_se[i] = se(0);
            for c in 0..width {
                alpha_se[i * width + c] = se(c + 1);
            }
        }
    }
    (mu_se, alpha_se)
}
