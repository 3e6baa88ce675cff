//! Derivation from L1: a sequencer applies its batches directly and proposes them as blobs; users
//! deposit and force commands on L1; a stranger proposes garbage and a stale batch. A fresh
//! [`L1Follower`] that sees only the contract's events and blobs reaches the sequencer's root after
//! every batch, the garbage proposals become empty batches (that still credit the deposits due),
//! and every derived batch — empty ones included — settles on L1 with public values the follower
//! computes.

#[path = "common/mod.rs"]
mod common;

use alloy_primitives::{B256, U256};
use zkclob_core::{Amount, AssetId, MarketId, OrderId, Side, Timestamp};
use zkclob_rollup::derivation::{forced_command, DepositRecord, EmptyReason};
use zkclob_rollup::kzg;
use zkclob_rollup::kzg::BlobSidecar;
use zkclob_rollup::l1::chain::DevChain;
use zkclob_rollup::l1::committee::{Committee, CommitteeMember};
use zkclob_rollup::l1::derive::{L1Follower, SyncError, SyncedBatch};
use zkclob_rollup::l1::settlement::{encode_public_values, open_blob, BlobOpening, KzgOpeningProof};
use zkclob_rollup::l1::{AssetUnits, L1Config, Settlement, L1};
use zkclob_rollup::pipeline::BatchBlobs;
use zkclob_rollup::program::{self, ProgramError};
use zkclob_rollup::Blob;
use zkclob_state::merkle::Sha256Hasher;
use zkclob_state::{Action, BatchHeader, Command, ExchangeState, FeeSchedule, NativeCrypto, StateCommitment};

use common::{fiat_shamir_z, limit, Wallet, CHAIN};
use zkclob_core::MarketSpec;

const GWEI: u128 = 1_000_000_000;
const VKEY: B256 = B256::repeat_byte(0x5a);

fn genesis(operator: &Wallet) -> ExchangeState {
    ExchangeState::new(CHAIN, operator.address)
}

/// The sequencer: applies what it proposes directly (deposits and forced commands due first, as
/// the derivation rules say), never through derivation.
struct Sequencer {
    state: ExchangeState,
    commitment: StateCommitment<Sha256Hasher>,
    deposits: Vec<DepositRecord>,
    forced: Vec<Vec<u8>>,
    deposits_taken: usize,
    forced_taken: usize,
    roots: Vec<[u8; 32]>,
}

impl Sequencer {
    fn new(operator: &Wallet) -> Sequencer {
        let mut state = genesis(operator);
        let commitment = StateCommitment::build(Sha256Hasher, &mut state).unwrap();
        Sequencer {
            state,
            commitment,
            deposits: Vec::new(),
            forced: Vec::new(),
            deposits_taken: 0,
            forced_taken: 0,
            roots: Vec::new(),
        }
    }

    fn l1_commands(&mut self) -> Vec<Command> {
        let mut out: Vec<Command> =
            self.deposits[self.deposits_taken..].iter().map(|d| d.to_command()).collect();
        out.extend(self.forced[self.forced_taken..].iter().filter_map(|bytes| forced_command(bytes)));
        self.deposits_taken = self.deposits.len();
        self.forced_taken = self.forced.len();
        out
    }

    /// Applies and proposes a batch of `own` commands.
    fn propose(&mut self, l1: &mut L1, own: Vec<Command>) {
        let number = self.state.batch_number + 1;
        let header = BatchHeader {
            batch_number: number,
            timestamp: Timestamp(number * 1_000_000_000),
            prev_root: self.commitment.root(),
        };
        let mut all = self.l1_commands();
        all.extend(own.iter().cloned());
        self.apply(&header, &all);
        let sidecars = BatchBlobs::from_batch(&header, &own).unwrap().sidecars;
        let proposer = l1.chain().dev_account(1);
        l1.propose(proposer, &sidecars).unwrap();
    }

    /// What the sequencer does when someone else's proposal is invalid: the L1 commands due,
    /// at the previous time.
    fn follow_empty(&mut self) {
        let header = BatchHeader {
            batch_number: self.state.batch_number + 1,
            timestamp: self.state.timestamp,
            prev_root: self.commitment.root(),
        };
        let all = self.l1_commands();
        self.apply(&header, &all);
    }

    fn apply(&mut self, header: &BatchHeader, commands: &[Command]) {
        let root = self.commitment.root();
        self.state.apply_batch(&NativeCrypto, header, root, commands).unwrap();
        self.roots.push(self.commitment.update(&mut self.state).unwrap());
    }
}

