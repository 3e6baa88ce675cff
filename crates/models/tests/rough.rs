//! Tests of fractional Gaussian noise, Hurst estimators, rough Bergomi and clustering diagnostics.

use rand_distr::{Distribution, StandardNormal};
use zkclob_models::rough::{
    abs_return_autocorrelation, arch_lm_test, fbm_from_fgn, fgn_autocovariance, fgn_cholesky,
    fgn_davies_harte, hurst_exponent, HurstMethod, RoughBergomi,
};
use zkclob_models::special::mean_std;
use zkclob_models::{seeded_rng, ModelError};

/// Checks E[x₀xₖ] over independent paths against γ(k); the sample mean of 3,000 independent
/// products has standard error sd/√3000, and we allow 4 of them.
fn check_autocovariance(hurst: f64, sample: impl Fn(u64) -> Vec<f64>) {
    let paths: Vec<Vec<f64>> = (0..3_000).map(sample).collect();
    for lag in [0usize, 1, 2, 5, 20] {
        let products: Vec<f64> = paths.iter().map(|p| p[0] * p[lag]).collect();
        let (mean, sd) = mean_std(&products);
        let se = sd / (products.len() as f64).sqrt();
        let expected = fgn_autocovariance(hurst, lag);
        assert!((mean - expected).abs() < 4.0 * se, "H={hurst} lag {lag}: {mean} vs {expected} (se {se})");
    }
}

#[test]
fn davies_harte_fgn_autocovariance_matches_its_formula() {
    for hurst in [0.1, 0.5, 0.8] {
        let mut rng = seeded_rng(1);
        let paths: Vec<Vec<f64>> =
            (0..3_000).map(|_| fgn_davies_harte(hurst, 64, &mut rng).expect("ok")).collect();
        check_autocovariance(hurst, |i| paths[i as usize].clone());
    }
}

#[test]
fn cholesky_fgn_autocovariance_matches_its_formula() {
    let mut rng = seeded_rng(2);
    let paths: Vec<Vec<f64>> = (0..3_000).map(|_| fgn_cholesky(0.3, 32, &mut rng).expect("ok")).collect();
    check_autocovariance(0.3, |i| paths[i as usize].clone());
}

#[test]
fn long_davies_harte_path_has_the_formula_autocovariance_at_short_lags() {
    // Also checks the time average along one long path (ergodicity; relevant for H ≤ 0.5 where the
    // sample autocovariance converges at rate 1/√n).
    let hurst = 0.3;
    let x = fgn_davies_harte(hurst, 1 << 16, &mut seeded_rng(3)).expect("ok");
    for lag in 0..4 {
        let acov = x.iter().zip(&x[lag..]).map(|(a, b)| a * b).sum::<f64>() / (x.len() - lag) as f64;
        assert!((acov - fgn_autocovariance(hurst, lag)).abs() < 0.02, "lag {lag}: {acov}");
    }
}

/// Tolerances: |bias| + 4·SD of each estimator on paths of 2¹⁶ points, measured over 50 seeds
/// (`examples/hurst_study.rs`, table in docs/models.md), rounded up.
#[test]
fn hurst_is_recovered_from_long_fbm_paths() {
    let tolerances =
        [(HurstMethod::Variogram, 0.03), (HurstMethod::Dfa, 0.07), (HurstMethod::RescaledRange, 0.1)];
    for (i, hurst) in [0.1, 0.3, 0.5, 0.7].into_iter().enumerate() {
        let fgn = fgn_davies_harte(hurst, 1 << 16, &mut seeded_rng(100 + i as u64)).expect("ok");
        let path = fbm_from_fgn(&fgn, hurst, 1.0).expect("ok");
        for (method, tol) in tolerances {
            let est = hurst_exponent(&path, method).expect("estimates").hurst;
            assert!((est - hurst).abs() < tol, "{method:?} H={hurst}: estimated {est}");
        }
    }
}

#[test]
fn bad_hurst_inputs_are_typed_errors() {
    for h in [0.0, 1.0, -0.2, f64::NAN] {
        assert!(matches!(
            fgn_davies_harte(h, 10, &mut seeded_rng(0)),
            Err(ModelError::HurstOutOfRange { .. })
        ));
    }
    let err = fgn_davies_harte(1.5, 10, &mut seeded_rng(0)).expect_err("bad");
    assert!(err.to_string().contains("(0, 1)"), "{err}");
    assert!(matches!(fgn_cholesky(0.3, 100_000, &mut seeded_rng(0)), Err(ModelError::LimitExceeded { .. })));
    assert!(matches!(hurst_exponent(&[1.0; 10], HurstMethod::Dfa), Err(ModelError::TooFewData { .. })));
    assert!(matches!(hurst_exponent(&[1.0; 500], HurstMethod::Variogram), Err(ModelError::Numerical(_))));
    let mut path: Vec<f64> = (0..500).map(|i| (i as f64).sin()).collect();
    path[7] = f64::INFINITY;
    assert!(matches!(
        hurst_exponent(&path, HurstMethod::RescaledRange),
        Err(ModelError::NonFiniteData { index: 7, .. })
    ));
}

