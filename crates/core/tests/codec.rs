//! The canonical codec: golden vectors fix the byte format; property tests feed random bytes to
//! every decoder (no panic, and anything accepted re-encodes to exactly the same bytes).

use proptest::prelude::*;
use zkclob_core::codec::{decode, encode, CodecError};
use zkclob_core::{
    AccountId, Amount, AssetId, Fx, MarketId, MarketSpec, OrderId, Price, Qty, Side, SignedAmount, Timestamp,
};

#[test]
fn golden_vectors_of_the_core_units() {
    assert_eq!(hex::encode(encode(&Price(-2))), "feffffffffffffff");
    assert_eq!(hex::encode(encode(&Qty(258))), "0201000000000000");
    assert_eq!(hex::encode(encode(&Side::Buy)), "00");
    assert_eq!(hex::encode(encode(&Side::Sell)), "01");
    assert_eq!(hex::encode(encode(&OrderId(1))), "0100000000000000");
    assert_eq!(hex::encode(encode(&MarketId(7))), "07000000");
    assert_eq!(hex::encode(encode(&Amount(1))), "01000000000000000000000000000000");
    assert_eq!(hex::encode(encode(&SignedAmount(-1))), "ffffffffffffffffffffffffffffffff");
    assert_eq!(hex::encode(encode(&Timestamp(0x0102))), "0201000000000000");
    assert_eq!(hex::encode(encode(&Fx::ONE)), "00000000000000000100000000000000");
}

#[test]
fn golden_vector_of_a_market_spec() {
    let spec = MarketSpec::example();
    let expected = concat!(
        "00000000",                         // market_id
        "01000000",                         // base_asset
        "02000000",                         // quote_asset
        "0100000000000000",                 // tick_size
        "0100000000000000",                 // lot_size
        "0100000000000000",                 // min_qty
        "40420f0000000000",                 // max_qty = 1_000_000
        "0100000000000000",                 // min_price
        "40420f0000000000",                 // max_price = 1_000_000
        "e8030000000000000000000000000000", // base_atoms_per_lot = 1000
        "0a000000000000000000000000000000", // quote_atoms_per_tick_lot = 10
    );
    assert_eq!(hex::encode(encode(&spec)), expected);
    assert_eq!(decode::<MarketSpec>(&hex::decode(expected).unwrap(), 1024), Ok(spec));
}

fn any_spec() -> impl Strategy<Value = MarketSpec> {
    (
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        any::<i64>(),
        any::<u64>(),
        any::<[u64; 2]>(),
        any::<[i64; 2]>(),
        any::<[u128; 2]>(),
    )
        .prop_map(|(m, b, q, tick, lot, qty, px, atoms)| MarketSpec {
            market_id: MarketId(m),
            base_asset: AssetId(b),
            quote_asset: AssetId(q),
            tick_size: tick,
            lot_size: lot,
            min_qty: Qty(qty[0]),
            max_qty: Qty(qty[1]),
            min_price: Price(px[0]),
            max_price: Price(px[1]),
            base_atoms_per_lot: atoms[0],
            quote_atoms_per_tick_lot: atoms[1],
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn market_spec_round_trips(spec in any_spec()) {
        prop_assert_eq!(decode::<MarketSpec>(&encode(&spec), 1024), Ok(spec));
    }

    #[test]
    fn random_bytes_never_panic_and_accepted_bytes_are_canonical(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(spec) = decode::<MarketSpec>(&bytes, 1024) {
            prop_assert_eq!(encode(&spec), bytes.clone());
        }
        if let Ok(v) = decode::<(Side, Price, Qty, AccountId)>(&bytes, 1024) {
            prop_assert_eq!(encode(&v), bytes.clone());
        }
        if let Ok(v) = decode::<Vec<Side>>(&bytes, 1024) {
            prop_assert_eq!(encode(&v), bytes.clone());
        }
        if let Ok(fx) = decode::<Fx>(&bytes, 1024) {
            prop_assert_eq!(encode(&fx), bytes);
        }
    }

    #[test]
    fn a_truncated_encoding_is_rejected(spec in any_spec(), cut in 0usize..95) {
        let bytes = encode(&spec);
        prop_assert_eq!(decode::<MarketSpec>(&bytes[..cut.min(bytes.len() - 1)], 1024), Err(CodecError::Truncated));
    }
}

#[test]
fn a_huge_length_prefix_is_not_trusted() {
    // A Vec claiming 2^32-1 elements in 4 bytes must fail without allocating for them.
    assert_eq!(decode::<Vec<u64>>(&[0xff, 0xff, 0xff, 0xff], 1024), Err(CodecError::Truncated));
}
