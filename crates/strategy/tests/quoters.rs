//! The quoting models against independently derived values: hand-computed closed forms, the
//! eigendecomposition and finite-difference solvers of `zkclob_models`, exact shift identities, and
//! the known discretisation error of Guéant's closed form; plus the conventions every model must
//! keep (symmetry, limits, typed errors, no NaN on garbage).

use zkclob_core::Side;
use zkclob_models::hjb::{GlftParams, InventoryHjb};
use zkclob_strategy::models::{
    glosten_milgrom, quote_from_model, AnyModel, AsParams, AvellanedaStoikov, CartJaim, CartJaimParams,
    CjMode, GlftAsymptotic, GlftAsymptoticParams, GlftExact, GlftExactParams, HjbParams, HjbQuoter,
    MarkoutSpread, MarkoutSpreadParams, ModelConfig, MAX_INVENTORY_LOTS,
};
use zkclob_strategy::{
    BookLevel, DepthContext, DepthModel, LiveParams, MarketView, ModelDepths, OrderIntent, StrategyError,
};

fn at(q: i64, tau: f64) -> DepthContext {
    DepthContext { inventory_lots: q, time_to_horizon_s: tau, live: None }
}

fn depths(model: &dyn DepthModel, q: i64, tau: f64) -> ModelDepths {
    model.depths(&at(q, tau)).unwrap_or_else(|e| panic!("{} q={q} tau={tau}: {e}", model.name()))
}

fn bid(model: &dyn DepthModel, q: i64, tau: f64) -> f64 {
    depths(model, q, tau).bid_depth.expect("bid side")
}

fn ask(model: &dyn DepthModel, q: i64, tau: f64) -> f64 {
    depths(model, q, tau).ask_depth.expect("ask side")
}

fn close(got: f64, want: f64, tol: f64, what: &str) {
    assert!((got - want).abs() <= tol, "{what}: got {got}, want {want} (tol {tol})");
}

/// Guéant's (2017) illustrative market with a chosen Q and horizon.
fn gueant_exact(q_max: i64, horizon_s: f64) -> GlftExactParams {
    GlftExactParams { max_inventory_lots: q_max, horizon_s, ..GlftExactParams::default() }
}

fn glft_exact(sigma: f64, gamma: f64, q_max: i64, horizon_s: f64) -> GlftExact {
    GlftExact::new(GlftExactParams {
        sigma_ticks_per_sqrt_s: sigma,
        gamma_per_tick_lot: gamma,
        ..gueant_exact(q_max, horizon_s)
    })
    .expect("valid GLFT exact")
}

fn glft_closed(sigma: f64, gamma: f64, q_max: i64) -> GlftAsymptotic {
    GlftAsymptotic::new(GlftAsymptoticParams {
        sigma_ticks_per_sqrt_s: sigma,
        gamma_per_tick_lot: gamma,
        max_inventory_lots: q_max,
        ..GlftAsymptoticParams::default()
    })
    .expect("valid GLFT closed form")
}

// ---------------------------------------------------------------------------------------------
// Avellaneda–Stoikov and the GLFT closed form: hand-computed values.

#[test]
fn avellaneda_stoikov_matches_hand_computed_quotes() {
    // γ = 0.1, σ = 1, k = 1.5, τ = 10, q = 2: γσ²τ = 1, r − s = −2,
    // spread = 1 + 20·ln(16/15) = 2.2907704227514234, δᵇ = 1.14538… + 2, δᵃ = 1.14538… − 2.
    let p = AsParams {
        gamma_per_tick_lot: 0.1,
        sigma_ticks_per_sqrt_s: 1.0,
        k_per_tick: 1.5,
        mu_ticks_per_s: 0.0,
        max_inventory_lots: 5,
        horizon_s: 10.0,
    };
    let model = AvellanedaStoikov::new(p).expect("valid");
    let d = depths(&model, 2, 10.0);
    close(d.spread.expect("spread"), 2.2907704227514234, 1e-13, "spread");
    close(d.reservation_offset.expect("offset"), -2.0, 1e-13, "reservation offset");
    close(d.bid_depth.expect("bid"), 3.1453852113757117, 1e-13, "bid");
    close(d.ask_depth.expect("ask"), -0.8546147886242883, 1e-13, "ask (negative: cross)");
    // At the horizon only the (2/γ)·ln(1 + γ/k) term is left and inventory no longer skews.
    let end = depths(&model, 2, 0.0);
    close(end.bid_depth.expect("bid"), 20.0 * (16.0f64 / 15.0).ln() / 2.0, 1e-13, "bid at T");
    // A drift μ = 0.05 moves the reservation price by μτ = 0.5.
    let drift = AvellanedaStoikov::new(AsParams { mu_ticks_per_s: 0.05, ..p }).expect("valid");
    close(bid(&drift, 2, 10.0), 2.6453852113757117, 1e-13, "bid with drift");
    close(ask(&drift, 2, 10.0), -0.3546147886242883, 1e-13, "ask with drift");
    // The model defines r and the spread even where a side is missing.
    let top = depths(&model, 5, 10.0);
    assert!(top.bid_depth.is_none() && top.spread.is_some() && top.reservation_offset.is_some());
}

