//! Exact solutions of the linearised inventory HJB, ω(τ) = e^(−Mτ)·ω(T), computed so that every
//! entry keeps its full relative precision, for any horizon.
//!
//! # Why not `zkclob_models::hjb::InventoryHjb::exact_values`
//! That routine exponentiates M by its eigendecomposition, v = U·e^(−(Λ−λ_min)τ)·Uᵀ·w: it never
//! overflows, but each entry of the result carries an *absolute* error of about 10⁻¹⁶ of the
//! largest entry. At long horizons ω tends to the Perron eigenvector, whose tails fall like
//! e^(−βq²/2) (β = skew per lot × k): as soon as βQ²/2 exceeds ~35 the entries near ±Q are below
//! the rounding noise, their logarithms (the depths) are wrong, and once one comes out ≤ 0 the
//! routine returns an error. With σ = 2 ticks/√s, γ = 0.1, A = 0.9/s, k = 0.3/tick this already
//! happens at Q = 20. The depths need ratios of neighbouring entries, so they need every entry to
//! *relative* precision.
//!
//! # The method: uniformisation in a moving log gauge
//! M is tridiagonal with non-positive off-diagonal entries (a Z-matrix), so G = cI − M with
//! c = max Mᵢᵢ is entrywise non-negative and e^(−Mh) = e^(−ch)·e^(Gh). The state is kept as
//! logarithms L (ω = e^(L + s)); at each step it is re-gauged to the vector of ones, so a step is
//! e^(Ĝh)·𝟏 with Ĝ = D⁻¹GD, D = diag(e^L): a Taylor series of a non-negative matrix applied to a
//! positive vector. Every term is a sum of non-negative numbers, so there is no cancellation and
//! each entry is exact to a few ulps *relative*, however small it is; the logs absorb the range.
//! The step h is chosen so that h·‖Ĝ‖∞ ≤ [`STEP_NORM`] (a few dozen terms); the series stops once
//! the term index is at least twice h‖Ĝ‖∞ (from there each term is at most half the previous one
//! in ∞-norm, so the tail is at most the last term) and the last term is below 2⁻⁵⁴ of the smallest
//! partial sum.
//!
//! # Long horizons
//! The normalised ω converges to the Perron eigenvector of −M at the rate of the spectral gap. A
//! step's gauge-balanced row sums are all equal exactly when e^L is that eigenvector, so their
//! relative spread is a residual: once it stays below [`STATIONARY_RESIDUAL`], or stops falling at
//! its rounding noise (see [`NoiseFloor`]), the rest of the horizon only rescales ω, the depths
//! are stationary, and the propagation stops. A horizon of
//! 10⁶ s therefore costs what a few relaxation times cost. The steps actually taken are stored
//! (the *table*); a depth at any τ is the stored row at or below τ advanced exactly by the
//! remainder (one partial step), so quoting never re-solves.

use crate::quoter::StrategyError;

/// Target h·‖Ĝ‖∞ of one step. Larger steps need fewer terms per unit of time and fewer stored
/// rows; smaller ones make the partial step of a query cheaper.
const STEP_NORM: f64 = 16.0;
/// Largest number of Taylor terms in one step (the stopping rule needs about 50 at `STEP_NORM`).
const MAX_TERMS: usize = 200;
/// Relative spread of the gauge-balanced row sums below which ω is taken as stationary. The error
/// in the log-ratios is about this residual times ‖Ĝ‖/gap; see the module docs.
const STATIONARY_RESIDUAL: f64 = 1e-13;
/// Largest log-ratio between neighbouring entries of ω: beyond it the depth difference between
/// neighbouring inventories exceeds 700/κ ticks and e^(ΔL) would overflow.
const MAX_LOG_GAP: f64 = 700.0;
/// Most propagation steps one table may take (a limit on precomputation time).
pub const MAX_EXACT_STEPS: usize = 200_000;
/// Most stored values (steps × states) of one table (32 MB of `f64`).
pub const MAX_EXACT_TABLE_VALUES: usize = 4_000_000;

/// The tridiagonal Z-matrix M of ω̇ = Mω (backwards in time): diagonal `diag`, M_{i,i−1} =
/// −`sub[i]`, M_{i,i+1} = −`sup[i]` (`sub[0]` and `sup[n−1]` are zero).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Generator {
    pub diag: Vec<f64>,
    pub sub: Vec<f64>,
    pub sup: Vec<f64>,
}

