//! Configuration: presets, TOML, and bad input as typed errors (never a panic).

mod common;

use common::Idle;
use zkclob_sim::{
    run, FeeConfig, JumpConfig, KernelConfig, LatencyConfig, RoughVolConfig, SimConfig, SimError, SizeConfig,
    StressWindow, FLOW_DIMS,
};

fn expect_invalid(config: SimConfig, field: &str) {
    match config.validate() {
        Err(SimError::InvalidParameter { name, .. }) => assert_eq!(name, field),
        other => panic!("{field}: expected an invalid-parameter error, got {other:?}"),
    }
    // run() validates too, and reports instead of panicking.
    assert!(run(&config, Box::new(Idle), 1, None).is_err());
}

#[test]
fn every_preset_and_the_default_are_valid() {
    SimConfig::default().validate().expect("default");
    for name in zkclob_sim::PRESET_NAMES {
        SimConfig::preset(name).expect(name).validate().expect(name);
    }
    assert!(matches!(SimConfig::preset("meltdown"), Err(SimError::UnknownPreset(n)) if n == "meltdown"));
    assert!(SimConfig::preset_with_duration("default", -1.0).is_err());
}

#[test]
fn bad_scalars_name_their_field() {
    let d = SimConfig::default;
    expect_invalid(SimConfig { duration_s: f64::NAN, ..d() }, "duration_s");
    expect_invalid(SimConfig { duration_s: 0.0, ..d() }, "duration_s");
    expect_invalid(SimConfig { sample_interval_s: -1.0, ..d() }, "sample_interval_s");
    let mut c = d();
    c.flow.baseline_per_s.market_sell = -0.5;
    expect_invalid(c, "flow.baseline_per_s.market_sell");
    let mut c = d();
    c.flow.baseline_per_s.limit_buy = f64::INFINITY;
    expect_invalid(c, "flow.baseline_per_s.limit_buy");
    let mut c = d();
    c.flow.kernels[0].alpha_per_s[2][3] = -1.0;
    expect_invalid(c, "flow.kernels[0].alpha_per_s[2][3]");
    let mut c = d();
    c.flow.kernels[0].decay_per_s = 0.0;
    expect_invalid(c, "flow.kernels[0].decay_per_s");
    let mut c = d();
    c.flow.level_decay = 1.5;
    expect_invalid(c, "flow.level_decay");
    let mut c = d();
    c.flow.limit_size = SizeConfig::Geometric { mean_lots: 0.5 };
    expect_invalid(c, "flow.limit_size.mean_lots");
    let mut c = d();
    c.market.initial_price_ticks = 5;
    expect_invalid(c, "market.initial_price_ticks");
    let mut c = d();
    c.fundamental.sigma_per_sqrt_s = -0.1;
    expect_invalid(c, "fundamental.sigma_per_sqrt_s");
    let mut c = d();
    c.fundamental.rough = Some(RoughVolConfig { hurst: 1.5, eta: 1.0 });
    expect_invalid(c, "fundamental.rough.hurst");
    let mut c = d();
    c.informed.rate_per_s = -1.0;
    expect_invalid(c, "informed.rate_per_s");
    let mut c = d();
    c.informed.horizon_s = -1.0;
    expect_invalid(c, "informed.horizon_s");
    let mut c = d();
    c.impact.permanent_ticks = f64::NAN;
    expect_invalid(c, "impact.permanent_ticks");
    let mut c = d();
    c.impact.exponent = 0.0;
    expect_invalid(c, "impact.exponent");
    let mut c = d();
    c.impact.depth_ticks = 0;
    expect_invalid(c, "impact.depth_ticks");
    let mut c = d();
    c.flow.market_depth_fraction = Some(0.0);
    expect_invalid(c, "flow.market_depth_fraction");
    let mut c = d();
    c.agent.view_levels = 0;
    expect_invalid(c, "agent.view_levels");
    let mut c = d();
    c.latency.entry = LatencyConfig::Constant { delay_s: -0.1 };
    expect_invalid(c, "latency.entry.delay_s");
    let mut c = d();
    c.fees = FeeConfig::Bps { maker_bps: f64::NAN, taker_bps: 1.0 };
    expect_invalid(c, "fees.maker_bps");
    let mut c = d();
    c.stress.windows.push(StressWindow { start_s: 10.0, end_s: 5.0, ..Default::default() });
    expect_invalid(c, "stress.windows[0].end_s");
    let mut c = d();
    c.stress.shocks.push(zkclob_sim::PriceShock { time_s: 1e9, ..Default::default() });
    expect_invalid(c, "stress.shocks[0].time_s");
}

#[test]
fn kou_jumps_with_an_infinite_mean_are_a_model_error() {
    let mut c = SimConfig::default();
    c.fundamental.jumps = JumpConfig::Kou { rate_per_s: 0.1, p_up: 0.5, eta_up: 0.9, eta_down: 2.0 };
    assert!(matches!(c.validate(), Err(SimError::Model(_))), "{:?}", c.validate());
}

