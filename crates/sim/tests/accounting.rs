//! Our fills, inventory, cash and fees agree with each other at every sample.

mod common;

use common::{preset, run_glft};
use zkclob_sim::{run, FeeConfig, FillSide, SimConfig, SimOutput};

fn signed(side: FillSide, qty: u64) -> i64 {
    match side {
        FillSide::Buy => qty as i64,
        FillSide::Sell => -(qty as i64),
    }
}

/// Replays the fills up to each sample and compares with the sample's state.
fn check_accounting(out: &SimOutput) {
    assert!(out.log.fills.len() > 20, "too few fills to check: {}", out.log.fills.len());
    assert!(out.log.fills.windows(2).all(|w| w[0].time_s <= w[1].time_s), "fills out of order");
    for s in &out.log.samples {
        let (mut q, mut cash, mut fees) = (0i64, 0.0f64, 0.0f64);
        for f in out.log.fills.iter().take_while(|f| f.time_s <= s.time_s) {
            let d = signed(f.side, f.qty_lots);
            q += d;
            cash -= d as f64 * f.price_ticks as f64 + f.fee;
            fees += f.fee;
        }
        assert_eq!(s.inventory_lots, q, "inventory at {}", s.time_s);
        assert!(
            (s.cash - cash).abs() <= 1e-6 * (1.0 + cash.abs()),
            "cash at {}: {} vs {cash}",
            s.time_s,
            s.cash
        );
        assert!((s.fees - fees).abs() <= 1e-9 * (1.0 + fees.abs()), "fees at {}", s.time_s);
        let pnl = s.cash + s.inventory_lots as f64 * s.mid_ticks;
        assert!((s.pnl - pnl).abs() <= 1e-9 * (1.0 + pnl.abs()), "pnl at {}", s.time_s);
        assert!(s.mid_ticks.is_finite());
    }
    let total: i64 = out.log.fills.iter().map(|f| signed(f.side, f.qty_lots)).sum();
    assert_eq!(out.log.samples.last().map(|s| s.inventory_lots), Some(total));
}

#[test]
fn fills_inventory_cash_and_pnl_agree_at_every_sample() {
    for name in ["default", "flash_crash"] {
        check_accounting(&run_glft(&preset(name, 400.0), 17));
    }
}

#[test]
fn per_lot_fees_rebate_makers_and_charge_takers() {
    let out = run_glft(&preset("default", 300.0), 4);
    let FeeConfig::PerLot { maker_ticks_per_lot, taker_ticks_per_lot } = FeeConfig::default() else {
        panic!("the default fee model is per lot")
    };
    for f in &out.log.fills {
        let rate = if f.maker { maker_ticks_per_lot } else { taker_ticks_per_lot };
        assert_eq!(f.fee, rate * f.qty_lots as f64);
    }
    assert!(out.log.fills.iter().any(|f| f.maker), "a market maker must make");
}

#[test]
fn basis_point_fees_are_a_share_of_notional() {
    let config =
        SimConfig { fees: FeeConfig::Bps { maker_bps: -0.5, taker_bps: 1.5 }, ..preset("default", 300.0) };
    let out = run(&config, zkclob_sim::default_market_maker(&config).expect("maker"), 4, None).expect("run");
    for f in &out.log.fills {
        let bps = if f.maker { -0.5 } else { 1.5 };
        let expected = bps * 1e-4 * f.price_ticks as f64 * f.qty_lots as f64;
        assert!((f.fee - expected).abs() < 1e-9, "{f:?}");
    }
    check_accounting(&out);
}

#[test]
fn our_trades_in_the_tape_match_our_fills() {
    let out = run_glft(&preset("default", 300.0), 8);
    let ours: Vec<_> =
        out.trades.iter().filter(|t| t.ours).map(|t| (t.time_s, t.price_ticks, t.qty_lots)).collect();
    let fills: Vec<_> = out.log.fills.iter().map(|f| (f.time_s, f.price_ticks, f.qty_lots)).collect();
    assert_eq!(ours, fills);
    let volume: u64 = out.trades.iter().map(|t| t.qty_lots).sum();
    assert_eq!(volume, out.stats.volume_lots);
    assert_eq!(out.trades.len() as u64, out.stats.trades);
    // A maker fill of ours is at our price and on the side opposite to the aggressor.
    for f in out.log.fills.iter().filter(|f| f.maker) {
        let t = out.trades.iter().find(|t| t.ours && t.time_s == f.time_s && t.price_ticks == f.price_ticks);
        let t = t.expect("our trade in the tape");
        assert_ne!(t.aggressor, f.side);
    }
}
