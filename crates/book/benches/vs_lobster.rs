//! Mixed-workload benchmark of the zkclob engine against the `lobster` 0.7 crate, side by side on
//! one machine, on the same generated stream.
//!
//! Workload (seeded, reproducible): a book pre-filled with 3,000 resting orders around the touch,
//! then 200,000 operations — 60% limit orders (15% of them crossing into the opposite side), 25%
//! cancels of live orders, 15% market orders. The stream is generated once by running it through
//! the zkclob engine so that every cancel names a live order; both engines then replay it from an
//! identically pre-filled book.
//!
//! Output: criterion's estimates for one full replay per engine; then our own measurements:
//! throughput as the median of several full replays, latency percentiles per operation type
//! (each operation timed with `Instant`, whose own overhead is printed), and the final line
//! `ops_per_sec zkclob=<n> lobster=<n> ratio=<r>`.

use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, Throughput};
use zkclob_book::{Book, BookLimits, Event, NewOrder};
use zkclob_core::{AccountId, DetRng, MarketSpec, OrderId, Price, Qty, Side, Timestamp};

const SEED: u64 = 0x5eed_2026;
const WARMUP_ORDERS: usize = 3_000;
const STREAM_OPS: usize = 200_000;
const MID_TICKS: i64 = 100_000;
const ACCOUNTS: u64 = 50;

#[derive(Clone, Copy, Debug)]
enum Op {
    Limit { id: u64, account: u64, side: Side, price: i64, qty: u64 },
    Cancel { id: u64, account: u64 },
    Market { id: u64, account: u64, side: Side, qty: u64 },
}

impl Op {
    fn kind(&self) -> usize {
        match self {
            Op::Limit { .. } => 0,
            Op::Cancel { .. } => 1,
            Op::Market { .. } => 2,
        }
    }
}

const KIND_NAMES: [&str; 3] = ["limit", "cancel", "market"];

fn spec() -> MarketSpec {
    MarketSpec { max_qty: Qty(1_000_000), ..MarketSpec::example() }
}

/// Live-order tracker for the generator: O(1) insert, remove and uniform pick.
#[derive(Default)]
struct Live {
    ids: Vec<(u64, u64)>,
    pos: HashMap<u64, usize>,
}

impl Live {
    fn insert(&mut self, id: u64, account: u64) {
        self.pos.insert(id, self.ids.len());
        self.ids.push((id, account));
    }
    fn remove(&mut self, id: u64) {
        if let Some(i) = self.pos.remove(&id) {
            self.ids.swap_remove(i);
            if let Some(&(moved, _)) = self.ids.get(i) {
                self.pos.insert(moved, i);
            }
        }
    }
}

fn exec_ours<'a>(book: &'a mut Book, op: &Op) -> &'a [Event] {
    let now = Timestamp(1);
    match *op {
        Op::Limit { id, account, side, price, qty } => {
            book.place(NewOrder::limit(OrderId(id), AccountId(account), side, Price(price), Qty(qty)), now)
        }
        Op::Cancel { id, account } => book.cancel(OrderId(id), AccountId(account), now),
        Op::Market { id, account, side, qty } => {
            let protection = if side == Side::Buy { spec().max_price } else { spec().min_price };
            book.place(NewOrder::market(OrderId(id), AccountId(account), side, protection, Qty(qty)), now)
        }
    }
}

fn apply_ours(book: &mut Book, op: &Op) -> usize {
    exec_ours(book, op).len()
}

fn apply_lobster(book: &mut lobster::OrderBook, op: &Op) -> usize {
    let side = |s: Side| if s == Side::Buy { lobster::Side::Bid } else { lobster::Side::Ask };
    let ev = match *op {
        Op::Limit { id, side: s, price, qty, .. } => book.execute(lobster::OrderType::Limit {
            id: id as u128,
            side: side(s),
            qty,
            price: price as u64,
        }),
        Op::Cancel { id, .. } => book.execute(lobster::OrderType::Cancel { id: id as u128 }),
        Op::Market { id, side: s, qty, .. } => {
            book.execute(lobster::OrderType::Market { id: id as u128, side: side(s), qty })
        }
    };
    match ev {
        lobster::OrderEvent::Filled { fills, .. } | lobster::OrderEvent::PartiallyFilled { fills, .. } => {
            fills.len()
        }
        _ => 1,
    }
}

