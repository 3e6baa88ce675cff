//! A node that follows L1: it reads the rollup contract's events (`Deposited`, `CommandForced`,
//! `Proposed`) and the proposals' blobs, derives each batch with [`crate::derivation`], applies it
//! with the state transition and keeps the state commitment. A fresh [`L1Follower`] started from
//! the genesis state reaches the sequencer's root from L1 data alone.
//!
//! It also gives, per batch, everything a settlement's public values need that does not depend
//! on the proof ([`SyncedBatch::public_values`]): roots, batch and receipt digests, queue positions
//! and chains, the withdrawals tree.
//!
//! Missing blobs are an error, not an empty batch: unavailable data is not invalid data (on
//! Ethereum, blobs are pruned after ~18 days; a node then needs an archive, e.g. the CID store).
//! A sync that stops keeps every batch it applied and resumes where it stopped.

use std::string::String;
use std::vec::Vec;

use alloy_primitives::{keccak256, B256};
use borsh::BorshSerialize;
use thiserror::Error;
use zkclob_state::merkle::{MerkleError, Sha256Hasher};
use zkclob_state::withdrawals::withdrawals_root;
use zkclob_state::{BatchError, ExchangeState, NativeCrypto, Receipt, StateCommitment, Withdrawal};

use super::chain::Chain;
use super::rollup::{L1Error, RollupEvents, L1};
use super::settlement::{forced_chain_link, BlobOpening, DepositRecord, PublicValues};
use crate::blob::Blob;
use crate::derivation::{derive_batch, Cursor, DerivedBatch};
use crate::program::{build_input, ProgramInput};

/// Where blobs come from, by versioned hash.
pub trait BlobSource {
    /// The blob, if available.
    fn blob(&self, versioned_hash: &B256) -> Option<Blob>;
}

impl<C: Chain + ?Sized> BlobSource for C {
    fn blob(&self, versioned_hash: &B256) -> Option<Blob> {
        self.blob_by_hash(versioned_hash)
    }
}

