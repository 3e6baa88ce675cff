//! Snapshot files: the engine state at a point in the journal, so a restart replays only the
//! journal after it.
//!
//! This module owns the snapshot directory and the file format; the body is opaque bytes (the node
//! encodes its state with borsh). A snapshot with [`SnapshotMeta::seq`] `= s` covers every journal
//! record with seq `< s`: replay starts at `s`.
//!
//! # Files
//!
//! Each snapshot is one file `snapshot-{seq:020}.snap`, written as `*.snap.tmp`, synced, renamed
//! into place and the directory synced, so a crash leaves either the whole file or a `*.tmp`
//! leftover (removed by [`SnapshotStore::new`], ignored everywhere else). Layout, little-endian:
//!
//! | bytes  | field                | meaning                                      |
//! |--------|----------------------|----------------------------------------------|
//! | 0..8   | magic                | `b"ZKSNAP01"`                                |
//! | 8..12  | version `u32`        | [`SNAPSHOT_FORMAT_VERSION`]                  |
//! | 12..20 | seq `u64`            | first journal seq not covered                |
//! | 20..28 | batch_number `u64`   | last proven-batch number included            |
//! | 28..60 | root `[u8; 32]`      | state root at this point                     |
//! | 60..68 | body_len `u64`       | body length in bytes                         |
//! | 68..72 | crc `u32`            | CRC-32/IEEE of bytes 8..68, then the body    |
//! | 72..   | body                 | `body_len` opaque bytes; the file ends there |
//!
//! # Loading
//!
//! [`SnapshotStore::load_latest`] returns the newest snapshot that checks out; every newer file
//! that does not is reported in [`LoadedSnapshot::skipped`] with the reason, never skipped
//! silently. If snapshot files exist but none checks out it fails with
//! [`SnapshotError::NoValidSnapshot`] rather than pretend the store is empty.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// First bytes of every snapshot file.
pub const SNAPSHOT_MAGIC: [u8; 8] = *b"ZKSNAP01";
/// Version of the snapshot format written by this code; other versions are rejected.
pub const SNAPSHOT_FORMAT_VERSION: u32 = 1;
/// Size of the snapshot header in bytes.
pub const SNAPSHOT_HEADER_BYTES: usize = 72;
/// Default number of snapshots kept.
pub const DEFAULT_KEEP: usize = 2;
/// Largest number of snapshots a store may keep.
pub const MAX_KEEP: usize = 64;
/// Largest snapshot body: 4 GiB (bodies are read whole into memory).
pub const MAX_SNAPSHOT_BODY_BYTES: u64 = 4 << 30;

/// What a snapshot covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotMeta {
    /// First journal seq NOT covered: replay starts here.
    pub seq: u64,
    /// Number of the last batch included in the state.
    pub batch_number: u64,
    /// State root of the snapshotted state.
    pub root: [u8; 32],
    /// Body length in bytes; must equal the body passed to [`SnapshotStore::write`].
    pub bytes: u64,
}

/// A snapshot read back by [`SnapshotStore::load_latest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedSnapshot {
    /// The file it came from.
    pub path: PathBuf,
    /// Its metadata.
    pub meta: SnapshotMeta,
    /// Its body.
    pub body: Vec<u8>,
    /// Newer snapshot files that failed to check out, with the reason; the node must log them.
    pub skipped: Vec<(PathBuf, String)>,
}

/// Why a snapshot file does not check out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotCorruption {
    /// Shorter than the header.
    #[error("file is {len_bytes} bytes, shorter than the 72-byte header")]
    ShortHeader {
        /// File length.
        len_bytes: u64,
    },
    /// Does not start with `ZKSNAP01`.
    #[error("magic is not ZKSNAP01 (not a snapshot file)")]
    BadMagic,
    /// A format version this code cannot read.
    #[error("unsupported snapshot format version {version} (this build reads {SNAPSHOT_FORMAT_VERSION})")]
    UnsupportedVersion {
        /// Version found.
        version: u32,
    },
    /// The file length disagrees with the header's body length (a truncated or extended file).
    #[error("header says a {body_len_bytes}-byte body but the file holds {actual_bytes} body bytes")]
    LengthMismatch {
        /// Body length in the header.
        body_len_bytes: u64,
        /// Bytes after the header.
        actual_bytes: u64,
    },
    /// The checksum over metadata and body fails.
    #[error("checksum mismatch (stored {stored:#010x}, computed {computed:#010x})")]
    BadCrc {
        /// CRC in the header.
        stored: u32,
        /// CRC of the bytes on disk.
        computed: u32,
    },
    /// The header's seq differs from the file name.
    #[error("header seq {header_seq} differs from the file name")]
    NameSeqMismatch {
        /// Seq in the header.
        header_seq: u64,
    },
}

