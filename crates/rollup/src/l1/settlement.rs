//! What a settlement carries: the public values the zkVM guest commits (`abi.encode` of
//! [`PublicValues`], laid out in `contracts/README.md`), the per-blob openings of the proof of
//! equivalence, and the hash chains of the deposit and forced-command queues that the guest
//! recomputes from the commands it consumed.
//!
//! ```
//! use alloy_primitives::B256;
//! use zkclob_rollup::l1::settlement::{decode_public_values, encode_public_values, PublicValues};
//! let pv = PublicValues { batchNumber: 1, preRoot: B256::repeat_byte(1), ..Default::default() };
//! let bytes = encode_public_values(&pv);
//! assert_eq!(decode_public_values(&bytes).unwrap(), pv);
//! ```

use std::vec::Vec;

use alloy_primitives::{keccak256, Bytes, FixedBytes, B256};
use alloy_sol_types::SolValue;

pub use super::contracts::Rollup::{BlobOpening, KzgOpeningProof, PublicValues};
use crate::kzg::{self, BlobSidecar, KzgError};

/// `publicValues` as the contract decodes it: `abi.encode(pv)`.
pub fn encode_public_values(pv: &PublicValues) -> Bytes {
    pv.abi_encode().into()
}

/// Decodes public values; refuses anything `abi.decode` on L1 would refuse, and non-canonical
/// encodings.
pub fn decode_public_values(bytes: &[u8]) -> Result<PublicValues, alloy_sol_types::Error> {
    PublicValues::abi_decode_validate(bytes)
}

/// The proof of equivalence for one blob at the point `z`: the opening `(versioned hash, z, y)`
/// that goes into the public values (the guest computes `y` with
/// [`crate::evaluation::evaluate_blob_polynomial`]) and the KZG data the settler passes to the
/// point-evaluation precompile.
pub fn open_blob(sidecar: &BlobSidecar, z: &[u8; 32]) -> Result<(BlobOpening, KzgOpeningProof), KzgError> {
    let (proof, y) = kzg::compute_kzg_proof(&sidecar.blob, z)?;
    let opening = BlobOpening { versionedHash: sidecar.versioned_hash.into(), z: z.into(), y: y.into() };
    let kzg_proof = KzgOpeningProof {
        commitment: Bytes::copy_from_slice(&sidecar.commitment),
        proof: Bytes::copy_from_slice(&proof),
    };
    Ok((opening, kzg_proof))
}

pub use crate::derivation::DepositRecord;

impl DepositRecord {
    /// The deposit chain after this record, following `previous`:
    /// `keccak256(previous ‖ asset_id u32 BE ‖ atoms u128 BE ‖ l2_address)` (72 bytes), as
    /// `Rollup.depositChainLink` computes it.
    pub fn chain_after(&self, previous: B256) -> B256 {
        let mut preimage = Vec::with_capacity(72);
        preimage.extend_from_slice(previous.as_slice());
        preimage.extend_from_slice(&self.asset_id.to_be_bytes());
        preimage.extend_from_slice(&self.atoms.to_be_bytes());
        preimage.extend_from_slice(&self.l2_address);
        keccak256(&preimage)
    }
}

/// The deposit chain after `records`, starting from zero (no deposits).
pub fn deposit_chain<'a>(records: impl IntoIterator<Item = &'a DepositRecord>) -> B256 {
    records.into_iter().fold(B256::ZERO, |chain, r| r.chain_after(chain))
}

/// One link of the forced-command chain: `keccak256(previous ‖ keccak256(command))`, as
/// `Rollup.forcedChainLink` computes it.
pub fn forced_chain_link(previous: B256, command: &[u8]) -> B256 {
    let mut preimage = [0u8; 64];
    preimage[..32].copy_from_slice(previous.as_slice());
    preimage[32..].copy_from_slice(keccak256(command).as_slice());
    keccak256(preimage)
}

/// The forced-command chain after `commands`, starting from zero.
pub fn forced_chain<'a>(commands: impl IntoIterator<Item = &'a [u8]>) -> B256 {
    commands.into_iter().fold(B256::ZERO, forced_chain_link)
}

/// `keccak256(abi.encodePacked(versionedHashes))`: what a proposal stores of its blobs.
pub fn blobs_hash(versioned_hashes: &[FixedBytes<32>]) -> B256 {
    keccak256(versioned_hashes.iter().flat_map(|h| h.0).collect::<Vec<u8>>())
}
