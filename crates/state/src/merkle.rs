//! The state commitment: a fixed-depth binary Merkle tree over dense leaf indices.
//!
//! The exchange hands out dense indices to accounts, orders and markets, so a leaf lives at index
//! `i < 2^depth` and no key is hashed into a path (the exchange uses `depth = 32`). Most of the tree
//! is empty: the hash of an empty subtree at each level is precomputed, and [`MerkleTree`] stores
//! only nodes whose subtree holds a non-empty leaf, in a `BTreeMap` so that every iteration order
//! is deterministic.
//!
//! # Hashing and its cost
//! Hashing goes through [`MerkleHasher`] so zkVM guests can plug in a precompile.
//! [`Sha256Hasher`]:
//! - leaf: `SHA-256(0x00 || data)` (the full hash, padding included);
//! - node: `SHA-256-compress(IV, left || right)`: **one** application of SHA-256's compression
//!   function to the 64-byte block `left || right` from the standard initial value, without the
//!   padding block. A full SHA-256 of 64 bytes costs two compressions (the padding takes a block
//!   of its own), so this halves the cost of every node, the bulk of a witness's hashing. The
//!   compression function is what SHA-256's collision resistance rests on (Merkle–Damgård), and
//!   every zkVM here accelerates exactly it (SP1 extend+compress, ZisK `sha256f`);
//! - empty leaf: [`EMPTY_LEAF`] = 32 zero bytes (not a hash, so it costs nothing; finding data
//!   whose leaf hash is zero is a preimage attack), and `empty[l + 1] = node(empty[l], empty[l])`.
//!
//! The depth is fixed, so a verifier always knows whether it is combining leaves or nodes; the
//! leaf prefix byte and the different functions for leaves and nodes keep the two apart anyway.
//! A leaf of `n` bytes costs `(n + 9) / 64 + 1` compressions (rounded down), a node one; the zkVM
//! cost is dominated by the number of [`MerkleHasher::hash_node`] calls, which [`CountingHasher`]
//! counts.
//!
//! # Witnesses
//! [`MerkleTree::prove`] gives a single-leaf sibling path. [`MerkleTree::prove_many`] gives a
//! [`MultiProof`]: the fewest siblings that let a verifier recompute the root from a set of leaves,
//! with empty-subtree siblings reduced to one bit each. A guest checks the pre-state leaves against
//! the pre-root and computes the post-root from the same proof with [`MultiProof::update_root`].
//!
//! ```
//! use zkclob_state::merkle::{MerkleTree, Sha256Hasher, MerkleHasher, EMPTY_LEAF};
//! let mut tree = MerkleTree::new(32).expect("32 is a valid depth");
//! tree.set(7, b"account 7").expect("7 < 2^32");
//! let proof = tree.prove_many(&[7, 9]).expect("indices are in range");
//! let old = [(7, Sha256Hasher.hash_leaf(b"account 7")), (9, EMPTY_LEAF)];
//! let new = [(9, Sha256Hasher.hash_leaf(b"account 9"))];
//! let post_root = proof.update_root(&Sha256Hasher, &tree.root(), &old, &new).expect("valid witness");
//! tree.set(9, b"account 9").expect("9 < 2^32");
//! assert_eq!(post_root, tree.root());
//! ```

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::cell::Cell;
use core::convert::Infallible;

use borsh::io::{Error as IoError, ErrorKind, Read};
use borsh::{BorshDeserialize, BorshSerialize};
use sha2::{Digest, Sha256};

use zkclob_book::WordSink;

use crate::crypto::{Crypto, NativeCrypto, Sha256Writer, SHA256_IV};

/// A 32-byte hash.
pub type Hash = [u8; 32];

/// The hash of an empty leaf.
pub const EMPTY_LEAF: Hash = [0u8; 32];
/// The largest tree depth (a leaf index is a `u64`).
pub const MAX_DEPTH: u8 = 64;
/// The most leaves one [`MultiProof`] may cover.
pub const MAX_PROOF_LEAVES: usize = 1 << 16;
/// The most sibling hashes one [`MultiProof`] may hold (32 MiB of hashes).
pub const MAX_PROOF_HASHES: usize = 1 << 20;

/// Why a tree operation or a proof failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MerkleError {
    /// The depth is 0 or above [`MAX_DEPTH`].
    #[error("tree depth must be between 1 and 64")]
    InvalidDepth,
    /// A leaf or node index does not fit the tree.
    #[error("index out of range for the tree depth")]
    IndexOutOfRange,
    /// A multiproof must cover at least one leaf.
    #[error("a multiproof must cover at least one leaf")]
    EmptyProof,
    /// More than [`MAX_PROOF_LEAVES`] leaves.
    #[error("too many leaves in one multiproof")]
    TooManyLeaves,
    /// More than [`MAX_PROOF_HASHES`] sibling hashes.
    #[error("too many sibling hashes in one multiproof")]
    TooManyHashes,
    /// Proof indices are not strictly increasing (unsorted or duplicated).
    #[error("proof indices are not strictly increasing")]
    UnsortedIndices,
    /// The bitmap or hash count does not match the shape implied by the indices.
    #[error("malformed multiproof")]
    MalformedProof,
    /// The encoding ended early.
    #[error("proof encoding ended early")]
    Truncated,
    /// Bytes remain after the encoding.
    #[error("bytes left after the proof encoding")]
    TrailingBytes,
    /// The leaves given are not exactly the proven indices.
    #[error("the leaves given do not match the proven indices")]
    LeafSetMismatch,
    /// An updated leaf is not one of the proven indices.
    #[error("an updated leaf is not covered by the proof")]
    IndexNotInProof,
    /// The same leaf index is updated twice.
    #[error("a leaf index appears twice in an update")]
    DuplicateLeaf,
    /// The leaves and the proof do not hash to the expected root.
    #[error("the leaves do not hash to the expected root")]
    RootMismatch,
}

