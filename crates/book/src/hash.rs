//! [`IdMap`]: the book's `u64` id → `u32` slot table.
//!
//! Open addressing with linear probing, Fibonacci hashing (one multiply, top bits) and
//! backward-shift deletion (no tombstones), kept at most half full. It is specialised for what the
//! book needs — point lookups of integer ids to arena slots — and is several times cheaper per
//! operation than a general hash map. Its layout depends only on the sequence of operations, so it
//! is deterministic on every target; it is never iterated into any output.
//!
//! Exchange-assigned ids (sequential) spread perfectly. Ids chosen by an adversary to collide
//! could lengthen probe sequences; the exchange state assigns order ids itself for that reason.

use alloc::vec;
use alloc::vec::Vec;

/// The empty-slot marker: values are arena slots, which never reach `u32::MAX`.
const EMPTY: u32 = u32::MAX;
const MIN_CAPACITY: usize = 16;

#[derive(Clone, Copy, Debug)]
struct Entry {
    key: u64,
    val: u32,
}

/// A map from `u64` keys to `u32` values (`u32::MAX` is reserved).
#[derive(Clone, Debug)]
pub(crate) struct IdMap {
    entries: Vec<Entry>,
    /// `64 - log2(capacity)`: the shift that turns a product into a bucket.
    shift: u32,
    len: usize,
}

impl Default for IdMap {
    fn default() -> Self {
        IdMap::with_capacity(0)
    }
}

impl IdMap {
    /// A map that holds `n` keys before it grows.
    pub fn with_capacity(n: usize) -> IdMap {
        let cap = (n * 2).max(MIN_CAPACITY).next_power_of_two();
        IdMap { entries: vec![Entry { key: 0, val: EMPTY }; cap], shift: 64 - cap.trailing_zeros(), len: 0 }
    }

    #[inline]
    fn mask(&self) -> usize {
        self.entries.len() - 1
    }

    #[inline]
    fn home(&self, key: u64) -> usize {
        (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> self.shift) as usize
    }

    /// Number of keys.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// The value of `key`.
    #[inline(always)]
    pub fn get(&self, key: &u64) -> Option<&u32> {
        let mask = self.mask();
        let mut i = self.home(*key);
        loop {
            let e = &self.entries[i];
            if e.val == EMPTY {
                return None;
            }
            if e.key == *key {
                return Some(&e.val);
            }
            i = (i + 1) & mask;
        }
    }

    /// Inserts or replaces; returns the previous value.
    #[inline]
    pub fn insert(&mut self, key: u64, val: u32) -> Option<u32> {
        debug_assert_ne!(val, EMPTY);
        if (self.len + 1) * 2 > self.entries.len() {
            self.grow();
        }
        let mask = self.mask();
        let mut i = self.home(key);
        loop {
            let e = &mut self.entries[i];
            if e.val == EMPTY {
                *e = Entry { key, val };
                self.len += 1;
                return None;
            }
            if e.key == key {
                return Some(core::mem::replace(&mut e.val, val));
            }
            i = (i + 1) & mask;
        }
    }

    /// Inserts a key known to be absent (one probe sequence, no key comparisons).
    #[inline]
    pub fn insert_new(&mut self, key: u64, val: u32) {
        debug_assert_ne!(val, EMPTY);
        debug_assert!(self.get(&key).is_none(), "insert_new of a present key");
        if (self.len + 1) * 2 > self.entries.len() {
            self.grow();
        }
        let mask = self.mask();
        let mut i = self.home(key);
        while self.entries[i].val != EMPTY {
            i = (i + 1) & mask;
        }
        self.entries[i] = Entry { key, val };
        self.len += 1;
    }

    /// Removes `key`; returns its value.
    #[inline]
    pub fn remove(&mut self, key: &u64) -> Option<u32> {
        let mask = self.mask();
        let mut i = self.home(*key);
        loop {
            let e = self.entries[i];
            if e.val == EMPTY {
                return None;
            }
            if e.key == *key {
                break;
            }
            i = (i + 1) & mask;
        }
        let removed = self.entries[i].val;
        // Backward-shift: pull later entries of the cluster into the hole when their home allows.
        let mut hole = i;
        let mut j = i;
        loop {
            j = (j + 1) & mask;
            let e = self.entries[j];
            if e.val == EMPTY {
                break;
            }
            let home = self.home(e.key);
            // `e` may fill the hole if the hole lies cyclically in [home, j).
            if (j.wrapping_sub(home) & mask) >= (j.wrapping_sub(hole) & mask) {
                self.entries[hole] = e;
                hole = j;
            }
        }
        self.entries[hole].val = EMPTY;
        self.len -= 1;
        Some(removed)
    }

    fn grow(&mut self) {
        let old = core::mem::take(&mut self.entries);
        let cap = (old.len() * 2).max(MIN_CAPACITY);
        self.entries = vec![Entry { key: 0, val: EMPTY }; cap];
        self.shift = 64 - cap.trailing_zeros();
        self.len = 0;
        for e in old {
            if e.val != EMPTY {
                self.insert(e.key, e.val);
            }
        }
    }

    /// Every (key, value), in table order. Only for checks whose result does not depend on order.
    pub fn iter(&self) -> impl Iterator<Item = (&u64, &u32)> {
        self.entries.iter().filter(|e| e.val != EMPTY).map(|e| (&e.key, &e.val))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeMap;
    use zkclob_core::DetRng;

    #[test]
    fn behaves_like_a_btreemap_under_random_operations() {
        let mut rng = DetRng::seed_from_u64(9);
        let mut m = IdMap::default();
        let mut reference = BTreeMap::new();
        for step in 0..200_000u32 {
            // Small key space so inserts, hits, misses and removals all happen often; some keys
            // share their low bits to make clusters.
            let key = rng.below(3_000) << if rng.chance(1, 4) { 40 } else { 0 };
            match rng.below(3) {
                0 => assert_eq!(m.insert(key, step), reference.insert(key, step), "insert {key}"),
                1 => assert_eq!(m.remove(&key), reference.remove(&key), "remove {key}"),
                _ => assert_eq!(m.get(&key), reference.get(&key), "get {key}"),
            }
            assert_eq!(m.len(), reference.len());
        }
        let mut all: alloc::vec::Vec<(u64, u32)> = m.iter().map(|(k, v)| (*k, *v)).collect();
        all.sort_unstable();
        assert_eq!(all, reference.into_iter().collect::<alloc::vec::Vec<_>>());
    }

    #[test]
    fn extreme_keys_work() {
        let mut m = IdMap::with_capacity(4);
        for k in [0, 1, u64::MAX, u64::MAX - 1, 1 << 63] {
            assert_eq!(m.insert(k, 7), None);
        }
        assert_eq!(m.get(&u64::MAX), Some(&7));
        assert_eq!(m.remove(&0), Some(7));
        assert_eq!(m.get(&0), None);
        assert_eq!(m.len(), 4);
    }
}
