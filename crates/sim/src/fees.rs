//! Fee models: what one of our fills costs. Money is in tick·lots (one tick of price on one lot);
//! a negative fee is a rebate.

use serde::{Deserialize, Serialize};

use crate::error::{check, SimError};

/// Largest fee magnitude accepted, ticks per lot or basis points.
pub const MAX_FEE: f64 = 10_000.0;

/// Something that prices our fills.
pub trait FeeModel {
    /// Fee of a fill of `qty_lots` at `price_ticks`, tick·lots (negative = rebate); `maker` when
    /// our order was resting.
    fn fee_tick_lots(&self, price_ticks: i64, qty_lots: u64, maker: bool) -> f64;
}

/// A fee model as configured (TOML: a table with `kind` and the model's fields).
///
/// ```
/// # use zkclob_sim::{FeeConfig, FeeModel};
/// let per_lot = FeeConfig::PerLot { maker_ticks_per_lot: -0.1, taker_ticks_per_lot: 0.3 };
/// assert_eq!(per_lot.fee_tick_lots(10_000, 2, true), -0.2);
/// let bps = FeeConfig::Bps { maker_bps: -1.0, taker_bps: 2.0 };
/// assert_eq!(bps.fee_tick_lots(10_000, 3, false), 6.0); // 2 bps of 30 000 tick·lots
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum FeeConfig {
    /// A fixed amount per lot filled.
    PerLot {
        /// Maker fee, ticks per lot (negative = rebate).
        maker_ticks_per_lot: f64,
        /// Taker fee, ticks per lot.
        taker_ticks_per_lot: f64,
    },
    /// A fraction of the notional (price × quantity), in basis points.
    Bps {
        /// Maker fee, basis points of notional (negative = rebate).
        maker_bps: f64,
        /// Taker fee, basis points of notional.
        taker_bps: f64,
    },
}

impl Default for FeeConfig {
    /// A small maker rebate and a taker fee, per lot.
    fn default() -> Self {
        FeeConfig::PerLot { maker_ticks_per_lot: -0.1, taker_ticks_per_lot: 0.3 }
    }
}

impl FeeConfig {
    /// Checks the fields; `name` is the table's path for error messages.
    pub fn validate(&self, name: &str) -> Result<(), SimError> {
        let (a, b, names) = match *self {
            FeeConfig::PerLot { maker_ticks_per_lot, taker_ticks_per_lot } => {
                (maker_ticks_per_lot, taker_ticks_per_lot, ["maker_ticks_per_lot", "taker_ticks_per_lot"])
            }
            FeeConfig::Bps { maker_bps, taker_bps } => (maker_bps, taker_bps, ["maker_bps", "taker_bps"]),
        };
        check(&format!("{name}.{}", names[0]), a, a.abs() <= MAX_FEE, "finite, |fee| <= MAX_FEE")?;
        check(&format!("{name}.{}", names[1]), b, b.abs() <= MAX_FEE, "finite, |fee| <= MAX_FEE")
    }
}

impl FeeModel for FeeConfig {
    fn fee_tick_lots(&self, price_ticks: i64, qty_lots: u64, maker: bool) -> f64 {
        match *self {
            FeeConfig::PerLot { maker_ticks_per_lot, taker_ticks_per_lot } => {
                let rate = if maker { maker_ticks_per_lot } else { taker_ticks_per_lot };
                rate * qty_lots as f64
            }
            FeeConfig::Bps { maker_bps, taker_bps } => {
                let rate = if maker { maker_bps } else { taker_bps };
                rate * 1e-4 * price_ticks as f64 * qty_lots as f64
            }
        }
    }
}
