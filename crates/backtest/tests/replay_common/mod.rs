//! What the replay tests share: the real LOBSTER AAPL sample and a one-order quoter.

use zkclob_book::lobster::{parse_book_row, parse_message, BookRow, Message};
use zkclob_core::Side;
use zkclob_strategy::{MarketView, OrderIntent, Quoter, Quotes, StrategyError};

const DATA: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/lobster/AAPL_2012-06-21_34200000_57600000");

/// The sample's message and orderbook files, as text.
pub fn aapl_text() -> (String, String) {
    (
        std::fs::read_to_string(format!("{DATA}_message_10.csv")).unwrap(),
        std::fs::read_to_string(format!("{DATA}_orderbook_10.csv")).unwrap(),
    )
}

/// The sample parsed: one orderbook row per message.
pub fn aapl() -> (Vec<Message>, Vec<BookRow>) {
    let (messages, book) = aapl_text();
    let messages: Vec<Message> = messages.lines().map(|l| parse_message(l).unwrap()).collect();
    let rows: Vec<BookRow> = book.lines().map(|l| parse_book_row(l).unwrap()).collect();
    assert_eq!(messages.len(), rows.len());
    (messages, rows)
}

/// Quotes one order on one side at a fixed price, joining at the first decision at or after
/// `at_s` (at the touch when `price` is `None`), sized to what is left, until it is filled.
pub struct JoinOnce {
    side: Side,
    at_s: f64,
    size: u64,
    price: Option<i64>,
    filled: u64,
}

impl JoinOnce {
    #[allow(dead_code)] // used by the L2 tests only
    pub fn fixed(side: Side, price: i64, size: u64) -> Self {
        JoinOnce { side, at_s: 0.0, size, price: Some(price), filled: 0 }
    }

    pub fn touch(side: Side, at_s: f64, size: u64) -> Self {
        JoinOnce { side, at_s, size, price: None, filled: 0 }
    }
}

impl Quoter for JoinOnce {
    fn name(&self) -> &'static str {
        "join-once"
    }

    fn quote(&mut self, view: &MarketView<'_>) -> Result<Quotes, StrategyError> {
        if self.price.is_none() && view.time_s >= self.at_s {
            self.price = match self.side {
                Side::Buy => view.best_bid(),
                Side::Sell => view.best_ask(),
            };
        }
        let want = match self.price {
            Some(p) if view.time_s >= self.at_s && self.filled < self.size => {
                Some(OrderIntent { price_ticks: p, qty_lots: self.size - self.filled })
            }
            _ => None,
        };
        Ok(match self.side {
            Side::Buy => Quotes { bid: want, ask: None, reason: "test" },
            Side::Sell => Quotes { bid: None, ask: want, reason: "test" },
        })
    }

    fn on_fill(&mut self, _: f64, _: Side, _: i64, qty: u64) {
        self.filled += qty;
    }
}
