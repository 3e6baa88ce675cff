//! Tests of the state commitment's Merkle tree: naive recomputation, proofs, multiproofs, the
//! multiproof encoding, golden vectors and hash counts.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use sha2::{Digest, Sha256};
use zkclob_state::merkle::{
    CountingHasher, Hash, MerkleError, MerkleHasher, MerkleTree, MultiProof, Sha256Hasher, EMPTY_LEAF,
    MAX_PROOF_HASHES, MAX_PROOF_LEAVES,
};

// ---------------------------------------------------------------------------------------------
// Naive reference: SHA-256 called directly, no tree storage.

fn naive_leaf(data: &[u8]) -> Hash {
    let mut sha = Sha256::new();
    sha.update([0u8]);
    sha.update(data);
    sha.finalize().into()
}

/// One SHA-256 compression of `left || right` from the initial value, straight from `sha2`.
fn naive_node(left: &Hash, right: &Hash) -> Hash {
    let mut state =
        [0x6a09e667u32, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(left);
    block[32..].copy_from_slice(right);
    sha2::compress256(&mut state, &[block.into()]);
    let mut out = [0u8; 32];
    for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

fn naive_empty(depth: u8) -> Vec<Hash> {
    let mut empty = vec![[0u8; 32]];
    for level in 0..usize::from(depth) {
        empty.push(naive_node(&empty[level], &empty[level]));
    }
    empty
}

/// Root of the subtree at `level` covering `leaves` (sorted, all inside that subtree).
fn naive_subtree(empty: &[Hash], level: u8, first: u64, leaves: &[(u64, Hash)]) -> Hash {
    if leaves.is_empty() {
        return empty[usize::from(level)];
    }
    if level == 0 {
        return leaves[0].1;
    }
    let mid = first + (1u64 << (level - 1));
    let split = leaves.partition_point(|&(index, _)| index < mid);
    let left = naive_subtree(empty, level - 1, first, &leaves[..split]);
    let right = naive_subtree(empty, level - 1, mid, &leaves[split..]);
    naive_node(&left, &right)
}

fn naive_root(depth: u8, leaves: &BTreeMap<u64, Hash>) -> Hash {
    let leaves: Vec<(u64, Hash)> =
        leaves.iter().filter(|(_, h)| **h != EMPTY_LEAF).map(|(&i, &h)| (i, h)).collect();
    naive_subtree(&naive_empty(depth), depth, 0, &leaves)
}

/// Full recomputation over all 256 leaves of a depth-8 tree.
fn dense_root_depth_8(leaves: &[Hash; 256]) -> Hash {
    let mut level: Vec<Hash> = leaves.to_vec();
    while level.len() > 1 {
        level = level.chunks(2).map(|pair| naive_node(&pair[0], &pair[1])).collect();
    }
    level[0]
}

/// The nodes a tree must store: every ancestor (levels 0..=depth) of a non-empty leaf.
fn expected_stored(depth: u8, leaves: &BTreeMap<u64, Hash>) -> BTreeSet<(u8, u64)> {
    let mut out = BTreeSet::new();
    for (&index, hash) in leaves {
        if *hash != EMPTY_LEAF {
            out.extend((0..=depth).map(|level| (level, index >> level)));
        }
    }
    out
}

fn stored(tree: &MerkleTree) -> BTreeSet<(u8, u64)> {
    tree.nodes().map(|(level, index, _)| (level, index)).collect()
}

fn leaf_data(index: u64, version: u8) -> Vec<u8> {
    let mut data = index.to_le_bytes().to_vec();
    data.push(version);
    data
}

/// A small deterministic generator for index sets (no rand dependency needed).
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

// ---------------------------------------------------------------------------------------------
// Tree updates.

#[derive(Debug, Clone)]
enum Op {
    Set(u64, u8),
    Remove(u64),
}

fn op_strategy(index: BoxedStrategy<u64>) -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (index.clone(), any::<u8>()).prop_map(|(i, v)| Op::Set(i, v)),
        1 => index.prop_map(Op::Remove),
    ]
}

