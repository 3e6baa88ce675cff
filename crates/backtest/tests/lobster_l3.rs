//! L3 replay of the real LOBSTER AAPL sample with our orders in the book: our fills must be exactly
//! those an independent FIFO queue count over the recorded messages predicts, and a GLFT market
//! maker runs over the whole sample with consistent accounting.

mod replay_common;

use std::collections::BTreeMap;

use zkclob_backtest::lobster_l3::{run_lobster_l3, L3Config, L3Error};
use zkclob_book::lobster::{BookRow, Message, MessageKind, CENT};
use zkclob_core::Side;
use zkclob_strategy::models::{GlftAsymptotic, GlftAsymptoticParams};
use zkclob_strategy::pipeline::{MarketMaker, MarketMakerConfig};

/// The independent reference: which of our shares fill, and when, by counting the queue ahead of
/// one order that joins the touch after message `k` — from the recorded orderbook row (the queue
/// ahead is the whole level then) and the recorded messages (what leaves the queue ahead), without
/// the matching engine.
fn reference_fills(
    messages: &[Message],
    rows: &[BookRow],
    side: Side,
    at_s: f64,
    size: u64,
) -> Vec<(usize, u64)> {
    let t0 = messages[0].time_ns;
    let time_s = |m: &Message| (m.time_ns - t0) as f64 * 1e-9;
    let k = messages.iter().position(|m| time_s(m) >= at_s).unwrap();
    let (price, mut ahead) = match side {
        Side::Buy => rows[k].bids[0],
        Side::Sell => rows[k].asks[0],
    };
    // Recorded orders resting at our price when we join: they, and any pre-existing order the
    // file never named, are ahead of us.
    let mut alive: BTreeMap<u64, (Side, i64)> = BTreeMap::new();
    for m in &messages[..=k] {
        match m.kind {
            MessageKind::Submit => {
                alive.insert(m.order_id, (m.side, m.price));
            }
            MessageKind::Delete => {
                alive.remove(&m.order_id);
            }
            _ => {}
        }
    }
    let ahead_ids: Vec<u64> =
        alive.iter().filter(|(_, &(s, p))| s == side && p == price).map(|(&id, _)| id).collect();
    // Ids the file ever submits; any other id is a pre-existing order (ahead of everything).
    let submitted: std::collections::BTreeSet<u64> =
        messages.iter().filter(|m| m.kind == MessageKind::Submit).map(|m| m.order_id).collect();
    let is_ahead = |id: u64| ahead_ids.contains(&id) || !submitted.contains(&id);
    let mut left = size;
    let mut fills = Vec::new();
    for (i, m) in messages.iter().enumerate().skip(k + 1) {
        if left == 0 {
            break;
        }
        // Does the message's price reach ours (at our price, or beyond it on the far side)?
        let reaches = match side {
            Side::Buy => m.price <= price,
            Side::Sell => m.price >= price,
        };
        match m.kind {
            MessageKind::PartialCancel | MessageKind::Delete
                if m.side == side && m.price == price && is_ahead(m.order_id) =>
            {
                ahead = ahead.saturating_sub(m.size);
            }
            // A recorded execution on our side at our price or worse, of a displayed or a hidden
            // order (displayed liquidity, ours included, comes before hidden at a price): the
            // aggressor meets the queue ahead of us first, then us.
            MessageKind::ExecuteVisible | MessageKind::ExecuteHidden if m.side == side && reaches => {
                let to_ahead = ahead.min(m.size);
                ahead -= to_ahead;
                let q = left.min(m.size - to_ahead);
                if q > 0 {
                    left -= q;
                    fills.push((i, q));
                }
            }
            // A recorded limit order on the other side priced through ours: in the recording it
            // rested (nothing recorded was there to trade with), here it meets the queue ahead of
            // us, then us.
            MessageKind::Submit if m.side != side && reaches => {
                let to_ahead = ahead.min(m.size);
                ahead -= to_ahead;
                let q = left.min(m.size - to_ahead);
                if q > 0 {
                    left -= q;
                    fills.push((i, q));
                }
            }
            _ => {}
        }
    }
    fills
}

