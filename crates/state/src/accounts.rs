//! The state's tables: accounts, markets and per-asset amounts in flat, sorted vectors instead of
//! ordered maps.
//!
//! A command touches its signer's account four times or more (nonce check, balance check, lock,
//! nonce increment), its market four times (time, checks, the book, settlement) and each fill two
//! accounts more. In a zkVM guest an ordered-map lookup costs tens of cycles (about 70 among 16
//! accounts) and a balance lookup inside the account another 50; these tables make the common
//! lookups a handful of instructions:
//!
//! - [`IdTable`] ([`AccountTable`], and the markets'): ids ascending beside their values.
//!   Natively ids are dense (`0..n`, never removed), so id `i` sits at index `i` and is found in
//!   one comparison; a witness-built state holds a sparse set and searches it, but first tries
//!   the entry last looked up mutably — the command's signer, or its market, for most lookups of
//!   a command.
//! - [`AssetMap`] ([`Balances`] of an account, and the exchange's fee, deposit and withdrawal
//!   totals): (asset, value) pairs ascending by asset, searched linearly (a few assets each).
//!
//! They iterate in ascending key order, as the maps they replace did, so the commitment leaves
//! and every output are unchanged.

use alloc::vec::Vec;
use zkclob_core::{AccountId, AssetId, MarketId};

use crate::crypto::Address;

/// Available and locked atoms of one asset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Balance {
    /// Free to trade or withdraw.
    pub available: u128,
    /// Held by resting orders.
    pub locked: u128,
}

/// One account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// Its Ethereum address.
    pub address: Address,
    /// The next nonce it must use.
    pub nonce: u64,
    /// Balances by asset.
    pub balances: Balances,
}

/// An account's balances, ascending asset; see the module docs.
pub type Balances = AssetMap<Balance>;

/// A small map keyed by asset, ascending: a sorted vector searched linearly (an account or the
/// exchange holds a few assets, and a scan of two or three entries beats any tree). An account's
/// balances, and the exchange's fee, deposit and withdrawal totals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssetMap<V>(Vec<(AssetId, V)>);

impl<V> Default for AssetMap<V> {
    fn default() -> Self {
        AssetMap(Vec::new())
    }
}

impl<V: Default> AssetMap<V> {
    /// The value of `asset`, if present.
    #[inline]
    pub fn get(&self, asset: &AssetId) -> Option<&V> {
        self.0.iter().find(|(a, _)| a == asset).map(|(_, v)| v)
    }

    /// The value of `asset`, mutable, if present.
    #[inline]
    pub fn get_mut(&mut self, asset: &AssetId) -> Option<&mut V> {
        self.0.iter_mut().find(|(a, _)| a == asset).map(|(_, v)| v)
    }

    /// The value of `asset`, created (in its place in the order) as the default if absent.
    #[inline]
    pub fn entry(&mut self, asset: AssetId) -> &mut V {
        let i = match self.0.iter().position(|(a, _)| *a == asset) {
            Some(i) => i,
            None => self.insert_default(asset),
        };
        &mut self.0[i].1
    }

    #[cold]
    fn insert_default(&mut self, asset: AssetId) -> usize {
        let i = self.0.partition_point(|(a, _)| *a < asset);
        self.0.insert(i, (asset, V::default()));
        i
    }

    /// Sets the value of `asset`.
    pub fn insert(&mut self, asset: AssetId, value: V) {
        *self.entry(asset) = value;
    }

    /// (asset, value), ascending asset.
    pub fn iter(&self) -> impl Iterator<Item = (&AssetId, &V)> + '_ {
        self.0.iter().map(|(a, v)| (a, v))
    }

    /// Entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Collected in any order; a repeated asset keeps its last value (as collecting into an
/// ordered map would).
impl<V: Default> FromIterator<(AssetId, V)> for AssetMap<V> {
    fn from_iter<I: IntoIterator<Item = (AssetId, V)>>(iter: I) -> Self {
        let mut m = AssetMap::default();
        for (asset, value) in iter {
            m.insert(asset, value);
        }
        m
    }
}

/// An id handed out counting up from 0 (accounts, markets): a table of them tries index = id
/// first.
pub trait DenseId: Copy + Ord {
    /// The index the id has in a table holding every id below it.
    fn index(self) -> usize;
}

impl DenseId for AccountId {
    #[inline(always)]
    fn index(self) -> usize {
        self.0 as usize
    }
}

impl DenseId for MarketId {
    #[inline(always)]
    fn index(self) -> usize {
        self.0 as usize
    }
}

/// Accounts by id, ascending; see the module docs.
pub type AccountTable = IdTable<AccountId, Account>;

