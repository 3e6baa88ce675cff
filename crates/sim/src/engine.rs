//! The discrete-event simulation: one event queue ordered by (time, sequence number), every agent
//! acting on one real [`Book`], our strategy behind its latencies.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use rand::RngExt;
use rand_distr::{Distribution, Exp1};
use zkclob_book::{Book, BookLimits, Event, Fill, NewOrder, StpMode, TimeInForce};
use zkclob_core::{AccountId, MarketSpec, OrderId, Price, Qty, Side, Timestamp};
use zkclob_models::{seeded_rng, ModelRng};
use zkclob_strategy::{MarketTrade, MarketView, OrderIntent, Quoter, Quotes};

use crate::config::{SimConfig, FLOW_DIMS, MAX_ORDER_LOTS};
use crate::error::SimError;
use crate::feed::{Feed, FeedKind};
use crate::fees::FeeModel;
use crate::flow::{dim_kind, FlowKind, HawkesFlow, LevelLaw};
use crate::fundamental::Fundamental;
use crate::latency::{Latency, LatencyModel};
use crate::log::{FillRecord, RunLog, Sample};
use crate::output::{MarketSample, SimOutput, SimStats, TradeRecord};

/// Our account in the book.
pub const OUR_ACCOUNT: AccountId = AccountId(1);
/// Background traders' accounts are `BACKGROUND_ACCOUNT_BASE + order id mod BACKGROUND_ACCOUNTS`:
/// many accounts, so that background orders trade with each other instead of tripping self-trade
/// prevention (the rare same-account meeting cancels the older order, as a trader replacing it).
pub const BACKGROUND_ACCOUNT_BASE: u64 = 1_000;
/// Number of background accounts.
pub const BACKGROUND_ACCOUNTS: u64 = 1_024;
/// Our order ids start here; background ids count up from 1 and never reach it.
pub const OUR_ORDER_ID_BASE: u64 = 1 << 62;

fn is_ours(order_id: u64) -> bool {
    order_id >= OUR_ORDER_ID_BASE
}

fn background_account(order_id: u64) -> AccountId {
    AccountId(BACKGROUND_ACCOUNT_BASE + order_id % BACKGROUND_ACCOUNTS)
}

fn side_slot(side: Side) -> usize {
    usize::from(side == Side::Sell)
}

fn to_ts(t_s: f64) -> Timestamp {
    Timestamp((t_s * 1e9) as u64)
}

/// A seeded generator per component, so that, e.g., two strategies run with one seed see the same
/// background arrival times (common random numbers).
struct Rngs {
    flow: ModelRng,
    place: ModelRng,
    cancel: ModelRng,
    fundamental: ModelRng,
    informed: ModelRng,
    noise: ModelRng,
    entry: ModelRng,
    feed: ModelRng,
}

impl Rngs {
    fn new(seed: u64) -> Self {
        let stream = |i: u64| seeded_rng(seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        Self {
            flow: stream(1),
            place: stream(2),
            cancel: stream(3),
            fundamental: stream(4),
            informed: stream(5),
            noise: stream(6),
            entry: stream(7),
            feed: stream(8),
        }
    }
}

/// Point lookups of order ids; never iterated.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Resting background orders by side, for uniformly random cancels: a vector per side (the random
/// pick) and an id → (side, position) map (point lookups only).
#[derive(Default)]
struct Resting {
    ids: [Vec<u64>; 2],
    pos: HashMap<u64, (u8, u32), BuildHasherDefault<IdHasher>>,
}

impl Resting {
    fn add(&mut self, id: u64, side: Side) {
        let slot = side_slot(side);
        self.pos.insert(id, (slot as u8, self.ids[slot].len() as u32));
        self.ids[slot].push(id);
    }

    fn remove(&mut self, id: u64) {
        let Some((slot, index)) = self.pos.remove(&id) else { return };
        let ids = &mut self.ids[slot as usize];
        ids.swap_remove(index as usize);
        if let Some(&moved) = ids.get(index as usize) {
            self.pos.insert(moved, (slot, index));
        }
    }

    fn len(&self, side: Side) -> usize {
        self.ids[side_slot(side)].len()
    }

