//! `zkclob simulate` and `zkclob backtest`: thin calls into `zkclob-sim` and `zkclob-backtest`.
//! Each writes a report directory (`report.json`, charts, a human summary) and prints one JSON
//! line with the headline numbers.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context};
use clap::Args;
use zkclob_backtest::analytics::MetricsConfig;
use zkclob_backtest::l2::{
    parse_hftbacktest_csv, parse_l2_csv, parse_lobster, run_l2, CsvOptions, HftOptions, L2Config,
    LobsterOptions, QueueModelSpec,
};
use zkclob_backtest::lobster_l3::{run_lobster_l3, L3Config};
use zkclob_backtest::report::{write_report, ReportSummary};
use zkclob_book::lobster::{parse_book_row, parse_message, BookRow, Message};
use zkclob_sim::{SimConfig, PRESET_NAMES};
use zkclob_strategy::models::{GlftAsymptotic, GlftAsymptoticParams};
use zkclob_strategy::pipeline::{MarketMaker, MarketMakerConfig};
use zkclob_strategy::Quoter;

use crate::lobster_cmd::{parse_all, SAMPLE_MESSAGES, SAMPLE_ORDERBOOK};

/// Arguments of `simulate`.
#[derive(Args, Debug)]
pub struct SimulateArgs {
    /// Simulator configuration (TOML, `zkclob_sim::SimConfig`); default: the preset.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Named scenario when no --config is given: default, flash_crash, liquidity_drought,
    /// volatility_spike.
    #[arg(long, default_value = "default")]
    preset: String,
    /// Run length in seconds of market time (overrides the configuration).
    #[arg(long)]
    duration: Option<f64>,
    /// Seed: the same seed and configuration give the same run.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Report directory.
    #[arg(long, default_value = "zkclob-simulate")]
    out: PathBuf,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

/// Arguments of `backtest`.
#[derive(Args, Debug)]
pub struct BacktestArgs {
    /// LOBSTER message file. Default: the embedded AAPL 2012-06-21 sample.
    #[arg(long, requires = "orderbook")]
    messages: Option<PathBuf>,
    /// LOBSTER orderbook file matching the messages.
    #[arg(long, requires = "messages")]
    orderbook: Option<PathBuf>,
    /// Market-maker pipeline configuration (TOML, `zkclob_strategy::pipeline::MarketMakerConfig`).
    #[arg(long)]
    strategy: Option<PathBuf>,
    /// GLFT model parameters (TOML, `GlftAsymptoticParams`); default: tuned to AAPL in cents.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Replay configuration (TOML): `L3Config` for `--mode l3`, `L2Config` for `--mode l2`
    /// (decision interval, entry latency, fees, sampling; L2 also the queue model).
    #[arg(long)]
    replay: Option<PathBuf>,
    /// `l3`: our orders in the real book among the recorded orders (LOBSTER messages, exact queue
    /// position). `l2`: our orders beside a recorded market-by-price book, with a queue model.
    #[arg(long, value_enum, default_value_t = ReplayMode::L3)]
    mode: ReplayMode,
    /// L2 input: `lobster` (--messages/--orderbook, or the embedded sample), `csv` (the CSV format
    /// of docs/backtest.md) or `hftbacktest` (its event rows as CSV); the last two read --data.
    #[arg(long, value_enum, default_value_t = L2Format::Lobster)]
    format: L2Format,
    /// L2 data file for `--format csv` or `--format hftbacktest`.
    #[arg(long)]
    data: Option<PathBuf>,
    /// How the L2 input is read (TOML: `LobsterOptions`, `CsvOptions` or `HftOptions` by
    /// --format: tick and lot size, window levels, ...).
    #[arg(long)]
    data_options: Option<PathBuf>,
    /// L2 queue model, overriding the replay configuration: `risk-averse` or
    /// `probabilistic[:POWER]` (POWER default 2).
    #[arg(long)]
    queue: Option<String>,
    /// Report directory.
    #[arg(long, default_value = "zkclob-backtest")]
    out: PathBuf,
}

/// How `backtest` replays the data.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplayMode {
    /// Market by order: our orders in the real book.
    L3,
    /// Market by price: our orders beside the recorded book, with a queue model.
    L2,
}

/// The L2 input formats.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum L2Format {
    /// A LOBSTER message file and its orderbook file.
    Lobster,
    /// The documented L2 CSV (depth snapshots and trades).
    Csv,
    /// hftbacktest's event rows, as CSV.
    Hftbacktest,
}

