//! [`DirectMap`]: a direct-mapped table of arena slots in front of an [`IdMap`].
//!
//! A key goes to the table entry `key mod capacity` if that entry is free, otherwise to the
//! overflow [`IdMap`]. The table holds only values (arena slots); the key of a value is read back
//! from the arena through the caller's `key_of`, which the caller needs to touch anyway (a cancel
//! reads the order it finds).
//!
//! Why: keys that the book sees arrive nearly consecutive — order ids assigned by the exchange in
//! increasing order — so almost every key has its table entry to itself.
//! A lookup, an insert and a removal are then one load and one well-predicted branch, with no
//! probe sequence to mispredict; on the `vs_lobster` workload the probe loops of the hash map
//! were the engine's largest source of branch mispredictions. Keys that collide (adversarial or
//! just unlucky) fall back to the hash map, so the worst case is the hash map's.
//!
//! The layout depends only on the sequence of operations, so it is deterministic on every target;
//! nothing iterates it into any output.

use alloc::vec;
use alloc::vec::Vec;

use crate::hash::IdMap;

/// The empty-entry marker: values are arena slots, which never reach `u32::MAX`.
const EMPTY: u32 = u32::MAX;
const MIN_CAPACITY: usize = 64;
/// The table is kept at most an eighth full. Share of the live orders of the `vs_lobster`
/// workload that sit in the overflow map: about 15% at half full, 4.5% at a quarter (replays ~7%
/// faster than at half), 0.6% at an eighth (~3% faster again, −0.1 simulated mispredictions per
/// operation; a sixteenth gained nothing more). It costs 32 bytes per live key: 32 MB at the
/// default limit of 1,000,000 orders.
const LOAD_INVERSE: usize = 8;

/// A map from `u64` keys to `u32` arena slots whose keys the caller can read back.
#[derive(Clone, Debug)]
pub(crate) struct DirectMap {
    /// Value of the key `k` at `k & (len - 1)`, or `EMPTY`; the length is a power of two.
    table: Vec<u32>,
    /// Keys whose table entry was taken when they arrived.
    overflow: IdMap,
    len: usize,
}

impl Default for DirectMap {
    fn default() -> Self {
        DirectMap { table: vec![EMPTY; MIN_CAPACITY], overflow: IdMap::default(), len: 0 }
    }
}

impl DirectMap {
    /// Number of keys.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    #[inline]
    fn pos(&self, key: u64) -> usize {
        key as usize & (self.table.len() - 1)
    }

    /// The value of `key`; `key_of` gives the key of a stored value.
    #[inline]
    pub fn get(&self, key: u64, key_of: impl Fn(u32) -> u64) -> Option<u32> {
        let v = self.table[self.pos(key)];
        if v != EMPTY && key_of(v) == key {
            return Some(v);
        }
        if self.overflow.len() == 0 {
            return None;
        }
        self.overflow.get(&key).copied()
    }

    /// Inserts a key known to be absent. `key_of` must already answer for `val`.
    #[inline(always)]
    pub fn insert_new(&mut self, key: u64, val: u32, key_of: impl Fn(u32) -> u64) {
        debug_assert_ne!(val, EMPTY);
        debug_assert!(self.get(key, &key_of).is_none(), "insert_new of a present key");
        if (self.len + 1) * LOAD_INVERSE > self.table.len() {
            self.grow(&key_of);
        }
        self.put(key, val);
    }

    /// Stores an absent key: in its table entry if free, else in the overflow map.
    #[inline(always)]
    fn put(&mut self, key: u64, val: u32) {
        let i = self.pos(key);
        if self.table[i] == EMPTY {
            self.table[i] = val;
        } else {
            self.overflow.insert_new(key, val);
        }
        self.len += 1;
    }

