//! Parameter optimisation: grid, random and Bayesian search over a [`ParamSpace`], walk-forward
//! analysis and purged k-fold cross-validation.
//!
//! The objective is any `Fn(&Params) -> f64 + Sync`; each batch of parameter sets is evaluated in
//! parallel on rayon's thread pool (one task per parameter set). Results do not depend on the number
//! of threads: every random choice is drawn from the seed before a batch is evaluated. A non-finite
//! objective value counts as the worst possible and is recorded as `None`.
//!
//! ```
//! use zkclob_backtest::optimize::{optimize, Goal, ParamSpace, ParamSpec, Search};
//!
//! let space = ParamSpace::new(vec![ParamSpec::real("x", -2.0, 2.0)])?;
//! let result = optimize(&space, &Search::Grid { points_per_dim: 41 }, Goal::Minimize, |p| {
//!     (p.get("x").unwrap_or(0.0) - 0.5).powi(2)
//! })?;
//! let best = result.best.expect("some point was finite");
//! assert!((best.params.get("x").unwrap() - 0.5).abs() < 1e-9);
//! # Ok::<(), zkclob_backtest::BacktestError>(())
//! ```

mod bayes;
pub mod cv;
mod gp;
mod nelder_mead;
pub mod space;
pub mod walk_forward;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use zkclob_models::seeded_rng;

pub use bayes::{BayesConfig, MAX_BATCH, MAX_BAYES_TRIALS};
pub use cv::{purged_k_fold, Fold};
pub use gp::Kernel;
pub use space::{ParamSpace, ParamSpec, Params, Scale, MAX_DIMS, MAX_GRID_POINTS};
pub use walk_forward::{
    walk_forward, walk_forward_windows, WalkForwardConfig, WalkForwardResult, WalkForwardRow, Window,
};

use crate::error::{BacktestError, Result};

/// Most trials a random search may evaluate.
pub const MAX_RANDOM_TRIALS: usize = 1_000_000;

/// Whether larger or smaller objective values are better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Goal {
    /// Larger is better (Sharpe ratio, PnL).
    Maximize,
    /// Smaller is better (loss, drawdown).
    Minimize,
}

impl Goal {
    /// +1 for maximisation, −1 for minimisation: multiply to turn any goal into maximisation.
    pub fn sign(self) -> f64 {
        match self {
            Goal::Maximize => 1.0,
            Goal::Minimize => -1.0,
        }
    }

    /// Whether `a` is strictly better than `b`.
    pub fn better(self, a: f64, b: f64) -> bool {
        self.sign() * a > self.sign() * b
    }
}

/// The search strategy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Search {
    /// Every point of the grid with this many values per dimension (see [`ParamSpace::grid`]).
    Grid {
        /// Values per dimension.
        points_per_dim: usize,
    },
    /// Uniform random points of the unit cube, mapped through the space.
    Random {
        /// Number of points (at most [`MAX_RANDOM_TRIALS`]).
        trials: usize,
        /// Seed.
        seed: u64,
    },
    /// Gaussian-process Bayesian optimisation with expected improvement.
    Bayesian(BayesConfig),
}

impl Search {
    /// A short name for tables and charts.
    pub fn name(&self) -> &'static str {
        match self {
            Search::Grid { .. } => "grid",
            Search::Random { .. } => "random",
            Search::Bayesian(_) => "bayesian",
        }
    }
}

/// Which part of a search produced a trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// A grid point.
    Grid,
    /// A random point.
    Random,
    /// The initial (Latin hypercube) design of a Bayesian search.
    Initial,
    /// A point proposed by expected improvement.
    Bayesian,
}

/// One evaluated parameter set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialRow {
    /// 0-based evaluation order.
    pub iteration: usize,
    /// What produced it.
    pub phase: Phase,
    /// The parameters.
    pub params: Params,
    /// The objective value; `None` if it was not finite.
    pub objective: Option<f64>,
    /// Best objective value so far, this trial included.
    pub best_so_far: Option<f64>,
}

/// The table of a search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimizationResult {
    /// `grid`, `random` or `bayesian`.
    pub method: String,
    /// The goal.
    pub goal: Goal,
    /// Every trial, in evaluation order.
    pub rows: Vec<TrialRow>,
    /// The best trial (first of equals); `None` if no value was finite.
    pub best: Option<TrialRow>,
}

