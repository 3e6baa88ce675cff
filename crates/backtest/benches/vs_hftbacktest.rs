//! Replay throughput of an L3 (market-by-order) feed: zkclob's engine side by side with
//! hftbacktest 0.9.4, on the same data, in the same run, on one core.
//!
//! ## Data
//! The real LOBSTER AAPL sample in `data/lobster` (998 messages: 471 submits, 369 deletes,
//! 98 visible executions, 61 hidden executions). 998 messages are too few to time, so the
//! stream repeats the sample `K` times, each copy with its own order ids (offset by
//! `copy × 2³²`) and times (offset by the sample's span plus 1 ms):
//!
//! 1. **seed**: the liquidity that predates the file, as `zkclob_book::lobster::Replayer` seeds
//!    it — the first orderbook row with the first message undone, one order per level;
//! 2. **messages**: submit (1) → add; delete (3), partial cancel (2) and visible execution (4)
//!    → reduce the named order by the message's size, or remove it when nothing is left. A
//!    reference to an order the file never submitted falls on the seed order at its price, and
//!    is skipped when there is none (a pre-existing order deeper than the 10 levels); a size
//!    larger than what the order has left is clamped. Hidden executions (5), crosses (6) and
//!    halts (7) do not change the visible book and are left out of the stream;
//! 3. **purge**: every order still live is deleted, so the next copy starts from the sample's
//!    own starting book. Without it, each copy would leave its resting orders behind (the
//!    10-level message file never cancels what drifted out of view), the book would grow by
//!    ~50 orders per copy into a degenerate one, and later copies' submits would cross the
//!    leftovers. The last copy is not purged, so the final book is the sample's end state.
//!
//! This resolution (ids, seeds, clamping) is done once, untimed, into a list of [`Step`]s that
//! both engines replay; an *event* below is one step.
//!
//! ## What each engine does per event
//! - **zkclob** (`Book`, one book, L3 FIFO queues, account bookkeeping): add → `place` (GTC limit;
//!   file orders and seed orders under their own accounts); reduce → `amend` to the quantity
//!   left at the same price (a decrease keeps queue priority); remove → `cancel`. Executions are
//!   applied as the reduction of the named order, which is what an L3 feed's execution does to
//!   the book; no matching happens (no step crosses the book).
//! - **hftbacktest** (`Backtest` with one `L3AssetBuilder` asset: `L3NoPartialFillExchange`,
//!   `L3FIFOQueueModel`, `ROIVectorMarketDepth` over the stream's price range, tick 0.01, lot 1
//!   share, constant zero latency), driven by one `goto_end()` with no orders of our own: add →
//!   `ADD_ORDER_EVENT`; reduce → `MODIFY_ORDER_EVENT` with the quantity left at the same price
//!   (a decrease keeps queue priority in its queue model too); remove → `CANCEL_ORDER_EVENT`. An
//!   execution is preceded by a `FILL_EVENT` row (px, executed qty, the taker's side), because in
//!   hftbacktest's L3 format a fill only tells the queue model that the named order traded
//!   (backtest orders ahead of it fill) and leaves the depth alone; the size change must follow
//!   as a modify or cancel, as in the MBO feeds it converts. Prices: USD × 10,000 → `px` in USD.
//!
//! hftbacktest's own data carries `EXCH_EVENT | LOCAL_EVENT` on every row: its exchange model
//! (depth + queue model) and its local model (the strategy's depth) each apply it, so it keeps
//! two books. The **headline (final line) is the conservative, like-for-like comparison**: rows
//! with `EXCH_EVENT` only — the exchange model alone, one L3 book with queues, the closest
//! analogue of zkclob's one `Book`. The standard two-book configuration is printed on the line
//! before it (`standard_config ...`).
//!
//! Measured while writing this bench, to keep the comparison conservative: `ROIVectorMarketDepth`
//! is hftbacktest's fastest L3 depth on this stream (`HashMapMarketDepth` is 20–25% slower), and
//! the FILL rows cost hftbacktest ~6% (without them the depth ends the same, but its queue model
//! would not see the trades).
//!
//! ## Checks before timing
//! Both engines replay the stream once, untimed, stopping at the end of every copy and, in the
//! first copies, at every timestamp (hftbacktest through `elapse`): best bid and ask with their
//! sizes, and the number of live orders, must equal what the resolution expects, for both; the
//! final top of book must be the recorded one (the sample's last orderbook row). zkclob must
//! reject nothing; hftbacktest must return no error (a modify or cancel of an unknown id is one)
//! and reach the end of the data, in both flag configurations (only the local model's depth can
//! be read back, so the exchange-only configuration is checked by running clean on the same rows).
//!
//! ## Measurement
//! Each timed run replays the whole stream into a fresh engine (built untimed; hftbacktest's
//! rows are shared, not copied, between runs); runs alternate between the engines and the
//! median of each is reported. A criterion group times the same replays. Output ends with
//! `events_per_sec zkclob=<n> hftbacktest=<n> ratio=<r>`. `--quick`: a shorter stream, fewer
//! runs, shorter criterion measurements.