fn apply(tree: &mut MerkleTree, model: &mut BTreeMap<u64, Hash>, op: &Op) {
    match *op {
        Op::Set(index, version) => {
            tree.set(index, &leaf_data(index, version)).unwrap();
            model.insert(index, naive_leaf(&leaf_data(index, version)));
        }
        Op::Remove(index) => {
            tree.remove(index).unwrap();
            model.remove(&index);
        }
    }
}

fn spread_index_depth_32() -> BoxedStrategy<u64> {
    let pool = vec![0u64, 1, 2, 3, 0x8000_0000, 0xFFFF_FFFE, 0xFFFF_FFFF, 12345, 1 << 20];
    prop_oneof![prop::sample::select(pool), any::<u32>().prop_map(u64::from)].boxed()
}

/// A leaf index of the 16-level test trees that `proof` does not prove.
fn outside_of(proof: &MultiProof) -> u64 {
    (0..1u64 << 16).find(|i| !proof.indices().contains(i)).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn set_remove_sequences_match_dense_recomputation_at_depth_8(
        ops in prop::collection::vec(op_strategy((0u64..256).boxed()), 1..60)
    ) {
        let mut tree = MerkleTree::new(8).unwrap();
        let mut model = BTreeMap::new();
        for op in &ops {
            apply(&mut tree, &mut model, op);
            let mut dense = [EMPTY_LEAF; 256];
            for (&index, &hash) in &model {
                dense[index as usize] = hash;
            }
            prop_assert_eq!(tree.root(), dense_root_depth_8(&dense));
        }
        prop_assert_eq!(stored(&tree), expected_stored(8, &model));
    }

    #[test]
    fn set_remove_sequences_match_sparse_recomputation_at_depth_32(
        ops in prop::collection::vec(op_strategy(spread_index_depth_32()), 1..40)
    ) {
        let mut tree = MerkleTree::new(32).unwrap();
        let mut model = BTreeMap::new();
        for op in &ops {
            apply(&mut tree, &mut model, op);
            prop_assert_eq!(tree.root(), naive_root(32, &model));
        }
        prop_assert_eq!(stored(&tree), expected_stored(32, &model));
    }

    #[test]
    fn set_many_equals_sequential_sets(
        leaves in prop::collection::vec((0u64..1024, any::<u8>()), 0..50)
    ) {
        let mut batched = MerkleTree::new(10).unwrap();
        let mut sequential = MerkleTree::new(10).unwrap();
        batched.set_many(leaves.iter().map(|&(i, v)| (i, leaf_data(i, v)))).unwrap();
        for &(i, v) in &leaves {
            sequential.set(i, &leaf_data(i, v)).unwrap();
        }
        prop_assert_eq!(batched.root(), sequential.root());
        prop_assert_eq!(stored(&batched), stored(&sequential));
    }
}

#[test]
fn removing_every_leaf_empties_storage_and_restores_the_empty_root() {
    let mut tree = MerkleTree::new(32).unwrap();
    let empty_root = tree.root();
    for index in [0u64, 5, 6, 1 << 31, u32::MAX.into()] {
        tree.set(index, b"x").unwrap();
    }
    for index in [5u64, 0, u32::MAX.into(), 6, 1 << 31] {
        tree.remove(index).unwrap();
    }
    assert_eq!(tree.root(), empty_root);
    assert_eq!(tree.nodes().count(), 0);
}

#[test]
fn out_of_range_updates_are_rejected_and_change_nothing() {
    let mut tree = MerkleTree::new(32).unwrap();
    tree.set(3, b"a").unwrap();
    let root = tree.root();
    assert_eq!(tree.set(1 << 32, b"b"), Err(MerkleError::IndexOutOfRange));
    assert_eq!(tree.set_many([(4, b"c".as_slice()), (1 << 32, b"d")]), Err(MerkleError::IndexOutOfRange));
    assert_eq!(tree.root(), root);
    assert_eq!(tree.get_leaf_hash(4), Ok(EMPTY_LEAF));
    assert_eq!(tree.get_leaf_hash(1 << 32), Err(MerkleError::IndexOutOfRange));
    assert_eq!(tree.prove(1 << 32), Err(MerkleError::IndexOutOfRange));
}

