//! End to end through the real SP1 executor (run by scripts/zkvm-check.sh, which builds the
//! guest): ETH and a token are deposited on the in-process L1; a batch that opens a market,
//! trades and withdraws is proposed as real blobs; a fresh node derives it from L1 alone; the SP1
//! guest runs the settlement program on it; the committee attests the public values SP1
//! committed; `Rollup.settle` checks them, the attestation and the blob opening at the guest's
//! Fiat–Shamir point; the withdrawal is claimed on L1 with a Merkle proof, once.
#![cfg(feature = "sp1")]

use std::path::PathBuf;

use alloy_primitives::{Address, B256, U256};
use k256::ecdsa::SigningKey;
use zkclob_book::{OrderKind, StpMode, TimeInForce};
use zkclob_core::{Amount, AssetId, MarketId, MarketSpec, Price, Qty, Side, Timestamp};
use zkclob_prover::sp1::Sp1Backend;
use zkclob_rollup::kzg::{self, BlobSidecar};
use zkclob_rollup::l1::chain::DevChain;
use zkclob_rollup::l1::committee::{Committee, CommitteeMember};
use zkclob_rollup::l1::derive::L1Follower;
use zkclob_rollup::l1::rollup::deploy_test_token;
use zkclob_rollup::l1::settlement::{decode_public_values, KzgOpeningProof};
use zkclob_rollup::l1::{AssetUnits, L1Config, Settlement, WithdrawalClaim, L1};
use zkclob_rollup::pipeline::BatchBlobs;
use zkclob_rollup::program;
use zkclob_state::withdrawals::withdrawal_proof;
use zkclob_state::{
    signing_hash, Action, Address as L2Address, BatchHeader, Command, Crypto, ExchangeState, FeeSchedule,
    NativeCrypto, OrderParams, SignedCommand,
};

const CHAIN: u64 = 31337;
const GWEI: u128 = 1_000_000_000;
const VKEY: B256 = B256::repeat_byte(0x5a);

struct Wallet {
    key: SigningKey,
    pubkey: [u8; 64],
    address: L2Address,
    nonce: u64,
}

impl Wallet {
    fn new(seed: u8) -> Wallet {
        let mut secret = [0u8; 32];
        secret[0] = 7;
        secret[31] = seed;
        let key = SigningKey::from_slice(&secret).unwrap();
        let mut pubkey = [0u8; 64];
        pubkey.copy_from_slice(&key.verifying_key().to_encoded_point(false).as_bytes()[1..]);
        let address = NativeCrypto.address_of(&pubkey);
        Wallet { key, pubkey, address, nonce: 0 }
    }

    fn sign(&mut self, action: Action) -> Command {
        let hash = signing_hash(&NativeCrypto, CHAIN, self.nonce, &action);
        let (sig, _) = self.key.sign_prehash_recoverable(&hash).unwrap();
        let sig = sig.normalize_s().unwrap_or(sig);
        let mut signature = [0u8; 64];
        signature.copy_from_slice(&sig.to_bytes());
        let command =
            Command::Signed(SignedCommand { signer: self.pubkey, nonce: self.nonce, action, signature });
        self.nonce += 1;
        command
    }
}

fn limit(side: Side, price: i64, qty: u64) -> Action {
    Action::Place(OrderParams {
        market: MarketId(0),
        side,
        kind: OrderKind::Limit,
        price: Price(price),
        qty: Qty(qty),
        tif: TimeInForce::Gtc,
        post_only: false,
        display_qty: None,
        stp: StpMode::CancelNewest,
    })
}

fn guest() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/guests/zkclob-guest-sp1.elf");
    assert!(p.is_file(), "{} is missing: run scripts/build-guests.sh first", p.display());
    p
}

#[test]
fn deposit_trade_propose_prove_in_sp1_settle_and_withdraw() {
    run(false);
}

/// The same with a real SP1 core proof of the settlement program (tens of minutes on 2 cores):
/// `scripts/sp1-prove-settlement.sh` runs it. The committee attests only after the proof
/// verifies, and with the public values the proof carries.
#[test]
#[ignore = "a real SP1 proof: tens of minutes and ~13 GB; scripts/sp1-prove-settlement.sh"]
fn with_a_real_sp1_proof() {
    run(true);
}