/// Generates the warm-up orders and the operation stream.
fn generate() -> (Vec<Op>, Vec<Op>) {
    let mut rng = DetRng::seed_from_u64(SEED);
    let mut book = Book::new(spec(), BookLimits::default());
    let mut live = Live::default();
    let mut next_id = 1u64;
    let track = |book: &mut Book, live: &mut Live, op: Op| {
        let (id, account) = match op {
            Op::Limit { id, account, .. } | Op::Market { id, account, .. } | Op::Cancel { id, account } => {
                (id, account)
            }
        };
        for e in exec_ours(book, &op).to_vec() {
            match e {
                Event::Done { resting, .. } if resting.0 > 0 => live.insert(id, account),
                Event::Fill(f) if f.maker_remaining.0 == 0 => live.remove(f.maker_order.0),
                Event::Cancelled { order_id, remaining, .. } if remaining.0 == 0 => live.remove(order_id.0),
                _ => {}
            }
        }
    };
    let passive_price = |rng: &mut DetRng, book: &Book, side: Side| {
        let touch = match side {
            Side::Buy => book.best_bid().map_or(MID_TICKS - 1, |l| l.price.0),
            Side::Sell => book.best_ask().map_or(MID_TICKS + 1, |l| l.price.0),
        };
        // Mostly at or near the touch, a tail up to 60 ticks deep; sometimes improving by one.
        let depth = if rng.chance(1, 10) { -1 } else { (rng.below(8) * rng.below(8)) as i64 };
        let p = if side == Side::Buy { touch - depth } else { touch + depth };
        let opp = book.best(side.opposite()).map(|l| l.price.0);
        match (side, opp) {
            (Side::Buy, Some(a)) if p >= a => a - 1,
            (Side::Sell, Some(b)) if p <= b => b + 1,
            _ => p,
        }
    };
    let side_of = |rng: &mut DetRng| if rng.chance(1, 2) { Side::Buy } else { Side::Sell };
    let mut warmup = Vec::with_capacity(WARMUP_ORDERS);
    while warmup.len() < WARMUP_ORDERS {
        let side = side_of(&mut rng);
        let offset = 1 + (rng.below(10) * rng.below(10)) as i64;
        let price = if side == Side::Buy { MID_TICKS - offset } else { MID_TICKS + offset };
        let op =
            Op::Limit { id: next_id, account: 1 + rng.below(ACCOUNTS), side, price, qty: 1 + rng.below(100) };
        next_id += 1;
        track(&mut book, &mut live, op);
        warmup.push(op);
    }
    let mut stream = Vec::with_capacity(STREAM_OPS);
    let mut sizes = Vec::with_capacity(STREAM_OPS);
    while stream.len() < STREAM_OPS {
        let roll = rng.below(100);
        let account = 1 + rng.below(ACCOUNTS);
        let op = if roll < 60 {
            let side = side_of(&mut rng);
            let price = if rng.chance(15, 100) {
                // Crossing: up to 3 ticks through the opposite touch.
                let opp = book.best(side.opposite()).map_or(MID_TICKS, |l| l.price.0);
                let through = rng.below(4) as i64;
                if side == Side::Buy {
                    opp + through
                } else {
                    opp - through
                }
            } else {
                passive_price(&mut rng, &book, side)
            };
            Op::Limit { id: next_id, account, side, price, qty: 1 + rng.below(100) }
        } else if roll < 85 && !live.ids.is_empty() {
            let (id, account) = live.ids[rng.below(live.ids.len() as u64) as usize];
            Op::Cancel { id, account }
        } else {
            // Market sizes follow the book's size so it stays near WARMUP_ORDERS resting orders.
            let max_qty = if live.ids.len() > WARMUP_ORDERS + 500 {
                600
            } else if live.ids.len() < WARMUP_ORDERS - 500 {
                20
            } else {
                150
            };
            Op::Market { id: next_id, account, side: side_of(&mut rng), qty: 1 + rng.below(max_qty) }
        };
        next_id += 1;
        track(&mut book, &mut live, op);
        stream.push(op);
        sizes.push(book.order_count());
    }
    sizes.sort_unstable();
    println!(
        "workload: {} warm-up orders, {} ops; live orders during the stream p1/p50/p99 = {}/{}/{}; at the end {} bid / {} ask levels",
        warmup.len(),
        stream.len(),
        sizes[sizes.len() / 100],
        sizes[sizes.len() / 2],
        sizes[sizes.len() * 99 / 100],
        book.level_count(Side::Buy),
        book.level_count(Side::Sell)
    );
    (warmup, stream)
}

fn fresh_ours(warmup: &[Op]) -> Book {
    let mut b = Book::new(spec(), BookLimits::default());
    for op in warmup {
        apply_ours(&mut b, op);
    }
    b
}

fn fresh_lobster(warmup: &[Op]) -> lobster::OrderBook {
    let mut b = lobster::OrderBook::default();
    for op in warmup {
        apply_lobster(&mut b, op);
    }
    b
}

