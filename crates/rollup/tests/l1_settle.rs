//! Settlement on the in-process L1: a batch of 1,000 signed orders proposed as real blobs, its
//! public values attested by a 2-of-3 committee, bound to the blobs by the EIP-4844 proof of
//! equivalence through the point-evaluation precompile. Every refusal is checked to leave the
//! contract's state as it was, and then the untampered settlement is shown to succeed, so each
//! negative test fails for the reason it names.
//!
//! Gas: `cargo test -p zkclob-rollup --test l1_settle -- --ignored --nocapture measure_gas`.

#[path = "common/mod.rs"]
mod common;

use std::sync::OnceLock;

use alloy_primitives::{keccak256, Address, Bytes, B256, U256};
use zkclob_rollup::evaluate_blob_polynomial;
use zkclob_rollup::kzg::{self, BlobSidecar};
use zkclob_rollup::l1::chain::DevChain;
use zkclob_rollup::l1::committee::{attestation_digest, Committee, CommitteeMember, SIGNATURE_BYTES};
use zkclob_rollup::l1::rollup::RollupEvents;
use zkclob_rollup::l1::settlement::{
    encode_public_values, forced_chain_link, open_blob, BlobOpening, DepositRecord, KzgOpeningProof,
    PublicValues,
};
use zkclob_rollup::l1::{AssetUnits, L1Config, L1Error, Settlement, L1};
use zkclob_rollup::pipeline::BatchBlobs;
use zkclob_rollup::{batch_data, blob, Blob};

const GWEI: u64 = 1_000_000_000;
const ESCAPE_BLOCKS: u64 = 1_000;
const VKEY: B256 = B256::repeat_byte(0x5a);
const GENESIS_ROOT: B256 = B256::repeat_byte(0x01);
/// secp256k1's group order n.
const CURVE_ORDER: U256 = U256::from_be_bytes([
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xba,
    0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
]);

/// A proposed batch and what a prover and settler derive from it.
struct Batch {
    sidecars: Vec<BlobSidecar>,
    openings: Vec<BlobOpening>,
    kzg_proofs: Vec<KzgOpeningProof>,
    batch_hash: B256,
}

fn make_batch(header_number: u64, commands: &[zkclob_state::Command]) -> Batch {
    let header = common::header(header_number);
    let sidecars = BatchBlobs::from_batch(&header, commands).unwrap().sidecars;
    let (openings, kzg_proofs) =
        sidecars.iter().map(|s| open_blob(s, &common::fiat_shamir_z(s)).unwrap()).unzip();
    let batch_hash = keccak256(batch_data::encode(&header, commands).unwrap());
    Batch { sidecars, openings, kzg_proofs, batch_hash }
}

/// 1,000 signed orders from 100 accounts: one blob.
fn thousand_orders() -> &'static Batch {
    static BATCH: OnceLock<Batch> = OnceLock::new();
    BATCH.get_or_init(|| make_batch(1, &common::orders(1_000, 100, 7)))
}

fn committee() -> Committee {
    Committee::new((1..=3).map(CommitteeMember::dev).collect())
}

/// Concatenated signatures of `members` over `digest`, in increasing address order.
fn signed_by(members: &[&CommitteeMember], digest: B256) -> Bytes {
    let mut signatures: Vec<(Address, [u8; SIGNATURE_BYTES])> =
        members.iter().map(|m| (m.address(), m.sign(digest))).collect();
    signatures.sort_by_key(|(address, _)| *address);
    signatures.iter().flat_map(|(_, s)| *s).collect::<Vec<u8>>().into()
}

#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    root: B256,
    settled: u64,
    deposits_consumed: u64,
    forced_consumed: u64,
}

struct Fx {
    l1: L1,
    committee: Committee,
    proposer: Address,
    settler: Address,
    user: Address,
}

