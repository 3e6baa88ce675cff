//! The state commitment: one depth-32 SHA-256 Merkle tree ([`crate::merkle`]) over the whole
//! exchange state, updated incrementally.
//!
//! Leaf index = kind (top 4 bits of 32) | id (low 28 bits):
//!
//! | kind | id | leaf data (borsh) |
//! |---|---|---|
//! | 0 global | 0 | [`GlobalLeaf`]: chain id, operator, batch number and time, order and account counters, fee, deposit and withdrawal totals per asset, the withdrawal hash chain |
//! | 1 account | account id | [`AccountLeaf`]: address, nonce, balances (available, locked) per asset |
//! | 2 market | market id | [`MarketLeaf`]: spec, fees, and the book's canonical snapshot (every order), as 32-bit words ([`MarketLeaf::hash`]) |
//! | 3 address bucket | low 28 bits of keccak(address) | [`BucketLeaf`]: the (address, account id) pairs whose address falls in the bucket |
//!
//! Buckets let a zkVM guest prove that an address has *no* account (its bucket leaf does not list
//! it) with one depth-32 path, so a prover cannot hide an account to change a command's outcome.
//! Leaves are `sha256(0x00 ‖ data)` with `data` the borsh encoding, except market leaves: their
//! data is a stream of big-endian 32-bit words (see [`MarketLeaf::hash`]), which SHA-256 takes
//! as its message words. A book is most of what a batch hashes, and a zkVM guest hashes words
//! several times cheaper than bytes (no encoding to bytes and back per field).
//!
//! In this first version a market's whole book is one leaf: a batch that touches a market hashes
//! its whole snapshot (cost linear in the book's size), and a guest receives the whole book.
//! Orders get their own leaves once witnesses carry partial books.

use alloc::vec::Vec;
use borsh::{BorshDeserialize, BorshSerialize};
use zkclob_book::BookSnapshot;
use zkclob_core::{AccountId, AssetId, MarketId, MarketSpec, Timestamp};

use crate::accounts::AssetMap;
use crate::command::FeeSchedule;
use crate::crypto::{Address, Crypto};
use crate::exchange::ExchangeState;
use crate::merkle::{Hash, LeafWords, MerkleError, MerkleHasher, MerkleTree, EMPTY_LEAF};

/// Depth of the state tree.
pub const TREE_DEPTH: u8 = 32;
/// Bits of the id part of a leaf index; ids (accounts, markets) must be below `1 << ID_BITS`.
pub const ID_BITS: u32 = 28;

/// Leaf index of the global leaf.
pub const fn global_index() -> u64 {
    0
}
/// Leaf index of an account.
pub const fn account_index(id: AccountId) -> u64 {
    (1 << ID_BITS) | (id.0 & ((1 << ID_BITS) - 1))
}
/// Leaf index of a market.
pub const fn market_index(id: MarketId) -> u64 {
    (2 << ID_BITS) | (id.0 as u64 & ((1 << ID_BITS) - 1))
}
/// Leaf index of an address bucket.
pub const fn bucket_index(bucket: u32) -> u64 {
    (3 << ID_BITS) | (bucket as u64 & ((1 << ID_BITS) - 1))
}
/// The bucket of an address: the low 28 bits of keccak-256(address).
pub fn bucket_of(crypto: &impl Crypto, address: &Address) -> u32 {
    let h = crypto.keccak256(&address.0);
    u32::from_be_bytes([h[28], h[29], h[30], h[31]]) & ((1 << ID_BITS) - 1)
}

/// The global leaf.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct GlobalLeaf {
    /// Chain id.
    pub chain_id: u64,
    /// Operator.
    pub operator: Address,
    /// Last applied batch.
    pub batch_number: u64,
    /// Its time.
    pub timestamp: Timestamp,
    /// Next order id.
    pub next_order_id: u64,
    /// Accounts ever created (the next account id).
    pub account_count: u64,
    /// Fees collected per asset, ascending asset.
    pub fees: Vec<(AssetId, u128)>,
    /// Deposits per asset.
    pub deposited: Vec<(AssetId, u128)>,
    /// Withdrawals per asset.
    pub withdrawn: Vec<(AssetId, u128)>,
    /// Withdrawals queued so far.
    pub withdrawal_count: u64,
    /// keccak-256 chain over the queued withdrawals: `c' = keccak256(c || borsh(withdrawal))`.
    pub withdrawal_chain: [u8; 32],
}

