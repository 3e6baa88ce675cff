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

/// Signatures by the keys whose public points are the corner cases of the guests' double scalar
/// multiplication u₁·G + u₂·P: P = ±G, ±2G, ±3G (secret keys 1, 2, 3 and n − 1, n − 2, n − 3),
/// which make the precomputed G + P a doubling (P = G) or the point at infinity (P = −G), and
/// small multiples of G meet the running sum along the way; valid signatures are applied and a
/// forged one refused, exactly as natively.
fn edge_key_batch() -> BatchFile {
    use k256::ecdsa::SigningKey;
    use zkclob_core::{Amount, AssetId, Timestamp};
    use zkclob_state::merkle::Sha256Hasher;
    use zkclob_state::{
        signing_hash, Action, BatchHeader, Command, Crypto, ExchangeState, NativeCrypto, SignedCommand,
        StateCommitment, Witness,
    };
    const CHAIN: u64 = 7;
    // n − k for the group order n = ...d0364141.
    let n_minus =
        |k: u8| format!("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd03641{:02x}", 0x41 - k);
    let small = |k: u8| format!("{k:064x}");
    let secrets: Vec<[u8; 32]> = [small(1), n_minus(1), small(2), n_minus(2), small(3), n_minus(3)]
        .iter()
        .map(|h| {
            let mut s = [0u8; 32];
            for (i, b) in s.iter_mut().enumerate() {
                *b = u8::from_str_radix(&h[2 * i..2 * i + 2], 16).unwrap();
            }
            s
        })
        .collect();
    let keys: Vec<(SigningKey, [u8; 64])> = secrets
        .iter()
        .map(|s| {
            let key = SigningKey::from_slice(s).unwrap();
            let mut pk = [0u8; 64];
            pk.copy_from_slice(&key.verifying_key().to_encoded_point(false).as_bytes()[1..]);
            (key, pk)
        })
        .collect();
    let operator = NativeCrypto.address_of(&keys[2].1);
    let mut state = ExchangeState::new(CHAIN, operator);
    let asset = AssetId(1);
    let deposits: Vec<Command> = keys
        .iter()
        .map(|(_, pk)| Command::Deposit { to: NativeCrypto.address_of(pk), asset, amount: Amount(1_000) })
        .collect();
    let h1 = BatchHeader { batch_number: 1, timestamp: Timestamp(1), prev_root: [0; 32] };
    state.apply_batch(&NativeCrypto, &h1, [0; 32], &deposits).unwrap();
    let mut commitment = StateCommitment::build(Sha256Hasher, &mut state).unwrap();
    let header = BatchHeader { batch_number: 2, timestamp: Timestamp(2), prev_root: commitment.root() };
    let sign = |key: &SigningKey, pk: [u8; 64], nonce: u64, amount: u128| {
        let action = Action::Withdraw { asset, amount: Amount(amount) };
        let hash = signing_hash(&NativeCrypto, CHAIN, nonce, &action);
        let (sig, _) = key.sign_prehash_recoverable(&hash).unwrap();
        let sig = sig.normalize_s().unwrap_or(sig);
        let mut signature = [0u8; 64];
        signature.copy_from_slice(&sig.to_bytes());
        Command::Signed(SignedCommand { signer: pk, nonce, action, signature })
    };
    let mut commands = Vec::new();
    for round in 0..3u64 {
        for (key, pk) in &keys {
            commands.push(sign(key, *pk, round, 10 + round as u128));
        }
    }
    let mut forged = sign(&keys[0].0, keys[0].1, 3, 1);
    if let Command::Signed(s) = &mut forged {
        s.signature[40] ^= 1;
    }
    commands.push(forged);
    let witness = Witness::generate(&state, commitment.tree(), &NativeCrypto, &commands).unwrap();
    let receipts = state.apply_batch(&NativeCrypto, &header, header.prev_root, &commands).unwrap();
    assert_eq!(
        receipts.iter().filter(|r| matches!(r, zkclob_state::Receipt::Applied(_))).count(),
        18,
        "every genuine signature applies natively: {receipts:?}"
    );
    let native_post_root = commitment.update(&mut state).unwrap();
    BatchFile { header, commands, witness, native_post_root }
}

fn check_edge_keys(backend: &dyn Prover) {
    let b = edge_key_batch();
    let native = zkclob_prover::NativeBackend.execute(&b).unwrap();
    let exec = backend.execute(&b).unwrap();
    // The output commits to the receipts (their digest), so equal outputs mean equal verdicts.
    assert_eq!(exec.output, native.output, "{} on the edge keys", backend.name());
    assert_eq!(exec.output.post_root, b.native_post_root);
}

#[cfg(feature = "sp1")]
#[test]
fn sp1_guest_verifies_signatures_of_the_edge_keys_as_natively() {
    check_edge_keys(&zkclob_prover::sp1::Sp1Backend::from_elf_file(&guest("zkclob-guest-sp1.elf")).unwrap());
}

#[cfg(feature = "zisk")]
#[test]
fn zisk_guest_verifies_signatures_of_the_edge_keys_as_natively() {
    check_edge_keys(&zkclob_prover::zisk::ZiskBackend::new(&guest("zkclob-guest-zisk.elf")).unwrap());
}
