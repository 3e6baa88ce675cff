//! The real zkVMs (run by scripts/zkvm-check.sh, which builds the guests first): 1,000 random
//! signed commands over two markets give the native node's post-root in SP1 and in ZisK, and a
//! tampered witness or a wrong pre-root makes each guest fail instead of committing.
#![cfg(any(feature = "sp1", feature = "zisk"))]

use std::path::PathBuf;

use zkclob_prover::{generate, BatchFile, GenerateParams, Prover};

fn guest(name: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/guests").join(name);
    assert!(p.is_file(), "{} is missing: run scripts/build-guests.sh first", p.display());
    p
}

fn batch() -> BatchFile {
    generate(GenerateParams::new(1_000, 2, 11)).unwrap()
}

fn tampered(b: &BatchFile) -> Vec<BatchFile> {
    let mut leaf = b.clone();
    let (_, acct) = leaf.witness.accounts.iter_mut().find(|(_, l)| l.is_some()).expect("an account");
    acct.as_mut().unwrap().balances[0].1 += 1; // one more atom than the pre-root says
    let mut root = b.clone();
    root.header.prev_root[31] ^= 1;
    vec![leaf, root]
}

fn check(backend: &dyn Prover) {
    let b = batch();
    let exec = backend.execute(&b).unwrap();
    assert_eq!(exec.output.pre_root, b.header.prev_root);
    assert_eq!(exec.output.post_root, b.native_post_root, "{} post-root", backend.name());
    assert_eq!(exec.output.commands, 1_000);
    assert!(exec.cycles.unwrap_or(0) > 1_000_000);
    for t in tampered(&b) {
        assert!(backend.execute(&t).is_err(), "{} accepted a tampered batch", backend.name());
    }
}

#[cfg(feature = "sp1")]
#[test]
fn sp1_guest_gives_the_native_root_and_refuses_tampering() {
    let backend = zkclob_prover::sp1::Sp1Backend::from_elf_file(&guest("zkclob-guest-sp1.elf")).unwrap();
    check(&backend);
    let exec = backend.execute(&batch()).unwrap();
    assert!(exec.signature_cycles.unwrap() > 0, "the cycle tracker saw the signature checks");
}

#[cfg(feature = "zisk")]
#[test]
fn zisk_guest_gives_the_native_root_and_refuses_tampering() {
    let backend = zkclob_prover::zisk::ZiskBackend::new(&guest("zkclob-guest-zisk.elf")).unwrap();
    check(&backend);
    assert!(backend.prove(&batch()).is_err(), "ZisK proving needs a key we cannot have");
}

/// The settlement program of one L1 proposal (blobs, L1 deposits, forced commands, witness):
/// each zkVM gives the native public values, and a wrong pre-root or a tampered witness makes it
/// refuse.
fn settlement() -> zkclob_prover::SettlementCase {
    zkclob_prover::generate_settlement(GenerateParams::new(1_000, 2, 12)).unwrap()
}

fn tampered_settlements(case: &zkclob_prover::SettlementCase) -> Vec<zkclob_rollup::program::ProgramInput> {
    let mut root = case.input.clone();
    root.pre_root[0] ^= 1;
    let mut leaf = case.input.clone();
    let (_, acct) = leaf.witness.accounts.iter_mut().find(|(_, l)| l.is_some()).expect("an account");
    acct.as_mut().unwrap().balances[0].1 += 1;
    vec![root, leaf]
}

#[cfg(feature = "sp1")]
#[test]
fn sp1_settlement_program_gives_the_native_public_values() {
    let backend = zkclob_prover::sp1::Sp1Backend::from_elf_file(&guest("zkclob-guest-sp1.elf")).unwrap();
    let case = settlement();
    let run = backend.execute_settlement(&case.input).unwrap();
    assert_eq!(run.public_values, case.public_values);
    println!(
        "sp1 settlement: {} commands, {} blob(s), {} cycles, by phase {:?}",
        case.commands,
        case.input.blobs.len(),
        run.cycles,
        run.cycle_breakdown
    );
    for t in tampered_settlements(&case) {
        assert!(backend.execute_settlement(&t).is_err(), "SP1 accepted a tampered settlement");
    }
}

#[cfg(feature = "zisk")]
#[test]
fn zisk_settlement_program_gives_the_native_public_values() {
    use zkclob_state::Crypto;
    let backend = zkclob_prover::zisk::ZiskBackend::new(&guest("zkclob-guest-zisk.elf")).unwrap();
    let case = settlement();
    let (hash, steps) = backend.execute_settlement(&case.input).unwrap();
    assert_eq!(hash, zkclob_state::NativeCrypto.keccak256(&case.public_values));
    println!("zisk settlement: {} commands, {:?} steps", case.commands, steps);
    for t in tampered_settlements(&case) {
        assert!(backend.execute_settlement(&t).is_err(), "ZisK accepted a tampered settlement");
    }
}