impl OptimizationResult {
    /// The best objective value, if any.
    pub fn best_objective(&self) -> Option<f64> {
        self.best.as_ref().and_then(|b| b.objective)
    }

    /// The finite objective values in evaluation order.
    pub fn objectives(&self) -> Vec<f64> {
        self.rows.iter().filter_map(|r| r.objective).collect()
    }

    /// The table as CSV: `iteration,phase,objective,best_so_far,<param names…>` (empty cell for
    /// `None`).
    pub fn to_csv(&self) -> String {
        let names: Vec<&str> =
            self.rows.first().map(|r| r.params.iter().map(|(k, _)| k).collect()).unwrap_or_default();
        let mut out = format!("iteration,phase,objective,best_so_far,{}\n", names.join(","));
        let cell = |x: Option<f64>| x.map_or(String::new(), |v| v.to_string());
        for r in &self.rows {
            let params: Vec<String> = names.iter().map(|n| cell(r.params.get(n))).collect();
            let phase = serde_json::to_value(r.phase).ok().and_then(|v| v.as_str().map(str::to_string));
            out.push_str(&format!(
                "{},{},{},{},{}\n",
                r.iteration,
                phase.unwrap_or_default(),
                cell(r.objective),
                cell(r.best_so_far),
                params.join(",")
            ));
        }
        out
    }
}

/// Records trials as they are evaluated.
pub(crate) struct Recorder {
    goal: Goal,
    rows: Vec<TrialRow>,
    /// Index and value of the best trial so far.
    best: Option<(usize, f64)>,
}

impl Recorder {
    pub(crate) fn new(goal: Goal) -> Self {
        Self { goal, rows: Vec::new(), best: None }
    }

    pub(crate) fn len(&self) -> usize {
        self.rows.len()
    }

    /// Evaluates `points` in parallel and records them in order; returns their (finite) values.
    pub(crate) fn evaluate<F>(&mut self, points: Vec<Params>, phase: Phase, objective: &F) -> Vec<Option<f64>>
    where
        F: Fn(&Params) -> f64 + Sync,
    {
        let values: Vec<Option<f64>> =
            points.par_iter().map(|p| Some(objective(p)).filter(|v| v.is_finite())).collect();
        for (params, &objective) in points.into_iter().zip(&values) {
            let iteration = self.rows.len();
            if let Some(v) = objective {
                if self.best.is_none_or(|(_, b)| self.goal.better(v, b)) {
                    self.best = Some((iteration, v));
                }
            }
            let best_so_far = self.best.map(|(_, b)| b);
            self.rows.push(TrialRow { iteration, phase, params, objective, best_so_far });
        }
        values
    }

    pub(crate) fn finish(self, method: &str) -> OptimizationResult {
        let best = self.best.map(|(i, _)| self.rows[i].clone());
        OptimizationResult { method: method.to_string(), goal: self.goal, rows: self.rows, best }
    }
}

/// Runs a search and returns its table.
///
/// Errors on a malformed search (zero trials, too many points); a panicking objective panics the
/// caller (rayon propagates it).
pub fn optimize<F>(
    space: &ParamSpace,
    search: &Search,
    goal: Goal,
    objective: F,
) -> Result<OptimizationResult>
where
    F: Fn(&Params) -> f64 + Sync,
{
    let mut rec = Recorder::new(goal);
    match search {
        Search::Grid { points_per_dim } => {
            rec.evaluate(space.grid(*points_per_dim)?, Phase::Grid, &objective);
        }
        Search::Random { trials, seed } => {
            if *trials == 0 || *trials > MAX_RANDOM_TRIALS {
                return Err(BacktestError::InvalidSpace(format!(
                    "random search needs 1 to {MAX_RANDOM_TRIALS} trials"
                )));
            }
            let mut rng = seeded_rng(*seed);
            let points: Vec<Params> = (0..*trials).map(|_| space.sample(&mut rng)).collect();
            rec.evaluate(points, Phase::Random, &objective);
        }
        Search::Bayesian(cfg) => bayes::run(space, cfg, &mut rec, &objective)?,
    }
    Ok(rec.finish(search.name()))
}
