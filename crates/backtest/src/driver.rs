//! What the L3 and L2 replays share when they drive a [`Quoter`](zkclob_strategy::Quoter): turning
//! desired quotes into cancels and places (only where price or size changed), holding them for the
//! entry latency, checking the settings both replays have, and the ledger of our fills and
//! samples.

use zkclob_core::Side;
use zkclob_sim::{FillRecord, RunLog, Sample};
use zkclob_strategy::Quotes;

/// One order action of ours, decided at some time and due after the entry latency. `Id` is how the
/// replay names our live orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Planned<Id> {
    /// Cancel our live order on `side`.
    Cancel {
        /// Its side.
        side: Side,
        /// Its id.
        id: Id,
    },
    /// Place an order.
    Place {
        /// Side.
        side: Side,
        /// Price, ticks.
        price_ticks: i64,
        /// Size, lots.
        qty_lots: u64,
    },
}

/// Our order actions in flight.
#[derive(Debug, Clone)]
pub(crate) struct Pending<Id> {
    queue: Vec<(f64, Planned<Id>)>,
}

impl<Id: Copy> Pending<Id> {
    /// Nothing in flight.
    pub fn new() -> Self {
        Pending { queue: Vec::new() }
    }

    /// Plans what turns our live orders `have` (per side, bid first: id, price ticks, lots left)
    /// into the desired `quotes`, due at `at`. A side is left alone when unchanged, or when a place
    /// on it is still in flight; a change is a cancel then a place (so queue priority is lost).
    pub fn plan(&mut self, at: f64, have: [Option<(Id, i64, u64)>; 2], quotes: &Quotes) {
        for (i, (side, want)) in [(Side::Buy, quotes.bid), (Side::Sell, quotes.ask)].into_iter().enumerate() {
            let want = want.filter(|w| w.qty_lots > 0).map(|w| (w.price_ticks, w.qty_lots));
            let unchanged = match (have[i], want) {
                (Some((_, hp, hq)), Some((p, q))) => hp == p && hq == q,
                (None, None) => true,
                _ => false,
            };
            let in_flight =
                self.queue.iter().any(|(_, a)| matches!(a, Planned::Place { side: s, .. } if *s == side));
            if unchanged || in_flight {
                continue;
            }
            if let Some((id, _, _)) = have[i] {
                self.queue.push((at, Planned::Cancel { side, id }));
            }
            if let Some((price_ticks, qty_lots)) = want {
                self.queue.push((at, Planned::Place { side, price_ticks, qty_lots }));
            }
        }
    }

    /// Takes the actions due at `now_s`, in the order they were planned.
    pub fn due(&mut self, now_s: f64) -> Vec<Planned<Id>> {
        let (due, later): (Vec<_>, Vec<_>) = self.queue.drain(..).partition(|(at, _)| *at <= now_s);
        self.queue = later;
        due.into_iter().map(|(_, a)| a).collect()
    }

    /// Drops everything in flight (at the end of a replay, it never reaches the market).
    pub fn clear(&mut self) {
        self.queue.clear();
    }
}

/// The settings every replay driver shares.
pub(crate) struct DriverFields {
    pub decision_interval_s: f64,
    pub entry_latency_s: f64,
    pub sample_interval_s: f64,
    pub maker_fee_per_lot: f64,
    pub taker_fee_per_lot: f64,
    pub depth_levels: usize,
}

/// Checks the shared settings; the error is (field, value, requirement).
pub(crate) fn check_driver(f: &DriverFields) -> Result<(), (&'static str, f64, &'static str)> {
    for (name, v) in [("decision_interval_s", f.decision_interval_s), ("entry_latency_s", f.entry_latency_s)]
    {
        if !(v.is_finite() && v >= 0.0) {
            return Err((name, v, "finite and ≥ 0"));
        }
    }
    if !(f.sample_interval_s.is_finite() && f.sample_interval_s > 0.0) {
        return Err(("sample_interval_s", f.sample_interval_s, "finite and > 0"));
    }
    for (name, v) in [("maker_fee_per_lot", f.maker_fee_per_lot), ("taker_fee_per_lot", f.taker_fee_per_lot)]
    {
        if !v.is_finite() {
            return Err((name, v, "finite"));
        }
    }
    if f.depth_levels == 0 || f.depth_levels > 1000 {
        return Err(("depth_levels", f.depth_levels as f64, "between 1 and 1000"));
    }
    Ok(())
}

/// The market as a sample records it: mid, touch and our quotes, ticks.
pub(crate) struct Snapshot {
    pub mid: f64,
    pub best_bid: Option<i64>,
    pub best_ask: Option<i64>,
    pub our_bid: Option<i64>,
    pub our_ask: Option<i64>,
}

/// Our position and the run log: every fill and the samples on the grid.
pub(crate) struct Ledger {
    /// Inventory, lots.
    pub inventory: i64,
    /// Cash, tick·lots (fees deducted).
    pub cash: f64,
    /// Fees paid (negative: rebates), tick·lots.
    pub fees: f64,
    /// The run so far.
    pub log: RunLog,
    next_sample_s: f64,
}

impl Ledger {
    /// Flat, with samples every `sample_interval_s` from 0.
    pub fn new(sample_interval_s: f64) -> Self {
        Ledger {
            inventory: 0,
            cash: 0.0,
            fees: 0.0,
            log: RunLog { sample_interval_s, ..RunLog::default() },
            next_sample_s: 0.0,
        }
    }

    /// Books one fill of ours (our `side`) and logs it.
    #[allow(clippy::too_many_arguments)]
    pub fn fill(
        &mut self,
        time_s: f64,
        side: Side,
        price_ticks: i64,
        qty_lots: u64,
        fee: f64,
        maker: bool,
        mid_before: f64,
    ) {
        let signed = if side == Side::Buy { qty_lots as i64 } else { -(qty_lots as i64) };
        self.inventory += signed;
        self.cash -= signed as f64 * price_ticks as f64 + fee;
        self.fees += fee;
        self.log.fills.push(FillRecord {
            time_s,
            side: side.into(),
            price_ticks,
            qty_lots,
            fee,
            maker,
            mid_before,
        });
    }

    /// One sample at `t`.
    pub fn sample(&mut self, t: f64, s: &Snapshot) {
        self.log.samples.push(Sample {
            time_s: t,
            mid_ticks: s.mid,
            best_bid: s.best_bid,
            best_ask: s.best_ask,
            our_bid: s.our_bid,
            our_ask: s.our_ask,
            inventory_lots: self.inventory,
            cash: self.cash,
            fees: self.fees,
            pnl: self.cash + self.inventory as f64 * s.mid,
        });
    }

    /// The samples of the grid up to `t` (the state between two events is constant).
    pub fn sample_until(&mut self, t: f64, s: &Snapshot) {
        while self.next_sample_s <= t {
            let at = self.next_sample_s;
            self.sample(at, s);
            self.next_sample_s += self.log.sample_interval_s;
        }
    }
}