#[test]
fn depth_must_be_between_1_and_64() {
    assert!(matches!(MerkleTree::new(0), Err(MerkleError::InvalidDepth)));
    assert!(matches!(MerkleTree::new(65), Err(MerkleError::InvalidDepth)));
    let mut tree = MerkleTree::new(64).unwrap();
    tree.set(u64::MAX, b"last").unwrap();
    assert!(tree.prove(u64::MAX).unwrap().verify(
        &Sha256Hasher,
        &tree.root(),
        u64::MAX,
        &naive_leaf(b"last")
    ));
}

// ---------------------------------------------------------------------------------------------
// Golden vectors, computed independently by a pure-Python SHA-256 compression (checked against
// hashlib on a padded block) with the tree built level by level.

const GOLDEN_EMPTY_ROOT_DEPTH_32: &str = "ac58cd1388fec290d398f1944b564449a63c815880566bd1d189f7839e3b0c8c";
const GOLDEN_ROOT_DEPTH_32_THREE_LEAVES: &str =
    "b8ec6d34f3ce0121e00b53fd1b97bfd21d327507f613a2edd7ae163385d6d51b";

#[test]
fn golden_roots_at_depth_32_match_naive_sha256() {
    let mut tree = MerkleTree::new(32).unwrap();
    assert_eq!(hex::encode(tree.root()), GOLDEN_EMPTY_ROOT_DEPTH_32);
    assert_eq!(tree.root(), naive_empty(32)[32]);

    let leaves: [(u64, &[u8]); 3] = [(0, b"leaf zero"), (1, b"leaf one"), (u32::MAX.into(), b"leaf last")];
    for (index, data) in leaves {
        tree.set(index, data).unwrap();
    }
    let model: BTreeMap<u64, Hash> = leaves.iter().map(|&(i, d)| (i, naive_leaf(d))).collect();
    assert_eq!(tree.root(), naive_root(32, &model));
    assert_eq!(hex::encode(tree.root()), GOLDEN_ROOT_DEPTH_32_THREE_LEAVES);
}

#[test]
fn sha256_hasher_matches_the_documented_domain_separation() {
    assert_eq!(Sha256Hasher.hash_leaf(b"abc"), naive_leaf(b"abc"));
    assert_eq!(Sha256Hasher.hash_node(&[1; 32], &[2; 32]), naive_node(&[1; 32], &[2; 32]));
    assert_ne!(Sha256Hasher.hash_leaf(&[[1u8; 32], [2; 32]].concat()), naive_node(&[1; 32], &[2; 32]));
}

#[test]
fn a_leaf_hashed_as_it_is_encoded_equals_the_leaf_hash_of_its_encoding() {
    use zkclob_state::witness::CryptoHasher;
    use zkclob_state::NativeCrypto;
    // Values whose encodings end inside, at, and across 64-byte block boundaries.
    for len in [0usize, 1, 50, 51, 55, 60, 64, 100, 119, 200, 1_000] {
        let value: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
        let encoded = borsh::to_vec(&value).unwrap();
        let want = naive_leaf(&encoded);
        assert_eq!(Sha256Hasher.hash_leaf(&encoded), want);
        assert_eq!(Sha256Hasher.hash_leaf_encoded(&value), want, "length {len}");
        assert_eq!(CryptoHasher(&NativeCrypto).hash_leaf_encoded(&value), want, "length {len}");
    }
}

// ---------------------------------------------------------------------------------------------
// Single proofs.

fn sample_tree(depth: u8, indices: &[u64]) -> MerkleTree {
    let mut tree = MerkleTree::new(depth).unwrap();
    tree.set_many(indices.iter().map(|&i| (i, leaf_data(i, 0)))).unwrap();
    tree
}

