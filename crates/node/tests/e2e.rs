//! End to end over real sockets: a node on loopback, the REST client and a WebSocket client.
//! Place, fill, cancel; security refusals; and a depth-diff sequence without gaps that, applied
//! to the first snapshot, gives the final book.

mod common;

use std::collections::BTreeMap;

use common::place;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;
use zkclob_core::{MarketId, OrderId, Side};
use zkclob_node::client::{Client, Signer};
use zkclob_node::config::NodeConfig;
use zkclob_node::crypto::Keypair;
use zkclob_node::node;
use zkclob_state::{Action, Command};

fn config(dir: &std::path::Path) -> NodeConfig {
    let mut cfg = NodeConfig {
        data_dir: dir.to_path_buf(),
        listen: "127.0.0.1:0".parse().unwrap(),
        ..Default::default()
    };
    cfg.engine.batch_max_ms = 20;
    cfg
}

type Book = BTreeMap<(String, i64), u64>;

fn apply_levels(book: &mut Book, side: &str, levels: &Value) {
    for l in levels.as_array().unwrap() {
        let (p, q) = (l["price"].as_i64().unwrap(), l["qty"].as_u64().unwrap());
        if q == 0 {
            book.remove(&(side.to_string(), p));
        } else {
            book.insert((side.to_string(), p), q);
        }
    }
}

