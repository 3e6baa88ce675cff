//! [`Crypto`] on SP1's precompiles, called directly through `sp1-lib` (the vendor's patched crates
//! cannot be fetched here). Every function gives the same bytes as `NativeCrypto`; the zkVM tests
//! hold that on every hash and signature of a 1,000-command batch.
//!
//! - SHA-256: `syscall_sha256_extend` + `syscall_sha256_compress` per 64-byte block, padding here;
//!   the Merkle node hash is one such block; word-stream leaves (market books) hand their words
//!   to the schedule as they are.
//! - keccak-256: absorption and padding here, `syscall_keccak_permute` per 136-byte block.
//! - secp256k1 ECDSA: scalars with `k256` (software, cheap), the double scalar multiplication
//!   u₁·G + u₂·P on SP1's secp256k1 add/double syscalls with Shamir's trick (one doubling per
//!   bit for both products). The inverse s⁻¹ is computed outside the
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

/// The message schedule of the block being compressed. The extend syscall fills words 16..64
/// from words 0..16, so only those are written per block: a fresh zeroed array per block cost a
/// 512-byte `memset` each time, more than the rest of the block's work.
static mut SCHEDULE: [u64; 64] = [0; 64];

/// One SHA-256 compression of `state` (SP1's syscalls keep words in 64-bit slots) with the
/// message words `fill` writes into the schedule's first sixteen entries.
#[inline(always)]
fn compress(state: &mut [u64; 8], fill: impl FnOnce(&mut [u64; 16])) {
    // SAFETY: the guest runs one thread and this function does not re-enter, so nothing else
    // holds a reference to SCHEDULE while it is used here.
    unsafe {
        let w = &mut *core::ptr::addr_of_mut!(SCHEDULE);
        fill(w.first_chunk_mut::<16>().expect("64 entries"));
        sp1_lib::syscall_sha256_extend(w);
        sp1_lib::syscall_sha256_compress(w, state);
    }
}

fn sha256_block(state: &mut [u64; 8], block: &[u8]) {
    compress(state, |w| {
        for (slot, word) in w.iter_mut().zip(block.chunks_exact(4)) {
            *slot = u32::from_be_bytes([word[0], word[1], word[2], word[3]]) as u64;
        }
    });
}

/// XORs `bytes` (a multiple of 8 long, at any alignment) into the first lanes of `state`.
/// RISC-V here has no unaligned loads, and a lane read from unaligned bytes compiles to eight
/// byte loads and their assembly (~23 instructions; a copy of the block into aligned words is
/// no better, as a fixed-size `memcpy` from a byte pointer is expanded the same way). So an
/// unaligned block is read as the aligned words it straddles, each lane merged from two
/// neighbours with two shifts (~7 instructions per lane). The two aligned words that stick out
/// of `bytes` at its ends are assembled from their bytes inside it, so nothing outside `bytes`
/// is read.
#[inline(always)]
fn xor_lanes(state: &mut [u64; 25], bytes: &[u8]) {
    let lanes = bytes.len() / 8;
    if lanes == 0 {
        return;
    }
    let offset = bytes.as_ptr() as usize % 8;
    if offset == 0 {
        let words = bytes.as_ptr() as *const u64;
        for (i, lane) in state.iter_mut().take(lanes).enumerate() {
            // SAFETY: `words` is 8-aligned and `bytes` holds `lanes` whole words; this is a
            // little-endian machine, so a word load is `u64::from_le_bytes`.
            *lane ^= unsafe { words.add(i).read() };
        }
        return;
    }
    // Aligned word j starts at `bytes[8j - offset]`; lane i is the top `8 - offset` bytes of word
    // i and the low `offset` bytes of word i + 1.
    let words = bytes.as_ptr().wrapping_sub(offset) as *const u64;
    let shift = 8 * offset as u32;
    let mut head = 0u64;
    for (k, b) in bytes[..8 - offset].iter().enumerate() {
        head |= (*b as u64) << (shift + 8 * k as u32);
    }
    let mut tail = 0u64;
    for (k, b) in bytes[8 * lanes - offset..8 * lanes].iter().enumerate() {
        tail |= (*b as u64) << (8 * k);
    }
    let mut prev = head;
    for (i, lane) in state.iter_mut().take(lanes).enumerate() {
        let next = if i + 1 < lanes {
            // SAFETY: word i + 1 (i + 1 < lanes) spans bytes[8(i+1) - offset .. 8(i+2) - offset],
            // inside `bytes`; it is 8-aligned, and `wrapping_add` keeps the slice's provenance.
            unsafe { words.wrapping_add(i + 1).read() }
        } else {
            tail
        };
        *lane ^= (prev >> shift) | (next << (64 - shift));
        prev = next;
    }
}

