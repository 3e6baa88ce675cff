//! Journal tests: round trips across segments, torn tails at every byte, corruption in the middle,
//! missing segments, limits, pruning, and a property test of crash recovery.

use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::Instant;

use proptest::prelude::*;
use zkclob_node::journal::{
    CorruptReason, FsyncPolicy, Journal, JournalConfig, JournalError, RecordFault, RecoveryReport,
    RECORD_HEADER_BYTES, SEGMENT_HEADER_BYTES,
};

const HEADER: usize = SEGMENT_HEADER_BYTES;
const REC: usize = RECORD_HEADER_BYTES;

fn config(dir: &Path, segment_bytes: u64) -> JournalConfig {
    let mut cfg = JournalConfig::new(dir);
    cfg.segment_bytes = segment_bytes;
    cfg.fsync = FsyncPolicy::Never;
    cfg
}

fn open(dir: &Path, segment_bytes: u64) -> (Journal, RecoveryReport) {
    Journal::open(config(dir, segment_bytes)).expect("journal opens")
}

/// Deterministic payload of `len` bytes that differs per seq.
fn payload(seq: u64, len: usize) -> Vec<u8> {
    // Never zero, so zeroing a byte always changes it.
    (0..len).map(|i| ((seq as usize * 31 + i * 7) % 255 + 1) as u8).collect()
}

/// A small LCG so tests need no RNG dependency and are reproducible.
struct Lcg(u64);
impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// Appends `count` records with `len_of(seq)` bytes, committing every `per_commit`.
fn write_records(
    journal: &mut Journal,
    count: usize,
    per_commit: usize,
    mut len_of: impl FnMut(u64) -> usize,
) -> Vec<(u64, Vec<u8>)> {
    let mut written = Vec::new();
    for i in 0..count {
        let seq = journal.next_seq();
        let data = payload(seq, len_of(seq));
        assert_eq!(journal.append(&data).expect("append"), seq);
        written.push((seq, data));
        if (i + 1) % per_commit == 0 {
            journal.commit().expect("commit");
        }
    }
    journal.commit().expect("commit");
    written
}

fn read_all(dir: &Path, from: u64) -> Vec<(u64, Vec<u8>)> {
    Journal::read_from(dir, from).expect("reader").collect::<Result<Vec<_>, _>>().expect("records read")
}

fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "wal"))
        .collect();
    files.sort();
    files
}

/// `(seq, start, end)` of each complete record of a segment file.
fn record_bounds(path: &Path) -> Vec<(u64, usize, usize)> {
    let buf = fs::read(path).expect("read segment");
    let mut out = Vec::new();
    let mut off = HEADER;
    while off + REC <= buf.len() {
        let len = u32::from_le_bytes(buf[off..off + 4].try_into().expect("4 bytes")) as usize;
        let seq = u64::from_le_bytes(buf[off + 8..off + 16].try_into().expect("8 bytes"));
        if off + REC + len > buf.len() {
            break;
        }
        out.push((seq, off, off + REC + len));
        off += REC + len;
    }
    out
}

fn truncate(path: &Path, len: usize) {
    OpenOptions::new().write(true).open(path).expect("open").set_len(len as u64).expect("truncate");
}

fn flip_byte(path: &Path, at: usize) {
    let mut buf = fs::read(path).expect("read");
    buf[at] ^= 0x40;
    fs::write(path, buf).expect("write");
}

fn expect_open_error(dir: &Path, segment_bytes: u64) -> JournalError {
    match Journal::open(config(dir, segment_bytes)) {
        Ok((_, report)) => panic!("open accepted a damaged journal: {report:?}"),
        Err(err) => err,
    }
}

/// A journal with one segment holding records 1..=count of `len` bytes each.
fn single_segment_journal(dir: &Path, count: usize, len: usize) -> Vec<(u64, Vec<u8>)> {
    let (mut journal, _) = open(dir, 1 << 20);
    write_records(&mut journal, count, 2, |_| len)
}

#[test]
fn empty_dir_creates_a_journal_starting_at_seq_one() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("journal");
    let (journal, report) = open(&dir, 4096);
    assert!(report.created);
    assert_eq!((report.segments, report.records, report.first_seq, report.next_seq), (1, 0, 1, 1));
    assert_eq!(report.truncated_tail, None);
    assert_eq!(journal.next_seq(), 1);
    assert_eq!(segment_files(&dir), vec![dir.join("00000000000000000001.wal")]);
    assert!(read_all(&dir, 1).is_empty());
}

#[test]
fn new_journal_starts_at_configured_first_seq_and_existing_one_ignores_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut cfg = config(tmp.path(), 4096);
    cfg.first_seq = 500;
    let (mut journal, report) = Journal::open(cfg.clone()).expect("open");
    assert_eq!(report.next_seq, 500);
    assert_eq!(journal.append(b"a").expect("append"), 500);
    journal.commit().expect("commit");
    drop(journal);
    cfg.first_seq = 7;
    let (journal, report) = Journal::open(cfg).expect("reopen");
    assert!(!report.created);
    assert_eq!((report.first_seq, journal.next_seq()), (500, 501));
    assert_eq!(read_all(tmp.path(), 500), vec![(500, b"a".to_vec())]);
}

