//! hftbacktest's event rows, as CSV → [`L2Stream`].
//!
//! hftbacktest stores market data as arrays of `Event` records (usually in `.npz` files); this
//! reader takes the same eight fields as CSV text, one event per line, in hftbacktest's order:
//!
//! ```text
//! ev,exch_ts,local_ts,px,qty,order_id,ival,fval
//! ```
//!
//! `ev` (u64 flags), `exch_ts`, `local_ts`, `order_id`, `ival` are integers, `px`, `qty`, `fval`
//! decimals (`nan`, `inf` accepted). A first line starting with a letter is a header; blank lines
//! and `#` lines are ignored. Reading `.npz` directly is not supported: export the array with
//! e.g. `numpy.savetxt(f, data, delimiter=",", fmt=["%d", "%d", "%d", "%.10g", "%.10g", "%d",
//! "%d", "%.10g"])`.
//!
//! Only rows flagged [`EXCH_EVENT`] are read (the exchange's view; the replay applies its own
//! latency to our orders), and `exch_ts` must not decrease among them. Rows with the same
//! `exch_ts` form one [`L2Event`] (so a clear followed by a snapshot is one change, never an
//! empty book). The kind is `ev & 0xff`:
//! - [`DEPTH_EVENT`] and [`DEPTH_SNAPSHOT_EVENT`]: the quantity at `px` on the side named by
//!   [`BUY_EVENT`] (bids) or [`SELL_EVENT`] (asks) is now `qty` (0 removes the level);
//! - [`TRADE_EVENT`]: a trade of `qty` at `px`, the aggressor's side named by the same flags;
//! - [`DEPTH_CLEAR_EVENT`]: with a side flag, clears that side from its best price up to `px`
//!   inclusive (the whole side when `px` is not finite); without one, clears both sides.
//!
//! Any other kind (BBO, market-by-order events) is an error. Prices and quantities are converted
//! with [`HftOptions::tick_size`] and [`HftOptions::lot_size`]; the reader keeps the whole book
//! (at most [`MAX_BOOK_LEVELS`] per side) and each event shows its best
//! [`HftOptions::window_levels`] levels per side.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use zkclob_core::Side;
use zkclob_strategy::BookLevel;

use super::parse::{
    check_unit, check_window, data_lines, num, to_lots, to_units, L2ParseError, L2ParseErrorKind,
    MAX_BOOK_LEVELS,
};
use super::{L2Event, L2Stream, L2Trade};

/// hftbacktest: the market depth changed.
pub const DEPTH_EVENT: u64 = 1;
/// hftbacktest: a trade.
pub const TRADE_EVENT: u64 = 2;
/// hftbacktest: depth cleared.
pub const DEPTH_CLEAR_EVENT: u64 = 3;
/// hftbacktest: a level of a depth snapshot.
pub const DEPTH_SNAPSHOT_EVENT: u64 = 4;
/// hftbacktest: bid side (depth) or buyer-initiated (trade).
pub const BUY_EVENT: u64 = 1 << 29;
/// hftbacktest: ask side (depth) or seller-initiated (trade).
pub const SELL_EVENT: u64 = 1 << 28;
/// hftbacktest: the exchange processes this event.
pub const EXCH_EVENT: u64 = 1 << 31;
/// hftbacktest: the local (strategy) side receives this event.
pub const LOCAL_EVENT: u64 = 1 << 30;

/// How hftbacktest event CSV is read.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HftOptions {
    /// Price of one tick, in `px` units.
    pub tick_size: f64,
    /// Size of one lot, in `qty` units.
    pub lot_size: f64,
    /// Nanoseconds per `exch_ts` unit (1 for hftbacktest's usual nanosecond timestamps, 1000 for
    /// microseconds).
    pub ts_unit_ns: i64,
    /// Levels per side each event shows.
    pub window_levels: usize,
}

impl Default for HftOptions {
    fn default() -> Self {
        HftOptions { tick_size: 0.01, lot_size: 1.0, ts_unit_ns: 1, window_levels: 20 }
    }
}

/// The book the reader maintains, per side: price ticks → lots.
#[derive(Default)]
struct Depth {
    bids: BTreeMap<i64, u64>,
    asks: BTreeMap<i64, u64>,
}

impl Depth {
    fn snapshot(&self, time_ns: i64, trades: Vec<L2Trade>, window: usize) -> L2Event {
        let level = |(&price_ticks, &qty_lots): (&i64, &u64)| BookLevel { price_ticks, qty_lots };
        L2Event {
            time_ns,
            trades,
            bids: self.bids.iter().rev().take(window).map(level).collect(),
            asks: self.asks.iter().take(window).map(level).collect(),
        }
    }
}

/// One row, checked.
struct Row {
    ev: u64,
    time_ns: i64,
    px: f64,
    qty: f64,
}