use std::collections::{BTreeMap, HashMap};
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, Throughput};
use hftbacktest::backtest::assettype::LinearAsset;
use hftbacktest::backtest::data::Data;
use hftbacktest::backtest::models::{CommonFees, ConstantLatency, L3FIFOQueueModel, TradingValueFeeModel};
use hftbacktest::backtest::{Backtest, DataSource, ExchangeKind, L3AssetBuilder};
use hftbacktest::depth::{L3MarketDepth, MarketDepth, ROIVectorMarketDepth, INVALID_MAX, INVALID_MIN};
use hftbacktest::prelude::Bot;
use hftbacktest::types::{
    ElapseResult, Event as HftEvent, ADD_ORDER_EVENT, BUY_EVENT, CANCEL_ORDER_EVENT, EXCH_EVENT, FILL_EVENT,
    LOCAL_EVENT, MODIFY_ORDER_EVENT, SELL_EVENT,
};
use zkclob_book::lobster::{
    equity_spec, parse_book_row, parse_message, BookRow, Message, MessageKind, ACCOUNT_FILE, ACCOUNT_SEED,
    CENT, SYNTHETIC_ID_BASE,
};
use zkclob_book::{Book, BookLimits, Event, NewOrder};
use zkclob_core::{AccountId, OrderId, Price, Qty, Side, Timestamp};

const MESSAGE_FILE: &str = "AAPL_2012-06-21_34200000_57600000_message_10.csv";
const ORDERBOOK_FILE: &str = "AAPL_2012-06-21_34200000_57600000_orderbook_10.csv";
/// Events in the stream, at least (the sample is repeated until there are this many).
const EVENTS_MIN: usize = 2_000_000;
const EVENTS_MIN_QUICK: usize = 500_000;
/// Timed runs per engine (the median is reported).
const RUNS: usize = 9;
const RUNS_QUICK: usize = 5;
/// Order-id offset between copies; Nasdaq's reference numbers in the sample are below 2³².
const ID_STRIDE: u64 = 1 << 32;
/// Copies whose book is checked after every distinct timestamp (the others at their end only).
const DENSE_COPIES: u64 = 2;
/// Gap between the end of one copy and the start of the next.
const COPY_GAP_NS: i64 = 1_000_000;
/// LOBSTER price units (USD × 10,000) per USD.
const PRICE_E4_PER_USD: f64 = 10_000.0;
/// hftbacktest's tick (one cent) in USD.
const TICK_USD: f64 = 0.01;

/// What one event does to the book.
#[derive(Clone, Copy, Debug)]
enum Op {
    /// A new resting order of `qty` shares.
    Add { qty: u64 },
    /// The order loses `delta` shares and keeps `left` (> 0), and its place in the queue.
    Reduce { left: u64, delta: u64, exec: bool },
    /// The order leaves the book with its last `delta` shares.
    Remove { delta: u64, exec: bool },
}