    fn pick(&self, side: Side, rng: &mut ModelRng) -> Option<u64> {
        let ids = &self.ids[side_slot(side)];
        (!ids.is_empty()).then(|| ids[rng.random_range(0..ids.len())])
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MsgKind {
    Place,
    Cancel,
    Amend,
}

/// One of our messages to the exchange.
#[derive(Debug, Clone, Copy)]
struct OrderMsg {
    kind: MsgKind,
    id: u64,
    side: Side,
    price_ticks: i64,
    qty_lots: u64,
    sent_s: f64,
}

#[derive(Debug, Clone, Copy)]
enum What {
    Flow(u32),
    Fundamental,
    Informed,
    Noise,
    Regime,
    Shock(usize),
    Sample,
    Timer,
    Decide,
    Feed,
    Arrival(OrderMsg),
}

struct Scheduled {
    time_s: f64,
    seq: u64,
    what: What,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Scheduled {}

impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Scheduled {
    /// Reversed, so that the max-heap pops the earliest (time, seq) first.
    fn cmp(&self, other: &Self) -> Ordering {
        other.time_s.total_cmp(&self.time_s).then(other.seq.cmp(&self.seq))
    }
}

/// An order of ours in the book (the truth, as the exchange sees it).
#[derive(Debug, Clone, Copy)]
struct LiveOrder {
    id: u64,
    side: Side,
    price_ticks: i64,
}

/// An order of ours as the strategy knows it (sent, not yet known to be gone).
#[derive(Debug, Clone, Copy)]
struct Working {
    id: u64,
    price_ticks: i64,
    qty_lots: u64,
}

/// What a book action placed, so that its `Done` event can register the resting rest.
#[derive(Debug, Clone, Copy)]
struct Placed {
    id: u64,
    side: Side,
    price_ticks: i64,
    ours: bool,
}

enum BookAction {
    Place(NewOrder),
    Cancel(OrderId, AccountId),
    Amend(OrderId, AccountId, Price, Qty),
}

/// Everything but the book and the quoter (so that the book's event slice and this can be
/// borrowed at once).
struct State {
    now_s: f64,
    queue: BinaryHeap<Scheduled>,
    seq: u64,
    rng: Rngs,
    flow: HawkesFlow,
    level_law: LevelLaw,
    extra_levels: u32,
    fundamental: Fundamental,
    entry_latency: Latency,
    feed_latency: Latency,
    feed: Feed,
    resting: Resting,
    next_background_id: u64,
    next_our_id: u64,
    our_live: Vec<LiveOrder>,
    inventory_lots: i64,
    cash: f64,
    fees: f64,
    working: [Option<Working>; 2],
    known_inventory_lots: i64,
    last_entry_at_s: f64,
    last_decision_s: f64,
    decide_pending: bool,
    last_mid: f64,
    scratch: Vec<Event>,
    depth_scratch: Vec<zkclob_book::DepthLevel>,
    log: RunLog,
    trades: Vec<TradeRecord>,
    market: Vec<MarketSample>,
    stats: SimStats,
    entry_delay_sum_s: f64,
    entry_count: u64,
    sample_index: u64,
}

impl State {
    fn schedule(&mut self, time_s: f64, what: What) {
        self.seq += 1;
        self.queue.push(Scheduled { time_s, seq: self.seq, what });
    }
}

/// One simulation run.
pub(crate) struct Sim<'c> {
    cfg: &'c SimConfig,
    book: Book,
    quoter: Box<dyn Quoter>,
    st: State,
}

impl<'c> Sim<'c> {
    /// Builds a run; `cfg` must be valid.
    pub(crate) fn new(cfg: &'c SimConfig, quoter: Box<dyn Quoter>, seed: u64) -> Result<Self, SimError> {
        let mut rng = Rngs::new(seed);
        let initial = cfg.market.initial_price_ticks as f64;
        let fundamental = Fundamental::new(
            &cfg.fundamental,
            initial,
            cfg.duration_s,
            cfg.informed.horizon_s,
            &cfg.stress.windows,
            &cfg.stress.shocks,
            &mut rng.fundamental,
        )?;
        let st = State {
            now_s: 0.0,
            queue: BinaryHeap::with_capacity(64),
            seq: 0,
            rng,
            flow: HawkesFlow::new(&cfg.flow)?,
            level_law: LevelLaw::new(cfg.flow.levels, cfg.flow.level_decay),
            extra_levels: 0,
            fundamental,
            entry_latency: cfg.latency.entry.build(),
            feed_latency: cfg.latency.feed.build(),
            feed: Feed::new(cfg.agent.view_levels),
            resting: Resting::default(),
            next_background_id: 1,
            next_our_id: OUR_ORDER_ID_BASE,
            our_live: Vec::with_capacity(8),
            inventory_lots: 0,
            cash: 0.0,
            fees: 0.0,
            working: [None; 2],
            known_inventory_lots: 0,
            last_entry_at_s: 0.0,
            last_decision_s: f64::NEG_INFINITY,
            decide_pending: false,
            last_mid: initial,
            scratch: Vec::with_capacity(64),
            depth_scratch: Vec::with_capacity(cfg.agent.view_levels),
            log: RunLog { sample_interval_s: cfg.sample_interval_s, ..RunLog::default() },
            trades: Vec::new(),
            market: Vec::new(),
            stats: SimStats::default(),
            entry_delay_sum_s: 0.0,
            entry_count: 0,
            sample_index: 0,
        };
        let book = Book::new(MarketSpec::example(), BookLimits::default());
        Ok(Self { cfg, book, quoter, st })
    }

    /// Runs to the end and returns the output.
    pub(crate) fn run(mut self, mut progress: Option<&mut dyn FnMut(f64)>) -> Result<SimOutput, SimError> {
        self.start()?;
        let duration = self.cfg.duration_s;
        while let Some(next) = self.st.queue.pop() {
            if next.time_s > duration {
                break;
            }
            self.st.now_s = next.time_s;
            self.dispatch(next.time_s, next.what, &mut progress)?;
        }
        self.st.now_s = duration;
        self.take_sample(duration);
        if let Some(p) = progress.as_mut() {
            p(1.0);
        }
        Ok(self.finish())
    }

    fn finish(mut self) -> SimOutput {
        let st = &mut self.st;
        st.stats.flow_events = st.flow.counts();
        st.stats.mean_entry_delay_s =
            if st.entry_count > 0 { st.entry_delay_sum_s / st.entry_count as f64 } else { 0.0 };
        st.stats.final_fundamental_ticks = st.fundamental.ticks();
        st.stats.permanent_impact_ticks =
            st.stats.final_fundamental_ticks * (1.0 - (-st.fundamental.impact_log()).exp());
        st.log.events = st.stats.book_actions + st.stats.trades;
        SimOutput {
            log: std::mem::take(&mut st.log),
            trades: std::mem::take(&mut st.trades),
            market: std::mem::take(&mut st.market),
            stats: st.stats,
        }
    }

    /// The initial book and the first occurrence of every recurring event.
    fn start(&mut self) -> Result<(), SimError> {
        for _ in 0..self.cfg.flow.initial_orders_per_side {
            self.background_limit(0.0, Side::Buy)?;
            self.background_limit(0.0, Side::Sell)?;
        }
        self.schedule_flow();
        let step = self.st.fundamental.step_s();
        self.schedule_within(step, What::Fundamental);
        let informed = self.cfg.informed.rate_per_s;
        let first = self.poisson_wait(informed, true);
        self.schedule_within(first, What::Informed);
        let first = self.poisson_wait(self.cfg.noise.rate_per_s, false);
        self.schedule_within(first, What::Noise);
        for w in &self.cfg.stress.windows {
            self.schedule_within(w.start_s, What::Regime);
            self.schedule_within(w.end_s, What::Regime);
        }
        for (i, s) in self.cfg.stress.shocks.iter().enumerate() {
            self.schedule_within(s.time_s, What::Shock(i));
        }
        self.st.schedule(0.0, What::Sample);
        let agent = &self.cfg.agent;
        self.schedule_within(agent.start_s, What::Decide);
        self.st.decide_pending = true;
        if let Some(interval) = agent.timer_interval_s {
            self.schedule_within(agent.start_s + interval, What::Timer);
        }
        Ok(())
    }

    /// Schedules `what` at `time_s` unless that is past the end (or not finite).
    fn schedule_within(&mut self, time_s: f64, what: What) {
        if time_s <= self.cfg.duration_s {
            self.st.schedule(time_s, what);
        }
    }

    /// Time of the next arrival of a Poisson stream of `rate_per_s` after now (infinite at 0).
    fn poisson_wait(&mut self, rate_per_s: f64, informed: bool) -> f64 {
        if rate_per_s <= 0.0 {
            return f64::INFINITY;
        }
        let rng = if informed { &mut self.st.rng.informed } else { &mut self.st.rng.noise };
        let wait: f64 = Exp1.sample(rng);
        self.st.now_s + wait / rate_per_s
    }

    fn schedule_flow(&mut self) {
        let t = self.st.flow.next_candidate(&mut self.st.rng.flow);
        let generation = self.st.flow.generation();
        self.schedule_within(t, What::Flow(generation));
    }

    fn dispatch(
        &mut self,
        t: f64,
        what: What,
        progress: &mut Option<&mut dyn FnMut(f64)>,
    ) -> Result<(), SimError> {
        match what {
            What::Flow(generation) if generation == self.st.flow.generation() => self.on_flow(t)?,
            What::Flow(_) => {}
            What::Fundamental => {
                self.st.fundamental.step(t, &mut self.st.rng.fundamental)?;
                let step = self.st.fundamental.step_s();
                self.schedule_within(t + step, What::Fundamental);
            }
            What::Informed => self.on_informed(t)?,
            What::Noise => self.on_noise(t)?,
            What::Regime => self.on_regime(t),
            What::Shock(i) => self.on_shock(t, i)?,
            What::Sample => self.on_sample(t, progress),
            What::Timer => {
                self.maybe_decide(t);
                if let Some(interval) = self.cfg.agent.timer_interval_s {
                    self.schedule_within(t + interval, What::Timer);
                }
            }
            What::Decide => {
                self.st.decide_pending = false;
                self.maybe_decide(t);
            }
            What::Feed => self.deliver_feed(t),
            What::Arrival(msg) => self.on_arrival(t, msg)?,
        }
        Ok(())
    }

    // ---------------------------------------------------------------- background agents

    fn on_flow(&mut self, t: f64) -> Result<(), SimError> {
        if let Some(dim) = self.st.flow.fire(t, &mut self.st.rng.flow) {
            let (kind, side) = dim_kind(dim);
            match kind {
                FlowKind::Limit => self.background_limit(t, side)?,
                FlowKind::Market => {
                    let qty = self.background_market_size(side);
                    self.market_order(t, side, qty, true)?;
                }
                FlowKind::Cancel => self.background_cancel(t, side)?,
            }
        }
        self.schedule_flow();
        Ok(())
    }

    /// A background limit order around its anchor, the fundamental blended with the mid (see
    /// [`crate::config::FlowConfig::anchor_weight`]).
    fn background_limit(&mut self, t: f64, side: Side) -> Result<(), SimError> {
        let st = &mut self.st;
        let w = self.cfg.flow.anchor_weight;
        let f = if w >= 1.0 {
            st.fundamental.ticks()
        } else {
            w * st.fundamental.ticks() + (1.0 - w) * st.last_mid
        };
        let level = i64::from(st.level_law.sample(&mut st.rng.place) + st.extra_levels);
        let price = match side {
            Side::Buy => f.ceil() as i64 - 1 - level,
            Side::Sell => f.floor() as i64 + 1 + level,
        };
        let qty = self.cfg.flow.limit_size.sample(&mut st.rng.place);
        let id = st.next_background_id;
        st.next_background_id += 1;
        let price = clamp_price(self.book.spec(), price);
        let mut order = NewOrder::limit(OrderId(id), background_account(id), side, Price(price), Qty(qty))
            .with_stp(StpMode::CancelOldest);
        if let Some(mean_life_s) = self.cfg.flow.order_lifetime_s {
            let life: f64 = Exp1.sample(&mut st.rng.place);
            let expiry = to_ts(t + life * mean_life_s).0.max(to_ts(t).0 + 1);
            order = order.with_tif(TimeInForce::Gtd(Timestamp(expiry)));
        }
        let placed = Placed { id, side, price_ticks: price, ours: false };
        self.apply(t, BookAction::Place(order), Some(placed))
    }

    /// The size of a background market order of `side`: from the size law, or a random fraction
    /// of the depth it meets ([`crate::config::FlowConfig::market_depth_fraction`]).
    fn background_market_size(&mut self, side: Side) -> u64 {
        match self.cfg.flow.market_depth_fraction {
            None => self.cfg.flow.market_size.sample(&mut self.st.rng.place),
            Some(mean) => {
                let depth_lots = self.depth_near_mid(side.opposite());
                let e: f64 = Exp1.sample(&mut self.st.rng.place);
                let fraction = mean * e;
                ((fraction * depth_lots as f64).ceil() as u64).clamp(1, MAX_ORDER_LOTS)
            }
        }
    }

    /// A market order of anyone but us, protected at the opposite touch ± the sweep limit; with
    /// `impact`, it moves the fundamental ([`crate::config::ImpactConfig`]).
    fn market_order(&mut self, t: f64, side: Side, qty: u64, impact: bool) -> Result<bool, SimError> {
        let Some(touch) = self.book.best(side.opposite()) else { return Ok(false) };
        let impact = impact && self.cfg.impact.permanent_ticks > 0.0;
        let depth_lots = if impact { self.depth_near_mid(side.opposite()) } else { 0 };
        let sweep = self.cfg.market.max_sweep_ticks;
        let limit = match side {
            Side::Buy => touch.price.0.saturating_add(sweep),
            Side::Sell => touch.price.0.saturating_sub(sweep),
        };
        let limit = clamp_price(self.book.spec(), limit);
        let id = self.st.next_background_id;
        self.st.next_background_id += 1;
        let order = NewOrder::market(OrderId(id), background_account(id), side, Price(limit), Qty(qty))
            .with_stp(StpMode::CancelOldest);
        self.apply(t, BookAction::Place(order), None)?;
        if impact {
            self.permanent_impact(side, self.taker_lots(id), depth_lots);
        }
        Ok(true)
    }

    /// Displayed lots of `side` at the prices within `impact.depth_ticks` ticks of the mid: the
    /// liquidity near the price, which a gap behind a thin touch does not count.
    fn depth_near_mid(&mut self, side: Side) -> u64 {
        let ticks = self.cfg.impact.depth_ticks;
        let mid = self.st.last_mid;
        let scratch = &mut self.st.depth_scratch;
        scratch.clear();
        // Levels are distinct prices: at most 2k + 1 of them lie within k ticks of the mid (k + 1
        // unless one side is empty and the mid is stale).
        self.book.depth_into(side, 2 * ticks as usize + 1, scratch);
        let near = |l: &&zkclob_book::DepthLevel| (l.price.0 as f64 - mid).abs() <= f64::from(ticks);
        scratch.iter().filter(near).map(|l| l.qty.0).sum()
    }

    /// Lots order `id` took as the aggressor in the last book action.
    fn taker_lots(&self, id: u64) -> u64 {
        let fills = self.st.scratch.iter().filter_map(|e| match e {
            Event::Fill(f) if f.taker_order.0 == id => Some(f.qty.0),
            _ => None,
        });
        fills.sum()
    }

    /// Moves the fundamental after an aggressive order of `side` took `taken_lots` from a side
    /// that showed `depth_lots` near the mid ([`crate::config::ImpactConfig`]).
    fn permanent_impact(&mut self, side: Side, taken_lots: u64, depth_lots: u64) {
        let ticks = self.cfg.impact.permanent_move_ticks(taken_lots, depth_lots);
        if ticks > 0.0 {
            let signed = if side == Side::Buy { ticks } else { -ticks };
            self.st.fundamental.add_impact_ticks(signed);
        }
    }

    fn background_cancel(&mut self, t: f64, side: Side) -> Result<(), SimError> {
        match self.st.resting.pick(side, &mut self.st.rng.cancel) {
            Some(id) => self.apply(t, BookAction::Cancel(OrderId(id), background_account(id)), None),
            None => {
                self.st.stats.empty_cancels += 1;
                Ok(())
            }
        }
    }

    fn on_informed(&mut self, t: f64) -> Result<(), SimError> {
        let informed = self.cfg.informed;
        let gap = self.st.fundamental.ticks_ahead() - self.st.last_mid;
        if gap.abs() > informed.threshold_ticks {
            let side = if gap > 0.0 { Side::Buy } else { Side::Sell };
            let qty = informed.size.sample(&mut self.st.rng.informed);
            if self.market_order(t, side, qty, false)? {
                self.st.stats.informed_orders += 1;
            }
        }
        let next = self.poisson_wait(informed.rate_per_s, true);
        self.schedule_within(next, What::Informed);
        Ok(())
    }

    fn on_noise(&mut self, t: f64) -> Result<(), SimError> {
        let noise = self.cfg.noise;
        let side = if self.st.rng.noise.random::<bool>() { Side::Buy } else { Side::Sell };
        let qty = noise.size.sample(&mut self.st.rng.noise);
        if self.market_order(t, side, qty, true)? {
            self.st.stats.noise_orders += 1;
        }
        let next = self.poisson_wait(noise.rate_per_s, false);
        self.schedule_within(next, What::Noise);
        Ok(())
    }

    /// Recomputes the stress multipliers from the windows active at `t`.
    fn on_regime(&mut self, t: f64) {
        let mut m = [1.0; FLOW_DIMS];
        let mut extra = 0u32;
        for w in self.cfg.stress.windows.iter().filter(|w| w.start_s <= t && t < w.end_s) {
            for (dim, factor) in m.iter_mut().enumerate() {
                *factor *= match dim_kind(dim).0 {
                    FlowKind::Limit => w.limit_multiplier,
                    FlowKind::Market => w.market_multiplier,
                    FlowKind::Cancel => w.cancel_multiplier,
                };
            }
            extra = extra.saturating_add(w.extra_levels);
        }
        // The fundamental applies the windows' σ multipliers itself, by time, since it is
        // simulated ahead of the clock.
        self.st.flow.set_multipliers(t, m);
        self.st.extra_levels = extra;
        self.schedule_flow();
    }

    /// A price shock: the fundamental jumps now, and background liquidity is withdrawn.
    fn on_shock(&mut self, t: f64, index: usize) -> Result<(), SimError> {
        self.st.fundamental.refresh_offset(t);
        let fraction = self.cfg.stress.shocks[index].withdraw_fraction;
        for side in [Side::Buy, Side::Sell] {
            let n = (fraction * self.st.resting.len(side) as f64).round() as usize;
            for _ in 0..n {
                let Some(id) = self.st.resting.pick(side, &mut self.st.rng.cancel) else { break };
                self.apply(t, BookAction::Cancel(OrderId(id), background_account(id)), None)?;
                self.st.stats.withdrawn_orders += 1;
            }
        }
        Ok(())
    }

    // ---------------------------------------------------------------- the book

    /// Applies one action to the book and absorbs its events.
    fn apply(&mut self, t: f64, action: BookAction, placed: Option<Placed>) -> Result<(), SimError> {
        let ts = to_ts(t);
        let mid_before = self.st.last_mid;
        let events = match action {
            BookAction::Place(order) => self.book.place(order, ts),
            BookAction::Cancel(id, account) => self.book.cancel(id, account, ts),
            BookAction::Amend(id, account, price, qty) => self.book.amend(id, account, price, qty, ts),
        };
        self.st.scratch.clear();
        self.st.scratch.extend_from_slice(events);
        self.st.stats.book_actions += 1;
        self.absorb(t, placed, mid_before);
        let every = self.cfg.check_invariants_every;
        if every > 0 && self.st.stats.book_actions % every == 0 {
            self.check_consistency(t)?;
        }
        Ok(())
    }

    /// The book's invariants, and our records of resting orders against the book: per side, the
    /// background registry plus our live orders are exactly the book's orders, and each of our
    /// live orders is in the book at the price we think.
    fn check_consistency(&self, t: f64) -> Result<(), SimError> {
        let events = self.st.stats.book_actions;
        self.book.check_invariants().map_err(|violation| SimError::Invariant {
            violation,
            time_s: t,
            events,
        })?;
        let broken = |what| Err(SimError::Bookkeeping { what, time_s: t });
        let resting = &self.st.resting;
        if resting.pos.len() != resting.ids[0].len() + resting.ids[1].len() {
            return broken("background registry index and lists differ");
        }
        for side in [Side::Buy, Side::Sell] {
            let ours = self.st.our_live.iter().filter(|o| o.side == side).count();
            if self.book.orders(side).count() != resting.len(side) + ours {
                return broken("resting-order count differs from the book");
            }
        }
        for o in &self.st.our_live {
            match self.book.order(OrderId(o.id)) {
                Some(v) if v.side == o.side && v.price.0 == o.price_ticks && v.account == OUR_ACCOUNT => {}
                _ => return broken("one of our live orders is not in the book as recorded"),
            }
        }
        Ok(())
    }

    /// Books the events of the last action: trades, our fills, the background registry, our live
    /// orders, and the feed (a snapshot after the action, trades and our reports).
    fn absorb(&mut self, t: f64, placed: Option<Placed>, mid_before: f64) {
        let events = std::mem::take(&mut self.st.scratch);
        if events.is_empty() {
            self.st.scratch = events;
            return;
        }
        let delay = self.st.feed_latency.next_delay_s(&mut self.st.rng.feed);
        let at = self.st.feed.stamp(t, delay);
        for event in &events {
            match *event {
                Event::Fill(fill) => self.on_trade(t, at, &fill, mid_before),
                Event::Cancelled { order_id, remaining, .. } if remaining.is_zero() => {
                    self.on_gone(at, order_id.0)
                }
                Event::Expired { order_id, .. } => self.on_gone(at, order_id.0),
                Event::Done { order_id, resting, .. } => self.on_done(at, order_id.0, resting, placed),
                Event::Rejected { order_id, .. } if is_ours(order_id.0) => {
                    self.st.stats.our_rejects += 1;
                    if self.book.order(order_id).is_none() {
                        self.on_gone(at, order_id.0);
                    }
                }
                Event::Amended { order_id, price, .. } if is_ours(order_id.0) => {
                    if let Some(o) = self.st.our_live.iter_mut().find(|o| o.id == order_id.0) {
                        o.price_ticks = price.0;
                    }
                }
                _ => {}
            }
        }
        self.st.scratch = events;
        if let (Some(b), Some(a)) = (self.book.best_bid(), self.book.best_ask()) {
            self.st.last_mid = (b.price.0 as f64 + a.price.0 as f64) / 2.0;
        }
        self.st.feed.push_book(at, &self.book);
        self.schedule_feed();
    }

    fn on_trade(&mut self, t: f64, at: f64, fill: &Fill, mid_before: f64) {
        let st = &mut self.st;
        st.stats.trades += 1;
        st.stats.volume_lots += fill.qty.0;
        let maker_ours = fill.maker_account == OUR_ACCOUNT;
        let taker_ours = fill.taker_account == OUR_ACCOUNT;
        if self.cfg.record_trades {
            st.trades.push(TradeRecord {
                time_s: t,
                price_ticks: fill.price.0,
                qty_lots: fill.qty.0,
                aggressor: fill.taker_side.into(),
                ours: maker_ours || taker_ours,
            });
        }
        let trade = MarketTrade {
            time_s: t,
            price_ticks: fill.price.0,
            qty_lots: fill.qty.0,
            aggressor: fill.taker_side,
        };
        st.feed.push(at, FeedKind::Trade(trade));
        if maker_ours {
            self.our_fill(t, at, fill.maker_order.0, fill.taker_side.opposite(), fill, true, mid_before);
        }
        if taker_ours {
            self.our_fill(t, at, fill.taker_order.0, fill.taker_side, fill, false, mid_before);
        }
        if fill.maker_remaining.is_zero() {
            self.on_gone(at, fill.maker_order.0);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn our_fill(&mut self, t: f64, at: f64, id: u64, side: Side, fill: &Fill, maker: bool, mid_before: f64) {
        let st = &mut self.st;
        let (price, qty) = (fill.price.0, fill.qty.0);
        let fee = self.cfg.fees.fee_tick_lots(price, qty, maker);
        let signed = if side == Side::Buy { qty as i64 } else { -(qty as i64) };
        st.inventory_lots += signed;
        st.cash -= signed as f64 * price as f64 + fee;
        st.fees += fee;
        st.log.fills.push(FillRecord {
            time_s: t,
            side: side.into(),
            price_ticks: price,
            qty_lots: qty,
            fee,
            maker,
            mid_before,
        });
        let report = FeedKind::Fill { order_id: id, side, price_ticks: price, qty_lots: qty, time_s: t };
        st.feed.push(at, report);
    }

    /// An order left the book (or never rested).
    fn on_gone(&mut self, at: f64, id: u64) {
        if is_ours(id) {
            self.st.our_live.retain(|o| o.id != id);
            self.st.feed.push(at, FeedKind::Gone { order_id: id });
        } else {
            self.st.resting.remove(id);
        }
    }

    fn on_done(&mut self, at: f64, id: u64, resting: Qty, placed: Option<Placed>) {
        if resting.is_zero() {
            if is_ours(id) {
                self.on_gone(at, id);
            }
            return;
        }
        let Some(p) = placed.filter(|p| p.id == id) else { return };
        if p.ours {
            if !self.st.our_live.iter().any(|o| o.id == id) {
                self.st.our_live.push(LiveOrder { id, side: p.side, price_ticks: p.price_ticks });
            }
        } else {
            self.st.resting.add(id, p.side);
        }
    }

    // ---------------------------------------------------------------- our strategy

    fn schedule_feed(&mut self) {
        if !self.st.feed.scheduled {
            if let Some(at) = self.st.feed.next_at() {
                self.st.feed.scheduled = true;
                self.st.schedule(at, What::Feed);
            }
        }
    }

    /// Delivers every feed message due now; our reports update what the strategy knows.
    fn deliver_feed(&mut self, t: f64) {
        self.st.feed.scheduled = false;
        let mut delivered = false;
        while let Some(kind) = self.st.feed.pop_due(t) {
            delivered = true;
            match kind {
                FeedKind::Fill { order_id, side, price_ticks, qty_lots, time_s } => {
                    let st = &mut self.st;
                    let signed = if side == Side::Buy { qty_lots as i64 } else { -(qty_lots as i64) };
                    st.known_inventory_lots += signed;
                    let slot = &mut st.working[side_slot(side)];
                    if let Some(w) = slot.as_mut().filter(|w| w.id == order_id) {
                        w.qty_lots = w.qty_lots.saturating_sub(qty_lots);
                        if w.qty_lots == 0 {
                            *slot = None;
                        }
                    }
                    self.quoter.on_fill(time_s, side, price_ticks, qty_lots);
                }
                FeedKind::Gone { order_id } => {
                    for slot in &mut self.st.working {
                        if slot.is_some_and(|w| w.id == order_id) {
                            *slot = None;
                        }
                    }
                }
                FeedKind::Book { .. } | FeedKind::Trade(_) => {}
            }
        }
        self.schedule_feed();
        if delivered && self.cfg.agent.decide_on_market_data {
            self.maybe_decide(t);
        }
    }

    /// Decides now, or defers to the end of the minimum decision interval.
    fn maybe_decide(&mut self, t: f64) {
        if t < self.cfg.agent.start_s {
            return;
        }
        let earliest = self.st.last_decision_s + self.cfg.agent.min_decision_interval_s;
        if t >= earliest {
            self.decide(t);
        } else if !self.st.decide_pending {
            self.st.decide_pending = true;
            self.schedule_within(earliest, What::Decide);
        }
    }

    fn decide(&mut self, t: f64) {
        let st = &mut self.st;
        st.last_decision_s = t;
        st.stats.decisions += 1;
        let trades = st.feed.trades.make_contiguous();
        let view = MarketView {
            time_s: t,
            bids: &st.feed.bids,
            asks: &st.feed.asks,
            trades,
            inventory_lots: st.known_inventory_lots,
        };
        let quotes = self.quoter.quote(&view).unwrap_or_else(|_| {
            st.stats.quote_errors += 1;
            Quotes::none("error")
        });
        st.feed.trades.clear();
        self.reconcile(t, Side::Buy, quotes.bid);
        self.reconcile(t, Side::Sell, quotes.ask);
    }

    /// Moves our working order of `side` to `desired`: nothing when price and size match, an
    /// amendment (which keeps queue priority) for a smaller size at the same price, else a cancel
    /// and a new order.
    fn reconcile(&mut self, t: f64, side: Side, desired: Option<OrderIntent>) {
        let slot = side_slot(side);
        match (self.st.working[slot], desired) {
            (None, None) => {}
            (Some(w), None) => {
                self.send(t, MsgKind::Cancel, w.id, side, w.price_ticks, w.qty_lots);
                self.st.working[slot] = None;
            }
            (Some(w), Some(d)) if w.price_ticks == d.price_ticks && w.qty_lots == d.qty_lots => {}
            (Some(w), Some(d)) if w.price_ticks == d.price_ticks && d.qty_lots < w.qty_lots => {
                self.send(t, MsgKind::Amend, w.id, side, d.price_ticks, d.qty_lots);
                self.st.working[slot] = Some(Working { qty_lots: d.qty_lots, ..w });
            }
            (current, Some(d)) => {
                if let Some(w) = current {
                    self.send(t, MsgKind::Cancel, w.id, side, w.price_ticks, w.qty_lots);
                }
                let id = self.st.next_our_id;
                self.st.next_our_id += 1;
                self.send(t, MsgKind::Place, id, side, d.price_ticks, d.qty_lots);
                self.st.working[slot] =
                    Some(Working { id, price_ticks: d.price_ticks, qty_lots: d.qty_lots });
            }
        }
    }

    fn send(&mut self, t: f64, kind: MsgKind, id: u64, side: Side, price_ticks: i64, qty_lots: u64) {
        let st = &mut self.st;
        let delay = st.entry_latency.next_delay_s(&mut st.rng.entry);
        st.last_entry_at_s = (t + delay).max(st.last_entry_at_s);
        st.log.orders_sent += 1;
        let msg = OrderMsg { kind, id, side, price_ticks, qty_lots, sent_s: t };
        let at = st.last_entry_at_s;
        self.schedule_within(at, What::Arrival(msg));
    }

    fn on_arrival(&mut self, t: f64, msg: OrderMsg) -> Result<(), SimError> {
        let st = &mut self.st;
        st.entry_delay_sum_s += t - msg.sent_s;
        st.entry_count += 1;
        st.stats.first_order_at_book_s.get_or_insert(t);
        let (id, price, qty) = (OrderId(msg.id), Price(msg.price_ticks), Qty(msg.qty_lots));
        match msg.kind {
            MsgKind::Place => self.place_ours(t, &msg),
            MsgKind::Cancel => self.apply(t, BookAction::Cancel(id, OUR_ACCOUNT), None),
            MsgKind::Amend => self.apply(t, BookAction::Amend(id, OUR_ACCOUNT, price, qty), None),
        }
    }

    /// Places one of our orders; one that crosses is a market order as far as impact goes.
    fn place_ours(&mut self, t: f64, msg: &OrderMsg) -> Result<(), SimError> {
        let (side, price_ticks) = (msg.side, msg.price_ticks);
        let order =
            NewOrder::limit(OrderId(msg.id), OUR_ACCOUNT, side, Price(price_ticks), Qty(msg.qty_lots));
        let placed = Placed { id: msg.id, side, price_ticks, ours: true };
        let crosses = self.book.best(side.opposite()).is_some_and(|l| match side {
            Side::Buy => l.price.0 <= price_ticks,
            Side::Sell => l.price.0 >= price_ticks,
        });
        let impact = crosses && self.cfg.impact.permanent_ticks > 0.0;
        let depth_lots = if impact { self.depth_near_mid(side.opposite()) } else { 0 };
        self.apply(t, BookAction::Place(order), Some(placed))?;
        if impact {
            self.permanent_impact(side, self.taker_lots(msg.id), depth_lots);
        }
        Ok(())
    }

    // ---------------------------------------------------------------- sampling

    fn on_sample(&mut self, t: f64, progress: &mut Option<&mut dyn FnMut(f64)>) {
        self.take_sample(t);
        self.st.sample_index += 1;
        let next = self.st.sample_index as f64 * self.cfg.sample_interval_s;
        if next < self.cfg.duration_s {
            self.st.schedule(next, What::Sample);
        }
        if let Some(p) = progress.as_mut() {
            p(t / self.cfg.duration_s);
        }
    }

    /// Records the strategy's and the market's state at `t`.
    fn take_sample(&mut self, t: f64) {
        let st = &mut self.st;
        let mid = st.last_mid;
        let best_bid = self.book.best_bid().map(|l| l.price.0);
        let best_ask = self.book.best_ask().map(|l| l.price.0);
        let ours = |side: Side| st.our_live.iter().filter(move |o| o.side == side).map(|o| o.price_ticks);
        let (our_bid, our_ask) = (ours(Side::Buy).max(), ours(Side::Sell).min());
        st.log.samples.push(Sample {
            time_s: t,
            mid_ticks: mid,
            best_bid,
            best_ask,
            our_bid,
            our_ask,
            inventory_lots: st.inventory_lots,
            cash: st.cash,
            fees: st.fees,
            pnl: st.cash + st.inventory_lots as f64 * mid,
        });
        let mut depth = [0u64; 2];
        for (slot, side) in [Side::Buy, Side::Sell].into_iter().enumerate() {
            st.depth_scratch.clear();
            self.book.depth_into(side, self.cfg.agent.view_levels, &mut st.depth_scratch);
            depth[slot] = st.depth_scratch.iter().map(|l| l.qty.0).sum();
        }
        st.market.push(MarketSample {
            time_s: t,
            fundamental_ticks: st.fundamental.ticks(),
            mid_ticks: mid,
            best_bid,
            best_ask,
            bid_depth_lots: depth[0],
            ask_depth_lots: depth[1],
            resting_orders: self.book.order_count() as u64,
        });
    }
}

fn clamp_price(spec: &MarketSpec, price_ticks: i64) -> i64 {
    price_ticks.clamp(spec.min_price.0, spec.max_price.0)
}
