//! The durable command journal (write-ahead log) of the node.
//!
//! The engine appends every command it accepts as an opaque payload (the node encodes its own
//! records with borsh), calls [`Journal::commit`] once for a group of records ("group commit": one
//! `write` and one `fdatasync`), and only then acknowledges those commands. On restart the node
//! loads the latest snapshot and replays the journal from the snapshot's sequence number with
//! [`Journal::read_from`]. This module owns the files under [`JournalConfig::dir`] and nothing else:
//! it knows nothing about payloads, logs nothing (the node logs the [`RecoveryReport`]) and never
//! depends on the engine.
//!
//! # Files
//!
//! The journal is a run of segment files named `{first_seq:020}.wal` (the sequence number of the
//! segment's first record, zero-padded so names sort by sequence). Sequence numbers are
//! consecutive within and across segments. Only the last segment is ever written; when it would
//! grow past [`JournalConfig::segment_bytes`] a new segment is created (as `*.wal.tmp`, synced,
//! renamed into place, directory synced), so a segment file never exists with a partial header.
//!
//! Segment header, 32 bytes, little-endian:
//!
//! | bytes  | field              | meaning                                                    |
//! |--------|--------------------|------------------------------------------------------------|
//! | 0..8   | magic              | `b"ZKJRNL01"`                                              |
//! | 8..12  | version `u32`      | [`FORMAT_VERSION`]                                         |
//! | 12..16 | max_record `u32`   | largest payload the writer allowed; bigger lengths are bad |
//! | 16..24 | first_seq `u64`    | seq of the first record; equals the file name              |
//! | 24..28 | reserved `u32`     | zero                                                       |
//! | 28..32 | crc `u32`          | CRC-32/IEEE of bytes 0..28                                 |
//!
//! Then records, back to back, each a 16-byte header and the payload:
//!
//! | bytes   | field        | meaning                                                   |
//! |---------|--------------|-----------------------------------------------------------|
//! | 0..4    | len `u32`    | payload length in bytes                                   |
//! | 4..8    | crc `u32`    | CRC-32/IEEE of `len` bytes, `seq` bytes, payload          |
//! | 8..16   | seq `u64`    | sequence number                                           |
//! | 16..    | payload      | `len` opaque bytes                                        |
//!
//! # Torn tail or corruption
//!
//! A crash while writing leaves at most one damaged region, at the very end of the last segment:
//! a partial record header, a partial payload, or a final record whose checksum fails (possibly
//! followed by zeros or other garbage). Anything else is damage to data that may have been
//! acknowledged. The rule, applied when a record at byte offset `X` fails to validate:
//!
//! 1. In a segment that is not the last one, it is [`JournalError::Corrupt`]. A sealed segment was
//!    synced before the next one was created, so no crash can leave it torn.
//! 2. A record whose checksum is valid but whose seq is not the expected one is corrupt.
//! 3. In the last segment, scan every byte position after `X` for a record that fully validates
//!    (length within the segment's limit, payload inside the file, checksum correct) with a seq
//!    at least the expected one and at most what could fit in the bytes from `X` on (each record
//!    takes at least 16 bytes; the bound keeps the scan linear on random garbage). If one is
//!    found, valid data follows the damage: corrupt. Otherwise it is a torn tail: [`Journal::open`]
//!    truncates the file to `X`, syncs it, and reports it in [`RecoveryReport::truncated_tail`].
//!
//! 0. Before these: in the last segment, if every byte from `X` to the end of the file is zero,
//!    `X` is simply the end of the records. With [`JournalConfig::preallocate_bytes`] the writer
//!    keeps up to that many zeros written ahead of its last record, so that a commit into them
//!    changes no file size (its `fdatasync` then writes the data alone); records are written
//!    over the zeros. Nothing is reported or truncated, and appends continue at `X`. A sealed
//!    segment is cut back to its last record (and synced) before the next segment exists, so
//!    zeros there still fall under rule 1. This rule cannot hide an acknowledged record: a
//!    record that was synced reads back as written, never as zeros; what it gives up is telling
//!    a crash that left a record's bytes unwritten apart from no record at all — both mean the
//!    record was not acknowledged.
//!
//! Rule 3 is conservative: a crash in the middle of one large unsynced write whose pages reached
//! the disk out of order can also leave valid records after a damaged one. The journal cannot tell
//! that apart from damage to acknowledged data, so it refuses to open and the error tells the
//! operator which file and offset to look at; nothing is ever truncated in that case. A missing or
//! shortened middle segment shows up as [`JournalError::SeqGap`] or as a corrupt sealed segment.
//!
//! # Durability contract
//!
//! - [`Journal::append`] only buffers in memory; nothing is durable before [`Journal::commit`].
//! - After `commit` returns `Ok` under [`FsyncPolicy::Always`], every appended record is on stable
//!   storage (the segment was `fdatasync`ed; new segments and their directory entries were synced).
//! - If `commit` returns `Err`, the caller must treat it as fatal: stop acknowledging, crash and
//!   recover from disk. After a failed `write` or `fdatasync` the page-cache state is unknown, so
//!   the journal refuses further appends and commits ([`JournalError::Poisoned`]).
//! - Records still buffered when the [`Journal`] is dropped are discarded.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// First bytes of every segment file.
pub const SEGMENT_MAGIC: [u8; 8] = *b"ZKJRNL01";
/// Version of the segment format written by this code; other versions are rejected.
pub const FORMAT_VERSION: u32 = 1;
/// Size of the segment header in bytes.
pub const SEGMENT_HEADER_BYTES: usize = 32;
/// Size of a record header (`len`, `crc`, `seq`) in bytes.
pub const RECORD_HEADER_BYTES: usize = 16;
/// Default size at which the journal moves on to a new segment: 64 MiB.
pub const DEFAULT_SEGMENT_BYTES: u64 = 64 << 20;
/// Largest accepted [`JournalConfig::preallocate_bytes`].
pub const MAX_PREALLOCATE_BYTES: u64 = 64 << 20;
/// Largest accepted [`JournalConfig::segment_bytes`]: 1 GiB (segments are read whole into memory).
pub const MAX_SEGMENT_BYTES: u64 = 1 << 30;
/// Default largest payload: 1 MiB.
pub const DEFAULT_MAX_RECORD_BYTES: u32 = 1 << 20;
/// Largest accepted [`JournalConfig::max_record_bytes`]: 64 MiB.
pub const MAX_RECORD_BYTES_LIMIT: u32 = 64 << 20;
/// Default limit on bytes buffered by [`Journal::append`] before a commit: 64 MiB.
pub const DEFAULT_MAX_PENDING_BYTES: u64 = 64 << 20;
/// A segment file longer than this cannot have been written by this code.
const MAX_SEGMENT_FILE_BYTES: u64 = MAX_SEGMENT_BYTES
    + SEGMENT_HEADER_BYTES as u64
    + RECORD_HEADER_BYTES as u64
    + MAX_RECORD_BYTES_LIMIT as u64;

/// When [`Journal::commit`] forces data to stable storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FsyncPolicy {
    /// `fdatasync` the segment on every commit, and sync new segments and the directory. The only
    /// policy that keeps the durability contract.
    #[default]
    Always,
    /// Never sync. Unsafe for durability: a power loss can lose acknowledged records. Only for
    /// tests and benchmarks.
    Never,
}

