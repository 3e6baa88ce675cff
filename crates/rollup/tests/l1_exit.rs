//! Leaving the rollup on the in-process L1: withdrawals claimed with a Merkle proof against a
//! settled batch's `withdrawalsRoot`, and the escape hatch (freeze after `escapeDelayBlocks`
//! without a settlement, then every account's balance paid out against the last settled state
//! root, and unconsumed deposits refunded).
//!
//! The L2 side is the real state transition: deposits made on L1 are credited by a batch that
//! also trades and withdraws; the batch is proposed as real blobs; its roots come from the
//! state's own commitment; the committee attests the public values. (The zkVM guest that will
//! compute these public values itself is the next step; here they are computed natively.)
//!
//! Gas: `cargo test -p zkclob-rollup --test l1_exit -- --nocapture` prints it.

#[path = "common/mod.rs"]
mod common;

use alloy_primitives::{keccak256, Address, B256, U256};
use sha2::{Digest, Sha256};
use zkclob_core::{AssetId, Side, Timestamp};
use zkclob_rollup::batch_data;
use zkclob_rollup::l1::chain::DevChain;
use zkclob_rollup::l1::committee::{Committee, CommitteeMember};
use zkclob_rollup::l1::contracts::Rollup;
use zkclob_rollup::l1::settlement::{encode_public_values, open_blob, DepositRecord, PublicValues};
use zkclob_rollup::l1::{AssetUnits, L1Config, Settlement, WithdrawalClaim, L1};
use zkclob_rollup::pipeline::BatchBlobs;
use zkclob_state::commitment::{account_index, StateCommitment};
use zkclob_state::merkle::{MerkleHasher, Sha256Hasher};
use zkclob_state::withdrawals::{withdrawal_proof, withdrawals_root};
use zkclob_state::{
    Action, BatchHeader, Command, ExchangeState, FeeSchedule, NativeCrypto, Receipt, SHA256_IV,
};

use common::{fiat_shamir_z, limit, Wallet, CHAIN};
use zkclob_core::MarketSpec;

const GWEI: u128 = 1_000_000_000;
const ETH: u32 = 1;
const USD: u32 = 2;
const ESCAPE_BLOCKS: u64 = 50;
const VKEY: B256 = B256::repeat_byte(0x5a);

/// An L2 exchange whose batches settle on an in-process L1.
struct World {
    l1: L1,
    committee: Committee,
    state: ExchangeState,
    commitment: StateCommitment<Sha256Hasher>,
    token: Address,
    operator: Wallet,
    alice: Wallet,
    bob: Wallet,
    relayer: Address,
    /// Deposits queued on L1 and not yet put in a batch.
    pending_deposits: Vec<DepositRecord>,
    deposits_taken: u64,
    /// Withdrawals of each settled batch: (first number, withdrawals).
    settled_withdrawals: Vec<(u64, Vec<zkclob_state::Withdrawal>)>,
}

impl World {
    fn new() -> World {
        let mut chain = DevChain::new();
        let deployer = chain.dev_account(0);
        let token =
            zkclob_rollup::l1::rollup::deploy_test_token(&mut chain, deployer, "Dollar", "USD", 6).unwrap();
        let operator = Wallet::new(100);
        let mut state = ExchangeState::new(CHAIN, operator.address);
        let commitment = StateCommitment::build(Sha256Hasher, &mut state).unwrap();
        let committee = Committee::new((1..=3).map(CommitteeMember::dev).collect());
        let config = L1Config {
            committee: committee.addresses(),
            threshold: 2,
            program_vkey: VKEY,
            genesis_root: commitment.root().into(),
            escape_delay_blocks: ESCAPE_BLOCKS,
            inclusion_delay_blocks: 16,
            eth: Some(AssetUnits { asset_id: ETH, units_per_atom: GWEI }),
            tokens: vec![(token, AssetUnits { asset_id: USD, units_per_atom: 1 })],
        };
        let l1 = L1::deploy(chain, deployer, &config).unwrap();
        let relayer = l1.chain().dev_account(5);
        World {
            l1,
            committee,
            state,
            commitment,
            token,
            operator,
            alice: Wallet::new(1),
            bob: Wallet::new(2),
            relayer,
            pending_deposits: Vec::new(),
            deposits_taken: 0,
            settled_withdrawals: Vec::new(),
        }
    }

