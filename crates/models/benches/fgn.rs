//! Davies–Harte fGn of 2^20 points (target: under 1 s), and the Hurst estimators on it.
//! Run: cargo bench -p zkclob-models --bench fgn
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use zkclob_models::rough::{fbm_from_fgn, fgn_davies_harte, hurst_exponent, HurstMethod, RoughBergomi};
use zkclob_models::seeded_rng;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("rough");
    group.sample_size(10).measurement_time(Duration::from_secs(5)).warm_up_time(Duration::from_secs(1));
    group.bench_function("davies_harte_fgn_2^20", |b| {
        let mut rng = seeded_rng(1);
        b.iter(|| fgn_davies_harte(black_box(0.1), 1 << 20, &mut rng))
    });
    let fgn = fgn_davies_harte(0.3, 1 << 20, &mut seeded_rng(2)).expect("ok");
    let path = fbm_from_fgn(&fgn, 0.3, 1.0).expect("ok");
    for method in [HurstMethod::Variogram, HurstMethod::RescaledRange, HurstMethod::Dfa] {
        group.bench_function(format!("hurst_{method:?}_2^20"), |b| {
            b.iter(|| hurst_exponent(black_box(&path), method))
        });
    }
    let model = RoughBergomi::new(0.1, 1.5, -0.7, 0.04).expect("valid");
    group.bench_function("rough_bergomi_path_2^16_steps", |b| {
        let mut rng = seeded_rng(3);
        b.iter(|| model.simulate(1.0, 1 << 16, &mut rng))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
