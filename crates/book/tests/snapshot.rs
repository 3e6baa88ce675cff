//! A restored snapshot is the same book: driven side by side with the original through random
//! actions, it returns identical events; snapshots round-trip through the codec; tampered
//! snapshots are refused.

use zkclob_book::{
    Book, BookLimits, BookSnapshot, Event, NewOrder, OrderKind, SnapshotError, SnapshotOrder, StpMode,
    TimeInForce, MAX_SEQ,
};
use zkclob_core::codec::{decode, encode};
use zkclob_core::{AccountId, DetRng, MarketSpec, OrderId, Price, Qty, Side, Timestamp};

fn spec() -> MarketSpec {
    MarketSpec { tick_size: 5, min_price: Price(5), max_qty: Qty(100), ..MarketSpec::example() }
}

fn random_action(rng: &mut DetRng, book: &mut Book, now: &mut u64) -> Vec<Event> {
    let id = OrderId(rng.below(60));
    let account = AccountId(rng.below(4));
    let price = Price(5 * rng.range_i64(16, 24));
    let t = |now: u64| Timestamp(now);
    match rng.below(10) {
        0..=5 => {
            let side = if rng.chance(1, 2) { Side::Buy } else { Side::Sell };
            let qty = 1 + rng.below(15);
            let tif = match rng.below(6) {
                0 => TimeInForce::Ioc,
                1 => TimeInForce::Gtd(Timestamp(*now + 1 + rng.below(20))),
                _ => TimeInForce::Gtc,
            };
            let display = if tif != TimeInForce::Ioc && qty > 3 && rng.chance(1, 5) {
                Some(Qty(1 + rng.below(qty - 1)))
            } else {
                None
            };
            let stp =
                [StpMode::CancelNewest, StpMode::CancelOldest, StpMode::Decrement][rng.below(3) as usize];
            let o = NewOrder {
                id,
                account,
                side,
                kind: OrderKind::Limit,
                price,
                qty: Qty(qty),
                tif,
                post_only: false,
                display_qty: display,
                stp,
            };
            book.place(o, t(*now)).to_vec()
        }
        6 => book.cancel(id, account, t(*now)).to_vec(),
        7 => book.amend(id, account, price, Qty(1 + rng.below(15)), t(*now)).to_vec(),
        8 => book.mass_cancel(account, None, t(*now)).to_vec(),
        _ => {
            *now += rng.below(5);
            book.advance_time(t(*now)).to_vec()
        }
    }
}

#[test]
fn restored_book_behaves_exactly_like_the_original() {
    for seed in 0..40 {
        let mut rng = DetRng::seed_from_u64(seed);
        let mut original = Book::new(spec(), BookLimits::default());
        let mut now = 0;
        for _ in 0..rng.below(300) {
            random_action(&mut rng, &mut original, &mut now);
        }
        let snap = original.snapshot();
        let mut restored =
            Book::restore(spec(), BookLimits::default(), &snap).expect("own snapshot restores");
        restored.check_invariants().unwrap();
        assert_eq!(restored.snapshot(), snap, "seed {seed}: snapshot of the restored book");
        assert_eq!(decode::<BookSnapshot>(&encode(&snap), 1 << 20).unwrap(), snap);
        assert_eq!(written(&original), words(&snap), "seed {seed}: write_words");
        // A book with room reserved behaves the same (reserving changes only the layout).
        restored.reserve(rng.below(500) as usize);
        // Same actions, same events, from here on.
        let (mut r1, mut r2) = (rng.clone(), rng);
        let (mut n1, mut n2) = (now, now);
        for step in 0..300 {
            let a = random_action(&mut r1, &mut original, &mut n1);
            let b = random_action(&mut r2, &mut restored, &mut n2);
            assert_eq!(a, b, "seed {seed} step {step}");
            if step % 50 == 0 {
                assert_eq!(written(&restored), words(&restored.snapshot()), "seed {seed} step {step}");
            }
        }
        assert_eq!(original.snapshot(), restored.snapshot());
    }
}

/// The book's word encoding, written straight from the book.
fn written(b: &Book) -> Vec<u32> {
    let mut out = Vec::new();
    b.write_words(&mut out);
    out
}

/// The word encoding of a snapshot.
fn words(s: &BookSnapshot) -> Vec<u32> {
    let mut out = Vec::new();
    s.write_words(&mut out);
    out
}

#[test]
fn write_words_gives_the_snapshot_encoding_with_every_option() {
    let mut b = Book::new(spec(), BookLimits::default());
    let stps = [StpMode::CancelNewest, StpMode::CancelOldest, StpMode::CancelBoth, StpMode::Decrement];
    for i in 0..24u64 {
        let side = if i % 2 == 0 { Side::Buy } else { Side::Sell };
        let price = if side == Side::Buy { 100 - 5 * (i % 4) as i64 } else { 110 + 5 * (i % 4) as i64 };
        let o = NewOrder {
            post_only: i % 3 == 0,
            stp: stps[(i % 4) as usize],
            display_qty: (i % 5 == 0).then_some(Qty(2)),
            tif: if i % 7 == 0 { TimeInForce::Gtd(Timestamp(1_000 + i)) } else { TimeInForce::Gtc },
            ..NewOrder::limit(OrderId(i), AccountId(i % 5), side, Price(price), Qty(3 + i))
        };
        b.place(o, Timestamp(1));
    }
    assert_eq!(b.order_count(), 24);
    assert_eq!(written(&b), words(&b.snapshot()));
    let mut accounts: Vec<OrderId> = b.account_orders(AccountId(2)).map(|o| o.id).collect();
    assert_eq!(accounts, [2, 7, 12, 17, 22].map(OrderId));
    b.cancel(OrderId(7), AccountId(2), Timestamp(2));
    accounts = b.account_orders(AccountId(2)).map(|o| o.id).collect();
    assert_eq!(accounts, [2, 12, 17, 22].map(OrderId));
    assert_eq!(written(&b), words(&b.snapshot()));
    let empty = Book::new(spec(), BookLimits::default());
    assert_eq!(written(&empty), words(&empty.snapshot()));
    // now, seq, no orders, padding to the block, no accounts.
    let mut expected = vec![0; 16];
    expected.push(0);
    assert_eq!(written(&empty), expected);
}

