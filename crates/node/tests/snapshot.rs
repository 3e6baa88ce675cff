//! Snapshot store tests: round trip, pruning, corrupt files skipped and reported, leftovers.

use std::fs;
use std::path::{Path, PathBuf};

use zkclob_node::snapshot::{SnapshotError, SnapshotMeta, SnapshotStore, SNAPSHOT_HEADER_BYTES};

fn meta_for(seq: u64, body: &[u8]) -> SnapshotMeta {
    SnapshotMeta { seq, batch_number: seq / 10, root: [seq as u8; 32], bytes: body.len() as u64 }
}

fn body_for(seq: u64) -> Vec<u8> {
    (0..100 + seq as usize).map(|i| (i as u64 * 13 + seq) as u8).collect()
}

fn write(store: &SnapshotStore, seq: u64) -> PathBuf {
    let body = body_for(seq);
    store.write(&meta_for(seq, &body), &body).expect("snapshot written")
}

fn snap_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn flip_byte(path: &Path, at: usize) {
    let mut buf = fs::read(path).expect("read");
    buf[at] ^= 0x01;
    fs::write(path, buf).expect("write");
}

#[test]
fn empty_dir_is_created_and_loads_none() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("snapshots");
    let store = SnapshotStore::new(&dir, 2).expect("store");
    assert!(dir.is_dir());
    assert_eq!(store.load_latest().expect("load"), None);
    assert!(store.list().expect("list").is_empty());
}

#[test]
fn write_then_load_round_trips_meta_and_body() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = SnapshotStore::new(tmp.path(), 2).expect("store");
    let body = body_for(1234);
    let meta = meta_for(1234, &body);
    let path = store.write(&meta, &body).expect("write");
    assert_eq!(path, tmp.path().join("snapshot-00000000000000001234.snap"));
    assert_eq!(fs::metadata(&path).expect("stat").len(), (SNAPSHOT_HEADER_BYTES + body.len()) as u64);
    let loaded = store.load_latest().expect("load").expect("a snapshot");
    assert_eq!((loaded.path, loaded.meta, loaded.body), (path, meta, body));
    assert!(loaded.skipped.is_empty());
}

#[test]
fn empty_body_round_trips() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = SnapshotStore::new(tmp.path(), 2).expect("store");
    store.write(&meta_for(1, &[]), &[]).expect("write");
    assert_eq!(store.load_latest().expect("load").expect("a snapshot").body, Vec::<u8>::new());
}

#[test]
fn keep_two_prunes_older_snapshots() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = SnapshotStore::new(tmp.path(), 2).expect("store");
    for seq in [10, 20, 30, 40] {
        write(&store, seq);
    }
    assert_eq!(
        snap_files(tmp.path()),
        ["snapshot-00000000000000000030.snap", "snapshot-00000000000000000040.snap"]
    );
    let listed: Vec<u64> = store.list().expect("list").iter().map(|(_, m)| m.seq).collect();
    assert_eq!(listed, [30, 40]);
    assert_eq!(store.load_latest().expect("load").expect("a snapshot").meta.seq, 40);
}

#[test]
fn writing_an_older_snapshot_never_deletes_it_on_the_spot() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = SnapshotStore::new(tmp.path(), 1).expect("store");
    write(&store, 50);
    let older = write(&store, 40);
    assert!(older.exists());
    assert_eq!(store.load_latest().expect("load").expect("a snapshot").meta.seq, 50);
}

#[test]
fn rewriting_the_same_seq_replaces_the_file() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = SnapshotStore::new(tmp.path(), 2).expect("store");
    write(&store, 7);
    let body = b"replacement".to_vec();
    let meta = SnapshotMeta { batch_number: 99, ..meta_for(7, &body) };
    store.write(&meta, &body).expect("write");
    let loaded = store.load_latest().expect("load").expect("a snapshot");
    assert_eq!((loaded.meta, loaded.body), (meta, body));
    assert_eq!(snap_files(tmp.path()).len(), 1);
}

#[test]
fn corrupt_newest_falls_back_to_older_and_reports_the_skip() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = SnapshotStore::new(tmp.path(), 2).expect("store");
    write(&store, 10);
    let newest = write(&store, 20);
    flip_byte(&newest, SNAPSHOT_HEADER_BYTES + 5);
    let loaded = store.load_latest().expect("load").expect("a snapshot");
    assert_eq!((loaded.meta.seq, loaded.body), (10, body_for(10)));
    assert_eq!(loaded.skipped.len(), 1);
    assert_eq!(loaded.skipped[0].0, newest);
    assert!(loaded.skipped[0].1.contains("checksum"), "{}", loaded.skipped[0].1);
}

