//! Profit and loss: the mark-to-mid total from the samples, and its split into realised (FIFO),
//! unrealised and fees from the fills.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};
use zkclob_sim::{FillSide, RunLog};

/// The run's PnL, tick·lots.
///
/// Realised PnL matches sells against buys **first in, first out**: each closing fill realises
/// (exit − entry) × lots against the oldest open lots. An inventory already held at the first sample
/// is treated as bought (or sold) at the first sample's mid. Realised and unrealised PnL are gross
/// of fees; `fees` is reported separately, so `realised + unrealised − fees = net_from_fills`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PnlBreakdown {
    /// How realised PnL is attributed: always `"fifo"`.
    pub method: String,
    /// Mark-to-mid PnL over the run: last sample's `pnl` − first sample's `pnl`. Without samples,
    /// `net_from_fills`; 0 for an empty log.
    pub total: f64,
    /// PnL closed by offsetting fills (FIFO), gross of fees.
    pub realised: f64,
    /// Open lots marked to the final mid, gross of fees.
    pub unrealised: f64,
    /// Fees paid over the run (negative = net rebates), summed over the fills.
    pub fees: f64,
    /// `realised + unrealised − fees`.
    pub net_from_fills: f64,
    /// `total − net_from_fills`: what the fills do not explain (should be ~0; a large value means
    /// the samples and the fills of the log disagree). `None` without samples.
    pub unexplained: Option<f64>,
    /// Mid used to mark the open lots, ticks (`None` when there is nothing to mark with).
    pub final_mid_ticks: Option<f64>,
}

/// An open FIFO lot: `qty_lots` at `price_ticks`, long if `sign` is +1, short if −1.
#[derive(Debug, Clone, Copy)]
struct OpenLot {
    price_ticks: f64,
    qty_lots: u64,
}

/// FIFO book of open lots, all on one side (`sign`).
#[derive(Debug, Default)]
struct FifoBook {
    lots: VecDeque<OpenLot>,
    sign: i8,
    realised: f64,
}

impl FifoBook {
    fn apply(&mut self, side_sign: i8, price_ticks: f64, qty_lots: u64) {
        let mut remaining = qty_lots;
        while remaining > 0 && self.sign == -side_sign {
            let Some(front) = self.lots.front_mut() else { break };
            let closed = remaining.min(front.qty_lots);
            // A long lot closed by a sell gains (exit − entry); a short lot closed by a buy gains
            // (entry − exit).
            self.realised += f64::from(self.sign) * (price_ticks - front.price_ticks) * closed as f64;
            front.qty_lots -= closed;
            remaining -= closed;
            if front.qty_lots == 0 {
                self.lots.pop_front();
            }
            if self.lots.is_empty() {
                self.sign = 0;
            }
        }
        if remaining > 0 {
            self.sign = side_sign;
            self.lots.push_back(OpenLot { price_ticks, qty_lots: remaining });
        }
    }

    fn unrealised(&self, mid_ticks: f64) -> f64 {
        let sign = f64::from(self.sign);
        // fold from +0.0, not sum(): an empty f64 sum is −0.0, which would print as "-0.0".
        self.lots
            .iter()
            .map(|l| sign * (mid_ticks - l.price_ticks) * l.qty_lots as f64)
            .fold(0.0, |a, b| a + b)
    }
}

/// +1 for a buy, −1 for a sell.
pub(crate) fn side_sign(side: FillSide) -> i8 {
    match side {
        FillSide::Buy => 1,
        FillSide::Sell => -1,
    }
}

/// Computes the PnL breakdown of a run.
pub fn pnl_breakdown(log: &RunLog) -> PnlBreakdown {
    let mut book = FifoBook::default();
    if let Some(first) = log.samples.first() {
        let q = first.inventory_lots;
        if q != 0 {
            book.apply(q.signum() as i8, first.mid_ticks, q.unsigned_abs());
        }
    }
    let mut fees = 0.0;
    for fill in &log.fills {
        book.apply(side_sign(fill.side), fill.price_ticks as f64, fill.qty_lots);
        fees += fill.fee;
    }
    let final_mid_ticks = log.samples.last().map(|s| s.mid_ticks).or(log.fills.last().map(|f| f.mid_before));
    let unrealised = final_mid_ticks.map_or(0.0, |m| book.unrealised(m));
    let net_from_fills = book.realised + unrealised - fees;
    let total = match (log.samples.first(), log.samples.last()) {
        (Some(first), Some(last)) => last.pnl - first.pnl,
        _ => net_from_fills,
    };
    PnlBreakdown {
        method: "fifo".to_string(),
        total,
        realised: book.realised,
        unrealised,
        fees,
        net_from_fills,
        unexplained: (!log.samples.is_empty()).then_some(total - net_from_fills),
        final_mid_ticks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_closes_oldest_lots_first() {
        let mut book = FifoBook::default();
        book.apply(1, 100.0, 2);
        book.apply(1, 110.0, 2);
        book.apply(-1, 120.0, 3); // closes 2 @100 (+40) and 1 @110 (+10)
        assert_eq!(book.realised, 50.0);
        assert_eq!(book.sign, 1);
        assert_eq!(book.unrealised(130.0), 20.0); // 1 @110 marked at 130
        book.apply(-1, 105.0, 3); // closes 1 @110 (−5), opens a short of 2 @105
        assert_eq!(book.realised, 45.0);
        assert_eq!(book.sign, -1);
        assert_eq!(book.unrealised(100.0), 10.0);
    }
}
