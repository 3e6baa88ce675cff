//! The fixed-point GLFT rule against its `f64` twin: within one tick everywhere on a wide grid,
//! never more aggressive, and typed errors (never a panic) on bad input.

use zkclob_core::fx::{Fx, FxError};
use zkclob_strategy::fixed::{FixedGlft, FixedGlftParams, FixedQuoteError, MAX_INVENTORY_LOTS};
use zkclob_strategy::models::{GlftAsymptotic, GlftAsymptoticParams};
use zkclob_strategy::{DepthContext, DepthModel};

fn fx(v: f64) -> Fx {
    Fx::from_f64_lossy(v).expect("representable")
}

/// `[γ, σ, A, k, ξ, Δ, μ]` and Q.
fn params([gamma, sigma, a, k, xi, delta, mu]: [f64; 7], q_max: i64) -> FixedGlftParams {
    FixedGlftParams {
        gamma_per_tick_lot: fx(gamma),
        sigma_ticks_per_sqrt_s: fx(sigma),
        a_per_s: fx(a),
        k_per_tick: fx(k),
        xi_per_tick_lot: fx(xi),
        delta_lots: fx(delta),
        mu_ticks_per_s: fx(mu),
        max_inventory_lots: q_max,
    }
}

/// The f64 model with the *same* parameter values (the Fx values converted back, so both rules see
/// identical inputs up to 2⁻⁵³ relative).
fn float_model(p: &FixedGlftParams) -> GlftAsymptotic {
    GlftAsymptotic::new(GlftAsymptoticParams {
        gamma_per_tick_lot: p.gamma_per_tick_lot.to_f64_lossy(),
        sigma_ticks_per_sqrt_s: p.sigma_ticks_per_sqrt_s.to_f64_lossy(),
        a_per_s: p.a_per_s.to_f64_lossy(),
        k_per_tick: p.k_per_tick.to_f64_lossy(),
        xi_per_tick_lot: Some(p.xi_per_tick_lot.to_f64_lossy()),
        delta_lots: p.delta_lots.to_f64_lossy(),
        mu_ticks_per_s: p.mu_ticks_per_s.to_f64_lossy(),
        max_inventory_lots: p.max_inventory_lots,
    })
    .expect("valid f64 params")
}

