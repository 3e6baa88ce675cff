//! Latency: our orders reach the book later, and market data reaches us later, by the configured
//! models.

mod common;

use common::preset;
use zkclob_sim::{default_market_maker, run, LatencyConfig, SimConfig, SimOutput};

fn with_latency(entry: LatencyConfig, feed: LatencyConfig) -> SimConfig {
    let mut config = preset("default", 200.0);
    config.latency.entry = entry;
    config.latency.feed = feed;
    config
}

fn glft(config: &SimConfig) -> SimOutput {
    run(config, default_market_maker(config).expect("maker"), 1, None).expect("run")
}

fn first_quote_time(out: &SimOutput) -> Option<f64> {
    out.log.samples.iter().find(|s| s.our_bid.is_some() || s.our_ask.is_some()).map(|s| s.time_s)
}

#[test]
fn a_large_entry_latency_delays_our_orders_at_the_book() {
    let fast = glft(&with_latency(
        LatencyConfig::Constant { delay_s: 0.001 },
        LatencyConfig::Constant { delay_s: 0.001 },
    ));
    let slow = glft(&with_latency(
        LatencyConfig::Constant { delay_s: 3.0 },
        LatencyConfig::Constant { delay_s: 0.001 },
    ));
    let start = preset("default", 200.0).agent.start_s;
    assert!((fast.stats.mean_entry_delay_s - 0.001).abs() < 1e-9);
    assert!((slow.stats.mean_entry_delay_s - 3.0).abs() < 1e-9);
    assert!(fast.stats.first_order_at_book_s.is_some_and(|t| t < start + 0.01));
    assert!(slow.stats.first_order_at_book_s.is_some_and(|t| t >= start + 3.0));
    // Seen from the samples: our first resting quote appears at least 3 s later.
    let (f, s) =
        (first_quote_time(&fast).expect("fast quotes"), first_quote_time(&slow).expect("slow quotes"));
    assert!(s >= f + 2.0, "fast {f}, slow {s}");
}

#[test]
fn random_and_recorded_entry_latencies_have_their_configured_means() {
    let lognormal = glft(&with_latency(
        LatencyConfig::LogNormal { median_s: 0.01, sigma: 0.5 },
        LatencyConfig::Constant { delay_s: 0.001 },
    ));
    // E[delay] = median·e^(σ²/2) ≈ 0.01133, but FIFO ordering can only add to a delay: the
    // messages of one decision (a cancel and a new order per side, at most four) arrive at the
    // running maximum of their delays, whose mean over a burst of four is ≈ 0.0150. When the
    // price moves, the maker replaces both sides at most decisions, so the mean lies near the top
    // of that range.
    let mean = lognormal.stats.mean_entry_delay_s;
    assert!(mean > 0.0105 && mean < 0.0155, "lognormal mean {mean}");
    // A recorded series is used in order: the first message (our first bid) takes 0.5 s, and
    // the ask sent with it, though its own delay is 1 ms, waits behind it (the channel is FIFO).
    let recorded = glft(&with_latency(
        LatencyConfig::Recorded { delays_s: vec![0.5, 0.001] },
        LatencyConfig::Constant { delay_s: 0.001 },
    ));
    let start = preset("default", 200.0).agent.start_s;
    assert_eq!(recorded.stats.first_order_at_book_s, Some(start + 0.5));
    let mean = recorded.stats.mean_entry_delay_s;
    assert!(mean > 0.2 && mean < 0.5, "recorded mean {mean}");
}

#[test]
fn a_large_feed_latency_keeps_the_strategy_blind_until_the_first_snapshot_arrives() {
    // The strategy starts at 5 s but the first book snapshot (t = 0) reaches it at 8 s: the GLFT
    // maker sees no market and sends nothing before that.
    let out = glft(&with_latency(
        LatencyConfig::Constant { delay_s: 0.001 },
        LatencyConfig::Constant { delay_s: 8.0 },
    ));
    let first = out.stats.first_order_at_book_s.expect("orders eventually");
    assert!(first >= 8.0, "first order at the book at {first}");
    assert!(out.log.fills.len() > 5);
}

#[test]
fn latency_changes_the_run_but_not_the_background_arrivals() {
    let a = glft(&with_latency(
        LatencyConfig::Constant { delay_s: 0.001 },
        LatencyConfig::Constant { delay_s: 0.001 },
    ));
    let b = glft(&with_latency(
        LatencyConfig::Constant { delay_s: 0.05 },
        LatencyConfig::Constant { delay_s: 0.05 },
    ));
    assert_eq!(a.stats.flow_events, b.stats.flow_events);
    assert_ne!(a.log.fills, b.log.fills);
}
