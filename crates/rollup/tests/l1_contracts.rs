//! The L1 contracts on the in-process chain, before settlement: deployment, ETH and ERC-20
//! deposits with their hash chain, the forced-inclusion queue, proposals carrying real batch
//! blobs, and the Rust helpers agreeing with the contracts (attestation digest, public values).

#[path = "common/mod.rs"]
mod common;

use alloy_primitives::{Address, Bytes, B256, U256};
use zkclob_rollup::kzg::BlobSidecar;
use zkclob_rollup::l1::chain::{ChainError, DevChain, TxRequest, MAX_BLOBS_PER_TX};
use zkclob_rollup::l1::committee::{attestation_digest, Committee, CommitteeMember};
use zkclob_rollup::l1::contracts::{CommitteeVerifier, Rollup};
use zkclob_rollup::l1::rollup::{deploy_test_token, view, RollupEvents};
use zkclob_rollup::l1::settlement::{
    blobs_hash, decode_public_values, deposit_chain, encode_public_values, forced_chain, forced_chain_link,
    BlobOpening, DepositRecord, PublicValues,
};
use zkclob_rollup::l1::{AssetUnits, L1Config, L1Error, L1};
use zkclob_rollup::pipeline::{decode_blobs, BatchBlobs};
use zkclob_rollup::{blob, Blob};

const GWEI: u64 = 1_000_000_000;
const ETH_ASSET: u32 = 1;
const TOKEN_ASSET: u32 = 2;
/// The test token has 18 decimals; one L2 atom is 10^12 token units (6 decimals on L2).
const TOKEN_UNITS_PER_ATOM: u128 = 1_000_000_000_000;
const ESCAPE_BLOCKS: u64 = 1_000;
const INCLUSION_BLOCKS: u64 = 16;

struct Setup {
    l1: L1,
    token: Address,
    user: Address,
}

fn committee() -> Committee {
    Committee::new((1..=3).map(CommitteeMember::dev).collect())
}

fn setup() -> Setup {
    let mut chain = DevChain::new();
    let deployer = chain.dev_account(0);
    let token = deploy_test_token(&mut chain, deployer, "Test USD", "TUSD", 18).unwrap();
    let config = L1Config {
        committee: committee().addresses(),
        threshold: 2,
        program_vkey: B256::repeat_byte(0x5a),
        genesis_root: B256::repeat_byte(0x01),
        escape_delay_blocks: ESCAPE_BLOCKS,
        inclusion_delay_blocks: INCLUSION_BLOCKS,
        eth: Some(AssetUnits { asset_id: ETH_ASSET, units_per_atom: u128::from(GWEI) }),
        tokens: vec![(token, AssetUnits { asset_id: TOKEN_ASSET, units_per_atom: TOKEN_UNITS_PER_ATOM })],
    };
    let l1 = L1::deploy(chain, deployer, &config).unwrap();
    let user = l1.chain().dev_account(1);
    Setup { l1, token, user }
}

fn assert_reverts<T: std::fmt::Debug>(result: Result<T, L1Error>, name: &str) {
    match result {
        Err(L1Error::Reverted { error, .. }) => assert_eq!(error, name),
        other => panic!("expected a revert with {name}, got {other:?}"),
    }
}