impl Fx {
    fn new() -> Fx {
        let chain = DevChain::new();
        let deployer = chain.dev_account(0);
        let committee = committee();
        let config = L1Config {
            committee: committee.addresses(),
            threshold: 2,
            program_vkey: VKEY,
            genesis_root: GENESIS_ROOT,
            escape_delay_blocks: ESCAPE_BLOCKS,
            inclusion_delay_blocks: 16,
            eth: Some(AssetUnits { asset_id: 1, units_per_atom: u128::from(GWEI) }),
            tokens: vec![],
        };
        let l1 = L1::deploy(chain, deployer, &config).unwrap();
        let [proposer, settler, user] = [1, 2, 3].map(|i| l1.chain().dev_account(i));
        Fx { l1, committee, proposer, settler, user }
    }

    fn propose(&mut self, batch: &Batch) -> u64 {
        let proposed = self.l1.propose(self.proposer, &batch.sidecars).unwrap();
        proposed.event.index.to()
    }

    /// Valid public values for proposal `index` of `batch`, consuming no new queue entries.
    fn public_values(&self, index: u64, batch: &Batch) -> PublicValues {
        PublicValues {
            preRoot: self.l1.state_root().unwrap(),
            postRoot: post_root(index),
            batchNumber: index + 1,
            batchHash: batch.batch_hash,
            receiptsDigest: B256::repeat_byte(0xee),
            depositFrom: self.l1.deposits_consumed().unwrap(),
            depositCount: self.l1.deposits_consumed().unwrap(),
            depositChain: self.l1.deposit_chain_at(self.l1.deposits_consumed().unwrap()).unwrap(),
            forcedFrom: self.l1.forced_consumed().unwrap(),
            forcedCount: self.l1.forced_consumed().unwrap(),
            forcedChain: self.l1.forced_chain_at(self.l1.forced_consumed().unwrap()).unwrap(),
            withdrawalCount: 0,
            withdrawalsRoot: B256::repeat_byte(0x77),
            blobs: batch.openings.clone(),
        }
    }

    fn digest(&self, public_values: &[u8]) -> B256 {
        attestation_digest(VKEY, public_values, self.l1.chain().chain_id(), self.l1.verifier_address())
    }

    /// The settlement of `pv` for proposal `index`, attested by committee positions `signers`.
    fn settlement(&self, index: u64, pv: &PublicValues, batch: &Batch, signers: &[usize]) -> Settlement {
        let public_values = encode_public_values(pv);
        let proof = self.committee.attest(
            signers,
            VKEY,
            &public_values,
            self.l1.chain().chain_id(),
            self.l1.verifier_address(),
        );
        Settlement { proposal_index: index, public_values, proof, kzg_proofs: batch.kzg_proofs.clone() }
    }

    fn valid(&self, index: u64, batch: &Batch) -> Settlement {
        self.settlement(index, &self.public_values(index, batch), batch, &[0, 1])
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            root: self.l1.state_root().unwrap(),
            settled: self.l1.settled_count().unwrap(),
            deposits_consumed: self.l1.deposits_consumed().unwrap(),
            forced_consumed: self.l1.forced_consumed().unwrap(),
        }
    }

    /// `settlement` reverts with `error` and changes nothing.
    fn refuse(&mut self, settlement: &Settlement, error: &str) {
        let before = self.snapshot();
        match self.l1.settle(self.settler, settlement) {
            Err(L1Error::Reverted { error: got, .. }) => assert_eq!(got, error),
            other => panic!("expected a revert with {error}, got {other:?}"),
        }
        assert_eq!(self.snapshot(), before, "a refused settlement changed the state");
    }

    fn settle(&mut self, settlement: &Settlement) -> u64 {
        let settled = self.l1.settle(self.settler, settlement).unwrap();
        settled.gas_used
    }
}

fn post_root(index: u64) -> B256 {
    B256::from(U256::from(0x1000 + index))
}

/// Proposes the 1,000-order batch on a fresh chain: (fixture, its valid settlement).
fn proposed() -> (Fx, Settlement) {
    let mut fx = Fx::new();
    let index = fx.propose(thousand_orders());
    let valid = fx.valid(index, thousand_orders());
    (fx, valid)
}

