//! The ZisK backend: executes the guest ELF in `ziskemu` (ZisK's emulator, installed by
//! `scripts/install-ziskemu.sh`) and reads its step count. ZisK proving needs ZisK's proving key
//! (several GB, distributed outside crates.io): it cannot be had on these machines, and the
//! backend says so instead of pretending.

use std::path::{Path, PathBuf};
use std::process::Command;

use zkclob_rollup::program::ProgramInput;
use zkclob_state::PublicOutput;

use crate::backend::{Execution, Prover, ProverError};
use crate::file::BatchFile;

/// ZisK with one guest ELF and a `ziskemu` binary.
#[derive(Clone, Debug)]
pub struct ZiskBackend {
    elf: PathBuf,
    ziskemu: PathBuf,
}

impl ZiskBackend {
    /// Uses the guest ELF at `elf` and `ziskemu` from `$ZISKEMU` or `PATH`.
    pub fn new(elf: &Path) -> Result<ZiskBackend, ProverError> {
        if !elf.is_file() {
            return Err(ProverError::Backend(format!(
                "no ZisK guest at {} (build it with scripts/build-guests.sh zisk)",
                elf.display()
            )));
        }
        let ziskemu =
            std::env::var_os("ZISKEMU").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("ziskemu"));
        Ok(ZiskBackend { elf: elf.to_path_buf(), ziskemu })
    }

    /// Executes the settlement program of one L1 proposal in ziskemu: keccak-256 of the public
    /// values the guest computed (ZisK's public output holds 256 bytes; the caller compares it
    /// with the hash of the bytes it settles with) and the step count.
    pub fn execute_settlement(&self, input: &ProgramInput) -> Result<([u8; 32], Option<u64>), ProverError> {
        let tag = format!("settle-{}", input.witness.global.batch_number + 1);
        let (committed, stdout) = self.run(&tag, &crate::guest_settle_input(input))?;
        let bad = || ProverError::Backend("unexpected ziskemu output for a settlement".into());
        let hash: [u8; 32] = committed.get(..32).and_then(|h| h.try_into().ok()).ok_or_else(bad)?;
        if committed[32..].iter().any(|b| *b != 0) {
            return Err(bad());
        }
        Ok((hash, parse_steps(&stdout)))
    }

    fn run(&self, tag: &str, bytes: &[u8]) -> Result<(Vec<u8>, String), ProverError> {
        // A directory of its own per run: runs in parallel (tests, several provers) never share
        // one, so one run's clean-up cannot remove another's files mid-run. Removed when
        // dropped, unless ZKCLOB_ZISK_KEEP=1 keeps the input, output and stats files.
        let keep = std::env::var_os("ZKCLOB_ZISK_KEEP").is_some();
        let tmp = tempfile::Builder::new()
            .prefix(&format!("zkclob-zisk-{tag}-"))
            .disable_cleanup(keep)
            .tempdir()
            .map_err(|e| ProverError::Backend(e.to_string()))?;
        let dir = tmp.path();
        if keep {
            eprintln!("ziskemu's files are kept in {}", dir.display());
        }
        let (input, output) = (dir.join("input.bin"), dir.join("output.bin"));
        std::fs::write(&input, bytes).map_err(|e| ProverError::Backend(e.to_string()))?;
        let out = Command::new(&self.ziskemu)
            .arg("-e")
            .arg(&self.elf)
            .arg("--legacy-inputs")
            .arg(&input)
            .arg("-o")
            .arg(&output)
            .arg("-X")
            .output()
            .map_err(|e| {
                ProverError::Backend(format!(
                    "cannot run {} ({e}); install it with scripts/install-ziskemu.sh",
                    self.ziskemu.display()
                ))
            })?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            return Err(ProverError::Backend(format!("ziskemu failed ({}): {stderr}{stdout}", out.status)));
        }
        let committed = std::fs::read(&output).map_err(|e| ProverError::Backend(e.to_string()))?;
        if keep {
            std::fs::write(dir.join("stdout.txt"), &stdout).ok();
        }
        Ok((committed, stdout))
    }
}

/// The step count from `ziskemu -X` output.
fn parse_steps(stdout: &str) -> Option<u64> {
    stdout.lines().find_map(|l| {
        let l = l.trim();
        let rest = l.strip_prefix("STEPS").or_else(|| l.strip_prefix("Steps"))?;
        rest.trim_start_matches([' ', ':', '=']).split_whitespace().next()?.replace(',', "").parse().ok()
    })
}

/// The public output from ziskemu's output file: the committed bytes, zero-padded (to 256).
fn parse_output(committed: &[u8]) -> Result<PublicOutput, ProverError> {
    let bad = |why: &str| ProverError::Backend(format!("unexpected ziskemu output ({why})"));
    let len = zkclob_core::codec::encode(&PublicOutput {
        batch_number: 0,
        commands: 0,
        pre_root: [0; 32],
        post_root: [0; 32],
        batch_hash: [0; 32],
        receipts_digest: [0; 32],
    })
    .len();
    let (bytes, padding) =
        (committed.get(..len).ok_or_else(|| bad("shorter than a public output"))?, &committed[len..]);
    if padding.iter().any(|b| *b != 0) {
        return Err(bad("bytes after the public output"));
    }
    zkclob_core::codec::decode(bytes, 1024).map_err(|e| bad(&e.to_string()))
}

impl Prover for ZiskBackend {
    fn name(&self) -> &'static str {
        "zisk"
    }

    fn version(&self) -> &'static str {
        "ziskemu 1.4.0-alpha"
    }

    fn execute(&self, batch: &BatchFile) -> Result<Execution, ProverError> {
        let tag = format!("batch-{}", batch.header.batch_number);
        let (committed, stdout) = self.run(&tag, &crate::guest_batch_input(batch))?;
        let output = parse_output(&committed)?;
        Ok(Execution {
            output,
            receipts: Vec::new(),
            cycles: parse_steps(&stdout),
            signature_cycles: None,
            cycle_breakdown: Vec::new(),
        })
    }

    fn prove(&self, _batch: &BatchFile) -> Result<(Vec<u8>, Execution), ProverError> {
        Err(ProverError::Unsupported(
            "ZisK proving needs ZisK's proving key (several GB), which is distributed outside the package \
             registries and cannot be had on this machine; use --mode execute (ziskemu) or --backend sp1",
        ))
    }
}
