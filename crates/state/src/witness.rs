//! Witnesses: the part of the state a batch can reach, authenticated against the pre-root, and
//! [`execute`], which runs a batch from a witness alone — what the zkVM guests do.
//!
//! **What a batch can reach** ([`Reach`]): the global leaf; the address bucket of every signer and
//! deposit target; the account of every such address that exists; one empty account slot per new
//! address a deposit may create (ids `account_count`, `account_count + 1`, ...); every market a
//! command names (or the proof that it does not exist); and every account that has an order in one
//! of those markets (a fill, an expiry or self-trade prevention can move its funds). Books travel
//! whole in this first version.
//!
//! [`execute`] verifies every leaf against the pre-root with one multiproof, checks that the
//! witness holds everything the batch can reach (computed again from the witness itself, so a
//! prover cannot leave something out), applies the batch, and computes the post-root from the same
//! multiproof. A tampered leaf, a wrong pre-root or a missing leaf is an error, never a result.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;
use borsh::{BorshDeserialize, BorshSerialize};
use thiserror::Error;
use zkclob_book::{Book, BookLimits, SnapshotError};
use zkclob_core::{AccountId, MarketId};

use crate::accounts::{Account, Balance};
use crate::command::{BatchHeader, Command, Receipt};
use crate::commitment::{
    account_index, bucket_index, bucket_of, global_index, market_index, AccountLeaf, BucketLeaf, GlobalLeaf,
    MarketLeaf,
};
use crate::crypto::{Address, Crypto, PublicKey};
use crate::exchange::{referenced_markets, BatchError, ExchangeState, Market, Prepared};
use crate::merkle::{Hash, MerkleError, MerkleHasher, MerkleTree, MultiProof, EMPTY_LEAF};

/// The state a batch can reach, with a multiproof against the pre-root.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Witness {
    /// The global leaf.
    pub global: GlobalLeaf,
    /// Accounts, ascending id; `None` proves an empty slot (a new account may take it).
    pub accounts: Vec<(AccountId, Option<AccountLeaf>)>,
    /// Markets, ascending id; `None` proves the market does not exist.
    pub markets: Vec<(MarketId, Option<MarketLeaf>)>,
    /// Address buckets, ascending; an empty bucket proves its addresses have no account.
    pub buckets: Vec<(u32, BucketLeaf)>,
    /// One proof for all of the leaves above.
    pub proof: MultiProof,
}

/// What a batch's execution commits to publicly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct PublicOutput {
    /// The batch's number.
    pub batch_number: u64,
    /// Number of commands.
    pub commands: u32,
    /// Root before the batch.
    pub pre_root: Hash,
    /// Root after it.
    pub post_root: Hash,
    /// keccak-256 of the borsh encoding of (header, commands). Keccak rather than SHA-256 because
    /// it is Ethereum's native hash (the L1 contract recomputes it cheaply) and, with a 136-byte
    /// rate, about 3× cheaper per byte than SHA-256 in SP1 (334 cycles per permutation vs 882 for
    /// two SHA-256 compressions of 64 bytes).
    pub batch_hash: Hash,
    /// keccak-256 of the borsh encoding of the receipts.
    pub receipts_digest: Hash,
}

