//! The settlement program: what the zkVM guest runs so that one L1 proposal can settle.
//!
//! Input ([`ProgramInput`]): the proposal's blobs and their KZG commitments, the L1 queue entries
//! the batch consumes (deposits and forced commands, with the queue positions and hash chains
//! where they start), and the witness of the pre-state. [`run`]:
//!
//! 1. derives the batch from the blobs and queue entries ([`crate::derivation::derive_batch`]),
//!    with the previous batch's number and time read from the witness's global leaf;
//! 2. executes it against the witness ([`zkclob_state::execute_with_state`]): the witness must
//!    match the pre-root, and every command is applied with the real state transition;
//! 3. folds the consumed entries onto the given chains, so L1 can check them against its own
//!    (`Rollup._checkQueue`);
//! 4. builds the keccak tree of the batch's withdrawals ([`zkclob_state::withdrawals`]);
//! 5. per blob, the EIP-4844 proof of equivalence: the versioned hash of the commitment, the
//!    Fiat–Shamir point `z = keccak256(versioned_hash ‖ blob)` with its top byte cleared
//!    (`z < 2^248 < r`), and `y = p(z)` of the blob's polynomial
//!    ([`crate::evaluation::evaluate_blob_polynomial`]);
//! 6. returns the public values exactly as `Rollup.settle` decodes them
//!    (`abi.encode(PublicValues)`, [`encode_public_values`]).
//!
//! Why the binding holds: the commitment is an input, but L1's point-evaluation precompile checks
//! that the *proposed* blob's commitment hashes to the public versioned hash and opens to `y` at
//! `z`. `z` is fixed by a hash of the blob this program decoded and that commitment, after both
//! are chosen; two different polynomials of degree < 4096 agree on at most 4095 points, so a
//! program run on another blob passes with probability ≤ 4096 / 2^248.
//!
//! The same function runs natively (the node's `native-reexecute` mode and the tests, with
//! [`zkclob_state::NativeCrypto`]) and in the SP1 and ZisK guests (with their precompiles): the
//! public values must be byte-identical. `no_std`.

use alloc::vec::Vec;

use borsh::{BorshDeserialize, BorshSerialize};
use thiserror::Error;
use zkclob_state::withdrawals::withdrawals_root;
use zkclob_state::{execute_with_state, Crypto, Witness, WitnessError};

use crate::blob::{Blob, BYTES_PER_BLOB};
use crate::derivation::{derive_batch, Cursor, DepositRecord, DerivedBatch};
use crate::evaluation::{evaluate_blob_polynomial, EvalError, BYTES_PER_COMMITMENT};

/// Blobs one proposal may carry (`Rollup.MAX_BLOBS_PER_PROPOSAL`).
pub const MAX_BLOBS_PER_PROPOSAL: usize = 6;

/// The guests' input starts with one of these bytes, then the borsh body.
/// `GUEST_BATCH`: `(Witness, BatchHeader, Vec<Command>)` (`zkclob_state::ReceivedBatch`), the bare state transition (commits the
/// borsh `PublicOutput`).
pub const GUEST_BATCH: u8 = 0;
/// `GUEST_SETTLE`: a [`ProgramInput`]; SP1 commits [`encode_public_values`] of the result, ZisK
/// (whose public output is limited to 256 bytes) commits its keccak-256.
pub const GUEST_SETTLE: u8 = 1;

/// Everything the settlement program reads.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ProgramInput {
    /// The state root before the batch (the last settled root).
    pub pre_root: [u8; 32],
    /// The proposal's blobs, 131,072 bytes each, in order.
    pub blobs: Vec<Vec<u8>>,
    /// Their KZG commitments (48 bytes each), in order.
    pub commitments: Vec<[u8; BYTES_PER_COMMITMENT]>,
    /// Deposits consumed before this batch (where its deposits start in the L1 queue).
    pub deposit_from: u64,
    /// The deposit chain at `deposit_from`.
    pub deposit_chain: [u8; 32],
    /// The deposits the batch consumes, in queue order.
    pub deposits: Vec<ProgramDeposit>,
    /// Forced commands consumed before this batch.
    pub forced_from: u64,
    /// The forced-command chain at `forced_from`.
    pub forced_chain: [u8; 32],
    /// The forced commands the batch consumes (their raw bytes), in queue order.
    pub forced: Vec<Vec<u8>>,
    /// The witness of the pre-state for the derived batch.
    pub witness: Witness,
}

