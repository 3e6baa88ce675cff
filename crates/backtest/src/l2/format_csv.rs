//! The module's own L2 CSV format → [`L2Stream`].
//!
//! One row per line, five comma-separated fields, no quoting; blank lines and lines starting with
//! `#` are ignored, and so is a first row starting with `time_s` (a header):
//!
//! ```text
//! time_s,kind,level,price,qty          depth row: kind = bid | ask
//! time_s,trade,price,qty,aggressor     trade row: aggressor = buy | sell
//! ```
//!
//! - `time_s`: seconds, a decimal with up to nine fractional digits (read exactly, as
//!   nanoseconds), never decreasing from row to row. All rows with the same time form **one
//!   event**: its trades happened first, its depth rows are the book after them.
//! - Depth rows are **snapshots of a side**: the rows of a side in an event list its levels
//!   1, 2, 3, … best first (prices strictly worsening, quantities positive) and replace the whole
//!   side. A side with no rows in an event keeps its previous levels; a single row with level `0`
//!   (price and quantity `0`) says the side is empty. At most `window_levels` levels.
//! - `price` and `qty` are decimals in the instrument's units, converted with
//!   [`CsvOptions::tick_size`] and [`CsvOptions::lot_size`]; each must be a whole number of ticks
//!   (lots).
//! - Kind and aggressor are case-insensitive; `b` and `s` also name the aggressor.
//!
//! ```text
//! time_s,kind,level,price,qty
//! 34200.5,bid,1,585.33,18
//! 34200.5,bid,2,585.30,150
//! 34200.5,ask,1,585.94,200
//! 34200.7,trade,585.33,18,sell
//! 34200.7,bid,1,585.30,150
//! ```

use serde::{Deserialize, Serialize};
use zkclob_core::Side;
use zkclob_strategy::BookLevel;

use super::parse::{
    check_unit, check_window, data_lines, num, parse_time_ns, to_lots, to_units, L2ParseError,
    L2ParseErrorKind, MAX_WINDOW_LEVELS,
};
use super::{strictly_worse, L2Event, L2Stream, L2Trade};

/// How the CSV format is read.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CsvOptions {
    /// Price of one tick, in the file's price unit.
    pub tick_size: f64,
    /// Size of one lot, in the file's quantity unit.
    pub lot_size: f64,
    /// Most levels a side's snapshot may list; a side listing exactly this many may hide deeper
    /// levels (see [`L2Stream::window_levels`]). Default: [`MAX_WINDOW_LEVELS`] (complete books).
    pub window_levels: usize,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions { tick_size: 0.01, lot_size: 1.0, window_levels: MAX_WINDOW_LEVELS }
    }
}

/// The event being read: its time, trades, and the sides it replaces.
struct Pending {
    time_ns: i64,
    trades: Vec<L2Trade>,
    /// Per side (bids, asks): the snapshot, if the event has rows for it, and whether it was
    /// closed by a level-0 row.
    sides: [Option<(Vec<BookLevel>, bool)>; 2],
}

impl Pending {
    fn new(time_ns: i64) -> Self {
        Pending { time_ns, trades: Vec::new(), sides: [None, None] }
    }

    fn finish(self, events: &mut Vec<L2Event>) {
        let prev = events.last();
        let [bids, asks] = self.sides;
        let bids = bids.map(|s| s.0).unwrap_or_else(|| prev.map_or_else(Vec::new, |e| e.bids.clone()));
        let asks = asks.map(|s| s.0).unwrap_or_else(|| prev.map_or_else(Vec::new, |e| e.asks.clone()));
        events.push(L2Event { time_ns: self.time_ns, trades: self.trades, bids, asks });
    }
}

