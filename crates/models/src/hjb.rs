//! Finite-difference solvers of the market maker's Hamilton–Jacobi–Bellman equation over
//! (t, q) with inventory limits q ∈ {−Q, …, Q}, the exact matrix-exponential solutions they are
//! checked against, and a solver with an extra alpha (short-term drift) dimension.
//!
//! Both models of `../shared/spec/quoting.md` reduce to one family of ODE systems. With θ_q(t) the
//! value (in ticks) of holding q lots,
//!
//! −θ̇_q = −P_q + C_a·e^(−κ(θ_q − θ_{q−1}))·1{q>−Q} + C_b·e^(−κ(θ_q − θ_{q+1}))·1{q<Q},  θ(T) given,
//!
//! and the optimal depths are δᵃ = θ_q − θ_{q−1} + c, δᵇ = θ_q − θ_{q+1} + c.
//!
//! | | GLFT (Guéant 2017) | Cartea–Jaimungal |
//! |---|---|---|
//! | κ | k | κ |
//! | P_q | ½γσ²q² | φq² − μq (μ a price drift) |
//! | C_a, C_b | A/(k+γ)·(1+γ/k)^(−k/γ) | λ⁺/(eκ), λ⁻/(eκ) |
//! | c | (1/γ)·ln(1+γ/k) | 1/κ |
//! | θ(T) | −ℓq² | −αq² |
//!
//! With ω = e^(κθ) the system becomes linear, ω̇ = Mω with M = diag(κP) − κC_a·(sub-diagonal)
//! − κC_b·(super-diagonal), so ω(t) = e^(−M(T−t))·ω(T): the exact solution ([`InventoryHjb::exact_values`]).
//!
//! A depth can come out negative near the inventory limits; that means "cross the spread". The
//! solvers report the raw feedback depth; the strategy layer decides whether to clip it to the touch
//! or send a marketable order.
//!
//! Mapping of the original plan's references: "inventory penalty (6.14)-(6.17)" is the running
//! penalty φq², the terminal penalty αq², this HJB and the feedback depths above.

use nalgebra::{DMatrix, SymmetricEigen};

use crate::error::{finite, non_negative, positive, ModelError, Result};

/// Largest inventory limit Q the solvers accept (2Q + 1 states).
pub const MAX_INVENTORY_LOTS: u32 = 10_000;
/// Largest number of time steps.
pub const MAX_TIME_STEPS: usize = 10_000_000;
/// Largest number of stored values (time points × states) of a solution.
pub const MAX_STORED_VALUES: usize = 200_000_000;

/// GLFT model parameters (prices in ticks, time in seconds, inventory in lots).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GlftParams {
    /// Mid-price volatility σ, ticks per √s.
    pub sigma_ticks_per_sqrt_s: f64,
    /// Fill intensity at zero depth A, per second.
    pub a_per_s: f64,
    /// Fill-intensity decay k, per tick.
    pub k_per_tick: f64,
    /// Risk aversion γ, per tick per lot.
    pub gamma_per_tick_lot: f64,
    /// Inventory limit Q, lots.
    pub max_inventory_lots: u32,
    /// Horizon T, seconds.
    pub horizon_s: f64,
    /// Terminal penalty ℓ in θ(T) = −ℓq², ticks per lot².
    pub terminal_penalty_ticks_per_lot2: f64,
}

/// Cartea–Jaimungal model parameters (prices in ticks, time in seconds, inventory in lots).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CjParams {
    /// Arrival rate λ⁺ of buy market orders (they lift our ask), per second.
    pub lambda_buy_per_s: f64,
    /// Arrival rate λ⁻ of sell market orders (they hit our bid), per second.
    pub lambda_sell_per_s: f64,
    /// Fill-probability decay κ (fill probability e^(−κδ)), per tick.
    pub kappa_per_tick: f64,
    /// Running inventory penalty φ, ticks per lot² per second.
    pub running_penalty_ticks_per_lot2_s: f64,
    /// Terminal inventory penalty α, ticks per lot².
    pub terminal_penalty_ticks_per_lot2: f64,
    /// Expected price drift μ, ticks per second (0 for a martingale mid).
    pub drift_ticks_per_s: f64,
    /// Inventory limit Q, lots.
    pub max_inventory_lots: u32,
    /// Horizon T, seconds.
    pub horizon_s: f64,
}

