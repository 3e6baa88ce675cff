//! The book's invariants hold after every action of every agent, whatever our strategy does.

mod common;

use common::{preset, Chaos};
use zkclob_sim::{default_market_maker, run, SimConfig, SimError};

fn checked(name: &str, duration_s: f64) -> SimConfig {
    SimConfig { check_invariants_every: 1, ..preset(name, duration_s) }
}

#[test]
fn book_invariants_hold_after_every_action_in_every_preset() {
    for name in zkclob_sim::PRESET_NAMES {
        let config = checked(name, 150.0);
        let out = run(&config, default_market_maker(&config).expect("maker"), 21, None)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(out.stats.book_actions > 1_000, "{name}: {}", out.stats.book_actions);
    }
}

#[test]
fn a_garbage_strategy_cannot_break_the_book_or_the_simulator() {
    let config = SimConfig {
        agent: zkclob_sim::AgentConfig { min_decision_interval_s: 0.0, ..Default::default() },
        ..checked("default", 120.0)
    };
    let out = run(&config, Box::new(Chaos { state: 1, errors: 0 }), 2, None).expect("run");
    assert!(out.stats.quote_errors > 0, "the chaos quoter must have returned errors");
    assert!(out.stats.our_rejects > 0, "garbage orders must have been rejected");
    assert!(!out.log.fills.is_empty(), "crossing garbage must have traded");
    let inventory: i64 = out
        .log
        .fills
        .iter()
        .map(|f| if f.side == zkclob_sim::FillSide::Buy { f.qty_lots as i64 } else { -(f.qty_lots as i64) })
        .sum();
    assert_eq!(out.log.samples.last().map(|s| s.inventory_lots), Some(inventory));
}

#[test]
fn invariant_failures_are_reported_as_errors_not_panics() {
    // The error type carries the violation; constructing it here keeps its shape checked.
    let e = SimError::Invariant {
        violation: zkclob_book::InvariantViolation { what: "book is crossed", order: None, price: Some(1) },
        time_s: 1.0,
        events: 2,
    };
    assert!(e.to_string().contains("book is crossed"));
}