/// The word layout itself, field by field, on one order with every option set (a change of
/// layout changes every market's commitment leaf, so it must be deliberate).
#[test]
fn word_layout_of_one_order() {
    let o = SnapshotOrder {
        id: OrderId(0x0102_0304_0506_0708),
        account: AccountId(9),
        side: Side::Sell,
        price: Price(-2),
        visible: Qty(3),
        reserve: Qty(1 << 32),
        display: Qty(3),
        expires_at: Timestamp(5),
        seq: 6,
        stp: StpMode::Decrement,
        post_only: true,
    };
    // Flags (sell 1, decrement 3 << 1, post-only 1 << 3) in the top byte of the sequence number.
    assert_eq!(
        o.words(),
        [0x0102_0304, 0x0506_0708, 0, 9, u32::MAX, u32::MAX - 1, 0, 3, 1, 0, 0, 3, 0, 5, 0x0F00_0000, 6]
    );
    let snap = BookSnapshot {
        now: Timestamp(7),
        seq: 8,
        orders: vec![o],
        accounts: vec![(AccountId(9), vec![OrderId(0x0102_0304_0506_0708)])],
    };
    let mut expected = vec![0, 7, 0, 8, 1];
    expected.resize(16, 0);
    expected.extend_from_slice(&o.words());
    expected.extend_from_slice(&[1, 0, 9, 1, 0x0102_0304, 0x0506_0708]);
    assert_eq!(words(&snap), expected);
}

fn sample() -> (BookSnapshot, Book) {
    let mut b = Book::new(spec(), BookLimits::default());
    for i in 0..12u64 {
        let side = if i % 2 == 0 { Side::Buy } else { Side::Sell };
        let price = if side == Side::Buy { 100 - 5 * (i % 3) as i64 } else { 110 + 5 * (i % 3) as i64 };
        let o = NewOrder::limit(OrderId(i), AccountId(i % 3), side, Price(price), Qty(1 + i));
        b.place(o, Timestamp(1));
    }
    assert_eq!(b.order_count(), 12);
    (b.snapshot(), b)
}

#[test]
fn tampered_snapshots_are_refused() {
    let (snap, _) = sample();
    let restore = |s: &BookSnapshot| Book::restore(spec(), BookLimits::default(), s).map(|_| ());
    let mut s = snap.clone();
    s.orders.swap(0, 1);
    assert!(restore(&s).is_err(), "priority order");
    let mut s = snap.clone();
    s.orders[0].visible = Qty(0);
    assert_eq!(restore(&s), Err(SnapshotError::InvalidOrder));
    let mut s = snap.clone();
    s.orders[0].price = Price(101);
    assert_eq!(restore(&s), Err(SnapshotError::InvalidOrder), "off tick");
    let mut s = snap.clone();
    s.orders[1].id = s.orders[0].id;
    assert!(restore(&s).is_err(), "duplicate id");
    let mut s = snap.clone();
    s.accounts[0].1.pop();
    assert!(restore(&s).is_err(), "order missing from its account list");
    let mut s = snap.clone();
    s.orders[0].account = AccountId(77);
    assert_eq!(restore(&s), Err(SnapshotError::Inconsistent), "account list names a foreign order");
    let mut s = snap.clone();
    s.orders[0].seq = s.seq + 1;
    assert_eq!(restore(&s), Err(SnapshotError::InvalidOrder), "sequence from the future");
    // The top byte of a sequence number carries an order's flags in the word encoding.
    let mut s = snap.clone();
    s.seq = MAX_SEQ;
    assert_eq!(restore(&s), Err(SnapshotError::SeqOutOfRange), "sequence counter out of range");
    s.seq = MAX_SEQ - 1;
    assert_eq!(restore(&s), Ok(()), "the largest sequence counter");
    let tight = BookLimits { max_orders: 2, ..BookLimits::default() };
    assert_eq!(
        Book::restore(spec(), tight, &snap).map(|_| ()),
        Err(SnapshotError::InvalidOrder),
        "over the limits"
    );
}

/// Found by fuzzing `ExchangeState::restore`: a snapshot whose market spec has a zero tick size
/// must be refused, not divide by zero while its orders are checked.
#[test]
fn a_snapshot_of_an_invalid_spec_is_refused() {
    let (snap, _) = sample();
    for bad in [
        MarketSpec { tick_size: 0, ..spec() },
        MarketSpec { lot_size: 0, ..spec() },
        MarketSpec { min_price: Price(10), max_price: Price(5), ..spec() },
    ] {
        assert_eq!(
            Book::restore(bad, BookLimits::default(), &snap).err(),
            Some(zkclob_book::SnapshotError::InvalidSpec)
        );
    }
}
