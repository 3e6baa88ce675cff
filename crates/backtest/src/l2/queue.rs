//! Queue models: where our order stands in its level when the level shrinks without a trade.
//!
//! The replay itself handles everything the data states: the quantity ahead of a new order is the
//! displayed quantity at its price; trades at our price consume the queue ahead first, then us;
//! the queue ahead can never exceed what the level displays. What L2 data cannot say is whether a
//! quantity that left without trading (a cancel) was ahead of us or behind: that is the model's
//! call.

use serde::{Deserialize, Serialize};

use super::replay::L2Error;

/// Largest accepted exponent of [`Probabilistic`].
pub const MAX_QUEUE_POWER: f64 = 16.0;

/// Decides how much of a non-trade decrease of our level was ahead of our order.
pub trait QueueModel {
    /// A short stable name (`"risk_averse"`, `"probabilistic"`).
    fn name(&self) -> &'static str;

    /// The quantity ahead of our order after its level (other participants' quantity only) went
    /// from `before_lots` to `after_lots < before_lots` with no trade to explain it, given
    /// `ahead_lots ≤ before_lots` ahead of us before. Must return at most `ahead_lots`; the
    /// replay clamps the answer to `after_lots`.
    fn ahead_after_decrease(&self, ahead_lots: u64, before_lots: u64, after_lots: u64) -> u64;
}

/// Pessimistic: a decrease without a trade is always behind us, so only trades at our price
/// advance the order (and the level shrinking below the queue ahead, which it cannot exceed).
/// This is hftbacktest's `RiskAdverseQueueModel`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RiskAverse;

impl QueueModel for RiskAverse {
    fn name(&self) -> &'static str {
        "risk_averse"
    }

    fn ahead_after_decrease(&self, ahead_lots: u64, _before_lots: u64, _after_lots: u64) -> u64 {
        ahead_lots
    }
}

/// hftbacktest's probabilistic queue model with a power-law weight: of a decrease Δ, the share
/// `p = f(a)/(f(a) + f(b))`, f(x) = xⁿ, is taken to be ahead of us, where `a` is the quantity
/// ahead and `b` the quantity behind. What the quantity behind cannot supply is taken from ahead:
///
/// a′ = a − p·Δ + min(b − (1 − p)·Δ, 0), rounded to a whole lot.
///
/// A larger n moves more of a decrease to the larger side of the queue.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Probabilistic {
    power: f64,
}

impl Probabilistic {
    /// A model with exponent `power` (finite, in (0, [`MAX_QUEUE_POWER`]]).
    pub fn new(power: f64) -> Result<Self, L2Error> {
        if power.is_finite() && power > 0.0 && power <= MAX_QUEUE_POWER {
            Ok(Probabilistic { power })
        } else {
            Err(L2Error::Config { name: "queue.power", value: power, requirement: "in (0, 16]" })
        }
    }

    /// The exponent n.
    pub fn power(&self) -> f64 {
        self.power
    }

    /// The share of a decrease taken to be ahead of us with `a` ahead and `b` behind. Computed on
    /// the fraction a/(a + b), so large queues cannot overflow xⁿ.
    pub fn share_ahead(&self, ahead_lots: u64, behind_lots: u64) -> f64 {
        let total = ahead_lots as f64 + behind_lots as f64;
        if total == 0.0 {
            return 0.0;
        }
        let x = ahead_lots as f64 / total;
        let (fa, fb) = (x.powf(self.power), (1.0 - x).powf(self.power));
        fa / (fa + fb)
    }
}

impl QueueModel for Probabilistic {
    fn name(&self) -> &'static str {
        "probabilistic"
    }

    fn ahead_after_decrease(&self, ahead_lots: u64, before_lots: u64, after_lots: u64) -> u64 {
        let ahead = ahead_lots.min(before_lots);
        let behind = before_lots - ahead;
        let decrease = before_lots.saturating_sub(after_lots) as f64;
        let p = self.share_ahead(ahead, behind);
        let (a, b) = (ahead as f64, behind as f64);
        let estimate = a - p * decrease + (b - (1.0 - p) * decrease).min(0.0);
        // In [0, a] by construction; the clamp guards rounding.
        (estimate.round().max(0.0) as u64).min(ahead)
    }
}

/// A queue model by name, for configuration files.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case", deny_unknown_fields)]
pub enum QueueModelSpec {
    /// [`RiskAverse`].
    RiskAverse,
    /// [`Probabilistic`] with exponent `power`.
    Probabilistic {
        /// The exponent n (2 or 3 are usual).
        power: f64,
    },
}

impl QueueModelSpec {
    /// The model.
    pub fn build(&self) -> Result<Box<dyn QueueModel>, L2Error> {
        Ok(match *self {
            QueueModelSpec::RiskAverse => Box::new(RiskAverse),
            QueueModelSpec::Probabilistic { power } => Box::new(Probabilistic::new(power)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probabilistic_share_follows_the_power_law() {
        let m = Probabilistic::new(2.0).unwrap();
        // a = 10, b = 20: x = 1/3, p = (1/9)/(1/9 + 4/9) = 0.2.
        assert!((m.share_ahead(10, 20) - 0.2).abs() < 1e-12);
        // Δ = 14: a' = 10 − 2.8 = 7.2 → 7.
        assert_eq!(m.ahead_after_decrease(10, 30, 16), 7);
        // Δ larger than what is behind: the excess comes from ahead. a = 10, b = 2, Δ = 8:
        // p = 100/104, a' = 10 − 7.69 + min(2 − 0.31, 0) = 2.31 → 2.
        assert_eq!(m.ahead_after_decrease(10, 12, 4), 2);
        assert_eq!(m.ahead_after_decrease(0, 12, 4), 0);
        assert_eq!(RiskAverse.ahead_after_decrease(10, 30, 16), 10);
        assert!(Probabilistic::new(0.0).is_err() && Probabilistic::new(f64::NAN).is_err());
    }
}
