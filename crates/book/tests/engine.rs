//! Behaviour of each order type, amendment, cancellation, self-trade prevention, bad input and
//! limits, one test per rule.

use zkclob_book::{
    Book, BookLimits, CancelReason, Event, Fill, NewOrder, OrderKind, RejectReason, StpMode, TimeInForce,
};
use zkclob_core::{AccountId, MarketSpec, OrderId, Price, PriceError, Qty, QtyError, Side, Timestamp};

const T0: Timestamp = Timestamp(1_000);

fn spec() -> MarketSpec {
    MarketSpec { tick_size: 5, lot_size: 1, min_qty: Qty(1), max_qty: Qty(1_000), ..MarketSpec::example() }
}

fn book() -> Book {
    Book::new(spec(), BookLimits::default())
}

fn limit(id: u64, acct: u64, side: Side, price: i64, qty: u64) -> NewOrder {
    NewOrder::limit(OrderId(id), AccountId(acct), side, Price(price), Qty(qty))
}

fn fills(events: &[Event]) -> Vec<Fill> {
    events.iter().filter_map(|e| if let Event::Fill(f) = e { Some(*f) } else { None }).collect()
}

fn reject_reason(events: &[Event]) -> Option<RejectReason> {
    events.iter().find_map(|e| if let Event::Rejected { reason, .. } = e { Some(*reason) } else { None })
}

/// Everything observable about the book, to show an action changed nothing.
fn fingerprint(b: &Book) -> (Vec<zkclob_book::OrderView>, Vec<zkclob_book::OrderView>, usize) {
    (b.orders(Side::Buy).collect(), b.orders(Side::Sell).collect(), b.order_count())
}

fn place(b: &mut Book, o: NewOrder) -> Vec<Event> {
    let ev = b.place(o, T0).to_vec();
    b.check_invariants().expect("invariants");
    ev
}

#[test]
fn crossing_limit_trades_at_maker_price_and_rest_rests() {
    let mut b = book();
    place(&mut b, limit(1, 1, Side::Sell, 100, 5));
    let ev = place(&mut b, limit(2, 2, Side::Buy, 110, 8));
    let f = fills(&ev);
    assert_eq!(f.len(), 1);
    assert_eq!(
        (f[0].price, f[0].qty, f[0].maker_order, f[0].taker_order),
        (Price(100), Qty(5), OrderId(1), OrderId(2))
    );
    assert_eq!(f[0].maker_remaining, Qty(0));
    assert_eq!(ev.last(), Some(&Event::Done { order_id: OrderId(2), filled: Qty(5), resting: Qty(3) }));
    assert_eq!(b.best_bid().map(|l| (l.price, l.qty)), Some((Price(110), Qty(3))));
    assert!(b.best_ask().is_none());
}

#[test]
fn orders_at_one_price_fill_in_arrival_order() {
    let mut b = book();
    for id in 1..=3 {
        place(&mut b, limit(id, id, Side::Buy, 100, 2));
    }
    let ev = place(&mut b, limit(9, 9, Side::Sell, 100, 5));
    let makers: Vec<_> = fills(&ev).iter().map(|f| (f.maker_order.0, f.qty.0)).collect();
    assert_eq!(makers, [(1, 2), (2, 2), (3, 1)]);
}

#[test]
fn better_prices_fill_first_across_levels() {
    let mut b = book();
    place(&mut b, limit(1, 1, Side::Sell, 105, 1));
    place(&mut b, limit(2, 1, Side::Sell, 100, 1));
    place(&mut b, limit(3, 1, Side::Sell, 110, 1));
    let ev = place(&mut b, limit(4, 2, Side::Buy, 105, 5));
    let prices: Vec<_> = fills(&ev).iter().map(|f| f.price.0).collect();
    assert_eq!(prices, [100, 105]);
    assert_eq!(b.best_ask().unwrap().price, Price(110));
    assert_eq!(b.best_bid().unwrap().price, Price(105));
}

