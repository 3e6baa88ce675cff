//! Rough volatility: fractional Gaussian noise, the rough Bergomi model, Hurst-exponent estimators
//! and volatility-clustering diagnostics.

pub mod bergomi;
pub mod clustering;
pub mod fbm;
pub mod hurst;

pub use bergomi::{BergomiPath, RoughBergomi};
pub use clustering::{abs_return_autocorrelation, arch_lm_test, ArchLmTest};
pub use fbm::{
    fbm_from_fgn, fgn_autocovariance, fgn_cholesky, fgn_davies_harte, MAX_CHOLESKY_POINTS, MAX_FGN_POINTS,
};
pub use hurst::{
    hurst_dfa, hurst_exponent, hurst_rescaled_range, hurst_variogram, HurstEstimate, HurstMethod,
};