#[test]
fn an_explosive_hawkes_kernel_is_rejected_as_non_stationary() {
    let mut c = SimConfig::default();
    let mut alpha = [[0.0; FLOW_DIMS]; FLOW_DIMS];
    alpha[2][3] = 1.5; // market sells excite market buys and back: spectral radius 1.5/1
    alpha[3][2] = 1.5;
    c.flow.kernels = vec![KernelConfig { decay_per_s: 1.0, alpha_per_s: alpha }];
    match c.validate() {
        Err(SimError::NonStationaryFlow { branching_ratio }) => assert!((branching_ratio - 1.5).abs() < 1e-9),
        other => panic!("expected non-stationary, got {other:?}"),
    }
    // Exactly critical is rejected too.
    alpha[2][3] = 1.0;
    alpha[3][2] = 1.0;
    c.flow.kernels = vec![KernelConfig { decay_per_s: 1.0, alpha_per_s: alpha }];
    assert!(matches!(c.validate(), Err(SimError::NonStationaryFlow { .. })));
    assert!(run(&c, Box::new(Idle), 1, None).is_err());
}

#[test]
fn limits_are_enforced_at_the_edge() {
    let mut c = SimConfig::default();
    c.flow.kernels.clear();
    assert!(matches!(c.validate(), Err(SimError::LimitExceeded { .. })));
    let mut c = SimConfig::default();
    c.flow.kernels = vec![c.flow.kernels[0]; zkclob_sim::config::MAX_KERNELS];
    for k in &mut c.flow.kernels {
        k.alpha_per_s = [[0.0; FLOW_DIMS]; FLOW_DIMS];
    }
    c.validate().expect("MAX_KERNELS kernels are fine");
    c.flow.kernels.push(c.flow.kernels[0]);
    assert!(matches!(c.validate(), Err(SimError::LimitExceeded { .. })));
    let mut c = SimConfig::default();
    c.agent.view_levels = zkclob_sim::config::MAX_VIEW_LEVELS;
    c.validate().expect("MAX_VIEW_LEVELS is fine");
    c.agent.view_levels += 1;
    assert!(c.validate().is_err());
    let mut c = SimConfig::default();
    c.latency.feed = LatencyConfig::Recorded { delays_s: vec![] };
    assert!(matches!(c.validate(), Err(SimError::LimitExceeded { .. })));
    let mut c = SimConfig::default();
    c.impact.depth_ticks = zkclob_sim::config::MAX_IMPACT_DEPTH_TICKS;
    c.validate().expect("MAX_IMPACT_DEPTH_TICKS is fine");
    c.impact.depth_ticks += 1;
    assert!(c.validate().is_err());
    let mut c = SimConfig::default();
    c.informed.horizon_s = zkclob_sim::config::MAX_INFORMED_HORIZON_S;
    c.validate().expect("the longest look-ahead is fine at the default step");
    c.fundamental.step_s = c.informed.horizon_s / zkclob_sim::config::MAX_LOOKAHEAD_STEPS;
    c.validate().expect("MAX_LOOKAHEAD_STEPS steps ahead are fine");
    c.fundamental.step_s *= 0.99;
    assert!(c.validate().is_err(), "one step too many");
    c.fundamental.step_s = 0.1;
    c.informed.horizon_s *= 1.01;
    assert!(c.validate().is_err());
    let mut c = SimConfig { duration_s: zkclob_sim::config::MAX_DURATION_S, ..SimConfig::default() };
    c.sample_interval_s = 60.0;
    c.fundamental.step_s = 1.0;
    c.validate().expect("the longest run is valid");
    c.duration_s *= 1.01;
    assert!(c.validate().is_err());
}