#[test]
fn ioc_remainder_is_cancelled_not_rested() {
    let mut b = book();
    place(&mut b, limit(1, 1, Side::Sell, 100, 2));
    let ev = place(&mut b, limit(2, 2, Side::Buy, 100, 5).with_tif(TimeInForce::Ioc));
    assert_eq!(fills(&ev).len(), 1);
    assert!(ev.contains(&Event::Cancelled {
        order_id: OrderId(2),
        account: AccountId(2),
        side: Side::Buy,
        price: Price(100),
        cancelled: Qty(3),
        remaining: Qty(0),
        reason: CancelReason::ImmediateOrCancel
    }));
    assert_eq!(b.order_count(), 0);
}

#[test]
fn fok_fills_completely_or_changes_nothing() {
    let mut b = book();
    place(&mut b, limit(1, 1, Side::Sell, 100, 2));
    place(&mut b, limit(2, 1, Side::Sell, 105, 2));
    let before = fingerprint(&b);
    let ev = place(&mut b, limit(3, 2, Side::Buy, 105, 5).with_tif(TimeInForce::Fok));
    assert!(fills(&ev).is_empty());
    assert!(ev.iter().any(|e| matches!(e, Event::Cancelled { reason: CancelReason::FillOrKill, .. })));
    assert_eq!(fingerprint(&b), before);
    let ev = place(&mut b, limit(4, 2, Side::Buy, 105, 4).with_tif(TimeInForce::Fok));
    assert_eq!(fills(&ev).iter().map(|f| f.qty.0).sum::<u64>(), 4);
    assert_eq!(b.order_count(), 0);
}

#[test]
fn fok_counts_iceberg_reserve() {
    let mut b = book();
    place(&mut b, NewOrder { display_qty: Some(Qty(2)), ..limit(1, 1, Side::Sell, 100, 10) });
    let ev = place(&mut b, limit(2, 2, Side::Buy, 100, 9).with_tif(TimeInForce::Fok));
    assert_eq!(fills(&ev).iter().map(|f| f.qty.0).sum::<u64>(), 9);
}

#[test]
fn post_only_is_rejected_when_it_would_take_and_rests_otherwise() {
    let mut b = book();
    place(&mut b, limit(1, 1, Side::Sell, 100, 2));
    let before = fingerprint(&b);
    let ev = place(&mut b, NewOrder { post_only: true, ..limit(2, 2, Side::Buy, 100, 1) });
    assert_eq!(reject_reason(&ev), Some(RejectReason::WouldTake));
    assert_eq!(fingerprint(&b), before);
    let ev = place(&mut b, NewOrder { post_only: true, ..limit(3, 2, Side::Buy, 95, 1) });
    assert_eq!(ev.last(), Some(&Event::Done { order_id: OrderId(3), filled: Qty(0), resting: Qty(1) }));
}

#[test]
fn market_order_stops_at_its_protection_price() {
    let mut b = book();
    place(&mut b, limit(1, 1, Side::Sell, 100, 1));
    place(&mut b, limit(2, 1, Side::Sell, 120, 1));
    let ev = place(&mut b, NewOrder::market(OrderId(3), AccountId(2), Side::Buy, Price(110), Qty(5)));
    assert_eq!(fills(&ev).iter().map(|f| f.price.0).collect::<Vec<_>>(), [100]);
    assert!(ev.iter().any(|e| matches!(e, Event::Cancelled { cancelled: Qty(4), .. })));
    assert_eq!(b.best_ask().unwrap().price, Price(120));
    assert!(b.best_bid().is_none(), "a market order never rests");
}

#[test]
fn market_order_that_could_rest_is_an_invalid_combination() {
    let mut b = book();
    let o = NewOrder { kind: OrderKind::Market, ..limit(1, 1, Side::Buy, 100, 1) };
    assert_eq!(reject_reason(&place(&mut b, o)), Some(RejectReason::InvalidCombination));
    let o = NewOrder { post_only: true, ..limit(2, 1, Side::Buy, 100, 1).with_tif(TimeInForce::Ioc) };
    assert_eq!(reject_reason(&place(&mut b, o)), Some(RejectReason::InvalidCombination));
}

