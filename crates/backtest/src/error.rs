//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong in analytics, reports and optimisation. Bad input is an error,
/// never a panic; a panic in this crate is a bug.
#[derive(Debug, thiserror::Error)]
pub enum BacktestError {
    /// Reading or writing a file failed.
    #[error("I/O error at {}: {source}", path.display())]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Encoding JSON failed.
    #[error("JSON encoding failed: {0}")]
    Json(#[from] serde_json::Error),
    /// Drawing or encoding a chart failed.
    #[error("chart rendering failed: {0}")]
    Chart(String),
    /// A configuration value is out of its documented range.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// A run log breaks its documented contract (non-finite values, time going backwards).
    #[error("invalid run log: {0}")]
    InvalidLog(String),
    /// A parameter space or a search over it is malformed (empty range, too many points).
    #[error("invalid parameter space: {0}")]
    InvalidSpace(String),
}

/// Shorthand for results in this crate.
pub type Result<T> = std::result::Result<T, BacktestError>;
