//! `zkclob node --demo`: simulated order flow and a GLFT market maker trading against the node
//! over its real REST API, so a newcomer sees a live book at once. Noise traders follow a
//! random-walk fundamental (limit orders around it, some crossing IOC orders); the market maker
//! is the research stack's GLFT `Quoter`, unchanged, fed from the node's depth and its own fills.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::{Duration, Instant};

use serde_json::Value;
use zkclob_book::{OrderKind, StpMode, TimeInForce};
use zkclob_core::{DetRng, MarketId, Price, Qty, Side};
use zkclob_node::client::{Client, Signer};
use zkclob_node::crypto::Keypair;
use zkclob_state::{Action, OrderParams};
use zkclob_strategy::{BookLevel, MarketView, Quoter};

const MARKET: u32 = 1;
const BASE: u32 = 1;
const QUOTE: u32 = 3;
const LOT_ATOMS: u128 = 1_000_000;

fn order(side: Side, price: i64, qty: u64, tif: TimeInForce, post_only: bool) -> Action {
    Action::Place(OrderParams {
        market: MarketId(MARKET),
        side,
        kind: OrderKind::Limit,
        price: Price(price.max(1)),
        qty: Qty(qty.max(1)),
        tif,
        post_only,
        display_qty: None,
        stp: StpMode::CancelNewest,
    })
}

/// Sends and keeps the nonce only if the command was applied.
fn send(c: &mut Client, s: &mut Signer, a: Action) -> anyhow::Result<Value> {
    let r = c.submit(&s.sign(a))?;
    if r.body["status"] != "applied" {
        s.unuse();
    }
    Ok(r.body)
}

fn levels(v: &Value) -> Vec<BookLevel> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|l| BookLevel {
                    price_ticks: l["price"].as_i64().unwrap_or(0),
                    qty_lots: l["qty"].as_u64().unwrap_or(0),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn base_lots(c: &mut Client, who: &zkclob_state::Address) -> anyhow::Result<i64> {
    let a = c.get(&format!("/v1/accounts/{who}"))?.ok()?;
    let total: u128 = a["balances"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|b| b["asset"] == BASE)
        .map(|b| {
            b["available"].as_str().and_then(|x| x.parse::<u128>().ok()).unwrap_or(0)
                + b["locked"].as_str().and_then(|x| x.parse::<u128>().ok()).unwrap_or(0)
        })
        .sum();
    Ok((total / LOT_ATOMS) as i64)
}

/// Runs until `stop` is set.
pub fn run(addr: SocketAddr, stop: &AtomicBool) -> anyhow::Result<()> {
    let mut c = Client::connect(addr)?;
    let fund = |c: &mut Client, k: &Keypair| -> anyhow::Result<()> {
        // With the node's L1 on, these are L1 deposits credited by the next batch.
        let wait = std::time::Duration::from_secs(30);
        c.faucet_credited(&k.address(), BASE, 1_000_000 * LOT_ATOMS, wait)?;
        c.faucet_credited(&k.address(), QUOTE, 10_000_000_000_000, wait)?;
        Ok(())
    };
    let mm_key = Keypair::from_seed(b"demo-market-maker");
    fund(&mut c, &mm_key)?;
    let mut mm = Signer::for_account(&mut c, mm_key)?;
    let mut traders = Vec::new();
    for i in 0..3u8 {
        let k = Keypair::from_seed(&[b'd', b't', i]);
        fund(&mut c, &k)?;
        traders.push(Signer::for_account(&mut c, k)?);
    }
    let mut sim = zkclob_sim::SimConfig::default();
    sim.market.initial_price_ticks = 2_000;
    sim.fundamental.sigma_per_sqrt_s = 5e-4;
    sim.duration_s = 1e7;
    let mut quoter: Box<dyn Quoter> = zkclob_sim::default_market_maker(&sim)?;
    let start_inventory = base_lots(&mut c, &mm.address())?;
    let mut rng = DetRng::seed_from_u64(7);
    let mut fundamental = 2_000.0f64;
    let t0 = Instant::now();
    let mut last_print = Instant::now();
    let mut step = 0u64;
    eprintln!(
        "demo: a GLFT market maker {} and 3 noise traders are trading ETH-USDC (market 1)",
        mm.address()
    );
    while !stop.load(Relaxed) {
        step += 1;
        // Fundamental: a random walk, ±1 tick per step on average.
        fundamental += (rng.below(3) as f64 - 1.0) * (1.0 + rng.below(2) as f64);
        let f = fundamental.round() as i64;
        // Noise traders.
        for t in traders.iter_mut() {
            match rng.below(10) {
                0..=4 => {
                    let side = if rng.chance(1, 2) { Side::Buy } else { Side::Sell };
                    let off = 1 + rng.below(8) as i64;
                    let price = if side == Side::Buy { f - off } else { f + off };
                    send(&mut c, t, order(side, price, 1 + rng.below(5), TimeInForce::Gtc, false))?;
                }
                5 | 6 => {
                    let side = if f as f64 >= fundamental { Side::Buy } else { Side::Sell };
                    let price = if side == Side::Buy { f + 10 } else { f - 10 };
                    send(&mut c, t, order(side, price, 1 + rng.below(3), TimeInForce::Ioc, false))?;
                }
                _ => {}
            }
            if step % 40 == 0 {
                send(&mut c, t, Action::MassCancel { market: MarketId(MARKET), side: None })?;
            }
        }
        // The market maker requotes from the node's book.
        let depth = c.get(&format!("/v1/markets/{MARKET}/depth"))?.ok()?;
        let (bids, asks) = (levels(&depth["bids"]), levels(&depth["asks"]));
        let inventory = base_lots(&mut c, &mm.address())? - start_inventory;
        let view = MarketView {
            time_s: t0.elapsed().as_secs_f64(),
            bids: &bids,
            asks: &asks,
            trades: &[],
            inventory_lots: inventory,
        };
        if let Ok(q) = quoter.quote(&view) {
            send(&mut c, &mut mm, Action::MassCancel { market: MarketId(MARKET), side: None })?;
            if let Some(b) = q.bid {
                send(&mut c, &mut mm, order(Side::Buy, b.price_ticks, b.qty_lots, TimeInForce::Gtc, true))?;
            }
            if let Some(a) = q.ask {
                send(&mut c, &mut mm, order(Side::Sell, a.price_ticks, a.qty_lots, TimeInForce::Gtc, true))?;
            }
        }
        if last_print.elapsed() >= Duration::from_secs(2) {
            last_print = Instant::now();
            let bbo = c.get(&format!("/v1/markets/{MARKET}/bbo"))?.ok()?;
            let trades = c.get(&format!("/v1/markets/{MARKET}/trades?limit=1000"))?.ok()?;
            let info = c.get("/v1/info")?.ok()?;
            let batches = c.get("/v1/batches?limit=5")?.ok()?;
            let last_blob = batches.as_array().and_then(|a| {
                a.iter().rev().find_map(|b| b["blobs"].as_array().and_then(|x| x.first()).cloned())
            });
            let lvl = |v: &Value| {
                if v.is_null() {
                    "-".to_string()
                } else {
                    format!("{} x {}", v["price"], v["qty"])
                }
            };
            eprintln!(
                "demo: ETH-USDC bid {} | ask {}  fundamental {f}  mm inventory {inventory}  trades {}  batch {}{}",
                lvl(&bbo["bid"]),
                lvl(&bbo["ask"]),
                trades.as_array().map_or(0, |a| a.len()),
                info["batch"],
                last_blob.map_or(String::new(), |b| format!("  last blob {}", b["cid"].as_str().unwrap_or("?")))
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(())
}
