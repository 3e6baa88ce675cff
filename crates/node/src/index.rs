//! The embedded index store (redb, `<data_dir>/index.redb`): lookups the API needs that the
//! state does not answer.
//!
//! - **Acks by (signer, nonce)**: a client that retries a command after a timeout gets the
//!   original acknowledgement back instead of a `nonce_reused` refusal — the signed command
//!   with its nonce is its own idempotency key, matched by its signature (see `RunEntry`). Each
//!   write stores one *run* per account: the acks of that account's commands in the write, under
//!   `(account, first nonce)`. An account's nonces rise with every applied command, so the run
//!   that holds a nonce is the last one that starts at or below it. One B-tree insert per
//!   account per write, not one per command: the indexer's work, though on an idle-class
//!   thread, showed in the ack path's tail (20,000 commands/s: p99 2.5–2.9 ms with an insert
//!   per command, 1.0–1.2 ms with no index, and the same with its disk writes or its whole file
//!   taken away, so it was the work, not the I/O; with runs about 1.8–2.0 ms).
//! - **Orders by client order id**: `(account, client id)` → order id, for clients that label
//!   their orders (`X-Client-Order-Id` on `POST /v1/orders`; the label travels in the journal
//!   entry, unsigned: a convenience, not an authenticated field).
//!
//! The journal is the source of truth and the index is derived from it: writes are batched on
//! the indexer thread, one durable transaction every `WRITE_INTERVAL` (60 ms) or so; `meta.last_seq`
//! says how far it got. At start-up the engine re-indexes every journal record after it while
//! replaying, so a crash loses nothing the index needs. Stores written before runs keep their
//! acks in the table `acks` (one entry per command), which lookups still read.
//!
//! Lookups never wait for the writer. The engine hands each committed group over *before* it
//! answers any command of the group, and lookups read the groups handed over and not yet
//! written as well as the store. The writer runs in the idle class, and on a machine with every
//! core busy (a zkVM executing a settlement next to the node) it may get no core for seconds;
//! a retry that waited for it was answered `nonce_reused` instead of its original ack.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Mutex;

use std::sync::Arc;
use std::time::Duration;

use redb::{Database, Durability, ReadableDatabase, TableDefinition};
use zkclob_state::{Address, Receipt};

/// Acks one per command, `(account, nonce)` → ack: what stores written before [`ACK_RUNS`]
/// hold; read, no longer written.
const ACKS: TableDefinition<&[u8; 28], &[u8]> = TableDefinition::new("acks");
/// Runs of an account's acks, `(account, first nonce)` → the run ([`RunEntry`]s, borsh).
const ACK_RUNS: TableDefinition<&[u8; 28], &[u8]> = TableDefinition::new("ack_runs");
const CLIENT_ORDERS: TableDefinition<&[u8], u64> = TableDefinition::new("client_orders");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

/// Least time between two index transactions. Each is durable: redb keeps a non-durable
/// commit's pages in memory and writes them all with the next durable one, and when that was
/// every 10 s, its 100-odd megabytes reached the disk in one burst that held the journal's
/// commits back by up to 100 ms (40-second runs at 50,000/s: p99.9 56 ms; with a durable
/// transaction every 20 ms, 4.6 ms). Every 60 ms rather than 20: a fifth less CPU on this
/// thread (fewer B-tree pages rewritten per command) for the same tail (40-second runs, two
/// each: p99 2.47–2.54 against 2.55–2.73 ms; 150 ms: 2.64–2.71 ms).
const WRITE_INTERVAL: Duration = Duration::from_millis(60);

/// redb's page cache (reads, and the write buffer: at most half of it). redb's default is
/// 1 GiB, which it fills a fresh page at a time as the index grows: at 50,000 commands/s the
/// indexer thread took a thousand page faults a second, and the ack path's p99 was 2.42 ms
/// against 1.75 ms with 8 MiB (three interleaved pairs, all three better; the same at 20,000/s).
/// Lookups (retries, client order ids) are rare and may read the disk.
const CACHE: usize = 8 << 20;

/// The most acks in one run: a lookup reads its whole run.
const MAX_RUN: usize = 256;

