//! The engine thread: the single writer of the exchange state.
//!
//! Requests arrive on a bounded queue ([`EngineHandle::submit`] fails fast with
//! [`SubmitError::Overloaded`] when it is full: backpressure instead of unbounded memory). The
//! thread takes a *group* of queued requests at a time and, for each command:
//!
//! 1. refuses it without journaling if it cannot be valid (bad signature, unknown account, wrong
//!    nonce — exactly the checks the transition would make first, so the state would have
//!    rejected it with the same code and changed nothing);
//! 2. opens a batch if none is open (a [`Entry::BatchOpen`] with the node's clock as the batch
//!    time: data in the journal, never a clock read inside the transition);
//! 3. applies it to the state ([`ExchangeState::apply`], the code the zkVM guests run) and
//!    appends it to the journal.
//!
//! Then it commits the journal once for the whole group (one write and one `fdatasync`) and
//! only then answers the submitters and publishes events (order updates, trades, depth diffs):
//! nothing leaves the node before it is durable. A failed commit aborts the process: the
//! in-memory state is ahead of the disk, and recovery from the journal is the only safe path.
//!
//! Every `batch_max_commands` commands or `batch_max_ms` milliseconds the open batch is cut: the
//! commitment is updated, a [`Entry::Cut`] with the new root is journaled, and once a commit has
//! made that record durable the batch is announced and goes to the prover queue. A batch filled
//! in the middle of a group has its `Cut` record committed with the group (no commit of its
//! own); one cut by time is committed at once. Every `snapshot_every` batches a snapshot is
//! written and journal segments before the older kept snapshot are deleted.
//!
//! **Recovery** ([`Engine::open`]): the latest valid snapshot, then every journal record after
//! it — the same `apply` calls in the same order, checking each cut's recorded root. A replay
//! that reaches another root stops start-up with an error.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use tokio::sync::{broadcast, oneshot};
use zkclob_book::Event;
use zkclob_core::{MarketId, Timestamp};
use zkclob_state::merkle::Sha256Hasher;
use zkclob_state::{
    Action, Address, BatchHeader, Command, ExchangeState, Receipt, RejectCode, StateCommitment, StateSnapshot,
};

use crate::audit::{AuditCommand, AuditRecord};
use crate::crypto::{verify_command, Verdict};
use crate::entry::{Entry, L1Take, ENTRY_VERSION};
use crate::index::{Index, Indexed};
use crate::journal::{FsyncPolicy, Journal, JournalConfig, JournalError, RecoveryReport};
use crate::market_data::{side_str, Bbo, Changes, DepthDiff, MarketData, Trade};
use crate::metrics::Metrics;
use crate::snapshot::{SnapshotMeta, SnapshotStore};

/// Engine settings (the node's config carries them).
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Data directory: `journal/`, `snapshots/`.
    pub data_dir: PathBuf,
    /// Chain id of a new exchange (an existing one keeps its own; a mismatch is an error).
    pub chain_id: u64,
    /// Operator of a new exchange.
    pub operator: Address,
    /// Cut a batch after this many commands.
    pub batch_max_commands: usize,
    /// Cut a batch this long after it opened.
    pub batch_max_ms: u64,
    /// Requests the queue holds before refusing more.
    pub queue_capacity: usize,
    /// Most requests handled per group commit.
    pub max_group: usize,
    /// fdatasync on every group commit. Off only for tests and throwaway runs.
    pub fsync: bool,
    /// The shortest time between two group commits: a group that is ready sooner waits (up to
    /// this, from the previous commit) for more requests to share its fdatasync. Each
    /// fdatasync costs CPU as well as time (about 60 µs of it on this machine's virtual disk),
    /// so back-to-back commits of a few commands each spend a good part of a core on them.
    pub group_commit_min: Duration,
    /// Journal segment size.
    pub segment_bytes: u64,
    /// Zeros the journal writes ahead of its last record ([`JournalConfig::preallocate_bytes`]):
    /// a group commit's `fdatasync` then changes no file size.
    pub preallocate_bytes: u64,
    /// Real-time priority (`SCHED_RR`, 1..=99) of the engine thread and the other threads an
    /// acknowledgement waits for ([`crate::sched`]); 0: ordinary threads.
    pub realtime_priority: u8,
    /// Write a snapshot every this many batches (0: never, except at shutdown).
    pub snapshot_every: u64,
    /// Depth levels per side in market data.
    pub depth_levels: usize,
    /// Trades kept per market for queries.
    pub trade_history: usize,
    /// Cut batches kept for status queries.
    pub batch_history: usize,
    /// Broadcast buffer of updates; a subscriber further behind is told it lagged.
    pub update_buffer: usize,
    /// Create a new exchange when the directory holds none (off for offline tools).
    pub create_if_missing: bool,
    /// Write the audit log (`audit/`).
    pub audit: bool,
}

impl EngineConfig {
    /// Defaults for a data directory.
    pub fn new(data_dir: impl Into<PathBuf>, chain_id: u64, operator: Address) -> EngineConfig {
        EngineConfig {
            data_dir: data_dir.into(),
            chain_id,
            operator,
            batch_max_commands: 1_000,
            batch_max_ms: 200,
            queue_capacity: 65_536,
            max_group: 4_096,
            fsync: true,
            group_commit_min: Duration::ZERO,
            segment_bytes: 64 << 20,
            preallocate_bytes: 256 << 10,
            realtime_priority: 0,
            snapshot_every: 100,
            depth_levels: 20,
            trade_history: 1_000,
            batch_history: 1_000,
            update_buffer: 16_384,
            create_if_missing: true,
            audit: true,
        }
    }
}

/// Why the engine could not start.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The journal cannot be read or is corrupt.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// A snapshot cannot be read or written.
    #[error("snapshot: {0}")]
    Snapshot(String),
    /// A journal record does not decode.
    #[error("journal record {seq} does not decode: {reason}")]
    Undecodable {
        /// Its sequence number.
        seq: u64,
        /// The decoder's message.
        reason: String,
    },
    /// Replay reached a different root than the journal recorded.
    #[error(
        "replay diverged at batch {batch}: the journal recorded root {recorded}, replay computed {computed}"
    )]
    Diverged {
        /// The batch.
        batch: u64,
        /// Hex.
        recorded: String,
        /// Hex.
        computed: String,
    },
    /// The journal's records do not fit together (a batch opened twice, a command outside a
    /// batch, a header the state refuses, records missing after a snapshot, ...).
    #[error("journal inconsistent at record {seq}: {reason}")]
    Inconsistent {
        /// The record.
        seq: u64,
        /// What is wrong.
        reason: String,
    },
    /// The existing exchange was created with another chain id or operator than configured.
    #[error("the data directory holds chain {found_chain} (operator {found_operator}), not the configured chain {chain} (operator {operator})")]
    WrongChain {
        /// Found.
        found_chain: u64,
        /// Found.
        found_operator: Address,
        /// Configured.
        chain: u64,
        /// Configured.
        operator: Address,
    },
    /// Another process (a running node, `zkclob state-root`) holds the data directory.
    #[error("{dir} is in use by another zkclob process (a running node?); stop it first")]
    Locked {
        /// The data directory.
        dir: PathBuf,
    },
    /// A directory cannot be created.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// What the node answers to a submitted command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Journaled (durable) and applied; the receipt may still be a rejection, which changed
    /// nothing.
    Journaled {
        /// Its journal sequence number.
        seq: u64,
        /// The batch it belongs to.
        batch: u64,
        /// What it did.
        receipt: Receipt,
    },
    /// Refused before journaling; it changed nothing and is in no batch.
    Refused(RejectCode),
}

/// Why a request did not reach the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// The queue is full: retry later.
    #[error("the engine queue is full; retry later")]
    Overloaded,
    /// The engine has stopped.
    #[error("the engine has stopped")]
    Stopped,
}

/// A change published to subscribers after it is durable.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "channel", rename_all = "snake_case")]
pub enum Update {
    /// Depth diff.
    Depth(DepthDiff),
    /// Trade.
    Trade(Trade),
    /// Best bid/offer.
    Bbo(Bbo),
    /// An order event of an account.
    Order(OrderUpdate),
    /// A batch was cut.
    Batch(BatchInfo),
}

