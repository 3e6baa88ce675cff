//! Crash test: the real `zkclob node` process under load, killed with SIGKILL at random points,
//! `ZKCLOB_CRASH_ITERATIONS` times (default 50; `scripts/crash-test.sh` runs more).
//!
//! After each kill:
//! - no acknowledged command is lost: every acked command is in the journal, byte for byte, at
//!   the sequence number its ack named;
//! - `zkclob state-root` (the node's own recovery: latest snapshot + journal tail) gives the
//!   same root as this test's independent replay of the journal from genesis, done with the
//!   state crate and the `k256` signature checks (not the node's libsecp256k1 path);
//! - every account's nonce in the recovered state is past each of its applied acked commands.
//!
//! Then the node restarts on the same data directory and the load resumes.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command as Proc, Stdio};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use zkclob_book::{OrderKind, StpMode, TimeInForce};
use zkclob_core::{DetRng, MarketId, Price, Qty, Side};
use zkclob_node::client::{Client, Signer};
use zkclob_node::crypto::Keypair;
use zkclob_node::entry::Entry;
use zkclob_node::journal::Journal;
use zkclob_state::merkle::Sha256Hasher;
use zkclob_state::{Action, ExchangeState, NativeCrypto, OrderParams, StateCommitment};

const BIN: &str = env!("CARGO_BIN_EXE_zkclob");

fn start_node(data: &Path) -> (Child, std::net::SocketAddr) {
    start_node_with(data, &[])
}

fn start_node_with(data: &Path, env: &[(&str, &str)]) -> (Child, std::net::SocketAddr) {
    let mut child = Proc::new(BIN)
        .args(["node", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .env("ZKCLOB_ENGINE__BATCH_MAX_MS", "100")
        .env("ZKCLOB_ENGINE__SNAPSHOT_EVERY", "7")
        // One big segment: this test's independent replay reads the journal from genesis, so
        // snapshots must not let the node delete old segments (recovery after that deletion is
        // tested in crates/node/tests/recovery.rs).
        .env("ZKCLOB_ENGINE__SEGMENT_MB", "1024")
        .env("ZKCLOB_LOG__LEVEL", "warn")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn zkclob node");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("the node exited before listening").unwrap();
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.split_whitespace().next().unwrap().parse().unwrap();
        }
    };
    // Keep draining stderr so the node never blocks on a full pipe.
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            if line.contains("ERROR") {
                eprintln!("node: {line}");
            }
        }
    });
    (child, addr)
}

/// Runs one load thread per key against the node at `addr` for `after`, then kills the node
/// (SIGKILL) and stops the load.
fn load_then_kill(
    node: &mut Child,
    addr: std::net::SocketAddr,
    keys: &[Keypair],
    acked: &Arc<Mutex<Vec<Acked>>>,
    it: usize,
    after: Duration,
) {
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let (k, acked, stop) = (k.clone(), acked.clone(), stop.clone());
            let seed = (it * 10 + i) as u64;
            std::thread::spawn(move || load(addr, i, k, acked, stop, seed))
        })
        .collect();
    std::thread::sleep(after);
    node.kill().unwrap(); // SIGKILL
    node.wait().unwrap();
    stop.store(true, Relaxed);
    for t in threads {
        t.join().unwrap();
    }
}

struct Acked {
    seq: u64,
    account: usize,
    nonce: u64,
    applied: bool,
    bytes: Vec<u8>,
}

fn action(rng: &mut DetRng, n: u64) -> Action {
    if n % 10 == 9 {
        return Action::MassCancel { market: MarketId(1), side: None };
    }
    let side = if rng.chance(1, 2) { Side::Buy } else { Side::Sell };
    Action::Place(OrderParams {
        market: MarketId(1),
        side,
        kind: OrderKind::Limit,
        price: Price(2_000 + rng.range_i64(-10, 10)),
        qty: Qty(1 + rng.below(5)),
        tif: if rng.chance(1, 5) { TimeInForce::Ioc } else { TimeInForce::Gtc },
        post_only: false,
        display_qty: None,
        stp: StpMode::CancelNewest,
    })
}

