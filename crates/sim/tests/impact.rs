//! Adverse selection: market orders move the fundamental for good (permanent impact), informed
//! traders trade on where it will be, and a quoter that joins the touch pays for both.

mod common;

use common::{markout_per_lot, preset, run_glft, Idle, JoinTouch};
use zkclob_sim::{run, SimConfig};

/// A market whose market orders are all buys (the sell intensity is a trickle) and come from the
/// background flow only.
fn buying_only(duration_s: f64) -> SimConfig {
    let mut config = preset("default", duration_s);
    config.flow.baseline_per_s.market_sell = 1e-9;
    config.informed.rate_per_s = 0.0;
    config.noise.rate_per_s = 0.0;
    config
}

#[test]
fn one_sided_buying_lifts_the_fundamental_for_good_and_the_book_follows() {
    let config = buying_only(300.0);
    let out = run(&config, Box::new(Idle), 1, None).expect("run");
    let impact = out.stats.permanent_impact_ticks;
    // About 2 buys a second, each moving F by ≈ 1.75·√(3/40) ≈ 0.5 tick.
    assert!(impact > 100.0, "permanent impact {impact:.1} ticks");
    let last = out.market.last().expect("samples");
    assert!((last.mid_ticks - last.fundamental_ticks).abs() < 3.0, "the book follows F: {last:?}");
    // The fundamental's own path is the same without impact: the difference is all impact.
    let mut flat = config.clone();
    flat.impact.permanent_ticks = 0.0;
    let flat = run(&flat, Box::new(Idle), 1, None).expect("run");
    assert_eq!(flat.stats.permanent_impact_ticks, 0.0);
    let own_path = out.stats.final_fundamental_ticks - impact;
    assert!((own_path - flat.stats.final_fundamental_ticks).abs() < 1e-6, "{own_path}");
    let flat_last = flat.market.last().expect("samples");
    assert!(last.mid_ticks > flat_last.mid_ticks + 0.8 * impact, "{last:?} vs {flat_last:?}");
}

#[test]
fn a_thin_book_moves_further_per_lot_than_a_deep_one() {
    let impact_with = |limit_rate: f64| {
        let mut config = buying_only(300.0);
        config.flow.baseline_per_s.limit_buy = limit_rate;
        config.flow.baseline_per_s.limit_sell = limit_rate;
        let out = run(&config, Box::new(Idle), 2, None).expect("run");
        out.stats.permanent_impact_ticks
    };
    let (deep, thin) = (impact_with(10.0), impact_with(3.0));
    assert!(thin > 1.5 * deep, "thin {thin:.1} vs deep {deep:.1} ticks");
}

/// Volume-weighted adverse selection per lot of our fills at `horizon_s`, ticks: d·(m₀ − m_h),
/// positive when the mid moved against the filled side.
fn adverse_selection_per_lot(log: &zkclob_sim::RunLog, horizon_s: f64) -> f64 {
    let end = log.samples.last().map_or(0.0, |s| s.time_s);
    let (mut sum, mut lots) = (0.0, 0.0);
    for f in log.fills.iter().filter(|f| f.time_s + horizon_s <= end) {
        let i = log.samples.partition_point(|s| s.time_s < f.time_s + horizon_s);
        let Some(s) = log.samples.get(i) else { continue };
        let d = if f.side == zkclob_sim::FillSide::Buy { 1.0 } else { -1.0 };
        sum += d * (f.mid_before - s.mid_ticks) * f.qty_lots as f64;
        lots += f.qty_lots as f64;
    }
    sum / lots
}

#[test]
fn informed_traders_who_know_the_fundamental_ahead_are_toxic_to_the_touch() {
    // Many informed traders and no impact, so what the touch loses to them is what they know.
    let mut config = preset("default", 1_800.0);
    config.impact.permanent_ticks = 0.0;
    config.informed.rate_per_s = 5.0;
    config.informed.threshold_ticks = 1.0;
    let horizon = config.informed.horizon_s;
    let mean_adverse = |config: &SimConfig| {
        let seeds = [1, 2, 3];
        let outs: Vec<_> =
            seeds.iter().map(|&s| run(config, Box::new(JoinTouch), s, None).expect("run")).collect();
        let adverse = outs.iter().map(|o| adverse_selection_per_lot(&o.log, horizon)).sum::<f64>() / 3.0;
        (adverse, outs.iter().map(|o| o.stats.informed_orders).sum::<u64>())
    };
    let (ahead, ahead_orders) = mean_adverse(&config);
    config.informed.horizon_s = 0.0;
    let (now, now_orders) = mean_adverse(&config);
    eprintln!(
        "adverse selection at {horizon} s: informed {horizon} s ahead {ahead:.3}, knowing F now {now:.3}"
    );
    assert!(ahead > now + 0.05, "{ahead} vs {now}");
    // The future is further from the mid than the present (the book follows F now).
    assert!(ahead_orders > 2 * now_orders, "{ahead_orders} vs {now_orders}");
}

#[test]
fn in_the_default_market_the_touch_is_adversely_selected_and_glft_does_better() {
    let config = preset("default", 1_200.0);
    let (mut touch, mut glft) = (0.0, 0.0);
    for seed in [1, 2, 3] {
        let joiner = run(&config, Box::new(JoinTouch), seed, None).expect("run");
        touch += markout_per_lot(&joiner.log, 5.0) / 3.0;
        glft += markout_per_lot(&run_glft(&config, seed).log, 5.0) / 3.0;
    }
    eprintln!("mean 5 s mark-out per lot: join the touch {touch:.2}, GLFT {glft:.2} ticks");
    assert!(touch < -0.05, "{touch}");
    assert!(glft > touch, "{glft} vs {touch}");
}

#[test]
fn depth_relative_market_orders_take_a_share_of_the_depth() {
    let mut config = preset("default", 300.0);
    config.impact.permanent_ticks = 0.0;
    config.informed.rate_per_s = 0.0;
    config.noise.rate_per_s = 0.0;
    let volume = |fraction: Option<f64>| {
        let mut c = config.clone();
        c.flow.market_depth_fraction = fraction;
        let out = run(&c, Box::new(Idle), 4, None).expect("run");
        (out.stats.volume_lots, out.stats.flow_events)
    };
    let (small, events) = volume(Some(0.01));
    let (large, same_events) = volume(Some(0.3));
    let (fixed, _) = volume(None);
    eprintln!("traded lots: 1% of the depth {small}, 30% {large}, fixed sizes {fixed}");
    assert_eq!(events, same_events, "sizes change, arrivals do not");
    // 1% of the ≈ 50 lots near the mid is one lot, below the fixed law's mean of three.
    assert!(large > 2 * small && small < fixed, "{large} vs {small}, fixed {fixed}");
}
