//! Reports: `report.json`, `report.md` and charts (PNG and SVG) of a run; `optimization.json`,
//! `optimization.md` and charts of a parameter search.
//!
//! Every file is written atomically (temporary file + rename); the output directory is created if
//! missing. Files of a run report:
//!
//! | file | content |
//! |---|---|
//! | `report.json` | `pnl`, `sharpe`, `max_drawdown`, `fills`, `events`, `charts`, and `metrics` (all of [`Metrics`]) |
//! | `report.md` | the headline numbers and links to the charts |
//! | `pnl.{png,svg}` | mark-to-mid PnL over time |
//! | `inventory.{png,svg}` | inventory over time (and ± the limit, if configured) |
//! | `drawdown.{png,svg}` | drawdown below the running peak over time |
//! | `quotes.{png,svg}` | best bid/ask, our bid/ask and our fills over time |

mod markdown;
mod optimization;

use std::path::{Path, PathBuf};

use plotters::style::RGBColor;
use serde::{Deserialize, Serialize};
use zkclob_sim::{FillSide, RunLog};

use crate::analytics::{compute_metrics, risk::drawdown_series, Metrics, MetricsConfig};
use crate::charts::{thin, write_chart, Series, XyChart};
use crate::error::Result;
use crate::fsutil::{ensure_dir, write_atomic};

pub use optimization::write_optimization_report;

/// What a report contains at a glance, and where its files are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportSummary {
    /// The directory written.
    pub out_dir: PathBuf,
    /// Every file written, in writing order.
    pub files: Vec<PathBuf>,
    /// Total mark-to-mid PnL, tick·lots.
    pub pnl: f64,
    /// Annualised Sharpe ratio (`None` when undefined).
    pub sharpe: Option<f64>,
    /// Maximum drawdown, tick·lots.
    pub max_drawdown: f64,
    /// Number of our fills.
    pub fills: usize,
    /// Market events processed.
    pub events: u64,
}

/// The layout of `report.json`: headline numbers at the top level, then everything.
#[derive(Serialize)]
struct ReportJson<'a> {
    pnl: f64,
    sharpe: Option<f64>,
    max_drawdown: f64,
    fills: usize,
    events: u64,
    charts: Vec<String>,
    metrics: &'a Metrics,
}

/// Computes the metrics of `log` and writes the full report into `out_dir`.
///
/// ```no_run
/// # let log = zkclob_sim::RunLog::default();
/// let cfg = zkclob_backtest::MetricsConfig { inventory_limit_lots: Some(10), ..Default::default() };
/// let summary = zkclob_backtest::write_report(&log, &cfg, "out".as_ref())?;
/// assert!(summary.files.iter().any(|f| f.ends_with("report.json")));
/// # Ok::<(), zkclob_backtest::BacktestError>(())
/// ```
pub fn write_report(log: &RunLog, cfg: &MetricsConfig, out_dir: &Path) -> Result<ReportSummary> {
    let metrics = compute_metrics(log, cfg)?;
    write_report_with_metrics(log, &metrics, out_dir)
}

/// Writes the report of `log` with already computed `metrics` (which must come from this log).
pub fn write_report_with_metrics(log: &RunLog, metrics: &Metrics, out_dir: &Path) -> Result<ReportSummary> {
    ensure_dir(out_dir)?;
    let mut files = Vec::new();
    for (stem, chart) in run_charts(log, metrics) {
        files.extend(write_chart(out_dir, stem, &chart)?);
    }
    let chart_names: Vec<String> =
        files.iter().filter_map(|p| p.file_name().and_then(|n| n.to_str()).map(str::to_string)).collect();
    let json = ReportJson {
        pnl: metrics.pnl.total,
        sharpe: metrics.risk.sharpe,
        max_drawdown: metrics.drawdown.max_drawdown,
        fills: metrics.fills.count,
        events: metrics.events,
        charts: chart_names,
        metrics,
    };
    let json_path = out_dir.join("report.json");
    write_atomic(&json_path, &serde_json::to_vec_pretty(&json)?)?;
    files.push(json_path);
    let md_path = out_dir.join("report.md");
    write_atomic(&md_path, markdown::run_report(metrics).as_bytes())?;
    files.push(md_path);
    Ok(ReportSummary {
        out_dir: out_dir.to_path_buf(),
        files,
        pnl: metrics.pnl.total,
        sharpe: metrics.risk.sharpe,
        max_drawdown: metrics.drawdown.max_drawdown,
        fills: metrics.fills.count,
        events: metrics.events,
    })
}

