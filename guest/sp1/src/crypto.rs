//! [`Crypto`] on SP1's precompiles, called directly through `sp1-lib` (the vendor's patched crates
//! cannot be fetched here). Every function gives the same bytes as `NativeCrypto`; the zkVM tests
//! hold that on every hash and signature of a 1,000-command batch.
//!
//! - SHA-256: `syscall_sha256_extend` + `syscall_sha256_compress` per 64-byte block, padding here;
//!   the Merkle node hash is one such block.
//! - keccak-256: absorption and padding here, `syscall_keccak_permute` per 136-byte block.
//! - secp256k1 ECDSA: scalars with `k256` (software, cheap), the double scalar multiplication
//!   u₁·G + u₂·P on SP1's secp256k1 add/double syscalls. The inverse s⁻¹ is computed outside the
//!   constraints (`unconstrained!`, read back as a hint) and checked with one multiplication; a
//!   prover that hints a wrong inverse makes the guest panic, so it cannot turn a valid signature
//!   into a rejection.

use k256::elliptic_curve::ops::Reduce;
use k256::elliptic_curve::scalar::IsHigh;
use k256::elliptic_curve::PrimeField;
use k256::{FieldBytes, Scalar, U256};
use sp1_lib::secp256k1::Secp256k1Point;
use sp1_lib::utils::AffinePoint;
use zkclob_state::{Crypto, PublicKey, Signature, SHA256_IV};


/// Keccak-256's rate in bytes.
const KECCAK_RATE: usize = 136;

/// Crypto through SP1's precompiles.
pub struct Sp1Crypto;

fn sha256_block(state: &mut [u64; 8], block: &[u8]) {
    let mut w = [0u64; 64];
    for (i, word) in block.chunks_exact(4).enumerate() {
        w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]) as u64;
    }
    unsafe {
        sp1_lib::syscall_sha256_extend(&mut w);
        sp1_lib::syscall_sha256_compress(&mut w, state);
    }
}

fn keccak_absorb(state: &mut [u64; 25], block: &[u8]) {
    for (lane, bytes) in state.iter_mut().zip(block.chunks_exact(8)) {
        *lane ^= u64::from_le_bytes(bytes.try_into().expect("8 bytes"));
    }
    unsafe { sp1_lib::syscall_keccak_permute(state) };
}

/// Little-endian bits of a scalar, least significant first.
fn bits_le(s: &Scalar) -> [bool; 256] {
    let be = s.to_bytes();
    let mut bits = [false; 256];
    for (i, bit) in bits.iter_mut().enumerate() {
        *bit = (be[31 - i / 8] >> (i % 8)) & 1 == 1;
    }
    bits
}

/// A point from big-endian `x || y`, as SP1's limbs (x then y, little-endian 64-bit words).
fn point_from_be(xy: &[u8; 64]) -> Secp256k1Point {
    let mut limbs = [0u64; 8];
    for (i, limb) in limbs.iter_mut().enumerate() {
        let (coord, word) = (i / 4, i % 4);
        let start = coord * 32 + 32 - 8 * (word + 1);
        *limb = u64::from_be_bytes(xy[start..start + 8].try_into().expect("8 bytes"));
    }
    <Secp256k1Point as AffinePoint<8>>::new(limbs)
}

fn field_bytes(bytes: &[u8]) -> FieldBytes {
    let mut out = FieldBytes::default();
    out.copy_from_slice(bytes);
    out
}

/// A non-zero scalar below the group order from 32 big-endian bytes.
fn scalar(bytes: &[u8]) -> Option<Scalar> {
    let s: Option<Scalar> = Scalar::from_repr(field_bytes(bytes)).into();
    s.filter(|s| !bool::from(s.is_zero()))
}

