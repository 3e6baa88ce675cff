//! Calibration recovers known parameters from synthetic data, in the right units, and never turns
//! garbage into numbers.

mod common;

use common::Rng;

use zkclob_core::Side;
use zkclob_models::hawkes::ExpHawkes;
use zkclob_strategy::calibration::{
    fit_intensity_curve, CalibrationConfig, Calibrator, EwmaVolatility, FitError, HawkesConfig, PriorParams,
    RealisedVolatility, SigmaEstimator,
};
use zkclob_strategy::{MarketTrade, StrategyError};

struct ArrivalSim {
    a_per_s: f64,
    k_per_tick: f64,
    /// Half the spread, ticks: trades print at mid ± (half_spread + whole ticks).
    half_spread_ticks: f64,
    horizon_s: f64,
}

/// Feeds `cal` Poisson market orders on both sides at rate A whose depth D ~ Exp(k) from a fixed
/// mid, so P(reach ≥ δ) = e^(−kδ). An order prints at the deepest whole price level it reaches
/// (depth half_spread + ⌊D − half_spread⌋); one with D below the touch prints nothing.
fn feed_arrivals(cal: &mut Calibrator, sim: &ArrivalSim, mid: f64, rng: &mut Rng) {
    let mut events: Vec<(f64, Side, f64)> = Vec::new();
    for side in [Side::Buy, Side::Sell] {
        let mut t = 0.0;
        loop {
            t += rng.exp(sim.a_per_s);
            if t > sim.horizon_s {
                break;
            }
            let d = rng.exp(sim.k_per_tick);
            if d >= sim.half_spread_ticks {
                let depth = sim.half_spread_ticks + (d - sim.half_spread_ticks).floor();
                events.push((t, side, depth));
            }
        }
    }
    events.sort_by(|x, y| x.0.total_cmp(&y.0));
    cal.update(0.0, Some(mid), &[]);
    for (t, side, depth) in events {
        let price = match side {
            Side::Buy => mid + depth,
            Side::Sell => mid - depth,
        };
        let trade =
            MarketTrade { time_s: t, price_ticks: price.round() as i64, qty_lots: 1, aggressor: side };
        cal.update(t, Some(mid), &[trade]);
    }
    cal.update(sim.horizon_s, Some(mid), &[]);
}

fn ak_config(step_s: f64, horizon_s: f64, grid_start: f64) -> CalibrationConfig {
    let window_steps = (horizon_s / step_s).round() as usize;
    CalibrationConfig {
        step_s,
        window_steps,
        min_fit_steps: window_steps / 2,
        grid_start_ticks: grid_start,
        grid_step_ticks: 1.0,
        grid_points: 5,
        min_count_per_point: 20,
        sigma_min_samples: 1,
        prior: Some(PriorParams { sigma: 1.0, a_per_s: 1.0, k_per_tick: 1.0 }),
        ..CalibrationConfig::default()
    }
}

fn rel(x: f64, truth: f64) -> f64 {
    (x - truth).abs() / truth
}

#[test]
fn a_and_k_are_recovered_per_tick_on_a_half_tick_mid() {
    let sim = ArrivalSim { a_per_s: 2.0, k_per_tick: 0.8, half_spread_ticks: 0.5, horizon_s: 3_000.0 };
    let mut cal = Calibrator::new(ak_config(0.01, sim.horizon_s, 0.5)).unwrap();
    feed_arrivals(&mut cal, &sim, 100.5, &mut Rng(11));
    let snap = cal.snapshot();
    for fit in [snap.bid_fit.unwrap(), snap.ask_fit.unwrap()] {
        assert!(rel(fit.k_per_tick, 0.8) < 0.06, "k = {} per tick, want 0.8", fit.k_per_tick);
        assert!(rel(fit.a_per_s, 2.0) < 0.12, "A = {} per s, want 2", fit.a_per_s);
        assert_eq!(fit.points, 5);
    }
    let live = cal.live_params().unwrap();
    assert!(rel(live.k, 0.8) < 0.06 && rel(live.a, 2.0) < 0.12, "{live:?}");
}

