//! Tests of the univariate exponential Hawkes process against known answers.

use zkclob_models::hawkes::{fit_exp_hawkes, EventTimes, ExpHawkes, FitOptions, OnlineIntensity};
use zkclob_models::{seeded_rng, ModelError};

fn small_events() -> EventTimes {
    EventTimes::new(vec![0.3, 0.35, 1.1, 1.15, 1.2, 2.7, 4.0, 4.05], 5.0).expect("valid")
}

/// Composite Simpson integral of f over [a, b] with `n` (even) panels.
fn simpson(f: impl Fn(f64) -> f64, a: f64, b: f64, n: usize) -> f64 {
    let h = (b - a) / n as f64;
    let mut sum = f(a) + f(b);
    for i in 1..n {
        sum += f(a + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    sum * h / 3.0
}

#[test]
fn loglik_equals_brute_force_numerical_integration() {
    let model = ExpHawkes::new(0.7, 1.3, 2.1).expect("stationary");
    let events = small_events();
    // Brute force: λ(tᵢ) by the O(n²) sum; the compensator by Simpson's rule between events (λ is
    // smooth there, so the quadrature error is far below the tolerance).
    let sum_log: f64 = events.times_s().iter().map(|&t| model.intensity_at(&events, t).ln()).sum();
    let mut knots = vec![0.0];
    knots.extend_from_slice(events.times_s());
    knots.push(events.horizon_s());
    let compensator: f64 = knots
        .windows(2)
        .map(|w| simpson(|t| model.intensity_at(&events, t.max(w[0] + 1e-15)), w[0], w[1], 2000))
        .sum();
    let ll = model.log_likelihood(&events);
    assert!((ll.compensator - compensator).abs() < 1e-9, "{} vs {}", ll.compensator, compensator);
    assert!((ll.loglik - (sum_log - compensator)).abs() < 1e-9, "{} vs {}", ll.loglik, sum_log - compensator);
}

#[test]
fn loglik_gradient_matches_finite_differences() {
    let events = small_events();
    let theta = [0.7, 1.3, 2.1];
    let f =
        |t: [f64; 3]| ExpHawkes::new(t[0], t[1], t[2]).expect("stationary").log_likelihood(&events).loglik;
    let (_, grad) =
        ExpHawkes::new(theta[0], theta[1], theta[2]).expect("ok").log_likelihood_gradient(&events);
    for p in 0..3 {
        let h = 1e-6;
        let (mut up, mut down) = (theta, theta);
        up[p] += h;
        down[p] -= h;
        let numeric = (f(up) - f(down)) / (2.0 * h);
        assert!(
            (grad[p] - numeric).abs() < 1e-6 * (1.0 + numeric.abs()),
            "param {p}: {} vs {numeric}",
            grad[p]
        );
    }
}

#[test]
fn mle_recovers_known_parameters_within_four_standard_errors() {
    // μ = 0.5/s, α = 0.8/s, β = 1.2/s: branching ratio 2/3, stationary rate 1.5/s, ~45,000 events.
    let truth = ExpHawkes::new(0.5, 0.8, 1.2).expect("stationary");
    let events = truth.simulate_thinning(30_000.0, &mut seeded_rng(7)).expect("simulates");
    let fit = fit_exp_hawkes(&events, &FitOptions::default()).expect("fits");
    assert!(fit.converged);
    let estimate = [fit.model.mu_per_s(), fit.model.alpha_per_s(), fit.model.beta_per_s()];
    let truth_v = [0.5, 0.8, 1.2];
    for p in 0..3 {
        let z = (estimate[p] - truth_v[p]) / fit.std_errors[p];
        // The MLE is asymptotically normal with covariance = inverse Fisher information; |z| < 4
        // fails with probability 6e-5 per parameter when the estimator is right.
        assert!(
            z.abs() < 4.0,
            "param {p}: estimate {} truth {} se {} z {z}",
            estimate[p],
            truth_v[p],
            fit.std_errors[p]
        );
        // The standard errors themselves are of the size the Fisher information predicts for this n.
        assert!(fit.std_errors[p] < 0.05 * truth_v[p], "param {p}: se {}", fit.std_errors[p]);
    }
    // The fitted likelihood is at least that of the truth (it is the maximum).
    assert!(fit.loglik.loglik >= truth.log_likelihood(&events).loglik);
    // Time rescaling with the fitted model: the rescaled durations look Exp(1).
    assert!(fit.model.goodness_of_fit(&events).ks_pvalue > 0.01);
}

#[test]
fn mle_standard_errors_match_the_spread_across_replications() {
    // 40 independent paths of ~3,000 events: the empirical SD of the estimates must agree with the
    // Fisher standard error. For 40 replications the SD's relative sampling error is ~1/√80 ≈ 11%,
    // so a band of [0.6, 1.6] is more than 3.5 sampling SDs wide on each side.
    let truth = ExpHawkes::new(1.0, 1.5, 3.0).expect("stationary");
    let mut estimates = vec![Vec::new(); 3];
    let mut fisher_se = [0.0; 3];
    let mut rng = seeded_rng(11);
    let replications = 40;
    for _ in 0..replications {
        let events = truth.simulate_thinning(1_500.0, &mut rng).expect("simulates");
        let fit = fit_exp_hawkes(&events, &FitOptions::default()).expect("fits");
        let e = [fit.model.mu_per_s(), fit.model.alpha_per_s(), fit.model.beta_per_s()];
        for p in 0..3 {
            estimates[p].push(e[p]);
            fisher_se[p] += fit.std_errors[p] / replications as f64;
        }
    }
    for p in 0..3 {
        let (mean, sd) = zkclob_models::special::mean_std(&estimates[p]);
        let ratio = sd / fisher_se[p];
        assert!((0.6..1.6).contains(&ratio), "param {p}: sd {sd} fisher {} ratio {ratio}", fisher_se[p]);
        // Mean of 40 estimates: within 4 standard errors of the mean of the truth.
        let truth_v = [1.0, 1.5, 3.0][p];
        assert!((mean - truth_v).abs() < 4.0 * sd / (replications as f64).sqrt() + 0.02 * truth_v);
    }
}

#[test]
fn ks_test_rejects_a_poisson_model_of_hawkes_data() {
    let truth = ExpHawkes::new(0.5, 0.8, 1.2).expect("stationary");
    let events = truth.simulate_thinning(5_000.0, &mut seeded_rng(3)).expect("simulates");
    let rate = events.len() as f64 / events.horizon_s();
    let poisson = ExpHawkes::new(rate, 0.0, 1.0).expect("valid");
    assert!(poisson.goodness_of_fit(&events).ks_pvalue < 1e-6);
    assert!(truth.goodness_of_fit(&events).ks_pvalue > 0.01);
}

#[test]
fn thinning_and_branching_simulations_have_the_expected_mean_count() {
    // E N(T) from an empty start: m*T − (m* − μ)(1 − e^(−(β−α)T))/(β−α), m* = μ/(1 − α/β).
    let model = ExpHawkes::new(1.0, 1.0, 2.0).expect("stationary");
    let horizon_s = 50.0;
    let expected = OnlineIntensity::new(model, 0.0).expect("ok").expected_events(0.0, horizon_s).expect("ok");
    let mut rng = seeded_rng(5);
    for method in ["thinning", "branching"] {
        let counts: Vec<f64> = (0..400)
            .map(|_| {
                let ev = if method == "thinning" {
                    model.simulate_thinning(horizon_s, &mut rng)
                } else {
                    model.simulate_branching(horizon_s, &mut rng)
                };
                ev.expect("simulates").len() as f64
            })
            .collect();
        let (mean, sd) = zkclob_models::special::mean_std(&counts);
        let se = sd / (counts.len() as f64).sqrt();
        assert!((mean - expected).abs() < 4.0 * se, "{method}: mean {mean} expected {expected} se {se}");
    }
    // Both simulators pass the time-rescaling test under the true model.
    let long = model.simulate_branching(20_000.0, &mut rng).expect("simulates");
    assert!(model.goodness_of_fit(&long).ks_pvalue > 0.01);
}

#[test]
fn simulation_is_reproducible_from_a_seed() {
    let model = ExpHawkes::new(1.0, 0.5, 2.0).expect("stationary");
    let a = model.simulate_thinning(100.0, &mut seeded_rng(42)).expect("ok");
    let b = model.simulate_thinning(100.0, &mut seeded_rng(42)).expect("ok");
    assert_eq!(a, b);
}

#[test]
fn online_intensity_matches_the_batch_recursion() {
    let model = ExpHawkes::new(0.7, 1.3, 2.1).expect("stationary");
    let events = small_events();
    let mut online = OnlineIntensity::new(model, 0.0).expect("ok");
    let batch = model.intensities_at_events(&events);
    for (i, &t) in events.times_s().iter().enumerate() {
        let before = online.record_event(t).expect("sorted");
        assert!((before - batch[i]).abs() < 1e-12);
        assert!((before - model.intensity_at(&events, t)).abs() < 1e-12);
    }
    let later = online.intensity_at(4.5).expect("later");
    assert!((later - model.intensity_at(&events, 4.5)).abs() < 1e-12);
    assert!(matches!(online.record_event(1.0), Err(ModelError::UnsortedEvents { .. })));
}

#[test]
fn bad_parameters_are_typed_errors() {
    let err = ExpHawkes::new(1.0, 2.0, 1.0).expect_err("explosive");
    assert!(matches!(err, ModelError::NonStationary { .. }));
    assert!(err.to_string().contains("branching ratio 2"), "{err}");
    assert!(matches!(
        ExpHawkes::new(-1.0, 0.5, 1.0),
        Err(ModelError::InvalidParameter { name: "mu_per_s", .. })
    ));
    assert!(matches!(ExpHawkes::new(1.0, f64::NAN, 1.0), Err(ModelError::InvalidParameter { .. })));
    assert!(matches!(ExpHawkes::new(1.0, 0.5, f64::INFINITY), Err(ModelError::InvalidParameter { .. })));
    let few = EventTimes::new(vec![0.1, 0.2], 1.0).expect("valid");
    assert!(matches!(fit_exp_hawkes(&few, &FitOptions::default()), Err(ModelError::TooFewData { .. })));
}

#[test]
fn em_histogram_kernel_recovers_an_exponential_kernel() {
    use zkclob_models::hawkes::nonparametric::fit_histogram_kernel_em;
    // Truth φ(t) = 0.8·e^(−1.2t): 12 bins of 0.5 s cover 6 s (tail mass e^(−7.2) ≈ 0.07% of the
    // branching ratio, far below one standard error). Compare μ, the branching ratio and each bin
    // with the bin average of the true kernel, in units of the Fisher standard errors.
    let truth = ExpHawkes::new(0.5, 0.8, 1.2).expect("stationary");
    let events = truth.simulate_thinning(20_000.0, &mut seeded_rng(8)).expect("simulates");
    let fit = fit_histogram_kernel_em(&events, 12, 0.5, 5_000, 1e-10).expect("fits");
    assert!(fit.converged);
    let z_mu = (fit.mu_per_s - 0.5) / fit.mu_std_error;
    assert!(z_mu.abs() < 4.0, "mu {} se {}", fit.mu_per_s, fit.mu_std_error);
    let z_n = (fit.branching_ratio - 2.0 / 3.0) / fit.branching_ratio_std_error;
    assert!(z_n.abs() < 4.0, "n {} se {}", fit.branching_ratio, fit.branching_ratio_std_error);
    for (b, (&phi, &se)) in fit.kernel_per_s2.iter().zip(&fit.kernel_std_errors).enumerate() {
        let (lo, hi) = (b as f64 * 0.5, (b + 1) as f64 * 0.5);
        let average = 0.8 / 1.2 * ((-1.2 * lo).exp() - (-1.2 * hi).exp()) / 0.5;
        assert!(((phi - average) / se).abs() < 4.0, "bin {b}: {phi} vs {average} (se {se})");
    }
}