    fn l1_address(wallet: &Wallet) -> Address {
        Address::from(wallet.address.0)
    }

    fn deposit_eth(&mut self, to: [u8; 20], atoms: u128) {
        let from = self.l1.chain().dev_account(3);
        let event = self.l1.deposit_eth(from, to, U256::from(atoms * GWEI)).unwrap().event;
        self.pending_deposits.push(DepositRecord {
            asset_id: event.assetId,
            atoms: event.atoms,
            l2_address: to,
        });
    }

    fn deposit_usd(&mut self, to: [u8; 20], atoms: u128) {
        let from = self.l1.chain().dev_account(4);
        self.l1.mint_and_approve_token(self.token, from, U256::from(atoms)).unwrap();
        let event = self.l1.deposit_token(from, self.token, U256::from(atoms), to).unwrap().event;
        self.pending_deposits.push(DepositRecord {
            asset_id: event.assetId,
            atoms: event.atoms,
            l2_address: to,
        });
    }

    /// Applies `commands` (after the pending deposits) as the next batch, proposes it as blobs
    /// and settles it; returns the receipts of `commands`.
    fn batch(&mut self, commands: Vec<Command>) -> Vec<Receipt> {
        let deposits: Vec<Command> = self.pending_deposits.drain(..).map(|d| d.to_command()).collect();
        let taken = deposits.len();
        self.deposits_taken += taken as u64;
        let all: Vec<Command> = deposits.into_iter().chain(commands).collect();
        let number = self.state.batch_number + 1;
        let pre_root = self.commitment.root();
        let header = BatchHeader {
            batch_number: number,
            timestamp: Timestamp(number * 1_000_000_000),
            prev_root: pre_root,
        };
        let first_withdrawal = self.state.withdrawal_count();
        let receipts = self.state.apply_batch(&NativeCrypto, &header, pre_root, &all).unwrap();
        let post_root = self.commitment.update(&mut self.state).unwrap();
        let withdrawals = self.state.withdrawals()[first_withdrawal as usize..].to_vec();

        let sidecars = BatchBlobs::from_batch(&header, &all).unwrap().sidecars;
        let proposer = self.l1.chain().dev_account(1);
        let proposal = self.l1.propose(proposer, &sidecars).unwrap().event.index.to::<u64>();
        let (openings, kzg_proofs): (Vec<_>, Vec<_>) =
            sidecars.iter().map(|s| open_blob(s, &fiat_shamir_z(s)).unwrap()).unzip();
        let deposit_count = self.deposits_taken;
        let pv = PublicValues {
            preRoot: pre_root.into(),
            postRoot: post_root.into(),
            batchNumber: number,
            batchHash: keccak256(batch_data::encode(&header, &all).unwrap()),
            receiptsDigest: keccak256(borsh::to_vec(&receipts).unwrap()),
            depositFrom: deposit_count - taken as u64,
            depositCount: deposit_count,
            depositChain: self.l1.deposit_chain_at(deposit_count).unwrap(),
            forcedFrom: 0,
            forcedCount: 0,
            forcedChain: B256::ZERO,
            withdrawalCount: self.state.withdrawal_count(),
            withdrawalsRoot: withdrawals_root(&NativeCrypto, first_withdrawal, &withdrawals).into(),
            blobs: openings,
        };
        let public_values = encode_public_values(&pv);
        let proof = self.committee.attest(
            &[0, 2],
            VKEY,
            &public_values,
            self.l1.chain().chain_id(),
            self.l1.verifier_address(),
        );
        let settler = self.l1.chain().dev_account(2);
        self.l1
            .settle(settler, &Settlement { proposal_index: proposal, public_values, proof, kzg_proofs })
            .unwrap();
        self.settled_withdrawals.push((first_withdrawal, withdrawals));
        receipts[taken..].to_vec()
    }