/// One ack in a run: nonce, the command's signature, journal sequence number, batch, receipt.
///
/// The signature identifies the command: acks are looked up only for commands whose signature
/// has been checked, and two commands of one signer with the same valid signature sign the same
/// hash, so they are the same command (as RFC 6979 signatures of the same command are the same
/// signature). Comparing it costs nothing; hashing each command's bytes on the indexer thread
/// was a seventh of that thread's time.
type RunEntry = (u64, zkclob_state::Signature, u64, u64, Receipt);

/// Longest client order id, bytes.
pub const MAX_CLIENT_ID: usize = 64;

/// Whether a client order id is acceptable: 1–64 of `[A-Za-z0-9_.:-]`.
pub fn valid_client_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_CLIENT_ID
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
}

/// One journaled command, as the index records it.
#[derive(Clone, Debug)]
pub struct Indexed {
    /// Journal sequence number.
    pub seq: u64,
    /// The applied signed command's signature (`None` for anything not indexed): what tells a
    /// retry of it from another command under the same nonce.
    pub signature: Option<zkclob_state::Signature>,
    /// Its batch.
    pub batch: u64,
    /// Its receipt.
    pub receipt: Receipt,
    /// The signer (None for deposits, which are not indexed).
    pub account: Option<Address>,
    /// The signed command's nonce.
    pub nonce: u64,
    /// The client's label, if any.
    pub client_id: Option<String>,
}

/// keccak-256 of a command's canonical (borsh) bytes: what stores written before runs match
/// an ack by.
fn command_hash(command: &zkclob_state::Command) -> [u8; 32] {
    let bytes = borsh::to_vec(command).expect("writing to a Vec cannot fail");
    zkclob_state::Crypto::keccak256(&crate::crypto::FastCrypto, &bytes)
}

/// An acknowledgement found by hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoredAck {
    /// Journal sequence number.
    pub seq: u64,
    /// Batch.
    pub batch: u64,
    /// Receipt.
    pub receipt: Receipt,
}

/// Why the index failed.
#[derive(Debug, thiserror::Error)]
#[error("index store: {0}")]
pub struct IndexError(String);

fn err(e: impl std::fmt::Display) -> IndexError {
    IndexError(e.to_string())
}

fn ack_key(account: &Address, nonce: u64) -> [u8; 28] {
    let mut k = [0u8; 28];
    k[..20].copy_from_slice(&account.0);
    k[20..].copy_from_slice(&nonce.to_be_bytes());
    k
}

fn client_key(account: &Address, id: &str) -> Vec<u8> {
    let mut k = account.0.to_vec();
    k.extend_from_slice(id.as_bytes());
    k
}

/// The index: shared for reads, written by its own thread.
#[derive(Clone)]
pub struct Index {
    db: Arc<Database>,
    /// Groups the engine handed over that the writer has not committed yet, oldest first.
    unwritten: Arc<Mutex<VecDeque<Arc<Vec<Indexed>>>>>,
}

/// What the index keeps of an entry as an ack: its account and run entry. Only applied commands
/// consume their nonce; a rejected one may be sent again.
fn ack_of(e: &Indexed) -> Option<(&Address, RunEntry)> {
    match (&e.account, e.receipt, e.signature) {
        (Some(account), Receipt::Applied(_), Some(signature)) => {
            Some((account, (e.nonce, signature, e.seq, e.batch, e.receipt)))
        }
        _ => None,
    }
}

/// What the index keeps of an entry under its client order id: account, id, order id.
fn client_order_of(e: &Indexed) -> Option<(&Address, &str, u64)> {
    match (&e.account, &e.client_id, &e.receipt) {
        (Some(account), Some(id), Receipt::Applied(ap)) => ap.order_id.map(|o| (account, id.as_str(), o.0)),
        _ => None,
    }
}

impl Index {
    /// Opens or creates the store.
    pub fn open(path: &Path) -> Result<Index, IndexError> {
        let db = Database::builder().set_cache_size(CACHE).create(path).map_err(err)?;
        let w = db.begin_write().map_err(err)?;
        {
            w.open_table(ACKS).map_err(err)?;
            w.open_table(ACK_RUNS).map_err(err)?;
            w.open_table(CLIENT_ORDERS).map_err(err)?;
            w.open_table(META).map_err(err)?;
        }
        w.commit().map_err(err)?;
        Ok(Index { db: Arc::new(db), unwritten: Default::default() })
    }