#[test]
fn round_trip_across_commits_and_segment_rotations() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let segment_bytes = 600;
    let (mut journal, _) = open(tmp.path(), segment_bytes);
    let mut rng = Lcg(7);
    let mut written = Vec::new();
    while written.len() < 400 {
        let group = (1 + rng.below(12) as usize).min(400 - written.len());
        written.extend(write_records(&mut journal, group, group, |_| rng.below(250) as usize));
    }
    drop(journal);
    let segments = segment_files(tmp.path());
    assert!(segments.len() > 20, "only {} segments", segments.len());
    for path in &segments {
        let bounds = record_bounds(path);
        let len = fs::metadata(path).expect("stat").len();
        assert!(len <= segment_bytes || bounds.len() == 1, "{path:?} is {len} bytes");
    }
    let (journal, report) = open(tmp.path(), segment_bytes);
    assert_eq!((report.records, report.next_seq, report.segments), (400, 401, segments.len()));
    assert_eq!(journal.next_seq(), 401);
    assert_eq!(read_all(tmp.path(), 1), written);
    for from in [2, 37, 200, 399, 400, 401] {
        assert_eq!(read_all(tmp.path(), from), written[from as usize - 1..], "from {from}");
    }
}

#[test]
fn one_commit_spreads_over_several_new_segments() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut journal, _) = open(tmp.path(), 300);
    let mut written = Vec::new();
    for _ in 0..20 {
        let seq = journal.next_seq();
        written.push((seq, payload(seq, 100)));
        journal.append(&written.last().expect("just pushed").1).expect("append");
    }
    let stats = journal.commit().expect("commit");
    assert_eq!((stats.records, stats.bytes), (20, 20 * (REC + 100)));
    // 300-byte segments hold two 116-byte records after the 32-byte header.
    assert_eq!(stats.segments_created, 9);
    assert_eq!(journal.segment_count(), 10);
    assert_eq!(read_all(tmp.path(), 1), written);
}

#[test]
fn fsync_always_commits_and_reports_fsync_time() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut cfg = JournalConfig::new(tmp.path());
    cfg.segment_bytes = 512;
    let (mut journal, _) = Journal::open(cfg.clone()).expect("open");
    for _ in 0..3 {
        journal.append(&[7u8; 200]).expect("append");
        journal.append(&[8u8; 200]).expect("append");
        let stats = journal.commit().expect("commit");
        assert!(stats.fsync_nanos > 0);
    }
    drop(journal);
    let (_, report) = Journal::open(cfg).expect("reopen");
    assert_eq!(report.records, 6);
}

#[test]
fn commit_with_nothing_pending_writes_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut journal, _) = open(tmp.path(), 4096);
    assert_eq!(journal.commit().expect("commit").records, 0);
    assert_eq!(fs::metadata(&segment_files(tmp.path())[0]).expect("stat").len(), HEADER as u64);
}

#[test]
fn uncommitted_records_are_not_on_disk_after_drop() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut journal, _) = open(tmp.path(), 4096);
    journal.append(b"kept").expect("append");
    journal.commit().expect("commit");
    journal.append(b"lost").expect("append");
    assert_eq!((journal.next_seq(), journal.committed_next_seq()), (3, 2));
    drop(journal);
    let (journal, report) = open(tmp.path(), 4096);
    assert_eq!((report.records, journal.next_seq()), (1, 2));
    assert_eq!(read_all(tmp.path(), 1), vec![(1, b"kept".to_vec())]);
}

#[test]
fn read_from_outside_the_journal_is_an_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    single_segment_journal(tmp.path(), 5, 10);
    assert!(read_all(tmp.path(), 6).is_empty());
    let results: Vec<_> = Journal::read_from(tmp.path(), 8).expect("reader").collect();
    assert!(
        matches!(results[..], [Err(JournalError::SeqBeyondEnd { from: 8, next_seq: 6, .. })]),
        "{results:?}"
    );
    assert!(matches!(
        Journal::read_from(tmp.path(), 0),
        Err(JournalError::SeqNotAvailable { from: 0, first_seq: 1, .. })
    ));
    let empty = tempfile::tempdir().expect("tempdir");
    assert!(matches!(Journal::read_from(empty.path(), 1), Err(JournalError::NoSegments { .. })));
}

