//! The full market maker: book handling, reduction shaping, every halt trigger end to end, limits
//! over a long random run, sizing, regimes, configuration, and garbage in without panics.

mod common;

use common::Rng;

use std::cell::Cell;

use zkclob_core::Side;
use zkclob_strategy::calibration::{CalibrationConfig, PriorParams};
use zkclob_strategy::inventory::{
    AdaptiveConfig, InventoryConfig, ReductionConfig, RegimeId, RegimeParams, SizingConfig,
};
use zkclob_strategy::pipeline::{MarketMaker, MarketMakerConfig};
use zkclob_strategy::risk::{DecisionKind, HaltReason, LiquidationConfig, Reason, RiskConfig};
use zkclob_strategy::{
    BookLevel, DepthContext, DepthModel, MarketTrade, MarketView, ModelDepths, Quoter, Quotes, StrategyError,
};

/// AS-like test model: δᵇ = h·s + c·q, δᵃ = h·s − c·q with s the live σ (1 without one); no bid at
/// q = +Q, no ask at −Q. Records the last context it saw.
#[derive(Debug)]
struct Linear {
    half_spread_ticks: f64,
    skew_ticks_per_lot: f64,
    q_max: i64,
    seen: Cell<Option<DepthContext>>,
}

fn linear(half_spread_ticks: f64, skew_ticks_per_lot: f64, q_max: i64) -> Linear {
    Linear { half_spread_ticks, skew_ticks_per_lot, q_max, seen: Cell::new(None) }
}

impl DepthModel for Linear {
    fn name(&self) -> &'static str {
        "linear"
    }
    fn max_inventory_lots(&self) -> Option<i64> {
        Some(self.q_max)
    }
    fn depths(&self, ctx: &DepthContext) -> Result<ModelDepths, StrategyError> {
        self.seen.set(Some(*ctx));
        let q = ctx.inventory_lots;
        if q.unsigned_abs() > self.q_max.unsigned_abs() {
            return Err(StrategyError::InventoryBeyondLimit { inventory: q, limit: self.q_max });
        }
        let half = self.half_spread_ticks * ctx.live.map_or(1.0, |l| l.sigma);
        let lean = self.skew_ticks_per_lot * q as f64;
        Ok(ModelDepths {
            bid_depth: (q < self.q_max).then_some(half + lean),
            ask_depth: (q > -self.q_max).then_some(half - lean),
            ..Default::default()
        })
    }
}

struct Failing;

impl DepthModel for Failing {
    fn name(&self) -> &'static str {
        "failing"
    }
    fn max_inventory_lots(&self) -> Option<i64> {
        None
    }
    fn depths(&self, _: &DepthContext) -> Result<ModelDepths, StrategyError> {
        Err(StrategyError::Numerical("always".into()))
    }
}

fn loose_risk() -> RiskConfig {
    RiskConfig {
        max_drawdown_tick_lots: 1e12,
        max_data_silence_s: 1e9,
        max_quote_changes_per_s: 100_000,
        ..Default::default()
    }
}

fn config() -> MarketMakerConfig {
    MarketMakerConfig {
        inventory: InventoryConfig {
            max_position_lots: 10,
            base_size_lots: 2,
            reduction: ReductionConfig {
                soft_threshold_lots: 4,
                passive_threshold_lots: 7,
                one_sided_timeout_s: 1e6,
                passive_timeout_s: 1e6,
                aggressive_slice_lots: 3,
                aggressive_cross_ticks: 0,
            },
            ..Default::default()
        },
        risk: loose_risk(),
        ..Default::default()
    }
}

fn lv(price_ticks: i64, qty_lots: u64) -> BookLevel {
    BookLevel { price_ticks, qty_lots }
}

struct Book {
    bids: Vec<BookLevel>,
    asks: Vec<BookLevel>,
}

fn book(bid: i64, ask: i64) -> Book {
    Book { bids: vec![lv(bid, 10), lv(bid - 1, 10)], asks: vec![lv(ask, 10), lv(ask + 1, 10)] }
}