    /// The groups handed over and not yet written (their handles: the lock is held only to copy
    /// them, never while they are read).
    fn unwritten(&self) -> Vec<Arc<Vec<Indexed>>> {
        self.unwritten.lock().expect("index hand-over lock").iter().cloned().collect()
    }

    /// The last journal sequence number indexed (0: none).
    pub fn last_seq(&self) -> Result<u64, IndexError> {
        let r = self.db.begin_read().map_err(err)?;
        let t = r.open_table(META).map_err(err)?;
        Ok(t.get("last_seq").map_err(err)?.map(|v| v.value()).unwrap_or(0))
    }

    /// The acknowledgement of `command`, signed by `account`, if it was journaled. `command`'s
    /// signature must have been checked: a stored ack is matched by nonce and signature.
    pub fn ack(
        &self,
        account: &Address,
        command: &zkclob_state::SignedCommand,
    ) -> Result<Option<StoredAck>, IndexError> {
        let nonce = command.nonce;
        // Handed over, not yet written (read first: the writer drops a group only once it is
        // committed, so one missed here is in the store read next).
        for group in self.unwritten() {
            let mut of_account =
                group.iter().filter(|e| e.nonce == nonce && e.account.as_ref() == Some(account));
            if let Some((_, (_, signature, seq, batch, receipt))) = of_account.find_map(ack_of) {
                return Ok((signature == command.signature).then_some(StoredAck { seq, batch, receipt }));
            }
        }
        let r = self.db.begin_read().map_err(err)?;
        // The last run of this account that starts at or below `nonce`.
        let runs = r.open_table(ACK_RUNS).map_err(err)?;
        let (lo, hi) = (ack_key(account, 0), ack_key(account, nonce));
        let mut last = runs.range::<&[u8; 28]>(&lo..=&hi).map_err(err)?;
        if let Some(entry) = last.next_back() {
            let (_, run) = entry.map_err(err)?;
            let run: Vec<RunEntry> = borsh::from_slice(run.value()).map_err(err)?;
            if let Some((_, signature, seq, batch, receipt)) = run.into_iter().find(|e| e.0 == nonce) {
                return Ok((signature == command.signature).then_some(StoredAck { seq, batch, receipt }));
            }
        }
        // Stores written before runs: by the hash of the command's bytes.
        let t = r.open_table(ACKS).map_err(err)?;
        let Some(v) = t.get(&ack_key(account, nonce)).map_err(err)? else { return Ok(None) };
        let (stored, seq, batch, receipt): ([u8; 32], u64, u64, Receipt) =
            borsh::from_slice(v.value()).map_err(err)?;
        let hash = command_hash(&zkclob_state::Command::Signed(command.clone()));
        Ok((stored == hash).then_some(StoredAck { seq, batch, receipt }))
    }

    /// The order an account labelled `id`.
    pub fn client_order(&self, account: &Address, id: &str) -> Result<Option<u64>, IndexError> {
        // The latest label wins, as in the store.
        let unwritten = self.unwritten();
        let mut latest = unwritten.iter().rev().flat_map(|g| g.iter().rev().filter_map(client_order_of));
        if let Some((_, _, order)) = latest.find(|(a, i, _)| *a == account && *i == id) {
            return Ok(Some(order));
        }
        let r = self.db.begin_read().map_err(err)?;
        let t = r.open_table(CLIENT_ORDERS).map_err(err)?;
        Ok(t.get(client_key(account, id).as_slice()).map_err(err)?.map(|v| v.value()))
    }

    /// Writes a group of entries (records after `last_seq` only) in one durable transaction.
    pub fn write(&self, entries: &[Indexed]) -> Result<(), IndexError> {
        self.write_all(entries.iter())
    }