/// Sends commands from one account until the node stops answering.
fn load(
    addr: std::net::SocketAddr,
    account: usize,
    key: Keypair,
    acked: Arc<Mutex<Vec<Acked>>>,
    stop: Arc<AtomicBool>,
    seed: u64,
) {
    let Ok(mut c) = Client::connect(addr) else { return };
    let Ok(mut s) = Signer::for_account(&mut c, key) else { return };
    let mut rng = DetRng::seed_from_u64(seed);
    let mut n = 0;
    while !stop.load(Relaxed) {
        let cmd = s.sign(action(&mut rng, n));
        n += 1;
        let Ok(r) = c.submit(&cmd) else { return };
        match r.body["seq"].as_u64() {
            Some(seq) => {
                let applied = r.body["status"] == "applied";
                if !applied {
                    s.unuse();
                }
                acked.lock().unwrap().push(Acked {
                    seq,
                    account,
                    nonce: s.nonce - applied as u64,
                    applied,
                    bytes: borsh::to_vec(&cmd).unwrap(),
                });
            }
            None => s.unuse(),
        }
    }
}

/// This test's own replay of the journal from genesis.
struct Replay {
    state: Option<ExchangeState>,
    root: [u8; 32],
    next: u64,
    records: Vec<Vec<u8>>, // the command bytes by seq (index seq-1), empty for other entries
}

impl Replay {
    fn catch_up(&mut self, journal: &Path) {
        for rec in Journal::read_from(journal, self.next).unwrap() {
            let (seq, payload) = rec.unwrap();
            assert_eq!(seq, self.next, "journal sequence numbers run without gaps");
            self.next += 1;
            let entry = Entry::decode(&payload).unwrap();
            let mut bytes = Vec::new();
            match entry {
                Entry::Genesis { chain_id, operator, .. } => {
                    let mut s = ExchangeState::new(chain_id, operator);
                    self.root = StateCommitment::build(Sha256Hasher, &mut s).unwrap().root();
                    self.state = Some(s);
                }
                Entry::BatchOpen(h) => {
                    let s = self.state.as_mut().unwrap();
                    s.begin_batch(&h, self.root).expect("the header names the previous cut's root");
                }
                Entry::L1Take(take) => {
                    for command in take.commands() {
                        self.state.as_mut().unwrap().apply(&NativeCrypto, &command);
                    }
                }
                Entry::Command { command, .. } => {
                    bytes = borsh::to_vec(&command).unwrap();
                    self.state.as_mut().unwrap().apply(&NativeCrypto, &command);
                }
                Entry::Cut { root, .. } => {
                    let mut copy = self.state.clone().unwrap();
                    let computed = StateCommitment::build(Sha256Hasher, &mut copy).unwrap().root();
                    assert_eq!(computed, root, "the cut's recorded root is the replayed root");
                    self.root = root;
                }
            }
            self.records.push(bytes);
        }
    }

    fn root(&self) -> String {
        let mut copy = self.state.clone().unwrap();
        format!("0x{}", hex::encode(StateCommitment::build(Sha256Hasher, &mut copy).unwrap().root()))
    }
}