#[test]
fn deployment_records_the_configuration() {
    let s = setup();
    assert_eq!(s.l1.state_root().unwrap(), B256::repeat_byte(0x01));
    assert_eq!(s.l1.proposal_count().unwrap(), 0);
    assert_eq!(s.l1.settled_count().unwrap(), 0);
    assert_eq!(s.l1.view(&Rollup::programVKeyCall {}).unwrap(), B256::repeat_byte(0x5a));
    assert_eq!(s.l1.view(&Rollup::verifierCall {}).unwrap(), s.l1.verifier_address());
    assert_eq!(s.l1.view(&Rollup::escapeDelayBlocksCall {}).unwrap(), ESCAPE_BLOCKS);
    assert_eq!(s.l1.view(&Rollup::inclusionDelayBlocksCall {}).unwrap(), INCLUSION_BLOCKS);
    let eth = s.l1.view(&Rollup::assetsCall(Address::ZERO)).unwrap();
    assert_eq!((eth.assetId, eth.unitsPerAtom), (ETH_ASSET, U256::from(GWEI)));
    let token = s.l1.view(&Rollup::assetsCall(s.token)).unwrap();
    assert_eq!((token.assetId, token.unitsPerAtom), (TOKEN_ASSET, U256::from(TOKEN_UNITS_PER_ATOM)));

    let verifier = s.l1.verifier_address();
    let members = view(s.l1.chain(), verifier, &CommitteeVerifier::committeeCall {}).unwrap();
    assert_eq!(members, committee().addresses());
    assert!(members.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(view(s.l1.chain(), verifier, &CommitteeVerifier::thresholdCall {}).unwrap(), U256::from(2));
    let gas = s.l1.deploy_gas();
    println!("deploy gas: CommitteeVerifier {}, Rollup {}", gas.verifier, gas.rollup);
}

#[test]
fn a_committee_that_is_unsorted_or_has_a_bad_threshold_is_refused() {
    let mut chain = DevChain::new();
    let deployer = chain.dev_account(0);
    let mut members = committee().addresses();
    let deploy = |chain: &mut DevChain, members: Vec<Address>, k: u64| {
        use alloy_sol_types::SolConstructor;
        let args = CommitteeVerifier::constructorCall { committee_: members, k: U256::from(k) };
        let code = [CommitteeVerifier::BYTECODE.as_ref(), &args.abi_encode()].concat();
        chain.send(TxRequest::create(deployer, code)).unwrap()
    };
    assert!(deploy(&mut chain, members.clone(), 3).is_success());
    assert!(!deploy(&mut chain, members.clone(), 4).is_success(), "k > n");
    assert!(!deploy(&mut chain, members.clone(), 0).is_success(), "k = 0");
    members.swap(0, 1);
    assert!(!deploy(&mut chain, members.clone(), 2).is_success(), "not ascending");
    members.swap(0, 1);
    members[1] = members[0];
    assert!(!deploy(&mut chain, members, 2).is_success(), "duplicate member");
}

#[test]
fn an_asset_listed_twice_or_without_units_is_refused() {
    let eth = AssetUnits { asset_id: ETH_ASSET, units_per_atom: u128::from(GWEI) };
    let config = |eth: Option<AssetUnits>, tokens: Vec<(Address, AssetUnits)>| L1Config {
        committee: committee().addresses(),
        threshold: 2,
        program_vkey: B256::ZERO,
        genesis_root: B256::ZERO,
        escape_delay_blocks: ESCAPE_BLOCKS,
        inclusion_delay_blocks: INCLUSION_BLOCKS,
        eth,
        tokens,
    };
    let deploy = |config: L1Config| {
        let chain = DevChain::new();
        let deployer = chain.dev_account(0);
        L1::deploy(chain, deployer, &config).map(|_| ())
    };
    let token = Address::repeat_byte(0x70);
    let units = |asset_id, units_per_atom| AssetUnits { asset_id, units_per_atom };
    deploy(config(Some(eth), vec![(token, units(TOKEN_ASSET, 1))])).unwrap();
    assert_reverts(deploy(config(Some(eth), vec![(token, units(ETH_ASSET, 1))])), "BadAssetConfig");
    assert_reverts(deploy(config(None, vec![(token, units(2, 1)), (token, units(3, 1))])), "BadAssetConfig");
    assert_reverts(deploy(config(Some(units(ETH_ASSET, 0)), vec![])), "BadAssetConfig");
}

#[test]
fn eth_and_token_deposits_emit_events_and_extend_the_hash_chain() {
    let mut s = setup();
    let rollup = s.l1.rollup_address();
    let l2_a = [0xa1; 20];
    let l2_b = [0xb2; 20];

    let eth = s.l1.deposit_eth(s.user, l2_a, U256::from(1_500 * GWEI)).unwrap();
    let record_a = DepositRecord { asset_id: ETH_ASSET, atoms: 1_500, l2_address: l2_a };
    assert_eq!(eth.event.index, U256::ZERO);
    assert_eq!(eth.event.l2Address.0, l2_a);
    assert_eq!(eth.event.assetId, ETH_ASSET);
    assert_eq!(eth.event.atoms, 1_500);
    assert_eq!(eth.event.depositor, s.user);
    assert_eq!(eth.event.chain, record_a.chain_after(B256::ZERO));
    assert_eq!(s.l1.chain().balance(rollup), U256::from(1_500 * GWEI));

    let amount = U256::from(2_500_000u128 * TOKEN_UNITS_PER_ATOM);
    s.l1.mint_and_approve_token(s.token, s.user, amount).unwrap();
    let token = s.l1.deposit_token(s.user, s.token, amount, l2_b).unwrap();
    let record_b = DepositRecord { asset_id: TOKEN_ASSET, atoms: 2_500_000, l2_address: l2_b };
    assert_eq!(token.event.index, U256::from(1));
    assert_eq!(
        (token.event.l2Address.0, token.event.assetId, token.event.atoms),
        (l2_b, TOKEN_ASSET, 2_500_000)
    );
    let chain = deposit_chain([&record_a, &record_b]);
    assert_eq!(token.event.chain, chain);
    assert_eq!(s.l1.token_balance(s.token, rollup).unwrap(), amount);
    assert_eq!(s.l1.token_balance(s.token, s.user).unwrap(), U256::ZERO);

    assert_eq!(s.l1.deposit_count().unwrap(), 2);
    assert_eq!(s.l1.deposit_chain_at(0).unwrap(), B256::ZERO);
    assert_eq!(s.l1.deposit_chain_at(1).unwrap(), record_a.chain_after(B256::ZERO));
    assert_eq!(s.l1.deposit_chain_at(2).unwrap(), chain);
    let link =
        s.l1.view(&Rollup::depositChainLinkCall {
            previous: eth.event.chain,
            assetId: TOKEN_ASSET,
            atoms: 2_500_000,
            l2Address: l2_b.into(),
        })
        .unwrap();
    assert_eq!(link, chain, "the contract's and the Rust chain agree");

    // Derivation sees both, in order, and credits them as L2 deposit commands.
    let events = s.l1.events_since(0).unwrap();
    let deposits: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.event {
            RollupEvents::Deposited(d) => {
                Some(DepositRecord { asset_id: d.assetId, atoms: d.atoms, l2_address: d.l2Address.0 })
            }
            _ => None,
        })
        .collect();
    assert_eq!(deposits, vec![record_a, record_b]);
    assert_eq!(deposits[0].to_command(), common_deposit(l2_a, ETH_ASSET, 1_500));
    println!("gas: deposit ETH {}, deposit token {}", eth.gas_used, token.gas_used);
}