/// Time-stepping scheme. Both are first order in Δt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeStepping {
    /// Explicit Euler backwards in time; stable for Δt·κ·(C_a + C_b)·e^(κ·max spread) ≲ 1 and
    /// Δt·max P ≲ 1 roughly. Cheapest per step.
    ExplicitEuler,
    /// Implicit Euler, each step solved by Newton's method on the tridiagonal Jacobian (Thomas
    /// algorithm). Unconditionally stable.
    ImplicitEuler,
}

/// The inventory HJB in its common form (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct InventoryHjb {
    max_inventory_lots: u32,
    kappa_per_tick: f64,
    ask_coefficient: f64,
    bid_coefficient: f64,
    depth_offset_ticks: f64,
    running_penalty: Vec<f64>,
    terminal_value_ticks: Vec<f64>,
    horizon_s: f64,
}

/// A numerical solution on the grid tₖ = k·Δt, k = 0…steps.
#[derive(Debug, Clone, PartialEq)]
pub struct HjbSolution {
    max_inventory_lots: u32,
    depth_offset_ticks: f64,
    dt_s: f64,
    steps: usize,
    values: Vec<f64>,
}

fn check_inventory(q: u32) -> Result<u32> {
    if q == 0 || q > MAX_INVENTORY_LOTS {
        return Err(ModelError::InvalidParameter {
            name: "max_inventory_lots",
            requirement: "between 1 and MAX_INVENTORY_LOTS (10000)",
            value: q as f64,
        });
    }
    Ok(q)
}

fn inventories(q_max: u32) -> impl Iterator<Item = f64> {
    (-(q_max as i64)..=q_max as i64).map(|q| q as f64)
}

impl InventoryHjb {
    /// The GLFT model. Errors: any parameter non-finite or non-positive (the terminal penalty may be
    /// zero), or Q = 0 / above [`MAX_INVENTORY_LOTS`].
    pub fn glft(p: &GlftParams) -> Result<Self> {
        let sigma = non_negative("sigma_ticks_per_sqrt_s", p.sigma_ticks_per_sqrt_s)?;
        let a = positive("a_per_s", p.a_per_s)?;
        let k = positive("k_per_tick", p.k_per_tick)?;
        let gamma = positive("gamma_per_tick_lot", p.gamma_per_tick_lot)?;
        let ell = non_negative("terminal_penalty_ticks_per_lot2", p.terminal_penalty_ticks_per_lot2)?;
        let q_max = check_inventory(p.max_inventory_lots)?;
        let coefficient = a / (k + gamma) * (1.0 + gamma / k).powf(-k / gamma);
        Ok(Self {
            max_inventory_lots: q_max,
            kappa_per_tick: k,
            ask_coefficient: coefficient,
            bid_coefficient: coefficient,
            depth_offset_ticks: (1.0 + gamma / k).ln() / gamma,
            running_penalty: inventories(q_max).map(|q| 0.5 * gamma * sigma * sigma * q * q).collect(),
            terminal_value_ticks: inventories(q_max).map(|q| -ell * q * q).collect(),
            horizon_s: positive("horizon_s", p.horizon_s)?,
        })
    }

    /// The Cartea–Jaimungal model. Errors: non-finite or out-of-range parameters (rates and κ > 0,
    /// penalties ≥ 0), or Q = 0 / above [`MAX_INVENTORY_LOTS`].
    pub fn cartea_jaimungal(p: &CjParams) -> Result<Self> {
        let lambda_buy = positive("lambda_buy_per_s", p.lambda_buy_per_s)?;
        let lambda_sell = positive("lambda_sell_per_s", p.lambda_sell_per_s)?;
        let kappa = positive("kappa_per_tick", p.kappa_per_tick)?;
        let phi = non_negative("running_penalty_ticks_per_lot2_s", p.running_penalty_ticks_per_lot2_s)?;
        let alpha = non_negative("terminal_penalty_ticks_per_lot2", p.terminal_penalty_ticks_per_lot2)?;
        let mu = finite("drift_ticks_per_s", p.drift_ticks_per_s)?;
        let q_max = check_inventory(p.max_inventory_lots)?;
        let e = std::f64::consts::E;
        Ok(Self {
            max_inventory_lots: q_max,
            kappa_per_tick: kappa,
            ask_coefficient: lambda_buy / (e * kappa),
            bid_coefficient: lambda_sell / (e * kappa),
            depth_offset_ticks: 1.0 / kappa,
            running_penalty: inventories(q_max).map(|q| phi * q * q - mu * q).collect(),
            terminal_value_ticks: inventories(q_max).map(|q| -alpha * q * q).collect(),
            horizon_s: positive("horizon_s", p.horizon_s)?,
        })
    }