/// Where and how the journal is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalConfig {
    /// Directory holding the segment files; created if missing. The journal owns it.
    pub dir: PathBuf,
    /// A segment stops taking records once the next one would take it past this size (a single
    /// record larger than this still gets a segment of its own). Default [`DEFAULT_SEGMENT_BYTES`].
    pub segment_bytes: u64,
    /// Whether commits sync; default [`FsyncPolicy::Always`].
    pub fsync: FsyncPolicy,
    /// Largest payload [`Journal::append`] accepts; recorded in each new segment's header, where a
    /// larger length on read is corruption. Default [`DEFAULT_MAX_RECORD_BYTES`].
    pub max_record_bytes: u32,
    /// Largest number of bytes (headers included) buffered between commits; an append past it is
    /// refused. Default [`DEFAULT_MAX_PENDING_BYTES`].
    pub max_pending_bytes: u64,
    /// Zeros written ahead of the last record, this many bytes at a time (0: none, the
    /// default). A commit into space already written then changes no file size, and its
    /// `fdatasync` writes the data alone: on this kind of disk about 40% less time and a third
    /// less CPU per commit. The zeros after the last record of the last segment are its end,
    /// not a torn tail; a sealed segment is cut back to its records before the next one starts.
    pub preallocate_bytes: u64,
    /// Seq of the first record when [`Journal::open`] creates a brand-new journal in an empty
    /// directory (for example `snapshot.seq` when a snapshot covers everything before). Ignored
    /// when segments exist: they decide; compare [`RecoveryReport::next_seq`]. Default 1.
    pub first_seq: u64,
}

impl JournalConfig {
    /// A configuration with the defaults: 64 MiB segments, fsync on every commit, 1 MiB records,
    /// first seq 1.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        JournalConfig {
            dir: dir.into(),
            segment_bytes: DEFAULT_SEGMENT_BYTES,
            fsync: FsyncPolicy::Always,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            max_pending_bytes: DEFAULT_MAX_PENDING_BYTES,
            preallocate_bytes: 0,
            first_seq: 1,
        }
    }

    fn validate(&self) -> Result<(), JournalError> {
        let invalid = |reason| Err(JournalError::InvalidConfig { reason });
        if self.segment_bytes <= SEGMENT_HEADER_BYTES as u64 || self.segment_bytes > MAX_SEGMENT_BYTES {
            return invalid("segment_bytes must be above the 32-byte segment header and at most 1 GiB");
        }
        if self.max_record_bytes == 0 || self.max_record_bytes > MAX_RECORD_BYTES_LIMIT {
            return invalid("max_record_bytes must be between 1 and 64 MiB");
        }
        if self.max_pending_bytes < RECORD_HEADER_BYTES as u64 + u64::from(self.max_record_bytes) {
            return invalid("max_pending_bytes must hold at least one record of max_record_bytes");
        }
        if self.first_seq == 0 {
            return invalid("first_seq must be at least 1 (seq 0 is never used)");
        }
        if self.preallocate_bytes > MAX_PREALLOCATE_BYTES {
            return invalid("preallocate_bytes must be at most 64 MiB");
        }
        Ok(())
    }
}

/// Why the end of the last segment did not validate; see [`TornTail`] and [`CorruptReason`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RecordFault {
    /// Fewer than 16 bytes left for a record header.
    #[error("partial record header ({available_bytes} of 16 bytes)")]
    PartialHeader {
        /// Bytes present.
        available_bytes: u64,
    },
    /// The header claims a payload longer than the segment allows.
    #[error("record length {len_bytes} exceeds the segment's limit of {max_bytes} bytes")]
    LengthTooLarge {
        /// Claimed payload length.
        len_bytes: u32,
        /// The segment's `max_record` header field.
        max_bytes: u32,
    },
    /// The payload runs past the end of the file.
    #[error("partial payload ({available_bytes} of {len_bytes} bytes)")]
    PartialPayload {
        /// Claimed payload length.
        len_bytes: u32,
        /// Payload bytes present.
        available_bytes: u64,
    },
    /// The checksum does not match the header and payload.
    #[error("checksum mismatch (stored {stored:#010x}, computed {computed:#010x})")]
    BadCrc {
        /// CRC stored in the record header.
        stored: u32,
        /// CRC computed from the bytes on disk.
        computed: u32,
    },
}

/// What is wrong in a corrupt journal; carried by [`JournalError::Corrupt`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CorruptReason {
    /// A `*.wal` file whose name is not 20 decimal digits.
    #[error("file name is not `{{first_seq:020}}.wal`")]
    BadSegmentName,
    /// The file is shorter than a segment header.
    #[error("segment is {len_bytes} bytes, shorter than the 32-byte segment header")]
    ShortSegmentHeader {
        /// File length.
        len_bytes: u64,
    },
    /// The file does not start with `ZKJRNL01`.
    #[error("segment header magic is not ZKJRNL01 (not a journal segment)")]
    BadMagic,
    /// The segment header checksum fails.
    #[error("segment header checksum mismatch")]
    BadHeaderCrc,
    /// A format version this code cannot read.
    #[error("unsupported segment format version {version} (this build reads {FORMAT_VERSION})")]
    UnsupportedVersion {
        /// Version found.
        version: u32,
    },
    /// A header field holds an impossible value.
    #[error("segment header field `{field}` is out of range")]
    InvalidHeaderField {
        /// Field name.
        field: &'static str,
    },
    /// The header's first seq differs from the file name.
    #[error("segment header says first seq {header_seq}, which differs from the file name")]
    NameSeqMismatch {
        /// First seq stored in the header.
        header_seq: u64,
    },
    /// The file is larger than any segment this code writes.
    #[error("segment file is {len_bytes} bytes, larger than any segment this journal writes")]
    SegmentTooLarge {
        /// File length.
        len_bytes: u64,
    },
    /// A bad record in a segment that later segments follow; a crash cannot cause that.
    #[error("{fault} in a sealed segment (later segments exist, so this is not a torn write)")]
    BadRecordInSealedSegment {
        /// What failed.
        fault: RecordFault,
    },
    /// A bad record in the last segment with a valid record after it.
    #[error(
        "{fault}, but a valid record (seq {valid_seq}) follows at byte offset {valid_offset}, \
         so this is damage inside written data, not a torn write"
    )]
    BadRecordBeforeValidRecord {
        /// What failed.
        fault: RecordFault,
        /// Offset of the valid record found after the damage.
        valid_offset: u64,
        /// Its seq.
        valid_seq: u64,
    },
    /// A record with a valid checksum but not the next sequence number.
    #[error("record has a valid checksum but seq {found}, not the expected one")]
    UnexpectedSeq {
        /// Seq stored in the record.
        found: u64,
    },
}

/// The damaged end of the last segment, as found (and cut off) by [`Journal::open`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    /// The segment file.
    pub path: PathBuf,
    /// Byte offset of the first bad byte: the end of the last good record. `open` truncates here.
    pub offset: u64,
    /// Bytes from `offset` to the end of the file, dropped by the truncation.
    pub bytes_dropped: u64,
    /// The seq the damaged record would have had: the journal continues from it.
    pub seq: u64,
    /// Why the record at `offset` did not validate.
    pub fault: RecordFault,
}

