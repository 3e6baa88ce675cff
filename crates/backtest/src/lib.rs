//! # zkclob-backtest
//!
//! Backtesting on the exchange's own matching engine. This crate owns:
//! - [`analytics`]: the metrics of a [`zkclob_sim::RunLog`] — PnL (FIFO attribution), returns,
//!   Sharpe/Sortino/information/Calmar ratios, drawdowns, inventory, fills, mark-outs and
//!   transaction costs, and their statistical significance (stationary bootstrap, probabilistic and
//!   deflated Sharpe ratios);
//! - [`report`]: `report.json`, `report.md` and PNG/SVG charts of a run or of an optimisation;
//! - [`optimize`]: grid, random and Bayesian (Gaussian-process) parameter search evaluated in
//!   parallel, walk-forward analysis and purged k-fold cross-validation;
//! - [`lobster_l3`]: replay of recorded LOBSTER market data with our orders inserted into the real
//!   book (exact FIFO queue position);
//! - [`l2`]: replay of L2 data (LOBSTER orderbook files, a documented CSV, hftbacktest's event
//!   rows) with our orders' queue positions estimated by pluggable queue models (risk-averse,
//!   probabilistic).
//!
//! It is research-side, floating-point code: it must never be a dependency of the consensus crates
//! (`core`, `book`, `state`) or of the zkVM guests, and it never depends on the prover.
//!
//! ```no_run
//! use zkclob_backtest::{analytics::MetricsConfig, write_report};
//!
//! let log: zkclob_sim::RunLog = serde_json::from_str(&std::fs::read_to_string("run.json")?)?;
//! let summary = write_report(&log, &MetricsConfig::default(), "out/report".as_ref())?;
//! println!("PnL {} tick·lots, Sharpe {:?}", summary.pnl, summary.sharpe);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

pub mod analytics;
mod charts;
mod driver;
pub mod error;
mod fsutil;
pub mod l2;
pub mod lobster_l3;
pub mod optimize;
pub mod report;

pub use analytics::{compute_metrics, Metrics, MetricsConfig};
pub use error::{BacktestError, Result};
pub use report::{write_optimization_report, write_report, write_report_with_metrics, ReportSummary};