/// One event of the resolved stream, the same for both engines.
#[derive(Clone, Copy, Debug)]
struct Step {
    ts_ns: i64,
    id: u64,
    account: AccountId,
    side: Side,
    /// USD × 10,000.
    price_e4: i64,
    op: Op,
}

/// The book the resolution expects after every step up to `ts_ns`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Checkpoint {
    ts_ns: i64,
    /// (price USD × 10,000, shares) of the best level, per side (bids, asks).
    best: [Option<(i64, u64)>; 2],
    live_orders: usize,
}

#[derive(Clone, Copy, Debug, Default)]
struct StreamStats {
    copies: usize,
    adds: usize,
    reduces: usize,
    removes: usize,
    executions: usize,
    purged: usize,
    skipped_unknown: usize,
    clamped: usize,
    skipped_hidden: usize,
}

struct Stream {
    steps: Vec<Step>,
    checkpoints: Vec<Checkpoint>,
    stats: StreamStats,
}

#[derive(Clone, Copy)]
struct LiveOrder {
    account: AccountId,
    side: Side,
    price_e4: i64,
    qty: u64,
}

/// Resolves LOBSTER messages into [`Step`]s, tracking the book they build.
#[derive(Default)]
struct Resolver {
    live: HashMap<u64, LiveOrder>,
    /// The seed order standing for pre-existing liquidity at (side, price), per copy.
    seeds: HashMap<(Side, i64), u64>,
    /// Shares per price, per side (bids, asks).
    levels: [BTreeMap<i64, u64>; 2],
    steps: Vec<Step>,
    stats: StreamStats,
}

impl Resolver {
    fn push(&mut self, ts_ns: i64, id: u64, op: Op) {
        let o = self.live[&id];
        let step = Step { ts_ns, id, account: o.account, side: o.side, price_e4: o.price_e4, op };
        let level = self.levels[o.side as usize].entry(o.price_e4).or_insert(0);
        match op {
            Op::Add { qty } => *level += qty,
            Op::Reduce { left, delta, .. } => {
                *level -= delta;
                self.live.get_mut(&id).expect("the order was just looked up").qty = left;
            }
            Op::Remove { delta, .. } => {
                *level -= delta;
                self.live.remove(&id);
            }
        }
        if *level == 0 {
            self.levels[o.side as usize].remove(&o.price_e4);
        }
        self.steps.push(step);
    }

    fn best(&self, side: Side) -> Option<(i64, u64)> {
        let levels = &self.levels[side as usize];
        let best = if side == Side::Buy { levels.last_key_value() } else { levels.first_key_value() };
        best.map(|(&p, &q)| (p, q))
    }

    fn add(&mut self, ts_ns: i64, id: u64, account: AccountId, side: Side, price_e4: i64, qty: u64) {
        // A crossing add would trade in zkclob and rest crossed in hftbacktest's depth: the
        // comparison would be meaningless, so the stream must never contain one.
        let crosses =
            self.best(side.opposite()).is_some_and(|(p, _)| side.accepts(Price(price_e4), Price(p)));
        assert!(!crosses, "the stream would cross the book at {ts_ns} ns: order {id}");
        assert!(
            self.live.insert(id, LiveOrder { account, side, price_e4, qty }).is_none(),
            "duplicate id {id}"
        );
        self.stats.adds += 1;
        self.push(ts_ns, id, Op::Add { qty });
    }

