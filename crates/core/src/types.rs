//! The exchange's units and ids.
//!
//! Every unit is a newtype over an integer so that a price can never be added to a quantity by
//! mistake. Arithmetic is checked: an operation that would overflow returns [`ArithError`].

use borsh::{BorshDeserialize, BorshSerialize};
use core::fmt;

use crate::error::ArithError;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $inner:ty) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash,
            BorshSerialize, BorshDeserialize,
        )]
        #[repr(transparent)]
        pub struct $name(pub $inner);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

id_type!(
    /// Identifies one order within a market. Unique among live orders of a book.
    OrderId,
    u64
);
id_type!(
    /// Identifies an account. The exchange state maps account keys (addresses) to these.
    AccountId,
    u64
);
id_type!(
    /// Identifies a market (one order book).
    MarketId,
    u32
);
id_type!(
    /// Identifies an asset (a token with its own balances).
    AssetId,
    u32
);
id_type!(
    /// A point in time in nanoseconds since the Unix epoch. Inside the state transition it only
    /// ever comes from a batch header, never from a clock.
    Timestamp,
    u64
);

/// A price in ticks of the price grid (the smallest price unit the exchange represents).
///
/// A market's [`tick_size`](crate::MarketSpec::tick_size) says which multiples of the grid it
/// accepts. Signed so that price differences (spreads, skews) share the type.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize,
)]
#[repr(transparent)]
pub struct Price(pub i64);

impl Price {
    /// The price in ticks.
    #[inline]
    pub const fn ticks(self) -> i64 {
        self.0
    }

    /// `self + delta_ticks`, or an error on overflow.
    #[inline]
    pub fn checked_add_ticks(self, delta_ticks: i64) -> Result<Price, ArithError> {
        self.0.checked_add(delta_ticks).map(Price).ok_or(if delta_ticks > 0 {
            ArithError::Overflow
        } else {
            ArithError::Underflow
        })
    }

    /// `self - other` in ticks, or an error on overflow.
    #[inline]
    pub fn checked_diff(self, other: Price) -> Result<i64, ArithError> {
        self.0.checked_sub(other.0).ok_or(ArithError::Overflow)
    }
}

impl fmt::Display for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// A quantity in lots (the smallest quantity unit of a market).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize,
)]
#[repr(transparent)]
pub struct Qty(pub u64);

impl Qty {
    /// Zero lots.
    pub const ZERO: Qty = Qty(0);

    /// The quantity in lots.
    #[inline]
    pub const fn lots(self) -> u64 {
        self.0
    }

    /// Whether this is zero lots.
    #[inline]
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// `self + other`, or [`ArithError::Overflow`].
    #[inline]
    pub fn checked_add(self, other: Qty) -> Result<Qty, ArithError> {
        self.0.checked_add(other.0).map(Qty).ok_or(ArithError::Overflow)
    }

    /// `self - other`, or [`ArithError::Underflow`] if `other > self`.
    #[inline]
    pub fn checked_sub(self, other: Qty) -> Result<Qty, ArithError> {
        self.0.checked_sub(other.0).map(Qty).ok_or(ArithError::Underflow)
    }

    /// The smaller of two quantities.
    #[inline]
    pub fn min(self, other: Qty) -> Qty {
        Qty(self.0.min(other.0))
    }
}

impl fmt::Display for Qty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// An amount of an asset in atoms (its smallest unit, like wei), never negative.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize,
)]
#[repr(transparent)]
pub struct Amount(pub u128);

impl Amount {
    /// Zero atoms.
    pub const ZERO: Amount = Amount(0);

    /// The amount in atoms.
    #[inline]
    pub const fn atoms(self) -> u128 {
        self.0
    }

    /// `self + other`, or [`ArithError::Overflow`].
    #[inline]
    pub fn checked_add(self, other: Amount) -> Result<Amount, ArithError> {
        self.0.checked_add(other.0).map(Amount).ok_or(ArithError::Overflow)
    }