#[test]
fn fixed_rule_is_within_one_tick_of_the_float_rule_and_never_more_aggressive() {
    const Q: i64 = 10;
    let mut combos = 0u32;
    let mut price_differences = 0u32;
    for gamma in [1e-3, 0.01, 0.1, 1.0] {
        for sigma in [0.05, 0.3, 1.0, 4.0] {
            for a in [0.2, 0.9, 5.0, 40.0] {
                for k in [0.05, 0.3, 1.0, 3.0] {
                    for xi_over_gamma in [0.0, 1.0, 3.0] {
                        for delta in [1.0, 2.0, 5.0] {
                            for mu in [0.0, 0.02, -0.1] {
                                let p = params([gamma, sigma, a, k, xi_over_gamma * gamma, delta, mu], Q);
                                let fixed = FixedGlft::new(p).expect("valid fixed params");
                                let float = float_model(&p);
                                for (q, mid) in
                                    [(-Q, 1000.0), (-3, 1000.5), (0, 1234.375), (2, 999.0), (Q, 1000.25)]
                                {
                                    combos += 1;
                                    price_differences += compare(&fixed, &float, q, mid);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    assert_eq!(combos, 34_560);
    // A price differs only when the exact price lies within the interval width (~1e-15 tick) of a
    // whole tick; on this grid that should essentially never happen.
    assert!(price_differences <= combos / 1000, "{price_differences} of {combos} prices differ");
}

/// Checks one quote; returns how many of its prices differ from the f64 rule's (0, 1 or 2).
fn compare(fixed: &FixedGlft, float: &GlftAsymptotic, q: i64, mid: f64) -> u32 {
    let fq = fixed.quote(fx(mid), q).expect("quotes");
    let ctx = DepthContext { inventory_lots: q, time_to_horizon_s: 0.0, live: None };
    let d = float.depths(&ctx).expect("float depths");
    let mut differences = 0;
    let sides = [
        (fq.bid_depth_ticks, fq.bid_price_ticks, d.bid_depth, -1.0),
        (fq.ask_depth_ticks, fq.ask_price_ticks, d.ask_depth, 1.0),
    ];
    for (fixed_depth, fixed_price, float_depth, sign) in sides {
        assert_eq!(fixed_depth.is_some(), float_depth.is_some(), "q {q}: sides must agree");
        let (Some(fd), Some(fp), Some(d)) = (fixed_depth, fixed_price, float_depth) else { continue };
        let fd = fd.to_f64_lossy();
        // f64 carries ~1e-16 relative per operation; a dozen operations on values up to ~1e5.
        let tol = 1e-10 * (1.0 + d.abs());
        assert!((fd - d).abs() <= tol, "q {q} {:?}: depth {fd} vs {d}", fixed.params());
        let float_price = if sign < 0.0 { (mid - d).floor() } else { (mid + d).ceil() } as i64;
        assert!((fp - float_price).abs() <= 1, "q {q}: price {fp} vs {float_price}");
        // Never more aggressive than the exact rule (the f64 price ± its own error).
        if sign < 0.0 {
            assert!((fp as f64) <= mid - d + tol, "bid {fp} above {}", mid - d);
        } else {
            assert!((fp as f64) >= mid + d - tol, "ask {fp} below {}", mid + d);
        }
        differences += u32::from(fp != float_price);
    }
    differences
}

#[test]
fn quotes_with_known_values() {
    // γ = ξ = 1/2, k = 1, A = 1/2, Δ = 1, σ = 1: x = ξΔ/k = 1/2, c₁ = ln(3/2)/(1/2) = 0.81093,
    // c₂² = γ/(2AΔk)·(1 + x)^(k/(ξΔ) + 1) = (1/2)·(3/2)³ = 1.6875, σc₂ = 1.29904.
    let p = params([0.5, 1.0, 0.5, 1.0, 0.5, 1.0, 0.0], 5);
    let c1 = 2.0 * 1.5f64.ln();
    let sigma_c2 = (0.5 * 1.5f64.powi(3)).sqrt();
    let fixed = FixedGlft::new(p).expect("valid");
    let (bid, ask) = fixed.depths(1).expect("depths");
    let (bid, ask) = (bid.expect("bid").to_f64_lossy(), ask.expect("ask").to_f64_lossy());
    assert!((bid - (c1 + 1.5 * sigma_c2)).abs() < 1e-14, "{bid}");
    assert!((ask - (c1 - 0.5 * sigma_c2)).abs() < 1e-14, "{ask}");
    // δᵇ(1) = 0.81093 + 1.5·1.29904 = 2.75949 → bid = floor(97.2405) = 97;
    // δᵃ(1) = 0.81093 − 0.5·1.29904 = 0.16141 → ask = ceil(100.1614) = 101.
    let quote = fixed.quote(Fx::from_int(100), 1).expect("quote");
    assert_eq!((quote.bid_price_ticks, quote.ask_price_ticks), (Some(97), Some(101)));
    let half = fixed.quote(fx(100.5), 1).expect("quote at a half tick");
    assert_eq!((half.bid_price_ticks, half.ask_price_ticks), (Some(97), Some(101)));
}

#[test]
fn no_bid_at_the_upper_limit_no_ask_at_the_lower_and_beyond_is_an_error() {
    let fixed = FixedGlft::new(params([0.01, 0.3, 0.9, 0.3, 0.01, 1.0, 0.0], 4)).expect("valid");
    let top = fixed.quote(Fx::from_int(50), 4).expect("at +Q");
    assert!(top.bid_price_ticks.is_none() && top.ask_price_ticks.is_some());
    let bottom = fixed.quote(Fx::from_int(50), -4).expect("at -Q");
    assert!(bottom.ask_price_ticks.is_none() && bottom.bid_price_ticks.is_some());
    for q in [5, -5, i64::MIN, i64::MAX] {
        assert!(matches!(
            fixed.quote(Fx::from_int(50), q),
            Err(FixedQuoteError::InventoryBeyondLimit { .. })
        ));
    }
    // Symmetric with zero drift: δᵇ(q) = δᵃ(−q) bit for bit.
    for q in -3..=3 {
        assert_eq!(fixed.depths(q).expect("d").0, fixed.depths(-q).expect("d").1);
    }
}

#[test]
fn bad_domains_are_typed_errors() {
    let good = params([0.01, 0.3, 0.9, 0.3, 0.01, 1.0, 0.05], 10);
    let cases: [(&str, FixedGlftParams); 10] = [
        ("gamma", FixedGlftParams { gamma_per_tick_lot: Fx::ZERO, ..good }),
        ("gamma", FixedGlftParams { gamma_per_tick_lot: fx(-0.1), ..good }),
        ("sigma", FixedGlftParams { sigma_ticks_per_sqrt_s: fx(-1.0), ..good }),
        ("sigma", FixedGlftParams { sigma_ticks_per_sqrt_s: Fx::ZERO, ..good }), // μ ≠ 0
        ("a", FixedGlftParams { a_per_s: Fx::ZERO, ..good }),
        ("k", FixedGlftParams { k_per_tick: fx(-2.0), ..good }),
        ("xi", FixedGlftParams { xi_per_tick_lot: fx(-0.5), ..good }),
        ("delta", FixedGlftParams { delta_lots: Fx::ZERO, ..good }),
        ("max_inventory", FixedGlftParams { max_inventory_lots: 0, ..good }),
        ("max_inventory", FixedGlftParams { max_inventory_lots: MAX_INVENTORY_LOTS + 1, ..good }),
    ];
    for (want, p) in cases {
        match FixedGlft::new(p) {
            Err(FixedQuoteError::InvalidParameter { name, .. }) => assert_eq!(name, want),
            other => panic!("{want}: expected InvalidParameter, got {other:?}"),
        }
    }
    assert!(FixedGlft::new(FixedGlftParams { max_inventory_lots: MAX_INVENTORY_LOTS, ..good }).is_ok());
    // σ = 0 is fine without drift: the constant half-spread c₁.
    let flat = FixedGlft::new(FixedGlftParams {
        sigma_ticks_per_sqrt_s: Fx::ZERO,
        mu_ticks_per_s: Fx::ZERO,
        ..good
    })
    .expect("sigma = 0, mu = 0");
    assert_eq!(flat.depths(3).expect("d").0, flat.depths(-3).expect("d").0);
    // Overflow is an arithmetic error: a k of one ulp makes x = ξΔ/k enormous.
    let tiny_k = FixedGlftParams { k_per_tick: Fx::EPSILON, ..good };
    assert!(matches!(FixedGlft::new(tiny_k), Err(FixedQuoteError::Arithmetic { .. })));
    // A mid at the end of the range cannot be quoted around.
    let fixed = FixedGlft::new(good).expect("valid");
    assert!(matches!(
        fixed.quote(Fx::MAX, 0),
        Err(FixedQuoteError::Arithmetic { error: FxError::Overflow, .. })
    ));
}

#[test]
fn random_raw_inputs_never_panic() {
    // A proptest-free xorshift over raw bit patterns, including the extremes of the format.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let specials = [i128::MIN, i128::MAX, 0, 1, -1, 1 << 64, -(1 << 64), 1 << 100, 1 << 40];
    let mut raw = || -> Fx {
        let r = next();
        match r % 4 {
            0 => Fx::from_raw(specials[(r >> 8) as usize % specials.len()]),
            1 => Fx::from_raw((((next() as i128) << 64) | next() as i128) >> ((r >> 8) % 127)),
            _ => Fx::from_raw((next() % (1 << 40)) as i128 * (1 << 30)), // 0 .. 2^6, positive
        }
    };
    let mut built = 0;
    for _ in 0..3_000 {
        let p = FixedGlftParams {
            gamma_per_tick_lot: raw(),
            sigma_ticks_per_sqrt_s: raw(),
            a_per_s: raw(),
            k_per_tick: raw(),
            xi_per_tick_lot: raw(),
            delta_lots: raw(),
            mu_ticks_per_s: raw(),
            max_inventory_lots: (raw().raw() % 20_000) as i64,
        };
        if let Ok(model) = FixedGlft::new(p) {
            built += 1;
            for q in [-3, 0, 7, i64::MAX] {
                let _ = model.quote(raw(), q);
            }
        }
    }
    assert!(built > 10, "the generator should also produce valid parameter sets ({built})");
}