/// Why a witness cannot be made or used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum WitnessError {
    /// A Merkle proof problem.
    #[error("merkle: {0}")]
    Merkle(#[from] MerkleError),
    /// The leaves do not hash to the header's previous root.
    #[error("the witness does not match the pre-root")]
    RootMismatch,
    /// The witness lacks something the batch can reach.
    #[error("the witness is incomplete: {0}")]
    Incomplete(&'static str),
    /// The witness contradicts itself.
    #[error("the witness is inconsistent: {0}")]
    Inconsistent(&'static str),
    /// A book snapshot does not restore.
    #[error("a book snapshot is invalid: {0}")]
    Snapshot(SnapshotError),
    /// The batch header is refused.
    #[error("batch: {0}")]
    Batch(BatchError),
}

/// A [`MerkleHasher`] over a [`Crypto`]'s SHA-256, equal bit for bit to
/// [`crate::merkle::Sha256Hasher`]: leaf = sha256(0x00 ‖ data), node = sha256(0x01 ‖ left ‖ right).
#[derive(Clone, Copy, Debug)]
pub struct CryptoHasher<'a, C>(pub &'a C);

impl<C: Crypto> MerkleHasher for CryptoHasher<'_, C> {
    fn hash_leaf(&self, data: &[u8]) -> Hash {
        let mut buf = Vec::with_capacity(1 + data.len());
        buf.push(0x00);
        buf.extend_from_slice(data);
        self.0.sha256(&buf)
    }

    fn hash_node(&self, left: &Hash, right: &Hash) -> Hash {
        let mut block = [0u8; 64];
        block[..32].copy_from_slice(left);
        block[32..].copy_from_slice(right);
        self.0.sha256_compress(&block)
    }

    fn hash_leaf_encoded<T: BorshSerialize + ?Sized>(&self, value: &T) -> Hash {
        crate::merkle::sha256_leaf_encoded(self.0, value)
    }

    fn compress_words(&self, state: &mut [u32; 8], block: &[u32; 16]) {
        self.0.sha256_words(state, block);
    }
}

/// The leaves a batch can reach; see the module docs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reach {
    /// Existing accounts.
    pub accounts: BTreeSet<AccountId>,
    /// Empty account slots new accounts may take.
    pub new_accounts: BTreeSet<AccountId>,
    /// Markets named by commands.
    pub markets: BTreeSet<MarketId>,
    /// Address buckets.
    pub buckets: BTreeSet<u32>,
}

/// How [`Reach::compute`] sees a state: full natively, partial in a guest.
trait View {
    /// `Ok(Some(id))` if the address has an account, `Ok(None)` if provably not.
    fn lookup(&self, bucket: u32, address: &Address) -> Result<Option<AccountId>, WitnessError>;
    /// The accounts with orders in a market; `Ok(None)` if the market provably does not exist.
    fn market_accounts(&self, market: MarketId) -> Result<Option<Vec<AccountId>>, WitnessError>;
    fn account_count(&self) -> u64;
}

/// The address a command acts for and its account, if it exists before the batch.
type Signer = (Address, Option<AccountId>);

impl Reach {
    /// The reach of `commands`, and the address each command acts for (a deposit's target, a
    /// signed command's signer) with its account if it exists before the batch, in order.
    fn compute(
        view: &impl View,
        crypto: &impl Crypto,
        commands: &[Command],
    ) -> Result<(Reach, Vec<Signer>), WitnessError> {
        let mut r = Reach::default();
        let mut new_addresses: BTreeSet<Address> = BTreeSet::new();
        let mut signers = Vec::with_capacity(commands.len());
        // A batch usually holds many commands of few signers (a market maker's quotes): each
        // key's address (a keccak), bucket (another) and account are found once per batch.
        // Keys are looked up by their first word, then compared whole against the words kept
        // for each key seen.
        let mut seen: BTreeMap<u64, Vec<(KeyWords, Signer)>> = BTreeMap::new();
        for c in commands {
            let (address, may_create) = match c {
                Command::Deposit { to, .. } => (*to, true),
                Command::Signed(s) => {
                    let known = seen.get(&key_word(&s.signer, 0)).and_then(|same_first| {
                        same_first
                            .iter()
                            .find(|(words, _)| is_key(words, &s.signer))
                            .map(|(_, signer)| *signer)
                    });
                    if let Some(known) = known {
                        signers.push(known);
                        continue;
                    }
                    (crypto.address_of(&s.signer), false)
                }
            };
            let bucket = bucket_of(crypto, &address);
            r.buckets.insert(bucket);
            let account = view.lookup(bucket, &address)?;
            signers.push((address, account));
            if let Command::Signed(s) = c {
                let words: KeyWords = core::array::from_fn(|i| key_word(&s.signer, i));
                seen.entry(words[0]).or_default().push((words, (address, account)));
            }
            match account {
                Some(id) => {
                    r.accounts.insert(id);
                }
                None if may_create && new_addresses.insert(address) => {
                    let next = view.account_count() + new_addresses.len() as u64 - 1;
                    r.new_accounts.insert(AccountId(next));
                }
                None => {}
            }
        }
        r.markets = referenced_markets(commands);
        for &m in &r.markets {
            if let Some(owners) = view.market_accounts(m)? {
                r.accounts.extend(owners);
            }
        }
        Ok((r, signers))
    }
}