#[test]
fn gtd_order_expires_at_its_timestamp_and_never_trades_after() {
    let mut b = book();
    let gtd = limit(1, 1, Side::Sell, 100, 3).with_tif(TimeInForce::Gtd(Timestamp(2_000)));
    place(&mut b, gtd);
    assert_eq!(b.advance_time(Timestamp(1_999)).len(), 0);
    assert_eq!(b.order_count(), 1);
    let ev = b.place(limit(2, 2, Side::Buy, 100, 3), Timestamp(2_000)).to_vec();
    assert_eq!(
        ev[0],
        Event::Expired {
            order_id: OrderId(1),
            account: AccountId(1),
            side: Side::Sell,
            price: Price(100),
            remaining: Qty(3)
        }
    );
    assert!(fills(&ev).is_empty());
    b.check_invariants().unwrap();
}

#[test]
fn gtd_in_the_past_is_rejected() {
    let mut b = book();
    b.advance_time(Timestamp(5_000));
    let ev = b.place(
        limit(1, 1, Side::Sell, 100, 3).with_tif(TimeInForce::Gtd(Timestamp(5_000))),
        Timestamp(5_000),
    );
    assert_eq!(reject_reason(ev), Some(RejectReason::AlreadyExpired));
}

#[test]
fn time_never_goes_backwards() {
    let mut b = book();
    b.place(limit(1, 1, Side::Sell, 100, 3).with_tif(TimeInForce::Gtd(Timestamp(2_000))), T0);
    b.advance_time(Timestamp(3_000));
    assert_eq!(b.now(), Timestamp(3_000));
    b.advance_time(Timestamp(10));
    assert_eq!(b.now(), Timestamp(3_000));
    assert_eq!(b.order_count(), 0);
}

#[test]
fn iceberg_shows_its_slice_and_refills_to_the_back() {
    let mut b = book();
    place(&mut b, NewOrder { display_qty: Some(Qty(2)), ..limit(1, 1, Side::Sell, 100, 5) });
    place(&mut b, limit(2, 2, Side::Sell, 100, 1));
    assert_eq!(b.best_ask().unwrap().qty, Qty(3), "reserve is hidden");
    // Takes the iceberg's slice (2), then order 2 (1) because the refill went behind it.
    let ev = place(&mut b, limit(3, 3, Side::Buy, 100, 3));
    let makers: Vec<_> = fills(&ev).iter().map(|f| (f.maker_order.0, f.qty.0)).collect();
    assert_eq!(makers, [(1, 2), (2, 1)]);
    let iceberg = b.order(OrderId(1)).unwrap();
    assert_eq!((iceberg.visible, iceberg.reserve), (Qty(2), Qty(1)));
    // A big taker goes through every refill.
    let ev = place(&mut b, limit(4, 3, Side::Buy, 100, 10));
    assert_eq!(fills(&ev).iter().map(|f| f.qty.0).collect::<Vec<_>>(), [2, 1]);
    assert!(b.order(OrderId(1)).is_none());
}

#[test]
fn iceberg_display_must_be_a_proper_slice() {
    let mut b = book();
    for d in [0, 5, 6] {
        let o = NewOrder { display_qty: Some(Qty(d)), ..limit(1, 1, Side::Sell, 100, 5) };
        assert_eq!(reject_reason(&place(&mut b, o)), Some(RejectReason::InvalidDisplayQty), "display {d}");
    }
    let ioc =
        NewOrder { display_qty: Some(Qty(1)), ..limit(1, 1, Side::Sell, 100, 5).with_tif(TimeInForce::Ioc) };
    assert_eq!(reject_reason(&place(&mut b, ioc)), Some(RejectReason::InvalidCombination));
}

#[test]
fn cancel_removes_the_order_and_reports_its_size() {
    let mut b = book();
    place(&mut b, limit(1, 1, Side::Buy, 100, 4));
    let ev = b.cancel(OrderId(1), AccountId(1), T0).to_vec();
    assert_eq!(
        ev,
        [Event::Cancelled {
            order_id: OrderId(1),
            account: AccountId(1),
            side: Side::Buy,
            price: Price(100),
            cancelled: Qty(4),
            remaining: Qty(0),
            reason: CancelReason::UserRequested
        }]
    );
    assert_eq!(b.order_count(), 0);
    assert_eq!(b.level_count(Side::Buy), 0);
}

