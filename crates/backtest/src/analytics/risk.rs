//! Returns, risk-adjusted ratios and drawdowns of the sampled PnL curve.

use serde::{Deserialize, Serialize};
use zkclob_sim::RunLog;

use super::stats::{finite, mean, moments, sample_std};
use super::Benchmark;

/// The per-period returns of a run: the PnL increments between consecutive samples, tick·lots.
///
/// A market maker's log carries no capital base, so returns are absolute PnL changes rather than
/// percentages. Sharpe, Sortino, the information ratio and the probabilistic Sharpe ratio are
/// invariant to that scale; mean returns and drawdowns are in tick·lots.
pub fn returns(log: &RunLog) -> Vec<f64> {
    log.samples.windows(2).map(|w| w[1].pnl - w[0].pnl).collect()
}

/// The benchmark's per-period returns over the same intervals as [`returns`].
pub fn benchmark_returns(log: &RunLog, benchmark: Benchmark) -> Vec<f64> {
    match benchmark {
        Benchmark::Zero => vec![0.0; log.samples.len().saturating_sub(1)],
        Benchmark::HoldLots(lots) => {
            log.samples.windows(2).map(|w| lots as f64 * (w[1].mid_ticks - w[0].mid_ticks)).collect()
        }
    }
}

/// Summary of the per-period returns (tick·lots per sample interval).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReturnStats {
    /// Number of returns (samples − 1, or 0).
    pub count: usize,
    /// Mean return; `None` without returns.
    pub mean: Option<f64>,
    /// Sample standard deviation; `None` with fewer than two returns.
    pub std: Option<f64>,
    /// Skewness (population moments); `None` with fewer than two returns or zero variance.
    pub skewness: Option<f64>,
    /// Kurtosis, 3 for a normal law (population moments); `None` as for skewness.
    pub kurtosis: Option<f64>,
    /// Share of returns > 0; `None` without returns.
    pub positive_share: Option<f64>,
}

/// Summarises a returns series.
pub fn return_stats(r: &[f64]) -> ReturnStats {
    let m = moments(r);
    ReturnStats {
        count: r.len(),
        mean: mean(r),
        std: m.map(|m| m.std),
        skewness: m.and_then(|m| m.skewness),
        kurtosis: m.and_then(|m| m.kurtosis),
        positive_share: (!r.is_empty())
            .then(|| r.iter().filter(|&&x| x > 0.0).count() as f64 / r.len() as f64),
    }
}

/// Annualised risk-adjusted performance. Every ratio is `None` when its denominator is zero or
/// undefined (fewer than two returns, zero variance, no losing period for Sortino, no drawdown for
/// Calmar).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskMetrics {
    /// Mean return × periods per year, tick·lots per year.
    pub annualised_return: Option<f64>,
    /// Standard deviation × √(periods per year), tick·lots.
    pub annualised_volatility: Option<f64>,
    /// Sharpe ratio: mean / std × √(periods per year), with a zero risk-free rate (the PnL of a
    /// market maker is an excess return: no capital is lent).
    pub sharpe: Option<f64>,
    /// Sortino ratio: mean / downside deviation × √(periods per year), the downside deviation being
    /// √(Σ min(r, 0)² / n) over all n periods.
    pub sortino: Option<f64>,
    /// Information ratio against the benchmark: mean(r − b) / std(r − b) × √(periods per year).
    pub information_ratio: Option<f64>,
    /// The benchmark of the information ratio.
    pub benchmark: Benchmark,
    /// Calmar ratio: annualised return / maximum drawdown.
    pub calmar: Option<f64>,
}

/// Annualised Sharpe ratio of a returns series: mean / sample std × √`periods_per_year`.
pub fn sharpe_ratio(r: &[f64], periods_per_year: f64) -> Option<f64> {
    let s = sample_std(r)?;
    if s <= 0.0 {
        return None;
    }
    finite(mean(r)? / s * periods_per_year.sqrt())
}