/// A blob whose field elements are canonical (so KZG commits to it) but whose bytes are noise.
fn noise_blob(seed: u8) -> Blob {
    let mut bytes = vec![0u8; zkclob_rollup::blob::BYTES_PER_BLOB];
    for (i, b) in bytes.iter_mut().enumerate() {
        if i % 32 != 0 {
            *b = (i as u8).wrapping_mul(31).wrapping_add(seed);
        }
    }
    Blob::from_bytes(&bytes).unwrap()
}

struct Scenario {
    l1: L1,
    committee: Committee,
    sequencer: Sequencer,
    operator: Wallet,
}

/// Five proposals: two by the sequencer, a noise blob, a well-formed batch on a stale root, and
/// one more by the sequencer; deposits and forced commands (one garbage) in between.
fn scenario() -> Scenario {
    let mut chain = DevChain::new();
    let deployer = chain.dev_account(0);
    let token =
        zkclob_rollup::l1::rollup::deploy_test_token(&mut chain, deployer, "Dollar", "USD", 6).unwrap();
    let operator = Wallet::new(100);
    let mut sequencer = Sequencer::new(&operator);
    let committee = Committee::new((1..=3).map(CommitteeMember::dev).collect());
    let config = L1Config {
        committee: committee.addresses(),
        threshold: 2,
        program_vkey: VKEY,
        genesis_root: sequencer.commitment.root().into(),
        escape_delay_blocks: 1_000,
        inclusion_delay_blocks: 16,
        eth: Some(AssetUnits { asset_id: 1, units_per_atom: GWEI }),
        tokens: vec![(token, AssetUnits { asset_id: 2, units_per_atom: 1 })],
    };
    let mut l1 = L1::deploy(chain, deployer, &config).unwrap();
    let mut operator_wallet = Wallet::new(100);
    let mut alice = Wallet::new(1);
    let mut bob = Wallet::new(2);
    let depositor = l1.chain().dev_account(3);

    // Deposits on L1.
    l1.deposit_eth(depositor, alice.address.0, U256::from(1_000_000 * GWEI)).unwrap();
    sequencer.deposits.push(DepositRecord { asset_id: 1, atoms: 1_000_000, l2_address: alice.address.0 });
    l1.mint_and_approve_token(token, depositor, U256::from(5_000_000u64)).unwrap();
    l1.deposit_token(depositor, token, U256::from(5_000_000u64), bob.address.0).unwrap();
    sequencer.deposits.push(DepositRecord { asset_id: 2, atoms: 5_000_000, l2_address: bob.address.0 });

    // Batch 1 (sequencer): market, a resting ask, a crossing bid.
    let fees = FeeSchedule { maker_bps: 10, taker_bps: 25 };
    let batch1 = vec![
        operator_wallet.sign(Action::AddMarket { spec: MarketSpec::example(), fees }),
        alice.sign(limit(0, Side::Sell, 100, 50)),
        bob.sign(limit(0, Side::Buy, 100, 20)),
    ];
    sequencer.propose(&mut l1, batch1);

    // Bob forces a withdrawal through L1 (censorship resistance), and someone forces garbage.
    let forced = bob.sign(Action::Withdraw { asset: AssetId(1), amount: Amount(5_000) });
    let forced_bytes = borsh::to_vec(&forced).unwrap();
    l1.force_command(depositor, &forced_bytes).unwrap();
    sequencer.forced.push(forced_bytes);
    l1.force_command(depositor, &[0xde, 0xad]).unwrap();
    sequencer.forced.push(vec![0xde, 0xad]);

    // Batch 2 (sequencer): Alice cancels her rest and withdraws dollars.
    let batch2 = vec![
        alice.sign(Action::Cancel { market: MarketId(0), order_id: OrderId(1) }),
        alice.sign(Action::Withdraw { asset: AssetId(2), amount: Amount(10_000) }),
    ];
    sequencer.propose(&mut l1, batch2);

    // Batch 3 (a stranger): noise. A deposit lands before it and must still be credited.
    l1.deposit_eth(depositor, bob.address.0, U256::from(7 * GWEI)).unwrap();
    sequencer.deposits.push(DepositRecord { asset_id: 1, atoms: 7, l2_address: bob.address.0 });
    let stranger = l1.chain().dev_account(6);
    l1.propose(stranger, &[BlobSidecar::new(noise_blob(3)).unwrap()]).unwrap();
    sequencer.follow_empty();

    // Batch 4 (a stranger): well-formed, signed, but on a stale root.
    let stale = BatchHeader { batch_number: 4, timestamp: Timestamp(9_000_000_000), prev_root: [0x11; 32] };
    let mut mallory = Wallet::new(9);
    let own = vec![mallory.sign(Action::Withdraw { asset: AssetId(1), amount: Amount(1) })];
    l1.propose(stranger, &BatchBlobs::from_batch(&stale, &own).unwrap().sidecars).unwrap();
    sequencer.follow_empty();

    // Batch 5 (sequencer): Bob trades again.
    let batch5 = vec![bob.sign(limit(0, Side::Buy, 90, 5))];
    sequencer.propose(&mut l1, batch5);

    Scenario { l1, committee, sequencer, operator }
}

