//! A fixed, seedless hasher for the book's id maps.
//!
//! The maps are used for point lookups only and are never iterated into any output, so the hash
//! function cannot affect results; it only has to spread ids well and be identical on every
//! target. Ids are 64-bit integers, so the hasher is the murmur3 64-bit finaliser.

use core::hash::{BuildHasherDefault, Hasher};

/// Hashes one `u64` with the murmur3 finaliser.
#[derive(Default, Clone, Copy, Debug)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        // Only reached for non-u64 keys; fold bytes in, then finalise.
        for &b in bytes {
            self.0 = (self.0 ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = fmix64(self.0);
    }

    #[inline]
    fn write_u64(&mut self, x: u64) {
        self.0 = fmix64(self.0 ^ x);
    }
}

#[inline]
fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^ (k >> 33)
}

/// A hash map from 64-bit ids.
pub(crate) type IdMap<V> = hashbrown::HashMap<u64, V, BuildHasherDefault<IdHasher>>;