/// A progress bar on stderr when it is a terminal (nothing otherwise).
struct Progress {
    enabled: bool,
    last: i32,
    started: Instant,
}

impl Progress {
    fn new(quiet: bool) -> Self {
        Progress { enabled: !quiet && std::io::stderr().is_terminal(), last: -1, started: Instant::now() }
    }

    fn update(&mut self, fraction: f64) {
        let pct = (fraction.clamp(0.0, 1.0) * 100.0) as i32;
        if !self.enabled || pct == self.last {
            return;
        }
        self.last = pct;
        let filled = (pct / 2) as usize;
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r[{}{}] {pct:3}%  {:.1} s",
            "#".repeat(filled),
            ".".repeat(50 - filled),
            self.started.elapsed().as_secs_f64()
        );
        if pct == 100 {
            let _ = writeln!(err);
        }
    }
}

fn read_toml(path: &PathBuf) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

fn summary_json(s: &ReportSummary, extra: serde_json::Value) -> serde_json::Value {
    let mut j = serde_json::json!({
        "pnl": s.pnl,
        "sharpe": s.sharpe,
        "max_drawdown": s.max_drawdown,
        "fills": s.fills,
        "events": s.events,
        "out": s.out_dir.display().to_string(),
    });
    if let (Some(o), serde_json::Value::Object(e)) = (j.as_object_mut(), extra) {
        o.extend(e);
    }
    j
}

/// Runs `simulate`.
pub fn run_simulate(a: SimulateArgs) -> anyhow::Result<()> {
    let mut config = match &a.config {
        Some(path) => {
            SimConfig::from_toml_str(&read_toml(path)?).with_context(|| path.display().to_string())?
        }
        None => {
            if !PRESET_NAMES.contains(&a.preset.as_str()) {
                bail!("unknown preset {:?}: one of {}", a.preset, PRESET_NAMES.join(", "));
            }
            SimConfig::preset(&a.preset)?
        }
    };
    if let Some(d) = a.duration {
        config = match &a.config {
            Some(_) => SimConfig { duration_s: d, ..config },
            None => SimConfig::preset_with_duration(&a.preset, d)?,
        };
        config.validate()?;
    }
    let quoter = zkclob_sim::default_market_maker(&config)?;
    let started = Instant::now();
    let mut progress = Progress::new(a.quiet);
    let mut tick = |f: f64| progress.update(f);
    let out = zkclob_sim::run(&config, quoter, a.seed, Some(&mut tick))?;
    let sim_seconds = started.elapsed().as_secs_f64();
    let summary = write_report(&out.log, &MetricsConfig::default(), &a.out)?;
    let stats_path = a.out.join("simulation.json");
    std::fs::write(&stats_path, serde_json::to_vec_pretty(&out.stats)?)
        .with_context(|| format!("writing {}", stats_path.display()))?;
    let extra = serde_json::json!({
        "preset": if a.config.is_some() { None } else { Some(a.preset.clone()) },
        "seed": a.seed,
        "duration_s": config.duration_s,
        "strategy": "glft",
        "trades": out.stats.trades,
        "simulate_seconds": sim_seconds,
    });
    println!("{}", summary_json(&summary, extra));
    Ok(())
}

/// The GLFT parameters of `zkclob backtest` on a large-tick stock in cents: σ ≈ 2 cents per √s,
/// fill intensity and decay from the sample's trade depths, one 100-share lot per quote.
fn default_equity_model() -> GlftAsymptoticParams {
    GlftAsymptoticParams {
        sigma_ticks_per_sqrt_s: 2.0,
        a_per_s: 1.0,
        k_per_tick: 0.3,
        max_inventory_lots: 500,
        delta_lots: 100.0,
        ..GlftAsymptoticParams::default()
    }
}

/// The report of a replay: `report.json`, charts and `report.md` from the run log, and the
/// replay's counters in `replay.json`.
fn write_replay_report(
    log: &zkclob_sim::RunLog,
    stats: &impl serde::Serialize,
    out: &std::path::Path,
) -> anyhow::Result<ReportSummary> {
    let summary = write_report(log, &MetricsConfig::default(), out)?;
    let stats_path = out.join("replay.json");
    std::fs::write(&stats_path, serde_json::to_vec_pretty(stats)?)
        .with_context(|| format!("writing {}", stats_path.display()))?;
    Ok(summary)
}

/// Parses a TOML file into `T`, naming the file in any error.
fn read_config<T: serde::de::DeserializeOwned>(path: &PathBuf) -> anyhow::Result<T> {
    toml::from_str(&read_toml(path)?).with_context(|| path.display().to_string())
}

