//! A small damped Newton maximiser for smooth objectives over a polyhedral feasible set.
//!
//! Used by the Hawkes maximum-likelihood fits, where the objective's exact gradient and Hessian cost
//! one O(n) pass each: Newton then converges in a handful of passes, which a quasi-Newton method
//! (argmin's L-BFGS, say) would need several times more of. Feasibility is kept by never stepping
//! more than 95% of the way to the boundary (the fraction-to-boundary rule of interior-point
//! methods), so every iterate is strictly feasible; an Armijo backtracking search guarantees ascent.

/// What the maximiser reports.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NewtonOutcome<const N: usize> {
    pub x: [f64; N],
    pub value: f64,
    pub iterations: usize,
    pub converged: bool,
}

/// Objective value, gradient and Hessian at a point; `None` if the point is not admissible.
pub(crate) type Evaluation<const N: usize> = Option<(f64, [f64; N], [[f64; N]; N])>;

/// Maximises `eval` from the strictly feasible `x0`. `max_step(x, d)` returns the largest `t` such
/// that `x + t·d` is still feasible (`f64::INFINITY` when unbounded).
pub(crate) fn newton_maximize<const N: usize>(
    x0: [f64; N],
    max_iterations: usize,
    mut eval: impl FnMut(&[f64; N]) -> Evaluation<N>,
    max_step: impl Fn(&[f64; N], &[f64; N]) -> f64,
) -> Option<NewtonOutcome<N>> {
    let mut x = x0;
    let (mut f, mut g, mut h) = eval(&x)?;
    for iteration in 0..max_iterations {
        let d = damped_newton_direction(&g, &h)?;
        let slope: f64 = g.iter().zip(&d).map(|(a, b)| a * b).sum();
        let scale = 1.0 + f.abs();
        if slope <= 1e-13 * scale {
            return Some(NewtonOutcome { x, value: f, iterations: iteration, converged: true });
        }
        let mut t = (0.95 * max_step(&x, &d)).min(1.0);
        let mut accepted = None;
        for _ in 0..60 {
            let trial: [f64; N] = std::array::from_fn(|i| x[i] + t * d[i]);
            if let Some((ft, gt, ht)) = eval(&trial) {
                if ft.is_finite() && ft >= f + 1e-4 * t * slope {
                    accepted = Some((trial, ft, gt, ht));
                    break;
                }
            }
            t *= 0.5;
        }
        let Some((trial, ft, gt, ht)) = accepted else {
            // No ascent possible along a Newton direction: we sit at the optimum to machine precision.
            return Some(NewtonOutcome { x, value: f, iterations: iteration, converged: true });
        };
        let improvement = ft - f;
        x = trial;
        (f, g, h) = (ft, gt, ht);
        if improvement <= 1e-14 * scale {
            return Some(NewtonOutcome { x, value: f, iterations: iteration + 1, converged: true });
        }
    }
    Some(NewtonOutcome { x, value: f, iterations: max_iterations, converged: false })
}

/// Solves (−H + λ·diag)·d = g, raising λ until −H + λ·diag is positive definite (Levenberg damping).
fn damped_newton_direction<const N: usize>(g: &[f64; N], h: &[[f64; N]; N]) -> Option<[f64; N]> {
    let diag_scale: [f64; N] = std::array::from_fn(|i| h[i][i].abs().max(1e-300));
    let mut lambda = 0.0;
    for _ in 0..80 {
        let mut a = [[0.0; N]; N];
        for i in 0..N {
            for j in 0..N {
                a[i][j] = -h[i][j];
            }
            a[i][i] += lambda * diag_scale[i];
        }
        if let Some(d) = cholesky_solve(a, g) {
            if d.iter().all(|v| v.is_finite()) {
                return Some(d);
            }
        }
        lambda = if lambda == 0.0 { 1e-10 } else { lambda * 10.0 };
    }
    None
}

/// Solves A·x = b for a symmetric positive definite A; `None` if A is not positive definite.
// Index loops mirror the textbook recurrences of the factorisation; iterators would obscure them.
#[allow(clippy::needless_range_loop)]
fn cholesky_solve<const N: usize>(mut a: [[f64; N]; N], b: &[f64; N]) -> Option<[f64; N]> {
    for j in 0..N {
        let mut diag = a[j][j];
        for k in 0..j {
            diag -= a[j][k] * a[j][k];
        }
        if diag.is_nan() || diag <= 0.0 {
            return None;
        }
        let ljj = diag.sqrt();
        a[j][j] = ljj;
        for i in (j + 1)..N {
            let mut s = a[i][j];
            for k in 0..j {
                s -= a[i][k] * a[j][k];
            }
            a[i][j] = s / ljj;
        }
    }
    let mut y = *b;
    for i in 0..N {
        for k in 0..i {
            y[i] -= a[i][k] * y[k];
        }
        y[i] /= a[i][i];
    }
    for i in (0..N).rev() {
        for k in (i + 1)..N {
            y[i] -= a[k][i] * y[k];
        }
        y[i] /= a[i][i];
    }
    Some(y)
}

/// Largest `t ≥ 0` with `a·(x + t·d) ≤ b`, or infinity if the constraint never binds along `d`.
pub(crate) fn linear_step_limit<const N: usize>(a: &[f64; N], b: f64, x: &[f64; N], d: &[f64; N]) -> f64 {
    let ad: f64 = a.iter().zip(d).map(|(p, q)| p * q).sum();
    if ad <= 0.0 {
        return f64::INFINITY;
    }
    let ax: f64 = a.iter().zip(x).map(|(p, q)| p * q).sum();
    ((b - ax) / ad).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newton_finds_the_maximum_of_a_concave_quadratic() {
        // f(x, y) = −(x − 1)² − 2(y + 3)² + xy/2
        let eval = |p: &[f64; 2]| {
            let (x, y) = (p[0], p[1]);
            let f = -(x - 1.0).powi(2) - 2.0 * (y + 3.0).powi(2) + 0.5 * x * y;
            let g = [-2.0 * (x - 1.0) + 0.5 * y, -4.0 * (y + 3.0) + 0.5 * x];
            Some((f, g, [[-2.0, 0.5], [0.5, -4.0]]))
        };
        let out = newton_maximize([0.0, 0.0], 50, eval, |_, _| f64::INFINITY).expect("solvable");
        // Stationary point: −2x + 2 + y/2 = 0, −4y − 12 + x/2 = 0.
        let y = (-12.0 + 0.5) / (4.0 - 0.125);
        let x = 1.0 + y / 4.0;
        assert!(out.converged);
        assert!((out.x[0] - x).abs() < 1e-9 && (out.x[1] - y).abs() < 1e-9);
    }

    #[test]
    fn newton_stays_feasible_when_the_optimum_is_on_the_boundary() {
        // Maximise −(x − 2)² subject to x ≤ 1: iterates approach 1 from below, never cross.
        let eval = |p: &[f64; 1]| Some((-(p[0] - 2.0).powi(2), [-2.0 * (p[0] - 2.0)], [[-2.0]]));
        let out =
            newton_maximize([0.0], 200, eval, |x, d| linear_step_limit(&[1.0], 1.0, x, d)).expect("solvable");
        assert!(out.x[0] < 1.0 && out.x[0] > 1.0 - 1e-6, "x = {}", out.x[0]);
    }
}