/// An account leaf.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct AccountLeaf {
    /// Address.
    pub address: Address,
    /// Next nonce.
    pub nonce: u64,
    /// (asset, available, locked), ascending asset.
    pub balances: Vec<(AssetId, u128, u128)>,
}

/// A market leaf.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct MarketLeaf {
    /// Spec.
    pub spec: MarketSpec,
    /// Fees.
    pub fees: FeeSchedule,
    /// The whole book.
    pub book: BookSnapshot,
}

/// The first word of a market leaf's word stream: the leaf prefix 0x00, then `MK` and the
/// layout's version (1).
pub const MARKET_LEAF_TAG: u32 = 0x004D_4B01;

impl MarketLeaf {
    /// The leaf's hash: [`MerkleHasher::hash_leaf_words`] of [`MARKET_LEAF_TAG`], the borsh
    /// encoding of `(spec, fees)` as words ([`LeafWords::put_bytes`]: its length, then the bytes
    /// four to a word) and the book's word encoding ([`BookSnapshot::write_words`]).
    pub fn hash<H: MerkleHasher>(&self, h: &H) -> Hash {
        market_leaf_hash(h, &self.spec, &self.fees, |w| self.book.write_words(w))
    }
}

/// [`MarketLeaf::hash`] with the book's words written by `book`: straight from a [`zkclob_book::Book`]
/// ([`zkclob_book::Book::write_words`]) or from a snapshot, the same words either way.
fn market_leaf_hash<H: MerkleHasher>(
    h: &H,
    spec: &MarketSpec,
    fees: &FeeSchedule,
    book: impl FnOnce(&mut LeafWords<'_, H>),
) -> Hash {
    h.hash_leaf_words(MARKET_LEAF_TAG, |w| {
        let head = borsh::to_vec(&(spec, fees)).expect("writing to a Vec is infallible");
        w.put_bytes(&head);
        book(w);
    })
}

/// An address bucket leaf.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct BucketLeaf {
    /// (address, account id), ascending address.
    pub entries: Vec<(Address, AccountId)>,
}

fn sorted_pairs(m: &AssetMap<u128>) -> Vec<(AssetId, u128)> {
    m.iter().map(|(a, v)| (*a, *v)).collect()
}

impl ExchangeState {
    /// The global leaf of the current state.
    pub fn global_leaf(&self) -> GlobalLeaf {
        GlobalLeaf {
            chain_id: self.chain_id,
            operator: self.operator,
            batch_number: self.batch_number,
            timestamp: self.timestamp,
            next_order_id: self.next_order_id,
            account_count: self.account_count,
            fees: sorted_pairs(&self.fees),
            deposited: sorted_pairs(&self.deposited),
            withdrawn: sorted_pairs(&self.withdrawn),
            withdrawal_count: self.withdrawal_count,
            withdrawal_chain: self.withdrawal_chain,
        }
    }

    /// The leaf of an account.
    pub fn account_leaf(&self, id: AccountId) -> Option<AccountLeaf> {
        let a = self.accounts.get(&id)?;
        Some(AccountLeaf {
            address: a.address,
            nonce: a.nonce,
            balances: a.balances.iter().map(|(asset, b)| (*asset, b.available, b.locked)).collect(),
        })
    }

    /// The leaf of a market.
    pub fn market_leaf(&self, id: MarketId) -> Option<MarketLeaf> {
        let m = self.markets.get(&id)?;
        Some(MarketLeaf { spec: m.spec, fees: m.fees, book: m.book.snapshot() })
    }