#[test]
fn glft_closed_form_matches_hand_computed_constants() {
    // Guéant's market: c₁ = 100·ln(1 + 1/30) = 3.278982282299097,
    // c₂ = sqrt(0.01/(2·0.9·0.3)·(31/30)^31) = 0.22621944176961267, σc₂ = 0.0678658325308838.
    let model = glft_closed(0.3, 0.01, 10);
    close(model.skew_ticks_per_lot(), 0.0678658325308838, 1e-14, "skew");
    close(model.half_spread_ticks(), 3.312915198564539, 1e-13, "half-spread");
    close(bid(&model, 0, 0.0), 3.312915198564539, 1e-13, "bid(0)");
    close(bid(&model, 3, 0.0), 3.51651269615719, 1e-13, "bid(3)");
    close(ask(&model, 3, 0.0), 3.1093177009718875, 1e-13, "ask(3)");
    let d = depths(&model, 3, 0.0);
    close(d.spread.expect("spread"), 3.51651269615719 + 3.1093177009718875, 1e-12, "spread");
    // Drift μ = 0.001: shift μ/(γσ²) = 1.111… lots.
    let drift =
        GlftAsymptotic::new(GlftAsymptoticParams { mu_ticks_per_s: 0.001, ..*model.params() }).expect("ok");
    close(bid(&drift, 0, 0.0), 3.237508717974668, 1e-12, "bid(0) with drift");
    close(ask(&drift, 0, 0.0), 3.38832167915441, 1e-12, "ask(0) with drift");
    // ξ = 0 (risk-neutral with running penalty): c₁ = 1/k, c₂ = sqrt(γe/(2Ak)).
    let neutral = GlftAsymptotic::new(GlftAsymptoticParams { xi_per_tick_lot: Some(0.0), ..*model.params() })
        .expect("ok");
    close(bid(&neutral, 0, 0.0), 3.36698771534407, 1e-12, "xi = 0");
    // Δ = 2: c₁ = 50·ln(1 + 0.02/0.3), δᵇ(q) = c₁ + (q + 1)·σc₂.
    let lots = GlftAsymptotic::new(GlftAsymptoticParams { delta_lots: 2.0, ..*model.params() }).expect("ok");
    close(bid(&lots, 0, 0.0), 3.2753030828100926, 1e-12, "delta = 2, q = 0");
    close(bid(&lots, 1, 0.0), 3.3236801087416272, 1e-12, "delta = 2, q = 1");
}

// ---------------------------------------------------------------------------------------------
// GLFT exact: against the eigendecomposition reference, exact identities, FD, and the closed form.

#[test]
fn glft_exact_matches_the_eigendecomposition_reference_where_that_is_accurate() {
    // Guéant's market, Q = 10: the stationary tails are shallow (βQ²/2 ≈ 1), so
    // `InventoryHjb::exact_values` is accurate to ~1e-13 here and serves as the reference.
    let model = GlftExact::new(gueant_exact(10, 600.0)).expect("valid");
    let reference = InventoryHjb::glft(&GlftParams {
        sigma_ticks_per_sqrt_s: 0.3,
        a_per_s: 0.9,
        k_per_tick: 0.3,
        gamma_per_tick_lot: 0.01,
        max_inventory_lots: 10,
        horizon_s: 600.0,
        terminal_penalty_ticks_per_lot2: 0.0,
    })
    .expect("valid");
    let c = model.depth_offset_ticks();
    close(c, 100.0 * (1.0f64 + 1.0 / 30.0).ln(), 1e-12, "depth offset (1/γ)ln(1 + γ/k)");
    for tau in [600.0, 345.6, 20.0, 0.5, 0.0] {
        let theta = reference.exact_values(600.0 - tau).expect("reference");
        for q in -10..10i64 {
            let i = (q + 10) as usize;
            close(bid(&model, q, tau), theta[i] - theta[i + 1] + c, 1e-9, &format!("bid q={q} tau={tau}"));
            close(ask(&model, q + 1, tau), theta[i + 1] - theta[i] + c, 1e-9, "ask");
        }
    }
}

#[test]
fn glft_exact_survives_a_million_second_horizon_and_matches_implicit_fd() {
    // σ = 2, γ = 0.1, Q = 20: βQ²/2 ≈ 90, so the stationary v spans ~e^-90 and the plain
    // eigendecomposition route loses its tails. Our solution must stay finite and monotone, and
    // match the implicit finite-difference solver run to stationarity: at stationarity θ is
    // linear in time, which implicit Euler reproduces exactly, so only the solvers' stopping
    // tolerances (~1e-11) separate them.
    let model = glft_exact(2.0, 0.1, 20, 1e6);
    let fd = HjbQuoter::new(HjbParams {
        sigma_ticks_per_sqrt_s: 2.0,
        gamma_per_tick_lot: 0.1,
        max_inventory_lots: 20,
        horizon_s: 300.0,
        steps: 3_000,
        ..HjbParams::default()
    })
    .expect("valid");
    for q in -20..20i64 {
        let exact = bid(&model, q, 1e6);
        assert!(exact.is_finite());
        close(exact, bid(&fd, q, 300.0), 1e-8, &format!("bid q={q}"));
        if q > -20 {
            assert!(exact > bid(&model, q - 1, 1e6), "δᵇ increases with q");
        }
    }
    // Stationary long before 10⁶ s: the depth is the same at any τ in the far past.
    assert_eq!(depths(&model, 7, 1e6), depths(&model, 7, 123_456.7));
}

