//! The whole way from a batch to blob sidecars and back:
//! [`batch_data::encode`] → [`compress::compress`] → [`blob::pack`] → [`BlobSidecar::new`], and
//! [`decode_blobs`] for the reverse ([`blob::unpack`] → [`compress::decompress`] →
//! [`batch_data::decode`]).
//!
//! [`decode_blobs`] is `no_std` and total — it is what derivation runs on the blobs of a
//! proposal (an error there makes the proposal an empty batch) and what the zkVM guest runs on
//! the blobs it proves. Decoding is canonical at the batch level: the decoded batch re-encodes
//! to the same batch data; the blobs themselves are canonical up to the compressed stream (any
//! valid zlib stream of the batch data is accepted, and the KZG commitments bind the one used).
//!
//! ```
//! use zkclob_core::Timestamp;
//! use zkclob_rollup::pipeline::{decode_blobs, BatchBlobs};
//! use zkclob_state::BatchHeader;
//! let header = BatchHeader { batch_number: 1, timestamp: Timestamp(0), prev_root: [0; 32] };
//! let batch = BatchBlobs::from_batch(&header, &[]).unwrap();
//! assert_eq!(batch.sidecars.len(), 1);
//! assert_eq!(decode_blobs(&batch.blobs()).unwrap(), (header, vec![]));
//! ```

use alloc::vec::Vec;
use thiserror::Error;
use zkclob_state::{BatchHeader, Command};

use crate::batch_data::{self, DecodeError, EncodeError, MAX_BATCH_DATA_BYTES};
use crate::blob::{self, Blob, PackError, UnpackError};
use crate::compress::{self, DecompressError};
#[cfg(feature = "std")]
use crate::kzg::{BlobSidecar, KzgError, VersionedHash};

/// Why a batch could not be turned into blobs.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BatchToBlobsError {
    /// The batch could not be encoded.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// The compressed batch does not fit in the blobs a batch may use.
    #[error(transparent)]
    Pack(#[from] PackError),
    /// Committing or proving failed.
    #[cfg(feature = "std")]
    #[error(transparent)]
    Kzg(#[from] KzgError),
}

/// Why blobs are not a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum BlobsToBatchError {
    /// The blobs do not follow the blob layout.
    #[error(transparent)]
    Unpack(#[from] UnpackError),
    /// The payload is not a zlib stream of at most [`MAX_BATCH_DATA_BYTES`].
    #[error(transparent)]
    Decompress(#[from] DecompressError),
    /// The decompressed bytes are not batch data.
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

/// Encodes, compresses and packs a batch into blobs (no commitments).
pub fn encode_blobs(header: &BatchHeader, commands: &[Command]) -> Result<Vec<Blob>, BatchToBlobsError> {
    let data = batch_data::encode(header, commands)?;
    let compressed = compress::compress(&data);
    Ok(blob::pack(&compressed)?)
}

/// Unpacks, decompresses and decodes the blobs of one batch. Total.
pub fn decode_blobs(blobs: &[Blob]) -> Result<(BatchHeader, Vec<Command>), BlobsToBatchError> {
    let compressed = blob::unpack(blobs)?;
    let data = compress::decompress(&compressed, MAX_BATCH_DATA_BYTES)?;
    Ok(batch_data::decode(&data)?)
}

/// A batch as the sidecars of the blob transaction(s) that propose it.
#[cfg(feature = "std")]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchBlobs {
    /// One sidecar per blob, in blob order.
    pub sidecars: Vec<BlobSidecar>,
}

#[cfg(feature = "std")]
impl BatchBlobs {
    /// Encodes, compresses, packs, commits to and proves a batch.
    pub fn from_batch(header: &BatchHeader, commands: &[Command]) -> Result<BatchBlobs, BatchToBlobsError> {
        let sidecars = encode_blobs(header, commands)?
            .into_iter()
            .map(BlobSidecar::new)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(BatchBlobs { sidecars })
    }

    /// Decodes the blobs of one batch: the same as [`decode_blobs`].
    pub fn decode(blobs: &[Blob]) -> Result<(BatchHeader, Vec<Command>), BlobsToBatchError> {
        decode_blobs(blobs)
    }

    /// The blobs, in order (cloned: 128 KiB each).
    pub fn blobs(&self) -> Vec<Blob> {
        self.sidecars.iter().map(|s| s.blob.clone()).collect()
    }

    /// The versioned hashes, in order: what the proposing transaction's `blobVersionedHashes` is.
    pub fn versioned_hashes(&self) -> Vec<VersionedHash> {
        self.sidecars.iter().map(|s| s.versioned_hash).collect()
    }
}
