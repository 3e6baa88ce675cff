//! Test helpers: realistic batches (orders signed with real secp256k1 keys, nonces per account,
//! prices walking around a mid) and random-but-well-formed commands.
#![allow(dead_code)]

use k256::ecdsa::SigningKey;
use zkclob_book::{OrderKind, StpMode, TimeInForce};
use zkclob_core::{Amount, AssetId, DetRng, MarketId, OrderId, Price, Qty, Side, Timestamp};
use zkclob_state::{
    signing_hash, Action, Address, BatchHeader, Command, Crypto, NativeCrypto, OrderParams, SignedCommand,
};

pub const CHAIN: u64 = 31337;

pub fn header(batch_number: u64) -> BatchHeader {
    BatchHeader {
        batch_number,
        timestamp: Timestamp(1_700_000_000_000_000_000u64.wrapping_add(batch_number)),
        prev_root: [0xab; 32],
    }
}

pub struct Wallet {
    key: SigningKey,
    pub pubkey: [u8; 64],
    pub address: Address,
    pub nonce: u64,
}

impl Wallet {
    pub fn new(seed: u32) -> Wallet {
        let mut secret = [0u8; 32];
        secret[0] = 1;
        secret[28..].copy_from_slice(&seed.to_be_bytes());
        let key = SigningKey::from_slice(&secret).expect("valid scalar");
        let point = key.verifying_key().to_encoded_point(false);
        let mut pubkey = [0u8; 64];
        pubkey.copy_from_slice(&point.as_bytes()[1..]);
        let address = NativeCrypto.address_of(&pubkey);
        Wallet { key, pubkey, address, nonce: 0 }
    }

    pub fn sign(&mut self, action: Action) -> Command {
        let hash = signing_hash(&NativeCrypto, CHAIN, self.nonce, &action);
        let (sig, _) = self.key.sign_prehash_recoverable(&hash).expect("signing");
        let sig = sig.normalize_s().unwrap_or(sig);
        let mut signature = [0u8; 64];
        signature.copy_from_slice(&sig.to_bytes());
        let command =
            Command::Signed(SignedCommand { signer: self.pubkey, nonce: self.nonce, action, signature });
        self.nonce += 1;
        command
    }
}

fn below(rng: &mut DetRng, n: u64) -> u64 {
    rng.next_u64() % n
}

/// The settlement program's Fiat–Shamir point for a proposed blob.
pub fn fiat_shamir_z(sidecar: &zkclob_rollup::kzg::BlobSidecar) -> [u8; 32] {
    zkclob_rollup::program::open(&NativeCrypto, &sidecar.blob, &sidecar.commitment)
        .expect("a proposed blob")
        .z
}

pub fn limit(market: u32, side: Side, price: i64, qty: u64) -> Action {
    Action::Place(OrderParams {
        market: MarketId(market),
        side,
        kind: OrderKind::Limit,
        price: Price(price),
        qty: Qty(qty),
        tif: TimeInForce::Gtc,
        post_only: false,
        display_qty: None,
        stp: StpMode::CancelNewest,
    })
}

/// `n` signed limit orders from `accounts` wallets on two markets, prices walking around 50,000
/// ticks, sizes 1..=100 lots.
pub fn orders(n: usize, accounts: u32, seed: u64) -> Vec<Command> {
    let mut rng = DetRng::seed_from_u64(seed);
    let mut wallets: Vec<Wallet> = (0..accounts).map(|i| Wallet::new(i + 1)).collect();
    let mut mid = [50_000i64, 3_000i64];
    (0..n)
        .map(|_| {
            let market = below(&mut rng, 2) as usize;
            mid[market] += below(&mut rng, 5) as i64 - 2;
            let side = if below(&mut rng, 2) == 0 { Side::Buy } else { Side::Sell };
            let offset = below(&mut rng, 20) as i64;
            let price = if side == Side::Buy { mid[market] - offset } else { mid[market] + offset };
            let wallet = &mut wallets[below(&mut rng, u64::from(accounts)) as usize];
            wallet.sign(limit(market as u32, side, price, 1 + below(&mut rng, 100)))
        })
        .collect()
}

