//! Fills: counts and ratios, mark-outs, adverse selection and transaction-cost analysis.
//!
//! Sign convention: `d` = +1 for our buys, −1 for our sells; `p` the fill price, `m₀` the mid just
//! before the fill, `m_h` the mid h seconds after it. All per-lot quantities are volume-weighted
//! means, in ticks.

use serde::{Deserialize, Serialize};
use zkclob_sim::{FillRecord, RunLog, Sample};

use super::pnl::side_sign;
use super::stats::finite;

/// Tolerance when comparing fill times with sample times, seconds: sample times are sums of float
/// intervals, so a sample meant to be at exactly t + h may land a hair before it.
const TIME_EPS_S: f64 = 1e-9;

/// Counts and ratios of our fills.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FillStats {
    /// Number of fills.
    pub count: usize,
    /// Buy fills.
    pub buys: usize,
    /// Sell fills.
    pub sells: usize,
    /// Lots traded.
    pub volume_lots: u64,
    /// Σ price × lots, tick·lots.
    pub notional: f64,
    /// Fills where we were the maker.
    pub maker_count: usize,
    /// Maker fills / fills; `None` without fills.
    pub maker_share: Option<f64>,
    /// Maker lots / lots; `None` without fills.
    pub maker_volume_share: Option<f64>,
    /// Orders we sent (places, cancels, replaces).
    pub orders_sent: u64,
    /// Fills / orders sent; `None` when no order was sent.
    pub fill_ratio: Option<f64>,
    /// Mean fill size, lots; `None` without fills.
    pub mean_fill_lots: Option<f64>,
}

/// Computes fill counts and ratios.
pub fn fill_stats(log: &RunLog) -> FillStats {
    let count = log.fills.len();
    let volume_lots: u64 = log.fills.iter().map(|f| f.qty_lots).sum();
    let maker: Vec<&FillRecord> = log.fills.iter().filter(|f| f.maker).collect();
    let maker_volume: u64 = maker.iter().map(|f| f.qty_lots).sum();
    let buys = log.fills.iter().filter(|f| side_sign(f.side) > 0).count();
    let ratio = |a: f64, b: f64| (b > 0.0).then(|| a / b);
    FillStats {
        count,
        buys,
        sells: count - buys,
        volume_lots,
        notional: log.fills.iter().map(|f| f.price_ticks as f64 * f.qty_lots as f64).fold(0.0, |a, b| a + b),
        maker_count: maker.len(),
        maker_share: ratio(maker.len() as f64, count as f64),
        maker_volume_share: ratio(maker_volume as f64, volume_lots as f64),
        orders_sent: log.orders_sent,
        fill_ratio: ratio(count as f64, log.orders_sent as f64),
        mean_fill_lots: ratio(volume_lots as f64, count as f64),
    }
}

/// Mark-outs and transaction costs at one horizon h.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HorizonTca {
    /// The horizon h, seconds.
    pub horizon_s: f64,
    /// Fills with a sample at or after t + h (the others are too close to the end of the run).
    pub fills_measured: usize,
    /// Σ d·(m_h − p)·lots over the measured fills: their PnL marked to the later mid, gross of fees,
    /// tick·lots.
    pub markout_total: f64,
    /// `markout_total` / fills measured, tick·lots.
    pub markout_per_fill: Option<f64>,
    /// `markout_total` / lots measured, ticks.
    pub markout_per_lot_ticks: Option<f64>,
    /// (`markout_total` − their fees) / lots measured, ticks.
    pub markout_net_per_lot_ticks: Option<f64>,
    /// Share of measured fills with a positive mark-out.
    pub markout_positive_share: Option<f64>,
    /// Effective spread over the measured fills: 2·d·(m₀ − p), ticks; positive = spread earned.
    pub effective_spread_ticks: Option<f64>,
    /// Realised spread: 2·d·(m_h − p), ticks (twice the per-lot mark-out); what of the effective
    /// spread is kept after h seconds.
    pub realised_spread_ticks: Option<f64>,
    /// Price impact: 2·d·(m₀ − m_h), ticks; positive = the mid moved against us (adverse selection).
    /// Effective spread = realised spread + price impact, exactly.
    pub price_impact_ticks: Option<f64>,
    /// Adverse selection per lot: d·(m₀ − m_h), ticks (half the price impact).
    pub adverse_selection_ticks: Option<f64>,
    /// Share of measured fills after which the mid moved against us.
    pub adverse_share: Option<f64>,
    /// Timing cost: d·(m₀ − m₋h) over fills with a sample at or before t − h, ticks: how far the
    /// mid had moved in our trade's direction during the h seconds before the fill (positive = we
    /// bought after a rise or sold after a fall: the delay component of implementation shortfall).
    pub timing_cost_ticks: Option<f64>,
}

