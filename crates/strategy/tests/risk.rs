//! Risk controls: PnL accounting, every kill-switch trigger with its recorded reason, the sticky
//! halt, liquidation with price protection, and the bounded audit trail.

mod common;

use common::Rng;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use zkclob_core::Side;
use zkclob_strategy::risk::{
    AuditLog, DecisionKind, HaltReason, LiquidationConfig, PnlTracker, Reason, RiskConfig, RiskMonitor,
};
use zkclob_strategy::{BookLevel, MarketView, StrategyError};

fn monitor(config: RiskConfig) -> (RiskMonitor, AuditLog) {
    (RiskMonitor::new(config).unwrap(), AuditLog::new(1_000))
}

#[test]
fn pnl_identity_holds_over_random_fills_and_marks() {
    let mut pnl = PnlTracker::new(0.1);
    let mut rng = Rng(3);
    let mut volume = 0u64;
    for _ in 0..20_000 {
        let side = if rng.below(2) == 0 { Side::Buy } else { Side::Sell };
        let qty = 1 + rng.below(5);
        let price = 1_000 + rng.below(40) as i64;
        pnl.on_fill(side, price, qty);
        volume += qty;
        let mark = 1_000.0 + rng.below(80) as f64 / 2.0;
        pnl.mark(mark);
        let s = pnl.snapshot();
        let identity = s.cash_tick_lots + s.position_lots as f64 * mark - s.fees_tick_lots;
        assert!((s.total_tick_lots - identity).abs() < 1e-6 * (1.0 + identity.abs()), "{s:?}");
        assert!(
            (s.total_tick_lots - (s.realised_tick_lots + s.unrealised_tick_lots - s.fees_tick_lots)).abs()
                < 1e-6
        );
        assert!(s.drawdown_tick_lots >= 0.0 && s.peak_tick_lots >= s.total_tick_lots);
    }
    assert!((pnl.snapshot().fees_tick_lots - 0.1 * volume as f64).abs() < 1e-6);
}

#[test]
fn a_round_trip_realises_its_price_difference_and_a_flip_reopens_at_the_fill_price() {
    let mut pnl = PnlTracker::new(0.0);
    pnl.on_fill(Side::Buy, 100, 2);
    pnl.on_fill(Side::Buy, 104, 2);
    assert_eq!(pnl.snapshot().avg_entry_ticks, 102.0);
    pnl.on_fill(Side::Sell, 110, 6); // closes 4 at +8 each, opens 2 short at 110
    let s = pnl.snapshot();
    assert_eq!((s.position_lots, s.realised_tick_lots, s.avg_entry_ticks), (-2, 32.0, 110.0));
    pnl.mark(105.0);
    assert_eq!(pnl.snapshot().unrealised_tick_lots, 10.0);
    pnl.on_fill(Side::Buy, 105, 2);
    let s = pnl.snapshot();
    assert_eq!((s.position_lots, s.realised_tick_lots, s.unrealised_tick_lots), (0, 42.0, 0.0));
    pnl.on_fill(Side::Buy, 1, u64::MAX); // absurd size: saturates, no panic
    assert!(pnl.snapshot().total_tick_lots.is_finite());
}

#[test]
fn drawdown_beyond_the_limit_halts_and_the_halt_is_sticky_until_reset() {
    let (mut risk, mut audit) = monitor(RiskConfig { max_drawdown_tick_lots: 50.0, ..Default::default() });
    risk.on_fill(Side::Buy, 100, 10);
    risk.mark(0.0, 110.0, &mut audit); // +100 peak
    risk.mark(1.0, 105.0, &mut audit); // drawdown 50: not beyond
    assert!(risk.halted().is_none());
    risk.mark(2.0, 104.9, &mut audit);
    let halt = risk.halted().unwrap();
    assert_eq!((halt.reason, halt.since_s, halt.mark_ticks), (HaltReason::Drawdown, 2.0, Some(104.9)));
    let d = audit.last().unwrap();
    assert_eq!((d.kind, d.reason), (DecisionKind::Halt, Reason::Halt(HaltReason::Drawdown)));
    assert!((d.detail.value - 51.0).abs() < 1e-9 && d.detail.limit == 50.0);
    risk.mark(3.0, 200.0, &mut audit); // recovery does not clear it
    assert_eq!(risk.halted().unwrap().reason, HaltReason::Drawdown);
    risk.reset(4.0, &mut audit);
    assert!(risk.halted().is_none());
    assert_eq!(audit.last().unwrap().reason, Reason::Reset);
    assert_eq!(risk.pnl().drawdown_tick_lots, 0.0, "the peak is re-based at the reset");
}