impl std::fmt::Display for TornTail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "torn tail in {} at byte offset {} (record seq {}): {}; {} bytes of an unfinished write dropped",
            self.path.display(),
            self.offset,
            self.seq,
            self.fault,
            self.bytes_dropped
        )
    }
}

/// What [`Journal::open`] found; the node logs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Segment files in the journal after recovery.
    pub segments: usize,
    /// Valid records in all segments.
    pub records: u64,
    /// Seq of the oldest retained record (or where an empty journal starts).
    pub first_seq: u64,
    /// Seq the next appended record gets.
    pub next_seq: u64,
    /// Whether the directory held no segments and a new journal was created.
    pub created: bool,
    /// Leftover `*.wal.tmp` files from an interrupted segment creation, and pruned segments a
    /// stop interrupted before they were deleted (`*.wal.pruned`), removed.
    pub removed_tmp_files: usize,
    /// The torn tail cut off the last segment, if any.
    pub truncated_tail: Option<TornTail>,
}

/// What one [`Journal::commit`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CommitStats {
    /// Records written.
    pub records: usize,
    /// Bytes written, record headers included.
    pub bytes: usize,
    /// Time spent in `fdatasync`, in nanoseconds (0 under [`FsyncPolicy::Never`]).
    pub fsync_nanos: u64,
    /// New segments created by this commit.
    pub segments_created: usize,
}

/// Errors of the journal. Every message names the file and, for damage, the byte offset.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// An operating-system call failed.
    #[error("journal I/O error: {op} {path}: {source}")]
    Io {
        /// File or directory involved.
        path: PathBuf,
        /// What the journal was doing.
        op: &'static str,
        /// The OS error.
        source: io::Error,
    },
    /// Damage that is not a torn tail; nothing was changed on disk.
    #[error(
        "journal corrupt: {path} at byte offset {offset}{}: {reason}. Nothing was changed on disk. \
         Restore the journal directory from a backup or replica; only if losing this record and \
         every later one is acceptable, truncate this file to {offset} bytes, move all later \
         segment files away, and restart",
        seq_note(.seq)
    )]
    Corrupt {
        /// The segment file.
        path: PathBuf,
        /// Byte offset of the damage within the file.
        offset: u64,
        /// The seq expected at that offset, when known.
        seq: Option<u64>,
        /// What is wrong.
        reason: CorruptReason,
    },
    /// A segment does not start right after the previous one ends.
    #[error(
        "journal seq gap: {path} starts at seq {found} but the previous segment ends before seq \
         {expected}; a segment is missing or was truncated. Nothing was changed on disk; restore \
         the missing records from a backup or replica"
    )]
    SeqGap {
        /// The segment after the gap.
        path: PathBuf,
        /// The seq that should start it.
        expected: u64,
        /// The seq that does.
        found: u64,
    },
    /// A payload longer than [`JournalConfig::max_record_bytes`]; the journal is unchanged.
    #[error("journal record of {len_bytes} bytes exceeds the limit of {max_bytes} bytes")]
    RecordTooLarge {
        /// Payload length.
        len_bytes: usize,
        /// The limit.
        max_bytes: u32,
    },
    /// Appending would buffer more than [`JournalConfig::max_pending_bytes`]; commit first.
    #[error("journal has {pending_bytes} uncommitted bytes, at the limit of {limit_bytes}; commit first")]
    PendingFull {
        /// Bytes buffered.
        pending_bytes: u64,
        /// The limit.
        limit_bytes: u64,
    },
    /// Sequence numbers are exhausted (`u64::MAX`).
    #[error("journal sequence numbers exhausted")]
    SeqExhausted,
    /// [`Journal::read_from`] asked for records already pruned.
    #[error("journal {dir} starts at seq {first_seq}; records from seq {from} were pruned or never existed")]
    SeqNotAvailable {
        /// Journal directory.
        dir: PathBuf,
        /// Requested start.
        from: u64,
        /// Oldest retained seq.
        first_seq: u64,
    },
    /// [`Journal::read_from`] asked to start past the end of the journal.
    #[error("journal {dir} ends before seq {next_seq}; cannot replay from seq {from}")]
    SeqBeyondEnd {
        /// Journal directory.
        dir: PathBuf,
        /// Requested start.
        from: u64,
        /// Seq after the last committed record.
        next_seq: u64,
    },
    /// [`Journal::read_from`] found no segment files.
    #[error("no journal segments (*.wal) in {dir}")]
    NoSegments {
        /// The directory.
        dir: PathBuf,
    },
    /// The configuration is unusable.
    #[error("invalid journal configuration: {reason}")]
    InvalidConfig {
        /// What is wrong.
        reason: &'static str,
    },
    /// An earlier commit failed; the on-disk state is unknown.
    #[error(
        "journal unusable after an earlier failed commit (on-disk state unknown); restart the \
         node so it recovers from disk"
    )]
    Poisoned,
}

fn seq_note(seq: &Option<u64>) -> String {
    seq.map(|s| format!(" (record seq {s})")).unwrap_or_default()
}

fn io_err<'a>(path: &'a Path, op: &'static str) -> impl FnOnce(io::Error) -> JournalError + 'a {
    move |source| JournalError::Io { path: path.to_path_buf(), op, source }
}

// ---------------------------------------------------------------------------------------------
// Byte layout.

#[derive(Debug, Clone, Copy)]
struct SegmentHeader {
    first_seq: u64,
    max_record_bytes: u32,
}

fn encode_segment_header(header: SegmentHeader) -> [u8; SEGMENT_HEADER_BYTES] {
    let mut out = [0u8; SEGMENT_HEADER_BYTES];
    out[0..8].copy_from_slice(&SEGMENT_MAGIC);
    out[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    out[12..16].copy_from_slice(&header.max_record_bytes.to_le_bytes());
    out[16..24].copy_from_slice(&header.first_seq.to_le_bytes());
    let crc = crc32fast::hash(&out[0..28]);
    out[28..32].copy_from_slice(&crc.to_le_bytes());
    out
}

fn decode_segment_header(buf: &[u8]) -> Result<SegmentHeader, CorruptReason> {
    if buf.len() < SEGMENT_HEADER_BYTES {
        return Err(CorruptReason::ShortSegmentHeader { len_bytes: buf.len() as u64 });
    }
    if buf[0..8] != SEGMENT_MAGIC {
        return Err(CorruptReason::BadMagic);
    }
    if crc32fast::hash(&buf[0..28]) != read_u32(buf, 28) {
        return Err(CorruptReason::BadHeaderCrc);
    }
    let version = read_u32(buf, 8);
    if version != FORMAT_VERSION {
        return Err(CorruptReason::UnsupportedVersion { version });
    }
    let max_record_bytes = read_u32(buf, 12);
    if max_record_bytes == 0 || max_record_bytes > MAX_RECORD_BYTES_LIMIT {
        return Err(CorruptReason::InvalidHeaderField { field: "max_record" });
    }
    let first_seq = read_u64(buf, 16);
    if first_seq == 0 {
        return Err(CorruptReason::InvalidHeaderField { field: "first_seq" });
    }
    if read_u32(buf, 24) != 0 {
        return Err(CorruptReason::InvalidHeaderField { field: "reserved" });
    }
    Ok(SegmentHeader { first_seq, max_record_bytes })
}

fn read_u32(buf: &[u8], at: usize) -> u32 {
    let mut bytes = [0u8; 4];
    bytes.copy_from_slice(&buf[at..at + 4]);
    u32::from_le_bytes(bytes)
}

fn read_u64(buf: &[u8], at: usize) -> u64 {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&buf[at..at + 8]);
    u64::from_le_bytes(bytes)
}