    /// Number of inventory states 2Q + 1.
    pub fn states(&self) -> usize {
        2 * self.max_inventory_lots as usize + 1
    }

    /// The horizon T in seconds.
    pub fn horizon_s(&self) -> f64 {
        self.horizon_s
    }

    /// The depth offset c in ticks (see the module table).
    pub fn depth_offset_ticks(&self) -> f64 {
        self.depth_offset_ticks
    }

    /// R(θ) = −θ̇ and, if asked, its tridiagonal Jacobian (sub, diag, super).
    fn rhs(&self, theta: &[f64], penalty: &[f64], out: &mut [f64], jac: Option<&mut [Vec<f64>; 3]>) {
        let n = theta.len();
        let kappa = self.kappa_per_tick;
        let mut jac = jac;
        for i in 0..n {
            let ask =
                if i > 0 { self.ask_coefficient * (-kappa * (theta[i] - theta[i - 1])).exp() } else { 0.0 };
            let bid = if i + 1 < n {
                self.bid_coefficient * (-kappa * (theta[i] - theta[i + 1])).exp()
            } else {
                0.0
            };
            out[i] = -penalty[i] + ask + bid;
            if let Some(j) = jac.as_deref_mut() {
                j[0][i] = kappa * ask;
                j[1][i] = -kappa * (ask + bid);
                j[2][i] = kappa * bid;
            }
        }
    }

    /// Solves backwards from T to 0 in `steps` equal steps and stores every time slice.
    ///
    /// Errors: `steps` = 0 or above the limits, a blow-up of the explicit scheme (non-finite
    /// values: reduce Δt or use [`TimeStepping::ImplicitEuler`]), or Newton failing to converge.
    pub fn solve(&self, steps: usize, scheme: TimeStepping) -> Result<HjbSolution> {
        let n = self.states();
        if steps == 0 || steps > MAX_TIME_STEPS {
            return Err(ModelError::LimitExceeded {
                what: "HJB time steps (1 to limit)",
                limit: MAX_TIME_STEPS,
                got: steps,
            });
        }
        if (steps + 1).saturating_mul(n) > MAX_STORED_VALUES {
            return Err(ModelError::LimitExceeded {
                what: "HJB stored values",
                limit: MAX_STORED_VALUES,
                got: (steps + 1) * n,
            });
        }
        let dt = self.horizon_s / steps as f64;
        let mut values = vec![0.0; (steps + 1) * n];
        values[steps * n..].copy_from_slice(&self.terminal_value_ticks);
        let mut stepper = Stepper::new(n);
        for k in (0..steps).rev() {
            let (head, tail) = values.split_at_mut((k + 1) * n);
            let next = &tail[..n];
            let current = &mut head[k * n..];
            stepper.step(self, &self.running_penalty, next, current, dt, scheme)?;
        }
        Ok(HjbSolution {
            max_inventory_lots: self.max_inventory_lots,
            depth_offset_ticks: self.depth_offset_ticks,
            dt_s: dt,
            steps,
            values,
        })
    }

