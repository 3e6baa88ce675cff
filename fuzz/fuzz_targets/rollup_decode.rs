//! The rollup's decoders on arbitrary bytes: batch data and the settlement program's input either
//! reject the bytes or accept exactly their canonical encoding; decompression respects its output
//! limit; derivation of a proposal made of these bytes (as a blob, and as forced commands) never
//! panics and keeps the L1 commands whatever the blob holds.
#![no_main]
use libfuzzer_sys::fuzz_target;
use zkclob_core::Timestamp;
use zkclob_rollup::blob::{Blob, BYTES_PER_BLOB};
use zkclob_rollup::derivation::{derive_batch, Cursor, DepositRecord};
use zkclob_rollup::program::ProgramInput;
use zkclob_rollup::{batch_data, compress};

fuzz_target!(|data: &[u8]| {
    if let Ok((header, commands)) = batch_data::decode(data) {
        assert_eq!(batch_data::encode(&header, &commands).expect("a decoded batch re-encodes"), data);
    }
    if let Ok(out) = compress::decompress(data, 1 << 16) {
        assert!(out.len() <= 1 << 16);
    }
    if let Ok(input) = borsh::from_slice::<ProgramInput>(data) {
        assert_eq!(borsh::to_vec(&input).expect("Vec write"), data);
    }
    // The bytes as a blob (field elements kept canonical: first byte zero), and as forced commands.
    let mut bytes = vec![0u8; BYTES_PER_BLOB];
    for (i, b) in data.iter().enumerate().take(BYTES_PER_BLOB) {
        if i % 32 != 0 {
            bytes[i] = *b;
        }
    }
    let blob = Blob::from_bytes(&bytes).expect("exact length");
    let cursor = Cursor { batch_number: 3, timestamp: Timestamp(5), root: [1; 32] };
    let deposit = DepositRecord { asset_id: 1, atoms: 2, l2_address: [3; 20] };
    let forced: Vec<&[u8]> = data.chunks(97).collect();
    let derived = derive_batch(&cursor, &[blob], &[deposit], &forced);
    assert_eq!(derived.header.batch_number, 4);
    assert_eq!(derived.commands[0], deposit.to_command());
    assert_eq!(derived.forced, forced.len());
    assert!(derived.commands.len() >= 1 + forced.len() - derived.forced_skipped.len());
});
