//! Security: unsigned, wrongly signed, replayed-nonce, oversized, malformed and foreign-account
//! requests, over REST and over WebSocket order entry, are refused with clear errors and change
//! nothing (no journal record, same balances, same book).

mod common;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;
use zkclob_core::{MarketId, OrderId, Price, Qty, Side};
use zkclob_node::client::{Client, Signer};
use zkclob_node::config::NodeConfig;
use zkclob_node::crypto::Keypair;
use zkclob_node::node;
use zkclob_state::{Action, Command};

fn place(side: Side, price: i64, qty: u64) -> Action {
    common::place(1, side, price, qty)
}

fn commands_total(c: &mut Client) -> u64 {
    let m = c.get("/metrics").unwrap().body;
    m.as_str()
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("zkclob_commands_total "))
        .unwrap()
        .parse()
        .unwrap()
}

/// Everything an attacker could have changed.
fn observable(c: &mut Client, who: &[&zkclob_state::Address]) -> Value {
    let accounts: Vec<Value> =
        who.iter().map(|a| c.get(&format!("/v1/accounts/{a}")).unwrap().body).collect();
    let orders: Vec<Value> =
        who.iter().map(|a| c.get(&format!("/v1/accounts/{a}/orders")).unwrap().body).collect();
    json!({"accounts": accounts, "orders": orders, "depth": c.get("/v1/markets/1/depth").unwrap().body})
}

/// With signatures checked by the checker thread (eight at a time where this CPU can).
#[test]
fn bad_requests_are_refused_with_clear_errors_and_change_nothing() {
    bad_requests(true);
}

/// With every API worker checking its own signatures (the path of CPUs without AVX-512 IFMA).
#[test]
fn bad_requests_are_refused_with_clear_errors_and_change_nothing_checked_one_by_one() {
    bad_requests(false);
}

