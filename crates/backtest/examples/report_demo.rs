//! Produces a backtest report and an optimisation report from synthetic run logs.
//!
//! ```text
//! cargo run -p zkclob-backtest --example report_demo -- [OUT_DIR]
//! ```
//!
//! A toy market maker (random-walk mid, informed flow, quotes at a skewed reservation price) stands
//! in for the simulator. The demo tunes its half-spread and skew by Bayesian optimisation of the
//! Sharpe ratio, then reports the best configuration with its Sharpe ratio deflated for the number
//! of configurations tried.

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::PathBuf;

use common::{toy_log, ToyParams};
use zkclob_backtest::analytics::{compute_metrics, MetricsConfig, TrialStats};
use zkclob_backtest::optimize::{optimize, BayesConfig, Goal, ParamSpace, ParamSpec, Params, Search};
use zkclob_backtest::{write_optimization_report, write_report};

fn toy_params(p: &Params) -> ToyParams {
    ToyParams {
        half_spread_ticks: p.get("half_spread_ticks").unwrap_or(1.5),
        skew_ticks_per_lot: p.get("skew_ticks_per_lot").unwrap_or(0.2),
        limit_lots: 10,
        ..ToyParams::default()
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args().nth(1).map_or_else(|| PathBuf::from("target/report_demo"), PathBuf::from);
    let cfg = MetricsConfig { inventory_limit_lots: Some(10), ..MetricsConfig::default() };
    let duration_s = 3_600;

    let space = ParamSpace::new(vec![
        ParamSpec::real("half_spread_ticks", 0.5, 4.0),
        ParamSpec::log_real("skew_ticks_per_lot", 0.01, 2.0),
    ])?;
    let sharpe = |p: &Params| {
        compute_metrics(
            &toy_log(7, duration_s, toy_params(p)),
            &MetricsConfig { bootstrap: Default::default(), ..cfg.clone() },
        )
        .ok()
        .and_then(|m| m.risk.sharpe)
        .unwrap_or(f64::NAN)
    };
    let search = Search::Bayesian(BayesConfig {
        trials: 40,
        initial: 10,
        batch: 4,
        seed: 1,
        ..BayesConfig::default()
    });
    let result = optimize(&space, &search, Goal::Maximize, sharpe)?;
    let files = write_optimization_report(&result, &space, &out.join("optimization"))?;
    println!(
        "optimisation: best Sharpe {:?}, {} files in {}",
        result.best_objective(),
        files.len(),
        out.join("optimization").display()
    );

    let best = result.best.as_ref().map(|b| toy_params(&b.params)).unwrap_or_default();
    let trials = TrialStats::from_sharpes(&result.objectives());
    let report_cfg = MetricsConfig { trials, ..cfg };
    let summary = write_report(&toy_log(7, duration_s, best), &report_cfg, &out.join("report"))?;
    println!(
        "report: PnL {:.1} tick·lots, Sharpe {:?}, max drawdown {:.1}, {} fills, {} events",
        summary.pnl, summary.sharpe, summary.max_drawdown, summary.fills, summary.events
    );
    for f in &summary.files {
        println!("  {}", f.display());
    }
    Ok(())
}
