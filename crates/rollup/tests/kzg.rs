//! KZG through c-kzg, and the pure-Rust blob polynomial evaluation checked against it.

use proptest::prelude::*;
use zkclob_core::DetRng;
use zkclob_rollup::blob::{self, Blob, BYTES_PER_BLOB};
use zkclob_rollup::evaluation::{evaluate_blob_polynomial, versioned_hash, EvalError};
use zkclob_rollup::field::Fr;
use zkclob_rollup::kzg::{
    blob_to_commitment, compute_blob_kzg_proof, compute_kzg_proof, verify_blob_kzg_proof, verify_kzg_proof,
    BlobSidecar, KzgError,
};

/// A blob of random canonical field elements (top byte below the modulus's 0x73).
fn random_blob(seed: u64) -> Blob {
    let mut rng = DetRng::seed_from_u64(seed);
    let mut blob = Blob::zeroed();
    for (i, byte) in blob.as_bytes_mut().iter_mut().enumerate() {
        *byte = rng.next_u64() as u8;
        if i % 32 == 0 {
            *byte &= 0x3f;
        }
    }
    blob
}

fn random_point(seed: u64) -> [u8; 32] {
    let mut rng = DetRng::seed_from_u64(seed ^ 0x5eed);
    let mut z = [0u8; 32];
    for chunk in z.chunks_exact_mut(8) {
        chunk.copy_from_slice(&rng.next_u64().to_be_bytes());
    }
    z[0] &= 0x3f;
    z
}

fn hex32(s: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
    }
    out
}

#[test]
fn commitment_and_blob_proof_verify() {
    let blob = blob::pack(b"a batch").unwrap().remove(0);
    let commitment = blob_to_commitment(&blob).unwrap();
    let proof = compute_blob_kzg_proof(&blob, &commitment).unwrap();
    assert!(verify_blob_kzg_proof(&blob, &commitment, &proof).unwrap());
    BlobSidecar::new(blob).unwrap().verify().unwrap();
}

#[test]
fn a_tampered_blob_fails_verification() {
    let sidecar = BlobSidecar::new(random_blob(1)).unwrap();
    let mut tampered = sidecar.clone();
    tampered.blob.as_bytes_mut()[1000] ^= 1;
    assert!(!verify_blob_kzg_proof(&tampered.blob, &tampered.commitment, &tampered.proof).unwrap());
    assert_eq!(tampered.verify(), Err(KzgError::SidecarMismatch("blob proof")));
    // Another blob's commitment with this blob's proof fails too.
    let other = BlobSidecar::new(random_blob(2)).unwrap();
    assert!(!verify_blob_kzg_proof(&sidecar.blob, &other.commitment, &sidecar.proof).unwrap());
}

#[test]
fn a_mismatched_versioned_hash_fails_sidecar_verification() {
    let mut sidecar = BlobSidecar::new(random_blob(3)).unwrap();
    sidecar.versioned_hash[31] ^= 1;
    assert_eq!(sidecar.verify(), Err(KzgError::SidecarMismatch("versioned hash")));
}

#[test]
fn versioned_hash_of_the_zero_blob_is_the_known_vector() {
    let commitment = blob_to_commitment(&Blob::zeroed()).unwrap();
    let mut infinity = [0u8; 48];
    infinity[0] = 0xc0; // compressed point at infinity
    assert_eq!(commitment, infinity);
    assert_eq!(
        versioned_hash(&commitment),
        hex32("010657f37554c781402a22917dee2f75def7ab966d7b770905398eba3c444014")
    );
}

#[test]
fn versioned_hash_is_version_byte_then_sha256_tail() {
    use sha2::{Digest, Sha256};
    let commitment = blob_to_commitment(&random_blob(4)).unwrap();
    let hash = versioned_hash(&commitment);
    let digest = Sha256::digest(commitment);
    assert_eq!(hash[0], 0x01);
    assert_eq!(hash[1..], digest[1..]);
}

#[test]
fn point_evaluation_proof_verifies_and_a_wrong_y_does_not() {
    let blob = random_blob(5);
    let commitment = blob_to_commitment(&blob).unwrap();
    let z = random_point(5);
    let (proof, y) = compute_kzg_proof(&blob, &z).unwrap();
    assert!(verify_kzg_proof(&commitment, &z, &y, &proof).unwrap());
    let mut wrong_y = y;
    wrong_y[31] ^= 1;
    assert!(!verify_kzg_proof(&commitment, &z, &wrong_y, &proof).unwrap());
}

