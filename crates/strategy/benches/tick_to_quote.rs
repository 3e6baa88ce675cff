//! Tick-to-quote latency of the full market maker: a market update (a new 5-level book view with
//! its trades) in → calibration (σ, A/k windows, Hawkes intensity) → GLFT asymptotic depths →
//! adjustments, rounding, sizing, reduction, risk gate → quotes out.
//!
//! The stream is seeded and realistic in shape: updates every ~5 ms (exponential gaps), a
//! random-walk best bid with a 1–2 tick spread, Poisson market trades whose depth past the touch is
//! geometric, and an inventory that wanders over ±9 lots so the reduction states are exercised.
//! The stream is replayed in cycles with shifted times, so one market maker sees a monotone feed.
//!
//! Prints criterion's mean, then a final line with per-update percentiles measured with
//! `std::time::Instant` around each `quote` call (view construction excluded):
//! `tick_to_quote p50_ns=… p99_ns=… p999_ns=…`.
//!
//! Run: cargo bench -p zkclob-strategy --bench tick_to_quote

#[path = "../tests/common/mod.rs"]
mod common;

use common::Rng;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use zkclob_core::Side;
use zkclob_strategy::calibration::{CalibrationConfig, HawkesConfig, PriorParams};
use zkclob_strategy::models::{GlftAsymptotic, GlftAsymptoticParams};
use zkclob_strategy::pipeline::{MarketMaker, MarketMakerConfig};
use zkclob_strategy::risk::RiskConfig;
use zkclob_strategy::{BookLevel, MarketTrade, MarketView, Quoter};

const LEVELS: usize = 5;
const STREAM_UPDATES: usize = 200_000;

/// A pre-generated market: per update its time, book (bids then asks), trades and our inventory.
struct Stream {
    times_s: Vec<f64>,
    levels: Vec<BookLevel>,
    trade_ranges: Vec<(u32, u32)>,
    trades: Vec<MarketTrade>,
    inventory_lots: Vec<i64>,
    duration_s: f64,
}

fn generate(updates: usize, seed: u64) -> Stream {
    let mut rng = Rng(seed);
    let mut s = Stream {
        times_s: Vec::with_capacity(updates),
        levels: Vec::with_capacity(updates * 2 * LEVELS),
        trade_ranges: Vec::with_capacity(updates),
        trades: Vec::new(),
        inventory_lots: Vec::with_capacity(updates),
        duration_s: 0.0,
    };
    let (mut t, mut bid, mut spread, mut q) = (0.0, 100_000i64, 1i64, 0i64);
    for _ in 0..updates {
        let previous_t = t;
        t += rng.exp(200.0);
        if rng.uniform() < 0.2 {
            bid += if rng.uniform() < 0.5 { -1 } else { 1 };
            spread = 1 + i64::from(rng.uniform() < 0.3);
        }
        let ask = bid + spread;
        let start = s.trades.len() as u32;
        let mut tt = previous_t;
        loop {
            tt += rng.exp(60.0); // ~0.3 trades per update
            if tt > t {
                break;
            }
            let buy = rng.uniform() < 0.5;
            let extra = rng.geometric(0.4);
            let (price_ticks, aggressor) =
                if buy { (ask + extra, Side::Buy) } else { (bid - extra, Side::Sell) };
            s.trades.push(MarketTrade {
                time_s: tt,
                price_ticks,
                qty_lots: 1 + rng.next_u64() % 5,
                aggressor,
            });
        }
        s.trade_ranges.push((start, s.trades.len() as u32));
        for i in 0..LEVELS as i64 {
            s.levels.push(BookLevel { price_ticks: bid - i, qty_lots: 1 + rng.next_u64() % 50 });
        }
        for i in 0..LEVELS as i64 {
            s.levels.push(BookLevel { price_ticks: ask + i, qty_lots: 1 + rng.next_u64() % 50 });
        }
        if rng.uniform() < 0.02 {
            q = (q + if rng.uniform() < 0.5 { -1 } else { 1 }).clamp(-9, 9);
        }
        s.inventory_lots.push(q);
        s.times_s.push(t);
    }
    s.duration_s = t + 1.0;
    s
}