#[test]
fn glft_exact_drift_shifts_the_inventory_axis() {
    // Independent identity: ½γσ²q² − μq = ½γσ²(q − q₀)² − const with q₀ = μ/(γσ²). For q₀ = 1 the
    // drifted generator is the driftless one shifted by one state (boundaries aside, and they are
    // ~e^-65 away at β ≈ 0.16, Q = 30), so δ_μ(q) = δ₀(q − 1) in the stationary regime.
    let base = glft_exact(1.0, 0.05, 30, 1e5);
    let drift = GlftExact::new(GlftExactParams { mu_ticks_per_s: 0.05, ..*base.params() }).expect("valid");
    for q in -5..=5 {
        close(bid(&drift, q, 1e5), bid(&base, q - 1, 1e5), 1e-9, &format!("bid q={q}"));
        close(ask(&drift, q, 1e5), ask(&base, q - 1, 1e5), 1e-9, &format!("ask q={q}"));
    }
}

/// ln(v_q/v_{q+1}) − β(q + ½) for the discrete Gaussian-like stationary vector (see below).
fn discretisation_gap(beta: f64, q: i64) -> f64 {
    let q = q as f64;
    3.0 * beta * beta / 32.0 * (2.0 * q + 1.0) - beta.powi(3) / 96.0 * ((q + 1.0).powi(4) - q.powi(4))
}

#[test]
fn glft_closed_form_approximates_the_exact_stationary_quotes_near_zero_inventory() {
    // Guéant's closed form replaces q by a continuous variable: ln v ≈ −βq²/2 with β = kσc₂. Solving
    // the discrete stationary equation αq² − η(v_{q+1} + v_{q−1})/v_q = λ (α = ηβ²) with the ansatz
    // ln v = −aq² − bq⁴, order by order in q, gives 2a ≈ β(1 + 3β/16) and b ≈ −a³/12, so
    //     k·(δᵇ_exact(q) − δᵇ_closed(q)) = ln(v_q/v_{q+1}) − β(q + ½)
    //                                    ≈ (3β²/32)(2q + 1) − (β³/96)((q + 1)⁴ − q⁴),
    // with a relative error O(β) (measured ≤ 7% at β = 0.16 for q ≤ 2, < 1% at β = 0.02). We check
    // the difference against this prediction to 10%, at long horizons with Q = 30 (boundaries are
    // e^-(βQ²/2) away).
    for (sigma, gamma) in [(0.3, 0.01), (1.0, 0.05)] {
        let exact = glft_exact(sigma, gamma, 30, 1e6);
        let closed = glft_closed(sigma, gamma, 30);
        let beta = 0.3 * closed.skew_ticks_per_lot();
        for q in 0..=2i64 {
            let predicted = discretisation_gap(beta, q) / 0.3;
            let diff = bid(&exact, q, 1e6) - bid(&closed, q, 0.0);
            assert!(
                (diff / predicted - 1.0).abs() < 0.1,
                "β={beta} q={q}: diff {diff}, predicted {predicted}"
            );
            let diff = ask(&exact, -q, 1e6) - ask(&closed, -q, 0.0);
            assert!((diff / predicted - 1.0).abs() < 0.1, "ask side β={beta} q={q}");
        }
    }
}

#[test]
fn hjb_quoter_converges_to_the_exact_solution_at_first_order() {
    // Implicit Euler is first order: halving Δt halves the error. Terminal penalty α = 0.05 makes
    // the solution genuinely time-dependent over T = 60 s.
    let params = GlftExactParams { alpha_ticks_per_lot2: 0.05, ..gueant_exact(5, 60.0) };
    let exact = GlftExact::new(params).expect("valid");
    let errors: Vec<f64> = [200usize, 400, 800, 1600]
        .iter()
        .map(|&steps| {
            let fd = HjbQuoter::new(HjbParams {
                alpha_ticks_per_lot2: 0.05,
                max_inventory_lots: 5,
                horizon_s: 60.0,
                steps,
                ..HjbParams::default()
            })
            .expect("valid");
            (-5..5i64).map(|q| (bid(&fd, q, 60.0) - bid(&exact, q, 60.0)).abs()).fold(0.0, f64::max)
        })
        .collect();
    for w in errors.windows(2) {
        let order = (w[0] / w[1]).log2();
        assert!((order - 1.0).abs() < 0.1, "errors {errors:?}: order {order}");
    }
    assert!(errors[3] < 1e-3, "finest error {}", errors[3]);
    // Between grid times the quoter interpolates; the result stays within the grid error.
    let fd = HjbQuoter::new(HjbParams {
        alpha_ticks_per_lot2: 0.05,
        max_inventory_lots: 5,
        horizon_s: 60.0,
        steps: 1600,
        ..HjbParams::default()
    })
    .expect("valid");
    close(bid(&fd, 2, 13.3333), bid(&exact, 2, 13.3333), 2e-3, "off-grid time");
}

// ---------------------------------------------------------------------------------------------
// Cartea–Jaimungal.

fn cj_params() -> CartJaimParams {
    // Asymmetric flow, a drift, adverse selection and both penalties: every term is exercised.
    CartJaimParams {
        lambda_plus_per_s: 1.2,
        lambda_minus_per_s: 0.8,
        kappa_per_tick: 0.7,
        phi_ticks_per_lot2_s: 0.01,
        alpha_ticks_per_lot2: 0.2,
        epsilon_plus_ticks: 0.3,
        epsilon_minus_ticks: 0.1,
        mu_ticks_per_s: 0.02,
        max_inventory_lots: 6,
        mode: CjMode::Exact,
        horizon_s: Some(30.0),
    }
}