#[test]
fn kill_9_under_load_loses_no_acknowledged_command_and_recovers_the_same_root() {
    let iterations: usize =
        std::env::var("ZKCLOB_CRASH_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(50);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let keys: Vec<Keypair> = (0..4u8).map(|i| Keypair::from_seed(&[b'c', i])).collect();
    let acked = Arc::new(Mutex::new(Vec::new()));
    let mut replay = Replay { state: None, root: [0; 32], next: 1, records: Vec::new() };
    let mut rng = DetRng::seed_from_u64(2026);
    let mut total_acked = 0;
    let t0 = Instant::now();
    for it in 0..iterations {
        let (mut node, addr) = start_node(&data);
        if it == 0 {
            let mut c = Client::connect(addr).unwrap();
            for k in &keys {
                c.faucet(&k.address(), 1, 1_000_000_000_000_000).unwrap();
                c.faucet(&k.address(), 3, 1_000_000_000_000_000).unwrap();
            }
        }
        load_then_kill(&mut node, addr, &keys, &acked, it, Duration::from_millis(50 + rng.below(400)));

        // The node's own recovery, offline.
        let out = Proc::new(BIN).args(["state-root", "--data"]).arg(&data).output().unwrap();
        assert!(out.status.success(), "state-root failed: {}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        // The independent replay.
        replay.catch_up(&data.join("journal"));
        assert_eq!(
            v["root"].as_str().unwrap(),
            replay.root(),
            "iteration {it}: recovery and replay disagree"
        );
        // Every acked command is in the journal at its sequence number.
        let acked = acked.lock().unwrap();
        for a in acked.iter() {
            let rec = replay.records.get(a.seq as usize - 1).expect("an acked seq beyond the journal");
            assert_eq!(rec, &a.bytes, "iteration {it}: acked command {} differs in the journal", a.seq);
        }
        let state = replay.state.as_ref().unwrap();
        for a in acked.iter().filter(|a| a.applied) {
            let nonce = state.account(&keys[a.account].address()).unwrap().nonce;
            assert!(
                nonce > a.nonce,
                "iteration {it}: account {} nonce {nonce} not past acked nonce {}",
                a.account,
                a.nonce
            );
        }
        total_acked = acked.len();
    }
    eprintln!(
        "{iterations} kills, {total_acked} acknowledged commands, {} journal records, {:.1} s",
        replay.next - 1,
        t0.elapsed().as_secs_f64()
    );
    assert!(total_acked > iterations * 10, "the load did little: {total_acked} acks");
}

/// L1 mode (`rollup.l1 = "in-process"`): kill -9 at random points while deposits, proposals and
/// settlements are in flight; every restart re-attaches to the L1 (its transaction log), re-proposes
/// the cut batches L1 lost, and in the end every batch is proposed once and settled, with L1
/// deriving the node's root for each.
#[test]
fn kill_9_with_an_in_process_l1_re_proposes_and_settles_every_batch() {
    let iterations: usize =
        std::env::var("ZKCLOB_CRASH_L1_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(10);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let env = [("ZKCLOB_ROLLUP__L1", "in-process"), ("ZKCLOB_ENGINE__BATCH_MAX_MS", "100")];
    let keys: Vec<Keypair> = (0..3u8).map(|i| Keypair::from_seed(&[b'l', i])).collect();
    let acked = Arc::new(Mutex::new(Vec::new()));
    let mut rng = DetRng::seed_from_u64(4844);
    for it in 0..iterations {
        let (mut node, addr) = start_node_with(&data, &env);
        let mut c = Client::connect(addr).unwrap();
        // A deposit on L1 every iteration (credited by a batch, perhaps after the kill).
        let k = &keys[it % keys.len()];
        let r = c.faucet(&k.address(), 3, 1_000_000_000_000_000).unwrap();
        assert_eq!(r["status"], "deposited_on_l1", "{r}");
        c.faucet(&k.address(), 1, 1_000_000_000_000_000).unwrap();
        load_then_kill(&mut node, addr, &keys, &acked, it, Duration::from_millis(100 + rng.below(400)));
    }
    // A last start: everything cut is proposed, everything proposed settles.
    let (mut node, addr) = start_node_with(&data, &env);
    let mut c = Client::connect(addr).unwrap();
    let t0 = Instant::now();
    let status = loop {
        let s = c.get("/v1/l1").unwrap().ok().unwrap();
        let batch = c.get("/v1/info").unwrap().ok().unwrap()["batch"].as_u64();
        // Every deposit queued on L1 consumed by a settled batch, too.
        if s["proposals"].as_u64() == batch
            && s["settled"] == s["proposals"]
            && s["deposits"][0] == s["deposits"][1]
        {
            break s;
        }
        assert!(t0.elapsed() < Duration::from_secs(120), "not all settled: {s} at batch {batch:?}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let metrics = c.get("/metrics").unwrap().body.to_string();
    assert!(metrics.contains("zkclob_l1_root_mismatch 0"), "{metrics}");
    assert!(metrics.contains("zkclob_l1_failures_total 0"), "{metrics}");
    assert_eq!(status["deposits"][0], 2 * iterations as u64, "every faucet deposit reached L1: {status}");
    eprintln!("{iterations} kills with an L1: {status}, {} acks", acked.lock().unwrap().len());
    node.kill().unwrap();
    node.wait().unwrap();
}
