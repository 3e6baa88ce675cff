//! # zkclob-prover
//!
//! Turns batches into proofs. It owns:
//!
//! - the [`Prover`] trait (execute → public output and cycle counts; prove; verify) and its
//!   backends: [`NativeBackend`] here (it re-executes the guest logic natively and is never called
//!   a proof: asking it to prove is an error), SP1 and ZisK behind cargo features;
//! - the batch file format ([`BatchFile`]): header, commands and witness, with the native node's
//!   post-root for comparison; and the proof file format ([`ProofFile`]);
//! - reproducible batch generation ([`generate`]) for tests, benchmarks and the CLI.
//!
//! It is a std crate on the host side; the guests depend only on `zkclob-state`.

mod backend;
mod file;
pub mod generate;
#[cfg(feature = "sp1")]
pub mod sp1;
#[cfg(feature = "zisk")]
pub mod zisk;

pub use backend::{Execution, NativeBackend, Prover, ProverError};
pub use file::{
    BatchFile, FileError, ProofFile, BATCH_MAGIC, MAX_BATCH_FILE_BYTES, MAX_PROOF_FILE_BYTES, PROOF_MAGIC,
};
pub use generate::{generate, generate_settlement, GenerateError, GenerateParams, SettlementCase, Workload};

/// The guests' input for one batch: the tag `GUEST_BATCH`, then borsh (witness, header,
/// commands) — [`zkclob_state::ReceivedBatch`], whose header and commands are the bytes the
/// guest hashes as received.
pub fn guest_batch_input(batch: &BatchFile) -> Vec<u8> {
    let mut bytes = vec![zkclob_rollup::program::GUEST_BATCH];
    bytes.extend(zkclob_state::ReceivedBatch::encode(&batch.witness, &batch.header, &batch.commands));
    bytes
}

/// The guests' input for the settlement program: the tag `GUEST_SETTLE`, then borsh of `input`.
pub fn guest_settle_input(input: &zkclob_rollup::program::ProgramInput) -> Vec<u8> {
    let mut bytes = vec![zkclob_rollup::program::GUEST_SETTLE];
    bytes.extend(zkclob_core::codec::encode(input));
    bytes
}
