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