/// One event of one order, for its owner.
#[derive(Clone, Debug, Serialize)]
pub struct OrderUpdate {
    /// The owner.
    #[serde(serialize_with = "ser_address")]
    pub account: Address,
    /// The market.
    pub market: u32,
    /// The order.
    pub order_id: u64,
    /// accepted, fill, cancelled, expired, amended, done, rejected.
    pub event: &'static str,
    /// Price (accepted, fill, amended).
    pub price: Option<i64>,
    /// Quantity of this event (accepted: total; fill: traded; cancelled: cancelled).
    pub qty: Option<u64>,
    /// What remains live, when known.
    pub remaining: Option<u64>,
    /// Side of the order, when known.
    pub side: Option<&'static str>,
    /// The batch.
    pub batch: u64,
}

fn ser_address<S: serde::Serializer>(a: &Address, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&a.to_string())
}

fn hex32(h: &[u8; 32]) -> String {
    format!("0x{}", hex::encode(h))
}

/// A cut batch, as the status API shows it.
#[derive(Clone, Debug, Serialize)]
pub struct BatchInfo {
    /// Number.
    pub batch: u64,
    /// Commands in it.
    pub commands: u32,
    /// Batch time, ns.
    pub timestamp_ns: u64,
    /// Root before.
    pub prev_root: String,
    /// Root after.
    pub root: String,
    /// Prover status: "pending", "not sent to a prover", or the prover's result.
    pub proof: String,
    /// The batch's EIP-4844 blobs, once packed (with `rollup.blobs`).
    pub blobs: Vec<BlobRef>,
    /// L1 mode: deposits and forced commands the batch took from the L1 queues.
    pub l1_taken: [u32; 2],
    /// L1 status: "L1 off", "proposing", "proposed in block …", "settled in block …", or what
    /// failed.
    pub l1: String,
}

/// One blob of a batch.
#[derive(Clone, Debug, Serialize)]
pub struct BlobRef {
    /// EIP-4844 versioned hash, hex.
    pub versioned_hash: String,
    /// CIDv1 (raw, sha2-256) of the blob in the backup store.
    pub cid: String,
}

/// A cut batch on its way to the prover.
#[derive(Clone, Debug)]
pub struct CutBatch {
    /// Header.
    pub header: BatchHeader,
    /// Commands, in order.
    pub commands: Vec<Command>,
    /// The node's post-root.
    pub post_root: [u8; 32],
    /// How many of `commands` came from the L1 queues (they come first; the blobs carry the
    /// rest).
    pub l1_commands: usize,
    /// L1 mode: the queue counts the batch consumes up to (deposits, forced commands), what
    /// its proposal names.
    pub l1_up_to: Option<(u64, u64)>,
}

impl CutBatch {
    /// The commands the batch's blobs carry: its own, after the L1 ones.
    pub fn own_commands(&self) -> &[Command] {
        &self.commands[self.l1_commands.min(self.commands.len())..]
    }
}

/// Where an engine in L1 mode takes the rollup's queue entries from (the node's L1 bridge).
pub trait L1Queues: Send {
    /// Every entry queued after the first `deposits_from` deposits and `forced_from` forced
    /// commands.
    fn take(&self, deposits_from: u64, forced_from: u64) -> L1Take;
    /// Whether any entry is queued past those counts.
    fn pending(&self, deposits_from: u64, forced_from: u64) -> bool;
}

/// Journal records replayed together at start-up (their signatures are checked together).
const REPLAY_CHUNK: usize = 256;

/// Where a submitted command's outcome goes.
enum Reply {
    /// A channel of outcomes ([`EngineHandle::submit`]).
    Outcome(oneshot::Sender<Outcome>),
    /// A channel that also carries the API's refusals ([`EngineHandle::submit_answering`]), so
    /// that a command checked off the API's threads needs one channel and one wake-up.
    Answer(oneshot::Sender<Result<Outcome, crate::api::ApiError>>),
}

impl Reply {
    /// Answers; a submitter that went away needs no answer.
    fn send(self, out: Outcome) {
        match self {
            Reply::Outcome(tx) => {
                let _ = tx.send(out);
            }
            Reply::Answer(tx) => {
                let _ = tx.send(Ok(out));
            }
        }
    }
}
type ReadFn = Box<dyn FnOnce(&Engine) + Send>;

// Submissions are nearly all requests; boxing them would add an allocation to each.
#[allow(clippy::large_enum_variant)]
enum Request {
    Submit(Submission),
    /// Several submissions with one hand-over (the signature checker's groups), in order.
    SubmitMany(Vec<Submission>),
    Read(ReadFn),
    Cut(oneshot::Sender<Option<u64>>),
    Configure {
        batch_max_commands: usize,
        batch_max_ms: u64,
        reply: oneshot::Sender<()>,
    },
    ProofStatus {
        batch: u64,
        status: String,
    },
    L1Status {
        batch: u64,
        status: String,
    },
    Blobs {
        batch: u64,
        blobs: Vec<BlobRef>,
    },
    Shutdown(oneshot::Sender<()>),
}

/// A command whose signature passed, for [`EngineHandle::submit_answering`].
pub struct Answering {
    /// The command.
    pub command: Command,
    /// Its signer's address (derived once, at the API).
    pub signer: Address,
    /// The client's label for a new order.
    pub client_id: Option<String>,
    /// Where the outcome (or the API's refusal) goes.
    pub answer: oneshot::Sender<Result<Outcome, crate::api::ApiError>>,
}

/// A command for the engine and where its outcome goes.
pub(crate) struct Submission {
    command: Command,
    verified: bool,
    received_ns: u64,
    client_id: Option<String>,
    reply: Reply,
    /// The account it acts for, where the submitter derived it already.
    account: Option<Address>,
}

impl Request {
    /// Commands it carries (for the queue-depth gauge).
    fn commands(&self) -> u64 {
        match self {
            Request::Submit(_) => 1,
            Request::SubmitMany(list) => list.len() as u64,
            _ => 0,
        }
    }
}

struct OpenBatch {
    header: BatchHeader,
    commands: Vec<Command>,
    opened: Instant,
    /// The first `l1_commands` commands came from an [`Entry::L1Take`].
    l1_commands: usize,
    l1_taken: [u32; 2],
}

/// The exchange state and everything the engine thread owns.
pub struct Engine {
    cfg: EngineConfig,
    state: ExchangeState,
    commitment: StateCommitment<Sha256Hasher>,
    journal: Journal,
    snapshots: SnapshotStore,
    root: [u8; 32],
    open: Option<OpenBatch>,
    md: MarketData,
    metrics: Arc<Metrics>,
    updates: broadcast::Sender<Arc<Vec<Update>>>,
    batches: VecDeque<BatchInfo>,
    prover: Option<std::sync::mpsc::Sender<CutBatch>>,
    publisher: Option<std::sync::mpsc::Sender<CutBatch>>,
    /// L1 mode: the rollup queues, and how far batches took them (deposits, forced commands).
    l1: Option<Box<dyn L1Queues>>,
    l1_cursor: (u64, u64),
    events: Vec<(MarketId, Event)>,
    fills: std::collections::BTreeMap<Address, VecDeque<FillRecord>>,
    /// Held while the engine lives: the data directory's lock.
    _lock: std::fs::File,
    index: Option<crate::index::IndexSender>,
    index_thread: Option<std::thread::JoinHandle<()>>,
    to_index: Vec<Indexed>,
    order_subscribers: Arc<std::sync::atomic::AtomicI64>,
    audit: Option<crate::sched::BackgroundSender<AuditRecord>>,
    audit_thread: Option<std::thread::JoinHandle<()>>,
    audit_pending: AuditRecord,
    recovery: Recovery,
    /// Batches cut whose `Cut` record is journaled but not yet committed: they are announced
    /// and handed on ([`Engine::publish_cuts`]) after the next commit.
    cuts_pending: Vec<(BatchInfo, CutBatch)>,
}

/// Takes the data directory's exclusive lock (`<dir>/LOCK`); it is released when the returned
/// file is dropped or the process ends, even when killed.
pub fn lock_data_dir(dir: &Path) -> Result<std::fs::File, OpenError> {
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let path = dir.join("LOCK");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io_err(&path))?;
    match lock.try_lock() {
        Ok(()) => Ok(lock),
        Err(std::fs::TryLockError::WouldBlock) => Err(OpenError::Locked { dir: dir.to_path_buf() }),
        Err(std::fs::TryLockError::Error(e)) => Err(io_err(&path)(e)),
    }
}

