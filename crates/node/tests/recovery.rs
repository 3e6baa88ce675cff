//! Recovery at the engine level: restart gives the same root; a corrupt newest snapshot is
//! skipped and reported; corruption in the middle of the journal stops start-up; a journal whose
//! records were changed (with valid checksums) is caught by the roots recorded at each cut.

mod common;

use std::path::Path;
use std::sync::Arc;

use zkclob_core::{Qty, Side};
use zkclob_node::config::NodeConfig;
use zkclob_node::crypto::Keypair;
use zkclob_node::engine::{Engine, OpenError, Outcome};
use zkclob_node::entry::Entry;
use zkclob_node::journal::{FsyncPolicy, Journal, JournalConfig};
use zkclob_node::metrics::Metrics;
use zkclob_node::node;
use zkclob_state::{Action, Command};

fn config(dir: &Path) -> NodeConfig {
    let mut cfg = NodeConfig { data_dir: dir.into(), ..Default::default() };
    cfg.engine.fsync = false;
    cfg.engine.batch_max_commands = 25;
    cfg.engine.snapshot_every = 4;
    cfg
}

fn open(cfg: &NodeConfig) -> Result<Engine, anyhow::Error> {
    node::open_engine(cfg, Arc::new(Metrics::default()), None)
}

fn place(side: Side, price: i64, qty: u64) -> Action {
    common::place(1, side, price, qty)
}

/// Runs 300 commands through a started engine and stops it; returns the root it ended with.
fn populate(cfg: &NodeConfig) -> String {
    run_commands(open(cfg).unwrap());
    // After shutdown the last batch is cut: reopen to read the root.
    open(cfg).unwrap().recovery().root.clone()
}

/// Deposits both assets of market 1 for `key`, one command at a time.
fn fund(h: &zkclob_node::engine::EngineHandle, key: &Keypair) {
    for asset in [1, 3] {
        let dep = Command::Deposit {
            to: key.address(),
            asset: zkclob_core::AssetId(asset),
            amount: zkclob_core::Amount(1_000_000_000_000_000),
        };
        h.submit(dep, true).unwrap().blocking_recv().unwrap();
    }
}

/// Runs 300 commands through `engine` (started here) and stops it.
fn run_commands(engine: Engine) {
    let chain = engine.state().chain_id;
    let h = engine.start();
    let keys: Vec<Keypair> = (0..3u8).map(|i| Keypair::from_seed(&[b'r', i])).collect();
    for k in &keys {
        fund(&h, k);
    }
    let mut nonces = [0u64; 3];
    for i in 0..300u64 {
        let who = (i % 3) as usize;
        let side = if i % 2 == 0 { Side::Buy } else { Side::Sell };
        let cmd = keys[who].sign(chain, nonces[who], place(side, 2_000 + (i % 7) as i64 - 3, 1 + i % 4));
        match h.submit_checked(cmd).unwrap().blocking_recv().unwrap() {
            Outcome::Journaled { receipt: zkclob_state::Receipt::Applied(_), .. } => nonces[who] += 1,
            other => panic!("{other:?}"),
        }
    }
    h.shutdown();
}

#[test]
fn restart_recovers_the_same_root_and_a_corrupt_snapshot_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let root = populate(&cfg);
    let again = open(&cfg).unwrap();
    assert_eq!(again.recovery().root, root);
    assert!(again.recovery().snapshot_batch.is_some(), "{:?}", again.recovery());
    drop(again);
    // Corrupt the newest snapshot: the older one plus a longer replay give the same root.
    let mut snaps: Vec<_> =
        std::fs::read_dir(dir.path().join("snapshots")).unwrap().map(|e| e.unwrap().path()).collect();
    snaps.sort();
    assert!(snaps.len() >= 2, "{snaps:?}");
    let newest = snaps.last().unwrap();
    let mut bytes = std::fs::read(newest).unwrap();
    let n = bytes.len();
    bytes[n - 3] ^= 0xff;
    std::fs::write(newest, bytes).unwrap();
    let e = open(&cfg).unwrap();
    assert_eq!(e.recovery().root, root);
    assert_eq!(e.recovery().snapshots_skipped.len(), 1, "{:?}", e.recovery());
}

#[test]
fn a_flipped_byte_in_the_middle_of_the_journal_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    populate(&cfg);
    std::fs::remove_dir_all(dir.path().join("snapshots")).unwrap();
    let seg = std::fs::read_dir(dir.path().join("journal")).unwrap().next().unwrap().unwrap().path();
    let mut bytes = std::fs::read(&seg).unwrap();
    // The middle of the records (the journal writes zeros ahead of the last one).
    let records_end = bytes.iter().rposition(|&b| b != 0).unwrap() + 1;
    assert!(records_end < bytes.len(), "zeros written ahead of the last record");
    let mid = records_end / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(&seg, &bytes).unwrap();
    let err = open(&cfg).err().expect("a corrupt journal must not open").to_string();
    assert!(err.contains("offset"), "the error names the place: {err}");
}