#[test]
fn non_canonical_inputs_are_errors_for_both_implementations() {
    let blob = random_blob(6);
    let r_bytes = hex32("73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001");
    assert_eq!(evaluate_blob_polynomial(&blob, &r_bytes), Err(EvalError::NonCanonicalPoint));
    assert!(matches!(compute_kzg_proof(&blob, &r_bytes), Err(KzgError::InvalidInput { .. })));

    let mut bad = blob.clone();
    bad.as_bytes_mut()[32 * 9..32 * 10].copy_from_slice(&r_bytes);
    assert_eq!(
        evaluate_blob_polynomial(&bad, &random_point(6)),
        Err(EvalError::NonCanonicalFieldElement { index: 9 })
    );
    assert!(matches!(blob_to_commitment(&bad), Err(KzgError::InvalidInput { .. })));
}

#[test]
fn evaluation_of_a_packed_batch_blob_equals_ckzg() {
    let data: Vec<u8> = (0..100_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    for blob in blob::pack(&data).unwrap() {
        let z = random_point(7);
        assert_eq!(evaluate_blob_polynomial(&blob, &z).unwrap(), compute_kzg_proof(&blob, &z).unwrap().1);
    }
}

#[test]
fn evaluation_at_domain_points_equals_ckzg() {
    let blob = random_blob(8);
    let omega = Fr::from_bytes_be(&hex32("564c0a11a0f704f4fc3e8acfe0f8245f0ad1347b378fbf96e206da11a5d36306"))
        .unwrap();
    for k in [0u64, 1, 2, 1234, 4095] {
        let z = omega.pow(&[k, 0, 0, 0]).to_bytes_be();
        let y = evaluate_blob_polynomial(&blob, &z).unwrap();
        assert_eq!(y, compute_kzg_proof(&blob, &z).unwrap().1, "ω^{k}");
        // On the domain the value is a blob element itself: ω^k is element brp(k).
        let at = ((k as u32).reverse_bits() >> 20) as usize;
        assert_eq!(&y[..], &blob.as_bytes()[32 * at..32 * at + 32]);
    }
}

#[test]
fn evaluation_at_zero_and_minus_one_equals_ckzg() {
    let blob = random_blob(9);
    let minus_one = (Fr::ZERO - Fr::ONE).to_bytes_be();
    for z in [[0u8; 32], minus_one] {
        assert_eq!(evaluate_blob_polynomial(&blob, &z).unwrap(), compute_kzg_proof(&blob, &z).unwrap().1);
    }
}

#[test]
fn blob_constants_agree_with_ckzg() {
    assert_eq!(BYTES_PER_BLOB, c_kzg::BYTES_PER_BLOB);
    assert_eq!(blob::FIELD_ELEMENTS_PER_BLOB, c_kzg::FIELD_ELEMENTS_PER_BLOB);
}

proptest! {
    // Each case costs a c-kzg opening (~40 ms) and an evaluation.
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn evaluate_blob_polynomial_equals_ckzg_y_for_random_blobs_and_points(seed in any::<u64>()) {
        let blob = random_blob(seed);
        let z = random_point(seed);
        let (proof, y) = compute_kzg_proof(&blob, &z).unwrap();
        prop_assert_eq!(evaluate_blob_polynomial(&blob, &z).unwrap(), y);
        let commitment = blob_to_commitment(&blob).unwrap();
        prop_assert!(verify_kzg_proof(&commitment, &z, &y, &proof).unwrap());
    }

    #[test]
    fn arbitrary_points_and_elements_are_accepted_exactly_when_ckzg_accepts_them(
        seed in any::<u64>(),
        z in any::<[u8; 32]>(),
        elements in proptest::collection::vec((0usize..4096, any::<[u8; 32]>()), 0..3),
    ) {
        let mut blob = random_blob(seed);
        for (index, element) in elements {
            blob.as_bytes_mut()[32 * index..32 * index + 32].copy_from_slice(&element);
        }
        let ours = evaluate_blob_polynomial(&blob, &z);
        let theirs = compute_kzg_proof(&blob, &z);
        prop_assert_eq!(ours.is_ok(), theirs.is_ok(), "{:?}", ours);
        if let (Ok(y), Ok((_, y_ckzg))) = (ours, theirs) {
            prop_assert_eq!(y, y_ckzg);
        }
    }
}
