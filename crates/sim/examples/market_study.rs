//! How hard is the simulated market for a market maker? Runs every preset over several seeds with
//! the default GLFT market maker, and the default preset with a naive quoter that joins the touch,
//! and prints the headline numbers (medians over the seeds) with the definitions of
//! `docs/backtest.md`: PnL and max drawdown in tick·lots, the Sharpe ratio of per-sample PnL
//! changes annualised with a US-equity year (5 896 800 s), and volume-weighted mark-outs and
//! adverse selection per lot at 1, 5, 30 and 60 s.
//!
//! ```text
//! cargo run --release -p zkclob-sim --example market_study -- [seeds] [duration_s] [presets,...]
//! ```
//!
//! `SIM_TOML`, if set, is a configuration (TOML) to use instead of the default market; each
//! preset adds its stress windows and shocks to it.
//!
//! Computed here rather than with `zkclob-backtest` because the simulator must not depend on the
//! backtester; the formulas are the same.

use std::time::Instant;

use zkclob_sim::{default_market_maker, run, FillSide, RunLog, SimConfig, SimOutput, PRESET_NAMES};
use zkclob_strategy::{MarketView, OrderIntent, Quoter, Quotes, StrategyError};

const SECONDS_PER_YEAR: f64 = 252.0 * 6.5 * 3600.0;
const HORIZONS_S: [f64; 4] = [1.0, 5.0, 30.0, 60.0];

/// Joins the best bid and ask with one lot each, within ±5 lots of inventory: the quoter with
/// the least protection against informed flow.
struct TouchJoiner;

impl Quoter for TouchJoiner {
    fn name(&self) -> &'static str {
        "touch"
    }

    fn quote(&mut self, view: &MarketView<'_>) -> Result<Quotes, StrategyError> {
        let q = view.inventory_lots;
        let bid = view.best_bid().filter(|_| q < 5).map(|p| OrderIntent { price_ticks: p, qty_lots: 1 });
        let ask = view.best_ask().filter(|_| q > -5).map(|p| OrderIntent { price_ticks: p, qty_lots: 1 });
        Ok(Quotes { bid, ask, reason: "touch" })
    }
}

#[derive(Debug, Clone, Default)]
struct Row {
    pnl: f64,
    drawdown: f64,
    sharpe: f64,
    fills: f64,
    /// Volume-weighted mark-out per lot at each horizon, ticks.
    markout: [f64; 4],
    /// Volume-weighted adverse selection d·(m₀ − m_h) per lot at each horizon, ticks.
    adverse: [f64; 4],
    events_per_s: f64,
}

fn metrics(log: &RunLog, wall_s: f64) -> Row {
    let pnl: Vec<f64> = log.samples.iter().map(|s| s.pnl).collect();
    let returns: Vec<f64> = pnl.windows(2).map(|w| w[1] - w[0]).collect();
    let n = returns.len() as f64;
    let mean = returns.iter().sum::<f64>() / n;
    let var = returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let periods = SECONDS_PER_YEAR / log.sample_interval_s;
    let sharpe = if var > 0.0 { mean / var.sqrt() * periods.sqrt() } else { f64::NAN };
    let (mut peak, mut drawdown) = (f64::NEG_INFINITY, 0.0f64);
    for &p in &pnl {
        peak = peak.max(p);
        drawdown = drawdown.max(peak - p);
    }
    let (markout, adverse) = markouts(log);
    Row {
        pnl: pnl.last().copied().unwrap_or(0.0) - pnl.first().copied().unwrap_or(0.0),
        drawdown,
        sharpe,
        fills: log.fills.len() as f64,
        markout,
        adverse,
        events_per_s: log.events as f64 / wall_s,
    }
}

/// Mark-outs and adverse selection as in `docs/backtest.md`: m_h is the mid of the first sample at
/// or after t + h; fills whose t + h is past the run are left out.
fn markouts(log: &RunLog) -> ([f64; 4], [f64; 4]) {
    let end = log.samples.last().map_or(0.0, |s| s.time_s);
    let mut markout = [0.0; 4];
    let mut adverse = [0.0; 4];
    for (k, h) in HORIZONS_S.iter().enumerate() {
        let (mut sum_m, mut sum_a, mut lots) = (0.0, 0.0, 0.0);
        for f in log.fills.iter().filter(|f| f.time_s + h <= end) {
            let i = log.samples.partition_point(|s| s.time_s < f.time_s + h);
            let Some(s) = log.samples.get(i) else { continue };
            let d = if f.side == FillSide::Buy { 1.0 } else { -1.0 };
            let q = f.qty_lots as f64;
            sum_m += d * (s.mid_ticks - f.price_ticks as f64) * q;
            sum_a += d * (f.mid_before - s.mid_ticks) * q;
            lots += q;
        }
        markout[k] = if lots > 0.0 { sum_m / lots } else { f64::NAN };
        adverse[k] = if lots > 0.0 { sum_a / lots } else { f64::NAN };
    }
    (markout, adverse)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.retain(|x| x.is_finite());
    if xs.is_empty() {
        return f64::NAN;
    }
    xs.sort_by(f64::total_cmp);
    let m = xs.len() / 2;
    if xs.len() % 2 == 1 {
        xs[m]
    } else {
        0.5 * (xs[m - 1] + xs[m])
    }
}