#[test]
fn torn_tail_at_every_offset_of_last_record_is_truncated_and_appends_continue() {
    let probe = tempfile::tempdir().expect("tempdir");
    let written = single_segment_journal(probe.path(), 4, 40);
    let path = &segment_files(probe.path())[0];
    let (_, last_start, last_end) = *record_bounds(path).last().expect("records");
    for cut in last_start..last_end {
        let tmp = tempfile::tempdir().expect("tempdir");
        single_segment_journal(tmp.path(), 4, 40);
        let path = &segment_files(tmp.path())[0];
        truncate(path, cut);
        let (mut journal, report) = open(tmp.path(), 1 << 20);
        match &report.truncated_tail {
            None => assert_eq!(cut, last_start, "cut at a record boundary is not torn"),
            Some(torn) => {
                assert_eq!(
                    (torn.offset, torn.bytes_dropped, torn.seq),
                    (last_start as u64, (cut - last_start) as u64, 4)
                );
                let expected_fault = if cut - last_start < REC {
                    RecordFault::PartialHeader { available_bytes: (cut - last_start) as u64 }
                } else {
                    RecordFault::PartialPayload {
                        len_bytes: 40,
                        available_bytes: (cut - last_start - REC) as u64,
                    }
                };
                assert_eq!(torn.fault, expected_fault, "cut {cut}");
                assert_eq!(&torn.path, path);
                let line = torn.to_string();
                assert!(line.contains(&format!("offset {last_start}")) && line.contains("seq 4"), "{line}");
            }
        }
        assert_eq!((report.records, report.next_seq), (3, 4), "cut {cut}");
        assert_eq!(fs::metadata(path).expect("stat").len(), last_start as u64);
        assert_eq!(journal.append(b"after-crash").expect("append"), 4);
        assert_eq!(journal.append(b"and-more").expect("append"), 5);
        journal.commit().expect("commit");
        drop(journal);
        let (_, report) = open(tmp.path(), 1 << 20);
        assert_eq!((report.truncated_tail, report.records), (None, 5));
        let mut expected = written[..3].to_vec();
        expected.push((4, b"after-crash".to_vec()));
        expected.push((5, b"and-more".to_vec()));
        assert_eq!(read_all(tmp.path(), 1), expected);
    }
}

#[test]
fn torn_tail_in_last_of_several_segments_keeps_earlier_segments() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut journal, _) = open(tmp.path(), 300);
    let written = write_records(&mut journal, 12, 1, |_| 50);
    drop(journal);
    let segments = segment_files(tmp.path());
    assert!(segments.len() >= 3);
    let last = segments.last().expect("segments");
    let (seq, start, _) = *record_bounds(last).last().expect("records");
    truncate(last, start + 5);
    let (_, report) = open(tmp.path(), 300);
    assert_eq!(report.truncated_tail.as_ref().map(|t| t.seq), Some(seq));
    assert_eq!(read_all(tmp.path(), 1), written[..seq as usize - 1]);
}

#[test]
fn flipped_byte_anywhere_in_last_record_is_a_torn_tail() {
    let probe = tempfile::tempdir().expect("tempdir");
    let written = single_segment_journal(probe.path(), 5, 30);
    let (_, last_start, last_end) = *record_bounds(&segment_files(probe.path())[0]).last().expect("records");
    for at in last_start..last_end {
        let tmp = tempfile::tempdir().expect("tempdir");
        single_segment_journal(tmp.path(), 5, 30);
        let path = &segment_files(tmp.path())[0];
        flip_byte(path, at);
        let (_, report) = open(tmp.path(), 1 << 20);
        let torn = report.truncated_tail.unwrap_or_else(|| panic!("flip at {at} not reported"));
        assert_eq!(
            (torn.offset, torn.bytes_dropped, torn.seq),
            (last_start as u64, (last_end - last_start) as u64, 5)
        );
        assert_eq!(read_all(tmp.path(), 1), written[..4], "flip at {at}");
    }
}

#[test]
fn flipped_byte_in_middle_record_of_last_segment_is_corrupt_and_nothing_changes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    single_segment_journal(tmp.path(), 6, 30);
    let path = &segment_files(tmp.path())[0];
    let (seq, start, _) = record_bounds(path)[2];
    flip_byte(path, start + REC + 3);
    let before = fs::read(path).expect("read");
    let err = expect_open_error(tmp.path(), 1 << 20);
    match &err {
        JournalError::Corrupt { path: p, offset, seq: Some(s), reason } => {
            assert_eq!((p, *offset, *s), (path, start as u64, seq));
            assert!(matches!(
                reason,
                CorruptReason::BadRecordBeforeValidRecord {
                    fault: RecordFault::BadCrc { .. },
                    valid_seq: 4,
                    ..
                }
            ));
        }
        other => panic!("unexpected error {other:?}"),
    }
    let message = err.to_string();
    assert!(
        message.contains(&path.display().to_string()) && message.contains(&format!("offset {start}")),
        "{message}"
    );
    assert_eq!(fs::read(path).expect("read"), before, "a corrupt journal must not be modified");
    let results: Vec<_> = Journal::read_from(tmp.path(), 1).expect("reader").collect();
    assert_eq!(results.len(), 3);
    assert!(matches!(results[2], Err(JournalError::Corrupt { .. })));
}

#[test]
fn flipped_byte_in_sealed_segment_is_corrupt_even_in_its_last_record() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut journal, _) = open(tmp.path(), 300);
    write_records(&mut journal, 12, 3, |_| 50);
    drop(journal);
    let segments = segment_files(tmp.path());
    let sealed = &segments[segments.len() - 2];
    let (seq, start, end) = *record_bounds(sealed).last().expect("records");
    flip_byte(sealed, end - 1);
    match expect_open_error(tmp.path(), 300) {
        JournalError::Corrupt {
            path,
            offset,
            seq: s,
            reason: CorruptReason::BadRecordInSealedSegment { .. },
        } => {
            assert_eq!((&path, offset, s), (sealed, start as u64, Some(seq)));
        }
        other => panic!("unexpected error {other:?}"),
    }
}

