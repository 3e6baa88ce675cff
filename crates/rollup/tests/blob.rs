//! Blob packing: golden layout, round trips across blob boundaries, every unpack error, and
//! totality on random field elements and mutated blobs.

use proptest::prelude::*;
use zkclob_rollup::blob::{
    blobs_needed, pack, unpack, Blob, PackError, UnpackError, BYTES_PER_BLOB, MAX_BLOBS_PER_BATCH,
    MAX_PAYLOAD_BYTES, PAYLOAD_BYTES_PER_BLOB,
};

fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 + i / 256 + 1) as u8).collect()
}

/// Unpacking either fails or gives a payload that packs to exactly the input blobs.
fn assert_total(blobs: &[Blob]) {
    if let Ok(bytes) = unpack(blobs) {
        assert_eq!(pack(&bytes).expect("an unpacked payload packs"), blobs);
    }
}

#[test]
fn golden_layout_of_a_short_payload() {
    let blobs = pack(b"\x01\x02\x03").unwrap();
    assert_eq!(blobs.len(), 1);
    let bytes = blobs[0].as_bytes();
    assert_eq!(&bytes[..8], &[0, 1, 0, 1, 0, 0, 0, 3], "zero, version, index, count, length u32 BE");
    assert!(bytes[8..32].iter().all(|&b| b == 0), "reserved");
    assert_eq!(&bytes[32..36], &[0, 1, 2, 3], "first data element: zero byte, then data");
    assert!(bytes[36..].iter().all(|&b| b == 0), "padding");
}

#[test]
fn thirty_one_bytes_fill_one_field_element() {
    let blobs = pack(&payload(32)).unwrap();
    let bytes = blobs[0].as_bytes();
    assert_eq!(&bytes[33..64], &payload(31)[..]);
    assert_eq!(bytes[64], 0);
    assert_eq!(bytes[65], payload(32)[31]);
}

#[test]
fn payloads_at_blob_boundaries_round_trip() {
    for len in [
        0,
        1,
        30,
        31,
        32,
        PAYLOAD_BYTES_PER_BLOB - 1,
        PAYLOAD_BYTES_PER_BLOB,
        PAYLOAD_BYTES_PER_BLOB + 1,
        3 * PAYLOAD_BYTES_PER_BLOB + 17,
    ] {
        let data = payload(len);
        let blobs = pack(&data).unwrap();
        assert_eq!(blobs.len(), blobs_needed(len), "len {len}");
        for (i, blob) in blobs.iter().enumerate() {
            assert_eq!(blob.as_bytes()[2] as usize, i);
            assert_eq!(blob.as_bytes()[3] as usize, blobs.len());
        }
        assert_eq!(unpack(&blobs).unwrap(), data, "len {len}");
    }
}

#[test]
fn the_payload_limit_is_accepted_and_one_more_byte_is_refused() {
    let data = payload(MAX_PAYLOAD_BYTES);
    let blobs = pack(&data).unwrap();
    assert_eq!(blobs.len(), MAX_BLOBS_PER_BATCH);
    assert_eq!(unpack(&blobs).unwrap(), data);
    assert_eq!(
        pack(&payload(MAX_PAYLOAD_BYTES + 1)),
        Err(PackError::TooLarge { len: MAX_PAYLOAD_BYTES + 1, max: MAX_PAYLOAD_BYTES })
    );
}

#[test]
fn blob_from_bytes_checks_the_length() {
    assert!(Blob::from_bytes(&[0; BYTES_PER_BLOB]).is_ok());
    assert_eq!(Blob::from_bytes(&[0; BYTES_PER_BLOB - 1]).unwrap_err().len, BYTES_PER_BLOB - 1);
}

fn three_blobs() -> Vec<Blob> {
    pack(&payload(2 * PAYLOAD_BYTES_PER_BLOB + 100)).unwrap()
}

#[test]
fn missing_reordered_and_extra_blobs_are_refused() {
    let blobs = three_blobs();
    assert_eq!(unpack(&[]), Err(UnpackError::NoBlobs));
    assert!(matches!(
        unpack(&blobs[..2]),
        Err(UnpackError::Inconsistent { blob: 0, count: 3, blobs_given: 2, .. })
    ));
    let swapped = vec![blobs[1].clone(), blobs[0].clone(), blobs[2].clone()];
    assert_eq!(unpack(&swapped), Err(UnpackError::OutOfOrder { blob: 0, index: 1 }));
    let mut extra = blobs.clone();
    extra.push(blobs[2].clone());
    assert!(matches!(unpack(&extra), Err(UnpackError::Inconsistent { blobs_given: 4, .. })));
    let too_many = vec![blobs[0].clone(); MAX_BLOBS_PER_BATCH + 1];
    assert_eq!(unpack(&too_many), Err(UnpackError::TooManyBlobs { count: MAX_BLOBS_PER_BATCH + 1 }));
}

