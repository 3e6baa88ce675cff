//! The replay loop: recorded L2 events in, our simulated orders beside them, a [`RunLog`] out.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use zkclob_core::Side;
use zkclob_sim::RunLog;
use zkclob_strategy::{BookLevel, MarketTrade, MarketView, Quoter, Quotes};

use super::queue::{QueueModel, QueueModelSpec};
use super::{level_qty, marketable, strictly_worse, L2Event, L2Stream, L2Trade, MAX_WINDOW_LEVELS};
use crate::driver::{Ledger, Pending, Planned, Snapshot};

/// How the L2 replay drives the quoter and simulates our orders. The fields shared with
/// [`L3Config`](crate::lobster_l3::L3Config) mean the same.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct L2Config {
    /// Least market time between two quoter decisions, seconds (0: after every event).
    pub decision_interval_s: f64,
    /// Order-entry latency, seconds: our orders and cancels take effect at the first event at or
    /// after decision time + latency, before that event is applied (0: immediately).
    pub entry_latency_s: f64,
    /// Book levels per side in the quoter's view.
    pub depth_levels: usize,
    /// Fee per lot when our resting order fills, tick·lots (negative: a rebate).
    pub maker_fee_per_lot: f64,
    /// Fee per lot when our order takes, tick·lots.
    pub taker_fee_per_lot: f64,
    /// Sampling grid of the run log, seconds.
    pub sample_interval_s: f64,
    /// The queue model (used by [`run_l2`]).
    pub queue: QueueModelSpec,
}

impl Default for L2Config {
    fn default() -> Self {
        L2Config {
            decision_interval_s: 0.0,
            entry_latency_s: 0.0,
            depth_levels: 5,
            maker_fee_per_lot: -0.2,
            taker_fee_per_lot: 0.3,
            sample_interval_s: 1.0,
            queue: QueueModelSpec::RiskAverse,
        }
    }
}

/// Counters of one replay.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct L2Stats {
    /// Events applied.
    pub events: u64,
    /// Market trades seen.
    pub trades: u64,
    /// Quoter decisions.
    pub decisions: u64,
    /// Orders and cancels we sent.
    pub orders_sent: u64,
    /// Our fills (all kinds).
    pub our_fills: u64,
    /// Fills of our resting orders by trades at or through their price.
    pub trade_fills: u64,
    /// Fills of our resting orders by displayed liquidity of the other side crossing their price.
    pub crossing_fills: u64,
    /// Fills of our marketable orders against displayed depth (taker).
    pub taker_fills: u64,
    /// Lots the queue model moved our orders forward on decreases without trades.
    pub queue_model_advance_lots: u64,
    /// Orders placed at a price beyond a full window, whose queue is unknown (taken as empty).
    pub placed_beyond_window: u64,
}

/// Why an L2 replay failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum L2Error {
    /// No events.
    #[error("the stream is empty")]
    Empty,
    /// A configuration value is out of range.
    #[error("invalid configuration {name} = {value}: {requirement}")]
    Config {
        /// Field.
        name: &'static str,
        /// Value.
        value: f64,
        /// What it must be.
        requirement: &'static str,
    },
    /// The quoter failed.
    #[error("quoter: {0}")]
    Quoter(String),
    /// Events go back in time.
    #[error("event {index} goes back in time")]
    TimeReversal {
        /// 0-based event index.
        index: usize,
    },
    /// An event breaks the stream's contract (see [`L2Event`]).
    #[error("event {index}: {reason}")]
    InvalidEvent {
        /// 0-based event index.
        index: usize,
        /// What is wrong.
        reason: &'static str,
    },
}

/// What a replay returns.
#[derive(Debug, Clone)]
pub struct L2Output {
    /// Our run, for the analytics.
    pub log: RunLog,
    /// Counters.
    pub stats: L2Stats,
}

/// One resting order of ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Ours {
    id: u64,
    price_ticks: i64,
    left_lots: u64,
    /// Estimated quantity ahead of us in the level.
    ahead_lots: u64,
    /// Traded at our price since the level's displayed quantity last changed (so the change is
    /// not counted twice).
    traded_lots: u64,
}

/// How one of our fills came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cause {
    Trade,
    Crossing,
    Taker,
}

const fn slot(side: Side) -> usize {
    match side {
        Side::Buy => 0,
        Side::Sell => 1,
    }
}