#[test]
fn bad_segment_header_is_corrupt_in_any_segment() {
    for victim in [0, 1] {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (mut journal, _) = open(tmp.path(), 200);
        write_records(&mut journal, 4, 1, |_| 100);
        drop(journal);
        let segments = segment_files(tmp.path());
        assert_eq!(segments.len(), 4);
        let path = &segments[if victim == 0 { 0 } else { 3 }];
        flip_byte(path, 2);
        let err = expect_open_error(tmp.path(), 200);
        assert!(
            matches!(&err, JournalError::Corrupt { path: p, offset: 0, reason: CorruptReason::BadMagic, .. } if p == path),
            "{err:?}"
        );
    }
}

#[test]
fn truncated_sealed_segment_fails_to_open() {
    for cut_mid_record in [false, true] {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (mut journal, _) = open(tmp.path(), 300);
        write_records(&mut journal, 12, 1, |_| 50);
        drop(journal);
        let segments = segment_files(tmp.path());
        let sealed = &segments[1];
        let (_, start, _) = *record_bounds(sealed).last().expect("records");
        truncate(sealed, if cut_mid_record { start + 20 } else { start });
        let err = expect_open_error(tmp.path(), 300);
        if cut_mid_record {
            assert!(matches!(
                err,
                JournalError::Corrupt { reason: CorruptReason::BadRecordInSealedSegment { .. }, .. }
            ));
        } else {
            assert!(matches!(&err, JournalError::SeqGap { path, .. } if path == &segments[2]), "{err:?}");
        }
    }
}

#[test]
fn deleted_middle_segment_is_a_seq_gap() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut journal, _) = open(tmp.path(), 300);
    write_records(&mut journal, 20, 1, |_| 50);
    drop(journal);
    let segments = segment_files(tmp.path());
    assert_eq!(segments.len(), 5);
    fs::remove_file(&segments[2]).expect("delete");
    let err = expect_open_error(tmp.path(), 300);
    assert!(
        matches!(&err, JournalError::SeqGap { path, expected: 9, found: 13 } if path == &segments[3]),
        "{err:?}"
    );
    let results: Vec<_> = Journal::read_from(tmp.path(), 1).expect("reader").collect();
    assert!(matches!(results.last(), Some(Err(JournalError::SeqGap { .. }))));
}

#[test]
fn oversized_record_is_rejected_and_journal_stays_usable() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut cfg = config(tmp.path(), 4096);
    cfg.max_record_bytes = 100;
    let (mut journal, _) = Journal::open(cfg.clone()).expect("open");
    assert_eq!(journal.append(&[1u8; 100]).expect("at the limit"), 1);
    assert!(matches!(
        journal.append(&[1u8; 101]),
        Err(JournalError::RecordTooLarge { len_bytes: 101, max_bytes: 100 })
    ));
    assert_eq!(journal.append(b"next").expect("append"), 2);
    journal.commit().expect("commit");
    drop(journal);
    let (_, report) = Journal::open(cfg).expect("reopen");
    assert_eq!(report.records, 2);
}

#[test]
fn failed_commit_poisons_the_journal() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("journal");
    let (mut journal, _) = open(&dir, 100);
    journal.append(&[1u8; 60]).expect("append");
    journal.commit().expect("commit");
    // The next commit must create a segment; with the directory gone that fails.
    fs::remove_dir_all(&dir).expect("remove dir");
    journal.append(&[2u8; 60]).expect("append");
    assert!(matches!(journal.commit(), Err(JournalError::Io { .. })));
    assert!(matches!(journal.append(b"x"), Err(JournalError::Poisoned)));
    assert!(matches!(journal.commit(), Err(JournalError::Poisoned)));
}

#[test]
fn pending_limit_refuses_appends_until_commit() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut cfg = config(tmp.path(), 1 << 20);
    cfg.max_record_bytes = 100;
    cfg.max_pending_bytes = 3 * (REC as u64 + 100);
    let (mut journal, _) = Journal::open(cfg).expect("open");
    for _ in 0..3 {
        journal.append(&[0u8; 100]).expect("within the limit");
    }
    assert!(matches!(journal.append(&[0u8; 1]), Err(JournalError::PendingFull { .. })));
    journal.commit().expect("commit");
    assert_eq!(journal.append(&[0u8; 100]).expect("after commit"), 4);
}

#[test]
fn invalid_config_is_rejected() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let bad = [
        JournalConfig { segment_bytes: 32, ..config(tmp.path(), 4096) },
        JournalConfig { max_record_bytes: 0, ..config(tmp.path(), 4096) },
        JournalConfig { first_seq: 0, ..config(tmp.path(), 4096) },
        JournalConfig { max_pending_bytes: 10, ..config(tmp.path(), 4096) },
        JournalConfig { preallocate_bytes: (64 << 20) + 1, ..config(tmp.path(), 4096) },
    ];
    for cfg in bad {
        assert!(matches!(Journal::open(cfg), Err(JournalError::InvalidConfig { .. })));
    }
}

/// Writes raw bytes at the end of the only segment.
fn append_raw(dir: &Path, bytes: &[u8]) {
    let path = &segment_files(dir)[0];
    let mut buf = fs::read(path).expect("read");
    buf.extend_from_slice(bytes);
    fs::write(path, buf).expect("write");
}

fn raw_header(len: u32, crc: u32, seq: u64) -> Vec<u8> {
    [&len.to_le_bytes()[..], &crc.to_le_bytes(), &seq.to_le_bytes()].concat()
}