impl Book {
    fn view(&self, time_s: f64, inventory_lots: i64) -> MarketView<'_> {
        MarketView { time_s, bids: &self.bids, asks: &self.asks, trades: &[], inventory_lots }
    }
}

/// (price, size) of the bid and of the ask.
type Sides = (Option<(i64, u64)>, Option<(i64, u64)>);

fn prices(q: &Quotes) -> Sides {
    (q.bid.map(|o| (o.price_ticks, o.qty_lots)), q.ask.map(|o| (o.price_ticks, o.qty_lots)))
}

#[test]
fn books_without_two_sides_quote_nothing_and_a_crossed_book_is_bad_input() {
    let mut mm = MarketMaker::new(linear(1.0, 0.0, 10), config()).unwrap();
    let (b, locked, crossed) = (book(100, 101), book(101, 101), book(102, 100));
    let cases = [
        (MarketView { bids: &[], asks: &[], ..b.view(0.0, 0) }, "no-market"),
        (MarketView { asks: &[], ..b.view(1.0, 0) }, "no-market"),
        (MarketView { bids: &[], ..b.view(2.0, 0) }, "no-market"),
        (locked.view(3.0, 0), "bad-input"),
        (crossed.view(4.0, 0), "bad-input"),
    ];
    for (view, reason) in cases {
        assert_eq!(mm.quote(&view).unwrap(), Quotes::none(reason));
    }
    assert_eq!(mm.name(), "linear");
}

#[test]
fn a_flat_book_gets_two_sided_quotes_rounded_never_more_aggressive() {
    let mut mm = MarketMaker::new(linear(1.3, 0.0, 10), config()).unwrap();
    let q = mm.quote(&book(100, 101).view(0.0, 0)).unwrap();
    // mid 100.5: bid ⌊99.2⌋ = 99, ask ⌈101.8⌉ = 102.
    assert_eq!(prices(&q), (Some((99, 2)), Some((102, 2))));
    assert_eq!(q.reason, "quote");
    // Inventory 3 with the model's skew 0.5/lot: bid ⌊100.5 − 2.8⌋ = 97, ask ⌈100.5 − 0.2⌉ = 101.
    let mut mm = MarketMaker::new(linear(1.3, 0.5, 10), config()).unwrap();
    let q = mm.quote(&book(100, 101).view(0.0, 3)).unwrap();
    assert_eq!(prices(&q), (Some((97, 2)), Some((101, 2))));
    // The extra skew adds 0.25/lot: bid ⌊100.5 − 3.55⌋ = 96; the ask would cross and clips to 101.
    let mut cfg = config();
    cfg.inventory.skew_ticks_per_lot = 0.25;
    let mut mm = MarketMaker::new(linear(1.3, 0.5, 10), cfg).unwrap();
    let q = mm.quote(&book(100, 101).view(0.0, 3)).unwrap();
    assert_eq!(prices(&q), (Some((96, 2)), Some((101, 2))));
}

#[test]
fn the_reduction_state_machine_shapes_the_quotes() {
    let mut mm = MarketMaker::new(linear(4.0, 0.0, 10), config()).unwrap();
    let b = book(100, 103); // mid 101.5, a 3-tick spread
    let q = mm.quote(&b.view(0.0, 5)).unwrap();
    assert_eq!((q.reason, prices(&q)), ("reduce:one-sided", (None, Some((106, 2)))));
    let q = mm.quote(&b.view(1.0, 7)).unwrap();
    assert_eq!((q.reason, prices(&q)), ("reduce:passive", (None, Some((103, 2)))), "joins the ask");
    let q = mm.quote(&b.view(2.0, -7)).unwrap();
    assert_eq!((q.reason, prices(&q)), ("reduce:passive", (Some((100, 2)), None)), "joins the bid");
    let q = mm.quote(&b.view(3.0, 10)).unwrap();
    assert_eq!((q.reason, prices(&q)), ("reduce:aggressive", (None, Some((100, 3)))), "sells into the bid");
    let q = mm.quote(&b.view(4.0, -10)).unwrap();
    assert_eq!((q.reason, prices(&q)), ("reduce:aggressive", (Some((103, 3)), None)), "buys the ask");
    let q = mm.quote(&b.view(5.0, 9)).unwrap();
    assert_eq!(q.ask.unwrap().qty_lots, 2, "a reducing quote never exceeds base size");
    let q = mm.quote(&b.view(6.0, 0)).unwrap();
    assert_eq!(q.reason, "quote");
    let reasons: Vec<Reason> =
        mm.audit().iter().filter(|d| d.kind == DecisionKind::Reduction).map(|d| d.reason).collect();
    assert_eq!(
        reasons,
        [
            Reason::InventoryBeyondSoft,
            Reason::InventoryBeyondPassive,
            Reason::InventoryAtHardLimit,
            Reason::InventoryBeyondPassive,
            Reason::InventoryWithinSoft
        ]
    );
}

