//! The embedded index store (redb, `<data_dir>/index.redb`): lookups the API needs that the
//! state does not answer.
//!
//! - **Acks by (signer, nonce)**, with the command's hash (keccak-256 of its canonical bytes) in
//!   the value: a client that retries a command after a timeout gets the original acknowledgement
//!   back instead of a `nonce_reused` refusal — the signed command with its nonce is its own
//!   idempotency key. Keys cluster by account with ascending nonces, so inserts stay cheap.
//! - **Orders by client order id**: `(account, client id)` → order id, for clients that label
//!   their orders (`X-Client-Order-Id` on `POST /v1/orders`; the label travels in the journal
//!   entry, unsigned: a convenience, not an authenticated field).
//!
//! The journal is the source of truth and the index is derived from it: writes are batched on
//! the indexer thread and committed without fsync every 20 ms or so, with a durable commit about every 10 s;
//! `meta.last_seq` says how far it got. At start-up the engine re-indexes every journal record
//! after it while replaying, so a crash loses nothing the index needs.

use std::path::Path;

use std::sync::Arc;
use std::time::Duration;

use redb::{Database, Durability, ReadableDatabase, TableDefinition};
use zkclob_state::{Address, Receipt};

const ACKS: TableDefinition<&[u8; 28], &[u8]> = TableDefinition::new("acks");
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
    /// The applied signed command (`None` for anything not indexed); the index keeps the
    /// keccak-256 of its canonical bytes, computed when the entry is written.
    pub command: Option<zkclob_state::Command>,
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

/// keccak-256 of a command's canonical (borsh) bytes: what an ack is looked up by.
pub fn command_hash(command: &zkclob_state::Command) -> [u8; 32] {
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
}

impl Index {
    /// Opens or creates the store.
    pub fn open(path: &Path) -> Result<Index, IndexError> {
        let db = Database::create(path).map_err(err)?;
        let w = db.begin_write().map_err(err)?;
        {
            w.open_table(ACKS).map_err(err)?;
            w.open_table(CLIENT_ORDERS).map_err(err)?;
            w.open_table(META).map_err(err)?;
        }
        w.commit().map_err(err)?;
        Ok(Index { db: Arc::new(db) })
    }

    /// The last journal sequence number indexed (0: none).
    pub fn last_seq(&self) -> Result<u64, IndexError> {
        let r = self.db.begin_read().map_err(err)?;
        let t = r.open_table(META).map_err(err)?;
        Ok(t.get("last_seq").map_err(err)?.map(|v| v.value()).unwrap_or(0))
    }

    /// The acknowledgement of the command `account` signed with `nonce`, if it is the command
    /// whose bytes hash to `hash`.
    pub fn ack(
        &self,
        account: &Address,
        nonce: u64,
        hash: &[u8; 32],
    ) -> Result<Option<StoredAck>, IndexError> {
        let r = self.db.begin_read().map_err(err)?;
        let t = r.open_table(ACKS).map_err(err)?;
        let Some(v) = t.get(&ack_key(account, nonce)).map_err(err)? else { return Ok(None) };
        let (stored, seq, batch, receipt): ([u8; 32], u64, u64, Receipt) =
            borsh::from_slice(v.value()).map_err(err)?;
        Ok((stored == *hash).then_some(StoredAck { seq, batch, receipt }))
    }

    /// The order an account labelled `id`.
    pub fn client_order(&self, account: &Address, id: &str) -> Result<Option<u64>, IndexError> {
        let r = self.db.begin_read().map_err(err)?;
        let t = r.open_table(CLIENT_ORDERS).map_err(err)?;
        Ok(t.get(client_key(account, id).as_slice()).map_err(err)?.map(|v| v.value()))
    }

    /// Writes a group of entries (records after `last_seq` only) in one durable transaction.
    pub fn write(&self, entries: &[Indexed]) -> Result<(), IndexError> {
        let Some(last) = entries.last() else { return Ok(()) };
        let mut w = self.db.begin_write().map_err(err)?;
        w.set_durability(Durability::Immediate).map_err(err)?;
        {
            let mut acks = w.open_table(ACKS).map_err(err)?;
            let mut clients = w.open_table(CLIENT_ORDERS).map_err(err)?;
            for e in entries {
                let Some(account) = &e.account else { continue };
                // Only applied commands consume their nonce; a rejected one may be sent again.
                if let (Receipt::Applied(_), Some(c)) = (e.receipt, &e.command) {
                    let hash = command_hash(c);
                    let v = borsh::to_vec(&(hash, e.seq, e.batch, e.receipt)).map_err(err)?;
                    acks.insert(&ack_key(account, e.nonce), v.as_slice()).map_err(err)?;
                }
                if let (Some(a), Some(id), Receipt::Applied(ap)) = (&e.account, &e.client_id, &e.receipt) {
                    if let Some(o) = ap.order_id {
                        clients.insert(client_key(a, id).as_slice(), o.0).map_err(err)?;
                    }
                }
            }
            let mut meta = w.open_table(META).map_err(err)?;
            meta.insert("last_seq", last.seq).map_err(err)?;
        }
        w.commit().map_err(err)
    }

    /// Starts the indexer thread; the engine sends it each committed group. `realtime_priority`
    /// is the ack path's ([`crate::sched`]: how the thread catches up when far behind).
    pub(crate) fn start_writer(
        &self,
        realtime_priority: u8,
    ) -> (crate::sched::BackgroundSender<Vec<Indexed>>, std::thread::JoinHandle<()>) {
        let (tx, mut rx) = crate::sched::background_queue(realtime_priority);
        let index = self.clone();
        let thread = std::thread::Builder::new()
            .name("zkclob-index".into())
            .spawn(move || {
                rx.enter();
                // Few, larger transactions: lookups tolerate a lag of a few tens of ms (a racing
                // retry waits up to 200 ms for its original).
                while let Some(groups) = rx.next_pass() {
                    let pending: Vec<Indexed> = groups.into_iter().flatten().collect();
                    if let Err(e) = index.write(&pending) {
                        // The journal still has everything; start-up re-indexes.
                        tracing::error!(error = %e, "index write failed");
                    }
                    std::thread::sleep(WRITE_INTERVAL);
                }
            })
            .expect("spawning the indexer thread");
        (tx, thread)
    }
}
