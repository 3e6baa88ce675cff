//! The batch data layer: round trips, limits at the edge and one past, and totality of the
//! decoder on arbitrary and mutated bytes.

mod common;

use proptest::prelude::*;
use zkclob_core::{Amount, AssetId};
use zkclob_rollup::batch_data::{
    decode, encode, DecodeError, EncodeError, HEADER_BYTES, MAGIC, MAX_BATCH_DATA_BYTES, VERSION,
};
use zkclob_state::command::MAX_BATCH_COMMANDS;
use zkclob_state::{Action, Address, Command};

fn deposit(i: usize) -> Command {
    Command::Deposit { to: Address([(i % 256) as u8; 20]), asset: AssetId(1), amount: Amount(i as u128) }
}

/// Decoding either fails or gives a batch that re-encodes to exactly the input.
fn assert_total(bytes: &[u8]) {
    if let Ok((header, commands)) = decode(bytes) {
        assert_eq!(encode(&header, &commands).expect("a decoded batch encodes"), bytes);
    }
}

#[test]
fn empty_single_and_thousand_command_batches_round_trip() {
    for commands in
        [vec![], common::orders(1, 1, 1), common::orders(1_000, 100, 2), common::mixed(1_000, 100, 3)]
    {
        let header = common::header(9);
        let bytes = encode(&header, &commands).unwrap();
        assert_eq!(decode(&bytes).unwrap(), (header, commands));
    }
}

#[test]
fn twenty_thousand_command_batch_round_trips() {
    let commands = common::unsigned_shaped(20_000, 4);
    let bytes = encode(&common::header(1), &commands).unwrap();
    assert_eq!(decode(&bytes).unwrap(), (common::header(1), commands));
}

#[test]
fn golden_header_layout() {
    let bytes = encode(&common::header(0x0102), &[deposit(5)]).unwrap();
    assert_eq!(&bytes[0..4], &MAGIC);
    assert_eq!(bytes[4], VERSION);
    assert_eq!(&bytes[5..13], &[0x02, 0x01, 0, 0, 0, 0, 0, 0]);
    assert_eq!(&bytes[13..21], &common::header(0x0102).timestamp.0.to_le_bytes());
    assert_eq!(&bytes[21..53], &[0xab; 32]);
    assert_eq!(&bytes[53..57], &[1, 0, 0, 0]);
    assert_eq!(bytes[57], 0, "Command::Deposit is variant 0");
    assert_eq!(bytes.len(), HEADER_BYTES + 41);
}

#[test]
fn max_batch_commands_is_accepted_and_one_more_is_refused() {
    let mut commands: Vec<Command> = (0..MAX_BATCH_COMMANDS).map(deposit).collect();
    let bytes = encode(&common::header(1), &commands).unwrap();
    assert_eq!(decode(&bytes).unwrap().1.len(), MAX_BATCH_COMMANDS);

    commands.push(deposit(0));
    assert_eq!(
        encode(&common::header(1), &commands),
        Err(EncodeError::TooManyCommands { count: MAX_BATCH_COMMANDS + 1 })
    );

    let mut bytes = encode(&common::header(1), &[]).unwrap();
    bytes[53..57].copy_from_slice(&(MAX_BATCH_COMMANDS as u32 + 1).to_le_bytes());
    assert_eq!(decode(&bytes), Err(DecodeError::TooManyCommands { count: MAX_BATCH_COMMANDS as u32 + 1 }));
}

#[test]
fn input_over_the_size_limit_is_refused_before_parsing() {
    let mut bytes = vec![0u8; MAX_BATCH_DATA_BYTES];
    // At the limit the decoder parses (and finds no magic); one byte more it does not even look.
    assert_eq!(decode(&bytes), Err(DecodeError::BadMagic([0; 4])));
    bytes.push(0);
    assert_eq!(decode(&bytes), Err(DecodeError::TooLarge { len: MAX_BATCH_DATA_BYTES + 1 }));
}

