//! Performance analytics of a [`RunLog`]: PnL, risk-adjusted returns with their statistical
//! significance, drawdowns, inventory, fills, mark-outs and transaction costs.
//!
//! Units: money in tick·lots (one tick of price on one lot), prices in ticks, sizes in lots, time in
//! seconds. A "return" is the PnL change over one sample interval (see [`risk::returns`]).
//! Annualisation multiplies means by `periods_per_year` and standard deviations by its square root,
//! where `periods_per_year` comes from [`Annualisation`].
//!
//! Degenerate inputs never produce NaN or a panic: a value that the data cannot define (a Sharpe
//! ratio with zero variance, a fill ratio without orders, anything of an empty log) is `None`, which
//! is `null` in JSON. Sums over nothing are 0.
//!
//! ```
//! use zkclob_backtest::analytics::{compute_metrics, MetricsConfig};
//! use zkclob_sim::RunLog;
//!
//! let metrics = compute_metrics(&RunLog::default(), &MetricsConfig::default())?;
//! assert_eq!(metrics.pnl.total, 0.0);
//! assert_eq!(metrics.risk.sharpe, None);
//! # Ok::<(), zkclob_backtest::BacktestError>(())
//! ```

pub mod execution;
pub mod inventory;
pub mod pnl;
pub mod risk;
pub mod significance;
pub mod stats;

use serde::{Deserialize, Serialize};
use zkclob_sim::RunLog;

pub use execution::{Execution, FillStats, HorizonTca};
pub use inventory::{InventoryStats, LiquidityAdjusted};
pub use pnl::PnlBreakdown;
pub use risk::{Drawdown, ReturnStats, RiskMetrics};
pub use significance::{BootstrapConfig, BootstrapSummary, Interval, Significance, TrialStats};

use crate::error::{BacktestError, Result};

/// Trading seconds in a year of a US equity venue: 252 days × 6.5 hours.
pub const US_EQUITY_TRADING_SECONDS_PER_YEAR: f64 = 252.0 * 6.5 * 3600.0;

/// Calendar seconds in a year of a 24/7 venue (365 days).
pub const CONTINUOUS_SECONDS_PER_YEAR: f64 = 365.0 * 24.0 * 3600.0;

/// Most mark-out horizons one report may ask for.
pub const MAX_MARKOUT_HORIZONS: usize = 16;

/// How many sample periods make a year.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Annualisation {
    /// A fixed number of periods per year.
    PeriodsPerYear(f64),
    /// Seconds of trading per year; periods per year = this / the log's `sample_interval_s`.
    SecondsPerYear(f64),
}

impl Default for Annualisation {
    fn default() -> Self {
        Self::SecondsPerYear(US_EQUITY_TRADING_SECONDS_PER_YEAR)
    }
}

/// What the information ratio measures against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Benchmark {
    /// Zero return: the information ratio equals the Sharpe ratio.
    Zero,
    /// Holding this many lots (negative = short) from the start, marked to mid.
    HoldLots(i64),
}

/// Settings of [`compute_metrics`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MetricsConfig {
    /// How to annualise; default 252 × 6.5 h of trading seconds per year.
    pub annualisation: Annualisation,
    /// Benchmark of the information ratio; default holding one lot.
    pub benchmark: Benchmark,
    /// Mark-out and TCA horizons, seconds (at most [`MAX_MARKOUT_HORIZONS`]); default 1, 5, 30, 60.
    pub markout_horizons_s: Vec<f64>,
    /// Inventory limit of the strategy, for the time-at-limit statistic.
    pub inventory_limit_lots: Option<u64>,
    /// Bootstrap of the mean return and the Sharpe ratio.
    pub bootstrap: BootstrapConfig,
    /// Annualised Sharpe ratio the probabilistic Sharpe ratio tests against; default 0.
    pub psr_benchmark_sharpe: f64,
    /// The trials of the search that picked this run, for the deflated Sharpe ratio.
    pub trials: Option<TrialStats>,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            annualisation: Annualisation::default(),
            benchmark: Benchmark::HoldLots(1),
            markout_horizons_s: vec![1.0, 5.0, 30.0, 60.0],
            inventory_limit_lots: None,
            bootstrap: BootstrapConfig::default(),
            psr_benchmark_sharpe: 0.0,
            trials: None,
        }
    }
}

impl MetricsConfig {
    /// Checks every value against its documented range.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(BacktestError::InvalidConfig(m));
        match self.annualisation {
            Annualisation::PeriodsPerYear(x) | Annualisation::SecondsPerYear(x)
                if !(x > 0.0 && x.is_finite()) =>
            {
                return bad(format!("annualisation must be positive and finite, got {x}"));
            }
            _ => {}
        }
        if self.markout_horizons_s.len() > MAX_MARKOUT_HORIZONS {
            return bad(format!("at most {MAX_MARKOUT_HORIZONS} mark-out horizons"));
        }
        if let Some(h) = self.markout_horizons_s.iter().find(|h| !(h.is_finite() && **h >= 0.0)) {
            return bad(format!("mark-out horizon {h} must be finite and ≥ 0"));
        }
        let b = &self.bootstrap;
        if b.resamples > significance::MAX_BOOTSTRAP_RESAMPLES {
            return bad(format!("at most {} bootstrap resamples", significance::MAX_BOOTSTRAP_RESAMPLES));
        }
        if !(b.confidence > 0.0 && b.confidence < 1.0) {
            return bad(format!("bootstrap confidence {} must be in (0, 1)", b.confidence));
        }
        if b.mean_block_len.is_some_and(|l| !(l >= 1.0 && l.is_finite())) {
            return bad("bootstrap mean block length must be ≥ 1".into());
        }
        if !self.psr_benchmark_sharpe.is_finite() {
            return bad("PSR benchmark Sharpe must be finite".into());
        }
        if self.trials.is_some_and(|t| !(t.sharpe_variance >= 0.0 && t.sharpe_variance.is_finite())) {
            return bad("trial Sharpe variance must be finite and ≥ 0".into());
        }
        Ok(())
    }

    /// Periods per year for a log sampled every `sample_interval_s` seconds; `None` if the log's
    /// interval is not positive and the annualisation needs it.
    pub fn periods_per_year(&self, sample_interval_s: f64) -> Option<f64> {
        match self.annualisation {
            Annualisation::PeriodsPerYear(p) => Some(p),
            Annualisation::SecondsPerYear(s) => {
                (sample_interval_s > 0.0 && sample_interval_s.is_finite()).then(|| s / sample_interval_s)
            }
        }
    }
}