fn timed(config: &SimConfig, quoter: Box<dyn Quoter>, seed: u64) -> (SimOutput, f64) {
    let started = Instant::now();
    let out = run(config, quoter, seed, None).expect("a valid configuration runs");
    (out, started.elapsed().as_secs_f64())
}

/// One line on the market itself (first seed): spread, depth, flow, volatility, our quotes.
fn print_market(out: &SimOutput) {
    let m = &out.market;
    let n = m.len() as f64;
    let spread = m.iter().filter_map(|s| Some((s.best_ask? - s.best_bid?) as f64)).sum::<f64>() / n;
    let depth = m.iter().map(|s| (s.bid_depth_lots + s.ask_depth_lots) as f64 / 2.0).sum::<f64>() / n;
    let sd = |f: &dyn Fn(&zkclob_sim::MarketSample) -> f64| {
        (m.windows(2).map(|w| (f(&w[1]) - f(&w[0])).powi(2)).sum::<f64>() / n).sqrt()
    };
    let (mid_sd, f_sd) = (sd(&|s| s.mid_ticks), sd(&|s| s.fundamental_ticks));
    let gap = (m.iter().map(|s| (s.fundamental_ticks - s.mid_ticks).powi(2)).sum::<f64>() / n).sqrt();
    let quoted: Vec<f64> =
        out.log.samples.iter().filter_map(|s| Some((s.our_ask? - s.our_bid?) as f64)).collect();
    let our_spread = quoted.iter().sum::<f64>() / quoted.len().max(1) as f64;
    let st = &out.stats;
    println!(
        "{:<28} spread {spread:.2}  depth5 {depth:.0}  mid sd/s {mid_sd:.2}  F sd/s {f_sd:.2}  rms F-mid {gap:.2}  our spread {our_spread:.1}  trades {}  volume {}  informed {}  noise {}",
        "", st.trades, st.volume_lots, st.informed_orders, st.noise_orders
    );
}

fn print_rows(label: &str, rows: &[Row]) {
    let col = |f: &dyn Fn(&Row) -> f64| median(rows.iter().map(f).collect());
    let per_seed: Vec<String> = rows.iter().map(|r| format!("{:.0}/{:.0}", r.pnl, r.sharpe)).collect();
    println!(
        "{label:<28} pnl {:>8.0}  dd {:>6.0}  sharpe {:>7.1}  fills {:>6.0}  markout 1/5/30/60s {:>6.2} {:>6.2} {:>6.2} {:>6.2}  adverse {:>5.2} {:>5.2} {:>5.2} {:>5.2}  ev/s {:.2}M",
        col(&|r| r.pnl),
        col(&|r| r.drawdown),
        col(&|r| r.sharpe),
        col(&|r| r.fills),
        col(&|r| r.markout[0]),
        col(&|r| r.markout[1]),
        col(&|r| r.markout[2]),
        col(&|r| r.markout[3]),
        col(&|r| r.adverse[0]),
        col(&|r| r.adverse[1]),
        col(&|r| r.adverse[2]),
        col(&|r| r.adverse[3]),
        col(&|r| r.events_per_s) / 1e6,
    );
    println!("{:<28} per seed pnl/sharpe: {}", "", per_seed.join("  "));
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seeds: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(5);
    let duration_s: f64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(3_600.0);
    let presets: Vec<String> = args
        .get(3)
        .map(|s| s.split(',').map(str::to_owned).collect())
        .unwrap_or_else(|| PRESET_NAMES.iter().map(|s| (*s).to_owned()).collect());
    // Another base market than the default, as TOML (the preset adds its stress).
    let base = match std::env::var("SIM_TOML") {
        Ok(text) => SimConfig::from_toml_str(&text).expect("SIM_TOML is a valid configuration"),
        Err(_) => SimConfig::default(),
    };
    println!("seeds 1..={seeds}, {duration_s} s, medians over seeds");
    for name in &presets {
        let preset = SimConfig::preset_with_duration(name, duration_s).expect("a known preset");
        let config = SimConfig { duration_s, stress: preset.stress, ..base.clone() };
        let rows: Vec<Row> = (1..=seeds)
            .map(|seed| {
                let maker = default_market_maker(&config).expect("the default maker builds");
                let (out, wall_s) = timed(&config, maker, seed);
                if seed == 1 {
                    print_market(&out);
                }
                metrics(&out.log, wall_s)
            })
            .collect();
        print_rows(&format!("{name} / glft"), &rows);
        if name == "default" {
            let rows: Vec<Row> = (1..=seeds)
                .map(|seed| {
                    let (out, wall_s) = timed(&config, Box::new(TouchJoiner), seed);
                    metrics(&out.log, wall_s)
                })
                .collect();
            print_rows(&format!("{name} / touch joiner"), &rows);
        }
    }
}
