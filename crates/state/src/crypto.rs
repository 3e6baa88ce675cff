//! The one hashing and signature interface of the state transition.
//!
//! Natively, [`NativeCrypto`] uses plain Rust crates (`sha2` 0.10.9, `sha3` 0.10.8, `k256`
//! 0.13.4). Inside the zkVM guests, each guest implements [`Crypto`] with its zkVM's precompiles
//! (SP1's SHA-256 extend/compress, keccak permute and secp256k1 syscalls; ZisK's `zisklib`), and
//! the results must be the same bit for bit. Nothing else in the state crate hashes or verifies.
//!
//! Accounts are Ethereum addresses: the last 20 bytes of keccak-256 of the 64-byte uncompressed
//! public key. Signatures are secp256k1 ECDSA `(r, s)` over a 32-byte keccak-256 prehash, with
//! `s` in the lower half of the group order (no malleable twins). Commands carry the signer's
//! public key, so the transition *verifies* against a known key instead of recovering one:
//! recovery is several times dearer in the zkVMs (see `../shared/ZKVM.md`).

use borsh::{BorshDeserialize, BorshSerialize};
use core::fmt;

/// A 20-byte Ethereum address.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, BorshSerialize, BorshDeserialize)]
pub struct Address(pub [u8; 20]);