#[test]
fn huge_length_header_at_tail_is_torn() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let written = single_segment_journal(tmp.path(), 3, 20);
    let end = fs::metadata(&segment_files(tmp.path())[0]).expect("stat").len();
    append_raw(tmp.path(), &[raw_header(u32::MAX, 0, 4), vec![0xEE; 100]].concat());
    let (_, report) = open(tmp.path(), 1 << 20);
    let torn = report.truncated_tail.expect("torn tail");
    assert_eq!((torn.offset, torn.bytes_dropped), (end, 116));
    assert!(matches!(torn.fault, RecordFault::LengthTooLarge { len_bytes: u32::MAX, .. }));
    assert_eq!(read_all(tmp.path(), 1), written);
}

#[test]
fn huge_length_header_in_the_middle_is_corrupt() {
    let tmp = tempfile::tempdir().expect("tempdir");
    single_segment_journal(tmp.path(), 5, 20);
    let path = &segment_files(tmp.path())[0];
    let (_, start, _) = record_bounds(path)[1];
    let mut buf = fs::read(path).expect("read");
    buf[start..start + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    fs::write(path, &buf).expect("write");
    match expect_open_error(tmp.path(), 1 << 20) {
        JournalError::Corrupt { offset, seq: Some(2), reason, .. } => {
            assert_eq!(offset, start as u64);
            assert!(matches!(
                reason,
                CorruptReason::BadRecordBeforeValidRecord {
                    fault: RecordFault::LengthTooLarge { .. },
                    valid_seq: 3,
                    ..
                }
            ));
        }
        other => panic!("unexpected error {other:?}"),
    }
}

#[test]
fn zeros_after_last_record_are_its_end_not_a_torn_tail() {
    // What `preallocate_bytes` writes ahead; nothing is dropped, and appends go after the
    // records, into the zeros.
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut written = single_segment_journal(tmp.path(), 3, 20);
    append_raw(tmp.path(), &[0u8; 4096]);
    let path = segment_files(tmp.path())[0].clone();
    let len = fs::metadata(&path).expect("stat").len();
    let (mut journal, report) = open(tmp.path(), 1 << 20);
    assert_eq!((report.truncated_tail, report.records, report.next_seq), (None, 3, 4));
    assert_eq!(read_all(tmp.path(), 1), written);
    written.extend(write_records(&mut journal, 2, 1, |_| 30));
    drop(journal);
    assert_eq!(fs::metadata(&path).expect("stat").len(), len, "written into the zeros");
    assert_eq!(read_all(tmp.path(), 1), written);
    let (_, report) = open(tmp.path(), 1 << 20);
    assert_eq!((report.truncated_tail, report.records), (None, 5));
}

#[test]
fn valid_checksum_with_wrong_seq_is_corrupt_not_torn() {
    let tmp = tempfile::tempdir().expect("tempdir");
    single_segment_journal(tmp.path(), 3, 20);
    let path = &segment_files(tmp.path())[0];
    // A byte-exact copy of record 2 appended where record 4 belongs: checksum fine, seq wrong.
    let (_, start, end) = record_bounds(path)[1];
    let copy = fs::read(path).expect("read")[start..end].to_vec();
    append_raw(tmp.path(), &copy);
    let err = expect_open_error(tmp.path(), 1 << 20);
    assert!(matches!(
        err,
        JournalError::Corrupt { seq: Some(4), reason: CorruptReason::UnexpectedSeq { found: 2 }, .. }
    ));
}

#[test]
fn reader_reports_torn_tail_of_an_unrecovered_journal() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let written = single_segment_journal(tmp.path(), 4, 20);
    let path = &segment_files(tmp.path())[0];
    let len = fs::metadata(path).expect("stat").len() as usize;
    truncate(path, len - 3);
    let mut reader = Journal::read_from(tmp.path(), 1).expect("reader");
    let records: Vec<_> = reader.by_ref().collect::<Result<_, _>>().expect("records");
    assert_eq!(records, written[..3]);
    assert_eq!(reader.torn_tail().map(|t| t.seq), Some(4));
}

#[test]
fn leftover_tmp_segment_and_foreign_files_are_handled() {
    let tmp = tempfile::tempdir().expect("tempdir");
    single_segment_journal(tmp.path(), 2, 20);
    let leftover = tmp.path().join("00000000000000000003.wal.tmp");
    fs::write(&leftover, b"ZKJR").expect("write");
    // A pruned segment a stop left half deleted: never read, removed.
    let pruned = tmp.path().join("00000000000000000000.wal.pruned");
    fs::write(&pruned, b"ZKJRNL01 cut short").expect("write");
    fs::write(tmp.path().join("notes.txt"), b"ignored").expect("write");
    let (_, report) = open(tmp.path(), 1 << 20);
    assert_eq!((report.removed_tmp_files, report.records), (2, 2));
    assert!(!leftover.exists() && !pruned.exists());
    fs::write(tmp.path().join("3.wal"), b"x").expect("write");
    assert!(matches!(
        expect_open_error(tmp.path(), 1 << 20),
        JournalError::Corrupt { reason: CorruptReason::BadSegmentName, .. }
    ));
}

