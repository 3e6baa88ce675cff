//! `zkclob batch gen` and `zkclob prove`: thin calls into `zkclob-prover`.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context};
use clap::{Args, Subcommand, ValueEnum};
use zkclob_prover::{generate, BatchFile, GenerateParams, NativeBackend, ProofFile, Prover};

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
    /// Kind of commands: mixed (realistic mix), resting, crossing or cancel (for cycles per command).
    #[arg(long, default_value = "mixed")]
    workload: String,
    /// Extra resting orders in the pre-state (a deeper book; the cancel workload cancels these).
    #[arg(long, default_value_t = 0)]
    book_orders: usize,
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
    /// Where to write the proof file (prove mode; default: the batch file's name with `.proof`).
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
    let batch = generate(GenerateParams {
        commands: a.orders,
        markets: a.markets,
        seed: a.seed,
        workload: a.workload.parse()?,
        book_orders: a.book_orders,
    })?;
    batch.write(&a.out)?;
    let json = serde_json::json!({
        "out": a.out.display().to_string(),
        "commands": batch.commands.len(),
        "markets": a.markets,
        "seed": a.seed,
        "workload": a.workload,
        "book_orders": a.book_orders,
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

/// Arguments of `verify`.
#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The proof file (`zkclob prove --mode prove --out PROOF`).
    #[arg(long)]
    proof: PathBuf,
    /// The guest ELF the proof must be for (default: target/guests/zkclob-guest-<backend>.elf).
    #[arg(long)]
    elf: Option<PathBuf>,
}

fn default_elf(backend: &str) -> PathBuf {
    PathBuf::from(format!("target/guests/zkclob-guest-{backend}.elf"))
}

fn elf_sha256(path: &std::path::Path) -> anyhow::Result<[u8; 32]> {
    use zkclob_state::Crypto;
    let bytes = std::fs::read(path).with_context(|| format!("reading the guest {}", path.display()))?;
    Ok(zkclob_state::NativeCrypto.sha256(&bytes))
}

fn output_json(o: &zkclob_state::PublicOutput) -> serde_json::Value {
    serde_json::json!({
        "batch_number": o.batch_number,
        "commands": o.commands,
        "pre_root": hex(&o.pre_root),
        "post_root": hex(&o.post_root),
        "batch_hash": hex(&o.batch_hash),
        "receipts_digest": hex(&o.receipts_digest),
    })
}

/// Runs `verify`: checks the proof against the guest ELF and prints its public output; any
/// failure is an error (non-zero exit).
pub fn run_verify(a: VerifyArgs) -> anyhow::Result<()> {
    let file = ProofFile::read(&a.proof)?;
    let elf = a.elf.clone().unwrap_or_else(|| default_elf(&file.backend));
    if file.backend != "sp1" {
        bail!(
            "{}: proofs by backend {:?} cannot be verified (only sp1 makes proofs)",
            a.proof.display(),
            file.backend
        );
    }
    if elf_sha256(&elf)? != file.guest_elf_sha256 {
        bail!("{}: the proof is for another guest than {}", a.proof.display(), elf.display());
    }
    verify_sp1(&file, &elf)
}

#[cfg(feature = "sp1")]
fn verify_sp1(file: &ProofFile, elf: &std::path::Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let output = zkclob_prover::sp1::Sp1Backend::from_elf_file(elf)?.verify_proof(&file.proof)?;
    if output != file.output {
        bail!("the proof's public values differ from the output the file claims");
    }
    let mut json = output_json(&output);
    json["valid"] = serde_json::json!(true);
    json["backend"] = serde_json::json!(file.backend);
    json["backend_version"] = serde_json::json!(file.backend_version);
    json["proof_mode"] = serde_json::json!(file.mode);
    json["verify_seconds"] = serde_json::json!(started.elapsed().as_secs_f64());
    println!("{json}");
    Ok(())
}

#[cfg(not(feature = "sp1"))]
fn verify_sp1(_: &ProofFile, _: &std::path::Path) -> anyhow::Result<()> {
    bail!("this zkclob was built without the sp1 backend: build with `--features sp1`")
}

/// Runs `prove`.
pub fn run_prove(a: ProveArgs) -> anyhow::Result<()> {
    let batch = BatchFile::read(&a.batch)?;
    let backend: Box<dyn Prover> = match a.backend {
        Backend::Native => Box::new(NativeBackend),
        #[cfg(feature = "sp1")]
        Backend::Sp1 => {
            let elf = a.elf.clone().unwrap_or_else(|| default_elf("sp1"));
            Box::new(zkclob_prover::sp1::Sp1Backend::from_elf_file(&elf)?)
        }
        #[cfg(not(feature = "sp1"))]
        Backend::Sp1 => bail!("this zkclob was built without the sp1 backend: build with `--features sp1`"),
        #[cfg(feature = "zisk")]
        Backend::Zisk => {
            let elf = a.elf.clone().unwrap_or_else(|| default_elf("zisk"));
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
    let o = &exec.output;
    let mut json = output_json(o);
    json["backend"] = serde_json::json!(backend.name());
    json["mode"] = serde_json::json!(format!("{:?}", a.mode).to_lowercase());
    json["matches_native_node"] = serde_json::json!(o.post_root == batch.native_post_root);
    json["cycles"] = serde_json::json!(exec.cycles);
    json["signature_cycles"] = serde_json::json!(exec.signature_cycles);
    json["cycle_breakdown"] = serde_json::json!(exec
        .cycle_breakdown
        .iter()
        .cloned()
        .collect::<std::collections::BTreeMap<String, u64>>());
    json["seconds"] = serde_json::json!(seconds);
    if let Some(proof) = proof {
        let elf = a.elf.clone().unwrap_or_else(|| default_elf(backend.name()));
        let file = ProofFile {
            backend: backend.name().to_owned(),
            backend_version: backend.version().to_owned(),
            mode: "core".to_owned(),
            guest_elf_sha256: elf_sha256(&elf)?,
            output: *o,
            proof,
        };
        let out = a.out.clone().unwrap_or_else(|| a.batch.with_extension("proof"));
        file.write(&out)?;
        json["prove_seconds"] = serde_json::json!(seconds);
        json["proof"] = serde_json::json!(out.display().to_string());
        json["proof_bytes"] = serde_json::json!(std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0));
    }
    println!("{json}");
    if o.post_root != batch.native_post_root {
        bail!("the post-root differs from the native node's");
    }
    Ok(())
}
