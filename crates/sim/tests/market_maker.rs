//! Our strategy in the book: quoting, order handling, decisions, reports.

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::{preset, run_glft, Fixed, Recorder, RecorderLog};
use zkclob_core::Side;
use zkclob_sim::{run, AgentConfig, SimConfig};
use zkclob_strategy::{MarketView, OrderIntent, Quoter, Quotes, StrategyError};

#[test]
fn glft_maker_quotes_both_sides_in_a_calm_market_and_stays_within_its_limit() {
    let config = preset("default", 900.0);
    for seed in [1, 2, 3] {
        let out = run_glft(&config, seed);
        let after_warmup: Vec<_> = out.log.samples.iter().filter(|s| s.time_s >= 60.0).collect();
        let both = after_warmup.iter().filter(|s| s.our_bid.is_some() && s.our_ask.is_some()).count();
        let share = both as f64 / after_warmup.len() as f64;
        assert!(share > 0.6, "seed {seed}: two-sided only {share:.2} of the time");
        for s in &after_warmup {
            if let (Some(b), Some(a)) = (s.our_bid, s.our_ask) {
                assert!(b < a, "our quotes cross at {}", s.time_s);
            }
            // Our orders are in the book, so the touch is at least as good as them.
            assert!(s.our_bid.is_none_or(|b| s.best_bid.is_some_and(|bb| bb >= b)));
            assert!(s.our_ask.is_none_or(|a| s.best_ask.is_some_and(|ba| ba <= a)));
        }
        let limit = 10; // MarketMakerConfig's default max_position_lots and GLFT's Q
        let worst = out.log.samples.iter().map(|s| s.inventory_lots.abs()).max().unwrap_or(0);
        assert!(worst <= limit, "seed {seed}: |inventory| reached {worst}");
        let buys = out.log.fills.iter().filter(|f| f.maker && f.side == zkclob_sim::FillSide::Buy).count();
        let sells = out.log.fills.iter().filter(|f| f.maker && f.side == zkclob_sim::FillSide::Sell).count();
        assert!(buys > 20 && sells > 20, "seed {seed}: maker fills {buys} buys, {sells} sells");
    }
}

fn far_quotes(later_bid_lots: Option<u64>) -> Fixed {
    Fixed {
        bid: Some(OrderIntent { price_ticks: 9_000, qty_lots: 5 }),
        ask: Some(OrderIntent { price_ticks: 11_000, qty_lots: 5 }),
        switch_s: 100.0,
        later_bid_lots,
    }
}

#[test]
fn unchanged_quotes_send_nothing_and_a_smaller_size_is_one_amendment() {
    let config = preset("default", 200.0);
    let out = run(&config, Box::new(far_quotes(None)), 1, None).expect("run");
    assert_eq!(out.log.orders_sent, 2, "one bid and one ask, never replaced");
    assert!(out.log.fills.is_empty());
    let last = out.log.samples.last().expect("samples");
    assert_eq!((last.our_bid, last.our_ask), (Some(9_000), Some(11_000)));

    let out = run(&config, Box::new(far_quotes(Some(3))), 1, None).expect("run");
    assert_eq!(out.log.orders_sent, 3, "the size decrease is a single amendment");
    assert_eq!(out.stats.our_rejects, 0);
    let last = out.log.samples.last().expect("samples");
    assert_eq!(last.our_bid, Some(9_000));
}

#[test]
fn decisions_respect_the_minimum_interval_and_time_only_moves_forward() {
    let recorder = Recorder::default();
    let log = Rc::clone(&recorder.log);
    let config = SimConfig {
        agent: AgentConfig {
            min_decision_interval_s: 0.25,
            timer_interval_s: None,
            ..AgentConfig::default()
        },
        ..preset("default", 120.0)
    };
    let out = run(&config, Box::new(recorder), 1, None).expect("run");
    let views = &log.borrow().views;
    assert_eq!(views.len() as u64, out.stats.decisions);
    assert_eq!(views.first().map(|v| v.0), Some(config.agent.start_s));
    for w in views.windows(2) {
        assert!(w[1].0 - w[0].0 >= 0.25 - 1e-9, "decisions {} and {} too close", w[0].0, w[1].0);
    }
    // Market data arrives far more often than every 0.25 s, so decisions are throttled, not
    // starved: about one per interval.
    let expected = (120.0 - config.agent.start_s) / 0.25;
    assert!(views.len() as f64 > 0.9 * expected, "{} decisions", views.len());
    assert!(views.iter().all(|v| v.2 > 0 && v.3 > 0), "the view always shows both sides here");
    assert!(views.iter().map(|v| v.4).sum::<usize>() > 100, "trades reach the view");
}