/// Transaction-cost analysis of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Execution {
    /// Effective spread over all fills, 2·d·(m₀ − p), ticks; positive = spread earned.
    pub effective_spread_ticks: Option<f64>,
    /// Effective spread over maker fills.
    pub maker_effective_spread_ticks: Option<f64>,
    /// Effective spread over taker fills (typically negative: spread paid).
    pub taker_effective_spread_ticks: Option<f64>,
    /// Mark-outs and costs at each configured horizon.
    pub horizons: Vec<HorizonTca>,
}

/// The mid at the first sample at or after `t_s`: the first mid known once `t_s` has passed. `None`
/// past the last sample.
pub fn mid_at_or_after(samples: &[Sample], t_s: f64) -> Option<f64> {
    let i = samples.partition_point(|s| s.time_s < t_s - TIME_EPS_S);
    samples.get(i).map(|s| s.mid_ticks)
}

/// The mid at the last sample at or before `t_s`. `None` before the first sample.
pub fn mid_at_or_before(samples: &[Sample], t_s: f64) -> Option<f64> {
    let i = samples.partition_point(|s| s.time_s <= t_s + TIME_EPS_S);
    i.checked_sub(1).map(|i| samples[i].mid_ticks)
}

fn effective_spread(fills: &[&FillRecord]) -> Option<f64> {
    let lots: f64 = fills.iter().map(|f| f.qty_lots as f64).sum();
    let sum: f64 = fills
        .iter()
        .map(|f| {
            2.0 * f64::from(side_sign(f.side)) * (f.mid_before - f.price_ticks as f64) * f.qty_lots as f64
        })
        .sum();
    (lots > 0.0).then(|| sum / lots).and_then(finite)
}

/// Sums over the fills measured at one horizon.
#[derive(Default)]
struct HorizonSums {
    fills: usize,
    lots: f64,
    markout: f64,
    fees: f64,
    positive: usize,
    effective: f64,
    impact: f64,
    adverse: usize,
    timing_lots: f64,
    timing: f64,
}

fn horizon_tca(samples: &[Sample], fills: &[FillRecord], horizon_s: f64) -> HorizonTca {
    let mut s = HorizonSums::default();
    for f in fills {
        let d = f64::from(side_sign(f.side));
        let (p, q, m0) = (f.price_ticks as f64, f.qty_lots as f64, f.mid_before);
        if let Some(m_before) = mid_at_or_before(samples, f.time_s - horizon_s) {
            s.timing_lots += q;
            s.timing += d * (m0 - m_before) * q;
        }
        let Some(mh) = mid_at_or_after(samples, f.time_s + horizon_s) else { continue };
        let markout = d * (mh - p) * q;
        s.fills += 1;
        s.lots += q;
        s.markout += markout;
        s.fees += f.fee;
        s.positive += usize::from(markout > 0.0);
        s.effective += 2.0 * d * (m0 - p) * q;
        s.impact += 2.0 * d * (m0 - mh) * q;
        s.adverse += usize::from(d * (mh - m0) < 0.0);
    }
    let per_lot = |x: f64| (s.lots > 0.0).then(|| x / s.lots).and_then(finite);
    let per_fill = |x: f64| (s.fills > 0).then(|| x / s.fills as f64).and_then(finite);
    HorizonTca {
        horizon_s,
        fills_measured: s.fills,
        markout_total: s.markout,
        markout_per_fill: per_fill(s.markout),
        markout_per_lot_ticks: per_lot(s.markout),
        markout_net_per_lot_ticks: per_lot(s.markout - s.fees),
        markout_positive_share: per_fill(s.positive as f64),
        effective_spread_ticks: per_lot(s.effective),
        realised_spread_ticks: per_lot(2.0 * s.markout),
        price_impact_ticks: per_lot(s.impact),
        adverse_selection_ticks: per_lot(s.impact / 2.0),
        adverse_share: per_fill(s.adverse as f64),
        timing_cost_ticks: (s.timing_lots > 0.0).then(|| s.timing / s.timing_lots).and_then(finite),
    }
}

/// Computes the transaction-cost analysis at the given horizons (seconds).
pub fn execution(log: &RunLog, horizons_s: &[f64]) -> Execution {
    let all: Vec<&FillRecord> = log.fills.iter().collect();
    let maker: Vec<&FillRecord> = log.fills.iter().filter(|f| f.maker).collect();
    let taker: Vec<&FillRecord> = log.fills.iter().filter(|f| !f.maker).collect();
    Execution {
        effective_spread_ticks: effective_spread(&all),
        maker_effective_spread_ticks: effective_spread(&maker),
        taker_effective_spread_ticks: effective_spread(&taker),
        horizons: horizons_s.iter().map(|&h| horizon_tca(&log.samples, &log.fills, h)).collect(),
    }
}
