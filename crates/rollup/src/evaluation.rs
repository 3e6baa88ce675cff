//! Pure-Rust evaluation of a blob's polynomial, and the versioned hash of a KZG commitment.
//!
//! This is what the zkVM guest runs for the EIP-4844 "proof of equivalence": the guest evaluates
//! the polynomial of the blob it decoded at a Fiat–Shamir point `z`, commits `(z, y)`, and L1
//! checks the same `(z, y)` against the blob's commitment with the point-evaluation precompile.
//! It must therefore give exactly the `y` that `c-kzg`'s `compute_kzg_proof` gives (a test holds
//! this for random blobs and points), and must not use `c-kzg` (C code cannot run in the guest).
//!
//! A blob is the polynomial `p` of degree < 4096 in **evaluation form**: blob field element `k`
//! is `p(ω^brp(k))`, where `ω` is the primitive 4096-th root of unity `7^((r-1)/4096)` and `brp`
//! reverses the 12 bits of an index (EIP-4844's `bit_reversal_permutation`). For `z` outside the
//! domain, the barycentric formula gives
//!
//! ```text
//! p(z) = (z^4096 - 1) / 4096 · Σ_i p(ω^i) · ω^i / (z - ω^i)
//! ```
//!
//! and for `z = ω^i` the answer is the blob's element directly. The 4096 divisions share one
//! field inversion (Montgomery's batch-inversion trick): about 32,000 field multiplications in
//! all, with the arithmetic of [`crate::field`].

use alloc::vec::Vec;
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::blob::{Blob, FIELD_ELEMENTS_PER_BLOB};
use crate::field::Fr;

/// The version byte of a KZG versioned hash (EIP-4844 `VERSIONED_HASH_VERSION_KZG`).
pub const VERSIONED_HASH_VERSION_KZG: u8 = 0x01;
/// Bytes in a KZG commitment (a compressed BLS12-381 G1 point).
pub const BYTES_PER_COMMITMENT: usize = 48;

/// `ω = 7^((r-1)/4096)`, the primitive 4096-th root of unity of EIP-4844, in Montgomery form.
/// Canonically `0x564c0a11a0f704f4fc3e8acfe0f8245f0ad1347b378fbf96e206da11a5d36306`; a test checks
/// that and that `ω^2048 = -1`.
const OMEGA: Fr = Fr::from_montgomery_limbs([
    0xf2df_262c_0945_8a39,
    0x048c_df5b_99df_f177,
    0x1685_7bc5_c7cc_e57b,
    0x043b_3dbc_a4a9_15ae,
]);
/// log2 of the domain size.
const LOG_DOMAIN: u32 = 12;

/// Why a blob or point cannot be evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum EvalError {
    /// A blob field element is not below the BLS12-381 scalar modulus.
    #[error("blob field element {index} is not below the scalar modulus")]
    NonCanonicalFieldElement {
        /// Its index.
        index: usize,
    },
    /// The evaluation point is not below the BLS12-381 scalar modulus.
    #[error("evaluation point is not below the scalar modulus")]
    NonCanonicalPoint,
}

/// The versioned hash of a KZG commitment: `0x01 ‖ sha256(commitment)[1..]` (EIP-4844
/// `kzg_to_versioned_hash`), what an L1 transaction and the `BLOBHASH` opcode carry.
pub fn versioned_hash(commitment: &[u8; BYTES_PER_COMMITMENT]) -> [u8; 32] {
    let mut hash: [u8; 32] = Sha256::digest(commitment).into();
    hash[0] = VERSIONED_HASH_VERSION_KZG;
    hash
}

/// `p(z)` for the polynomial of `blob`, with `z` and the result as 32-byte big-endian field
/// elements. Equal to the `y` of `c-kzg`'s `compute_kzg_proof(blob, z)`.
pub fn evaluate_blob_polynomial(blob: &Blob, z: &[u8; 32]) -> Result<[u8; 32], EvalError> {
    let z = Fr::from_bytes_be(z).ok_or(EvalError::NonCanonicalPoint)?;
    let evaluations = blob_field_elements(blob)?;
    Ok(evaluate(&evaluations, z).to_bytes_be())
}

