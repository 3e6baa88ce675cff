//! KZG commitments and proofs for blobs, through `c-kzg` with Ethereum's trusted setup compiled
//! in (`c_kzg::ethereum_kzg_settings(0)`, loaded once per process).
//!
//! - [`blob_to_commitment`] and [`versioned_hash`]: what an L1 blob transaction carries;
//! - [`compute_blob_kzg_proof`] / [`verify_blob_kzg_proof`]: the proof a blob sidecar carries
//!   (the consensus layer checks it);
//! - [`compute_kzg_proof`] / [`verify_kzg_proof`]: opening at a point `z` to `y = p(z)`, what the
//!   point-evaluation precompile (address 0x0a) verifies on L1 and what the proof of equivalence
//!   uses (the guest computes the same `y` with [`crate::evaluation::evaluate_blob_polynomial`]).
//!
//! Verification returns `Ok(false)` for a well-formed proof that does not verify and `Err` for
//! inputs that are not even well formed (a point not on the curve, a field element `>= r`).
//!
//! ```
//! use zkclob_rollup::{blob, kzg};
//! let blobs = blob::pack(b"hello").unwrap();
//! let sidecar = kzg::BlobSidecar::new(blobs[0].clone()).unwrap();
//! assert_eq!(sidecar.versioned_hash[0], 0x01);
//! sidecar.verify().unwrap();
//! ```

use std::string::{String, ToString};

use thiserror::Error;

use crate::blob::Blob;
pub use crate::evaluation::{
    evaluate_blob_polynomial, versioned_hash, BYTES_PER_COMMITMENT, VERSIONED_HASH_VERSION_KZG,
};

/// A KZG commitment to a blob: a compressed BLS12-381 G1 point.
pub type Commitment = [u8; BYTES_PER_COMMITMENT];
/// A KZG proof: a compressed BLS12-381 G1 point.
pub type Proof = [u8; 48];
/// `0x01 ‖ sha256(commitment)[1..]`.
pub type VersionedHash = [u8; 32];
/// A BLS12-381 scalar field element, 32 bytes big-endian.
pub type FieldBytes = [u8; 32];

/// Why a KZG operation failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KzgError {
    /// `c-kzg` refused an input (a blob element `>= r`, a point not on the curve, ...).
    #[error("c-kzg refused the input of {operation}: {detail}")]
    InvalidInput {
        /// Which operation.
        operation: &'static str,
        /// `c-kzg`'s message.
        detail: String,
    },
    /// A sidecar's commitment, proof or versioned hash does not match its blob.
    #[error("sidecar does not verify: {0}")]
    SidecarMismatch(&'static str),
}

fn settings() -> &'static c_kzg::KzgSettings {
    c_kzg::ethereum_kzg_settings(0)
}

fn invalid(operation: &'static str) -> impl FnOnce(c_kzg::Error) -> KzgError {
    move |e| KzgError::InvalidInput { operation, detail: e.to_string() }
}

fn ckzg_blob(blob: &Blob) -> Result<c_kzg::Blob, KzgError> {
    c_kzg::Blob::from_bytes(blob.as_bytes()).map_err(invalid("blob conversion"))
}

/// The KZG commitment to `blob`.
pub fn blob_to_commitment(blob: &Blob) -> Result<Commitment, KzgError> {
    let commitment =
        settings().blob_to_kzg_commitment(&ckzg_blob(blob)?).map_err(invalid("blob_to_commitment"))?;
    Ok(commitment.to_bytes().into_inner())
}

/// The blob proof of a sidecar (EIP-4844 `compute_blob_kzg_proof`).
pub fn compute_blob_kzg_proof(blob: &Blob, commitment: &Commitment) -> Result<Proof, KzgError> {
    let proof = settings()
        .compute_blob_kzg_proof(&ckzg_blob(blob)?, &c_kzg::Bytes48::new(*commitment))
        .map_err(invalid("compute_blob_kzg_proof"))?;
    Ok(proof.to_bytes().into_inner())
}

/// Whether `proof` shows that `commitment` commits to `blob`.
pub fn verify_blob_kzg_proof(blob: &Blob, commitment: &Commitment, proof: &Proof) -> Result<bool, KzgError> {
    settings()
        .verify_blob_kzg_proof(
            &ckzg_blob(blob)?,
            &c_kzg::Bytes48::new(*commitment),
            &c_kzg::Bytes48::new(*proof),
        )
        .map_err(invalid("verify_blob_kzg_proof"))
}

/// Opens the blob's polynomial at `z`: returns the proof and `y = p(z)`.
pub fn compute_kzg_proof(blob: &Blob, z: &FieldBytes) -> Result<(Proof, FieldBytes), KzgError> {
    let (proof, y) = settings()
        .compute_kzg_proof(&ckzg_blob(blob)?, &c_kzg::Bytes32::new(*z))
        .map_err(invalid("compute_kzg_proof"))?;
    Ok((proof.to_bytes().into_inner(), *AsRef::<[u8; 32]>::as_ref(&y)))
}

/// Whether `proof` shows that the polynomial committed to by `commitment` is `y` at `z` — the
/// check of the point-evaluation precompile.
pub fn verify_kzg_proof(
    commitment: &Commitment,
    z: &FieldBytes,
    y: &FieldBytes,
    proof: &Proof,
) -> Result<bool, KzgError> {
    settings()
        .verify_kzg_proof(
            &c_kzg::Bytes48::new(*commitment),
            &c_kzg::Bytes32::new(*z),
            &c_kzg::Bytes32::new(*y),
            &c_kzg::Bytes48::new(*proof),
        )
        .map_err(invalid("verify_kzg_proof"))
}

/// A blob with what travels beside it in an EIP-4844 transaction's network form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobSidecar {
    /// The blob.
    pub blob: Blob,
    /// Its KZG commitment.
    pub commitment: Commitment,
    /// Its blob proof.
    pub proof: Proof,
    /// Its versioned hash.
    pub versioned_hash: VersionedHash,
}

impl BlobSidecar {
    /// Commits to `blob` and proves it.
    pub fn new(blob: Blob) -> Result<BlobSidecar, KzgError> {
        let commitment = blob_to_commitment(&blob)?;
        let proof = compute_blob_kzg_proof(&blob, &commitment)?;
        Ok(BlobSidecar { blob, commitment, proof, versioned_hash: versioned_hash(&commitment) })
    }

    /// Checks the proof against the blob and commitment, and the versioned hash against the
    /// commitment.
    pub fn verify(&self) -> Result<(), KzgError> {
        if versioned_hash(&self.commitment) != self.versioned_hash {
            return Err(KzgError::SidecarMismatch("versioned hash"));
        }
        if !verify_blob_kzg_proof(&self.blob, &self.commitment, &self.proof)? {
            return Err(KzgError::SidecarMismatch("blob proof"));
        }
        Ok(())
    }
}
