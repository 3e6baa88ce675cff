//! # zkclob-models
//!
//! The market maker's view of the world: stochastic models of prices and order flow, in `f64`, for
//! the research side of zkclob (`strategy`, `sim`, `backtest`, `ml` and the CLI's calculators).
//!
//! This crate owns:
//! - [`sde`]: geometric Brownian motion, Merton and Kou jump-diffusions, Euler–Maruyama and
//!   Milstein schemes, and the Merton option-price series;
//! - [`hawkes`]: self-exciting point processes (likelihoods, maximum likelihood, simulation,
//!   goodness of fit, online intensity, a non-parametric EM kernel estimator);
//! - [`rough`]: fractional Gaussian noise, rough Bergomi, Hurst estimators and volatility-clustering
//!   diagnostics;
//! - [`hjb`]: finite-difference solvers of the market-making Hamilton–Jacobi–Bellman equation and
//!   the exact matrix-exponential solutions they are checked against.
//!
//! **Never use this crate inside the consensus crates (`core`, `book`, `state`, the zkVM guests).**
//! It is floating-point and std-only; a float must never cross into the state transition. Where a
//! formula from here is needed in consensus code, it gets a fixed-point twin there.
//!
//! Randomness is always passed in (`&mut R where R: rand::Rng`) or built from a seed with
//! [`seeded_rng`], so every result is reproducible. Units are in names: `_s` seconds, `_per_s`
//! rates, `_ticks` prices.
//!
//! ```
//! use zkclob_models::hawkes::{fit_exp_hawkes, ExpHawkes, FitOptions};
//!
//! // Simulate order-flow events, then recover the model by maximum likelihood.
//! let truth = ExpHawkes::new(0.5, 0.8, 1.2)?; // μ, α per second; β per second
//! let events = truth.simulate_thinning(2_000.0, &mut zkclob_models::seeded_rng(7))?;
//! let fit = fit_exp_hawkes(&events, &FitOptions::default())?;
//! assert!((fit.model.branching_ratio() - 2.0 / 3.0).abs() < 0.1);
//! assert!(fit.model.goodness_of_fit(&events).ks_pvalue > 0.001);
//! # Ok::<(), zkclob_models::ModelError>(())
//! ```

#![warn(missing_docs)]

pub mod error;
pub mod hawkes;
pub mod hjb;
mod optimize;
pub mod rough;
pub mod sde;
pub mod special;

pub use error::{ModelError, Result};

/// The crate's random number generator: xoshiro256++, fast and reproducible from a seed.
pub type ModelRng = rand_xoshiro::Xoshiro256PlusPlus;

/// Builds the crate's generator from a 64-bit seed (expanded by SplitMix64).
pub fn seeded_rng(seed: u64) -> ModelRng {
    use rand::SeedableRng;
    ModelRng::seed_from_u64(seed)
}
