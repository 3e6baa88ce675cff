//! # zkclob-core
//!
//! The deterministic foundation every consensus crate stands on. It owns:
//!
//! - the units of the exchange: [`Price`] (ticks, `i64`), [`Qty`] (lots, `u64`), [`Amount`] and
//!   [`SignedAmount`] (asset atoms, `u128`/`i128`), [`Side`], and the ids ([`OrderId`],
//!   [`AccountId`], [`MarketId`], [`AssetId`]) and [`Timestamp`];
//! - [`MarketSpec`]: tick size, lot size, order-size limits and the price band of one market, with
//!   the validation of prices and quantities against it;
//! - [`Fx`]: Q64.64 fixed-point numbers with `sqrt`, `exp`, `ln` and `pow`, for rates and for
//!   quoting rules that must run inside the state transition;
//! - [`DetRng`]: a seeded, integer-only random number generator;
//! - the canonical binary codec ([`codec`]): borsh, with size limits and no trailing bytes.
//!
//! ## Rules
//! This crate is `#![no_std]` + `alloc` and is compiled into zkVM guests. It must never depend on
//! `std`, floats in consensus paths, clocks, or hash-map iteration order: the same input must give
//! the same bytes on x86-64 and RISC-V. Every arithmetic operation that can overflow is checked and
//! returns a typed error instead of wrapping or panicking.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

pub mod codec;
pub mod error;
pub mod fx;
pub mod rng;
pub mod spec;
pub mod types;

pub use error::{ArithError, PriceError, QtyError, SpecError};
pub use fx::{Fx, FxError, Rounding};
pub use rng::DetRng;
pub use spec::MarketSpec;
pub use types::{AccountId, Amount, AssetId, MarketId, OrderId, Price, Qty, Side, SignedAmount, Timestamp};