/// A public key as eight little-endian words.
type KeyWords = [u64; 8];

/// Word `i` of a public key.
fn key_word(key: &PublicKey, i: usize) -> u64 {
    u64::from_le_bytes(key[8 * i..8 * i + 8].try_into().expect("eight bytes"))
}

/// Whether `key` is the key kept as `words`, compared a word at a time, each read from `key`
/// only when the words before it matched (a zkVM guest's `memcmp` of two 64-byte keys goes byte
/// by byte: ~450 cycles in SP1).
fn is_key(words: &KeyWords, key: &PublicKey) -> bool {
    (0..8).all(|i| words[i] == key_word(key, i))
}

impl View for ExchangeState {
    fn lookup(&self, _bucket: u32, address: &Address) -> Result<Option<AccountId>, WitnessError> {
        Ok(self.by_address.get(address).copied())
    }

    fn market_accounts(&self, market: MarketId) -> Result<Option<Vec<AccountId>>, WitnessError> {
        Ok(self
            .markets
            .get(&market)
            .map(|m| m.book.snapshot().accounts.into_iter().map(|(a, _)| a).collect()))
    }

    fn account_count(&self) -> u64 {
        self.account_count
    }
}

/// The witness's own view, for the completeness check in [`execute`].
struct WitnessView<'a>(&'a Witness);

impl View for WitnessView<'_> {
    fn lookup(&self, bucket: u32, address: &Address) -> Result<Option<AccountId>, WitnessError> {
        let (_, leaf) = self
            .0
            .buckets
            .iter()
            .find(|(b, _)| *b == bucket)
            .ok_or(WitnessError::Incomplete("an address bucket the batch reaches"))?;
        Ok(leaf.entries.iter().find(|(a, _)| a == address).map(|(_, id)| *id))
    }

    fn market_accounts(&self, market: MarketId) -> Result<Option<Vec<AccountId>>, WitnessError> {
        let (_, leaf) = self
            .0
            .markets
            .iter()
            .find(|(m, _)| *m == market)
            .ok_or(WitnessError::Incomplete("a market the batch names"))?;
        Ok(leaf.as_ref().map(|l| l.book.accounts.iter().map(|(a, _)| *a).collect()))
    }

    fn account_count(&self) -> u64 {
        self.0.global.account_count
    }
}

impl Witness {
    /// The witness of `commands` against the full pre-batch `state` committed by `tree`.
    pub fn generate<H: MerkleHasher>(
        state: &ExchangeState,
        tree: &MerkleTree<H>,
        crypto: &impl Crypto,
        commands: &[Command],
    ) -> Result<Witness, WitnessError> {
        let (reach, _) = Reach::compute(state, crypto, commands)?;
        let accounts: Vec<(AccountId, Option<AccountLeaf>)> = reach
            .accounts
            .iter()
            .chain(reach.new_accounts.iter())
            .map(|id| (*id, state.account_leaf(*id)))
            .collect::<BTreeMap<_, _>>()
            .into_iter()
            .collect();
        let markets = reach.markets.iter().map(|id| (*id, state.market_leaf(*id))).collect();
        let buckets = reach.buckets.iter().map(|b| (*b, state.bucket_leaf(*b))).collect();
        let mut w =
            Witness { global: state.global_leaf(), accounts, markets, buckets, proof: MultiProof::default() };
        let indices: Vec<u64> = w.leaf_hashes(tree.hasher()).iter().map(|(i, _)| *i).collect();
        w.proof = tree.prove_many(&indices)?;
        Ok(w)
    }