fn common_deposit(to: [u8; 20], asset: u32, atoms: u128) -> zkclob_state::Command {
    zkclob_state::Command::Deposit {
        to: zkclob_state::Address(to),
        asset: zkclob_core::AssetId(asset),
        amount: zkclob_core::Amount(atoms),
    }
}

#[test]
fn deposits_that_are_not_whole_atoms_zero_unknown_or_unfunded_revert() {
    let mut s = setup();
    let user = s.user;
    assert_reverts(s.l1.deposit_eth(user, [1; 20], U256::from(GWEI + 1)), "BadAmount");
    assert_reverts(s.l1.deposit_eth(user, [1; 20], U256::ZERO), "BadAmount");
    assert_reverts(s.l1.deposit_eth(user, [0; 20], U256::from(GWEI)), "ZeroL2Address");

    let deployer = s.l1.chain().dev_account(0);
    let stranger = deploy_test_token(s.l1.chain_mut(), deployer, "Other", "OTH", 18).unwrap();
    s.l1.mint_and_approve_token(stranger, user, U256::from(TOKEN_UNITS_PER_ATOM)).unwrap();
    assert_reverts(
        s.l1.deposit_token(user, stranger, U256::from(TOKEN_UNITS_PER_ATOM), [1; 20]),
        "UnknownAsset",
    );
    assert_reverts(s.l1.deposit_token(user, Address::ZERO, U256::from(GWEI), [1; 20]), "UnknownAsset");

    // Approved for less than the deposit: the transfer fails.
    s.l1.mint_and_approve_token(s.token, user, U256::from(TOKEN_UNITS_PER_ATOM)).unwrap();
    assert_reverts(
        s.l1.deposit_token(user, s.token, U256::from(2 * TOKEN_UNITS_PER_ATOM), [1; 20]),
        "TransferFailed",
    );
    assert_reverts(
        s.l1.deposit_token(user, s.token, U256::from(TOKEN_UNITS_PER_ATOM - 1), [1; 20]),
        "BadAmount",
    );

    // Plain ETH transfers to the rollup are refused: ETH only enters through depositEth.
    let rollup = s.l1.rollup_address();
    let receipt = s.l1.chain_mut().send(TxRequest::call(user, rollup).value(U256::from(GWEI))).unwrap();
    assert!(!receipt.is_success());

    assert_eq!(s.l1.deposit_count().unwrap(), 0);
    assert_eq!(s.l1.chain().balance(s.l1.rollup_address()), U256::ZERO);
}