/// The hash functions of the tree; implement it to call a zkVM precompile.
pub trait MerkleHasher {
    /// Hashes a leaf's data (must be domain-separated from [`MerkleHasher::hash_node`]).
    fn hash_leaf(&self, data: &[u8]) -> Hash;
    /// Hashes two children into their parent.
    fn hash_node(&self, left: &Hash, right: &Hash) -> Hash;
    /// `hash_leaf` of a value's borsh encoding. Hashers that can hash a stream override it so the
    /// encoding is hashed as it is written, never buffered whole (a market leaf holds its book).
    fn hash_leaf_encoded<T: BorshSerialize + ?Sized>(&self, value: &T) -> Hash {
        let mut data = Vec::new();
        value.serialize(&mut data).expect("writing to a Vec is infallible");
        self.hash_leaf(&data)
    }
    /// SHA-256's compression of one block given as its sixteen message words: what
    /// [`MerkleHasher::hash_leaf_words`] runs on. Every hasher here is SHA-256 (the default is
    /// the `sha2` crate); [`crate::witness::CryptoHasher`] calls [`Crypto::sha256_words`].
    fn compress_words(&self, state: &mut [u32; 8], block: &[u32; 16]) {
        NativeCrypto.sha256_words(state, block);
    }
    /// A leaf written as 32-bit words: `hash_leaf(data)` where `0x00 ‖ data` is the big-endian
    /// bytes of `first` followed by the words `write` puts ([`LeafWords`]). `first` is below
    /// 2²⁴, so its top byte is the leaf prefix 0x00 and the rest of it names the leaf's layout.
    fn hash_leaf_words(&self, first: u32, write: impl FnOnce(&mut LeafWords<'_, Self>)) -> Hash
    where
        Self: Sized,
    {
        leaf_words(self, first, write)
    }
}

/// [`MerkleHasher::hash_leaf_words`].
fn leaf_words<H: MerkleHasher>(h: &H, first: u32, write: impl FnOnce(&mut LeafWords<'_, H>)) -> Hash {
    assert!(first >> 24 == 0, "a leaf's first byte is the leaf prefix 0x00");
    let mut w = LeafWords { hasher: h, state: SHA256_IV, block: [0; 16 + PUT_CHUNK], fill: 1, words: 1 };
    w.block[0] = first;
    write(&mut w);
    w.finish()
}

/// A SHA-256 stream of 32-bit message words ([`MerkleHasher::hash_leaf_words`]): each word is
/// stored as SHA-256 reads it, and a full block of sixteen goes to
/// [`MerkleHasher::compress_words`]. For data laid out in words (a market's book, see
/// [`zkclob_book::BookSnapshot::write_words`]) this skips the byte encoding and the bytes-to-words
/// load a byte stream pays twice per word, which in a zkVM guest costs more than the
/// compression precompile itself.
pub struct LeafWords<'a, H> {
    hasher: &'a H,
    state: [u32; 8],
    /// The block being filled (words `0..16`) and room for one more put of up to
    /// [`PUT_CHUNK`] words past it.
    block: [u32; 16 + PUT_CHUNK],
    /// Words of `block` in use (always below 16 between calls).
    fill: usize,
    /// Words written in all.
    words: u64,
}

/// The most words one step of [`LeafWords::put`] copies: a block, so a block put off a block
/// boundary is one straight copy of constant length.
const PUT_CHUNK: usize = 16;

impl<H: MerkleHasher> LeafWords<'_, H> {
    /// The digest: pads (SHA-256's length is in bits, here a multiple of 32) and compresses
    /// what is left.
    fn finish(mut self) -> Hash {
        let bits = self.words.wrapping_mul(32);
        self.block[self.fill] = 0x8000_0000;
        self.block[self.fill + 1..16].fill(0);
        if self.fill + 1 > 14 {
            self.compress_first();
            self.block[..16].fill(0);
        }
        self.block[14] = (bits >> 32) as u32;
        self.block[15] = bits as u32;
        self.compress_first();
        let mut out = [0u8; 32];
        for (chunk, word) in out.chunks_exact_mut(4).zip(self.state) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        out
    }

    fn compress_first(&mut self) {
        let (first, _) = self.block.split_first_chunk::<16>().expect("the block holds 16 words");
        self.hasher.compress_words(&mut self.state, first);
    }

    /// Compresses full blocks and moves what was put past them to the front (a put of 17
    /// words at 15 fills two).
    #[inline(never)]
    fn spill(&mut self) {
        while self.fill >= 16 {
            self.compress_first();
            // A constant-length copy: a straight run of loads and stores, whatever `fill` is.
            self.block.copy_within(16.., 0);
            self.fill -= 16;
        }
    }

    /// Appends `bytes` as words: their length in bytes, then the bytes big-endian four to a
    /// word, the last word zero-padded (so a byte string of any length has one encoding).
    pub fn put_bytes(&mut self, bytes: &[u8]) {
        self.put(&[bytes.len() as u32]);
        for chunk in bytes.chunks(4) {
            let mut word = [0u8; 4];
            word[..chunk.len()].copy_from_slice(chunk);
            self.put(&[u32::from_be_bytes(word)]);
        }
    }
}

impl<H: MerkleHasher> WordSink for LeafWords<'_, H> {
    /// Inlined, so that a put of a fixed number of words (an order, a count) copies with its
    /// length known: one run of loads and stores instead of a loop over words.
    #[inline(always)]
    fn put(&mut self, mut words: &[u32]) {
        self.words += words.len() as u64;
        while !words.is_empty() {
            let take = words.len().min(PUT_CHUNK);
            // `fill` < 16, so the copy ends within the block's spare room.
            let at = self.fill & 15;
            self.block[at..at + take].copy_from_slice(&words[..take]);
            self.fill = at + take;
            if self.fill >= 16 {
                self.spill();
            }
            words = &words[take..];
        }
    }

    fn align_block(&mut self) {
        if self.fill != 0 {
            self.block[self.fill..16].fill(0);
            self.words += (16 - self.fill) as u64;
            self.fill = 16;
            self.spill();
        }
    }

    /// At a block boundary the block is compressed where it lies: no copy into the buffer.
    #[inline(always)]
    fn put_block(&mut self, words: &[u32; 16]) {
        if self.fill == 0 {
            self.words += 16;
            self.hasher.compress_words(&mut self.state, words);
        } else {
            self.put(words);
        }
    }
}

