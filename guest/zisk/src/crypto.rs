//! [`Crypto`] on ZisK's precompiles through `ziskos::zisklib` (SHA-256 on `sha256f`, keccak-256 on
//! `keccakf`, secp256k1 ECDSA on the curve and 256-bit arithmetic syscalls). The only glue is
//! byte order: zisklib takes 256-bit numbers as four little-endian 64-bit limbs. Results equal
//! `NativeCrypto`'s bit for bit; the zkVM tests hold that on a 1,000-command batch.

use ziskos::zisklib;
use zkclob_state::{Crypto, PublicKey, Signature, SHA256_IV};

/// ⌊n/2⌋ of the secp256k1 group order, as little-endian limbs: a signature with a larger `s` is
/// the malleable twin of a valid one, and the native rule refuses it.
const HALF_ORDER: [u64; 4] =
    [0xDFE9_2F46_681B_20A0, 0x5D57_6E73_57A4_501D, 0xFFFF_FFFF_FFFF_FFFF, 0x7FFF_FFFF_FFFF_FFFF];

/// A SHA-256 block 8-byte aligned, as zisklib's compression wants it.
#[repr(align(8))]
struct Aligned([u8; 64]);

/// Crypto through ZisK's precompiles.
pub struct ZiskCrypto;

fn limbs(bytes: &[u8]) -> [u64; 4] {
    zisklib::be_bytes_to_u64_4(bytes.try_into().expect("32 bytes"))
}

/// a > b for little-endian limbs.
fn greater(a: &[u64; 4], b: &[u64; 4]) -> bool {
    for i in (0..4).rev() {
        if a[i] != b[i] {
            return a[i] > b[i];
        }
    }
    false
}

impl Crypto for ZiskCrypto {
    fn sha256(&self, data: &[u8]) -> [u8; 32] {
        zisklib::sha256(data)
    }

    fn sha256_compress(&self, block: &[u8; 64]) -> [u8; 32] {
        let aligned = Aligned(*block);
        let mut state = SHA256_IV;
        unsafe { zisklib::sha256f_compress_c(state.as_mut_ptr(), aligned.0.as_ptr(), 1) };
        let mut out = [0u8; 32];
        for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        out
    }

    fn sha256_blocks(&self, state: &mut [u32; 8], blocks: &[u8]) {
        for block in blocks.chunks_exact(64) {
            let aligned = Aligned(block.try_into().expect("64-byte chunk"));
            unsafe { zisklib::sha256f_compress_c(state.as_mut_ptr(), aligned.0.as_ptr(), 1) };
        }
    }

    fn sha256_words(&self, state: &mut [u32; 8], block: &[u32; 16]) {
        let mut aligned = Aligned([0; 64]);
        for (chunk, word) in aligned.0.chunks_exact_mut(4).zip(block) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        unsafe { zisklib::sha256f_compress_c(state.as_mut_ptr(), aligned.0.as_ptr(), 1) };
    }

    fn keccak256(&self, data: &[u8]) -> [u8; 32] {
        zisklib::keccak256(data)
    }

    fn secp256k1_verify(&self, pubkey: &PublicKey, prehash: &[u8; 32], sig: &Signature) -> bool {
        let s = limbs(&sig[32..]);
        if greater(&s, &HALF_ORDER) {
            return false;
        }
        let r = limbs(&sig[..32]);
        let x = limbs(&pubkey[..32]);
        let y = limbs(&pubkey[32..]);
        let pk = [x[0], x[1], x[2], x[3], y[0], y[1], y[2], y[3]];
        // ECDSA's z is the prehash reduced modulo the group order (as k256's bits2field).
        let z = zisklib::reduce_fn_secp256k1(&limbs(prehash));
        zisklib::ecdsa_verify_secp256k1(&pk, &z, &r, &s)
    }
}
