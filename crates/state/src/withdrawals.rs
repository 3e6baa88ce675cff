//! The withdrawals tree of one batch: what makes a withdrawal claimable on L1.
//!
//! A batch's withdrawals (in the order the batch queued them) are the leaves of a binary keccak-256
//! Merkle tree whose root the guest commits as `withdrawalsRoot` and the L1 contract stores when
//! the batch settles. A user claims withdrawal number `index` on L1 with its fields and the sibling
//! path. Keccak rather than the state tree's SHA-256 because the contract recomputes it (keccak is
//! an EVM opcode; SHA-256 costs a precompile call per node).
//!
//! - leaf: `keccak256(index u64 BE ‖ to (20 B) ‖ asset u32 BE ‖ amount u128 BE)` — 48 bytes, the
//!   Solidity `abi.encodePacked(uint64, bytes20, uint32, uint128)`; `index` is the withdrawal's
//!   number since genesis, so two equal withdrawals are two different claims;
//! - node: `keccak256(left ‖ right)` (64 bytes, so never confused with a 48-byte leaf);
//! - `n` leaves are padded with zero hashes to the next power of two; the root of no withdrawals
//!   is zero and the root of one is its leaf; a proof has `ceil(log2(n))` siblings, bottom up, and
//!   the bits of the position `index - first` say which side each is on (bit 0 = the leaf's level).

use alloc::vec::Vec;

use crate::crypto::Crypto;
use crate::exchange::Withdrawal;

/// The root of an empty withdrawals tree.
pub const EMPTY_WITHDRAWALS_ROOT: [u8; 32] = [0u8; 32];

/// The leaf of withdrawal number `index` (counted from genesis).
pub fn withdrawal_leaf(crypto: &impl Crypto, index: u64, w: &Withdrawal) -> [u8; 32] {
    let mut preimage = [0u8; 48];
    preimage[..8].copy_from_slice(&index.to_be_bytes());
    preimage[8..28].copy_from_slice(&w.to.0);
    preimage[28..32].copy_from_slice(&w.asset.0.to_be_bytes());
    preimage[32..].copy_from_slice(&w.amount.0.to_be_bytes());
    crypto.keccak256(&preimage)
}

fn node(crypto: &impl Crypto, left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(left);
    block[32..].copy_from_slice(right);
    crypto.keccak256(&block)
}

/// Every level of the tree, leaves first, each padded to an even width (except the root's).
fn levels(crypto: &impl Crypto, first_index: u64, withdrawals: &[Withdrawal]) -> Vec<Vec<[u8; 32]>> {
    let mut level: Vec<[u8; 32]> =
        withdrawals.iter().zip(first_index..).map(|(w, index)| withdrawal_leaf(crypto, index, w)).collect();
    let width = level.len().next_power_of_two();
    level.resize(width, [0u8; 32]);
    let mut levels = Vec::new();
    while level.len() > 1 {
        let next = level.chunks_exact(2).map(|pair| node(crypto, &pair[0], &pair[1])).collect();
        levels.push(core::mem::replace(&mut level, next));
    }
    levels.push(level);
    levels
}

/// The root of the withdrawals `withdrawals`, the first of which is number `first_index`.
pub fn withdrawals_root(crypto: &impl Crypto, first_index: u64, withdrawals: &[Withdrawal]) -> [u8; 32] {
    if withdrawals.is_empty() {
        return EMPTY_WITHDRAWALS_ROOT;
    }
    levels(crypto, first_index, withdrawals).last().map_or(EMPTY_WITHDRAWALS_ROOT, |root| root[0])
}

/// The sibling path of `withdrawals[position]`, bottom up; `None` if `position` is out of range.
pub fn withdrawal_proof(
    crypto: &impl Crypto,
    first_index: u64,
    withdrawals: &[Withdrawal],
    position: usize,
) -> Option<Vec<[u8; 32]>> {
    if position >= withdrawals.len() {
        return None;
    }
    let levels = levels(crypto, first_index, withdrawals);
    let siblings = levels[..levels.len() - 1]
        .iter()
        .enumerate()
        .map(|(depth, level)| level[(position >> depth) ^ 1])
        .collect();
    Some(siblings)
}

/// Recomputes the root from a leaf and its path (what the L1 contract does).
pub fn root_from_proof(
    crypto: &impl Crypto,
    leaf: [u8; 32],
    position: u64,
    siblings: &[[u8; 32]],
) -> [u8; 32] {
    siblings.iter().enumerate().fold(leaf, |acc, (depth, sibling)| {
        if (position >> depth) & 1 == 0 {
            node(crypto, &acc, sibling)
        } else {
            node(crypto, sibling, &acc)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{Address, NativeCrypto};
    use zkclob_core::{Amount, AssetId};

    fn w(i: u8) -> Withdrawal {
        Withdrawal {
            to: Address([i; 20]),
            asset: AssetId(u32::from(i) % 3),
            amount: Amount(1000 + u128::from(i)),
        }
    }

    #[test]
    fn empty_and_single() {
        assert_eq!(withdrawals_root(&NativeCrypto, 5, &[]), EMPTY_WITHDRAWALS_ROOT);
        let one = [w(1)];
        assert_eq!(withdrawals_root(&NativeCrypto, 5, &one), withdrawal_leaf(&NativeCrypto, 5, &one[0]));
        assert_eq!(withdrawal_proof(&NativeCrypto, 5, &one, 0), Some(Vec::new()));
        assert_eq!(withdrawal_proof(&NativeCrypto, 5, &one, 1), None);
    }

    #[test]
    fn every_proof_recomputes_the_root_and_binds_its_position() {
        for n in 1..=17u8 {
            let ws: Vec<Withdrawal> = (0..n).map(w).collect();
            let root = withdrawals_root(&NativeCrypto, 100, &ws);
            let depth = usize::from(n).next_power_of_two().trailing_zeros() as usize;
            for (pos, item) in ws.iter().enumerate() {
                let proof = withdrawal_proof(&NativeCrypto, 100, &ws, pos).unwrap();
                assert_eq!(proof.len(), depth);
                let leaf = withdrawal_leaf(&NativeCrypto, 100 + pos as u64, item);
                assert_eq!(root_from_proof(&NativeCrypto, leaf, pos as u64, &proof), root);
                // The same leaf at another position, or with another index, does not verify.
                if n > 1 {
                    let other = (pos as u64 + 1) % u64::from(n);
                    assert_ne!(root_from_proof(&NativeCrypto, leaf, other, &proof), root);
                }
                let shifted = withdrawal_leaf(&NativeCrypto, 101 + pos as u64, item);
                assert_ne!(root_from_proof(&NativeCrypto, shifted, pos as u64, &proof), root);
            }
        }
    }

    #[test]
    fn the_leaf_is_abi_encode_packed() {
        // keccak256(abi.encodePacked(uint64(7), bytes20(0x0101..), uint32(1), uint128(1001)))
        let mut pre = Vec::new();
        pre.extend_from_slice(&7u64.to_be_bytes());
        pre.extend_from_slice(&[1u8; 20]);
        pre.extend_from_slice(&1u32.to_be_bytes());
        pre.extend_from_slice(&1001u128.to_be_bytes());
        assert_eq!(pre.len(), 48);
        assert_eq!(withdrawal_leaf(&NativeCrypto, 7, &w(1)), NativeCrypto.keccak256(&pre));
    }
}