#[test]
fn a_and_k_are_recovered_per_tick_on_a_whole_tick_mid() {
    let sim = ArrivalSim { a_per_s: 3.0, k_per_tick: 0.5, half_spread_ticks: 1.0, horizon_s: 3_000.0 };
    let mut cal = Calibrator::new(ak_config(0.01, sim.horizon_s, 1.0)).unwrap();
    feed_arrivals(&mut cal, &sim, 101.0, &mut Rng(12));
    let snap = cal.snapshot();
    for fit in [snap.bid_fit.unwrap(), snap.ask_fit.unwrap()] {
        assert!(rel(fit.k_per_tick, 0.5) < 0.06, "k = {} per tick, want 0.5", fit.k_per_tick);
        assert!(rel(fit.a_per_s, 3.0) < 0.12, "A = {} per s, want 3", fit.a_per_s);
    }
}

#[test]
fn coarse_steps_bias_the_spec_estimator_and_the_saturation_correction_removes_it() {
    let sim = ArrivalSim { a_per_s: 4.0, k_per_tick: 0.6, half_spread_ticks: 0.5, horizon_s: 4_000.0 };
    let mut plain = Calibrator::new(ak_config(1.0, sim.horizon_s, 0.5)).unwrap();
    feed_arrivals(&mut plain, &sim, 100.5, &mut Rng(13));
    let biased = plain.snapshot().ask_fit.unwrap();
    // λ(0.5)·Δ ≈ 3: most steps saturate, so the count under-reads A badly.
    assert!(biased.a_per_s < 0.7 * 4.0, "expected a saturated, biased A, got {}", biased.a_per_s);

    let config = CalibrationConfig { saturation_correction: true, ..ak_config(1.0, sim.horizon_s, 0.5) };
    let mut corrected = Calibrator::new(config).unwrap();
    feed_arrivals(&mut corrected, &sim, 100.5, &mut Rng(13));
    let fit = corrected.snapshot().ask_fit.unwrap();
    assert!(rel(fit.a_per_s, 4.0) < 0.12, "A = {}", fit.a_per_s);
    assert!(rel(fit.k_per_tick, 0.6) < 0.08, "k = {}", fit.k_per_tick);
}

#[test]
fn a_fit_without_enough_data_is_a_typed_outcome_not_garbage() {
    let config = CalibrationConfig { prior: None, ..CalibrationConfig::default() };
    let mut cal = Calibrator::new(config).unwrap();
    let trade = MarketTrade { time_s: 0.05, price_ticks: 101, qty_lots: 1, aggressor: Side::Buy };
    cal.update(0.0, Some(100.5), &[]);
    cal.update(0.15, Some(100.5), &[trade]);
    cal.update(0.35, Some(100.5), &[]);
    assert!(matches!(cal.snapshot().ask_fit, Err(FitError::NotEnoughData { steps: 3, .. })));
    assert!(matches!(cal.snapshot().bid_fit, Err(FitError::NotEnoughData { .. })));
    assert_eq!(cal.live_params(), None, "no prior, no estimate: no parameters");
    assert_eq!(cal.snapshot().ask_fit.unwrap_err().code(), "calibration:not-enough-data");
}

#[test]
fn the_prior_fills_missing_estimates_and_the_time_unit_rescales_sigma_and_a() {
    let prior = PriorParams { sigma: 0.5, a_per_s: 2.0, k_per_tick: 1.5 };
    let config = CalibrationConfig { prior: Some(prior), model_time_unit_s: 60.0, ..Default::default() };
    let cal = Calibrator::new(config).unwrap();
    let live = cal.live_params().unwrap();
    assert!((live.sigma - 0.5 * 60f64.sqrt()).abs() < 1e-12);
    assert!((live.a - 120.0).abs() < 1e-9);
    assert!((live.k - 1.5).abs() < 1e-12);
    assert_eq!(live.drift, 0.0);
}

