//! Each stress preset does what it says, against the default preset with the same seed.

mod common;

use common::{mean_market, preset, run_glft};
use zkclob_sim::{MarketSample, SimConfig};

fn spread(m: &MarketSample) -> f64 {
    match (m.best_bid, m.best_ask) {
        (Some(b), Some(a)) => (a - b) as f64,
        _ => f64::NAN,
    }
}

#[test]
fn flash_crash_drops_the_mid_then_recovers_part_of_it() {
    let duration = 600.0;
    let with_impact = preset("flash_crash", duration);
    // The shock's own path, without the extra noise that permanent impact adds in the thinned
    // book (the impact of the sell-off comes on top of the recovery, so it can hide it).
    let mut config = with_impact.clone();
    config.impact.permanent_ticks = 0.0;
    let shock = config.stress.shocks[0];
    assert_eq!(shock.time_s, 300.0);
    let drop = |out: &zkclob_sim::SimOutput| {
        let before = mean_market(out, shock.time_s - 20.0, shock.time_s, |m| m.mid_ticks);
        let crash_window = |m: &&MarketSample| m.time_s >= shock.time_s && m.time_s < shock.time_s + 60.0;
        let bottom =
            out.market.iter().filter(crash_window).map(|m| m.mid_ticks).fold(f64::INFINITY, f64::min);
        (before, bottom, before - bottom)
    };
    for seed in [1, 2] {
        // A 2% jump at 10 000 ticks is about 198 ticks.
        let (.., drop_ticks) = drop(&run_glft(&with_impact, seed));
        assert!(drop_ticks > 150.0, "seed {seed}, with impact: the mid fell only {drop_ticks:.1} ticks");
        let out = run_glft(&config, seed);
        let (before, bottom, drop_ticks) = drop(&out);
        assert!(drop_ticks > 150.0, "seed {seed}: the mid fell only {drop_ticks:.1} ticks");
        let end = shock.time_s + shock.recovery_s;
        let after = mean_market(&out, end, end + 60.0, |m| m.mid_ticks);
        let recovered = after - bottom;
        assert!(recovered > 0.25 * drop_ticks, "seed {seed}: recovered {recovered:.1} of {drop_ticks:.1}");
        assert!(after < before - 0.25 * drop_ticks, "seed {seed}: the recovery is only partial");
        assert!(out.stats.withdrawn_orders > 50, "liquidity was withdrawn: {}", out.stats.withdrawn_orders);
        let resting_before =
            mean_market(&out, shock.time_s - 30.0, shock.time_s, |m| m.resting_orders as f64);
        let resting_during =
            mean_market(&out, shock.time_s, shock.time_s + 30.0, |m| m.resting_orders as f64);
        assert!(resting_during < 0.3 * resting_before, "{resting_during} vs {resting_before}");
    }
}

#[test]
fn liquidity_drought_thins_the_book_and_widens_the_spread() {
    let duration = 600.0;
    let drought = run_glft(&preset("liquidity_drought", duration), 3);
    let calm = run_glft(&preset("default", duration), 3);
    let window = drought.market.iter().filter(|m| m.time_s >= 0.3 * duration && m.time_s < 0.9 * duration);
    let (from, to) = (0.3 * duration, 0.9 * duration);
    let resting = |o| mean_market(o, from, to, |m| m.resting_orders as f64);
    assert!(resting(&drought) < 0.6 * resting(&calm), "{} vs {}", resting(&drought), resting(&calm));
    let depth = |o| mean_market(o, from, to, |m| (m.bid_depth_lots + m.ask_depth_lots) as f64);
    assert!(depth(&drought) < 0.7 * depth(&calm));
    let spreads: Vec<f64> = window.map(spread).filter(|s| s.is_finite()).collect();
    let drought_spread = spreads.iter().sum::<f64>() / spreads.len() as f64;
    let calm_spread = mean_market(&calm, from, to, |m| if spread(m).is_finite() { spread(m) } else { 0.0 });
    assert!(drought_spread > 2.0 * calm_spread, "spread {drought_spread:.2} vs {calm_spread:.2}");
    // Before the window the two runs are the same market.
    assert_eq!(drought.market[..100], calm.market[..100]);
}

/// Realised variance per second of the fundamental's log-returns on the sampling grid, over the
/// samples with time in [from, to).
fn realised_variance(samples: &[MarketSample], from: f64, to: f64) -> f64 {
    let xs: Vec<f64> = samples
        .windows(2)
        .filter(|w| w[0].time_s >= from && w[1].time_s <= to)
        .map(|w| (w[1].fundamental_ticks / w[0].fundamental_ticks).ln().powi(2) / (w[1].time_s - w[0].time_s))
        .collect();
    xs.iter().sum::<f64>() / xs.len() as f64
}

#[test]
fn volatility_spike_multiplies_sigma_inside_its_window_only() {
    let duration = 1_000.0;
    let mut config = preset("volatility_spike", duration);
    config.fundamental.jumps = zkclob_sim::JumpConfig::None; // isolate the diffusion
    config.impact.permanent_ticks = 0.0; // (impact adds the order flow's own variance)
    let out = run_glft(&config, 4);
    let w = config.stress.windows[0];
    let inside = realised_variance(&out.market, w.start_s, w.end_s);
    let outside = realised_variance(&out.market, 0.0, w.start_s);
    let sigma2 = config.fundamental.sigma_per_sqrt_s.powi(2);
    // σ × 5: variance × 25 (each estimate uses 200–400 one-second returns).
    assert!((outside / sigma2 - 1.0).abs() < 0.3, "outside {:.3}", outside / sigma2);
    assert!((inside / sigma2 / 25.0 - 1.0).abs() < 0.3, "inside {:.3}", inside / sigma2);
    // The book follows: the mid moves more too.
    let mid_var = |from, to| {
        let xs: Vec<f64> = out
            .market
            .windows(2)
            .filter(|p| p[0].time_s >= from && p[1].time_s <= to)
            .map(|p| (p[1].mid_ticks - p[0].mid_ticks).powi(2))
            .collect();
        xs.iter().sum::<f64>() / xs.len() as f64
    };
    assert!(mid_var(w.start_s, w.end_s) > 8.0 * mid_var(0.0, w.start_s));
}

#[test]
fn stress_windows_from_toml_apply_and_end() {
    let config = SimConfig::from_toml_str(
        r#"
        duration_s = 300.0
        [[stress.windows]]
        start_s = 100.0
        end_s = 200.0
        limit_multiplier = 0.0
        market_multiplier = 0.0
        cancel_multiplier = 0.0
        "#,
    )
    .expect("config");
    let out = run_glft(&config, 5);
    // With no baseline flow, the excitation dies out within seconds: almost no limit orders arrive.
    let before = mean_market(&out, 50.0, 100.0, |m| m.resting_orders as f64);
    let during = mean_market(&out, 150.0, 200.0, |m| m.resting_orders as f64);
    let after = mean_market(&out, 250.0, 300.0, |m| m.resting_orders as f64);
    assert!(during < 0.2 * before, "{during} vs {before}");
    assert!(after > 0.5 * before, "{after} vs {before}");
}
