//! The whole pipeline: batch → blob sidecars → batch, for one, 1,000 and 20,000 commands, and
//! totality of `decode_blobs` on mutated blobs.

mod common;

use proptest::prelude::*;
use zkclob_rollup::batch_data::{self, DecodeError};
use zkclob_rollup::blob::{self, Blob, UnpackError, PAYLOAD_BYTES_PER_BLOB};
use zkclob_rollup::compress::{self, DecompressError};
use zkclob_rollup::evaluation::evaluate_blob_polynomial;
use zkclob_rollup::kzg::compute_kzg_proof;
use zkclob_rollup::pipeline::{decode_blobs, encode_blobs, BatchBlobs, BlobsToBatchError};

/// Decoding either fails or gives a batch whose encoding, compressed and packed, is the input.
/// (Blobs are canonical for the zlib stream they carry; a decoded batch re-compressed by this
/// encoder gives the same blobs when the input came from this encoder, as here.)
fn assert_total(blobs: &[Blob]) {
    if let Ok((header, commands)) = decode_blobs(blobs) {
        let data = batch_data::encode(&header, &commands).unwrap();
        let payload = blob::unpack(blobs).unwrap();
        assert_eq!(compress::decompress(&payload, usize::MAX).unwrap(), data);
    }
}

#[test]
fn one_command_round_trips_in_one_verified_blob() {
    let commands = common::orders(1, 1, 1);
    let batch = BatchBlobs::from_batch(&common::header(1), &commands).unwrap();
    assert_eq!(batch.sidecars.len(), 1);
    for sidecar in &batch.sidecars {
        sidecar.verify().unwrap();
    }
    assert_eq!(BatchBlobs::decode(&batch.blobs()).unwrap(), (common::header(1), commands));
}

#[test]
fn a_thousand_signed_orders_fit_in_one_blob() {
    let commands = common::orders(1_000, 100, 2);
    let batch = BatchBlobs::from_batch(&common::header(2), &commands).unwrap();
    assert_eq!(batch.sidecars.len(), 1);
    assert_eq!(batch.versioned_hashes().len(), 1);
    assert_eq!(BatchBlobs::decode(&batch.blobs()).unwrap(), (common::header(2), commands));
}

#[test]
fn twenty_thousand_commands_span_several_blobs_and_round_trip() {
    let commands = common::unsigned_shaped(20_000, 3);
    let batch = BatchBlobs::from_batch(&common::header(3), &commands).unwrap();
    assert!(batch.sidecars.len() > 1, "{} blobs", batch.sidecars.len());
    for sidecar in &batch.sidecars {
        sidecar.verify().unwrap();
    }
    let hashes = batch.versioned_hashes();
    assert!(hashes.iter().all(|h| h[0] == 1));
    assert_eq!(BatchBlobs::decode(&batch.blobs()).unwrap(), (common::header(3), commands));
}

#[test]
fn the_guest_evaluation_matches_ckzg_on_a_real_batch_blob() {
    let blobs = encode_blobs(&common::header(4), &common::mixed(300, 10, 4)).unwrap();
    let z = [0x11u8; 32];
    assert_eq!(evaluate_blob_polynomial(&blobs[0], &z).unwrap(), compute_kzg_proof(&blobs[0], &z).unwrap().1);
}

#[test]
fn each_layer_reports_its_own_error() {
    let blobs = encode_blobs(&common::header(5), &common::orders(10, 2, 5)).unwrap();

    let mut bad_layout = blobs.clone();
    bad_layout[0].as_bytes_mut()[1] = 9;
    assert_eq!(
        decode_blobs(&bad_layout),
        Err(BlobsToBatchError::Unpack(UnpackError::UnsupportedVersion { blob: 0, version: 9 }))
    );

    let garbage = blob::pack(b"not a zlib stream").unwrap();
    assert!(matches!(decode_blobs(&garbage), Err(BlobsToBatchError::Decompress(_))));

    let not_a_batch = blob::pack(&compress::compress(b"zlib, but not a batch")).unwrap();
    assert!(matches!(
        decode_blobs(&not_a_batch),
        Err(BlobsToBatchError::Decode(DecodeError::TruncatedHeader { .. }))
    ));

    let bomb = blob::pack(&compress::compress(&vec![0u8; batch_data::MAX_BATCH_DATA_BYTES + 1])).unwrap();
    assert_eq!(bomb.len(), 1);
    assert!(matches!(
        decode_blobs(&bomb),
        Err(BlobsToBatchError::Decompress(DecompressError::OutputTooLarge { .. }))
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_batches_round_trip_through_blobs(
        commands in proptest::collection::vec(common::arb::command(), 0..30), n in any::<u64>(),
    ) {
        let blobs = encode_blobs(&common::header(n), &commands).unwrap();
        prop_assert_eq!(decode_blobs(&blobs).unwrap(), (common::header(n), commands));
    }

    #[test]
    fn mutated_batch_blobs_never_panic(
        seed in 0u64..4,
        edits in proptest::collection::vec((0usize..2_000, any::<u8>()), 1..4),
    ) {
        let mut blobs = encode_blobs(&common::header(6), &common::unsigned_shaped(200, seed)).unwrap();
        for (at, value) in edits {
            // Hit the header and the first data elements, where the compressed stream starts.
            let at = 32 + at * 7 % PAYLOAD_BYTES_PER_BLOB;
            blobs[0].as_bytes_mut()[at] = value;
        }
        assert_total(&blobs);
    }
}