/// Errors of the snapshot store.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// An operating-system call failed.
    #[error("snapshot I/O error: {op} {path}: {source}")]
    Io {
        /// File or directory involved.
        path: PathBuf,
        /// What the store was doing.
        op: &'static str,
        /// The OS error.
        source: io::Error,
    },
    /// `keep` must be between 1 and [`MAX_KEEP`].
    #[error("snapshot store keep={keep} is invalid; it must be between 1 and {MAX_KEEP}")]
    InvalidKeep {
        /// The value given.
        keep: usize,
    },
    /// [`SnapshotMeta::bytes`] differs from the body length.
    #[error("snapshot meta says {meta_bytes} bytes but the body has {body_bytes}")]
    BodyLengthMismatch {
        /// `meta.bytes`.
        meta_bytes: u64,
        /// `body.len()`.
        body_bytes: u64,
    },
    /// The body exceeds [`MAX_SNAPSHOT_BODY_BYTES`].
    #[error("snapshot body of {body_bytes} bytes exceeds the limit of {MAX_SNAPSHOT_BODY_BYTES}")]
    BodyTooLarge {
        /// Body length.
        body_bytes: u64,
    },
    /// A snapshot file is damaged (from [`SnapshotStore::list`]).
    #[error("snapshot {path} is corrupt: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: SnapshotCorruption,
    },
    /// Snapshot files exist but none checks out; starting from an empty state would be wrong.
    #[error(
        "no valid snapshot in {dir}: {} file(s) failed to check out ({}); restore a snapshot \
         from a backup or replica",
        skipped.len(),
        describe_skipped(skipped)
    )]
    NoValidSnapshot {
        /// The snapshot directory.
        dir: PathBuf,
        /// Every file with its reason, newest first.
        skipped: Vec<(PathBuf, String)>,
    },
}

fn describe_skipped(skipped: &[(PathBuf, String)]) -> String {
    let parts: Vec<String> = skipped.iter().map(|(path, why)| format!("{}: {why}", path.display())).collect();
    parts.join("; ")
}

fn io_err<'a>(path: &'a Path, op: &'static str) -> impl FnOnce(io::Error) -> SnapshotError + 'a {
    move |source| SnapshotError::Io { path: path.to_path_buf(), op, source }
}

fn snapshot_file_name(seq: u64) -> String {
    format!("snapshot-{seq:020}.snap")
}

fn parse_snapshot_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("snapshot-")?.strip_suffix(".snap")?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn encode_header(meta: &SnapshotMeta, body: &[u8]) -> [u8; SNAPSHOT_HEADER_BYTES] {
    let mut out = [0u8; SNAPSHOT_HEADER_BYTES];
    out[0..8].copy_from_slice(&SNAPSHOT_MAGIC);
    out[8..12].copy_from_slice(&SNAPSHOT_FORMAT_VERSION.to_le_bytes());
    out[12..20].copy_from_slice(&meta.seq.to_le_bytes());
    out[20..28].copy_from_slice(&meta.batch_number.to_le_bytes());
    out[28..60].copy_from_slice(&meta.root);
    out[60..68].copy_from_slice(&meta.bytes.to_le_bytes());
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&out[8..68]);
    hasher.update(body);
    out[68..72].copy_from_slice(&hasher.finalize().to_le_bytes());
    out
}

fn read_u64(buf: &[u8], at: usize) -> u64 {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&buf[at..at + 8]);
    u64::from_le_bytes(bytes)
}

fn read_u32(buf: &[u8], at: usize) -> u32 {
    let mut bytes = [0u8; 4];
    bytes.copy_from_slice(&buf[at..at + 4]);
    u32::from_le_bytes(bytes)
}

/// Checks the header of a snapshot whose file is `file_len` bytes, without the body checksum.
fn decode_header(header: &[u8], file_len: u64) -> Result<SnapshotMeta, SnapshotCorruption> {
    if header.len() < SNAPSHOT_HEADER_BYTES {
        return Err(SnapshotCorruption::ShortHeader { len_bytes: header.len() as u64 });
    }
    if header[0..8] != SNAPSHOT_MAGIC {
        return Err(SnapshotCorruption::BadMagic);
    }
    let version = read_u32(header, 8);
    if version != SNAPSHOT_FORMAT_VERSION {
        return Err(SnapshotCorruption::UnsupportedVersion { version });
    }
    let body_len_bytes = read_u64(header, 60);
    let actual_bytes = file_len - SNAPSHOT_HEADER_BYTES as u64;
    if body_len_bytes != actual_bytes {
        return Err(SnapshotCorruption::LengthMismatch { body_len_bytes, actual_bytes });
    }
    let mut root = [0u8; 32];
    root.copy_from_slice(&header[28..60]);
    Ok(SnapshotMeta {
        seq: read_u64(header, 12),
        batch_number: read_u64(header, 20),
        root,
        bytes: body_len_bytes,
    })
}