/// SHA-256 of `0x00 || borsh(value)`, streamed: [`MerkleHasher::hash_leaf_encoded`] of the
/// SHA-256 hashers here.
pub fn sha256_leaf_encoded<C: Crypto + ?Sized, T: BorshSerialize + ?Sized>(crypto: &C, value: &T) -> Hash {
    let mut w = Sha256Writer::new(crypto);
    w.update(&[0x00]);
    value.serialize(&mut w).expect("hashing a stream is infallible");
    w.finish()
}

/// SHA-256 of `0x00 || data` for leaves, one SHA-256 compression of `left || right` for nodes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sha256Hasher;

impl MerkleHasher for Sha256Hasher {
    fn hash_leaf(&self, data: &[u8]) -> Hash {
        Sha256::new().chain_update([0x00]).chain_update(data).finalize().into()
    }

    fn hash_node(&self, left: &Hash, right: &Hash) -> Hash {
        let mut block = [0u8; 64];
        block[..32].copy_from_slice(left);
        block[32..].copy_from_slice(right);
        crate::crypto::sha256_compress(&block)
    }

    fn hash_leaf_encoded<T: BorshSerialize + ?Sized>(&self, value: &T) -> Hash {
        sha256_leaf_encoded(&NativeCrypto, value)
    }
}

/// Wraps a hasher and counts its calls: the cost metric of a witness inside a zkVM.
#[derive(Debug, Clone, Default)]
pub struct CountingHasher<H> {
    inner: H,
    leaf_hashes: Cell<u64>,
    node_hashes: Cell<u64>,
}

impl<H> CountingHasher<H> {
    /// Wraps `inner` with both counters at zero.
    pub fn new(inner: H) -> Self {
        Self { inner, leaf_hashes: Cell::new(0), node_hashes: Cell::new(0) }
    }
    /// Calls to `hash_leaf` so far.
    pub fn leaf_hashes(&self) -> u64 {
        self.leaf_hashes.get()
    }
    /// Calls to `hash_node` so far.
    pub fn node_hashes(&self) -> u64 {
        self.node_hashes.get()
    }
    /// Sets both counters to zero.
    pub fn reset(&self) {
        self.leaf_hashes.set(0);
        self.node_hashes.set(0);
    }
}

impl<H: MerkleHasher> MerkleHasher for CountingHasher<H> {
    fn hash_leaf(&self, data: &[u8]) -> Hash {
        self.leaf_hashes.set(self.leaf_hashes.get().saturating_add(1));
        self.inner.hash_leaf(data)
    }

    fn hash_node(&self, left: &Hash, right: &Hash) -> Hash {
        self.node_hashes.set(self.node_hashes.get().saturating_add(1));
        self.inner.hash_node(left, right)
    }

    fn hash_leaf_encoded<T: BorshSerialize + ?Sized>(&self, value: &T) -> Hash {
        self.leaf_hashes.set(self.leaf_hashes.get().saturating_add(1));
        self.inner.hash_leaf_encoded(value)
    }

    fn compress_words(&self, state: &mut [u32; 8], block: &[u32; 16]) {
        self.inner.compress_words(state, block);
    }

    fn hash_leaf_words(&self, first: u32, write: impl FnOnce(&mut LeafWords<'_, Self>)) -> Hash {
        self.leaf_hashes.set(self.leaf_hashes.get().saturating_add(1));
        leaf_words(self, first, write)
    }
}

/// Whether `index` fits below a node `height` levels above it (a leaf index when `height` is the depth).
fn fits(height: u8, index: u64) -> bool {
    height >= 64 || index >> height == 0
}

fn check_depth(depth: u8) -> Result<(), MerkleError> {
    if depth == 0 || depth > MAX_DEPTH {
        return Err(MerkleError::InvalidDepth);
    }
    Ok(())
}

/// Folds sorted, distinct level-0 positions up to the root, one level at a time.
///
/// For each parent, `combine(level, parent, left, right)` gets the children's values; a child that
/// is not in the set is `None` (it must come from the proof or the tree). At most one is `None`.
/// Processing order (levels bottom-up, positions ascending) is the order of a [`MultiProof`]'s
/// sibling slots.
fn fold_levels<T: Copy, E>(
    depth: u8,
    nodes: &mut Vec<(u64, T)>,
    mut combine: impl FnMut(u8, u64, Option<T>, Option<T>) -> Result<T, E>,
) -> Result<(), E> {
    for level in 0..depth {
        let (mut read, mut write) = (0, 0);
        while let Some(&(pos, value)) = nodes.get(read) {
            let (left, right, used) = match nodes.get(read + 1) {
                Some(&(next, next_value)) if pos & 1 == 0 && next == pos | 1 => {
                    (Some(value), Some(next_value), 2)
                }
                _ if pos & 1 == 0 => (Some(value), None, 1),
                _ => (None, Some(value), 1),
            };
            let parent = pos >> 1;
            nodes[write] = (parent, combine(level, parent, left, right)?);
            write += 1;
            read += used;
        }
        nodes.truncate(write);
    }
    Ok(())
}

/// A sparse Merkle tree of fixed depth over leaf indices `0..2^depth`.
#[derive(Debug, Clone)]
pub struct MerkleTree<H = Sha256Hasher> {
    hasher: H,
    depth: u8,
    /// `empty[l]` is the hash of an empty subtree whose root is at level `l` (`depth + 1` entries).
    empty: Vec<Hash>,
    /// Non-empty nodes by `(level, index)`; level 0 holds leaf hashes, level `depth` the root.
    nodes: BTreeMap<(u8, u64), Hash>,
}

impl MerkleTree<Sha256Hasher> {
    /// An empty SHA-256 tree; costs `depth` node hashes for the empty-subtree table.
    pub fn new(depth: u8) -> Result<Self, MerkleError> {
        Self::with_hasher(Sha256Hasher, depth)
    }
}

impl<H: MerkleHasher> MerkleTree<H> {
    /// An empty tree with the given hasher.
    pub fn with_hasher(hasher: H, depth: u8) -> Result<Self, MerkleError> {
        check_depth(depth)?;
        let mut empty = Vec::with_capacity(usize::from(depth) + 1);
        let mut below = EMPTY_LEAF;
        empty.push(below);
        for _ in 0..depth {
            below = hasher.hash_node(&below, &below);
            empty.push(below);
        }
        Ok(Self { hasher, depth, empty, nodes: BTreeMap::new() })
    }

