//! Spread of the measured strong-convergence orders over seeds (numbers quoted in docs/models.md).
//! Run: cargo run --release -p zkclob-models --example sde_study
use zkclob_models::sde::{brownian_increments, coarsen_increments, euler_maruyama, milstein, Gbm};
use zkclob_models::seeded_rng;
use zkclob_models::special::{linear_fit, mean_std};

/// Strong orders (Euler, Milstein) on GBM μ = 2, σ = 1, X₀ = 1, T = 1 (Higham 2001), `paths` paths,
/// steps Δt = 2⁻⁴…2⁻⁸ against the exact solution on the same Brownian path (finest grid 2⁻¹¹).
fn strong_orders(seed: u64, paths: usize) -> (f64, f64) {
    let (mu, sigma) = (2.0, 1.0);
    let gbm = Gbm::new(mu, sigma).expect("valid");
    let fine_steps = 1 << 11;
    let dt_fine = 1.0 / fine_steps as f64;
    let levels: Vec<usize> = (4..=8).collect();
    let mut err = vec![[0.0f64; 2]; levels.len()];
    let mut rng = seeded_rng(seed);
    for _ in 0..paths {
        let dw = brownian_increments(dt_fine, fine_steps, &mut rng).expect("ok");
        let exact = *gbm.exact_path(1.0, dt_fine, &dw).last().expect("nonempty");
        for (l, &p) in levels.iter().enumerate() {
            let coarse = coarsen_increments(&dw, fine_steps >> p);
            let dt = 1.0 / (1u64 << p) as f64;
            let em =
                *euler_maruyama(1.0, 0.0, dt, &coarse, |_, x| mu * x, |_, x| sigma * x).last().expect("ok");
            let mil = *milstein(1.0, 0.0, dt, &coarse, |_, x| mu * x, |_, x| sigma * x, |_, _| sigma)
                .last()
                .expect("ok");
            err[l][0] += (em - exact).abs() / paths as f64;
            err[l][1] += (mil - exact).abs() / paths as f64;
        }
    }
    let log_dt: Vec<f64> = levels.iter().map(|&p| -(p as f64) * 2f64.ln()).collect();
    let slope = |k: usize| linear_fit(&log_dt, &err.iter().map(|e| e[k].ln()).collect::<Vec<_>>()).0;
    (slope(0), slope(1))
}

fn main() {
    for paths in [1000usize] {
        let (mut em, mut mil) = (Vec::new(), Vec::new());
        for seed in 0..40 {
            let (a, b) = strong_orders(seed, paths);
            em.push(a);
            mil.push(b);
        }
        let (em_m, em_sd) = mean_std(&em);
        let (mil_m, mil_sd) = mean_std(&mil);
        println!(
            "paths {paths}: Euler order {em_m:.4} ± {em_sd:.4}; Milstein order {mil_m:.4} ± {mil_sd:.4}"
        );
    }
}
