//! Operations: health and readiness, Prometheus metrics, and hot reload of the config file
//! (live-safe keys applied, others refused with the old values kept, every attempt recorded).

mod common;

use std::time::Duration;

use zkclob_node::client::{Client, Signer};
use zkclob_node::config::NodeConfig;
use zkclob_node::crypto::Keypair;
use zkclob_node::node;
use zkclob_state::Action;

fn wait_for(mut f: impl FnMut() -> bool) -> bool {
    for _ in 0..100 {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn health_metrics_and_hot_reload_with_rollback_and_history() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("node.toml");
    let data = dir.path().join("data");
    let text = |rate: f64, burst: f64, extra: &str| {
        format!(
            "data_dir = {:?}\nlisten = \"127.0.0.1:0\"\n{extra}\n[limits]\nrate_per_sec = {rate:?}\nburst = {burst:?}\n",
            data.display().to_string()
        )
    };
    std::fs::write(&file, text(1000.0, 1000.0, "")).unwrap();
    let cfg = NodeConfig::load(Some(&file), Vec::new()).unwrap();
    let running = node::start(cfg, Some(file.clone()), None).unwrap();
    let mut c = Client::connect(running.addr).unwrap();

    assert_eq!(c.get("/healthz").unwrap().status, 200);
    assert_eq!(c.get("/readyz").unwrap().status, 200);

    let k = Keypair::from_seed(b"ops");
    c.faucet(&k.address(), 1, 1_000_000_000).unwrap();
    let mut s = Signer::for_account(&mut c, k).unwrap();
    let withdraw = || Action::Withdraw { asset: zkclob_core::AssetId(1), amount: zkclob_core::Amount(1) };
    for _ in 0..5 {
        assert_eq!(c.submit(&s.sign(withdraw())).unwrap().status, 200);
    }
    let m = c.get("/metrics").unwrap().body;
    let m = m.as_str().unwrap();
    for name in [
        "zkclob_commands_total",
        "zkclob_queue_depth",
        "zkclob_journal_commit_seconds_bucket",
        "zkclob_apply_seconds_count",
        "zkclob_batch_number",
        "zkclob_prover_backlog",
        "zkclob_commands_per_second",
    ] {
        assert!(m.contains(name), "{name} missing from /metrics");
    }
    let value = |name: &str| -> u64 {
        m.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')).unwrap().parse().unwrap()
    };
    let total = value("zkclob_commands_total");
    assert!(total >= 6, "deposit + 5 withdrawals counted: {total}");
    // Five commands are light traffic: order entry checks them itself, not the checker thread
    // (which the security and load-generator tests drive).
    assert_eq!(value("zkclob_sigcheck_signatures_total"), 0);
    assert_eq!(value("zkclob_sigcheck_groups_total"), 0);
    assert_eq!(value("zkclob_sigcheck_queue_depth"), 0);

    // A live-safe change: the rate limit drops to 1/s with a burst of 2; it applies.
    std::fs::write(&file, text(1.0, 2.0, "")).unwrap();
    let history = data.join("config-history.jsonl");
    assert!(wait_for(|| std::fs::read_to_string(&history).is_ok_and(|h| h.contains("applied"))));
    let codes: Vec<u16> = (0..4)
        .map(|_| {
            let r = c.submit(&s.sign(withdraw())).unwrap();
            if r.status != 200 {
                s.unuse();
            }
            r.status
        })
        .collect();
    assert!(codes.contains(&429), "the new limit is enforced: {codes:?}");
    // A change of a key that cannot change live (and an invalid value) is refused; the old
    // values stay.
    std::fs::write(&file, text(1.0, 2.0, "chain_id = 5")).unwrap();
    assert!(wait_for(
        || std::fs::read_to_string(&history).is_ok_and(|h| h.contains("chain_id cannot change"))
    ));
    std::fs::write(&file, text(-3.0, 2.0, "")).unwrap();
    assert!(wait_for(|| std::fs::read_to_string(&history).is_ok_and(|h| h.lines().count() >= 3)));
    let h = std::fs::read_to_string(&history).unwrap();
    let lines: Vec<serde_json::Value> = h.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.iter().map(|l| l["version"].as_u64().unwrap()).collect::<Vec<_>>(), [1, 2, 3]);
    assert!(lines[2]["outcome"].as_str().unwrap().contains("rate_per_sec"), "{}", lines[2]);
    let info = c.get("/v1/info").unwrap().body;
    assert_eq!(info["chain_id"], 1337, "the chain id did not change");
    running.stop();
}

#[test]
fn every_route_is_in_the_openapi_description() {
    let api = include_str!("../src/api.rs");
    let spec = include_str!("../../../docs/openapi.yaml");
    let routes: Vec<&str> = api.split(".route(\"").skip(1).map(|r| r.split('"').next().unwrap()).collect();
    assert!(routes.len() >= 20, "{routes:?}");
    for r in routes {
        assert!(spec.contains(&format!("  {r}:")), "{r} is not described in docs/openapi.yaml");
    }
}