fn record_crc(len: u32, seq: u64, payload: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&len.to_le_bytes());
    hasher.update(&seq.to_le_bytes());
    hasher.update(payload);
    hasher.finalize()
}

/// Why one record did not validate.
#[derive(Debug, Clone, Copy)]
enum BadRecord {
    Fault(RecordFault),
    WrongSeq { found: u64 },
}

/// Validates the record at `off`; returns its total size (header + payload).
fn check_record(buf: &[u8], off: usize, expected_seq: u64, max_len: u32) -> Result<usize, BadRecord> {
    let rest = &buf[off..];
    if rest.len() < RECORD_HEADER_BYTES {
        let available_bytes = rest.len() as u64;
        return Err(BadRecord::Fault(RecordFault::PartialHeader { available_bytes }));
    }
    let len = read_u32(rest, 0);
    if len > max_len {
        return Err(BadRecord::Fault(RecordFault::LengthTooLarge { len_bytes: len, max_bytes: max_len }));
    }
    let total = RECORD_HEADER_BYTES + len as usize;
    if rest.len() < total {
        let available_bytes = (rest.len() - RECORD_HEADER_BYTES) as u64;
        return Err(BadRecord::Fault(RecordFault::PartialPayload { len_bytes: len, available_bytes }));
    }
    let stored = read_u32(rest, 4);
    let seq = read_u64(rest, 8);
    let computed = record_crc(len, seq, &rest[RECORD_HEADER_BYTES..total]);
    if computed != stored {
        return Err(BadRecord::Fault(RecordFault::BadCrc { stored, computed }));
    }
    if seq != expected_seq {
        return Err(BadRecord::WrongSeq { found: seq });
    }
    Ok(total)
}

/// Looks for any fully valid record starting after `bad_off` with a seq that could follow the
/// damage; see rule 3 in the module doc. Returns its offset and seq.
fn find_valid_record_after(
    buf: &[u8],
    bad_off: usize,
    expected_seq: u64,
    max_len: u32,
) -> Option<(usize, u64)> {
    if buf.len() < RECORD_HEADER_BYTES {
        return None;
    }
    let max_seq = expected_seq.saturating_add(((buf.len() - bad_off) / RECORD_HEADER_BYTES) as u64);
    for at in bad_off + 1..=buf.len() - RECORD_HEADER_BYTES {
        let seq = read_u64(buf, at + 8);
        if seq < expected_seq || seq > max_seq {
            continue;
        }
        let len = read_u32(buf, at);
        if len > max_len || buf.len() - at - RECORD_HEADER_BYTES < len as usize {
            continue;
        }
        let payload = &buf[at + RECORD_HEADER_BYTES..at + RECORD_HEADER_BYTES + len as usize];
        if record_crc(len, seq, payload) == read_u32(buf, at + 4) {
            return Some((at, seq));
        }
    }
    None
}

/// Decides between torn tail and corruption for a bad record at `off`.
fn classify_bad_record(
    path: &Path,
    buf: &[u8],
    off: usize,
    seq: u64,
    bad: BadRecord,
    max_len: u32,
    is_last: bool,
) -> Result<TornTail, JournalError> {
    let corrupt = |reason| JournalError::Corrupt {
        path: path.to_path_buf(),
        offset: off as u64,
        seq: Some(seq),
        reason,
    };
    let fault = match bad {
        BadRecord::WrongSeq { found } => return Err(corrupt(CorruptReason::UnexpectedSeq { found })),
        BadRecord::Fault(fault) => fault,
    };
    if !is_last {
        return Err(corrupt(CorruptReason::BadRecordInSealedSegment { fault }));
    }
    if let Some((valid_offset, valid_seq)) = find_valid_record_after(buf, off, seq, max_len) {
        let valid_offset = valid_offset as u64;
        return Err(corrupt(CorruptReason::BadRecordBeforeValidRecord { fault, valid_offset, valid_seq }));
    }
    Ok(TornTail {
        path: path.to_path_buf(),
        offset: off as u64,
        bytes_dropped: (buf.len() - off) as u64,
        seq,
        fault,
    })
}

// ---------------------------------------------------------------------------------------------
// Directory handling.

#[derive(Debug, Clone)]
struct SegmentFile {
    first_seq: u64,
    path: PathBuf,
}

fn segment_path(dir: &Path, first_seq: u64) -> PathBuf {
    dir.join(format!("{first_seq:020}.wal"))
}

fn parse_segment_name(name: &str) -> Option<u64> {
    let stem = name.strip_suffix(".wal")?;
    if stem.len() != 20 || !stem.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    stem.parse().ok().filter(|&seq| seq > 0)
}

/// Segment files sorted by first seq, and leftover `*.wal.tmp` files.
fn list_dir(dir: &Path) -> Result<(Vec<SegmentFile>, Vec<PathBuf>), JournalError> {
    let mut segments = Vec::new();
    let mut tmp_files = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err(dir, "list journal directory"))? {
        let entry = entry.map_err(io_err(dir, "list journal directory"))?;
        let path = entry.path();
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else { continue };
        if name.ends_with(".wal.tmp") || name.ends_with(PRUNED_SUFFIX) {
            tmp_files.push(path);
        } else if name.ends_with(".wal") {
            let Some(first_seq) = parse_segment_name(&name) else {
                return Err(JournalError::Corrupt {
                    path,
                    offset: 0,
                    seq: None,
                    reason: CorruptReason::BadSegmentName,
                });
            };
            segments.push(SegmentFile { first_seq, path });
        }
    }
    segments.sort_by_key(|s| s.first_seq);
    Ok((segments, tmp_files))
}

/// The name ending of a segment [`Journal::prune_before`] dropped and has not yet deleted.
const PRUNED_SUFFIX: &str = ".wal.pruned";

/// Bytes cut off a pruned segment at a time.
const PRUNE_STEP: u64 = 1 << 20;

/// The pause between two cuts.
const PRUNE_PAUSE: std::time::Duration = std::time::Duration::from_millis(2);

/// Deletes dropped segments on a thread of its own, in the idle scheduling class, shortening
/// each by [`PRUNE_STEP`] every [`PRUNE_PAUSE`] before removing it: freeing (and, on a disk
/// mounted with `discard`, trimming) a megabyte at a time keeps the device free for the
/// journal's commits, as RocksDB's rate-limited deletion does. The thread starts with the first
/// deletion and ends when the journal is dropped, once its queue is empty; whatever it has not
/// deleted by then, the next [`Journal::open`] removes.
#[derive(Debug, Default)]
struct Pruner(Option<std::sync::mpsc::Sender<PathBuf>>);