impl fmt::Debug for Address {
    /// `0x` and 40 lowercase hex digits, in one write (the audit log and the API write one per
    /// command; a `{:02x}` per byte was most of the audit thread's formatting).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut text = [0u8; 42];
        text[..2].copy_from_slice(b"0x");
        for (i, b) in self.0.iter().enumerate() {
            text[2 + 2 * i] = HEX[usize::from(b >> 4)];
            text[3 + 2 * i] = HEX[usize::from(b & 15)];
        }
        f.write_str(core::str::from_utf8(&text).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// An uncompressed secp256k1 public key without its 0x04 prefix: `x || y`, big-endian.
pub type PublicKey = [u8; 64];
/// An ECDSA signature `r || s`, big-endian.
pub type Signature = [u8; 64];

/// Hashing and signature verification, the only cryptography the state transition uses.
pub trait Crypto {
    /// SHA-256.
    fn sha256(&self, data: &[u8]) -> [u8; 32];
    /// One application of SHA-256's compression function to `block` from the standard initial
    /// value, without padding; the output is the state words big-endian. The Merkle tree's node
    /// hash (see [`crate::merkle`]).
    fn sha256_compress(&self, block: &[u8; 64]) -> [u8; 32];
    /// Keccak-256 (Ethereum's, not NIST SHA3-256).
    fn keccak256(&self, data: &[u8]) -> [u8; 32];
    /// Whether `sig` is a valid low-`s` ECDSA signature by `pubkey` over the 32-byte `prehash`.
    /// Invalid keys and signatures (off-curve points, zero or out-of-range scalars) are `false`.
    fn secp256k1_verify(&self, pubkey: &PublicKey, prehash: &[u8; 32], sig: &Signature) -> bool;

    /// [`Crypto::secp256k1_verify`] over the hash `prehash` computes: hashing the signed message
    /// is the first step of checking an ECDSA signature, and a zkVM guest counts it with the
    /// rest of the check in its signature cycles.
    fn secp256k1_verify_hashed(
        &self,
        pubkey: &PublicKey,
        sig: &Signature,
        prehash: impl FnOnce() -> [u8; 32],
    ) -> bool
    where
        Self: Sized,
    {
        self.secp256k1_verify(pubkey, &prehash(), sig)
    }

    /// SHA-256's compression function applied to each 64-byte block of `blocks` in turn, from
    /// and into `state` (no padding; `blocks.len()` is a multiple of 64, a shorter tail is
    /// ignored). The streaming hash [`Sha256Writer`] is built on it. The default is the `sha2`
    /// crate; the guests call their precompile.
    fn sha256_blocks(&self, state: &mut [u32; 8], blocks: &[u8]) {
        for block in blocks.chunks_exact(64) {
            let block: [u8; 64] = block.try_into().expect("64-byte chunk");
            sha2::compress256(state, &[block.into()]);
        }
    }

    /// [`Crypto::sha256_blocks`] on one block given as its sixteen message words (big-endian
    /// words of the 64 bytes), which is how SHA-256 reads a block: a word-oriented leaf
    /// ([`crate::merkle::LeafWords`]) hands its words over with no byte shuffling, and a guest's
    /// precompile takes them as they are.
    fn sha256_words(&self, state: &mut [u32; 8], block: &[u32; 16]) {
        let mut bytes = [0u8; 64];
        for (chunk, word) in bytes.chunks_exact_mut(4).zip(block) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        self.sha256_blocks(state, &bytes);
    }

    /// Marks the start of a named phase of the transition, for a zkVM's cycle tracker. A no-op
    /// natively; the SP1 guest turns it into a cycle-tracker label.
    fn phase_start(&self, _name: &'static str) {}

    /// Marks the end of a phase started with [`Crypto::phase_start`].
    fn phase_end(&self, _name: &'static str) {}

    /// The Ethereum address of a public key.
    fn address_of(&self, pubkey: &PublicKey) -> Address {
        let h = self.keccak256(pubkey);
        let mut a = [0u8; 20];
        a.copy_from_slice(&h[12..]);
        Address(a)
    }
}

/// SHA-256's initial value.
pub const SHA256_IV: [u32; 8] =
    [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/// [`Crypto::sha256_compress`] with the `sha2` crate.
pub fn sha256_compress(block: &[u8; 64]) -> [u8; 32] {
    let mut state = SHA256_IV;
    sha2::compress256(&mut state, &[(*block).into()]);
    let mut out = [0u8; 32];
    for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// SHA-256 of everything written to it, compressed a block at a time as the stream fills it, so
/// a value is hashed as it is encoded (`value.serialize(&mut writer)`) with no buffer of its
/// whole encoding. Gives exactly [`Crypto::sha256`] of the concatenated writes.
pub struct Sha256Writer<'a, C: ?Sized> {
    crypto: &'a C,
    state: [u32; 8],
    block: [u8; 64],
    /// Bytes of `block` in use.
    fill: usize,
    /// Bytes written in all.
    len: u64,
}

impl<'a, C: Crypto + ?Sized> Sha256Writer<'a, C> {
    /// An empty stream.
    pub fn new(crypto: &'a C) -> Self {
        Sha256Writer { crypto, state: SHA256_IV, block: [0; 64], fill: 0, len: 0 }
    }

    /// Appends `data`.
    #[inline(always)]
    pub fn update(&mut self, data: &[u8]) {
        // The common case, a field of a few bytes that fits the block: inlined, so the copy has
        // its length known at the call site and is a few stores rather than a `memcpy` call.
        if let Some(dst) = self.block.get_mut(self.fill..self.fill + data.len()) {
            if self.fill + data.len() < 64 {
                dst.copy_from_slice(data);
                self.fill += data.len();
                self.len += data.len() as u64;
                return;
            }
        }
        self.update_slow(data);
    }

    /// [`Sha256Writer::update`] when `data` fills the block.
    #[inline(never)]
    fn update_slow(&mut self, mut data: &[u8]) {
        self.len += data.len() as u64;
        if self.fill > 0 {
            let take = data.len().min(64 - self.fill);
            self.block[self.fill..self.fill + take].copy_from_slice(&data[..take]);
            self.fill += take;
            data = &data[take..];
            if self.fill < 64 {
                return;
            }
            self.crypto.sha256_blocks(&mut self.state, &self.block);
            self.fill = 0;
        }
        let whole = data.len() - data.len() % 64;
        if whole > 0 {
            self.crypto.sha256_blocks(&mut self.state, &data[..whole]);
        }
        let rest = &data[whole..];
        self.block[..rest.len()].copy_from_slice(rest);
        self.fill = rest.len();
    }

    /// The digest: pads and compresses what is left.
    pub fn finish(mut self) -> [u8; 32] {
        let bits = self.len.wrapping_mul(8).to_be_bytes();
        self.block[self.fill] = 0x80;
        self.block[self.fill + 1..].fill(0);
        if self.fill + 1 > 56 {
            self.crypto.sha256_blocks(&mut self.state, &self.block);
            self.block = [0; 64];
        }
        self.block[56..].copy_from_slice(&bits);
        self.crypto.sha256_blocks(&mut self.state, &self.block);
        let mut out = [0u8; 32];
        for (chunk, word) in out.chunks_exact_mut(4).zip(self.state) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        out
    }
}

impl<C: Crypto + ?Sized> borsh::io::Write for Sha256Writer<'_, C> {
    fn write(&mut self, buf: &[u8]) -> borsh::io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> borsh::io::Result<()> {
        self.update(buf);
        Ok(())
    }

    fn flush(&mut self) -> borsh::io::Result<()> {
        Ok(())
    }
}

/// The native implementation with plain Rust crates.
#[derive(Clone, Copy, Debug, Default)]
pub struct NativeCrypto;

impl Crypto for NativeCrypto {
    fn sha256(&self, data: &[u8]) -> [u8; 32] {
        use sha2::Digest;
        sha2::Sha256::digest(data).into()
    }

    fn sha256_compress(&self, block: &[u8; 64]) -> [u8; 32] {
        sha256_compress(block)
    }

    fn keccak256(&self, data: &[u8]) -> [u8; 32] {
        use sha3::Digest;
        sha3::Keccak256::digest(data).into()
    }

    fn secp256k1_verify(&self, pubkey: &PublicKey, prehash: &[u8; 32], sig: &Signature) -> bool {
        use k256::ecdsa::signature::hazmat::PrehashVerifier;
        let mut sec1 = [0u8; 65];
        sec1[0] = 0x04;
        sec1[1..].copy_from_slice(pubkey);
        let Ok(key) = k256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1) else { return false };
        let Ok(sig) = k256::ecdsa::Signature::from_slice(sig) else { return false };
        if sig.normalize_s().is_some() {
            // High-s: a malleable twin of a valid signature; refuse it.
            return false;
        }
        key.verify_prehash(prehash, &sig).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn an_address_reads_as_0x_and_forty_lowercase_hex_digits() {
        let mut bytes = [0u8; 20];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(37) ^ 0xa5;
        }
        let want: alloc::string::String = "0x"
            .chars()
            .chain(
                bytes.iter().flat_map(|b| alloc::format!("{b:02x}").chars().collect::<alloc::vec::Vec<_>>()),
            )
            .collect();
        assert_eq!(Address(bytes).to_string(), want);
        assert_eq!(alloc::format!("{:?}", Address([0xff; 20])), alloc::format!("0x{}", "f".repeat(40)));
        assert_eq!(Address([0; 20]).to_string(), alloc::format!("0x{}", "0".repeat(40)));
    }

    #[test]
    fn one_compression_of_the_padded_block_is_sha256() {
        let mut block = [0u8; 64];
        block[..3].copy_from_slice(b"abc");
        block[3] = 0x80;
        block[63] = 24; // the message length in bits
        assert_eq!(NativeCrypto.sha256_compress(&block), NativeCrypto.sha256(b"abc"));
        assert_ne!(NativeCrypto.sha256_compress(&[0; 64]), NativeCrypto.sha256(&[0; 64]));
    }

    #[test]
    fn the_streaming_hash_is_sha256_of_the_concatenation_for_every_split() {
        use borsh::io::Write;
        let data: alloc::vec::Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        for len in [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 200, 300] {
            let want = NativeCrypto.sha256(&data[..len]);
            for split in [0, 1, 3, 63, 64, 65, 130] {
                let mut w = Sha256Writer::new(&NativeCrypto);
                let (a, b) = data[..len].split_at(split.min(len));
                w.write_all(a).unwrap();
                for chunk in b.chunks(5) {
                    w.write_all(chunk).unwrap();
                }
                assert_eq!(w.finish(), want, "length {len}, split {split}");
            }
        }
    }

    #[test]
    fn hashes_match_published_vectors() {
        let c = NativeCrypto;
        assert_eq!(
            hex::encode(c.sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex::encode(c.keccak256(b"")),
            "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
        );
    }

    #[test]
    fn address_of_the_private_key_one_is_the_known_one() {
        // The generator point G is the public key of private key 1; its address is well known.
        let g = hex::decode(concat!(
            "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
            "483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8"
        ))
        .unwrap();
        let mut pk = [0u8; 64];
        pk.copy_from_slice(&g);
        assert_eq!(NativeCrypto.address_of(&pk).to_string(), "0x7e5f4552091a69125d5dfcb7b8c2659029395bdf");
    }
}