    /// The hasher (for example to read a [`CountingHasher`]'s counts).
    pub fn hasher(&self) -> &H {
        &self.hasher
    }

    /// The tree's depth.
    pub fn depth(&self) -> u8 {
        self.depth
    }

    /// The root hash.
    pub fn root(&self) -> Hash {
        self.node_hash(self.depth, 0)
    }

    /// The hash of an empty subtree whose root is at `level`, or `None` above the root.
    pub fn empty_hash(&self, level: u8) -> Option<Hash> {
        self.empty.get(usize::from(level)).copied()
    }

    /// The hash of node `index` at `level` (level 0 = leaves).
    pub fn node(&self, level: u8, index: u64) -> Result<Hash, MerkleError> {
        if level > self.depth || !fits(self.depth - level, index) {
            return Err(MerkleError::IndexOutOfRange);
        }
        Ok(self.node_hash(level, index))
    }

    /// The hash stored at leaf `index` ([`EMPTY_LEAF`] if unset).
    pub fn get_leaf_hash(&self, index: u64) -> Result<Hash, MerkleError> {
        self.node(0, index)
    }

    /// Stored non-empty nodes as `(level, index, hash)`, in `(level, index)` order.
    pub fn nodes(&self) -> impl Iterator<Item = (u8, u64, &Hash)> + '_ {
        self.nodes.iter().map(|(&(level, index), hash)| (level, index, hash))
    }

    /// Sets leaf `index` to `hash_leaf(data)`: 1 leaf hash and `depth` node hashes.
    pub fn set(&mut self, index: u64, data: &[u8]) -> Result<(), MerkleError> {
        let hash = self.hasher.hash_leaf(data);
        self.set_hash(index, hash)
    }

    /// Sets leaf `index` to a precomputed leaf hash ([`EMPTY_LEAF`] removes it).
    ///
    /// The hash must come from [`MerkleHasher::hash_leaf`] (or be `EMPTY_LEAF`); anything else
    /// defeats the leaf/node domain separation.
    pub fn set_hash(&mut self, index: u64, leaf_hash: Hash) -> Result<(), MerkleError> {
        self.set_many_hashes([(index, leaf_hash)])
    }

    /// Empties leaf `index` and drops the nodes that become empty.
    pub fn remove(&mut self, index: u64) -> Result<(), MerkleError> {
        self.set_hash(index, EMPTY_LEAF)
    }

    /// Sets several leaves from their data; see [`MerkleTree::set_many_hashes`].
    pub fn set_many<I, B>(&mut self, leaves: I) -> Result<(), MerkleError>
    where
        I: IntoIterator<Item = (u64, B)>,
        B: AsRef<[u8]>,
    {
        let hashed: Vec<(u64, Hash)> =
            leaves.into_iter().map(|(index, data)| (index, self.hasher.hash_leaf(data.as_ref()))).collect();
        self.set_many_hashes(hashed)
    }

    /// Sets several leaf hashes, recomputing each shared ancestor once; a later duplicate wins.
    /// Nothing changes if any index is out of range.
    pub fn set_many_hashes<I>(&mut self, leaves: I) -> Result<(), MerkleError>
    where
        I: IntoIterator<Item = (u64, Hash)>,
    {
        let leaves: Vec<(u64, Hash)> = leaves.into_iter().collect();
        if leaves.iter().any(|&(index, _)| !fits(self.depth, index)) {
            return Err(MerkleError::IndexOutOfRange);
        }
        for &(index, hash) in &leaves {
            self.store(0, index, hash);
        }
        let mut dirty: Vec<(u64, ())> = leaves.iter().map(|&(index, _)| (index, ())).collect();
        dirty.sort_unstable_by_key(|&(index, ())| index);
        dirty.dedup();
        let Ok(()) = fold_levels(self.depth, &mut dirty, |level, parent, _, _| {
            self.recompute(level, parent);
            Ok::<(), Infallible>(())
        });
        Ok(())
    }

    /// The sibling path of leaf `index`.
    pub fn prove(&self, index: u64) -> Result<MerkleProof, MerkleError> {
        if !fits(self.depth, index) {
            return Err(MerkleError::IndexOutOfRange);
        }
        let siblings = (0..self.depth).map(|level| self.node_hash(level, (index >> level) ^ 1)).collect();
        Ok(MerkleProof { siblings })
    }

    /// A multiproof for the given leaves (any order; duplicates are merged).
    pub fn prove_many(&self, indices: &[u64]) -> Result<MultiProof, MerkleError> {
        let mut sorted = indices.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        check_indices(self.depth, &sorted)?;
        let mut bits = BitWriter::default();
        let mut hashes = Vec::new();
        let mut nodes: Vec<(u64, ())> = sorted.iter().map(|&index| (index, ())).collect();
        fold_levels(self.depth, &mut nodes, |level, parent, left, right| {
            let sibling = match (left, right) {
                (None, _) => parent << 1,
                (_, None) => (parent << 1) | 1,
                _ => return Ok(()),
            };
            let hash = self.node_hash(level, sibling);
            let is_empty = hash == self.empty[usize::from(level)];
            bits.push(is_empty);
            if !is_empty {
                if hashes.len() == MAX_PROOF_HASHES {
                    return Err(MerkleError::TooManyHashes);
                }
                hashes.push(hash);
            }
            Ok(())
        })?;
        Ok(MultiProof { depth: self.depth, indices: sorted, empty_bits: bits.bytes, hashes })
    }

    fn node_hash(&self, level: u8, index: u64) -> Hash {
        match self.nodes.get(&(level, index)) {
            Some(hash) => *hash,
            None => self.empty[usize::from(level)],
        }
    }

    /// Stores a node, or drops it when it equals the empty subtree so storage never grows on removal.
    fn store(&mut self, level: u8, index: u64, hash: Hash) {
        if hash == self.empty[usize::from(level)] {
            self.nodes.remove(&(level, index));
        } else {
            self.nodes.insert((level, index), hash);
        }
    }