#[test]
fn inserted_order_fills_respect_fifo_exactly() {
    let (messages, rows) = replay_common::aapl();
    let t0 = messages[0].time_ns;
    let mut checked_fills = 0;
    let last_s = (messages.last().unwrap().time_ns - t0) as f64 * 1e-9;
    let mut scenarios = Vec::new();
    for step in 0..40 {
        let at_s = step as f64 * last_s / 40.0;
        for side in [Side::Buy, Side::Sell] {
            for size in [50, 300, 1_000] {
                scenarios.push((side, at_s, size));
            }
        }
    }
    for (side, at_s, size) in scenarios {
        let mut q = replay_common::JoinOnce::touch(side, at_s, size);
        let out = run_lobster_l3(&messages, &rows, &mut q, &L3Config::default()).unwrap();
        let engine: Vec<(f64, u64)> = out.log.fills.iter().map(|f| (f.time_s, f.qty_lots)).collect();
        let reference: Vec<(f64, u64)> = reference_fills(&messages, &rows, side, at_s, size)
            .into_iter()
            .map(|(i, q)| ((messages[i].time_ns - t0) as f64 * 1e-9, q))
            .collect();
        assert_eq!(engine, reference, "{side:?} at {at_s} s, {size} shares");
        assert!(out.log.fills.iter().all(|f| f.maker), "a joined order only ever fills as maker");
        checked_fills += engine.len();
    }
    assert!(checked_fills >= 100, "the scenarios must actually fill: {checked_fills}");
}

#[test]
fn a_glft_market_maker_runs_over_the_sample_with_consistent_accounting() {
    let (messages, rows) = replay_common::aapl();
    let model = GlftAsymptotic::new(GlftAsymptoticParams {
        sigma_ticks_per_sqrt_s: 2.0,
        a_per_s: 1.0,
        k_per_tick: 0.3,
        max_inventory_lots: 500,
        delta_lots: 100.0,
        ..GlftAsymptoticParams::default()
    })
    .unwrap();
    let mut mm = MarketMaker::new(model, MarketMakerConfig::default()).unwrap();
    let cfg = L3Config { decision_interval_s: 0.05, ..L3Config::default() };
    let out = run_lobster_l3(&messages, &rows, &mut mm, &cfg).unwrap();
    assert_eq!(out.stats.messages, messages.len() as u64);
    assert!(out.stats.decisions > 10);
    assert!(out.stats.orders_sent > 0, "the market maker quoted");
    let inventory: i64 = out
        .log
        .fills
        .iter()
        .map(|f| if f.side == zkclob_sim::FillSide::Buy { f.qty_lots as i64 } else { -(f.qty_lots as i64) })
        .sum();
    let last = out.log.samples.last().unwrap();
    assert_eq!(last.inventory_lots, inventory, "inventory is the sum of fills");
    for s in &out.log.samples {
        assert!((s.pnl - (s.cash + s.inventory_lots as f64 * s.mid_ticks)).abs() < 1e-6);
        if let (Some(b), Some(a)) = (s.our_bid, s.our_ask) {
            assert!(b < a, "our quotes never cross each other");
        }
    }
    let cash: f64 = out
        .log
        .fills
        .iter()
        .map(|f| {
            let signed =
                if f.side == zkclob_sim::FillSide::Buy { f.qty_lots as f64 } else { -(f.qty_lots as f64) };
            -signed * f.price_ticks as f64 - f.fee
        })
        .sum();
    assert!((last.cash - cash).abs() < 1e-6, "cash is the sum of fills and fees");
    assert!(out.log.samples.windows(2).all(|w| w[0].time_s <= w[1].time_s));
    let _ = CENT;
}

#[test]
fn bad_configuration_and_input_are_typed_errors() {
    let (messages, rows) = replay_common::aapl();
    let mut q = replay_common::JoinOnce::touch(Side::Buy, 0.0, 1);
    let bad = L3Config { sample_interval_s: 0.0, ..L3Config::default() };
    assert!(matches!(run_lobster_l3(&messages, &rows, &mut q, &bad), Err(L3Error::Config { .. })));
    let bad = L3Config { entry_latency_s: f64::NAN, ..L3Config::default() };
    assert!(matches!(run_lobster_l3(&messages, &rows, &mut q, &bad), Err(L3Error::Config { .. })));
    assert!(matches!(run_lobster_l3(&[], &[], &mut q, &L3Config::default()), Err(L3Error::Empty)));
    assert!(matches!(
        run_lobster_l3(&messages, &rows[..5], &mut q, &L3Config::default()),
        Err(L3Error::RowCount { .. })
    ));
    let mut reversed = messages[..3].to_vec();
    reversed.swap(0, 2);
    if reversed[0].time_ns > reversed[1].time_ns {
        assert!(matches!(
            run_lobster_l3(&reversed, &rows[..3], &mut q, &L3Config::default()),
            Err(L3Error::TimeReversal { .. })
        ));
    }
}