#[test]
fn cancel_of_unknown_or_foreign_order_is_rejected_and_changes_nothing() {
    let mut b = book();
    place(&mut b, limit(1, 1, Side::Buy, 100, 4));
    let before = fingerprint(&b);
    assert_eq!(reject_reason(b.cancel(OrderId(2), AccountId(1), T0)), Some(RejectReason::UnknownOrder));
    assert_eq!(reject_reason(b.cancel(OrderId(1), AccountId(2), T0)), Some(RejectReason::NotOwner));
    let ev = b.amend(OrderId(1), AccountId(2), Price(100), Qty(1), T0).to_vec();
    assert_eq!(reject_reason(&ev), Some(RejectReason::NotOwner));
    assert_eq!(fingerprint(&b), before);
}

#[test]
fn amend_decrease_keeps_priority() {
    let mut b = book();
    place(&mut b, limit(1, 1, Side::Buy, 100, 5));
    place(&mut b, limit(2, 2, Side::Buy, 100, 5));
    let ev = b.amend(OrderId(1), AccountId(1), Price(100), Qty(2), T0).to_vec();
    assert_eq!(
        ev,
        [Event::Amended { order_id: OrderId(1), price: Price(100), qty: Qty(2), priority_kept: true }]
    );
    b.check_invariants().unwrap();
    let ev = place(&mut b, limit(3, 3, Side::Sell, 100, 1));
    assert_eq!(fills(&ev)[0].maker_order, OrderId(1));
}

#[test]
fn amend_increase_loses_priority() {
    let mut b = book();
    place(&mut b, limit(1, 1, Side::Buy, 100, 5));
    place(&mut b, limit(2, 2, Side::Buy, 100, 5));
    let ev = b.amend(OrderId(1), AccountId(1), Price(100), Qty(6), T0).to_vec();
    assert!(ev.contains(&Event::Amended {
        order_id: OrderId(1),
        price: Price(100),
        qty: Qty(6),
        priority_kept: false
    }));
    b.check_invariants().unwrap();
    let ev = place(&mut b, limit(3, 3, Side::Sell, 100, 1));
    assert_eq!(fills(&ev)[0].maker_order, OrderId(2));
}

#[test]
fn amend_price_that_crosses_trades_like_a_new_order() {
    let mut b = book();
    place(&mut b, limit(1, 1, Side::Sell, 105, 2));
    place(&mut b, limit(2, 2, Side::Buy, 100, 5));
    let ev = b.amend(OrderId(2), AccountId(2), Price(105), Qty(5), T0).to_vec();
    assert_eq!(fills(&ev).len(), 1);
    assert_eq!(ev.last(), Some(&Event::Done { order_id: OrderId(2), filled: Qty(2), resting: Qty(3) }));
    assert_eq!(b.best_bid().map(|l| (l.price, l.qty)), Some((Price(105), Qty(3))));
    b.check_invariants().unwrap();
}

#[test]
fn amend_post_only_across_the_spread_is_rejected_and_keeps_the_order() {
    let mut b = book();
    place(&mut b, limit(1, 1, Side::Sell, 105, 2));
    place(&mut b, NewOrder { post_only: true, ..limit(2, 2, Side::Buy, 100, 5) });
    let before = fingerprint(&b);
    let ev = b.amend(OrderId(2), AccountId(2), Price(105), Qty(5), T0).to_vec();
    assert_eq!(reject_reason(&ev), Some(RejectReason::WouldTake));
    assert_eq!(fingerprint(&b), before);
}