#[test]
fn drawdown_halts_liquidates_in_slices_and_stays_halted_until_reset() {
    let mut cfg = config();
    cfg.risk.max_drawdown_tick_lots = 20.0;
    cfg.risk.liquidation =
        LiquidationConfig { enabled: true, slice_lots: 2, cross_ticks: 0, max_slippage_ticks: 3.0 };
    let mut mm = MarketMaker::new(linear(1.0, 0.0, 10), cfg).unwrap();
    mm.on_fill(0.0, Side::Buy, 101, 5);
    assert_eq!(mm.quote(&book(100, 101).view(0.0, 5)).unwrap().reason, "reduce:one-sided");
    let q = mm.quote(&book(95, 96).view(1.0, 5)).unwrap(); // −5.5 × 5 = −27.5
    assert_eq!((q.reason, prices(&q)), ("liquidate:drawdown", (None, Some((95, 2)))));
    assert!(mm.audit().contains(Reason::Halt(HaltReason::Drawdown)));
    // The market keeps falling: never sell below ⌈95.5 − 3⌉ = 93.
    let q = mm.quote(&book(90, 91).view(2.0, 3)).unwrap();
    assert_eq!(prices(&q), (None, Some((93, 2))));
    // Recovery does not un-halt; flat means nothing to send.
    let q = mm.quote(&book(120, 121).view(3.0, 0)).unwrap();
    assert_eq!(q, Quotes::none("halt:drawdown"));
    mm.reset_halt(4.0);
    let q = mm.quote(&book(120, 121).view(4.5, 0)).unwrap();
    assert_eq!(q.reason, "quote");
    assert!(
        mm.audit().contains(Reason::Reset) && mm.audit().contains(Reason::Liquidate(HaltReason::Drawdown))
    );
}

#[test]
fn a_gap_in_market_data_halts_for_stale_data() {
    let mut cfg = config();
    cfg.risk.max_data_silence_s = 5.0;
    let mut mm = MarketMaker::new(linear(1.0, 0.0, 10), cfg).unwrap();
    assert_eq!(mm.quote(&book(100, 101).view(0.0, 0)).unwrap().reason, "quote");
    assert_eq!(mm.quote(&book(100, 101).view(5.0, 0)).unwrap().reason, "quote");
    assert_eq!(mm.quote(&book(100, 101).view(10.5, 0)).unwrap(), Quotes::none("halt:stale-data"));
    // A driver timer can detect it without an update, too.
    let mut mm = MarketMaker::new(
        linear(1.0, 0.0, 10),
        MarketMakerConfig { risk: RiskConfig { max_data_silence_s: 5.0, ..loose_risk() }, ..config() },
    )
    .unwrap();
    mm.quote(&book(100, 101).view(0.0, 0)).unwrap();
    mm.check_staleness(6.0);
    assert_eq!(mm.risk().halted().map(|h| h.reason), Some(HaltReason::StaleData));
}

