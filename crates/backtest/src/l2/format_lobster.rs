//! LOBSTER orderbook + message files → [`L2Stream`].
//!
//! Row *i* of the orderbook file is the book after message *i*, so each message becomes one
//! [`L2Event`] at the message's time, with that row as its book (dummy levels dropped). Executions
//! of visible orders (type 4) and, by default, of hidden orders (type 5) are the event's trade,
//! with the aggressor opposite to the resting side the message names. Cross trades (type 6, the
//! auctions) and halts (7) print no trade: they do not touch the continuous book's queues.

use serde::{Deserialize, Serialize};
use zkclob_book::lobster::{
    parse_book_row, parse_message, BookRow, Message, MessageKind, RowLevel, CENT, EMPTY_ASK_PRICE,
    EMPTY_BID_PRICE,
};
use zkclob_strategy::BookLevel;

use super::parse::{check_window, L2ParseError, L2ParseErrorKind, LobsterFile};
use super::{L2Event, L2Stream, L2Trade};

/// How LOBSTER data is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LobsterOptions {
    /// LOBSTER price units (USD × 10,000) per tick; every price must be a multiple. Default one
    /// cent ([`CENT`]), as in the L3 replay.
    pub units_per_tick: i64,
    /// Whether executions of hidden orders (type 5) are trades. They are real prints, but the L3
    /// replay ignores them (hidden orders are not in its book); turn this off to give both replays
    /// the same information.
    pub hidden_executions_as_trades: bool,
}

impl Default for LobsterOptions {
    fn default() -> Self {
        LobsterOptions { units_per_tick: CENT, hidden_executions_as_trades: true }
    }
}

/// Reads a LOBSTER message file and its orderbook file (text, no header) into a stream.
/// Errors carry the 1-based line and the file it is in.
pub fn parse_lobster(
    message_csv: &str,
    orderbook_csv: &str,
    opts: &LobsterOptions,
) -> Result<L2Stream, L2ParseError> {
    let lobster = |file, line: usize| {
        move |error| L2ParseError { line: line + 1, kind: L2ParseErrorKind::Lobster { file, error } }
    };
    let messages = message_csv
        .lines()
        .enumerate()
        .map(|(i, l)| parse_message(l).map_err(lobster(LobsterFile::Message, i)))
        .collect::<Result<Vec<Message>, _>>()?;
    let rows = orderbook_csv
        .lines()
        .enumerate()
        .map(|(i, l)| parse_book_row(l).map_err(lobster(LobsterFile::Orderbook, i)))
        .collect::<Result<Vec<BookRow>, _>>()?;
    lobster_stream(&messages, &rows, opts)
}

/// Turns parsed LOBSTER messages and orderbook rows (one per message) into a stream; errors name
/// the 1-based line (= message index + 1).
pub fn lobster_stream(
    messages: &[Message],
    rows: &[BookRow],
    opts: &LobsterOptions,
) -> Result<L2Stream, L2ParseError> {
    if opts.units_per_tick <= 0 {
        return Err(L2ParseErrorKind::InvalidOption {
            name: "units_per_tick",
            value: opts.units_per_tick as f64,
            requirement: "> 0",
        }
        .at(0));
    }
    if rows.len() != messages.len() {
        let line = rows.len().min(messages.len()) + 1;
        return Err(L2ParseErrorKind::RowCount { messages: messages.len(), rows: rows.len() }.at(line));
    }
    let window_levels = rows.first().map_or(1, |r| r.asks.len());
    check_window(window_levels)?;
    let mut events: Vec<L2Event> = Vec::with_capacity(messages.len());
    for (i, (m, row)) in messages.iter().zip(rows).enumerate() {
        let line = i + 1;
        if row.asks.len() != window_levels {
            return Err(
                L2ParseErrorKind::WindowMismatch { expected: window_levels, found: row.asks.len() }.at(line)
            );
        }
        let time_ns =
            i64::try_from(m.time_ns).map_err(|_| L2ParseErrorKind::BadNumber { field: 0 }.at(line))?;
        if events.last().is_some_and(|e| e.time_ns > time_ns) {
            return Err(L2ParseErrorKind::TimeReversal.at(line));
        }
        let ticks = |units: i64, field: usize| {
            if units % opts.units_per_tick == 0 {
                Ok(units / opts.units_per_tick)
            } else {
                Err(L2ParseErrorKind::OffGrid { field }.at(line))
            }
        };
        let prints = match m.kind {
            MessageKind::ExecuteVisible => true,
            MessageKind::ExecuteHidden => opts.hidden_executions_as_trades,
            _ => false,
        };
        let mut trades = Vec::new();
        if prints && m.size > 0 {
            let price_ticks = ticks(m.price, 4)?;
            trades.push(L2Trade { price_ticks, qty_lots: m.size, aggressor: m.side.opposite() });
        }
        let side = |levels: &[RowLevel], empty: i64, first_field: usize| {
            let mut out = Vec::with_capacity(levels.len());
            for (l, &(price, size)) in levels.iter().enumerate() {
                if price != empty && size > 0 {
                    out.push(BookLevel { price_ticks: ticks(price, first_field + 4 * l)?, qty_lots: size });
                }
            }
            Ok::<_, L2ParseError>(out)
        };
        let asks = side(&row.asks, EMPTY_ASK_PRICE, 0)?;
        let bids = side(&row.bids, EMPTY_BID_PRICE, 2)?;
        events.push(L2Event { time_ns, trades, bids, asks });
    }
    Ok(L2Stream { window_levels, events })
}
