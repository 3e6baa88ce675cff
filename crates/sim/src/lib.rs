//! # zkclob-sim
//!
//! An agent-based market on the real `zkclob-book` engine, for testing quoting strategies before
//! risking capital. This crate owns the simulator and the [`log::RunLog`] every run (simulated or
//! replayed, see `zkclob-backtest`) produces for analytics.
//!
//! Units: prices in ticks, sizes in lots, time in seconds; money in tick·lots (one tick of price on
//! one lot) unless a name says otherwise.

#![warn(missing_docs)]

pub mod log;

pub use log::{FillRecord, FillSide, RunLog, Sample};