fn run(real_proof: bool) {
    let sp1 = Sp1Backend::from_elf_file(&guest()).unwrap();
    let mut chain = DevChain::new();
    let deployer = chain.dev_account(0);
    let token = deploy_test_token(&mut chain, deployer, "Dollar", "USD", 6).unwrap();
    let mut operator = Wallet::new(1);
    let genesis = ExchangeState::new(CHAIN, operator.address);
    let genesis_root = L1Follower::new(genesis.clone()).unwrap().root();
    let committee = Committee::new((1..=3).map(CommitteeMember::dev).collect());
    let config = L1Config {
        committee: committee.addresses(),
        threshold: 2,
        program_vkey: VKEY,
        genesis_root: genesis_root.into(),
        escape_delay_blocks: 1_000,
        inclusion_delay_blocks: 16,
        eth: Some(AssetUnits { asset_id: 1, units_per_atom: GWEI }),
        tokens: vec![(token, AssetUnits { asset_id: 2, units_per_atom: 1 })],
    };
    let mut l1 = L1::deploy(chain, deployer, &config).unwrap();
    let (mut alice, mut bob) = (Wallet::new(2), Wallet::new(3));
    let depositor = l1.chain().dev_account(3);

    // 1. Deposits on L1.
    l1.deposit_eth(depositor, alice.address.0, U256::from(1_000_000 * GWEI)).unwrap();
    l1.mint_and_approve_token(token, depositor, U256::from(5_000_000u64)).unwrap();
    l1.deposit_token(depositor, token, U256::from(5_000_000u64), bob.address.0).unwrap();

    // 2. The sequencer's batch: a market, a trade, a withdrawal — proposed as blobs.
    let own = vec![
        operator.sign(Action::AddMarket {
            spec: MarketSpec::example(),
            fees: FeeSchedule { maker_bps: 10, taker_bps: 25 },
        }),
        alice.sign(limit(Side::Sell, 100, 100)),
        bob.sign(limit(Side::Buy, 100, 60)),
        alice.sign(Action::Withdraw { asset: AssetId(2), amount: Amount(50_000) }),
    ];
    let header =
        BatchHeader { batch_number: 1, timestamp: Timestamp(1_000_000_000), prev_root: genesis_root };
    let sidecars = BatchBlobs::from_batch(&header, &own).unwrap().sidecars;
    let proposer = l1.chain().dev_account(1);
    l1.propose(proposer, &sidecars).unwrap();

    // 3. A fresh node derives the batch from L1 and builds the program input.
    let mut follower = L1Follower::new(genesis).unwrap().collect_program_inputs(true);
    let batches = follower.sync(&l1).unwrap();
    assert_eq!(batches.len(), 1);
    let batch = &batches[0];
    assert_eq!(batch.derived.empty, None);
    assert_eq!(batch.derived.commands.len(), 2 + own.len(), "two deposits, then the proposal");
    let input = batch.program_input.as_ref().unwrap();

    // 4. SP1 runs the settlement program; its output is the native one.
    let execution = sp1.execute_settlement(input).unwrap();
    let public_values = if real_proof {
        let started = std::time::Instant::now();
        let (proof, proven) = sp1.prove_settlement(input).unwrap();
        println!("SP1 core proof: {} bytes in {:.1} s", proof.len(), started.elapsed().as_secs_f64());
        let started = std::time::Instant::now();
        assert_eq!(sp1.verify_settlement(&proof).unwrap(), proven, "a verifier reads the proven values");
        println!("verified in {:.1} s", started.elapsed().as_secs_f64());
        let mut tampered = proof.clone();
        let at = tampered.len() / 2;
        tampered[at] ^= 1;
        assert!(sp1.verify_settlement(&tampered).is_err(), "a flipped byte is refused");
        proven
    } else {
        execution.public_values.clone()
    };
    let native = program::run(&NativeCrypto, input).unwrap();
    assert_eq!(public_values, program::encode_public_values(&native.public_values));
    println!(
        "SP1 settlement of {} commands: {} cycles, by phase {:?}",
        batch.derived.commands.len(),
        execution.cycles,
        execution.cycle_breakdown
    );

    // 5. The committee attests what SP1 committed; settlement opens the blob at the guest's z.
    let pv = decode_public_values(&public_values).unwrap();
    assert_eq!(pv.postRoot, B256::from(follower.root()));
    let kzg_proofs: Vec<KzgOpeningProof> = sidecars
        .iter()
        .zip(&pv.blobs)
        .map(|(sidecar, opening): (&BlobSidecar, _)| {
            let (proof, y) = kzg::compute_kzg_proof(&sidecar.blob, &opening.z.0).unwrap();
            assert_eq!(y, opening.y.0);
            KzgOpeningProof { commitment: sidecar.commitment.to_vec().into(), proof: proof.to_vec().into() }
        })
        .collect();
    let attestation =
        committee.attest(&[0, 2], VKEY, &public_values, l1.chain().chain_id(), l1.verifier_address());
    let settler = l1.chain().dev_account(2);
    let settled = l1
        .settle(
            settler,
            &Settlement {
                proposal_index: 0,
                public_values: public_values.into(),
                proof: attestation,
                kzg_proofs,
            },
        )
        .unwrap();
    println!("settle gas {}", settled.gas_used);
    assert_eq!(l1.state_root().unwrap(), B256::from(follower.root()));

    // 6. Alice claims her dollars on L1 with a Merkle proof, once.
    let w = batch.withdrawals[0];
    let claim = WithdrawalClaim {
        batch_index: 0,
        index: batch.first_withdrawal,
        to: w.to.0,
        asset_id: w.asset.0,
        atoms: w.amount.0,
        proof: withdrawal_proof(&NativeCrypto, batch.first_withdrawal, &batch.withdrawals, 0)
            .unwrap()
            .into_iter()
            .map(B256::from)
            .collect(),
    };
    let alice_l1 = Address::from(alice.address.0);
    let before = l1.token_balance(token, alice_l1).unwrap();
    l1.claim_withdrawal(settler, &claim).unwrap();
    assert_eq!(l1.token_balance(token, alice_l1).unwrap() - before, U256::from(50_000));
    let again = l1.claim_withdrawal(settler, &claim).unwrap_err();
    assert_eq!(again.revert_name(), Some("AlreadyClaimed"));
}
