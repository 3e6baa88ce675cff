//! Shared helpers of the integration tests and the `report_demo` example: hand-built samples and a
//! toy market maker that produces realistic-looking run logs without the simulator.

#![allow(dead_code)]

use rand::RngExt;
use zkclob_models::seeded_rng;
use zkclob_sim::{FillRecord, FillSide, RunLog, Sample};

/// A sample with no quotes, consistent accounting: pnl = cash + inventory × mid.
pub fn sample(time_s: f64, mid_ticks: f64, inventory_lots: i64, cash: f64) -> Sample {
    Sample {
        time_s,
        mid_ticks,
        best_bid: Some(mid_ticks.floor() as i64 - 1),
        best_ask: Some(mid_ticks.ceil() as i64 + 1),
        our_bid: None,
        our_ask: None,
        inventory_lots,
        cash,
        fees: 0.0,
        pnl: cash + inventory_lots as f64 * mid_ticks,
    }
}

/// A log whose PnL at t = 0, 1, 2, … is `pnl` (flat inventory, mid 100).
pub fn log_from_pnl(pnl: &[f64]) -> RunLog {
    RunLog {
        samples: pnl.iter().enumerate().map(|(i, &p)| sample(i as f64, 100.0, 0, p)).collect(),
        fills: Vec::new(),
        events: 0,
        orders_sent: 0,
        sample_interval_s: 1.0,
    }
}

/// A log whose per-period returns are `returns` (PnL starts at 0).
pub fn log_from_returns(returns: &[f64]) -> RunLog {
    let mut pnl = vec![0.0];
    for r in returns {
        pnl.push(pnl.last().copied().unwrap_or(0.0) + r);
    }
    log_from_pnl(&pnl)
}

/// A fill record.
pub fn fill(
    time_s: f64,
    side: FillSide,
    price_ticks: i64,
    qty_lots: u64,
    mid_before: f64,
    maker: bool,
) -> FillRecord {
    FillRecord { time_s, side, price_ticks, qty_lots, fee: 0.0, maker, mid_before }
}

/// A standard normal draw (Box–Muller).
pub fn gaussian(rng: &mut zkclob_models::ModelRng) -> f64 {
    let u1 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    let u2 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// Settings of the toy market maker.
#[derive(Debug, Clone, Copy)]
pub struct ToyParams {
    /// Half-spread of our quotes around the reservation price, ticks.
    pub half_spread_ticks: f64,
    /// Reservation price shift per lot of inventory, ticks.
    pub skew_ticks_per_lot: f64,
    /// Inventory limit, lots.
    pub limit_lots: i64,
    /// How far the mid drifts against us after each fill (spread over the next seconds), ticks.
    pub informed_drift_ticks: f64,
    /// Standard deviation of the mid's own move per second, ticks.
    pub noise_ticks: f64,
}

impl Default for ToyParams {
    fn default() -> Self {
        Self {
            half_spread_ticks: 1.5,
            skew_ticks_per_lot: 0.2,
            limit_lots: 10,
            informed_drift_ticks: 1.4,
            noise_ticks: 3.0,
        }
    }
}

/// A toy market maker on a random-walk mid with informed flow: quotes at the reservation price ±
/// the half-spread, gets filled with a probability that decays with distance from the mid, and
/// after a fill the mid tends to move against it. Samples every second for `duration_s` seconds.
pub fn toy_log(seed: u64, duration_s: usize, p: ToyParams) -> RunLog {
    let mut rng = seeded_rng(seed);
    let (mut mid, mut q, mut cash, mut fees) = (10_000.0f64, 0i64, 0.0f64, 0.0f64);
    let mut log = RunLog { sample_interval_s: 1.0, ..RunLog::default() };
    let mut drift = 0.0;
    for t in 0..=duration_s {
        let time_s = t as f64;
        let reservation = mid - p.skew_ticks_per_lot * q as f64;
        let our_bid = (q < p.limit_lots).then(|| (reservation - p.half_spread_ticks).floor() as i64);
        let our_ask = (q > -p.limit_lots).then(|| (reservation + p.half_spread_ticks).ceil() as i64);
        let best_bid = (mid.floor() as i64 - 1).max(our_bid.unwrap_or(i64::MIN));
        let best_ask = (mid.ceil() as i64 + 1).min(our_ask.unwrap_or(i64::MAX));
        log.samples.push(Sample {
            time_s,
            mid_ticks: mid,
            best_bid: Some(best_bid),
            best_ask: Some(best_ask),
            our_bid,
            our_ask,
            inventory_lots: q,
            cash,
            fees,
            pnl: cash + q as f64 * mid,
        });
        if t == duration_s {
            break;
        }
        log.orders_sent += 2;
        log.events += 5 + (rng.random::<f64>() * 15.0) as u64;
        for (i, (side, quote)) in
            [(FillSide::Buy, our_bid), (FillSide::Sell, our_ask)].into_iter().enumerate()
        {
            let Some(price) = quote else { continue };
            let distance = (price as f64 - mid).abs();
            if rng.random::<f64>() < 0.6 * (-0.6 * distance).exp() {
                let fee = -0.2; // maker rebate per lot
                let sign = if side == FillSide::Buy { 1 } else { -1 };
                q += sign;
                cash -= sign as f64 * price as f64 + fee;
                fees += fee;
                log.fills.push(FillRecord {
                    // Buys in the first half of the second, sells in the second: fills stay in time order.
                    time_s: time_s + 0.5 * i as f64 + 0.4 * rng.random::<f64>(),
                    side,
                    price_ticks: price,
                    qty_lots: 1,
                    fee,
                    maker: true,
                    mid_before: mid,
                });
                // Informed flow: whoever hit us knew something.
                drift -= sign as f64 * p.informed_drift_ticks;
            }
        }
        mid += drift + p.noise_ticks * gaussian(&mut rng);
        drift *= 0.5;
    }
    log
}
