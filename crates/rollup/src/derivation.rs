//! Derivation: the L2 batch that one L1 proposal stands for, from L1 data alone.
//!
//! A based rollup has no trusted sequencer: anyone may propose, so the rules that turn a proposal
//! into a batch must be total — every proposal, however malformed, gives exactly one batch, and
//! nothing a proposer posts can halt the chain. Proposal `i` (0-based, L1 inclusion order) is
//! batch `i + 1`, and consists of, in this order:
//!
//! 1. **deposits**: every deposit queued on L1 from where the previous batch stopped up to the
//!    queue length recorded in the `Proposed` event (all of them, so the contract's "due" rule is
//!    always met), each as `Command::Deposit`;
//! 2. **forced commands**: likewise every forced command queued up to the proposal, each decoded
//!    as a borsh [`Command`]; one that does not decode, has bytes left over, or is not a
//!    `Command::Signed` (a forced `Deposit` must never mint) is consumed and skipped;
//! 3. **the proposal's commands**, decoded from its blobs ([`crate::pipeline::decode_blobs`]), if
//!    the proposal is *valid*: the blobs decode; the batch header names this batch's number and
//!    the state root after the previous batch; its time is not before the previous batch's; no
//!    command is a `Deposit` (L2 money comes from L1 only); and the whole batch fits
//!    [`MAX_BATCH_COMMANDS`]. Otherwise the proposal is **empty**: the batch carries only (1) and
//!    (2), with the previous batch's time, and the reason is reported.
//!
//! The sequencer builds its blobs for exactly this: a blob holds only the L2 commands of (3), and
//! the sequencer applies deposits and forced commands in front of them as derivation will. The
//! zkVM guest runs the same function, so the proven batch is the derived one.
//!
//! This module is `no_std`; [`crate::l1::derive`] feeds it from the in-process L1.

use alloc::vec::Vec;

use borsh::BorshDeserialize;
use zkclob_core::{Amount, AssetId, Timestamp};
use zkclob_state::command::MAX_BATCH_COMMANDS;
use zkclob_state::{Address, BatchHeader, Command};

use crate::blob::Blob;
use crate::pipeline::{decode_blobs, BlobsToBatchError};

/// One deposit as the L1 queue records it and L2 credits it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepositRecord {
    /// L2 asset id.
    pub asset_id: u32,
    /// Amount in L2 atoms.
    pub atoms: u128,
    /// The L2 account credited.
    pub l2_address: [u8; 20],
}

impl DepositRecord {
    /// The L2 command that credits it.
    pub fn to_command(&self) -> Command {
        Command::Deposit {
            to: Address(self.l2_address),
            asset: AssetId(self.asset_id),
            amount: Amount(self.atoms),
        }
    }
}

/// Why a proposal's own commands were dropped (the batch is then "empty": L1 commands only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmptyReason {
    /// The blobs do not decode to a batch.
    Undecodable(BlobsToBatchError),
    /// The header's batch number is not this batch's.
    WrongBatchNumber {
        /// What derivation expected.
        expected: u64,
        /// What the header says.
        got: u64,
    },
    /// The header's previous root is not the root after the previous batch.
    WrongPrevRoot,
    /// The header's time is before the previous batch's.
    TimeWentBack,
    /// A command of the proposal is a `Deposit` (L2 money comes from L1 deposits only).
    DepositInBlob {
        /// Its position among the proposal's commands.
        position: usize,
    },
    /// With the L1 commands in front, the batch would exceed [`MAX_BATCH_COMMANDS`].
    TooManyCommands,
}

/// What derivation made of one proposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerivedBatch {
    /// The header the batch applies with.
    pub header: BatchHeader,
    /// Deposits, then forced commands that decoded, then the proposal's commands (if valid).
    pub commands: Vec<Command>,
    /// Deposits consumed (all of them became commands).
    pub deposits: usize,
    /// Forced commands consumed.
    pub forced: usize,
    /// Forced commands consumed that did not decode to a signed command, by position.
    pub forced_skipped: Vec<usize>,
    /// Commands that came from the proposal's blobs.
    pub proposal_commands: usize,
    /// `None` if the proposal was valid, else why it became empty.
    pub empty: Option<EmptyReason>,
}

/// The state derivation needs from the previous batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// The previous batch's number (0 = genesis).
    pub batch_number: u64,
    /// Its time.
    pub timestamp: Timestamp,
    /// The state root after it.
    pub root: [u8; 32],
}

/// A forced command's bytes as an L2 command, if they are exactly one signed command.
pub fn forced_command(bytes: &[u8]) -> Option<Command> {
    let mut rest = bytes;
    match Command::deserialize(&mut rest) {
        Ok(command @ Command::Signed(_)) if rest.is_empty() => Some(command),
        _ => None,
    }
}

/// Derives the batch after `cursor` from the proposal's `blobs` and the L1 queue entries it
/// consumes. Total: never fails, never panics.
pub fn derive_batch(
    cursor: &Cursor,
    blobs: &[Blob],
    deposits: &[DepositRecord],
    forced: &[&[u8]],
) -> DerivedBatch {
    let mut commands: Vec<Command> = deposits.iter().map(DepositRecord::to_command).collect();
    let mut forced_skipped = Vec::new();
    for (position, bytes) in forced.iter().enumerate() {
        match forced_command(bytes) {
            Some(command) => commands.push(command),
            None => forced_skipped.push(position),
        }
    }
    let expected = cursor.batch_number.saturating_add(1);
    let empty_header =
        BatchHeader { batch_number: expected, timestamp: cursor.timestamp, prev_root: cursor.root };
    let (header, own, empty) = match check_proposal(cursor, blobs, commands.len()) {
        Ok((header, own)) => (header, own, None),
        Err(reason) => (empty_header, Vec::new(), Some(reason)),
    };
    let proposal_commands = own.len();
    commands.extend(own);
    DerivedBatch {
        header,
        commands,
        deposits: deposits.len(),
        forced: forced.len(),
        forced_skipped,
        proposal_commands,
        empty,
    }
}