/// `n` commands of every kind, as a busy exchange sees them: 60% orders, 25% cancels, 6% amends,
/// 4% deposits, 3% withdrawals, 2% mass cancels.
pub fn mixed(n: usize, accounts: u32, seed: u64) -> Vec<Command> {
    let mut rng = DetRng::seed_from_u64(seed);
    let mut wallets: Vec<Wallet> = (0..accounts).map(|i| Wallet::new(i + 1)).collect();
    let mut next_order = 1u64;
    (0..n)
        .map(|_| {
            let roll = below(&mut rng, 100);
            let market = below(&mut rng, 2) as u32;
            let price = 50_000 + below(&mut rng, 40) as i64 - 20;
            let qty = 1 + below(&mut rng, 100);
            let recent = OrderId(next_order.saturating_sub(below(&mut rng, 50)).max(1));
            let account = below(&mut rng, u64::from(accounts)) as usize;
            let wallet = &mut wallets[account];
            match roll {
                0..=59 => {
                    next_order += 1;
                    let side = if roll % 2 == 0 { Side::Buy } else { Side::Sell };
                    wallet.sign(limit(market, side, price, qty))
                }
                60..=84 => wallet.sign(Action::Cancel { market: MarketId(market), order_id: recent }),
                85..=90 => wallet.sign(Action::Amend {
                    market: MarketId(market),
                    order_id: recent,
                    price: Price(price),
                    qty: Qty(qty),
                }),
                91..=94 => Command::Deposit {
                    to: wallet.address,
                    asset: AssetId(1 + (roll % 2) as u32),
                    amount: Amount(u128::from(qty) * 1_000_000),
                },
                95..=97 => wallet
                    .sign(Action::Withdraw { asset: AssetId(2), amount: Amount(u128::from(qty) * 1_000) }),
                _ => wallet.sign(Action::MassCancel { market: MarketId(market), side: None }),
            }
        })
        .collect()
}

/// Cheap well-formed commands for large batches: deposits and orders with random bytes where
/// signatures and keys go (no signing, so 20,000 of them take no time).
pub fn unsigned_shaped(n: usize, seed: u64) -> Vec<Command> {
    let mut rng = DetRng::seed_from_u64(seed);
    let keys: Vec<[u8; 64]> = (0..50).map(|_| random_64(&mut rng)).collect();
    (0..n)
        .map(|i| {
            if i % 10 == 0 {
                return Command::Deposit {
                    to: Address([(i % 251) as u8; 20]),
                    asset: AssetId(1),
                    amount: Amount(u128::from(rng.next_u64())),
                };
            }
            let side = if rng.next_u64() % 2 == 0 { Side::Buy } else { Side::Sell };
            Command::Signed(SignedCommand {
                signer: keys[(rng.next_u64() % 50) as usize],
                nonce: i as u64,
                action: limit(0, side, 50_000 + (rng.next_u64() % 100) as i64, 1 + rng.next_u64() % 100),
                signature: random_64(&mut rng),
            })
        })
        .collect()
}

pub fn random_64(rng: &mut DetRng) -> [u8; 64] {
    let mut out = [0u8; 64];
    for chunk in out.chunks_exact_mut(8) {
        chunk.copy_from_slice(&rng.next_u64().to_le_bytes());
    }
    out
}

/// Proptest strategies covering every command variant with arbitrary field values.
pub mod arb {
    use proptest::prelude::*;
    use zkclob_book::{OrderKind, StpMode, TimeInForce};
    use zkclob_core::{Amount, AssetId, MarketId, MarketSpec, OrderId, Price, Qty, Side, Timestamp};
    use zkclob_state::{Action, Address, Command, FeeSchedule, OrderParams, SignedCommand};