#[test]
fn flickering_quotes_halt_for_order_rate() {
    let mut cfg = config();
    cfg.risk.max_quote_changes_per_s = 5;
    let mut mm = MarketMaker::new(linear(1.0, 0.0, 10), cfg).unwrap();
    let (a, b) = (book(100, 101), book(102, 103));
    let mut reasons = Vec::new();
    for i in 0..6 {
        let view = if i % 2 == 0 { a.view(i as f64 * 0.01, 0) } else { b.view(i as f64 * 0.01, 0) };
        reasons.push(mm.quote(&view).unwrap().reason);
    }
    assert_eq!(
        reasons,
        ["quote", "quote", "halt:order-rate", "halt:order-rate", "halt:order-rate", "halt:order-rate"]
    );
    let halt = mm.audit().iter().find(|d| d.kind == DecisionKind::Halt).unwrap();
    assert_eq!(
        (halt.reason, halt.detail.value, halt.detail.limit),
        (Reason::Halt(HaltReason::OrderRate), 6.0, 5.0)
    );
    // An unchanged answer costs nothing: steady quotes never trip it.
    let mut cfg = config();
    cfg.risk.max_quote_changes_per_s = 2;
    let mut steady = MarketMaker::new(linear(1.0, 0.0, 10), cfg).unwrap();
    for i in 0..1_000 {
        assert_eq!(steady.quote(&a.view(i as f64 * 0.001, 0)).unwrap().reason, "quote");
    }
}

#[test]
fn inventory_beyond_the_hard_limit_halts_and_liquidates() {
    let mut mm = MarketMaker::new(linear(1.0, 0.0, 20), config()).unwrap();
    let q = mm.quote(&book(100, 101).view(0.0, -11)).unwrap();
    assert_eq!((q.reason, prices(&q)), ("liquidate:position-limit", (Some((101, 1)), None)));
    // Without a book there is nothing to liquidate against, but the halt still says why.
    let b = book(100, 101);
    let q = mm.quote(&MarketView { asks: &[], ..b.view(1.0, -11) }).unwrap();
    assert_eq!(q, Quotes::none("halt:position-limit"));
}

#[test]
fn a_manual_halt_and_a_failing_model_say_why() {
    let mut mm = MarketMaker::new(linear(1.0, 0.0, 10), config()).unwrap();
    mm.halt(0.0);
    assert_eq!(mm.quote(&book(100, 101).view(0.0, 0)).unwrap(), Quotes::none("halt:manual"));
    let mut failing = MarketMaker::new(Failing, config()).unwrap();
    assert_eq!(failing.quote(&book(100, 101).view(0.0, 0)).unwrap(), Quotes::none("model-error"));
    assert_eq!(failing.quote(&book(100, 101).view(f64::NAN, 0)).unwrap(), Quotes::none("bad-input"));
    assert_eq!(failing.quote(&book(100, 101).view(-1.0, 0)).unwrap(), Quotes::none("bad-input"));
    assert!(failing.audit().iter().any(|d| d.kind == DecisionKind::Input));
}

#[test]
fn calibrated_parameters_reach_the_model_once_available() {
    let mut cfg = config();
    cfg.calibration.prior = Some(PriorParams { sigma: 2.0, a_per_s: 1.0, k_per_tick: 1.0 });
    let mut mm = MarketMaker::new(linear(1.0, 0.0, 10), cfg.clone()).unwrap();
    let q = mm.quote(&book(100, 101).view(0.0, 0)).unwrap();
    assert_eq!(mm.model().seen.get().unwrap().live.map(|l| l.sigma), Some(2.0));
    assert_eq!(prices(&q), (Some((98, 2)), Some((103, 2))), "half-spread 1 × σ 2");
    assert!(mm.audit().contains(Reason::CalibrationReady));
    let seen = mm.model().seen.get().unwrap();
    assert_eq!(seen.time_to_horizon_s, 23_400.0);
    cfg.use_live_params = false;
    let mut off = MarketMaker::new(linear(1.0, 0.0, 10), cfg).unwrap();
    off.quote(&book(100, 101).view(0.0, 0)).unwrap();
    assert_eq!(off.model().seen.get().unwrap().live, None);
    // Without a prior the model gets nothing until the estimates exist.
    let mut fresh = MarketMaker::new(linear(1.0, 0.0, 10), config()).unwrap();
    fresh.quote(&book(100, 101).view(0.0, 0)).unwrap();
    assert_eq!(fresh.model().seen.get().unwrap().live, None);
}