/// Values by id, ascending: ids beside their values in two vectors. See the module docs.
#[derive(Clone, Debug)]
pub struct IdTable<K, V> {
    ids: Vec<K>,
    values: Vec<V>,
    /// Index of the last value looked up mutably: tried first by every lookup. Only a hint;
    /// never changes a result. (A plain index, set only through `&mut self`, so the table stays
    /// `Sync` for the node's readers.)
    last: usize,
}

impl<K, V> Default for IdTable<K, V> {
    fn default() -> Self {
        IdTable { ids: Vec::new(), values: Vec::new(), last: 0 }
    }
}

impl<K: DenseId, V> IdTable<K, V> {
    /// The index of `id`, or where it would go.
    #[inline]
    fn position(&self, id: K) -> Result<usize, usize> {
        if self.ids.get(self.last) == Some(&id) {
            return Ok(self.last);
        }
        // Dense ids (every native state): id i is at index i.
        let dense = id.index();
        if self.ids.get(dense) == Some(&id) {
            return Ok(dense);
        }
        self.ids.binary_search(&id)
    }

    /// The value of `id`.
    #[inline]
    pub fn get(&self, id: &K) -> Option<&V> {
        self.position(*id).ok().map(|i| &self.values[i])
    }

    /// The value of `id`, mutable.
    #[inline]
    pub fn get_mut(&mut self, id: &K) -> Option<&mut V> {
        let i = self.position(*id).ok()?;
        self.last = i;
        Some(&mut self.values[i])
    }

    /// Whether `id` is present.
    pub fn contains_key(&self, id: &K) -> bool {
        self.position(*id).is_ok()
    }

    /// Sets the value of `id` (replacing one already there).
    pub fn insert(&mut self, id: K, value: V) {
        // New ids count up: appending is the common case.
        if self.ids.last().is_none_or(|last| *last < id) {
            self.ids.push(id);
            self.values.push(value);
            return;
        }
        match self.position(id) {
            Ok(i) => self.values[i] = value,
            Err(i) => {
                self.ids.insert(i, id);
                self.values.insert(i, value);
            }
        }
    }

    /// Entries.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Ids, ascending.
    pub fn keys(&self) -> impl Iterator<Item = &K> + '_ {
        self.ids.iter()
    }

    /// Values, ascending id.
    pub fn values(&self) -> impl Iterator<Item = &V> + '_ {
        self.values.iter()
    }

    /// (id, value), ascending id.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> + '_ {
        self.ids.iter().zip(self.values.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeMap;
    use zkclob_core::DetRng;

    fn account(nonce: u64) -> Account {
        Account { address: Address([nonce as u8; 20]), nonce, balances: Balances::default() }
    }

    /// Random inserts and lookups, dense and sparse, answer as an ordered map does.
    #[test]
    fn the_table_answers_as_an_ordered_map() {
        let mut rng = DetRng::seed_from_u64(5);
        for round in 0..50 {
            let mut table = AccountTable::default();
            let mut map = BTreeMap::new();
            let span = if round % 2 == 0 { 40 } else { 1_000_000 };
            for step in 0..200u64 {
                let id = AccountId(if rng.chance(1, 3) { map.len() as u64 } else { rng.below(span) });
                if rng.chance(1, 2) {
                    table.insert(id, account(step));
                    map.insert(id, account(step));
                }
                let probe = AccountId(rng.below(span));
                assert_eq!(table.get(&probe), map.get(&probe), "round {round} step {step}");
                assert_eq!(table.get(&id), map.get(&id), "round {round} step {step}");
                if let (Some(t), Some(m)) = (table.get_mut(&id), map.get_mut(&id)) {
                    t.nonce += 1;
                    m.nonce += 1;
                }
            }
            assert!(table.iter().eq(map.iter()));
            assert_eq!(table.len(), map.len());
        }
    }

    #[test]
    fn balances_keep_ascending_assets_and_the_last_of_a_repeat() {
        let b = |n: u128| Balance { available: n, locked: 0 };
        let mut balances: Balances =
            [(AssetId(3), b(1)), (AssetId(1), b(2)), (AssetId(3), b(4))].into_iter().collect();
        assert_eq!(balances.iter().map(|(a, b)| (a.0, b.available)).collect::<Vec<_>>(), [(1, 2), (3, 4)]);
        balances.entry(AssetId(2)).locked = 7;
        balances.entry(AssetId(9)).available = 1;
        let assets: Vec<u32> = balances.iter().map(|(a, _)| a.0).collect();
        assert_eq!(assets, [1, 2, 3, 9]);
        assert_eq!(balances.get(&AssetId(2)).map(|b| b.locked), Some(7));
        assert_eq!(balances.get(&AssetId(5)), None);
        assert_eq!(balances.len(), 4);
    }
}