/// Reads hftbacktest event rows as CSV (see the module docs) into a stream; errors carry the
/// 1-based line.
pub fn parse_hftbacktest_csv(text: &str, opts: &HftOptions) -> Result<L2Stream, L2ParseError> {
    check_unit("tick_size", opts.tick_size)?;
    check_unit("lot_size", opts.lot_size)?;
    check_window(opts.window_levels)?;
    if opts.ts_unit_ns < 1 {
        return Err(L2ParseErrorKind::InvalidOption {
            name: "ts_unit_ns",
            value: opts.ts_unit_ns as f64,
            requirement: "≥ 1",
        }
        .at(0));
    }
    let mut depth = Depth::default();
    let mut events = Vec::new();
    // The event being read: its time and trades.
    let mut pending: Option<(i64, Vec<L2Trade>)> = None;
    for (n, item) in data_lines(text).enumerate() {
        let (line, l) = item?;
        if n == 0 && l.starts_with(|c: char| c.is_ascii_alphabetic()) {
            continue;
        }
        let row = parse_row(l, opts).map_err(|k| k.at(line))?;
        if row.ev & EXCH_EVENT == 0 {
            continue;
        }
        match &pending {
            Some((t, _)) if *t > row.time_ns => return Err(L2ParseErrorKind::TimeReversal.at(line)),
            Some((t, _)) if *t == row.time_ns => {}
            _ => {
                if let Some((t, trades)) = pending.take() {
                    events.push(depth.snapshot(t, trades, opts.window_levels));
                }
                pending = Some((row.time_ns, Vec::new()));
            }
        }
        let trades = &mut pending.as_mut().expect("set just above").1;
        apply(&mut depth, trades, &row, opts).map_err(|k| k.at(line))?;
    }
    if let Some((t, trades)) = pending {
        events.push(depth.snapshot(t, trades, opts.window_levels));
    }
    Ok(L2Stream { window_levels: opts.window_levels, events })
}

fn parse_row(l: &str, opts: &HftOptions) -> Result<Row, L2ParseErrorKind> {
    let f: Vec<&str> = l.split(',').collect();
    if f.len() != 8 {
        return Err(L2ParseErrorKind::FieldCount { expected: 8, found: f.len() });
    }
    let ev: u64 = num(f[0], 0)?;
    let exch_ts: i64 = num(f[1], 1)?;
    let _local_ts: i64 = num(f[2], 2)?;
    let px: f64 = num(f[3], 3)?;
    let qty: f64 = num(f[4], 4)?;
    let _order_id: u64 = num(f[5], 5)?;
    let _ival: i64 = num(f[6], 6)?;
    let _fval: f64 = num(f[7], 7)?;
    let time_ns = exch_ts.checked_mul(opts.ts_unit_ns).ok_or(L2ParseErrorKind::BadNumber { field: 1 })?;
    Ok(Row { ev, time_ns, px, qty })
}

/// The side the flags name, if exactly one.
fn side_of(ev: u64) -> Option<Side> {
    match (ev & BUY_EVENT != 0, ev & SELL_EVENT != 0) {
        (true, false) => Some(Side::Buy),
        (false, true) => Some(Side::Sell),
        _ => None,
    }
}

fn apply(
    depth: &mut Depth,
    trades: &mut Vec<L2Trade>,
    row: &Row,
    opts: &HftOptions,
) -> Result<(), L2ParseErrorKind> {
    let kind = row.ev & 0xff;
    let side = side_of(row.ev);
    match kind {
        DEPTH_EVENT | DEPTH_SNAPSHOT_EVENT => {
            let side = side.ok_or(L2ParseErrorKind::BadSideFlags(row.ev))?;
            let price_ticks = to_units(row.px, opts.tick_size, 3)?;
            let qty_lots = to_lots(row.qty, opts.lot_size, 4)?;
            let book = if side == Side::Buy { &mut depth.bids } else { &mut depth.asks };
            if qty_lots == 0 {
                book.remove(&price_ticks);
            } else {
                if book.len() >= MAX_BOOK_LEVELS && !book.contains_key(&price_ticks) {
                    return Err(L2ParseErrorKind::TooManyLevels { max: MAX_BOOK_LEVELS });
                }
                book.insert(price_ticks, qty_lots);
            }
        }
        TRADE_EVENT => {
            let aggressor = side.ok_or(L2ParseErrorKind::BadSideFlags(row.ev))?;
            let price_ticks = to_units(row.px, opts.tick_size, 3)?;
            let qty_lots = to_lots(row.qty, opts.lot_size, 4)?;
            if qty_lots == 0 {
                return Err(L2ParseErrorKind::NonPositiveQty { field: 4 });
            }
            trades.push(L2Trade { price_ticks, qty_lots, aggressor });
        }
        DEPTH_CLEAR_EVENT => clear(depth, side, row.px, opts.tick_size),
        other => return Err(L2ParseErrorKind::UnsupportedEvent(other)),
    }
    Ok(())
}

/// hftbacktest's `clear_depth`: a side from its best price up to `px` (rounded to a tick), or all
/// of it.
fn clear(depth: &mut Depth, side: Option<Side>, px: f64, tick_size: f64) {
    let upto = px.is_finite().then(|| (px / tick_size).round()).filter(|t| t.abs() < 9e18).map(|t| t as i64);
    match (side, upto) {
        (Some(Side::Buy), Some(upto)) => depth.bids.retain(|&p, _| p < upto),
        (Some(Side::Sell), Some(upto)) => depth.asks.retain(|&p, _| p > upto),
        (Some(Side::Buy), None) => depth.bids.clear(),
        (Some(Side::Sell), None) => depth.asks.clear(),
        (None, _) => {
            depth.bids.clear();
            depth.asks.clear();
        }
    }
}