#[inline(never)]
fn run_ours(book: &mut Book, stream: &[Op]) -> usize {
    stream.iter().map(|op| apply_ours(book, op)).sum()
}

fn run_lobster(book: &mut lobster::OrderBook, stream: &[Op]) -> usize {
    stream.iter().map(|op| apply_lobster(book, op)).sum()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Median ops/s over `runs` full replays from a fresh book.
fn throughput<B>(runs: usize, fresh: impl Fn() -> B, run: impl Fn(&mut B) -> usize, ops: usize) -> f64 {
    let samples = (0..runs)
        .map(|_| {
            let mut b = fresh();
            let t = Instant::now();
            black_box(run(&mut b));
            ops as f64 / t.elapsed().as_secs_f64()
        })
        .collect();
    median(samples)
}

fn percentile(sorted: &[u32], p: f64) -> u32 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Per-operation latencies in ns, by operation kind, over `runs` replays.
fn latencies<B>(
    runs: usize,
    stream: &[Op],
    fresh: impl Fn() -> B,
    apply: impl Fn(&mut B, &Op) -> usize,
) -> [Vec<u32>; 3] {
    let mut out: [Vec<u32>; 3] = Default::default();
    for _ in 0..runs {
        let mut b = fresh();
        for op in stream {
            let t = Instant::now();
            black_box(apply(&mut b, op));
            let ns = t.elapsed().as_nanos().min(u32::MAX as u128) as u32;
            out[op.kind()].push(ns);
        }
    }
    for v in &mut out {
        v.sort_unstable();
    }
    out
}

fn timer_overhead_ns() -> u32 {
    let mut v: Vec<u32> = (0..100_000)
        .map(|_| {
            let t = Instant::now();
            t.elapsed().as_nanos() as u32
        })
        .collect();
    v.sort_unstable();
    v[v.len() / 2]
}

fn report(name: &str, lat: &[Vec<u32>; 3]) {
    for (kind, v) in lat.iter().enumerate() {
        if v.is_empty() {
            continue;
        }
        println!(
            "latency_ns {name} {:<6} n={:<7} p50={:<6} p99={:<6} p99.9={:<6} max={}",
            KIND_NAMES[kind],
            v.len(),
            percentile(v, 0.50),
            percentile(v, 0.99),
            percentile(v, 0.999),
            v[v.len() - 1]
        );
    }
    let mut all: Vec<u32> = lat.iter().flatten().copied().collect();
    all.sort_unstable();
    println!(
        "latency_ns {name} all    n={:<7} p50={:<6} p99={:<6} p99.9={:<6}",
        all.len(),
        percentile(&all, 0.50),
        percentile(&all, 0.99),
        percentile(&all, 0.999)
    );
}

fn main() {
    let (warmup, stream) = generate();
    let quick = std::env::args().any(|a| a == "--quick");
    // `--profile-zkclob`: only replay the stream through zkclob, for `perf record`.
    if std::env::args().any(|a| a == "--profile-zkclob") {
        let runs = std::env::var("ZKCLOB_PROFILE_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(40);
        for _ in 0..runs {
            black_box(run_ours(&mut fresh_ours(&warmup), &stream));
        }
        return;
    }

    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(if quick { 2 } else { 5 }));
    {
        let mut g = c.benchmark_group("mixed_workload");
        g.throughput(Throughput::Elements(stream.len() as u64));
        g.bench_function("zkclob", |b| {
            b.iter_batched_ref(|| fresh_ours(&warmup), |book| run_ours(book, &stream), BatchSize::LargeInput)
        });
        g.bench_function("lobster", |b| {
            b.iter_batched_ref(
                || fresh_lobster(&warmup),
                |book| run_lobster(book, &stream),
                BatchSize::LargeInput,
            )
        });
        g.finish();
    }
    c.final_summary();

    let runs = if quick { 3 } else { 9 };
    // Interleave the engines so that machine noise hits both alike.
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for _ in 0..runs {
        ours.push(throughput(1, || fresh_ours(&warmup), |b| run_ours(b, &stream), stream.len()));
        theirs.push(throughput(1, || fresh_lobster(&warmup), |b| run_lobster(b, &stream), stream.len()));
    }
    let (ours, theirs) = (median(ours), median(theirs));

    println!(
        "timer overhead (median Instant pair): {} ns, included in the latencies below",
        timer_overhead_ns()
    );
    let lat_runs = if quick { 1 } else { 3 };
    report("zkclob", &latencies(lat_runs, &stream, || fresh_ours(&warmup), apply_ours));
    report("lobster", &latencies(lat_runs, &stream, || fresh_lobster(&warmup), apply_lobster));
    println!("ops_per_sec zkclob={:.0} lobster={:.0} ratio={:.2}", ours, theirs, ours / theirs);
}