#[test]
fn place_fill_cancel_and_a_gapless_depth_stream_over_real_sockets() {
    let dir = tempfile::tempdir().unwrap();
    let running = node::start(config(dir.path()), None, None).unwrap();
    let addr = running.addr;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    // Subscribe to depth and trades of market 1 before trading.
    let (mut ws, _) = rt.block_on(tokio_tungstenite::connect_async(format!("ws://{addr}/v1/ws"))).unwrap();
    rt.block_on(async {
        ws.send(Message::text(json!({"op":"subscribe","channel":"depth","market":1}).to_string()))
            .await
            .unwrap();
        ws.send(Message::text(json!({"op":"subscribe","channel":"trades","market":1}).to_string()))
            .await
            .unwrap();
    });

    let mut c = Client::connect(addr).unwrap();
    let (ka, kb) = (Keypair::from_seed(b"maker"), Keypair::from_seed(b"taker"));
    for k in [&ka, &kb] {
        c.faucet(&k.address(), 1, 1_000_000_000_000).unwrap();
        c.faucet(&k.address(), 3, 1_000_000_000_000).unwrap();
    }
    let mut maker = Signer::for_account(&mut c, ka).unwrap();
    let mut taker = Signer::for_account(&mut c, kb).unwrap();
    // The maker rests three asks and a bid.
    let mut ids = Vec::new();
    for (side, price, qty) in
        [(Side::Sell, 2_000, 5), (Side::Sell, 2_001, 7), (Side::Sell, 2_002, 9), (Side::Buy, 1_990, 4)]
    {
        let r = c.submit(&maker.sign(place(1, side, price, qty))).unwrap().ok().unwrap();
        assert_eq!(r["status"], "applied", "{r}");
        assert_eq!(r["resting"], qty);
        ids.push(r["order_id"].as_u64().unwrap());
    }
    // The taker lifts 8 lots: 5 at 2000 and 3 at 2001.
    let r = c.submit(&taker.sign(place(1, Side::Buy, 2_001, 8))).unwrap().ok().unwrap();
    assert_eq!(
        (r["filled"].as_u64(), r["fills"].as_u64(), r["resting"].as_u64()),
        (Some(8), Some(2), Some(0)),
        "{r}"
    );
    // The maker cancels the rest of its 2001 ask.
    let r = c.submit(&maker.sign(Action::Cancel { market: MarketId(1), order_id: OrderId(ids[1]) })).unwrap();
    assert_eq!(r.status, 200, "{r}");
    // Fills of both accounts, balances moved.
    let fills = c.get(&format!("/v1/accounts/{}/fills", taker.address())).unwrap().ok().unwrap();
    assert_eq!(fills.as_array().unwrap().len(), 2, "{fills}");
    let orders = c.get(&format!("/v1/accounts/{}/orders", maker.address())).unwrap().ok().unwrap();
    assert_eq!(orders.as_array().unwrap().len(), 2, "2002 ask and 1990 bid left: {orders}");

    // Security: a forged signature, a replayed nonce, a foreign order, an oversized body, a
    // deposit through the API — each refused with its code, none changing the account.
    let before = c.get(&format!("/v1/accounts/{}", taker.address())).unwrap().ok().unwrap();
    let Command::Signed(mut forged) = taker.sign(place(1, Side::Buy, 1_000, 1)) else { unreachable!() };
    taker.unuse();
    forged.signature[10] ^= 1;
    let r = c.submit(&Command::Signed(forged)).unwrap();
    assert_eq!((r.status, r.body["error"]["code"].as_str()), (401, Some("bad_signature")), "{r}");
    let replay = taker.key.sign(taker.chain_id, 0, place(1, Side::Buy, 1_000, 1));
    let r = c.submit(&replay).unwrap();
    assert_eq!((r.status, r.body["error"]["code"].as_str()), (409, Some("nonce_reused")), "{r}");
    let r = c.submit(&taker.sign(Action::Cancel { market: MarketId(1), order_id: OrderId(ids[2]) })).unwrap();
    taker.unuse();
    assert_eq!((r.status, r.body["error"]["code"].as_str()), (422, Some("not_your_order")), "{r}");
    let r = c.request("POST", "/v1/commands", "application/octet-stream", &vec![0u8; 4_096]).unwrap();
    assert_eq!(r.status, 413, "{r}");
    let r = c.request("POST", "/v1/commands", "application/octet-stream", &[1, 2, 3]).unwrap();
    assert_eq!((r.status, r.body["error"]["code"].as_str()), (400, Some("malformed")), "{r}");
    let dep = Command::Deposit {
        to: taker.address(),
        asset: zkclob_core::AssetId(3),
        amount: zkclob_core::Amount(5),
    };
    let r = c.submit(&dep).unwrap();
    assert_eq!(r.status, 403, "{r}");
    let after = c.get(&format!("/v1/accounts/{}", taker.address())).unwrap().ok().unwrap();
    assert_eq!(before, after);

    // The WebSocket stream: a snapshot, then diffs numbered without gaps; applying them gives the
    // final book as REST shows it.
    let final_depth = c.get("/v1/markets/1/depth").unwrap().ok().unwrap();
    let final_seq = final_depth["seq"].as_u64().unwrap();
    let (mut book, mut seq, mut trades) = (Book::new(), None::<u64>, 0);
    rt.block_on(async {
        while seq != Some(final_seq) {
            let m = tokio::time::timeout(Duration::from_secs(10), ws.next())
                .await
                .expect("stream stalled")
                .unwrap()
                .unwrap();
            let v: Value = serde_json::from_str(m.to_text().unwrap()).unwrap();
            match v["channel"].as_str().unwrap() {
                "depth_snapshot" => {
                    apply_levels(&mut book, "bid", &v["bids"]);
                    apply_levels(&mut book, "ask", &v["asks"]);
                    seq = v["seq"].as_u64();
                }
                "depth" => {
                    let s = v["seq"].as_u64().unwrap();
                    assert_eq!(Some(s), seq.map(|x| x + 1), "a gap in the diff sequence: {v}");
                    apply_levels(&mut book, "bid", &v["bids"]);
                    apply_levels(&mut book, "ask", &v["asks"]);
                    seq = Some(s);
                }
                "trade" => trades += 1,
                _ => {}
            }
        }
    });
    let mut want = Book::new();
    apply_levels(&mut want, "bid", &final_depth["bids"]);
    apply_levels(&mut want, "ask", &final_depth["asks"]);
    assert_eq!(book, want);
    assert_eq!(want.len(), 2, "the 2002 ask and the 1990 bid: {final_depth}");
    assert_eq!(trades, 2);
    running.stop();
    // The audit log has every journaled command's outcome and the fills.
    let audit: String = std::fs::read_dir(dir.path().join("audit"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    let lines: Vec<Value> = audit.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let count = |f: &dyn Fn(&Value) -> bool| lines.iter().filter(|l| f(l)).count();
    assert_eq!(count(&|l| l["type"] == "event" && l["event"] == "fill" && l["market"] == 1), 2);
    assert_eq!(count(&|l| l["type"] == "command" && l["action"] == "place" && l["status"] == "applied"), 5);
    assert_eq!(count(&|l| l["type"] == "command" && l["code"] == "not_your_order"), 1);
    assert_eq!(count(&|l| l["type"] == "command" && l["action"] == "deposit"), 4);
}

#[test]
fn a_retried_command_gets_its_original_ack_and_client_ids_find_orders_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let running = node::start(config(dir.path()), None, None).unwrap();
    let mut c = Client::connect(running.addr).unwrap();
    let k = Keypair::from_seed(b"retrier");
    c.faucet(&k.address(), 3, 1_000_000_000_000).unwrap();
    let mut s = Signer::for_account(&mut c, k.clone()).unwrap();
    let cmd = s.sign(place(1, Side::Buy, 1_500, 2));
    let body = borsh::to_vec(&cmd).unwrap();
    let first = c.request("POST", "/v1/orders", "application/octet-stream", &body).unwrap();
    // Sent again (a client retrying after a timeout): the same answer, not nonce_reused.
    let again = c.request("POST", "/v1/orders", "application/octet-stream", &body).unwrap();
    assert_eq!((first.status, &first.body), (again.status, &again.body));
    // A labelled order.
    let labelled = borsh::to_vec(&s.sign(place(1, Side::Buy, 1_501, 3))).unwrap();
    let mut r = None;
    for _ in 0..2 {
        let mut req = Client::connect(running.addr).unwrap();
        r = Some(req_with_header(&mut req, &labelled, "my-order-1"));
    }
    let r = r.unwrap();
    assert_eq!(r["status"], "applied", "{r}");
    let order_id = r["order_id"].as_u64().unwrap();
    let bad = req_with_header(&mut c, &labelled, "no spaces allowed");
    assert_eq!(bad["error"]["code"], "bad_client_id", "{bad}");
    let path = format!("/v1/accounts/{}/orders/by-client-id/my-order-1", k.address());
    let mut found = None;
    for _ in 0..50 {
        let f = c.get(&path).unwrap();
        if f.status == 200 {
            found = Some(f.body);
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let found = found.expect("the index answers");
    assert_eq!(found["order_id"].as_u64(), Some(order_id));
    assert_eq!(found["live"]["remaining"], 3);
    running.stop();
    // After a restart (index and journal reopened) both still hold.
    let running = node::start(config(dir.path()), None, None).unwrap();
    let mut c = Client::connect(running.addr).unwrap();
    assert_eq!(c.get(&path).unwrap().body["order_id"].as_u64(), Some(order_id));
    let third = c.request("POST", "/v1/orders", "application/octet-stream", &body).unwrap();
    assert_eq!((first.status, &first.body), (third.status, &third.body));
    running.stop();
}

/// With every core busy, the index's writer thread (idle class) may not run for seconds: a retry
/// still gets its original ack, and a client order id finds its order as soon as the order is
/// acknowledged: lookups also read what the engine handed the index and it has not yet written.
#[test]
fn retries_and_client_ids_are_answered_at_once_while_the_index_writer_gets_no_core() {
    use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let running = node::start(config(dir.path()), None, None).unwrap();
    let mut c = Client::connect(running.addr).unwrap();
    let k = Keypair::from_seed(b"busy retrier");
    c.faucet(&k.address(), 3, 1_000_000_000_000).unwrap();
    let mut s = Signer::for_account(&mut c, k.clone()).unwrap();
    // Ordinary-class threads spinning on every core.
    let stop = Arc::new(AtomicBool::new(false));
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let hogs: Vec<_> = (0..cores)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(Relaxed) {
                    std::hint::spin_loop();
                }
            })
        })
        .collect();
    for i in 0..8 {
        let id = format!("busy-{i}");
        let body = borsh::to_vec(&s.sign(place(1, Side::Buy, 1_400 + i, 1))).unwrap();
        let first = req_with_header(&mut c, &body, &id);
        assert_eq!(first["status"], "applied", "{first}");
        let again = req_with_header(&mut c, &body, &id);
        assert_eq!(first, again, "a retry gets the original ack");
        let path = format!("/v1/accounts/{}/orders/by-client-id/{id}", k.address());
        let found = c.get(&path).unwrap();
        assert_eq!(found.body["order_id"], first["order_id"], "{found}");
    }
    // A different command under a used nonce is still refused.
    let used = s.nonce - 1;
    let other = Signer::new(k, c.chain_id().unwrap(), used).sign(place(1, Side::Buy, 1_300, 1));
    let r = c.submit(&other).unwrap();
    assert_eq!(r.body["error"]["code"], "nonce_reused", "{r}");
    stop.store(true, Relaxed);
    hogs.into_iter().for_each(|h| h.join().unwrap());
    running.stop();
}

/// POST /v1/orders with an `X-Client-Order-Id` header, by hand.
fn req_with_header(c: &mut Client, body: &[u8], id: &str) -> Value {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(c.addr()).unwrap();
    let head = format!(
        "POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nX-Client-Order-Id: {id}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let json = out.split("\r\n\r\n").nth(1).unwrap();
    serde_json::from_str(json).unwrap()
}
