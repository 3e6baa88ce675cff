//! Inventory statistics and liquidity-adjusted returns.

use serde::{Deserialize, Serialize};
use zkclob_sim::RunLog;

use super::stats::finite;

/// Statistics of the inventory path, time-weighted: sample i stands for [tᵢ, tᵢ₊₁) (the last sample
/// has no weight). When the samples span no time, each sample weighs the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InventoryStats {
    /// Time-weighted mean inventory, lots; `None` without samples.
    pub mean_lots: Option<f64>,
    /// Time-weighted standard deviation, lots; `None` with fewer than two samples.
    pub std_lots: Option<f64>,
    /// Largest |inventory| sampled, lots.
    pub max_abs_lots: u64,
    /// Inventory at the last sample, lots (0 without samples).
    pub final_lots: i64,
    /// The configured inventory limit, lots.
    pub limit_lots: Option<u64>,
    /// Share of time with |inventory| ≥ limit; `None` without a limit or without samples.
    pub time_at_limit_share: Option<f64>,
    /// ∫|inventory| dt, lot·seconds.
    pub inventory_lot_seconds: f64,
}

/// The weight of each sample: the time until the next one (uniform if the samples span no time).
fn sample_weights(log: &RunLog) -> Vec<f64> {
    let s = &log.samples;
    let mut w: Vec<f64> =
        (0..s.len()).map(|i| s.get(i + 1).map_or(0.0, |n| (n.time_s - s[i].time_s).max(0.0))).collect();
    if w.iter().sum::<f64>() <= 0.0 {
        w.iter_mut().for_each(|x| *x = 1.0);
    }
    w
}

/// Computes the inventory statistics.
pub fn inventory_stats(log: &RunLog, limit_lots: Option<u64>) -> InventoryStats {
    let w = sample_weights(log);
    let total_w: f64 = w.iter().sum();
    let q: Vec<f64> = log.samples.iter().map(|s| s.inventory_lots as f64).collect();
    let mean_lots = (total_w > 0.0).then(|| q.iter().zip(&w).map(|(q, w)| q * w).sum::<f64>() / total_w);
    let std_lots = mean_lots.filter(|_| q.len() >= 2).and_then(|m| {
        finite((q.iter().zip(&w).map(|(q, w)| w * (q - m) * (q - m)).sum::<f64>() / total_w).sqrt())
    });
    let time_at_limit_share = limit_lots.filter(|_| total_w > 0.0).map(|limit| {
        let at: f64 = log
            .samples
            .iter()
            .zip(&w)
            .filter(|(s, _)| s.inventory_lots.unsigned_abs() >= limit)
            .map(|(_, w)| w)
            .sum();
        at / total_w
    });
    let inventory_lot_seconds = log
        .samples
        .windows(2)
        .map(|p| p[0].inventory_lots.unsigned_abs() as f64 * (p[1].time_s - p[0].time_s).max(0.0))
        .fold(0.0, |a, b| a + b);
    InventoryStats {
        mean_lots,
        std_lots,
        max_abs_lots: log.samples.iter().map(|s| s.inventory_lots.unsigned_abs()).max().unwrap_or(0),
        final_lots: log.samples.last().map_or(0, |s| s.inventory_lots),
        limit_lots,
        time_at_limit_share,
        inventory_lot_seconds,
    }
}

/// PnL scaled by the liquidity it used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiquidityAdjusted {
    /// Total PnL / lots traded, ticks per lot (the average edge per lot after adverse moves and
    /// fees); `None` without volume.
    pub pnl_per_lot_traded_ticks: Option<f64>,
    /// Total PnL / ∫|inventory| dt, ticks per second: the return on the inventory risk carried (one
    /// lot held one second earns this many ticks); `None` if no inventory was ever held.
    pub pnl_per_inventory_lot_second_ticks: Option<f64>,
}

/// Computes liquidity-adjusted returns from the total PnL, the volume and the inventory-time.
pub fn liquidity_adjusted(total_pnl: f64, volume_lots: u64, inventory_lot_seconds: f64) -> LiquidityAdjusted {
    LiquidityAdjusted {
        pnl_per_lot_traded_ticks: (volume_lots > 0).then(|| total_pnl / volume_lots as f64).and_then(finite),
        pnl_per_inventory_lot_second_ticks: (inventory_lot_seconds > 0.0)
            .then(|| total_pnl / inventory_lot_seconds)
            .and_then(finite),
    }
}
