//! LOBSTER message and order-book files: a reader and a replayer that rebuilds the book with this
//! crate's engine and compares it with the recorded book after every message.
//!
//! LOBSTER (lobsterdata.com) publishes Nasdaq ITCH-derived data as two CSV files:
//! - *message*: `time,type,order_id,size,price,direction` — time in seconds after midnight with
//!   up to nine decimals, price in USD × 10,000, direction 1 (buy) or −1 (sell);
//! - *orderbook*: per message, `N` levels of `ask price, ask size, bid price, bid size`, with dummy
//!   prices (−9,999,999,999 bids, 9,999,999,999 asks) and size 0 for empty levels.
//!
//! ## What the message file cannot say, and how the replay treats it
//! A `message_N` file holds only the messages that change the top `N` levels: what happens
//! deeper is not in it. Two kinds of liquidity are therefore invisible to the messages, and the
//! replayer takes them from the recorded book, and only them:
//!
//! 1. **Orders that predate the file.** The first orderbook row is the book *after* the first
//!    message. The replayer undoes that message's effect to get the book before it and seeds each
//!    level with one synthetic order holding the level's whole size, placed before any message so
//!    it sits at the front of its level — as every pre-existing order really does, being older
//!    than anything in the file. A cancel or execution naming an id never seen is applied to the
//!    synthetic order at its price; one at a price without a synthetic order (a pre-existing order
//!    deeper than the window) changes nothing and is counted ([`ReplayStats::untracked_refs`]).
//! 2. **Levels that enter the window from below.** Let the *frontier* be the `N`th price of the
//!    previous row, when that row had `N` levels on the side. Everything strictly beyond the
//!    frontier was unobservable before this message, so messages cannot have kept it current
//!    (in the AAPL sample a 1,160-share ask at 587.65 is cancelled while it sits at level 11,
//!    with no message). Before comparing a row, the replayer makes its levels beyond the previous
//!    frontier, down to the row's last level, equal to the row: a level it already holds with the
//!    right size is kept as is ([`ReplayStats::revealed_levels`]); otherwise its orders are
//!    replaced by one synthetic order ([`ReplayStats::reconciled_levels`]).
//!
//! Everything at or inside the frontier is compared strictly, level by level, and can only have
//! changed through messages applied by the engine.
//!
//! Executions (type 4) are replayed through the matching engine: an IOC order from a separate
//! taker account at the execution price, which price-time priority must route to the very order
//! LOBSTER names. If the named order is not at the front of the best level, the replayer counts a
//! priority deviation ([`ReplayStats::priority_deviations`]) and reduces the named order directly.
//! Hidden executions (5), cross trades (6) and halts (7) do not change the visible book.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use thiserror::Error;
use zkclob_core::{AccountId, AssetId, MarketId, MarketSpec, OrderId, Price, Qty, Side, Timestamp};

use crate::event::{Event, RejectReason};
use crate::{Book, BookLimits, NewOrder, TimeInForce};

/// Price units (USD × 10,000) in one cent, Nasdaq's tick for stocks above $1.
pub const CENT: i64 = 100;
/// The dummy price of an empty ask level.
pub const EMPTY_ASK_PRICE: i64 = 9_999_999_999;
/// The dummy price of an empty bid level.
pub const EMPTY_BID_PRICE: i64 = -9_999_999_999;
/// Longest accepted line, in bytes.
pub const MAX_LINE_LEN: usize = 4096;
/// Most levels an orderbook file may have.
pub const MAX_LEVELS: usize = 200;

/// Account of the orders submitted in the message file.
pub const ACCOUNT_FILE: AccountId = AccountId(1);
/// Account of the synthetic orders standing for pre-existing liquidity.
pub const ACCOUNT_SEED: AccountId = AccountId(2);
/// Account of the IOC orders that replay executions.
pub const ACCOUNT_TAKER: AccountId = AccountId(3);
/// Ids of synthetic and taker orders start here, far above Nasdaq's order reference numbers.
pub const SYNTHETIC_ID_BASE: u64 = 1 << 62;