fn keccak_absorb(state: &mut [u64; 25], block: &[u8]) {
    xor_lanes(state, block);
    unsafe { sp1_lib::syscall_keccak_permute(state) };
}

/// A scalar as little-endian 64-bit words.
fn words_le(s: &Scalar) -> [u64; 4] {
    let be = s.to_bytes();
    core::array::from_fn(|i| {
        u64::from_be_bytes(be[32 - 8 * (i + 1)..32 - 8 * i].try_into().expect("8 bytes"))
    })
}

/// A point from big-endian `x || y`, as SP1's limbs (x then y, little-endian 64-bit words).
fn point_from_be(xy: &[u8; 64]) -> [u64; 8] {
    core::array::from_fn(|i| {
        let (coord, word) = (i / 4, i % 4);
        let start = coord * 32 + 32 - 8 * (word + 1);
        u64::from_be_bytes(xy[start..start + 8].try_into().expect("8 bytes"))
    })
}

/// secp256k1's generator in SP1's limbs.
const G: [u64; 8] = <Secp256k1Point as AffinePoint<8>>::GENERATOR;

/// `acc += q` for affine points (`None`: the point at infinity), on SP1's add and double
/// syscalls. The add syscall needs two distinct points that are not each other's negation, so
/// those cases (equal x coordinates) are handled here: equal points double, opposite ones give
/// infinity. Words are compared directly (the library's `==` on limbs is a `memcmp` call per add).
#[inline(always)]
fn add_into(acc: &mut Option<[u64; 8]>, q: &[u64; 8]) {
    match acc {
        None => *acc = Some(*q),
        Some(p) => {
            if p[0] == q[0] && p[1] == q[1] && p[2] == q[2] && p[3] == q[3] {
                if p[4] == q[4] && p[5] == q[5] && p[6] == q[6] && p[7] == q[7] {
                    unsafe { sp1_lib::syscall_secp256k1_double(p) };
                } else {
                    *acc = None;
                }
            } else {
                unsafe { sp1_lib::syscall_secp256k1_add(p, q) };
            }
        }
    }
}