    fn side() -> impl Strategy<Value = Side> {
        prop_oneof![Just(Side::Buy), Just(Side::Sell)]
    }

    fn order() -> impl Strategy<Value = OrderParams> {
        let tif = prop_oneof![
            Just(TimeInForce::Gtc),
            Just(TimeInForce::Ioc),
            Just(TimeInForce::Fok),
            any::<u64>().prop_map(|t| TimeInForce::Gtd(Timestamp(t))),
        ];
        let stp = prop_oneof![
            Just(StpMode::CancelNewest),
            Just(StpMode::CancelOldest),
            Just(StpMode::CancelBoth),
            Just(StpMode::Decrement)
        ];
        let kind = prop_oneof![Just(OrderKind::Limit), Just(OrderKind::Market)];
        (
            any::<u32>(),
            side(),
            kind,
            any::<i64>(),
            any::<u64>(),
            tif,
            any::<bool>(),
            any::<Option<u64>>(),
            stp,
        )
            .prop_map(|(m, side, kind, p, q, tif, post_only, display, stp)| OrderParams {
                market: MarketId(m),
                side,
                kind,
                price: Price(p),
                qty: Qty(q),
                tif,
                post_only,
                display_qty: display.map(Qty),
                stp,
            })
    }

    fn spec() -> impl Strategy<Value = MarketSpec> {
        (any::<[u32; 3]>(), any::<[i64; 3]>(), any::<[u64; 3]>(), any::<[u128; 2]>()).prop_map(
            |(ids, i, u, w)| MarketSpec {
                market_id: MarketId(ids[0]),
                base_asset: AssetId(ids[1]),
                quote_asset: AssetId(ids[2]),
                tick_size: i[0],
                lot_size: u[0],
                min_qty: Qty(u[1]),
                max_qty: Qty(u[2]),
                min_price: Price(i[1]),
                max_price: Price(i[2]),
                base_atoms_per_lot: w[0],
                quote_atoms_per_tick_lot: w[1],
            },
        )
    }

    fn action() -> impl Strategy<Value = Action> {
        prop_oneof![
            order().prop_map(Action::Place),
            (any::<u32>(), any::<u64>())
                .prop_map(|(m, o)| Action::Cancel { market: MarketId(m), order_id: OrderId(o) }),
            (any::<u32>(), any::<u64>(), any::<i64>(), any::<u64>()).prop_map(|(m, o, p, q)| Action::Amend {
                market: MarketId(m),
                order_id: OrderId(o),
                price: Price(p),
                qty: Qty(q)
            }),
            (any::<u32>(), proptest::option::of(side()))
                .prop_map(|(m, side)| Action::MassCancel { market: MarketId(m), side }),
            (any::<u32>(), any::<u128>())
                .prop_map(|(a, x)| Action::Withdraw { asset: AssetId(a), amount: Amount(x) }),
            (spec(), any::<u16>(), any::<u16>()).prop_map(|(spec, maker_bps, taker_bps)| Action::AddMarket {
                spec,
                fees: FeeSchedule { maker_bps, taker_bps }
            }),
        ]
    }

    pub fn command() -> impl Strategy<Value = Command> {
        prop_oneof![
            1 => (any::<[u8; 20]>(), any::<u32>(), any::<u128>()).prop_map(|(to, a, x)| Command::Deposit {
                to: Address(to),
                asset: AssetId(a),
                amount: Amount(x)
            }),
            4 => (any::<[u8; 32]>(), any::<u64>(), action(), any::<[u8; 32]>()).prop_map(|(k, nonce, action, s)| {
                // Keys and signatures are 64 bytes; proptest's arrays stop at 32.
                let mut signer = [0u8; 64];
                signer[..32].copy_from_slice(&k);
                signer[32..].copy_from_slice(&s);
                let mut signature = [0u8; 64];
                signature[..32].copy_from_slice(&s);
                signature[32..].copy_from_slice(&k);
                Command::Signed(SignedCommand { signer, nonce, action, signature })
            }),
        ]
    }
}