impl Pruner {
    fn delete(&mut self, path: PathBuf) {
        if self.0.is_none() {
            let (tx, rx) = std::sync::mpsc::channel::<PathBuf>();
            let spawned = std::thread::Builder::new().name("zkclob-prune".into()).spawn(move || {
                crate::sched::background();
                for path in rx {
                    shrink_and_remove(&path, PRUNE_PAUSE);
                }
            });
            if spawned.is_ok() {
                self.0 = Some(tx);
            }
        }
        match &self.0 {
            Some(tx) => {
                if let Err(std::sync::mpsc::SendError(path)) = tx.send(path) {
                    shrink_and_remove(&path, std::time::Duration::ZERO);
                }
            }
            None => shrink_and_remove(&path, std::time::Duration::ZERO),
        }
    }
}

/// Shortens `path` by [`PRUNE_STEP`] at a time, `pause` apart, then removes it. A file already
/// gone is fine (a test's directory removed under it); other failures are logged, and the next
/// [`Journal::open`] removes what is left.
fn shrink_and_remove(path: &Path, pause: std::time::Duration) {
    let shrink = || -> io::Result<()> {
        let f = OpenOptions::new().write(true).open(path)?;
        let mut len = f.metadata()?.len();
        while len > 0 {
            len = len.saturating_sub(PRUNE_STEP);
            f.set_len(len)?;
            if len > 0 && !pause.is_zero() {
                std::thread::sleep(pause);
            }
        }
        drop(f);
        fs::remove_file(path)
    };
    match shrink() {
        Err(e) if e.kind() != io::ErrorKind::NotFound => {
            tracing::warn!(path = %path.display(), error = %e, "deleting a pruned journal segment failed; the next start removes it")
        }
        _ => {}
    }
}

fn sync_dir(dir: &Path) -> Result<(), JournalError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io_err(dir, "fsync journal directory"))
}

/// Creates `dir` if missing and syncs its parent, so the new directory entry survives a crash.
fn create_dir_durably(dir: &Path) -> Result<(), JournalError> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(dir).map_err(io_err(dir, "create journal directory"))?;
    match dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) => sync_dir(parent),
        None => Ok(()),
    }
}

/// Reads a whole segment, refusing files no writer could have produced.
fn read_segment(path: &Path) -> Result<Vec<u8>, JournalError> {
    let len_bytes = fs::metadata(path).map_err(io_err(path, "stat segment"))?.len();
    if len_bytes > MAX_SEGMENT_FILE_BYTES {
        let reason = CorruptReason::SegmentTooLarge { len_bytes };
        return Err(JournalError::Corrupt { path: path.to_path_buf(), offset: 0, seq: None, reason });
    }
    fs::read(path).map_err(io_err(path, "read segment"))
}

/// Checks a segment's header against its name and, when given, the seq it must start at.
fn check_segment_header(
    seg: &SegmentFile,
    buf: &[u8],
    expected_first: Option<u64>,
) -> Result<SegmentHeader, JournalError> {
    let corrupt = |reason| JournalError::Corrupt { path: seg.path.clone(), offset: 0, seq: None, reason };
    let header = decode_segment_header(buf).map_err(corrupt)?;
    if header.first_seq != seg.first_seq {
        return Err(corrupt(CorruptReason::NameSeqMismatch { header_seq: header.first_seq }));
    }
    match expected_first {
        Some(expected) if expected != header.first_seq => {
            Err(JournalError::SeqGap { path: seg.path.clone(), expected, found: header.first_seq })
        }
        _ => Ok(header),
    }
}

/// Creates segment `first_seq` atomically (tmp file, header, sync, rename, dir sync) and opens it
/// for appending. Replaces an existing file of that name, which callers only do for an empty one.
fn create_segment(dir: &Path, header: SegmentHeader, sync: bool) -> Result<(File, PathBuf), JournalError> {
    let path = segment_path(dir, header.first_seq);
    let tmp = path.with_extension("wal.tmp");
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(io_err(&tmp, "create segment"))?;
    file.write_all(&encode_segment_header(header)).map_err(io_err(&tmp, "write segment header"))?;
    if sync {
        file.sync_all().map_err(io_err(&tmp, "fsync new segment"))?;
    }
    drop(file);
    fs::rename(&tmp, &path).map_err(io_err(&path, "rename new segment into"))?;
    if sync {
        sync_dir(dir)?;
    }
    let file = OpenOptions::new().write(true).open(&path).map_err(io_err(&path, "open segment"))?;
    Ok((file, path))
}

/// Result of validating every record of one segment.
struct ScannedSegment {
    header: SegmentHeader,
    records: u64,
    next_seq: u64,
    /// End of the last valid record.
    valid_len: usize,
    torn_tail: Option<TornTail>,
}

fn scan_segment(
    seg: &SegmentFile,
    expected_first: Option<u64>,
    is_last: bool,
) -> Result<ScannedSegment, JournalError> {
    let buf = read_segment(&seg.path)?;
    let header = check_segment_header(seg, &buf, expected_first)?;
    let mut off = SEGMENT_HEADER_BYTES;
    let mut seq = header.first_seq;
    while off < buf.len() {
        match check_record(&buf, off, seq, header.max_record_bytes) {
            Ok(total) => {
                off += total;
                seq += 1;
            }
            Err(_) if is_last && zero_tail(&buf, off) => break,
            Err(bad) => {
                let torn =
                    classify_bad_record(&seg.path, &buf, off, seq, bad, header.max_record_bytes, is_last)?;
                let records = seq - header.first_seq;
                return Ok(ScannedSegment {
                    header,
                    records,
                    next_seq: seq,
                    valid_len: off,
                    torn_tail: Some(torn),
                });
            }
        }
    }
    let records = seq - header.first_seq;
    Ok(ScannedSegment { header, records, next_seq: seq, valid_len: off, torn_tail: None })
}

/// Whether everything from `off` on is zero: written ahead by
/// [`JournalConfig::preallocate_bytes`], the end of the last segment's records.
fn zero_tail(buf: &[u8], off: usize) -> bool {
    buf[off..].iter().all(|&b| b == 0)
}

/// Writes `buf` at byte `off` of `file`.
fn write_at(file: &mut File, buf: &[u8], off: u64) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::write_all_at(file, buf, off)
    }
    #[cfg(not(unix))]
    {
        use std::io::{Seek, SeekFrom};
        file.seek(SeekFrom::Start(off))?;
        file.write_all(buf)
    }
}

fn truncate_torn_tail(path: &Path, valid_len: usize) -> Result<(), JournalError> {
    let file = OpenOptions::new().write(true).open(path).map_err(io_err(path, "open segment to truncate"))?;
    file.set_len(valid_len as u64).map_err(io_err(path, "truncate torn tail of"))?;
    // Synced whatever the fsync policy: the truncation must not come back after a crash, and it
    // happens at most once per start.
    file.sync_all().map_err(io_err(path, "fsync truncated segment"))
}

// ---------------------------------------------------------------------------------------------
// The writer.

#[derive(Debug)]
struct ActiveSegment {
    file: File,
    path: PathBuf,
    first_seq: u64,
    len_bytes: u64,
    /// The file's length: `len_bytes` and the zeros written ahead of it.
    allocated: u64,
    records: u64,
    max_record_bytes: u32,
    dirty: bool,
}

