//! A bounded Nelder–Mead simplex minimiser for the few small smooth problems the Bayesian
//! optimiser has (GP hyperparameters, refining the expected-improvement maximum). Points are clamped
//! into the box; a non-finite value counts as +∞.

/// Minimises `f` over the box [lo, hi] from `x0`, with an initial simplex of edge `step`, for at
/// most `max_evals` evaluations. Returns the best point and its value.
pub(crate) fn minimize(
    f: &mut dyn FnMut(&[f64]) -> f64,
    x0: &[f64],
    step: f64,
    lo: &[f64],
    hi: &[f64],
    max_evals: usize,
) -> (Vec<f64>, f64) {
    let d = x0.len();
    let clamp =
        |x: Vec<f64>| -> Vec<f64> { x.iter().enumerate().map(|(i, v)| v.clamp(lo[i], hi[i])).collect() };
    let evals = std::cell::Cell::new(0usize);
    let mut eval = |x: &[f64]| {
        evals.set(evals.get() + 1);
        let v = f(x);
        if v.is_finite() {
            v
        } else {
            f64::INFINITY
        }
    };
    let start = clamp(x0.to_vec());
    let f0 = eval(&start);
    if d == 0 {
        return (start, f0);
    }
    let mut simplex: Vec<(Vec<f64>, f64)> = Vec::with_capacity(d + 1);
    simplex.push((start.clone(), f0));
    for i in 0..d {
        let mut x = start.clone();
        x[i] = if x[i] + step <= hi[i] { x[i] + step } else { x[i] - step };
        let x = clamp(x);
        let v = eval(&x);
        simplex.push((x, v));
    }
    let blend = |a: &[f64], b: &[f64], t: f64| -> Vec<f64> {
        a.iter().zip(b).map(|(a, b)| a + t * (b - a)).collect()
    };
    while evals.get() < max_evals {
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        let (best, worst) = (simplex[0].1, simplex[d].1);
        if (worst - best).abs() <= 1e-12 * (1.0 + best.abs()) && simplex_size(&simplex) < 1e-9 {
            break;
        }
        let centroid: Vec<f64> =
            (0..d).map(|i| simplex[..d].iter().map(|(x, _)| x[i]).sum::<f64>() / d as f64).collect();
        let xr = clamp(blend(&centroid, &simplex[d].0, -1.0));
        let fr = eval(&xr);
        if fr < best {
            let xe = clamp(blend(&centroid, &simplex[d].0, -2.0));
            let fe = eval(&xe);
            simplex[d] = if fe < fr { (xe, fe) } else { (xr, fr) };
        } else if fr < simplex[d - 1].1 {
            simplex[d] = (xr, fr);
        } else {
            let (target, ft) = if fr < worst { (xr.clone(), fr) } else { (simplex[d].0.clone(), worst) };
            let xc = clamp(blend(&centroid, &target, 0.5));
            let fc = eval(&xc);
            if fc < ft {
                simplex[d] = (xc, fc);
            } else {
                let x0 = simplex[0].0.clone();
                for entry in simplex.iter_mut().skip(1) {
                    let x = clamp(blend(&x0, &entry.0, 0.5));
                    let v = eval(&x);
                    *entry = (x, v);
                }
            }
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    simplex.swap_remove(0)
}

fn simplex_size(simplex: &[(Vec<f64>, f64)]) -> f64 {
    let x0 = &simplex[0].0;
    simplex[1..]
        .iter()
        .map(|(x, _)| x.iter().zip(x0).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max))
        .fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_rosenbrock_minimum() {
        let mut f = |x: &[f64]| (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2);
        let (x, v) = minimize(&mut f, &[-1.2, 1.0], 0.5, &[-5.0, -5.0], &[5.0, 5.0], 5000);
        assert!(v < 1e-8, "value {v} at {x:?}");
        assert!((x[0] - 1.0).abs() < 1e-3 && (x[1] - 1.0).abs() < 1e-3);
    }

    #[test]
    fn respects_the_bounds() {
        let mut f = |x: &[f64]| (x[0] - 3.0).powi(2);
        let (x, _) = minimize(&mut f, &[0.0], 0.1, &[-1.0], &[1.0], 500);
        assert!((x[0] - 1.0).abs() < 1e-6);
    }
}