    /// Recomputes node `parent` at `level + 1` from its children; two empty children cost no hash.
    fn recompute(&mut self, level: u8, parent: u64) {
        let left = self.node_hash(level, parent << 1);
        let right = self.node_hash(level, (parent << 1) | 1);
        let empty = self.empty[usize::from(level)];
        let hash = if left == empty && right == empty {
            self.empty[usize::from(level) + 1]
        } else {
            self.hasher.hash_node(&left, &right)
        };
        self.store(level + 1, parent, hash);
    }
}

/// The sibling path of one leaf, bottom-up; its length is the tree depth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerkleProof {
    /// `siblings[l]` is the sibling of the path node at level `l`.
    pub siblings: Vec<Hash>,
}

impl MerkleProof {
    /// Whether `leaf_hash` at `index` hashes up to `root` along this path.
    pub fn verify<H: MerkleHasher>(&self, hasher: &H, root: &Hash, index: u64, leaf_hash: &Hash) -> bool {
        let Ok(depth) = u8::try_from(self.siblings.len()) else { return false };
        if check_depth(depth).is_err() || !fits(depth, index) {
            return false;
        }
        let mut hash = *leaf_hash;
        for (level, sibling) in self.siblings.iter().enumerate() {
            hash = if (index >> level) & 1 == 0 {
                hasher.hash_node(&hash, sibling)
            } else {
                hasher.hash_node(sibling, &hash)
            };
        }
        hash == *root
    }
}

/// Checks a proof's leaf set: non-empty, bounded, strictly increasing, in range.
fn check_indices(depth: u8, indices: &[u64]) -> Result<(), MerkleError> {
    if indices.is_empty() {
        return Err(MerkleError::EmptyProof);
    }
    if indices.len() > MAX_PROOF_LEAVES {
        return Err(MerkleError::TooManyLeaves);
    }
    if indices.windows(2).any(|pair| pair[0] >= pair[1]) {
        return Err(MerkleError::UnsortedIndices);
    }
    if indices.iter().any(|&index| !fits(depth, index)) {
        return Err(MerkleError::IndexOutOfRange);
    }
    Ok(())
}

/// The number of sibling slots a proof of `indices` has (siblings not derivable from the set).
fn slot_count(depth: u8, indices: &[u64]) -> usize {
    let mut slots = 0usize;
    let mut nodes: Vec<(u64, ())> = indices.iter().map(|&index| (index, ())).collect();
    let Ok(()) = fold_levels(depth, &mut nodes, |_, _, left, right| {
        slots += usize::from(left.is_none() || right.is_none());
        Ok::<(), Infallible>(())
    });
    slots
}

#[derive(Default)]
struct BitWriter {
    bytes: Vec<u8>,
    len: usize,
}

impl BitWriter {
    fn push(&mut self, bit: bool) {
        if self.len % 8 == 0 {
            self.bytes.push(0);
        }
        if let Some(last) = self.bytes.last_mut() {
            *last |= u8::from(bit) << (self.len % 8);
        }
        self.len += 1;
    }
}

fn bit(bytes: &[u8], index: usize) -> Option<bool> {
    bytes.get(index / 8).map(|byte| (byte >> (index % 8)) & 1 == 1)
}

/// A batch witness: the siblings needed to recompute the root from a set of leaves.
///
/// Sibling slots are the siblings not derivable from the proven leaves, ordered by level
/// (bottom-up) then position (ascending); the slot count follows from `depth` and `indices`.
///
/// # Encoding
/// Borsh-compatible (it is what `#[derive(BorshSerialize)]` writes for the fields in order);
/// [`MultiProof::decode`] and `BorshDeserialize` check every rule below before trusting it:
/// 1. `depth: u8`, in `1..=MAX_DEPTH`;
/// 2. `indices`: `u32` LE count in `1..=MAX_PROOF_LEAVES`, then that many `u64` LE, strictly
///    increasing, each `< 2^depth`;
/// 3. `empty_bits`: `u32` LE length, exactly `ceil(slots / 8)`, then the bitmap: bit `s` (LSB
///    first) is 1 iff slot `s` is an empty subtree; padding bits are 0;
/// 4. `hashes`: `u32` LE count, at most `MAX_PROOF_HASHES` and equal to the number of 0 bits, then
///    32 bytes per hash, in slot order.
#[derive(Debug, Clone, Default, PartialEq, Eq, BorshSerialize)]
pub struct MultiProof {
    depth: u8,
    indices: Vec<u64>,
    empty_bits: Vec<u8>,
    hashes: Vec<Hash>,
}

/// A node's value while recomputing roots: before and (if changed) after an update.
#[derive(Clone, Copy)]
struct Pair {
    old: Hash,
    new: Option<Hash>,
}

/// Hands out sibling slots in order, computing empty-subtree hashes on first use.
struct Siblings<'a, H> {
    proof: &'a MultiProof,
    hasher: &'a H,
    slot: usize,
    next_hash: usize,
    empty: Vec<Hash>,
}

impl<H: MerkleHasher> Siblings<'_, H> {
    fn next(&mut self, level: u8) -> Result<Hash, MerkleError> {
        let is_empty = bit(&self.proof.empty_bits, self.slot).ok_or(MerkleError::MalformedProof)?;
        self.slot += 1;
        if is_empty {
            return Ok(self.empty_at(level));
        }
        let hash = self.proof.hashes.get(self.next_hash).ok_or(MerkleError::MalformedProof)?;
        self.next_hash += 1;
        Ok(*hash)
    }

    fn empty_at(&mut self, level: u8) -> Hash {
        while self.empty.len() <= usize::from(level) {
            let below = self.empty.last().copied().unwrap_or(EMPTY_LEAF);
            self.empty.push(self.hasher.hash_node(&below, &below));
        }
        self.empty.get(usize::from(level)).copied().unwrap_or(EMPTY_LEAF)
    }
}

impl MultiProof {
    /// The depth of the tree this proof is for; a verifier should check it is the expected one.
    pub fn depth(&self) -> u8 {
        self.depth
    }

    /// The proven leaf indices, strictly increasing.
    pub fn indices(&self) -> &[u64] {
        &self.indices
    }

    /// Number of sibling hashes carried in full.
    pub fn sibling_hash_count(&self) -> usize {
        self.hashes.len()
    }