#[test]
fn volatility_scaling_and_the_regime_signal_widen_the_spread() {
    let mut cfg = config();
    cfg.calibration.prior = Some(PriorParams { sigma: 3.0, a_per_s: 1.0, k_per_tick: 1.0 });
    cfg.use_live_params = false; // the model keeps its own σ; only the adaptive layer sees 3
    cfg.calibration.sigma_min_samples = 1_000_000;
    let mut scaled_cfg = cfg.clone();
    scaled_cfg.inventory.adaptive = AdaptiveConfig { reference_sigma: Some(1.5), ..Default::default() };
    // The adaptive layer reads the calibrator's own σ, which needs samples: feed a ±1-tick walk.
    let mut mm = MarketMaker::new(linear(2.0, 0.0, 10), scaled_cfg).unwrap();
    let q = mm.quote(&book(100, 101).view(0.0, 0)).unwrap();
    assert_eq!(prices(&q), (Some((98, 2)), Some((103, 2))), "no σ estimate yet: scale 1");

    cfg.inventory.regimes = vec![RegimeParams {
        name: "wide".into(),
        spread_multiplier: 2.0,
        size_multiplier: 2.0,
        skew_ticks_per_lot: None,
    }];
    let mut mm = MarketMaker::new(linear(2.0, 0.0, 10), cfg).unwrap();
    let wide = mm.inventory().regime_id("wide");
    mm.set_regime_signal(move |inputs: &zkclob_strategy::inventory::RegimeInputs| {
        (inputs.time_s >= 10.0).then_some(wide).flatten()
    });
    assert_eq!(prices(&mm.quote(&book(100, 101).view(0.0, 0)).unwrap()), (Some((98, 2)), Some((103, 2))));
    let q = mm.quote(&book(100, 101).view(10.0, 0)).unwrap();
    assert_eq!(prices(&q), (Some((96, 4)), Some((105, 4))));
    let d = mm.audit().iter().find(|d| d.kind == DecisionKind::Regime).unwrap();
    assert_eq!((d.reason, d.detail.value, d.detail.limit), (Reason::RegimeSwitch, 0.0, -1.0));
    // A reducing quote ignores the regime's size multiplier (×2 here): base size 2.
    let q = mm.quote(&book(100, 101).view(10.5, 6)).unwrap();
    assert_eq!((q.reason, q.ask.map(|o| o.qty_lots)), ("reduce:one-sided", Some(2)));
    mm.set_regime_signal(|_: &zkclob_strategy::inventory::RegimeInputs| Some(RegimeId(9)));
    let q = mm.quote(&book(100, 101).view(11.0, 0)).unwrap();
    assert_eq!(prices(&q), (Some((98, 2)), Some((103, 2))), "unknown id: base parameters");
    assert!(mm.audit().contains(Reason::RegimeUnknown));
}

#[test]
fn volatility_scaling_uses_the_calibrated_sigma() {
    let mut cfg = config();
    cfg.use_live_params = false;
    cfg.calibration.sigma_min_samples = 5;
    cfg.calibration.sigma_sample_interval_s = 0.0;
    cfg.calibration.sigma_estimator = zkclob_strategy::calibration::SigmaEstimator::Realised;
    cfg.inventory.adaptive =
        AdaptiveConfig { reference_sigma: Some(0.5), max_spread_scale: 10.0, ..Default::default() };
    let mut mm = MarketMaker::new(linear(2.0, 0.0, 10), cfg).unwrap();
    // The mid alternates ±1 tick each second: realised σ = 1 tick/√s, twice the reference.
    for i in 0..10 {
        let b = if i % 2 == 0 { book(100, 101) } else { book(101, 102) };
        mm.quote(&b.view(i as f64, 0)).unwrap();
    }
    let sigma = mm.calibrator().sigma().unwrap();
    assert!((sigma - 1.0).abs() < 1e-9, "σ {sigma}");
    let q = mm.quote(&book(100, 101).view(10.0, 0)).unwrap();
    assert_eq!(prices(&q), (Some((96, 2)), Some((105, 2))), "half-spread 2 × scale 2");
}

