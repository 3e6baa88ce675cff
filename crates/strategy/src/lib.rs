//! # zkclob-strategy
//!
//! The market maker's brain, in `f64`, for the research world: one [`Quoter`] interface that the
//! backtester, the simulator and live trading all drive unchanged.
//!
//! This crate owns:
//! - [`quoter`]: the shared interface ([`MarketView`] in, [`Quotes`] out) and its error type;
//! - [`models`]: the quoting models — Avellaneda–Stoikov, GLFT (asymptotic closed form and exact
//!   finite-inventory), Cartea–Jaimungal, a numerical-HJB quoter, Glosten–Milgrom — and the rounding
//!   of model depths to ticks and lots;
//! - [`fixed`]: the fixed-point twin of the GLFT asymptotic rule for the consensus world;
//! - [`calibration`]: σ (realised, EWMA), A and k per side from trade-arrival depths, Hawkes-based
//!   intensity adjustment;
//! - [`inventory`]: position limits, skew, automatic reduction, square-root-impact sizing, adaptive
//!   parameters;
//! - [`pipeline`]: [`pipeline::MarketMaker`], a [`Quoter`] built from a [`DepthModel`], calibration,
//!   inventory management and risk controls;
//! - [`risk`]: PnL and drawdown monitoring, the kill switch, emergency liquidation, every decision
//!   with its reason.
//!
//! Units: prices in ticks, sizes in lots, time in seconds, unless a name says otherwise.
//!
//! Mapping of the original plan's references (see `../shared/spec/quoting.md`): "closed-form spreads
//! (9.18)-(9.21)" are the quote sets of Avellaneda–Stoikov and GLFT; "inventory penalty
//! (6.14)-(6.17)" is Cartea–Jaimungal's running penalty φq², terminal penalty αq², its HJB and
//! feedback depths.

#![warn(missing_docs)]

pub mod calibration;
pub mod fixed;
pub mod inventory;
pub mod models;
pub mod pipeline;
pub mod quoter;
pub mod risk;

pub use quoter::{
    depths_to_prices, BookLevel, DepthContext, DepthModel, LiveParams, MarketTrade, MarketView, ModelDepths,
    OrderIntent, Quoter, Quotes, StrategyError,
};
