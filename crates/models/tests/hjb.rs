//! The finite-difference HJB solvers against the exact matrix-exponential solutions.

use nalgebra::DMatrix;
use zkclob_models::hjb::{CjParams, GlftParams, InventoryHjb, TimeStepping};
use zkclob_models::ModelError;

fn glft(q: u32, horizon_s: f64) -> InventoryHjb {
    // Guéant's (2017) illustrative market: σ = 0.3 tick/√s, A = 0.9/s, k = 0.3/tick, γ = 0.01.
    InventoryHjb::glft(&GlftParams {
        sigma_ticks_per_sqrt_s: 0.3,
        a_per_s: 0.9,
        k_per_tick: 0.3,
        gamma_per_tick_lot: 0.01,
        max_inventory_lots: q,
        horizon_s,
        terminal_penalty_ticks_per_lot2: 0.0,
    })
    .expect("valid")
}

fn cj(q: u32, horizon_s: f64) -> InventoryHjb {
    // Asymmetric flow and a drift, so the similarity transform and the drift term are exercised.
    InventoryHjb::cartea_jaimungal(&CjParams {
        lambda_buy_per_s: 1.2,
        lambda_sell_per_s: 0.8,
        kappa_per_tick: 1.0,
        running_penalty_ticks_per_lot2_s: 0.002,
        terminal_penalty_ticks_per_lot2: 0.1,
        drift_ticks_per_s: 0.05,
        max_inventory_lots: q,
        horizon_s,
    })
    .expect("valid")
}

fn max_error(hjb: &InventoryHjb, steps: usize, scheme: TimeStepping, exact: &[f64]) -> f64 {
    let sol = hjb.solve(steps, scheme).expect("solves");
    let v = sol.values_at(0).expect("t = 0");
    v.iter().zip(exact).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max)
}

/// Halving Δt four times; the observed order log2(e(Δt)/e(Δt/2)) must be within 0.1 of 1 (both
/// schemes are first order; the next term of the error expansion is O(Δt²), so the ratio
/// approaches 2 from a distance proportional to Δt — measured ~1.00–1.02 at these sizes).
fn check_first_order(hjb: &InventoryHjb, base_steps: usize) {
    let exact = hjb.exact_values(0.0).expect("exact");
    for scheme in [TimeStepping::ExplicitEuler, TimeStepping::ImplicitEuler] {
        let errors: Vec<f64> = (0..4).map(|i| max_error(hjb, base_steps << i, scheme, &exact)).collect();
        for w in errors.windows(2) {
            let order = (w[0] / w[1]).log2();
            assert!((order - 1.0).abs() < 0.1, "{scheme:?}: errors {errors:?}, order {order}");
        }
        assert!(errors[3] < 1e-2, "{scheme:?}: finest error {}", errors[3]);
    }
}

#[test]
fn glft_solver_converges_to_the_matrix_exponential_at_first_order() {
    check_first_order(&glft(10, 60.0), 250);
}

#[test]
fn cartea_jaimungal_solver_converges_to_the_matrix_exponential_at_first_order() {
    check_first_order(&cj(8, 30.0), 150);
}

#[test]
fn exact_solution_matches_a_direct_matrix_exponential() {
    // Independent check of the symmetrised eigen route: nalgebra's Padé `exp` of the raw,
    // non-symmetric −Mτ applied to ω(T), for a small case where nothing overflows.
    let hjb = cj(3, 2.0);
    let exact = hjb.exact_values(0.5).expect("exact");
    let (kappa, lb, ls, phi, alpha, mu) = (1.0f64, 1.2f64, 0.8f64, 0.002, 0.1, 0.05);
    let e = std::f64::consts::E;
    let n = 7;
    let m = DMatrix::from_fn(n, n, |i, j| {
        let q = i as f64 - 3.0;
        if i == j {
            kappa * (phi * q * q - mu * q)
        } else if j + 1 == i {
            -kappa * lb / (e * kappa)
        } else if i + 1 == j {
            -kappa * ls / (e * kappa)
        } else {
            0.0
        }
    });
    let omega_t = nalgebra::DVector::from_fn(n, |i, _| (-kappa * alpha * (i as f64 - 3.0).powi(2)).exp());
    let omega = (m * -1.5).exp() * omega_t;
    for i in 0..n {
        let theta = omega[i].ln() / kappa;
        assert!((theta - exact[i]).abs() < 1e-10, "state {i}: {theta} vs {}", exact[i]);
    }
}

#[test]
fn sixty_one_state_glft_long_horizon_depths_are_sane() {
    // 2Q + 1 = 61 states, 10⁴ implicit steps over 600 s (the benchmark case).
    let hjb = glft(30, 600.0);
    let sol = hjb.solve(10_000, TimeStepping::ImplicitEuler).expect("solves");
    let exact = hjb.exact_values(0.0).expect("exact");
    let v = sol.values_at(0).expect("t = 0");
    // First-order error e ≈ C·Δt with Δt = 0.06 s; measured 2.6e-4 ticks, allowed 3e-3.
    assert!(v.iter().zip(&exact).all(|(a, b)| (a - b).abs() < 3e-3));
    // Symmetric model: δᵇ(q) = δᵃ(−q); depths rise with inventory on the bid and fall on the ask.
    for q in -29..=29i64 {
        let bid = sol.bid_depth_ticks(0, q).expect("bid");
        let ask = sol.ask_depth_ticks(0, -q).expect("ask");
        assert!((bid - ask).abs() < 1e-9, "q={q}");
        if q < 29 {
            assert!(sol.bid_depth_ticks(0, q + 1).expect("bid") > bid);
        }
    }
    assert!(sol.bid_depth_ticks(0, 30).is_none());
    assert!(sol.ask_depth_ticks(0, -30).is_none());
}

