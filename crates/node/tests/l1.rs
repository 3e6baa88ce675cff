//! The node with its L1, end to end over real sockets — the in-process chain
//! (`rollup.l1 = "in-process"`) and, with the `json-rpc` feature, an Ethereum node over JSON-RPC
//! (`scripts/l1-node-test.sh` starts a Hardhat node and runs it):
//! deposits on L1 credited by the next batch, a trade, a withdrawal, every batch proposed as
//! blobs and settled once L1 derives the node's root, the withdrawal claimed on L1 with its
//! Merkle proof (once), a forced command posted on L1 and executed, deposits through the API
//! refused; then a restart that re-attaches to the same L1 and keeps settling, and a fresh
//! follower that reaches the node's root from L1 alone.

mod common;

use std::time::{Duration, Instant};

use alloy_primitives::{Address as L1Address, U256};
use common::place;
use serde_json::Value;
use zkclob_core::{Amount, AssetId, Side};
use zkclob_node::client::{Client, Signer};
use zkclob_node::config::NodeConfig;
use zkclob_node::crypto::Keypair;
use zkclob_node::node;
use zkclob_rollup::l1::derive::L1Follower;
use zkclob_state::{Action, Command, ExchangeState};

const ETH: u32 = 1;
const USDC: u32 = 3;

