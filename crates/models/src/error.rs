//! The crate's error type: every way a caller can hand a model bad input.

/// Errors returned by the models. Each message says what was wrong and with which value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// A scalar parameter is non-finite or outside its allowed range.
    #[error("parameter `{name}` must be {requirement}, got {value}")]
    InvalidParameter {
        /// The parameter's name as it appears in the API (with its unit).
        name: &'static str,
        /// The condition it failed, in words (e.g. "finite and > 0").
        requirement: &'static str,
        /// The offending value.
        value: f64,
    },
    /// A data series holds a NaN or an infinity.
    #[error("{what}: value at index {index} is not finite ({value})")]
    NonFiniteData {
        /// Which series.
        what: &'static str,
        /// Zero-based position of the bad value.
        index: usize,
        /// The bad value.
        value: f64,
    },
    /// Event times are not in ascending order.
    #[error("event times must be sorted ascending: event {index} at {time_s} s comes after an event at {previous_s} s")]
    UnsortedEvents {
        /// Zero-based index of the first event that is earlier than its predecessor.
        index: usize,
        /// Its time in seconds.
        time_s: f64,
        /// The predecessor's time in seconds.
        previous_s: f64,
    },
    /// An event time lies outside the observation window [0, horizon].
    #[error("event {index} at {time_s} s lies outside the observation window [0, {horizon_s}] s")]
    EventOutsideHorizon {
        /// Zero-based index of the event.
        index: usize,
        /// Its time in seconds.
        time_s: f64,
        /// The horizon in seconds.
        horizon_s: f64,
    },
    /// Hawkes parameters whose branching ratio (mean number of children per event) is not below 1:
    /// the process would explode.
    #[error(
        "Hawkes parameters are not stationary: branching ratio {branching_ratio} must be < 1 ({detail})"
    )]
    NonStationary {
        /// The branching ratio (spectral radius of the kernel-norm matrix in the multivariate case).
        branching_ratio: f64,
        /// How it was computed, e.g. "alpha / beta = 2 / 1".
        detail: String,
    },
    /// A Hurst exponent outside the open interval (0, 1).
    #[error("Hurst exponent must lie in the open interval (0, 1), got {hurst}")]
    HurstOutOfRange {
        /// The offending value.
        hurst: f64,
    },
    /// Not enough data for the estimator to mean anything.
    #[error("{what}: need at least {needed} values, got {got}")]
    TooFewData {
        /// Which estimator or input.
        what: &'static str,
        /// Minimum accepted length.
        needed: usize,
        /// Length supplied.
        got: usize,
    },
    /// A size or count above a documented limit.
    #[error("{what}: {got} exceeds the limit of {limit}")]
    LimitExceeded {
        /// Which quantity.
        what: &'static str,
        /// The limit.
        limit: usize,
        /// The requested or reached value.
        got: usize,
    },
    /// Inputs whose lengths or shapes do not agree.
    #[error("shape mismatch: {0}")]
    ShapeMismatch(String),
    /// A numerical routine could not do its job (e.g. a matrix that should be positive definite is not).
    #[error("numerical failure: {0}")]
    Numerical(String),
}

/// Result alias used throughout the crate.
pub type Result<T> = std::result::Result<T, ModelError>;

/// Checks that `value` is finite and strictly positive.
pub(crate) fn positive(name: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(ModelError::InvalidParameter { name, requirement: "finite and > 0", value })
    }
}

/// Checks that `value` is finite and non-negative.
pub(crate) fn non_negative(name: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(ModelError::InvalidParameter { name, requirement: "finite and >= 0", value })
    }
}

/// Checks that `value` is finite.
pub(crate) fn finite(name: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(ModelError::InvalidParameter { name, requirement: "finite", value })
    }
}

/// Checks that `value` lies in the closed interval [lo, hi].
pub(crate) fn in_range(
    name: &'static str,
    value: f64,
    lo: f64,
    hi: f64,
    requirement: &'static str,
) -> Result<f64> {
    if value.is_finite() && value >= lo && value <= hi {
        Ok(value)
    } else {
        Err(ModelError::InvalidParameter { name, requirement, value })
    }
}

/// Checks that every value of a series is finite.
pub(crate) fn all_finite(what: &'static str, values: &[f64]) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(ModelError::NonFiniteData { what, index, value: values[index] }),
        None => Ok(()),
    }
}

/// Checks that a Hurst exponent lies in (0, 1).
pub(crate) fn hurst(value: f64) -> Result<f64> {
    if value.is_finite() && value > 0.0 && value < 1.0 {
        Ok(value)
    } else {
        Err(ModelError::HurstOutOfRange { hurst: value })
    }
}