    /// [`Index::write`] of entries in journal order, however they are held.
    fn write_all<'a>(&self, entries: impl IntoIterator<Item = &'a Indexed>) -> Result<(), IndexError> {
        let mut entries = entries.into_iter().peekable();
        if entries.peek().is_none() {
            return Ok(());
        }
        let mut last_seq = 0;
        let mut w = self.db.begin_write().map_err(err)?;
        w.set_durability(Durability::Immediate).map_err(err)?;
        {
            // Each account's applied commands, in journal order (nonces rising), in runs.
            let mut runs: std::collections::BTreeMap<Address, Vec<RunEntry>> = Default::default();
            let mut clients = w.open_table(CLIENT_ORDERS).map_err(err)?;
            for e in entries {
                last_seq = e.seq;
                if let Some((account, ack)) = ack_of(e) {
                    runs.entry(*account).or_default().push(ack);
                }
                if let Some((account, id, order)) = client_order_of(e) {
                    clients.insert(client_key(account, id).as_slice(), order).map_err(err)?;
                }
            }
            let mut table = w.open_table(ACK_RUNS).map_err(err)?;
            for (account, acks) in runs {
                for run in acks.chunks(MAX_RUN) {
                    let v = borsh::to_vec(run).map_err(err)?;
                    table.insert(&ack_key(&account, run[0].0), v.as_slice()).map_err(err)?;
                }
            }
            let mut meta = w.open_table(META).map_err(err)?;
            meta.insert("last_seq", last_seq).map_err(err)?;
        }
        w.commit().map_err(err)
    }

    /// Starts the indexer thread; the engine sends it each committed group. `realtime_priority`
    /// is the ack path's ([`crate::sched`]: how the thread catches up when far behind).
    pub(crate) fn start_writer(&self, realtime_priority: u8) -> (IndexSender, std::thread::JoinHandle<()>) {
        let (tx, mut rx) = crate::sched::background_queue::<Arc<Vec<Indexed>>>(realtime_priority);
        let index = self.clone();
        let thread = std::thread::Builder::new()
            .name("zkclob-index".into())
            .spawn(move || {
                rx.enter();
                // Few, larger transactions: lookups read what is not yet written from the
                // hand-over, so the store may lag.
                while let Some(groups) = rx.next_pass() {
                    if let Err(e) = index.write_all(groups.iter().flat_map(|g| g.iter())) {
                        // The journal still has everything; start-up re-indexes.
                        tracing::error!(error = %e, "index write failed");
                    }
                    // These are the oldest groups handed over; lookups find them in the store
                    // now (after a failed write, not until start-up re-indexes them).
                    let mut unwritten = index.unwritten.lock().expect("index hand-over lock");
                    let written = groups.len().min(unwritten.len());
                    unwritten.drain(..written);
                    drop(unwritten);
                    std::thread::sleep(WRITE_INTERVAL);
                }
            })
            .expect("spawning the indexer thread");
        (IndexSender { tx, index: self.clone() }, thread)
    }
}

/// The engine's side of the index: hands each committed group over.
pub(crate) struct IndexSender {
    tx: crate::sched::BackgroundSender<Arc<Vec<Indexed>>>,
    index: Index,
}