    /// The claim of the `position`-th withdrawal of settled batch `batch`.
    fn claim(&self, batch: usize, position: usize) -> WithdrawalClaim {
        let (first, withdrawals) = &self.settled_withdrawals[batch];
        let w = withdrawals[position];
        let proof = withdrawal_proof(&NativeCrypto, *first, withdrawals, position).unwrap();
        WithdrawalClaim {
            batch_index: batch as u64,
            index: first + position as u64,
            to: w.to.0,
            asset_id: w.asset.0,
            atoms: w.amount.0,
            proof: proof.into_iter().map(B256::from).collect(),
        }
    }

    /// Account `wallet`'s id, leaf bytes and state-tree path at the current (settled) root.
    fn account_proof(&self, wallet: &Wallet) -> (u32, Vec<u8>, Vec<[u8; 32]>) {
        let id = self.state.account_id(&wallet.address).expect("the account exists");
        let leaf = borsh::to_vec(&self.state.account_leaf(id).unwrap()).unwrap();
        let path = self.commitment.tree().prove(account_index(id)).unwrap().siblings;
        (u32::try_from(id.0).unwrap(), leaf, path)
    }

    fn usd_balance(&self, wallet: &Wallet) -> U256 {
        self.l1.token_balance(self.token, World::l1_address(wallet)).unwrap()
    }

    fn eth_balance(&self, wallet: &Wallet) -> U256 {
        self.l1.eth_balance(World::l1_address(wallet))
    }
}

fn applied(receipts: &[Receipt]) {
    for (i, r) in receipts.iter().enumerate() {
        assert!(matches!(r, Receipt::Applied(_)), "command {i} was {r:?}");
    }
}

/// One batch: market opened, Alice deposits ETH and Bob dollars on L1, they trade, Bob leaves a
/// resting bid (locked dollars), Alice withdraws dollars and Bob ETH.
fn traded() -> World {
    let mut w = World::new();
    let (alice, bob) = (w.alice.address.0, w.bob.address.0);
    w.deposit_eth(alice, 1_000_000);
    w.deposit_usd(bob, 10_000_000);
    let add = w.operator.sign(Action::AddMarket {
        spec: MarketSpec::example(),
        fees: FeeSchedule { maker_bps: 10, taker_bps: 25 },
    });
    // Only the operator's command goes first; the deposits run before it (batch() puts them
    // first), which is fine: deposits need no market.
    let commands = vec![
        add,
        w.alice.sign(limit(0, Side::Sell, 100, 100)),
        w.bob.sign(limit(0, Side::Buy, 100, 60)),
        w.bob.sign(limit(0, Side::Buy, 90, 10)),
        w.alice.sign(Action::Withdraw { asset: AssetId(USD), amount: zkclob_core::Amount(50_000) }),
        w.bob.sign(Action::Withdraw { asset: AssetId(ETH), amount: zkclob_core::Amount(30_000) }),
    ];
    applied(&w.batch(commands));
    w
}

#[test]
fn the_contract_computes_the_state_tree_node_hash() {
    let w = World::new();
    let mut seed = [7u8; 32];
    for _ in 0..20 {
        let left: [u8; 32] = Sha256::digest(seed).into();
        let right: [u8; 32] = Sha256::digest(left).into();
        seed = right;
        let got = w.l1.view(&Rollup::stateNodeHashCall { left: left.into(), right: right.into() }).unwrap();
        assert_eq!(got.0, Sha256Hasher.hash_node(&left, &right));
        // and it is the bare compression from the standard IV
        let mut state = SHA256_IV;
        let mut block = [0u8; 64];
        block[..32].copy_from_slice(&left);
        block[32..].copy_from_slice(&right);
        sha2::compress256(&mut state, &[block.into()]);
        let words: Vec<u8> = state.iter().flat_map(|x| x.to_be_bytes()).collect();
        assert_eq!(got.as_slice(), &words[..]);
    }
}