/// Fully checks a snapshot file's bytes: header, length, checksum and name.
fn decode_file(bytes: &[u8], name_seq: u64) -> Result<SnapshotMeta, SnapshotCorruption> {
    let meta = decode_header(bytes, bytes.len() as u64)?;
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&bytes[8..68]);
    hasher.update(&bytes[SNAPSHOT_HEADER_BYTES..]);
    let computed = hasher.finalize();
    let stored = read_u32(bytes, 68);
    if computed != stored {
        return Err(SnapshotCorruption::BadCrc { stored, computed });
    }
    if meta.seq != name_seq {
        return Err(SnapshotCorruption::NameSeqMismatch { header_seq: meta.seq });
    }
    Ok(meta)
}

fn sync_dir(dir: &Path) -> Result<(), SnapshotError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io_err(dir, "fsync snapshot directory"))
}

/// The directory of snapshot files: atomic writes, pruning to the newest `keep`, and loading the
/// newest one that checks out.
///
/// ```no_run
/// use zkclob_node::snapshot::{SnapshotMeta, SnapshotStore};
/// # fn main() -> Result<(), zkclob_node::snapshot::SnapshotError> {
/// let store = SnapshotStore::new("/var/lib/zkclob/snapshots", 2)?;
/// let body = b"borsh-encoded state".to_vec();
/// let meta = SnapshotMeta { seq: 1001, batch_number: 7, root: [0; 32], bytes: body.len() as u64 };
/// store.write(&meta, &body)?;
/// if let Some(loaded) = store.load_latest()? {
///     assert_eq!(loaded.meta.seq, 1001); // replay the journal from seq 1001
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct SnapshotStore {
    dir: PathBuf,
    keep: usize,
}

