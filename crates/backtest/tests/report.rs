//! Reports write every file, the JSON has the required keys, charts are valid PNG and SVG.

mod common;

use std::path::{Path, PathBuf};

use common::{toy_log, ToyParams};
use zkclob_backtest::optimize::{optimize, BayesConfig, Goal, ParamSpace, ParamSpec, Search};
use zkclob_backtest::{write_optimization_report, write_report, MetricsConfig};
use zkclob_sim::RunLog;

/// A fresh directory under the target dir's temp area (removed first if a previous run left it).
fn out_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("backtest-report-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

const PNG_MAGIC: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

fn assert_png(path: &Path) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(bytes[..8], PNG_MAGIC, "{}", path.display());
    // Decodes, with the documented size.
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let reader = decoder.read_info().unwrap();
    let info = reader.info();
    assert_eq!((info.width, info.height), (1000, 500));
}

fn assert_svg(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(
        text.trim_start().starts_with("<svg") || text.trim_start().starts_with("<?xml"),
        "{}",
        path.display()
    );
    assert!(text.trim_end().ends_with("</svg>"));
    assert!(text.contains("<text"), "axis labels are drawn: {}", path.display());
}

fn no_temporary_files_left(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(!name.starts_with('.'), "left behind: {name}");
    }
}

#[test]
fn run_report_writes_every_file_and_the_required_json_keys() {
    let dir = out_dir("run").join("nested/not/yet/there");
    let log = toy_log(1, 1_800, ToyParams::default());
    let cfg = MetricsConfig { inventory_limit_lots: Some(10), ..MetricsConfig::default() };
    let summary = write_report(&log, &cfg, &dir).unwrap();
    for stem in ["pnl", "inventory", "drawdown", "quotes"] {
        assert_png(&dir.join(format!("{stem}.png")));
        assert_svg(&dir.join(format!("{stem}.svg")));
    }
    assert_eq!(summary.files.len(), 10);
    assert!(summary.files.iter().all(|f| f.exists()));
    no_temporary_files_left(&dir);

    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    for key in ["pnl", "sharpe", "max_drawdown", "fills", "events", "metrics", "charts"] {
        assert!(json.get(key).is_some(), "report.json lacks {key}");
    }
    assert_eq!(json["fills"].as_u64().unwrap() as usize, log.fills.len());
    assert_eq!(json["events"].as_u64().unwrap(), log.events);
    assert_eq!(json["pnl"].as_f64().unwrap(), summary.pnl);
    assert!(json["sharpe"].is_f64());
    assert_eq!(json["metrics"]["pnl"]["method"], "fifo");
    assert_eq!(json["metrics"]["execution"]["horizons"].as_array().unwrap().len(), 4);

    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    for link in ["pnl.png", "inventory.png", "drawdown.png", "quotes.png", "quotes.svg"] {
        assert!(md.contains(&format!("({link})")), "report.md does not link {link}");
    }
    assert!(md.contains("Sharpe"));
}

#[test]
fn report_of_an_empty_log_is_written_with_nulls() {
    let dir = out_dir("empty");
    let summary = write_report(&RunLog::default(), &MetricsConfig::default(), &dir).unwrap();
    assert_eq!((summary.pnl, summary.sharpe, summary.fills), (0.0, None, 0));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    assert!(json["sharpe"].is_null());
    assert_eq!(json["max_drawdown"], 0.0);
    assert_png(&dir.join("quotes.png"));
    assert_svg(&dir.join("pnl.svg"));
}

#[test]
fn report_overwrites_an_existing_report() {
    let dir = out_dir("overwrite");
    write_report(&toy_log(2, 300, ToyParams::default()), &MetricsConfig::default(), &dir).unwrap();
    let second = write_report(&RunLog::default(), &MetricsConfig::default(), &dir).unwrap();
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["fills"], 0);
    assert_eq!(second.fills, 0);
    no_temporary_files_left(&dir);
}

#[test]
fn optimization_report_writes_table_and_charts() {
    let dir = out_dir("optimization");
    let space = ParamSpace::new(vec![
        ParamSpec::real("half_spread", 0.5, 4.0),
        ParamSpec::log_real("skew", 0.01, 1.0),
    ])
    .unwrap();
    let objective = |p: &zkclob_backtest::optimize::Params| {
        let toy = ToyParams {
            half_spread_ticks: p.get("half_spread").unwrap(),
            skew_ticks_per_lot: p.get("skew").unwrap(),
            ..ToyParams::default()
        };
        let log = toy_log(4, 600, toy);
        log.samples.last().map_or(0.0, |s| s.pnl)
    };
    let cfg = BayesConfig { trials: 16, initial: 6, batch: 2, ..BayesConfig::default() };
    let result = optimize(&space, &Search::Bayesian(cfg), Goal::Maximize, objective).unwrap();
    let files = write_optimization_report(&result, &space, &dir).unwrap();
    for stem in ["objective", "landscape"] {
        assert_png(&dir.join(format!("{stem}.png")));
        assert_svg(&dir.join(format!("{stem}.svg")));
    }
    assert_eq!(files.len(), 7);
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("optimization.json")).unwrap()).unwrap();
    assert_eq!(json["result"]["rows"].as_array().unwrap().len(), 16);
    assert!(json["best"]["params"]["skew"].is_f64());
    let csv = std::fs::read_to_string(dir.join("optimization.csv")).unwrap();
    assert_eq!(csv.lines().count(), 17);
    assert!(csv.starts_with("iteration,phase,objective,best_so_far,half_spread,skew"));
    no_temporary_files_left(&dir);

    // One dimension: no landscape.
    let dir = out_dir("optimization-1d");
    let space = ParamSpace::new(vec![ParamSpec::integer("k", 1, 9)]).unwrap();
    let result =
        optimize(&space, &Search::Grid { points_per_dim: 9 }, Goal::Minimize, |p| p.get("k").unwrap())
            .unwrap();
    let files = write_optimization_report(&result, &space, &dir).unwrap();
    assert_eq!(files.len(), 5);
    assert!(!dir.join("landscape.png").exists());
}