impl Crypto for Sp1Crypto {
    fn sha256(&self, data: &[u8]) -> [u8; 32] {
        let mut state = SHA256_IV.map(|w| w as u64);
        let mut blocks = data.chunks_exact(64);
        for block in &mut blocks {
            sha256_block(&mut state, block);
        }
        let rest = blocks.remainder();
        let mut tail = [0u8; 128];
        tail[..rest.len()].copy_from_slice(rest);
        tail[rest.len()] = 0x80;
        let len = if rest.len() + 9 > 64 { 128 } else { 64 };
        tail[len - 8..len].copy_from_slice(&((data.len() as u64) * 8).to_be_bytes());
        for block in tail[..len].chunks_exact(64) {
            sha256_block(&mut state, block);
        }
        let mut out = [0u8; 32];
        for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
            chunk.copy_from_slice(&(word as u32).to_be_bytes());
        }
        out
    }

    fn sha256_compress(&self, block: &[u8; 64]) -> [u8; 32] {
        let mut state = SHA256_IV.map(|w| w as u64);
        sha256_block(&mut state, block);
        let mut out = [0u8; 32];
        for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
            chunk.copy_from_slice(&(word as u32).to_be_bytes());
        }
        out
    }

    fn keccak256(&self, data: &[u8]) -> [u8; 32] {
        let mut state = [0u64; 25];
        let mut blocks = data.chunks_exact(KECCAK_RATE);
        for block in &mut blocks {
            keccak_absorb(&mut state, block);
        }
        let rest = blocks.remainder();
        let mut last = [0u8; KECCAK_RATE];
        last[..rest.len()].copy_from_slice(rest);
        last[rest.len()] ^= 0x01;
        last[KECCAK_RATE - 1] ^= 0x80;
        keccak_absorb(&mut state, &last);
        let mut out = [0u8; 32];
        for (chunk, lane) in out.chunks_exact_mut(8).zip(&state[..4]) {
            chunk.copy_from_slice(&lane.to_le_bytes());
        }
        out
    }

    fn secp256k1_verify(&self, pubkey: &PublicKey, prehash: &[u8; 32], sig: &Signature) -> bool {
        println!("cycle-tracker-report-start: secp256k1_verify");
        let ok = verify(pubkey, prehash, sig);
        println!("cycle-tracker-report-end: secp256k1_verify");
        ok
    }

    fn phase_start(&self, name: &'static str) {
        println!("cycle-tracker-report-start: {name}");
    }

    fn phase_end(&self, name: &'static str) {
        println!("cycle-tracker-report-end: {name}");
    }
}

fn verify(pubkey: &PublicKey, prehash: &[u8; 32], sig: &Signature) -> bool {
    // The key must be a point on the curve (this also rejects coordinates ≥ p).
    let mut sec1 = [0u8; 65];
    sec1[0] = 0x04;
    sec1[1..].copy_from_slice(pubkey);
    if k256::PublicKey::from_sec1_bytes(&sec1).is_err() {
        return false;
    }
    let (Some(r), Some(s)) = (scalar(&sig[..32]), scalar(&sig[32..])) else { return false };
    if bool::from(s.is_high()) {
        return false;
    }
    let z = <Scalar as Reduce<U256>>::reduce_bytes(&field_bytes(prehash));

    // s⁻¹ from outside the constraints, checked here.
    sp1_lib::unconstrained! {
        let inverse: Scalar = s.invert().unwrap();
        sp1_lib::io::hint_slice(&inverse.to_bytes());
    }
    let hinted = sp1_lib::io::read_vec();
    let s_inv = scalar(&hinted).expect("the prover hinted a malformed inverse");
    assert!(s * s_inv == Scalar::ONE, "the prover hinted a wrong inverse");

    let u1 = z * s_inv;
    let u2 = r * s_inv;
    let g = <Secp256k1Point as AffinePoint<8>>::GENERATOR_T;
    let p = point_from_be(pubkey);
    let point = <Secp256k1Point as AffinePoint<8>>::multi_scalar_multiplication(&bits_le(&u1), g, &bits_le(&u2), p);
    if point.is_identity() {
        return false;
    }
    let limbs = point.limbs_ref();
    let mut x = [0u8; 32];
    for (i, limb) in limbs[..4].iter().enumerate() {
        x[32 - 8 * (i + 1)..32 - 8 * i].copy_from_slice(&limb.to_be_bytes());
    }
    <Scalar as Reduce<U256>>::reduce_bytes(&field_bytes(&x)) == r
}
