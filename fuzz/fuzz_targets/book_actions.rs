//! Arbitrary action streams (decoded from the fuzzer's bytes with the canonical codec) never
//! panic the book and never break its invariants.
#![no_main]
use libfuzzer_sys::fuzz_target;
use zkclob_book::{Book, BookLimits, NewOrder};
use zkclob_core::codec::BorshDeserialize;
use zkclob_core::{AccountId, MarketSpec, OrderId, Price, Qty, Side, Timestamp};

fuzz_target!(|data: &[u8]| {
    let spec = MarketSpec { tick_size: 5, min_price: Price(5), max_qty: Qty(100), ..MarketSpec::example() };
    let limits = BookLimits { max_orders: 64, max_orders_per_account: 16, max_levels_per_side: 8 };
    let mut book = Book::new(spec, limits);
    let mut now = 0u64;
    let mut rest = data;
    while let Some((&tag, tail)) = rest.split_first() {
        rest = tail;
        match tag % 5 {
            0 | 1 => {
                // Consume one canonically encoded order from the front of the input.
                let Ok(mut o) = NewOrder::deserialize(&mut rest) else { break };
                // Keep prices and ids in a small range so orders interact.
                o.price = Price(o.price.0.rem_euclid(40) * 5 + 5);
                o.id = OrderId(o.id.0 % 64);
                o.account = AccountId(o.account.0 % 4);
                book.place(o, Timestamp(now));
            }
            2 => {
                let Some((&b, tail)) = rest.split_first() else { break };
                rest = tail;
                book.cancel(OrderId(b as u64 % 64), AccountId((b >> 6) as u64), Timestamp(now));
            }
            3 => {
                let Some((b, tail)) = rest.split_first_chunk::<3>() else { break };
                rest = tail;
                let (id, price, qty) = (b[0] as u64 % 64, (b[1] % 40) as i64 * 5 + 5, b[2] as u64 % 110);
                book.amend(OrderId(id), AccountId(id % 4), Price(price), Qty(qty), Timestamp(now));
            }
            _ => {
                let Some((&b, tail)) = rest.split_first() else { break };
                rest = tail;
                if b & 1 == 0 {
                    now += (b >> 1) as u64;
                    book.advance_time(Timestamp(now));
                } else {
                    let side = [None, Some(Side::Buy), Some(Side::Sell)][(b as usize >> 1) % 3];
                    book.mass_cancel(AccountId((b >> 3) as u64 % 4), side, Timestamp(now));
                }
            }
        }
        if let Err(v) = book.check_invariants() {
            panic!("{v}");
        }
    }
});