/// The account a command acts for: the signer's address, or a deposit's recipient.
fn command_account(command: &Command) -> Address {
    match command {
        Command::Deposit { to, .. } => *to,
        Command::Signed(c) => zkclob_state::Crypto::address_of(&crate::crypto::FastCrypto, &c.signer),
    }
}

/// The index entry of a journaled command.
fn indexed(
    seq: u64,
    command: &Command,
    signer: Address,
    batch: u64,
    receipt: Receipt,
    client_id: Option<String>,
) -> Indexed {
    let (account, nonce, signature) = match command {
        Command::Signed(s) if matches!(receipt, Receipt::Applied(_)) => {
            (Some(signer), s.nonce, Some(s.signature))
        }
        // Deposits and rejections are not indexed: nothing to look up.
        _ => (None, 0, None),
    };
    Indexed { seq, signature, batch, receipt, account, nonce, client_id }
}

/// One fill of one account, for the fills query.
#[derive(Clone, Debug, Serialize)]
pub struct FillRecord {
    /// The market.
    pub market: u32,
    /// The account's order.
    pub order_id: u64,
    /// The account's side.
    pub side: &'static str,
    /// maker or taker.
    pub role: &'static str,
    /// Price.
    pub price: i64,
    /// Lots.
    pub qty: u64,
    /// The batch.
    pub batch: u64,
}

/// Fills kept per account for queries (the newest).
pub const FILLS_PER_ACCOUNT: usize = 1_000;

/// What start-up found and did.
#[derive(Clone, Debug, Serialize)]
pub struct Recovery {
    /// Batch number of the snapshot loaded, if any.
    pub snapshot_batch: Option<u64>,
    /// Snapshots skipped as corrupt, with why.
    pub snapshots_skipped: Vec<String>,
    /// Journal records replayed.
    pub replayed: u64,
    /// A torn tail the journal truncated, described.
    pub torn_tail: Option<String>,
    /// Whether a new exchange was created.
    pub created: bool,
    /// The state root after recovery (of the state including an open batch's commands).
    pub root: String,
    /// Start-up time, ms.
    pub millis: u64,
}

fn now_ns() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> OpenError + '_ {
    move |source| OpenError::Io { path: path.to_path_buf(), source }
}

impl Engine {
    /// Opens (or creates) the exchange in `cfg.data_dir`: loads the latest snapshot, replays the
    /// journal, and positions for new commands. `genesis` are the operator commands a *new*
    /// exchange starts with (its markets), applied as its first batch.
    pub fn open(
        cfg: EngineConfig,
        genesis: Vec<Command>,
        metrics: Arc<Metrics>,
    ) -> Result<Engine, OpenError> {
        Engine::open_indexed(cfg, genesis, metrics, None)
    }

    /// [`Engine::open`], re-indexing into `index` every replayed command it has not seen, and
    /// indexing every new command from then on.
    pub fn open_indexed(
        cfg: EngineConfig,
        genesis: Vec<Command>,
        metrics: Arc<Metrics>,
        index: Option<&Index>,
    ) -> Result<Engine, OpenError> {
        let t0 = Instant::now();
        // One process per data directory: two writers would interleave the journal, and a reader
        // would truncate a live tail as torn. The lock goes when the process does, even killed.
        let lock = lock_data_dir(&cfg.data_dir)?;
        let jdir = cfg.data_dir.join("journal");
        let sdir = cfg.data_dir.join("snapshots");
        std::fs::create_dir_all(&jdir).map_err(io_err(&jdir))?;
        let snapshots = SnapshotStore::new(&sdir, 2).map_err(|e| OpenError::Snapshot(e.to_string()))?;
        let loaded = snapshots.load_latest().map_err(|e| OpenError::Snapshot(e.to_string()))?;
        let mut recovery = Recovery {
            snapshot_batch: None,
            snapshots_skipped: Vec::new(),
            replayed: 0,
            torn_tail: None,
            created: false,
            root: String::new(),
            millis: 0,
        };
        let mut state: Option<ExchangeState> = None;
        let mut from = 1;
        let mut expected_root = None;
        if let Some(l) = loaded {
            recovery.snapshots_skipped =
                l.skipped.iter().map(|(p, why)| format!("{}: {why}", p.display())).collect();
            let snap: StateSnapshot = borsh::from_slice(&l.body)
                .map_err(|e| OpenError::Snapshot(format!("snapshot body does not decode: {e}")))?;
            let s = ExchangeState::restore(&snap)
                .map_err(|e| OpenError::Snapshot(format!("snapshot is inconsistent: {e}")))?;
            recovery.snapshot_batch = Some(l.meta.batch_number);
            from = l.meta.seq;
            expected_root = Some(l.meta.root);
            state = Some(s);
        }
        let mut jcfg = JournalConfig::new(&jdir);
        jcfg.segment_bytes = cfg.segment_bytes;
        jcfg.preallocate_bytes = cfg.preallocate_bytes;
        jcfg.fsync = if cfg.fsync { FsyncPolicy::Always } else { FsyncPolicy::Never };
        // A journal created afresh next to a snapshot continues the snapshot's numbering.
        jcfg.first_seq = from;
        let (journal, report): (Journal, RecoveryReport) = Journal::open(jcfg)?;
        recovery.torn_tail = report.truncated_tail.as_ref().map(|t| t.to_string());
        let mut engine_state = Replay::new(state, expected_root, &cfg)?;
        let index_from = match index {
            Some(i) => i.last_seq().map_err(|e| OpenError::Snapshot(e.to_string()))? + 1,
            None => u64::MAX,
        };
        engine_state.index_from = index_from;
        let mut next = from;
        // Records are replayed in chunks so that their signatures can be checked together.
        let mut chunk: Vec<(u64, Entry)> = Vec::with_capacity(REPLAY_CHUNK);
        for rec in Journal::read_from(&jdir, from)? {
            let (seq, payload) = rec?;
            if seq != next {
                return Err(OpenError::Inconsistent {
                    seq,
                    reason: format!(
                        "expected record {next}: records between the snapshot and the journal are missing"
                    ),
                });
            }
            next += 1;
            let entry =
                Entry::decode(&payload).map_err(|e| OpenError::Undecodable { seq, reason: e.to_string() })?;
            chunk.push((seq, entry));
            if chunk.len() == REPLAY_CHUNK {
                recovery.replayed += engine_state.apply_chunk(&mut chunk)?;
            }
        }
        recovery.replayed += engine_state.apply_chunk(&mut chunk)?;
        if next == from && from > 1 && journal.next_seq() < from {
            return Err(OpenError::Inconsistent {
                seq: journal.next_seq(),
                reason: format!("the snapshot covers records up to {from} but the journal ends before them"),
            });
        }
        if let Some(i) = index {
            i.write(&engine_state.reindexed).map_err(|e| OpenError::Snapshot(e.to_string()))?;
        }
        let (state, commitment, root, open) = match engine_state.finish()? {
            Some(x) => x,
            None if !cfg.create_if_missing => {
                return Err(OpenError::Inconsistent {
                    seq: 0,
                    reason: format!(
                        "{} holds no exchange (no snapshot, no genesis record)",
                        cfg.data_dir.display()
                    ),
                })
            }
            None => {
                // A new exchange.
                let mut s = ExchangeState::new(cfg.chain_id, cfg.operator);
                let c = StateCommitment::build(Sha256Hasher, &mut s)
                    .map_err(|e| OpenError::Inconsistent { seq: 0, reason: format!("commitment: {e:?}") })?;
                let root = c.root();
                recovery.created = true;
                (s, c, root, None)
            }
        };
        if state.chain_id != cfg.chain_id || state.operator != cfg.operator {
            return Err(OpenError::WrongChain {
                found_chain: state.chain_id,
                found_operator: state.operator,
                chain: cfg.chain_id,
                operator: cfg.operator,
            });
        }
        let (updates, _) = broadcast::channel(cfg.update_buffer.max(16));
        let mut engine = Engine {
            md: MarketData::new(cfg.depth_levels, cfg.trade_history),
            cfg,
            state,
            commitment,
            journal,
            snapshots,
            root,
            open,
            metrics,
            updates,
            batches: VecDeque::new(),
            prover: None,
            publisher: None,
            l1: None,
            l1_cursor: (0, 0),
            events: Vec::new(),
            fills: std::collections::BTreeMap::new(),
            _lock: lock,
            index: None,
            index_thread: None,
            to_index: Vec::new(),
            order_subscribers: Arc::new(std::sync::atomic::AtomicI64::new(0)),
            audit: None,
            audit_thread: None,
            audit_pending: AuditRecord::default(),
            recovery,
            cuts_pending: Vec::new(),
        };
        engine.state.record_events(true);
        if engine.cfg.audit && engine.cfg.create_if_missing {
            let dir = engine.cfg.data_dir.join("audit");
            let (tx, thread) =
                crate::audit::start(&dir, engine.cfg.realtime_priority).map_err(io_err(&dir))?;
            engine.audit = Some(tx);
            engine.audit_thread = Some(thread);
        }
        if let Some(i) = index {
            let (tx, thread) = i.start_writer(engine.cfg.realtime_priority);
            engine.index = Some(tx);
            engine.index_thread = Some(thread);
        }
        if engine.recovery.created {
            let genesis_entry = Entry::Genesis {
                version: ENTRY_VERSION,
                chain_id: engine.cfg.chain_id,
                operator: engine.cfg.operator,
            };
            engine.append(&genesis_entry);
            for c in genesis {
                let verified = verify_command(engine.cfg.chain_id, &c);
                let out = engine.submit_one(c, verified, now_ns(), None, None);
                if !matches!(out, Outcome::Journaled { receipt: Receipt::Applied(_), .. }) {
                    return Err(OpenError::Inconsistent {
                        seq: 0,
                        reason: format!("a genesis command was not applied: {out:?}"),
                    });
                }
            }
            engine.commit();
            if engine.open.is_some() {
                engine.cut();
            }
        }
        // Market data starts from the recovered books.
        let mut changes = Changes::default();
        engine.state.drain_events(&mut engine.events);
        engine.events.clear();
        engine.md.refresh(engine.state.markets().map(|m| (m.spec.market_id, &m.book)), &mut changes);
        engine.metrics.batch_number.store(engine.state.batch_number, Relaxed);
        engine.recovery.root = hex32(&engine.current_root());
        engine.recovery.millis = t0.elapsed().as_millis() as u64;
        Ok(engine)
    }