    /// Number of siblings that are empty subtrees (one bit each).
    pub fn empty_sibling_count(&self) -> usize {
        self.empty_bits.iter().map(|byte| byte.count_ones() as usize).sum()
    }

    /// Recomputes the root from the proven leaves' hashes (any order, each index exactly once).
    pub fn compute_root<H: MerkleHasher>(
        &self,
        hasher: &H,
        leaves: &[(u64, Hash)],
    ) -> Result<Hash, MerkleError> {
        let nodes = self.leaf_nodes(leaves)?;
        Ok(self.fold(hasher, nodes)?.old)
    }

    /// Checks that the proven leaves hash to `root`.
    pub fn verify<H: MerkleHasher>(
        &self,
        hasher: &H,
        root: &Hash,
        leaves: &[(u64, Hash)],
    ) -> Result<(), MerkleError> {
        if self.compute_root(hasher, leaves)? != *root {
            return Err(MerkleError::RootMismatch);
        }
        Ok(())
    }

    /// Checks `old_leaves` (all proven leaves) against `pre_root`, then returns the root after
    /// replacing the leaves in `new_leaves` (a subset of the proven indices, each at most once).
    ///
    /// Nodes whose subtree holds no changed leaf are not hashed twice.
    pub fn update_root<H: MerkleHasher>(
        &self,
        hasher: &H,
        pre_root: &Hash,
        old_leaves: &[(u64, Hash)],
        new_leaves: &[(u64, Hash)],
    ) -> Result<Hash, MerkleError> {
        let mut nodes = self.leaf_nodes(old_leaves)?;
        for &(index, hash) in new_leaves {
            let slot = self.indices.binary_search(&index).map_err(|_| MerkleError::IndexNotInProof)?;
            let node = &mut nodes[slot].1;
            if node.new.replace(hash).is_some() {
                return Err(MerkleError::DuplicateLeaf);
            }
        }
        let root = self.fold(hasher, nodes)?;
        if root.old != *pre_root {
            return Err(MerkleError::RootMismatch);
        }
        Ok(root.new.unwrap_or(root.old))
    }

    /// Decodes and validates a proof from exactly `bytes`.
    pub fn decode(bytes: &[u8]) -> Result<Self, MerkleError> {
        let mut rest = bytes;
        let proof = read_proof(&mut rest).map_err(|error| match error {
            ReadError::Io(_) => MerkleError::Truncated,
            ReadError::Invalid(error) => error,
        })?;
        if !rest.is_empty() {
            return Err(MerkleError::TrailingBytes);
        }
        Ok(proof)
    }

    /// Pairs the given leaves with the proven indices, in index order.
    fn leaf_nodes(&self, leaves: &[(u64, Hash)]) -> Result<Vec<(u64, Pair)>, MerkleError> {
        let mut sorted = leaves.to_vec();
        sorted.sort_unstable_by_key(|&(index, _)| index);
        let same_set = sorted.len() == self.indices.len()
            && sorted.iter().zip(&self.indices).all(|(&(index, _), &proven)| index == proven);
        if !same_set {
            return Err(MerkleError::LeafSetMismatch);
        }
        Ok(sorted.into_iter().map(|(index, hash)| (index, Pair { old: hash, new: None })).collect())
    }

    fn fold<H: MerkleHasher>(&self, hasher: &H, mut nodes: Vec<(u64, Pair)>) -> Result<Pair, MerkleError> {
        let mut siblings =
            Siblings { proof: self, hasher, slot: 0, next_hash: 0, empty: alloc::vec![EMPTY_LEAF] };
        fold_levels(self.depth, &mut nodes, |level, _, left, right| {
            let (left, right) = match (left, right) {
                (Some(left), Some(right)) => (left, right),
                (Some(left), None) => (left, Pair { old: siblings.next(level)?, new: None }),
                (None, Some(right)) => (Pair { old: siblings.next(level)?, new: None }, right),
                (None, None) => return Err(MerkleError::MalformedProof),
            };
            Ok(combine(hasher, left, right))
        })?;
        let all_used =
            siblings.next_hash == self.hashes.len() && siblings.slot.div_ceil(8) == self.empty_bits.len();
        match nodes.first() {
            Some(&(_, root)) if all_used && nodes.len() == 1 => Ok(root),
            _ => Err(MerkleError::MalformedProof),
        }
    }
}

/// A [`MultiProof`] checked against a root, keeping the value of every node the check computed
/// ([`MultiProof::verify_kept`]), so that the root after changing some leaves
/// ([`VerifiedProof::update_root`]) hashes only the nodes above a changed leaf — where
/// [`MultiProof::update_root`] recomputes the old root as well. A zkVM guest checks its witness
/// first and commits the changes after the batch, so this halves the hashing of its paths. The
/// nodes are kept in flat arrays read by reference: the pair-of-hashes values of the general
/// fold were mostly `memcpy` in a guest.
#[derive(Debug, Clone)]
pub struct VerifiedProof<'a> {
    proof: &'a MultiProof,
    /// The proven leaves' hashes, in index order.
    leaves: Vec<Hash>,
    /// Every node computed on the way to the root, level by level, left to right.
    nodes: Vec<Hash>,
    /// Where each level's nodes start in `nodes` (one entry per level, plus the end).
    level_starts: Vec<usize>,
}

/// The pairing of a level's sorted positions: for each parent, its children as indices into the
/// level (`Some` for a proven node) or a sibling taken from the proof.
#[derive(Clone, Copy)]
enum Children {
    /// Both children are proven nodes at `r` and `r + 1`.
    Both,
    /// The proven node at `r` is the left child; the right one is a proof sibling.
    Left,
    /// The proven node at `r` is the right child; the left one is a proof sibling.
    Right,
}

/// Pairs the position at `r` with its neighbour; returns how the parent is made and how many
/// proven nodes it consumes.
#[inline]
fn children(pos: &[u64], r: usize) -> (Children, usize) {
    let p = pos[r];
    if p & 1 == 0 {
        if pos.get(r + 1) == Some(&(p | 1)) {
            (Children::Both, 2)
        } else {
            (Children::Left, 1)
        }
    } else {
        (Children::Right, 1)
    }
}

