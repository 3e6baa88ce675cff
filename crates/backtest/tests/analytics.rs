//! Metrics on hand-built run logs with known answers.

mod common;

use common::{fill, log_from_pnl, log_from_returns, sample, toy_log, ToyParams};
use zkclob_backtest::analytics::significance::{
    expected_max_sharpe, probabilistic_sharpe_ratio, stationary_bootstrap, Statistic,
};
use zkclob_backtest::analytics::stats::mean;
use zkclob_backtest::analytics::{
    compute_metrics, Annualisation, Benchmark, BootstrapConfig, MetricsConfig, TrialStats,
};
use zkclob_backtest::BacktestError;
use zkclob_models::seeded_rng;
use zkclob_sim::{FillSide, RunLog};

fn cfg_ppy(periods_per_year: f64) -> MetricsConfig {
    MetricsConfig {
        annualisation: Annualisation::PeriodsPerYear(periods_per_year),
        ..MetricsConfig::default()
    }
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + b.abs())
}

#[test]
fn constant_returns_have_zero_drawdown_and_undefined_sharpe() {
    let pnl: Vec<f64> = (0..11).map(|t| 2.0 * t as f64).collect();
    let m = compute_metrics(&log_from_pnl(&pnl), &cfg_ppy(252.0)).unwrap();
    assert_eq!(m.drawdown.max_drawdown, 0.0);
    assert_eq!(m.drawdown.max_duration_s, 0.0);
    assert!(m.drawdown.recovered);
    assert_eq!(m.returns.mean, Some(2.0));
    assert_eq!(m.returns.std, Some(0.0));
    // Zero variance: Sharpe, Sortino (no losing period) and Calmar (no drawdown) are undefined.
    assert_eq!((m.risk.sharpe, m.risk.sortino, m.risk.calmar), (None, None, None));
    assert_eq!(m.significance.psr, None);
    assert_eq!(m.risk.annualised_return, Some(504.0));
    assert_eq!(m.pnl.total, 20.0);
}

#[test]
fn known_drawdown_sequence() {
    // Peak 10 at t=1, down to 4, recovers to a new peak 12 at t=4 (3 s under water), falls to 2 at
    // t=5 (depth 10) and ends at 5, still 2 s under water.
    let m = compute_metrics(&log_from_pnl(&[0.0, 10.0, 4.0, 8.0, 12.0, 2.0, 5.0]), &cfg_ppy(252.0)).unwrap();
    let dd = &m.drawdown;
    assert_eq!(dd.max_drawdown, 10.0);
    assert_eq!((dd.peak_time_s, dd.trough_time_s), (Some(4.0), Some(5.0)));
    assert_eq!(dd.max_duration_s, 3.0);
    assert!(!dd.recovered);
    // Calmar = mean return × 252 / max drawdown = (5/6) × 252 / 10 = 21.
    assert!(close(m.risk.calmar.unwrap(), 21.0, 1e-12));
}