/// `u1·G + u2·P` by Shamir's trick: one pass over the bits from the top, doubling once per bit
/// and adding G, P or the precomputed G + P (256 doublings and about 192 additions, against
/// 512 doublings and 256 additions when each product is computed on its own).
fn double_scalar_mul(u1: &[u64; 4], u2: &[u64; 4], p: &[u64; 8]) -> Option<[u64; 8]> {
    let mut gp = Some(G);
    add_into(&mut gp, p);
    let mut acc: Option<[u64; 8]> = None;
    for i in (0..256).rev() {
        if let Some(a) = &mut acc {
            unsafe { sp1_lib::syscall_secp256k1_double(a) };
        }
        let (word, bit) = (i / 64, i % 64);
        match ((u1[word] >> bit) & 1, (u2[word] >> bit) & 1) {
            (0, 0) => {}
            (1, 0) => add_into(&mut acc, &G),
            (0, _) => add_into(&mut acc, p),
            _ => {
                if let Some(gp) = &gp {
                    add_into(&mut acc, gp);
                }
            }
        }
    }
    acc
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

    fn sha256_blocks(&self, state: &mut [u32; 8], blocks: &[u8]) {
        let mut wide = state.map(|w| w as u64);
        for block in blocks.chunks_exact(64) {
            sha256_block(&mut wide, block);
        }
        *state = wide.map(|w| w as u32);
    }

    fn sha256_words(&self, state: &mut [u32; 8], block: &[u32; 16]) {
        let mut wide = state.map(|w| w as u64);
        compress(&mut wide, |w| {
            for (slot, word) in w.iter_mut().zip(block) {
                *slot = *word as u64;
            }
        });
        *state = wide.map(|w| w as u32);
    }

    fn keccak256(&self, data: &[u8]) -> [u8; 32] {
        let mut state = [0u64; 25];
        let mut blocks = data.chunks_exact(KECCAK_RATE);
        for block in &mut blocks {
            keccak_absorb(&mut state, block);
        }
        // The last, partial block goes straight into the lanes it covers, with the padding
        // (0x01 after the data, 0x80 in the rate's last byte): no padded copy of the block, and
        // the lanes past the data are left alone (XOR with zero).
        let rest = blocks.remainder();
        let i = rest.len() / 8;
        xor_lanes(&mut state, &rest[..8 * i]);
        let mut tail = [0u8; 8];
        let partial = &rest[8 * i..];
        tail[..partial.len()].copy_from_slice(partial);
        tail[partial.len()] = 0x01;
        state[i] ^= u64::from_le_bytes(tail);
        state[KECCAK_RATE / 8 - 1] ^= 0x80 << 56;
        unsafe { sp1_lib::syscall_keccak_permute(&mut state) };
        let mut out = [0u8; 32];
        for (chunk, lane) in out.chunks_exact_mut(8).zip(&state[..4]) {
            chunk.copy_from_slice(&lane.to_le_bytes());
        }
        out
    }

    fn secp256k1_verify(&self, pubkey: &PublicKey, prehash: &[u8; 32], sig: &Signature) -> bool {
        label(b"cycle-tracker-report-start: secp256k1_verify\n");
        let ok = verify(pubkey, prehash, sig);
        label(b"cycle-tracker-report-end: secp256k1_verify\n");
        ok
    }

    /// The signing hash is counted with the check it starts.
    fn secp256k1_verify_hashed(
        &self,
        pubkey: &PublicKey,
        sig: &Signature,
        prehash: impl FnOnce() -> [u8; 32],
    ) -> bool {
        label(b"cycle-tracker-report-start: secp256k1_verify\n");
        let hash = prehash();
        let ok = verify(pubkey, &hash, sig);
        label(b"cycle-tracker-report-end: secp256k1_verify\n");
        ok
    }

    fn phase_start(&self, name: &'static str) {
        phase_label(b"cycle-tracker-report-start: ", name);
    }

    fn phase_end(&self, name: &'static str) {
        phase_label(b"cycle-tracker-report-end: ", name);
    }
}

/// Writes one cycle-tracker line to stdout with a single write syscall. `println!` goes through
/// `std`'s formatting and line buffering: about 140 cycles per label more, which the tracker
/// itself would count (a signature check is labelled on every command).
fn label(line: &[u8]) {
    unsafe { sp1_lib::syscall_write(1, line.as_ptr(), line.len()) };
}

/// [`label`] for `prefix ‖ name ‖ "\n"` (one line: the executor parses each write by lines).
fn phase_label(prefix: &[u8], name: &str) {
    let mut line = [0u8; 96];
    let n = prefix.len() + name.len();
    assert!(n < line.len(), "phase name too long");
    line[..prefix.len()].copy_from_slice(prefix);
    line[prefix.len()..n].copy_from_slice(name.as_bytes());
    line[n] = b'\n';
    label(&line[..=n]);
}

// Kept out of line: inlined into the transition, it made LLVM's register allocation of the whole
// command loop worse and moved cycles between the phases the cycle tracker reports.
#[inline(never)]
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
    let Some(point) = double_scalar_mul(&words_le(&u1), &words_le(&u2), &point_from_be(pubkey)) else {
        return false;
    };
    let mut x = [0u8; 32];
    for (i, limb) in point[..4].iter().enumerate() {
        x[32 - 8 * (i + 1)..32 - 8 * i].copy_from_slice(&limb.to_be_bytes());
    }
    <Scalar as Reduce<U256>>::reduce_bytes(&field_bytes(&x)) == r
}
