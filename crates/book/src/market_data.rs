//! Market data derived from fills: the trade tape, OHLCV bars, VWAP and the volume profile.
//!
//! These are fed with the events a [`Book`](crate::Book) returns, so they never touch the
//! matching hot path; [`MarketData`] bundles all four. Every buffer is bounded.
//!
//! ```
//! use zkclob_book::market_data::MarketData;
//! use zkclob_book::{Book, BookLimits, NewOrder};
//! use zkclob_core::{AccountId, MarketSpec, OrderId, Price, Qty, Side, Timestamp};
//!
//! let mut book = Book::new(MarketSpec::example(), BookLimits::default());
//! let mut md = MarketData::new(1_000_000_000); // one-second bars
//! let t = Timestamp(5);
//! book.place(NewOrder::limit(OrderId(1), AccountId(1), Side::Sell, Price(100), Qty(4)), t);
//! let ev = book.place(NewOrder::limit(OrderId(2), AccountId(2), Side::Buy, Price(100), Qty(4)), t);
//! md.on_events(ev, t);
//! assert_eq!(md.vwap.vwap_floor(), Some(Price(100)));
//! assert_eq!(md.tape.len(), 1);
//! ```

use alloc::collections::{BTreeMap, VecDeque};
use zkclob_core::{OrderId, Price, Qty, Side, Timestamp};

use crate::event::{Event, Fill};

/// Default number of trades the tape keeps.
pub const TAPE_CAPACITY: usize = 100_000;
/// Default number of completed bars kept.
pub const MAX_BARS: usize = 100_000;

/// One trade on the tape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trade {
    /// When it happened (the action's time).
    pub ts: Timestamp,
    /// Trade price.
    pub price: Price,
    /// Traded quantity.
    pub qty: Qty,
    /// The aggressor's side.
    pub taker_side: Side,
    /// The resting order.
    pub maker_order: OrderId,
    /// The incoming order.
    pub taker_order: OrderId,
}

impl Trade {
    /// The trade of a fill at time `ts`.
    pub fn from_fill(fill: &Fill, ts: Timestamp) -> Trade {
        Trade {
            ts,
            price: fill.price,
            qty: fill.qty,
            taker_side: fill.taker_side,
            maker_order: fill.maker_order,
            taker_order: fill.taker_order,
        }
    }
}

/// The most recent trades, oldest first, up to a capacity.
#[derive(Clone, Debug)]
pub struct Tape {
    trades: VecDeque<Trade>,
    capacity: usize,
    total: u64,
}

impl Tape {
    /// An empty tape keeping at most `capacity` trades (at least one).
    pub fn new(capacity: usize) -> Tape {
        Tape { trades: VecDeque::new(), capacity: capacity.max(1), total: 0 }
    }

    /// Records a trade, dropping the oldest when full.
    pub fn push(&mut self, trade: Trade) {
        if self.trades.len() == self.capacity {
            self.trades.pop_front();
        }
        self.trades.push_back(trade);
        self.total += 1;
    }

    /// Trades kept, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Trade> {
        self.trades.iter()
    }

    /// Number of trades kept.
    pub fn len(&self) -> usize {
        self.trades.len()
    }

    /// Whether no trade is kept.
    pub fn is_empty(&self) -> bool {
        self.trades.is_empty()
    }

    /// Number of trades ever recorded.
    pub fn total_trades(&self) -> u64 {
        self.total
    }

    /// The latest trade.
    pub fn last(&self) -> Option<&Trade> {
        self.trades.back()
    }
}

/// One OHLCV bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bar {
    /// Start of the bar's interval (inclusive), ns.
    pub start: Timestamp,
    /// First trade price.
    pub open: Price,
    /// Highest trade price.
    pub high: Price,
    /// Lowest trade price.
    pub low: Price,
    /// Last trade price.
    pub close: Price,
    /// Traded quantity.
    pub volume: Qty,
    /// Number of trades.
    pub trades: u32,
    /// Σ price × qty, in tick-lots (divide by `volume` for the bar's VWAP).
    pub notional_tick_lots: u128,
}

/// OHLCV bars of a fixed interval, aligned to multiples of the interval. Intervals without
/// trades produce no bar.
#[derive(Clone, Debug)]
pub struct Bars {
    interval_ns: u64,
    completed: VecDeque<Bar>,
    current: Option<Bar>,
    max_bars: usize,
}

impl Bars {
    /// Bars of `interval_ns` nanoseconds (at least 1), keeping at most [`MAX_BARS`] completed.
    pub fn new(interval_ns: u64) -> Bars {
        Bars {
            interval_ns: interval_ns.max(1),
            completed: VecDeque::new(),
            current: None,
            max_bars: MAX_BARS,
        }
    }