impl IndexSender {
    /// Hands `group` over: lookups find it from now on, and the writer writes it. Waits while
    /// the writer's queue is full (the engine's backpressure).
    pub(crate) fn send(&self, group: Vec<Indexed>) -> Result<(), ()> {
        let group = Arc::new(group);
        self.index.unwritten.lock().expect("index hand-over lock").push_back(group.clone());
        self.tx.send(group).map_err(|_| {
            self.index.unwritten.lock().expect("index hand-over lock").pop_back();
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::Keypair;
    use redb::ReadableTableMetadata;
    use zkclob_core::{Amount, AssetId, Qty};
    use zkclob_state::{Action, Applied, Command, RejectCode, SignedCommand};

    fn applied_fields() -> Applied {
        Applied { order_id: None, filled: Qty(0), resting: Qty(0), fills: 0 }
    }

    fn applied() -> Receipt {
        Receipt::Applied(applied_fields())
    }

    /// Account `a`'s command with `nonce`, journaled at `seq`.
    fn entry(keys: &[Keypair], a: usize, nonce: u64, seq: u64, receipt: Receipt) -> Indexed {
        let action = Action::Withdraw { asset: AssetId(1), amount: Amount(u128::from(seq) + 1) };
        Indexed {
            seq,
            signature: Some(signed(keys[a].sign(7, nonce, action)).signature),
            batch: seq / 10,
            receipt,
            account: Some(keys[a].address()),
            nonce,
            client_id: None,
        }
    }

    fn signed(c: Command) -> SignedCommand {
        let Command::Signed(s) = c else { unreachable!("a signed command") };
        s
    }

    /// The command `entry` made (signing is deterministic).
    fn command_of(keys: &[Keypair], a: usize, e: &Indexed) -> SignedCommand {
        let action = Action::Withdraw { asset: AssetId(1), amount: Amount(u128::from(e.seq) + 1) };
        signed(keys[a].sign(7, e.nonce, action))
    }

    fn keys(n: u8) -> Vec<Keypair> {
        (0..n).map(|i| Keypair::from_seed(&[i, 9])).collect()
    }

    fn found(index: &Index, keys: &[Keypair], a: usize, e: &Indexed) -> Option<StoredAck> {
        index.ack(e.account.as_ref().unwrap(), &command_of(keys, a, e)).unwrap()
    }

    #[test]
    fn every_applied_ack_is_found_in_its_run_across_writes() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::open(&dir.path().join("index.redb")).unwrap();
        let keys = keys(3);
        let mut all = Vec::new();
        let mut nonces = [0u64; 3];
        let mut seq = 1;
        // Three writes; accounts interleave, nonces rise with gaps, one command is rejected.
        for _ in 0..3 {
            let mut group = Vec::new();
            for k in 0..40 {
                let a = (k * 7 + seq as usize) % 3;
                nonces[a] += 1 + (k % 3) as u64;
                let receipt = if k == 13 { Receipt::Rejected(RejectCode::BadSignature) } else { applied() };
                group.push((a, entry(&keys, a, nonces[a], seq, receipt)));
                seq += 1;
            }
            index.write(&group.iter().map(|(_, e)| e.clone()).collect::<Vec<_>>()).unwrap();
            all.extend(group);
        }
        assert_eq!(index.last_seq().unwrap(), seq - 1);
        for (a, e) in &all {
            let got = found(&index, &keys, *a, e);
            if matches!(e.receipt, Receipt::Applied(_)) {
                assert_eq!(got, Some(StoredAck { seq: e.seq, batch: e.batch, receipt: e.receipt }), "{e:?}");
            } else {
                assert_eq!(got, None, "a rejected command consumed no nonce");
            }
        }
        // Another command under a stored nonce is not its ack; unused nonces have none.
        let (a, e) = &all[5];
        let other = |nonce| {
            signed(keys[*a].sign(7, nonce, Action::Withdraw { asset: AssetId(2), amount: Amount(1) }))
        };
        let addr = keys[*a].address();
        assert_eq!(index.ack(&addr, &other(e.nonce)).unwrap(), None);
        assert_eq!(index.ack(&addr, &other(0)).unwrap(), None);
        assert_eq!(index.ack(&addr, &other(nonces[*a] + 1)).unwrap(), None);
        // Nor is the same command under another account.
        assert_eq!(index.ack(&keys[(*a + 1) % 3].address(), &command_of(&keys, *a, e)).unwrap(), None);
    }

    /// Lookups read what the engine handed over before the writer writes it (here there is no
    /// writer thread at all), then find the same in the store; the latest client label wins.
    #[test]
    fn groups_handed_over_are_found_before_the_writer_writes_them_and_after() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::open(&dir.path().join("index.redb")).unwrap();
        let keys = keys(2);
        let placed = |order| {
            Receipt::Applied(Applied { order_id: Some(zkclob_core::OrderId(order)), ..applied_fields() })
        };
        let mut first = entry(&keys, 0, 1, 1, placed(7));
        first.client_id = Some("mine".into());
        let refused = entry(&keys, 1, 1, 2, Receipt::Rejected(RejectCode::BadSignature));
        let mut relabel = entry(&keys, 0, 2, 3, placed(9));
        relabel.client_id = Some("mine".into());
        let (tx, mut rx) = crate::sched::background_queue(0);
        let sender = IndexSender { tx, index: index.clone() };
        sender.send(vec![first.clone(), refused.clone()]).unwrap();
        let me = keys[0].address();
        let check = |relabelled: bool| {
            assert_eq!(found(&index, &keys, 0, &first).map(|a| a.seq), Some(1));
            assert_eq!(found(&index, &keys, 1, &refused), None);
            let want = if relabelled { 9 } else { 7 };
            assert_eq!(index.client_order(&me, "mine").unwrap(), Some(want));
            assert_eq!(index.client_order(&me, "other").unwrap(), None);
        };
        assert_eq!(index.last_seq().unwrap(), 0, "nothing written yet");
        check(false);
        sender.send(vec![relabel.clone()]).unwrap();
        check(true);
        // Written as the writer does (the first group only), then dropped from the hand-over.
        let group = rx.next_pass().unwrap();
        index.write_all(group[0].iter()).unwrap();
        index.unwritten.lock().unwrap().pop_front();
        check(true);
        index.write_all(group[1].iter()).unwrap();
        index.unwritten.lock().unwrap().pop_front();
        assert_eq!(index.last_seq().unwrap(), 3);
        check(true);
        assert_eq!(found(&index, &keys, 0, &relabel).map(|a| a.seq), Some(3));
    }

    /// The writer thread writes every group handed to it and lets go of each.
    #[test]
    fn the_writer_writes_every_group_and_lets_go_of_it() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::open(&dir.path().join("index.redb")).unwrap();
        let keys = keys(2);
        let (sender, thread) = index.start_writer(0);
        let groups: Vec<Vec<Indexed>> = (0..5u64)
            .map(|g| {
                (1..=3).map(|i| entry(&keys, (i % 2) as usize, g * 3 + i, g * 3 + i, applied())).collect()
            })
            .collect();
        for g in &groups {
            sender.send(g.clone()).unwrap();
        }
        drop(sender);
        thread.join().unwrap();
        assert!(index.unwritten.lock().unwrap().is_empty());
        assert_eq!(index.last_seq().unwrap(), 15);
        for e in groups.iter().flatten() {
            let a = keys.iter().position(|k| Some(k.address()) == e.account).unwrap();
            assert_eq!(found(&index, &keys, a, e).map(|a| a.seq), Some(e.seq), "{e:?}");
        }
    }

