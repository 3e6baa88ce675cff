//! Hawkes (self-exciting) point processes for order flow.
//!
//! - [`exp`]: the univariate exponential kernel — likelihood, gradient, MLE, goodness of fit,
//!   thinning and branching simulation, online intensity.
//! - [`multi`]: multivariate processes with sum-of-exponentials kernels.
//! - [`nonparametric`]: an EM estimator of a histogram kernel.

pub mod events;
pub mod exp;
pub mod multi;
pub mod nonparametric;

pub use events::{EventTimes, MAX_SIMULATED_EVENTS};
pub use exp::{
    fit_exp_hawkes, ExpHawkes, ExpHawkesFit, FitOptions, GoodnessOfFit, LogLikelihood, OnlineIntensity,
};