#[test]
fn amend_without_change_or_with_bad_values_is_rejected() {
    let mut b = book();
    place(&mut b, limit(1, 1, Side::Buy, 100, 5));
    let before = fingerprint(&b);
    let r =
        |b: &mut Book, p: i64, q: u64| reject_reason(b.amend(OrderId(1), AccountId(1), Price(p), Qty(q), T0));
    assert_eq!(r(&mut b, 100, 5), Some(RejectReason::NoChange));
    assert_eq!(r(&mut b, 100, 0), Some(RejectReason::Qty(QtyError::Zero)));
    assert!(matches!(r(&mut b, 101, 5), Some(RejectReason::Price(PriceError::OffTick { .. }))));
    assert!(matches!(r(&mut b, 100, 1_001), Some(RejectReason::Qty(QtyError::AboveMax { .. }))));
    assert_eq!(
        reject_reason(b.amend(OrderId(7), AccountId(1), Price(100), Qty(1), T0)),
        Some(RejectReason::UnknownOrder)
    );
    assert_eq!(fingerprint(&b), before);
}

#[test]
fn amend_of_iceberg_takes_reserve_first() {
    let mut b = book();
    place(&mut b, NewOrder { display_qty: Some(Qty(2)), ..limit(1, 1, Side::Sell, 100, 6) });
    b.amend(OrderId(1), AccountId(1), Price(100), Qty(3), T0);
    let o = b.order(OrderId(1)).unwrap();
    assert_eq!((o.visible, o.reserve), (Qty(2), Qty(1)));
    b.amend(OrderId(1), AccountId(1), Price(100), Qty(1), T0);
    let o = b.order(OrderId(1)).unwrap();
    assert_eq!((o.visible, o.reserve), (Qty(1), Qty(0)));
    b.check_invariants().unwrap();
}

#[test]
fn mass_cancel_by_account_and_by_side() {
    let mut b = book();
    place(&mut b, limit(1, 1, Side::Buy, 100, 1));
    place(&mut b, limit(2, 1, Side::Sell, 200, 1));
    place(&mut b, limit(3, 2, Side::Buy, 100, 1));
    place(&mut b, limit(4, 1, Side::Buy, 95, 1));
    let ev = b.mass_cancel(AccountId(1), Some(Side::Buy), T0).to_vec();
    let ids: Vec<_> = ev
        .iter()
        .filter_map(|e| if let Event::Cancelled { order_id, .. } = e { Some(order_id.0) } else { None })
        .collect();
    assert_eq!(ids, [1, 4], "arrival order");
    assert_eq!(b.account_order_count(AccountId(1)), 1);
    let ev = b.mass_cancel(AccountId(1), None, T0).to_vec();
    assert_eq!(ev.len(), 1);
    assert_eq!(b.order_count(), 1);
    assert!(b.mass_cancel(AccountId(42), None, T0).is_empty());
    b.check_invariants().unwrap();
}

fn stp_book() -> Book {
    let mut b = book();
    place(&mut b, limit(1, 1, Side::Sell, 100, 3));
    place(&mut b, limit(2, 2, Side::Sell, 100, 3));
    b
}

#[test]
fn stp_cancel_newest_cancels_the_incoming_rest() {
    let mut b = stp_book();
    let ev = place(&mut b, limit(3, 1, Side::Buy, 100, 5).with_stp(StpMode::CancelNewest));
    assert!(fills(&ev).is_empty());
    assert!(ev.iter().any(|e| matches!(
        e,
        Event::Cancelled { order_id: OrderId(3), cancelled: Qty(5), reason: CancelReason::SelfTrade, .. }
    )));
    assert!(b.order(OrderId(1)).is_some());
    assert!(b.order(OrderId(3)).is_none());
}

#[test]
fn stp_cancel_oldest_cancels_the_resting_order_and_keeps_matching() {
    let mut b = stp_book();
    let ev = place(&mut b, limit(3, 1, Side::Buy, 100, 5).with_stp(StpMode::CancelOldest));
    assert!(ev.iter().any(|e| matches!(
        e,
        Event::Cancelled { order_id: OrderId(1), reason: CancelReason::SelfTrade, .. }
    )));
    assert_eq!(fills(&ev).iter().map(|f| (f.maker_order.0, f.qty.0)).collect::<Vec<_>>(), [(2, 3)]);
    assert_eq!(b.best_bid().map(|l| l.qty), Some(Qty(2)));
}