    /// (leaf index, leaf hash) of every leaf in the witness, ascending index.
    pub fn leaf_hashes(&self, h: &impl MerkleHasher) -> Vec<(u64, Hash)> {
        let mut leaves =
            Vec::with_capacity(1 + self.accounts.len() + self.markets.len() + self.buckets.len());
        leaves.push((global_index(), h.hash_leaf_encoded(&self.global)));
        for (id, leaf) in &self.accounts {
            let hash = leaf.as_ref().map_or(EMPTY_LEAF, |l| h.hash_leaf_encoded(l));
            leaves.push((account_index(*id), hash));
        }
        for (id, leaf) in &self.markets {
            let hash = leaf.as_ref().map_or(EMPTY_LEAF, |l| l.hash(h));
            leaves.push((market_index(*id), hash));
        }
        for (b, leaf) in &self.buckets {
            let hash = if leaf.entries.is_empty() { EMPTY_LEAF } else { h.hash_leaf_encoded(leaf) };
            leaves.push((bucket_index(*b), hash));
        }
        leaves.sort_unstable_by_key(|(i, _)| *i);
        leaves
    }
}

/// Runs a batch from its witness alone: verify, check completeness, apply, re-commit.
pub fn execute<C: Crypto>(
    crypto: &C,
    header: &BatchHeader,
    witness: &Witness,
    commands: &[Command],
) -> Result<(PublicOutput, Vec<Receipt>), WitnessError> {
    execute_with_state(crypto, header, witness, commands).map(|(output, receipts, _)| (output, receipts))
}

/// A batch as the zkVM guests receive it: borsh `(Witness, BatchHeader, Vec<Command>)`. The
/// witness comes first so that the header and the commands are one slice, `encoded`: exactly the
/// bytes [`PublicOutput::batch_hash`] hashes, so the guest hashes what it received instead of
/// encoding the batch again (borsh decoding is canonical: a decoded value re-encodes to the same
/// bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedBatch<'a> {
    /// The witness.
    pub witness: Witness,
    /// The header.
    pub header: BatchHeader,
    /// The commands.
    pub commands: Vec<Command>,
    /// borsh `(header, commands)`: the bytes the two were decoded from.
    pub encoded: &'a [u8],
    /// Where each command's action lies in `encoded` (see [`crate::decode::ActionSpans`]): the
    /// signing hashes are taken over these bytes. Private, so it always matches `encoded`.
    action_spans: crate::decode::ActionSpans,
}