/// A deposit in the program's input (a [`DepositRecord`] with a borsh encoding).
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ProgramDeposit {
    /// L2 asset id.
    pub asset_id: u32,
    /// Atoms.
    pub atoms: u128,
    /// The L2 account credited.
    pub l2_address: [u8; 20],
}

impl From<DepositRecord> for ProgramDeposit {
    fn from(d: DepositRecord) -> Self {
        ProgramDeposit { asset_id: d.asset_id, atoms: d.atoms, l2_address: d.l2_address }
    }
}

impl From<ProgramDeposit> for DepositRecord {
    fn from(d: ProgramDeposit) -> Self {
        DepositRecord { asset_id: d.asset_id, atoms: d.atoms, l2_address: d.l2_address }
    }
}

/// The proof of equivalence of one blob.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Opening {
    /// `0x01 ‖ sha256(commitment)[1..]`.
    pub versioned_hash: [u8; 32],
    /// The Fiat–Shamir point.
    pub z: [u8; 32],
    /// The blob's polynomial at `z`.
    pub y: [u8; 32],
}

/// The public values of one settlement (`Rollup.PublicValues`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicValues {
    /// Root before the batch.
    pub pre_root: [u8; 32],
    /// Root after it.
    pub post_root: [u8; 32],
    /// The batch number (= proposal index + 1).
    pub batch_number: u64,
    /// keccak-256 of borsh(header) ‖ borsh(commands) of the derived batch.
    pub batch_hash: [u8; 32],
    /// keccak-256 of borsh(receipts).
    pub receipts_digest: [u8; 32],
    /// Deposits consumed before the batch.
    pub deposit_from: u64,
    /// Deposits consumed after it.
    pub deposit_count: u64,
    /// The deposit chain at `deposit_count`.
    pub deposit_chain: [u8; 32],
    /// Forced commands consumed before the batch.
    pub forced_from: u64,
    /// Forced commands consumed after it.
    pub forced_count: u64,
    /// The forced-command chain at `forced_count`.
    pub forced_chain: [u8; 32],
    /// Withdrawals queued in total after the batch.
    pub withdrawal_count: u64,
    /// Root of the batch's withdrawals tree.
    pub withdrawals_root: [u8; 32],
    /// One opening per blob.
    pub blobs: Vec<Opening>,
}

