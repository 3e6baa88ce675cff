//! # zkclob-backtest
//!
//! Backtesting on the exchange's own matching engine. This crate owns the analytics of a
//! [`zkclob_sim::RunLog`] (PnL, risk-adjusted returns, significance, mark-outs, transaction costs),
//! the reports (JSON and charts), parameter optimisation, and replay of recorded market data with
//! our orders inserted into the real book.

#![warn(missing_docs)]

pub mod lobster_l3;