impl SnapshotStore {
    /// Opens the store in `dir` (created if missing) keeping the newest `keep` snapshots
    /// (1..=[`MAX_KEEP`]; [`DEFAULT_KEEP`] is 2), and removes `*.tmp` leftovers of interrupted
    /// writes.
    pub fn new(dir: impl Into<PathBuf>, keep: usize) -> Result<Self, SnapshotError> {
        if keep == 0 || keep > MAX_KEEP {
            return Err(SnapshotError::InvalidKeep { keep });
        }
        let dir = dir.into();
        if !dir.is_dir() {
            fs::create_dir_all(&dir).map_err(io_err(&dir, "create snapshot directory"))?;
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                sync_dir(parent)?;
            }
        }
        let mut removed = false;
        for entry in fs::read_dir(&dir).map_err(io_err(&dir, "list snapshot directory"))? {
            let entry = entry.map_err(io_err(&dir, "list snapshot directory"))?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with("snapshot-") && name.ends_with(".tmp") {
                let path = entry.path();
                fs::remove_file(&path).map_err(io_err(&path, "remove leftover"))?;
                removed = true;
            }
        }
        if removed {
            sync_dir(&dir)?;
        }
        Ok(SnapshotStore { dir, keep })
    }

    /// The snapshot directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes a snapshot atomically (tmp file, write, fsync, rename to
    /// `snapshot-{seq:020}.snap`, fsync directory; an existing snapshot with the same seq is
    /// replaced), then deletes the oldest snapshots beyond `keep`, never the one just written.
    /// Returns the file's path. `meta.bytes` must equal `body.len()`.
    pub fn write(&self, meta: &SnapshotMeta, body: &[u8]) -> Result<PathBuf, SnapshotError> {
        let body_bytes = body.len() as u64;
        if meta.bytes != body_bytes {
            return Err(SnapshotError::BodyLengthMismatch { meta_bytes: meta.bytes, body_bytes });
        }
        if body_bytes > MAX_SNAPSHOT_BODY_BYTES {
            return Err(SnapshotError::BodyTooLarge { body_bytes });
        }
        let path = self.dir.join(snapshot_file_name(meta.seq));
        let tmp = path.with_extension("snap.tmp");
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .map_err(io_err(&tmp, "create snapshot"))?;
        file.write_all(&encode_header(meta, body)).map_err(io_err(&tmp, "write snapshot"))?;
        file.write_all(body).map_err(io_err(&tmp, "write snapshot"))?;
        file.sync_all().map_err(io_err(&tmp, "fsync snapshot"))?;
        drop(file);
        fs::rename(&tmp, &path).map_err(io_err(&path, "rename snapshot into"))?;
        sync_dir(&self.dir)?;
        self.prune(meta.seq)?;
        Ok(path)
    }

    /// Snapshot files by name: `(seq, path)`, newest first.
    fn files_newest_first(&self) -> Result<Vec<(u64, PathBuf)>, SnapshotError> {
        let mut files = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(io_err(&self.dir, "list snapshot directory"))? {
            let entry = entry.map_err(io_err(&self.dir, "list snapshot directory"))?;
            if let Some(seq) = entry.file_name().to_str().and_then(parse_snapshot_name) {
                files.push((seq, entry.path()));
            }
        }
        files.sort_by_key(|&(seq, _)| std::cmp::Reverse(seq));
        Ok(files)
    }

    fn prune(&self, written_seq: u64) -> Result<(), SnapshotError> {
        let mut removed = false;
        for (seq, path) in self.files_newest_first()?.into_iter().skip(self.keep) {
            if seq != written_seq {
                fs::remove_file(&path).map_err(io_err(&path, "delete old snapshot"))?;
                removed = true;
            }
        }
        if removed {
            sync_dir(&self.dir)?;
        }
        Ok(())
    }

    /// The newest snapshot whose header, length and checksum check out. Newer files that do not
    /// are listed in [`LoadedSnapshot::skipped`]. `Ok(None)` only when there are no snapshot
    /// files at all; [`SnapshotError::NoValidSnapshot`] when there are but none is valid.
    pub fn load_latest(&self) -> Result<Option<LoadedSnapshot>, SnapshotError> {
        let mut skipped = Vec::new();
        for (seq, path) in self.files_newest_first()? {
            let bytes = fs::read(&path).map_err(io_err(&path, "read snapshot"))?;
            match decode_file(&bytes, seq) {
                Ok(meta) => {
                    let body = bytes[SNAPSHOT_HEADER_BYTES..].to_vec();
                    return Ok(Some(LoadedSnapshot { path, meta, body, skipped }));
                }
                Err(reason) => skipped.push((path, reason.to_string())),
            }
        }
        if skipped.is_empty() {
            Ok(None)
        } else {
            Err(SnapshotError::NoValidSnapshot { dir: self.dir.clone(), skipped })
        }
    }

    /// Every snapshot file with its metadata, oldest first. Reads only headers: magic, version,
    /// name and the file length are checked, the body checksum is not ([`Self::load_latest`]
    /// checks it). A file whose header does not check out is an error naming it.
    pub fn list(&self) -> Result<Vec<(PathBuf, SnapshotMeta)>, SnapshotError> {
        let mut out = Vec::new();
        for (seq, path) in self.files_newest_first()?.into_iter().rev() {
            let meta = read_header(&path)?;
            if meta.seq != seq {
                let reason = SnapshotCorruption::NameSeqMismatch { header_seq: meta.seq };
                return Err(SnapshotError::Corrupt { path, reason });
            }
            out.push((path, meta));
        }
        Ok(out)
    }
}

fn read_header(path: &Path) -> Result<SnapshotMeta, SnapshotError> {
    use std::io::Read;
    let file = File::open(path).map_err(io_err(path, "open snapshot"))?;
    let file_len = file.metadata().map_err(io_err(path, "stat snapshot"))?.len();
    let mut header = Vec::with_capacity(SNAPSHOT_HEADER_BYTES);
    file.take(SNAPSHOT_HEADER_BYTES as u64)
        .read_to_end(&mut header)
        .map_err(io_err(path, "read snapshot"))?;
    decode_header(&header, file_len)
        .map_err(|reason| SnapshotError::Corrupt { path: path.to_path_buf(), reason })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_names_are_exactly_twenty_digits() {
        assert_eq!(snapshot_file_name(5), "snapshot-00000000000000000005.snap");
        assert_eq!(parse_snapshot_name("snapshot-00000000000000000005.snap"), Some(5));
        assert_eq!(parse_snapshot_name("snapshot-5.snap"), None);
        assert_eq!(parse_snapshot_name("snapshot-00000000000000000005.snap.tmp"), None);
    }

    #[test]
    fn header_flip_anywhere_fails_the_full_check() {
        let body = b"state".to_vec();
        let meta = SnapshotMeta { seq: 3, batch_number: 4, root: [9; 32], bytes: 5 };
        let mut file = encode_header(&meta, &body).to_vec();
        file.extend_from_slice(&body);
        assert_eq!(decode_file(&file, 3), Ok(meta));
        for i in 0..file.len() {
            let mut bad = file.clone();
            bad[i] ^= 0x10;
            assert!(decode_file(&bad, 3).is_err(), "flip at byte {i} accepted");
        }
        assert_eq!(decode_file(&file, 4), Err(SnapshotCorruption::NameSeqMismatch { header_seq: 3 }));
    }
}