#[test]
fn the_deposit_queue_accepts_its_pending_limit_and_refuses_one_more() {
    let mut s = setup();
    let limit = s.l1.view(&Rollup::MAX_PENDING_DEPOSITSCall {}).unwrap().to::<u64>();
    assert_eq!(limit, 4_096);
    for _ in 0..limit {
        s.l1.deposit_eth(s.user, [7; 20], U256::from(GWEI)).unwrap();
    }
    assert_reverts(s.l1.deposit_eth(s.user, [7; 20], U256::from(GWEI)), "QueueFull");
    assert_eq!(s.l1.deposit_count().unwrap(), limit);
}

#[test]
fn forced_commands_are_queued_with_their_block_and_hash_chain() {
    let mut s = setup();
    let mut wallet = common::Wallet::new(9);
    let commands: Vec<Vec<u8>> = (0..3)
        .map(|i| {
            borsh::to_vec(&wallet.sign(common::limit(0, zkclob_core::Side::Buy, 50_000 + i, 1))).unwrap()
        })
        .collect();
    let mut chain = B256::ZERO;
    for (i, command) in commands.iter().enumerate() {
        let forced = s.l1.force_command(s.user, command).unwrap();
        chain = forced_chain_link(chain, command);
        assert_eq!(forced.event.index, U256::from(i));
        assert_eq!(forced.event.sender, s.user);
        assert_eq!(forced.event.command, Bytes::copy_from_slice(command));
        assert_eq!(forced.event.chain, chain);
        assert_eq!(forced.event.l1Block, forced.block);
        let entry = s.l1.view(&Rollup::forcedCommandsCall(U256::from(i))).unwrap();
        assert_eq!(entry, chain);
        println!("gas: force a {}-byte command {}", command.len(), forced.gas_used);
    }
    assert_eq!(forced_chain(commands.iter().map(Vec::as_slice)), chain);
    assert_eq!(s.l1.forced_chain_at(3).unwrap(), chain);
    assert_eq!(s.l1.forced_count().unwrap(), 3);
    // The forced command decodes back into the signed L2 command.
    let decoded: zkclob_state::Command = borsh::from_slice(&commands[0]).unwrap();
    assert!(matches!(decoded, zkclob_state::Command::Signed(_)));
}

#[test]
fn forced_commands_that_are_empty_or_too_long_revert() {
    let mut s = setup();
    let max = s.l1.view(&Rollup::MAX_FORCED_COMMAND_BYTESCall {}).unwrap().to::<usize>();
    assert_eq!(max, zkclob_state::command::MAX_COMMAND_BYTES);
    s.l1.force_command(s.user, &vec![1u8; max]).unwrap();
    assert_reverts(s.l1.force_command(s.user, &vec![1u8; max + 1]), "BadCommandLength");
    assert_reverts(s.l1.force_command(s.user, &[]), "BadCommandLength");
    assert_eq!(s.l1.forced_count().unwrap(), 1);
}

#[test]
fn the_forced_queue_accepts_its_pending_limit_and_refuses_one_more() {
    let mut s = setup();
    let limit = s.l1.view(&Rollup::MAX_PENDING_FORCED_COMMANDSCall {}).unwrap().to::<u64>();
    assert_eq!(limit, 1_024);
    for i in 0..limit {
        s.l1.force_command(s.user, &i.to_be_bytes()).unwrap();
    }
    assert_reverts(s.l1.force_command(s.user, b"one too many"), "QueueFull");
    assert_eq!(s.l1.forced_count().unwrap(), limit);
}