fn config(dir: &std::path::Path) -> NodeConfig {
    let mut cfg = common::config(dir);
    cfg.engine.batch_max_ms = 30;
    cfg.rollup.l1 = "in-process".into();
    cfg
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !f() {
        assert!(t0.elapsed() < Duration::from_secs(300), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn l1_status(c: &mut Client) -> Value {
    c.get("/v1/l1").unwrap().ok().unwrap()
}

/// At least `min` proposals, every one settled.
fn wait_all_settled(c: &mut Client, min: u64) {
    wait_for("every proposal to settle", || {
        let s = l1_status(c);
        s["proposals"].as_u64() >= Some(min) && s["proposals"] == s["settled"]
    });
}

#[test]
fn deposit_trade_withdraw_settle_claim_and_restart_with_an_in_process_l1() {
    let dir = tempfile::tempdir().unwrap();
    scenario(config(dir.path()), "a native re-execution");
}

/// The same, with SP1's executor running the settlement program (the guest ELF from
/// `scripts/build-guests.sh`) before the committee attests: `scripts/zkvm-check.sh` runs it.
#[cfg(feature = "sp1")]
#[test]
fn the_same_with_the_sp1_executor_running_each_settlement() {
    let elf =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/guests/zkclob-guest-sp1.elf");
    assert!(elf.exists(), "build the guests first: scripts/build-guests.sh sp1");
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.prover = "sp1-execute".into();
    cfg.prover_elf = Some(elf);
    cfg.engine.batch_max_ms = 200;
    scenario(cfg, "the SP1 executor's run of the settlement program");
}

/// Against an Ethereum node (Hardhat's EDR) at `ZKCLOB_L1_RPC_URL`, sending with four of its
/// development keys; `scripts/l1-node-test.sh` starts the node and runs this.
#[cfg(feature = "json-rpc")]
#[test]
fn the_same_against_an_ethereum_node_over_json_rpc() {
    let url = std::env::var("ZKCLOB_L1_RPC_URL")
        .expect("ZKCLOB_L1_RPC_URL: start an L1 node first (scripts/l1-node-test.sh does)");
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.rollup.l1 = "json-rpc".into();
    cfg.rollup.l1_rpc_url = url;
    cfg.rollup.l1_private_keys = HARDHAT_KEYS.iter().map(|k| k.to_string()).collect();
    scenario(cfg, "a native re-execution");
}

/// A node configured for an L1 node that does not answer refuses to start, naming the URL.
#[cfg(feature = "json-rpc")]
#[test]
fn a_json_rpc_l1_that_does_not_answer_is_a_clear_start_up_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.rollup.l1 = "json-rpc".into();
    cfg.rollup.l1_rpc_url = "http://127.0.0.1:9".into(); // discard port: nothing listens
    cfg.rollup.l1_private_keys = vec![HARDHAT_KEYS[0].to_string()];
    let err = node::start(cfg.clone(), None, None).map(|_| ()).unwrap_err().to_string();
    assert!(err.contains("http://127.0.0.1:9") && err.contains("eth_chainId"), "{err}");
    cfg.rollup.l1_private_keys = vec!["0x1234".into()];
    let err = node::start(cfg, None, None).map(|_| ()).unwrap_err().to_string();
    assert!(err.contains("not 32 bytes"), "{err}");
}

/// Hardhat's first development keys (its default mnemonic): public test keys, never for value.
#[cfg(feature = "json-rpc")]
const HARDHAT_KEYS: [&str; 4] = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
];

/// An account the L1 client can send from, for user actions in the test.
fn user(l1: &zkclob_node::l1::NodeL1, i: usize) -> L1Address {
    let accounts = l1.chain().accounts();
    accounts[i % accounts.len()]
}

/// The node's operator key (`data/operator.key`).
fn operator_key(dir: &std::path::Path) -> Keypair {
    let hex_key = std::fs::read_to_string(dir.join("operator.key")).unwrap();
    Keypair::from_secret(&hex::decode(hex_key.trim().trim_start_matches("0x")).unwrap().try_into().unwrap())
        .unwrap()
}

fn scenario(cfg: NodeConfig, settled_by: &str) {
    let dir = cfg.data_dir.clone();
    let running = node::start(cfg.clone(), None, None).unwrap();
    let mut c = Client::connect(running.addr).unwrap();
    let wait = Duration::from_secs(30);
    let (ka, kb) = (Keypair::from_seed(b"l1-alice"), Keypair::from_seed(b"l1-bob"));
    // Deposits go to L1 and are credited by the next batch.
    let out = c.faucet_credited(&ka.address(), ETH, 100_000_000, wait).unwrap();
    assert_eq!(out["status"], "deposited_on_l1", "{out}");
    c.faucet_credited(&kb.address(), USDC, 1_000_000_000_000, wait).unwrap();
    assert_eq!(c.available(&ka.address(), ETH).unwrap(), 100_000_000);
    let mut alice = Signer::for_account(&mut c, ka).unwrap();
    let mut bob = Signer::for_account(&mut c, kb).unwrap();

    // Bad faucet requests on L1: an asset the rollup does not take, a zero amount — typed
    // errors, nothing queued.
    let queued = l1_status(&mut c)["deposits"][0].clone();
    for (asset, amount) in [(99u32, 5u128), (USDC, 0)] {
        let body = serde_json::json!({"address": bob.address().to_string(), "asset": asset, "amount": amount.to_string()});
        let r = c.post_json("/v1/dev/faucet", &body).unwrap();
        assert_eq!((r.status, r.body["error"]["code"].as_str()), (400, Some("l1_deposit_failed")), "{r}");
    }
    assert_eq!(l1_status(&mut c)["deposits"][0], queued);
    let r = c.get("/v1/l1/claims/not-an-address").unwrap();
    assert_eq!(r.status, 400, "{r}");

    // Money enters through L1 only: a deposit through the API is refused.
    let dep = Command::Deposit { to: bob.address(), asset: AssetId(USDC), amount: Amount(5) };
    let r = c.submit(&dep).unwrap();
    assert_eq!(r.body["error"]["code"], "deposit_not_allowed", "{r}");

    // A trade, then bob withdraws the ETH he bought.
    let r = c.submit(&alice.sign(place(1, Side::Sell, 2_000, 5))).unwrap().ok().unwrap();
    assert_eq!(r["status"], "applied", "{r}");
    let r = c.submit(&bob.sign(place(1, Side::Buy, 2_000, 5))).unwrap().ok().unwrap();
    assert_eq!(r["filled"], 5, "{r}");
    let bought = c.available(&bob.address(), ETH).unwrap();
    assert!(bought > 0);
    let r = c
        .submit(&bob.sign(Action::Withdraw { asset: AssetId(ETH), amount: Amount(bought) }))
        .unwrap()
        .ok()
        .unwrap();
    assert_eq!(r["status"], "applied", "{r}");

    // The operator takes the trading fees out: one L1 deposit opens its account, it collects the
    // ETH fees (bob paid them on what he bought) and withdraws them with that atom.
    let mut operator = {
        let key = operator_key(&dir);
        c.faucet_credited(&key.address(), ETH, 1, wait).unwrap();
        Signer::for_account(&mut c, key).unwrap()
    };
    let info = c.get("/v1/info").unwrap().ok().unwrap();
    let fees: u128 = info["fees_collected"][ETH.to_string()].as_str().unwrap().parse().unwrap();
    assert!(fees > 0, "{info}");
    let collect = operator.sign(Action::CollectFees { asset: AssetId(ETH), amount: Amount(fees) });
    let first = c.submit(&collect).unwrap().ok().unwrap();
    assert_eq!(first["status"], "applied", "{first}");
    // Sent again, it is the same command: the node answers what it did, and does nothing more.
    let again = c.submit(&collect).unwrap().ok().unwrap();
    assert_eq!(again["seq"], first["seq"], "{again}");
    let by_bob = bob.sign(Action::CollectFees { asset: AssetId(ETH), amount: Amount(1) });
    let r = c.submit(&by_bob).unwrap();
    assert_eq!((r.status, r.body["error"]["code"].as_str()), (422, Some("not_operator")), "{r}");
    let r = c
        .submit(&operator.sign(Action::Withdraw { asset: AssetId(ETH), amount: Amount(fees + 1) }))
        .unwrap()
        .ok()
        .unwrap();
    assert_eq!(r["status"], "applied", "{r}");
    let info = c.get("/v1/info").unwrap().ok().unwrap();
    assert_eq!(info["fees_collected"][ETH.to_string()], "0", "{info}");

    // The settler settles the batch that holds it; the claim comes with its proof.
    let path = format!("/v1/l1/claims/{}", bob.address());
    let mut claims = Value::Null;
    wait_for("bob's withdrawal to settle", || {
        claims = c.get(&path).unwrap().ok().unwrap();
        claims.as_array().is_some_and(|a| !a.is_empty())
    });
    let claim_info = &claims[0];
    assert_eq!(
        (claim_info["asset"].as_u64(), claim_info["claimed"].as_bool()),
        (Some(ETH as u64), Some(false))
    );
    assert_eq!(claim_info["atoms"], bought.to_string());
    let bridge = running.l1().unwrap().clone();
    let info: zkclob_node::l1::ClaimInfo = serde_json::from_value(claim_info.clone()).unwrap();
    let claim = bridge.claim(bob.address().0, &info).unwrap();
    let payee = L1Address::from(bob.address().0);
    bridge.with_l1(|l1| {
        let sender = user(l1, 5);
        let before = l1.balance_of(payee).unwrap();
        l1.claim_withdrawal(sender, &claim).unwrap();
        assert_eq!(l1.balance_of(payee).unwrap(), before + U256::from(bought), "one wei per atom");
        let again = l1.claim_withdrawal(sender, &claim).unwrap_err();
        assert_eq!(again.revert_name(), Some("AlreadyClaimed"));
    });
    // The operator's fees reach its L1 address the same way.
    let path = format!("/v1/l1/claims/{}", operator.address());
    let mut claims = Value::Null;
    wait_for("the operator's fee withdrawal to settle", || {
        claims = c.get(&path).unwrap().ok().unwrap();
        claims.as_array().is_some_and(|a| !a.is_empty())
    });
    let info: zkclob_node::l1::ClaimInfo = serde_json::from_value(claims[0].clone()).unwrap();
    assert_eq!(info.atoms, (fees + 1).to_string());
    let claim = bridge.claim(operator.address().0, &info).unwrap();
    bridge.with_l1(|l1| {
        let payee = L1Address::from(operator.address().0);
        let before = l1.balance_of(payee).unwrap();
        l1.claim_withdrawal(user(l1, 7), &claim).unwrap();
        assert_eq!(l1.balance_of(payee).unwrap(), before + U256::from(fees + 1));
    });

    // A forced command: alice's next order, posted on L1 by anyone, executed by the node.
    let nonce = c.nonce(&alice.address()).unwrap();
    let forced = alice.sign(place(1, Side::Sell, 2_100, 1));
    bridge.with_l1(|l1| {
        let sender = user(l1, 6);
        l1.force_command(sender, &borsh::to_vec(&forced).unwrap()).unwrap();
    });
    wait_for("the forced command to execute", || c.nonce(&alice.address()).unwrap() == nonce + 1);
    let orders = c.get(&format!("/v1/accounts/{}/orders", alice.address())).unwrap().ok().unwrap();
    assert!(orders.as_array().unwrap().iter().any(|o| o["price"] == 2_100), "{orders}");

    wait_all_settled(&mut c, 4);
    let status = l1_status(&mut c);
    assert_eq!(status["l1"], cfg.rollup.l1.as_str(), "{status}");
    eprintln!("L1 status: {status}");
    let metrics = c.get("/metrics").unwrap().body.to_string();
    assert!(metrics.contains("zkclob_l1_root_mismatch 0"), "{metrics}");
    assert!(metrics.contains("zkclob_l1_failures_total 0"), "{metrics}");
    let batches = c.get("/v1/batches?limit=1000").unwrap().ok().unwrap();
    let settled = batches
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["l1"].as_str().unwrap().starts_with("settled"))
        .count();
    // Genesis, alice's deposit, bob's deposit with the trade and the withdrawal, the forced
    // command: four batches at least, every one settled.
    assert!(settled >= 4, "{batches}");
    for b in batches.as_array().unwrap() {
        let l1 = b["l1"].as_str().unwrap();
        assert!(!l1.starts_with("settled") || l1.contains(settled_by), "{l1}");
    }
    drop(c);
    running.stop();

    // A fresh node derives the node's final root from L1 alone (the last batch, cut at
    // shutdown, was proposed before the node stopped).
    let (root, _, _) = node::state_root(&cfg).unwrap();
    let operator = operator_key(&dir);
    let mut follower = L1Follower::new(ExchangeState::new(cfg.chain_id, operator.address())).unwrap();
    bridge.with_l1(|l1| follower.sync(l1).unwrap());
    assert_eq!(format!("0x{}", hex::encode(follower.root())), root);
    drop(bridge);

    // A restart re-attaches to the same L1 and goes on proposing and settling.
    let running = node::start(cfg, None, None).unwrap();
    let mut c = Client::connect(running.addr).unwrap();
    let before = l1_status(&mut c)["proposals"].as_u64().unwrap();
    let mut alice = Signer::for_account(&mut c, Keypair::from_seed(b"l1-alice")).unwrap();
    let r = c.submit(&alice.sign(place(1, Side::Sell, 2_200, 1))).unwrap().ok().unwrap();
    assert_eq!(r["status"], "applied", "{r}");
    wait_all_settled(&mut c, before + 1);
    running.stop();
}
