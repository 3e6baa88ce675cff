//! Simulation speed: market events (book actions + trades) per second of wall time for the
//! `default` preset (one hour of market time) with the default GLFT market maker, and with a
//! strategy that never quotes (the market alone).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use zkclob_sim::{default_market_maker, run, SimConfig};
use zkclob_strategy::{MarketView, Quoter, Quotes, StrategyError};

struct Idle;

impl Quoter for Idle {
    fn name(&self) -> &'static str {
        "idle"
    }

    fn quote(&mut self, _view: &MarketView<'_>) -> Result<Quotes, StrategyError> {
        Ok(Quotes::none("idle"))
    }
}

fn bench(c: &mut Criterion) {
    let config = SimConfig { record_trades: false, ..SimConfig::preset("default").expect("preset") };
    let mut group = c.benchmark_group("sim_default_1h");
    group.sample_size(10).measurement_time(std::time::Duration::from_secs(10));

    let events =
        run(&config, default_market_maker(&config).expect("maker"), 1, None).expect("run").log.events;
    group.throughput(Throughput::Elements(events));
    group.bench_function("glft_market_maker", |b| {
        b.iter(|| {
            let out = run(&config, default_market_maker(&config).expect("maker"), black_box(1), None);
            black_box(out.expect("run").log.events)
        })
    });

    let events = run(&config, Box::new(Idle), 1, None).expect("run").log.events;
    group.throughput(Throughput::Elements(events));
    group.bench_function("market_only", |b| {
        b.iter(|| black_box(run(&config, Box::new(Idle), black_box(1), None).expect("run").log.events))
    });
    group.finish();
    println!("default preset, one hour: {events} market events without us");
}

criterion_group!(benches, bench);
criterion_main!(benches);