/// `risk-averse`, `probabilistic` or `probabilistic:POWER`.
fn parse_queue_model(s: &str) -> anyhow::Result<QueueModelSpec> {
    let spec = match s.split_once(':') {
        None if s == "risk-averse" || s == "risk_averse" => QueueModelSpec::RiskAverse,
        None if s == "probabilistic" => QueueModelSpec::Probabilistic { power: 2.0 },
        Some(("probabilistic", p)) => QueueModelSpec::Probabilistic {
            power: p.parse().with_context(|| format!("--queue {s}: the power {p:?} is not a number"))?,
        },
        _ => bail!("--queue {s:?}: expected risk-averse, probabilistic or probabilistic:POWER"),
    };
    // Checks the power's range with the model's own rule.
    spec.build().with_context(|| format!("--queue {s}"))?;
    Ok(spec)
}

/// The L3 replay's inputs: LOBSTER files, or the embedded sample.
fn lobster_input(a: &BacktestArgs) -> anyhow::Result<(String, String)> {
    Ok(match (&a.messages, &a.orderbook) {
        (Some(m), Some(b)) => (read_toml(m)?, read_toml(b)?),
        _ => (SAMPLE_MESSAGES.to_owned(), SAMPLE_ORDERBOOK.to_owned()),
    })
}

/// Rejects flags that the chosen mode and format would silently ignore.
fn check_backtest_flags(a: &BacktestArgs) -> anyhow::Result<()> {
    if a.mode == ReplayMode::L3 {
        for (set, flag) in [
            (a.format != L2Format::Lobster, "--format"),
            (a.data.is_some(), "--data"),
            (a.data_options.is_some(), "--data-options"),
            (a.queue.is_some(), "--queue"),
        ] {
            if set {
                bail!("{flag} applies to the L2 replay: add --mode l2");
            }
        }
        return Ok(());
    }
    match (a.format, &a.data, &a.messages) {
        (L2Format::Lobster, Some(_), _) => {
            bail!("--data is for --format csv or hftbacktest; LOBSTER reads --messages and --orderbook")
        }
        (L2Format::Csv | L2Format::Hftbacktest, None, _) => {
            bail!("--format {} needs --data FILE", a.format.name())
        }
        (L2Format::Csv | L2Format::Hftbacktest, _, Some(_)) => {
            bail!("--messages/--orderbook are LOBSTER files: use --format lobster")
        }
        _ => Ok(()),
    }
}

/// Runs `backtest`: the LOBSTER L3 replay with a GLFT market maker's orders in the real book, or
/// (`--mode l2`) the L2 replay of LOBSTER, CSV or hftbacktest data with a queue model.
pub fn run_backtest(a: BacktestArgs) -> anyhow::Result<()> {
    check_backtest_flags(&a)?;
    let params = match &a.model {
        Some(p) => read_config(p)?,
        None => default_equity_model(),
    };
    let mm_config = match &a.strategy {
        Some(p) => {
            MarketMakerConfig::from_toml_str(&read_toml(p)?).with_context(|| p.display().to_string())?
        }
        None => MarketMakerConfig::default(),
    };
    let mut mm = MarketMaker::new(GlftAsymptotic::new(params)?, mm_config)?;
    if a.mode == ReplayMode::L2 {
        return run_backtest_l2(&a, &mut mm);
    }
    let (messages_text, rows_text) = lobster_input(&a)?;
    let messages: Vec<Message> = parse_all(&messages_text, "message file", parse_message)?;
    let rows: Vec<BookRow> = parse_all(&rows_text, "orderbook file", parse_book_row)?;
    let replay = match &a.replay {
        Some(p) => read_config(p)?,
        None => L3Config { decision_interval_s: 0.05, ..L3Config::default() },
    };
    let started = Instant::now();
    let out = run_lobster_l3(&messages, &rows, &mut mm, &replay)?;
    let replay_seconds = started.elapsed().as_secs_f64();
    let summary = write_replay_report(&out.log, &out.stats, &a.out)?;
    let extra = serde_json::json!({
        "mode": "l3",
        "data": if a.messages.is_some() { "files" } else { "embedded AAPL 2012-06-21 sample" },
        "strategy": "glft",
        "orders_sent": out.stats.orders_sent,
        "engine_executions": out.stats.engine_executions,
        "clamped": out.stats.clamped,
        "replay_seconds": replay_seconds,
    });
    println!("{}", summary_json(&summary, extra));
    Ok(())
}