fn resign(fx: &Fx, index: u64, pv: &PublicValues, kzg_proofs: Vec<KzgOpeningProof>) -> Settlement {
    let mut settlement = fx.settlement(index, pv, thousand_orders(), &[0, 1]);
    settlement.kzg_proofs = kzg_proofs;
    settlement
}

// ---------------------------------------------------------------------------------------------
// Success
// ---------------------------------------------------------------------------------------------

#[test]
fn a_two_of_three_attested_batch_settles_and_stores_its_root() {
    let (mut fx, valid) = proposed();
    let batch = thousand_orders();
    assert_eq!(batch.sidecars.len(), 1);
    // The guest's pure-Rust evaluation gives the y that c-kzg opened.
    for (sidecar, opening) in batch.sidecars.iter().zip(&batch.openings) {
        assert_eq!(evaluate_blob_polynomial(&sidecar.blob, &opening.z.0).unwrap(), opening.y.0);
    }

    let settled = fx.l1.settle(fx.settler, &valid).unwrap();
    assert_eq!(settled.event.index, U256::ZERO);
    assert_eq!(settled.event.batchNumber, 1);
    assert_eq!(settled.event.postRoot, post_root(0));
    assert_eq!(settled.event.withdrawalsRoot, B256::repeat_byte(0x77));
    assert_eq!(settled.event.batchHash, batch.batch_hash);
    assert_eq!(settled.event.receiptsDigest, B256::repeat_byte(0xee));
    assert_eq!(fx.l1.state_root().unwrap(), post_root(0));
    assert_eq!(fx.l1.settled_count().unwrap(), 1);
    let stored = fx.l1.batch(0).unwrap();
    assert_eq!(
        (stored.postRoot, stored.withdrawalsRoot, stored.l1Block),
        (post_root(0), B256::repeat_byte(0x77), settled.block)
    );
    assert_eq!(
        fx.l1.view(&zkclob_rollup::l1::contracts::Rollup::lastSettlementBlockCall {}).unwrap(),
        settled.block
    );
    let events = fx.l1.events_since(settled.block).unwrap();
    assert!(
        matches!(&events[..], [e] if matches!(&e.event, RollupEvents::Settled(s) if s.postRoot == post_root(0)))
    );
    println!("gas: settle 1 blob, 2-of-3 {}", settled.gas_used);
}

#[test]
fn all_three_signatures_settle_and_every_pair_does() {
    for signers in [[0, 1, 2].as_slice(), &[0, 2], &[1, 2]] {
        let (mut fx, _) = proposed();
        let pv = fx.public_values(0, thousand_orders());
        let settlement = fx.settlement(0, &pv, thousand_orders(), signers);
        fx.settle(&settlement);
        assert_eq!(fx.l1.state_root().unwrap(), post_root(0), "signers {signers:?}");
    }
}

#[test]
fn consecutive_proposals_settle_in_order_chaining_their_roots() {
    let mut fx = Fx::new();
    let batch = thousand_orders();
    for index in 0..3 {
        assert_eq!(fx.propose(batch), index);
    }
    for index in 0..3 {
        let settlement = fx.valid(index, batch);
        assert_eq!(
            fx.public_values(index, batch).preRoot,
            if index == 0 { GENESIS_ROOT } else { post_root(index - 1) }
        );
        fx.settle(&settlement);
        assert_eq!(fx.l1.state_root().unwrap(), post_root(index));
    }
    assert_eq!(fx.l1.settled_count().unwrap(), 3);
}

// ---------------------------------------------------------------------------------------------
// Roots, numbers, order
// ---------------------------------------------------------------------------------------------

#[test]
fn a_wrong_pre_root_reverts() {
    let (mut fx, valid) = proposed();
    let mut pv = fx.public_values(0, thousand_orders());
    pv.preRoot = B256::repeat_byte(0x02);
    let bad = fx.settlement(0, &pv, thousand_orders(), &[0, 1]);
    fx.refuse(&bad, "WrongPreRoot");
    fx.settle(&valid);
}