    /// A delete, partial cancel or execution of `m.size` shares of the order `m` names.
    fn reduce(&mut self, ts_ns: i64, m: &Message, id_offset: u64) {
        let named = m.order_id + id_offset;
        let id = if self.live.contains_key(&named) {
            named
        } else {
            match self.seeds.get(&(m.side, m.price)) {
                Some(&seed) if self.live.contains_key(&seed) => seed,
                _ => {
                    self.stats.skipped_unknown += 1;
                    return;
                }
            }
        };
        let left = self.live[&id].qty;
        if m.size > left {
            self.stats.clamped += 1;
        }
        let exec = m.kind == MessageKind::ExecuteVisible;
        self.stats.executions += exec as usize;
        if m.size >= left {
            self.stats.removes += 1;
            self.push(ts_ns, id, Op::Remove { delta: left, exec });
        } else {
            self.stats.reduces += 1;
            self.push(ts_ns, id, Op::Reduce { left: left - m.size, delta: m.size, exec });
        }
    }

    fn apply(&mut self, ts_ns: i64, m: &Message, id_offset: u64) {
        match m.kind {
            MessageKind::Submit => {
                self.add(ts_ns, m.order_id + id_offset, ACCOUNT_FILE, m.side, m.price, m.size)
            }
            MessageKind::PartialCancel | MessageKind::Delete | MessageKind::ExecuteVisible => {
                self.reduce(ts_ns, m, id_offset)
            }
            MessageKind::ExecuteHidden | MessageKind::Cross | MessageKind::Halt => {
                self.stats.skipped_hidden += 1
            }
        }
    }

    fn purge(&mut self, ts_ns: i64) {
        let mut ids: Vec<(u64, u64)> = self.live.iter().map(|(&id, o)| (id, o.qty)).collect();
        ids.sort_unstable();
        for (id, qty) in ids {
            self.stats.purged += 1;
            self.push(ts_ns, id, Op::Remove { delta: qty, exec: false });
        }
        self.seeds.clear();
    }

    fn checkpoint(&self, ts_ns: i64) -> Checkpoint {
        Checkpoint {
            ts_ns,
            best: [self.best(Side::Buy), self.best(Side::Sell)],
            live_orders: self.live.len(),
        }
    }
}

/// The messages, and the first and last orderbook rows.
fn load_sample() -> (Vec<Message>, BookRow, BookRow) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/lobster/");
    let read =
        |name: &str| std::fs::read_to_string(format!("{dir}{name}")).expect("the LOBSTER sample is in data/");
    let messages: Vec<Message> = read(MESSAGE_FILE)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| parse_message(l).expect("the sample's message lines parse"))
        .collect();
    let book = read(ORDERBOOK_FILE);
    let row = |line: Option<&str>| {
        parse_book_row(line.expect("the orderbook file has rows")).expect("the sample's orderbook rows parse")
    };
    (messages, row(book.lines().next()), row(book.lines().last()))
}

/// Repeats the sample until the stream has at least `events_min` events. Checkpoints: the end of
/// every copy, and in the first [`DENSE_COPIES`] copies every distinct timestamp as well.
fn build_stream(messages: &[Message], seeds: &BTreeMap<(Side, i64), u64>, events_min: usize) -> Stream {
    let t0 = messages[0].time_ns as i64;
    let span_ns = messages[messages.len() - 1].time_ns as i64 - t0;
    let mut r = Resolver::default();
    let mut checkpoints = Vec::new();
    let mut copy = 0u64;
    loop {
        let base_ns = copy as i64 * (span_ns + COPY_GAP_NS);
        let id_offset = copy * ID_STRIDE;
        for (n, (&(side, price_e4), &qty)) in seeds.iter().enumerate() {
            let id = SYNTHETIC_ID_BASE + id_offset + n as u64;
            r.add(base_ns, id, ACCOUNT_SEED, side, price_e4, qty);
            r.seeds.insert((side, price_e4), id);
        }
        let dense = copy < DENSE_COPIES;
        for (i, m) in messages.iter().enumerate() {
            let ts_ns = base_ns + 1 + (m.time_ns as i64 - t0);
            if dense && (i == 0 || m.time_ns != messages[i - 1].time_ns) {
                checkpoints.push(r.checkpoint(ts_ns - 1));
            }
            r.apply(ts_ns, m, id_offset);
        }
        let end_ns = base_ns + 1 + span_ns;
        checkpoints.push(r.checkpoint(end_ns));
        copy += 1;
        if r.steps.len() >= events_min {
            break;
        }
        r.purge(end_ns + 1);
    }
    r.stats.copies = copy as usize;
    Stream { steps: r.steps, checkpoints, stats: r.stats }
}