#[test]
fn fit_intensity_curve_is_exact_on_exact_data_and_rejects_growth() {
    let depths = [0.5, 1.5, 2.5, 3.5];
    let lambdas: Vec<f64> = depths.iter().map(|d| 1.7 * (-0.9f64 * d).exp()).collect();
    let fit = fit_intensity_curve(&depths, &lambdas).unwrap();
    assert!((fit.a_per_s - 1.7).abs() < 1e-9 && (fit.k_per_tick - 0.9).abs() < 1e-9);
    let growing: Vec<f64> = depths.iter().map(|d| (0.3 * d).exp()).collect();
    assert_eq!(fit_intensity_curve(&depths, &growing), Err(FitError::NotDecaying));
    assert!(matches!(fit_intensity_curve(&[1.0], &[1.0]), Err(FitError::NotEnoughData { .. })));
    let zeros = [0.0, 0.0, 1.0, f64::NAN];
    assert!(matches!(fit_intensity_curve(&depths, &zeros), Err(FitError::NotEnoughData { .. })));
}

/// A Brownian mid with σ ticks/√s observed at exponential (irregular) intervals.
fn brownian_samples(sigma: f64, n: usize, mean_dt_s: f64, rng: &mut Rng) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(n);
    let (mut t, mut m) = (0.0, 1_000.0);
    for _ in 0..n {
        let dt = rng.exp(1.0 / mean_dt_s);
        t += dt;
        m += sigma * dt.sqrt() * rng.normal();
        out.push((t, m));
    }
    out
}

#[test]
fn realised_and_ewma_sigma_recover_a_known_sigma_under_irregular_sampling() {
    let samples = brownian_samples(2.0, 20_000, 0.5, &mut Rng(21));
    let mut realised = RealisedVolatility::new(5_000);
    let mut ewma = EwmaVolatility::new(2_000.0);
    let mut prev = (0.0, 1_000.0);
    for &(t, m) in &samples {
        realised.push(m - prev.1, t - prev.0);
        ewma.push(m - prev.1, t - prev.0);
        prev = (t, m);
    }
    assert_eq!(realised.len(), 5_000);
    assert!(rel(realised.sigma().unwrap(), 2.0) < 0.05, "realised {}", realised.sigma().unwrap());
    assert!(rel(ewma.sigma().unwrap(), 2.0) < 0.1, "ewma {}", ewma.sigma().unwrap());
}

#[test]
fn the_calibrator_samples_sigma_at_the_configured_interval_and_reports_ticks_per_sqrt_s() {
    for estimator in [SigmaEstimator::Realised, SigmaEstimator::Ewma] {
        let config = CalibrationConfig {
            sigma_estimator: estimator,
            sigma_window: 2_000,
            sigma_half_life_s: 500.0,
            sigma_sample_interval_s: 1.0,
            sigma_min_samples: 100,
            ..Default::default()
        };
        let mut cal = Calibrator::new(config).unwrap();
        // Updates every ~0.2 s; σ should be sampled about once a second regardless.
        for (t, m) in brownian_samples(0.7, 15_000, 0.2, &mut Rng(22)) {
            cal.update(t, Some(m), &[]);
        }
        let sigma = cal.sigma().unwrap();
        assert!(rel(sigma, 0.7) < 0.1, "{estimator:?}: sigma {sigma}");
    }
}

#[test]
fn sigma_is_not_reported_before_the_minimum_number_of_samples() {
    let config =
        CalibrationConfig { sigma_min_samples: 10, sigma_sample_interval_s: 0.0, ..Default::default() };
    let mut cal = Calibrator::new(config).unwrap();
    for i in 0..10 {
        cal.update(i as f64, Some(100.0 + (i % 2) as f64), &[]);
    }
    assert_eq!(cal.sigma(), None, "9 changes");
    cal.update(10.0, Some(100.0), &[]);
    assert!(cal.sigma().is_some());
}

