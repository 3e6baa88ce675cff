//! `engine.realtime_priority`: the threads an acknowledgement waits for run in `SCHED_RR` where
//! the kernel allows it, and stay ordinary (the node working all the same) where it does not.
//! A test binary of its own: it counts the threads of its process.

use std::time::Duration;

mod common;

use zkclob_core::MarketId;
use zkclob_node::client::{Client, Signer};
use zkclob_node::crypto::Keypair;
use zkclob_node::{node, sched};
use zkclob_state::Action;

const SCHED_OTHER: u32 = 0;
const SCHED_RR: u32 = 2;
const SCHED_IDLE: u32 = 5;

/// (name, policy, real-time priority) of every thread of this process.
fn threads() -> Vec<(String, u32, u32)> {
    let mut out = Vec::new();
    for t in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let tid: u64 = t.file_name().to_str().unwrap().parse().unwrap();
        let Ok(name) = std::fs::read_to_string(t.path().join("comm")) else { continue };
        if let Some((policy, priority)) = sched::thread_policy(tid) {
            out.push((name.trim().to_string(), policy, priority));
        }
    }
    out
}

fn metric(c: &mut Client, name: &str) -> u64 {
    let m = c.get("/metrics").unwrap().body;
    m.as_str()
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("{name} in /metrics"))
        .parse()
        .unwrap()
}

#[test]
fn the_ack_path_runs_real_time_where_allowed_and_ordinary_where_not() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = common::config(dir.path());
    cfg.engine.realtime_priority = 7;
    // Through the checker threads from the first command, so that they are on the path.
    cfg.engine.batched_signature_checks_from = Some(0);
    let allowed = sched::realtime_allowed(7);
    let running = node::start(cfg, None, None).unwrap();

    // An order through the API, so that every thread on the path has run.
    let mut c = Client::connect(running.addr).unwrap();
    let key = Keypair::from_seed(b"sched test");
    c.faucet(&key.address(), 3, 1_000_000).unwrap();
    let mut signer = Signer::new(key, c.chain_id().unwrap(), 0);
    let r = c.submit(&signer.sign(Action::MassCancel { market: MarketId(1), side: None })).unwrap();
    assert_eq!(r.body["status"], "applied", "{r}");
    std::thread::sleep(Duration::from_millis(50));

    let all = threads();
    let named = |n: &str| all.iter().filter(|(name, ..)| name.starts_with(n)).collect::<Vec<_>>();
    let (engine, workers, checkers) =
        (named("zkclob-engine"), named("zkclob-api-work"), named("zkclob-sigchec"));
    assert_eq!(engine.len(), 1, "{all:?}");
    assert!(!workers.is_empty(), "{all:?}");
    let path: Vec<_> = engine.iter().chain(&workers).chain(&checkers).collect();
    let realtime = metric(&mut c, "zkclob_realtime_threads");
    if allowed {
        for (name, policy, priority) in &path {
            assert_eq!((*policy, *priority), (SCHED_RR, 7), "{name}: {all:?}");
        }
        // Counted: every thread of the path (and no other, but for tokio's blocking threads,
        // which start as the workers do; there are none here).
        let rr = all.iter().filter(|(_, p, _)| *p == SCHED_RR).count() as u64;
        assert_eq!(realtime, rr, "{all:?}");
        assert!(rr >= 2, "{all:?}");
    } else {
        for (name, policy, _) in &path {
            assert_eq!(*policy, SCHED_OTHER, "{name}: {all:?}");
        }
        assert_eq!(realtime, 0);
    }
    // Off the path either way: the audit log and the index stay in the idle class.
    for n in ["zkclob-audit", "zkclob-index"] {
        for (name, policy, _) in named(n) {
            assert_eq!(*policy, SCHED_IDLE, "{name}: {all:?}");
        }
    }
    running.stop();
}
