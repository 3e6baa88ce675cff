//! # zkclob-book
//!
//! One market's central limit order book and matching engine. It owns:
//!
//! - price-time priority matching ([`Book`]) of limit GTC, IOC, FOK, post-only, market (with a
//!   protection price), GTD and iceberg orders ([`NewOrder`]);
//! - cancel, amend (a quantity decrease keeps priority; a price change or an increase loses it)
//!   and mass cancel by account and side;
//! - self-trade prevention per order ([`StpMode`]);
//! - the events every action returns, in a deterministic order ([`Event`]);
//! - market data derived from the book and its fills: best bid/offer, L2 depth, L3 iteration
//!   ([`Book::depth`], [`Book::orders`]), and the trade tape, OHLCV bars, VWAP and volume profile
//!   ([`market_data`]);
//! - [`Book::check_invariants`], capacity limits ([`BookLimits`]) and a LOBSTER-format reader and
//!   replayer ([`lobster`]).
//!
//! It is `#![no_std]` + `alloc` and runs inside zkVM guests: no floats, no clocks (time is passed
//! in by the caller), no iteration over hash maps into any output. It must never depend on the
//! exchange state, the node or any research crate.
//!
//! ```
//! use zkclob_book::{Book, BookLimits, Event, NewOrder};
//! use zkclob_core::{AccountId, MarketSpec, OrderId, Price, Qty, Side, Timestamp};
//!
//! let mut book = Book::new(MarketSpec::example(), BookLimits::default());
//! let now = Timestamp(1);
//! book.place(NewOrder::limit(OrderId(1), AccountId(1), Side::Sell, Price(101), Qty(5)), now);
//! let events = book.place(NewOrder::limit(OrderId(2), AccountId(2), Side::Buy, Price(101), Qty(3)), now);
//! assert!(events.iter().any(|e| matches!(e, Event::Fill(f) if f.qty == Qty(3) && f.price == Price(101))));
//! assert_eq!(book.best_ask().unwrap().qty, Qty(2));
//! book.check_invariants().unwrap();
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod book;
mod direct;
mod engine;
mod event;
mod hash;
mod invariants;
mod limits;
pub mod lobster;
pub mod market_data;
mod order;
mod query;
mod snapshot;

pub use book::{Book, OrderView};
pub use event::{CancelReason, Event, Fill, RejectReason};
pub use invariants::InvariantViolation;
pub use limits::{BookLimits, MAX_LEVELS_PER_SIDE, MAX_ORDERS, MAX_ORDERS_PER_ACCOUNT};
pub use order::{NewOrder, OrderKind, StpMode, TimeInForce};
pub use query::{DepthLevel, L3Iter};
pub use snapshot::{BookSnapshot, SnapshotError, SnapshotOrder, WordSink, MAX_SEQ, ORDER_WORDS};