#[test]
fn withdrawals_are_claimed_once_with_a_merkle_proof() {
    let mut w = traded();
    assert_eq!(w.l1.view(&Rollup::withdrawalsSettledCall {}).unwrap(), 2);

    // Alice's dollars: 50,000 atoms at 1 unit per atom.
    let alice_claim = w.claim(0, 0);
    assert_eq!((alice_claim.index, alice_claim.atoms, alice_claim.asset_id), (0, 50_000, USD));
    let before = w.usd_balance(&w.alice);
    let gas = w.l1.claim_withdrawal(w.relayer, &alice_claim).unwrap().gas_used;
    assert_eq!(w.usd_balance(&w.alice) - before, U256::from(50_000));
    assert!(w.l1.is_claimed(0).unwrap());
    println!("claimWithdrawal (token, 2 leaves) gas {gas}");

    // Paid once.
    let again = w.l1.claim_withdrawal(w.relayer, &alice_claim).unwrap_err();
    assert_eq!(again.revert_name(), Some("AlreadyClaimed"));

    // Bob's ETH: 30,000 atoms of 1 gwei.
    let bob_claim = w.claim(0, 1);
    let before = w.eth_balance(&w.bob);
    let gas = w.l1.claim_withdrawal(w.relayer, &bob_claim).unwrap().gas_used;
    assert_eq!(w.eth_balance(&w.bob) - before, U256::from(30_000 * GWEI));
    println!("claimWithdrawal (ETH, 2 leaves) gas {gas}");
}

#[test]
fn forged_withdrawal_claims_revert() {
    let mut w = traded();
    let good = w.claim(0, 0);
    let cases: Vec<(WithdrawalClaim, &str)> = vec![
        (WithdrawalClaim { atoms: good.atoms + 1, ..good.clone() }, "BadWithdrawalProof"),
        (WithdrawalClaim { to: [0x66; 20], ..good.clone() }, "BadWithdrawalProof"),
        (WithdrawalClaim { asset_id: ETH, ..good.clone() }, "BadWithdrawalProof"),
        (WithdrawalClaim { proof: vec![B256::repeat_byte(1)], ..good.clone() }, "BadWithdrawalProof"),
        (WithdrawalClaim { proof: Vec::new(), ..good.clone() }, "BadWithdrawalProof"),
        (WithdrawalClaim { index: 2, ..good.clone() }, "WithdrawalNotInBatch"),
        (WithdrawalClaim { batch_index: 1, ..good.clone() }, "UnknownBatch"),
        // Bob's leaf at Alice's position.
        (WithdrawalClaim { index: 0, ..w.claim(0, 1) }, "BadWithdrawalProof"),
    ];
    for (claim, error) in cases {
        let got = w.l1.claim_withdrawal(w.relayer, &claim).unwrap_err();
        assert_eq!(got.revert_name(), Some(error), "{claim:?}");
    }
    assert!(!w.l1.is_claimed(0).unwrap());
    w.l1.claim_withdrawal(w.relayer, &good).unwrap();
}

#[test]
fn a_later_batch_numbers_its_withdrawals_after_the_earlier_ones() {
    let mut w = traded();
    let commands = (0..3)
        .map(|_| w.alice.sign(Action::Withdraw { asset: AssetId(USD), amount: zkclob_core::Amount(1_000) }))
        .collect();
    applied(&w.batch(commands));
    let claim = w.claim(1, 2);
    assert_eq!(claim.index, 4);
    assert_eq!(claim.proof.len(), 2);
    w.l1.claim_withdrawal(w.relayer, &claim).unwrap();
    // Number 4 against batch 0 is not one of batch 0's.
    let wrong = WithdrawalClaim { batch_index: 0, ..claim };
    assert_eq!(
        w.l1.claim_withdrawal(w.relayer, &wrong).unwrap_err().revert_name(),
        Some("WithdrawalNotInBatch")
    );
}

