//! The settlement-program case the zkVM tests run (natively here): reproducible, the proposal
//! derives a non-empty batch with its L1 deposits and forced commands in front, and the program
//! refuses a wrong pre-root.

use zkclob_prover::{generate_settlement, GenerateParams};
use zkclob_rollup::program;
use zkclob_state::NativeCrypto;

#[test]
fn a_settlement_case_is_reproducible_and_runs_natively() {
    let a = generate_settlement(GenerateParams::new(200, 2, 5)).unwrap();
    let b = generate_settlement(GenerateParams::new(200, 2, 5)).unwrap();
    assert_eq!(a.public_values, b.public_values);
    assert_eq!(a.input, b.input);
    // 512 bytes + 96 per blob.
    assert_eq!(a.public_values.len(), 512 + 96 * a.input.blobs.len());
    let out = program::run(&NativeCrypto, &a.input).unwrap();
    assert_eq!(program::encode_public_values(&out.public_values), a.public_values);
    assert_eq!(out.derived.forced_skipped, vec![1], "the garbage forced command is skipped");
    assert_eq!(out.derived.deposits, a.input.deposits.len());
    assert_eq!(out.public_values.deposit_count, a.input.deposits.len() as u64);
    assert_eq!(a.commands, out.derived.commands.len());

    let mut wrong = a.input.clone();
    wrong.pre_root[5] ^= 0x10;
    assert!(program::run(&NativeCrypto, &wrong).is_err());
}

#[test]
fn a_tampered_witness_leaf_is_refused() {
    let a = generate_settlement(GenerateParams::new(1_000, 2, 12)).unwrap();
    let mut leaf = a.input.clone();
    let (_, acct) = leaf.witness.accounts.iter_mut().find(|(_, l)| l.is_some()).expect("an account");
    acct.as_mut().unwrap().balances[0].1 += 1;
    let r = program::run(&NativeCrypto, &leaf);
    assert!(r.is_err(), "{:?}", r.map(|o| o.derived.empty));
}