    /// What start-up found.
    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }

    /// The state.
    pub fn state(&self) -> &ExchangeState {
        &self.state
    }

    /// Market data.
    pub fn market_data(&self) -> &MarketData {
        &self.md
    }

    /// The last cut batches, oldest first.
    pub fn batches(&self) -> impl Iterator<Item = &BatchInfo> {
        self.batches.iter()
    }

    /// The newest fills of an account, newest last (fills since this node started; the full
    /// history is in the journal).
    pub fn fills_of(&self, who: &Address, limit: usize) -> Vec<FillRecord> {
        self.fills.get(who).map(|d| d.iter().rev().take(limit).rev().cloned().collect()).unwrap_or_default()
    }

    /// The root of the last cut batch.
    pub fn cut_root(&self) -> [u8; 32] {
        self.root
    }

    /// The root of the current state, including an open batch's commands (computed; does not
    /// cut).
    pub fn current_root(&mut self) -> [u8; 32] {
        if self.open.is_none() {
            return self.root;
        }
        let mut copy = self.state.clone();
        StateCommitment::build(Sha256Hasher, &mut copy).map(|c| c.root()).unwrap_or([0; 32])
    }

    /// Cuts the open batch, if any (the node does this after recovery so that the prover starts
    /// from a batch boundary).
    pub fn cut_open_batch(&mut self) -> Option<u64> {
        self.cut()
    }

    /// The state's commitment (its tree proves witnesses).
    pub fn commitment(&self) -> &StateCommitment<Sha256Hasher> {
        &self.commitment
    }

    /// Sends a copy of every cut batch to the blob publisher from now on.
    pub fn set_publisher(&mut self, tx: std::sync::mpsc::Sender<CutBatch>) {
        self.publisher = Some(tx);
    }

    /// L1 mode from now on: each new batch first takes the entries queued in `queues` past
    /// `cursor` (deposits, forced commands taken so far), and deposits are refused from anywhere
    /// else.
    pub fn set_l1(&mut self, queues: Box<dyn L1Queues>, cursor: (u64, u64)) {
        self.l1 = Some(queues);
        self.l1_cursor = cursor;
    }

    /// The cut batches numbered above `after`, rebuilt from the journal (what a restarted node
    /// re-proposes), with the L1 cursor after each; `cursor` is the cursor after batch `after`.
    /// Fails if the journal no longer holds batch `after + 1` (pruned after a snapshot).
    pub fn batches_after(
        &mut self,
        after: u64,
        cursor: (u64, u64),
    ) -> Result<(Vec<CutBatch>, (u64, u64)), String> {
        self.commit();
        let last = self.state.batch_number;
        if last <= after {
            return Ok((Vec::new(), cursor));
        }
        let dir = self.journal.dir().to_path_buf();
        let mut cursor = cursor;
        let mut out: Vec<CutBatch> = Vec::new();
        let mut open: Option<CutBatch> = None;
        let records = Journal::read_from(&dir, self.journal.first_seq()).map_err(|e| e.to_string())?;
        for rec in records {
            let (seq, payload) = rec.map_err(|e| e.to_string())?;
            let entry = Entry::decode(&payload).map_err(|e| format!("journal record {seq}: {e}"))?;
            match entry {
                Entry::BatchOpen(header) if header.batch_number > after => {
                    open = Some(CutBatch {
                        header,
                        commands: Vec::new(),
                        post_root: [0; 32],
                        l1_commands: 0,
                        l1_up_to: None,
                    })
                }
                Entry::L1Take(take) => {
                    if let Some(b) = open.as_mut() {
                        if (take.deposits_from, take.forced_from) != cursor {
                            return Err(format!(
                                "batch {} takes the L1 queues from {:?}, but they were taken up to {cursor:?}",
                                b.header.batch_number,
                                (take.deposits_from, take.forced_from)
                            ));
                        }
                        cursor = (take.deposits_to(), take.forced_to());
                        b.commands = take.commands();
                        b.l1_commands = b.commands.len();
                    }
                }
                Entry::Command { command, .. } => {
                    if let Some(b) = open.as_mut() {
                        b.commands.push(command);
                    }
                }
                Entry::Cut { root, .. } => {
                    if let Some(mut b) = open.take() {
                        b.post_root = root;
                        b.l1_up_to = Some(cursor);
                        out.push(b);
                    }
                }
                Entry::Genesis { .. } | Entry::BatchOpen(_) => {}
            }
        }
        match out.first() {
            Some(b) if b.header.batch_number == after + 1 && out.len() as u64 == last - after => Ok((out, cursor)),
            _ => Err(format!(
                "the journal no longer holds batches {}..={last} (pruned after a snapshot); they cannot be re-proposed",
                after + 1
            )),
        }
    }

    /// Sends every cut batch to `tx` from now on.
    pub fn set_prover(&mut self, tx: std::sync::mpsc::Sender<CutBatch>) {
        self.prover = Some(tx);
    }

    fn append(&mut self, entry: &Entry) -> u64 {
        match self.journal.append(&entry.encode()) {
            Ok(seq) => seq,
            Err(e) => fatal(&format!("journal append failed: {e}")),
        }
    }

    /// Makes the journal durable; whether anything was written.
    fn commit(&mut self) -> bool {
        match self.journal.commit() {
            Ok(stats) => {
                if stats.records > 0 {
                    self.metrics.commits.fetch_add(1, Relaxed);
                    self.metrics.committed_records.fetch_add(stats.records as u64, Relaxed);
                    self.metrics.fsync.observe_ns(stats.fsync_nanos);
                }
                stats.records > 0
            }
            Err(e) => fatal(&format!("journal commit failed: {e}")),
        }
    }

    /// The checks the transition makes before anything else, made early so that a command
    /// that cannot succeed is not journaled.
    fn precheck(&self, command: &Command, signer: &Address, verified: bool) -> Result<(), RejectCode> {
        if self.l1.is_some() && matches!(command, Command::Deposit { .. }) {
            // With an L1, money enters through the rollup contract's deposit queue only.
            return Err(RejectCode::NotOperator);
        }
        let Command::Signed(c) = command else { return Ok(()) };
        if !verified {
            return Err(RejectCode::BadSignature);
        }
        if matches!(c.action, Action::AddMarket { .. }) {
            return Ok(());
        }
        let account = self.state.account(signer).ok_or(RejectCode::UnknownAccount)?;
        if c.nonce < account.nonce {
            return Err(RejectCode::NonceReused { expected: account.nonce });
        }
        if c.nonce > account.nonce {
            return Err(RejectCode::NonceGap { expected: account.nonce });
        }
        Ok(())
    }

    fn open_batch(&mut self, received_ns: u64) {
        let header = BatchHeader {
            batch_number: self.state.batch_number + 1,
            timestamp: Timestamp(received_ns.max(self.state.timestamp.0)),
            prev_root: self.root,
        };
        if let Err(e) = self.state.begin_batch(&header, self.root) {
            fatal(&format!("opening batch {}: {e:?}", header.batch_number));
        }
        self.append(&Entry::BatchOpen(header));
        let mut open = OpenBatch {
            header,
            commands: Vec::new(),
            opened: Instant::now(),
            l1_commands: 0,
            l1_taken: [0; 2],
        };
        if let Some(queues) = &self.l1 {
            let take = queues.take(self.l1_cursor.0, self.l1_cursor.1);
            if !take.is_empty() {
                let commands = take.commands();
                open.l1_taken = [take.deposits.len() as u32, take.forced.len() as u32];
                self.l1_cursor = (take.deposits_to(), take.forced_to());
                let seq = self.append(&Entry::L1Take(take));
                for command in commands {
                    let verified = verify_command(self.state.chain_id, &command);
                    let receipt = self.state.apply(&Verdict(verified), &command);
                    if self.audit.is_some() {
                        let account = command_account(&command);
                        self.audit_pending.commands.push(AuditCommand::new(
                            seq,
                            header.batch_number,
                            &command,
                            account,
                            receipt,
                        ));
                    }
                    self.metrics.commands.fetch_add(1, Relaxed);
                    self.metrics.l1_commands.fetch_add(1, Relaxed);
                    open.commands.push(command);
                }
                open.l1_commands = open.commands.len();
            }
        }
        self.open = Some(open);
    }

    /// L1 mode: opens a batch when the L1 queues hold entries no batch took, so deposits and
    /// forced commands are credited without waiting for L2 traffic.
    fn open_for_l1(&mut self) {
        let pending = self.l1.as_ref().is_some_and(|q| q.pending(self.l1_cursor.0, self.l1_cursor.1));
        if pending && self.open.is_none() {
            self.open_batch(now_ns());
            self.commit();
        }
    }

    /// Applies and journals one command (not yet committed).
    fn submit_one(
        &mut self,
        command: Command,
        verified: bool,
        received_ns: u64,
        client_id: Option<String>,
        account: Option<Address>,
    ) -> Outcome {
        // The account a command acts for, computed once for the checks, the audit log and the index.
        let account = account.unwrap_or_else(|| command_account(&command));
        if let Err(code) = self.precheck(&command, &account, verified) {
            self.metrics.refused.fetch_add(1, Relaxed);
            return Outcome::Refused(code);
        }
        if self.open.is_none() {
            self.open_batch(received_ns);
        }
        let t = Instant::now();
        let receipt = self.state.apply_by(&Verdict(verified), &command, account);
        self.metrics.apply.observe_ns(t.elapsed().as_nanos() as u64);
        let entry = Entry::Command { received_ns, command, client_id };
        let seq = self.append(&entry);
        let Entry::Command { command, client_id, .. } = entry else { unreachable!() };
        let open = self.open.as_mut().expect("opened above");
        if self.audit.is_some() {
            self.audit_pending.commands.push(AuditCommand::new(
                seq,
                open.header.batch_number,
                &command,
                account,
                receipt,
            ));
        }
        if self.index.is_some() && matches!(receipt, Receipt::Applied(_)) {
            self.to_index.push(indexed(seq, &command, account, open.header.batch_number, receipt, client_id));
        }
        open.commands.push(command);
        self.metrics.commands.fetch_add(1, Relaxed);
        if matches!(receipt, Receipt::Rejected(_)) {
            self.metrics.rejected.fetch_add(1, Relaxed);
        }
        Outcome::Journaled { seq, batch: open.header.batch_number, receipt }
    }

    /// Cuts the open batch and makes it durable at once: announced and handed on when this
    /// returns.
    fn cut(&mut self) -> Option<u64> {
        let n = self.cut_deferred();
        self.commit();
        self.publish_cuts();
        n
    }

    /// Cuts the open batch: updates the commitment and journals the `Cut` record, which the next
    /// group commit makes durable with the commands around it; the batch is announced and handed
    /// to the prover and publisher only then ([`Engine::publish_cuts`]). A batch due for a
    /// snapshot is committed, handed on and snapshotted here (a snapshot is of the state at the
    /// cut, and its `Cut` must be on disk first).
    fn cut_deferred(&mut self) -> Option<u64> {
        let open = self.open.take()?;
        let t = Instant::now();
        let root = match self.commitment.update(&mut self.state) {
            Ok(r) => r,
            Err(e) => fatal(&format!("commitment update failed: {e:?}")),
        };
        let n = open.header.batch_number;
        self.append(&Entry::Cut { batch_number: n, commands: open.commands.len() as u32, root });
        self.metrics.cut.observe_ns(t.elapsed().as_nanos() as u64);
        self.root = root;
        let info = BatchInfo {
            batch: n,
            commands: open.commands.len() as u32,
            timestamp_ns: open.header.timestamp.0,
            prev_root: hex32(&open.header.prev_root),
            root: hex32(&root),
            proof: if self.prover.is_some() {
                "pending".into()
            } else {
                "not sent to a prover (none running when it was cut)".into()
            },
            blobs: Vec::new(),
            l1_taken: open.l1_taken,
            l1: if self.l1.is_some() { "proposing".into() } else { "L1 off".into() },
        };
        let batch = CutBatch {
            header: open.header,
            commands: open.commands,
            post_root: root,
            l1_commands: open.l1_commands,
            l1_up_to: self.l1.as_ref().map(|_| self.l1_cursor),
        };
        self.cuts_pending.push((info, batch));
        if self.cfg.snapshot_every > 0 && n % self.cfg.snapshot_every == 0 {
            self.commit();
            self.publish_cuts();
            if let Err(e) = self.snapshot() {
                tracing::error!(error = %e, "snapshot failed; the journal still holds everything");
            }
        }
        Some(n)
    }

    /// Announces the batches whose `Cut` records the last commit made durable, and hands them to
    /// the publisher and the prover, in order. Call only right after a commit.
    fn publish_cuts(&mut self) {
        for (info, batch) in std::mem::take(&mut self.cuts_pending) {
            self.metrics.batch_number.store(info.batch, Relaxed);
            if self.batches.len() == self.cfg.batch_history.max(1) {
                self.batches.pop_front();
            }
            self.batches.push_back(info.clone());
            let _ = self.updates.send(Arc::new(vec![Update::Batch(info)]));
            if let Some(tx) = &self.publisher {
                if tx.send(batch.clone()).is_err() {
                    self.publisher = None;
                }
            }
            if let Some(tx) = &self.prover {
                self.metrics.prover_backlog.fetch_add(1, Relaxed);
                if tx.send(batch).is_err() {
                    self.prover = None;
                }
            }
        }
    }

    /// Writes a snapshot of the state at the last cut, then deletes journal segments no kept
    /// snapshot needs. Only at a batch boundary.
    pub fn snapshot(&mut self) -> Result<PathBuf, String> {
        if self.open.is_some() {
            return Err("a batch is open".into());
        }
        let body = borsh::to_vec(&self.state.snapshot()).map_err(|e| e.to_string())?;
        let meta = SnapshotMeta {
            seq: self.journal.next_seq(),
            batch_number: self.state.batch_number,
            root: self.root,
            bytes: body.len() as u64,
        };
        let path = self.snapshots.write(&meta, &body).map_err(|e| e.to_string())?;
        self.metrics.snapshots.fetch_add(1, Relaxed);
        let kept = self.snapshots.list().map_err(|e| e.to_string())?;
        if let Some(oldest) = kept.iter().map(|(_, m)| m.seq).min() {
            self.journal.prune_before(oldest).map_err(|e| e.to_string())?;
        }
        tracing::info!(batch = meta.batch_number, bytes = meta.bytes, path = %path.display(), "snapshot written");
        Ok(path)
    }

    /// Publishes what the last group did: order updates, trades, depth, BBO.
    fn publish(&mut self) {
        self.state.drain_events(&mut self.events);
        if self.events.is_empty() {
            return;
        }
        let batch = self.open.as_ref().map_or(self.state.batch_number, |o| o.header.batch_number);
        if self.audit.is_some() {
            self.audit_pending.events.extend(self.events.iter().map(|(m, e)| (batch, *m, *e)));
        }
        let mut changes = Changes::default();
        self.md.record_trades(batch, &self.events, &mut changes);
        let mut touched: Vec<MarketId> = self.events.iter().map(|(m, _)| *m).collect();
        touched.sort_unstable();
        touched.dedup();
        let state = &self.state;
        self.md
            .refresh(touched.iter().filter_map(|m| state.market(*m).map(|mk| (*m, &mk.book))), &mut changes);
        for (m, e) in &self.events {
            if let Event::Fill(f) = e {
                for (account, order, side, role) in [
                    (f.maker_account, f.maker_order, f.taker_side.opposite(), "maker"),
                    (f.taker_account, f.taker_order, f.taker_side, "taker"),
                ] {
                    let Some(a) = self.state.account_by_id(account).map(|a| a.address) else { continue };
                    let d = self.fills.entry(a).or_default();
                    if d.len() == FILLS_PER_ACCOUNT {
                        d.pop_front();
                    }
                    d.push_back(FillRecord {
                        market: m.0,
                        order_id: order.0,
                        side: side_str(side),
                        role,
                        price: f.price.0,
                        qty: f.qty.0,
                        batch,
                    });
                }
            }
        }
        let mut out = Vec::with_capacity(self.events.len() + changes.diffs.len());
        if self.updates.receiver_count() > 0 {
            // Order updates cost an account lookup per event: only while someone listens.
            if self.order_subscribers.load(Relaxed) > 0 {
                for (m, e) in &self.events {
                    self.order_updates(*m, e, batch, &mut out);
                }
            }
            out.extend(changes.trades.into_iter().map(Update::Trade));
            out.extend(changes.diffs.into_iter().map(Update::Depth));
            out.extend(changes.bbos.into_iter().map(Update::Bbo));
            let _ = self.updates.send(Arc::new(out));
        }
        self.events.clear();
    }

    fn order_updates(&self, m: MarketId, e: &Event, batch: u64, out: &mut Vec<Update>) {
        let addr = |id: zkclob_core::AccountId| self.state.account_by_id(id).map(|a| a.address);
        let mut push = |account, order_id: u64, event, price, qty, remaining, side| {
            if let Some(account) = addr(account) {
                out.push(Update::Order(OrderUpdate {
                    account,
                    market: m.0,
                    order_id,
                    event,
                    price,
                    qty,
                    remaining,
                    side,
                    batch,
                }));
            }
        };
        match *e {
            Event::Accepted { order_id, account, side, price, qty } => push(
                account,
                order_id.0,
                "accepted",
                Some(price.0),
                Some(qty.0),
                Some(qty.0),
                Some(side_str(side)),
            ),
            Event::Fill(f) => {
                push(
                    f.maker_account,
                    f.maker_order.0,
                    "fill",
                    Some(f.price.0),
                    Some(f.qty.0),
                    Some(f.maker_remaining.0),
                    Some(side_str(f.taker_side.opposite())),
                );
                push(
                    f.taker_account,
                    f.taker_order.0,
                    "fill",
                    Some(f.price.0),
                    Some(f.qty.0),
                    None,
                    Some(side_str(f.taker_side)),
                );
            }
            Event::Cancelled { order_id, account, cancelled, remaining, .. } => {
                push(account, order_id.0, "cancelled", None, Some(cancelled.0), Some(remaining.0), None)
            }
            Event::Expired { order_id, account, remaining, .. } => {
                push(account, order_id.0, "expired", None, Some(remaining.0), Some(0), None)
            }
            Event::Amended { order_id, price, qty, .. } => {
                if let Some(o) = self.state.order(order_id) {
                    push(
                        o.account,
                        order_id.0,
                        "amended",
                        Some(price.0),
                        Some(qty.0),
                        Some(qty.0),
                        Some(side_str(o.side)),
                    )
                }
            }
            Event::Done { .. } | Event::Rejected { .. } => {}
        }
    }

    /// Subscribes to published updates.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Vec<Update>>> {
        self.updates.subscribe()
    }

    /// Starts the engine thread.
    pub fn start(self) -> EngineHandle {
        let (tx, rx) = sync_channel(self.cfg.queue_capacity.max(1));
        let metrics = self.metrics.clone();
        let updates = self.updates.clone();
        let chain_id = self.state.chain_id;
        let order_subscribers = self.order_subscribers.clone();
        let realtime_priority = self.cfg.realtime_priority;
        let thread = std::thread::Builder::new()
            .name("zkclob-engine".into())
            .spawn(move || {
                crate::sched::ack_path(realtime_priority, "engine", &self.metrics);
                self.run(rx)
            })
            .expect("spawning the engine thread");
        EngineHandle {
            tx,
            metrics,
            updates,
            chain_id,
            realtime_priority,
            thread: Arc::new(std::sync::Mutex::new(Some(thread))),
            order_subscribers,
        }
    }

    fn run(mut self, rx: Receiver<Request>) {
        let mut group: Vec<Request> = Vec::with_capacity(self.cfg.max_group);
        let mut replies: Vec<(Reply, Outcome)> = Vec::with_capacity(self.cfg.max_group);
        let mut reads: Vec<ReadFn> = Vec::new();
        let mut stop: Option<oneshot::Sender<()>> = None;
        let mut max_ms = Duration::from_millis(self.cfg.batch_max_ms.max(1));
        let mut last_commit: Option<Instant> = None;
        loop {
            let wait = match &self.open {
                Some(o) => max_ms.saturating_sub(o.opened.elapsed()),
                // In L1 mode, look at the L1 queues once per batch period.
                None if self.l1.is_some() => max_ms,
                None => Duration::from_secs(1),
            };
            match rx.recv_timeout(wait) {
                Ok(r) => group.push(r),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            while group.len() < self.cfg.max_group {
                match rx.try_recv() {
                    Ok(r) => group.push(r),
                    Err(_) => break,
                }
            }
            // Let more requests share the next fdatasync if the last one was very recent.
            if let Some(last) = last_commit.filter(|_| !group.is_empty()) {
                let until = last + self.cfg.group_commit_min;
                while group.len() < self.cfg.max_group {
                    let Some(left) = until.checked_duration_since(Instant::now()) else { break };
                    match rx.recv_timeout(left) {
                        Ok(r) => group.push(r),
                        Err(_) => break,
                    }
                }
            }
            self.metrics.queue_depth.fetch_sub(group.iter().map(Request::commands).sum(), Relaxed);
            let mut cuts = Vec::new();
            for req in group.drain(..) {
                match req {
                    Request::Submit(s) => self.submission(s, &mut replies),
                    Request::SubmitMany(list) => {
                        for s in list {
                            self.submission(s, &mut replies);
                        }
                    }
                    Request::Read(f) => reads.push(f),
                    Request::Cut(reply) => cuts.push(reply),
                    Request::Configure { batch_max_commands, batch_max_ms, reply } => {
                        self.cfg.batch_max_commands = batch_max_commands.max(1);
                        self.cfg.batch_max_ms = batch_max_ms.max(1);
                        max_ms = Duration::from_millis(self.cfg.batch_max_ms);
                        let _ = reply.send(());
                    }
                    Request::Blobs { batch, blobs } => {
                        if let Some(b) = self.batches.iter_mut().find(|b| b.batch == batch) {
                            b.blobs = blobs;
                        }
                    }
                    Request::ProofStatus { batch, status } => {
                        if let Some(b) = self.batches.iter_mut().find(|b| b.batch == batch) {
                            b.proof = status;
                        }
                    }
                    Request::L1Status { batch, status } => {
                        if let Some(b) = self.batches.iter_mut().find(|b| b.batch == batch) {
                            b.l1 = status;
                        }
                    }
                    Request::Shutdown(reply) => stop = Some(reply),
                }
            }
            if self.commit() {
                last_commit = Some(Instant::now());
            }
            // Batches cut in this group (full ones) went to disk with it.
            self.publish_cuts();
            self.release(&mut replies);
            let due = self.open.as_ref().is_some_and(|o| o.opened.elapsed() >= max_ms);
            if due || !cuts.is_empty() {
                let n = self.cut();
                for c in cuts {
                    let _ = c.send(n);
                }
            }
            self.open_for_l1();
            for f in reads.drain(..) {
                f(&self);
            }
            if let Some(reply) = stop.take() {
                self.shutdown();
                let _ = reply.send(());
                return;
            }
        }
        self.shutdown();
    }

    /// Journals and applies one submitted command; its answer waits in `replies` for the
    /// group's commit. A refusal goes at once, except a used nonce's when there is an index: it
    /// waits for the group's hand-over to the index. A full batch is cut here.
    fn submission(&mut self, s: Submission, replies: &mut Vec<(Reply, Outcome)>) {
        let Submission { command, verified, received_ns, client_id, reply, account } = s;
        let out = self.submit_one(command, verified, received_ns, client_id, account);
        match out {
            // A used nonce may be a retry of a command in this very group: its answer waits
            // for the group's hand-over to the index, where the API looks the original up.
            Outcome::Refused(RejectCode::NonceReused { .. }) if self.index.is_some() => {
                replies.push((reply, out))
            }
            Outcome::Refused(_) => reply.send(out),
            Outcome::Journaled { .. } => replies.push((reply, out)),
        }
        // A full batch is cut here; its `Cut` record goes to disk with the rest of the group.
        if self.open.as_ref().is_some_and(|o| o.commands.len() >= self.cfg.batch_max_commands) {
            self.cut_deferred();
        }
    }

    /// After a commit: answer the submitters and publish.
    fn release(&mut self, replies: &mut Vec<(Reply, Outcome)>) {
        if let Some(tx) = &self.index {
            if !self.to_index.is_empty() && tx.send(std::mem::take(&mut self.to_index)).is_err() {
                self.index = None;
            }
        }
        for (reply, out) in replies.drain(..) {
            reply.send(out);
        }
        self.publish();
        if let Some(tx) = &self.audit {
            if !self.audit_pending.commands.is_empty() || !self.audit_pending.events.is_empty() {
                let record = std::mem::take(&mut self.audit_pending);
                if tx.send(record).is_err() {
                    self.audit = None;
                }
            }
        }
    }

    fn shutdown(&mut self) {
        self.commit();
        if self.open.is_some() {
            self.cut();
        }
        if let Err(e) = self.snapshot() {
            tracing::warn!(error = %e, "no snapshot at shutdown; the journal holds everything");
        }
        // The indexer and the audit log write what they have and release their files.
        self.release(&mut Vec::new());
        self.stop_writers();
        tracing::info!(batch = self.state.batch_number, root = %hex32(&self.root), "engine stopped");
    }
}