impl MultiProof {
    /// Checks that the proven leaves (any order, each index once) hash to `root`, keeping every
    /// node value for [`VerifiedProof::update_root`].
    pub fn verify_kept<'a, H: MerkleHasher>(
        &'a self,
        hasher: &H,
        root: &Hash,
        leaves: &[(u64, Hash)],
    ) -> Result<VerifiedProof<'a>, MerkleError> {
        let leaves: Vec<Hash> = self.leaf_nodes(leaves)?.into_iter().map(|(_, pair)| pair.old).collect();
        let mut pos = self.indices.clone();
        let mut nodes: Vec<Hash> = Vec::with_capacity(pos.len() * usize::from(self.depth));
        let mut level_starts = Vec::with_capacity(usize::from(self.depth) + 1);
        let mut siblings =
            Siblings { proof: self, hasher, slot: 0, next_hash: 0, empty: alloc::vec![EMPTY_LEAF] };
        let mut below = 0; // where the level below starts in `nodes` (the leaves: none)
        for level in 0..self.depth {
            let start = nodes.len();
            level_starts.push(start);
            let (mut r, mut w) = (0, 0);
            while r < pos.len() {
                let value = |i: usize| if level == 0 { &leaves[i] } else { &nodes[below + i] };
                let (kind, used) = children(&pos, r);
                let hash = match kind {
                    Children::Both => hasher.hash_node(value(r), value(r + 1)),
                    Children::Left => {
                        let s = siblings.next(level)?;
                        hasher.hash_node(value(r), &s)
                    }
                    Children::Right => {
                        let s = siblings.next(level)?;
                        hasher.hash_node(&s, value(r))
                    }
                };
                nodes.push(hash);
                pos[w] = pos[r] >> 1;
                w += 1;
                r += used;
            }
            pos.truncate(w);
            below = start;
        }
        level_starts.push(nodes.len());
        let all_used =
            siblings.next_hash == self.hashes.len() && siblings.slot.div_ceil(8) == self.empty_bits.len();
        if !all_used || pos.len() != 1 {
            return Err(MerkleError::MalformedProof);
        }
        if nodes.last() != Some(root) {
            return Err(MerkleError::RootMismatch);
        }
        Ok(VerifiedProof { proof: self, leaves, nodes, level_starts })
    }
}

impl VerifiedProof<'_> {
    /// The root after replacing the leaves in `new_leaves` (proven indices, each at most once; a
    /// leaf given its old hash changes nothing and costs no hashing).
    pub fn update_root<H: MerkleHasher>(
        &self,
        hasher: &H,
        new_leaves: &[(u64, Hash)],
    ) -> Result<Hash, MerkleError> {
        let proof = self.proof;
        let mut changed = alloc::vec![false; proof.indices.len()];
        let mut new: Vec<Hash> = self.leaves.clone();
        for &(index, hash) in new_leaves {
            let slot = proof.indices.binary_search(&index).map_err(|_| MerkleError::IndexNotInProof)?;
            if core::mem::replace(&mut changed[slot], true) {
                return Err(MerkleError::DuplicateLeaf);
            }
            new[slot] = hash;
        }
        // A leaf set again to its old hash is unchanged.
        for (c, (n, o)) in changed.iter_mut().zip(new.iter().zip(&self.leaves)) {
            *c = *c && n != o;
        }
        let mut pos = proof.indices.clone();
        let mut siblings = Siblings { proof, hasher, slot: 0, next_hash: 0, empty: alloc::vec![EMPTY_LEAF] };
        for level in 0..proof.depth {
            let below = if level == 0 { None } else { Some(self.level_starts[usize::from(level) - 1]) };
            let (mut r, mut w) = (0, 0);
            while r < pos.len() {
                let (kind, used) = children(&pos, r);
                // The sibling slots are read in order whether or not this parent changed.
                let sibling = match kind {
                    Children::Both => None,
                    Children::Left | Children::Right => Some(siblings.next(level)?),
                };
                let any = changed[r] || (used == 2 && changed[r + 1]);
                if any {
                    let value = |i: usize| {
                        if changed[i] {
                            &new[i]
                        } else {
                            match below {
                                None => &self.leaves[i],
                                Some(start) => &self.nodes[start + i],
                            }
                        }
                    };
                    let hash = match (kind, &sibling) {
                        (Children::Left, Some(s)) => hasher.hash_node(value(r), s),
                        (Children::Right, Some(s)) => hasher.hash_node(s, value(r)),
                        _ => hasher.hash_node(value(r), value(r + 1)),
                    };
                    new[w] = hash;
                }
                changed[w] = any;
                pos[w] = pos[r] >> 1;
                w += 1;
                r += used;
            }
            pos.truncate(w);
        }
        let root = self.nodes.last().copied().ok_or(MerkleError::MalformedProof)?;
        Ok(if changed.first() == Some(&true) { new[0] } else { root })
    }
}

fn combine<H: MerkleHasher>(hasher: &H, left: Pair, right: Pair) -> Pair {
    let old = hasher.hash_node(&left.old, &right.old);
    let new = match (left.new, right.new) {
        (None, None) => None,
        (l, r) => Some(hasher.hash_node(&l.unwrap_or(left.old), &r.unwrap_or(right.old))),
    };
    Pair { old, new }
}

enum ReadError {
    Io(IoError),
    Invalid(MerkleError),
}

impl From<IoError> for ReadError {
    fn from(error: IoError) -> Self {
        Self::Io(error)
    }
}

impl From<MerkleError> for ReadError {
    fn from(error: MerkleError) -> Self {
        Self::Invalid(error)
    }
}

/// Reads a `u32` count and refuses it above `max` before anything is allocated.
fn read_count<R: Read>(reader: &mut R, max: usize, too_many: MerkleError) -> Result<usize, ReadError> {
    let count = usize::try_from(u32::deserialize_reader(reader)?).map_err(|_| too_many)?;
    if count > max {
        return Err(too_many.into());
    }
    Ok(count)
}

/// Counts are bounded, but memory is reserved only as far as this before the bytes arrive.
const PREALLOC_MAX: usize = 1024;