fn market_maker() -> MarketMaker<GlftAsymptotic> {
    let model =
        GlftAsymptotic::new(GlftAsymptoticParams::default()).expect("default GLFT parameters are valid");
    let config = MarketMakerConfig {
        calibration: CalibrationConfig {
            prior: Some(PriorParams { sigma: 0.3, a_per_s: 0.9, k_per_tick: 0.3 }),
            hawkes: HawkesConfig {
                enabled: true,
                mu_per_s: 30.0,
                alpha_per_s: 10.0,
                beta_per_s: 50.0,
                ..Default::default()
            },
            ..Default::default()
        },
        // The stream's quotes move with the book: allow it, so the bench times quoting, not a halt.
        risk: RiskConfig { max_quote_changes_per_s: 100_000, ..Default::default() },
        ..Default::default()
    };
    MarketMaker::new(model, config).expect("bench configuration is valid")
}

/// Replays the stream in cycles, shifting times by the stream's duration each cycle.
struct Driver {
    mm: MarketMaker<GlftAsymptotic>,
    stream: Stream,
    index: usize,
    offset_s: f64,
    trades: Vec<MarketTrade>,
}

impl Driver {
    fn new() -> Self {
        Self {
            mm: market_maker(),
            stream: generate(STREAM_UPDATES, 42),
            index: 0,
            offset_s: 0.0,
            trades: Vec::with_capacity(64),
        }
    }

    /// Moves to the next update and fills the shifted trade buffer; returns the update's index.
    fn advance(&mut self) -> usize {
        if self.index == self.stream.times_s.len() {
            self.index = 0;
            self.offset_s += self.stream.duration_s;
        }
        let i = self.index;
        self.index += 1;
        let (a, b) = self.stream.trade_ranges[i];
        self.trades.clear();
        let offset = self.offset_s;
        self.trades.extend(
            self.stream.trades[a as usize..b as usize]
                .iter()
                .map(|tr| MarketTrade { time_s: tr.time_s + offset, ..*tr }),
        );
        i
    }

    /// One update in, quotes out; with `timed`, returns the duration of the `quote` call alone.
    fn step(&mut self, timed: bool) -> Duration {
        let i = self.advance();
        let levels = &self.stream.levels[i * 2 * LEVELS..(i + 1) * 2 * LEVELS];
        let view = MarketView {
            time_s: self.stream.times_s[i] + self.offset_s,
            bids: &levels[..LEVELS],
            asks: &levels[LEVELS..],
            trades: &self.trades,
            inventory_lots: self.stream.inventory_lots[i],
        };
        if timed {
            let start = Instant::now();
            let quotes = self.mm.quote(black_box(&view));
            let elapsed = start.elapsed();
            black_box(quotes.ok());
            elapsed
        } else {
            black_box(self.mm.quote(black_box(&view)).ok());
            Duration::ZERO
        }
    }
}

fn criterion_mean(c: &mut Criterion) {
    let mut driver = Driver::new();
    // Warm the calibrator up (A/k windows, σ samples) before measuring.
    for _ in 0..50_000 {
        driver.step(false);
    }
    c.bench_function("tick_to_quote/glft", |b| b.iter(|| driver.step(false)));
    let halted = driver.mm.risk().halted();
    assert!(halted.is_none(), "the bench must time quoting, not a halted market maker: {halted:?}");
}

fn percentiles(updates: usize) {
    let mut driver = Driver::new();
    for _ in 0..50_000 {
        driver.step(false);
    }
    let mut samples_ns: Vec<u64> = Vec::with_capacity(updates);
    for _ in 0..updates {
        samples_ns.push(driver.step(true).as_nanos() as u64);
    }
    samples_ns.sort_unstable();
    let at = |p: f64| samples_ns[((samples_ns.len() as f64 * p) as usize).min(samples_ns.len() - 1)];
    let mean = samples_ns.iter().sum::<u64>() as f64 / samples_ns.len() as f64;
    let snap = driver.mm.calibrator().snapshot();
    println!(
        "calibration after the run: sigma_ewma={:?} bid_fit={:?} ask_fit={:?} a_boost={:.3} halted={:?}",
        snap.sigma_ewma,
        snap.bid_fit,
        snap.ask_fit,
        snap.a_boost,
        driver.mm.risk().halted()
    );
    println!(
        "tick_to_quote updates={updates} mean_ns={mean:.0} p50_ns={} p99_ns={} p999_ns={} max_ns={}",
        at(0.50),
        at(0.99),
        at(0.999),
        samples_ns[samples_ns.len() - 1]
    );
}

fn main() {
    let test_mode = std::env::args().any(|a| a == "--test");
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(5))
        .sample_size(50)
        .configure_from_args();
    criterion_mean(&mut c);
    c.final_summary();
    percentiles(if test_mode { 10_000 } else { 1_000_000 });
}