impl Drop for Engine {
    /// An engine dropped without running (an error at start-up, a tool) still lets its indexer
    /// and audit threads finish and release their files.
    fn drop(&mut self) {
        self.stop_writers();
    }
}

impl Engine {
    /// Closes the indexer's and the audit log's channels and waits for both threads.
    fn stop_writers(&mut self) {
        self.index = None;
        self.audit = None;
        for t in [self.index_thread.take(), self.audit_thread.take()].into_iter().flatten() {
            let _ = t.join();
        }
    }
}

/// A failure after which the in-memory state may be ahead of the disk: stop at once, and let
/// recovery rebuild from the journal.
fn fatal(msg: &str) -> ! {
    tracing::error!("{msg}; aborting so that recovery restarts from the journal");
    eprintln!("zkclob node: fatal: {msg}; aborting so that recovery restarts from the journal");
    std::process::abort()
}

/// Replays journal entries into a state.
struct Replay {
    state: Option<ExchangeState>,
    commitment: Option<StateCommitment<Sha256Hasher>>,
    root: [u8; 32],
    open: Option<OpenBatch>,
    index_from: u64,
    reindexed: Vec<Indexed>,
}

impl Replay {
    fn new(
        state: Option<ExchangeState>,
        expected_root: Option<[u8; 32]>,
        _cfg: &EngineConfig,
    ) -> Result<Replay, OpenError> {
        let mut r = Replay {
            state: None,
            commitment: None,
            root: [0; 32],
            open: None,
            index_from: u64::MAX,
            reindexed: Vec::new(),
        };
        if let Some(mut s) = state {
            let c = StateCommitment::build(Sha256Hasher, &mut s)
                .map_err(|e| OpenError::Snapshot(format!("commitment of the snapshot: {e:?}")))?;
            if let Some(expected) = expected_root {
                if c.root() != expected {
                    return Err(OpenError::Snapshot(format!(
                        "the snapshot's state has root {} but its header says {}",
                        hex32(&c.root()),
                        hex32(&expected)
                    )));
                }
            }
            r.root = c.root();
            r.commitment = Some(c);
            r.state = Some(s);
        }
        Ok(r)
    }