fn settle(l1: &mut L1, committee: &Committee, batch: &SyncedBatch) -> u64 {
    let sidecars: Vec<BlobSidecar> =
        batch_blobs(l1, batch.proposal).into_iter().map(|b| BlobSidecar::new(b).unwrap()).collect();
    let (openings, kzg_proofs): (Vec<_>, Vec<_>) =
        sidecars.iter().map(|s| open_blob(s, &fiat_shamir_z(s)).unwrap()).unzip();
    let public_values = encode_public_values(&batch.public_values(openings));
    let proof = committee.attest(&[0, 1], VKEY, &public_values, l1.chain().chain_id(), l1.verifier_address());
    let settler = l1.chain().dev_account(2);
    let settlement = Settlement { proposal_index: batch.proposal, public_values, proof, kzg_proofs };
    l1.settle(settler, &settlement).unwrap().gas_used
}

fn batch_blobs(l1: &L1, proposal: u64) -> Vec<Blob> {
    let event = l1
        .events_since(0)
        .unwrap()
        .into_iter()
        .find_map(|e| match e.event {
            zkclob_rollup::l1::rollup::RollupEvents::Proposed(p) if p.index == U256::from(proposal) => {
                Some(p)
            }
            _ => None,
        })
        .unwrap();
    event.versionedHashes.iter().map(|h| l1.chain().blob(h).unwrap().clone()).collect()
}

#[test]
fn a_fresh_node_reaches_the_sequencers_root_from_l1_alone() {
    let mut s = scenario();
    let mut follower = L1Follower::new(genesis(&s.operator)).unwrap();
    let batches = follower.sync(&s.l1).unwrap();
    assert_eq!(batches.len(), 5);
    for (batch, root) in batches.iter().zip(&s.sequencer.roots) {
        assert_eq!(&batch.post_root, root, "batch {} root", batch.derived.header.batch_number);
    }
    assert_eq!(follower.root(), *s.sequencer.roots.last().unwrap());

    // What each proposal became.
    let reasons: Vec<Option<&EmptyReason>> = batches.iter().map(|b| b.derived.empty.as_ref()).collect();
    assert_eq!(reasons[0], None);
    assert_eq!(reasons[1], None);
    assert!(matches!(reasons[2], Some(EmptyReason::Undecodable(_))), "{:?}", reasons[2]);
    assert_eq!(reasons[3], Some(&EmptyReason::WrongPrevRoot));
    assert_eq!(reasons[4], None);
    // Batch 2 took the forced withdrawal and skipped the garbage one; batch 3 credited the deposit.
    assert_eq!((batches[1].derived.forced, batches[1].derived.forced_skipped.clone()), (2, vec![1]));
    assert_eq!((batches[2].derived.deposits, batches[2].derived.commands.len()), (1, 1));
    assert_eq!(batches[2].derived.header.timestamp, batches[1].derived.header.timestamp);
    // Withdrawals: Bob's forced one, Alice's.
    assert_eq!(batches[1].withdrawals.len(), 2);

    // Every derived batch settles on L1, the garbage ones included, so nothing halts.
    for batch in &batches {
        settle(&mut s.l1, &s.committee, batch);
    }
    assert_eq!(s.l1.state_root().unwrap(), B256::from(follower.root()));
    assert_eq!(s.l1.deposits_consumed().unwrap(), 3);
    assert_eq!(s.l1.forced_consumed().unwrap(), 2);
}

#[test]
fn syncing_step_by_step_or_at_once_gives_the_same_batches() {
    let s = scenario();
    let mut once = L1Follower::new(genesis(&s.operator)).unwrap();
    let all = once.sync(&s.l1).unwrap();
    // A second sync with nothing new applies nothing.
    assert!(once.sync(&s.l1).unwrap().is_empty());
    assert_eq!(all.len(), 5);
    assert!(once.pending_deposits().is_empty() && once.pending_forced().is_empty());
}

#[test]
fn a_missing_blob_stops_the_sync_instead_of_deriving_an_empty_batch() {
    struct NoBlobs;
    impl zkclob_rollup::l1::derive::BlobSource for NoBlobs {
        fn blob(&self, _: &B256) -> Option<Blob> {
            None
        }
    }
    let s = scenario();
    let mut follower = L1Follower::new(genesis(&s.operator)).unwrap();
    let before = follower.root();
    let err = follower.sync_with(&s.l1, &NoBlobs).unwrap_err();
    assert!(matches!(err, SyncError::BlobUnavailable(_, 0)), "{err}");
    assert_eq!(follower.root(), before);
    // Once the blobs are there, the same follower resumes and catches up.
    assert_eq!(follower.sync(&s.l1).unwrap().len(), 5);
    assert_eq!(follower.root(), *s.sequencer.roots.last().unwrap());
}