#[test]
fn corrupt_meta_in_newest_is_skipped() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = SnapshotStore::new(tmp.path(), 2).expect("store");
    write(&store, 10);
    let newest = write(&store, 20);
    flip_byte(&newest, 30); // inside the root
    let loaded = store.load_latest().expect("load").expect("a snapshot");
    assert_eq!(loaded.meta.seq, 10);
    assert_eq!(loaded.skipped.len(), 1);
}

#[test]
fn truncated_newest_reports_a_length_mismatch() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = SnapshotStore::new(tmp.path(), 3).expect("store");
    write(&store, 10);
    let short = write(&store, 20);
    let tiny = write(&store, 30);
    let len = fs::metadata(&short).expect("stat").len();
    fs::OpenOptions::new().write(true).open(&short).expect("open").set_len(len - 1).expect("truncate");
    fs::write(&tiny, b"ZKSNAP").expect("write");
    let loaded = store.load_latest().expect("load").expect("a snapshot");
    assert_eq!(loaded.meta.seq, 10);
    let reasons: Vec<&str> = loaded.skipped.iter().map(|(_, why)| why.as_str()).collect();
    assert_eq!(loaded.skipped.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>(), [tiny, short.clone()]);
    assert!(reasons[0].contains("shorter than"), "{reasons:?}");
    assert!(reasons[1].contains("body"), "{reasons:?}");
    assert!(matches!(store.list(), Err(SnapshotError::Corrupt { .. })));
}

#[test]
fn all_snapshots_corrupt_is_an_error_not_none() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = SnapshotStore::new(tmp.path(), 2).expect("store");
    let only = write(&store, 10);
    flip_byte(&only, 0);
    match store.load_latest() {
        Err(SnapshotError::NoValidSnapshot { skipped, .. }) => {
            assert_eq!(skipped.len(), 1);
            assert!(skipped[0].1.contains("magic"), "{}", skipped[0].1);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn renamed_snapshot_with_wrong_seq_is_skipped() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = SnapshotStore::new(tmp.path(), 2).expect("store");
    write(&store, 10);
    let path = write(&store, 20);
    fs::rename(&path, tmp.path().join("snapshot-00000000000000000025.snap")).expect("rename");
    let loaded = store.load_latest().expect("load").expect("a snapshot");
    assert_eq!(loaded.meta.seq, 10);
    assert!(loaded.skipped[0].1.contains("file name"), "{}", loaded.skipped[0].1);
}

#[test]
fn tmp_leftovers_are_removed_at_open_and_ignored_later() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let leftover = tmp.path().join("snapshot-00000000000000000099.snap.tmp");
    fs::write(&leftover, b"half a snapshot").expect("write");
    fs::write(tmp.path().join("README"), b"not ours").expect("write");
    let store = SnapshotStore::new(tmp.path(), 2).expect("store");
    assert!(!leftover.exists());
    write(&store, 10);
    fs::write(&leftover, b"another crash").expect("write");
    assert_eq!(store.load_latest().expect("load").expect("a snapshot").meta.seq, 10);
    assert_eq!(store.list().expect("list").len(), 1);
    assert!(tmp.path().join("README").exists());
}

#[test]
fn invalid_arguments_are_rejected() {
    let tmp = tempfile::tempdir().expect("tempdir");
    assert!(matches!(SnapshotStore::new(tmp.path(), 0), Err(SnapshotError::InvalidKeep { keep: 0 })));
    let store = SnapshotStore::new(tmp.path(), 2).expect("store");
    let meta = SnapshotMeta { bytes: 3, ..meta_for(1, b"") };
    assert!(matches!(
        store.write(&meta, b"four"),
        Err(SnapshotError::BodyLengthMismatch { meta_bytes: 3, body_bytes: 4 })
    ));
    assert!(snap_files(tmp.path()).is_empty());
}

#[test]
fn snapshot_file_golden_bytes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = SnapshotStore::new(tmp.path(), 2).expect("store");
    let meta = SnapshotMeta { seq: 0x0102, batch_number: 3, root: [0xAB; 32], bytes: 2 };
    let path = store.write(&meta, b"ok").expect("write");
    let bytes = fs::read(path).expect("read");
    let mut expected = b"ZKSNAP01".to_vec();
    expected.extend_from_slice(&1u32.to_le_bytes());
    expected.extend_from_slice(&0x0102u64.to_le_bytes());
    expected.extend_from_slice(&3u64.to_le_bytes());
    expected.extend_from_slice(&[0xAB; 32]);
    expected.extend_from_slice(&2u64.to_le_bytes());
    let crc = crc32fast::hash(&[&expected[8..], b"ok"].concat());
    expected.extend_from_slice(&crc.to_le_bytes());
    expected.extend_from_slice(b"ok");
    assert_eq!(bytes, expected);
}