#[test]
fn bad_magic_version_and_short_header_are_refused() {
    let good = encode(&common::header(1), &[]).unwrap();
    assert_eq!(
        decode(&good[..HEADER_BYTES - 1]),
        Err(DecodeError::TruncatedHeader { len: HEADER_BYTES - 1 })
    );
    assert_eq!(decode(&[]), Err(DecodeError::TruncatedHeader { len: 0 }));
    let mut bad = good.clone();
    bad[0] = b'Z';
    assert_eq!(decode(&bad), Err(DecodeError::BadMagic(*b"Zkcb")));
    let mut bad = good.clone();
    bad[4] = 2;
    assert_eq!(decode(&bad), Err(DecodeError::UnsupportedVersion(2)));
}

#[test]
fn a_count_the_input_cannot_hold_is_refused_without_parsing() {
    let mut bytes = encode(&common::header(1), &[deposit(1)]).unwrap();
    bytes[53..57].copy_from_slice(&1_000u32.to_le_bytes());
    assert_eq!(decode(&bytes), Err(DecodeError::TruncatedCommands { index: 1, count: 1_000 }));
}

#[test]
fn a_signed_command_cut_short_is_truncated() {
    let commands = common::orders(1, 1, 5);
    let bytes = encode(&common::header(1), &commands).unwrap();
    assert_eq!(
        decode(&bytes[..bytes.len() - 10]),
        Err(DecodeError::TruncatedCommands { index: 0, count: 1 })
    );
}

#[test]
fn a_bool_byte_other_than_zero_or_one_is_malformed() {
    let mut w = common::Wallet::new(1);
    let with = |post_only: bool, w: &mut common::Wallet| {
        let mut action = common::limit(0, zkclob_core::Side::Buy, 100, 1);
        if let Action::Place(ref mut o) = action {
            o.post_only = post_only;
        }
        w.nonce = 0;
        encode(&common::header(1), &[w.sign(action)]).unwrap()
    };
    let (a, b) = (with(false, &mut w), with(true, &mut w));
    // The post-only byte is the first difference before the signature.
    let at = (0..a.len()).find(|&i| a[i] != b[i]).unwrap();
    assert_eq!((a[at], b[at]), (0, 1));
    let mut bad = b.clone();
    bad[at] = 2;
    assert_eq!(decode(&bad), Err(DecodeError::MalformedCommand { index: 0 }));
}

#[test]
fn trailing_bytes_are_refused() {
    let mut bytes = encode(&common::header(1), &[deposit(1)]).unwrap();
    bytes.push(0);
    assert_eq!(decode(&bytes), Err(DecodeError::TrailingBytes { count: 1 }));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_commands_round_trip(commands in proptest::collection::vec(common::arb::command(), 0..40), n in any::<u64>()) {
        let header = common::header(n);
        let bytes = encode(&header, &commands).unwrap();
        prop_assert_eq!(decode(&bytes).unwrap(), (header, commands));
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        assert_total(&bytes);
    }

    #[test]
    fn random_bytes_behind_a_valid_header_never_panic(count in 0u32..8, body in proptest::collection::vec(any::<u8>(), 0..1_200)) {
        let mut bytes = encode(&common::header(3), &[]).unwrap();
        bytes[53..57].copy_from_slice(&count.to_le_bytes());
        bytes.extend_from_slice(&body);
        assert_total(&bytes);
    }

    #[test]
    fn mutated_valid_batches_never_panic(
        commands in proptest::collection::vec(common::arb::command(), 1..6),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 1..4),
    ) {
        let mut bytes = encode(&common::header(3), &commands).unwrap();
        for (at, value, kind) in edits {
            let at = at % (bytes.len() + 1);
            match kind {
                0 if at < bytes.len() => bytes[at] = value,
                1 => bytes.insert(at, value),
                _ => bytes.truncate(at),
            }
        }
        assert_total(&bytes);
    }
}
