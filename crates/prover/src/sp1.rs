//! The SP1 backend: executes the guest ELF in SP1's executor (cycle counts, with the guest's
//! cycle-tracker labels), makes real core STARK proofs, and verifies them.

use std::path::Path;

use sp1_sdk::blocking::{ProveRequest, Prover as _, ProverClient};
use sp1_sdk::{Elf, ProvingKey as _, SP1ProofWithPublicValues, SP1Stdin};
use zkclob_rollup::program::ProgramInput;
use zkclob_state::PublicOutput;

use crate::backend::{Execution, Prover, ProverError};
use crate::file::BatchFile;

/// Label the guest puts around signature verification.
pub const SIGNATURE_LABEL: &str = "secp256k1_verify";

/// What executing the settlement program in SP1 gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettlementExecution {
    /// The committed public values: `abi.encode(PublicValues)`.
    pub public_values: Vec<u8>,
    /// Total cycles.
    pub cycles: u64,
    /// Cycles per cycle-tracker label, sorted by label.
    pub cycle_breakdown: Vec<(String, u64)>,
}

/// SP1 with one guest ELF.
#[derive(Clone, Debug)]
pub struct Sp1Backend {
    elf: Vec<u8>,
}

impl Sp1Backend {
    /// Loads the guest ELF (`scripts/build-guests.sh` writes `target/guests/zkclob-guest-sp1.elf`).
    pub fn from_elf_file(path: &Path) -> Result<Sp1Backend, ProverError> {
        let elf = std::fs::read(path)
            .map_err(|e| ProverError::Backend(format!("reading the SP1 guest {}: {e}", path.display())))?;
        Ok(Sp1Backend { elf })
    }

    fn stdin(batch: &BatchFile) -> SP1Stdin {
        let mut stdin = SP1Stdin::new();
        stdin.write_vec(crate::guest_batch_input(batch));
        stdin
    }

    /// Executes the settlement program of one L1 proposal in SP1's executor: the committed
    /// public values (`abi.encode(PublicValues)`, what `Rollup.settle` takes), the cycles, and
    /// the cycles per phase (the guest's cycle-tracker labels).
    pub fn execute_settlement(&self, input: &ProgramInput) -> Result<SettlementExecution, ProverError> {
        let mut stdin = SP1Stdin::new();
        stdin.write_vec(crate::guest_settle_input(input));
        let client = ProverClient::builder().light().build();
        let (public_values, report) = client
            .execute(Elf::from(self.elf.clone()), stdin)
            .run()
            .map_err(|e| ProverError::Backend(format!("SP1 execution failed: {e}")))?;
        check_exit(report.exit_code)?;
        let mut cycle_breakdown: Vec<(String, u64)> =
            report.cycle_tracker.iter().map(|(k, c)| (k.clone(), *c)).collect();
        cycle_breakdown.sort();
        Ok(SettlementExecution {
            public_values: public_values.as_slice().to_vec(),
            cycles: report.total_instruction_count(),
            cycle_breakdown,
        })
    }

    fn output(bytes: &[u8]) -> Result<PublicOutput, ProverError> {
        zkclob_core::codec::decode(bytes, 1024)
            .map_err(|e| ProverError::Backend(format!("the guest committed a malformed output: {e}")))
    }

    /// Makes a real SP1 core (STARK) proof of the settlement program on `input`, verifies it,
    /// and checks its public values against an execution: (proof bytes, public values).
    pub fn prove_settlement(&self, input: &ProgramInput) -> Result<(Vec<u8>, Vec<u8>), ProverError> {
        let executed = self.execute_settlement(input)?;
        let mut stdin = SP1Stdin::new();
        stdin.write_vec(crate::guest_settle_input(input));
        let (bytes, public_values) = self.prove_stdin(stdin)?;
        if public_values != executed.public_values {
            return Err(ProverError::Backend("the proof's public values differ from execution".into()));
        }
        Ok((bytes, public_values))
    }

    /// Verifies a settlement proof made by [`Sp1Backend::prove_settlement`] for this ELF; returns
    /// the public values it proves.
    pub fn verify_settlement(&self, proof_bytes: &[u8]) -> Result<Vec<u8>, ProverError> {
        self.verify_bytes(proof_bytes)
    }

    /// Verifies a proof made by [`Prover::prove`] for this ELF; returns its public output.
    pub fn verify_proof(&self, proof_bytes: &[u8]) -> Result<PublicOutput, ProverError> {
        Self::output(&self.verify_bytes(proof_bytes)?)
    }