struct Replay<'a> {
    cfg: L2Config,
    stream: &'a L2Stream,
    model: &'a dyn QueueModel,
    quoter: &'a mut dyn Quoter,
    stats: L2Stats,
    /// Index of the event whose book is current.
    current: Option<usize>,
    /// Per side of the *recorded* liquidity (bids, asks): lots of it we traded with, price →
    /// lots. The recording still shows them; the market we simulate does not.
    taken: [BTreeMap<i64, u64>; 2],
    /// Our bid and ask.
    ours: [Option<Ours>; 2],
    next_id: u64,
    ledger: Ledger,
    t0_ns: i64,
    now_s: f64,
    last_mid: f64,
    trades: Vec<MarketTrade>,
    pending: Pending<u64>,
    last_decision_s: f64,
    bids_view: Vec<BookLevel>,
    asks_view: Vec<BookLevel>,
}

/// Replays `stream` with `quoter`'s orders simulated beside the recorded book, with the queue
/// model `cfg.queue`.
pub fn run_l2(stream: &L2Stream, quoter: &mut dyn Quoter, cfg: &L2Config) -> Result<L2Output, L2Error> {
    let model = cfg.queue.build()?;
    run_l2_with_queue_model(stream, quoter, model.as_ref(), cfg)
}

/// [`run_l2`] with any [`QueueModel`] (`cfg.queue` is ignored).
pub fn run_l2_with_queue_model(
    stream: &L2Stream,
    quoter: &mut dyn Quoter,
    model: &dyn QueueModel,
    cfg: &L2Config,
) -> Result<L2Output, L2Error> {
    check(cfg)?;
    check_stream(stream)?;
    let first = stream.events.first().ok_or(L2Error::Empty)?;
    let mut r = Replay {
        cfg: *cfg,
        stream,
        model,
        quoter,
        stats: L2Stats::default(),
        current: None,
        taken: [BTreeMap::new(), BTreeMap::new()],
        ours: [None, None],
        next_id: 0,
        ledger: Ledger::new(cfg.sample_interval_s),
        t0_ns: first.time_ns,
        now_s: 0.0,
        last_mid: 0.0,
        trades: Vec::new(),
        pending: Pending::new(),
        last_decision_s: f64::NEG_INFINITY,
        bids_view: Vec::new(),
        asks_view: Vec::new(),
    };
    for index in 0..stream.events.len() {
        r.now_s = (stream.events[index].time_ns - r.t0_ns) as f64 * 1e-9;
        r.sample_until(r.now_s);
        r.flush_pending();
        r.apply(index);
        if let Some(mid) = r.mid() {
            r.last_mid = mid;
        }
        if r.now_s - r.last_decision_s >= r.cfg.decision_interval_s {
            r.decide()?;
        }
    }
    // Orders still in flight at the end never reach the market.
    r.pending.clear();
    let last = r.snapshot();
    r.ledger.sample(r.now_s, &last);
    r.ledger.log.events = r.stats.events;
    r.ledger.log.orders_sent = r.stats.orders_sent;
    Ok(L2Output { log: r.ledger.log, stats: r.stats })
}

fn check(cfg: &L2Config) -> Result<(), L2Error> {
    crate::driver::check_driver(&crate::driver::DriverFields {
        decision_interval_s: cfg.decision_interval_s,
        entry_latency_s: cfg.entry_latency_s,
        sample_interval_s: cfg.sample_interval_s,
        maker_fee_per_lot: cfg.maker_fee_per_lot,
        taker_fee_per_lot: cfg.taker_fee_per_lot,
        depth_levels: cfg.depth_levels,
    })
    .map_err(|(name, value, requirement)| L2Error::Config { name, value, requirement })
}

