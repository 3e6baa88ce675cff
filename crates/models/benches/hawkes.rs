//! Hawkes exponential-kernel MLE on 1,000,000 events (target: under 1 s).
//! Run: cargo bench -p zkclob-models --bench hawkes
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use zkclob_models::hawkes::{fit_exp_hawkes, ExpHawkes, FitOptions};
use zkclob_models::seeded_rng;

fn bench(c: &mut Criterion) {
    // μ = 0.5/s, α = 0.8/s, β = 1.2/s: stationary rate 1.5/s, so T = 666,667 s gives ~1e6 events.
    let truth = ExpHawkes::new(0.5, 0.8, 1.2).expect("stationary");
    let events = truth.simulate_thinning(1.0e6 / 1.5, &mut seeded_rng(1)).expect("simulates");
    eprintln!("events: {}", events.len());
    let mut group = c.benchmark_group("hawkes_exp");
    group.sample_size(10).measurement_time(Duration::from_secs(10)).warm_up_time(Duration::from_secs(1));
    group.bench_function("mle_1e6_events", |b| {
        b.iter(|| fit_exp_hawkes(black_box(&events), &FitOptions::default()))
    });
    group.bench_function("loglik_1e6_events", |b| b.iter(|| truth.log_likelihood(black_box(&events))));
    group.bench_function("simulate_thinning_1e6_events", |b| {
        b.iter(|| truth.simulate_thinning(1.0e6 / 1.5, &mut seeded_rng(2)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