impl<'a> ReceivedBatch<'a> {
    /// Decodes `bytes`, which must hold exactly one batch (see [`ReceivedBatch::encode`]).
    pub fn decode(bytes: &'a [u8]) -> Result<ReceivedBatch<'a>, borsh::io::Error> {
        let mut rest = bytes;
        let witness = Witness::deserialize(&mut rest)?;
        let encoded = rest;
        let header = BatchHeader::deserialize(&mut rest)?;
        let offset = encoded.len() - rest.len();
        let (commands, mut action_spans) = crate::decode::decode_commands_with_actions(&mut rest)?;
        if !rest.is_empty() {
            return Err(borsh::io::Error::new(borsh::io::ErrorKind::InvalidData, "bytes after the batch"));
        }
        for span in &mut action_spans {
            *span = (span.0 + offset, span.1 + offset);
        }
        Ok(ReceivedBatch { witness, header, commands, encoded, action_spans })
    }

    /// The bytes [`ReceivedBatch::decode`] reads.
    pub fn encode(witness: &Witness, header: &BatchHeader, commands: &[Command]) -> Vec<u8> {
        let mut out = Vec::new();
        witness.serialize(&mut out).expect("Vec write");
        header.serialize(&mut out).expect("Vec write");
        commands.serialize(&mut out).expect("Vec write");
        out
    }

    /// [`execute`] on this batch, hashing [`ReceivedBatch::encoded`] as it is.
    pub fn execute<C: Crypto>(&self, crypto: &C) -> Result<(PublicOutput, Vec<Receipt>), WitnessError> {
        let received = Received { bytes: self.encoded, action_spans: &self.action_spans };
        execute_inner(crypto, &self.header, &self.witness, &self.commands, Some(received))
            .map(|(output, receipts, _)| (output, receipts))
    }
}

/// [`execute`], also returning the post-batch partial state (the witness's leaves, updated;
/// its [`ExchangeState::withdrawals`] are the batch's own, numbered from the pre-state's
/// `withdrawal_count`).
pub fn execute_with_state<C: Crypto>(
    crypto: &C,
    header: &BatchHeader,
    witness: &Witness,
    commands: &[Command],
) -> Result<(PublicOutput, Vec<Receipt>, ExchangeState), WitnessError> {
    execute_inner(crypto, header, witness, commands, None)
}

/// The bytes a [`ReceivedBatch`] was decoded from.
#[derive(Clone, Copy)]
struct Received<'a> {
    /// borsh `(header, commands)`.
    bytes: &'a [u8],
    /// Each command's action in `bytes`.
    action_spans: &'a [(usize, usize)],
}

fn execute_inner<C: Crypto>(
    crypto: &C,
    header: &BatchHeader,
    witness: &Witness,
    commands: &[Command],
    received: Option<Received<'_>>,
) -> Result<(PublicOutput, Vec<Receipt>, ExchangeState), WitnessError> {
    let hasher = CryptoHasher(crypto);
    crypto.phase_start("witness_verify");
    let old_leaves = witness.leaf_hashes(&hasher);
    // The check keeps every node it computes, so the post-root hashes only changed paths.
    let verified = witness.proof.verify_kept(&hasher, &header.prev_root, &old_leaves);
    crypto.phase_end("witness_verify");
    let verified = verified.map_err(|_| WitnessError::RootMismatch)?;
    crypto.phase_start("witness_load");
    let loaded = Reach::compute(&WitnessView(witness), crypto, commands).and_then(|(reach, signers)| {
        check_complete(witness, &reach)?;
        Ok((partial_state(witness)?, signers))
    });
    crypto.phase_end("witness_load");
    let (mut state, signers) = loaded?;
    crypto.phase_start("apply");
    state.reserve_for(commands);
    let receipts = apply_prepared(&mut state, crypto, header, commands, &signers, received);
    crypto.phase_end("apply");
    let receipts = receipts.map_err(WitnessError::Batch)?;
    crypto.phase_start("commit");
    let new_leaves = post_leaf_hashes(&state, witness, &hasher);
    let post_root = verified.update_root(&hasher, &new_leaves);
    crypto.phase_end("commit");
    let post_root = post_root?;
    crypto.phase_start("output");
    let batch_hash = match received {
        Some(r) => crypto.keccak256(r.bytes),
        None => {
            let mut batch = Vec::new();
            header.serialize(&mut batch).expect("Vec write");
            commands.serialize(&mut batch).expect("Vec write");
            crypto.keccak256(&batch)
        }
    };
    // An applied receipt takes 30 bytes, a rejection fewer: sized once, never re-allocated.
    let mut rec = Vec::with_capacity(4 + 32 * receipts.len());
    receipts.serialize(&mut rec).expect("Vec write");
    let output = PublicOutput {
        batch_number: header.batch_number,
        commands: commands.len() as u32,
        pre_root: header.prev_root,
        post_root,
        batch_hash,
        receipts_digest: crypto.keccak256(&rec),
    };
    crypto.phase_end("output");
    Ok((output, receipts, state))
}