/// The stream's contract: a window in range, time never going back, sides within the window,
/// strictly ordered, with positive quantities, and positive trade sizes.
fn check_stream(stream: &L2Stream) -> Result<(), L2Error> {
    if !(1..=MAX_WINDOW_LEVELS).contains(&stream.window_levels) {
        return Err(L2Error::Config {
            name: "window_levels",
            value: stream.window_levels as f64,
            requirement: "between 1 and MAX_WINDOW_LEVELS",
        });
    }
    let mut prev = i64::MIN;
    for (index, e) in stream.events.iter().enumerate() {
        if e.time_ns < prev {
            return Err(L2Error::TimeReversal { index });
        }
        prev = e.time_ns;
        let bad = |reason| Err(L2Error::InvalidEvent { index, reason });
        for side in [Side::Buy, Side::Sell] {
            let levels = e.levels(side);
            if levels.len() > stream.window_levels {
                return bad("more levels than the window");
            }
            if levels.iter().any(|l| l.qty_lots == 0) {
                return bad("a level with zero quantity");
            }
            if levels.windows(2).any(|w| !strictly_worse(side, w[1].price_ticks, w[0].price_ticks)) {
                return bad("levels not strictly ordered");
            }
        }
        if e.trades.iter().any(|t| t.qty_lots == 0) {
            return bad("a trade of zero quantity");
        }
    }
    Ok(())
}

