//! Research calculators (`hawkes`, `hurst`, `fbm`): thin wrappers over `zkclob-models`.
//!
//! Each calculator prints one JSON object, except the generators (`hawkes simulate`, `fbm`), which
//! print one number per line so their output can be piped into the others.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;
use zkclob_models::hawkes::{fit_exp_hawkes, EventTimes, ExpHawkes, FitOptions};
use zkclob_models::rough::{fgn_davies_harte, hurst_exponent, HurstMethod};
use zkclob_models::seeded_rng;

/// Research subcommands.
#[derive(Subcommand, Debug)]
pub enum ResearchCmd {
    /// Hawkes process with exponential kernel λ(t) = μ + Σ α·e^(−β(t−tᵢ)) (times in seconds).
    Hawkes {
        #[command(subcommand)]
        cmd: HawkesCmd,
    },
    /// Hurst exponent of a path (e.g. log-volatility or fBm) read one value per line.
    Hurst(HurstArgs),
    /// Unit-variance fractional Gaussian noise (Davies–Harte), one value per line.
    Fbm(FbmArgs),
}

/// `zkclob hawkes …`
#[derive(Subcommand, Debug)]
pub enum HawkesCmd {
    /// Exact log-likelihood and compensator of an event list → {"loglik", "compensator"}.
    Loglik {
        #[command(flatten)]
        events: EventsArgs,
        #[command(flatten)]
        params: HawkesParams,
    },
    /// Maximum-likelihood fit → {"mu", "alpha", "beta", "branching_ratio", "loglik", "ks_pvalue", …}.
    Fit {
        #[command(flatten)]
        events: EventsArgs,
    },
    /// Simulates by Ogata thinning; prints event times (seconds), one per line.
    Simulate {
        #[command(flatten)]
        params: HawkesParams,
        /// Horizon T in seconds.
        #[arg(long, allow_hyphen_values = true)]
        horizon: f64,
        /// Seed of the random number generator.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
}

/// An event file and its observation window.
#[derive(Args, Debug)]
pub struct EventsArgs {
    /// File with one event time (seconds, ascending) per line.
    #[arg(long)]
    events: PathBuf,
    /// Observation window [0, T] in seconds.
    #[arg(long, allow_hyphen_values = true)]
    horizon: f64,
}

/// Exponential-kernel parameters.
#[derive(Args, Debug)]
pub struct HawkesParams {
    /// Baseline intensity μ, events per second.
    #[arg(long, allow_hyphen_values = true)]
    mu: f64,
    /// Jump of the intensity at each event α, events per second (branching ratio = α/β).
    #[arg(long, allow_hyphen_values = true)]
    alpha: f64,
    /// Decay rate β, per second.
    #[arg(long, allow_hyphen_values = true)]
    beta: f64,
}

/// `zkclob hurst …`
#[derive(Args, Debug)]
pub struct HurstArgs {
    /// File with the path, one value per line.
    #[arg(long)]
    series: PathBuf,
    /// Estimator.
    #[arg(long, value_enum, default_value_t = HurstMethodArg::Variogram)]
    method: HurstMethodArg,
}

/// Hurst estimator names on the command line.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum HurstMethodArg {
    /// Variogram of the path (second moment of increments across lags).
    Variogram,
    /// Rescaled range with the Anis–Lloyd–Peters correction.
    Rs,
    /// Detrended fluctuation analysis.
    Dfa,
}

/// `zkclob fbm …`
#[derive(Args, Debug)]
pub struct FbmArgs {
    /// Hurst exponent H in (0, 1).
    #[arg(long, allow_hyphen_values = true)]
    hurst: f64,
    /// Number of points.
    #[arg(long)]
    n: usize,
    /// Seed of the random number generator.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

/// Runs one research subcommand.
pub fn run(cmd: ResearchCmd) -> anyhow::Result<()> {
    match cmd {
        ResearchCmd::Hawkes { cmd } => run_hawkes(cmd),
        ResearchCmd::Hurst(args) => {
            let path = read_values(&args.series)?;
            // The JSON names the method as the command line spells it.
            let (method, method_name) = match args.method {
                HurstMethodArg::Variogram => (HurstMethod::Variogram, "variogram"),
                HurstMethodArg::Rs => (HurstMethod::RescaledRange, "rs"),
                HurstMethodArg::Dfa => (HurstMethod::Dfa, "dfa"),
            };
            let est = hurst_exponent(&path, method)?;
            print_json(&json!({
                "hurst": est.hurst,
                "method": method_name,
                "points": path.len(),
                "scales": est.scales,
                "regression_std_error": est.regression_std_error,
            }))
        }
        ResearchCmd::Fbm(args) => {
            let values = fgn_davies_harte(args.hurst, args.n, &mut seeded_rng(args.seed))?;
            print_lines(&values)
        }
    }
}

fn run_hawkes(cmd: HawkesCmd) -> anyhow::Result<()> {
    match cmd {
        HawkesCmd::Loglik { events, params } => {
            let events = read_events(&events)?;
            let model = ExpHawkes::new(params.mu, params.alpha, params.beta)?;
            let ll = model.log_likelihood(&events);
            print_json(&json!({ "loglik": ll.loglik, "compensator": ll.compensator, "events": events.len() }))
        }
        HawkesCmd::Fit { events } => {
            let events = read_events(&events)?;
            let fit = fit_exp_hawkes(&events, &FitOptions::default())?;
            let gof = fit.model.goodness_of_fit(&events);
            print_json(&json!({
                "mu": fit.model.mu_per_s(),
                "alpha": fit.model.alpha_per_s(),
                "beta": fit.model.beta_per_s(),
                "branching_ratio": fit.model.branching_ratio(),
                "loglik": fit.loglik.loglik,
                "ks_pvalue": gof.ks_pvalue,
                "ks_statistic": gof.ks_statistic,
                "std_errors": { "mu": fit.std_errors[0], "alpha": fit.std_errors[1], "beta": fit.std_errors[2] },
                "events": events.len(),
                "converged": fit.converged,
            }))
        }
        HawkesCmd::Simulate { params, horizon, seed } => {
            let model = ExpHawkes::new(params.mu, params.alpha, params.beta)?;
            let events = model.simulate_thinning(horizon, &mut seeded_rng(seed))?;
            print_lines(events.times_s())
        }
    }
}

fn read_events(args: &EventsArgs) -> anyhow::Result<EventTimes> {
    let times = read_values(&args.events)?;
    EventTimes::new(times, args.horizon).with_context(|| format!("bad event file {}", args.events.display()))
}

/// Reads one number per line; blank lines and lines starting with `#` are skipped.
fn read_values(path: &Path) -> anyhow::Result<Vec<f64>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut values = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let value: f64 =
            line.parse().with_context(|| format!("{}:{}: not a number: {line:?}", path.display(), i + 1))?;
        values.push(value);
    }
    Ok(values)
}

fn print_json(value: &serde_json::Value) -> anyhow::Result<()> {
    println!("{value}");
    Ok(())
}

fn print_lines(values: &[f64]) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for v in values {
        writeln!(out, "{v}")?;
    }
    out.flush()?;
    Ok(())
}