#[test]
fn a_wrong_batch_number_reverts() {
    let (mut fx, valid) = proposed();
    let mut pv = fx.public_values(0, thousand_orders());
    pv.batchNumber = 2;
    let bad = fx.settlement(0, &pv, thousand_orders(), &[0, 1]);
    fx.refuse(&bad, "WrongBatchNumber");
    fx.settle(&valid);
}

#[test]
fn settling_out_of_order_twice_or_an_unknown_proposal_reverts() {
    let mut fx = Fx::new();
    let batch = thousand_orders();
    fx.propose(batch);
    fx.propose(batch);
    let mut second = fx.valid(1, batch);
    fx.refuse(&second, "NotNextProposal");
    let first = fx.valid(0, batch);
    fx.settle(&first);
    fx.refuse(&first, "NotNextProposal");
    // Re-made after the first settled (its pre-root is now post_root(0)).
    second = fx.valid(1, batch);
    fx.settle(&second);
    let third = fx.valid(2, batch);
    fx.refuse(&third, "UnknownProposal");
}

// ---------------------------------------------------------------------------------------------
// Blobs: versioned hashes and the proof of equivalence
// ---------------------------------------------------------------------------------------------

#[test]
fn a_mismatched_versioned_hash_reverts() {
    let (mut fx, valid) = proposed();
    let mut pv = fx.public_values(0, thousand_orders());
    let other = BlobSidecar::new(blob::pack(b"another batch").unwrap().remove(0)).unwrap();
    pv.blobs[0].versionedHash = other.versioned_hash.into();
    let bad = fx.settlement(0, &pv, thousand_orders(), &[0, 1]);
    fx.refuse(&bad, "VersionedHashMismatch");
    // Naming a second blob the proposal does not have.
    let mut pv = fx.public_values(0, thousand_orders());
    pv.blobs.push(pv.blobs[0].clone());
    let bad = fx.settlement(0, &pv, thousand_orders(), &[0, 1]);
    fx.refuse(&bad, "BlobCountMismatch");
    fx.settle(&valid);
}

#[test]
fn a_y_that_is_not_the_blob_polynomial_at_z_reverts() {
    let (mut fx, valid) = proposed();
    let mut pv = fx.public_values(0, thousand_orders());
    let mut y = U256::from_be_bytes(pv.blobs[0].y.0);
    y = if y.is_zero() { U256::from(1) } else { y - U256::from(1) };
    pv.blobs[0].y = B256::from(y);
    let bad = fx.settlement(0, &pv, thousand_orders(), &[0, 1]);
    fx.refuse(&bad, "PointEvaluationFailed");
    fx.settle(&valid);
}

#[test]
fn a_proven_batch_that_is_not_the_proposed_blob_reverts() {
    // The prover executed a tampered blob: its y is the tampered polynomial at z, and no KZG
    // proof opens the proposal's commitment there.
    let (mut fx, valid) = proposed();
    let sidecar = &thousand_orders().sidecars[0];
    let mut bytes = sidecar.blob.as_bytes().to_vec();
    bytes[32 * 100 + 5] ^= 0x40;
    let tampered = Blob::from_bytes(&bytes).unwrap();
    let z = common::fiat_shamir_z(sidecar);
    let (tampered_proof, tampered_y) = kzg::compute_kzg_proof(&tampered, &z).unwrap();
    assert_eq!(evaluate_blob_polynomial(&tampered, &z).unwrap(), tampered_y);
    let mut pv = fx.public_values(0, thousand_orders());
    pv.blobs[0].y = tampered_y.into();

    // Against the proposal's commitment.
    let proofs = vec![KzgOpeningProof {
        commitment: Bytes::copy_from_slice(&sidecar.commitment),
        proof: Bytes::copy_from_slice(&tampered_proof),
    }];
    fx.refuse(&resign(&fx, 0, &pv, proofs), "PointEvaluationFailed");
    // With the tampered blob's own commitment: it does not hash to the versioned hash.
    let tampered_commitment = kzg::blob_to_commitment(&tampered).unwrap();
    let proofs = vec![KzgOpeningProof {
        commitment: Bytes::copy_from_slice(&tampered_commitment),
        proof: Bytes::copy_from_slice(&tampered_proof),
    }];
    fx.refuse(&resign(&fx, 0, &pv, proofs), "PointEvaluationFailed");
    fx.settle(&valid);
}

