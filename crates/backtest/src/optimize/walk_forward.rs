//! Walk-forward analysis: optimise on an in-sample window, evaluate the chosen parameters on the
//! out-of-sample window that follows, roll forward, repeat. Indices are the caller's units (samples,
//! days, files); the objective receives the range it must evaluate on.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::{optimize, Goal, ParamSpace, Params, Search};
use crate::error::{BacktestError, Result};

/// Most windows one analysis may have.
pub const MAX_WINDOWS: usize = 10_000;

/// How the windows roll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalkForwardConfig {
    /// Length of the whole history.
    pub total_len: usize,
    /// In-sample length (the first window's, when anchored).
    pub in_sample_len: usize,
    /// Out-of-sample length.
    pub out_of_sample_len: usize,
    /// How far each window moves; `None` = `out_of_sample_len` (out-of-sample windows tile).
    pub step: Option<usize>,
    /// Indices skipped between in-sample and out-of-sample (a purge for labels that look ahead).
    pub gap: usize,
    /// Whether every in-sample window starts at 0 (expanding) instead of rolling.
    pub anchored: bool,
}

/// One in-sample / out-of-sample pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// 0-based window number.
    pub index: usize,
    /// Where to optimise.
    pub in_sample: Range<usize>,
    /// Where to evaluate the optimised parameters.
    pub out_of_sample: Range<usize>,
}

/// The windows of a walk-forward analysis; only complete out-of-sample windows are kept.
pub fn walk_forward_windows(cfg: &WalkForwardConfig) -> Result<Vec<Window>> {
    let step = cfg.step.unwrap_or(cfg.out_of_sample_len);
    if cfg.in_sample_len == 0 || cfg.out_of_sample_len == 0 || step == 0 {
        return Err(BacktestError::InvalidConfig("walk-forward lengths and step must be positive".into()));
    }
    let mut windows = Vec::new();
    let mut start = 0usize;
    loop {
        let is_end = start + cfg.in_sample_len;
        let oos_start = is_end + cfg.gap;
        let oos_end = oos_start + cfg.out_of_sample_len;
        if oos_end > cfg.total_len {
            break;
        }
        if windows.len() == MAX_WINDOWS {
            return Err(BacktestError::InvalidConfig(format!(
                "more than {MAX_WINDOWS} walk-forward windows"
            )));
        }
        let is_start = if cfg.anchored { 0 } else { start };
        windows.push(Window {
            index: windows.len(),
            in_sample: is_start..is_end,
            out_of_sample: oos_start..oos_end,
        });
        start += step;
    }
    if windows.is_empty() {
        return Err(BacktestError::InvalidConfig("history too short for one walk-forward window".into()));
    }
    Ok(windows)
}

/// The outcome of one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WalkForwardRow {
    /// The window.
    pub window: Window,
    /// The in-sample optimum; `None` if no in-sample value was finite.
    pub best_params: Option<Params>,
    /// Its in-sample objective value.
    pub in_sample_objective: Option<f64>,
    /// Its out-of-sample objective value.
    pub out_of_sample_objective: Option<f64>,
    /// Evaluations spent in sample.
    pub trials: usize,
}

/// The whole analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WalkForwardResult {
    /// One row per window.
    pub rows: Vec<WalkForwardRow>,
    /// Mean in-sample objective over windows with a value.
    pub mean_in_sample: Option<f64>,
    /// Mean out-of-sample objective over windows with a value.
    pub mean_out_of_sample: Option<f64>,
    /// Walk-forward efficiency: mean out-of-sample / mean in-sample (how much of the in-sample
    /// performance survives); `None` if either is missing or the in-sample mean is 0.
    pub efficiency: Option<f64>,
}

fn mean_of(values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let v: Vec<f64> = values.flatten().collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// Runs a walk-forward analysis: for each window, `search` maximises (or minimises) `objective`
/// over the in-sample range, then the best parameters are scored on the out-of-sample range.
///
/// ```
/// use zkclob_backtest::optimize::*;
///
/// let space = ParamSpace::new(vec![ParamSpec::real("x", 0.0, 1.0)])?;
/// let cfg = WalkForwardConfig { total_len: 100, in_sample_len: 40, out_of_sample_len: 20,
///                               step: None, gap: 0, anchored: false };
/// // A toy objective whose optimum drifts with time.
/// let f = |p: &Params, r: std::ops::Range<usize>| -(p.get("x").unwrap() - r.start as f64 / 100.0).powi(2);
/// let wf = walk_forward(&space, &Search::Grid { points_per_dim: 11 }, Goal::Maximize, &cfg, f)?;
/// assert_eq!(wf.rows.len(), 3);
/// # Ok::<(), zkclob_backtest::BacktestError>(())
/// ```
pub fn walk_forward<F>(
    space: &ParamSpace,
    search: &Search,
    goal: Goal,
    cfg: &WalkForwardConfig,
    objective: F,
) -> Result<WalkForwardResult>
where
    F: Fn(&Params, Range<usize>) -> f64 + Sync,
{
    let mut rows = Vec::new();
    for window in walk_forward_windows(cfg)? {
        let in_sample = window.in_sample.clone();
        let result = optimize(space, search, goal, |p| objective(p, in_sample.clone()))?;
        let best = result.best.clone();
        let out_of_sample_objective = best
            .as_ref()
            .map(|b| objective(&b.params, window.out_of_sample.clone()))
            .filter(|v| v.is_finite());
        rows.push(WalkForwardRow {
            window,
            in_sample_objective: best.as_ref().and_then(|b| b.objective),
            best_params: best.map(|b| b.params),
            out_of_sample_objective,
            trials: result.rows.len(),
        });
    }
    let mean_in_sample = mean_of(rows.iter().map(|r| r.in_sample_objective));
    let mean_out_of_sample = mean_of(rows.iter().map(|r| r.out_of_sample_objective));
    let efficiency = match (mean_in_sample, mean_out_of_sample) {
        (Some(i), Some(o)) if i != 0.0 => Some(o / i).filter(|e| e.is_finite()),
        _ => None,
    };
    Ok(WalkForwardResult { rows, mean_in_sample, mean_out_of_sample, efficiency })
}