    /// Applies and empties `chunk`, checking its commands' signatures together; how many
    /// records it held.
    fn apply_chunk(&mut self, chunk: &mut Vec<(u64, Entry)>) -> Result<u64, OpenError> {
        let n = chunk.len() as u64;
        // Before genesis the chain id is unknown: those records are checked one by one.
        let mut verdicts = match &self.state {
            Some(state) => {
                let signed: Vec<&zkclob_state::SignedCommand> = chunk
                    .iter()
                    .filter_map(|(_, e)| match e {
                        Entry::Command { command: Command::Signed(c), .. } => Some(c),
                        _ => None,
                    })
                    .collect();
                crate::crypto::verify_signed(state.chain_id, &signed)
            }
            None => Vec::new(),
        }
        .into_iter();
        for (seq, entry) in chunk.drain(..) {
            let verdict = match &entry {
                Entry::Command { command: Command::Signed(_), .. } => verdicts.next(),
                _ => None,
            };
            self.apply(seq, entry, verdict)?;
        }
        Ok(n)
    }

    /// Applies one record; `verdict` is its command's signature check if already made.
    fn apply(&mut self, seq: u64, entry: Entry, verdict: Option<bool>) -> Result<(), OpenError> {
        let bad = |reason: &str| OpenError::Inconsistent { seq, reason: reason.to_string() };
        match entry {
            Entry::Genesis { version, chain_id, operator } => {
                if self.state.is_some() {
                    return Err(bad("a second genesis record"));
                }
                if version != ENTRY_VERSION {
                    return Err(bad(&format!("entry version {version}; this node reads {ENTRY_VERSION}")));
                }
                let mut s = ExchangeState::new(chain_id, operator);
                let c = StateCommitment::build(Sha256Hasher, &mut s).map_err(|e| bad(&format!("{e:?}")))?;
                self.root = c.root();
                self.commitment = Some(c);
                self.state = Some(s);
            }
            Entry::BatchOpen(h) => {
                let state = self.state.as_mut().ok_or_else(|| bad("a batch before genesis"))?;
                if self.open.is_some() {
                    return Err(bad("a batch opened while another is open"));
                }
                state.begin_batch(&h, self.root).map_err(|e| bad(&format!("batch header refused: {e:?}")))?;
                self.open = Some(OpenBatch {
                    header: h,
                    commands: Vec::new(),
                    opened: Instant::now(),
                    l1_commands: 0,
                    l1_taken: [0; 2],
                });
            }
            Entry::L1Take(take) => {
                let state = self.state.as_mut().ok_or_else(|| bad("an L1 take before genesis"))?;
                let open = self.open.as_mut().ok_or_else(|| bad("an L1 take outside a batch"))?;
                if !open.commands.is_empty() {
                    return Err(bad("an L1 take after the batch's first command"));
                }
                for command in take.commands() {
                    let verified = verify_command(state.chain_id, &command);
                    state.apply(&Verdict(verified), &command);
                    open.commands.push(command);
                }
                open.l1_commands = open.commands.len();
                open.l1_taken = [take.deposits.len() as u32, take.forced.len() as u32];
            }
            Entry::Command { command, client_id, .. } => {
                let state = self.state.as_mut().ok_or_else(|| bad("a command before genesis"))?;
                let open = self.open.as_mut().ok_or_else(|| bad("a command outside a batch"))?;
                let verified = verdict.unwrap_or_else(|| verify_command(state.chain_id, &command));
                let account = command_account(&command);
                let receipt = state.apply_by(&Verdict(verified), &command, account);
                if seq >= self.index_from && matches!(receipt, zkclob_state::Receipt::Applied(_)) {
                    self.reindexed.push(indexed(
                        seq,
                        &command,
                        account,
                        open.header.batch_number,
                        receipt,
                        client_id,
                    ));
                }
                open.commands.push(command);
            }
            Entry::Cut { batch_number, commands, root } => {
                let state = self.state.as_mut().ok_or_else(|| bad("a cut before genesis"))?;
                let open = self.open.take().ok_or_else(|| bad("a cut with no open batch"))?;
                if open.header.batch_number != batch_number || open.commands.len() as u32 != commands {
                    return Err(bad("the cut does not match the open batch"));
                }
                let c = self.commitment.as_mut().expect("with the state");
                let computed = c.update(state).map_err(|e| bad(&format!("{e:?}")))?;
                if computed != root {
                    return Err(OpenError::Diverged {
                        batch: batch_number,
                        recorded: hex32(&root),
                        computed: hex32(&computed),
                    });
                }
                self.root = computed;
            }
        }
        Ok(())
    }