fn hawkes_config(enabled: bool) -> CalibrationConfig {
    CalibrationConfig {
        prior: Some(PriorParams { sigma: 1.0, a_per_s: 1.0, k_per_tick: 1.0 }),
        hawkes: HawkesConfig {
            enabled,
            mu_per_s: 1.0,
            alpha_per_s: 0.8,
            beta_per_s: 2.0,
            max_a_boost: 2.5,
            history_events: 10_000,
        },
        ..Default::default()
    }
}

fn buy(t: f64) -> MarketTrade {
    MarketTrade { time_s: t, price_ticks: 101, qty_lots: 1, aggressor: Side::Buy }
}

#[test]
fn clustered_flow_raises_a_within_the_cap_and_quiet_flow_never_lowers_it() {
    let mut cal = Calibrator::new(hawkes_config(true)).unwrap();
    cal.update(0.0, Some(100.5), &[]);
    let base_a = cal.live_params().unwrap().a;
    // A burst: 30 market orders in 1.5 s against a stationary rate of 1/(1 − 0.4) ≈ 1.67/s.
    let burst: Vec<MarketTrade> = (0..30).map(|i| buy(10.0 + 0.05 * i as f64)).collect();
    cal.update(11.5, Some(100.5), &burst);
    let snap = cal.snapshot();
    assert!(snap.intensity_ratio > 2.5, "ratio {}", snap.intensity_ratio);
    assert_eq!(snap.a_boost, 2.5, "capped");
    assert!((cal.live_params().unwrap().a - 2.5 * base_a).abs() < 1e-9);
    // Long quiet: the intensity decays to μ, below the stationary mean; A is not lowered.
    cal.update(100.0, Some(100.5), &[]);
    let quiet = cal.snapshot();
    assert!(quiet.intensity_ratio < 1.0);
    assert_eq!(quiet.a_boost, 1.0);
    assert_eq!(cal.live_params().unwrap().a, base_a);
}

#[test]
fn prints_of_one_sweep_count_as_one_market_order() {
    let mut one = Calibrator::new(hawkes_config(true)).unwrap();
    let mut sweep = Calibrator::new(hawkes_config(true)).unwrap();
    one.update(0.0, Some(100.5), &[]);
    sweep.update(0.0, Some(100.5), &[]);
    one.update(1.0, Some(100.5), &[buy(1.0)]);
    let prints: Vec<MarketTrade> = (0..5).map(|i| MarketTrade { price_ticks: 101 + i, ..buy(1.0) }).collect();
    sweep.update(1.0, Some(100.5), &prints);
    assert_eq!(one.snapshot().intensity_ratio, sweep.snapshot().intensity_ratio);
    let off = Calibrator::new(hawkes_config(false)).unwrap();
    assert_eq!(off.snapshot().a_boost, 1.0);
}

#[test]
fn refit_hawkes_recovers_the_branching_ratio_of_simulated_flow() {
    let truth = ExpHawkes::new(0.5, 0.8, 1.2).unwrap();
    let events = truth.simulate_thinning(3_000.0, &mut zkclob_models::seeded_rng(5)).unwrap();
    let mut cal = Calibrator::new(hawkes_config(true)).unwrap();
    cal.update(0.0, Some(100.5), &[]);
    for &t in events.times_s() {
        cal.update(t, Some(100.5), &[buy(t)]);
    }
    let fitted = cal.refit_hawkes(3_000.0).unwrap();
    assert!((fitted.branching_ratio() - 2.0 / 3.0).abs() < 0.1, "{fitted:?}");
    assert!(rel(fitted.stationary_rate_per_s(), 1.5) < 0.15, "{fitted:?}");
    let mut off = Calibrator::new(hawkes_config(false)).unwrap();
    assert!(matches!(off.refit_hawkes(1.0), Err(StrategyError::Numerical(_))));
}