/// The journal writer: appends, group commits, segment rotation and pruning. One per directory;
/// the node's engine thread owns it.
///
/// ```no_run
/// use zkclob_node::journal::{Journal, JournalConfig};
/// # fn main() -> Result<(), zkclob_node::journal::JournalError> {
/// let (mut journal, report) = Journal::open(JournalConfig::new("/var/lib/zkclob/journal"))?;
/// let seq = journal.append(b"encoded command")?;
/// journal.commit()?; // only now acknowledge `seq`
/// assert_eq!(journal.next_seq(), seq + 1);
/// # let _ = report; Ok(()) }
/// ```
#[derive(Debug)]
pub struct Journal {
    cfg: JournalConfig,
    /// Every segment, oldest first; the last is `active`.
    segments: Vec<SegmentFile>,
    active: ActiveSegment,
    /// Encoded records not yet written.
    pending: Vec<u8>,
    /// End offset in `pending` of each buffered record.
    pending_ends: Vec<usize>,
    /// Seq of the first buffered record: one past the last written one.
    written_next_seq: u64,
    /// Seq the next append gets.
    next_seq: u64,
    poisoned: bool,
    pruner: Pruner,
}

impl Journal {
    /// Opens or creates the journal in `cfg.dir`: removes leftover `*.wal.tmp` files, validates
    /// every segment (header, checksums, seq continuity), truncates a torn tail of the last
    /// segment, and positions for appending. Fails with [`JournalError::Corrupt`] or
    /// [`JournalError::SeqGap`] on any other damage, changing nothing on disk.
    pub fn open(cfg: JournalConfig) -> Result<(Journal, RecoveryReport), JournalError> {
        cfg.validate()?;
        create_dir_durably(&cfg.dir)?;
        let (segments, tmp_files) = list_dir(&cfg.dir)?;
        for tmp in &tmp_files {
            fs::remove_file(tmp).map_err(io_err(tmp, "remove leftover"))?;
        }
        if !tmp_files.is_empty() {
            sync_dir(&cfg.dir)?;
        }
        let (journal, mut report) =
            if segments.is_empty() { Self::create_new(cfg)? } else { Self::recover(cfg, segments)? };
        report.removed_tmp_files = tmp_files.len();
        Ok((journal, report))
    }

    fn create_new(cfg: JournalConfig) -> Result<(Journal, RecoveryReport), JournalError> {
        let header = SegmentHeader { first_seq: cfg.first_seq, max_record_bytes: cfg.max_record_bytes };
        // Always synced: the empty journal's existence is what later starts must find.
        let (file, path) = create_segment(&cfg.dir, header, true)?;
        let segment = SegmentFile { first_seq: cfg.first_seq, path: path.clone() };
        let active = ActiveSegment {
            file,
            path,
            first_seq: cfg.first_seq,
            len_bytes: SEGMENT_HEADER_BYTES as u64,
            allocated: SEGMENT_HEADER_BYTES as u64,
            records: 0,
            max_record_bytes: cfg.max_record_bytes,
            dirty: false,
        };
        let report = RecoveryReport {
            segments: 1,
            records: 0,
            first_seq: cfg.first_seq,
            next_seq: cfg.first_seq,
            created: true,
            removed_tmp_files: 0,
            truncated_tail: None,
        };
        Ok((Journal::with_active(cfg, vec![segment], active, report.next_seq), report))
    }

    fn recover(
        cfg: JournalConfig,
        segments: Vec<SegmentFile>,
    ) -> Result<(Journal, RecoveryReport), JournalError> {
        let mut records = 0;
        let mut expected_first = None;
        let mut last = None;
        for (i, seg) in segments.iter().enumerate() {
            let scanned = scan_segment(seg, expected_first, i + 1 == segments.len())?;
            records += scanned.records;
            expected_first = Some(scanned.next_seq);
            last = Some(scanned);
        }
        let last = last.expect("segments is not empty");
        let last_seg = segments.last().expect("segments is not empty").clone();
        if last.torn_tail.is_some() {
            truncate_torn_tail(&last_seg.path, last.valid_len)?;
        }
        let file = OpenOptions::new()
            .write(true)
            .open(&last_seg.path)
            .map_err(io_err(&last_seg.path, "open segment"))?;
        let allocated = file.metadata().map_err(io_err(&last_seg.path, "stat segment"))?.len();
        let active = ActiveSegment {
            file,
            path: last_seg.path,
            first_seq: last.header.first_seq,
            len_bytes: last.valid_len as u64,
            allocated: allocated.max(last.valid_len as u64),
            records: last.records,
            max_record_bytes: last.header.max_record_bytes,
            dirty: false,
        };
        let report = RecoveryReport {
            segments: segments.len(),
            records,
            first_seq: segments[0].first_seq,
            next_seq: last.next_seq,
            created: false,
            removed_tmp_files: 0,
            truncated_tail: last.torn_tail,
        };
        Ok((Journal::with_active(cfg, segments, active, report.next_seq), report))
    }

    fn with_active(
        cfg: JournalConfig,
        segments: Vec<SegmentFile>,
        active: ActiveSegment,
        next_seq: u64,
    ) -> Journal {
        Journal {
            cfg,
            segments,
            active,
            pending: Vec::new(),
            pending_ends: Vec::new(),
            written_next_seq: next_seq,
            next_seq,
            poisoned: false,
            pruner: Pruner::default(),
        }
    }

    /// Buffers one record and returns its sequence number (consecutive, starting where the
    /// journal starts). Nothing is durable until [`Journal::commit`]. A payload over
    /// [`JournalConfig::max_record_bytes`] or past the pending limit is refused with the journal
    /// unchanged.
    pub fn append(&mut self, payload: &[u8]) -> Result<u64, JournalError> {
        self.ensure_usable()?;
        let max_bytes = self.cfg.max_record_bytes;
        if payload.len() > max_bytes as usize {
            return Err(JournalError::RecordTooLarge { len_bytes: payload.len(), max_bytes });
        }
        let pending_bytes = self.pending.len() as u64;
        if pending_bytes + (RECORD_HEADER_BYTES + payload.len()) as u64 > self.cfg.max_pending_bytes {
            return Err(JournalError::PendingFull { pending_bytes, limit_bytes: self.cfg.max_pending_bytes });
        }
        let seq = self.next_seq;
        let next_seq = seq.checked_add(1).ok_or(JournalError::SeqExhausted)?;
        let len = payload.len() as u32; // <= max_record_bytes, checked above
        self.pending.extend_from_slice(&len.to_le_bytes());
        self.pending.extend_from_slice(&record_crc(len, seq, payload).to_le_bytes());
        self.pending.extend_from_slice(&seq.to_le_bytes());
        self.pending.extend_from_slice(payload);
        self.pending_ends.push(self.pending.len());
        self.next_seq = next_seq;
        Ok(seq)
    }

    /// Writes the buffered records (one `write` per segment touched), moving to a new segment
    /// when the current one is full, and under [`FsyncPolicy::Always`] syncs them. After `Ok`
    /// every appended record is durable. An `Err` is fatal: the journal refuses further use
    /// ([`JournalError::Poisoned`]) and the node must restart and recover from disk.
    pub fn commit(&mut self) -> Result<CommitStats, JournalError> {
        self.ensure_usable()?;
        if self.pending_ends.is_empty() {
            return Ok(CommitStats::default());
        }
        match self.write_pending() {
            Ok(stats) => {
                self.pending.clear();
                self.pending_ends.clear();
                self.written_next_seq = self.next_seq;
                Ok(stats)
            }
            Err(err) => {
                self.poisoned = true;
                Err(err)
            }
        }
    }

