//! Decoders of the book crate under random input: the canonical encoding of orders and the LOBSTER
//! line parsers never panic, and what they accept is well-formed.

use proptest::prelude::*;
use zkclob_book::lobster::{parse_book_row, parse_message, ParseError};
use zkclob_book::{NewOrder, OrderKind, StpMode, TimeInForce};
use zkclob_core::codec::{decode, encode};
use zkclob_core::{AccountId, OrderId, Price, Qty, Side, Timestamp};

#[test]
fn new_order_golden_vector() {
    let o = NewOrder::limit(OrderId(1), AccountId(2), Side::Sell, Price(3), Qty(4))
        .with_tif(TimeInForce::Gtd(Timestamp(5)));
    let expected = concat!(
        "0100000000000000", // id
        "0200000000000000", // account
        "01",               // side: sell
        "00",               // kind: limit
        "0300000000000000", // price
        "0400000000000000", // qty
        "03",               // tif: Gtd
        "0500000000000000", // expires at
        "00",               // post_only
        "00",               // display_qty: none
        "00",               // stp: cancel newest
    );
    assert_eq!(hex::encode(encode(&o)), expected);
    assert_eq!(decode::<NewOrder>(&hex::decode(expected).unwrap(), 128), Ok(o));
}

fn any_order() -> impl Strategy<Value = NewOrder> {
    (
        any::<u64>(),
        any::<u64>(),
        any::<bool>(),
        any::<bool>(),
        any::<i64>(),
        any::<u64>(),
        0u8..4,
        any::<u64>(),
        any::<bool>(),
        any::<Option<u64>>(),
        0u8..4,
    )
        .prop_map(|(id, acct, sell, market, price, qty, tif, ts, post_only, display, stp)| NewOrder {
            id: OrderId(id),
            account: AccountId(acct),
            side: if sell { Side::Sell } else { Side::Buy },
            kind: if market { OrderKind::Market } else { OrderKind::Limit },
            price: Price(price),
            qty: Qty(qty),
            tif: [TimeInForce::Gtc, TimeInForce::Ioc, TimeInForce::Fok, TimeInForce::Gtd(Timestamp(ts))]
                [tif as usize],
            post_only,
            display_qty: display.map(Qty),
            stp: [StpMode::CancelNewest, StpMode::CancelOldest, StpMode::CancelBoth, StpMode::Decrement]
                [stp as usize],
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn new_order_round_trips(o in any_order()) {
        prop_assert_eq!(decode::<NewOrder>(&encode(&o), 128), Ok(o));
    }

    #[test]
    fn random_bytes_decode_canonically_or_not_at_all(bytes in prop::collection::vec(any::<u8>(), 0..80)) {
        if let Ok(o) = decode::<NewOrder>(&bytes, 128) {
            prop_assert_eq!(encode(&o), bytes);
        }
    }

    #[test]
    fn lobster_parsers_never_panic(line in "[0-9,.\\-]{0,80}|\\PC{0,80}") {
        let _ = parse_message(&line);
        let _ = parse_book_row(&line);
    }

    #[test]
    fn lobster_message_fields_round_trip(secs in 0u64..86_400, nanos in 0u64..1_000_000_000, kind in 1i64..=7, id in any::<u32>(), size in any::<u32>(), price in 1i64..10_000_000_000, buy in any::<bool>()) {
        let line = format!("{secs}.{nanos:09},{kind},{id},{size},{price},{}", if buy { 1 } else { -1 });
        let m = parse_message(&line).unwrap();
        prop_assert_eq!(m.time_ns, secs * 1_000_000_000 + nanos);
        prop_assert_eq!((m.order_id, m.size, m.price), (id as u64, size as u64, price));
        prop_assert_eq!(m.side, if buy { Side::Buy } else { Side::Sell });
    }
}

#[test]
fn overlong_and_oversized_rows_are_rejected() {
    let row = vec!["1"; 4 * 201].join(",");
    assert_eq!(parse_book_row(&row), Err(ParseError::BadLevels), "more than MAX_LEVELS levels");
    let row = vec!["100000"; 4 * 150].join(",");
    assert_eq!(parse_book_row(&row), Err(ParseError::LineTooLong));
    let row = vec!["1"; 4 * 3 + 1].join(",");
    assert_eq!(parse_book_row(&row), Err(ParseError::BadLevels));
}