impl L2Format {
    fn name(self) -> &'static str {
        match self {
            L2Format::Lobster => "lobster",
            L2Format::Csv => "csv",
            L2Format::Hftbacktest => "hftbacktest",
        }
    }
}

/// `backtest --mode l2`: reads the stream in the chosen format and replays it beside the quoter.
fn run_backtest_l2(a: &BacktestArgs, mm: &mut dyn Quoter) -> anyhow::Result<()> {
    let (stream, data, source) = match a.format {
        L2Format::Lobster => {
            let opts: LobsterOptions =
                a.data_options.as_ref().map(read_config).transpose()?.unwrap_or_default();
            let (messages, rows) = lobster_input(a)?;
            let stream = parse_lobster(&messages, &rows, &opts).context("LOBSTER data")?;
            let data = if a.messages.is_some() { "files" } else { "embedded AAPL 2012-06-21 sample" };
            let source = a.messages.as_ref().map_or_else(|| data.to_owned(), |m| m.display().to_string());
            (stream, data, source)
        }
        L2Format::Csv | L2Format::Hftbacktest => {
            let path = a.data.as_ref().context("--data")?;
            let text = read_toml(path)?;
            let stream = if a.format == L2Format::Csv {
                let opts: CsvOptions =
                    a.data_options.as_ref().map(read_config).transpose()?.unwrap_or_default();
                parse_l2_csv(&text, &opts)
            } else {
                let opts: HftOptions =
                    a.data_options.as_ref().map(read_config).transpose()?.unwrap_or_default();
                parse_hftbacktest_csv(&text, &opts)
            };
            (stream.with_context(|| path.display().to_string())?, "files", path.display().to_string())
        }
    };
    let mut replay = match &a.replay {
        Some(p) => read_config(p)?,
        None => L2Config { decision_interval_s: 0.05, ..L2Config::default() },
    };
    if let Some(q) = &a.queue {
        replay.queue = parse_queue_model(q)?;
    }
    let started = Instant::now();
    let out = run_l2(&stream, mm, &replay).with_context(|| format!("L2 replay of {source}"))?;
    let replay_seconds = started.elapsed().as_secs_f64();
    let summary = write_replay_report(&out.log, &out.stats, &a.out)?;
    let extra = serde_json::json!({
        "mode": "l2",
        "format": a.format.name(),
        "data": data,
        "queue_model": replay.queue,
        "strategy": "glft",
        "orders_sent": out.stats.orders_sent,
        "trade_fills": out.stats.trade_fills,
        "crossing_fills": out.stats.crossing_fills,
        "taker_fills": out.stats.taker_fills,
        "replay_seconds": replay_seconds,
    });
    println!("{}", summary_json(&summary, extra));
    Ok(())
}

/// What `optimize` runs; every field has a default, a TOML file (`--config`) may set any of them,
/// and command-line flags override the file.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OptimizeConfig {
    /// Search: `bayesian`, `random` or `grid`.
    pub search: String,
    /// Objective evaluations per search (grid: points per dimension).
    pub trials: usize,
    /// Simulator preset of every evaluation.
    pub preset: String,
    /// Market time of one segment, seconds.
    pub segment_s: f64,
    /// Segments of simulated history (each its own seed).
    pub segments: usize,
    /// Segments in each in-sample window of the walk-forward run.
    pub in_sample: usize,
    /// Segments in each out-of-sample window.
    pub out_of_sample: usize,
    /// Seed of the search and of the simulated history.
    pub seed: u64,
    /// Range of the risk aversion γ searched (log scale), per tick per lot.
    pub gamma_range: (f64, f64),
    /// Range of the inventory skew searched, ticks per lot.
    pub skew_range: (f64, f64),
}

impl Default for OptimizeConfig {
    fn default() -> Self {
        OptimizeConfig {
            search: "bayesian".into(),
            trials: 24,
            preset: "default".into(),
            segment_s: 300.0,
            segments: 12,
            in_sample: 4,
            out_of_sample: 2,
            seed: 1,
            gamma_range: (1e-3, 1.0),
            skew_range: (0.0, 0.5),
        }
    }
}