    fn write_pending(&mut self) -> Result<CommitStats, JournalError> {
        let mut stats =
            CommitStats { records: self.pending_ends.len(), bytes: self.pending.len(), ..Default::default() };
        let mut rec = 0;
        let mut start = 0;
        while rec < self.pending_ends.len() {
            let end_rec = self.records_that_fit(rec, start);
            if end_rec == rec {
                // Sealed segments are synced before the next one exists: a crash can then only
                // tear the last segment, which is what recovery relies on.
                stats.fsync_nanos += self.sync_active()?;
                self.seal_active()?;
                self.rotate(self.written_next_seq + rec as u64)?;
                stats.segments_created += 1;
                continue;
            }
            let end = self.pending_ends[end_rec - 1];
            let active = &mut self.active;
            write_at(&mut active.file, &self.pending[start..end], active.len_bytes)
                .map_err(io_err(&active.path, "write segment"))?;
            active.len_bytes += (end - start) as u64;
            self.preallocate()?;
            let active = &mut self.active;
            active.records += (end_rec - rec) as u64;
            active.dirty = true;
            rec = end_rec;
            start = end;
        }
        stats.fsync_nanos += self.sync_active()?;
        Ok(stats)
    }

    /// How many buffered records from index `rec` (at byte `start`) the active segment takes:
    /// none if it is full or was created with a smaller record limit, at least one if empty.
    fn records_that_fit(&self, rec: usize, start: usize) -> usize {
        let mut len_bytes = self.active.len_bytes;
        let mut records = self.active.records;
        let mut prev = start;
        let mut i = rec;
        while let Some(&end) = self.pending_ends.get(i) {
            let size = (end - prev) as u64;
            let payload_bytes = size - RECORD_HEADER_BYTES as u64;
            if payload_bytes > u64::from(self.active.max_record_bytes) {
                break;
            }
            if records > 0 && len_bytes + size > self.cfg.segment_bytes {
                break;
            }
            len_bytes += size;
            records += 1;
            prev = end;
            i += 1;
        }
        i
    }

    /// Past the zeros written ahead: writes the next [`JournalConfig::preallocate_bytes`] of
    /// them (not past the segment's size), flushed with the records of this commit.
    fn preallocate(&mut self) -> Result<(), JournalError> {
        static ZEROS: [u8; 64 << 10] = [0; 64 << 10];
        let active = &mut self.active;
        active.allocated = active.allocated.max(active.len_bytes);
        if self.cfg.preallocate_bytes == 0 || active.allocated > active.len_bytes {
            return Ok(());
        }
        let target = (active.len_bytes + self.cfg.preallocate_bytes).min(self.cfg.segment_bytes);
        while active.allocated < target {
            let n = (target - active.allocated).min(ZEROS.len() as u64) as usize;
            write_at(&mut active.file, &ZEROS[..n], active.allocated)
                .map_err(io_err(&active.path, "write zeros ahead in segment"))?;
            active.allocated += n as u64;
        }
        Ok(())
    }

    fn sync_active(&mut self) -> Result<u64, JournalError> {
        if !self.active.dirty || self.cfg.fsync == FsyncPolicy::Never {
            self.active.dirty = false;
            return Ok(0);
        }
        let started = Instant::now();
        self.active.file.sync_data().map_err(io_err(&self.active.path, "fdatasync segment"))?;
        self.active.dirty = false;
        Ok(u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX))
    }

    /// Cuts the zeros written ahead off the segment about to be sealed (synced under
    /// [`FsyncPolicy::Always`] before the next segment exists): only the last segment ever ends
    /// in zeros.
    fn seal_active(&mut self) -> Result<(), JournalError> {
        let active = &mut self.active;
        if active.allocated <= active.len_bytes {
            return Ok(());
        }
        active
            .file
            .set_len(active.len_bytes)
            .map_err(io_err(&active.path, "cut zeros off sealed segment"))?;
        if self.cfg.fsync == FsyncPolicy::Always {
            active.file.sync_all().map_err(io_err(&active.path, "fsync sealed segment"))?;
        }
        active.allocated = active.len_bytes;
        Ok(())
    }

    /// Starts a new segment at `first_seq`. An empty active segment (possible only when it was
    /// created with a smaller record limit) is replaced rather than followed.
    fn rotate(&mut self, first_seq: u64) -> Result<(), JournalError> {
        let header = SegmentHeader { first_seq, max_record_bytes: self.cfg.max_record_bytes };
        let (file, path) = create_segment(&self.cfg.dir, header, self.cfg.fsync == FsyncPolicy::Always)?;
        let segment = SegmentFile { first_seq, path: path.clone() };
        if self.active.records == 0 {
            debug_assert_eq!(self.active.first_seq, first_seq);
            self.segments.pop();
        }
        self.segments.push(segment);
        self.active = ActiveSegment {
            file,
            path,
            first_seq,
            len_bytes: SEGMENT_HEADER_BYTES as u64,
            allocated: SEGMENT_HEADER_BYTES as u64,
            records: 0,
            max_record_bytes: self.cfg.max_record_bytes,
            dirty: false,
        };
        Ok(())
    }

    fn ensure_usable(&self) -> Result<(), JournalError> {
        if self.poisoned {
            Err(JournalError::Poisoned)
        } else {
            Ok(())
        }
    }

    /// Seq the next [`Journal::append`] returns (buffered records included).
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Seq after the last committed record: what a restart would continue from.
    pub fn committed_next_seq(&self) -> u64 {
        self.written_next_seq
    }

    /// Seq of the oldest retained record (the first segment's first seq).
    pub fn first_seq(&self) -> u64 {
        self.segments.first().map_or(self.active.first_seq, |s| s.first_seq)
    }

    /// Number of segment files, the one being written included.
    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }

    /// The journal directory.
    pub fn dir(&self) -> &Path {
        &self.cfg.dir
    }

    /// Iterates the committed records with seq `>= from`, across segments, validating as it goes
    /// (headers, checksums, seq continuity). A torn tail at the end of the last segment ends the
    /// iteration (see [`JournalReader::torn_tail`]); any other damage is yielded as an error,
    /// after which the iterator ends. Fails upfront if the directory holds no segments or `from`
    /// is older than the oldest retained record; yields [`JournalError::SeqBeyondEnd`] at the end
    /// if `from` lies past the last record + 1. Reads one segment into memory at a time.
    pub fn read_from(dir: &Path, from: u64) -> Result<JournalReader, JournalError> {
        let (segments, _tmp_files) = list_dir(dir)?;
        let Some(first) = segments.first() else {
            return Err(JournalError::NoSegments { dir: dir.to_path_buf() });
        };
        if from < first.first_seq {
            return Err(JournalError::SeqNotAvailable {
                dir: dir.to_path_buf(),
                from,
                first_seq: first.first_seq,
            });
        }
        // The last segment that starts at or before `from`: earlier ones hold only older records.
        let start = segments.partition_point(|s| s.first_seq <= from) - 1;
        let expected_seq = segments[start].first_seq;
        Ok(JournalReader {
            dir: dir.to_path_buf(),
            segments,
            next_segment: start,
            current: None,
            expected_seq,
            from,
            torn_tail: None,
            done: false,
        })
    }

    /// Drops whole segments whose records all have seq `< seq` (a snapshot covers them), oldest
    /// first so a crash leaves a contiguous journal. Never drops the segment being written.
    /// Returns how many were dropped.
    ///
    /// A dropped segment is renamed out of the journal (`*.wal.pruned`, which no reader opens
    /// and [`Journal::open`] removes) and deleted by a thread of its own, a megabyte at a time:
    /// deleting a whole 64 MiB segment at once took 17 ms on the caller's thread
    /// on this machine's disk (mounted with `discard`, so freeing the blocks trims them), and
    /// the journal's next commits waited behind the trim.
    pub fn prune_before(&mut self, seq: u64) -> Result<usize, JournalError> {
        self.ensure_usable()?;
        let mut dropped = Vec::new();
        while self.segments.len() > 1 && self.segments[1].first_seq <= seq {
            let path = self.segments.remove(0).path;
            let pruned = path.with_extension(&PRUNED_SUFFIX[1..]);
            fs::rename(&path, &pruned).map_err(io_err(&path, "rename pruned segment"))?;
            dropped.push(pruned);
        }
        if !dropped.is_empty() && self.cfg.fsync == FsyncPolicy::Always {
            sync_dir(&self.cfg.dir)?;
        }
        let n = dropped.len();
        for path in dropped {
            self.pruner.delete(path);
        }
        Ok(n)
    }
}

