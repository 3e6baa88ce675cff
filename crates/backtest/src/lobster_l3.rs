//! L3 replay of LOBSTER data with our orders inserted into the real book.
//!
//! The recorded messages are applied, one by one, to a `zkclob_book::Book` — the engine the
//! exchange runs — and our market maker's orders sit in the same book under their own account.
//! Queue position is therefore exact: a recorded execution is replayed as an IOC order of the
//! recorded size at the recorded price, which the engine routes through the level in price-time
//! priority, so it fills our order only if ours is ahead of the recorded order it names (or at a
//! better price). A recorded limit order that crosses our quote trades with it.
//!
//! Once we have traded, the book diverges from the recording: an execution that filled us leaves
//! the named recorded order with more than the recording says, a crossing order that traded with
//! us rests with less. The replay is *best effort* from then on, and counts every adjustment:
//! a cancel or execution naming an order with less left than the message says is clamped
//! ([`L3Stats::clamped`]); one naming an order that is gone is skipped
//! ([`L3Stats::untracked_refs`]). Without our orders the replay is exactly the strict one of
//! `zkclob_book::lobster` (999/999 rows on the AAPL sample).
//!
//! Units: LOBSTER prices are USD × 10,000 with a one-cent tick; the quoter sees prices in ticks
//! (cents) and sizes in lots (shares); money in the [`RunLog`] is in tick·lots (cent·shares).
//!
//! Liquidity the message file cannot show is taken from the orderbook file exactly as the strict
//! replay does: pre-existing orders are seeded from the first row, and levels that enter the
//! 10-level window from below the previous row's frontier are set to the row's (recorded orders
//! only; ours are never touched — if one of ours sits at such a deep level, the synthetic order
//! lands behind it, a known approximation that needs us to quote more than 10 levels deep).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use zkclob_book::lobster::{
    equity_spec, preexisting_levels, resolve_order, BookRow, Message, MessageKind, ACCOUNT_FILE,
    ACCOUNT_SEED, ACCOUNT_TAKER, CENT, EMPTY_ASK_PRICE, EMPTY_BID_PRICE, SYNTHETIC_ID_BASE,
};
use zkclob_book::{Book, BookLimits, NewOrder, TimeInForce};
use zkclob_book::{Event, Fill};
use zkclob_core::{AccountId, OrderId, Price, Qty, Side, Timestamp};
use zkclob_sim::RunLog;
use zkclob_strategy::{BookLevel, MarketTrade, MarketView, Quoter, Quotes};

use crate::driver::{check_driver, DriverFields, Ledger, Pending, Planned, Snapshot};

/// Our account in the replayed book.
pub const ACCOUNT_OURS: AccountId = AccountId(100);
/// Our order ids start here (far from Nasdaq's references and from the replay's synthetic ids).
pub const OUR_ID_BASE: u64 = SYNTHETIC_ID_BASE + (1 << 60);

/// How the replay drives the quoter.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct L3Config {
    /// Least market time between two quoter decisions, seconds (0: after every message).
    pub decision_interval_s: f64,
    /// Order-entry latency, seconds: our orders and cancels reach the book at the first message
    /// at or after decision time + latency (0: immediately).
    pub entry_latency_s: f64,
    /// Book levels per side in the quoter's view.
    pub depth_levels: usize,
    /// Fee per lot when our resting order fills, tick·lots (negative: a rebate).
    pub maker_fee_per_lot: f64,
    /// Fee per lot when our order takes, tick·lots.
    pub taker_fee_per_lot: f64,
    /// Sampling grid of the run log, seconds.
    pub sample_interval_s: f64,
}

impl Default for L3Config {
    fn default() -> Self {
        L3Config {
            decision_interval_s: 0.0,
            entry_latency_s: 0.0,
            depth_levels: 5,
            maker_fee_per_lot: -0.2,
            taker_fee_per_lot: 0.3,
            sample_interval_s: 1.0,
        }
    }
}

/// Counters of one replay.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct L3Stats {
    /// Messages applied.
    pub messages: u64,
    /// Executions replayed through the engine (IOC).
    pub engine_executions: u64,
    /// Cancels or executions clamped to what the named order had left.
    pub clamped: u64,
    /// Messages naming an order that is not in the book (gone, or deeper than the window).
    pub untracked_refs: u64,
    /// Executions whose named order was not first in its level among recorded orders: reduced
    /// directly, as the strict replay does.
    pub priority_deviations: u64,
    /// Quoter decisions.
    pub decisions: u64,
    /// Our fills.
    pub our_fills: u64,
    /// Orders and cancels we sent.
    pub orders_sent: u64,
    /// Our orders the book rejected (e.g. a price off the band).
    pub rejected: u64,
}