#[test]
fn blobs_of_two_batches_do_not_mix() {
    let a = three_blobs();
    let b = pack(&payload(2 * PAYLOAD_BYTES_PER_BLOB + 5)).unwrap();
    let mixed = vec![a[0].clone(), a[1].clone(), b[2].clone()];
    assert!(matches!(unpack(&mixed), Err(UnpackError::Inconsistent { blob: 2, .. })));
}

#[test]
fn every_header_field_is_checked() {
    let check = |edit: &dyn Fn(&mut [u8; BYTES_PER_BLOB]), expected: UnpackError| {
        let mut blobs = pack(b"abc").unwrap();
        edit(blobs[0].as_bytes_mut());
        assert_eq!(unpack(&blobs), Err(expected));
    };
    check(&|b| b[0] = 0x01, UnpackError::NonCanonicalFieldElement { blob: 0, field_element: 0 });
    check(&|b| b[1] = 2, UnpackError::UnsupportedVersion { blob: 0, version: 2 });
    check(&|b| b[2] = 1, UnpackError::OutOfOrder { blob: 0, index: 1 });
    check(&|b| b[3] = 2, UnpackError::Inconsistent { blob: 0, count: 2, payload_len: 3, blobs_given: 1 });
    check(&|b| b[31] = 1, UnpackError::ReservedNotZero { blob: 0 });
    // A length that needs two blobs, declared in one.
    check(
        &|b| b[4..8].copy_from_slice(&(PAYLOAD_BYTES_PER_BLOB as u32 + 1).to_be_bytes()),
        UnpackError::BadLength { payload_len: PAYLOAD_BYTES_PER_BLOB as u32 + 1, count: 1 },
    );
    check(
        &|b| b[4..8].copy_from_slice(&u32::MAX.to_be_bytes()),
        UnpackError::BadLength { payload_len: u32::MAX, count: 1 },
    );
    // A shorter length leaves the third data byte as non-zero padding.
    check(&|b| b[7] = 2, UnpackError::NonZeroPadding { blob: 0, field_element: 1 });
}

#[test]
fn a_field_element_at_or_above_the_modulus_is_refused() {
    let mut blobs = pack(b"abc").unwrap();
    blobs[0].as_bytes_mut()[32 * 7] = 0x73; // top byte of the BLS modulus
    assert_eq!(unpack(&blobs), Err(UnpackError::NonCanonicalFieldElement { blob: 0, field_element: 7 }));
}

#[test]
fn non_zero_bytes_after_the_payload_are_refused() {
    let mut blobs = pack(b"abc").unwrap();
    blobs[0].as_bytes_mut()[BYTES_PER_BLOB - 1] = 1;
    assert_eq!(unpack(&blobs), Err(UnpackError::NonZeroPadding { blob: 0, field_element: 4095 }));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_payloads_round_trip(data in proptest::collection::vec(any::<u8>(), 0..20_000)) {
        prop_assert_eq!(unpack(&pack(&data).unwrap()).unwrap(), data);
    }

    #[test]
    fn random_field_elements_never_panic(
        header in any::<[u8; 32]>(),
        elements in proptest::collection::vec((0usize..4095, any::<[u8; 32]>()), 0..8),
    ) {
        let mut blob = Blob::zeroed();
        blob.as_bytes_mut()[..32].copy_from_slice(&header);
        for (index, element) in elements {
            let at = 32 * (index + 1);
            blob.as_bytes_mut()[at..at + 32].copy_from_slice(&element);
        }
        assert_total(&[blob]);
    }

    #[test]
    fn headers_close_to_valid_never_panic(
        index in 0u8..3, count in 0u8..4, len in 0u32..(3 * PAYLOAD_BYTES_PER_BLOB as u32), blobs in 1usize..4,
    ) {
        let data = payload(len as usize);
        let mut packed = vec![Blob::zeroed(); blobs];
        let source = pack(&data).unwrap();
        for (i, blob) in packed.iter_mut().enumerate() {
            if let Some(s) = source.get(i) {
                *blob = s.clone();
            }
            blob.as_bytes_mut()[1] = 1;
        }
        packed[0].as_bytes_mut()[2] = index;
        packed[0].as_bytes_mut()[3] = count;
        assert_total(&packed);
    }

    #[test]
    fn mutated_valid_blobs_never_panic(
        len in 0usize..(2 * PAYLOAD_BYTES_PER_BLOB + 10),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4),
        drop_one in any::<bool>(),
    ) {
        let mut blobs = pack(&payload(len)).unwrap();
        for (at, value) in edits {
            let n = blobs.len();
            blobs[at % n].as_bytes_mut()[(at / n) % BYTES_PER_BLOB] = value;
        }
        if drop_one && blobs.len() > 1 {
            blobs.remove(0);
        }
        assert_total(&blobs);
    }
}