#[test]
fn sizes_follow_the_impact_budget_and_the_touch_liquidity() {
    let mut cfg = config();
    cfg.inventory.base_size_lots = 8;
    cfg.inventory.sizing = SizingConfig {
        daily_volume_lots: Some(10_000.0),
        daily_sigma_ticks: Some(10.0),
        impact_coefficient: 1.0,
        impact_budget_ticks: 0.25, // Q ≤ 10 000 · (0.025)² = 6.25 → 6
        touch_fraction: Some(0.5),
        ..Default::default()
    };
    let mut mm = MarketMaker::new(linear(1.0, 0.0, 10), cfg).unwrap();
    let b = Book { bids: vec![lv(100, 100)], asks: vec![lv(101, 6)] };
    let q = mm.quote(&b.view(0.0, 0)).unwrap();
    assert_eq!((q.bid.unwrap().qty_lots, q.ask.unwrap().qty_lots), (6, 3));
    let sizing: Vec<Reason> =
        mm.audit().iter().filter(|d| d.kind == DecisionKind::Sizing).map(|d| d.reason).collect();
    assert_eq!(sizing, [Reason::SizeImpactBudget, Reason::SizeTouchLiquidity]);
    // At q = 4 the room under the limit still allows 6 bought; at q = −4 only 6 sold, and the
    // touch (3) binds first.
    let q = mm.quote(&b.view(1.0, -4)).unwrap();
    assert_eq!((q.bid.unwrap().qty_lots, q.ask.unwrap().qty_lots), (6, 3));
}

/// Runs a random walk with random fills of our quotes (marketable orders always fill) and checks
/// the limit after every fill; returns how often each reason was answered.
fn random_run(
    mut cfg: MarketMakerConfig,
    steps: usize,
    seed: u64,
) -> std::collections::HashMap<&'static str, usize> {
    cfg.inventory.base_size_lots = 3;
    cfg.calibration = CalibrationConfig {
        prior: Some(PriorParams { sigma: 1.0, a_per_s: 1.0, k_per_tick: 1.0 }),
        hawkes: zkclob_strategy::calibration::HawkesConfig { enabled: true, ..Default::default() },
        ..Default::default()
    };
    let mut mm = MarketMaker::new(linear(1.0, 0.3, 10), cfg).unwrap();
    let mut rng = Rng(seed);
    let (mut q, mut bid, mut t) = (0i64, 1_000i64, 0.0);
    let mut counts = std::collections::HashMap::<&str, usize>::new();
    for step in 0..steps {
        t += 0.05;
        bid += rng.below(3) as i64 - 1;
        let ask = bid + 1 + rng.below(2) as i64;
        let trades: Vec<MarketTrade> = (0..rng.below(3))
            .map(|_| {
                let buy = rng.below(2) == 0;
                let (price_ticks, aggressor) = if buy {
                    (ask + rng.below(3) as i64, Side::Buy)
                } else {
                    (bid - rng.below(3) as i64, Side::Sell)
                };
                MarketTrade { time_s: t, price_ticks, qty_lots: 1 + rng.below(4), aggressor }
            })
            .collect();
        let bids = [lv(bid, 1 + rng.below(20))];
        let asks = [lv(ask, 1 + rng.below(20))];
        let view = MarketView { time_s: t, bids: &bids, asks: &asks, trades: &trades, inventory_lots: q };
        let quotes = mm.quote(&view).unwrap();
        *counts.entry(quotes.reason).or_default() += 1;
        if let Some(o) = quotes.bid {
            assert!(o.qty_lots >= 1 && q + o.qty_lots as i64 <= 10, "step {step}: q {q}, bid {o:?}");
            let marketable = o.price_ticks >= ask;
            if marketable || rng.uniform() < 0.1 {
                let fill = if marketable { o.qty_lots } else { 1 + rng.below(o.qty_lots) };
                q += fill as i64;
                mm.on_fill(t, Side::Buy, o.price_ticks, fill);
            }
        }
        if let Some(o) = quotes.ask {
            assert!(o.qty_lots >= 1 && q - o.qty_lots as i64 >= -10, "step {step}: q {q}, ask {o:?}");
            let marketable = o.price_ticks <= bid;
            if marketable || rng.uniform() < 0.1 {
                let fill = if marketable { o.qty_lots } else { 1 + rng.below(o.qty_lots) };
                q -= fill as i64;
                mm.on_fill(t, Side::Sell, o.price_ticks, fill);
            }
        }
        if let (Some(b), Some(a)) = (quotes.bid, quotes.ask) {
            assert!(b.price_ticks < a.price_ticks, "step {step}: self-crossing {quotes:?}");
        }
        assert!(q.abs() <= 10, "step {step}: inventory {q}");
    }
    assert_eq!(mm.risk().halted(), None, "a halt is sticky: none ever fired");
    assert_eq!(mm.pnl().position_lots, q, "fills tracked");
    counts
}

