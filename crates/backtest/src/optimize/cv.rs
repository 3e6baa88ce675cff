//! Purged k-fold cross-validation with an embargo (López de Prado, *Advances in Financial Machine
//! Learning*, ch. 7), as index splitting.
//!
//! Observations are time-ordered indices 0..n. Each fold's test set is one contiguous block. From
//! the training set we remove
//! - **purged** indices: the `purge` indices just before the test block, whose labels (computed
//!   over the next `purge` indices) overlap the test period;
//! - **embargoed** indices: the `embargo` indices just after the test block, which are correlated
//!   with the test period's end through serial dependence.
//!
//! With `purge = embargo = e`, no training index lies within `e` of any test index.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::error::{BacktestError, Result};

/// Most folds of one split.
pub const MAX_FOLDS: usize = 1_000;

/// One fold of a split.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fold {
    /// 0-based fold number.
    pub index: usize,
    /// The test block.
    pub test: Range<usize>,
    /// The training indices, ascending.
    pub train: Vec<usize>,
}

/// Splits 0..n into `k` contiguous test blocks (sizes differ by at most one, the larger first) and,
/// for each, the training indices outside the block, its `purge` predecessors and its `embargo`
/// successors.
///
/// ```
/// let folds = zkclob_backtest::optimize::purged_k_fold(10, 2, 1, 2)?;
/// assert_eq!(folds[0].test, 0..5);
/// assert_eq!(folds[0].train, vec![7, 8, 9]);       // 5, 6 embargoed
/// assert_eq!(folds[1].train, vec![0, 1, 2, 3]);    // 4 purged
/// # Ok::<(), zkclob_backtest::BacktestError>(())
/// ```
pub fn purged_k_fold(n: usize, k: usize, purge: usize, embargo: usize) -> Result<Vec<Fold>> {
    if k < 2 || k > n || k > MAX_FOLDS {
        return Err(BacktestError::InvalidConfig(format!(
            "purged k-fold needs 2 ≤ k ≤ min(n, {MAX_FOLDS}); got k = {k}, n = {n}"
        )));
    }
    let (base, extra) = (n / k, n % k);
    let mut folds = Vec::with_capacity(k);
    let mut start = 0usize;
    for index in 0..k {
        let end = start + base + usize::from(index < extra);
        let excluded = start.saturating_sub(purge)..end.saturating_add(embargo).min(n);
        let train = (0..n).filter(|i| !excluded.contains(i)).collect();
        folds.push(Fold { index, test: start..end, train });
        start = end;
    }
    Ok(folds)
}
