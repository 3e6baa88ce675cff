//! Shared helpers: small quoters with known behaviour, and configuration shortcuts.

#![allow(dead_code)]

use zkclob_core::Side;
use zkclob_sim::{default_market_maker, run, SimConfig, SimOutput};
use zkclob_strategy::{MarketView, OrderIntent, Quoter, Quotes, StrategyError};

/// Never quotes.
pub struct Idle;

impl Quoter for Idle {
    fn name(&self) -> &'static str {
        "idle"
    }

    fn quote(&mut self, _view: &MarketView<'_>) -> Result<Quotes, StrategyError> {
        Ok(Quotes::none("idle"))
    }
}

/// Quotes a fixed bid and ask whatever happens; switches to `later` sizes at `switch_s`.
pub struct Fixed {
    pub bid: Option<OrderIntent>,
    pub ask: Option<OrderIntent>,
    pub switch_s: f64,
    pub later_bid_lots: Option<u64>,
}

impl Quoter for Fixed {
    fn name(&self) -> &'static str {
        "fixed"
    }

    fn quote(&mut self, view: &MarketView<'_>) -> Result<Quotes, StrategyError> {
        let mut bid = self.bid;
        if let (Some(b), Some(lots)) = (bid.as_mut(), self.later_bid_lots) {
            if view.time_s >= self.switch_s {
                b.qty_lots = lots;
            }
        }
        Ok(Quotes { bid, ask: self.ask, reason: "fixed" })
    }
}

/// Records every view's time and inventory and every fill it is told about; quotes nothing.
#[derive(Default)]
pub struct Recorder {
    pub log: std::rc::Rc<std::cell::RefCell<RecorderLog>>,
}

#[derive(Default, Debug)]
pub struct RecorderLog {
    pub views: Vec<(f64, i64, usize, usize, usize)>,
    pub fills: Vec<(f64, Side, i64, u64)>,
}

impl Quoter for Recorder {
    fn name(&self) -> &'static str {
        "recorder"
    }

    fn quote(&mut self, view: &MarketView<'_>) -> Result<Quotes, StrategyError> {
        let entry = (view.time_s, view.inventory_lots, view.bids.len(), view.asks.len(), view.trades.len());
        self.log.borrow_mut().views.push(entry);
        Ok(Quotes::none("recorder"))
    }

    fn on_fill(&mut self, time_s: f64, side: Side, price_ticks: i64, qty_lots: u64) {
        self.log.borrow_mut().fills.push((time_s, side, price_ticks, qty_lots));
    }
}

/// A quoter that sends garbage from a seeded generator: crossing prices, prices off the band,
/// zero and huge sizes, errors, one-sided and empty answers.
pub struct Chaos {
    pub state: u64,
    pub errors: u64,
}

impl Chaos {
    fn next(&mut self) -> u64 {
        // SplitMix64.
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn intent(&mut self, reference: i64) -> Option<OrderIntent> {
        let r = self.next();
        let price = match r % 7 {
            0 => -5,
            1 => 2_000_000,
            _ => reference + (self.next() % 21) as i64 - 10,
        };
        let qty = match (r >> 8) % 5 {
            0 => 0,
            1 => 5_000_000,
            _ => 1 + (self.next() % 4),
        };
        ((r >> 16) % 4 != 0).then_some(OrderIntent { price_ticks: price, qty_lots: qty })
    }
}

impl Quoter for Chaos {
    fn name(&self) -> &'static str {
        "chaos"
    }

    fn quote(&mut self, view: &MarketView<'_>) -> Result<Quotes, StrategyError> {
        if self.next() % 13 == 0 {
            self.errors += 1;
            return Err(StrategyError::Numerical("chaos".into()));
        }
        let reference = view.mid().map_or(10_000, |m| m as i64);
        Ok(Quotes { bid: self.intent(reference), ask: self.intent(reference), reason: "chaos" })
    }
}

/// A preset shortened to `duration_s`.
pub fn preset(name: &str, duration_s: f64) -> SimConfig {
    SimConfig::preset_with_duration(name, duration_s).expect("known preset")
}

/// Runs `config` with the default GLFT market maker.
pub fn run_glft(config: &SimConfig, seed: u64) -> SimOutput {
    run(config, default_market_maker(config).expect("default maker"), seed, None).expect("run")
}

/// Mean of `f` over the market samples with time in [from, to).
pub fn mean_market(out: &SimOutput, from: f64, to: f64, f: impl Fn(&zkclob_sim::MarketSample) -> f64) -> f64 {
    let xs: Vec<f64> = out.market.iter().filter(|m| m.time_s >= from && m.time_s < to).map(f).collect();
    assert!(!xs.is_empty(), "no samples in [{from}, {to})");
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Joins the best bid and ask with one lot each within ±5 lots of inventory: the quoter with the
/// least protection against informed flow.
pub struct JoinTouch;

impl Quoter for JoinTouch {
    fn name(&self) -> &'static str {
        "join touch"
    }

    fn quote(&mut self, view: &MarketView<'_>) -> Result<Quotes, StrategyError> {
        let q = view.inventory_lots;
        let bid = view.best_bid().filter(|_| q < 5).map(|p| OrderIntent { price_ticks: p, qty_lots: 1 });
        let ask = view.best_ask().filter(|_| q > -5).map(|p| OrderIntent { price_ticks: p, qty_lots: 1 });
        Ok(Quotes { bid, ask, reason: "join touch" })
    }
}

/// Volume-weighted mark-out per lot of our fills at `horizon_s`, ticks, as `docs/backtest.md`
/// defines it: d·(m_h − p), m_h the mid of the first sample at or after t + h; fills whose t + h
/// is past the end are left out. Positive = the fills made money.
pub fn markout_per_lot(log: &zkclob_sim::RunLog, horizon_s: f64) -> f64 {
    let end = log.samples.last().map_or(0.0, |s| s.time_s);
    let (mut sum, mut lots) = (0.0, 0.0);
    for f in log.fills.iter().filter(|f| f.time_s + horizon_s <= end) {
        let i = log.samples.partition_point(|s| s.time_s < f.time_s + horizon_s);
        let Some(s) = log.samples.get(i) else { continue };
        let d = if f.side == zkclob_sim::FillSide::Buy { 1.0 } else { -1.0 };
        sum += d * (s.mid_ticks - f.price_ticks as f64) * f.qty_lots as f64;
        lots += f.qty_lots as f64;
    }
    assert!(lots > 0.0, "no fills to mark out");
    sum / lots
}