#[test]
fn silence_beyond_the_limit_halts_for_stale_data() {
    let (mut risk, mut audit) = monitor(RiskConfig { max_data_silence_s: 2.0, ..Default::default() });
    risk.on_market_data(10.0, &mut audit);
    risk.on_market_data(12.0, &mut audit);
    risk.check_staleness(13.9, &mut audit);
    assert!(risk.halted().is_none());
    risk.check_staleness(14.5, &mut audit);
    assert_eq!(risk.halted().unwrap().reason, HaltReason::StaleData);
    assert!(audit.contains(Reason::Halt(HaltReason::StaleData)));
    let d = audit.last().unwrap();
    assert_eq!((d.detail.value, d.detail.limit), (2.5, 2.0));
}

#[test]
fn too_many_quote_changes_in_a_rolling_second_halt_for_order_rate() {
    let (mut risk, mut audit) = monitor(RiskConfig { max_quote_changes_per_s: 10, ..Default::default() });
    for i in 0..5 {
        assert!(risk.admit_changes(i as f64 * 0.1, 2, &mut audit));
    }
    // 10 changes in [0, 0.4]; at t = 1.05 the first two (t = 0) have left the window.
    assert!(risk.admit_changes(1.05, 2, &mut audit));
    assert!(risk.admit_changes(1.09, 0, &mut audit), "no change, nothing counted");
    assert!(!risk.admit_changes(1.09, 1, &mut audit));
    assert_eq!(risk.halted().unwrap().reason, HaltReason::OrderRate);
    assert_eq!(audit.last().unwrap().detail.value, 11.0);
}

#[test]
fn inventory_beyond_the_hard_limit_halts_for_position() {
    let (mut risk, mut audit) = monitor(RiskConfig::default());
    risk.check_position(0.0, -10, 10, &mut audit);
    assert!(risk.halted().is_none(), "at the limit is allowed");
    risk.check_position(1.0, -11, 10, &mut audit);
    assert_eq!(risk.halted().unwrap().reason, HaltReason::PositionLimit);
    risk.check_position(2.0, i64::MIN, 10, &mut audit);
    assert_eq!(audit.iter().filter(|d| d.kind == DecisionKind::Halt).count(), 1, "first reason stands");
}

fn book(bid: i64, ask: i64) -> ([BookLevel; 1], [BookLevel; 1]) {
    ([BookLevel { price_ticks: bid, qty_lots: 5 }], [BookLevel { price_ticks: ask, qty_lots: 5 }])
}

#[test]
fn liquidation_slices_cross_the_spread_and_stop_at_the_price_protection() {
    let liquidation =
        LiquidationConfig { enabled: true, slice_lots: 3, cross_ticks: 1, max_slippage_ticks: 4.0 };
    let (mut risk, mut audit) = monitor(RiskConfig { liquidation, ..Default::default() });
    let (bids, asks) = book(100, 101);
    let v = MarketView { time_s: 0.0, bids: &bids, asks: &asks, trades: &[], inventory_lots: 7 };
    assert_eq!(risk.liquidation_order(&v, 7), None, "not halted");
    risk.mark(0.0, 100.5, &mut audit);
    risk.halt(0.0, HaltReason::Manual, 0.0, 0.0, &mut audit);
    let (side, order) = risk.liquidation_order(&v, 7).unwrap();
    assert_eq!((side, order.price_ticks, order.qty_lots), (Side::Sell, 99, 3));
    assert_eq!(risk.liquidation_order(&v, 2).unwrap().1.qty_lots, 2, "never more than the inventory");
    let (side, order) = risk.liquidation_order(&v, -7).unwrap();
    assert_eq!((side, order.price_ticks), (Side::Buy, 102));
    // The market collapsed: sell no lower than ⌈100.5 − 4⌉ = 97.
    let (bids, asks) = book(90, 91);
    let crashed = MarketView { bids: &bids, asks: &asks, ..v };
    assert_eq!(risk.liquidation_order(&crashed, 7).unwrap().1.price_ticks, 97);
    assert_eq!(risk.liquidation_order(&crashed, 0), None, "flat: nothing to do");
    let empty = MarketView { bids: &[], ..v };
    assert_eq!(risk.liquidation_order(&empty, 7), None, "no bid to sell into");
}