#[test]
fn cartea_jaimungal_exact_matches_implicit_finite_differences_at_first_order() {
    let exact = CartJaim::new(cj_params()).expect("valid");
    let errors: Vec<f64> = [150usize, 300, 600, 1200]
        .iter()
        .map(|&steps| {
            let fd = HjbQuoter::cartea_jaimungal(cj_params(), steps).expect("valid");
            (-6..6i64)
                .flat_map(|q| {
                    [
                        (bid(&fd, q, 30.0) - bid(&exact, q, 30.0)).abs(),
                        (ask(&fd, q + 1, 30.0) - ask(&exact, q + 1, 30.0)).abs(),
                    ]
                })
                .fold(0.0, f64::max)
        })
        .collect();
    for w in errors.windows(2) {
        let order = (w[0] / w[1]).log2();
        assert!((order - 1.0).abs() < 0.1, "errors {errors:?}: order {order}");
    }
    assert!(errors[3] < 5e-3, "finest error {}", errors[3]);
}

#[test]
fn cartea_jaimungal_adverse_selection_is_discounted_rates_plus_drift_plus_epsilon() {
    // Independent identity from the spec: ε± is the same as rates λ±e^(−κε±), drift
    // μ + λ⁺ε⁺ − λ⁻ε⁻, and ε± added to the depths.
    let p = cj_params();
    let with_eps = CartJaim::new(p).expect("valid");
    let (k, lp, lm) = (p.kappa_per_tick, p.lambda_plus_per_s, p.lambda_minus_per_s);
    let (ep, em) = (p.epsilon_plus_ticks, p.epsilon_minus_ticks);
    let mapped = CartJaim::new(CartJaimParams {
        lambda_plus_per_s: lp * (-k * ep).exp(),
        lambda_minus_per_s: lm * (-k * em).exp(),
        mu_ticks_per_s: p.mu_ticks_per_s + lp * ep - lm * em,
        epsilon_plus_ticks: 0.0,
        epsilon_minus_ticks: 0.0,
        ..p
    })
    .expect("valid");
    for q in -5..=5 {
        for tau in [30.0, 7.5, 0.0] {
            close(bid(&with_eps, q, tau), bid(&mapped, q, tau) + em, 1e-12, "bid");
            close(ask(&with_eps, q, tau), ask(&mapped, q, tau) + ep, 1e-12, "ask");
        }
    }
    // At T the depths are the terminal-penalty feedback: δᵃ = 1/κ + ε⁺ + α(2q − 1)... checked by hand
    // at q = 1: h(q) = −αq², so δᵃ(1) = 1/κ + ε⁺ − [h(0) − h(1)] = 1/κ + ε⁺ − α.
    close(ask(&with_eps, 1, 0.0), 1.0 / k + ep - p.alpha_ticks_per_lot2, 1e-12, "terminal ask");
}

