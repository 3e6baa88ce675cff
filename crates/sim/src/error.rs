//! The crate's error type: every way a caller can hand the simulator a bad configuration, and the
//! few ways a run can fail.

use zkclob_book::InvariantViolation;
use zkclob_models::ModelError;
use zkclob_strategy::StrategyError;

/// Errors of the simulator. A bad configuration is always one of these, never a panic.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimError {
    /// A parameter is non-finite or outside its domain. `name` is the TOML path of the field.
    #[error("invalid parameter {name} = {value}: must be {requirement}")]
    InvalidParameter {
        /// The field, as a TOML path (`flow.baseline_per_s.limit_buy`).
        name: String,
        /// The offending value.
        value: f64,
        /// What it must be.
        requirement: &'static str,
    },
    /// The background flow's Hawkes kernel is not stationary: its branching ratio (spectral radius
    /// of the kernel-norm matrix) is not below 1, so the flow would explode.
    #[error("background flow is not stationary: branching ratio {branching_ratio} must be < 1")]
    NonStationaryFlow {
        /// The spectral radius of Σₖ αₖ/βₖ.
        branching_ratio: f64,
    },
    /// A count or size above a documented limit.
    #[error("{what}: {got} exceeds the limit of {limit}")]
    LimitExceeded {
        /// Which quantity.
        what: &'static str,
        /// The limit.
        limit: u64,
        /// The requested or reached value.
        got: u64,
    },
    /// [`crate::SimConfig::preset`] was given a name it does not know.
    #[error("unknown preset {0:?} (known: {known})", known = crate::config::PRESET_NAMES.join(", "))]
    UnknownPreset(String),
    /// A configuration document could not be parsed (syntax, unknown key, wrong type).
    #[error("configuration: {0}")]
    Config(String),
    /// A model from `zkclob-models` refused its parameters.
    #[error("model: {0}")]
    Model(#[from] ModelError),
    /// The strategy could not be built.
    #[error("strategy: {0}")]
    Strategy(#[from] StrategyError),
    /// The book's invariant check failed during a run (a bug in the book or the simulator).
    #[error("after {events} events at t = {time_s} s: {violation}")]
    Invariant {
        /// The broken invariant.
        violation: InvariantViolation,
        /// Simulated time, seconds.
        time_s: f64,
        /// Market events processed so far.
        events: u64,
    },
    /// The simulator's own records of resting orders disagree with the book (a bug in the
    /// simulator), found by the same periodic check.
    #[error("simulator bookkeeping broken at t = {time_s} s: {what}")]
    Bookkeeping {
        /// What disagrees.
        what: &'static str,
        /// Simulated time, seconds.
        time_s: f64,
    },
}

/// Checks `ok` for a parameter; the error names it.
pub(crate) fn check(name: &str, value: f64, ok: bool, requirement: &'static str) -> Result<(), SimError> {
    if value.is_finite() && ok {
        Ok(())
    } else {
        Err(SimError::InvalidParameter { name: name.to_string(), value, requirement })
    }
}
