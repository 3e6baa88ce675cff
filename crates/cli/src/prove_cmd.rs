//! `zkclob batch gen` and `zkclob prove`: thin calls into `zkclob-prover`.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context};
use clap::{Args, Subcommand, ValueEnum};
use zkclob_prover::{generate, BatchFile, GenerateParams, NativeBackend, Prover};

/// `zkclob batch ...`
#[derive(Subcommand, Debug)]
pub enum BatchCmd {
    /// Generate a reproducible random batch of signed commands with its pre-state witness.
    Gen(GenArgs),
}

/// Arguments of `batch gen`.
#[derive(Args, Debug)]
pub struct GenArgs {
    /// Commands in the batch (mostly orders; see `zkclob_prover::generate`).
    #[arg(long)]
    orders: usize,
    /// Markets (1..=64).
    #[arg(long, default_value_t = 2)]
    markets: u32,
    /// Seed: the same parameters give the same file.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output file.
    #[arg(long)]
    out: PathBuf,
}

/// Proving backends.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Backend {
    /// Re-execute the guest logic natively (never a proof).
    Native,
    /// The SP1 zkVM.
    Sp1,
    /// The ZisK zkVM.
    Zisk,
}

/// Execute only, or prove.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Mode {
    /// Run the batch and report the public output and cycle counts.
    Execute,
    /// Make a proof.
    Prove,
}

/// Arguments of `prove`.
#[derive(Args, Debug)]
pub struct ProveArgs {
    /// Backend.
    #[arg(long, value_enum)]
    backend: Backend,
    /// Mode.
    #[arg(long, value_enum, default_value = "execute")]
    mode: Mode,
    /// The batch file (`zkclob batch gen`).
    #[arg(long)]
    batch: PathBuf,
    /// Where to write the proof (prove mode).
    #[arg(long)]
    out: Option<PathBuf>,
    /// The guest ELF for zkVM backends (default: target/guests/zkclob-guest-<backend>.elf, written
    /// by scripts/build-guests.sh).
    #[arg(long)]
    elf: Option<PathBuf>,
}

/// Runs `batch gen`.
pub fn run_batch(cmd: BatchCmd) -> anyhow::Result<()> {
    let BatchCmd::Gen(a) = cmd;
    let started = Instant::now();
    let batch = generate(GenerateParams { commands: a.orders, markets: a.markets, seed: a.seed })?;
    batch.write(&a.out)?;
    let json = serde_json::json!({
        "out": a.out.display().to_string(),
        "commands": batch.commands.len(),
        "markets": a.markets,
        "seed": a.seed,
        "pre_root": hex(&batch.header.prev_root),
        "native_post_root": hex(&batch.native_post_root),
        "witness_accounts": batch.witness.accounts.len(),
        "witness_markets": batch.witness.markets.len(),
        "bytes": std::fs::metadata(&a.out).map(|m| m.len()).unwrap_or(0),
        "seconds": started.elapsed().as_secs_f64(),
    });
    println!("{json}");
    Ok(())
}

fn hex(b: &[u8; 32]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Runs `prove`.
pub fn run_prove(a: ProveArgs) -> anyhow::Result<()> {
    let batch = BatchFile::read(&a.batch)?;
    let backend: Box<dyn Prover> = match a.backend {
        Backend::Native => Box::new(NativeBackend),
        #[cfg(feature = "sp1")]
        Backend::Sp1 => {
            let elf = a.elf.clone().unwrap_or_else(|| PathBuf::from("target/guests/zkclob-guest-sp1.elf"));
            Box::new(zkclob_prover::sp1::Sp1Backend::from_elf_file(&elf)?)
        }
        #[cfg(not(feature = "sp1"))]
        Backend::Sp1 => bail!("this zkclob was built without the sp1 backend: build with `--features sp1`"),
        #[cfg(feature = "zisk")]
        Backend::Zisk => {
            let elf = a.elf.clone().unwrap_or_else(|| PathBuf::from("target/guests/zkclob-guest-zisk.elf"));
            Box::new(zkclob_prover::zisk::ZiskBackend::new(&elf)?)
        }
        #[cfg(not(feature = "zisk"))]
        Backend::Zisk => {
            bail!("this zkclob was built without the zisk backend: build with `--features zisk`")
        }
    };
    let started = Instant::now();
    let (exec, proof) = match a.mode {
        Mode::Execute => (backend.execute(&batch)?, None),
        Mode::Prove => {
            let (proof, exec) = backend.prove(&batch)?;
            (exec, Some(proof))
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    if let (Some(proof), Some(out)) = (&proof, &a.out) {
        std::fs::write(out, proof).with_context(|| format!("writing {}", out.display()))?;
    }
    let o = &exec.output;
    let mut json = serde_json::json!({
        "backend": backend.name(),
        "mode": format!("{:?}", a.mode).to_lowercase(),
        "batch_number": o.batch_number,
        "commands": o.commands,
        "pre_root": hex(&o.pre_root),
        "post_root": hex(&o.post_root),
        "batch_hash": hex(&o.batch_hash),
        "receipts_digest": hex(&o.receipts_digest),
        "matches_native_node": o.post_root == batch.native_post_root,
        "cycles": exec.cycles,
        "signature_cycles": exec.signature_cycles,
        "cycle_breakdown": exec.cycle_breakdown.iter().cloned().collect::<std::collections::BTreeMap<String, u64>>(),
        "seconds": seconds,
    });
    if a.mode == Mode::Prove {
        json["prove_seconds"] = serde_json::json!(seconds);
    }
    println!("{json}");
    if o.post_root != batch.native_post_root {
        bail!("the post-root differs from the native node's");
    }
    Ok(())
}
