//! # zkclob-sim
//!
//! An agent-based market on the real `zkclob-book` engine, for testing quoting strategies before
//! risking capital. This crate owns the simulator and the [`log::RunLog`] every run (simulated or
//! replayed, see `zkclob-backtest`) produces for analytics. It must never depend on the exchange
//! state, the node or the backtester; it uses the book exactly as the exchange does.
//!
//! Units: prices in ticks, sizes in lots, time in seconds; money in tick·lots (one tick of price on
//! one lot) unless a name says otherwise.
//!
//! # The market
//! One [`zkclob_book::Book`] and a discrete-event queue ordered by (time, sequence number):
//!
//! - **background flow**: a 6-dimensional Hawkes process (limit, market and cancel orders by side,
//!   exponential kernels) sampled online by thinning; limit orders are placed at a geometric
//!   distance from the **fundamental** F and live an exponential time (GTD orders), so the book
//!   follows F; a cancel removes a uniformly random resting background order ([`FlowConfig`]);
//! - **the fundamental**: a Merton or Kou jump-diffusion stepped exactly on a grid, optionally with
//!   a rough-Bergomi variance path ([`FundamentalConfig`]), plus the **permanent price impact** of
//!   market orders: an order that takes q lots from a side showing D lots near the mid moves F by
//!   Y·√(q/D) ticks in its direction for good ([`ImpactConfig`]), so the book, which follows F,
//!   does not simply refill where it was: order flow carries information, and a market maker
//!   faces adverse selection;
//! - **informed traders** know F a few seconds ahead and send market orders toward it when it is
//!   far enough from the mid, **noise traders** send random market orders ([`InformedConfig`],
//!   [`NoiseConfig`]);
//! - **our strategy**: any [`zkclob_strategy::Quoter`]. It sees the book (top N levels), the
//!   trades since its last decision and its inventory through a feed with latency, decides on
//!   market-data arrival and/or a timer ([`AgentConfig`]), and its orders reach the book after an
//!   entry latency ([`LatencyConfig`]). They rest in the real book under [`OUR_ACCOUNT`], so queue
//!   position is exact; fills are charged by a [`FeeModel`];
//! - **stress**: windows of changed intensities, placement and volatility, and price shocks with
//!   liquidity withdrawal and recovery ([`StressConfig`]); named presets in [`PRESET_NAMES`].
//!
//! A run is a pure function of the configuration, the strategy and the seed. Each component draws
//! from its own seeded stream, so two strategies run with one seed face the same background
//! arrival times (common random numbers).
//!
//! ```
//! use zkclob_sim::{default_market_maker, run, SimConfig};
//! let config = SimConfig { duration_s: 60.0, ..SimConfig::preset("default")? };
//! let out = run(&config, default_market_maker(&config)?, 7, None)?;
//! assert_eq!(out.log.samples.last().map(|s| s.time_s), Some(60.0));
//! assert!(out.log.events > 1_000);
//! # Ok::<(), zkclob_sim::SimError>(())
//! ```

#![warn(missing_docs)]

pub mod config;
mod engine;
pub mod error;
mod feed;
pub mod fees;
mod flow;
mod fundamental;
pub mod latency;
pub mod log;
pub mod output;

pub use config::{
    AgentConfig, FlowConfig, FlowRates, FundamentalConfig, ImpactConfig, InformedConfig, JumpConfig,
    KernelConfig, LatencyPair, MarketConfig, NoiseConfig, PriceShock, RoughVolConfig, SimConfig, SizeConfig,
    StressConfig, StressWindow, FLOW_DIMS, FLOW_DIM_NAMES, PRESET_NAMES,
};
pub use engine::{BACKGROUND_ACCOUNTS, BACKGROUND_ACCOUNT_BASE, OUR_ACCOUNT, OUR_ORDER_ID_BASE};
pub use error::SimError;
pub use feed::MAX_VIEW_TRADES;
pub use fees::{FeeConfig, FeeModel};
pub use latency::{Latency, LatencyConfig, LatencyModel};
pub use log::{FillRecord, FillSide, RunLog, Sample};
pub use output::{MarketSample, SimOutput, SimStats, TradeRecord};

use zkclob_strategy::models::{GlftAsymptotic, GlftAsymptoticParams};
use zkclob_strategy::pipeline::{MarketMaker, MarketMakerConfig};
use zkclob_strategy::Quoter;

/// Runs one simulation of `config` with `quoter` as our strategy.
///
/// `progress`, if given, is called with the fraction of simulated time done (at every sample and
/// with 1.0 at the end), e.g. to draw a progress bar.
///
/// Errors: an invalid configuration ([`SimConfig::validate`]), a model that refuses its
/// parameters, or (with [`SimConfig::check_invariants_every`]) a broken book invariant.
pub fn run(
    config: &SimConfig,
    quoter: Box<dyn Quoter>,
    seed: u64,
    progress: Option<&mut dyn FnMut(f64)>,
) -> Result<SimOutput, SimError> {
    config.validate()?;
    engine::Sim::new(config, quoter, seed)?.run(progress)
}

/// The default strategy of `zkclob simulate`: a [`MarketMaker`] around the GLFT closed form
/// ([`GlftAsymptotic`], Guéant's parameters with σ set to the fundamental's, in ticks per √s),
/// with the default pipeline configuration and the session ending with the run.
pub fn default_market_maker(config: &SimConfig) -> Result<Box<dyn Quoter>, SimError> {
    let sigma_ticks = config.fundamental.sigma_per_sqrt_s * config.market.initial_price_ticks as f64;
    let params =
        GlftAsymptoticParams { sigma_ticks_per_sqrt_s: sigma_ticks, ..GlftAsymptoticParams::default() };
    let model = GlftAsymptotic::new(params)?;
    let mm = MarketMaker::new(
        model,
        MarketMakerConfig { session_end_s: config.duration_s, ..Default::default() },
    )?;
    Ok(Box::new(mm))
}
