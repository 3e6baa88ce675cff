//! The files a prover reads and writes.
//!
//! - **Batch file**: what a guest needs to run one batch, plus the native node's result to compare.
//!   Layout: the 8 magic bytes [`BATCH_MAGIC`] (`ZKCLOBB` and a format version byte, 1), then the
//!   borsh encoding of [`BatchFile`].
//! - **Proof file**: a proof and the public output it claims. Layout: the 8 magic bytes
//!   [`PROOF_MAGIC`] (`ZKCLOBP` and a format version byte, 1), then the borsh encoding of
//!   [`ProofFile`]: backend name, backend version, proof mode, SHA-256 of the guest ELF, the
//!   [`PublicOutput`], and the backend's own proof bytes (for SP1: `SP1ProofWithPublicValues` as
//!   its SDK saves it, bincode). The claimed output is checked against the proof's public values
//!   on verification, never trusted.
//!
//! Files above their limit ([`MAX_BATCH_FILE_BYTES`], [`MAX_PROOF_FILE_BYTES`]) are refused before
//! parsing; trailing bytes are refused; writes are atomic (temporary file, then rename).

use std::path::Path;

use borsh::{BorshDeserialize, BorshSerialize};
use thiserror::Error;
use zkclob_state::{BatchHeader, Command, PublicOutput, Witness};

/// Magic and format version of a batch file.
pub const BATCH_MAGIC: [u8; 8] = *b"ZKCLOBB\x01";
/// Largest batch file accepted.
pub const MAX_BATCH_FILE_BYTES: usize = 512 << 20;
/// Magic and format version of a proof file.
pub const PROOF_MAGIC: [u8; 8] = *b"ZKCLOBP\x01";
/// Largest proof file accepted.
pub const MAX_PROOF_FILE_BYTES: usize = 1 << 30;

/// A proof and what it claims (see the module docs for the layout).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ProofFile {
    /// The backend that made it (`"sp1"`).
    pub backend: String,
    /// The backend's version (`"sp1-sdk 6.10.0"`).
    pub backend_version: String,
    /// The proof mode (`"core"`: SP1's core STARK proof, one per shard).
    pub mode: String,
    /// SHA-256 of the guest ELF the proof is for.
    pub guest_elf_sha256: [u8; 32],
    /// The public output the proof claims.
    pub output: PublicOutput,
    /// The backend's own encoding of the proof.
    pub proof: Vec<u8>,
}

/// One batch, ready for any backend.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct BatchFile {
    /// The batch header (its `prev_root` is the pre-state root).
    pub header: BatchHeader,
    /// The commands, in order.
    pub commands: Vec<Command>,
    /// The pre-state the batch reaches, proven against `header.prev_root`.
    pub witness: Witness,
    /// The post-root the native node computed on its full state.
    pub native_post_root: [u8; 32],
}

/// Why a batch file could not be read or written.
#[derive(Debug, Error)]
pub enum FileError {
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// Not a zkclob file of the expected kind, or another version.
    #[error("{0}: not a zkclob {1} file (version 1)")]
    BadMagic(String, &'static str),
    /// Larger than [`MAX_BATCH_FILE_BYTES`].
    #[error("{path}: {len} bytes is above the limit of {limit}")]
    TooLarge {
        /// The file.
        path: String,
        /// Its size.
        len: u64,
        /// The limit.
        limit: usize,
    },
    /// The content does not decode.
    #[error("{path}: malformed file: {source}")]
    Malformed {
        /// The file.
        path: String,
        /// The codec's reason.
        source: zkclob_core::codec::CodecError,
    },
}

fn to_file_bytes<T: BorshSerialize>(magic: &[u8; 8], value: &T) -> Vec<u8> {
    let mut out = magic.to_vec();
    out.extend_from_slice(&zkclob_core::codec::encode(value));
    out
}

fn from_file_bytes<T: BorshDeserialize>(
    bytes: &[u8],
    name: &str,
    magic: &[u8; 8],
    kind: &'static str,
    limit: usize,
) -> Result<T, FileError> {
    let body = bytes.strip_prefix(&magic[..]).ok_or_else(|| FileError::BadMagic(name.to_owned(), kind))?;
    zkclob_core::codec::decode(body, limit)
        .map_err(|source| FileError::Malformed { path: name.to_owned(), source })
}

/// Writes atomically (a temporary file renamed into place), so a crash never leaves a half-written
/// file under the final name.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    let io = |source| FileError::Io { path: path.display().to_string(), source };
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

fn read_limited(path: &Path, limit: usize) -> Result<Vec<u8>, FileError> {
    let name = path.display().to_string();
    let io = |source| FileError::Io { path: name.clone(), source };
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > (limit + 8) as u64 {
        return Err(FileError::TooLarge { path: name, len, limit });
    }
    std::fs::read(path).map_err(io)
}

impl BatchFile {
    /// The file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        to_file_bytes(&BATCH_MAGIC, self)
    }

    /// Parses a file's bytes; `name` is used in errors.
    pub fn from_bytes(bytes: &[u8], name: &str) -> Result<BatchFile, FileError> {
        from_file_bytes(bytes, name, &BATCH_MAGIC, "batch", MAX_BATCH_FILE_BYTES)
    }

    /// Writes the file atomically.
    pub fn write(&self, path: &Path) -> Result<(), FileError> {
        write_atomic(path, &self.to_bytes())
    }

    /// Reads a file.
    pub fn read(path: &Path) -> Result<BatchFile, FileError> {
        BatchFile::from_bytes(&read_limited(path, MAX_BATCH_FILE_BYTES)?, &path.display().to_string())
    }
}

impl ProofFile {
    /// The file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        to_file_bytes(&PROOF_MAGIC, self)
    }

    /// Parses a file's bytes; `name` is used in errors.
    pub fn from_bytes(bytes: &[u8], name: &str) -> Result<ProofFile, FileError> {
        from_file_bytes(bytes, name, &PROOF_MAGIC, "proof", MAX_PROOF_FILE_BYTES)
    }

    /// Writes the file atomically.
    pub fn write(&self, path: &Path) -> Result<(), FileError> {
        write_atomic(path, &self.to_bytes())
    }

    /// Reads a file.
    pub fn read(path: &Path) -> Result<ProofFile, FileError> {
        ProofFile::from_bytes(&read_limited(path, MAX_PROOF_FILE_BYTES)?, &path.display().to_string())
    }
}