#[test]
fn missing_or_malformed_kzg_proofs_revert() {
    let (mut fx, valid) = proposed();
    let mut bad = valid.clone();
    bad.kzg_proofs.clear();
    fx.refuse(&bad, "BlobCountMismatch");
    let mut bad = valid.clone();
    bad.kzg_proofs[0].commitment = Bytes::copy_from_slice(&bad.kzg_proofs[0].commitment[..47]);
    fx.refuse(&bad, "MalformedKzgProof");
    fx.settle(&valid);
}

// ---------------------------------------------------------------------------------------------
// The committee proof
// ---------------------------------------------------------------------------------------------

#[test]
fn public_values_tampered_after_signing_revert() {
    let (mut fx, valid) = proposed();
    let mut bad = valid.clone();
    let mut bytes = bad.public_values.to_vec();
    bytes[32 + 32 + 31] ^= 1; // postRoot's last byte
    bad.public_values = bytes.into();
    // The signatures now recover to addresses outside the committee.
    fx.refuse(&bad, "NotMember");
    fx.settle(&valid);
}

#[test]
fn too_few_signatures_revert() {
    let (mut fx, valid) = proposed();
    let pv = fx.public_values(0, thousand_orders());
    fx.refuse(&fx.settlement(0, &pv, thousand_orders(), &[1]), "TooFewSignatures");
    fx.refuse(&fx.settlement(0, &pv, thousand_orders(), &[]), "TooFewSignatures");
    fx.settle(&valid);
}

#[test]
fn a_duplicated_signer_reverts() {
    let (mut fx, valid) = proposed();
    let digest = fx.digest(&valid.public_values);
    let member = &fx.committee.members()[0];
    let mut bad = valid.clone();
    bad.proof = signed_by(&[member, member], digest);
    fx.refuse(&bad, "SignersNotAscending");
    fx.settle(&valid);
}

#[test]
fn signers_out_of_address_order_revert() {
    let (mut fx, valid) = proposed();
    let mut bad = valid.clone();
    let (first, second) = valid.proof.split_at(SIGNATURE_BYTES);
    bad.proof = [second, first].concat().into();
    fx.refuse(&bad, "SignersNotAscending");
    fx.settle(&valid);
}

#[test]
fn a_signer_outside_the_committee_reverts() {
    let (mut fx, valid) = proposed();
    let digest = fx.digest(&valid.public_values);
    let outsider = CommitteeMember::dev(99);
    let mut bad = valid.clone();
    bad.proof = signed_by(&[&fx.committee.members()[0], &outsider], digest);
    fx.refuse(&bad, "NotMember");
    fx.settle(&valid);
}

#[test]
fn a_high_s_signature_reverts() {
    let (mut fx, valid) = proposed();
    let mut proof = valid.proof.to_vec();
    // (r, n - s, v ^ 1) is the same signature in its malleable form: ecrecover accepts it.
    let s = U256::from_be_slice(&proof[32..64]);
    proof[32..64].copy_from_slice(&(CURVE_ORDER - s).to_be_bytes::<32>());
    proof[64] ^= 1; // 27 <-> 28
    let bad = Settlement { proof: proof.into(), ..valid.clone() };
    fx.refuse(&bad, "HighS");
    fx.settle(&valid);
}

#[test]
fn malformed_proofs_revert() {
    let (mut fx, valid) = proposed();
    let mut bad = valid.clone();
    bad.proof = Bytes::copy_from_slice(&valid.proof[..valid.proof.len() - 1]);
    fx.refuse(&bad, "MalformedProof");
    let mut proof = valid.proof.to_vec();
    proof[64] = 1;
    fx.refuse(&Settlement { proof: proof.into(), ..valid.clone() }, "BadV");
    let mut proof = valid.proof.to_vec();
    proof[..32].fill(0);
    fx.refuse(&Settlement { proof: proof.into(), ..valid.clone() }, "InvalidSignature");
    fx.settle(&valid);
}