#[test]
fn raising_max_record_bytes_moves_bigger_records_to_a_new_segment() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut cfg = config(tmp.path(), 1 << 20);
    cfg.max_record_bytes = 100;
    let (mut journal, _) = Journal::open(cfg.clone()).expect("open");
    journal.append(&[1u8; 50]).expect("append");
    journal.commit().expect("commit");
    drop(journal);
    cfg.max_record_bytes = 1000;
    let (mut journal, _) = Journal::open(cfg.clone()).expect("reopen");
    journal.append(&[2u8; 500]).expect("append");
    assert_eq!(journal.commit().expect("commit").segments_created, 1);
    drop(journal);
    let (_, report) = Journal::open(cfg).expect("reopen");
    assert_eq!((report.records, report.segments), (2, 2));
    assert_eq!(read_all(tmp.path(), 2), vec![(2, vec![2u8; 500])]);
}

#[test]
fn raising_max_record_bytes_replaces_an_empty_last_segment() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut cfg = config(tmp.path(), 1 << 20);
    cfg.max_record_bytes = 100;
    drop(Journal::open(cfg.clone()).expect("open"));
    cfg.max_record_bytes = 1000;
    let (mut journal, _) = Journal::open(cfg.clone()).expect("reopen");
    journal.append(&[2u8; 500]).expect("append");
    journal.commit().expect("commit");
    assert_eq!(journal.segment_count(), 1);
    drop(journal);
    assert_eq!(read_all(tmp.path(), 1), vec![(1, vec![2u8; 500])]);
}

#[test]
fn prune_before_deletes_only_whole_old_segments() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut journal, _) = open(tmp.path(), 300);
    let written = write_records(&mut journal, 20, 1, |_| 50);
    // A 300-byte segment holds four 66-byte records after its 32-byte header: 32 + 4 * 66 = 296.
    let segments = segment_files(tmp.path());
    let firsts: Vec<u64> = segments.iter().map(|p| record_bounds(p)[0].0).collect();
    assert_eq!(firsts, vec![1, 5, 9, 13, 17]);
    assert_eq!(journal.prune_before(4).expect("prune"), 0, "segment 1..=4 still holds seq 4");
    assert_eq!(journal.prune_before(10).expect("prune"), 2);
    assert_eq!(segment_files(tmp.path()), segments[2..]);
    // Renamed out of the journal at once, deleted by the pruning thread soon after.
    let pruned = |dir: &std::path::Path| {
        fs::read_dir(dir)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().to_string_lossy().ends_with(".wal.pruned"))
            .count()
    };
    let t0 = std::time::Instant::now();
    while pruned(tmp.path()) > 0 {
        assert!(t0.elapsed() < std::time::Duration::from_secs(10), "pruned segments were not deleted");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert_eq!(journal.first_seq(), 9);
    assert_eq!(journal.prune_before(u64::MAX).expect("prune"), 2, "the segment being written stays");
    assert_eq!(segment_files(tmp.path()), segments[4..]);
    assert_eq!(journal.append(b"after prune").expect("append"), 21);
    journal.commit().expect("commit");
    drop(journal);
    let (_, report) = open(tmp.path(), 300);
    assert_eq!((report.first_seq, report.next_seq, report.records), (17, 22, 5));
    assert_eq!(read_all(tmp.path(), 17)[..4], written[16..]);
    assert!(matches!(
        Journal::read_from(tmp.path(), 16),
        Err(JournalError::SeqNotAvailable { first_seq: 17, .. })
    ));
}

#[test]
fn segment_file_golden_bytes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut cfg = config(tmp.path(), 4096);
    cfg.max_record_bytes = 0x100;
    let (mut journal, _) = Journal::open(cfg).expect("open");
    journal.append(b"hi").expect("append");
    journal.commit().expect("commit");
    let bytes = fs::read(&segment_files(tmp.path())[0]).expect("read");
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let header = "5a4b4a524e4c3031" // magic ZKJRNL01
        .to_owned()
        + "01000000" // version 1
        + "00010000" // max_record 256
        + "0100000000000000" // first_seq 1
        + "00000000" // reserved
        + &hex[56..64]; // header crc, checked below
    let record = "02000000".to_owned() // len 2
        + &hex[72..80] // crc
        + "0100000000000000" // seq 1
        + "6869"; // "hi"
    assert_eq!(hex, header + &record);
    let header_crc = crc32fast::hash(&bytes[..28]);
    assert_eq!(&bytes[28..32], &header_crc.to_le_bytes());
    let record_crc = crc32fast::hash(&[&2u32.to_le_bytes()[..], &1u64.to_le_bytes(), b"hi"].concat());
    assert_eq!(&bytes[36..40], &record_crc.to_le_bytes());
}