    /// Adds a trade. Trades must come in time order; an older trade counts into the current bar.
    pub fn push(&mut self, t: &Trade) {
        let start = t.ts.0 - t.ts.0 % self.interval_ns;
        match &mut self.current {
            Some(bar) if start <= bar.start.0 => {
                bar.high = bar.high.max(t.price);
                bar.low = bar.low.min(t.price);
                bar.close = t.price;
                bar.volume = Qty(bar.volume.0.saturating_add(t.qty.0));
                bar.trades = bar.trades.saturating_add(1);
                bar.notional_tick_lots = bar.notional_tick_lots.saturating_add(notional(t.price, t.qty));
            }
            _ => {
                if let Some(done) = self.current.take() {
                    if self.completed.len() == self.max_bars {
                        self.completed.pop_front();
                    }
                    self.completed.push_back(done);
                }
                self.current = Some(Bar {
                    start: Timestamp(start),
                    open: t.price,
                    high: t.price,
                    low: t.price,
                    close: t.price,
                    volume: t.qty,
                    trades: 1,
                    notional_tick_lots: notional(t.price, t.qty),
                });
            }
        }
    }

    /// Completed bars, oldest first.
    pub fn completed(&self) -> impl DoubleEndedIterator<Item = &Bar> {
        self.completed.iter()
    }

    /// The bar still open.
    pub fn current(&self) -> Option<&Bar> {
        self.current.as_ref()
    }
}

fn notional(price: Price, qty: Qty) -> u128 {
    // Book prices are positive (the band's minimum is > 0).
    (price.0.max(0) as u128) * (qty.0 as u128)
}

/// Volume-weighted average price, exact: the running sums are kept and divided on demand.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Vwap {
    /// Σ price × qty, in tick-lots.
    pub notional_tick_lots: u128,
    /// Σ qty, in lots.
    pub volume_lots: u128,
}

impl Vwap {
    /// Adds a trade.
    pub fn push(&mut self, price: Price, qty: Qty) {
        self.notional_tick_lots = self.notional_tick_lots.saturating_add(notional(price, qty));
        self.volume_lots = self.volume_lots.saturating_add(qty.0 as u128);
    }

    /// The VWAP rounded down to a whole tick, if anything traded.
    pub fn vwap_floor(&self) -> Option<Price> {
        if self.volume_lots == 0 {
            return None;
        }
        i64::try_from(self.notional_tick_lots / self.volume_lots).ok().map(Price)
    }
}

/// Traded volume per price, ascending by price.
#[derive(Clone, Debug, Default)]
pub struct VolumeProfile {
    by_price: BTreeMap<Price, u64>,
}

impl VolumeProfile {
    /// Adds a trade.
    pub fn push(&mut self, price: Price, qty: Qty) {
        let v = self.by_price.entry(price).or_insert(0);
        *v = v.saturating_add(qty.0);
    }

    /// (price, volume in lots), ascending by price.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (Price, Qty)> + '_ {
        self.by_price.iter().map(|(p, v)| (*p, Qty(*v)))
    }

    /// The point of control: the price with the most volume (the lowest such price on a tie).
    pub fn point_of_control(&self) -> Option<Price> {
        let mut best: Option<(Price, u64)> = None;
        for (&p, &v) in &self.by_price {
            if best.is_none_or(|(_, bv)| v > bv) {
                best = Some((p, v));
            }
        }
        best.map(|(p, _)| p)
    }
}

/// Tape, bars, VWAP and volume profile fed together from book events.
#[derive(Clone, Debug)]
pub struct MarketData {
    /// Recent trades.
    pub tape: Tape,
    /// OHLCV bars.
    pub bars: Bars,
    /// Session VWAP.
    pub vwap: Vwap,
    /// Volume by price.
    pub profile: VolumeProfile,
}

impl MarketData {
    /// Market data with bars of `bar_interval_ns` and a tape of [`TAPE_CAPACITY`].
    pub fn new(bar_interval_ns: u64) -> MarketData {
        MarketData {
            tape: Tape::new(TAPE_CAPACITY),
            bars: Bars::new(bar_interval_ns),
            vwap: Vwap::default(),
            profile: VolumeProfile::default(),
        }
    }

    /// Feeds the events of one book action that happened at `ts`.
    pub fn on_events(&mut self, events: &[Event], ts: Timestamp) {
        for e in events {
            if let Event::Fill(f) = e {
                let trade = Trade::from_fill(f, ts);
                self.bars.push(&trade);
                self.vwap.push(f.price, f.qty);
                self.profile.push(f.price, f.qty);
                self.tape.push(trade);
            }
        }
    }
}
