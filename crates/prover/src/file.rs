//! The batch file: what a guest needs to run one batch, plus the native node's result to compare.
//!
//! Layout: the 8 magic bytes [`BATCH_MAGIC`] (`ZKCLOBB` and a format version byte, 1), then the
//! borsh encoding of [`BatchFile`]. Files above [`MAX_BATCH_FILE_BYTES`] are refused before
//! parsing; trailing bytes are refused.

use std::path::Path;

use borsh::{BorshDeserialize, BorshSerialize};
use thiserror::Error;
use zkclob_state::{BatchHeader, Command, Witness};

/// Magic and format version of a batch file.
pub const BATCH_MAGIC: [u8; 8] = *b"ZKCLOBB\x01";
/// Largest batch file accepted.
pub const MAX_BATCH_FILE_BYTES: usize = 512 << 20;

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
    /// Not a zkclob batch file, or another version.
    #[error("{0}: not a zkclob batch file (version 1)")]
    BadMagic(String),
    /// Larger than [`MAX_BATCH_FILE_BYTES`].
    #[error("{path}: {len} bytes is above the limit of {MAX_BATCH_FILE_BYTES}")]
    TooLarge {
        /// The file.
        path: String,
        /// Its size.
        len: u64,
    },
    /// The content does not decode.
    #[error("{path}: malformed batch: {source}")]
    Malformed {
        /// The file.
        path: String,
        /// The codec's reason.
        source: zkclob_core::codec::CodecError,
    },
}

impl BatchFile {
    /// The file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = BATCH_MAGIC.to_vec();
        out.extend_from_slice(&zkclob_core::codec::encode(self));
        out
    }

    /// Parses a file's bytes; `name` is used in errors.
    pub fn from_bytes(bytes: &[u8], name: &str) -> Result<BatchFile, FileError> {
        let body =
            bytes.strip_prefix(&BATCH_MAGIC[..]).ok_or_else(|| FileError::BadMagic(name.to_owned()))?;
        zkclob_core::codec::decode(body, MAX_BATCH_FILE_BYTES)
            .map_err(|source| FileError::Malformed { path: name.to_owned(), source })
    }

    /// Writes the file atomically (a temporary file renamed into place), so a crash never leaves
    /// a half-written batch under the final name.
    pub fn write(&self, path: &Path) -> Result<(), FileError> {
        let io = |source| FileError::Io { path: path.display().to_string(), source };
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, self.to_bytes()).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// Reads a file.
    pub fn read(path: &Path) -> Result<BatchFile, FileError> {
        let name = path.display().to_string();
        let io = |source| FileError::Io { path: name.clone(), source };
        let len = std::fs::metadata(path).map_err(io)?.len();
        if len > (MAX_BATCH_FILE_BYTES + BATCH_MAGIC.len()) as u64 {
            return Err(FileError::TooLarge { path: name, len });
        }
        let bytes = std::fs::read(path).map_err(io)?;
        BatchFile::from_bytes(&bytes, &name)
    }
}