    #[test]
    fn a_long_run_is_split_and_every_ack_in_it_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::open(&dir.path().join("index.redb")).unwrap();
        let keys = keys(1);
        let group: Vec<Indexed> =
            (1..=(2 * MAX_RUN as u64 + 17)).map(|n| entry(&keys, 0, n, n, applied())).collect();
        index.write(&group).unwrap();
        let r = index.db.begin_read().unwrap();
        assert_eq!(r.open_table(ACK_RUNS).unwrap().len().unwrap(), 3);
        for e in &group {
            assert_eq!(found(&index, &keys, 0, e).map(|a| a.seq), Some(e.seq));
        }
    }

    #[test]
    fn acks_stored_one_per_command_by_older_versions_are_still_found() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::open(&dir.path().join("index.redb")).unwrap();
        let keys = keys(1);
        let old = entry(&keys, 0, 4, 10, applied());
        let w = index.db.begin_write().unwrap();
        {
            let mut t = w.open_table(ACKS).unwrap();
            let hash = command_hash(&Command::Signed(command_of(&keys, 0, &old)));
            let v = borsh::to_vec(&(hash, old.seq, old.batch, old.receipt)).unwrap();
            t.insert(&ack_key(&keys[0].address(), 4), v.as_slice()).unwrap();
        }
        w.commit().unwrap();
        // A newer run of the same account starts above it.
        let new = entry(&keys, 0, 5, 11, applied());
        index.write(std::slice::from_ref(&new)).unwrap();
        assert_eq!(found(&index, &keys, 0, &old).map(|a| a.seq), Some(10));
        assert_eq!(found(&index, &keys, 0, &new).map(|a| a.seq), Some(11));
        let other = signed(keys[0].sign(7, 4, Action::Withdraw { asset: AssetId(2), amount: Amount(1) }));
        assert_eq!(index.ack(&keys[0].address(), &other).unwrap(), None);
    }
}
