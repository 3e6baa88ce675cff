//! Cost of one `DepthModel::depths` call per model (the quoting hot path), of the exact models'
//! precomputation, and of the fixed-point rule. Guéant's market, Q = 10.
//! Run: cargo bench -p zkclob-strategy --bench models
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use zkclob_core::fx::Fx;
use zkclob_strategy::fixed::{FixedGlft, FixedGlftParams};
use zkclob_strategy::models::{
    AsParams, AvellanedaStoikov, CartJaim, CartJaimParams, CjMode, GlftAsymptotic, GlftAsymptoticParams,
    GlftExact, GlftExactParams, HjbParams, HjbQuoter,
};
use zkclob_strategy::{DepthContext, DepthModel};

fn ctx(q: i64, tau: f64) -> DepthContext {
    DepthContext { inventory_lots: q, time_to_horizon_s: tau, live: None }
}

fn depths(c: &mut Criterion) {
    let models: Vec<(&str, Box<dyn DepthModel>)> = vec![
        ("as", Box::new(AvellanedaStoikov::new(AsParams::default()).expect("valid"))),
        ("glft", Box::new(GlftAsymptotic::new(GlftAsymptoticParams::default()).expect("valid"))),
        ("glft-exact", Box::new(GlftExact::new(GlftExactParams::default()).expect("valid"))),
        ("cj-exact", Box::new(CartJaim::new(CartJaimParams::default()).expect("valid"))),
        (
            "cj-stationary",
            Box::new(
                CartJaim::new(CartJaimParams { mode: CjMode::Stationary, ..CartJaimParams::default() })
                    .expect("valid"),
            ),
        ),
        (
            "cj-closed-form",
            Box::new(
                CartJaim::new(CartJaimParams { mode: CjMode::ClosedForm, ..CartJaimParams::default() })
                    .expect("valid"),
            ),
        ),
        ("hjb", Box::new(HjbQuoter::new(HjbParams::default()).expect("valid"))),
    ];
    let mut group = c.benchmark_group("depths");
    group.sample_size(50).measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500));
    for (name, model) in &models {
        // τ = T hits a stored row; τ = 333.3 s is between stored steps (the exact models advance one
        // partial step, the HJB quoter interpolates between two time slices).
        group.bench_function(format!("{name}/tau_T"), |b| b.iter(|| model.depths(black_box(&ctx(3, 600.0)))));
        group.bench_function(format!("{name}/tau_mid"), |b| {
            b.iter(|| model.depths(black_box(&ctx(3, 333.3))))
        });
    }
    group.finish();
}

fn precompute(c: &mut Criterion) {
    let mut group = c.benchmark_group("precompute");
    group.sample_size(10).measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500));
    group.bench_function("glft-exact/Q10_T600", |b| {
        b.iter(|| GlftExact::new(black_box(GlftExactParams::default())))
    });
    let long = GlftExactParams { horizon_s: 1e6, max_inventory_lots: 30, ..GlftExactParams::default() };
    group.bench_function("glft-exact/Q30_T1e6", |b| b.iter(|| GlftExact::new(black_box(long))));
    group
        .bench_function("hjb/Q10_2000_steps", |b| b.iter(|| HjbQuoter::new(black_box(HjbParams::default()))));
    group.finish();
}

fn fixed(c: &mut Criterion) {
    let fx = |v: f64| Fx::from_f64_lossy(v).expect("representable");
    let params = FixedGlftParams {
        gamma_per_tick_lot: fx(0.01),
        sigma_ticks_per_sqrt_s: fx(0.3),
        a_per_s: fx(0.9),
        k_per_tick: fx(0.3),
        xi_per_tick_lot: fx(0.01),
        delta_lots: Fx::ONE,
        mu_ticks_per_s: Fx::ZERO,
        max_inventory_lots: 10,
    };
    let rule = FixedGlft::new(params).expect("valid");
    let mut group = c.benchmark_group("fixed");
    group.sample_size(50).measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500));
    group.bench_function("glft/new", |b| b.iter(|| FixedGlft::new(black_box(params))));
    group.bench_function("glft/quote", |b| {
        b.iter(|| rule.quote(black_box(Fx::from_int(10_000)), black_box(3)))
    });
    group.finish();
}

criterion_group!(benches, depths, precompute, fixed);
criterion_main!(benches);