/// A LOBSTER message type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageKind {
    /// 1: a new limit order.
    Submit,
    /// 2: a partial cancellation.
    PartialCancel,
    /// 3: a full deletion.
    Delete,
    /// 4: an execution of a visible order.
    ExecuteVisible,
    /// 5: an execution of a hidden order.
    ExecuteHidden,
    /// 6: a cross trade (auction).
    Cross,
    /// 7: a trading halt indicator.
    Halt,
}

/// One message-file row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Message {
    /// Nanoseconds after midnight.
    pub time_ns: u64,
    /// What happened.
    pub kind: MessageKind,
    /// Nasdaq's order reference number.
    pub order_id: u64,
    /// Shares.
    pub size: u64,
    /// USD × 10,000.
    pub price: i64,
    /// The order's side (for executions: the resting order's side).
    pub side: Side,
}

/// One level of one side of an orderbook row: (price in USD × 10,000, size in shares).
pub type RowLevel = (i64, u64);

/// One orderbook-file row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BookRow {
    /// Ask levels, best first, dummies included.
    pub asks: Vec<RowLevel>,
    /// Bid levels, best first, dummies included.
    pub bids: Vec<RowLevel>,
}

/// Why a line could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum ParseError {
    /// The line is longer than [`MAX_LINE_LEN`].
    #[error("line longer than {MAX_LINE_LEN} bytes")]
    LineTooLong,
    /// Wrong number of comma-separated fields.
    #[error("expected {expected} fields, found {found}")]
    FieldCount {
        /// Fields expected.
        expected: usize,
        /// Fields found.
        found: usize,
    },
    /// A field is not a number of the expected form.
    #[error("field {field} is not a valid number")]
    BadNumber {
        /// 0-based field index.
        field: usize,
    },
    /// Message type outside 1..=7.
    #[error("unknown message type {0}")]
    BadType(i64),
    /// Direction other than 1 or −1.
    #[error("direction must be 1 or -1, found {0}")]
    BadDirection(i64),
    /// The orderbook file's level count is 0, above [`MAX_LEVELS`], or not 4 columns per level.
    #[error("orderbook rows must have 4 columns per level, 1..={MAX_LEVELS} levels")]
    BadLevels,
}

fn parse_int(s: &str, field: usize) -> Result<i64, ParseError> {
    s.trim().parse::<i64>().map_err(|_| ParseError::BadNumber { field })
}

/// Parses `seconds[.fraction]` into nanoseconds without floats (fraction up to 9 digits).
fn parse_time_ns(s: &str) -> Result<u64, ParseError> {
    let bad = ParseError::BadNumber { field: 0 };
    let s = s.trim();
    let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
    if secs.is_empty() || frac.len() > 9 || !secs.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad);
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad);
    }
    let secs: u64 = secs.parse().map_err(|_| bad)?;
    let mut frac_ns: u64 = 0;
    for (i, b) in frac.bytes().enumerate() {
        frac_ns += (b - b'0') as u64 * 10u64.pow(8 - i as u32);
    }
    secs.checked_mul(1_000_000_000).and_then(|n| n.checked_add(frac_ns)).ok_or(bad)
}

/// Parses one message-file line.
pub fn parse_message(line: &str) -> Result<Message, ParseError> {
    if line.len() > MAX_LINE_LEN {
        return Err(ParseError::LineTooLong);
    }
    let fields: Vec<&str> = line.trim_end().split(',').collect();
    if fields.len() != 6 {
        return Err(ParseError::FieldCount { expected: 6, found: fields.len() });
    }
    let time_ns = parse_time_ns(fields[0])?;
    let kind = match parse_int(fields[1], 1)? {
        1 => MessageKind::Submit,
        2 => MessageKind::PartialCancel,
        3 => MessageKind::Delete,
        4 => MessageKind::ExecuteVisible,
        5 => MessageKind::ExecuteHidden,
        6 => MessageKind::Cross,
        7 => MessageKind::Halt,
        t => return Err(ParseError::BadType(t)),
    };
    let order_id = u64::try_from(parse_int(fields[2], 2)?).map_err(|_| ParseError::BadNumber { field: 2 })?;
    let size = u64::try_from(parse_int(fields[3], 3)?).map_err(|_| ParseError::BadNumber { field: 3 })?;
    let price = parse_int(fields[4], 4)?;
    let side = match parse_int(fields[5], 5)? {
        1 => Side::Buy,
        -1 => Side::Sell,
        d => return Err(ParseError::BadDirection(d)),
    };
    Ok(Message { time_ns, kind, order_id, size, price, side })
}