fn read_proof<R: Read>(reader: &mut R) -> Result<MultiProof, ReadError> {
    let depth = u8::deserialize_reader(reader)?;
    check_depth(depth)?;
    let leaf_count = read_count(reader, MAX_PROOF_LEAVES, MerkleError::TooManyLeaves)?;
    let mut indices = Vec::with_capacity(leaf_count.min(PREALLOC_MAX));
    for _ in 0..leaf_count {
        indices.push(u64::deserialize_reader(reader)?);
    }
    check_indices(depth, &indices)?;
    let slots = slot_count(depth, &indices);
    let bitmap_len = read_count(reader, slots.div_ceil(8), MerkleError::MalformedProof)?;
    if bitmap_len != slots.div_ceil(8) {
        return Err(MerkleError::MalformedProof.into());
    }
    let mut empty_bits = alloc::vec![0u8; bitmap_len];
    reader.read_exact(&mut empty_bits)?;
    let empty_count: usize = empty_bits.iter().map(|byte| byte.count_ones() as usize).sum();
    let padding_clear = (slots..bitmap_len * 8).all(|index| bit(&empty_bits, index) == Some(false));
    if !padding_clear {
        return Err(MerkleError::MalformedProof.into());
    }
    let hash_count = read_count(reader, MAX_PROOF_HASHES, MerkleError::TooManyHashes)?;
    if hash_count != slots - empty_count {
        return Err(MerkleError::MalformedProof.into());
    }
    let mut hashes = Vec::with_capacity(hash_count.min(PREALLOC_MAX));
    for _ in 0..hash_count {
        hashes.push(Hash::deserialize_reader(reader)?);
    }
    Ok(MultiProof { depth, indices, empty_bits, hashes })
}

impl BorshDeserialize for MultiProof {
    fn deserialize_reader<R: Read>(reader: &mut R) -> borsh::io::Result<Self> {
        read_proof(reader).map_err(|error| match error {
            ReadError::Io(error) => error,
            ReadError::Invalid(error) => IoError::new(ErrorKind::InvalidData, alloc::format!("{error}")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_count_of_a_lone_leaf_is_the_depth_and_of_a_full_tree_is_zero() {
        assert_eq!(slot_count(5, &[3]), 5);
        let all: Vec<u64> = (0..32).collect();
        assert_eq!(slot_count(5, &all), 0);
        assert_eq!(slot_count(5, &[0, 1]), 4);
        assert_eq!(slot_count(5, &[0, 31]), 8);
    }

    #[test]
    fn bit_writer_packs_lsb_first() {
        let mut bits = BitWriter::default();
        for bit in [true, false, true, true, false, false, false, false, true] {
            bits.push(bit);
        }
        assert_eq!(bits.bytes, [0b0000_1101, 0b1]);
        assert_eq!(bit(&bits.bytes, 8), Some(true));
        assert_eq!(bit(&bits.bytes, 16), None);
    }

    /// A word-stream leaf is the byte leaf of the same bytes, for every length around the two
    /// padding cases (room for the length in the last block or not), split into puts of any
    /// size, and the counting hasher counts it as one leaf.
    #[test]
    fn word_leaves_hash_like_their_bytes() {
        let first: u32 = 0x00AB_CDEF;
        for n in 0..50u32 {
            let words: Vec<u32> = (0..n).map(|i| i.wrapping_mul(0x9E37_79B9) ^ 0x5A5A_0000).collect();
            let mut bytes = first.to_be_bytes()[1..].to_vec();
            for w in &words {
                bytes.extend_from_slice(&w.to_be_bytes());
            }
            let expected = Sha256Hasher.hash_leaf(&bytes);
            let split = (n as usize * 7) % (n as usize + 1);
            let got = Sha256Hasher.hash_leaf_words(first, |w| {
                w.put(&words[..split]);
                w.put(&words[split..]);
            });
            assert_eq!(got, expected, "{n} words");
            let counting = CountingHasher::new(Sha256Hasher);
            assert_eq!(counting.hash_leaf_words(first, |w| w.put(&words)), expected);
            assert_eq!(counting.leaf_hashes(), 1);
        }
    }

    /// Puts of every size up to past the copy chunk, one after another, from every offset in
    /// the block, with alignments and whole blocks among them.
    #[test]
    fn word_leaves_take_puts_of_any_size_at_any_offset() {
        let mut all = Vec::new();
        let got = Sha256Hasher.hash_leaf_words(3, |w| {
            for round in 0..3u32 {
                for n in 1..=(2 * PUT_CHUNK as u32 + 3) {
                    let words: Vec<u32> = (0..n).map(|i| round << 24 | n << 8 | i).collect();
                    w.put(&words);
                    all.extend(words);
                    if n % 5 == 0 {
                        w.align_block();
                        // The stream counts the first word too.
                        all.resize((1 + all.len()).next_multiple_of(16) - 1, 0);
                    }
                    if n % 3 == 0 {
                        // At a block boundary after an alignment, anywhere otherwise.
                        w.put_block(&[n; 16]);
                        all.extend([n; 16]);
                    }
                }
            }
        });
        let mut bytes = 3u32.to_be_bytes()[1..].to_vec();
        for w in &all {
            bytes.extend_from_slice(&w.to_be_bytes());
        }
        assert_eq!(got, Sha256Hasher.hash_leaf(&bytes));
    }

    #[test]
    fn word_leaves_pad_bytes_to_whole_words_after_their_length() {
        let got = Sha256Hasher.hash_leaf_words(1, |w| w.put_bytes(&[7, 8, 9, 10, 11]));
        let data = [0, 0, 1, 0, 0, 0, 5, 7, 8, 9, 10, 11, 0, 0, 0];
        assert_eq!(got, Sha256Hasher.hash_leaf(&data));
    }

    #[test]
    #[should_panic(expected = "leaf prefix")]
    fn a_word_leaf_cannot_start_with_another_prefix() {
        Sha256Hasher.hash_leaf_words(0x0100_0000, |_| {});
    }

    #[test]
    fn fits_handles_full_width_indices() {
        assert!(fits(64, u64::MAX));
        assert!(fits(32, u64::from(u32::MAX)));
        assert!(!fits(32, 1 << 32));
    }
}
