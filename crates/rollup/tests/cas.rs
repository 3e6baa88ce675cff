//! The content-addressed store: CIDs equal to what `ipfs add --cid-version 1 --raw-leaves`
//! prints, round trips, and detection of tampered, oversized and foreign objects.

use std::str::FromStr;

use zkclob_rollup::blob;
use zkclob_rollup::cas::{cid_of, CasError, CasStore, Cid, MAX_OBJECT_BYTES};

#[test]
fn known_cid_vectors() {
    // `printf '' | ipfs add --cid-version 1 --raw-leaves`
    assert_eq!(cid_of(b"").to_string(), "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");
    // `echo "hello world" | ipfs add --cid-version 1 --raw-leaves`
    assert_eq!(
        cid_of(b"hello world\n").to_string(),
        "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4"
    );
    // `printf 'hello world' | ipfs add --cid-version 1 --raw-leaves`
    assert_eq!(
        cid_of(b"hello world").to_string(),
        "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
    );
}

#[test]
fn cid_bytes_are_version_codec_then_sha256_multihash() {
    use sha2::{Digest, Sha256};
    let data = b"zkclob";
    let bytes = cid_of(data).to_bytes();
    assert_eq!(&bytes[..4], &[0x01, 0x55, 0x12, 0x20]);
    assert_eq!(&bytes[4..], &Sha256::digest(data)[..]);
}

#[test]
fn blobs_round_trip_through_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = CasStore::open(dir.path().join("cas")).unwrap();
    let blobs = blob::pack(&vec![7u8; 300_000]).unwrap();
    for blob in &blobs {
        let cid = store.put(blob.as_bytes()).unwrap();
        assert!(cid.to_string().starts_with("bafkrei"));
        assert_eq!(store.path_of(&cid).file_name().unwrap().to_str().unwrap(), cid.to_string());
        assert_eq!(store.get(&cid).unwrap(), blob.as_bytes().to_vec());
        // Idempotent.
        assert_eq!(store.put(blob.as_bytes()).unwrap(), cid);
    }
    // No temporary files are left behind.
    assert_eq!(std::fs::read_dir(dir.path().join("cas")).unwrap().count(), blobs.len());
}

#[test]
fn a_tampered_file_is_detected_on_read_and_repaired_by_put() {
    let dir = tempfile::tempdir().unwrap();
    let store = CasStore::open(dir.path()).unwrap();
    let data = vec![1u8; 1_000];
    let cid = store.put(&data).unwrap();
    let mut corrupt = data.clone();
    corrupt[500] = 2;
    std::fs::write(store.path_of(&cid), &corrupt).unwrap();
    match store.get(&cid) {
        Err(CasError::Tampered { expected, actual }) => {
            assert_eq!(*expected, cid);
            assert_eq!(*actual, cid_of(&corrupt));
        }
        other => panic!("expected Tampered, got {other:?}"),
    }
    assert!(!store.contains(&cid));
    store.put(&data).unwrap();
    assert_eq!(store.get(&cid).unwrap(), data);
}

#[test]
fn a_missing_object_is_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let store = CasStore::open(dir.path()).unwrap();
    assert!(matches!(store.get(&cid_of(b"absent")), Err(CasError::NotFound(_))));
}

#[test]
fn objects_over_one_ipfs_chunk_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = CasStore::open(dir.path()).unwrap();
    assert!(store.put(&vec![0u8; MAX_OBJECT_BYTES]).is_ok());
    assert!(matches!(store.put(&vec![0u8; MAX_OBJECT_BYTES + 1]), Err(CasError::TooLarge { .. })));
    // An oversized file planted under a CID is refused on read without hashing all of it.
    let cid = cid_of(b"x");
    std::fs::write(store.path_of(&cid), vec![0u8; MAX_OBJECT_BYTES + 10]).unwrap();
    assert!(matches!(store.get(&cid), Err(CasError::TooLarge { .. })));
}

#[test]
fn cids_other_than_v1_raw_sha256_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = CasStore::open(dir.path()).unwrap();
    // A CIDv0 (dag-pb) and a CIDv1 with the dag-pb codec.
    for text in [
        "QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR",
        "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",
    ] {
        let cid = Cid::from_str(text).unwrap();
        assert!(matches!(store.get(&cid), Err(CasError::UnsupportedCid(_))), "{text}");
    }
}