const BLUE: RGBColor = RGBColor(31, 119, 180);
const ORANGE: RGBColor = RGBColor(255, 127, 14);
const GREEN: RGBColor = RGBColor(44, 160, 44);
const RED: RGBColor = RGBColor(214, 39, 40);
const GREY: RGBColor = RGBColor(127, 127, 127);

/// The charts of a run report, by file stem.
fn run_charts(log: &RunLog, metrics: &Metrics) -> Vec<(&'static str, XyChart)> {
    let idx = thin(log.samples.len());
    let s = |f: &dyn Fn(&zkclob_sim::Sample) -> f64| -> Vec<(f64, f64)> {
        idx.iter().map(|&i| (log.samples[i].time_s, f(&log.samples[i]))).collect()
    };
    let chart = |title: &str, y_label: &str, series: Vec<Series>| XyChart {
        title: title.to_string(),
        x_label: "time, s".to_string(),
        y_label: y_label.to_string(),
        series,
    };
    let mut inventory = vec![Series::line("inventory", BLUE, s(&|x| x.inventory_lots as f64))];
    if let (Some(limit), Some(first), Some(last)) =
        (metrics.inventory.limit_lots, log.samples.first(), log.samples.last())
    {
        let l = limit as f64;
        inventory.push(Series::line("+limit", GREY, vec![(first.time_s, l), (last.time_s, l)]));
        inventory.push(Series::line("-limit", GREY, vec![(first.time_s, -l), (last.time_s, -l)]));
    }
    let dd = drawdown_series(log);
    let drawdown: Vec<(f64, f64)> = idx.iter().map(|&i| (log.samples[i].time_s, -dd[i])).collect();
    vec![
        ("pnl", chart("PnL (mark to mid)", "tick·lots", vec![Series::line("PnL", BLUE, s(&|x| x.pnl))])),
        ("inventory", chart("Inventory", "lots", inventory)),
        (
            "drawdown",
            chart("Drawdown below running peak", "tick·lots", vec![Series::line("drawdown", RED, drawdown)]),
        ),
        ("quotes", chart("Quotes over the book", "ticks", quote_series(log, &idx))),
    ]
}

fn quote_series(log: &RunLog, idx: &[usize]) -> Vec<Series> {
    let col = |f: fn(&zkclob_sim::Sample) -> Option<i64>| {
        idx.iter().map(move |&i| (log.samples[i].time_s, f(&log.samples[i]).map(|p| p as f64)))
    };
    let fills = |side: FillSide| -> Vec<(f64, f64)> {
        let picked: Vec<_> = log.fills.iter().filter(|f| f.side == side).collect();
        thin(picked.len()).into_iter().map(|i| (picked[i].time_s, picked[i].price_ticks as f64)).collect()
    };
    vec![
        Series::line(
            "mid",
            GREY,
            idx.iter().map(|&i| (log.samples[i].time_s, log.samples[i].mid_ticks)).collect(),
        ),
        Series::gapped("best bid", GREEN, col(|s| s.best_bid)),
        Series::gapped("best ask", RED, col(|s| s.best_ask)),
        Series::gapped("our bid", BLUE, col(|s| s.our_bid)),
        Series::gapped("our ask", ORANGE, col(|s| s.our_ask)),
        Series::points("our buys", BLUE, fills(FillSide::Buy)),
        Series::points("our sells", ORANGE, fills(FillSide::Sell)),
    ]
}