#[test]
fn a_proposal_records_exactly_the_versioned_hashes_of_a_thousand_order_batch() {
    let mut s = setup();
    let header = common::header(1);
    let commands = common::orders(1_000, 100, 81);
    let batch = BatchBlobs::from_batch(&header, &commands).unwrap();
    assert_eq!(batch.sidecars.len(), 1);
    let proposer = s.l1.chain().dev_account(2);
    let before = s.l1.chain().balance(proposer);

    let proposed = s.l1.propose(proposer, &batch.sidecars).unwrap();
    let hashes: Vec<B256> = batch.versioned_hashes().into_iter().map(B256::from).collect();
    assert_eq!(proposed.event.versionedHashes, hashes);
    assert_eq!(proposed.event.index, U256::ZERO);
    assert_eq!(proposed.event.proposer, proposer);
    assert_eq!(proposed.event.l1Block, proposed.block);
    let stored = s.l1.proposal(0).unwrap();
    assert_eq!(stored.blobsHash, blobs_hash(&hashes));
    assert_eq!(stored.blobCount, 1);
    assert_eq!(stored.l1Block, proposed.block);
    assert_eq!(stored.proposer, proposer);
    // The proposer paid the blob fee at the minimum blob base fee: 1 wei per blob gas.
    assert_eq!(before - s.l1.chain().balance(proposer), U256::from(131_072));

    // Derivation's view: the event names the blobs, the chain serves them, they decode.
    let blobs: Vec<Blob> = hashes.iter().map(|h| s.l1.chain().blob(h).unwrap().clone()).collect();
    assert_eq!(decode_blobs(&blobs).unwrap(), (header, commands));
    println!("gas: propose 1 blob {}", proposed.gas_used);
}

fn random_sidecars(n: usize, seed: u8) -> Vec<BlobSidecar> {
    (0..n)
        .map(|i| BlobSidecar::new(blob::pack(&[seed, i as u8, 1, 2, 3]).unwrap().remove(0)).unwrap())
        .collect()
}

#[test]
fn proposals_take_up_to_six_blobs_in_order_and_number_in_l1_order() {
    let mut s = setup();
    let a = s.l1.chain().dev_account(2);
    let b = s.l1.chain().dev_account(3);
    let six = random_sidecars(MAX_BLOBS_PER_TX, 1);
    let first = s.l1.propose(a, &six).unwrap();
    let second = s.l1.propose(b, &six[..2]).unwrap();
    assert_eq!(first.event.index, U256::ZERO);
    assert_eq!(second.event.index, U256::from(1));
    let hashes: Vec<B256> = six.iter().map(|s| B256::from(s.versioned_hash)).collect();
    assert_eq!(first.event.versionedHashes, hashes);
    assert_eq!(second.event.versionedHashes, hashes[..2].to_vec());
    assert_eq!(s.l1.proposal(1).unwrap().proposer, b);
    assert_eq!(s.l1.proposal_count().unwrap(), 2);
    println!("gas: propose 6 blobs {}, 2 blobs {}", first.gas_used, second.gas_used);

    let seven = random_sidecars(MAX_BLOBS_PER_TX + 1, 2);
    assert_eq!(s.l1.propose(a, &seven), Err(L1Error::Chain(ChainError::TooManyBlobs(7))));
}

#[test]
fn a_proposal_without_blobs_reverts() {
    let mut s = setup();
    assert_reverts(s.l1.propose(s.user, &[]), "NoBlobs");
    assert_eq!(s.l1.proposal_count().unwrap(), 0);
}

#[test]
fn a_proposal_consumes_the_queues_up_to_its_counts_and_leaves_out_nothing_due() {
    let mut s = setup();
    let sidecars = random_sidecars(1, 9);
    s.l1.deposit_eth(s.user, [7; 20], U256::from(GWEI)).unwrap();
    let second = s.l1.deposit_eth(s.user, [7; 20], U256::from(GWEI)).unwrap();
    assert_reverts(s.l1.propose_up_to(s.user, &sidecars, 3, 0), "QueueCountOutOfRange");
    assert_reverts(s.l1.propose_up_to(s.user, &sidecars, 0, 1), "QueueCountOutOfRange");
    // The sequencer took only the first deposit when it opened its batch.
    let first = s.l1.propose_up_to(s.user, &sidecars, 1, 0).unwrap();
    assert_eq!((first.event.depositCount, first.event.forcedCount), (1, 0));
    assert_reverts(s.l1.propose_up_to(s.user, &sidecars, 0, 0), "QueueCountOutOfRange");
    // The second may wait until it is INCLUSION_BLOCKS old, and no longer.
    let head = s.l1.chain().block_number();
    s.l1.chain_mut().mine_empty(second.block + INCLUSION_BLOCKS - 2 - head);
    let waited = s.l1.propose_up_to(s.user, &sidecars, 1, 0).unwrap();
    assert_eq!(waited.block, second.block + INCLUSION_BLOCKS - 1);
    assert_reverts(s.l1.propose_up_to(s.user, &sidecars, 1, 0), "QueueEntryDue");
    s.l1.propose_up_to(s.user, &sidecars, 2, 0).unwrap();
    // Forced commands alike.
    s.l1.force_command(s.user, &[1, 2, 3]).unwrap();
    s.l1.chain_mut().mine_empty(INCLUSION_BLOCKS);
    assert_reverts(s.l1.propose_up_to(s.user, &sidecars, 2, 0), "QueueEntryDue");
    let last = s.l1.propose_up_to(s.user, &sidecars, 2, 1).unwrap();
    assert_eq!((last.event.depositCount, last.event.forcedCount), (2, 1));
    assert_eq!(s.l1.proposal_count().unwrap(), 4);
}

