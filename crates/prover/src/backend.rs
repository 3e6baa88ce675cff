//! The [`Prover`] trait and the native backend.

use thiserror::Error;
use zkclob_state::{NativeCrypto, PublicOutput, Receipt, WitnessError};

use crate::file::BatchFile;

/// What executing a batch gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Execution {
    /// The public output the guest commits.
    pub output: PublicOutput,
    /// One receipt per command.
    pub receipts: Vec<Receipt>,
    /// Instructions executed (SP1 cycles, ZisK steps); `None` for the native backend.
    pub cycles: Option<u64>,
    /// The part of `cycles` spent verifying signatures, from the zkVM's cycle tracker.
    pub signature_cycles: Option<u64>,
    /// Cycles per cycle-tracker label (sha256, keccak256, secp256k1_verify), ascending label.
    pub cycle_breakdown: Vec<(String, u64)>,
}

/// Why a backend could not execute, prove or verify.
#[derive(Debug, Error)]
pub enum ProverError {
    /// The batch's witness is invalid (tampered, incomplete, wrong pre-root).
    #[error("the batch is invalid: {0}")]
    Witness(#[from] WitnessError),
    /// The backend cannot do this (and says why).
    #[error("{0}")]
    Unsupported(&'static str),
    /// The zkVM backend failed.
    #[error("{0}")]
    Backend(String),
}

/// A way to execute and prove batches.
pub trait Prover {
    /// The backend's name as the CLI spells it.
    fn name(&self) -> &'static str;
    /// The backend's version, recorded in proof files (e.g. `"sp1-sdk 6.10.0"`).
    fn version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }
    /// Runs the guest logic on a batch.
    fn execute(&self, batch: &BatchFile) -> Result<Execution, ProverError>;
    /// Produces a proof of the batch (its bytes) and its execution.
    fn prove(&self, batch: &BatchFile) -> Result<(Vec<u8>, Execution), ProverError>;
}

/// Runs the guest's logic natively: the same `zkclob_state::execute` the guests call, with plain
/// Rust cryptography. It checks witnesses and roots exactly as a guest does, but it proves
/// nothing, and it never pretends to.
#[derive(Clone, Copy, Debug, Default)]
pub struct NativeBackend;

impl Prover for NativeBackend {
    fn name(&self) -> &'static str {
        "native"
    }

    fn execute(&self, batch: &BatchFile) -> Result<Execution, ProverError> {
        let (output, receipts) =
            zkclob_state::execute(&NativeCrypto, &batch.header, &batch.witness, &batch.commands)?;
        Ok(Execution { output, receipts, cycles: None, signature_cycles: None, cycle_breakdown: Vec::new() })
    }

    fn prove(&self, _batch: &BatchFile) -> Result<(Vec<u8>, Execution), ProverError> {
        Err(ProverError::Unsupported(
            "the native backend only re-executes the batch natively; it makes no proof (use --backend sp1)",
        ))
    }
}