    /// Removes `key`, which is present with value `val`.
    #[inline]
    pub fn remove(&mut self, key: u64, val: u32) {
        let i = self.pos(key);
        // A value is stored once, so finding `val` at the key's own entry means it is this key's.
        if self.table[i] == val {
            self.table[i] = EMPTY;
        } else {
            let removed = self.overflow.remove(&key);
            debug_assert_eq!(removed, Some(val), "remove of an absent key");
        }
        self.len -= 1;
    }

    /// Makes room for `additional` more keys without growing again.
    pub fn reserve(&mut self, additional: usize, key_of: impl Fn(u32) -> u64) {
        let need = (self.len + additional).saturating_mul(LOAD_INVERSE);
        if need > self.table.len() {
            self.rebuild(need.next_power_of_two(), &key_of);
        }
    }

    /// Doubles the table.
    #[cold]
    fn grow(&mut self, key_of: &impl Fn(u32) -> u64) {
        self.rebuild(self.table.len() * 2, key_of);
    }

    /// Re-inserts every key into a table of `capacity` entries (table first, in table order, then
    /// the overflow in its table order: a deterministic order).
    fn rebuild(&mut self, capacity: usize, key_of: &impl Fn(u32) -> u64) {
        let entries: Vec<(u64, u32)> = self.iter(key_of).collect();
        self.table = vec![EMPTY; capacity];
        self.overflow = IdMap::default();
        self.len = 0;
        for (key, val) in entries {
            self.put(key, val);
        }
    }

    /// Every (key, value), in table order. Only for checks whose result does not depend on order.
    pub fn iter<'a>(&'a self, key_of: &'a impl Fn(u32) -> u64) -> impl Iterator<Item = (u64, u32)> + 'a {
        let table = self.table.iter().filter(|&&v| v != EMPTY).map(|&v| (key_of(v), v));
        table.chain(self.overflow.iter().map(|(&k, &v)| (k, v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeMap;
    use zkclob_core::DetRng;

    /// Keys live in a side array indexed by value, as orders live in the arena.
    #[test]
    fn behaves_like_a_btreemap_under_random_operations() {
        let mut rng = DetRng::seed_from_u64(11);
        let mut m = DirectMap::default();
        let mut reference: BTreeMap<u64, u32> = BTreeMap::new();
        let mut keys: Vec<u64> = Vec::new(); // value -> key
        let mut free: Vec<u32> = Vec::new();
        let mut next_key = 0u64;
        for _ in 0..60_000u32 {
            match rng.below(3) {
                0 => {
                    // Mostly increasing keys, some colliding (same low bits) and some repeated.
                    let key = match rng.below(4) {
                        0 => rng.below(4_000) << 20,
                        1 => rng.below(4_000),
                        _ => {
                            next_key += 1 + rng.below(3);
                            next_key
                        }
                    };
                    if reference.contains_key(&key) {
                        continue;
                    }
                    let val = free.pop().unwrap_or_else(|| {
                        keys.push(0);
                        (keys.len() - 1) as u32
                    });
                    keys[val as usize] = key;
                    m.insert_new(key, val, |v| keys[v as usize]);
                    reference.insert(key, val);
                }
                1 => {
                    let Some((&key, &val)) =
                        reference.iter().nth(rng.below(reference.len() as u64 + 1) as usize)
                    else {
                        continue;
                    };
                    m.remove(key, val);
                    reference.remove(&key);
                    free.push(val);
                }
                _ => {
                    let key = if rng.chance(1, 2) {
                        next_key.saturating_sub(rng.below(50))
                    } else {
                        rng.below(4_000)
                    };
                    assert_eq!(m.get(key, |v| keys[v as usize]), reference.get(&key).copied(), "get {key}");
                }
            }
            assert_eq!(m.len(), reference.len());
        }
        let key_of = |v: u32| keys[v as usize];
        let mut all: Vec<(u64, u32)> = m.iter(&key_of).collect();
        all.sort_unstable();
        assert_eq!(all, reference.into_iter().collect::<Vec<_>>());
    }
}