/// Annualised Sortino ratio of a returns series (target 0): mean / √(Σ min(r,0)²/n) × √ppy.
pub fn sortino_ratio(r: &[f64], periods_per_year: f64) -> Option<f64> {
    if r.len() < 2 {
        return None;
    }
    let downside = (r.iter().map(|x| x.min(0.0).powi(2)).sum::<f64>() / r.len() as f64).sqrt();
    if downside <= 0.0 {
        return None;
    }
    finite(mean(r)? / downside * periods_per_year.sqrt())
}

/// Computes the risk metrics; `max_drawdown` comes from [`drawdown`].
pub fn risk_metrics(
    r: &[f64],
    bench: &[f64],
    benchmark: Benchmark,
    periods_per_year: f64,
    max_drawdown: f64,
) -> RiskMetrics {
    let annualised_return = mean(r).and_then(|m| finite(m * periods_per_year));
    let active: Vec<f64> = r.iter().zip(bench).map(|(a, b)| a - b).collect();
    RiskMetrics {
        annualised_return,
        annualised_volatility: sample_std(r).and_then(|s| finite(s * periods_per_year.sqrt())),
        sharpe: sharpe_ratio(r, periods_per_year),
        sortino: sortino_ratio(r, periods_per_year),
        information_ratio: sharpe_ratio(&active, periods_per_year),
        benchmark,
        calmar: annualised_return.filter(|_| max_drawdown > 0.0).and_then(|a| finite(a / max_drawdown)),
    }
}

/// The deepest and the longest fall of the PnL curve below its running peak.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Drawdown {
    /// Largest peak-to-trough fall, tick·lots (≥ 0; 0 for a curve that never falls, or without
    /// samples).
    pub max_drawdown: f64,
    /// Time of the peak before the deepest fall, seconds; `None` if the curve never falls.
    pub peak_time_s: Option<f64>,
    /// Time of the deepest point, seconds; `None` if the curve never falls.
    pub trough_time_s: Option<f64>,
    /// Longest time spent below a previous peak, seconds: from the peak to the first sample back at
    /// or above it, or to the end of the run if it never recovers.
    pub max_duration_s: f64,
    /// Whether the curve ends at or above its running peak.
    pub recovered: bool,
}

/// Running drawdown of the PnL curve at each sample, tick·lots (≥ 0).
pub fn drawdown_series(log: &RunLog) -> Vec<f64> {
    let mut peak = f64::NEG_INFINITY;
    log.samples
        .iter()
        .map(|s| {
            peak = peak.max(s.pnl);
            peak - s.pnl
        })
        .collect()
}

/// Computes the maximum drawdown (depth and duration) of the sampled PnL curve.
pub fn drawdown(log: &RunLog) -> Drawdown {
    let mut out = Drawdown {
        max_drawdown: 0.0,
        peak_time_s: None,
        trough_time_s: None,
        max_duration_s: 0.0,
        recovered: true,
    };
    let Some(first) = log.samples.first() else { return out };
    let (mut peak, mut peak_time_s) = (first.pnl, first.time_s);
    let mut underwater = false;
    for s in &log.samples[1..] {
        if s.pnl >= peak {
            if underwater {
                out.max_duration_s = out.max_duration_s.max(s.time_s - peak_time_s);
            }
            (peak, peak_time_s, underwater) = (s.pnl, s.time_s, false);
            continue;
        }
        underwater = true;
        let depth = peak - s.pnl;
        if depth > out.max_drawdown {
            out.max_drawdown = depth;
            out.peak_time_s = Some(peak_time_s);
            out.trough_time_s = Some(s.time_s);
        }
    }
    if let Some(last) = log.samples.last() {
        out.recovered = last.pnl >= peak;
        if !out.recovered {
            out.max_duration_s = out.max_duration_s.max(last.time_s - peak_time_s);
        }
    }
    out
}