/// The leaves of `witness` as `state` now has them: [`Witness::leaf_hashes`] of the witness
/// `state` would give, without copying its leaves (books are hashed straight from the book).
fn post_leaf_hashes(state: &ExchangeState, witness: &Witness, h: &impl MerkleHasher) -> Vec<(u64, Hash)> {
    let mut leaves = state.leaf_hashes_of(
        h,
        witness.accounts.iter().map(|(id, _)| *id),
        witness.markets.iter().map(|(id, _)| *id),
        witness.buckets.iter().map(|(b, _)| *b),
    );
    leaves.sort_unstable_by_key(|(i, _)| *i);
    leaves
}

/// [`ExchangeState::apply_batch`] with each signed command's address and pre-batch account (from
/// the witness check) and its signing hash (over the received bytes when there are some)
/// derived once.
fn apply_prepared(
    state: &mut ExchangeState,
    crypto: &impl Crypto,
    header: &BatchHeader,
    commands: &[Command],
    signers: &[Signer],
    received: Option<Received<'_>>,
) -> Result<Vec<Receipt>, BatchError> {
    if commands.len() > crate::command::MAX_BATCH_COMMANDS {
        return Err(BatchError::TooManyCommands);
    }
    state.begin_batch(header, header.prev_root)?;
    let mut receipts = Vec::with_capacity(commands.len());
    for (i, (command, &(address, account))) in commands.iter().zip(signers).enumerate() {
        let prepared = match command {
            Command::Deposit { .. } => None,
            Command::Signed(_) => {
                let action = received.and_then(|r| {
                    let &(start, end) = r.action_spans.get(i)?;
                    r.bytes.get(start..end)
                });
                Some(Prepared { address, action, account })
            }
        };
        receipts.push(state.apply_prepared(crypto, command, prepared.as_ref()));
    }
    Ok(receipts)
}

fn check_complete(w: &Witness, reach: &Reach) -> Result<(), WitnessError> {
    let present = |id: &AccountId| w.accounts.iter().any(|(a, l)| a == id && l.is_some());
    let empty = |id: &AccountId| w.accounts.iter().any(|(a, l)| a == id && l.is_none());
    if !reach.accounts.iter().all(present) {
        return Err(WitnessError::Incomplete("an account the batch reaches"));
    }
    if !reach.new_accounts.iter().all(empty) {
        return Err(WitnessError::Incomplete("an empty slot for a new account"));
    }
    Ok(())
}

/// Builds the exchange state a witness describes (only the parts it holds).
fn partial_state(w: &Witness) -> Result<ExchangeState, WitnessError> {
    for (id, leaf) in &w.accounts {
        if leaf.is_none() && id.0 < w.global.account_count {
            return Err(WitnessError::Inconsistent("an existing account proven empty"));
        }
    }
    load_state(
        &w.global,
        w.accounts.iter().filter_map(|(id, l)| l.as_ref().map(|l| (*id, l))),
        w.buckets.iter().map(|(b, l)| (*b, l)),
        w.markets.iter().filter_map(|(id, l)| l.as_ref().map(|l| (*id, l))),
    )
}