/// The settlement program (what the zkVM guests run) on each derived batch's input: its public
/// values are the follower's, byte for byte, and settle on L1 with KZG proofs at its own `z`.
#[test]
fn the_settlement_program_output_settles_every_batch() {
    let mut s = scenario();
    let mut follower = L1Follower::new(genesis(&s.operator)).unwrap().collect_program_inputs(true);
    let batches = follower.sync(&s.l1).unwrap();
    for batch in &batches {
        let input = batch.program_input.as_ref().unwrap();
        let out = program::run(&NativeCrypto, input).unwrap();
        assert_eq!(out.derived, batch.derived);
        let bytes = program::encode_public_values(&out.public_values);
        let openings: Vec<BlobOpening> = out
            .public_values
            .blobs
            .iter()
            .map(|o| BlobOpening { versionedHash: o.versioned_hash.into(), z: o.z.into(), y: o.y.into() })
            .collect();
        // The guest's hand-written ABI encoding is alloy's, and the follower agrees on every field.
        assert_eq!(bytes, encode_public_values(&batch.public_values(openings.clone())).to_vec());
        let blobs = batch_blobs(&s.l1, batch.proposal);
        let kzg_proofs = blobs
            .iter()
            .zip(&out.public_values.blobs)
            .map(|(blob, o)| {
                let (proof, y) = kzg::compute_kzg_proof(blob, &o.z).unwrap();
                assert_eq!(y, o.y, "c-kzg's y is the program's");
                KzgOpeningProof {
                    commitment: kzg::blob_to_commitment(blob).unwrap().to_vec().into(),
                    proof: proof.to_vec().into(),
                }
            })
            .collect();
        let proof =
            s.committee.attest(&[1, 2], VKEY, &bytes, s.l1.chain().chain_id(), s.l1.verifier_address());
        let settler = s.l1.chain().dev_account(2);
        let settlement =
            Settlement { proposal_index: batch.proposal, public_values: bytes.into(), proof, kzg_proofs };
        s.l1.settle(settler, &settlement).unwrap();
    }
    assert_eq!(s.l1.state_root().unwrap(), B256::from(follower.root()));
}

/// A prover that runs the program on other blobs than the proposal's (keeping the proposal's
/// commitments) gets public values that L1's point evaluation refuses, even with a valid
/// attestation; a wrong pre-root or a forged witness makes the program itself refuse.
#[test]
fn the_program_binds_its_output_to_the_proposed_blobs_and_the_pre_root() {
    let mut s = scenario();
    let mut follower = L1Follower::new(genesis(&s.operator)).unwrap().collect_program_inputs(true);
    let batches = follower.sync(&s.l1).unwrap();
    let input = batches[0].program_input.clone().unwrap();

    let mut wrong_root = input.clone();
    wrong_root.pre_root[0] ^= 1;
    assert!(matches!(program::run(&NativeCrypto, &wrong_root), Err(ProgramError::Witness(_))));
    let mut no_blobs = input.clone();
    no_blobs.blobs.clear();
    assert_eq!(program::run(&NativeCrypto, &no_blobs).unwrap_err(), ProgramError::BlobCount);

    let mut swapped = input.clone();
    swapped.blobs = vec![noise_blob(9).as_bytes().to_vec()];
    let out = program::run(&NativeCrypto, &swapped).unwrap();
    assert!(out.derived.empty.is_some());
    let bytes = program::encode_public_values(&out.public_values);
    let blob = &batch_blobs(&s.l1, 0)[0];
    let (proof, _) = kzg::compute_kzg_proof(blob, &out.public_values.blobs[0].z).unwrap();
    let kzg_proofs = vec![KzgOpeningProof {
        commitment: kzg::blob_to_commitment(blob).unwrap().to_vec().into(),
        proof: proof.to_vec().into(),
    }];
    let attestation =
        s.committee.attest(&[0, 1], VKEY, &bytes, s.l1.chain().chain_id(), s.l1.verifier_address());
    let settler = s.l1.chain().dev_account(2);
    let settlement =
        Settlement { proposal_index: 0, public_values: bytes.into(), proof: attestation, kzg_proofs };
    let err = s.l1.settle(settler, &settlement).unwrap_err();
    assert_eq!(err.revert_name(), Some("PointEvaluationFailed"));
}