#[test]
fn changed_records_with_valid_checksums_are_caught_by_the_recorded_roots() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    populate(&cfg);
    // Rewrite the journal with one order's quantity changed, checksums and all.
    let records: Vec<(u64, Vec<u8>)> =
        Journal::read_from(&dir.path().join("journal"), 1).unwrap().map(|r| r.unwrap()).collect();
    let forged = tempfile::tempdir().unwrap();
    std::fs::copy(dir.path().join("operator.key"), forged.path().join("operator.key")).unwrap();
    let mut jc = JournalConfig::new(forged.path().join("journal"));
    jc.fsync = FsyncPolicy::Never;
    let (mut j, _) = Journal::open(jc).unwrap();
    let mut changed = false;
    for (_, payload) in &records {
        let mut entry = Entry::decode(payload).unwrap();
        if let Entry::Command { command: Command::Signed(s), .. } = &mut entry {
            if let (false, Action::Place(p)) = (changed, &mut s.action) {
                if p.qty.0 > 1 {
                    p.qty = Qty(p.qty.0 - 1); // the signature no longer matches either
                    changed = true;
                }
            }
        }
        j.append(&entry.encode()).unwrap();
    }
    j.commit().unwrap();
    drop(j);
    assert!(changed);
    let err = open(&config(forged.path())).err().expect("a changed journal must not open");
    let text = err.to_string();
    let diverged = matches!(err.downcast_ref::<OpenError>(), Some(OpenError::Diverged { .. }));
    assert!(diverged, "replay must stop at the first cut whose root differs: {text}");
}

#[test]
fn recovery_after_snapshots_deleted_old_segments_gives_the_same_root() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let key = node::operator_key(&dir.path().join("operator.key")).unwrap();
    let mut ecfg = cfg.engine_config(key.address());
    ecfg.segment_bytes = 16 << 10; // many small segments
    ecfg.snapshot_every = 2;
    let metrics = || Arc::new(Metrics::default());
    run_commands(Engine::open(ecfg.clone(), node::genesis_commands(&cfg, &key), metrics()).unwrap());
    let journal = dir.path().join("journal");
    let segments = std::fs::read_dir(&journal).unwrap().count();
    assert!(
        Journal::read_from(&journal, 1).is_err(),
        "the first segments were deleted once snapshots covered them ({segments} left)"
    );
    let root = Engine::open(ecfg.clone(), Vec::new(), metrics()).unwrap().recovery().root.clone();
    // Without the newest snapshot, the older one and the journal after it (which pruning must
    // have kept) reach the same root.
    let mut snaps: Vec<_> =
        std::fs::read_dir(dir.path().join("snapshots")).unwrap().map(|e| e.unwrap().path()).collect();
    snaps.sort();
    assert_eq!(snaps.len(), 2, "{snaps:?}");
    std::fs::remove_file(snaps.last().unwrap()).unwrap();
    let e = Engine::open(ecfg, Vec::new(), metrics()).unwrap();
    assert!(e.recovery().replayed > 0, "{:?}", e.recovery());
    assert_eq!(e.recovery().root, root);
}

#[test]
fn a_second_process_on_the_same_data_directory_is_refused_plainly() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let first = open(&cfg).unwrap();
    let err = open(&cfg).err().expect("a second engine must not open").to_string();
    assert!(err.contains("in use by another zkclob process"), "{err}");
    drop(first);
    open(&cfg).expect("free again once the first is gone");
}

/// A group that fills several batches goes to disk in one commit, `Cut` records and all, and
/// each of those batches reaches the prover only with its `Cut` record in the journal; a restart
/// recovers the same root.
#[test]
fn batches_filled_mid_group_share_the_group_commit_and_reach_the_prover_after_it() {
    use std::sync::atomic::Ordering::Relaxed;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.engine.batch_max_commands = 10;
    cfg.engine.batch_max_ms = 60_000;
    cfg.engine.snapshot_every = 0;
    let metrics = Arc::new(Metrics::default());
    let mut engine = node::open_engine(&cfg, metrics.clone(), None).unwrap();
    let (to_prover, prover) = std::sync::mpsc::channel();
    engine.set_prover(to_prover);
    let chain = engine.state().chain_id;
    let h = engine.start();
    let key = Keypair::from_seed(b"one group");
    fund(&h, &key);
    let commits_before = metrics.commits.load(Relaxed);
    // 40 orders in one request: the deposits' batch (two commands so far) fills, then three more.
    let mut answers = Vec::new();
    let group: Vec<zkclob_node::engine::Answering> = (0..40u64)
        .map(|n| {
            let side = if n % 2 == 0 { Side::Buy } else { Side::Sell };
            let (answer, rx) = tokio::sync::oneshot::channel();
            answers.push(rx);
            zkclob_node::engine::Answering {
                command: key.sign(chain, n, place(side, 2_000 + (n % 5) as i64 - 2, 1 + n % 3)),
                signer: key.address(),
                client_id: None,
                answer,
            }
        })
        .collect();
    h.submit_answering(group);
    for rx in answers {
        assert!(matches!(rx.blocking_recv().unwrap().unwrap(), Outcome::Journaled { .. }));
    }
    assert_eq!(metrics.commits.load(Relaxed) - commits_before, 1, "one commit for the whole group");
    // The deposits' batch (the first after genesis) and the next three filled up.
    let mut next = None;
    for _ in 0..4 {
        let batch = prover.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
        let want = next.unwrap_or(batch.header.batch_number);
        assert_eq!(batch.header.batch_number, want, "batches reach the prover in order");
        next = Some(want + 1);
        let cut_on_disk = Journal::read_from(&dir.path().join("journal"), 1).unwrap().any(|r| {
            let entry = Entry::decode(&r.unwrap().1).unwrap();
            matches!(entry, Entry::Cut { batch_number, .. } if batch_number == want)
        });
        assert!(cut_on_disk, "batch {want} reached the prover before its Cut record was written");
    }
    h.shutdown();
    let root = open(&cfg).unwrap().recovery().root.clone();
    assert_eq!(open(&cfg).unwrap().recovery().root, root);
}