/// Everything [`compute_metrics`] reports about one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Periods per year used for annualisation.
    pub periods_per_year: f64,
    /// Last sample time − first sample time, seconds (0 without samples).
    pub duration_s: f64,
    /// Number of samples.
    pub samples: usize,
    /// Market events processed.
    pub events: u64,
    /// PnL and its attribution.
    pub pnl: PnlBreakdown,
    /// Per-period returns.
    pub returns: ReturnStats,
    /// Risk-adjusted ratios.
    pub risk: RiskMetrics,
    /// Maximum drawdown.
    pub drawdown: Drawdown,
    /// Bootstrap intervals, PSR and DSR.
    pub significance: Significance,
    /// Liquidity-adjusted returns.
    pub liquidity: LiquidityAdjusted,
    /// Inventory statistics.
    pub inventory: InventoryStats,
    /// Fill counts and ratios.
    pub fills: FillStats,
    /// Mark-outs, adverse selection and transaction costs.
    pub execution: Execution,
}

/// Checks that the log keeps its documented contract: finite numbers, samples and fills in time
/// order.
pub fn validate_log(log: &RunLog) -> Result<()> {
    let bad = |m: String| Err(BacktestError::InvalidLog(m));
    for (i, s) in log.samples.iter().enumerate() {
        if ![s.time_s, s.mid_ticks, s.cash, s.fees, s.pnl].iter().all(|x| x.is_finite()) {
            return bad(format!("sample {i} has a non-finite value"));
        }
        if i > 0 && s.time_s < log.samples[i - 1].time_s {
            return bad(format!("sample {i} goes back in time"));
        }
    }
    for (i, f) in log.fills.iter().enumerate() {
        if ![f.time_s, f.fee, f.mid_before].iter().all(|x| x.is_finite()) {
            return bad(format!("fill {i} has a non-finite value"));
        }
        if i > 0 && f.time_s < log.fills[i - 1].time_s {
            return bad(format!("fill {i} goes back in time"));
        }
    }
    Ok(())
}

/// The log's sample interval, or the mean spacing of its samples if it states none.
fn effective_interval_s(log: &RunLog) -> f64 {
    if log.sample_interval_s > 0.0 && log.sample_interval_s.is_finite() {
        return log.sample_interval_s;
    }
    match (log.samples.first(), log.samples.last()) {
        (Some(a), Some(b)) if log.samples.len() >= 2 => {
            (b.time_s - a.time_s) / (log.samples.len() - 1) as f64
        }
        _ => 0.0,
    }
}

/// Computes every metric of a run.
///
/// Errors only on an invalid configuration or a log that breaks its contract ([`validate_log`]);
/// an empty or degenerate log gives `None`s and zeros. When the annualisation needs the log's
/// sample interval and the log does not state one (≤ 0), the mean spacing of its samples is used;
/// with fewer than two samples (no returns to annualise), one period per second.
pub fn compute_metrics(log: &RunLog, cfg: &MetricsConfig) -> Result<Metrics> {
    cfg.validate()?;
    validate_log(log)?;
    let periods_per_year =
        cfg.periods_per_year(effective_interval_s(log)).unwrap_or(match cfg.annualisation {
            Annualisation::PeriodsPerYear(p) | Annualisation::SecondsPerYear(p) => p,
        });
    let r = risk::returns(log);
    let bench = risk::benchmark_returns(log, cfg.benchmark);
    let drawdown = risk::drawdown(log);
    let pnl = pnl::pnl_breakdown(log);
    let fills = execution::fill_stats(log);
    let inventory = inventory::inventory_stats(log, cfg.inventory_limit_lots);
    Ok(Metrics {
        periods_per_year,
        duration_s: match (log.samples.first(), log.samples.last()) {
            (Some(a), Some(b)) => b.time_s - a.time_s,
            _ => 0.0,
        },
        samples: log.samples.len(),
        events: log.events,
        returns: risk::return_stats(&r),
        risk: risk::risk_metrics(&r, &bench, cfg.benchmark, periods_per_year, drawdown.max_drawdown),
        significance: significance::significance(
            &r,
            periods_per_year,
            &cfg.bootstrap,
            cfg.psr_benchmark_sharpe,
            cfg.trials,
        ),
        liquidity: inventory::liquidity_adjusted(
            pnl.total,
            fills.volume_lots,
            inventory.inventory_lot_seconds,
        ),
        execution: execution::execution(log, &cfg.markout_horizons_s),
        drawdown,
        pnl,
        fills,
        inventory,
    })
}