/// Why a sync stopped (the follower is left at the last batch it applied).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SyncError {
    /// A proposal's blob is not available.
    #[error("blob {0} of proposal {1} is not available")]
    BlobUnavailable(B256, u64),
    /// The contract's events skip or repeat a queue position or proposal: not this contract, or
    /// a bug.
    #[error("L1 events out of order: {0}")]
    OutOfOrder(String),
    /// The state transition refused a derived batch (derivation rules out every case, so this is
    /// a bug).
    #[error("derived batch refused: {0}")]
    Batch(#[from] BatchError),
    /// The commitment failed (a bug).
    #[error("commitment: {0}")]
    Merkle(#[from] MerkleError),
    /// Building a program input failed (witness or KZG commitment; a bug).
    #[error("program input: {0}")]
    Program(String),
    /// L1 could not be read (a JSON-RPC node down or refusing); nothing was applied past the
    /// last complete batch, so the sync can simply be retried.
    #[error("reading L1: {0}")]
    L1(#[from] L1Error),
}

/// One batch the follower derived and applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncedBatch {
    /// The proposal (batch number minus one).
    pub proposal: u64,
    /// What derivation made of it.
    pub derived: DerivedBatch,
    /// One receipt per command.
    pub receipts: Vec<Receipt>,
    /// State root before.
    pub pre_root: [u8; 32],
    /// State root after.
    pub post_root: [u8; 32],
    /// Deposits consumed in total before this batch.
    pub deposit_from: u64,
    /// Deposits consumed in total after this batch.
    pub deposit_count: u64,
    /// The deposit chain after `deposit_count` deposits.
    pub deposit_chain: B256,
    /// Forced commands consumed in total before this batch.
    pub forced_from: u64,
    /// Forced commands consumed in total after this batch.
    pub forced_count: u64,
    /// The forced-command chain there.
    pub forced_chain: B256,
    /// The number of the batch's first withdrawal.
    pub first_withdrawal: u64,
    /// The batch's withdrawals.
    pub withdrawals: Vec<Withdrawal>,
    /// The settlement program's input for this batch, when the follower collects them
    /// ([`L1Follower::collect_program_inputs`]).
    pub program_input: Option<ProgramInput>,
}

impl SyncedBatch {
    /// keccak-256 of borsh(header) ‖ borsh(commands): the guest's `batch_hash`.
    pub fn batch_hash(&self) -> B256 {
        let mut bytes = Vec::new();
        self.derived.header.serialize(&mut bytes).expect("Vec write");
        self.derived.commands.serialize(&mut bytes).expect("Vec write");
        keccak256(bytes)
    }

    /// keccak-256 of borsh(receipts): the guest's `receipts_digest`.
    pub fn receipts_digest(&self) -> B256 {
        keccak256(borsh::to_vec(&self.receipts).expect("Vec write"))
    }

    /// The root of the batch's withdrawals tree.
    pub fn withdrawals_root(&self) -> B256 {
        withdrawals_root(&NativeCrypto, self.first_withdrawal, &self.withdrawals).into()
    }

    /// The public values of this batch with the given blob openings.
    pub fn public_values(&self, blobs: Vec<BlobOpening>) -> PublicValues {
        PublicValues {
            preRoot: self.pre_root.into(),
            postRoot: self.post_root.into(),
            batchNumber: self.derived.header.batch_number,
            batchHash: self.batch_hash(),
            receiptsDigest: self.receipts_digest(),
            depositFrom: self.deposit_from,
            depositCount: self.deposit_count,
            depositChain: self.deposit_chain,
            forcedFrom: self.forced_from,
            forcedCount: self.forced_count,
            forcedChain: self.forced_chain,
            withdrawalCount: self.first_withdrawal + self.withdrawals.len() as u64,
            withdrawalsRoot: self.withdrawals_root(),
            blobs,
        }
    }
}

/// Rebuilds the L2 state from the rollup contract's events and blobs.
#[derive(Debug)]
pub struct L1Follower {
    state: ExchangeState,
    commitment: StateCommitment<Sha256Hasher>,
    cursor: Cursor,
    deposits: Vec<DepositRecord>,
    forced: Vec<Vec<u8>>,
    deposits_consumed: usize,
    forced_consumed: usize,
    /// The queue chains at the consumed positions.
    deposit_chain: B256,
    forced_chain: B256,
    next_proposal: u64,
    next_block: u64,
    collect_inputs: bool,
}

impl L1Follower {
    /// A follower at `genesis` (the state the contract's genesis root commits to).
    pub fn new(mut genesis: ExchangeState) -> Result<L1Follower, SyncError> {
        let commitment = StateCommitment::build(Sha256Hasher, &mut genesis)?;
        let cursor = Cursor {
            batch_number: genesis.batch_number,
            timestamp: genesis.timestamp,
            root: commitment.root(),
        };
        Ok(L1Follower {
            state: genesis,
            commitment,
            cursor,
            deposits: Vec::new(),
            forced: Vec::new(),
            deposits_consumed: 0,
            forced_consumed: 0,
            deposit_chain: B256::ZERO,
            forced_chain: B256::ZERO,
            next_proposal: 0,
            next_block: 0,
            collect_inputs: false,
        })
    }

    /// Also build each batch's [`ProgramInput`] (the witness against the pre-state and the
    /// blobs' KZG commitments): what a prover node needs to prove the batches it follows.
    pub fn collect_program_inputs(mut self, on: bool) -> L1Follower {
        self.collect_inputs = on;
        self
    }

    /// The state after the last applied batch.
    pub fn state(&self) -> &ExchangeState {
        &self.state
    }

    /// The commitment (for Merkle proofs, e.g. the escape hatch).
    pub fn commitment(&self) -> &StateCommitment<Sha256Hasher> {
        &self.commitment
    }

    /// The state root after the last applied batch.
    pub fn root(&self) -> [u8; 32] {
        self.cursor.root
    }

    /// Number, time and root of the last applied batch.
    pub fn cursor(&self) -> Cursor {
        self.cursor
    }

    /// Deposits seen on L1 and not yet consumed by a batch.
    pub fn pending_deposits(&self) -> &[DepositRecord] {
        &self.deposits[self.deposits_consumed..]
    }

    /// Forced commands seen on L1 and not yet consumed.
    pub fn pending_forced(&self) -> &[Vec<u8>] {
        &self.forced[self.forced_consumed..]
    }

    /// Processes every rollup event up to the chain's head; returns the batches applied.
    pub fn sync<C: Chain>(&mut self, l1: &L1<C>) -> Result<Vec<SyncedBatch>, SyncError> {
        self.sync_with(l1, l1.chain())
    }

    /// [`L1Follower::sync`] with blobs from `blobs` (an archive, when L1 has pruned them).
    pub fn sync_with<C: Chain>(
        &mut self,
        l1: &L1<C>,
        blobs: &(impl BlobSource + ?Sized),
    ) -> Result<Vec<SyncedBatch>, SyncError> {
        let head = l1.chain().head().map_err(L1Error::from)?;
        let mut applied = Vec::new();
        for event in l1.events_between(self.next_block, head)? {
            match event.event {
                RollupEvents::Deposited(d) => {
                    if !is_next("deposit", d.index.saturating_to(), self.deposits.len())? {
                        continue;
                    }
                    self.deposits.push(DepositRecord {
                        asset_id: d.assetId,
                        atoms: d.atoms,
                        l2_address: d.l2Address.0,
                    });
                }
                RollupEvents::CommandForced(f) => {
                    if !is_next("forced command", f.index.saturating_to(), self.forced.len())? {
                        continue;
                    }
                    self.forced.push(f.command.to_vec());
                }
                RollupEvents::Proposed(p) => {
                    if !is_next("proposal", p.index.saturating_to(), self.next_proposal as usize)? {
                        continue;
                    }
                    let mut proposal_blobs = Vec::with_capacity(p.versionedHashes.len());
                    for hash in &p.versionedHashes {
                        let blob =
                            blobs.blob(hash).ok_or(SyncError::BlobUnavailable(*hash, self.next_proposal))?;
                        proposal_blobs.push(blob);
                    }
                    applied.push(self.apply(
                        &proposal_blobs,
                        p.depositCount as usize,
                        p.forcedCount as usize,
                    )?);
                }
                _ => {}
            }
        }
        self.next_block = head + 1;
        Ok(applied)
    }

    fn apply(
        &mut self,
        blobs: &[Blob],
        deposit_end: usize,
        forced_end: usize,
    ) -> Result<SyncedBatch, SyncError> {
        if deposit_end > self.deposits.len() || forced_end > self.forced.len() {
            return Err(SyncError::OutOfOrder("a proposal counts queue entries no event announced".into()));
        }
        let deposits = &self.deposits[self.deposits_consumed..deposit_end];
        let forced: Vec<&[u8]> =
            self.forced[self.forced_consumed..forced_end].iter().map(Vec::as_slice).collect();
        let derived = derive_batch(&self.cursor, blobs, deposits, &forced);
        let pre_root = self.cursor.root;
        let (deposit_from, forced_from) = (self.deposits_consumed as u64, self.forced_consumed as u64);
        let first_withdrawal = self.state.withdrawal_count();
        let program_input =
            if self.collect_inputs { Some(self.program_input(blobs, deposits, &forced)?) } else { None };
        let receipts = self.state.apply_batch(&NativeCrypto, &derived.header, pre_root, &derived.commands)?;
        let post_root = self.commitment.update(&mut self.state)?;
        self.deposit_chain = deposits.iter().fold(self.deposit_chain, |chain, d| d.chain_after(chain));
        self.forced_chain = forced.iter().fold(self.forced_chain, |chain, c| forced_chain_link(chain, c));
        self.deposits_consumed = deposit_end;
        self.forced_consumed = forced_end;
        self.cursor = Cursor {
            batch_number: derived.header.batch_number,
            timestamp: derived.header.timestamp,
            root: post_root,
        };
        let proposal = self.next_proposal;
        self.next_proposal += 1;
        let withdrawals = self.state.withdrawals()[first_withdrawal as usize..].to_vec();
        Ok(SyncedBatch {
            proposal,
            derived,
            receipts,
            pre_root,
            post_root,
            deposit_from,
            deposit_count: deposit_end as u64,
            deposit_chain: self.deposit_chain,
            forced_from,
            forced_count: forced_end as u64,
            forced_chain: self.forced_chain,
            first_withdrawal,
            withdrawals,
            program_input,
        })
    }

    fn program_input(
        &self,
        blobs: &[Blob],
        deposits: &[DepositRecord],
        forced: &[&[u8]],
    ) -> Result<ProgramInput, SyncError> {
        build_input(
            &self.state,
            self.commitment.tree(),
            blobs,
            self.deposits_consumed as u64,
            self.deposit_chain.0,
            deposits,
            self.forced_consumed as u64,
            self.forced_chain.0,
            forced,
        )
        .map_err(|e| SyncError::Program(e.to_string()))
    }
}

/// Whether an event at queue position `got` is new: positions below `next` were seen by an
/// earlier, interrupted sync (which re-reads its blocks); above `next` is a gap.
fn is_next(what: &str, got: usize, next: usize) -> Result<bool, SyncError> {
    match got.cmp(&next) {
        core::cmp::Ordering::Less => Ok(false),
        core::cmp::Ordering::Equal => Ok(true),
        core::cmp::Ordering::Greater => {
            Err(SyncError::OutOfOrder(format!("{what} {got} where {next} was next")))
        }
    }
}
