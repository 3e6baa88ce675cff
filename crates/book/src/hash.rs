//! A fixed, seedless hasher for the book's id maps.
//!
//! The maps are used for point lookups only and are never iterated into any output, so the hash
//! function cannot affect results; it only has to spread ids well and be identical on every
//! target. Ids are 64-bit integers: one multiply by the golden-ratio constant and a fold of the
//! high half into the low bits.

use core::hash::{BuildHasherDefault, Hasher};

/// Hashes one `u64` id.
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
        // One multiply spreads the id; the shift folds its well-mixed high half into the low bits
        // that pick the bucket, so ids differing only in high bits still spread.
        let h = (self.0 ^ x).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.0 = h ^ (h >> 29);
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