/// Reads the CSV format (see the module docs) into a stream; errors carry the 1-based line.
pub fn parse_l2_csv(text: &str, opts: &CsvOptions) -> Result<L2Stream, L2ParseError> {
    check_unit("tick_size", opts.tick_size)?;
    check_unit("lot_size", opts.lot_size)?;
    check_window(opts.window_levels)?;
    let mut events = Vec::new();
    let mut pending: Option<Pending> = None;
    for (n, item) in data_lines(text).enumerate() {
        let (line, l) = item?;
        if n == 0 && l.starts_with("time_s") {
            continue;
        }
        let fields: Vec<&str> = l.split(',').map(str::trim).collect();
        if fields.len() != 5 {
            return Err(L2ParseErrorKind::FieldCount { expected: 5, found: fields.len() }.at(line));
        }
        let time_ns = parse_time_ns(fields[0], 0).map_err(|k| k.at(line))?;
        match &pending {
            Some(p) if p.time_ns > time_ns => return Err(L2ParseErrorKind::TimeReversal.at(line)),
            Some(p) if p.time_ns == time_ns => {}
            _ => {
                if let Some(p) = pending.take() {
                    p.finish(&mut events);
                }
                pending = Some(Pending::new(time_ns));
            }
        }
        let p = pending.as_mut().expect("set just above");
        row(p, &fields, opts).map_err(|k| k.at(line))?;
    }
    if let Some(p) = pending {
        p.finish(&mut events);
    }
    Ok(L2Stream { window_levels: opts.window_levels, events })
}

/// Adds one row to its event.
fn row(p: &mut Pending, fields: &[&str], opts: &CsvOptions) -> Result<(), L2ParseErrorKind> {
    let kind = fields[1].to_ascii_lowercase();
    let side = match kind.as_str() {
        "bid" => Side::Buy,
        "ask" => Side::Sell,
        "trade" => {
            let price_ticks = to_units(num(fields[2], 2)?, opts.tick_size, 2)?;
            let qty_lots = positive(to_lots(num(fields[3], 3)?, opts.lot_size, 3)?, 3)?;
            let aggressor = match fields[4].to_ascii_lowercase().as_str() {
                "buy" | "b" => Side::Buy,
                "sell" | "s" => Side::Sell,
                _ => return Err(L2ParseErrorKind::BadAggressor(fields[4].to_string())),
            };
            p.trades.push(L2Trade { price_ticks, qty_lots, aggressor });
            return Ok(());
        }
        _ => return Err(L2ParseErrorKind::UnknownKind(fields[1].to_string())),
    };
    let level: usize = num(fields[2], 2)?;
    let price: f64 = num(fields[3], 3)?;
    let qty: f64 = num(fields[4], 4)?;
    let slot = &mut p.sides[if side == Side::Buy { 0 } else { 1 }];
    let (levels, closed) = slot.get_or_insert_with(|| (Vec::new(), false));
    if level == 0 {
        if *closed || !levels.is_empty() || price != 0.0 || qty != 0.0 {
            return Err(L2ParseErrorKind::LevelSequence { found: 0 });
        }
        *closed = true;
        return Ok(());
    }
    if *closed || level != levels.len() + 1 {
        return Err(L2ParseErrorKind::LevelSequence { found: level });
    }
    if level > opts.window_levels {
        return Err(L2ParseErrorKind::TooManyLevels { max: opts.window_levels });
    }
    let price_ticks = to_units(price, opts.tick_size, 3)?;
    let qty_lots = positive(to_lots(qty, opts.lot_size, 4)?, 4)?;
    if levels.last().is_some_and(|l| !strictly_worse(side, price_ticks, l.price_ticks)) {
        return Err(L2ParseErrorKind::LevelOrder);
    }
    levels.push(BookLevel { price_ticks, qty_lots });
    Ok(())
}

fn positive(qty_lots: u64, field: usize) -> Result<u64, L2ParseErrorKind> {
    if qty_lots == 0 {
        Err(L2ParseErrorKind::NonPositiveQty { field })
    } else {
        Ok(qty_lots)
    }
}