#[test]
fn rough_bergomi_volterra_variance_and_mean_variance_match_theory() {
    // Var Yₜ = t^(2H) (the hybrid scheme is exact in law for the last step and accurate for the
    // rest); E Vₜ = ξ₀; E Sₜ/S₀ = 1. 2,000 paths; bands of 4 standard errors (the variance's SE
    // is σ²·√(2/(n−1)) for Gaussian Y).
    let model = RoughBergomi::new(0.1, 1.5, -0.7, 0.04).expect("valid");
    let mut rng = seeded_rng(9);
    let (mut y_end, mut v_end, mut s_end) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..2_000 {
        let p = model.simulate(1.0, 128, &mut rng).expect("simulates");
        y_end.push(p.volterra[128]);
        v_end.push(p.variance_per_s[128]);
        s_end.push(p.log_price[128].exp());
    }
    let n = y_end.len() as f64;
    let (_, y_sd) = mean_std(&y_end);
    assert!((y_sd * y_sd - 1.0).abs() < 4.0 * (2.0 / (n - 1.0)).sqrt(), "Var Y_1 = {}", y_sd * y_sd);
    let (v_mean, v_sd) = mean_std(&v_end);
    assert!((v_mean - 0.04).abs() < 4.0 * v_sd / n.sqrt(), "E V_1 = {v_mean}");
    let (s_mean, s_sd) = mean_std(&s_end);
    assert!((s_mean - 1.0).abs() < 4.0 * s_sd / n.sqrt(), "E S_1 = {s_mean}");
}

#[test]
fn rough_bergomi_log_variance_has_the_model_hurst_exponent() {
    // ln V = ln ξ₀ + ηY − ½η²t^(2H): its variogram at small lags scales like that of Y, i.e. with H.
    // Tolerance as for the variogram estimator on fBm (0.03), the smooth drift term adds ~nothing.
    for hurst in [0.1, 0.3] {
        let model = RoughBergomi::new(hurst, 1.0, 0.0, 0.04).expect("valid");
        let path = model.simulate(1.0, 1 << 15, &mut seeded_rng(21)).expect("simulates");
        let log_v: Vec<f64> = path.variance_per_s.iter().map(|v| v.ln()).collect();
        let est = hurst_exponent(&log_v, HurstMethod::Variogram).expect("estimates").hurst;
        assert!((est - hurst).abs() < 0.03, "H={hurst}: {est}");
    }
}

#[test]
fn clustering_diagnostics_separate_iid_from_garch_returns() {
    let mut rng = seeded_rng(4);
    let n = 20_000;
    let iid: Vec<f64> = (0..n).map(|_| StandardNormal.sample(&mut rng)).collect();
    // GARCH(1,1): σ²ₜ = ω + a·r²ₜ₋₁ + b·σ²ₜ₋₁ with a + b = 0.95: strong volatility clustering.
    let (omega, a, b): (f64, f64, f64) = (0.05, 0.1, 0.85);
    let mut var = omega / (1.0 - a - b);
    let mut garch = Vec::with_capacity(n);
    for _ in 0..n {
        let z: f64 = StandardNormal.sample(&mut rng);
        let r = var.sqrt() * z;
        garch.push(r);
        var = omega + a * r * r + b * var;
    }
    let lm_iid = arch_lm_test(&iid, 5).expect("ok");
    let lm_garch = arch_lm_test(&garch, 5).expect("ok");
    // Under H0 the p-value is Uniform(0, 1): > 0.001 fails 0.1% of the time (fixed seed here).
    assert!(lm_iid.p_value > 0.001, "iid p = {}", lm_iid.p_value);
    assert!(lm_garch.p_value < 1e-10, "garch p = {}", lm_garch.p_value);
    // |r| autocorrelations: ~N(0, 1/n) for iid (4/√n = 0.028), clearly positive for GARCH.
    let acf_iid = abs_return_autocorrelation(&iid, 10).expect("ok");
    let acf_garch = abs_return_autocorrelation(&garch, 10).expect("ok");
    assert!(acf_iid.iter().all(|c| c.abs() < 4.0 / (n as f64).sqrt()), "{acf_iid:?}");
    assert!(acf_garch.iter().all(|&c| c > 0.05), "{acf_garch:?}");
}