    /// The hash of a market's leaf ([`MarketLeaf::hash`]), computed straight from its book
    /// without a snapshot copy: what the commitment hashes.
    pub fn market_leaf_hash<H: MerkleHasher>(&self, h: &H, id: MarketId) -> Option<Hash> {
        let m = self.markets.get(&id)?;
        Some(market_leaf_hash(h, &m.spec, &m.fees, |w| m.book.write_words(w)))
    }

    /// (leaf index, leaf hash) of the global leaf and of the named accounts, markets and address
    /// buckets as the state holds them now (an absent account or market, or an empty bucket, is
    /// the empty leaf), in the order named. Market leaves are hashed straight from their books.
    pub(crate) fn leaf_hashes_of<H: MerkleHasher>(
        &self,
        h: &H,
        accounts: impl ExactSizeIterator<Item = AccountId>,
        markets: impl ExactSizeIterator<Item = MarketId>,
        buckets: impl ExactSizeIterator<Item = u32>,
    ) -> Vec<(u64, Hash)> {
        let mut leaves = Vec::with_capacity(1 + accounts.len() + markets.len() + buckets.len());
        leaves.push((global_index(), h.hash_leaf_encoded(&self.global_leaf())));
        for id in accounts {
            let leaf = self.account_leaf(id).map_or(EMPTY_LEAF, |l| h.hash_leaf_encoded(&l));
            leaves.push((account_index(id), leaf));
        }
        for id in markets {
            let leaf = self.market_leaf_hash(h, id).unwrap_or(EMPTY_LEAF);
            leaves.push((market_index(id), leaf));
        }
        for b in buckets {
            let leaf = self.bucket_leaf(b);
            let hash = if leaf.entries.is_empty() { EMPTY_LEAF } else { h.hash_leaf_encoded(&leaf) };
            leaves.push((bucket_index(b), hash));
        }
        leaves
    }

    /// The leaf of an address bucket.
    pub fn bucket_leaf(&self, bucket: u32) -> BucketLeaf {
        BucketLeaf { entries: self.buckets.get(&bucket).cloned().unwrap_or_default() }
    }
}

/// The incrementally maintained commitment of an [`ExchangeState`].
#[derive(Clone, Debug)]
pub struct StateCommitment<H: MerkleHasher> {
    tree: MerkleTree<H>,
}

impl<H: MerkleHasher> StateCommitment<H> {
    /// Commits to every leaf of `state` (and clears its dirty marks).
    pub fn build(hasher: H, state: &mut ExchangeState) -> Result<Self, MerkleError> {
        let mut c = StateCommitment { tree: MerkleTree::with_hasher(hasher, TREE_DEPTH)? };
        let accounts: Vec<AccountId> = state.accounts.keys().copied().collect();
        let markets: Vec<MarketId> = state.markets.keys().copied().collect();
        let buckets: Vec<u32> = state.buckets.keys().copied().collect();
        c.write(state, &accounts, &markets, &buckets)?;
        state.clear_dirty();
        Ok(c)
    }

    /// The current root.
    pub fn root(&self) -> Hash {
        self.tree.root()
    }

    /// The tree (for proofs).
    pub fn tree(&self) -> &MerkleTree<H> {
        &self.tree
    }

    /// Re-commits the leaves `state` marked dirty since the last update, and the global leaf.
    pub fn update(&mut self, state: &mut ExchangeState) -> Result<Hash, MerkleError> {
        let (accounts, markets, buckets) = state.take_dirty();
        self.write(state, &accounts, &markets, &buckets)?;
        Ok(self.root())
    }

    fn write(
        &mut self,
        state: &ExchangeState,
        accounts: &[AccountId],
        markets: &[MarketId],
        buckets: &[u32],
    ) -> Result<(), MerkleError> {
        let leaves = state.leaf_hashes_of(
            self.tree.hasher(),
            accounts.iter().copied(),
            markets.iter().copied(),
            buckets.iter().copied(),
        );
        self.tree.set_many_hashes(leaves)
    }
}