/// How the bytes after the crash point look.
#[derive(Debug, Clone, Copy)]
enum CrashTail {
    /// The file ends at the crash point.
    Truncated,
    /// The file keeps its length; everything after the crash point reads as zeros.
    Zeroed,
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Whatever the final file loses at its end, recovery yields exactly a prefix of the
    /// committed records: every record that ends before the crash point, and so every record of
    /// a commit that had returned when the file was that long.
    #[test]
    fn recovery_yields_exactly_a_prefix_containing_every_commit_before_the_crash(
        sizes in prop::collection::vec(0usize..300, 1..60),
        commit_after in prop::collection::vec(any::<bool>(), 60),
        segment_bytes in prop::sample::select(vec![200u64, 1024, 1 << 20]),
        crash_fraction in 0.0f64..=1.0,
        tail in prop::sample::select(vec![CrashTail::Truncated, CrashTail::Zeroed]),
    ) {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (mut journal, _) = open(tmp.path(), segment_bytes);
        let mut written = Vec::new();
        // (last seq of the commit, length of the last segment file when it returned)
        let mut commits = Vec::new();
        for (i, &len) in sizes.iter().enumerate() {
            let seq = journal.next_seq();
            written.push((seq, payload(seq, len)));
            journal.append(&written[i].1).expect("append");
            if commit_after[i] || i + 1 == sizes.len() {
                journal.commit().expect("commit");
                let last = segment_files(tmp.path()).pop().expect("segment");
                let len_after = fs::metadata(&last).expect("stat").len();
                commits.push((seq, last, len_after));
            }
        }
        drop(journal);
        let last = segment_files(tmp.path()).pop().expect("segment");
        let file_len = fs::metadata(&last).expect("stat").len() as usize;
        let bounds = record_bounds(&last);
        let mut crash_at = HEADER + ((file_len - HEADER) as f64 * crash_fraction) as usize;
        match tail {
            CrashTail::Truncated => truncate(&last, crash_at),
            CrashTail::Zeroed => {
                let mut buf = fs::read(&last).expect("read");
                // Bytes that were zero already are not lost: the damage starts at the first
                // byte that zeroing changes.
                crash_at += buf[crash_at..].iter().take_while(|&&b| b == 0).count();
                buf[crash_at..].fill(0);
                fs::write(&last, buf).expect("write");
            }
        }
        let survivors = bounds.iter().filter(|&&(_, _, end)| end <= crash_at).count();
        let in_last = record_bounds_count_before_crash(&written, &last);
        let expected_len = written.len() - in_last + survivors;

        // Torn: what is left of a damaged record. A cut at a record boundary leaves nothing,
        // and zeros after the last whole record are the journal's end (what it writes ahead
        // with `preallocate_bytes`), not a torn tail.
        let last_end = bounds.iter().map(|&(_, _, end)| end).filter(|&end| end <= crash_at).max().unwrap_or(HEADER);
        let damaged = fs::read(&last).expect("read");
        let torn = damaged.get(last_end..).is_some_and(|rest| rest.iter().any(|&b| b != 0));
        let (mut journal, report) = open(tmp.path(), segment_bytes);
        let recovered = read_all(tmp.path(), 1);
        prop_assert_eq!(&recovered[..], &written[..expected_len]);
        prop_assert_eq!(report.next_seq, expected_len as u64 + 1);
        prop_assert_eq!(report.truncated_tail.is_some(), torn);
        for (seq, path, len_after) in &commits {
            if *path != last || *len_after <= crash_at as u64 {
                prop_assert!(recovered.len() as u64 >= *seq, "commit up to {} lost", seq);
            }
        }
        prop_assert_eq!(journal.append(b"after").expect("append"), expected_len as u64 + 1);
        journal.commit().expect("commit");
        drop(journal);
        let (_, report) = open(tmp.path(), segment_bytes);
        prop_assert_eq!(report.truncated_tail, None);
        prop_assert_eq!(report.records, expected_len as u64 + 1);
    }
}

/// Number of records that the last segment held before the crash: those with seq at or after
/// its first seq (taken from its name).
fn record_bounds_count_before_crash(written: &[(u64, Vec<u8>)], last: &Path) -> usize {
    let stem = last.file_stem().and_then(|s| s.to_str()).expect("name");
    let first_seq: u64 = stem.parse().expect("20 digits");
    written.iter().filter(|(seq, _)| *seq >= first_seq).count()
}

/// Prints commit and replay costs. Run with
/// `cargo test --release -p zkclob-node --test journal -- --ignored --nocapture`.
#[test]
#[ignore = "measurement, prints numbers"]
fn measure_commit_and_replay_costs() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let record = vec![0x5Au8; 200];
    let (mut journal, _) = open(tmp.path(), 64 << 20);
    let commits = 20_000u32;
    let (mut append_ns, mut commit_ns) = (0u128, Vec::with_capacity(commits as usize));
    for _ in 0..commits {
        let started = Instant::now();
        for _ in 0..100 {
            journal.append(&record).expect("append");
        }
        let appended = Instant::now();
        journal.commit().expect("commit");
        append_ns += (appended - started).as_nanos();
        commit_ns.push(appended.elapsed().as_nanos());
    }
    commit_ns.sort_unstable();
    println!(
        "100 x 200 B, FsyncPolicy::Never: 100 appends {} ns; commit p50 {} ns, p99 {} ns",
        append_ns / u128::from(commits),
        commit_ns[commit_ns.len() / 2],
        commit_ns[commit_ns.len() * 99 / 100]
    );
    drop(journal);

    let started = Instant::now();
    let mut count = 0u64;
    for rec in Journal::read_from(tmp.path(), 1).expect("reader") {
        let (_, payload) = rec.expect("record");
        assert_eq!(payload.len(), 200);
        count += 1;
    }
    let secs = started.elapsed().as_secs_f64();
    println!("replay: {count} records in {secs:.3} s = {:.2} M records/s", count as f64 / secs / 1e6);

    let started = Instant::now();
    let (_, report) = open(tmp.path(), 64 << 20);
    println!("open (validate {} records): {:.3} s", report.records, started.elapsed().as_secs_f64());

    let synced = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tempdir on disk");
    let (mut journal, _) = Journal::open(JournalConfig::new(synced.path())).expect("open");
    let mut fsync_ns: Vec<u64> = (0..500)
        .map(|_| {
            for _ in 0..100 {
                journal.append(&record).expect("append");
            }
            journal.commit().expect("commit").fsync_nanos
        })
        .collect();
    fsync_ns.sort_unstable();
    println!(
        "commit of 100 x 200 B, FsyncPolicy::Always, fdatasync in {:?}: p50 {} us, p99 {} us",
        synced.path(),
        fsync_ns[fsync_ns.len() / 2] / 1000,
        fsync_ns[fsync_ns.len() * 99 / 100] / 1000
    );
}