/// The blob's 4096 field elements, in blob order.
fn blob_field_elements(blob: &Blob) -> Result<Vec<Fr>, EvalError> {
    blob.as_bytes()
        .chunks_exact(32)
        .enumerate()
        .map(|(index, bytes)| {
            let bytes: &[u8; 32] = bytes.try_into().expect("chunks_exact(32) yields 32 bytes");
            if bytes.iter().all(|b| *b == 0) {
                return Ok(Fr::ZERO); // the common case past the payload; no conversion needed
            }
            Fr::from_bytes_be(bytes).ok_or(EvalError::NonCanonicalFieldElement { index })
        })
        .collect()
}

/// Index `i` with its 12 bits reversed.
fn bit_reverse(i: usize) -> usize {
    ((i as u32).reverse_bits() >> (32 - LOG_DOMAIN)) as usize
}

/// The barycentric evaluation; `evaluations` are the 4096 blob elements in blob order.
fn evaluate(evaluations: &[Fr], z: Fr) -> Fr {
    debug_assert_eq!(evaluations.len(), FIELD_ELEMENTS_PER_BLOB);
    let mut z_pow = z;
    for _ in 0..LOG_DOMAIN {
        z_pow = z_pow.square();
    }
    if z_pow == Fr::ONE {
        // z is a point of the domain (never, for a Fiat–Shamir z, but the answer must be right):
        // the polynomial's value there is the blob's element.
        let mut root = Fr::ONE;
        for i in 0..FIELD_ELEMENTS_PER_BLOB {
            if root == z {
                return evaluations[bit_reverse(i)];
            }
            root = root * OMEGA;
        }
    }
    // ω^i = LOW[i mod 64] · HIGH[i / 64]: 126 multiplications for the tables, then one per
    // term. Zero elements add nothing to the sum, so only the others are visited, inverted and
    // multiplied: a batch's blob is zero after its payload (a small batch's almost entirely).
    let (low, high) = root_tables();
    let mut numerators = Vec::with_capacity(FIELD_ELEMENTS_PER_BLOB);
    let mut denominators = Vec::with_capacity(FIELD_ELEMENTS_PER_BLOB);
    for i in 0..FIELD_ELEMENTS_PER_BLOB {
        let value = evaluations[bit_reverse(i)];
        if value.is_zero() {
            continue;
        }
        let root = low[i % 64] * high[i / 64];
        numerators.push(value * root);
        denominators.push(z - root);
    }
    batch_invert(&mut denominators);
    let sum = numerators.iter().zip(&denominators).fold(Fr::ZERO, |acc, (&n, &d)| acc + n * d);
    let domain_size = Fr::from_u64(FIELD_ELEMENTS_PER_BLOB as u64);
    let inverse_domain_size = domain_size.inverse().expect("4096 is not zero mod r");
    sum * (z_pow - Fr::ONE) * inverse_domain_size
}

/// `(LOW, HIGH)` with `LOW[j] = ω^j` and `HIGH[j] = ω^(64·j)`, so `ω^i = LOW[i % 64] · HIGH[i / 64]`.
fn root_tables() -> ([Fr; 64], [Fr; 64]) {
    let mut low = [Fr::ONE; 64];
    for j in 1..64 {
        low[j] = low[j - 1] * OMEGA;
    }
    let omega_64 = low[63] * OMEGA;
    let mut high = [Fr::ONE; 64];
    for j in 1..64 {
        high[j] = high[j - 1] * omega_64;
    }
    (low, high)
}