    /// The exact θ(t) for all q at time `t_s` ∈ [0, T], by the matrix exponential (module docs).
    ///
    /// M is made symmetric by the diagonal similarity d_q = (C_a/C_b)^(q/2) and exponentiated by
    /// its eigendecomposition, shifted by the smallest eigenvalue so that long horizons do not
    /// overflow; everything is carried in logs.
    ///
    /// Errors: `t_s` outside [0, T]; a non-positive entry of e^(−Mτ)ω(T) (precision exhausted).
    pub fn exact_values(&self, t_s: f64) -> Result<Vec<f64>> {
        if !(t_s.is_finite() && (0.0..=self.horizon_s).contains(&t_s)) {
            return Err(ModelError::InvalidParameter {
                name: "t_s",
                requirement: "in [0, horizon_s]",
                value: t_s,
            });
        }
        let tau = self.horizon_s - t_s;
        let n = self.states();
        let kappa = self.kappa_per_tick;
        let ln_r = 0.5 * (self.ask_coefficient / self.bid_coefficient).ln();
        let off = -kappa * (self.ask_coefficient * self.bid_coefficient).sqrt();
        let s = DMatrix::from_fn(n, n, |i, j| {
            if i == j {
                kappa * self.running_penalty[i]
            } else if i.abs_diff(j) == 1 {
                off
            } else {
                0.0
            }
        });
        let eigen = SymmetricEigen::new(s);
        let lambda_min = eigen.eigenvalues.iter().copied().fold(f64::INFINITY, f64::min);
        let ln_w: Vec<f64> = (0..n).map(|i| kappa * self.terminal_value_ticks[i] - i as f64 * ln_r).collect();
        let m = ln_w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let w = nalgebra::DVector::from_fn(n, |i, _| (ln_w[i] - m).exp());
        let mut y = eigen.eigenvectors.transpose() * w;
        for (j, yj) in y.iter_mut().enumerate() {
            *yj *= (-(eigen.eigenvalues[j] - lambda_min) * tau).exp();
        }
        let x = &eigen.eigenvectors * y;
        (0..n)
            .map(|i| {
                if x[i] > 0.0 {
                    Ok((i as f64 * ln_r + m - lambda_min * tau + x[i].ln()) / kappa)
                } else {
                    Err(ModelError::Numerical(format!(
                        "matrix exponential lost precision at state {i} (value {})",
                        x[i]
                    )))
                }
            })
            .collect()
    }
}

/// Scratch space for one time step.
struct Stepper {
    rhs: Vec<f64>,
    jac: [Vec<f64>; 3],
    delta: Vec<f64>,
    scratch: Vec<f64>,
}

impl Stepper {
    fn new(n: usize) -> Self {
        Self {
            rhs: vec![0.0; n],
            jac: [vec![0.0; n], vec![0.0; n], vec![0.0; n]],
            delta: vec![0.0; n],
            scratch: vec![0.0; n],
        }
    }

    /// One backward step: `current` = θ(t − Δt) from `next` = θ(t).
    fn step(
        &mut self,
        hjb: &InventoryHjb,
        penalty: &[f64],
        next: &[f64],
        current: &mut [f64],
        dt: f64,
        scheme: TimeStepping,
    ) -> Result<()> {
        match scheme {
            TimeStepping::ExplicitEuler => {
                hjb.rhs(next, penalty, &mut self.rhs, None);
                for i in 0..next.len() {
                    current[i] = next[i] + dt * self.rhs[i];
                }
                if current.iter().any(|v| !v.is_finite()) {
                    return Err(ModelError::Numerical(format!(
                        "explicit HJB step blew up at dt = {dt} s; use smaller steps or the implicit scheme"
                    )));
                }
                Ok(())
            }
            TimeStepping::ImplicitEuler => self.newton(hjb, penalty, next, current, dt),
        }
    }

    /// Solves x − Δt·R(x) = next by Newton's method; the Jacobian I − Δt·∂R is a strictly
    /// diagonally dominant tridiagonal M-matrix, so the Thomas algorithm is stable.
    fn newton(
        &mut self,
        hjb: &InventoryHjb,
        penalty: &[f64],
        next: &[f64],
        x: &mut [f64],
        dt: f64,
    ) -> Result<()> {
        let n = next.len();
        x.copy_from_slice(next);
        for _ in 0..100 {
            hjb.rhs(x, penalty, &mut self.rhs, Some(&mut self.jac));
            // Residual F = x − Δt·R(x) − next; solve J·δ = −F with J = I − Δt·∂R.
            let mut scale: f64 = 1.0;
            for i in 0..n {
                self.delta[i] = -(x[i] - dt * self.rhs[i] - next[i]);
                scale = scale.max(x[i].abs());
            }
            let (sub, diag, sup) = (&self.jac[0], &self.jac[1], &self.jac[2]);
            thomas(
                |i| -dt * sub[i],
                |i| 1.0 - dt * diag[i],
                |i| -dt * sup[i],
                &mut self.delta,
                &mut self.scratch,
            );
            let mut largest: f64 = 0.0;
            for (xi, di) in x.iter_mut().zip(&self.delta) {
                *xi += di;
                largest = largest.max(di.abs());
            }
            if !largest.is_finite() {
                break;
            }
            if largest <= 1e-13 * scale {
                return Ok(());
            }
        }
        Err(ModelError::Numerical(format!("implicit HJB step did not converge at dt = {dt} s")))
    }
}