    /// A core proof of this ELF on `stdin`, verified once: (the proof file's bytes, its public
    /// values).
    fn prove_stdin(&self, stdin: SP1Stdin) -> Result<(Vec<u8>, Vec<u8>), ProverError> {
        let client = ProverClient::builder().cpu().build();
        let pk =
            client.setup(Elf::from(self.elf.clone())).map_err(|e| ProverError::Backend(e.to_string()))?;
        let proof = client
            .prove(&pk, stdin)
            .core()
            .run()
            .map_err(|e| ProverError::Backend(format!("SP1 proving failed: {e}")))?;
        client
            .verify(&proof, pk.verifying_key(), None)
            .map_err(|e| ProverError::Backend(format!("the fresh proof does not verify: {e}")))?;
        let dir = tempdir()?;
        let path = dir.path().join("proof.bin");
        proof.save(&path).map_err(|e| ProverError::Backend(e.to_string()))?;
        let bytes = std::fs::read(&path).map_err(|e| ProverError::Backend(e.to_string()))?;
        Ok((bytes, proof.public_values.as_slice().to_vec()))
    }

    /// Loads a proof file's bytes and verifies it against this ELF; returns its public values.
    fn verify_bytes(&self, proof_bytes: &[u8]) -> Result<Vec<u8>, ProverError> {
        let dir = tempdir()?;
        let path = dir.path().join("proof-to-verify.bin");
        std::fs::write(&path, proof_bytes).map_err(|e| ProverError::Backend(e.to_string()))?;
        let proof = SP1ProofWithPublicValues::load(&path)
            .map_err(|e| ProverError::Backend(format!("not an SP1 proof: {e}")))?;
        let client = ProverClient::builder().cpu().build();
        let pk =
            client.setup(Elf::from(self.elf.clone())).map_err(|e| ProverError::Backend(e.to_string()))?;
        client
            .verify(&proof, pk.verifying_key(), None)
            .map_err(|e| ProverError::Backend(format!("the proof does not verify: {e}")))?;
        Ok(proof.public_values.as_slice().to_vec())
    }
}

/// SP1 runs a guest that panics to its end and reports a non-zero exit code (a proof of it would
/// carry that code): any code but 0 is a refusal.
fn check_exit(exit_code: u64) -> Result<(), ProverError> {
    if exit_code == 0 {
        Ok(())
    } else {
        Err(ProverError::Backend(format!("the SP1 guest refused the input (exit code {exit_code})")))
    }
}

/// A directory of its own for each proof file (parallel proofs and checks never share one),
/// removed when dropped.
fn tempdir() -> Result<tempfile::TempDir, ProverError> {
    tempfile::Builder::new().prefix("zkclob-sp1-").tempdir().map_err(|e| ProverError::Backend(e.to_string()))
}

impl Prover for Sp1Backend {
    fn name(&self) -> &'static str {
        "sp1"
    }

    fn version(&self) -> &'static str {
        "sp1-sdk 6.10.0"
    }

    fn execute(&self, batch: &BatchFile) -> Result<Execution, ProverError> {
        let client = ProverClient::builder().light().build();
        let (public_values, report) =
            client
                .execute(Elf::from(self.elf.clone()), Self::stdin(batch))
                .run()
                .map_err(|e| ProverError::Backend(format!("SP1 execution failed: {e}")))?;
        check_exit(report.exit_code)?;
        let output = Self::output(public_values.as_slice())?;
        Ok(Execution {
            output,
            receipts: Vec::new(),
            cycles: Some(report.total_instruction_count()),
            signature_cycles: Some(report.cycle_tracker.get(SIGNATURE_LABEL).copied().unwrap_or(0)),
            cycle_breakdown: {
                let mut v: Vec<(String, u64)> =
                    report.cycle_tracker.iter().map(|(k, c)| (k.clone(), *c)).collect();
                v.sort();
                v
            },
        })
    }

    fn prove(&self, batch: &BatchFile) -> Result<(Vec<u8>, Execution), ProverError> {
        let execution = self.execute(batch)?;
        let (bytes, public_values) = self.prove_stdin(Self::stdin(batch))?;
        if Self::output(&public_values)? != execution.output {
            return Err(ProverError::Backend("the proof's public output differs from execution".into()));
        }
        Ok((bytes, execution))
    }
}