#[test]
fn stp_cancel_both_cancels_both() {
    let mut b = stp_book();
    let ev = place(&mut b, limit(3, 1, Side::Buy, 100, 5).with_stp(StpMode::CancelBoth));
    assert!(fills(&ev).is_empty());
    assert!(b.order(OrderId(1)).is_none() && b.order(OrderId(3)).is_none());
    assert!(b.order(OrderId(2)).is_some());
}

#[test]
fn stp_decrement_reduces_both_without_trading() {
    let mut b = stp_book();
    let ev = place(&mut b, limit(3, 1, Side::Buy, 100, 5).with_stp(StpMode::Decrement));
    // 3 lots decremented against own order 1, then 2 lots traded with account 2.
    assert_eq!(fills(&ev).iter().map(|f| (f.maker_order.0, f.qty.0)).collect::<Vec<_>>(), [(2, 2)]);
    assert!(b.order(OrderId(1)).is_none());
    assert_eq!(b.order(OrderId(2)).unwrap().visible, Qty(1));
    let ev = place(&mut b, limit(4, 2, Side::Buy, 100, 1).with_stp(StpMode::Decrement));
    assert!(fills(&ev).is_empty(), "decrement against own order 2");
    assert_eq!(b.order_count(), 0);
}

#[test]
fn bad_quantities_and_prices_are_rejected_and_change_nothing() {
    let mut b = book();
    place(&mut b, limit(1, 1, Side::Buy, 100, 5));
    let before = fingerprint(&b);
    let cases = [
        (limit(2, 1, Side::Buy, 100, 0), RejectReason::Qty(QtyError::Zero)),
        (
            limit(2, 1, Side::Buy, 100, 1_001),
            RejectReason::Qty(QtyError::AboveMax { qty_lots: 1_001, max_lots: 1_000 }),
        ),
        (
            limit(2, 1, Side::Buy, 101, 1),
            RejectReason::Price(PriceError::OffTick { price_ticks: 101, tick_size: 5 }),
        ),
        (
            limit(2, 1, Side::Buy, 0, 1),
            RejectReason::Price(PriceError::OutOfBand { price_ticks: 0, min_ticks: 1, max_ticks: 1_000_000 }),
        ),
        (
            limit(2, 1, Side::Buy, 1_000_005, 1),
            RejectReason::Price(PriceError::OutOfBand {
                price_ticks: 1_000_005,
                min_ticks: 1,
                max_ticks: 1_000_000,
            }),
        ),
        (limit(1, 1, Side::Sell, 100, 1), RejectReason::DuplicateOrderId),
    ];
    for (order, reason) in cases {
        let ev = place(&mut b, order);
        assert_eq!(ev, [Event::Rejected { order_id: order.id, reason }], "{order:?}");
        assert_eq!(fingerprint(&b), before);
    }
}

#[test]
fn off_lot_quantity_is_rejected() {
    let mut b = Book::new(MarketSpec { lot_size: 10, min_qty: Qty(10), ..spec() }, BookLimits::default());
    let ev = place(&mut b, limit(1, 1, Side::Buy, 100, 15));
    assert_eq!(reject_reason(&ev), Some(RejectReason::Qty(QtyError::OffLot { qty_lots: 15, lot_size: 10 })));
}

fn limited(max_orders: u32, per_account: u32, levels: u32) -> Book {
    Book::new(
        spec(),
        BookLimits { max_orders, max_orders_per_account: per_account, max_levels_per_side: levels },
    )
}

#[test]
fn book_order_limit_at_and_past_the_edge() {
    let mut b = limited(3, 10, 10);
    for id in 1..=3 {
        assert_eq!(reject_reason(&place(&mut b, limit(id, id, Side::Buy, 100, 1))), None);
    }
    assert_eq!(reject_reason(&place(&mut b, limit(4, 4, Side::Buy, 100, 1))), Some(RejectReason::BookFull));
    // Orders that never rest are not limited.
    let ev = place(&mut b, limit(5, 5, Side::Sell, 100, 1).with_tif(TimeInForce::Ioc));
    assert_eq!(fills(&ev).len(), 1);
    assert_eq!(reject_reason(&place(&mut b, limit(6, 6, Side::Buy, 100, 1))), None);
}