/// Solves a tridiagonal system in place: `rhs` becomes the solution. `sub(i)` multiplies x_{i−1},
/// `sup(i)` multiplies x_{i+1}.
pub(crate) fn thomas(
    sub: impl Fn(usize) -> f64,
    diag: impl Fn(usize) -> f64,
    sup: impl Fn(usize) -> f64,
    rhs: &mut [f64],
    c_prime: &mut [f64],
) {
    let n = rhs.len();
    let mut denom = diag(0);
    c_prime[0] = sup(0) / denom;
    rhs[0] /= denom;
    for i in 1..n {
        denom = diag(i) - sub(i) * c_prime[i - 1];
        c_prime[i] = sup(i) / denom;
        rhs[i] = (rhs[i] - sub(i) * rhs[i - 1]) / denom;
    }
    for i in (0..n.saturating_sub(1)).rev() {
        rhs[i] -= c_prime[i] * rhs[i + 1];
    }
}

impl HjbSolution {
    /// Time step Δt, seconds.
    pub fn dt_s(&self) -> f64 {
        self.dt_s
    }

    /// Number of time steps; time points are k·Δt for k = 0…steps.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// θ(tₖ) for q = −Q…Q (index q + Q), ticks. `None` for k > steps.
    pub fn values_at(&self, k: usize) -> Option<&[f64]> {
        let n = 2 * self.max_inventory_lots as usize + 1;
        self.values.get(k * n..(k + 1) * n)
    }

    fn value(&self, k: usize, q: i64) -> Option<f64> {
        let q_max = self.max_inventory_lots as i64;
        if q.abs() > q_max {
            return None;
        }
        self.values_at(k).map(|v| v[(q + q_max) as usize])
    }

    /// Optimal bid depth δᵇ(tₖ, q) in ticks (bid = S − δᵇ); `None` at q = Q (no bid at the limit)
    /// or outside the grid. May be negative: see the module docs.
    pub fn bid_depth_ticks(&self, k: usize, q: i64) -> Option<f64> {
        Some(self.value(k, q)? - self.value(k, q + 1)? + self.depth_offset_ticks)
    }

    /// Optimal ask depth δᵃ(tₖ, q) in ticks (ask = S + δᵃ); `None` at q = −Q or outside the grid.
    pub fn ask_depth_ticks(&self, k: usize, q: i64) -> Option<f64> {
        Some(self.value(k, q)? - self.value(k, q - 1)? + self.depth_offset_ticks)
    }
}

/// Parameters of the Cartea–Jaimungal market maker with a short-term alpha signal: the mid drifts
/// at aₜ ticks per second, and aₜ is an Ornstein–Uhlenbeck process da = −ζa dt + η dW.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlphaHjbParams {
    /// The order-flow and penalty parameters; `drift_ticks_per_s` must be 0 (the drift is the state).
    pub base: CjParams,
    /// Mean-reversion rate ζ of the alpha, per second.
    pub alpha_mean_reversion_per_s: f64,
    /// Volatility η of the alpha, ticks per second per √s.
    pub alpha_vol_ticks_per_s_per_sqrt_s: f64,
    /// The alpha grid spans [−a_max, a_max], ticks per second. Take several stationary standard
    /// deviations η/√(2ζ): the boundary rows assume ∂h/∂a = 0 for the diffusion term.
    pub alpha_max_ticks_per_s: f64,
    /// Number of alpha grid points (odd, so that a = 0 is on the grid), at least 3.
    pub alpha_points: usize,
}