#[test]
fn an_attestation_for_another_chain_or_verifier_reverts() {
    let (mut fx, valid) = proposed();
    let verifier = fx.l1.verifier_address();
    let other_chain = fx.committee.attest(&[0, 1], VKEY, &valid.public_values, 1, verifier);
    fx.refuse(&Settlement { proof: other_chain, ..valid.clone() }, "NotMember");
    let chain_id = fx.l1.chain().chain_id();
    let other_verifier =
        fx.committee.attest(&[0, 1], VKEY, &valid.public_values, chain_id, Address::repeat_byte(9));
    fx.refuse(&Settlement { proof: other_verifier, ..valid.clone() }, "NotMember");
    let other_program =
        fx.committee.attest(&[0, 1], B256::repeat_byte(1), &valid.public_values, chain_id, verifier);
    fx.refuse(&Settlement { proof: other_program, ..valid.clone() }, "NotMember");
    fx.settle(&valid);
}

// ---------------------------------------------------------------------------------------------
// Forced inclusion and deposits
// ---------------------------------------------------------------------------------------------

#[test]
fn a_forced_command_queued_before_the_proposal_must_be_consumed() {
    let mut fx = Fx::new();
    let command = b"a signed L2 command".to_vec();
    fx.l1.force_command(fx.user, &command).unwrap();
    let index = fx.propose(thousand_orders());
    assert_eq!(fx.l1.proposal(index).unwrap().forcedCount, 1);

    let skipping = fx.valid(index, thousand_orders());
    fx.refuse(&skipping, "QueueNotConsumed");
    let mut pv = fx.public_values(index, thousand_orders());
    pv.forcedCount = 1;
    pv.forcedChain = B256::repeat_byte(0x42);
    fx.refuse(&fx.settlement(index, &pv, thousand_orders(), &[0, 1]), "QueueChainMismatch");
    pv.forcedChain = forced_chain_link(B256::ZERO, &command);
    fx.settle(&fx.settlement(index, &pv, thousand_orders(), &[0, 1]));
    assert_eq!(fx.l1.forced_consumed().unwrap(), 1);
}

#[test]
fn a_forced_command_queued_after_the_proposal_belongs_to_the_next_batch() {
    let mut fx = Fx::new();
    let index = fx.propose(thousand_orders());
    let command = b"too late for this batch".to_vec();
    fx.l1.force_command(fx.user, &command).unwrap();
    let mut pv = fx.public_values(index, thousand_orders());
    pv.forcedCount = 1;
    pv.forcedChain = forced_chain_link(B256::ZERO, &command);
    fx.refuse(&fx.settlement(index, &pv, thousand_orders(), &[0, 1]), "QueueNotConsumed");
    fx.settle(&fx.valid(index, thousand_orders()));
    // The next proposal must take it.
    let next = fx.propose(thousand_orders());
    fx.refuse(&fx.valid(next, thousand_orders()), "QueueNotConsumed");
    let mut pv = fx.public_values(next, thousand_orders());
    pv.forcedCount = 1;
    pv.forcedChain = forced_chain_link(B256::ZERO, &command);
    fx.settle(&fx.settlement(next, &pv, thousand_orders(), &[0, 1]));
}