/// Why the program refuses to produce public values (the guest then commits nothing).
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ProgramError {
    /// No blobs, more than [`MAX_BLOBS_PER_PROPOSAL`], or not one commitment per blob.
    #[error("a proposal has 1 to 6 blobs and one commitment per blob")]
    BlobCount,
    /// A blob is not 131,072 bytes.
    #[error("a blob is not 131,072 bytes")]
    BlobLength,
    /// A blob holds a field element ≥ the BLS modulus (L1 would never have accepted it).
    #[error("blob evaluation: {0}")]
    Evaluation(#[from] EvalError),
    /// The witness does not verify against the pre-root, or misses what the batch reaches.
    #[error("witness: {0}")]
    Witness(#[from] WitnessError),
}

/// What [`run`] produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramOutput {
    /// The public values.
    pub public_values: PublicValues,
    /// The batch derivation made.
    pub derived: DerivedBatch,
}

fn chain_link(crypto: &impl Crypto, previous: &[u8; 32], tail: &[u8]) -> [u8; 32] {
    let mut preimage = Vec::with_capacity(32 + tail.len());
    preimage.extend_from_slice(previous);
    preimage.extend_from_slice(tail);
    crypto.keccak256(&preimage)
}

/// The deposit chain after `deposits`, starting at `chain` (as `Rollup.depositChainLink`).
pub fn fold_deposit_chain(crypto: &impl Crypto, chain: [u8; 32], deposits: &[ProgramDeposit]) -> [u8; 32] {
    deposits.iter().fold(chain, |chain, d| {
        let mut tail = [0u8; 40];
        tail[..4].copy_from_slice(&d.asset_id.to_be_bytes());
        tail[4..20].copy_from_slice(&d.atoms.to_be_bytes());
        tail[20..].copy_from_slice(&d.l2_address);
        chain_link(crypto, &chain, &tail)
    })
}

/// The forced-command chain after `commands`, starting at `chain` (as `Rollup.forcedChainLink`).
pub fn fold_forced_chain(crypto: &impl Crypto, chain: [u8; 32], commands: &[Vec<u8>]) -> [u8; 32] {
    commands.iter().fold(chain, |chain, c| chain_link(crypto, &chain, &crypto.keccak256(c)))
}

/// The opening of one blob for `commitment`.
pub fn open(
    crypto: &impl Crypto,
    blob: &Blob,
    commitment: &[u8; BYTES_PER_COMMITMENT],
) -> Result<Opening, EvalError> {
    let mut versioned_hash = crypto.sha256(commitment);
    versioned_hash[0] = crate::evaluation::VERSIONED_HASH_VERSION_KZG;
    let mut preimage = Vec::with_capacity(32 + BYTES_PER_BLOB);
    preimage.extend_from_slice(&versioned_hash);
    preimage.extend_from_slice(blob.as_bytes());
    let mut z = crypto.keccak256(&preimage);
    z[0] = 0;
    let y = evaluate_blob_polynomial(blob, &z)?;
    Ok(Opening { versioned_hash, z, y })
}

/// Runs the settlement program.
pub fn run<C: Crypto>(crypto: &C, input: &ProgramInput) -> Result<ProgramOutput, ProgramError> {
    if input.blobs.is_empty()
        || input.blobs.len() > MAX_BLOBS_PER_PROPOSAL
        || input.blobs.len() != input.commitments.len()
    {
        return Err(ProgramError::BlobCount);
    }
    let blobs = input
        .blobs
        .iter()
        .map(|b| Blob::from_bytes(b).map_err(|_| ProgramError::BlobLength))
        .collect::<Result<Vec<Blob>, _>>()?;
    crypto.phase_start("derive");
    let global = &input.witness.global;
    let cursor =
        Cursor { batch_number: global.batch_number, timestamp: global.timestamp, root: input.pre_root };
    let deposits: Vec<DepositRecord> = input.deposits.iter().map(|d| DepositRecord::from(*d)).collect();
    let forced: Vec<&[u8]> = input.forced.iter().map(Vec::as_slice).collect();
    let derived = derive_batch(&cursor, &blobs, &deposits, &forced);
    crypto.phase_end("derive");
    let first_withdrawal = global.withdrawal_count;
    let (output, _receipts, state) =
        execute_with_state(crypto, &derived.header, &input.witness, &derived.commands)?;
    crypto.phase_start("open_blobs");
    let openings = blobs
        .iter()
        .zip(&input.commitments)
        .map(|(blob, commitment)| open(crypto, blob, commitment))
        .collect::<Result<Vec<_>, _>>();
    crypto.phase_end("open_blobs");
    let openings = openings?;
    crypto.phase_start("settlement");
    let withdrawals = state.withdrawals();
    let public_values = PublicValues {
        pre_root: output.pre_root,
        post_root: output.post_root,
        batch_number: output.batch_number,
        batch_hash: output.batch_hash,
        receipts_digest: output.receipts_digest,
        deposit_from: input.deposit_from,
        deposit_count: input.deposit_from + input.deposits.len() as u64,
        deposit_chain: fold_deposit_chain(crypto, input.deposit_chain, &input.deposits),
        forced_from: input.forced_from,
        forced_count: input.forced_from + input.forced.len() as u64,
        forced_chain: fold_forced_chain(crypto, input.forced_chain, &input.forced),
        withdrawal_count: state.withdrawal_count(),
        withdrawals_root: withdrawals_root(crypto, first_withdrawal, withdrawals),
        blobs: openings,
    };
    crypto.phase_end("settlement");
    Ok(ProgramOutput { public_values, derived })
}

/// Builds the program's input for the batch derived from `blobs` and the queue entries, against
/// the full pre-batch `state` committed by `tree` (std: it computes the KZG commitments).
#[cfg(feature = "std")]
#[allow(clippy::too_many_arguments)]
pub fn build_input<H: zkclob_state::merkle::MerkleHasher>(
    state: &zkclob_state::ExchangeState,
    tree: &zkclob_state::merkle::MerkleTree<H>,
    blobs: &[Blob],
    deposit_from: u64,
    deposit_chain: [u8; 32],
    deposits: &[DepositRecord],
    forced_from: u64,
    forced_chain: [u8; 32],
    forced: &[&[u8]],
) -> Result<ProgramInput, BuildInputError> {
    use zkclob_state::NativeCrypto;
    let cursor = Cursor { batch_number: state.batch_number, timestamp: state.timestamp, root: tree.root() };
    let derived = derive_batch(&cursor, blobs, deposits, forced);
    let witness = Witness::generate(state, tree, &NativeCrypto, &derived.commands)?;
    let commitments = blobs.iter().map(crate::kzg::blob_to_commitment).collect::<Result<Vec<_>, _>>()?;
    Ok(ProgramInput {
        pre_root: tree.root(),
        blobs: blobs.iter().map(|b| b.as_bytes().to_vec()).collect(),
        commitments,
        deposit_from,
        deposit_chain,
        deposits: deposits.iter().map(|d| ProgramDeposit::from(*d)).collect(),
        forced_from,
        forced_chain,
        forced: forced.iter().map(|c| c.to_vec()).collect(),
        witness,
    })
}

/// Why [`build_input`] failed.
#[cfg(feature = "std")]
#[derive(Debug, Error)]
pub enum BuildInputError {
    /// The witness cannot be built (the state and tree disagree).
    #[error("witness: {0}")]
    Witness(#[from] WitnessError),
    /// A blob cannot be committed to (a field element ≥ the modulus).
    #[error("kzg: {0}")]
    Kzg(#[from] crate::kzg::KzgError),
}

fn word_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&[0u8; 24]);
    out.extend_from_slice(&v.to_be_bytes());
}

/// `abi.encode(pv)` of the Solidity `PublicValues` struct: 32-byte words, `512 + 96·n` bytes for
/// `n` blobs (layout in `contracts/README.md`). A host test holds it equal to `alloy`'s encoding.
pub fn encode_public_values(pv: &PublicValues) -> Vec<u8> {
    let mut out = Vec::with_capacity(512 + 96 * pv.blobs.len());
    word_u64(&mut out, 0x20); // the struct is dynamic: its offset
    out.extend_from_slice(&pv.pre_root);
    out.extend_from_slice(&pv.post_root);
    word_u64(&mut out, pv.batch_number);
    out.extend_from_slice(&pv.batch_hash);
    out.extend_from_slice(&pv.receipts_digest);
    word_u64(&mut out, pv.deposit_from);
    word_u64(&mut out, pv.deposit_count);
    out.extend_from_slice(&pv.deposit_chain);
    word_u64(&mut out, pv.forced_from);
    word_u64(&mut out, pv.forced_count);
    out.extend_from_slice(&pv.forced_chain);
    word_u64(&mut out, pv.withdrawal_count);
    out.extend_from_slice(&pv.withdrawals_root);
    word_u64(&mut out, 14 * 32); // offset of `blobs` from the struct's start (14 head words)
    word_u64(&mut out, pv.blobs.len() as u64);
    for o in &pv.blobs {
        out.extend_from_slice(&o.versioned_hash);
        out.extend_from_slice(&o.z);
        out.extend_from_slice(&o.y);
    }
    out
}