#[test]
fn a_sidecar_whose_blob_does_not_match_its_commitment_is_not_included() {
    let mut s = setup();
    let mut sidecars = random_sidecars(2, 3);
    let mut bytes = sidecars[1].blob.as_bytes().to_vec();
    bytes[100] ^= 1;
    sidecars[1].blob = Blob::from_bytes(&bytes).unwrap();
    let block = s.l1.chain().block_number();
    match s.l1.propose(s.user, &sidecars) {
        Err(L1Error::Chain(ChainError::BadSidecar { index: 1, .. })) => {}
        other => panic!("expected a bad sidecar, got {other:?}"),
    }
    assert_eq!(s.l1.chain().block_number(), block, "nothing was included");
    assert_eq!(s.l1.proposal_count().unwrap(), 0);
}

#[test]
fn the_rust_attestation_digest_equals_the_contracts() {
    let s = setup();
    let public_values = b"any public values".to_vec();
    let vkey = B256::repeat_byte(0x5a);
    let on_chain = view(
        s.l1.chain(),
        s.l1.verifier_address(),
        &CommitteeVerifier::attestationDigestCall {
            programVKey: vkey,
            publicValues: public_values.clone().into(),
        },
    )
    .unwrap();
    let here = attestation_digest(vkey, &public_values, s.l1.chain().chain_id(), s.l1.verifier_address());
    assert_eq!(on_chain, here);
    assert_ne!(
        attestation_digest(vkey, &public_values, 1, s.l1.verifier_address()),
        here,
        "bound to the chain id"
    );
}

#[test]
fn public_values_encode_as_the_contract_decodes_them() {
    let s = setup();
    let pv = PublicValues {
        preRoot: B256::repeat_byte(1),
        postRoot: B256::repeat_byte(2),
        batchNumber: 7,
        batchHash: B256::repeat_byte(3),
        receiptsDigest: B256::repeat_byte(4),
        depositFrom: 3,
        depositCount: 5,
        depositChain: B256::repeat_byte(6),
        forcedFrom: 7,
        forcedCount: 8,
        forcedChain: B256::repeat_byte(9),
        withdrawalCount: 17,
        withdrawalsRoot: B256::repeat_byte(10),
        blobs: vec![
            BlobOpening {
                versionedHash: B256::repeat_byte(11),
                z: B256::repeat_byte(12),
                y: B256::repeat_byte(13),
            },
            BlobOpening {
                versionedHash: B256::repeat_byte(14),
                z: B256::repeat_byte(15),
                y: B256::repeat_byte(16),
            },
        ],
    };
    let bytes = encode_public_values(&pv);
    // 1 offset word, 13 static words, the array's offset, length and 3 words per blob.
    assert_eq!(bytes.len(), 32 * (1 + 13 + 1 + 1 + 3 * 2));
    assert_eq!(&bytes[..32], &U256::from(32).to_be_bytes::<32>(), "abi.encode of a dynamic struct");
    assert_eq!(&bytes[32..64], pv.preRoot.as_slice());
    let on_chain = s.l1.view(&Rollup::decodePublicValuesCall { publicValues: bytes.clone() }).unwrap();
    assert_eq!(on_chain, pv);
    assert_eq!(decode_public_values(&bytes).unwrap(), pv);

    let truncated = Bytes::copy_from_slice(&bytes[..bytes.len() - 1]);
    assert!(decode_public_values(&truncated).is_err());
    assert!(s.l1.view(&Rollup::decodePublicValuesCall { publicValues: truncated }).is_err());
}
