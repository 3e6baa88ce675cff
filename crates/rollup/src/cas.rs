//! A content-addressed backup store for blobs: each object is a file `<dir>/<cid>` named by its
//! CIDv1 (codec raw `0x55`, multihash sha2-256 `0x12`), written atomically and checked against
//! its CID on every read.
//!
//! The CID string is the base32 lower-case (`b…`) form, which is what
//! `ipfs add --cid-version 1 --raw-leaves` prints for a file of one chunk: up to 256 KiB with the
//! default chunker, so a 128 KiB blob is one raw leaf and its IPFS CID is exactly [`cid_of`]. A
//! larger object would be chunked into a DAG whose root CID differs, so [`CasStore::put`] refuses
//! objects over [`MAX_OBJECT_BYTES`]. The store directory can therefore be added to IPFS (or any
//! CID-addressed pinning service) as is, and anything fetched back is verified the same way.
//!
//! ```
//! use zkclob_rollup::cas::{cid_of, CasStore};
//! assert_eq!(cid_of(b"").to_string(), "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");
//! let dir = tempfile::tempdir().unwrap();
//! let store = CasStore::open(dir.path()).unwrap();
//! let cid = store.put(b"blob bytes").unwrap();
//! assert_eq!(store.get(&cid).unwrap(), b"blob bytes");
//! ```

use std::boxed::Box;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::vec::Vec;

pub use cid::Cid;
use multihash::Multihash;
use sha2::{Digest, Sha256};
use thiserror::Error;

/// Multicodec code of raw bytes.
pub const RAW_CODEC: u64 = 0x55;
/// Multihash code of sha2-256.
pub const SHA2_256_CODE: u64 = 0x12;
/// Largest object stored (256 KiB): the IPFS default chunk size, below which the object's IPFS
/// CID (with raw leaves) is its raw CID.
pub const MAX_OBJECT_BYTES: usize = 256 * 1024;

/// Distinguishes temporary files of concurrent writers in one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Why a store operation failed.
#[derive(Debug, Error)]
pub enum CasError {
    /// The object is larger than [`MAX_OBJECT_BYTES`].
    #[error("object of {len} bytes exceeds the limit of {MAX_OBJECT_BYTES} bytes")]
    TooLarge {
        /// Its length (for a stored file, at least this).
        len: u64,
    },
    /// No object with this CID is stored.
    #[error("no object {0}")]
    NotFound(Cid),
    /// The stored bytes do not hash to their CID. (Boxed: two CIDs would make every result of
    /// this module large.)
    #[error("object {expected} is corrupt: its bytes have CID {actual}")]
    Tampered {
        /// The CID asked for.
        expected: Box<Cid>,
        /// The CID of the bytes found.
        actual: Box<Cid>,
    },
    /// The CID is not a CIDv1 of raw bytes with a sha2-256 multihash.
    #[error("unsupported CID {0}: only CIDv1, raw, sha2-256")]
    UnsupportedCid(Cid),
    /// The filesystem failed.
    #[error("{operation} {path}: {source}")]
    Io {
        /// What was being done.
        operation: &'static str,
        /// On which path.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
}

/// The CIDv1 (raw, sha2-256) of `bytes`.
pub fn cid_of(bytes: &[u8]) -> Cid {
    let digest = Sha256::digest(bytes);
    let hash =
        Multihash::<64>::wrap(SHA2_256_CODE, &digest).expect("a 32-byte digest fits a 64-byte multihash");
    Cid::new_v1(RAW_CODEC, hash)
}

/// A directory of objects named by their CIDs.
#[derive(Debug, Clone)]
pub struct CasStore {
    dir: PathBuf,
}

impl CasStore {
    /// Opens (creating if needed) the store in `dir`.
    pub fn open(dir: impl AsRef<Path>) -> Result<CasStore, CasError> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir).map_err(io_error("create directory", &dir))?;
        Ok(CasStore { dir })
    }

    /// The path an object with this CID has in the store.
    pub fn path_of(&self, cid: &Cid) -> PathBuf {
        self.dir.join(cid.to_string())
    }

    /// Stores `bytes` and returns their CID. Idempotent; a corrupt copy is replaced. The file
    /// appears whole or not at all: it is written to a temporary name, synced, then renamed.
    pub fn put(&self, bytes: &[u8]) -> Result<Cid, CasError> {
        if bytes.len() > MAX_OBJECT_BYTES {
            return Err(CasError::TooLarge { len: bytes.len() as u64 });
        }
        let cid = cid_of(bytes);
        if self.get(&cid).is_ok() {
            return Ok(cid);
        }
        let path = self.path_of(&cid);
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let temp = self.dir.join(format!(".tmp-{cid}-{}-{n}", std::process::id()));
        write_synced(&temp, bytes)?;
        fs::rename(&temp, &path).map_err(io_error("rename into", &path))?;
        // Make the rename itself durable.
        File::open(&self.dir).and_then(|d| d.sync_all()).map_err(io_error("sync directory", &self.dir))?;
        Ok(cid)
    }

    /// Reads the object with this CID and checks that its bytes hash to it.
    pub fn get(&self, cid: &Cid) -> Result<Vec<u8>, CasError> {
        check_supported(cid)?;
        let path = self.path_of(cid);
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(CasError::NotFound(*cid)),
            Err(e) => return Err(io_error("open", &path)(e)),
        };
        let mut bytes = Vec::new();
        // Read one byte past the limit so that an oversized file is seen without reading it all.
        file.take(MAX_OBJECT_BYTES as u64 + 1).read_to_end(&mut bytes).map_err(io_error("read", &path))?;
        if bytes.len() > MAX_OBJECT_BYTES {
            return Err(CasError::TooLarge { len: bytes.len() as u64 });
        }
        let actual = cid_of(&bytes);
        if actual != *cid {
            return Err(CasError::Tampered { expected: Box::new(*cid), actual: Box::new(actual) });
        }
        Ok(bytes)
    }

    /// Whether an object with this CID is stored and intact.
    pub fn contains(&self, cid: &Cid) -> bool {
        self.get(cid).is_ok()
    }
}

fn check_supported(cid: &Cid) -> Result<(), CasError> {
    let hash = cid.hash();
    let supported = cid.version() == cid::Version::V1
        && cid.codec() == RAW_CODEC
        && hash.code() == SHA2_256_CODE
        && hash.size() == 32;
    if supported {
        Ok(())
    } else {
        Err(CasError::UnsupportedCid(*cid))
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), CasError> {
    let mut file =
        OpenOptions::new().write(true).create_new(true).open(path).map_err(io_error("create", path))?;
    let written = file.write_all(bytes).and_then(|()| file.sync_all());
    if let Err(e) = written {
        // Best effort: the temporary file is garbage either way.
        let _ = fs::remove_file(path);
        return Err(io_error("write", path)(e));
    }
    Ok(())
}

fn io_error(operation: &'static str, path: &Path) -> impl FnOnce(io::Error) -> CasError {
    let path = path.to_path_buf();
    move |source| CasError::Io { operation, path, source }
}