#[test]
fn sharpe_sortino_and_information_ratio_match_their_formulas() {
    let r = [1.0, -0.5, 2.0, 0.5, -1.0, 1.5];
    let n = r.len() as f64;
    let mu = r.iter().sum::<f64>() / n;
    let sd = (r.iter().map(|x| (x - mu).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let downside = ((0.5f64.powi(2) + 1.0) / n).sqrt();
    let cfg = MetricsConfig { benchmark: Benchmark::Zero, ..cfg_ppy(252.0) };
    let m = compute_metrics(&log_from_returns(&r), &cfg).unwrap();
    assert!(close(m.risk.sharpe.unwrap(), mu / sd * 252f64.sqrt(), 1e-12));
    assert!(close(m.risk.sortino.unwrap(), mu / downside * 252f64.sqrt(), 1e-12));
    assert_eq!(m.risk.information_ratio, m.risk.sharpe);
    assert!(close(m.risk.annualised_volatility.unwrap(), sd * 252f64.sqrt(), 1e-12));

    // Against holding one lot: the mid rises 1 tick per period, so active returns are r − 1.
    let mut log = log_from_returns(&r);
    for (i, s) in log.samples.iter_mut().enumerate() {
        s.mid_ticks = 100.0 + i as f64;
    }
    let m = compute_metrics(&log, &MetricsConfig { benchmark: Benchmark::HoldLots(1), ..cfg_ppy(252.0) })
        .unwrap();
    assert!(close(m.risk.information_ratio.unwrap(), (mu - 1.0) / sd * 252f64.sqrt(), 1e-12));
}

#[test]
fn annualisation_from_seconds_uses_the_sample_interval() {
    let mut log = log_from_returns(&[1.0, -1.0, 2.0]);
    log.sample_interval_s = 60.0;
    let cfg = MetricsConfig { annualisation: Annualisation::SecondsPerYear(6000.0), ..Default::default() };
    assert_eq!(compute_metrics(&log, &cfg).unwrap().periods_per_year, 100.0);
    // Without a stated interval, the mean spacing of the samples (1 s here).
    log.sample_interval_s = 0.0;
    assert_eq!(compute_metrics(&log, &cfg).unwrap().periods_per_year, 6000.0);
}

#[test]
fn markout_of_a_buy_followed_by_a_known_mid_move() {
    // Mid 100 until t = 3, then 102. We buy 2 lots at 99 at t = 2.5 with the mid at 100.
    let mut log = RunLog { sample_interval_s: 1.0, ..RunLog::default() };
    for t in 0..=10 {
        log.samples.push(sample(t as f64, if t <= 3 { 100.0 } else { 102.0 }, 0, 0.0));
    }
    log.fills.push(fill(2.5, FillSide::Buy, 99, 2, 100.0, true));
    let cfg = MetricsConfig { markout_horizons_s: vec![0.0, 1.0, 5.0, 9.0], ..cfg_ppy(252.0) };
    let m = compute_metrics(&log, &cfg).unwrap();
    let h = &m.execution.horizons;
    // h = 0: first sample at or after 2.5 is t = 3 (mid 100): mark-out (100 − 99) × 2 = 2.
    assert_eq!(h[0].markout_total, 2.0);
    // h = 1: first sample at or after 3.5 is t = 4 (mid 102): (102 − 99) × 2 = 6, 3 ticks per lot.
    assert_eq!((h[1].markout_total, h[1].markout_per_lot_ticks), (6.0, Some(3.0)));
    assert_eq!(h[1].markout_positive_share, Some(1.0));
    // Effective spread 2·(100 − 99) = 2; realised 2·(102 − 99) = 6; impact 2·(100 − 102) = −4
    // (the mid moved our way: no adverse selection).
    assert_eq!(h[1].effective_spread_ticks, Some(2.0));
    assert_eq!(h[1].realised_spread_ticks, Some(6.0));
    assert_eq!(h[1].price_impact_ticks, Some(-4.0));
    assert_eq!(h[1].adverse_share, Some(0.0));
    assert_eq!(h[2].markout_total, 6.0);
    // t + 9 = 11.5 is past the last sample: not measured.
    assert_eq!((h[3].fills_measured, h[3].markout_per_lot_ticks), (0, None));
    assert_eq!(m.execution.effective_spread_ticks, Some(2.0));
}

#[test]
fn adverse_selection_and_timing_of_a_sell() {
    // Mid rises 100 → 104 before we sell 1 at 105 (t = 4.2, mid 104), then falls? No: keeps rising
    // to 107, so the sell is adversely selected.
    let mids = [100.0, 101.0, 102.0, 103.0, 104.0, 107.0, 107.0];
    let mut log = RunLog { sample_interval_s: 1.0, ..RunLog::default() };
    for (t, &m) in mids.iter().enumerate() {
        log.samples.push(sample(t as f64, m, 0, 0.0));
    }
    log.fills.push(fill(4.2, FillSide::Sell, 105, 1, 104.0, true));
    let cfg = MetricsConfig { markout_horizons_s: vec![1.0, 2.0], ..cfg_ppy(252.0) };
    let h = &compute_metrics(&log, &cfg).unwrap().execution.horizons[0];
    // Mark-out at t = 6 (mid 107): −1·(107 − 105) = −2. Impact 2·(−1)·(104 − 107) = 6 > 0: adverse.
    assert_eq!(h.markout_total, -2.0);
    assert_eq!(h.price_impact_ticks, Some(6.0));
    assert_eq!(h.adverse_selection_ticks, Some(3.0));
    assert_eq!(h.adverse_share, Some(1.0));
    // Timing: the last sample at or before 3.2 is t = 3 (mid 103); −1·(104 − 103) = −1: selling
    // after a rise is favourable timing.
    assert_eq!(h.timing_cost_ticks, Some(-1.0));
}

#[test]
fn tca_decomposes_effective_spread_into_realised_spread_and_impact() {
    let log = toy_log(3, 2_000, ToyParams::default());
    let m = compute_metrics(&log, &MetricsConfig::default()).unwrap();
    assert!(m.fills.count > 100, "toy run too quiet: {} fills", m.fills.count);
    for h in &m.execution.horizons {
        let (e, r, i) = (
            h.effective_spread_ticks.unwrap(),
            h.realised_spread_ticks.unwrap(),
            h.price_impact_ticks.unwrap(),
        );
        assert!(close(e, r + i, 1e-9), "horizon {}: {e} ≠ {r} + {i}", h.horizon_s);
        assert!(close(h.markout_per_lot_ticks.unwrap() * 2.0, r, 1e-12));
    }
    // The toy flow is informed: the mid moves against our fills on average.
    assert!(m.execution.horizons[1].price_impact_ticks.unwrap() > 0.0);
}

#[test]
fn fifo_attribution_of_realised_unrealised_and_fees() {
    // Buy 2 @ 100, buy 1 @ 104, sell 2 @ 106; final mid 105; fee 0.1 per fill.
    // FIFO realises (106 − 100) × 2 = 12 (average cost would give (106 − 101.33) × 2 = 9.33);
    // the lot left (1 @ 104) is worth 1 at mid 105.
    let mut log = RunLog { sample_interval_s: 1.0, ..RunLog::default() };
    let fills = [(1.0, FillSide::Buy, 100, 2), (2.0, FillSide::Buy, 104, 1), (3.0, FillSide::Sell, 106, 2)];
    let (mut q, mut cash) = (0i64, 0.0);
    log.samples.push(sample(0.0, 100.0, 0, 0.0));
    for (t, side, price, qty) in fills {
        let mut f = fill(t, side, price, qty, 100.0, true);
        f.fee = 0.1;
        let sign = if side == FillSide::Buy { 1 } else { -1 };
        q += sign * qty as i64;
        cash -= sign as f64 * (price * qty as i64) as f64 + 0.1;
        log.fills.push(f);
        log.samples.push(sample(t + 0.5, 105.0, q, cash));
    }
    let p = compute_metrics(&log, &cfg_ppy(252.0)).unwrap().pnl;
    assert_eq!(p.method, "fifo");
    assert!(close(p.realised, 12.0, 1e-12) && close(p.unrealised, 1.0, 1e-12) && close(p.fees, 0.3, 1e-12));
    assert!(close(p.net_from_fills, 12.7, 1e-12));
    // The samples' mark-to-mid PnL agrees with the fills.
    assert!(p.unexplained.unwrap().abs() < 1e-9, "{:?}", p.unexplained);
    assert!(close(p.total, 12.7, 1e-12));
}

#[test]
fn toy_run_pnl_is_explained_by_its_fills() {
    let m = compute_metrics(&toy_log(9, 3_000, ToyParams::default()), &MetricsConfig::default()).unwrap();
    assert!(m.pnl.unexplained.unwrap().abs() < 1e-6 * (1.0 + m.pnl.total.abs()));
}

#[test]
fn psr_and_dsr_match_hand_computed_values() {
    // PSR(SR = 0.1, SR* = 0, n = 101, γ₃ = 0, γ₄ = 3):
    //   z = 0.1·√100 / √(1 + (3 − 1)/4·0.01) = 1/√1.005 = 0.997509336, Φ(z) = 0.840741328.
    let psr = probabilistic_sharpe_ratio(0.1, 0.0, 101, 0.0, 3.0).unwrap();
    assert!((psr - 0.840_741_327_801_351_8).abs() < 1e-12, "{psr}");
    // PSR(SR = 0.08, SR* = 0.02, n = 250, γ₃ = −1, γ₄ = 6):
    //   √(1 + 0.08 + 5/4·0.0064) = √1.088 = 1.043072385, z = 0.06·√249 / 1.043072385 = 0.907687754,
    //   Φ(z) = 0.817978392.
    let psr = probabilistic_sharpe_ratio(0.08, 0.02, 250, -1.0, 6.0).unwrap();
    assert!((psr - 0.817_978_392_130_133_2).abs() < 1e-12, "{psr}");
    // E[max SR] of 100 trials with V = 0.04: 0.2·((1 − γ)·Φ⁻¹(0.99) + γ·Φ⁻¹(1 − 1/(100e)))
    //   = 0.2·(0.422784·2.326348 + 0.577216·2.680210) = 0.506120579.
    let sr0 = expected_max_sharpe(100, 0.04).unwrap();
    assert!((sr0 - 0.506_120_578_640_337).abs() < 1e-12, "{sr0}");
    assert_eq!(expected_max_sharpe(1, 0.04), Some(0.0));
    assert_eq!(probabilistic_sharpe_ratio(0.1, 0.0, 1, 0.0, 3.0), None);
}

#[test]
fn psr_and_dsr_of_a_run_match_hand_computed_values() {
    // Returns 2, 0, 2, 0, … (16 of them): mean 1, sample sd √(16/15), so SR = √(15/16) = 0.968246
    // per period; population skewness 0 and kurtosis 1 (a two-point law), so the PSR denominator
    // is √(1 + 0·SR²) = 1 and z = SR·√15 = 15/4: PSR = Φ(3.75) = 0.999911583.
    let r: Vec<f64> = (0..16).map(|i| if i % 2 == 0 { 2.0 } else { 0.0 }).collect();
    // One period per year: annualised and per-period Sharpe ratios coincide.
    let trials = TrialStats { count: 100, sharpe_variance: 0.04 };
    let cfg = MetricsConfig { trials: Some(trials), ..cfg_ppy(1.0) };
    let s = compute_metrics(&log_from_returns(&r), &cfg).unwrap().significance;
    assert!((s.psr.unwrap() - 0.999_911_582_714_799_2).abs() < 1e-12, "{:?}", s.psr);
    // DSR: z = (0.968246 − 0.506121)·√15 = 1.789803, Φ(z) = 0.963257241.
    assert!((s.dsr_benchmark_sharpe.unwrap() - 0.506_120_578_640_337).abs() < 1e-12);
    assert!((s.dsr.unwrap() - 0.963_257_241_022_591_5).abs() < 1e-10, "{:?}", s.dsr);
}

#[test]
fn trial_stats_from_sharpes_ignore_non_finite_values() {
    let t = TrialStats::from_sharpes(&[1.0, 3.0, f64::NAN]).unwrap();
    assert_eq!(t.count, 2);
    assert!(close(t.sharpe_variance, 2.0, 1e-12));
    assert_eq!(TrialStats::from_sharpes(&[1.0]), None);
}

/// AR(1) returns with mean `mu`: x_t = mu + e_t, e_t = φ·e_{t−1} + ε_t.
fn ar1(seed: u64, n: usize, mu: f64, phi: f64) -> Vec<f64> {
    let mut rng = seeded_rng(seed);
    let mut e = 0.0;
    (0..n)
        .map(|_| {
            e = phi * e + common::gaussian(&mut rng);
            mu + e
        })
        .collect()
}

#[test]
fn bootstrap_ci_covers_the_true_mean_most_of_the_time() {
    let trials = 200;
    let stats: [Statistic<'_>; 1] = [&mean];
    let mut covered = 0;
    for seed in 0..trials {
        let x = ar1(seed, 300, 0.1, 0.3);
        let cfg = BootstrapConfig { resamples: 300, mean_block_len: None, confidence: 0.95, seed };
        let ci = stationary_bootstrap(&x, &cfg, &stats)[0].expect("defined");
        assert!(ci.lo <= ci.estimate && ci.estimate <= ci.hi);
        covered += usize::from(ci.contains(0.1));
    }
    let coverage = covered as f64 / trials as f64;
    println!("stationary bootstrap 95% CI coverage of the mean of AR(1), φ = 0.3, n = 300: {coverage}");
    // Percentile intervals of dependent data undercover a little; 95% nominal, require ≥ 85%.
    assert!(coverage >= 0.85, "coverage {coverage}");
}

#[test]
fn bootstrap_sharpe_interval_brackets_the_estimate_and_is_reproducible() {
    let log = log_from_returns(&ar1(1, 500, 0.2, 0.0));
    let cfg = cfg_ppy(252.0);
    let a = compute_metrics(&log, &cfg).unwrap();
    let b = compute_metrics(&log, &cfg).unwrap();
    assert_eq!(a, b, "same seed, same metrics (whatever the thread count)");
    let ci = a.significance.bootstrap.unwrap().sharpe.unwrap();
    assert!(ci.lo < ci.estimate && ci.estimate < ci.hi);
    assert_eq!(Some(ci.estimate), a.risk.sharpe);
    // True annualised Sharpe 0.2·√252 = 3.17; the 95% interval of 500 points is about ±1.4·√252/√500.
    assert!(ci.contains(0.2 * 252f64.sqrt()), "{ci:?}");
}

#[test]
fn inventory_statistics_are_time_weighted() {
    // q = 0 for 1 s, 2 for 2 s, then −4 at the last sample (no weight).
    let log = RunLog {
        samples: vec![
            sample(0.0, 100.0, 0, 0.0),
            sample(1.0, 100.0, 2, -200.0),
            sample(3.0, 100.0, -4, 400.0),
        ],
        sample_interval_s: 1.0,
        ..RunLog::default()
    };
    let cfg = MetricsConfig { inventory_limit_lots: Some(2), ..cfg_ppy(252.0) };
    let inv = compute_metrics(&log, &cfg).unwrap().inventory;
    assert!(close(inv.mean_lots.unwrap(), 4.0 / 3.0, 1e-12));
    // Variance: (1·(0 − 4/3)² + 2·(2 − 4/3)²)/3 = 8/9.
    assert!(close(inv.std_lots.unwrap(), (8.0f64 / 9.0).sqrt(), 1e-12));
    assert_eq!((inv.max_abs_lots, inv.final_lots), (4, -4));
    assert!(close(inv.time_at_limit_share.unwrap(), 2.0 / 3.0, 1e-12));
    assert_eq!(inv.inventory_lot_seconds, 4.0);
}

#[test]
fn fill_ratios_maker_share_and_liquidity_adjusted_returns() {
    let mut log = log_from_pnl(&[0.0, 3.0, 6.0]);
    log.orders_sent = 8;
    log.fills =
        vec![fill(0.5, FillSide::Buy, 99, 3, 100.0, true), fill(1.0, FillSide::Sell, 101, 1, 100.0, false)];
    for s in &mut log.samples {
        s.inventory_lots = 2; // PnL is set by hand here; only the inventory path matters.
    }
    let m = compute_metrics(&log, &cfg_ppy(252.0)).unwrap();
    let f = &m.fills;
    assert_eq!((f.count, f.buys, f.sells, f.volume_lots, f.maker_count), (2, 1, 1, 4, 1));
    assert_eq!((f.fill_ratio, f.maker_share, f.maker_volume_share), (Some(0.25), Some(0.5), Some(0.75)));
    assert_eq!(m.liquidity.pnl_per_lot_traded_ticks, Some(1.5));
    // ∫|q|dt = 2 lots × 2 s = 4 lot·s; PnL 6 → 1.5 ticks per lot·second.
    assert_eq!(m.liquidity.pnl_per_inventory_lot_second_ticks, Some(1.5));
    // Maker fill earned 2·(100 − 99) = 2; taker sell 2·(−1)·(100 − 101) = 2.
    assert_eq!(m.execution.maker_effective_spread_ticks, Some(2.0));
    assert_eq!(m.execution.taker_effective_spread_ticks, Some(2.0));
}

#[test]
fn degenerate_logs_give_nulls_and_zeros_never_nan() {
    let one = log_from_pnl(&[5.0]);
    let flat = log_from_pnl(&[1.0; 20]);
    for log in [RunLog::default(), one, flat] {
        let m = compute_metrics(&log, &MetricsConfig::default()).unwrap();
        assert_eq!(m.risk.sharpe, None);
        assert_eq!(m.significance.psr, None);
        assert_eq!(m.fills.fill_ratio, None);
        assert_eq!(m.pnl.total, 0.0);
        assert_eq!(m.drawdown.max_drawdown, 0.0);
        let json = serde_json::to_string(&m).unwrap();
        assert!(!json.contains("NaN") && !json.contains(":-0.0"), "{json}");
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert!(v["risk"]["sharpe"].is_null());
    }
    let m = compute_metrics(&RunLog::default(), &MetricsConfig::default()).unwrap();
    assert_eq!((m.returns.count, m.returns.mean, m.inventory.mean_lots), (0, None, None));
    assert_eq!(m.significance.bootstrap, None);
    assert_eq!(m.pnl.unexplained, None);
}

#[test]
fn invalid_logs_and_configs_are_errors_not_panics() {
    let mut log = log_from_pnl(&[0.0, 1.0, 2.0]);
    log.samples[1].pnl = f64::NAN;
    assert!(matches!(compute_metrics(&log, &MetricsConfig::default()), Err(BacktestError::InvalidLog(_))));
    let mut log = log_from_pnl(&[0.0, 1.0, 2.0]);
    log.samples[2].time_s = 0.5;
    assert!(matches!(compute_metrics(&log, &MetricsConfig::default()), Err(BacktestError::InvalidLog(_))));

    let log = log_from_pnl(&[0.0, 1.0]);
    let bad = [
        MetricsConfig { markout_horizons_s: vec![1.0; 17], ..Default::default() },
        MetricsConfig { markout_horizons_s: vec![-1.0], ..Default::default() },
        MetricsConfig { annualisation: Annualisation::PeriodsPerYear(0.0), ..Default::default() },
        MetricsConfig {
            bootstrap: BootstrapConfig { confidence: 1.0, ..Default::default() },
            ..Default::default()
        },
        MetricsConfig {
            bootstrap: BootstrapConfig { resamples: 100_001, ..Default::default() },
            ..Default::default()
        },
    ];
    for cfg in bad {
        assert!(matches!(compute_metrics(&log, &cfg), Err(BacktestError::InvalidConfig(_))), "{cfg:?}");
    }
    // At the limits: 16 horizons and 100 000 resamples are accepted.
    let edge = MetricsConfig { markout_horizons_s: vec![1.0; 16], ..Default::default() };
    assert!(compute_metrics(&log, &edge).is_ok());
}