/// Arguments of `optimize` (each overrides the `--config` file, which overrides the defaults).
#[derive(Args, Debug)]
pub struct OptimizeArgs {
    /// TOML file with any of: search, trials, preset, segment_s, segments, in_sample,
    /// out_of_sample, seed, gamma_range = [lo, hi], skew_range = [lo, hi].
    #[arg(long)]
    config: Option<PathBuf>,
    /// Search: bayesian (default), random or grid.
    #[arg(long)]
    search: Option<String>,
    /// Objective evaluations per search (grid: points per dimension); default 24.
    #[arg(long)]
    trials: Option<usize>,
    /// Simulator preset of every evaluation; default `default`.
    #[arg(long)]
    preset: Option<String>,
    /// Market time of one segment, seconds; default 300.
    #[arg(long)]
    segment: Option<f64>,
    /// Segments of simulated history (each its own seed); default 12.
    #[arg(long)]
    segments: Option<usize>,
    /// Segments in each in-sample window; default 4.
    #[arg(long)]
    in_sample: Option<usize>,
    /// Segments in each out-of-sample window; default 2.
    #[arg(long)]
    out_of_sample: Option<usize>,
    /// Seed of the search and of the simulated history; default 1.
    #[arg(long)]
    seed: Option<u64>,
    /// Report directory.
    #[arg(long, default_value = "zkclob-optimize")]
    out: PathBuf,
    /// No progress line.
    #[arg(long)]
    quiet: bool,
}

impl OptimizeArgs {
    fn resolve(&self) -> anyhow::Result<OptimizeConfig> {
        let mut c = match &self.config {
            Some(p) => toml::from_str(&read_toml(p)?).with_context(|| p.display().to_string())?,
            None => OptimizeConfig::default(),
        };
        if let Some(v) = &self.search {
            c.search = v.clone();
        }
        if let Some(v) = &self.preset {
            c.preset = v.clone();
        }
        c.trials = self.trials.unwrap_or(c.trials);
        c.segment_s = self.segment.unwrap_or(c.segment_s);
        c.segments = self.segments.unwrap_or(c.segments);
        c.in_sample = self.in_sample.unwrap_or(c.in_sample);
        c.out_of_sample = self.out_of_sample.unwrap_or(c.out_of_sample);
        c.seed = self.seed.unwrap_or(c.seed);
        Ok(c)
    }
}

/// Sharpe ratio per sample of a run's mark-to-mid PnL increments (not annualised); `None` when
/// undefined. Cheap enough to be an objective evaluated thousands of times.
fn sharpe_per_sample(log: &zkclob_sim::RunLog) -> Option<f64> {
    let r: Vec<f64> = log.samples.windows(2).map(|w| w[1].pnl - w[0].pnl).collect();
    if r.len() < 2 {
        return None;
    }
    let mean = r.iter().sum::<f64>() / r.len() as f64;
    let var = r.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (r.len() - 1) as f64;
    (var > 0.0).then(|| mean / var.sqrt())
}

/// One simulated segment with a GLFT market maker tuned by `params` (γ, inventory skew).
fn segment_sharpe(config: &SimConfig, params: &zkclob_backtest::optimize::Params, seed: u64) -> f64 {
    let run = || -> anyhow::Result<f64> {
        let sigma = config.fundamental.sigma_per_sqrt_s * config.market.initial_price_ticks as f64;
        let model = GlftAsymptotic::new(GlftAsymptoticParams {
            sigma_ticks_per_sqrt_s: sigma,
            gamma_per_tick_lot: params.get("gamma").unwrap_or(0.01),
            ..GlftAsymptoticParams::default()
        })?;
        let mut mm_cfg =
            MarketMakerConfig { session_end_s: config.duration_s, ..MarketMakerConfig::default() };
        mm_cfg.inventory.skew_ticks_per_lot = params.get("skew").unwrap_or(0.0);
        let mm = MarketMaker::new(model, mm_cfg)?;
        let out = zkclob_sim::run(config, Box::new(mm), seed, None)?;
        Ok(sharpe_per_sample(&out.log).unwrap_or(f64::NEG_INFINITY))
    };
    // A configuration the model refuses scores as the worst possible, so the search moves on.
    run().unwrap_or(f64::NEG_INFINITY)
}

