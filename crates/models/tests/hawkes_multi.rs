//! Multivariate sum-of-exponentials Hawkes processes.

use zkclob_models::hawkes::multi::{fit_multi_hawkes_em, MarkedEvents, MultiFitOptions, MultiHawkes};
use zkclob_models::hawkes::{EventTimes, ExpHawkes};
use zkclob_models::special::mean_std;
use zkclob_models::{seeded_rng, ModelError};

fn two_by_two() -> MultiHawkes {
    // d = 2, K = 2 decays (fast 5/s, slow 0.5/s); layout (i·d + j)·K + k.
    MultiHawkes::new(
        vec![0.4, 0.3],
        vec![5.0, 0.5],
        vec![
            1.5, 0.10, // 0 ← 0
            0.8, 0.05, // 0 ← 1
            0.5, 0.05, // 1 ← 0
            2.0, 0.10, // 1 ← 1
        ],
    )
    .expect("stationary")
}

fn simpson(f: impl Fn(f64) -> f64, a: f64, b: f64, n: usize) -> f64 {
    let h = (b - a) / n as f64;
    let mut sum = f(a) + f(b);
    for i in 1..n {
        sum += f(a + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    sum * h / 3.0
}

#[test]
fn multivariate_loglik_equals_brute_force_numerical_integration() {
    let model = two_by_two();
    let events = MarkedEvents::new(vec![0.2, 0.25, 0.9, 1.4, 1.45, 2.5], vec![0, 1, 1, 0, 0, 1], 2, 3.0)
        .expect("valid");
    let mut knots = vec![0.0];
    knots.extend_from_slice(events.times_s());
    knots.push(3.0);
    let total = |t: f64| model.intensity_at(&events, t).expect("ok").iter().sum::<f64>();
    let compensator: f64 =
        knots.windows(2).map(|w| simpson(|t| total(t.max(w[0] + 1e-15)), w[0], w[1], 2000)).sum();
    let sum_log: f64 = events
        .times_s()
        .iter()
        .zip(events.dims())
        .map(|(&t, &i)| model.intensity_at(&events, t).expect("ok")[i].ln())
        .sum();
    let ll = model.log_likelihood(&events).expect("ok");
    assert!((ll - (sum_log - compensator)).abs() < 1e-9, "{ll} vs {}", sum_log - compensator);
}

#[test]
fn multivariate_gradient_matches_finite_differences() {
    let model = two_by_two();
    let events = model.simulate_thinning(50.0, &mut seeded_rng(1)).expect("ok");
    let (_, g_mu, g_alpha) = model.log_likelihood_gradient(&events).expect("ok");
    let h = 1e-6;
    for i in 0..2 {
        let mut up = model.mu_per_s().to_vec();
        let mut dn = up.clone();
        up[i] += h;
        dn[i] -= h;
        let f = |mu: Vec<f64>| {
            MultiHawkes::new(mu, model.decays_per_s().to_vec(), model.alpha_per_s().to_vec())
                .expect("ok")
                .log_likelihood(&events)
                .expect("ok")
        };
        let numeric = (f(up) - f(dn)) / (2.0 * h);
        assert!((g_mu[i] - numeric).abs() < 1e-5 * (1.0 + numeric.abs()));
    }
    for c in 0..8 {
        let mut up = model.alpha_per_s().to_vec();
        let mut dn = up.clone();
        up[c] += h;
        dn[c] -= h;
        let f = |a: Vec<f64>| {
            MultiHawkes::new(model.mu_per_s().to_vec(), model.decays_per_s().to_vec(), a)
                .expect("ok")
                .log_likelihood(&events)
                .expect("ok")
        };
        let numeric = (f(up) - f(dn)) / (2.0 * h);
        assert!((g_alpha[c] - numeric).abs() < 1e-5 * (1.0 + numeric.abs()), "alpha {c}");
    }
}

#[test]
fn one_dimensional_single_decay_reduces_to_the_exponential_model() {
    let uni = ExpHawkes::new(0.7, 1.3, 2.1).expect("ok");
    let multi = MultiHawkes::new(vec![0.7], vec![2.1], vec![1.3]).expect("ok");
    let events = uni.simulate_thinning(200.0, &mut seeded_rng(2)).expect("ok");
    let marked = MarkedEvents::new(events.times_s().to_vec(), vec![0; events.len()], 1, 200.0).expect("ok");
    let a = uni.log_likelihood(&events).loglik;
    let b = multi.log_likelihood(&marked).expect("ok");
    assert!((a - b).abs() < 1e-9 * a.abs());
    let _ = EventTimes::new(vec![], 1.0).expect("ok");
}

#[test]
fn em_recovers_multivariate_parameters_within_four_standard_errors() {
    let truth = two_by_two();
    let events = truth.simulate_thinning(20_000.0, &mut seeded_rng(3)).expect("ok");
    let fit = fit_multi_hawkes_em(&events, truth.decays_per_s(), &MultiFitOptions::default()).expect("fits");
    assert!(fit.converged, "EM did not converge in {} iterations", fit.iterations);
    // The constrained M-step keeps the estimate stationary; the fit beats the truth's likelihood.
    assert!(fit.model.branching_ratio().expect("ok") < 1.0);
    assert!(fit.loglik >= truth.log_likelihood(&events).expect("ok") - 1e-6);
    for i in 0..2 {
        let z = (fit.model.mu_per_s()[i] - truth.mu_per_s()[i]) / fit.mu_std_errors[i];
        assert!(z.abs() < 4.0, "mu {i}: z = {z}");
    }
    for c in 0..8 {
        let z = (fit.model.alpha_per_s()[c] - truth.alpha_per_s()[c]) / fit.alpha_std_errors[c];
        assert!(
            z.abs() < 4.0,
            "alpha {c}: {} vs {} (se {})",
            fit.model.alpha_per_s()[c],
            truth.alpha_per_s()[c],
            fit.alpha_std_errors[c]
        );
    }
}

/// Exact E[Nᵢ(T)] from an empty start. With zⱼₖ(t) = E Σ e^(−βₖ(t−tₑ)) over type-j events,
/// ż = Mz + c (M_{(j,k),(j',k')} = αⱼⱼ′ₖ′ − βₖ·1{same}, c_{(j,k)} = μⱼ), and E λ = μ + A z; so
/// ∫₀ᵀ z = z*T + M⁻¹(e^(MT) − I)(−z*) with z* = −M⁻¹c.
fn expected_counts(model: &MultiHawkes, horizon_s: f64) -> Vec<f64> {
    use nalgebra::{DMatrix, DVector};
    let (d, kk) = (model.dimension(), model.decays_per_s().len());
    let n = d * kk;
    let alpha = |i: usize, j: usize, k: usize| model.alpha_per_s()[(i * d + j) * kk + k];
    let m = DMatrix::from_fn(n, n, |r, col| {
        let (j, k) = (r / kk, r % kk);
        let (j2, k2) = (col / kk, col % kk);
        alpha(j, j2, k2) - if r == col { model.decays_per_s()[k] } else { 0.0 }
    });
    let c = DVector::from_fn(n, |r, _| model.mu_per_s()[r / kk]);
    let lu = m.clone().lu();
    let z_star = -lu.solve(&c).expect("invertible");
    let transient = (m * horizon_s).exp() - DMatrix::identity(n, n);
    let integral = &z_star * horizon_s + lu.solve(&(transient * -&z_star)).expect("invertible");
    (0..d)
        .map(|i| {
            model.mu_per_s()[i] * horizon_s
                + (0..n).map(|r| alpha(i, r / kk, r % kk) * integral[r]).sum::<f64>()
        })
        .collect()
}

#[test]
fn multivariate_thinning_and_branching_have_the_exact_mean_counts() {
    // 4-SE bands over 60 windows of 400 s, against the exact expected counts; over long windows
    // these approach the stationary rates (I − Γ)⁻¹μ.
    let model = two_by_two();
    let expected = expected_counts(&model, 400.0);
    let rates = model.stationary_rates_per_s().expect("ok");
    for i in 0..2 {
        assert!((expected[i] / 400.0 - rates[i]).abs() < 0.02 * rates[i]);
    }
    let mut rng = seeded_rng(4);
    for branching in [false, true] {
        let mut per_dim = [Vec::new(), Vec::new()];
        for _ in 0..60 {
            let ev = if branching {
                model.simulate_branching(400.0, &mut rng)
            } else {
                model.simulate_thinning(400.0, &mut rng)
            };
            let ev = ev.expect("ok");
            for (i, counts) in per_dim.iter_mut().enumerate() {
                counts.push(ev.dims().iter().filter(|&&d| d == i).count() as f64);
            }
        }
        for i in 0..2 {
            let (mean, sd) = mean_std(&per_dim[i]);
            let se = sd / (per_dim[i].len() as f64).sqrt();
            assert!(
                (mean - expected[i]).abs() < 4.0 * se,
                "branching={branching} dim {i}: {mean} vs {} (se {se})",
                expected[i]
            );
        }
    }
}

#[test]
fn explosive_multivariate_parameters_are_rejected() {
    let err = MultiHawkes::new(vec![0.1, 0.1], vec![1.0], vec![0.5, 0.6, 0.6, 0.5]).expect_err("radius 1.1");
    assert!(matches!(err, ModelError::NonStationary { .. }), "{err}");
    assert!(matches!(
        MultiHawkes::new(vec![0.1], vec![1.0], vec![0.5, 0.1]),
        Err(ModelError::ShapeMismatch(_))
    ));
    assert!(MarkedEvents::new(vec![0.1], vec![3], 2, 1.0).is_err());
}
