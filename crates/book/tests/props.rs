//! Property tests: random action streams drive the engine and a naive reference book side by
//! side; after every step the events must be identical, the books must hold the same orders in
//! the same priority, and `check_invariants` must pass.

mod reference;

use proptest::prelude::*;
use reference::RefBook;
use zkclob_book::{Book, BookLimits, Event, NewOrder, OrderKind, StpMode, TimeInForce};
use zkclob_core::{AccountId, MarketSpec, OrderId, Price, Qty, Side, Timestamp};

#[derive(Clone, Debug)]
enum Action {
    Place(NewOrder),
    Cancel(u64, u64),
    Amend(u64, u64, i64, u64),
    MassCancel(u64, Option<Side>),
    Advance(u64),
}

fn spec() -> MarketSpec {
    MarketSpec { tick_size: 5, lot_size: 1, min_qty: Qty(1), max_qty: Qty(50), ..MarketSpec::example() }
}

fn side() -> impl Strategy<Value = Side> {
    prop_oneof![Just(Side::Buy), Just(Side::Sell)]
}

fn stp() -> impl Strategy<Value = StpMode> {
    prop_oneof![
        4 => Just(StpMode::CancelNewest),
        1 => Just(StpMode::CancelOldest),
        1 => Just(StpMode::CancelBoth),
        1 => Just(StpMode::Decrement),
    ]
}

fn tif() -> impl Strategy<Value = TimeInForce> {
    prop_oneof![
        6 => Just(TimeInForce::Gtc),
        2 => Just(TimeInForce::Ioc),
        1 => Just(TimeInForce::Fok),
        2 => (0u64..40).prop_map(|t| TimeInForce::Gtd(Timestamp(t))),
    ]
}

/// Prices cluster around 100 (ticks of 5) with an occasional off-tick or out-of-band one; ids come
/// from a small pool so duplicates, unknown ids and foreign orders are common.
fn new_order() -> impl Strategy<Value = NewOrder> {
    (
        0u64..40,
        1u64..4,
        side(),
        prop_oneof![10 => (16i64..25).prop_map(|p| p * 5), 1 => Just(101i64), 1 => Just(0i64)],
        prop_oneof![10 => 1u64..12, 1 => Just(0u64), 1 => Just(51u64)],
        tif(),
        prop::bool::weighted(0.1),
        prop::option::weighted(0.15, 0u64..6),
        prop::bool::weighted(0.1),
        stp(),
    )
        .prop_map(|(id, acct, side, price, qty, tif, post_only, display, market, stp)| NewOrder {
            id: OrderId(id),
            account: AccountId(acct),
            side,
            kind: if market { OrderKind::Market } else { OrderKind::Limit },
            price: Price(price),
            qty: Qty(qty),
            tif,
            post_only,
            display_qty: display.map(Qty),
            stp,
        })
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        10 => new_order().prop_map(Action::Place),
        3 => (0u64..40, 1u64..4).prop_map(|(id, a)| Action::Cancel(id, a)),
        3 => (0u64..40, 1u64..4, (16i64..25).prop_map(|p| p * 5), 0u64..14).prop_map(|(id, a, p, q)| Action::Amend(id, a, p, q)),
        1 => (1u64..4, prop::option::of(side())).prop_map(|(a, s)| Action::MassCancel(a, s)),
        1 => (0u64..4).prop_map(Action::Advance),
    ]
}

type Row = (u64, u64, i64, u64, u64);

fn engine_orders(b: &Book, s: Side) -> Vec<Row> {
    b.orders(s).map(|o| (o.id.0, o.account.0, o.price.0, o.visible.0, o.reserve.0)).collect()
}

fn reference_orders(r: &RefBook, s: Side) -> Vec<Row> {
    r.sorted(s).iter().map(|o| (o.id, o.account, o.price, o.visible, o.reserve)).collect()
}

fn run(actions: Vec<Action>, limits: BookLimits) -> Result<(), TestCaseError> {
    let mut book = Book::new(spec(), limits);
    let mut reference = RefBook::new(spec(), limits);
    let mut now = 0u64;
    for (step, a) in actions.into_iter().enumerate() {
        let t = Timestamp(now);
        let (got, want): (Vec<Event>, Vec<Event>) = match a {
            Action::Place(o) => (book.place(o, t).to_vec(), reference.place(o, t)),
            Action::Cancel(id, acct) => (
                book.cancel(OrderId(id), AccountId(acct), t).to_vec(),
                reference.cancel(OrderId(id), AccountId(acct), t),
            ),
            Action::Amend(id, acct, p, q) => (
                book.amend(OrderId(id), AccountId(acct), Price(p), Qty(q), t).to_vec(),
                reference.amend(OrderId(id), AccountId(acct), Price(p), Qty(q), t),
            ),
            Action::MassCancel(acct, s) => (
                book.mass_cancel(AccountId(acct), s, t).to_vec(),
                reference.mass_cancel(AccountId(acct), s, t),
            ),
            Action::Advance(dt) => {
                now += dt;
                (book.advance_time(Timestamp(now)).to_vec(), reference.advance_time(Timestamp(now)))
            }
        };
        prop_assert_eq!(&got, &want, "events differ at step {}", step);
        if let Err(v) = book.check_invariants() {
            return Err(TestCaseError::fail(format!("step {step}: {v}")));
        }
        for s in [Side::Buy, Side::Sell] {
            prop_assert_eq!(
                engine_orders(&book, s),
                reference_orders(&reference, s),
                "books differ at step {}",
                step
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn engine_matches_reference_and_keeps_invariants(actions in prop::collection::vec(action(), 1..120)) {
        run(actions, BookLimits::default())?;
    }

    #[test]
    fn engine_matches_reference_at_tight_limits(actions in prop::collection::vec(action(), 1..120)) {
        run(actions, BookLimits { max_orders: 12, max_orders_per_account: 5, max_levels_per_side: 3 })?;
    }

    #[test]
    fn quantity_is_conserved_per_order(actions in prop::collection::vec(new_order(), 1..150)) {
        // Every accepted lot ends up filled, cancelled, expired or resting: never lost or invented.
        let mut book = Book::new(spec(), BookLimits::default());
        let mut accepted = 0u64;
        let mut gone = 0u64;
        for (i, o) in actions.into_iter().enumerate() {
            for e in book.place(o, Timestamp(i as u64 / 4)) {
                match *e {
                    Event::Accepted { qty, .. } => accepted += qty.0,
                    // Each fill consumes its quantity from both the taker and the maker.
                    Event::Fill(f) => gone += 2 * f.qty.0,
                    Event::Cancelled { cancelled, .. } => gone += cancelled.0,
                    Event::Expired { remaining, .. } => gone += remaining.0,
                    _ => {}
                }
            }
            let resting: u64 = [Side::Buy, Side::Sell]
                .iter()
                .flat_map(|&s| book.orders(s).map(|o| o.visible.0 + o.reserve.0).collect::<Vec<_>>())
                .sum();
            prop_assert_eq!(accepted, gone + resting);
        }
    }
}