// ---------------------------------------------------------------------------------------------
// zkclob

fn zkclob_book() -> Book {
    Book::new(equity_spec(), BookLimits::default())
}

/// Applies one step; returns whether the book rejected it.
#[inline(always)]
fn zkclob_apply(book: &mut Book, s: &Step) -> bool {
    let (id, now) = (OrderId(s.id), Timestamp(s.ts_ns as u64));
    let events = match s.op {
        Op::Add { qty } => {
            book.place(NewOrder::limit(id, s.account, s.side, Price(s.price_e4), Qty(qty)), now)
        }
        Op::Reduce { left, .. } => book.amend(id, s.account, Price(s.price_e4), Qty(left), now),
        Op::Remove { .. } => book.cancel(id, s.account, now),
    };
    matches!(events.last(), Some(Event::Rejected { .. }))
}

/// Replays `steps`; returns the number of rejections (0 on this stream).
#[inline(never)]
fn zkclob_replay(book: &mut Book, steps: &[Step]) -> usize {
    steps.iter().map(|s| zkclob_apply(book, s) as usize).sum()
}

fn zkclob_state(book: &Book, ts_ns: i64) -> Checkpoint {
    let level = |l: Option<zkclob_book::DepthLevel>| l.map(|l| (l.price.0, l.qty.0));
    Checkpoint {
        ts_ns,
        best: [level(book.best_bid()), level(book.best_ask())],
        live_orders: book.order_count(),
    }
}

// ---------------------------------------------------------------------------------------------
// hftbacktest

type HftBacktest = Backtest<ROIVectorMarketDepth>;

fn hft_row(flags: u64, s: &Step, kind: u64, side: Side, qty: u64) -> HftEvent {
    let side_flag = if side == Side::Buy { BUY_EVENT } else { SELL_EVENT };
    HftEvent {
        ev: flags | kind | side_flag,
        exch_ts: s.ts_ns,
        local_ts: s.ts_ns,
        px: s.price_e4 as f64 / PRICE_E4_PER_USD,
        qty: qty as f64,
        order_id: s.id,
        ival: 0,
        fval: 0.0,
    }
}

/// hftbacktest's rows for `steps`, each flagged with `flags` (`EXCH_EVENT` and/or `LOCAL_EVENT`).
fn hft_rows(steps: &[Step], flags: u64) -> Vec<HftEvent> {
    let mut rows = Vec::with_capacity(steps.len() * 11 / 10);
    for s in steps {
        let (exec, delta) = match s.op {
            Op::Add { .. } => (false, 0),
            Op::Reduce { delta, exec, .. } | Op::Remove { delta, exec } => (exec, delta),
        };
        if exec {
            // A fill names the resting order; the side flag is the taker's, as in hftbacktest's
            // trade events.
            rows.push(hft_row(flags, s, FILL_EVENT, s.side.opposite(), delta));
        }
        rows.push(match s.op {
            Op::Add { qty } => hft_row(flags, s, ADD_ORDER_EVENT, s.side, qty),
            Op::Reduce { left, .. } => hft_row(flags, s, MODIFY_ORDER_EVENT, s.side, left),
            Op::Remove { .. } => hft_row(flags, s, CANCEL_ORDER_EVENT, s.side, 0),
        });
    }
    rows
}