#[test]
fn the_escape_hatch_pays_every_balance_against_the_last_settled_root() {
    let mut w = traded();
    // A deposit queued after the last settlement: nothing on L2 has it.
    let carol = Wallet::new(3);
    w.deposit_eth(carol.address.0, 777);

    let early = w.l1.freeze(w.relayer).unwrap_err();
    assert_eq!(early.revert_name(), Some("EscapeNotDue"));
    let (id, leaf, path) = w.account_proof(&w.alice);
    let not_frozen = w.l1.escape_withdraw(w.relayer, id, &leaf, &path).unwrap_err();
    assert_eq!(not_frozen.revert_name(), Some("NotFrozen"));

    w.l1.chain_mut().mine_empty(ESCAPE_BLOCKS);
    w.l1.freeze(w.relayer).unwrap();
    assert!(w.l1.is_frozen().unwrap());
    // Nothing moves the rollup any more.
    let sidecars = BatchBlobs::from_batch(
        &BatchHeader { batch_number: 2, timestamp: Timestamp(0), prev_root: [0; 32] },
        &[],
    )
    .unwrap()
    .sidecars;
    let proposer = w.l1.chain().dev_account(1);
    assert_eq!(w.l1.propose(proposer, &sidecars).unwrap_err().revert_name(), Some("RollupFrozen"));
    let depositor = w.l1.chain().dev_account(3);
    let refused = w.l1.deposit_eth(depositor, [9; 20], U256::from(GWEI)).unwrap_err();
    assert_eq!(refused.revert_name(), Some("RollupFrozen"));
    assert_eq!(w.l1.freeze(w.relayer).unwrap_err().revert_name(), Some("RollupFrozen"));

    // A forged leaf (more dollars) does not prove.
    let mut forged_leaf = w.state.account_leaf(w.state.account_id(&w.alice.address).unwrap()).unwrap();
    forged_leaf.balances[1].1 += 1;
    let forged = borsh::to_vec(&forged_leaf).unwrap();
    assert_eq!(
        w.l1.escape_withdraw(w.relayer, id, &forged, &path).unwrap_err().revert_name(),
        Some("BadAccountProof")
    );
    // Alice's leaf as Bob's account id.
    let (bob_id, bob_leaf, bob_path) = w.account_proof(&w.bob);
    assert_eq!(
        w.l1.escape_withdraw(w.relayer, bob_id, &leaf, &path).unwrap_err().revert_name(),
        Some("BadAccountProof")
    );
    let short = &leaf[..leaf.len() - 1];
    assert_eq!(
        w.l1.escape_withdraw(w.relayer, id, short, &path).unwrap_err().revert_name(),
        Some("MalformedAccountLeaf")
    );

    // Alice: ETH available + locked (her unfilled 40 lots) and her remaining dollars.
    let alice_leaf = w.state.account_leaf(w.state.account_id(&w.alice.address).unwrap()).unwrap();
    let owed: Vec<(u32, u128)> =
        alice_leaf.balances.iter().map(|(a, avail, locked)| (a.0, avail + locked)).collect();
    assert_eq!(owed[0], (ETH, 1_000_000 - 60_000));
    let (eth0, usd0) = (w.eth_balance(&w.alice), w.usd_balance(&w.alice));
    let (gas, events) = w.l1.escape_withdraw(w.relayer, id, &leaf, &path).unwrap();
    println!("escapeWithdraw (2 assets, 32-level SHA-256-compression path) gas {gas}");
    assert_eq!(events.len(), 2);
    assert_eq!(w.eth_balance(&w.alice) - eth0, U256::from(owed[0].1 * GWEI));
    assert_eq!(w.usd_balance(&w.alice) - usd0, U256::from(owed[1].1));
    assert_eq!(
        w.l1.escape_withdraw(w.relayer, id, &leaf, &path).unwrap_err().revert_name(),
        Some("AlreadyEscaped")
    );

    // Bob: his dollars include the 9,000 locked by his resting bid.
    let bob_state = w.state.account_leaf(w.state.account_id(&w.bob.address).unwrap()).unwrap();
    let bob_usd = bob_state.balances.iter().find(|b| b.0 .0 == USD).map(|b| b.1 + b.2).unwrap();
    assert!(bob_state.balances.iter().any(|b| b.0 .0 == USD && b.2 == 9_000));
    let usd0 = w.usd_balance(&w.bob);
    w.l1.escape_withdraw(w.relayer, bob_id, &bob_leaf, &bob_path).unwrap();
    assert_eq!(w.usd_balance(&w.bob) - usd0, U256::from(bob_usd));

    // Withdrawals settled before the freeze stay claimable.
    w.l1.claim_withdrawal(w.relayer, &w.claim(0, 0)).unwrap();
    w.l1.claim_withdrawal(w.relayer, &w.claim(0, 1)).unwrap();

    // Carol's deposit was never consumed: refunded once, to her address; consumed ones are not.
    let carol_deposit = DepositRecord { asset_id: ETH, atoms: 777, l2_address: carol.address.0 };
    let forged = DepositRecord { atoms: 778, ..carol_deposit };
    assert_eq!(
        w.l1.refund_deposit(w.relayer, 2, &forged).unwrap_err().revert_name(),
        Some("DepositMismatch")
    );
    let carol_l1 = Address::from(carol.address.0);
    let before = w.l1.eth_balance(carol_l1);
    w.l1.refund_deposit(w.relayer, 2, &carol_deposit).unwrap();
    assert_eq!(w.l1.eth_balance(carol_l1) - before, U256::from(777 * GWEI));
    assert_eq!(
        w.l1.refund_deposit(w.relayer, 2, &carol_deposit).unwrap_err().revert_name(),
        Some("AlreadyRefunded")
    );
    let alice_deposit = DepositRecord { asset_id: ETH, atoms: 1_000_000, l2_address: w.alice.address.0 };
    assert_eq!(
        w.l1.refund_deposit(w.relayer, 0, &alice_deposit).unwrap_err().revert_name(),
        Some("DepositConsumed")
    );

    // Every deposit came back out as a withdrawal, an escape or a refund, except the fees the
    // exchange collected on L2 (kept in its global leaf, not an account): exactly those are left.
    let rollup = w.l1.rollup_address();
    let eth_left = w.l1.eth_balance(rollup);
    let fees_eth = w.state.fees_collected(AssetId(ETH));
    assert_eq!(eth_left, U256::from(fees_eth * GWEI), "ETH left = ETH fees");
    let usd_left = w.l1.token_balance(w.token, rollup).unwrap();
    let fees_usd = w.state.fees_collected(AssetId(USD));
    assert_eq!(usd_left, U256::from(fees_usd), "dollars left = dollar fees");
}

#[test]
fn nothing_escapes_before_a_freeze_and_settling_resets_the_clock() {
    let mut w = traded();
    w.l1.chain_mut().mine_empty(ESCAPE_BLOCKS - 5);
    // A settlement resets the escape clock.
    let c = w.alice.sign(Action::Withdraw { asset: AssetId(USD), amount: zkclob_core::Amount(1) });
    applied(&w.batch(vec![c]));
    w.l1.chain_mut().mine_empty(ESCAPE_BLOCKS - 5);
    assert_eq!(w.l1.freeze(w.relayer).unwrap_err().revert_name(), Some("EscapeNotDue"));
    w.l1.chain_mut().mine_empty(5);
    w.l1.freeze(w.relayer).unwrap();
}