#[test]
fn garbage_updates_never_panic_nor_produce_non_finite_parameters() {
    let mut config = hawkes_config(true);
    config.min_fit_steps = 5;
    config.sigma_min_samples = 1;
    config.sigma_sample_interval_s = 0.0;
    let mut cal = Calibrator::new(config).unwrap();
    let mut rng = Rng(99);
    let weird = [f64::NAN, f64::INFINITY, -f64::INFINITY, -1.0, 0.0, 1e300, -1e300, 5e-324];
    let mut t = 0.0;
    for i in 0..20_000 {
        t += rng.exp(10.0);
        let pick = |r: &mut Rng| weird[(r.next_u64() % weird.len() as u64) as usize];
        let time = if i % 7 == 0 { pick(&mut rng) } else { t };
        let mid = if i % 5 == 0 { Some(pick(&mut rng)) } else { Some(100.0 + rng.normal()) };
        let trade = MarketTrade {
            time_s: if i % 3 == 0 { pick(&mut rng) } else { t - 0.01 },
            price_ticks: [i64::MIN, i64::MAX, 0, 100, 101, -5][(rng.next_u64() % 6) as usize],
            qty_lots: rng.next_u64() % 3,
            aggressor: if rng.uniform() < 0.5 { Side::Buy } else { Side::Sell },
        };
        cal.update(time, mid, &[trade, trade]);
        if let Some(p) = cal.live_params() {
            assert!(p.sigma.is_finite() && p.sigma > 0.0, "{p:?}");
            assert!(p.a.is_finite() && p.a > 0.0 && p.k.is_finite() && p.k > 0.0, "{p:?}");
        }
        let snap = cal.snapshot();
        assert!(snap.a_boost.is_finite() && snap.a_boost >= 1.0);
    }
    assert!(cal.snapshot().trades_ignored > 0);
}

#[test]
fn bad_configurations_are_typed_errors_naming_the_field() {
    let bad = [
        ("step_s", CalibrationConfig { step_s: 0.0, ..Default::default() }),
        ("window_steps", CalibrationConfig { window_steps: 1, ..Default::default() }),
        ("grid_points", CalibrationConfig { grid_points: 65, ..Default::default() }),
        ("sigma_half_life_s", CalibrationConfig { sigma_half_life_s: f64::NAN, ..Default::default() }),
        ("min_count_per_point", CalibrationConfig { min_count_per_point: 0, ..Default::default() }),
        (
            "sigma_min_samples",
            CalibrationConfig {
                sigma_estimator: SigmaEstimator::Realised,
                sigma_window: 10,
                sigma_min_samples: 11,
                ..Default::default()
            },
        ),
        (
            "hawkes.max_a_boost",
            CalibrationConfig {
                hawkes: HawkesConfig { max_a_boost: 0.5, ..Default::default() },
                ..Default::default()
            },
        ),
    ];
    for (name, config) in bad {
        match Calibrator::new(config) {
            Err(StrategyError::InvalidParameter { name: got, .. }) => assert_eq!(got, name),
            other => panic!("{name}: expected InvalidParameter, got {other:?}"),
        }
    }
    let explosive = HawkesConfig { alpha_per_s: 2.0, beta_per_s: 1.0, ..Default::default() };
    assert!(Calibrator::new(CalibrationConfig { hawkes: explosive, ..Default::default() }).is_err());
}

#[test]
fn the_configuration_reads_from_toml_and_rejects_unknown_keys() {
    let config: CalibrationConfig = toml::from_str(
        "step_s = 0.5\nsigma_estimator = \"realised\"\n[hawkes]\nenabled = true\n[prior]\nsigma = 1.0\na_per_s = 2.0\nk_per_tick = 0.5\n",
    )
    .unwrap();
    assert_eq!(config.step_s, 0.5);
    assert_eq!(config.sigma_estimator, SigmaEstimator::Realised);
    assert!(config.hawkes.enabled && config.prior.is_some());
    assert!(toml::from_str::<CalibrationConfig>("stepsize = 0.5").is_err());
    assert!(toml::from_str::<CalibrationConfig>("[hawkes]\nmu = 1.0").is_err());
}