/// The range of interest of `ROIVectorMarketDepth`: the stream's prices, widened to whole USD.
fn roi_usd(steps: &[Step]) -> (f64, f64) {
    let lo = steps.iter().map(|s| s.price_e4).min().expect("the stream is not empty");
    let hi = steps.iter().map(|s| s.price_e4).max().expect("the stream is not empty");
    ((lo as f64 / PRICE_E4_PER_USD).floor() - 1.0, (hi as f64 / PRICE_E4_PER_USD).ceil() + 1.0)
}

fn hft_backtest(rows: &Data<HftEvent>, roi: (f64, f64)) -> HftBacktest {
    let asset = L3AssetBuilder::new()
        .data(vec![DataSource::Data(rows.clone())])
        .latency_model(ConstantLatency::new(0, 0))
        .asset_type(LinearAsset::new(1.0))
        .fee_model(TradingValueFeeModel::new(CommonFees::new(0.0, 0.0)))
        .queue_model(L3FIFOQueueModel::new())
        .exchange(ExchangeKind::NoPartialFillExchange)
        .depth(move || ROIVectorMarketDepth::new(TICK_USD, 1.0, roi.0, roi.1))
        .build()
        .expect("the asset has every part");
    Backtest::builder().add_asset(asset).build().expect("one asset")
}

#[inline(never)]
fn hft_replay(bt: &mut HftBacktest) -> ElapseResult {
    bt.goto_end().expect("hftbacktest replays the stream")
}

fn hft_state(bt: &HftBacktest, ts_ns: i64) -> Checkpoint {
    let d = bt.depth(0);
    let e4 = |tick: i64| tick * CENT;
    let bid = (d.best_bid_tick() != INVALID_MIN).then(|| (e4(d.best_bid_tick()), d.best_bid_qty() as u64));
    let ask = (d.best_ask_tick() != INVALID_MAX).then(|| (e4(d.best_ask_tick()), d.best_ask_qty() as u64));
    Checkpoint { ts_ns, best: [bid, ask], live_orders: d.orders().len() }
}

// ---------------------------------------------------------------------------------------------
// Checks and timing

