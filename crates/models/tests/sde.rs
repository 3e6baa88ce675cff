//! SDE schemes and jump-diffusions against exact solutions and closed-form prices.

use zkclob_models::sde::{
    black_scholes_call, brownian_increments, coarsen_increments, euler_maruyama, milstein, Gbm, JumpDiffusion,
};
use zkclob_models::special::{linear_fit, mean_std};
use zkclob_models::{seeded_rng, ModelError};

/// Mean absolute terminal errors of Euler and Milstein on GBM μ = 2, σ = 1, X₀ = 1, T = 1
/// (Higham 2001), steps Δt = 2⁻⁴…2⁻⁸, against the exact solution on the same Brownian path (finest
/// grid 2⁻¹¹); returns the fitted strong orders (slopes of log error on log Δt).
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

#[test]
fn euler_and_milstein_have_strong_orders_one_half_and_one_on_gbm() {
    // Over 40 seeds with 1,000 paths (examples/sde_study.rs): Euler 0.537 ± 0.021 and Milstein
    // 0.957 ± 0.006 (pre-asymptotic offsets; Higham 2001 reports 0.54 for Euler on this problem).
    // Tolerances |offset| + 4 SD, rounded up: 0.13 and 0.07. A scheme of the wrong order fails.
    let (euler, milstein) = strong_orders(2024, 1000);
    assert!((euler - 0.5).abs() < 0.13, "Euler strong order {euler}");
    assert!((milstein - 1.0).abs() < 0.07, "Milstein strong order {milstein}");
}

#[test]
fn merton_call_by_monte_carlo_is_within_three_standard_errors_of_the_series() {
    let (s0, strike, rate, maturity) = (100.0, 100.0, 0.05, 1.0);
    let model = JumpDiffusion::merton(rate, 0.2, 1.0, -0.1, 0.15).expect("valid");
    let series = model.merton_call_price(s0, strike, rate, maturity).expect("prices");
    let mut rng = seeded_rng(77);
    let discount = (-rate * maturity).exp();
    let payoffs: Vec<f64> = (0..100_000)
        .map(|_| {
            let s_t = s0 * model.log_increment(maturity, &mut rng).expect("ok").exp();
            discount * (s_t - strike).max(0.0)
        })
        .collect();
    let (mc, sd) = mean_std(&payoffs);
    let se = sd / (payoffs.len() as f64).sqrt();
    assert!((mc - series).abs() < 3.0 * se, "MC {mc} ± {se} vs series {series}");
    // Jumps add variance: the price exceeds Black–Scholes at the diffusive volatility.
    assert!(series > black_scholes_call(s0, strike, rate, 0.2, maturity));
}

#[test]
fn merton_series_without_jumps_is_black_scholes() {
    let model = JumpDiffusion::merton(0.03, 0.25, 0.0, -0.1, 0.15).expect("valid");
    let series = model.merton_call_price(50.0, 55.0, 0.03, 0.5).expect("prices");
    assert!((series - black_scholes_call(50.0, 55.0, 0.03, 0.25, 0.5)).abs() < 1e-12);
    // Black–Scholes itself against a textbook value (Hull: S=42, K=40, r=10%, σ=20%, T=0.5 → 4.76).
    assert!((black_scholes_call(42.0, 40.0, 0.1, 0.2, 0.5) - 4.759_422).abs() < 1e-5);
}

#[test]
fn jump_diffusions_are_compensated_so_the_mean_grows_at_the_drift() {
    // E[S_T] = S₀e^(μT) for both jump laws, checked within 4 standard errors on 40,000 paths of 10
    // exact steps (also exercises the multi-step path simulator).
    let models = [
        JumpDiffusion::merton(0.1, 0.2, 3.0, -0.05, 0.1).expect("valid"),
        JumpDiffusion::kou(0.1, 0.2, 3.0, 0.4, 10.0, 5.0).expect("valid"),
    ];
    for (i, model) in models.iter().enumerate() {
        let mut rng = seeded_rng(100 + i as u64);
        let finals: Vec<f64> = (0..40_000)
            .map(|_| *model.simulate(1.0, 0.1, 10, &mut rng).expect("ok").last().expect("ok"))
            .collect();
        let (mean, sd) = mean_std(&finals);
        let se = sd / (finals.len() as f64).sqrt();
        assert!((mean - 0.1f64.exp()).abs() < 4.0 * se, "model {i}: mean {mean} ± {se}");
    }
}

#[test]
fn gbm_simulation_is_reproducible_and_has_the_right_mean() {
    let gbm = Gbm::new(0.5, 0.3).expect("valid");
    let a = gbm.simulate(1.0, 0.01, 100, &mut seeded_rng(1)).expect("ok");
    let b = gbm.simulate(1.0, 0.01, 100, &mut seeded_rng(1)).expect("ok");
    assert_eq!(a, b);
    let mut rng = seeded_rng(2);
    let finals: Vec<f64> =
        (0..20_000).map(|_| *gbm.simulate(1.0, 0.25, 4, &mut rng).expect("ok").last().expect("ok")).collect();
    let (mean, sd) = mean_std(&finals);
    assert!((mean - 0.5f64.exp()).abs() < 4.0 * sd / (finals.len() as f64).sqrt());
}

#[test]
fn bad_sde_parameters_are_typed_errors() {
    assert!(matches!(
        Gbm::new(0.1, -0.2),
        Err(ModelError::InvalidParameter { name: "sigma_per_sqrt_s", .. })
    ));
    assert!(matches!(
        JumpDiffusion::kou(0.0, 0.2, 1.0, 0.5, 0.8, 2.0),
        Err(ModelError::InvalidParameter { name: "eta_up", .. })
    ));
    assert!(matches!(
        JumpDiffusion::merton(0.0, 0.2, -1.0, 0.0, 0.1),
        Err(ModelError::InvalidParameter { name: "jump_rate_per_s", .. })
    ));
    let kou = JumpDiffusion::kou(0.0, 0.2, 1.0, 0.5, 3.0, 2.0).expect("valid");
    assert!(kou.merton_call_price(1.0, 1.0, 0.0, 1.0).is_err());
    assert!(brownian_increments(0.0, 10, &mut seeded_rng(0)).is_err());
}