fn bad_requests(batched: bool) {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = NodeConfig {
        data_dir: dir.path().into(),
        listen: "127.0.0.1:0".parse().unwrap(),
        ..Default::default()
    };
    cfg.engine.batched_signature_checks = batched;
    // Every command through the checker thread, however light the traffic.
    cfg.engine.batched_signature_checks_from = Some(0);
    let running = node::start(cfg, None, None).unwrap();
    let addr = running.addr;
    let mut c = Client::connect(addr).unwrap();
    let (victim_key, attacker_key) = (Keypair::from_seed(b"victim"), Keypair::from_seed(b"attacker"));
    for k in [&victim_key, &attacker_key] {
        c.faucet(&k.address(), 1, 1_000_000_000_000).unwrap();
        c.faucet(&k.address(), 3, 1_000_000_000_000).unwrap();
    }
    let mut victim = Signer::for_account(&mut c, victim_key).unwrap();
    let mut attacker = Signer::for_account(&mut c, attacker_key).unwrap();
    let r = c.submit(&victim.sign(place(Side::Sell, 2_100, 5))).unwrap().ok().unwrap();
    let victim_order = OrderId(r["order_id"].as_u64().unwrap());
    let stranger = Keypair::from_seed(b"never funded");

    let before = observable(&mut c, &[&victim.address(), &attacker.address()]);
    let journaled = commands_total(&mut c);

    // (request, expected status, expected code)
    let mut cases: Vec<(Vec<u8>, &str, u16, &str)> = Vec::new();
    let enc = |c: &Command| borsh::to_vec(c).unwrap();
    // Unsigned: an all-zero signature.
    let Command::Signed(mut unsigned) = attacker.sign(place(Side::Buy, 2_000, 1)) else { unreachable!() };
    attacker.unuse();
    unsigned.signature = [0; 64];
    cases.push((enc(&Command::Signed(unsigned.clone())), "unsigned", 401, "bad_signature"));
    // Signed by another key than the one it names (the victim's key with the attacker's signature).
    let mut impersonation = unsigned.clone();
    let Command::Signed(real) = attacker.sign(place(Side::Buy, 2_000, 1)) else { unreachable!() };
    attacker.unuse();
    impersonation.signature = real.signature;
    impersonation.signer = victim.key.public;
    cases.push((enc(&Command::Signed(impersonation)), "impersonation", 401, "bad_signature"));
    // Signed for another chain.
    let other_chain = victim.key.sign(999, victim.nonce, place(Side::Buy, 2_000, 1));
    cases.push((enc(&other_chain), "other chain id", 401, "bad_signature"));
    // Replayed nonce (the victim's first command, nonce 0, re-signed).
    let replay = victim.key.sign(victim.chain_id, 0, place(Side::Buy, 2_000, 1));
    cases.push((enc(&replay), "replayed nonce", 409, "nonce_reused"));
    let skip = victim.key.sign(victim.chain_id, victim.nonce + 5, place(Side::Buy, 2_000, 1));
    cases.push((enc(&skip), "skipped nonce", 409, "nonce_gap"));
    // An account that never received a deposit.
    let ghost = stranger.sign(victim.chain_id, 0, place(Side::Buy, 2_000, 1));
    cases.push((enc(&ghost), "unknown account", 403, "unknown_account"));
    // Acting on another account's order: journaled, rejected, nothing changes.
    let foreign = attacker.key.sign(
        attacker.chain_id,
        attacker.nonce,
        Action::Cancel { market: MarketId(1), order_id: victim_order },
    );
    cases.push((enc(&foreign), "foreign cancel", 422, "not_your_order"));
    let amend = attacker.key.sign(
        attacker.chain_id,
        attacker.nonce,
        Action::Amend { market: MarketId(1), order_id: victim_order, price: Price(1), qty: Qty(1) },
    );
    cases.push((enc(&amend), "foreign amend", 422, "not_your_order"));
    // Malformed: trailing bytes, truncated, garbage.
    let mut trailing = enc(&victim.key.sign(victim.chain_id, victim.nonce, place(Side::Buy, 2_000, 1)));
    trailing.push(0);
    cases.push((trailing.clone(), "trailing byte", 400, "malformed"));
    cases.push((trailing[..trailing.len() / 2].to_vec(), "truncated", 400, "malformed"));
    cases.push((vec![0xff; 300], "garbage", 400, "malformed"));

    let mut rejected_journaled = 0;
    for (body, what, status, code) in &cases {
        let r = c.request("POST", "/v1/commands", "application/octet-stream", body).unwrap();
        assert_eq!(r.status, *status, "{what}: {r}");
        assert_eq!(r.body["error"]["code"], *code, "{what}: {r}");
        assert!(!r.body["error"]["message"].as_str().unwrap().is_empty(), "{what}: a message for humans");
        rejected_journaled += (*status == 422) as u64;
    }
    // Oversized bodies, and a JSON body with an unknown field.
    let r = c.request("POST", "/v1/commands", "application/octet-stream", &vec![1u8; 3_000]).unwrap();
    assert_eq!(r.status, 413, "{r}");
    assert_eq!(r.body["error"]["code"], "too_large", "{r}");
    let r = c
        .request(
            "POST",
            "/v1/commands",
            "application/json",
            json!({"command": "0x00", "admin": true}).to_string().as_bytes(),
        )
        .unwrap();
    assert_eq!((r.status, r.body["error"]["code"].as_str()), (400, Some("malformed")), "{r}");

    // Over WebSocket order entry: the same refusals, and an oversized frame closes nothing else.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/v1/ws")).await.unwrap();
        for (i, (body, what, status, code)) in cases.iter().enumerate().filter(|(_, c)| c.2 != 400) {
            let mut frame = (i as u64).to_le_bytes().to_vec();
            frame.extend_from_slice(body);
            ws.send(Message::binary(frame)).await.unwrap();
            let m = tokio::time::timeout(Duration::from_secs(5), ws.next()).await.unwrap().unwrap().unwrap();
            let v: Value = serde_json::from_str(m.to_text().unwrap()).unwrap();
            assert_eq!(v["id"], i as u64, "{what}: {v}");
            let got = v["error"]["code"].as_str().unwrap_or_default();
            assert_eq!(got, *code, "{what} over WebSocket (HTTP would be {status}): {v}");
        }
        ws.send(Message::binary(vec![0u8; 4])).await.unwrap();
        let m = tokio::time::timeout(Duration::from_secs(5), ws.next()).await.unwrap().unwrap().unwrap();
        assert!(m.to_text().unwrap().contains("malformed"));
        ws.send(Message::text("{\"op\":\"subscribe\",\"channel\":\"orders\",\"account\":\"0x12\"}"))
            .await
            .unwrap();
        let m = tokio::time::timeout(Duration::from_secs(5), ws.next()).await.unwrap().unwrap().unwrap();
        assert!(m.to_text().unwrap().contains("malformed"), "{m:?}");
    });
    // The WebSocket copies of the foreign-order attempts were rejected again: a rejection consumes
    // no nonce, so the copy is a valid new attempt (journaled, rejected, nothing changes).
    rejected_journaled *= 2;

    assert_eq!(observable(&mut c, &[&victim.address(), &attacker.address()]), before, "nothing changed");
    assert_eq!(
        commands_total(&mut c),
        journaled + rejected_journaled,
        "only the foreign-order attempts were journaled (rejected); no refusal was"
    );
    running.stop();
}