/// Parses one orderbook-file line; the number of levels is the column count / 4.
pub fn parse_book_row(line: &str) -> Result<BookRow, ParseError> {
    if line.len() > MAX_LINE_LEN {
        return Err(ParseError::LineTooLong);
    }
    let fields: Vec<&str> = line.trim_end().split(',').collect();
    if fields.len() % 4 != 0 || fields.is_empty() || fields.len() / 4 > MAX_LEVELS {
        return Err(ParseError::BadLevels);
    }
    let levels = fields.len() / 4;
    let mut row = BookRow { asks: Vec::with_capacity(levels), bids: Vec::with_capacity(levels) };
    for l in 0..levels {
        let f = |i: usize| parse_int(fields[4 * l + i], 4 * l + i);
        let size = |i: usize| {
            f(i).and_then(|v| u64::try_from(v).map_err(|_| ParseError::BadNumber { field: 4 * l + i }))
        };
        row.asks.push((f(0)?, size(1)?));
        row.bids.push((f(2)?, size(3)?));
    }
    Ok(row)
}

/// The market spec used for replaying LOBSTER equity data: the price grid is USD × 10,000 and
/// the tick one cent ([`CENT`]); a lot is one share.
pub fn equity_spec() -> MarketSpec {
    MarketSpec {
        market_id: MarketId(0),
        base_asset: AssetId(1),
        quote_asset: AssetId(2),
        tick_size: CENT,
        lot_size: 1,
        min_qty: Qty(1),
        max_qty: Qty(1_000_000_000),
        min_price: Price(CENT),
        max_price: Price(9_999_999_900),
        base_atoms_per_lot: 1,
        quote_atoms_per_tick_lot: 1,
    }
}

/// Why the replay could not go on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum ReplayError {
    /// The book refused an action the file implies.
    #[error("message {message}: the book rejected order {order_id}: {reason:?}")]
    Rejected {
        /// 0-based message index.
        message: usize,
        /// The order.
        order_id: u64,
        /// The book's reason.
        reason: RejectReason,
    },
    /// An execution did not fill the size the file says.
    #[error("message {message}: execution of order {order_id} filled {filled} of {size}")]
    ShortExecution {
        /// 0-based message index.
        message: usize,
        /// The order.
        order_id: u64,
        /// Filled by the engine.
        filled: u64,
        /// Size in the file.
        size: u64,
    },
    /// A cancel or execution larger than what the order has left.
    #[error("message {message}: order {order_id} has only {left} shares, message says {size}")]
    Oversized {
        /// 0-based message index.
        message: usize,
        /// The order.
        order_id: u64,
        /// Shares the order has.
        left: u64,
        /// Shares in the message.
        size: u64,
    },
}

/// Where the rebuilt book differs from a recorded row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// The side that differs.
    pub side: Side,
    /// 0-based level.
    pub level: usize,
    /// (price, size) in the file.
    pub expected: RowLevel,
    /// (price, size) in the rebuilt book.
    pub actual: RowLevel,
}

/// Counters of a replay.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReplayStats {
    /// Messages applied.
    pub messages: usize,
    /// Executions routed through the matching engine to the order the file names.
    pub engine_executions: usize,
    /// Executions where the named order was not first in priority (applied directly).
    pub priority_deviations: usize,
    /// References to pre-existing orders deeper than the visible levels (no effect).
    pub untracked_refs: usize,
    /// Synthetic orders seeded from the first row.
    pub seeded_levels: usize,
    /// Levels that entered the window from below and already matched the row.
    pub revealed_levels: usize,
    /// Levels beyond the previous frontier that had to be set from the row.
    pub reconciled_levels: usize,
}