/// The HJB with state (t, a, q):
/// −∂ₜh = aq − φq² − ζa∂ₐh + ½η²∂ₐₐh + (the inventory Hamiltonian of [`InventoryHjb`]),
/// discretised with upwind differences for the drift, central differences for the diffusion, and
/// implicit Euler in time by Lie splitting (an implicit inventory step at every a, then an implicit
/// alpha step at every q). First order in Δt, first order in Δa (upwind).
#[derive(Debug, Clone, PartialEq)]
pub struct AlphaHjb {
    inventory: InventoryHjb,
    alpha_grid: Vec<f64>,
    penalties: Vec<Vec<f64>>,
    mean_reversion: f64,
    vol: f64,
}

/// A solution of [`AlphaHjb`]: h(tₖ, aₘ, q) for every step k, alpha node m and inventory q.
#[derive(Debug, Clone, PartialEq)]
pub struct AlphaHjbSolution {
    max_inventory_lots: u32,
    depth_offset_ticks: f64,
    alpha_grid: Vec<f64>,
    dt_s: f64,
    steps: usize,
    values: Vec<f64>,
}

impl AlphaHjb {
    /// Errors: invalid base parameters, a non-zero base drift, a non-positive ζ or a_max, a negative
    /// η, or fewer than 3 / an even number of alpha points.
    pub fn new(p: &AlphaHjbParams) -> Result<Self> {
        if p.base.drift_ticks_per_s != 0.0 {
            return Err(ModelError::InvalidParameter {
                name: "base.drift_ticks_per_s",
                requirement: "0 (the alpha state is the drift)",
                value: p.base.drift_ticks_per_s,
            });
        }
        let inventory = InventoryHjb::cartea_jaimungal(&p.base)?;
        let mean_reversion = non_negative("alpha_mean_reversion_per_s", p.alpha_mean_reversion_per_s)?;
        let vol = non_negative("alpha_vol_ticks_per_s_per_sqrt_s", p.alpha_vol_ticks_per_s_per_sqrt_s)?;
        let a_max = positive("alpha_max_ticks_per_s", p.alpha_max_ticks_per_s)?;
        if p.alpha_points < 3 || p.alpha_points % 2 == 0 || p.alpha_points > 100_001 {
            return Err(ModelError::InvalidParameter {
                name: "alpha_points",
                requirement: "odd, between 3 and 100001",
                value: p.alpha_points as f64,
            });
        }
        let half = (p.alpha_points / 2) as f64;
        let alpha_grid: Vec<f64> = (0..p.alpha_points).map(|m| a_max * (m as f64 - half) / half).collect();
        let penalties = alpha_grid
            .iter()
            .map(|a| {
                inventories(p.base.max_inventory_lots)
                    .zip(&inventory.running_penalty)
                    .map(|(q, base)| base - a * q)
                    .collect()
            })
            .collect();
        Ok(Self { inventory, alpha_grid, penalties, mean_reversion, vol })
    }

    /// The alpha grid, ticks per second.
    pub fn alpha_grid(&self) -> &[f64] {
        &self.alpha_grid
    }