/// Why a replay failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum L3Error {
    /// No messages.
    #[error("the message file is empty")]
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
    /// The orderbook file does not have one row per message.
    #[error("{messages} messages but {rows} orderbook rows")]
    RowCount {
        /// Messages.
        messages: usize,
        /// Rows.
        rows: usize,
    },
    /// Messages go back in time.
    #[error("message {index} goes back in time")]
    TimeReversal {
        /// 0-based message index.
        index: usize,
    },
}

/// What a replay returns.
#[derive(Debug, Clone)]
pub struct L3Output {
    /// Our run, for the analytics.
    pub log: RunLog,
    /// Counters.
    pub stats: L3Stats,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Live {
    id: OrderId,
    price: i64,
    qty: u64,
}

struct Replay<'q> {
    cfg: L3Config,
    book: Book,
    seeds: BTreeMap<(Side, i64), OrderId>,
    next_synthetic: u64,
    next_ours: u64,
    quoter: &'q mut dyn Quoter,
    stats: L3Stats,
    // Our state.
    bid: Option<Live>,
    ask: Option<Live>,
    ledger: Ledger,
    // Market state.
    t0_ns: u64,
    now_s: f64,
    last_mid: f64,
    trades: Vec<MarketTrade>,
    pending: Pending<OrderId>,
    last_decision_s: f64,
    fills_scratch: Vec<Fill>,
    /// Per side (bids, asks): the deepest price of the previous row, when that row was full.
    frontier: [Option<i64>; 2],
    bids_view: Vec<BookLevel>,
    asks_view: Vec<BookLevel>,
}

/// Replays `messages` with `quoter`'s orders in the book; `rows` is the orderbook file, one row per
/// message (see the module docs).
pub fn run_lobster_l3(
    messages: &[Message],
    rows: &[BookRow],
    quoter: &mut dyn Quoter,
    cfg: &L3Config,
) -> Result<L3Output, L3Error> {
    let first = messages.first().ok_or(L3Error::Empty)?;
    if rows.len() != messages.len() {
        return Err(L3Error::RowCount { messages: messages.len(), rows: rows.len() });
    }
    let first_row = &rows[0];
    check(cfg)?;
    let mut r = Replay {
        cfg: *cfg,
        book: Book::new(equity_spec(), BookLimits::default()),
        seeds: BTreeMap::new(),
        next_synthetic: SYNTHETIC_ID_BASE,
        next_ours: OUR_ID_BASE,
        quoter,
        stats: L3Stats::default(),
        bid: None,
        ask: None,
        ledger: Ledger::new(cfg.sample_interval_s),
        t0_ns: first.time_ns,
        now_s: 0.0,
        last_mid: 0.0,
        trades: Vec::new(),
        pending: Pending::new(),
        last_decision_s: f64::NEG_INFINITY,
        fills_scratch: Vec::new(),
        frontier: [None, None],
        bids_view: Vec::new(),
        asks_view: Vec::new(),
    };
    r.seed(first, first_row);
    r.last_mid = r.mid().unwrap_or(0.0);
    let mut prev_ns = first.time_ns;
    for (index, m) in messages.iter().enumerate() {
        if m.time_ns < prev_ns {
            return Err(L3Error::TimeReversal { index });
        }
        prev_ns = m.time_ns;
        r.now_s = (m.time_ns - r.t0_ns) as f64 * 1e-9;
        r.sample_until(r.now_s);
        r.flush_pending();
        r.apply(m);
        r.reconcile(&rows[index]);
        if let Some(mid) = r.mid() {
            r.last_mid = mid;
        }
        if r.now_s - r.last_decision_s >= r.cfg.decision_interval_s {
            r.decide()?;
        }
    }
    r.flush_pending_all();
    let last = r.snapshot();
    r.ledger.sample(r.now_s, &last);
    r.ledger.log.events = r.stats.messages;
    r.ledger.log.orders_sent = r.stats.orders_sent;
    Ok(L3Output { log: r.ledger.log, stats: r.stats })
}

fn check(cfg: &L3Config) -> Result<(), L3Error> {
    check_driver(&DriverFields {
        decision_interval_s: cfg.decision_interval_s,
        entry_latency_s: cfg.entry_latency_s,
        sample_interval_s: cfg.sample_interval_s,
        maker_fee_per_lot: cfg.maker_fee_per_lot,
        taker_fee_per_lot: cfg.taker_fee_per_lot,
        depth_levels: cfg.depth_levels,
    })
    .map_err(|(name, value, requirement)| L3Error::Config { name, value, requirement })
}