#[test]
fn account_order_limit_at_and_past_the_edge() {
    let mut b = limited(100, 2, 10);
    assert_eq!(reject_reason(&place(&mut b, limit(1, 1, Side::Buy, 100, 1))), None);
    assert_eq!(reject_reason(&place(&mut b, limit(2, 1, Side::Buy, 95, 1))), None);
    assert_eq!(
        reject_reason(&place(&mut b, limit(3, 1, Side::Sell, 200, 1))),
        Some(RejectReason::AccountLimit)
    );
    assert_eq!(reject_reason(&place(&mut b, limit(4, 2, Side::Sell, 200, 1))), None);
    b.cancel(OrderId(1), AccountId(1), T0);
    assert_eq!(reject_reason(&place(&mut b, limit(3, 1, Side::Sell, 205, 1))), None);
}

#[test]
fn level_limit_at_and_past_the_edge() {
    let mut b = limited(100, 100, 2);
    assert_eq!(reject_reason(&place(&mut b, limit(1, 1, Side::Buy, 100, 1))), None);
    assert_eq!(reject_reason(&place(&mut b, limit(2, 1, Side::Buy, 95, 1))), None);
    assert_eq!(reject_reason(&place(&mut b, limit(3, 1, Side::Buy, 90, 1))), Some(RejectReason::LevelLimit));
    // Joining an existing level is fine; so is the other side.
    assert_eq!(reject_reason(&place(&mut b, limit(4, 1, Side::Buy, 95, 1))), None);
    assert_eq!(reject_reason(&place(&mut b, limit(5, 1, Side::Sell, 200, 1))), None);
    // Moving the only order of a level to a new price frees a level first.
    let ev = b.amend(OrderId(1), AccountId(1), Price(85), Qty(1), T0).to_vec();
    assert_eq!(reject_reason(&ev), None);
    let ev = b.amend(OrderId(4), AccountId(1), Price(80), Qty(1), T0).to_vec();
    assert_eq!(reject_reason(&ev), Some(RejectReason::LevelLimit));
    b.check_invariants().unwrap();
}

#[test]
fn depth_and_l3_views_follow_priority() {
    let mut b = book();
    place(&mut b, limit(1, 1, Side::Buy, 100, 1));
    place(&mut b, limit(2, 1, Side::Buy, 105, 2));
    place(&mut b, limit(3, 1, Side::Buy, 100, 3));
    place(&mut b, limit(4, 1, Side::Sell, 110, 4));
    let d = b.depth(Side::Buy, 10);
    assert_eq!(
        d.iter().map(|l| (l.price.0, l.qty.0, l.orders)).collect::<Vec<_>>(),
        [(105, 2, 1), (100, 4, 2)]
    );
    assert_eq!(b.depth(Side::Buy, 1).len(), 1);
    let l3: Vec<_> = b.orders(Side::Buy).map(|o| o.id.0).collect();
    assert_eq!(l3, [2, 1, 3]);
    assert_eq!(b.spread_ticks(), Some(5));
}

/// Events taken by swapping buffers are the action's events, and the book's next action starts
/// from an empty buffer whatever it was handed.
#[test]
fn swapped_out_events_are_the_actions_and_the_next_action_starts_clean() {
    let mut b = book();
    let expected = b.place(limit(1, 1, Side::Sell, 100, 5), Timestamp(1)).to_vec();
    let mut taken = vec![Event::Rejected { order_id: OrderId(99), reason: RejectReason::UnknownOrder }];
    b.swap_events(&mut taken);
    assert_eq!(taken, expected);
    // The book now holds the stale buffer; its next action clears it.
    taken.push(Event::Rejected { order_id: OrderId(98), reason: RejectReason::UnknownOrder });
    b.swap_events(&mut taken);
    let events = b.place(limit(2, 2, Side::Buy, 100, 2), Timestamp(2)).to_vec();
    assert!(!events.iter().any(|e| matches!(e, Event::Rejected { .. })));
    assert_eq!(fills(&events).len(), 1);
}