// ---------------------------------------------------------------------------------------------
// The reader.

#[derive(Debug)]
struct LoadedSegment {
    path: PathBuf,
    buf: Vec<u8>,
    off: usize,
    max_record_bytes: u32,
    is_last: bool,
}

/// Iterator over committed records, returned by [`Journal::read_from`]: yields `(seq, payload)`.
#[derive(Debug)]
pub struct JournalReader {
    dir: PathBuf,
    segments: Vec<SegmentFile>,
    next_segment: usize,
    current: Option<LoadedSegment>,
    /// Seq of the next record to parse.
    expected_seq: u64,
    from: u64,
    torn_tail: Option<TornTail>,
    done: bool,
}

impl JournalReader {
    /// The torn tail that ended the iteration, if any. A journal that [`Journal::open`] has
    /// recovered has none; one read while a writer is mid-commit, or after a crash and before a
    /// recovery, may.
    pub fn torn_tail(&self) -> Option<&TornTail> {
        self.torn_tail.as_ref()
    }

    fn finish(&mut self) -> Option<Result<(u64, Vec<u8>), JournalError>> {
        self.done = true;
        self.current = None;
        if self.from > self.expected_seq {
            let next_seq = self.expected_seq;
            return Some(Err(JournalError::SeqBeyondEnd {
                dir: self.dir.clone(),
                from: self.from,
                next_seq,
            }));
        }
        None
    }

    fn load_next_segment(&mut self) -> Result<(), JournalError> {
        let seg = &self.segments[self.next_segment];
        let buf = read_segment(&seg.path)?;
        let header = check_segment_header(seg, &buf, Some(self.expected_seq))?;
        self.current = Some(LoadedSegment {
            path: seg.path.clone(),
            buf,
            off: SEGMENT_HEADER_BYTES,
            max_record_bytes: header.max_record_bytes,
            is_last: self.next_segment + 1 == self.segments.len(),
        });
        self.next_segment += 1;
        Ok(())
    }
}

impl Iterator for JournalReader {
    type Item = Result<(u64, Vec<u8>), JournalError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done {
                return None;
            }
            let Some(seg) = self.current.as_mut() else {
                if self.next_segment == self.segments.len() {
                    return self.finish();
                }
                if let Err(err) = self.load_next_segment() {
                    self.done = true;
                    return Some(Err(err));
                }
                continue;
            };
            if seg.off == seg.buf.len() {
                self.current = None;
                continue;
            }
            let seq = self.expected_seq;
            match check_record(&seg.buf, seg.off, seq, seg.max_record_bytes) {
                Ok(total) => {
                    let payload_at = seg.off + RECORD_HEADER_BYTES;
                    seg.off += total;
                    self.expected_seq += 1;
                    if seq >= self.from {
                        return Some(Ok((seq, seg.buf[payload_at..seg.off].to_vec())));
                    }
                }
                Err(_) if seg.is_last && zero_tail(&seg.buf, seg.off) => {
                    self.current = None;
                }
                Err(bad) => {
                    let max_len = seg.max_record_bytes;
                    match classify_bad_record(&seg.path, &seg.buf, seg.off, seq, bad, max_len, seg.is_last) {
                        Ok(torn) => {
                            self.torn_tail = Some(torn);
                            return self.finish();
                        }
                        Err(err) => {
                            self.done = true;
                            return Some(Err(err));
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_header_round_trips_and_rejects_any_flipped_byte() {
        let header = SegmentHeader { first_seq: 42, max_record_bytes: 1000 };
        let bytes = encode_segment_header(header);
        let decoded = decode_segment_header(&bytes).expect("valid header");
        assert_eq!((decoded.first_seq, decoded.max_record_bytes), (42, 1000));
        for i in 0..SEGMENT_HEADER_BYTES {
            let mut bad = bytes;
            bad[i] ^= 0x01;
            assert!(decode_segment_header(&bad).is_err(), "flip at byte {i} accepted");
        }
        assert_eq!(
            decode_segment_header(&bytes[..31]).unwrap_err(),
            CorruptReason::ShortSegmentHeader { len_bytes: 31 }
        );
    }

    #[test]
    fn segment_names_are_exactly_twenty_digits() {
        assert_eq!(parse_segment_name("00000000000000000007.wal"), Some(7));
        assert_eq!(parse_segment_name("0000000000000000007.wal"), None);
        assert_eq!(parse_segment_name("00000000000000000000.wal"), None);
        assert_eq!(parse_segment_name("99999999999999999999.wal"), None);
        assert_eq!(parse_segment_name("0000000000000000000x.wal"), None);
        assert_eq!(segment_path(Path::new("d"), 7), Path::new("d/00000000000000000007.wal"));
    }

    #[test]
    fn record_crc_covers_length_seq_and_payload() {
        let base = record_crc(3, 9, b"abc");
        assert_ne!(base, record_crc(4, 9, b"abc"));
        assert_ne!(base, record_crc(3, 8, b"abc"));
        assert_ne!(base, record_crc(3, 9, b"abd"));
    }

    #[test]
    fn scan_finds_valid_record_after_damage_only_within_seq_bound() {
        let mut buf = vec![0xAAu8; 40];
        let at = buf.len();
        let payload = b"xyz";
        for seq in [5u64, 1000] {
            buf.truncate(at);
            buf.extend_from_slice(&3u32.to_le_bytes());
            buf.extend_from_slice(&record_crc(3, seq, payload).to_le_bytes());
            buf.extend_from_slice(&seq.to_le_bytes());
            buf.extend_from_slice(payload);
            let found = find_valid_record_after(&buf, 0, 5, 100);
            // 59 bytes from offset 0 can hold at most 3 records: seq 1000 is out of reach.
            assert_eq!(found, (seq == 5).then_some((at, 5)));
        }
        assert_eq!(find_valid_record_after(&[0u8; 8], 0, 1, 100), None);
    }
}
