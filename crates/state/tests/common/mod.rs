//! Test helpers shared by the state's integration tests: wallets that sign commands, and a world
//! with two markets.
#![allow(dead_code)]

use k256::ecdsa::SigningKey;
use zkclob_book::{OrderKind, StpMode, TimeInForce};
use zkclob_core::{Amount, AssetId, MarketId, MarketSpec, Price, Qty, Side};
use zkclob_state::{
    signing_hash, Action, Address, Command, Crypto, ExchangeState, FeeSchedule, NativeCrypto, OrderParams,
    Receipt, SignedCommand,
};

pub const CHAIN: u64 = 31337;
pub const BASE: AssetId = AssetId(1);
pub const QUOTE: AssetId = AssetId(2);

pub struct Wallet {
    pub key: SigningKey,
    pub pubkey: [u8; 64],
    pub address: Address,
    pub nonce: u64,
}

impl Wallet {
    pub fn new(seed: u8) -> Wallet {
        let mut secret = [0u8; 32];
        secret[31] = seed;
        secret[0] = 1;
        let key = SigningKey::from_slice(&secret).unwrap();
        let point = key.verifying_key().to_encoded_point(false);
        let mut pubkey = [0u8; 64];
        pubkey.copy_from_slice(&point.as_bytes()[1..]);
        let address = NativeCrypto.address_of(&pubkey);
        Wallet { key, pubkey, address, nonce: 0 }
    }

    /// Signs `action` with the wallet's next nonce (and advances it).
    pub fn sign(&mut self, action: Action) -> Command {
        let c = self.sign_with_nonce(self.nonce, action);
        self.nonce += 1;
        c
    }

    pub fn sign_with_nonce(&self, nonce: u64, action: Action) -> Command {
        let hash = signing_hash(&NativeCrypto, CHAIN, nonce, &action);
        let (sig, _) = self.key.sign_prehash_recoverable(&hash).unwrap();
        let sig = sig.normalize_s().unwrap_or(sig);
        let mut signature = [0u8; 64];
        signature.copy_from_slice(&sig.to_bytes());
        Command::Signed(SignedCommand { signer: self.pubkey, nonce, action, signature })
    }
}

pub fn spec(id: u32) -> MarketSpec {
    MarketSpec {
        market_id: MarketId(id),
        base_asset: BASE,
        quote_asset: QUOTE,
        tick_size: 1,
        lot_size: 1,
        min_qty: Qty(1),
        max_qty: Qty(10_000),
        min_price: Price(1),
        max_price: Price(100_000),
        base_atoms_per_lot: 1_000,
        quote_atoms_per_tick_lot: 10,
    }
}

pub const FEES: FeeSchedule = FeeSchedule { maker_bps: 10, taker_bps: 25 };

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

pub struct World {
    pub state: ExchangeState,
    pub operator: Wallet,
    pub batch: u64,
}

impl World {
    pub fn new() -> World {
        let mut operator = Wallet::new(200);
        let mut state = ExchangeState::new(CHAIN, operator.address);
        for id in [0, 1] {
            let r =
                state.apply(&NativeCrypto, &operator.sign(Action::AddMarket { spec: spec(id), fees: FEES }));
            assert!(matches!(r, Receipt::Applied(_)), "{r:?}");
        }
        World { state, operator, batch: 0 }
    }

    pub fn fund(&mut self, w: &Wallet, base: u128, quote: u128) {
        for (asset, amount) in [(BASE, base), (QUOTE, quote)] {
            if amount == 0 {
                continue;
            }
            let r = self
                .state
                .apply(&NativeCrypto, &Command::Deposit { to: w.address, asset, amount: Amount(amount) });
            assert!(matches!(r, Receipt::Applied(_)));
        }
    }

    /// Signs `action` with the wallet's next nonce and applies it; the nonce advances only if
    /// the command was applied (a rejected command consumes nothing).
    pub fn act(&mut self, wallet: &mut Wallet, action: Action) -> Receipt {
        let r = self.run(wallet.sign_with_nonce(wallet.nonce, action));
        if matches!(r, Receipt::Applied(_)) {
            wallet.nonce += 1;
        }
        r
    }

    pub fn run(&mut self, c: Command) -> Receipt {
        let r = self.state.apply(&NativeCrypto, &c);
        self.state.check_invariants().expect("invariants");
        r
    }
}