#[test]
fn single_proofs_verify_for_set_and_empty_leaves() {
    let tree = sample_tree(16, &[0, 1, 2, 100, 40_000, 65_535]);
    for index in [0u64, 1, 2, 3, 100, 101, 40_000, 65_535, 30_000] {
        let leaf = tree.get_leaf_hash(index).unwrap();
        assert!(tree.prove(index).unwrap().verify(&Sha256Hasher, &tree.root(), index, &leaf));
    }
}

#[test]
fn single_proof_fails_after_any_bit_flip() {
    let tree = sample_tree(16, &[0, 1, 2, 100, 40_000, 65_535]);
    let (index, leaf, root) = (100u64, tree.get_leaf_hash(100).unwrap(), tree.root());
    let proof = tree.prove(index).unwrap();
    let flip = |hash: &Hash, bit: usize| {
        let mut out = *hash;
        out[bit / 8] ^= 1 << (bit % 8);
        out
    };
    for bit in 0..256 {
        assert!(!proof.verify(&Sha256Hasher, &root, index, &flip(&leaf, bit)));
        assert!(!proof.verify(&Sha256Hasher, &flip(&root, bit), index, &leaf));
        for level in 0..proof.siblings.len() {
            let mut bad = proof.clone();
            bad.siblings[level] = flip(&bad.siblings[level], bit);
            assert!(!bad.verify(&Sha256Hasher, &root, index, &leaf));
        }
    }
    for bit in 0..64 {
        assert!(!proof.verify(&Sha256Hasher, &root, index ^ (1 << bit), &leaf));
    }
    let mut short = proof.clone();
    short.siblings.pop();
    assert!(!short.verify(&Sha256Hasher, &root, index, &leaf));
}

// ---------------------------------------------------------------------------------------------
// Multiproofs.

fn leaves_of<H: MerkleHasher>(tree: &MerkleTree<H>, indices: &[u64]) -> Vec<(u64, Hash)> {
    indices.iter().map(|&i| (i, tree.get_leaf_hash(i).unwrap())).collect()
}

