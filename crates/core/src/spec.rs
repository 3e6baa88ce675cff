//! [`MarketSpec`]: what one market accepts.

use borsh::{BorshDeserialize, BorshSerialize};

use crate::error::{ArithError, PriceError, QtyError, SpecError};
use crate::types::{Amount, AssetId, MarketId, Price, Qty};

/// The static description of one market: which prices and sizes it accepts and how lots and ticks
/// convert to asset atoms.
///
/// Prices are in ticks of the exchange's price grid; a market accepts multiples of
/// [`tick_size`](Self::tick_size) inside the inclusive band
/// [`min_price`](Self::min_price)..=[`max_price`](Self::max_price). Quantities are in lots; a
/// market accepts multiples of [`lot_size`](Self::lot_size) between
/// [`min_qty`](Self::min_qty) and [`max_qty`](Self::max_qty).
///
/// ```
/// use zkclob_core::{MarketSpec, Price, Qty};
/// let spec = MarketSpec { tick_size: 5, min_price: Price(5), ..MarketSpec::example() };
/// assert!(spec.validate().is_ok());
/// assert!(spec.check_price(Price(10_000)).is_ok());
/// assert!(spec.check_price(Price(10_001)).is_err()); // off tick
/// assert!(spec.check_qty(Qty(0)).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct MarketSpec {
    /// The market's id.
    pub market_id: MarketId,
    /// The asset bought and sold.
    pub base_asset: AssetId,
    /// The asset prices are quoted in.
    pub quote_asset: AssetId,
    /// Accepted prices are multiples of this many ticks (≥ 1).
    pub tick_size: i64,
    /// Accepted quantities are multiples of this many lots (≥ 1).
    pub lot_size: u64,
    /// Smallest order, in lots.
    pub min_qty: Qty,
    /// Largest order, in lots.
    pub max_qty: Qty,
    /// Lowest accepted price (inclusive), in ticks, > 0.
    pub min_price: Price,
    /// Highest accepted price (inclusive), in ticks.
    pub max_price: Price,
    /// Base-asset atoms in one lot.
    pub base_atoms_per_lot: u128,
    /// Quote-asset atoms paid for one lot at a price of one tick.
    pub quote_atoms_per_tick_lot: u128,
}

impl MarketSpec {
    /// A small, valid spec used in docs, tests and benches: tick size 1, lot size 1, prices
    /// 1..=1,000,000 ticks, orders of 1..=1,000,000 lots.
    pub const fn example() -> MarketSpec {
        MarketSpec {
            market_id: MarketId(0),
            base_asset: AssetId(1),
            quote_asset: AssetId(2),
            tick_size: 1,
            lot_size: 1,
            min_qty: Qty(1),
            max_qty: Qty(1_000_000),
            min_price: Price(1),
            max_price: Price(1_000_000),
            base_atoms_per_lot: 1_000,
            quote_atoms_per_tick_lot: 10,
        }
    }

    /// Checks that the spec describes a working market.
    pub fn validate(&self) -> Result<(), SpecError> {
        if self.tick_size <= 0 {
            return Err(SpecError::NonPositiveTick);
        }
        if self.lot_size == 0 {
            return Err(SpecError::ZeroLot);
        }
        let (lo, hi) = (self.min_price.0, self.max_price.0);
        if lo <= 0 || lo > hi || lo % self.tick_size != 0 || hi % self.tick_size != 0 {
            return Err(SpecError::BadBand);
        }
        let (qmin, qmax) = (self.min_qty.0, self.max_qty.0);
        if qmin == 0 || qmin > qmax || qmin % self.lot_size != 0 || qmax % self.lot_size != 0 {
            return Err(SpecError::BadSizeLimits);
        }
        if self.base_asset == self.quote_asset {
            return Err(SpecError::SameAsset);
        }
        if self.base_atoms_per_lot == 0 || self.quote_atoms_per_tick_lot == 0 {
            return Err(SpecError::BadScale);
        }
        // The largest order at the highest price must have a representable notional, so that no
        // accepted order can overflow later.
        self.quote_amount(self.max_price, self.max_qty).map_err(|_| SpecError::BadScale)?;
        self.base_amount(self.max_qty).map_err(|_| SpecError::BadScale)?;
        Ok(())
    }

    /// Checks a limit or protection price: on the tick grid and inside the band.
    #[inline]
    pub fn check_price(&self, price: Price) -> Result<(), PriceError> {
        if price.0 < self.min_price.0 || price.0 > self.max_price.0 {
            return Err(PriceError::OutOfBand {
                price_ticks: price.0,
                min_ticks: self.min_price.0,
                max_ticks: self.max_price.0,
            });
        }
        // Division is slow; most markets trade on the unit grid and skip it.
        if self.tick_size != 1 && price.0 % self.tick_size != 0 {
            return Err(PriceError::OffTick { price_ticks: price.0, tick_size: self.tick_size });
        }
        Ok(())
    }