#[test]
fn a_long_random_run_never_breaches_the_position_limit() {
    let mut cfg = config();
    cfg.inventory.reduction.one_sided_timeout_s = 3.0;
    cfg.inventory.reduction.passive_timeout_s = 2.0;
    let counts = random_run(cfg, 200_000, 2024);
    for reason in ["quote", "reduce:one-sided", "reduce:passive", "reduce:aggressive"] {
        assert!(counts.get(reason).copied().unwrap_or(0) > 0, "{reason} never happened: {counts:?}");
    }
}

#[test]
fn without_reduction_the_room_under_the_limit_alone_keeps_the_position_inside() {
    let mut cfg = config();
    // Reduction only at the hard limit itself: the size cap is what keeps |q| ≤ Q.
    cfg.inventory.reduction.soft_threshold_lots = 10;
    cfg.inventory.reduction.passive_threshold_lots = 10;
    let counts = random_run(cfg, 200_000, 7);
    assert!(counts.get("quote:one-sided").copied().unwrap_or(0) > 0, "{counts:?}");
}

#[test]
fn garbage_views_never_panic_nor_produce_empty_orders() {
    let mut cfg = config();
    cfg.calibration.prior = Some(PriorParams { sigma: 1.0, a_per_s: 1.0, k_per_tick: 1.0 });
    cfg.calibration.hawkes.enabled = true;
    cfg.inventory.adaptive.reference_sigma = Some(1.0);
    cfg.inventory.sizing.daily_volume_lots = Some(1e6);
    cfg.inventory.sizing.touch_fraction = Some(0.5);
    let mut mm = MarketMaker::new(linear(1.0, 0.5, 10), cfg).unwrap();
    let mut rng = Rng(77);
    let prices_pool = [i64::MIN, i64::MIN + 1, -1, 0, 1, 100, 101, i64::MAX - 1, i64::MAX];
    let times = [f64::NAN, f64::INFINITY, -f64::INFINITY, -1.0, 0.0, 1e300];
    let mut t = 0.0;
    for i in 0..50_000 {
        t += 0.01;
        let pick = |r: &mut Rng| prices_pool[r.below(prices_pool.len() as u64) as usize];
        let bids: Vec<BookLevel> = (0..rng.below(3)).map(|_| lv(pick(&mut rng), rng.below(3))).collect();
        let asks: Vec<BookLevel> = (0..rng.below(3)).map(|_| lv(pick(&mut rng), rng.below(3))).collect();
        let trades = [MarketTrade {
            time_s: if i % 3 == 0 { times[rng.below(6) as usize] } else { t },
            price_ticks: pick(&mut rng),
            qty_lots: rng.below(2),
            aggressor: if rng.below(2) == 0 { Side::Buy } else { Side::Sell },
        }];
        let time_s = if i % 11 == 0 { times[rng.below(6) as usize] } else { t };
        let inventory_lots = [i64::MIN, -11, -10, -5, 0, 5, 10, 11, i64::MAX][rng.below(9) as usize];
        let view = MarketView { time_s, bids: &bids, asks: &asks, trades: &trades, inventory_lots };
        let quotes = mm.quote(&view).unwrap();
        assert!(!quotes.reason.is_empty());
        for o in [quotes.bid, quotes.ask].into_iter().flatten() {
            assert!(o.qty_lots > 0, "{quotes:?}");
        }
        if i % 1_000 == 0 {
            mm.on_fill(t, Side::Buy, pick(&mut rng), rng.next_u64());
            mm.reset_halt(t);
        }
    }
    assert!(!mm.pnl().total_tick_lots.is_nan());
}