    /// Solves backwards in `steps` implicit steps and stores every time slice.
    ///
    /// Errors: `steps` = 0 or above the limits; Newton failing to converge.
    pub fn solve(&self, steps: usize) -> Result<AlphaHjbSolution> {
        let n = self.inventory.states();
        let na = self.alpha_grid.len();
        let slice = n * na;
        if steps == 0 || steps > MAX_TIME_STEPS {
            return Err(ModelError::LimitExceeded {
                what: "HJB time steps (1 to limit)",
                limit: MAX_TIME_STEPS,
                got: steps,
            });
        }
        if (steps + 1).saturating_mul(slice) > MAX_STORED_VALUES {
            return Err(ModelError::LimitExceeded {
                what: "HJB stored values",
                limit: MAX_STORED_VALUES,
                got: (steps + 1).saturating_mul(slice),
            });
        }
        let dt = self.inventory.horizon_s / steps as f64;
        let mut values = vec![0.0; (steps + 1) * slice];
        for m in 0..na {
            values[steps * slice + m * n..steps * slice + (m + 1) * n]
                .copy_from_slice(&self.inventory.terminal_value_ticks);
        }
        let mut stepper = Stepper::new(n);
        let (mut column, mut scratch) = (vec![0.0; na], vec![0.0; na]);
        for k in (0..steps).rev() {
            let (head, tail) = values.split_at_mut((k + 1) * slice);
            let next = &tail[..slice];
            let current = &mut head[k * slice..];
            for m in 0..na {
                let range = m * n..(m + 1) * n;
                stepper.step(
                    &self.inventory,
                    &self.penalties[m],
                    &next[range.clone()],
                    &mut current[range],
                    dt,
                    TimeStepping::ImplicitEuler,
                )?;
            }
            for q in 0..n {
                for m in 0..na {
                    column[m] = current[m * n + q];
                }
                self.alpha_step(&mut column, &mut scratch, dt);
                for m in 0..na {
                    current[m * n + q] = column[m];
                }
            }
        }
        Ok(AlphaHjbSolution {
            max_inventory_lots: self.inventory.max_inventory_lots,
            depth_offset_ticks: self.inventory.depth_offset_ticks,
            alpha_grid: self.alpha_grid.clone(),
            dt_s: dt,
            steps,
            values,
        })
    }

    /// Solves (I − Δt·L)x = column in place, L = −ζa∂ₐ (upwind) + ½η²∂ₐₐ (central; reflecting ends).
    fn alpha_step(&self, column: &mut [f64], scratch: &mut [f64], dt: f64) {
        let na = self.alpha_grid.len();
        let da = self.alpha_grid[1] - self.alpha_grid[0];
        let diffusion = 0.5 * self.vol * self.vol / (da * da);
        // Coefficients of L on x_{m−1} (lower), x_m (centre) and x_{m+1} (upper); all off-diagonal
        // coefficients are ≥ 0, so I − Δt·L is an M-matrix and the step is monotone.
        let coefficients = |m: usize| {
            let drift = -self.mean_reversion * self.alpha_grid[m];
            let (mut lower, mut upper) = (diffusion, diffusion);
            if drift > 0.0 {
                upper += drift / da;
            } else {
                lower -= drift / da;
            }
            if m == 0 {
                upper += lower;
                lower = 0.0;
            }
            if m + 1 == na {
                lower += upper;
                upper = 0.0;
            }
            (lower, upper)
        };
        thomas(
            |m| -dt * coefficients(m).0,
            |m| {
                let (lower, upper) = coefficients(m);
                1.0 + dt * (lower + upper)
            },
            |m| -dt * coefficients(m).1,
            column,
            scratch,
        );
    }
}

impl AlphaHjbSolution {
    /// Time step Δt, seconds.
    pub fn dt_s(&self) -> f64 {
        self.dt_s
    }

    /// Number of time steps.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// The alpha grid, ticks per second.
    pub fn alpha_grid(&self) -> &[f64] {
        &self.alpha_grid
    }

    /// h(tₖ, aₘ, q) in ticks; `None` outside the grid.
    pub fn value(&self, k: usize, m: usize, q: i64) -> Option<f64> {
        let q_max = self.max_inventory_lots as i64;
        let n = 2 * self.max_inventory_lots as usize + 1;
        if q.abs() > q_max || m >= self.alpha_grid.len() || k > self.steps {
            return None;
        }
        self.values.get((k * self.alpha_grid.len() + m) * n + (q + q_max) as usize).copied()
    }

    /// Optimal bid depth δᵇ(tₖ, aₘ, q) in ticks; `None` at q = Q or outside the grid.
    pub fn bid_depth_ticks(&self, k: usize, m: usize, q: i64) -> Option<f64> {
        Some(self.value(k, m, q)? - self.value(k, m, q + 1)? + self.depth_offset_ticks)
    }

    /// Optimal ask depth δᵃ(tₖ, aₘ, q) in ticks; `None` at q = −Q or outside the grid.
    pub fn ask_depth_ticks(&self, k: usize, m: usize, q: i64) -> Option<f64> {
        Some(self.value(k, m, q)? - self.value(k, m, q - 1)? + self.depth_offset_ticks)
    }
}