/// The live order a cancel or execution message refers to, with its account: the order it names
/// (from the file), or else the synthetic order seeded at its side and price (pre-existing
/// liquidity); `None` when neither is in `book` (an order deeper than the window).
pub fn resolve_order(
    book: &Book,
    seeds: &BTreeMap<(Side, i64), OrderId>,
    m: &Message,
) -> Option<(OrderId, AccountId)> {
    if book.order(OrderId(m.order_id)).is_some() {
        return Some((OrderId(m.order_id), ACCOUNT_FILE));
    }
    match seeds.get(&(m.side, m.price)) {
        Some(&id) if book.order(id).is_some() => Some((id, ACCOUNT_SEED)),
        _ => None,
    }
}

/// The book before the first message, by price level: the first orderbook row (the book *after*
/// the first message) with that message's effect undone. These levels predate the file; a replay
/// seeds each as one order at the front of its level (see the module docs).
pub fn preexisting_levels(first: &Message, first_row: &BookRow) -> BTreeMap<(Side, i64), u64> {
    let mut levels: BTreeMap<(Side, i64), u64> = BTreeMap::new();
    for &(p, s) in &first_row.asks {
        if p != EMPTY_ASK_PRICE && s > 0 {
            levels.insert((Side::Sell, p), s);
        }
    }
    for &(p, s) in &first_row.bids {
        if p != EMPTY_BID_PRICE && s > 0 {
            levels.insert((Side::Buy, p), s);
        }
    }
    let key = (first.side, first.price);
    match first.kind {
        MessageKind::Submit => {
            let s = levels.get(&key).copied().unwrap_or(0).saturating_sub(first.size);
            if s == 0 {
                levels.remove(&key);
            } else {
                levels.insert(key, s);
            }
        }
        MessageKind::PartialCancel | MessageKind::Delete | MessageKind::ExecuteVisible => {
            *levels.entry(key).or_insert(0) += first.size;
        }
        _ => {}
    }
    levels
}

/// Rebuilds a book from LOBSTER messages with this crate's engine.
#[derive(Debug)]
pub struct Replayer {
    book: Book,
    /// Synthetic orders by (side, price).
    seeds: BTreeMap<(Side, i64), OrderId>,
    next_synthetic: u64,
    stats: ReplayStats,
    /// Per side (bids, asks): the last level's price of the previous row, when that row was full.
    frontier: [Option<i64>; 2],
}

impl Replayer {
    /// Seeds a book from the first row with the first message's effect undone.
    pub fn new(first: &Message, first_row: &BookRow) -> Result<Replayer, ReplayError> {
        let levels = preexisting_levels(first, first_row);
        let mut r = Replayer {
            book: Book::new(equity_spec(), BookLimits::default()),
            seeds: BTreeMap::new(),
            next_synthetic: SYNTHETIC_ID_BASE,
            stats: ReplayStats::default(),
            frontier: [None, None],
        };
        let now = Timestamp(first.time_ns);
        for (&(side, price), &size) in &levels {
            let id = r.synthetic_id();
            let order = NewOrder::limit(id, ACCOUNT_SEED, side, Price(price), Qty(size));
            r.place_checked(order, now, 0)?;
            r.seeds.insert((side, price), id);
            r.stats.seeded_levels += 1;
        }
        Ok(r)
    }

    fn synthetic_id(&mut self) -> OrderId {
        self.next_synthetic += 1;
        OrderId(self.next_synthetic)
    }

    fn place_checked(&mut self, order: NewOrder, now: Timestamp, message: usize) -> Result<u64, ReplayError> {
        let events = self.book.place(order, now);
        let mut filled = 0;
        for e in events {
            match e {
                Event::Rejected { reason, .. } => {
                    return Err(ReplayError::Rejected { message, order_id: order.id.0, reason: *reason })
                }
                Event::Fill(f) => filled += f.qty.0,
                _ => {}
            }
        }
        Ok(filled)
    }

    /// The rebuilt book.
    pub fn book(&self) -> &Book {
        &self.book
    }

    /// Counters so far.
    pub fn stats(&self) -> ReplayStats {
        self.stats
    }