    /// Checks an order quantity: non-zero, on the lot grid, inside the size limits.
    #[inline]
    pub fn check_qty(&self, qty: Qty) -> Result<(), QtyError> {
        if qty.0 == 0 {
            return Err(QtyError::Zero);
        }
        if self.lot_size != 1 && qty.0 % self.lot_size != 0 {
            return Err(QtyError::OffLot { qty_lots: qty.0, lot_size: self.lot_size });
        }
        if qty.0 < self.min_qty.0 {
            return Err(QtyError::BelowMin { qty_lots: qty.0, min_lots: self.min_qty.0 });
        }
        if qty.0 > self.max_qty.0 {
            return Err(QtyError::AboveMax { qty_lots: qty.0, max_lots: self.max_qty.0 });
        }
        Ok(())
    }

    /// Base-asset atoms in `qty` lots.
    pub fn base_amount(&self, qty: Qty) -> Result<Amount, ArithError> {
        (qty.0 as u128).checked_mul(self.base_atoms_per_lot).map(Amount).ok_or(ArithError::Overflow)
    }

    /// Quote-asset atoms of `qty` lots at `price` (exact; no rounding is involved). Negative
    /// prices have no notional and return [`ArithError::Domain`].
    pub fn quote_amount(&self, price: Price, qty: Qty) -> Result<Amount, ArithError> {
        let price_ticks = u128::try_from(price.0).map_err(|_| ArithError::Domain)?;
        price_ticks
            .checked_mul(qty.0 as u128)
            .and_then(|x| x.checked_mul(self.quote_atoms_per_tick_lot))
            .map(Amount)
            .ok_or(ArithError::Overflow)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> MarketSpec {
        MarketSpec {
            tick_size: 5,
            lot_size: 10,
            min_qty: Qty(10),
            max_qty: Qty(1000),
            ..MarketSpec::example()
        }
    }

    #[test]
    fn example_spec_is_valid() {
        assert_eq!(MarketSpec::example().validate(), Ok(()));
    }

    #[test]
    fn invalid_specs_are_rejected_with_their_reason() {
        let s = MarketSpec::example();
        assert_eq!(MarketSpec { tick_size: 0, ..s }.validate(), Err(SpecError::NonPositiveTick));
        assert_eq!(MarketSpec { lot_size: 0, ..s }.validate(), Err(SpecError::ZeroLot));
        assert_eq!(MarketSpec { min_price: Price(0), ..s }.validate(), Err(SpecError::BadBand));
        assert_eq!(
            MarketSpec { min_price: Price(9), max_price: Price(8), ..s }.validate(),
            Err(SpecError::BadBand)
        );
        assert_eq!(MarketSpec { min_qty: Qty(0), ..s }.validate(), Err(SpecError::BadSizeLimits));
        assert_eq!(MarketSpec { quote_asset: s.base_asset, ..s }.validate(), Err(SpecError::SameAsset));
        assert_eq!(
            MarketSpec { quote_atoms_per_tick_lot: u128::MAX, ..s }.validate(),
            Err(SpecError::BadScale)
        );
    }

    #[test]
    fn price_checks_band_then_tick() {
        let s = spec();
        assert_eq!(s.check_price(Price(10)), Ok(()));
        assert!(matches!(s.check_price(Price(11)), Err(PriceError::OffTick { .. })));
        assert!(matches!(s.check_price(Price(0)), Err(PriceError::OutOfBand { .. })));
        assert!(matches!(s.check_price(Price(-5)), Err(PriceError::OutOfBand { .. })));
        assert!(matches!(s.check_price(Price(1_000_005)), Err(PriceError::OutOfBand { .. })));
        assert_eq!(s.check_price(Price(1_000_000)), Ok(()));
    }

    #[test]
    fn qty_checks_each_limit_at_and_past_the_edge() {
        let s = spec();
        assert_eq!(s.check_qty(Qty(0)), Err(QtyError::Zero));
        assert!(matches!(s.check_qty(Qty(15)), Err(QtyError::OffLot { .. })));
        assert_eq!(s.check_qty(Qty(10)), Ok(()));
        assert_eq!(s.check_qty(Qty(1000)), Ok(()));
        assert!(matches!(s.check_qty(Qty(1010)), Err(QtyError::AboveMax { .. })));
        let s2 = MarketSpec { min_qty: Qty(20), ..s };
        assert!(matches!(s2.check_qty(Qty(10)), Err(QtyError::BelowMin { .. })));
    }

    #[test]
    fn notional_is_exact_and_negative_price_is_a_domain_error() {
        let s = MarketSpec::example();
        assert_eq!(s.quote_amount(Price(123), Qty(7)), Ok(Amount(123 * 7 * 10)));
        assert_eq!(s.quote_amount(Price(-1), Qty(7)), Err(ArithError::Domain));
        assert_eq!(s.base_amount(Qty(3)), Ok(Amount(3000)));
    }
}