    #[allow(clippy::type_complexity)]
    fn finish(
        self,
    ) -> Result<Option<(ExchangeState, StateCommitment<Sha256Hasher>, [u8; 32], Option<OpenBatch>)>, OpenError>
    {
        match (self.state, self.commitment) {
            (Some(s), Some(c)) => Ok(Some((s, c, self.root, self.open))),
            _ => Ok(None),
        }
    }
}

/// The handle the API and tools use to talk to the engine thread. Cheap to clone.
#[derive(Clone)]
pub struct EngineHandle {
    tx: SyncSender<Request>,
    metrics: Arc<Metrics>,
    updates: broadcast::Sender<Arc<Vec<Update>>>,
    chain_id: u64,
    realtime_priority: u8,
    thread: Arc<std::sync::Mutex<Option<std::thread::JoinHandle<()>>>>,
    order_subscribers: Arc<std::sync::atomic::AtomicI64>,
}

impl EngineHandle {
    /// The chain id commands must be signed for.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The real-time priority of the threads an acknowledgement waits for (0: ordinary
    /// threads; [`crate::sched`]).
    pub fn realtime_priority(&self) -> u8 {
        self.realtime_priority
    }

    /// The metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    fn send(&self, r: Request) -> Result<(), SubmitError> {
        match self.tx.try_send(r) {
            Ok(()) => {
                self.metrics.queue_depth.fetch_add(1, Relaxed);
                Ok(())
            }
            Err(TrySendError::Full(_)) => {
                self.metrics.overloaded.fetch_add(1, Relaxed);
                Err(SubmitError::Overloaded)
            }
            Err(TrySendError::Disconnected(_)) => Err(SubmitError::Stopped),
        }
    }

    /// Queues a command whose signature was checked (`verified` is the result); the receiver
    /// gets the outcome once it is durable (or refused).
    pub fn submit(
        &self,
        command: Command,
        verified: bool,
    ) -> Result<oneshot::Receiver<Outcome>, SubmitError> {
        self.submit_labelled(command, verified, None)
    }

    /// [`EngineHandle::submit`] with a client order id recorded in the journal and the index.
    pub fn submit_labelled(
        &self,
        command: Command,
        verified: bool,
        client_id: Option<String>,
    ) -> Result<oneshot::Receiver<Outcome>, SubmitError> {
        let (reply, rx) = oneshot::channel();
        let reply = Reply::Outcome(reply);
        self.send(Request::Submit(Submission {
            command,
            verified,
            received_ns: now_ns(),
            client_id,
            reply,
            account: None,
        }))?;
        Ok(rx)
    }

    /// Queues checked commands in order with one hand-over, each answering on its own channel:
    /// the outcome, or why the group could not be queued.
    pub fn submit_answering(&self, group: Vec<Answering>) {
        if group.is_empty() {
            return;
        }
        let received_ns = now_ns();
        let n = group.len() as u64;
        let list = group
            .into_iter()
            .map(|a| Submission {
                command: a.command,
                verified: true,
                received_ns,
                client_id: a.client_id,
                reply: Reply::Answer(a.answer),
                account: Some(a.signer),
            })
            .collect();
        let (e, back) = match self.tx.try_send(Request::SubmitMany(list)) {
            Ok(()) => {
                self.metrics.queue_depth.fetch_add(n, Relaxed);
                return;
            }
            Err(TrySendError::Full(r)) => {
                self.metrics.overloaded.fetch_add(n, Relaxed);
                (SubmitError::Overloaded, r)
            }
            Err(TrySendError::Disconnected(r)) => (SubmitError::Stopped, r),
        };
        if let Request::SubmitMany(list) = back {
            for s in list {
                if let Reply::Answer(tx) = s.reply {
                    let _ = tx.send(Err(e.into()));
                }
            }
        }
    }

    /// Checks the signature here (on the caller's thread), then queues.
    pub fn submit_checked(&self, command: Command) -> Result<oneshot::Receiver<Outcome>, SubmitError> {
        let verified = verify_command(self.chain_id, &command);
        self.submit(command, verified)
    }

    /// Runs `f` on the engine thread after the current group is durable; its result comes back.
    pub fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Engine) -> T + Send + 'static,
    ) -> Result<oneshot::Receiver<T>, SubmitError> {
        let (tx, rx) = oneshot::channel();
        self.send(Request::Read(Box::new(move |e| {
            let _ = tx.send(f(e));
        })))?;
        Ok(rx)
    }

    /// Cuts the open batch now; the receiver gets its number (None: nothing was open).
    pub fn cut(&self) -> Result<oneshot::Receiver<Option<u64>>, SubmitError> {
        let (tx, rx) = oneshot::channel();
        self.send(Request::Cut(tx))?;
        Ok(rx)
    }

    /// Counts a WebSocket session that subscribes to order updates (+1) or leaves (−1); the
    /// engine builds order updates only while the count is positive.
    pub fn order_interest(&self, delta: i64) {
        self.order_subscribers.fetch_add(delta, Relaxed);
    }

    /// Subscribes to updates published after each durable group.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Vec<Update>>> {
        self.updates.subscribe()
    }

    /// Changes the batch size and interval (hot reload); returns when the engine has taken them.
    pub async fn configure(&self, batch_max_commands: usize, batch_max_ms: u64) -> Result<(), SubmitError> {
        let (reply, rx) = oneshot::channel();
        self.send(Request::Configure { batch_max_commands, batch_max_ms, reply })?;
        rx.await.map_err(|_| SubmitError::Stopped)
    }

    /// Records a batch's blobs (blocks while the queue is full).
    pub fn set_blobs(&self, batch: u64, blobs: Vec<BlobRef>) -> Result<(), SubmitError> {
        self.tx.send(Request::Blobs { batch, blobs }).map_err(|_| SubmitError::Stopped)?;
        self.metrics.queue_depth.fetch_add(1, Relaxed);
        Ok(())
    }

    /// Records the prover's result for a batch (blocks while the queue is full).
    pub fn set_proof_status(&self, batch: u64, status: String) -> Result<(), SubmitError> {
        self.tx.send(Request::ProofStatus { batch, status }).map_err(|_| SubmitError::Stopped)?;
        self.metrics.queue_depth.fetch_add(1, Relaxed);
        Ok(())
    }

    /// Records a batch's L1 status (blocks while the queue is full).
    pub fn set_l1_status(&self, batch: u64, status: String) -> Result<(), SubmitError> {
        self.tx.send(Request::L1Status { batch, status }).map_err(|_| SubmitError::Stopped)?;
        self.metrics.queue_depth.fetch_add(1, Relaxed);
        Ok(())
    }

    /// Stops the engine: the open batch is cut, a snapshot written, the thread joined. Waits
    /// for the queue ahead of it.
    pub fn shutdown(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Request::Shutdown(tx)).is_ok() {
            let _ = rx.blocking_recv();
        }
        if let Some(t) = self.thread.lock().expect("engine thread handle").take() {
            let _ = t.join();
        }
    }
}
