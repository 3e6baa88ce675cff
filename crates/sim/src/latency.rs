//! Latency models: how long an order takes to reach the book ("entry") and how long the book's
//! updates, trades and our execution reports take to reach the strategy ("feed").
//!
//! Each message draws one delay. Both channels are FIFO, like a TCP connection: a message never
//! overtakes one sent before it on the same channel (its arrival is at least the previous one's),
//! so a random model never reorders a cancel and the replacement sent after it.

use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};
use zkclob_models::ModelRng;

use crate::error::{check, SimError};

/// Largest delay a model may produce or be configured with, seconds.
pub const MAX_LATENCY_S: f64 = 3_600.0;
/// Most delays in a recorded latency series.
pub const MAX_RECORDED_DELAYS: usize = 1 << 20;

/// Something that says how long the next message takes.
pub trait LatencyModel {
    /// The next message's delay, seconds: finite and in [0, [`MAX_LATENCY_S`]].
    fn next_delay_s(&mut self, rng: &mut ModelRng) -> f64;
}

/// A latency model as configured (TOML: a table with `kind` and the model's fields).
///
/// ```
/// # use zkclob_sim::LatencyConfig;
/// let c: LatencyConfig = toml::from_str("kind = \"lognormal\"\nmedian_s = 0.002\nsigma = 0.5").unwrap();
/// assert_eq!(c, LatencyConfig::LogNormal { median_s: 0.002, sigma: 0.5 });
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum LatencyConfig {
    /// Every message takes `delay_s`.
    Constant {
        /// Delay, seconds.
        delay_s: f64,
    },
    /// Lognormal delays: `median_s · exp(sigma · Z)`, Z standard normal, capped at
    /// [`MAX_LATENCY_S`].
    LogNormal {
        /// Median delay, seconds (> 0).
        median_s: f64,
        /// Standard deviation of the log-delay (≥ 0).
        sigma: f64,
    },
    /// A recorded series of delays, used in order and cycled.
    Recorded {
        /// Delays, seconds (at least one).
        delays_s: Vec<f64>,
    },
}

impl LatencyConfig {
    /// Checks the fields; `name` is the table's path for error messages.
    pub fn validate(&self, name: &str) -> Result<(), SimError> {
        let in_range = |v: f64| (0.0..=MAX_LATENCY_S).contains(&v);
        match self {
            LatencyConfig::Constant { delay_s } => {
                check(&format!("{name}.delay_s"), *delay_s, in_range(*delay_s), "in [0, MAX_LATENCY_S]")
            }
            LatencyConfig::LogNormal { median_s, sigma } => {
                let ok = *median_s > 0.0 && in_range(*median_s);
                check(&format!("{name}.median_s"), *median_s, ok, "in (0, MAX_LATENCY_S]")?;
                check(&format!("{name}.sigma"), *sigma, (0.0..=10.0).contains(sigma), "in [0, 10]")
            }
            LatencyConfig::Recorded { delays_s } => {
                let n = delays_s.len();
                if n == 0 || n > MAX_RECORDED_DELAYS {
                    return Err(SimError::LimitExceeded {
                        what: "recorded delays (1 to limit)",
                        limit: MAX_RECORDED_DELAYS as u64,
                        got: n as u64,
                    });
                }
                for (i, d) in delays_s.iter().enumerate() {
                    check(&format!("{name}.delays_s[{i}]"), *d, in_range(*d), "in [0, MAX_LATENCY_S]")?;
                }
                Ok(())
            }
        }
    }

    /// The model this configuration describes (validate first).
    pub fn build(&self) -> Latency {
        Latency { config: self.clone(), cursor: 0 }
    }
}

/// A configured latency model with its state (the cursor of a recorded series).
#[derive(Debug, Clone, PartialEq)]
pub struct Latency {
    config: LatencyConfig,
    cursor: usize,
}

impl LatencyModel for Latency {
    fn next_delay_s(&mut self, rng: &mut ModelRng) -> f64 {
        let d = match &self.config {
            LatencyConfig::Constant { delay_s } => *delay_s,
            LatencyConfig::LogNormal { median_s, sigma } => {
                let z: f64 = StandardNormal.sample(rng);
                median_s * (sigma * z).exp()
            }
            LatencyConfig::Recorded { delays_s } => {
                // An empty series (rejected by `validate`) means no delay rather than a panic.
                let d = delays_s.get(self.cursor).copied().unwrap_or(0.0);
                self.cursor = if self.cursor + 1 >= delays_s.len() { 0 } else { self.cursor + 1 };
                d
            }
        };
        if d.is_finite() {
            d.clamp(0.0, MAX_LATENCY_S)
        } else {
            MAX_LATENCY_S
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_delays_cycle_in_order() {
        let mut l = LatencyConfig::Recorded { delays_s: vec![0.1, 0.2, 0.3] }.build();
        let mut rng = zkclob_models::seeded_rng(1);
        let got: Vec<f64> = (0..7).map(|_| l.next_delay_s(&mut rng)).collect();
        assert_eq!(got, [0.1, 0.2, 0.3, 0.1, 0.2, 0.3, 0.1]);
    }

    #[test]
    fn lognormal_median_is_the_configured_one() {
        let mut l = LatencyConfig::LogNormal { median_s: 0.01, sigma: 0.7 }.build();
        let mut rng = zkclob_models::seeded_rng(2);
        let mut v: Vec<f64> = (0..20_001).map(|_| l.next_delay_s(&mut rng)).collect();
        v.sort_by(f64::total_cmp);
        assert!((v[10_000] / 0.01 - 1.0).abs() < 0.05, "median {}", v[10_000]);
    }

    #[test]
    fn bad_latencies_are_errors() {
        assert!(LatencyConfig::Constant { delay_s: -1.0 }.validate("x").is_err());
        assert!(LatencyConfig::Constant { delay_s: f64::NAN }.validate("x").is_err());
        assert!(LatencyConfig::LogNormal { median_s: 0.0, sigma: 1.0 }.validate("x").is_err());
        assert!(LatencyConfig::Recorded { delays_s: vec![] }.validate("x").is_err());
        assert!(LatencyConfig::Recorded { delays_s: vec![0.1, f64::INFINITY] }.validate("x").is_err());
        // Built without validation, an empty series still does not panic.
        let mut empty = LatencyConfig::Recorded { delays_s: vec![] }.build();
        assert_eq!(empty.next_delay_s(&mut zkclob_models::seeded_rng(1)), 0.0);
    }
}