#[test]
fn toml_documents_parse_and_typos_are_errors() {
    let text = r#"
        duration_s = 120.0
        sample_interval_s = 0.5
        record_trades = false
        [market]
        initial_price_ticks = 5000
        [fundamental]
        step_s = 0.05
        rough = { hurst = 0.1, eta = 1.5 }
        [fundamental.jumps]
        kind = "kou"
        rate_per_s = 0.01
        p_up = 0.4
        eta_up = 200.0
        eta_down = 150.0
        [flow]
        levels = 8
        limit_size = { kind = "lognormal", median_lots = 2.0, sigma = 0.6 }
        market_size = { kind = "fixed", lots = 1 }
        market_depth_fraction = 0.1
        [flow.baseline_per_s]
        limit_buy = 8.0
        limit_sell = 8.0
        market_buy = 1.0
        market_sell = 1.0
        cancel_buy = 2.0
        cancel_sell = 2.0
        [[flow.kernels]]
        decay_per_s = 3.0
        alpha_per_s = [[1,0,0,0,0,0],[0,1,0,0,0,0],[0,0,1,0,0,0],[0,0,0,1,0,0],[0,0,0,0,1,0],[0,0,0,0,0,1]]
        [impact]
        permanent_ticks = 1.0
        exponent = 1.0
        depth_ticks = 5
        [informed]
        horizon_s = 2.0
        [agent]
        timer_interval_s = 0.5
        [latency.feed]
        kind = "recorded"
        delays_s = [0.001, 0.002]
        [fees]
        kind = "bps"
        maker_bps = -0.2
        taker_bps = 0.5
        [[stress.shocks]]
        time_s = 60.0
        log_jump = 0.01
        withdraw_fraction = 0.5
    "#;
    let config = SimConfig::from_toml_str(text).expect("parse");
    assert_eq!(config.market.initial_price_ticks, 5_000);
    assert_eq!(config.flow.kernels[0].alpha_per_s[4][4], 1.0);
    assert_eq!((config.impact.exponent, config.impact.depth_ticks), (1.0, 5));
    assert_eq!((config.informed.horizon_s, config.flow.market_depth_fraction), (2.0, Some(0.1)));
    assert!(matches!(config.fees, FeeConfig::Bps { .. }));
    let out = run(&config, zkclob_sim::default_market_maker(&config).expect("maker"), 3, None).expect("run");
    assert!(out.trades.is_empty(), "record_trades = false");
    assert_eq!(out.log.samples.len(), 241);
    assert!(out.stats.withdrawn_orders > 0);

    for bad in [
        "durations = 5.0",
        "[flow]\nlevel = 3",
        "[impact]\npermanent = 1.0",
        "[latency.entry]\nkind = \"gaussian\"\ndelay_s = 1.0",
        "[latency.entry]\nkind = \"constant\"\ndelay_s = 1.0\nmedian_s = 2.0",
        "[fees]\nkind = \"per_lot\"\nmaker_ticks_per_lot = 1.0",
        "duration_s = \"long\"",
    ] {
        assert!(matches!(SimConfig::from_toml_str(bad), Err(SimError::Config(_))), "{bad}");
    }
    assert!(matches!(SimConfig::from_toml_str("duration_s = -5.0"), Err(SimError::InvalidParameter { .. })));
}

#[test]
fn rough_volatility_and_kou_jumps_drive_the_fundamental() {
    let mut config = common::preset("default", 300.0);
    config.fundamental.rough = Some(RoughVolConfig { hurst: 0.1, eta: 1.9 });
    config.fundamental.jumps =
        JumpConfig::Kou { rate_per_s: 0.05, p_up: 0.5, eta_up: 2_000.0, eta_down: 2_000.0 };
    config.check_invariants_every = 1;
    let out = run(&config, zkclob_sim::default_market_maker(&config).expect("maker"), 2, None).expect("run");
    let plain = common::run_glft(&common::preset("default", 300.0), 2);
    assert_ne!(out.stats.final_fundamental_ticks, plain.stats.final_fundamental_ticks);
    assert!(out.market.iter().all(|m| m.fundamental_ticks.is_finite() && m.fundamental_ticks > 0.0));
}

#[test]
fn progress_is_reported_in_order_up_to_one() {
    let config = common::preset("default", 50.0);
    let mut seen = Vec::new();
    let mut callback = |f: f64| seen.push(f);
    run(&config, Box::new(Idle), 1, Some(&mut callback)).expect("run");
    assert!(seen.len() >= 50);
    assert!(seen.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(seen.first(), Some(&0.0));
    assert_eq!(seen.last(), Some(&1.0));
}

#[test]
fn samples_lie_on_the_grid_and_end_at_the_duration() {
    let config = SimConfig { sample_interval_s: 0.7, ..common::preset("default", 10.0) };
    let out = run(&config, Box::new(Idle), 1, None).expect("run");
    let times: Vec<f64> = out.log.samples.iter().map(|s| s.time_s).collect();
    assert_eq!(times.len(), 16); // 0, 0.7, …, 9.8, then 10
    for (i, t) in times[..15].iter().enumerate() {
        assert_eq!(*t, i as f64 * 0.7);
    }
    assert_eq!(times[15], 10.0);
    assert_eq!(out.log.sample_interval_s, 0.7);
    assert_eq!(out.market.len(), out.log.samples.len());
}

#[test]
fn the_anchor_weight_sets_how_closely_the_book_follows_the_fundamental() {
    let mut c = SimConfig::preset_with_duration("default", 1_800.0).unwrap();
    c.fundamental.sigma_per_sqrt_s = 2e-4; // moves of a few ticks per second
    let lag = |w: f64| {
        let mut c = c.clone();
        c.flow.anchor_weight = w;
        let out = run(&c, Box::new(Idle), 3, None).unwrap();
        let gaps: Vec<f64> = out.market.iter().map(|s| (s.fundamental_ticks - s.mid_ticks).abs()).collect();
        gaps.iter().sum::<f64>() / gaps.len() as f64
    };
    let (at_f, at_mid) = (lag(1.0), lag(0.0));
    eprintln!("mean |F − mid|: anchored at F {at_f:.2} ticks, at the mid {at_mid:.2}");
    assert!(at_mid > 1.5 * at_f, "anchored at the mid the book lags F more: {at_mid} vs {at_f}");
    for w in [1.5, -0.1, f64::NAN] {
        let mut bad = c.clone();
        bad.flow.anchor_weight = w;
        expect_invalid(bad, "flow.anchor_weight");
    }
}