    /// `self - other`, or [`ArithError::Underflow`] if `other > self`.
    #[inline]
    pub fn checked_sub(self, other: Amount) -> Result<Amount, ArithError> {
        self.0.checked_sub(other.0).map(Amount).ok_or(ArithError::Underflow)
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// A signed amount of an asset in atoms (a balance change, a PnL).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize,
)]
#[repr(transparent)]
pub struct SignedAmount(pub i128);

impl SignedAmount {
    /// `self + other`, or an error on overflow.
    #[inline]
    pub fn checked_add(self, other: SignedAmount) -> Result<SignedAmount, ArithError> {
        self.0.checked_add(other.0).map(SignedAmount).ok_or(if other.0 > 0 {
            ArithError::Overflow
        } else {
            ArithError::Underflow
        })
    }

    /// `self - other`, or an error on overflow.
    #[inline]
    pub fn checked_sub(self, other: SignedAmount) -> Result<SignedAmount, ArithError> {
        self.0.checked_sub(other.0).map(SignedAmount).ok_or(if other.0 < 0 {
            ArithError::Overflow
        } else {
            ArithError::Underflow
        })
    }
}

impl TryFrom<Amount> for SignedAmount {
    type Error = ArithError;
    fn try_from(a: Amount) -> Result<Self, ArithError> {
        i128::try_from(a.0).map(SignedAmount).map_err(|_| ArithError::Overflow)
    }
}

impl TryFrom<SignedAmount> for Amount {
    type Error = ArithError;
    fn try_from(a: SignedAmount) -> Result<Self, ArithError> {
        u128::try_from(a.0).map(Amount).map_err(|_| ArithError::Underflow)
    }
}

/// The side of an order: a buy (bid) or a sell (ask).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
#[borsh(use_discriminant = true)]
#[repr(u8)]
pub enum Side {
    /// Buy: rests on the bid side, takes from the ask side.
    Buy = 0,
    /// Sell: rests on the ask side, takes from the bid side.
    Sell = 1,
}

impl Side {
    /// The other side.
    #[inline]
    pub const fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }

    /// Whether a taker on this side with limit `limit` accepts a resting price `resting`.
    #[inline]
    pub fn accepts(self, limit: Price, resting: Price) -> bool {
        match self {
            Side::Buy => resting <= limit,
            Side::Sell => resting >= limit,
        }
    }

    /// Whether price `a` is strictly better than `b` for an order resting on this side.
    #[inline]
    pub fn is_better(self, a: Price, b: Price) -> bool {
        match self {
            Side::Buy => a > b,
            Side::Sell => a < b,
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Buy => "buy",
            Side::Sell => "sell",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qty_sub_below_zero_is_underflow_not_wrap() {
        assert_eq!(Qty(3).checked_sub(Qty(4)), Err(ArithError::Underflow));
        assert_eq!(Qty(u64::MAX).checked_add(Qty(1)), Err(ArithError::Overflow));
    }

    #[test]
    fn price_add_at_the_edges_is_an_error() {
        assert_eq!(Price(i64::MAX).checked_add_ticks(1), Err(ArithError::Overflow));
        assert_eq!(Price(i64::MIN).checked_add_ticks(-1), Err(ArithError::Underflow));
        assert_eq!(Price(5).checked_add_ticks(-7), Ok(Price(-2)));
    }

    #[test]
    fn side_accepts_and_better_follow_the_side() {
        assert!(Side::Buy.accepts(Price(10), Price(9)));
        assert!(!Side::Buy.accepts(Price(10), Price(11)));
        assert!(Side::Sell.accepts(Price(10), Price(11)));
        assert!(Side::Buy.is_better(Price(11), Price(10)));
        assert!(Side::Sell.is_better(Price(10), Price(11)));
        assert_eq!(Side::Buy.opposite(), Side::Sell);
    }

    #[test]
    fn amount_sign_conversions_reject_out_of_range() {
        assert_eq!(SignedAmount::try_from(Amount(u128::MAX)), Err(ArithError::Overflow));
        assert_eq!(Amount::try_from(SignedAmount(-1)), Err(ArithError::Underflow));
        assert_eq!(Amount::try_from(SignedAmount(7)), Ok(Amount(7)));
    }
}