fn check_proposal(
    cursor: &Cursor,
    blobs: &[Blob],
    l1_commands: usize,
) -> Result<(BatchHeader, Vec<Command>), EmptyReason> {
    let (header, commands) = decode_blobs(blobs).map_err(EmptyReason::Undecodable)?;
    let expected = cursor.batch_number.saturating_add(1);
    if header.batch_number != expected {
        return Err(EmptyReason::WrongBatchNumber { expected, got: header.batch_number });
    }
    if header.prev_root != cursor.root {
        return Err(EmptyReason::WrongPrevRoot);
    }
    if header.timestamp < cursor.timestamp {
        return Err(EmptyReason::TimeWentBack);
    }
    if let Some(position) = commands.iter().position(|c| matches!(c, Command::Deposit { .. })) {
        return Err(EmptyReason::DepositInBlob { position });
    }
    if l1_commands.saturating_add(commands.len()) > MAX_BATCH_COMMANDS {
        return Err(EmptyReason::TooManyCommands);
    }
    Ok((header, commands))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::encode_blobs;
    use zkclob_state::{Action, SignedCommand};

    fn cursor() -> Cursor {
        Cursor { batch_number: 4, timestamp: Timestamp(1_000), root: [7; 32] }
    }

    fn signed(nonce: u64) -> Command {
        Command::Signed(SignedCommand {
            signer: [1; 64],
            nonce,
            action: Action::Withdraw { asset: AssetId(1), amount: Amount(5) },
            signature: [2; 64],
        })
    }

    fn header(number: u64, time: u64, root: [u8; 32]) -> BatchHeader {
        BatchHeader { batch_number: number, timestamp: Timestamp(time), prev_root: root }
    }

    const DEPOSIT: DepositRecord = DepositRecord { asset_id: 1, atoms: 10, l2_address: [9; 20] };

    #[test]
    fn a_valid_proposal_follows_the_l1_commands() {
        let blobs = encode_blobs(&header(5, 2_000, [7; 32]), &[signed(0), signed(1)]).unwrap();
        let forced_ok = borsh::to_vec(&signed(9)).unwrap();
        let forced_bad = [0xffu8, 1, 2];
        let mut forced_trailing = forced_ok.clone();
        forced_trailing.push(0);
        let forced_deposit = borsh::to_vec(&DEPOSIT.to_command()).unwrap();
        let forced: [&[u8]; 4] = [&forced_ok, &forced_bad, &forced_trailing, &forced_deposit];
        let d = derive_batch(&cursor(), &blobs, &[DEPOSIT], &forced);
        assert_eq!(d.empty, None);
        assert_eq!(d.header, header(5, 2_000, [7; 32]));
        assert_eq!(d.commands, vec![DEPOSIT.to_command(), signed(9), signed(0), signed(1)]);
        assert_eq!((d.deposits, d.forced, d.proposal_commands), (1, 4, 2));
        assert_eq!(d.forced_skipped, vec![1, 2, 3]);
    }

    #[test]
    fn an_invalid_proposal_derives_an_empty_batch_that_keeps_the_l1_commands() {
        let c = cursor();
        let cases: Vec<(Vec<Blob>, EmptyReason)> = vec![
            (vec![Blob::zeroed()], EmptyReason::Undecodable(decode_blobs(&[Blob::zeroed()]).unwrap_err())),
            (Vec::new(), EmptyReason::Undecodable(decode_blobs(&[]).unwrap_err())),
            (
                encode_blobs(&header(6, 2_000, [7; 32]), &[signed(0)]).unwrap(),
                EmptyReason::WrongBatchNumber { expected: 5, got: 6 },
            ),
            (encode_blobs(&header(5, 2_000, [8; 32]), &[signed(0)]).unwrap(), EmptyReason::WrongPrevRoot),
            (encode_blobs(&header(5, 999, [7; 32]), &[signed(0)]).unwrap(), EmptyReason::TimeWentBack),
            (
                encode_blobs(&header(5, 2_000, [7; 32]), &[signed(0), DEPOSIT.to_command()]).unwrap(),
                EmptyReason::DepositInBlob { position: 1 },
            ),
        ];
        for (blobs, reason) in cases {
            let d = derive_batch(&c, &blobs, &[DEPOSIT], &[]);
            assert_eq!(d.empty, Some(reason));
            assert_eq!(d.header, header(5, 1_000, [7; 32]), "the previous time and root");
            assert_eq!(d.commands, vec![DEPOSIT.to_command()]);
            assert_eq!(d.proposal_commands, 0);
        }
    }

    #[test]
    fn the_l1_commands_count_against_the_batch_limit() {
        let own: Vec<Command> = (0..MAX_BATCH_COMMANDS as u64).map(signed).collect();
        let blobs = encode_blobs(&header(5, 2_000, [7; 32]), &own).unwrap();
        assert_eq!(derive_batch(&cursor(), &blobs, &[], &[]).empty, None);
        let d = derive_batch(&cursor(), &blobs, &[DEPOSIT], &[]);
        assert_eq!(d.empty, Some(EmptyReason::TooManyCommands));
        assert_eq!(d.commands.len(), 1);
    }
}