#[test]
fn liquidation_can_be_disabled() {
    let liquidation = LiquidationConfig { enabled: false, ..Default::default() };
    let (mut risk, mut audit) = monitor(RiskConfig { liquidation, ..Default::default() });
    risk.halt(0.0, HaltReason::Manual, 0.0, 0.0, &mut audit);
    let (bids, asks) = book(100, 101);
    let v = MarketView { time_s: 0.0, bids: &bids, asks: &asks, trades: &[], inventory_lots: 7 };
    assert_eq!(risk.liquidation_order(&v, 7), None);
}

#[test]
fn the_audit_log_is_bounded_and_the_callback_sees_everything() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let mut audit = AuditLog::new(3);
    audit.set_callback(Box::new(move |d| sink.lock().unwrap().push(d.time_s)));
    for i in 0..10 {
        audit.record(i as f64, DecisionKind::Quote, Reason::Quote, 0.0, 0.0);
    }
    assert_eq!((audit.len(), audit.dropped()), (3, 7));
    assert_eq!(audit.iter().map(|d| d.time_s).collect::<Vec<_>>(), [7.0, 8.0, 9.0]);
    assert_eq!(seen.lock().unwrap().len(), 10);
    let mut silent = AuditLog::new(0);
    silent.record(0.0, DecisionKind::Quote, Reason::Quote, 0.0, 0.0);
    assert!(silent.is_empty() && silent.dropped() == 1);
}

#[test]
fn reason_codes_are_unique_and_namespaced() {
    use HaltReason as H;
    let halts = [H::Drawdown, H::StaleData, H::OrderRate, H::PositionLimit, H::Manual];
    let mut all = vec![
        Reason::Quote,
        Reason::QuoteOneSided,
        Reason::NoMarket,
        Reason::BadInput,
        Reason::ModelError,
        Reason::ReduceOneSided,
        Reason::ReducePassive,
        Reason::ReduceAggressive,
        Reason::InventoryWithinSoft,
        Reason::InventoryBeyondSoft,
        Reason::InventoryBeyondPassive,
        Reason::InventoryAtHardLimit,
        Reason::OneSidedTimeout,
        Reason::PassiveTimeout,
        Reason::Reset,
        Reason::SizeBase,
        Reason::SizeLimitRoom,
        Reason::SizeImpactBudget,
        Reason::SizeTouchLiquidity,
        Reason::SizeInventory,
        Reason::RegimeSwitch,
        Reason::RegimeUnknown,
        Reason::CalibrationReady,
    ];
    all.extend(halts.iter().map(|&h| Reason::Halt(h)));
    all.extend(halts.iter().map(|&h| Reason::Liquidate(h)));
    let codes: HashSet<&str> = all.iter().map(|r| r.code()).collect();
    assert_eq!(codes.len(), all.len(), "codes must be unique");
    for h in halts {
        assert!(h.code().starts_with("halt:") && Reason::Liquidate(h).code().starts_with("liquidate:"));
    }
    assert!(codes.iter().all(|c| !c.is_empty() && c.len() <= 32 && c.is_ascii()));
}

#[test]
fn bad_risk_configurations_are_typed_errors_naming_the_field() {
    let bad = [
        ("max_drawdown_tick_lots", RiskConfig { max_drawdown_tick_lots: 0.0, ..Default::default() }),
        ("max_data_silence_s", RiskConfig { max_data_silence_s: f64::NAN, ..Default::default() }),
        ("max_quote_changes_per_s", RiskConfig { max_quote_changes_per_s: 0, ..Default::default() }),
        (
            "liquidation.slice_lots",
            RiskConfig {
                liquidation: LiquidationConfig { slice_lots: 0, ..Default::default() },
                ..Default::default()
            },
        ),
        (
            "liquidation.cross_ticks",
            RiskConfig {
                liquidation: LiquidationConfig { cross_ticks: -1, ..Default::default() },
                ..Default::default()
            },
        ),
    ];
    for (name, config) in bad {
        match RiskMonitor::new(config) {
            Err(StrategyError::InvalidParameter { name: got, .. }) => assert_eq!(got, name),
            other => panic!("{name}: expected InvalidParameter, got {other:?}"),
        }
    }
}
