//! The durable dev chain: a rollup deployed, used (deposits, a forced command, a blob proposal,
//! empty blocks, funding) and reopened from its log is the same chain — same roots, events,
//! blobs, balances and block — and a fresh follower derives the same batch from it. A torn last
//! record is cut off; damage before the end stops the open; a missing blob is reported.

#[path = "common/mod.rs"]
mod common;

use std::path::Path;

use alloy_primitives::{Address, B256, U256};
use zkclob_rollup::l1::chain::DevChain;
use zkclob_rollup::l1::committee::{Committee, CommitteeMember};
use zkclob_rollup::l1::derive::L1Follower;
use zkclob_rollup::l1::txlog::TxLogError;
use zkclob_rollup::l1::{AssetUnits, L1Config, L1};
use zkclob_rollup::pipeline::BatchBlobs;
use zkclob_state::{Action, BatchHeader, ExchangeState, FeeSchedule};

use common::{limit, Wallet, CHAIN};
use zkclob_core::{MarketSpec, Side, Timestamp};

const VKEY: B256 = B256::repeat_byte(0x5a);

struct Deployed {
    rollup: Address,
    verifier: Address,
    genesis: ExchangeState,
}

/// Deploys on a logged chain in `dir` and uses it; returns the addresses and a summary.
fn build(dir: &Path) -> (Deployed, Summary) {
    let (chain, replayed) = DevChain::open_logged(dir, 31_337).unwrap();
    assert_eq!(replayed.records, 0);
    let operator = Wallet::new(100);
    let genesis = ExchangeState::new(CHAIN, operator.address);
    let root = L1Follower::new(genesis.clone()).unwrap().root();
    let deployer = chain.dev_account(0);
    let config = L1Config {
        committee: Committee::new((1..=3).map(CommitteeMember::dev).collect()).addresses(),
        threshold: 2,
        program_vkey: VKEY,
        genesis_root: root.into(),
        escape_delay_blocks: 100,
        inclusion_delay_blocks: 16,
        eth: Some(AssetUnits { asset_id: 1, units_per_atom: 1_000_000_000 }),
        tokens: vec![],
    };
    let mut l1 = L1::deploy(chain, deployer, &config).unwrap();
    let mut operator = operator;
    let mut alice = Wallet::new(1);
    let user = l1.chain().dev_account(3);
    l1.deposit_eth(user, alice.address.0, U256::from(5_000_000_000_000u64)).unwrap();
    l1.force_command(user, &borsh::to_vec(&alice.sign(limit(0, Side::Sell, 100, 1))).unwrap()).unwrap();
    let own = vec![
        operator.sign(Action::AddMarket {
            spec: MarketSpec::example(),
            fees: FeeSchedule { maker_bps: 0, taker_bps: 0 },
        }),
        alice.sign(limit(0, Side::Sell, 101, 2)),
    ];
    let header = BatchHeader { batch_number: 1, timestamp: Timestamp(1), prev_root: root };
    let proposer = l1.chain().dev_account(1);
    l1.propose(proposer, &BatchBlobs::from_batch(&header, &own).unwrap().sidecars).unwrap();
    l1.chain_mut().mine_empty(7);
    l1.chain_mut().fund(Address::repeat_byte(0x42), U256::from(123u64));
    let deployed = Deployed { rollup: l1.rollup_address(), verifier: l1.verifier_address(), genesis };
    let summary = Summary::of(&l1, &deployed.genesis);
    (deployed, summary)
}

#[derive(Debug, PartialEq, Eq)]
struct Summary {
    block: u64,
    timestamp: u64,
    receipts: usize,
    events: usize,
    proposals: u64,
    deposits: u64,
    forced: u64,
    funded: U256,
    state_root: B256,
    derived_root: [u8; 32],
}

impl Summary {
    fn of(l1: &L1, genesis: &ExchangeState) -> Summary {
        let mut follower = L1Follower::new(genesis.clone()).unwrap();
        let batches = follower.sync(l1).unwrap();
        assert_eq!(batches.len(), 1);
        assert_eq!(batches[0].derived.empty, None);
        Summary {
            block: l1.chain().block_number(),
            timestamp: l1.chain().timestamp_s(),
            receipts: l1.chain().receipts().len(),
            events: l1.events_since(0).unwrap().len(),
            proposals: l1.proposal_count().unwrap(),
            deposits: l1.deposit_count().unwrap(),
            forced: l1.forced_count().unwrap(),
            funded: l1.chain().balance(Address::repeat_byte(0x42)),
            state_root: l1.state_root().unwrap(),
            derived_root: follower.root(),
        }
    }
}

#[test]
fn a_reopened_chain_is_the_same_chain() {
    let dir = tempfile::tempdir().unwrap();
    let (d, before) = build(dir.path());
    let (chain, replayed) = DevChain::open_logged(dir.path(), 31_337).unwrap();
    assert_eq!(replayed.torn_tail, None);
    assert!(replayed.records >= 7, "deploys, deposit, force, propose, mine, fund");
    let l1 = L1::at(chain, d.rollup, d.verifier, VKEY).unwrap();
    assert_eq!(Summary::of(&l1, &d.genesis), before);
    // And it keeps logging: one more transaction survives another reopen.
    let mut l1 = l1;
    let user = l1.chain().dev_account(4);
    l1.deposit_eth(user, [9; 20], U256::from(1_000_000_000u64)).unwrap();
    drop(l1);
    let (chain, _) = DevChain::open_logged(dir.path(), 31_337).unwrap();
    let l1 = L1::at(chain, d.rollup, d.verifier, VKEY).unwrap();
    assert_eq!(l1.deposit_count().unwrap(), 2);
    assert!(L1::at(DevChain::open_logged(dir.path(), 31_337).unwrap().0, d.rollup, d.verifier, B256::ZERO)
        .is_err());
}

#[test]
fn a_torn_last_record_is_cut_off_and_damage_before_the_end_stops_the_open() {
    let dir = tempfile::tempdir().unwrap();
    let (d, before) = build(dir.path());
    let log = dir.path().join("txlog");
    let whole = std::fs::read(&log).unwrap();

    // A half-written record at the end: cut off, the chain is as before.
    let mut torn = whole.clone();
    torn.extend_from_slice(&[200, 0, 0, 0, 1, 2, 3, 4, 1, 2]);
    std::fs::write(&log, &torn).unwrap();
    let (chain, replayed) = DevChain::open_logged(dir.path(), 31_337).unwrap();
    assert_eq!(replayed.torn_tail, Some(10));
    assert_eq!(std::fs::read(&log).unwrap(), whole, "truncated back to the whole records");
    assert_eq!(Summary::of(&L1::at(chain, d.rollup, d.verifier, VKEY).unwrap(), &d.genesis), before);

    // A flipped byte inside the first record: refused, naming the offset.
    let mut damaged = whole.clone();
    damaged[20] ^= 0x01;
    std::fs::write(&log, &damaged).unwrap();
    match DevChain::open_logged(dir.path(), 31_337) {
        Err(TxLogError::Corrupt { offset: 0, .. }) => {}
        other => panic!("expected corruption at offset 0, got {other:?}"),
    }
    std::fs::write(&log, &whole).unwrap();

    // A blob file gone: reported, not replayed without it.
    let blobs = dir.path().join("blobs");
    for entry in std::fs::read_dir(&blobs).unwrap() {
        std::fs::remove_file(entry.unwrap().path()).unwrap();
    }
    assert!(matches!(DevChain::open_logged(dir.path(), 31_337), Err(TxLogError::Blob(_))));
}
