//! Typed errors of the core units and of market specifications.

use borsh::{BorshDeserialize, BorshSerialize};
use thiserror::Error;

/// An integer operation on exchange units left its type's range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ArithError {
    /// The result is larger than the type can hold.
    #[error("arithmetic overflow")]
    Overflow,
    /// The result is smaller than the type can hold (for unsigned types: below zero).
    #[error("arithmetic underflow")]
    Underflow,
    /// A division or remainder by zero.
    #[error("division by zero")]
    DivisionByZero,
    /// The operation is undefined for this argument (for example a negative price in a notional).
    #[error("argument outside the operation's domain")]
    Domain,
}

/// A price that a market does not accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error, BorshSerialize, BorshDeserialize)]
pub enum PriceError {
    /// The price is not a multiple of the market's tick size.
    #[error("price {price_ticks} is not a multiple of the tick size {tick_size}")]
    OffTick {
        /// The offending price, in ticks.
        price_ticks: i64,
        /// The market's tick size, in ticks.
        tick_size: i64,
    },
    /// The price lies outside the market's price band.
    #[error("price {price_ticks} is outside the band [{min_ticks}, {max_ticks}]")]
    OutOfBand {
        /// The offending price, in ticks.
        price_ticks: i64,
        /// Lowest accepted price, in ticks.
        min_ticks: i64,
        /// Highest accepted price, in ticks.
        max_ticks: i64,
    },
}

/// A quantity that a market does not accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error, BorshSerialize, BorshDeserialize)]
pub enum QtyError {
    /// Zero lots.
    #[error("quantity is zero")]
    Zero,
    /// The quantity is not a multiple of the market's lot size.
    #[error("quantity {qty_lots} is not a multiple of the lot size {lot_size}")]
    OffLot {
        /// The offending quantity, in lots.
        qty_lots: u64,
        /// The market's lot size, in lots.
        lot_size: u64,
    },
    /// Below the market's minimum order size.
    #[error("quantity {qty_lots} is below the minimum {min_lots}")]
    BelowMin {
        /// The offending quantity, in lots.
        qty_lots: u64,
        /// The market's minimum, in lots.
        min_lots: u64,
    },
    /// Above the market's maximum order size.
    #[error("quantity {qty_lots} is above the maximum {max_lots}")]
    AboveMax {
        /// The offending quantity, in lots.
        qty_lots: u64,
        /// The market's maximum, in lots.
        max_lots: u64,
    },
}

/// A market specification that cannot describe a working market.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum SpecError {
    /// The tick size must be at least one.
    #[error("tick size must be positive")]
    NonPositiveTick,
    /// The lot size must be at least one.
    #[error("lot size must be positive")]
    ZeroLot,
    /// The price band must satisfy `0 < min <= max`, with both ends on the tick grid.
    #[error("price band must satisfy 0 < min <= max on the tick grid")]
    BadBand,
    /// The order-size limits must satisfy `0 < min <= max`, both multiples of the lot size.
    #[error("order size limits must satisfy 0 < min <= max, multiples of the lot size")]
    BadSizeLimits,
    /// Base and quote must be different assets.
    #[error("base and quote asset must differ")]
    SameAsset,
    /// The atom scales must be positive, and the largest order's notional must fit an amount.
    #[error("atom scales must be positive and the largest notional must fit in u128")]
    BadScale,
}