#[test]
fn a_timer_alone_drives_decisions_on_its_grid() {
    let recorder = Recorder::default();
    let log: Rc<RefCell<RecorderLog>> = Rc::clone(&recorder.log);
    let config = SimConfig {
        agent: AgentConfig {
            decide_on_market_data: false,
            timer_interval_s: Some(2.0),
            min_decision_interval_s: 0.0,
            start_s: 10.0,
            ..AgentConfig::default()
        },
        ..preset("default", 100.0)
    };
    run(&config, Box::new(recorder), 1, None).expect("run");
    let times: Vec<f64> = log.borrow().views.iter().map(|v| v.0).collect();
    assert_eq!(times.len(), 46, "{times:?}"); // 10, 12, …, 100
    for (i, t) in times.iter().enumerate() {
        assert!((t - (10.0 + 2.0 * i as f64)).abs() < 1e-9);
    }
}

/// Fills as the strategy is told of them: time, side, price, quantity.
type ToldFills = Rc<RefCell<Vec<(f64, Side, i64, u64)>>>;

/// Joins the touch with one lot per side and records what it is told.
#[derive(Default)]
struct TouchJoiner {
    fills: ToldFills,
    inventories: Rc<RefCell<Vec<(f64, i64)>>>,
}

impl Quoter for TouchJoiner {
    fn name(&self) -> &'static str {
        "touch"
    }

    fn quote(&mut self, view: &MarketView<'_>) -> Result<Quotes, StrategyError> {
        self.inventories.borrow_mut().push((view.time_s, view.inventory_lots));
        let q = view.inventory_lots;
        let bid = view.best_bid().filter(|_| q < 5).map(|p| OrderIntent { price_ticks: p, qty_lots: 1 });
        let ask = view.best_ask().filter(|_| q > -5).map(|p| OrderIntent { price_ticks: p, qty_lots: 1 });
        Ok(Quotes { bid, ask, reason: "touch" })
    }

    fn on_fill(&mut self, time_s: f64, side: Side, price_ticks: i64, qty_lots: u64) {
        self.fills.borrow_mut().push((time_s, side, price_ticks, qty_lots));
    }
}

#[test]
fn the_strategy_is_told_of_every_fill_and_its_view_inventory_follows() {
    let quoter = TouchJoiner::default();
    let (fills, inventories) = (Rc::clone(&quoter.fills), Rc::clone(&quoter.inventories));
    let config = preset("default", 300.0);
    let out = run(&config, Box::new(quoter), 6, None).expect("run");
    let told = fills.borrow();
    assert!(told.len() > 50, "{} fills", told.len());
    // Reports arrive after the feed latency; only fills in the last instant can be missing.
    let delivered: Vec<_> = out.log.fills.iter().take(told.len()).collect();
    assert!(out.log.fills.len() - told.len() <= 2);
    for (f, t) in delivered.iter().zip(told.iter()) {
        assert_eq!((f.time_s, f.price_ticks, f.qty_lots), (t.0, t.2, t.3));
        assert_eq!(Side::from(f.side), t.1);
    }
    // The inventory in each view is the sum of the fills reported before it.
    for &(time, q) in inventories.borrow().iter() {
        let reported: i64 =
            out.log
                .fills
                .iter()
                .filter(|f| f.time_s + 0.001 <= time)
                .map(|f| {
                    if f.side == zkclob_sim::FillSide::Buy {
                        f.qty_lots as i64
                    } else {
                        -(f.qty_lots as i64)
                    }
                })
                .sum();
        let in_flight: i64 =
            out.log.fills.iter().filter(|f| f.time_s < time && f.time_s + 0.001 > time).count() as i64;
        assert!((q - reported).abs() <= in_flight, "view inventory {q} vs reported {reported} at {time}");
    }
}