impl Replay<'_> {
    fn seed(&mut self, first: &Message, row: &BookRow) {
        let levels = preexisting_levels(first, row);
        let now = Timestamp(first.time_ns);
        for (&(side, price), &size) in &levels {
            let id = self.synthetic_id();
            self.book.place(NewOrder::limit(id, ACCOUNT_SEED, side, Price(price), Qty(size)), now);
            self.seeds.insert((side, price), id);
        }
    }

    fn synthetic_id(&mut self) -> OrderId {
        self.next_synthetic += 1;
        OrderId(self.next_synthetic)
    }

    fn mid(&self) -> Option<f64> {
        let b = self.book.best_bid()?.price.0;
        let a = self.book.best_ask()?.price.0;
        Some((b + a) as f64 / 2.0 / CENT as f64)
    }

    /// Runs an engine call and handles every fill it produced.
    fn take_fills(&mut self, events: &[Fill]) {
        for f in events {
            let ticks = f.price.0 / CENT;
            self.trades.push(MarketTrade {
                time_s: self.now_s,
                price_ticks: ticks,
                qty_lots: f.qty.0,
                aggressor: f.taker_side,
            });
            let ours_maker = f.maker_account == ACCOUNT_OURS;
            let ours_taker = f.taker_account == ACCOUNT_OURS;
            if !(ours_maker || ours_taker) {
                continue;
            }
            let side = if ours_taker { f.taker_side } else { f.taker_side.opposite() };
            let qty = f.qty.0;
            let fee =
                qty as f64 * if ours_maker { self.cfg.maker_fee_per_lot } else { self.cfg.taker_fee_per_lot };
            self.ledger.fill(self.now_s, side, ticks, qty, fee, ours_maker, self.last_mid);
            self.stats.our_fills += 1;
            if ours_maker {
                let slot = if side == Side::Buy { &mut self.bid } else { &mut self.ask };
                if let Some(live) = slot {
                    if live.id == f.maker_order {
                        live.qty = f.maker_remaining.0;
                        if live.qty == 0 {
                            *slot = None;
                        }
                    }
                }
            }
            self.quoter.on_fill(self.now_s, side, ticks, qty);
        }
    }

    fn collect(events: &[Event], out: &mut Vec<Fill>) -> bool {
        out.clear();
        let mut rejected = false;
        for e in events {
            match e {
                Event::Fill(f) => out.push(*f),
                Event::Rejected { .. } => rejected = true,
                _ => {}
            }
        }
        rejected
    }

    fn place(&mut self, order: NewOrder, now: Timestamp) -> bool {
        // The scratch buffer is reused across calls: no allocation per order on the replay path.
        let mut fills = core::mem::take(&mut self.fills_scratch);
        let rejected = Self::collect(self.book.place(order, now), &mut fills);
        self.take_fills(&fills);
        self.fills_scratch = fills;
        rejected
    }

    /// The recorded order a message names: itself, or the seed at its price.
    fn resolve(&mut self, m: &Message) -> Option<(OrderId, AccountId)> {
        let found = resolve_order(&self.book, &self.seeds, m);
        if found.is_none() {
            self.stats.untracked_refs += 1;
        }
        found
    }

    fn reduce(&mut self, id: OrderId, account: AccountId, size: u64, now: Timestamp) {
        let Some(view) = self.book.order(id) else { return };
        let left = view.visible.0 + view.reserve.0;
        if size > left {
            self.stats.clamped += 1;
        }
        if size >= left {
            self.book.cancel(id, account, now);
        } else {
            self.book.amend(id, account, view.price, Qty(left - size), now);
        }
    }

    fn apply(&mut self, m: &Message) {
        self.stats.messages += 1;
        let now = Timestamp(m.time_ns);
        match m.kind {
            MessageKind::Submit => {
                let order =
                    NewOrder::limit(OrderId(m.order_id), ACCOUNT_FILE, m.side, Price(m.price), Qty(m.size))
                        .with_tif(TimeInForce::Gtc);
                self.place(order, now);
            }
            MessageKind::PartialCancel | MessageKind::Delete => {
                if let Some((id, account)) = self.resolve(m) {
                    self.reduce(id, account, m.size, now);
                }
            }
            MessageKind::ExecuteVisible => self.execute(m, now),
            MessageKind::ExecuteHidden => self.execute_hidden(m, now),
            MessageKind::Cross | MessageKind::Halt => {}
        }
    }

    fn execute(&mut self, m: &Message, now: Timestamp) {
        let ours_reached = |o: &zkclob_book::OrderView| {
            o.account == ACCOUNT_OURS
                && match m.side {
                    Side::Buy => o.price.0 >= m.price,
                    Side::Sell => o.price.0 <= m.price,
                }
        };
        let Some((id, account)) = self.resolve(m) else {
            // An order the replay does not hold (deeper than the window when the file began): the
            // aggressor still came, and meets our orders if they are at its price or better.
            if self.book.orders(m.side).any(|o| ours_reached(&o)) {
                self.aggress_through_ours(m, now);
            }
            return;
        };
        let ours_ahead: u64 = self
            .book
            .orders(m.side)
            .take_while(|o| o.id != id)
            .filter(|o| o.account == ACCOUNT_OURS)
            .map(|o| o.visible.0)
            .sum();
        let first_recorded = self.book.orders(m.side).find(|o| o.account != ACCOUNT_OURS).map(|o| o.id);
        if ours_ahead == 0 && first_recorded != Some(id) {
            // As in the strict replay: the recording's priority disagrees with ours; reduce the
            // named order directly.
            self.stats.priority_deviations += 1;
            self.reduce(id, account, m.size, now);
            return;
        }
        self.aggress(m, now);
    }

    /// A hidden execution (type 5): the aggressor traded with a hidden order at `m.price`. A
    /// displayed order of ours at that price or better would have been met first (displayed
    /// liquidity has priority over hidden at a price), so the aggressor is replayed against the
    /// book up to and including our last reached order; recorded displayed orders beyond ours are
    /// not touched (the recording says the hidden order took the rest).
    fn execute_hidden(&mut self, m: &Message, now: Timestamp) {
        self.aggress_through_ours(m, now);
    }

    /// The recorded aggressor, capped at the displayed quantity up to and including our last order
    /// at `m.price` or better (nothing when none of ours is there).
    fn aggress_through_ours(&mut self, m: &Message, now: Timestamp) {
        let reached = |p: i64| match m.side {
            Side::Buy => p >= m.price,
            Side::Sell => p <= m.price,
        };
        let (mut through, mut upto) = (0u64, 0u64);
        for o in self.book.orders(m.side) {
            if !reached(o.price.0) {
                break;
            }
            through += o.visible.0;
            if o.account == ACCOUNT_OURS {
                upto = through;
            }
        }
        if upto == 0 {
            return;
        }
        let taker = self.synthetic_id();
        let size = m.size.min(upto);
        let order = NewOrder::limit(taker, ACCOUNT_TAKER, m.side.opposite(), Price(m.price), Qty(size))
            .with_tif(TimeInForce::Ioc);
        self.place(order, now);
        self.stats.engine_executions += 1;
    }

    /// The recorded aggressor of an execution: m.size at m.price, through the level in price-time
    /// priority. Our orders ahead of the named one (at its price or better) fill first; what they
    /// take is not taken from the recorded orders, which keep it (the replay diverges from here).
    fn aggress(&mut self, m: &Message, now: Timestamp) {
        let taker = self.synthetic_id();
        let order = NewOrder::limit(taker, ACCOUNT_TAKER, m.side.opposite(), Price(m.price), Qty(m.size))
            .with_tif(TimeInForce::Ioc);
        self.place(order, now);
        self.stats.engine_executions += 1;
    }

    /// Levels beyond the previous row's frontier, down to this row's deepest level, are set to the
    /// row's (recorded orders only), as in the strict replay.
    fn reconcile(&mut self, row: &BookRow) {
        for (slot, side, levels, empty) in
            [(0, Side::Buy, &row.bids, EMPTY_BID_PRICE), (1, Side::Sell, &row.asks, EMPTY_ASK_PRICE)]
        {
            let shown: Vec<(i64, u64)> = levels.iter().copied().filter(|l| l.0 != empty && l.1 > 0).collect();
            let full = shown.len() == levels.len();
            if let Some(frontier) = self.frontier[slot] {
                let deepest = if full { shown.last().map(|l| l.0) } else { None };
                self.sync_beyond(side, frontier, deepest, &shown);
            }
            self.frontier[slot] = if full { shown.last().map(|l| l.0) } else { None };
        }
    }

    fn sync_beyond(&mut self, side: Side, frontier: i64, deepest: Option<i64>, shown: &[(i64, u64)]) {
        let worse = |a: i64, b: i64| side.is_better(Price(b), Price(a));
        let in_zone = |p: i64| worse(p, frontier) && deepest.is_none_or(|d| !worse(p, d));
        let mut recorded: BTreeMap<i64, u64> = BTreeMap::new();
        for o in self.book.orders(side) {
            if o.account != ACCOUNT_OURS && in_zone(o.price.0) {
                *recorded.entry(o.price.0).or_insert(0) += o.visible.0;
            }
        }
        let wanted: Vec<(i64, u64)> = shown.iter().copied().filter(|&(p, _)| in_zone(p)).collect();
        let now = self.book.now();
        for (&price, &size) in &recorded {
            if wanted.contains(&(price, size)) {
                continue;
            }
            let at_level: Vec<(OrderId, AccountId)> = self
                .book
                .orders(side)
                .filter(|o| o.price.0 == price && o.account != ACCOUNT_OURS)
                .map(|o| (o.id, o.account))
                .collect();
            for (id, account) in at_level {
                self.book.cancel(id, account, now);
            }
            self.seeds.remove(&(side, price));
        }
        for &(price, size) in &wanted {
            if recorded.get(&price) == Some(&size) {
                continue;
            }
            let id = self.synthetic_id();
            let order = NewOrder::limit(id, ACCOUNT_SEED, side, Price(price), Qty(size));
            if !self.place(order, now) {
                self.seeds.insert((side, price), id);
            }
        }
    }

    fn decide(&mut self) -> Result<(), L3Error> {
        self.last_decision_s = self.now_s;
        self.stats.decisions += 1;
        self.bids_view.clear();
        self.asks_view.clear();
        for (side, out) in [(Side::Buy, &mut self.bids_view), (Side::Sell, &mut self.asks_view)] {
            for l in self.book.depth(side, self.cfg.depth_levels) {
                out.push(BookLevel { price_ticks: l.price.0 / CENT, qty_lots: l.qty.0 });
            }
        }
        let view = MarketView {
            time_s: self.now_s,
            bids: &self.bids_view,
            asks: &self.asks_view,
            trades: &self.trades,
            inventory_lots: self.ledger.inventory,
        };
        let quotes = self.quoter.quote(&view).map_err(|e| L3Error::Quoter(e.to_string()))?;
        self.trades.clear();
        self.plan(&quotes);
        Ok(())
    }

    /// Turns desired quotes into cancels and places (only where something changed).
    fn plan(&mut self, q: &Quotes) {
        let at = self.now_s + self.cfg.entry_latency_s;
        let have = [self.bid, self.ask].map(|l| l.map(|l| (l.id, l.price / CENT, l.qty)));
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

    fn flush_pending_all(&mut self) {
        // Orders still in flight at the end never reach the book.
        self.pending.clear();
    }

    fn act(&mut self, a: Planned<OrderId>) {
        let now = Timestamp(self.t0_ns + (self.now_s * 1e9) as u64).max(self.book.now());
        self.stats.orders_sent += 1;
        match a {
            Planned::Cancel { id, .. } => {
                self.book.cancel(id, ACCOUNT_OURS, now);
                if self.bid.is_some_and(|l| l.id == id) {
                    self.bid = None;
                }
                if self.ask.is_some_and(|l| l.id == id) {
                    self.ask = None;
                }
            }
            Planned::Place { side, price_ticks, qty_lots: qty } => {
                let price = price_ticks.saturating_mul(CENT);
                self.next_ours += 1;
                let id = OrderId(self.next_ours);
                let live = Live { id, price, qty };
                // Register first, so fills on entry update it.
                if side == Side::Buy {
                    self.bid = Some(live);
                } else {
                    self.ask = Some(live);
                }
                let order = NewOrder::limit(id, ACCOUNT_OURS, side, Price(price), Qty(qty))
                    .with_tif(TimeInForce::Gtc);
                if self.place(order, now) {
                    self.stats.rejected += 1;
                }
                // Whatever did not rest (rejected, or fully filled) is not live.
                let rests = self.book.order(id).map(|v| v.visible.0 + v.reserve.0);
                let slot = if side == Side::Buy { &mut self.bid } else { &mut self.ask };
                match rests {
                    Some(q) if slot.is_some_and(|l| l.id == id) => *slot = Some(Live { id, price, qty: q }),
                    _ => {
                        if slot.is_some_and(|l| l.id == id) {
                            *slot = None;
                        }
                    }
                }
            }
        }
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            mid: self.last_mid,
            best_bid: self.book.best_bid().map(|l| l.price.0 / CENT),
            best_ask: self.book.best_ask().map(|l| l.price.0 / CENT),
            our_bid: self.bid.map(|l| l.price / CENT),
            our_ask: self.ask.map(|l| l.price / CENT),
        }
    }

    fn sample_until(&mut self, t: f64) {
        let s = self.snapshot();
        self.ledger.sample_until(t, &s);
    }
}