#[test]
fn the_native_reexecution_prover_follows_every_batch_from_its_witness() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = NodeConfig {
        data_dir: dir.path().into(),
        listen: "127.0.0.1:0".parse().unwrap(),
        ..Default::default()
    };
    cfg.prover = "native-reexecute".into();
    cfg.engine.batch_max_ms = 20;
    let running = node::start(cfg, None, None).unwrap();
    let mut c = Client::connect(running.addr).unwrap();
    let (ka, kb) = (Keypair::from_seed(b"p1"), Keypair::from_seed(b"p2"));
    for k in [&ka, &kb] {
        c.faucet(&k.address(), 1, 1_000_000_000_000).unwrap();
        c.faucet(&k.address(), 3, 1_000_000_000_000).unwrap();
    }
    let (mut a, mut b) = (Signer::for_account(&mut c, ka).unwrap(), Signer::for_account(&mut c, kb).unwrap());
    let order = |side, price| common::place(1, side, price, 2);
    for i in 0..30 {
        c.submit(&a.sign(order(zkclob_core::Side::Sell, 2_000 + i % 3))).unwrap().ok().unwrap();
        c.submit(&b.sign(order(zkclob_core::Side::Buy, 2_001))).unwrap().ok().unwrap();
        if i % 10 == 0 {
            std::thread::sleep(Duration::from_millis(30));
        }
    }
    let mut batches = serde_json::Value::Null;
    let done = wait_for(|| {
        batches = c.get("/v1/batches?limit=1000").unwrap().body;
        let list = batches.as_array().unwrap();
        // Batch 1 (the genesis markets) is cut before the prover starts.
        list.len() >= 3
            && list
                .iter()
                .filter(|b| b["batch"] != 1)
                .all(|b| b["proof"].as_str().unwrap().starts_with("native re-execution"))
    });
    assert!(done, "every batch re-executed from its witness: {batches}");
    let m = c.get("/metrics").unwrap().body;
    assert!(m.as_str().unwrap().contains("zkclob_prover_backlog 0"));
    running.stop();
}

#[test]
fn a_prover_that_is_not_built_in_or_has_no_guest_is_a_clear_start_up_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = NodeConfig {
        data_dir: dir.path().into(),
        listen: "127.0.0.1:0".parse().unwrap(),
        ..Default::default()
    };
    for (prover, needle) in [
        ("sp1-execute", if cfg!(feature = "sp1") { "guest ELF" } else { "--features sp1" }),
        ("zisk-execute", if cfg!(feature = "zisk") { "guest ELF" } else { "--features zisk" }),
    ] {
        cfg.prover = prover.into();
        cfg.prover_elf = Some(dir.path().join("missing.elf"));
        let err = node::start(cfg.clone(), None, None).err().expect("must not start").to_string();
        assert!(err.contains(needle), "{prover}: {err}");
    }
    cfg.prover = "magic".into();
    assert!(cfg.validate().unwrap_err().to_string().contains("prover must be"));
}

#[test]
fn cut_batches_are_packed_into_blobs_with_kzg_commitments_and_backed_up_by_cid() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = NodeConfig {
        data_dir: dir.path().into(),
        listen: "127.0.0.1:0".parse().unwrap(),
        ..Default::default()
    };
    cfg.rollup.blobs = true;
    cfg.engine.batch_max_ms = 20;
    let running = node::start(cfg, None, None).unwrap();
    let mut c = Client::connect(running.addr).unwrap();
    let k = Keypair::from_seed(b"blobs");
    c.faucet(&k.address(), 1, 1_000_000_000).unwrap();
    let mut s = Signer::for_account(&mut c, k).unwrap();
    for i in 0..20 {
        let w = Action::Withdraw { asset: zkclob_core::AssetId(1), amount: zkclob_core::Amount(3) };
        c.submit(&s.sign(w)).unwrap().ok().unwrap();
        if i == 9 {
            std::thread::sleep(Duration::from_millis(60)); // a second batch
        }
    }
    // Batch 1 (the genesis markets) is cut before the publisher starts; the first blob waits for
    // the trusted setup to load.
    let mut batches;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        batches = c.get("/v1/batches?limit=100").unwrap().body;
        let list: Vec<&serde_json::Value> =
            batches.as_array().unwrap().iter().filter(|b| b["batch"] != 1).collect();
        if list.len() >= 2 && list.iter().all(|b| !b["blobs"].as_array().unwrap().is_empty()) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "batches were not packed: {batches}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let store = zkclob_rollup::cas::CasStore::open(dir.path().join("blobs")).unwrap();
    for b in batches.as_array().unwrap().iter().filter(|b| b["batch"] != 1) {
        for blob in b["blobs"].as_array().unwrap() {
            assert!(blob["versioned_hash"].as_str().unwrap().starts_with("0x01"), "{blob}");
            let cid: zkclob_rollup::cas::Cid = blob["cid"].as_str().unwrap().parse().unwrap();
            let bytes = store.get(&cid).unwrap();
            assert_eq!(bytes.len(), 131_072);
            // The blob decodes back to the batch it came from.
            let blob = zkclob_rollup::Blob::from_bytes(&bytes).unwrap();
            let (header, _) = zkclob_rollup::decode_blobs(&[blob]).unwrap();
            assert_eq!(header.batch_number, b["batch"].as_u64().unwrap());
        }
    }
    running.stop();
}