    /// Applies message number `index` (0-based, for error reports).
    pub fn apply(&mut self, index: usize, m: &Message) -> Result<(), ReplayError> {
        self.stats.messages += 1;
        let now = Timestamp(m.time_ns);
        match m.kind {
            MessageKind::Submit => {
                let order =
                    NewOrder::limit(OrderId(m.order_id), ACCOUNT_FILE, m.side, Price(m.price), Qty(m.size))
                        .with_tif(TimeInForce::Gtc);
                self.place_checked(order, now, index)?;
            }
            MessageKind::PartialCancel | MessageKind::Delete => {
                if let Some((id, account)) = self.resolve(m) {
                    self.reduce(index, id, account, m.size, now)?;
                }
            }
            MessageKind::ExecuteVisible => self.execute(index, m, now)?,
            MessageKind::ExecuteHidden | MessageKind::Cross | MessageKind::Halt => {}
        }
        Ok(())
    }

    /// The live order a message refers to: the named one, or the synthetic at its price.
    fn resolve(&mut self, m: &Message) -> Option<(OrderId, AccountId)> {
        let found = resolve_order(&self.book, &self.seeds, m);
        if found.is_none() {
            self.stats.untracked_refs += 1;
        }
        found
    }

    fn reduce(
        &mut self,
        index: usize,
        id: OrderId,
        account: AccountId,
        size: u64,
        now: Timestamp,
    ) -> Result<(), ReplayError> {
        let Some(view) = self.book.order(id) else { return Ok(()) };
        let left = view.visible.0 + view.reserve.0;
        let events = if size >= left {
            if size > left {
                return Err(ReplayError::Oversized { message: index, order_id: id.0, left, size });
            }
            self.book.cancel(id, account, now)
        } else {
            self.book.amend(id, account, view.price, Qty(left - size), now)
        };
        if let Some(Event::Rejected { reason, .. }) =
            events.iter().find(|e| matches!(e, Event::Rejected { .. }))
        {
            return Err(ReplayError::Rejected { message: index, order_id: id.0, reason: *reason });
        }
        Ok(())
    }

    fn execute(&mut self, index: usize, m: &Message, now: Timestamp) -> Result<(), ReplayError> {
        let Some((id, account)) = self.resolve(m) else { return Ok(()) };
        let front = self.book.orders(m.side).next();
        if front.is_none_or(|o| o.id != id) {
            self.stats.priority_deviations += 1;
            return self.reduce(index, id, account, m.size, now);
        }
        let taker_id = self.synthetic_id();
        let order = NewOrder::limit(taker_id, ACCOUNT_TAKER, m.side.opposite(), Price(m.price), Qty(m.size))
            .with_tif(TimeInForce::Ioc);
        let filled = self.place_checked(order, now, index)?;
        if filled != m.size {
            return Err(ReplayError::ShortExecution { message: index, order_id: id.0, filled, size: m.size });
        }
        self.stats.engine_executions += 1;
        Ok(())
    }

    /// Brings the levels beyond the previous row's frontier, down to this row's last level, in
    /// line with the row (see the module docs), then records this row's frontier.
    pub fn reconcile(&mut self, row: &BookRow) {
        for (side, levels, empty) in
            [(Side::Buy, &row.bids, EMPTY_BID_PRICE), (Side::Sell, &row.asks, EMPTY_ASK_PRICE)]
        {
            let slot = side_index(side);
            let shown: Vec<RowLevel> = levels.iter().copied().filter(|l| l.0 != empty && l.1 > 0).collect();
            if let Some(frontier) = self.frontier[slot] {
                let deepest = if shown.len() == levels.len() { shown.last().map(|l| l.0) } else { None };
                self.sync_beyond(side, frontier, deepest, &shown);
            }
            self.frontier[slot] = if shown.len() == levels.len() { shown.last().map(|l| l.0) } else { None };
        }
    }