/// Replays the stream through both engines, untimed, comparing their books with the expected one
/// at every checkpoint.
fn check_same_state(
    stream: &Stream,
    rows_both: &Data<HftEvent>,
    rows_exch: &Data<HftEvent>,
    roi: (f64, f64),
) {
    let mut book = zkclob_book();
    let mut bt = hft_backtest(rows_both, roi);
    let mut done = 0;
    for cp in &stream.checkpoints {
        let upto = done + stream.steps[done..].partition_point(|s| s.ts_ns <= cp.ts_ns);
        assert_eq!(zkclob_replay(&mut book, &stream.steps[done..upto]), 0, "zkclob rejected a step");
        done = upto;
        assert_eq!(zkclob_state(&book, cp.ts_ns), *cp, "zkclob's book differs from the expected one");
        let now =
            if bt.current_timestamp() == i64::MAX { stream.steps[0].ts_ns } else { bt.current_timestamp() };
        bt.elapse(cp.ts_ns - now).expect("hftbacktest replays the stream");
        assert_eq!(hft_state(&bt, cp.ts_ns), *cp, "hftbacktest's book differs from the expected one");
    }
    assert_eq!(done, stream.steps.len());
    assert_eq!(hft_replay(&mut bt), ElapseResult::EndOfData);
    assert_eq!(hft_replay(&mut hft_backtest(rows_exch, roi)), ElapseResult::EndOfData);
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Events per second of one full replay into a fresh engine (built and dropped untimed).
fn events_per_sec<E, R>(events: usize, fresh: impl Fn() -> E, run: impl Fn(&mut E) -> R) -> f64 {
    let mut engine = fresh();
    let t = Instant::now();
    black_box(run(black_box(&mut engine)));
    let secs = t.elapsed().as_secs_f64();
    drop(engine);
    events as f64 / secs
}

fn describe(stream: &Stream, rows_both: usize, roi: (f64, f64)) {
    let s = stream.stats;
    let last = stream.checkpoints.last().expect("at least one copy");
    println!(
        "stream: {} copies of the AAPL sample = {} events ({} adds, {} reduces, {} removes of which \
         {} purges; {} executions); per copy {} references to unseen deep orders skipped, {} sizes \
         clamped, {} hidden/cross/halt messages left out",
        s.copies,
        stream.steps.len(),
        s.adds,
        s.reduces,
        s.removes + s.purged,
        s.purged,
        s.executions,
        s.skipped_unknown / s.copies,
        s.clamped / s.copies,
        s.skipped_hidden / s.copies,
    );
    println!(
        "hftbacktest rows: {rows_both} (one per event, plus a FILL row before each execution); \
         ROI {:.0}..{:.0} USD",
        roi.0, roi.1
    );
    println!(
        "checked: both engines match the expected book at {} checkpoints (every copy's end, every \
         timestamp of the first {DENSE_COPIES}); final book: bid {:?} ask {:?}, {} live orders",
        stream.checkpoints.len(),
        last.best[0],
        last.best[1],
        last.live_orders
    );
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (messages, first_row, last_row) = load_sample();
    let seeds = zkclob_book::lobster::preexisting_levels(&messages[0], &first_row);
    let stream = build_stream(&messages, &seeds, if quick { EVENTS_MIN_QUICK } else { EVENTS_MIN });
    // The last copy is not purged: its top of book is the recorded one after the last message.
    let last = stream.checkpoints.last().expect("at least one copy");
    assert_eq!(last.best, [Some(last_row.bids[0]), Some(last_row.asks[0])], "the replay's final top of book");
    let steps = &stream.steps[..];
    let events = steps.len();
    let rows_both = hft_rows(steps, EXCH_EVENT | LOCAL_EVENT);
    let roi = roi_usd(steps);
    let (data_both, data_exch) = (Data::from_data(&rows_both), Data::from_data(&hft_rows(steps, EXCH_EVENT)));
    check_same_state(&stream, &data_both, &data_exch, roi);
    describe(&stream, rows_both.len(), roi);
    drop(rows_both);

    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(if quick { 2 } else { 4 }));
    {
        // Its own group in quick mode: criterion compares a run with the last one of the same name.
        let mut g = c.benchmark_group(if quick { "l3_replay_quick" } else { "l3_replay" });
        g.throughput(Throughput::Elements(events as u64));
        g.bench_function("zkclob", |b| {
            b.iter_batched_ref(zkclob_book, |book| zkclob_replay(book, steps), BatchSize::LargeInput)
        });
        g.bench_function("hftbacktest", |b| {
            b.iter_batched_ref(|| hft_backtest(&data_both, roi), hft_replay, BatchSize::LargeInput)
        });
        g.bench_function("hftbacktest_exch_only", |b| {
            b.iter_batched_ref(|| hft_backtest(&data_exch, roi), hft_replay, BatchSize::LargeInput)
        });
        g.finish();
    }
    c.final_summary();

    // Alternate the engines so that machine noise hits them alike.
    let (mut ours, mut theirs, mut theirs_exch) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..if quick { RUNS_QUICK } else { RUNS } {
        ours.push(events_per_sec(events, zkclob_book, |b| zkclob_replay(b, steps)));
        theirs.push(events_per_sec(events, || hft_backtest(&data_both, roi), hft_replay));
        theirs_exch.push(events_per_sec(events, || hft_backtest(&data_exch, roi), hft_replay));
    }
    let (ours, theirs, theirs_exch) = (median(ours), median(theirs), median(theirs_exch));
    println!(
        "standard_config zkclob={ours:.0} hftbacktest_exchange_and_local={theirs:.0} ratio={:.2}",
        ours / theirs
    );
    println!("events_per_sec zkclob={ours:.0} hftbacktest={theirs_exch:.0} ratio={:.2}", ours / theirs_exch);
}