/// Runs `optimize`: a search over the GLFT market maker's risk aversion γ and inventory skew on
/// simulated segments, then a walk-forward analysis (optimise in sample, evaluate out of sample).
pub fn run_optimize(args: OptimizeArgs) -> anyhow::Result<()> {
    use zkclob_backtest::optimize::{
        optimize, walk_forward, BayesConfig, Goal, ParamSpace, ParamSpec, Params, Search, WalkForwardConfig,
    };
    let a = args.resolve()?;
    let out = &args.out;
    if !PRESET_NAMES.contains(&a.preset.as_str()) {
        bail!("unknown preset {:?}: one of {}", a.preset, PRESET_NAMES.join(", "));
    }
    if a.trials == 0 || a.segments == 0 {
        bail!("--trials and --segments must be positive");
    }
    let config = SimConfig::preset_with_duration(&a.preset, a.segment_s)?;
    let space = ParamSpace::new(vec![
        ParamSpec::log_real("gamma", a.gamma_range.0, a.gamma_range.1),
        ParamSpec::real("skew", a.skew_range.0, a.skew_range.1),
    ])?;
    let search = match a.search.as_str() {
        "bayesian" => {
            Search::Bayesian(BayesConfig { trials: a.trials, seed: a.seed, ..BayesConfig::default() })
        }
        "random" => Search::Random { trials: a.trials, seed: a.seed },
        "grid" => Search::Grid { points_per_dim: a.trials },
        other => bail!("unknown search {other:?}: bayesian, random or grid"),
    };
    let segment_seed = |i: usize| a.seed.wrapping_mul(1_000_003).wrapping_add(i as u64);
    let started = Instant::now();
    // Progress on a terminal: segments simulated so far (evaluations run in parallel).
    let simulated = std::sync::atomic::AtomicUsize::new(0);
    let show = !args.quiet && std::io::stderr().is_terminal();
    let mean_over = |p: &Params, range: std::ops::Range<usize>| {
        let n = range.len().max(1) as f64;
        let total = range.map(|i| segment_sharpe(&config, p, segment_seed(i))).sum::<f64>() / n;
        let done = simulated.fetch_add(n as usize, std::sync::atomic::Ordering::Relaxed) + n as usize;
        if show {
            eprint!("\r  {done} segments simulated, {:.1} s", started.elapsed().as_secs_f64());
        }
        total
    };
    // 1. The search over the whole history.
    eprintln!(
        "optimize: {} search, {} trials over {} segments of {} s",
        search.name(),
        a.trials,
        a.segments,
        a.segment_s
    );
    let result = optimize(&space, &search, Goal::Maximize, |p| mean_over(p, 0..a.segments))?;
    let files = zkclob_backtest::write_optimization_report(&result, &space, out)?;
    // 2. Walk-forward: optimise on in-sample segments, evaluate the winner on the next ones, and
    //    compare with the default parameters on the same out-of-sample segments.
    if show {
        eprintln!();
    }
    eprintln!("optimize: walk-forward");
    let wf_cfg = WalkForwardConfig {
        total_len: a.segments,
        in_sample_len: a.in_sample,
        out_of_sample_len: a.out_of_sample,
        step: None,
        gap: 0,
        anchored: false,
    };
    let wf = walk_forward(&space, &search, Goal::Maximize, &wf_cfg, mean_over)?;
    if show {
        eprintln!();
    }
    let defaults = Params::new().with("gamma", 0.01).with("skew", 0.0);
    let baseline: Vec<f64> =
        wf.rows.iter().map(|r| mean_over(&defaults, r.window.out_of_sample.clone())).collect();
    let baseline_mean = baseline.iter().sum::<f64>() / baseline.len().max(1) as f64;
    if show {
        eprintln!();
    }
    let wf_json = serde_json::json!({
        "walk_forward": wf,
        "default_params": {"gamma": 0.01, "skew": 0.0},
        "default_out_of_sample": baseline,
        "default_out_of_sample_mean": baseline_mean,
    });
    let wf_path = out.join("walk_forward.json");
    std::fs::write(&wf_path, serde_json::to_vec_pretty(&wf_json)?)
        .with_context(|| format!("writing {}", wf_path.display()))?;
    let best = result
        .rows
        .iter()
        .filter(|r| r.objective.is_some())
        .max_by(|x, y| x.objective.partial_cmp(&y.objective).unwrap_or(std::cmp::Ordering::Equal));
    println!(
        "{}",
        serde_json::json!({
            "search": search.name(),
            "trials": result.rows.len(),
            "objective": "sharpe_per_sample",
            "best_objective": result.best_objective(),
            "best_params": best.map(|r| &r.params),
            "walk_forward_in_sample_mean": wf.mean_in_sample,
            "walk_forward_out_of_sample_mean": wf.mean_out_of_sample,
            "default_out_of_sample_mean": baseline_mean,
            "out": out.display().to_string(),
            "files": files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
            "seconds": started.elapsed().as_secs_f64(),
        })
    );
    Ok(())
}