    /// Sets the levels strictly worse than `frontier` and not worse than `deepest` (all of them
    /// when `deepest` is `None`) to the row's.
    fn sync_beyond(&mut self, side: Side, frontier: i64, deepest: Option<i64>, shown: &[RowLevel]) {
        let worse = |a: i64, b: i64| side.is_better(Price(b), Price(a));
        let in_zone = |p: i64| worse(p, frontier) && deepest.is_none_or(|d| !worse(p, d));
        let ours: Vec<(i64, u64)> = self
            .book
            .depth(side, usize::MAX)
            .iter()
            .map(|d| (d.price.0, d.qty.0))
            .filter(|&(p, _)| in_zone(p))
            .collect();
        let wanted: Vec<RowLevel> = shown.iter().copied().filter(|&(p, _)| in_zone(p)).collect();
        let now = self.book.now();
        for &(price, size) in &ours {
            if wanted.contains(&(price, size)) {
                self.stats.revealed_levels += 1;
                continue;
            }
            self.clear_level(side, price, now);
        }
        for &(price, size) in &wanted {
            if ours.contains(&(price, size)) {
                continue;
            }
            let id = self.synthetic_id();
            // The level was just cleared or never existed, and the row is a real, uncrossed book.
            if self
                .place_checked(NewOrder::limit(id, ACCOUNT_SEED, side, Price(price), Qty(size)), now, 0)
                .is_ok()
            {
                self.seeds.insert((side, price), id);
                self.stats.reconciled_levels += 1;
            }
        }
    }

    fn clear_level(&mut self, side: Side, price: i64, now: Timestamp) {
        let at_level: Vec<(OrderId, AccountId)> =
            self.book.orders(side).filter(|o| o.price.0 == price).map(|o| (o.id, o.account)).collect();
        for (id, account) in at_level {
            self.book.cancel(id, account, now);
        }
        self.seeds.remove(&(side, price));
    }

    /// Compares the book's top levels with a recorded row.
    pub fn compare(&self, row: &BookRow) -> Result<(), Mismatch> {
        for (side, expected, empty) in
            [(Side::Sell, &row.asks, EMPTY_ASK_PRICE), (Side::Buy, &row.bids, EMPTY_BID_PRICE)]
        {
            let actual = self.book.depth(side, expected.len());
            for (level, &exp) in expected.iter().enumerate() {
                let act = actual.get(level).map_or((empty, 0), |d| (d.price.0, d.qty.0));
                if act != exp {
                    return Err(Mismatch { side, level, expected: exp, actual: act });
                }
            }
        }
        Ok(())
    }
}

fn side_index(side: Side) -> usize {
    match side {
        Side::Buy => 0,
        Side::Sell => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_line_parses_with_integer_time() {
        let m = parse_message("34200.004241176,1,16113575,18,5853300,1").unwrap();
        assert_eq!(m.time_ns, 34_200_004_241_176);
        assert_eq!(m.kind, MessageKind::Submit);
        assert_eq!((m.order_id, m.size, m.price, m.side), (16113575, 18, 5853300, Side::Buy));
        assert_eq!(parse_message("34200.5,3,1,1,100,-1").unwrap().time_ns, 34_200_500_000_000);
    }

    #[test]
    fn malformed_message_lines_are_typed_errors() {
        assert_eq!(parse_message("1,2,3"), Err(ParseError::FieldCount { expected: 6, found: 3 }));
        assert_eq!(parse_message("1.0,9,1,1,100,1"), Err(ParseError::BadType(9)));
        assert_eq!(parse_message("1.0,1,1,1,100,0"), Err(ParseError::BadDirection(0)));
        assert_eq!(parse_message("x,1,1,1,100,1"), Err(ParseError::BadNumber { field: 0 }));
        assert_eq!(parse_message("1.0123456789,1,1,1,100,1"), Err(ParseError::BadNumber { field: 0 }));
        assert_eq!(parse_message("1.0,1,-5,1,100,1"), Err(ParseError::BadNumber { field: 2 }));
        let long = "1".repeat(MAX_LINE_LEN + 1);
        assert_eq!(parse_message(&long), Err(ParseError::LineTooLong));
    }

    #[test]
    fn book_rows_need_four_columns_per_level() {
        assert_eq!(parse_book_row("1,2,3"), Err(ParseError::BadLevels));
        let row = parse_book_row("5859400,200,5853300,18").unwrap();
        assert_eq!(row.asks, [(5859400, 200)]);
        assert_eq!(row.bids, [(5853300, 18)]);
        assert_eq!(parse_book_row("1,-2,3,4"), Err(ParseError::BadNumber { field: 1 }));
    }
}