#[test]
fn the_whole_configuration_reads_from_toml_and_bad_configs_are_typed_errors() {
    let text = r#"
        session_end_s = 3600.0
        audit_capacity = 128
        [calibration]
        step_s = 0.2
        sigma_estimator = "realised"
        [calibration.hawkes]
        enabled = true
        max_a_boost = 1.5
        [inventory]
        max_position_lots = 50
        base_size_lots = 5
        skew_ticks_per_lot = 0.1
        [inventory.reduction]
        soft_threshold_lots = 20
        passive_threshold_lots = 40
        [inventory.sizing]
        daily_volume_lots = 1e6
        [[inventory.regimes]]
        name = "news"
        spread_multiplier = 3.0
        [risk]
        max_drawdown_tick_lots = 1e4
        max_quote_changes_per_s = 20
        [risk.liquidation]
        slice_lots = 5
    "#;
    let mm = MarketMaker::from_toml_str(linear(1.0, 0.0, 100), text).unwrap();
    let c = mm.config();
    assert_eq!(
        (c.session_end_s, c.inventory.max_position_lots, c.risk.liquidation.slice_lots),
        (3600.0, 50, 5)
    );
    assert_eq!(mm.inventory().regime_id("news"), Some(RegimeId(0)));
    assert!(matches!(
        MarketMaker::from_toml_str(linear(1.0, 0.0, 100), "[risk]\nmax_drawdown = 5.0"),
        Err(StrategyError::Config(_))
    ));
    assert!(matches!(
        MarketMaker::from_toml_str(linear(1.0, 0.0, 100), "[inventory]\nmax_position_lots = \"ten\""),
        Err(StrategyError::Config(_))
    ));
    assert!(matches!(
        MarketMaker::from_toml_str(linear(1.0, 0.0, 100), "[risk]\nmax_data_silence_s = -1.0"),
        Err(StrategyError::InvalidParameter { name: "max_data_silence_s", .. })
    ));
    assert!(matches!(
        MarketMaker::new(linear(1.0, 0.0, 100), MarketMakerConfig { session_end_s: f64::NAN, ..config() }),
        Err(StrategyError::InvalidParameter { name: "session_end_s", .. })
    ));
}

#[test]
fn every_answer_reason_is_audited_when_it_changes() {
    let mut mm = MarketMaker::new(linear(1.0, 0.0, 10), config()).unwrap();
    let b = book(100, 101);
    let mut answers = Vec::new();
    for (i, q) in [0, 0, 5, 5, 8, 10, 0].into_iter().enumerate() {
        answers.push(mm.quote(&b.view(i as f64, q)).unwrap().reason);
    }
    let audited: Vec<&str> =
        mm.audit().iter().filter(|d| d.kind == DecisionKind::Quote).map(|d| d.reason.code()).collect();
    let mut changes = answers.clone();
    changes.dedup();
    assert_eq!(audited, changes);
}