impl Replay<'_> {
    /// The recorded levels of `side` in the current book.
    fn recorded(&self, side: Side) -> &[BookLevel] {
        self.current.map_or(&[], |i| self.stream.events[i].levels(side))
    }

    /// Recorded minus what we took, at one price; `None` beyond a full window.
    fn available_at(&self, side: Side, price_ticks: i64) -> Option<u64> {
        let recorded = level_qty(self.recorded(side), side, price_ticks, self.stream.window_levels)?;
        Some(recorded.saturating_sub(self.taken[slot(side)].get(&price_ticks).copied().unwrap_or(0)))
    }

    /// The market as the exchange would show it: recorded levels less what we took, plus our
    /// resting order, best `n` levels.
    fn market(&self, side: Side, n: usize, out: &mut Vec<BookLevel>) {
        out.clear();
        let taken = &self.taken[slot(side)];
        for l in self.recorded(side) {
            let q = l.qty_lots.saturating_sub(taken.get(&l.price_ticks).copied().unwrap_or(0));
            if q > 0 {
                out.push(BookLevel { price_ticks: l.price_ticks, qty_lots: q });
            }
        }
        if let Some(o) = self.ours[slot(side)] {
            match out.iter().position(|l| !strictly_worse(side, o.price_ticks, l.price_ticks)) {
                Some(i) if out[i].price_ticks == o.price_ticks => out[i].qty_lots += o.left_lots,
                Some(i) => out.insert(i, BookLevel { price_ticks: o.price_ticks, qty_lots: o.left_lots }),
                None => out.push(BookLevel { price_ticks: o.price_ticks, qty_lots: o.left_lots }),
            }
        }
        out.truncate(n);
    }

    fn best(&self, side: Side) -> Option<i64> {
        let taken = &self.taken[slot(side)];
        let recorded = self
            .recorded(side)
            .iter()
            .find(|l| l.qty_lots > taken.get(&l.price_ticks).copied().unwrap_or(0))
            .map(|l| l.price_ticks);
        let ours = self.ours[slot(side)].map(|o| o.price_ticks);
        match (recorded, ours) {
            (Some(a), Some(b)) => Some(if strictly_worse(side, a, b) { b } else { a }),
            (a, b) => a.or(b),
        }
    }

    fn mid(&self) -> Option<f64> {
        Some((self.best(Side::Buy)? + self.best(Side::Sell)?) as f64 / 2.0)
    }

    /// One event: its trades, then its book.
    fn apply(&mut self, index: usize) {
        let stream = self.stream;
        let event = &stream.events[index];
        self.stats.events += 1;
        for t in &event.trades {
            self.on_trade(t);
        }
        let previous = self.current.replace(index);
        for side in [Side::Buy, Side::Sell] {
            self.requeue(side, previous.map(|p| &stream.events[p]), event);
        }
        self.reconcile_taken();
        for side in [Side::Buy, Side::Sell] {
            self.cross_resting(side);
        }
    }

    /// A market trade: it meets the queue ahead of our order on the side it hits if it is at or
    /// through our price, then our order.
    fn on_trade(&mut self, t: &L2Trade) {
        self.stats.trades += 1;
        self.trades.push(MarketTrade {
            time_s: self.now_s,
            price_ticks: t.price_ticks,
            qty_lots: t.qty_lots,
            aggressor: t.aggressor,
        });
        let side = t.aggressor.opposite();
        let Some(mut o) = self.ours[slot(side)] else { return };
        if !marketable(side, o.price_ticks, t.price_ticks) {
            return;
        }
        if t.price_ticks == o.price_ticks {
            o.traded_lots += t.qty_lots;
        }
        let to_ahead = o.ahead_lots.min(t.qty_lots);
        o.ahead_lots -= to_ahead;
        let q = o.left_lots.min(t.qty_lots - to_ahead);
        self.settle_resting(side, o, q, Cause::Trade);
    }

    /// Stores `o` after `q` of it filled at its price as maker.
    fn settle_resting(&mut self, side: Side, mut o: Ours, q: u64, cause: Cause) {
        o.left_lots -= q;
        self.ours[slot(side)] = (o.left_lots > 0).then_some(o);
        if q > 0 {
            self.record_fill(side, o.price_ticks, q, cause);
        }
    }

    /// The queue ahead of our order on `side` after the level at its price changed from the
    /// previous book to this one.
    fn requeue(&mut self, side: Side, previous: Option<&L2Event>, event: &L2Event) {
        let Some(mut o) = self.ours[slot(side)] else { return };
        let window = self.stream.window_levels;
        let before = previous.and_then(|p| level_qty(p.levels(side), side, o.price_ticks, window));
        let Some(after) = level_qty(event.levels(side), side, o.price_ticks, window) else { return };
        if before == Some(after) {
            return;
        }
        if let Some(before) = before {
            // What is left of the level once the trades at our price are accounted for; anything
            // more that left did so without trading.
            let net = before.saturating_sub(o.traded_lots);
            let ahead = o.ahead_lots.min(net);
            if after < net {
                let moved = self.model.ahead_after_decrease(ahead, net, after).min(ahead);
                self.stats.queue_model_advance_lots += ahead - moved;
                o.ahead_lots = moved;
            }
        }
        o.traded_lots = 0;
        o.ahead_lots = o.ahead_lots.min(after);
        self.ours[slot(side)] = Some(o);
    }

    /// What we took of a level is gone from the market, but only as long as the recording still
    /// shows it: once the level shrinks, the taken lots are assumed to be among those that left.
    fn reconcile_taken(&mut self) {
        let window = self.stream.window_levels;
        for side in [Side::Buy, Side::Sell] {
            let Some(i) = self.current else { return };
            let levels = self.stream.events[i].levels(side);
            self.taken[slot(side)].retain(|&price, taken| {
                if let Some(q) = level_qty(levels, side, price, window) {
                    *taken = (*taken).min(q);
                }
                *taken > 0
            });
        }
    }

    /// Walks the other side's available liquidity at or through `limit_ticks` for an order of ours
    /// on `side`: the queue `ahead` meets it first, then `left`. Marks what was used as taken and
    /// returns our fills as (level price, lots).
    fn walk(&mut self, side: Side, limit_ticks: i64, ahead: &mut u64, left: &mut u64) -> Vec<(i64, u64)> {
        let other = side.opposite();
        let stream = self.stream;
        let levels = self.current.map_or(&[][..], |i| stream.events[i].levels(other));
        let mut fills = Vec::new();
        for l in levels {
            if *left == 0 || !marketable(side, limit_ticks, l.price_ticks) {
                break;
            }
            let taken = self.taken[slot(other)].entry(l.price_ticks).or_insert(0);
            let mut avail = l.qty_lots.saturating_sub(*taken);
            let to_ahead = (*ahead).min(avail);
            *ahead -= to_ahead;
            avail -= to_ahead;
            let q = (*left).min(avail);
            *taken += to_ahead + q;
            *left -= q;
            if q > 0 {
                fills.push((l.price_ticks, q));
            }
        }
        self.taken[slot(other)].retain(|_, t| *t > 0);
        fills
    }

    /// Displayed liquidity of the other side at or through our resting order's price trades with
    /// it (in the recording it rested because nothing was there; here we are).
    fn cross_resting(&mut self, side: Side) {
        let Some(mut o) = self.ours[slot(side)] else { return };
        let (mut ahead, mut left) = (o.ahead_lots, o.left_lots);
        let fills = self.walk(side, o.price_ticks, &mut ahead, &mut left);
        o.ahead_lots = ahead;
        o.left_lots = left;
        self.ours[slot(side)] = (left > 0).then_some(o);
        for (_, q) in fills {
            self.print(side.opposite(), o.price_ticks, q);
            self.record_fill(side, o.price_ticks, q, Cause::Crossing);
        }
    }

    /// A trade the recording does not have (one we took part in outside a recorded print).
    fn print(&mut self, aggressor: Side, price_ticks: i64, qty_lots: u64) {
        self.trades.push(MarketTrade { time_s: self.now_s, price_ticks, qty_lots, aggressor });
    }

    fn record_fill(&mut self, side: Side, price_ticks: i64, qty_lots: u64, cause: Cause) {
        let maker = cause != Cause::Taker;
        let fee =
            qty_lots as f64 * if maker { self.cfg.maker_fee_per_lot } else { self.cfg.taker_fee_per_lot };
        self.ledger.fill(self.now_s, side, price_ticks, qty_lots, fee, maker, self.last_mid);
        self.stats.our_fills += 1;
        match cause {
            Cause::Trade => self.stats.trade_fills += 1,
            Cause::Crossing => self.stats.crossing_fills += 1,
            Cause::Taker => self.stats.taker_fills += 1,
        }
        self.quoter.on_fill(self.now_s, side, price_ticks, qty_lots);
    }

    fn decide(&mut self) -> Result<(), L2Error> {
        self.last_decision_s = self.now_s;
        self.stats.decisions += 1;
        let (mut bids, mut asks) = (std::mem::take(&mut self.bids_view), std::mem::take(&mut self.asks_view));
        self.market(Side::Buy, self.cfg.depth_levels, &mut bids);
        self.market(Side::Sell, self.cfg.depth_levels, &mut asks);
        let view = MarketView {
            time_s: self.now_s,
            bids: &bids,
            asks: &asks,
            trades: &self.trades,
            inventory_lots: self.ledger.inventory,
        };
        let quotes = self.quoter.quote(&view).map_err(|e| L2Error::Quoter(e.to_string()));
        (self.bids_view, self.asks_view) = (bids, asks);
        let quotes = quotes?;
        self.trades.clear();
        self.plan(&quotes);
        Ok(())
    }

    /// Turns desired quotes into cancels and places (only where something changed), as the L3
    /// replay does.
    fn plan(&mut self, q: &Quotes) {
        let at = self.now_s + self.cfg.entry_latency_s;
        let have = self.ours.map(|o| o.map(|o| (o.id, o.price_ticks, o.left_lots)));
        self.pending.plan(at, have, q);
        if self.cfg.entry_latency_s == 0.0 {
            self.flush_pending();
        }
    }

    fn flush_pending(&mut self) {
        for a in self.pending.due(self.now_s) {
            self.act(a);
        }
    }

    fn act(&mut self, a: Planned<u64>) {
        self.stats.orders_sent += 1;
        match a {
            Planned::Cancel { side, id } => {
                if self.ours[slot(side)].is_some_and(|o| o.id == id) {
                    self.ours[slot(side)] = None;
                }
            }
            Planned::Place { side, price_ticks, qty_lots } => self.place(side, price_ticks, qty_lots),
        }
    }

    /// A new order: it takes what the other side displays at or through its price (taker, at the
    /// displayed prices), and the rest rests behind the level's displayed quantity.
    fn place(&mut self, side: Side, price_ticks: i64, qty_lots: u64) {
        self.next_id += 1;
        let (mut ahead, mut left) = (0, qty_lots);
        for (p, q) in self.walk(side, price_ticks, &mut ahead, &mut left) {
            self.print(side, p, q);
            self.record_fill(side, p, q, Cause::Taker);
        }
        if left == 0 {
            self.ours[slot(side)] = None;
            return;
        }
        let ahead_lots = self.available_at(side, price_ticks).unwrap_or_else(|| {
            self.stats.placed_beyond_window += 1;
            0
        });
        self.ours[slot(side)] =
            Some(Ours { id: self.next_id, price_ticks, left_lots: left, ahead_lots, traded_lots: 0 });
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            mid: self.last_mid,
            best_bid: self.best(Side::Buy),
            best_ask: self.best(Side::Sell),
            our_bid: self.ours[0].map(|o| o.price_ticks),
            our_ask: self.ours[1].map(|o| o.price_ticks),
        }
    }

    fn sample_until(&mut self, t: f64) {
        let s = self.snapshot();
        self.ledger.sample_until(t, &s);
    }
}