fn multiproof_case() -> impl Strategy<Value = (Vec<u64>, Vec<u64>, Vec<(usize, u8)>)> {
    (
        prop::collection::vec(0u64..(1 << 16), 0..40),
        prop::collection::vec(0u64..(1 << 16), 1..20),
        prop::collection::vec((any::<usize>(), any::<u8>()), 0..10),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn multiproof_computes_the_tree_root_and_the_post_update_root(
        (present, proven, updates) in multiproof_case()
    ) {
        let mut tree = sample_tree(16, &present);
        let proof = tree.prove_many(&proven).unwrap();
        let mut old = leaves_of(&tree, proof.indices());
        old.reverse(); // any order is accepted
        prop_assert_eq!(proof.compute_root(&Sha256Hasher, &old), Ok(tree.root()));
        prop_assert_eq!(proof.verify(&Sha256Hasher, &tree.root(), &old), Ok(()));

        let mut new = BTreeMap::new();
        for (pick, version) in updates {
            let index = proof.indices()[pick % proof.indices().len()];
            new.insert(index, naive_leaf(&leaf_data(index, version)));
        }
        let new: Vec<(u64, Hash)> = new.into_iter().collect();
        let pre_root = tree.root();
        let post_root = proof.update_root(&Sha256Hasher, &pre_root, &old, &new);
        // The two-step path the guests take: check (keeping the nodes), then update. Given every
        // proven leaf — the unchanged ones with their old hash — it gives the same root.
        let verified = proof.verify_kept(&Sha256Hasher, &pre_root, &old).unwrap();
        prop_assert_eq!(verified.update_root(&Sha256Hasher, &new), post_root);
        let mut all: BTreeMap<u64, Hash> = old.iter().copied().collect();
        all.extend(new.iter().copied());
        let all: Vec<(u64, Hash)> = all.into_iter().collect();
        prop_assert_eq!(verified.update_root(&Sha256Hasher, &all), post_root);
        prop_assert_eq!(verified.update_root(&Sha256Hasher, &[]), Ok(pre_root));
        tree.set_many_hashes(new.iter().copied()).unwrap();
        prop_assert_eq!(post_root, Ok(tree.root()));
    }

    #[test]
    fn multiproof_tampering_gives_typed_errors(
        (present, proven, _) in multiproof_case(),
        pick in any::<usize>(),
    ) {
        let tree = sample_tree(16, &present);
        let proof = tree.prove_many(&proven).unwrap();
        let root = tree.root();
        let old = leaves_of(&tree, proof.indices());
        let target = proof.indices()[pick % old.len()];
        let new = [(target, [7u8; 32])];

        let mut wrong_old = old.clone();
        wrong_old[pick % old.len()].1[0] ^= 1;
        let h = Sha256Hasher;
        prop_assert_eq!(proof.update_root(&h, &root, &wrong_old, &new), Err(MerkleError::RootMismatch));
        let mut wrong_root = root;
        wrong_root[31] ^= 0x80;
        prop_assert_eq!(proof.update_root(&h, &wrong_root, &old, &new), Err(MerkleError::RootMismatch));
        prop_assert_eq!(proof.verify_kept(&h, &root, &wrong_old).map(|_| ()), Err(MerkleError::RootMismatch));
        prop_assert_eq!(proof.verify_kept(&h, &wrong_root, &old).map(|_| ()), Err(MerkleError::RootMismatch));
        let verified = proof.verify_kept(&h, &root, &old).unwrap();
        prop_assert_eq!(verified.update_root(&h, &[(outside_of(&proof), [7; 32])]), Err(MerkleError::IndexNotInProof));
        prop_assert_eq!(verified.update_root(&h, &[new[0], new[0]]), Err(MerkleError::DuplicateLeaf));
        prop_assert_eq!(proof.verify_kept(&h, &root, &old[1..]).map(|_| ()), Err(MerkleError::LeafSetMismatch));
        let outside = (0..1u64 << 16).find(|i| !proof.indices().contains(i)).unwrap();
        prop_assert_eq!(
            proof.update_root(&Sha256Hasher, &root, &old, &[(outside, [7; 32])]),
            Err(MerkleError::IndexNotInProof)
        );
        prop_assert_eq!(
            proof.update_root(&Sha256Hasher, &root, &old, &[new[0], new[0]]),
            Err(MerkleError::DuplicateLeaf)
        );
        prop_assert_eq!(proof.compute_root(&Sha256Hasher, &old[1..]), Err(MerkleError::LeafSetMismatch));
        let mut moved = old.clone();
        moved[pick % old.len()].0 = outside;
        prop_assert_eq!(proof.compute_root(&Sha256Hasher, &moved), Err(MerkleError::LeafSetMismatch));

        if proof.sibling_hash_count() > 0 {
            let mut bytes = borsh::to_vec(&proof).unwrap();
            let hashes_start = bytes.len() - 32 * proof.sibling_hash_count();
            bytes[hashes_start + pick % (32 * proof.sibling_hash_count())] ^= 0x10;
            let bad = MultiProof::decode(&bytes).unwrap();
            prop_assert_eq!(bad.update_root(&h, &root, &old, &new), Err(MerkleError::RootMismatch));
            prop_assert_eq!(bad.verify_kept(&h, &root, &old).map(|_| ()), Err(MerkleError::RootMismatch));
        }
    }

    #[test]
    fn multiproof_borsh_round_trip((present, proven, _) in multiproof_case()) {
        let tree = sample_tree(16, &present);
        let proof = tree.prove_many(&proven).unwrap();
        let bytes = borsh::to_vec(&proof).unwrap();
        prop_assert_eq!(&borsh::from_slice::<MultiProof>(&bytes).unwrap(), &proof);
        prop_assert_eq!(&MultiProof::decode(&bytes).unwrap(), &proof);
    }

    #[test]
    fn random_bytes_never_panic_the_decoder(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = MultiProof::decode(&bytes);
        let _ = borsh::from_slice::<MultiProof>(&bytes);
    }

    #[test]
    fn mutated_encodings_never_panic_the_decoder(
        (present, proven, _) in multiproof_case(),
        edits in prop::collection::vec((any::<usize>(), any::<u8>()), 1..8),
    ) {
        let tree = sample_tree(16, &present);
        let mut bytes = borsh::to_vec(&tree.prove_many(&proven).unwrap()).unwrap();
        for (at, value) in edits {
            let len = bytes.len();
            bytes[at % len] = value;
        }
        if let Ok(proof) = MultiProof::decode(&bytes) {
            let leaves: Vec<(u64, Hash)> = proof.indices().iter().map(|&i| (i, EMPTY_LEAF)).collect();
            let _ = proof.compute_root(&Sha256Hasher, &leaves);
        }
    }
}

#[test]
fn every_single_bit_flip_of_an_encoding_is_rejected_or_changes_the_root() {
    let tree = sample_tree(16, &[0, 1, 2, 7, 300, 301, 9_000, 65_535]);
    for proven in [vec![0u64, 2, 300, 65_535], vec![1, 5], vec![40_000]] {
        let proof = tree.prove_many(&proven).unwrap();
        let old = leaves_of(&tree, proof.indices());
        let bytes = borsh::to_vec(&proof).unwrap();
        for bit in 0..bytes.len() * 8 {
            let mut bad = bytes.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            if let Ok(bad) = MultiProof::decode(&bad) {
                assert!(bad.verify(&Sha256Hasher, &tree.root(), &old).is_err(), "bit {bit} of {proven:?}");
            }
        }
    }
}

#[test]
fn appending_at_an_empty_index_uses_the_empty_leaf_as_old_value() {
    let mut tree = sample_tree(32, &[0, 1]);
    let proof = tree.prove_many(&[1, 2, 1 << 31]).unwrap();
    let old = [(1, tree.get_leaf_hash(1).unwrap()), (2, EMPTY_LEAF), (1 << 31, EMPTY_LEAF)];
    let new = [(2, naive_leaf(b"two")), (1 << 31, naive_leaf(b"far"))];
    let post = proof.update_root(&Sha256Hasher, &tree.root(), &old, &new).unwrap();
    tree.set_many_hashes(new).unwrap();
    assert_eq!(post, tree.root());
}

// ---------------------------------------------------------------------------------------------
// Multiproof encoding limits.

fn encode_raw(depth: u8, indices: &[u64], bitmap: &[u8], hash_count: u32) -> Vec<u8> {
    let mut out = vec![depth];
    out.extend_from_slice(&(indices.len() as u32).to_le_bytes());
    indices.iter().for_each(|i| out.extend_from_slice(&i.to_le_bytes()));
    out.extend_from_slice(&(bitmap.len() as u32).to_le_bytes());
    out.extend_from_slice(bitmap);
    out.extend_from_slice(&hash_count.to_le_bytes());
    out
}

#[test]
fn encoding_layout_matches_the_documentation() {
    // One leaf in a depth-3 tree: 3 slots, all empty (bitmap 0b111), no hashes.
    let proof = MerkleTree::new(3).unwrap().prove_many(&[5]).unwrap();
    assert_eq!(borsh::to_vec(&proof).unwrap(), encode_raw(3, &[5], &[0b111], 0));
    assert_eq!((proof.sibling_hash_count(), proof.empty_sibling_count()), (0, 3));
}

#[test]
fn decoder_rejects_malformed_headers_with_typed_errors() {
    let ok = encode_raw(3, &[5], &[0b111], 0);
    assert!(MultiProof::decode(&ok).is_ok());
    let cases: Vec<(Vec<u8>, MerkleError)> = vec![
        (encode_raw(0, &[0], &[], 0), MerkleError::InvalidDepth),
        (encode_raw(65, &[0], &[0b111], 0), MerkleError::InvalidDepth),
        (encode_raw(3, &[], &[], 0), MerkleError::EmptyProof),
        (encode_raw(3, &[5, 5], &[0b11], 0), MerkleError::UnsortedIndices),
        (encode_raw(3, &[5, 4], &[0b11], 0), MerkleError::UnsortedIndices),
        (encode_raw(3, &[8], &[0b111], 0), MerkleError::IndexOutOfRange),
        (encode_raw(3, &[5], &[0b111, 0], 0), MerkleError::MalformedProof),
        (encode_raw(3, &[5], &[], 0), MerkleError::MalformedProof),
        (encode_raw(3, &[5], &[0b1111], 0), MerkleError::MalformedProof),
        (encode_raw(3, &[5], &[0b011], 0), MerkleError::MalformedProof),
        (encode_raw(3, &[5], &[0b011], 2), MerkleError::MalformedProof),
        (encode_raw(64, &[0], &[0; 8], MAX_PROOF_HASHES as u32 + 1), MerkleError::TooManyHashes),
        (encode_raw(3, &[5], &[0b011], 1), MerkleError::Truncated),
        (ok[..ok.len() - 1].to_vec(), MerkleError::Truncated),
        ([ok.as_slice(), &[0]].concat(), MerkleError::TrailingBytes),
    ];
    for (bytes, expected) in cases {
        assert_eq!(MultiProof::decode(&bytes), Err(expected), "{}", hex::encode(&bytes));
        assert!(borsh::from_slice::<MultiProof>(&bytes).is_err());
    }
    let mut too_many = vec![32u8];
    too_many.extend_from_slice(&(MAX_PROOF_LEAVES as u32 + 1).to_le_bytes());
    assert_eq!(MultiProof::decode(&too_many), Err(MerkleError::TooManyLeaves));
}

#[test]
fn prove_many_accepts_max_proof_leaves_and_rejects_one_more() {
    let tree = MerkleTree::new(32).unwrap();
    let at_limit: Vec<u64> = (0..MAX_PROOF_LEAVES as u64).collect();
    let proof = tree.prove_many(&at_limit).unwrap();
    assert_eq!((proof.sibling_hash_count(), proof.empty_sibling_count()), (0, 16));
    assert_eq!(MultiProof::decode(&borsh::to_vec(&proof).unwrap()).unwrap(), proof);
    let past: Vec<u64> = (0..=MAX_PROOF_LEAVES as u64).collect();
    assert_eq!(tree.prove_many(&past), Err(MerkleError::TooManyLeaves));
    assert_eq!(tree.prove_many(&[]), Err(MerkleError::EmptyProof));
    assert_eq!(tree.prove_many(&[1 << 32]), Err(MerkleError::IndexOutOfRange));
}

// ---------------------------------------------------------------------------------------------
// Hash counts (the zkVM cost metric).

fn counting_tree(depth: u8) -> MerkleTree<CountingHasher<Sha256Hasher>> {
    let tree = MerkleTree::with_hasher(CountingHasher::new(Sha256Hasher), depth).unwrap();
    assert_eq!(tree.hasher().node_hashes(), u64::from(depth), "empty-subtree table");
    tree.hasher().reset();
    tree
}

#[test]
fn set_at_depth_32_costs_one_leaf_hash_and_32_node_hashes() {
    let mut tree = counting_tree(32);
    tree.set(12_345, b"account").unwrap();
    assert_eq!((tree.hasher().leaf_hashes(), tree.hasher().node_hashes()), (1, 32));
    tree.hasher().reset();
    tree.set(u32::MAX.into(), b"other").unwrap();
    assert_eq!((tree.hasher().leaf_hashes(), tree.hasher().node_hashes()), (1, 32));
    tree.hasher().reset();
    tree.remove(u32::MAX.into()).unwrap();
    // The path shares only the root with leaf 12_345; every other node becomes empty for free.
    assert_eq!(tree.hasher().node_hashes(), 1);
}

#[test]
fn set_many_of_adjacent_leaves_hashes_each_shared_ancestor_once() {
    let mut tree = counting_tree(32);
    let k = 64u64;
    tree.set_many((0..k).map(|i| (1024 + i, leaf_data(i, 0)))).unwrap();
    let nodes = tree.hasher().node_hashes();
    println!("set_many of {k} adjacent leaves at depth 32: {nodes} node hashes (vs {} one by one)", k * 32);
    // 32 + 16 + 8 + 4 + 2 + 1 up to the aligned block's root, then 26 more to the tree root.
    assert_eq!(nodes, 63 + 26);
    assert_eq!(tree.hasher().leaf_hashes(), k);
}

/// Distinct ancestors of `indices` at each level 1..=depth (the nodes a verifier must hash).
fn union_nodes(depth: u8, indices: &[u64]) -> u64 {
    (1..=depth).map(|l| indices.iter().map(|i| i >> l).collect::<BTreeSet<_>>().len() as u64).sum()
}

struct ProofReport {
    k: u64,
    hashes: u64,
    empties: u64,
    bytes: usize,
    verify_nodes: u64,
    update_nodes: u64,
}

/// Proves `k` random accounts of `tree`, checks the structural counts, and measures the hashing.
fn measure_multiproof(
    tree: &MerkleTree<CountingHasher<Sha256Hasher>>,
    n: u64,
    k: usize,
    seed: u64,
) -> ProofReport {
    let mut rng = XorShift(seed);
    let mut indices: Vec<u64> = (0..k).map(|_| rng.next() % n).collect();
    indices.sort_unstable();
    indices.dedup();
    let k = indices.len() as u64;
    let proof = tree.prove_many(&indices).unwrap();
    let (hashes, empties) = (proof.sibling_hash_count() as u64, proof.empty_sibling_count() as u64);
    let union = union_nodes(tree.depth(), &indices);
    // Every union node has two children, one of them derived; the others are slots:
    // 2·|union| − (|union| + k − 1) = |union| − k + 1.
    assert_eq!(hashes + empties, union - k + 1);

    let hasher = CountingHasher::new(Sha256Hasher);
    let old = leaves_of(tree, &indices);
    assert_eq!(proof.compute_root(&hasher, &old), Ok(tree.root()));
    let verify_nodes = hasher.node_hashes();
    // One hash per union node, plus empty[1..=31] computed on first use (level 31's sibling is empty).
    assert_eq!(verify_nodes, union + u64::from(tree.depth()) - 1);

    hasher.reset();
    let new: Vec<(u64, Hash)> = indices.iter().step_by(10).map(|&i| (i, [9; 32])).collect();
    proof.update_root(&hasher, &tree.root(), &old, &new).unwrap();
    let update_nodes = hasher.node_hashes();
    assert!(update_nodes < 2 * verify_nodes);
    let bytes = borsh::to_vec(&proof).unwrap().len();
    ProofReport { k, hashes, empties, bytes, verify_nodes, update_nodes }
}

#[test]
fn multiproof_for_100_of_100000_accounts_reports_its_size_and_hash_count() {
    let (n, depth) = (100_000u64, 32u8);
    let mut tree = counting_tree(depth);
    tree.set_many_hashes((0..n).map(|i| (i, naive_leaf(&i.to_le_bytes())))).unwrap();
    println!("multiproofs over {n} accounts at depth {depth} (update_root changes every 10th leaf):");
    for k in [1usize, 10, 100, 1000] {
        let r = measure_multiproof(&tree, n, k, 0x9E37_79B9_7F4A_7C15);
        println!(
            "  k={:>4}: {:>5} sibling hashes + {:>2} empty bits, {:>6} bytes; compute_root {:>5} node hashes \
             (k single proofs: {:>5}); update_root {:>5}",
            r.k, r.hashes, r.empties, r.bytes, r.verify_nodes, r.k * 32, r.update_nodes
        );
        // Non-empty siblings only exist below level 17 (n ≤ 2^17), at most one per leaf per level.
        assert!(r.hashes <= 17 * r.k, "{}", r.hashes);
        // At least 15 empty bits: levels 17..=31 each have one empty sibling.
        assert!(r.empties >= 15, "{}", r.empties);
        if k == 100 {
            // Random leaves rarely share ancestors below level log2(n / k) ≈ 10.
            assert!(r.hashes >= 8 * r.k, "{}", r.hashes);
        }
    }
}