fn preallocated(dir: &Path, segment_bytes: u64, ahead: u64) -> (Journal, RecoveryReport) {
    let mut cfg = config(dir, segment_bytes);
    cfg.preallocate_bytes = ahead;
    Journal::open(cfg).expect("journal opens")
}

/// End of the last record of a segment file (the zeros after it are not records).
fn records_end(path: &Path) -> usize {
    record_bounds(path).iter().filter(|(seq, _, _)| *seq != 0).map(|&(_, _, end)| end).max().unwrap_or(HEADER)
}

#[test]
fn preallocated_journal_writes_zeros_ahead_and_reopens_without_a_torn_tail() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut journal, _) = preallocated(tmp.path(), 1 << 20, 4096);
    let mut written = write_records(&mut journal, 10, 3, |_| 50);
    let path = segment_files(tmp.path())[0].clone();
    let len = fs::metadata(&path).expect("stat").len() as usize;
    let end = records_end(&path);
    assert_eq!(end, HEADER + 10 * (REC + 50));
    assert!(len > end && len <= end + 4096, "zeros ahead: {len} {end}");
    assert!(fs::read(&path).expect("read")[end..].iter().all(|&b| b == 0));
    // Enough records to pass the zeros: the file grows by another stretch of zeros.
    written.extend(write_records(&mut journal, 100, 7, |_| 50));
    let end = records_end(&path);
    let len = fs::metadata(&path).expect("stat").len() as usize;
    assert!(len > end && len <= end + 4096, "{len} {end}");
    drop(journal);
    let (mut journal, report) = preallocated(tmp.path(), 1 << 20, 4096);
    assert_eq!((report.truncated_tail, report.records, report.next_seq), (None, 110, 111));
    written.extend(write_records(&mut journal, 5, 2, |_| 50));
    assert_eq!(read_all(tmp.path(), 1), written);
    assert_eq!(read_all(tmp.path(), 100), written[99..]);
}

#[test]
fn torn_record_before_the_zeros_is_truncated_and_the_zeros_go_with_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut journal, _) = preallocated(tmp.path(), 1 << 20, 4096);
    let written = write_records(&mut journal, 4, 2, |_| 40);
    drop(journal);
    let path = segment_files(tmp.path())[0].clone();
    let end = records_end(&path);
    // A half-written fifth record, then the zeros that were already there.
    let mut buf = fs::read(&path).expect("read");
    buf[end..end + REC + 10].copy_from_slice(&[0x5A; REC + 10]);
    fs::write(&path, &buf).expect("write");
    let mut reader = Journal::read_from(tmp.path(), 1).expect("reader");
    assert_eq!(reader.by_ref().collect::<Result<Vec<_>, _>>().expect("records"), written);
    assert_eq!(reader.torn_tail().map(|t| t.seq), Some(5));
    let (mut journal, report) = preallocated(tmp.path(), 1 << 20, 4096);
    let torn = report.truncated_tail.expect("torn tail reported");
    assert_eq!((torn.seq, torn.offset), (5, end as u64));
    assert_eq!(fs::metadata(&path).expect("stat").len() as usize, end, "cut at the last good record");
    let more = write_records(&mut journal, 3, 1, |_| 40);
    assert_eq!(read_all(tmp.path(), 1), [written, more].concat());
}

#[test]
fn sealed_segments_keep_no_zeros_and_zeros_in_one_are_corrupt() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut journal, _) = preallocated(tmp.path(), 4096, 1024);
    let written = write_records(&mut journal, 100, 4, |_| 100);
    drop(journal);
    let files = segment_files(tmp.path());
    assert!(files.len() >= 3, "{files:?}");
    for sealed in &files[..files.len() - 1] {
        let len = fs::metadata(sealed).expect("stat").len() as usize;
        assert_eq!(len, records_end(sealed), "{} ends with its last record", sealed.display());
    }
    assert_eq!(read_all(tmp.path(), 1), written);
    // Zeros after the records of a sealed segment were never written by the journal.
    let sealed = &files[0];
    let mut f = OpenOptions::new().append(true).open(sealed).expect("open");
    std::io::Write::write_all(&mut f, &[0u8; 64]).expect("append");
    drop(f);
    match expect_open_error(tmp.path(), 4096) {
        JournalError::Corrupt { reason: CorruptReason::BadRecordInSealedSegment { .. }, .. } => {}
        other => panic!("unexpected error {other:?}"),
    }
}