/// Builds a state from commitment leaves.
fn load_state<'a>(
    g: &GlobalLeaf,
    accounts: impl Iterator<Item = (AccountId, &'a AccountLeaf)>,
    buckets: impl Iterator<Item = (u32, &'a BucketLeaf)>,
    markets: impl Iterator<Item = (MarketId, &'a MarketLeaf)>,
) -> Result<ExchangeState, WitnessError> {
    let mut s = ExchangeState::new(g.chain_id, g.operator);
    s.batch_number = g.batch_number;
    s.timestamp = g.timestamp;
    s.next_order_id = g.next_order_id;
    s.account_count = g.account_count;
    s.fees = g.fees.iter().copied().collect();
    s.deposited = g.deposited.iter().copied().collect();
    s.withdrawn = g.withdrawn.iter().copied().collect();
    s.withdrawal_count = g.withdrawal_count;
    s.withdrawal_chain = g.withdrawal_chain;
    for (id, l) in accounts {
        let balances =
            l.balances.iter().map(|(a, av, lk)| (*a, Balance { available: *av, locked: *lk })).collect();
        s.accounts.insert(id, Account { address: l.address, nonce: l.nonce, balances });
    }
    for (bucket, leaf) in buckets {
        for (address, id) in &leaf.entries {
            s.by_address.insert(*address, *id);
        }
        s.buckets.insert(bucket, leaf.entries.clone());
    }
    for (id, l) in markets {
        let book = Book::restore(l.spec, BookLimits::default(), &l.book).map_err(WitnessError::Snapshot)?;
        s.markets.insert(id, Market { spec: l.spec, fees: l.fees, book });
    }
    Ok(s)
}

/// The whole state as its commitment leaves: what the node writes to disk as a snapshot, and
/// all it needs to rebuild the state ([`ExchangeState::restore`]). Withdrawals already queued
/// are not part of it (the commitment holds only their hash chain and count).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct StateSnapshot {
    /// The global leaf.
    pub global: GlobalLeaf,
    /// Every account, ascending id.
    pub accounts: Vec<(AccountId, AccountLeaf)>,
    /// Every market, ascending id.
    pub markets: Vec<(MarketId, MarketLeaf)>,
    /// Every non-empty address bucket, ascending.
    pub buckets: Vec<(u32, BucketLeaf)>,
}

impl ExchangeState {
    /// The state's leaves, for a snapshot.
    pub fn snapshot(&self) -> StateSnapshot {
        StateSnapshot {
            global: self.global_leaf(),
            accounts: self.accounts.keys().filter_map(|id| Some((*id, self.account_leaf(*id)?))).collect(),
            markets: self.markets.keys().filter_map(|id| Some((*id, self.market_leaf(*id)?))).collect(),
            buckets: self.buckets.keys().map(|b| (*b, self.bucket_leaf(*b))).collect(),
        }
    }

    /// Rebuilds a state from a snapshot, checking that its parts agree with each other (every
    /// account listed in a bucket and every bucket entry's account present, ids below the
    /// counters, books valid for their specs). Its commitment root is then the snapshot's.
    pub fn restore(snap: &StateSnapshot) -> Result<ExchangeState, WitnessError> {
        let g = &snap.global;
        fn ascending<T: Ord, U>(entries: &[(T, U)]) -> bool {
            entries.windows(2).all(|w| w[0].0 < w[1].0)
        }
        if !ascending(&snap.accounts) || !ascending(&snap.markets) || !ascending(&snap.buckets) {
            return Err(WitnessError::Inconsistent("snapshot entries out of order"));
        }
        if snap.accounts.len() as u64 != g.account_count
            || snap.accounts.iter().any(|(id, _)| id.0 >= g.account_count)
        {
            return Err(WitnessError::Inconsistent("snapshot accounts do not match the account count"));
        }
        let s = load_state(
            g,
            snap.accounts.iter().map(|(id, l)| (*id, l)),
            snap.buckets.iter().map(|(b, l)| (*b, l)),
            snap.markets.iter().map(|(id, l)| (*id, l)),
        )?;
        let listed: usize = s.buckets.values().map(Vec::len).sum();
        let consistent = listed == s.accounts.len()
            && s.by_address.len() == listed
            && s.by_address.iter().all(|(a, id)| s.accounts.get(id).is_some_and(|acc| acc.address == *a))
            && s.unknown_order_owner_or_id().is_none();
        if !consistent {
            return Err(WitnessError::Inconsistent("snapshot accounts, buckets and orders disagree"));
        }
        Ok(s)
    }
}
