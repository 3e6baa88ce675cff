//! HJB solve with 2Q+1 = 61 inventory states over 10^4 time steps (target: under 100 ms).
//! Run: cargo bench -p zkclob-models --bench hjb
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use zkclob_models::hjb::{GlftParams, InventoryHjb, TimeStepping};

fn bench(c: &mut Criterion) {
    let hjb = InventoryHjb::glft(&GlftParams {
        sigma_ticks_per_sqrt_s: 0.3,
        a_per_s: 0.9,
        k_per_tick: 0.3,
        gamma_per_tick_lot: 0.01,
        max_inventory_lots: 30,
        horizon_s: 600.0,
        terminal_penalty_ticks_per_lot2: 0.0,
    })
    .expect("valid");
    let mut group = c.benchmark_group("hjb");
    group.sample_size(10).measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    group.bench_function("glft_61_states_1e4_steps_implicit", |b| {
        b.iter(|| hjb.solve(black_box(10_000), TimeStepping::ImplicitEuler))
    });
    group.bench_function("glft_61_states_1e4_steps_explicit", |b| {
        b.iter(|| hjb.solve(black_box(10_000), TimeStepping::ExplicitEuler))
    });
    group.bench_function("glft_61_states_exact_matrix_exponential", |b| {
        b.iter(|| hjb.exact_values(black_box(0.0)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