/// Replaces every (non-zero) value by its inverse, with one field inversion.
fn batch_invert(values: &mut [Fr]) {
    let mut prefix = Vec::with_capacity(values.len());
    let mut product = Fr::ONE;
    for &v in values.iter() {
        prefix.push(product);
        product = product * v;
    }
    let mut inverse = product.inverse().expect("a product of non-zero field elements is non-zero");
    for (value, before) in values.iter_mut().zip(prefix).rev() {
        let original = *value;
        *value = inverse * before;
        inverse = inverse * original;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn omega_is_the_eip4844_root_of_unity() {
        let expected = [
            0x56, 0x4c, 0x0a, 0x11, 0xa0, 0xf7, 0x04, 0xf4, 0xfc, 0x3e, 0x8a, 0xcf, 0xe0, 0xf8, 0x24, 0x5f,
            0x0a, 0xd1, 0x34, 0x7b, 0x37, 0x8f, 0xbf, 0x96, 0xe2, 0x06, 0xda, 0x11, 0xa5, 0xd3, 0x63, 0x06,
        ];
        assert_eq!(OMEGA.to_bytes_be(), expected);
        // (r - 1) / 4096, little-endian limbs: 7 to that power is the constant.
        let exponent =
            [0xbfef_ffff_fff0_0000, 0x8055_3bda_402f_ffe5, 0xd483_339d_8080_9a1d, 0x0007_3eda_7532_99d7];
        assert_eq!(Fr::from_u64(7).pow(&exponent), OMEGA);
        let mut half = OMEGA;
        for _ in 0..11 {
            half = half.square();
        }
        assert_eq!(half, Fr::ZERO - Fr::ONE, "ω^2048 = -1");
        assert_eq!(half.square(), Fr::ONE, "ω^4096 = 1");
    }

    #[test]
    fn bit_reverse_is_an_involution_on_12_bits() {
        assert_eq!(bit_reverse(0), 0);
        assert_eq!(bit_reverse(1), 2048);
        assert_eq!(bit_reverse(4095), 4095);
        assert!((0..4096).all(|i| bit_reverse(bit_reverse(i)) == i));
    }

    #[test]
    fn a_zero_blob_evaluates_to_zero_even_on_the_domain() {
        let evaluations = alloc::vec![Fr::ZERO; FIELD_ELEMENTS_PER_BLOB];
        for z in [Fr::from_u64(5), OMEGA, Fr::ONE] {
            assert_eq!(evaluate(&evaluations, z), Fr::ZERO);
        }
    }

    #[test]
    fn a_sparse_blob_on_a_domain_point_gives_that_element() {
        let mut evaluations = alloc::vec![Fr::ZERO; FIELD_ELEMENTS_PER_BLOB];
        evaluations[bit_reverse(1)] = Fr::from_u64(9);
        assert_eq!(evaluate(&evaluations, OMEGA), Fr::from_u64(9));
        assert_eq!(evaluate(&evaluations, OMEGA * OMEGA), Fr::ZERO);
    }

    #[test]
    fn a_constant_blob_evaluates_to_the_constant_everywhere() {
        let c = Fr::from_u64(42);
        let evaluations = alloc::vec![c; FIELD_ELEMENTS_PER_BLOB];
        for z in [Fr::from_u64(0), Fr::from_u64(5), Fr::ZERO - Fr::from_u64(3), OMEGA] {
            assert_eq!(evaluate(&evaluations, z), c);
        }
    }

    #[test]
    fn the_root_tables_give_every_power_of_omega() {
        let mut root = Fr::ONE;
        let (low, high) = root_tables();
        for i in 0..FIELD_ELEMENTS_PER_BLOB {
            assert_eq!(low[i % 64] * high[i / 64], root, "ω^{i}");
            root = root * OMEGA;
        }
        assert_eq!(root, Fr::ONE);
    }

    #[test]
    fn every_domain_point_gives_its_element() {
        let evaluations: Vec<Fr> =
            (0..FIELD_ELEMENTS_PER_BLOB as u64).map(|k| Fr::from_u64(k * 7 + 1)).collect();
        let mut root = Fr::ONE;
        for i in 0..FIELD_ELEMENTS_PER_BLOB {
            if i % 97 == 0 {
                assert_eq!(evaluate(&evaluations, root), evaluations[bit_reverse(i)]);
            }
            root = root * OMEGA;
        }
    }

    #[test]
    fn batch_invert_inverts_each_value() {
        let mut values: Vec<Fr> = (1..50).map(Fr::from_u64).collect();
        batch_invert(&mut values);
        for (n, inv) in (1..50).zip(values) {
            assert_eq!(Fr::from_u64(n) * inv, Fr::ONE);
        }
    }
}
