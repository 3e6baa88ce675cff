//! The committee side of `CommitteeVerifier`: each member checks the SP1 STARK proof of a
//! batch off-chain and signs an attestation of `(programVKey, publicValues)`; `k` signatures,
//! ordered by signer address, are the `proofBytes` the contract verifies with `ecrecover`.
//!
//! The signed digest is the EIP-191 personal-sign digest (`"\x19Ethereum Signed Message:\n32"`)
//! of `keccak256(abi.encode(ATTESTATION_DOMAIN, programVKey, keccak256(publicValues), chainid,
//! verifier))`, so any Ethereum wallet or signer service can produce it, and an attestation is
//! valid for one chain and one verifier deployment only. Signatures are low-s (EIP-2) with
//! `v` = 27 or 28.
//!
//! ```
//! use alloy_primitives::{Address, B256};
//! use zkclob_rollup::l1::committee::{Committee, CommitteeMember};
//! let committee = Committee::new((1..=3).map(CommitteeMember::dev).collect());
//! let proof = committee.attest(&[0, 2], B256::ZERO, b"public values", 31_337, Address::ZERO);
//! assert_eq!(proof.len(), 2 * 65);
//! ```

use std::vec::Vec;

use alloy_primitives::{keccak256, Address, Bytes, B256, U256};
use k256::ecdsa::SigningKey;
use thiserror::Error;

/// Bytes per signature in the proof: r ‖ s ‖ v.
pub const SIGNATURE_BYTES: usize = 65;

/// The contract's `ATTESTATION_DOMAIN`.
pub fn attestation_domain() -> B256 {
    keccak256(b"zkclob.CommitteeVerifier.v1")
}

/// The digest a member signs: equal to `CommitteeVerifier.attestationDigest` on chain
/// `chain_id` for the verifier at `verifier`.
pub fn attestation_digest(
    program_vkey: B256,
    public_values: &[u8],
    chain_id: u64,
    verifier: Address,
) -> B256 {
    let mut encoded = Vec::with_capacity(5 * 32);
    encoded.extend_from_slice(attestation_domain().as_slice());
    encoded.extend_from_slice(program_vkey.as_slice());
    encoded.extend_from_slice(keccak256(public_values).as_slice());
    encoded.extend_from_slice(&U256::from(chain_id).to_be_bytes::<32>());
    encoded.extend_from_slice(B256::left_padding_from(verifier.as_slice()).as_slice());
    let attestation = keccak256(&encoded);
    let mut message = Vec::with_capacity(28 + 32);
    message.extend_from_slice(b"\x19Ethereum Signed Message:\n32");
    message.extend_from_slice(attestation.as_slice());
    keccak256(&message)
}

/// A secret key that is not a valid secp256k1 scalar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("not a valid secp256k1 secret key")]
pub struct BadSecretKey;

/// One committee member's key.
#[derive(Debug, Clone)]
pub struct CommitteeMember {
    key: SigningKey,
    address: Address,
}

impl CommitteeMember {
    /// From a 32-byte secret key.
    pub fn from_secret(secret: &[u8; 32]) -> Result<CommitteeMember, BadSecretKey> {
        let key = SigningKey::from_slice(secret).map_err(|_| BadSecretKey)?;
        let point = key.verifying_key().to_encoded_point(false);
        let address = Address::from_slice(&keccak256(&point.as_bytes()[1..])[12..]);
        Ok(CommitteeMember { key, address })
    }

    /// A deterministic dev key: `keccak256("zkclob committee member" ‖ seed)`.
    pub fn dev(seed: u32) -> CommitteeMember {
        let secret = keccak256([b"zkclob committee member".as_slice(), &seed.to_be_bytes()].concat());
        // A keccak output is zero or >= n with probability ~2^-128.
        CommitteeMember::from_secret(&secret.0).expect("a hash is a valid scalar")
    }

    /// The member's Ethereum address.
    pub fn address(&self) -> Address {
        self.address
    }

    /// Signs `digest`: `r ‖ s ‖ v`, s low, v = 27 + recovery parity.
    pub fn sign(&self, digest: B256) -> [u8; SIGNATURE_BYTES] {
        let (signature, recovery) =
            self.key.sign_prehash_recoverable(digest.as_slice()).expect("signing a 32-byte prehash");
        let (signature, y_odd) = match signature.normalize_s() {
            Some(low) => (low, !recovery.is_y_odd()),
            None => (signature, recovery.is_y_odd()),
        };
        let mut out = [0u8; SIGNATURE_BYTES];
        out[..64].copy_from_slice(&signature.to_bytes());
        out[64] = 27 + u8::from(y_odd);
        out
    }
}

/// A committee: its members' keys, kept in increasing address order (the order signatures
/// must have in a proof).
#[derive(Debug, Clone)]
pub struct Committee {
    members: Vec<CommitteeMember>,
}

impl Committee {
    /// From members in any order.
    pub fn new(mut members: Vec<CommitteeMember>) -> Committee {
        members.sort_by_key(CommitteeMember::address);
        Committee { members }
    }

    /// Members in increasing address order.
    pub fn members(&self) -> &[CommitteeMember] {
        &self.members
    }

    /// Member addresses, increasing (the `CommitteeVerifier` constructor's argument).
    pub fn addresses(&self) -> Vec<Address> {
        self.members.iter().map(CommitteeMember::address).collect()
    }

    /// The proof signed by the members at positions `signers` (positions in
    /// [`Committee::members`], increasing): their signatures concatenated in address order.
    ///
    /// # Panics
    /// If a position is out of range (a caller bug).
    pub fn attest(
        &self,
        signers: &[usize],
        program_vkey: B256,
        public_values: &[u8],
        chain_id: u64,
        verifier: Address,
    ) -> Bytes {
        let digest = attestation_digest(program_vkey, public_values, chain_id, verifier);
        let mut positions = signers.to_vec();
        positions.sort_unstable();
        positions.iter().flat_map(|&i| self.members[i].sign(digest)).collect::<Vec<u8>>().into()
    }
}