#[test]
fn bad_hjb_parameters_are_typed_errors() {
    let mut p = GlftParams {
        sigma_ticks_per_sqrt_s: 0.3,
        a_per_s: 0.9,
        k_per_tick: -0.3,
        gamma_per_tick_lot: 0.01,
        max_inventory_lots: 5,
        horizon_s: 10.0,
        terminal_penalty_ticks_per_lot2: 0.0,
    };
    assert!(matches!(InventoryHjb::glft(&p), Err(ModelError::InvalidParameter { name: "k_per_tick", .. })));
    p.k_per_tick = 0.3;
    p.max_inventory_lots = 0;
    assert!(matches!(
        InventoryHjb::glft(&p),
        Err(ModelError::InvalidParameter { name: "max_inventory_lots", .. })
    ));
    p.max_inventory_lots = 5;
    p.horizon_s = f64::NAN;
    assert!(InventoryHjb::glft(&p).is_err());
    let hjb = glft(5, 10.0);
    assert!(matches!(hjb.solve(0, TimeStepping::ImplicitEuler), Err(ModelError::LimitExceeded { .. })));
    assert!(hjb.exact_values(11.0).is_err());
}

mod alpha {
    use zkclob_models::hjb::{AlphaHjb, AlphaHjbParams, CjParams, InventoryHjb};

    fn params(zeta: f64, eta: f64) -> AlphaHjbParams {
        AlphaHjbParams {
            base: CjParams {
                lambda_buy_per_s: 1.0,
                lambda_sell_per_s: 1.0,
                kappa_per_tick: 1.0,
                running_penalty_ticks_per_lot2_s: 0.002,
                terminal_penalty_ticks_per_lot2: 0.1,
                drift_ticks_per_s: 0.0,
                max_inventory_lots: 5,
                horizon_s: 20.0,
            },
            alpha_mean_reversion_per_s: zeta,
            alpha_vol_ticks_per_s_per_sqrt_s: eta,
            alpha_max_ticks_per_s: 0.2,
            alpha_points: 21,
        }
    }

    #[test]
    fn frozen_alpha_reduces_to_cartea_jaimungal_with_drift_at_first_order() {
        // ζ = η = 0: each alpha node is the CJ model with drift a, whose exact solution we know.
        let p = params(0.0, 0.0);
        let hjb = AlphaHjb::new(&p).expect("valid");
        let errors: Vec<f64> = [200usize, 400, 800]
            .iter()
            .map(|&steps| {
                let sol = hjb.solve(steps).expect("solves");
                let mut worst: f64 = 0.0;
                for (m, &a) in hjb.alpha_grid().iter().enumerate() {
                    let exact = InventoryHjb::cartea_jaimungal(&CjParams { drift_ticks_per_s: a, ..p.base })
                        .expect("valid")
                        .exact_values(0.0)
                        .expect("exact");
                    for q in -5..=5i64 {
                        worst =
                            worst.max((sol.value(0, m, q).expect("on grid") - exact[(q + 5) as usize]).abs());
                    }
                }
                worst
            })
            .collect();
        for w in errors.windows(2) {
            let order = (w[0] / w[1]).log2();
            assert!((order - 1.0).abs() < 0.1, "errors {errors:?}");
        }
    }

    #[test]
    fn alpha_solver_converges_in_time_at_first_order_and_is_symmetric() {
        let hjb = AlphaHjb::new(&params(0.5, 0.1)).expect("valid");
        let sols: Vec<_> = [100usize, 200, 400].iter().map(|&s| hjb.solve(s).expect("solves")).collect();
        let diff = |a: usize, b: usize| {
            let mut worst: f64 = 0.0;
            for m in 0..21 {
                for q in -5..=5i64 {
                    worst = worst.max(
                        (sols[a].value(0, m, q).expect("ok") - sols[b].value(0, m, q).expect("ok")).abs(),
                    );
                }
            }
            worst
        };
        // Successive differences of a first-order method halve: ratio 2, order 1.
        let order = (diff(0, 1) / diff(1, 2)).log2();
        assert!((order - 1.0).abs() < 0.1, "self-convergence order {order}");
        // λ⁺ = λ⁻ and a symmetric grid: h(t, a, q) = h(t, −a, −q).
        let sol = &sols[2];
        for m in 0..21 {
            for q in -5..=5i64 {
                let a = sol.value(0, m, q).expect("ok");
                let b = sol.value(0, 20 - m, -q).expect("ok");
                assert!((a - b).abs() < 1e-9, "m={m} q={q}: {a} vs {b}");
            }
        }
        // A positive alpha (price expected to rise): quote a tighter bid and a wider ask when flat.
        let up = 15;
        assert!(sol.bid_depth_ticks(0, up, 0).expect("bid") < sol.ask_depth_ticks(0, up, 0).expect("ask"));
        assert!(
            sol.bid_depth_ticks(0, 10, 0).expect("bid") - sol.ask_depth_ticks(0, 10, 0).expect("ask") < 1e-12
        );
    }

    #[test]
    fn alpha_hjb_rejects_bad_grids() {
        let mut p = params(0.5, 0.1);
        p.alpha_points = 4;
        assert!(AlphaHjb::new(&p).is_err());
        p.alpha_points = 21;
        p.base.drift_ticks_per_s = 0.1;
        assert!(AlphaHjb::new(&p).is_err());
    }
}