#[test]
fn a_deposit_queued_before_the_proposal_must_be_credited_once() {
    let mut fx = Fx::new();
    let l2 = [0xd0; 20];
    fx.l1.deposit_eth(fx.user, l2, U256::from(3 * GWEI)).unwrap();
    let index = fx.propose(thousand_orders());
    fx.refuse(&fx.valid(index, thousand_orders()), "QueueNotConsumed");

    let record = DepositRecord { asset_id: 1, atoms: 3, l2_address: l2 };
    let mut pv = fx.public_values(index, thousand_orders());
    pv.depositCount = 1;
    pv.depositChain = DepositRecord { atoms: 4, ..record }.chain_after(B256::ZERO);
    fx.refuse(&fx.settlement(index, &pv, thousand_orders(), &[0, 1]), "QueueChainMismatch");
    pv.depositChain = record.chain_after(B256::ZERO);
    fx.settle(&fx.settlement(index, &pv, thousand_orders(), &[0, 1]));
    assert_eq!(fx.l1.deposits_consumed().unwrap(), 1);

    // The next batch cannot credit it again: its deposits start where this one stopped.
    fx.l1.deposit_eth(fx.user, l2, U256::from(5 * GWEI)).unwrap();
    let next = fx.propose(thousand_orders());
    let second = DepositRecord { asset_id: 1, atoms: 5, l2_address: l2 };
    let mut pv = fx.public_values(next, thousand_orders());
    pv.depositFrom = 0;
    pv.depositCount = 2;
    pv.depositChain = second.chain_after(record.chain_after(B256::ZERO));
    fx.refuse(&fx.settlement(next, &pv, thousand_orders(), &[0, 1]), "QueueStartMismatch");
    pv.depositFrom = 1;
    fx.settle(&fx.settlement(next, &pv, thousand_orders(), &[0, 1]));
    assert_eq!(fx.l1.deposits_consumed().unwrap(), 2);
}

// ---------------------------------------------------------------------------------------------
// Measurement
// ---------------------------------------------------------------------------------------------

#[test]
#[ignore = "measurement: prints gas per operation"]
fn measure_gas() {
    let mut fx = Fx::new();
    let gas = fx.l1.deploy_gas();
    println!("| operation | gas |\n|---|---:|");
    println!("| deploy CommitteeVerifier (3 members) | {} |", gas.verifier);
    println!("| deploy Rollup (1 asset) | {} |", gas.rollup);
    let first = fx.l1.deposit_eth(fx.user, [1; 20], U256::from(GWEI)).unwrap();
    let second = fx.l1.deposit_eth(fx.user, [1; 20], U256::from(GWEI)).unwrap();
    println!("| depositEth (first ever / next) | {} / {} |", first.gas_used, second.gas_used);
    let command = borsh::to_vec(&common::orders(1, 1, 1)[0]).unwrap();
    let forced = fx.l1.force_command(fx.user, &command).unwrap();
    println!("| forceCommand ({} B signed order) | {} |", command.len(), forced.gas_used);

    // Fresh chains so that the queues above do not enter the settlements.
    let one = thousand_orders();
    // 2,000 orders from 1,000 accounts compress to about 250 KB: two blobs.
    let two = make_batch(1, &common::orders(2_000, 1_000, 8));
    assert_eq!(two.sidecars.len(), 2);
    for (label, batch) in
        [("1 blob, 1,000 orders / 100 accounts", one), ("2 blobs, 2,000 orders / 1,000 accounts", &two)]
    {
        let mut fx = Fx::new();
        let proposed = fx.l1.propose(fx.proposer, &batch.sidecars).unwrap();
        let settlement = fx.valid(0, batch);
        let settled = fx.settle(&settlement);
        let index = fx.propose(batch);
        let again = fx.settle(&fx.valid(index, batch));
        println!(
            "| propose, {label} (first / next) | {} / {} |",
            proposed.gas_used,
            fx_propose_gas(&mut fx, batch)
        );
        println!(
            "| settle, {label}, 2-of-3 (first / next), calldata {} B | {settled} / {again} |",
            settlement.public_values.len() + settlement.proof.len() + 2 * 48 * batch.sidecars.len()
        );
    }
    let mut fx = Fx::new();
    fx.propose(one);
    let pv = fx.public_values(0, one);
    let all = fx.settlement(0, &pv, one, &[0, 1, 2]);
    println!("| settle, 1 blob, 3-of-3 signatures | {} |", fx.settle(&all));
}

fn fx_propose_gas(fx: &mut Fx, batch: &Batch) -> u64 {
    fx.l1.propose(fx.proposer, &batch.sidecars).unwrap().gas_used
}
