//! A run is a pure function of (configuration, strategy, seed).

mod common;

use common::{preset, run_glft, Idle};
use zkclob_sim::{run, SimOutput};

#[test]
fn same_seed_gives_an_identical_run() {
    let config = preset("default", 300.0);
    let a = run_glft(&config, 11);
    let b = run_glft(&config, 11);
    assert!(!a.log.fills.is_empty(), "the comparison must cover fills");
    assert!(a.log.orders_sent > 0);
    assert_eq!(a, b);
}

#[test]
fn every_preset_is_reproducible() {
    for name in zkclob_sim::PRESET_NAMES {
        let config = preset(name, 200.0);
        assert_eq!(run_glft(&config, 5), run_glft(&config, 5), "preset {name}");
    }
}

#[test]
fn a_different_seed_gives_a_different_run() {
    let config = preset("default", 300.0);
    let a = run_glft(&config, 11);
    let b = run_glft(&config, 12);
    assert_ne!(a.log.samples, b.log.samples);
    assert_ne!(a.trades, b.trades);
    assert_ne!(a.stats.flow_events, b.stats.flow_events);
}

#[test]
fn background_arrivals_do_not_depend_on_the_strategy() {
    // Each component has its own random stream: the Hawkes arrival times (and so the counts) are
    // the same whoever trades, which makes strategy comparisons use common random numbers.
    let config = preset("volatility_spike", 300.0);
    let with_maker = run_glft(&config, 3);
    let idle = run(&config, Box::new(Idle), 3, None).expect("run");
    assert_eq!(with_maker.stats.flow_events, idle.stats.flow_events);
    assert!(idle.log.fills.is_empty() && idle.log.orders_sent == 0);
    assert_ne!(with_maker.trades, idle.trades);
    // The fundamental's own path is common too. With permanent impact the fundamental also
    // answers the order flow, which our orders change (they are depth the impact law counts), so
    // only its part without impact is the same.
    let own_path = |o: &SimOutput| o.stats.final_fundamental_ticks - o.stats.permanent_impact_ticks;
    let (a, b) = (own_path(&with_maker), own_path(&idle));
    assert!((a - b).abs() < 1e-9 * b, "{a} vs {b}");
    assert_ne!(with_maker.stats.permanent_impact_ticks, idle.stats.permanent_impact_ticks);
    // Without impact the whole fundamental is the same, whoever trades.
    let mut no_impact = config.clone();
    no_impact.impact.permanent_ticks = 0.0;
    let idle = run(&no_impact, Box::new(Idle), 3, None).expect("run");
    let with_maker = run_glft(&no_impact, 3);
    assert_eq!(with_maker.stats.final_fundamental_ticks, idle.stats.final_fundamental_ticks);
    assert_eq!(idle.stats.permanent_impact_ticks, 0.0);
}

#[test]
fn output_round_trips_through_json() {
    let config = preset("flash_crash", 120.0);
    let out = run_glft(&config, 9);
    let text = serde_json::to_string(&out).expect("serialise");
    // Exact with serde_json's `float_roundtrip` parser (enabled for these tests).
    let back: zkclob_sim::SimOutput = serde_json::from_str(&text).expect("parse");
    assert!(back == out, "the output changed through JSON");
}
