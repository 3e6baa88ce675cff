//! Compression: round trips of real batch data, the zip-bomb limit, and totality of the
//! decompressor on arbitrary and mutated streams.

mod common;

use proptest::prelude::*;
use zkclob_rollup::batch_data::{self, MAX_BATCH_DATA_BYTES};
use zkclob_rollup::compress::{compress, decompress, DecompressError};

#[test]
fn batch_data_round_trips_and_shrinks() {
    let data = batch_data::encode(&common::header(1), &common::orders(1_000, 100, 7)).unwrap();
    let packed = compress(&data);
    assert!(packed.len() < data.len() * 3 / 4, "{} -> {}", data.len(), packed.len());
    assert_eq!(decompress(&packed, MAX_BATCH_DATA_BYTES).unwrap(), data);
}

#[test]
fn compression_is_deterministic() {
    let data = batch_data::encode(&common::header(1), &common::mixed(500, 20, 8)).unwrap();
    assert_eq!(compress(&data), compress(&data));
}

#[test]
fn a_tiny_stream_expanding_past_the_limit_is_an_error_not_an_allocation() {
    // 33 MiB of zeros compresses to ~33 KB: a bomb against the 32 MiB batch limit.
    let bomb = compress(&vec![0u8; MAX_BATCH_DATA_BYTES + (1 << 20)]);
    assert!(bomb.len() < 64 * 1024, "{}", bomb.len());
    assert_eq!(
        decompress(&bomb, MAX_BATCH_DATA_BYTES),
        Err(DecompressError::OutputTooLarge { max_bytes: MAX_BATCH_DATA_BYTES })
    );
    // The same stream against a small limit stops early too.
    assert_eq!(decompress(&bomb, 1_000), Err(DecompressError::OutputTooLarge { max_bytes: 1_000 }));
}

#[test]
fn bytes_after_the_stream_are_refused() {
    let mut packed = compress(b"some batch");
    packed.extend_from_slice(&[0, 0]);
    assert_eq!(decompress(&packed, 100), Err(DecompressError::TrailingBytes { count: 2 }));
}

#[test]
fn a_flipped_checksum_byte_is_a_checksum_error() {
    let mut packed = compress(b"some batch data that is long enough to matter");
    let last = packed.len() - 1;
    packed[last] ^= 1;
    assert_eq!(decompress(&packed, 1_000), Err(DecompressError::ChecksumMismatch));
}

#[test]
fn a_cut_stream_is_truncated() {
    let packed = compress(&[5u8; 1_000]);
    assert_eq!(decompress(&packed[..packed.len() - 5], 10_000), Err(DecompressError::Truncated));
}

/// Decompression either fails or returns at most `limit` bytes.
fn assert_total(bytes: &[u8], limit: usize) {
    if let Ok(out) = decompress(bytes, limit) {
        assert!(out.len() <= limit);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    #[test]
    fn round_trips_arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..5_000)) {
        prop_assert_eq!(decompress(&compress(&data), data.len()).unwrap(), data);
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300), limit in 0usize..100_000) {
        assert_total(&bytes, limit);
    }

    #[test]
    fn random_bytes_behind_a_zlib_header_never_panic(body in proptest::collection::vec(any::<u8>(), 0..300)) {
        // 0x78 0xda: the header of a level-9 stream, so the deflate decoder itself is exercised.
        let mut bytes = vec![0x78, 0xda];
        bytes.extend_from_slice(&body);
        assert_total(&bytes, 1 << 20);
    }

    #[test]
    fn mutated_streams_never_panic(
        data in proptest::collection::vec(0u8..4, 1..3_000),
        at in any::<usize>(),
        xor in 1u8..=255,
    ) {
        let mut packed = compress(&data);
        let at = at % packed.len();
        packed[at] ^= xor;
        assert_total(&packed, data.len() + 100);
    }
}
