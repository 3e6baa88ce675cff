//! The background flow is the configured Hawkes process: realised event counts match the
//! stationary rates (I − Γ)⁻¹μ, for the default kernel and for a cross-exciting sum of
//! exponentials.

mod common;

use common::Idle;
use zkclob_sim::{run, FlowConfig, FlowRates, KernelConfig, SimConfig, FLOW_DIMS, FLOW_DIM_NAMES};

fn idle_run(flow: FlowConfig, duration_s: f64, seed: u64) -> [u64; FLOW_DIMS] {
    let config = SimConfig { duration_s, flow, record_trades: false, ..SimConfig::default() };
    run(&config, Box::new(Idle), seed, None).expect("run").stats.flow_events
}

/// Each dimension's count within 5 standard deviations, bounding the variance of a Hawkes count
/// by λT/(1 − ρ)² (ρ the branching ratio).
fn assert_rates(flow: &FlowConfig, counts: [u64; FLOW_DIMS], duration_s: f64) {
    let rates = flow.stationary_rates_per_s().expect("rates");
    let rho = flow.hawkes().expect("model").branching_ratio().expect("radius");
    for i in 0..FLOW_DIMS {
        let expected = rates[i] * duration_s;
        let sd = expected.sqrt() / (1.0 - rho);
        let got = counts[i] as f64;
        assert!(
            (got - expected).abs() < 5.0 * sd,
            "{}: {got} events, expected {expected:.0} ± {sd:.0}",
            FLOW_DIM_NAMES[i]
        );
    }
}

#[test]
fn default_flow_realises_its_stationary_rates() {
    let flow = FlowConfig::default();
    let duration = 3_000.0;
    let counts = idle_run(flow.clone(), duration, 1);
    assert_rates(&flow, counts, duration);
    // Excitation matters: the realised limit rate is well above the baseline.
    assert!(counts[0] as f64 / duration > 1.3 * flow.baseline_per_s.limit_buy);
}

#[test]
fn cross_exciting_sum_of_exponentials_realises_its_stationary_rates() {
    let mut fast = [[0.0; FLOW_DIMS]; FLOW_DIMS];
    let mut slow = [[0.0; FLOW_DIMS]; FLOW_DIMS];
    for i in 0..FLOW_DIMS {
        fast[i][i] = 2.0; // norm 0.2 at β = 10
        slow[i][(i + 1) % FLOW_DIMS] = 0.1; // norm 0.25 at β = 0.4: a ring of cross-excitation
        slow[(i + 3) % FLOW_DIMS][i] = 0.06; // norm 0.15
    }
    let flow = FlowConfig {
        baseline_per_s: FlowRates {
            limit_buy: 6.0,
            limit_sell: 3.0,
            market_buy: 0.5,
            market_sell: 1.5,
            cancel_buy: 2.0,
            cancel_sell: 1.0,
        },
        kernels: vec![
            KernelConfig { decay_per_s: 10.0, alpha_per_s: fast },
            KernelConfig { decay_per_s: 0.4, alpha_per_s: slow },
        ],
        ..FlowConfig::default()
    };
    let rates = flow.stationary_rates_per_s().expect("rates");
    // The cross terms move every rate off μ/(1 − self norm).
    assert!((rates[1] - 3.0 / 0.8).abs() > 1.0);
    let duration = 4_000.0;
    assert_rates(&flow, idle_run(flow.clone(), duration, 2), duration);
}

#[test]
fn a_poisson_flow_has_its_baseline_rates() {
    let flow = FlowConfig {
        kernels: vec![KernelConfig { decay_per_s: 1.0, alpha_per_s: [[0.0; FLOW_DIMS]; FLOW_DIMS] }],
        ..FlowConfig::default()
    };
    let duration = 2_000.0;
    let counts = idle_run(flow.clone(), duration, 3);
    for (i, mu) in flow.baseline_per_s.to_array().iter().enumerate() {
        let expected = mu * duration;
        assert!((counts[i] as f64 - expected).abs() < 5.0 * expected.sqrt(), "{}", FLOW_DIM_NAMES[i]);
    }
}

#[test]
fn stress_multipliers_scale_the_baseline_inside_their_window() {
    // Limits at 10% of their baseline during the second half: the flow counts must drop by the
    // predicted amount (only the baseline is scaled; the excitation follows).
    let duration = 2_000.0;
    let mut config = SimConfig { duration_s: duration, record_trades: false, ..SimConfig::default() };
    config.stress.windows.push(zkclob_sim::StressWindow {
        start_s: 1_000.0,
        end_s: 2_000.0,
        limit_multiplier: 0.1,
        ..Default::default()
    });
    let out = run(&config, Box::new(Idle), 4, None).expect("run");
    let full = config.flow.stationary_rates_per_s().expect("rates");
    let mut cut = config.flow.clone();
    cut.baseline_per_s.limit_buy *= 0.1;
    cut.baseline_per_s.limit_sell *= 0.1;
    let low = cut.stationary_rates_per_s().expect("rates");
    let expected = (full[0] + low[0]) * 1_000.0;
    let got = out.stats.flow_events[0] as f64;
    assert!((got - expected).abs() < 0.06 * expected, "limit_buy {got} vs {expected}");
}