#[test]
fn cartea_jaimungal_long_horizon_reaches_the_stationary_mode_and_the_closed_form_approximates_it() {
    let long = CartJaim::new(CartJaimParams { horizon_s: Some(1e6), ..cj_params() }).expect("valid");
    let stationary =
        CartJaim::new(CartJaimParams { mode: CjMode::Stationary, ..cj_params() }).expect("valid");
    for q in -5..=5 {
        close(bid(&long, q, 1e6), bid(&stationary, q, 0.0), 1e-9, "stationary bid");
        close(ask(&long, q + 1, 1e6), ask(&stationary, q + 1, 0.0), 1e-9, "stationary ask");
    }
    // Closed form, symmetric flow, no drift: the same continuous-inventory error as GLFT,
    // `discretisation_gap(β, q)/κ` with β = sqrt(κφ/η), η = λ/e; Q = 30 keeps boundaries far.
    let sym = CartJaimParams {
        lambda_plus_per_s: 1.0,
        lambda_minus_per_s: 1.0,
        epsilon_plus_ticks: 0.0,
        epsilon_minus_ticks: 0.0,
        mu_ticks_per_s: 0.0,
        phi_ticks_per_lot2_s: 0.005,
        max_inventory_lots: 30,
        ..cj_params()
    };
    let exact = CartJaim::new(CartJaimParams { mode: CjMode::Stationary, ..sym }).expect("valid");
    let closed = CartJaim::new(CartJaimParams { mode: CjMode::ClosedForm, ..sym }).expect("valid");
    let beta = (0.7f64 * 0.005 * std::f64::consts::E).sqrt();
    for q in 0..=2i64 {
        let predicted = discretisation_gap(beta, q) / 0.7;
        let diff = bid(&exact, q, 0.0) - bid(&closed, q, 0.0);
        assert!((diff / predicted - 1.0).abs() < 0.1, "q={q}: diff {diff}, predicted {predicted}");
    }
    // With asymmetric flow, adverse selection and drift the closed form is centred at
    // q₀ = μ_total/(2φ) = (0.02 + 1.2·0.3 − 0.8·0.1)/(2·0.05) = 3 lots and shifted by ln ρ exactly
    // (the diagonal similarity is exact), so near q₀ it differs from the stationary solution by the
    // same discretisation gap, measured from q₀ (margin 1.5 for the O(β) remainder).
    let asym = CartJaimParams { phi_ticks_per_lot2_s: 0.05, max_inventory_lots: 30, ..cj_params() };
    let stationary = CartJaim::new(CartJaimParams { mode: CjMode::Stationary, ..asym }).expect("valid");
    let closed = CartJaim::new(CartJaimParams { mode: CjMode::ClosedForm, ..asym }).expect("valid");
    let (lp, lm) = (1.2 * (-0.7f64 * 0.3).exp(), 0.8 * (-0.7f64 * 0.1).exp());
    let beta = (0.7 * 0.05 / ((lp * lm).sqrt() / std::f64::consts::E)).sqrt();
    for q in 1..=5i64 {
        let tol = 1.5 * discretisation_gap(beta, (q - 3).abs()) / 0.7;
        close(
            bid(&closed, q, 0.0),
            bid(&stationary, q, 0.0),
            tol,
            &format!("asymmetric closed-form bid q={q}"),
        );
        close(
            ask(&closed, q, 0.0),
            ask(&stationary, q, 0.0),
            tol,
            &format!("asymmetric closed-form ask q={q}"),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Conventions every model keeps.

/// One of each model (and mode), zero drift, Q = `q_max`.
fn every_model(q_max: i64) -> Vec<AnyModel> {
    let mut models = vec![
        AnyModel::As(
            AvellanedaStoikov::new(AsParams { max_inventory_lots: q_max, ..AsParams::default() })
                .expect("as"),
        ),
        AnyModel::Glft(glft_closed(0.3, 0.01, q_max)),
        AnyModel::GlftExact(GlftExact::new(gueant_exact(q_max, 600.0)).expect("glft-exact")),
        AnyModel::Hjb(
            HjbQuoter::new(HjbParams { max_inventory_lots: q_max, steps: 400, ..HjbParams::default() })
                .expect("hjb"),
        ),
    ];
    for mode in [CjMode::Exact, CjMode::Stationary, CjMode::ClosedForm] {
        let p = CartJaimParams { max_inventory_lots: q_max, mode, ..CartJaimParams::default() };
        models.push(AnyModel::Cj(CartJaim::new(p).expect("cj")));
    }
    models
}

#[test]
fn every_model_is_symmetric_without_drift() {
    for model in every_model(6) {
        for tau in [600.0, 42.0, 0.0] {
            for q in -6..=6 {
                let (here, mirror) = (depths(&model, q, tau), depths(&model, -q, tau));
                match (here.bid_depth, mirror.ask_depth) {
                    (Some(b), Some(a)) => close(b, a, 1e-9, &format!("{} q={q} tau={tau}", model.name())),
                    (None, None) => assert_eq!(q, 6),
                    other => panic!("{} q={q}: sides differ {other:?}", model.name()),
                }
            }
        }
    }
}

#[test]
fn no_bid_at_plus_q_no_ask_at_minus_q_and_beyond_the_limit_is_a_typed_error() {
    for model in every_model(4) {
        assert_eq!(model.max_inventory_lots(), Some(4));
        let top = depths(&model, 4, 600.0);
        assert!(top.bid_depth.is_none() && top.ask_depth.is_some(), "{} at +Q", model.name());
        let bottom = depths(&model, -4, 600.0);
        assert!(bottom.ask_depth.is_none() && bottom.bid_depth.is_some(), "{} at -Q", model.name());
        for q in [5, -5, i64::MAX, i64::MIN] {
            assert_eq!(
                model.depths(&at(q, 600.0)),
                Err(StrategyError::InventoryBeyondLimit { inventory: q, limit: 4 }),
                "{} q={q}",
                model.name()
            );
        }
    }
}

#[test]
fn depths_rise_with_inventory_on_the_bid_and_fall_on_the_ask() {
    for model in every_model(6) {
        for q in -6..5 {
            assert!(bid(&model, q + 1, 300.0) > bid(&model, q, 300.0), "{} bid q={q}", model.name());
            assert!(ask(&model, q + 2, 300.0) < ask(&model, q + 1, 300.0), "{} ask q={q}", model.name());
        }
    }
}

#[test]
fn inventory_limit_edge_is_accepted_and_one_past_it_is_rejected() {
    let p =
        GlftAsymptoticParams { max_inventory_lots: MAX_INVENTORY_LOTS, ..GlftAsymptoticParams::default() };
    let model = GlftAsymptotic::new(p).expect("Q at the limit");
    assert!(depths(&model, -MAX_INVENTORY_LOTS, 0.0).ask_depth.is_none());
    let past = GlftAsymptoticParams { max_inventory_lots: MAX_INVENTORY_LOTS + 1, ..p };
    assert!(matches!(
        GlftAsymptotic::new(past),
        Err(StrategyError::InvalidParameter { name: "max_inventory", .. })
    ));
}

fn invalid_name<T: std::fmt::Debug>(r: Result<T, StrategyError>) -> &'static str {
    match r {
        Err(StrategyError::InvalidParameter { name, .. }) => name,
        other => panic!("expected InvalidParameter, got {other:?}"),
    }
}

#[test]
fn bad_parameters_are_typed_errors_naming_the_parameter() {
    let a = AsParams::default();
    assert_eq!(invalid_name(AvellanedaStoikov::new(AsParams { gamma_per_tick_lot: -1.0, ..a })), "gamma");
    assert_eq!(
        invalid_name(AvellanedaStoikov::new(AsParams { sigma_ticks_per_sqrt_s: f64::NAN, ..a })),
        "sigma"
    );
    assert_eq!(invalid_name(AvellanedaStoikov::new(AsParams { k_per_tick: 0.0, ..a })), "k");
    assert_eq!(invalid_name(AvellanedaStoikov::new(AsParams { horizon_s: f64::INFINITY, ..a })), "horizon");
    let g = GlftAsymptoticParams::default();
    assert_eq!(invalid_name(GlftAsymptotic::new(GlftAsymptoticParams { a_per_s: 0.0, ..g })), "a");
    assert_eq!(
        invalid_name(GlftAsymptotic::new(GlftAsymptoticParams { xi_per_tick_lot: Some(-0.1), ..g })),
        "xi"
    );
    assert_eq!(invalid_name(GlftAsymptotic::new(GlftAsymptoticParams { delta_lots: 0.0, ..g })), "delta");
    assert_eq!(
        invalid_name(GlftAsymptotic::new(GlftAsymptoticParams { mu_ticks_per_s: f64::NAN, ..g })),
        "mu"
    );
    let no_vol = GlftAsymptoticParams { sigma_ticks_per_sqrt_s: 0.0, mu_ticks_per_s: 0.1, ..g };
    assert_eq!(invalid_name(GlftAsymptotic::new(no_vol)), "sigma");
    let e = GlftExactParams::default();
    assert_eq!(invalid_name(GlftExact::new(GlftExactParams { alpha_ticks_per_lot2: -1.0, ..e })), "alpha");
    assert_eq!(invalid_name(GlftExact::new(GlftExactParams { horizon_s: 0.0, ..e })), "horizon");
    assert_eq!(invalid_name(GlftExact::new(GlftExactParams { max_inventory_lots: 0, ..e })), "max_inventory");
    let c = CartJaimParams::default();
    assert_eq!(invalid_name(CartJaim::new(CartJaimParams { lambda_plus_per_s: 0.0, ..c })), "lambda_plus");
    assert_eq!(invalid_name(CartJaim::new(CartJaimParams { lambda_minus_per_s: -2.0, ..c })), "lambda_minus");
    assert_eq!(invalid_name(CartJaim::new(CartJaimParams { kappa_per_tick: f64::NAN, ..c })), "kappa");
    assert_eq!(invalid_name(CartJaim::new(CartJaimParams { phi_ticks_per_lot2_s: -1e-3, ..c })), "phi");
    assert_eq!(invalid_name(CartJaim::new(CartJaimParams { epsilon_plus_ticks: -0.1, ..c })), "epsilon_plus");
    assert_eq!(invalid_name(CartJaim::new(CartJaimParams { horizon_s: None, ..c })), "horizon");
    let closed_no_phi = CartJaimParams { mode: CjMode::ClosedForm, phi_ticks_per_lot2_s: 0.0, ..c };
    assert_eq!(invalid_name(CartJaim::new(closed_no_phi)), "phi");
    assert!(CartJaim::new(CartJaimParams { mode: CjMode::Stationary, horizon_s: None, ..c }).is_ok());
    let h = HjbParams::default();
    assert_eq!(invalid_name(HjbQuoter::new(HjbParams { steps: 0, ..h })), "steps");
    assert_eq!(invalid_name(HjbQuoter::new(HjbParams { steps: usize::MAX, ..h })), "steps");
    assert_eq!(invalid_name(HjbQuoter::new(HjbParams { gamma_per_tick_lot: 0.0, ..h })), "gamma");
    // Bad contexts: τ outside [0, T], NaN live parameters.
    let model = GlftExact::new(e).expect("valid");
    assert_eq!(invalid_name(model.depths(&at(0, -1.0))), "time_to_horizon_s");
    assert_eq!(invalid_name(model.depths(&at(0, 601.0))), "time_to_horizon_s");
    let live = LiveParams { sigma: f64::NAN, a: 0.9, k: 0.3, drift: 0.0 };
    let ctx = DepthContext { live: Some(live), ..at(0, 600.0) };
    assert_eq!(invalid_name(model.depths(&ctx)), "sigma");
}

#[test]
fn live_parameters_give_the_same_depths_as_a_model_built_with_them() {
    let live = LiveParams { sigma: 0.5, a: 1.3, k: 0.4, drift: 0.002 };
    let ctx = DepthContext { live: Some(live), ..at(3, 200.0) };
    let e = GlftExactParams { horizon_s: 200.0, ..GlftExactParams::default() };
    let rebuilt = GlftExactParams {
        sigma_ticks_per_sqrt_s: 0.5,
        a_per_s: 1.3,
        k_per_tick: 0.4,
        mu_ticks_per_s: 0.002,
        ..e
    };
    let got = GlftExact::new(e).expect("ok").depths(&ctx).expect("live");
    assert_eq!(got, depths(&GlftExact::new(rebuilt).expect("ok"), 3, 200.0));
    let g = GlftAsymptoticParams::default();
    let rebuilt = GlftAsymptoticParams {
        sigma_ticks_per_sqrt_s: 0.5,
        a_per_s: 1.3,
        k_per_tick: 0.4,
        mu_ticks_per_s: 0.002,
        ..g
    };
    let got = GlftAsymptotic::new(g).expect("ok").depths(&ctx).expect("live");
    assert_eq!(got, depths(&GlftAsymptotic::new(rebuilt).expect("ok"), 3, 200.0));
    // Cartea–Jaimungal: A rescales both rates keeping their ratio, k is κ, the drift is μ.
    let c = cj_params();
    let scale = 1.3 / (c.lambda_plus_per_s * c.lambda_minus_per_s).sqrt();
    let rebuilt = CartJaimParams {
        lambda_plus_per_s: c.lambda_plus_per_s * scale,
        lambda_minus_per_s: c.lambda_minus_per_s * scale,
        kappa_per_tick: 0.4,
        mu_ticks_per_s: 0.002,
        ..c
    };
    let ctx = DepthContext { live: Some(live), ..at(3, 20.0) };
    let got = CartJaim::new(c).expect("ok").depths(&ctx).expect("live");
    let want = depths(&CartJaim::new(rebuilt).expect("ok"), 3, 20.0);
    close(got.bid_depth.expect("bid"), want.bid_depth.expect("bid"), 1e-12, "cj live bid");
    // Passing the configured values as live parameters changes nothing.
    let configured = LiveParams { sigma: 0.3, a: 0.9, k: 0.3, drift: 0.0 };
    let model = HjbQuoter::new(HjbParams::default()).expect("ok");
    let ctx = DepthContext { live: Some(configured), ..at(2, 600.0) };
    assert_eq!(model.depths(&ctx).expect("ok"), depths(&model, 2, 600.0));
}

/// xorshift64: a proptest-free source of garbage.
struct Garbage(u64);

impl Garbage {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Five times in six a plausible value (tiny and huge included), else garbage.
    fn real(&mut self) -> f64 {
        const PLAUSIBLE: [f64; 7] = [1e-300, 0.01, 0.3, 1.0, 5.0, 600.0, 1e300];
        const GARBAGE: [f64; 6] = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0, 0.0, -0.0];
        let r = self.next();
        if r % 6 == 0 {
            GARBAGE[(r / 4 % GARBAGE.len() as u64) as usize]
        } else {
            PLAUSIBLE[(r / 4 % PLAUSIBLE.len() as u64) as usize]
        }
    }

    fn int(&mut self) -> i64 {
        const VALUES: [i64; 9] = [i64::MIN, -1, 0, 1, 3, 8, 3, 1, i64::MAX];
        VALUES[(self.next() % VALUES.len() as u64) as usize]
    }
}

fn check_garbage_answer(r: Result<ModelDepths, StrategyError>, what: &str) {
    if let Ok(d) = r {
        for v in [d.bid_depth, d.ask_depth, d.reservation_offset, d.spread].into_iter().flatten() {
            assert!(v.is_finite(), "{what}: non-finite {d:?}");
        }
    }
}

#[test]
fn garbage_inputs_give_typed_errors_or_finite_depths_never_nan_or_panic() {
    let mut g = Garbage(0x2545_F491_4F6C_DD1D);
    let mut built = 0;
    for round in 0..1_000 {
        let config = match round % 5 {
            0 => ModelConfig::As(AsParams {
                gamma_per_tick_lot: g.real(),
                sigma_ticks_per_sqrt_s: g.real(),
                k_per_tick: g.real(),
                mu_ticks_per_s: g.real(),
                max_inventory_lots: g.int(),
                horizon_s: g.real(),
            }),
            1 => ModelConfig::Glft(GlftAsymptoticParams {
                gamma_per_tick_lot: g.real(),
                sigma_ticks_per_sqrt_s: g.real(),
                a_per_s: g.real(),
                k_per_tick: g.real(),
                xi_per_tick_lot: Some(g.real()),
                delta_lots: g.real(),
                mu_ticks_per_s: g.real(),
                max_inventory_lots: g.int(),
            }),
            2 => ModelConfig::GlftExact(GlftExactParams {
                gamma_per_tick_lot: g.real(),
                sigma_ticks_per_sqrt_s: g.real(),
                a_per_s: g.real(),
                k_per_tick: g.real(),
                mu_ticks_per_s: g.real(),
                alpha_ticks_per_lot2: g.real(),
                max_inventory_lots: g.int(),
                horizon_s: g.real(),
            }),
            3 => ModelConfig::Cj(CartJaimParams {
                lambda_plus_per_s: g.real(),
                lambda_minus_per_s: g.real(),
                kappa_per_tick: g.real(),
                phi_ticks_per_lot2_s: g.real(),
                alpha_ticks_per_lot2: g.real(),
                epsilon_plus_ticks: g.real(),
                epsilon_minus_ticks: g.real(),
                mu_ticks_per_s: g.real(),
                max_inventory_lots: g.int(),
                mode: [CjMode::Exact, CjMode::Stationary, CjMode::ClosedForm][(g.next() % 3) as usize],
                horizon_s: Some(g.real()),
            }),
            _ => ModelConfig::Hjb(HjbParams {
                gamma_per_tick_lot: g.real(),
                sigma_ticks_per_sqrt_s: g.real(),
                a_per_s: g.real(),
                k_per_tick: g.real(),
                alpha_ticks_per_lot2: g.real(),
                max_inventory_lots: g.int(),
                horizon_s: g.real(),
                steps: [0, 1, 50, usize::MAX][(g.next() % 4) as usize],
            }),
        };
        let Ok(model) = config.build() else { continue };
        built += 1;
        for _ in 0..6 {
            let ctx = DepthContext { inventory_lots: g.int(), time_to_horizon_s: g.real(), live: None };
            check_garbage_answer(model.depths(&ctx), &format!("{config:?} {ctx:?}"));
            let live = LiveParams { sigma: g.real(), a: g.real(), k: g.real(), drift: g.real() };
            let ctx = DepthContext { live: Some(live), ..ctx };
            check_garbage_answer(model.depths(&ctx), &format!("{config:?} {ctx:?}"));
        }
    }
    assert!(built >= 100, "the generator should also produce valid models ({built})");
}

// ---------------------------------------------------------------------------------------------
// Adjustments and the quoting helper.

#[test]
fn glosten_milgrom_matches_hand_computed_posteriors() {
    // V ∈ {100, 110}, π = 0.3, μ = 0.4: ask = 100 + 10·(0.3·1.4)/(0.3·1.4 + 0.7·0.6) = 105,
    // bid = 100 + 10·(0.3·0.6)/(0.3·0.6 + 0.7·1.4) = 101.55172413793103.
    let gm = glosten_milgrom(100.0, 110.0, 0.3, 0.4).expect("valid");
    close(gm.ask, 105.0, 1e-12, "ask");
    close(gm.bid, 101.55172413793103, 1e-12, "bid");
    close(gm.spread, gm.ask - gm.bid, 0.0, "spread");
    // At π = ½ the spread is μ(V_H − V_L); with no informed traders it vanishes.
    close(glosten_milgrom(100.0, 110.0, 0.5, 0.4).expect("ok").spread, 4.0, 1e-12, "prior 1/2");
    close(glosten_milgrom(100.0, 110.0, 0.2, 0.0).expect("ok").spread, 0.0, 1e-12, "no informed");
    for (args, name) in [
        ((f64::NAN, 110.0, 0.5, 0.1), "v_low"),
        ((100.0, 100.0, 0.5, 0.1), "v_high"),
        ((100.0, 110.0, 1.0, 0.1), "prior"),
        ((100.0, 110.0, 0.5, 1.5), "informed_share"),
    ] {
        assert_eq!(invalid_name(glosten_milgrom(args.0, args.1, args.2, args.3)), name);
    }
}

#[test]
fn markout_add_on_tracks_adverse_moves_per_side_and_never_tightens() {
    let mut m = MarkoutSpread::new(MarkoutSpreadParams { ewma_weight: 0.5, cap_ticks: 3.0 }).expect("valid");
    // Our buys are followed by the mid falling 2 ticks: EWMA 1, then 1.5.
    m.record_fill(Side::Buy, 100.0, 98.0).expect("ok");
    assert_eq!(m.add_on_ticks(Side::Buy), 1.0);
    m.record_fill(Side::Buy, 100.0, 98.0).expect("ok");
    assert_eq!(m.add_on_ticks(Side::Buy), 1.5);
    // Favourable mark-outs on our sells (mid falls after we sell) never tighten the ask.
    m.record_fill(Side::Sell, 100.0, 97.0).expect("ok");
    assert_eq!(m.add_on_ticks(Side::Sell), 0.0);
    // The cap holds.
    for _ in 0..20 {
        m.record_fill(Side::Buy, 100.0, 80.0).expect("ok");
    }
    assert_eq!(m.add_on_ticks(Side::Buy), 3.0);
    assert_eq!(m.fills(), 23);
    let d = ModelDepths {
        bid_depth: Some(1.0),
        ask_depth: Some(2.0),
        reservation_offset: Some(0.5),
        spread: Some(3.0),
    };
    let w = m.apply(&d);
    assert_eq!(
        (w.bid_depth, w.ask_depth, w.spread, w.reservation_offset),
        (Some(4.0), Some(2.0), Some(6.0), Some(-1.0))
    );
    assert!(m.record_fill(Side::Sell, f64::NAN, 1.0).is_err());
    assert_eq!(
        invalid_name(MarkoutSpread::new(MarkoutSpreadParams { ewma_weight: 0.0, cap_ticks: 1.0 })),
        "weight"
    );
    assert_eq!(
        invalid_name(MarkoutSpread::new(MarkoutSpreadParams { ewma_weight: 0.1, cap_ticks: -1.0 })),
        "cap"
    );
}

#[test]
fn quote_from_model_rounds_outwards_and_clips_negative_depths_to_the_touch() {
    let model = glft_closed(0.3, 0.01, 10);
    let bids = [BookLevel { price_ticks: 1_000, qty_lots: 3 }];
    let asks = [BookLevel { price_ticks: 1_001, qty_lots: 3 }];
    let view = MarketView { time_s: 0.0, bids: &bids, asks: &asks, trades: &[], inventory_lots: 0 };
    // mid 1000.5, δ = 3.3129: bid floor(997.187) = 997, ask ceil(1003.813) = 1004.
    let q = quote_from_model(&model, &view, 0.0, 2).expect("quotes");
    assert_eq!(q.bid, Some(OrderIntent { price_ticks: 997, qty_lots: 2 }));
    assert_eq!(q.ask, Some(OrderIntent { price_ticks: 1004, qty_lots: 2 }));
    // Long 10 lots at the limit with a steep skew (σ = 5, γ = 0.1): no bid, and the ask depth
    // c₁ − 9.5·σc₂ ≈ −33.5 ticks is negative, so the ask is clipped to best bid + 1 (stays passive).
    let steep = glft_closed(5.0, 0.1, 10);
    let long = MarketView { inventory_lots: 10, ..view };
    assert!(depths(&steep, 10, 0.0).ask_depth.expect("ask") < 0.0);
    let q = quote_from_model(&steep, &long, 0.0, 1).expect("quotes");
    assert_eq!((q.bid, q.ask.map(|o| o.price_ticks)), (None, Some(1_001)));
    let empty = MarketView { bids: &[], ..view };
    assert_eq!(quote_from_model(&model, &empty, 0.0, 1).expect("no mid").reason, "no-mid");
    assert_eq!(invalid_name(quote_from_model(&model, &view, 0.0, 0)), "size_lots");
}

#[test]
fn shipped_example_configurations_parse_and_build() {
    for (file, text) in [
        ("as.toml", include_str!("../examples/as.toml")),
        ("glft.toml", include_str!("../examples/glft.toml")),
        ("glft-exact.toml", include_str!("../examples/glft-exact.toml")),
        ("cj.toml", include_str!("../examples/cj.toml")),
        ("hjb.toml", include_str!("../examples/hjb.toml")),
    ] {
        let config = ModelConfig::from_toml_str(text).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(format!("{}.toml", config.name()), file);
        let model = config.build().unwrap_or_else(|e| panic!("{file}: {e}"));
        let d = model.depths(&at(1, config.horizon_s().unwrap_or(0.0))).expect("depths");
        assert!(d.bid_depth.is_some_and(f64::is_finite) && d.ask_depth.is_some_and(f64::is_finite), "{file}");
    }
}