impl Generator {
    /// Checks every coefficient is finite and the off-diagonals are positive (an irreducible chain:
    /// both kinds of fills possible at every interior state).
    pub fn check(&self) -> Result<(), StrategyError> {
        let n = self.diag.len();
        let interior_ok = (1..n).all(|i| self.sub[i] > 0.0 && self.sub[i].is_finite())
            && (0..n - 1).all(|i| self.sup[i] > 0.0 && self.sup[i].is_finite());
        if n < 3 || !interior_ok || self.diag.iter().any(|d| !d.is_finite()) {
            return Err(StrategyError::Numerical(
                "exact solution: non-finite or non-positive fill-rate coefficients \
                 (a parameter is too extreme)"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// Scratch vectors of one step.
struct Work {
    lo: Vec<f64>,
    up: Vec<f64>,
    g_diag: Vec<f64>,
    term: Vec<f64>,
    next: Vec<f64>,
    sum: Vec<f64>,
}

impl Work {
    fn new(n: usize) -> Self {
        Self {
            lo: vec![0.0; n],
            up: vec![0.0; n],
            g_diag: vec![0.0; n],
            term: vec![0.0; n],
            next: vec![0.0; n],
            sum: vec![0.0; n],
        }
    }
}

/// Result of building the gauge-balanced generator for a state.
struct Balanced {
    /// ‖Ĝ‖∞ (the largest row sum).
    norm: f64,
    /// Relative spread of the row sums (zero exactly at the stationary vector).
    residual: f64,
}

/// Builds Ĝ = D⁻¹(cI − M)D for D = diag(e^L) into `w.lo`, `w.g_diag`, `w.up`.
fn balance(g: &Generator, log: &[f64], shift: f64, w: &mut Work) -> Result<Balanced, StrategyError> {
    let n = log.len();
    let (mut norm, mut smallest) = (0.0f64, f64::INFINITY);
    for i in 0..n {
        let gap_lo = if i > 0 { log[i - 1] - log[i] } else { 0.0 };
        let gap_up = if i + 1 < n { log[i + 1] - log[i] } else { 0.0 };
        if gap_lo > MAX_LOG_GAP || gap_up > MAX_LOG_GAP {
            return Err(StrategyError::Numerical(format!(
                "exact solution: the value of neighbouring inventories differs by more than \
                 {MAX_LOG_GAP}/κ ticks at state {i}; the parameters are too extreme"
            )));
        }
        w.lo[i] = if i > 0 { g.sub[i] * gap_lo.exp() } else { 0.0 };
        w.up[i] = if i + 1 < n { g.sup[i] * gap_up.exp() } else { 0.0 };
        w.g_diag[i] = shift - g.diag[i];
        let row = w.g_diag[i] + w.lo[i] + w.up[i];
        norm = norm.max(row);
        smallest = smallest.min(row);
    }
    if !norm.is_finite() {
        return Err(StrategyError::Numerical("exact solution: generator norm overflowed".into()));
    }
    let residual = if norm > 0.0 { (norm - smallest) / norm } else { 0.0 };
    Ok(Balanced { norm, residual })
}

/// One step of length `h` from the gauge-balanced state (ω = e^L): `log += ln(e^(Ĝh)·𝟏)`, then
/// normalised. The common factor e^(−ch) is left out: it does not change ratios.
fn advance(log: &mut [f64], h: f64, norm: f64, w: &mut Work) -> Result<(), StrategyError> {
    let n = log.len();
    w.term.iter_mut().for_each(|t| *t = 1.0);
    w.sum.iter_mut().for_each(|s| *s = 1.0);
    let hn = h * norm;
    let mut converged = hn == 0.0;
    for m in 1..=MAX_TERMS {
        if converged {
            break;
        }
        let scale = h / m as f64;
        let mut largest = 0.0f64;
        for i in 0..n {
            let mut v = w.g_diag[i] * w.term[i];
            if i > 0 {
                v += w.lo[i] * w.term[i - 1];
            }
            if i + 1 < n {
                v += w.up[i] * w.term[i + 1];
            }
            w.next[i] = scale * v;
            largest = largest.max(w.next[i]);
        }
        std::mem::swap(&mut w.term, &mut w.next);
        let mut smallest_sum = f64::INFINITY;
        for (s, t) in w.sum.iter_mut().zip(&w.term) {
            *s += t;
            smallest_sum = smallest_sum.min(*s);
        }
        // Past m ≥ 2h‖Ĝ‖ each further term is at most half the previous one in ∞-norm, so the
        // tail of every entry is at most twice the largest current term; every sum is ≥ 1.
        converged = m as f64 >= 2.0 * hn && largest <= smallest_sum * (f64::EPSILON / 4.0);
    }
    if !converged {
        return Err(StrategyError::Numerical("exact solution: Taylor series did not converge".into()));
    }
    for (l, s) in log.iter_mut().zip(&w.sum) {
        *l += s.ln();
    }
    normalise(log);
    if log.iter().any(|l| !l.is_finite()) {
        return Err(StrategyError::Numerical("exact solution: non-finite value".into()));
    }
    Ok(())
}

/// Subtracts the largest entry (a common factor of ω: ratios are unchanged).
fn normalise(log: &mut [f64]) {
    let top = log.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if top.is_finite() {
        log.iter_mut().for_each(|l| *l -= top);
    }
}

/// Rejects, before any work, problems whose estimated step count is far beyond
/// [`MAX_EXACT_STEPS`]. Steps cost h = `STEP_NORM`/‖Ĝ‖ each, ‖Ĝ‖ ≈ D + 2η (D the spread of the
/// diagonal, η the coupling). For a strong penalty the spectral gap of the harmonic-oscillator-like
/// chain is ≈ 2·sqrt(Dη)/Q, and relaxing takes ≈ 30/gap, i.e. ≈ Q·sqrt(D/η) steps; a finite horizon
/// needs at most T·‖Ĝ‖/`STEP_NORM`. The estimate is rough, hence the factor 4 of margin; the step
/// and storage limits still bound whatever passes.
fn check_stiffness(g: &Generator, horizon_s: f64) -> Result<(), StrategyError> {
    let n = g.diag.len();
    let (lo, hi) = g.diag.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &d| (l.min(d), h.max(d)));
    let couplings = g.sub[1..].iter().chain(&g.sup[..n - 1]);
    let (eta_min, eta_max) = couplings.fold((f64::INFINITY, 0.0f64), |(l, h), &c| (l.min(c), h.max(c)));
    let spread = hi - lo;
    let half = (n - 1) as f64 / 2.0;
    let relax_steps = half * (spread / eta_min).sqrt();
    let horizon_steps = horizon_s * (spread + 2.0 * eta_max) / STEP_NORM;
    let estimate = relax_steps.min(horizon_steps);
    if estimate.is_finite() && estimate <= 4.0 * MAX_EXACT_STEPS as f64 {
        Ok(())
    } else {
        Err(StrategyError::Numerical(format!(
            "exact solution: the parameters are too stiff (about {estimate:.3e} steps needed, limit \
             {MAX_EXACT_STEPS}): the inventory penalty dwarfs the fill rates; reduce Q or the penalty"
        )))
    }
}

/// Decides when the residual says "stationary": three consecutive residuals at most
/// [`STATIONARY_RESIDUAL`], or, once below [`NOISE_FLOOR_ENTRY`], [`NOISE_FLOOR_STALLS`] steps on
/// which it failed to decrease. A positive linear system contracts monotonically (in Hilbert's
/// projective metric), so while it is still converging the residual keeps falling; when it stops
/// falling it has reached the rounding noise of the logs (measured ~2·10⁻¹³ with ‖Ĝ‖ ≈ 900), where
/// further steps cannot improve the depths.
#[derive(Debug, Default)]
struct NoiseFloor {
    calm: u32,
    stalls: u32,
    previous: Option<f64>,
}

/// Below this residual, stalls count towards [`NoiseFloor`].
const NOISE_FLOOR_ENTRY: f64 = 1e-9;
/// Stalls below [`NOISE_FLOOR_ENTRY`] that mean the residual is at the rounding noise.
const NOISE_FLOOR_STALLS: u32 = 16;

impl NoiseFloor {
    fn is_stationary(&mut self, residual: f64) -> bool {
        self.calm = if residual <= STATIONARY_RESIDUAL { self.calm + 1 } else { 0 };
        if residual <= NOISE_FLOOR_ENTRY && self.previous.is_some_and(|p| residual >= p) {
            self.stalls += 1;
        }
        self.previous = Some(residual);
        self.calm >= 3 || self.stalls >= NOISE_FLOOR_STALLS
    }
}

/// ln ω on the time-to-horizon grid τ₀ = 0 < τ₁ < … of the steps actually taken, for one
/// generator and one terminal condition; see the module docs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ExactTable {
    generator: Generator,
    shift: f64,
    /// τ of each stored row, ascending, starting at 0.
    times_s: Vec<f64>,
    /// ln ω (normalised: max 0), `n` values per row.
    logs: Vec<f64>,
    /// The last row is the stationary limit: it holds for every larger τ.
    stationary: bool,
}

impl ExactTable {
    /// Propagates from the terminal condition `terminal_log` (= ln ω(T)) up to `horizon_s`
    /// (`f64::INFINITY` for the stationary limit only), storing every step.
    ///
    /// Errors: bad coefficients, the step or storage limits ([`MAX_EXACT_STEPS`],
    /// [`MAX_EXACT_TABLE_VALUES`]), or parameters so extreme that neighbouring log-values differ by
    /// more than 700.
    pub fn build(generator: Generator, terminal_log: &[f64], horizon_s: f64) -> Result<Self, StrategyError> {
        generator.check()?;
        check_stiffness(&generator, horizon_s)?;
        let n = generator.diag.len();
        if terminal_log.len() != n || terminal_log.iter().any(|l| !l.is_finite()) {
            return Err(StrategyError::Numerical("exact solution: bad terminal condition".into()));
        }
        let shift = generator.diag.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut log = terminal_log.to_vec();
        normalise(&mut log);
        let mut table = Self { generator, shift, times_s: vec![0.0], logs: log.clone(), stationary: false };
        let mut w = Work::new(n);
        let mut tau = 0.0;
        let mut floor = NoiseFloor::default();
        while tau < horizon_s {
            let b = balance(&table.generator, &log, shift, &mut w)?;
            if floor.is_stationary(b.residual) {
                table.stationary = true;
                break;
            }
            if table.times_s.len() > MAX_EXACT_STEPS || table.logs.len() + n > MAX_EXACT_TABLE_VALUES {
                if horizon_s.is_infinite() {
                    return Err(StrategyError::Numerical(format!(
                        "stationary limit not reached within {} steps: the spectral gap is too small \
                         for these parameters",
                        table.times_s.len() - 1
                    )));
                }
                return Err(StrategyError::Numerical(format!(
                    "exact solution: more than {} steps ({} stored values) over the horizon {horizon_s} s \
                     before it becomes stationary: use a shorter horizon or a smaller Q",
                    table.times_s.len() - 1,
                    table.logs.len()
                )));
            }
            let h = if b.norm > 0.0 { (STEP_NORM / b.norm).min(horizon_s - tau) } else { horizon_s - tau };
            if !h.is_finite() {
                // A zero generator with an infinite horizon: ω is constant.
                table.stationary = true;
                break;
            }
            advance(&mut log, h, b.norm, &mut w)?;
            tau = if horizon_s - tau <= h { horizon_s } else { tau + h };
            table.times_s.push(tau);
            table.logs.extend_from_slice(&log);
        }
        Ok(table)
    }

    /// Number of states.
    pub fn states(&self) -> usize {
        self.generator.diag.len()
    }

    /// Whether the table reached the stationary limit.
    #[cfg(test)]
    pub fn is_stationary(&self) -> bool {
        self.stationary
    }

    /// ln ω at time to horizon `tau_s` (normalised; only differences are meaningful). For τ past
    /// the last row the table must be stationary (the caller checks τ ≤ horizon).
    pub fn log_values(&self, tau_s: f64) -> Result<Vec<f64>, StrategyError> {
        let n = self.states();
        let last = self.times_s.len() - 1;
        // Row j: the last stored τ_j ≤ τ.
        let j = self.times_s.partition_point(|&t| t <= tau_s).saturating_sub(1);
        let row = self.logs[j * n..(j + 1) * n].to_vec();
        let remainder = tau_s - self.times_s[j];
        if remainder <= 0.0 || (j == last && self.stationary) {
            return Ok(row);
        }
        let mut log = row;
        let mut w = Work::new(n);
        let b = balance(&self.generator, &log, self.shift, &mut w)?;
        advance(&mut log, remainder, b.norm, &mut w)?;
        Ok(log)
    }

    /// The stationary row, if the table reached it.
    pub fn stationary_log_values(&self) -> Option<&[f64]> {
        let n = self.states();
        self.stationary.then(|| &self.logs[self.logs.len() - n..])
    }

    /// The row stored at τ = `tau_s` exactly, if any (the common query τ = T at t = 0).
    pub fn stored_row(&self, tau_s: f64) -> Option<&[f64]> {
        let n = self.states();
        let j = self.times_s.partition_point(|&t| t < tau_s);
        (self.times_s.get(j) == Some(&tau_s)).then(|| &self.logs[j * n..(j + 1) * n])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zkclob_models::hjb::{CjParams, InventoryHjb};

    /// The Cartea–Jaimungal generator of `zkclob_models` (asymmetric flow and a drift, so the
    /// generator is not symmetric), built by hand: M = diag(κ(φq² − μq)), sub −λ⁺/e, sup −λ⁻/e.
    fn cj(q_max: u32, kappa: f64, horizon_s: f64) -> (InventoryHjb, Generator, Vec<f64>) {
        let p = CjParams {
            lambda_buy_per_s: 1.2,
            lambda_sell_per_s: 0.8,
            kappa_per_tick: kappa,
            running_penalty_ticks_per_lot2_s: 0.02,
            terminal_penalty_ticks_per_lot2: 0.1,
            drift_ticks_per_s: 0.05,
            max_inventory_lots: q_max,
            horizon_s,
        };
        let e = std::f64::consts::E;
        let qs: Vec<f64> = (-(q_max as i64)..=q_max as i64).map(|q| q as f64).collect();
        let n = qs.len();
        let g = Generator {
            diag: qs.iter().map(|q| kappa * (0.02 * q * q - 0.05 * q)).collect(),
            sub: (0..n).map(|i| if i > 0 { 1.2 / e } else { 0.0 }).collect(),
            sup: (0..n).map(|i| if i + 1 < n { 0.8 / e } else { 0.0 }).collect(),
        };
        let terminal = qs.iter().map(|q| -kappa * 0.1 * q * q).collect();
        (InventoryHjb::cartea_jaimungal(&p).expect("valid"), g, terminal)
    }

    /// Mild parameters (shallow tails), where the eigendecomposition route of `zkclob_models` is
    /// accurate to ~1e-13: both must give the same log-ratios at every stored and intermediate τ.
    #[test]
    fn propagation_matches_the_eigendecomposition_route_on_a_mild_problem() {
        let (hjb, g, terminal) = cj(4, 0.7, 30.0);
        let table = ExactTable::build(g, &terminal, 30.0).expect("builds");
        for tau in [0.0, 0.3, 2.5, 11.1, 30.0] {
            let theta = hjb.exact_values(30.0 - tau).expect("exact");
            let log = table.log_values(tau).expect("values");
            for i in 0..8 {
                let want = theta[i] - theta[i + 1];
                let got = (log[i] - log[i + 1]) / 0.7;
                assert!((got - want).abs() < 1e-10, "tau {tau} i {i}: {got} vs {want}");
            }
        }
    }

    #[test]
    fn long_horizons_stop_at_the_stationary_limit_and_match_it() {
        let (hjb, g, terminal) = cj(4, 0.7, 2_000.0);
        let table = ExactTable::build(g, &terminal, 1e6).expect("builds");
        assert!(table.is_stationary());
        assert!(table.times_s.last().copied().unwrap_or(0.0) < 2_000.0, "stopped early");
        let theta = hjb.exact_values(0.0).expect("exact");
        let log = table.log_values(1e6).expect("values");
        assert_eq!(table.stationary_log_values().map(<[f64]>::to_vec), Some(log.clone()));
        for i in 0..8 {
            let got = (log[i] - log[i + 1]) / 0.7;
            assert!((got - (theta[i] - theta[i + 1])).abs() < 1e-9, "i {i}");
        }
    }

    #[test]
    fn bad_generators_are_errors() {
        let g = Generator { diag: vec![0.0; 3], sub: vec![0.0, 0.0, 1.0], sup: vec![1.0, 1.0, 0.0] };
        assert!(ExactTable::build(g, &[0.0; 3], 1.0).is_err());
        let g =
            Generator { diag: vec![f64::NAN, 0.0, 0.0], sub: vec![0.0, 1.0, 1.0], sup: vec![1.0, 1.0, 0.0] };
        assert!(ExactTable::build(g, &[0.0; 3], 1.0).is_err());
        let g = Generator { diag: vec![0.0; 3], sub: vec![0.0, 1.0, 1.0], sup: vec![1.0, 1.0, 0.0] };
        assert!(ExactTable::build(g, &[0.0, f64::NEG_INFINITY, 0.0], 1.0).is_err());
    }
}
