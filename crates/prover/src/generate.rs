//! Reproducible random batches: the same parameters give the same bytes on every machine.
//!
//! The pre-state comes from a setup batch (the operator opens the markets, wallets receive
//! deposits and rest a few orders), committed; the generated batch then holds `commands` signed
//! commands — about 65% orders (limit GTC/IOC, some crossing, some market), 15% cancels, 8%
//! amends, 2% mass cancels, 3% withdrawals, a few deposits to new addresses, and a few commands that
//! must be rejected (a forged signature, a high-`s` twin of a valid one, a replayed nonce, an
//! unknown signer). Every nonce is right whether its command is applied or rejected: the batch is
//! simulated while it is built.

use k256::ecdsa::SigningKey;
use std::collections::BTreeMap;
use thiserror::Error;
use zkclob_book::{OrderKind, StpMode, TimeInForce};
use zkclob_core::{Amount, AssetId, DetRng, MarketId, MarketSpec, OrderId, Price, Qty, Side, Timestamp};
use zkclob_state::merkle::Sha256Hasher;
use zkclob_state::{
    signing_hash, Action, Address, BatchHeader, Command, Crypto, ExchangeState, FeeSchedule, NativeCrypto,
    OrderParams, Receipt, SignedCommand, StateCommitment, Witness, WitnessError,
};

use zkclob_rollup::derivation::DepositRecord;
use zkclob_rollup::program::{self, ProgramInput};

use crate::file::BatchFile;

/// Chain id of generated batches.
pub const CHAIN_ID: u64 = 31337;
/// Most commands a generated batch may hold.
pub const MAX_COMMANDS: usize = 100_000;
/// Most markets.
pub const MAX_MARKETS: u32 = 64;
const WALLETS: u64 = 16;
const BASE: AssetId = AssetId(1);
const QUOTE: AssetId = AssetId(2);

/// Most extra resting orders the pre-state may hold.
pub const MAX_BOOK_ORDERS: usize = 100_000;

/// What kind of commands the batch holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Workload {
    /// The realistic mix of the module docs (orders, cancels, amends, withdrawals, deposits and a
    /// few commands that must be rejected).
    #[default]
    Mixed,
    /// Only limit orders that rest without matching (behind the touch).
    Resting,
    /// Only limit orders that cross the spread and fill one lot against one maker.
    Crossing,
    /// Only cancels of orders resting in the pre-state (needs `book_orders ≥ commands`).
    Cancel,
}

impl core::str::FromStr for Workload {
    type Err = GenerateError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "mixed" => Ok(Workload::Mixed),
            "resting" => Ok(Workload::Resting),
            "crossing" => Ok(Workload::Crossing),
            "cancel" => Ok(Workload::Cancel),
            _ => Err(GenerateError::BadParams("--workload must be mixed, resting, crossing or cancel")),
        }
    }
}

/// What to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GenerateParams {
    /// Commands in the batch.
    pub commands: usize,
    /// Markets (1..=64).
    pub markets: u32,
    /// Seed.
    pub seed: u64,
    /// The kind of commands.
    pub workload: Workload,
    /// Extra resting orders in the pre-state, spread over the markets and wallets, away from the
    /// touch (a deeper book; the cancel workload cancels these).
    pub book_orders: usize,
}

impl GenerateParams {
    /// The mixed workload over the setup's small book.
    pub fn new(commands: usize, markets: u32, seed: u64) -> Self {
        GenerateParams { commands, markets, seed, workload: Workload::Mixed, book_orders: 0 }
    }
}

/// Why a batch could not be generated.
#[derive(Debug, Error)]
pub enum GenerateError {
    /// A parameter is out of range.
    #[error("{0}")]
    BadParams(&'static str),
    /// Building the witness failed (a bug).
    #[error("witness: {0}")]
    Witness(#[from] WitnessError),
    /// Committing failed (a bug).
    #[error("commitment: {0}")]
    Merkle(#[from] zkclob_state::merkle::MerkleError),
    /// The setup batch was refused (a bug).
    #[error("setup batch: {0}")]
    Batch(#[from] zkclob_state::BatchError),
    /// Building or running the settlement program failed (a bug).
    #[error("settlement: {0}")]
    Settlement(String),
}

struct Wallet {
    key: SigningKey,
    pubkey: [u8; 64],
    nonce: u64,
}

impl Wallet {
    fn derive(seed: u64, label: &[u8], i: u64) -> Wallet {
        let mut ctr = 0u64;
        loop {
            let mut material = Vec::new();
            material.extend_from_slice(b"zkclob/generate/");
            material.extend_from_slice(label);
            material.extend_from_slice(&seed.to_le_bytes());
            material.extend_from_slice(&i.to_le_bytes());
            material.extend_from_slice(&ctr.to_le_bytes());
            if let Ok(key) = SigningKey::from_slice(&NativeCrypto.sha256(&material)) {
                let point = key.verifying_key().to_encoded_point(false);
                let mut pubkey = [0u8; 64];
                pubkey.copy_from_slice(&point.as_bytes()[1..]);
                return Wallet { key, pubkey, nonce: 0 };
            }
            ctr += 1;
        }
    }

    fn address(&self) -> Address {
        NativeCrypto.address_of(&self.pubkey)
    }

    fn sign(&self, nonce: u64, action: Action) -> Command {
        let hash = signing_hash(&NativeCrypto, CHAIN_ID, nonce, &action);
        // RFC 6979 signing is deterministic: the same batch bytes on every run.
        let (sig, _) =
            self.key.sign_prehash_recoverable(&hash).expect("signing a 32-byte prehash cannot fail");
        let sig = sig.normalize_s().unwrap_or(sig);
        let mut signature = [0u8; 64];
        signature.copy_from_slice(&sig.to_bytes());
        Command::Signed(SignedCommand { signer: self.pubkey, nonce, action, signature })
    }
}

fn spec(id: u32) -> MarketSpec {
    MarketSpec {
        market_id: MarketId(id),
        base_asset: BASE,
        quote_asset: QUOTE,
        tick_size: 1,
        lot_size: 1,
        min_qty: Qty(1),
        max_qty: Qty(100_000),
        min_price: Price(1),
        max_price: Price(1_000_000),
        base_atoms_per_lot: 1_000,
        quote_atoms_per_tick_lot: 10,
    }
}

fn order(market: MarketId, side: Side, kind: OrderKind, price: i64, qty: u64, tif: TimeInForce) -> Action {
    Action::Place(OrderParams {
        market,
        side,
        kind,
        price: Price(price),
        qty: Qty(qty),
        tif,
        post_only: false,
        display_qty: None,
        stp: StpMode::CancelNewest,
    })
}

/// Generates a batch file; see the module docs.
pub fn generate(p: GenerateParams) -> Result<BatchFile, GenerateError> {
    if p.commands == 0 || p.commands > MAX_COMMANDS {
        return Err(GenerateError::BadParams("--orders must be between 1 and 100000"));
    }
    if p.markets == 0 || p.markets > MAX_MARKETS {
        return Err(GenerateError::BadParams("--markets must be between 1 and 64"));
    }
    if p.book_orders > MAX_BOOK_ORDERS {
        return Err(GenerateError::BadParams("--book-orders must be at most 100000"));
    }
    if p.workload == Workload::Cancel && p.book_orders < p.commands {
        return Err(GenerateError::BadParams("the cancel workload needs --book-orders at least --orders"));
    }
    let (mut state, mut commitment, header, commands) = pre_state_and_commands(&p)?;
    let witness = Witness::generate(&state, commitment.tree(), &NativeCrypto, &commands)?;
    state.apply_batch(&NativeCrypto, &header, header.prev_root, &commands)?;
    let native_post_root = commitment.update(&mut state)?;
    Ok(BatchFile { header, commands, witness, native_post_root })
}

/// The setup batch applied (batch 1), and batch 2's header and commands.
#[allow(clippy::type_complexity)]
fn pre_state_and_commands(
    p: &GenerateParams,
) -> Result<(ExchangeState, StateCommitment<Sha256Hasher>, BatchHeader, Vec<Command>), GenerateError> {
    let operator = Wallet::derive(p.seed, b"operator", 0);
    let mut wallets: Vec<Wallet> = (0..WALLETS).map(|i| Wallet::derive(p.seed, b"wallet", i)).collect();
    let mut state = ExchangeState::new(CHAIN_ID, operator.address());
    let setup = setup_commands(&operator, &mut wallets, p);
    let h1 = BatchHeader { batch_number: 1, timestamp: Timestamp(1_000_000_000), prev_root: [0; 32] };
    state.apply_batch(&NativeCrypto, &h1, [0; 32], &setup)?;
    let commitment = StateCommitment::build(Sha256Hasher, &mut state)?;
    let header =
        BatchHeader { batch_number: 2, timestamp: Timestamp(2_000_000_000), prev_root: commitment.root() };
    let commands = match p.workload {
        Workload::Mixed => batch_commands(&state, &header, &mut wallets, *p)?,
        _ => uniform_commands(&state, &mut wallets, p),
    };
    Ok((state, commitment, header, commands))
}

/// A settlement-program case: batch 2 of [`generate`] as an L1 proposal would carry it.
#[derive(Clone, Debug)]
pub struct SettlementCase {
    /// The program's input: the proposal's blobs (its commands but the deposits) with their KZG
    /// commitments, the deposits as L1 queue entries, two forced commands (the batch's first
    /// signed command and a garbage one), and the witness.
    pub input: ProgramInput,
    /// `abi.encode(PublicValues)` from running the program natively.
    pub public_values: Vec<u8>,
    /// Commands of the derived batch.
    pub commands: usize,
}

/// Generates a [`SettlementCase`]: what `zkclob_rollup::program::run` must give the same bytes
/// for natively and in each zkVM.
pub fn generate_settlement(p: GenerateParams) -> Result<SettlementCase, GenerateError> {
    let (state, commitment, header, commands) = pre_state_and_commands(&p)?;
    let mut deposits = Vec::new();
    let mut own = Vec::new();
    for c in commands {
        match c {
            Command::Deposit { to, asset, amount } => {
                deposits.push(DepositRecord { asset_id: asset.0, atoms: amount.0, l2_address: to.0 })
            }
            other => own.push(other),
        }
    }
    let first = own.remove(0);
    let forced: Vec<Vec<u8>> = vec![zkclob_core::codec::encode(&first), b"not a command".to_vec()];
    let forced_refs: Vec<&[u8]> = forced.iter().map(Vec::as_slice).collect();
    let blobs =
        zkclob_rollup::encode_blobs(&header, &own).map_err(|e| GenerateError::Settlement(e.to_string()))?;
    let input = program::build_input(
        &state,
        commitment.tree(),
        &blobs,
        0,
        [0; 32],
        &deposits,
        0,
        [0; 32],
        &forced_refs,
    )
    .map_err(|e| GenerateError::Settlement(e.to_string()))?;
    let out = program::run(&NativeCrypto, &input).map_err(|e| GenerateError::Settlement(e.to_string()))?;
    if out.derived.empty.is_some() {
        return Err(GenerateError::Settlement(format!(
            "the proposal derived empty: {:?}",
            out.derived.empty
        )));
    }
    Ok(SettlementCase {
        public_values: program::encode_public_values(&out.public_values),
        commands: out.derived.commands.len(),
        input,
    })
}

fn setup_commands(operator: &Wallet, wallets: &mut [Wallet], p: &GenerateParams) -> Vec<Command> {
    let markets = p.markets;
    let fees = FeeSchedule { maker_bps: 2, taker_bps: 5 };
    let mut out: Vec<Command> =
        (0..markets).map(|m| operator.sign(m as u64, Action::AddMarket { spec: spec(m), fees })).collect();
    for w in wallets.iter() {
        for (asset, amount) in [(BASE, 10_000_000_000u128), (QUOTE, 100_000_000_000)] {
            out.push(Command::Deposit { to: w.address(), asset, amount: Amount(amount) });
        }
    }
    // A few resting orders per market on both sides of 10,000 ticks.
    for m in 0..markets {
        for (i, w) in wallets.iter_mut().enumerate() {
            let side = if i % 2 == 0 { Side::Buy } else { Side::Sell };
            let price = if side == Side::Buy { 9_990 - i as i64 } else { 10_010 + i as i64 };
            let qty = if p.workload == Workload::Crossing { 5_000 } else { 50 };
            let a = order(MarketId(m), side, OrderKind::Limit, price, qty, TimeInForce::Gtc);
            out.push(w.sign(w.nonce, a));
            w.nonce += 1;
        }
    }
    // The deeper book: levels 100+ ticks away from the touch on both sides.
    let n = wallets.len();
    for i in 0..p.book_orders {
        let w = &mut wallets[i % n];
        let side = if i % 2 == 0 { Side::Buy } else { Side::Sell };
        let away = 100 + (i / 2 % 500) as i64;
        let price = if side == Side::Buy { 9_990 - away } else { 10_010 + away };
        let a = order(MarketId((i / n) as u32 % markets), side, OrderKind::Limit, price, 1, TimeInForce::Gtc);
        out.push(w.sign(w.nonce, a));
        w.nonce += 1;
    }
    out
}

/// A batch of one kind of command (see [`Workload`]), each by the next wallet in turn.
fn uniform_commands(pre: &ExchangeState, wallets: &mut [Wallet], p: &GenerateParams) -> Vec<Command> {
    let n = wallets.len();
    // The pre-state's resting orders of each wallet, oldest first (cancel targets).
    let mut resting: Vec<Vec<(MarketId, OrderId)>> = vec![Vec::new(); n];
    for m in 0..p.markets {
        let Some(market) = pre.market(MarketId(m)) else { continue };
        for side in [Side::Buy, Side::Sell] {
            for o in market.book.orders(side) {
                if let Some(i) = wallets.iter().position(|w| pre.account_id(&w.address()) == Some(o.account))
                {
                    resting[i].push((MarketId(m), o.id));
                }
            }
        }
    }
    // Cancel targets alternate between markets, so that batches of any size name the same
    // markets (a per-command cost measured by difference must not include a whole extra book).
    for list in &mut resting {
        let mut seen_in: BTreeMap<MarketId, usize> = BTreeMap::new();
        let mut keyed: Vec<(usize, MarketId, OrderId)> = list
            .iter()
            .map(|&(m, id)| {
                let k = seen_in.entry(m).or_insert(0);
                *k += 1;
                (*k, m, id)
            })
            .collect();
        keyed.sort();
        *list = keyed.into_iter().map(|(_, m, id)| (m, id)).collect();
    }
    let mut next = vec![0usize; n];
    (0..p.commands)
        .map(|i| {
            let k = i % n;
            let market = MarketId((i / n) as u32 % p.markets);
            let side = if i % 2 == 0 { Side::Buy } else { Side::Sell };
            let action = match p.workload {
                Workload::Resting => {
                    let away = 1 + (i / 2 % 50) as i64;
                    let price = if side == Side::Buy { 9_990 - 16 - away } else { 10_010 + 16 + away };
                    order(market, side, OrderKind::Limit, price, 1 + (i % 7) as u64, TimeInForce::Gtc)
                }
                Workload::Crossing => {
                    // The touch: wallet 1 offers at 10,011 and wallet 0 bids at 9,990, 5,000 lots each; buys
                    // come from even wallets and sells from odd ones, so no self-trade.
                    let price = if side == Side::Buy { 10_011 } else { 9_990 };
                    order(market, side, OrderKind::Limit, price, 1, TimeInForce::Gtc)
                }
                Workload::Cancel => {
                    // Every wallet owns book_orders / n extra orders (commands ≤ book_orders).
                    let (market, order_id) = resting[k].get(next[k]).copied().unwrap_or((market, OrderId(0)));
                    next[k] += 1;
                    Action::Cancel { market, order_id }
                }
                Workload::Mixed => unreachable!("the mixed workload has its own generator"),
            };
            let w = &mut wallets[k];
            let c = w.sign(w.nonce, action);
            w.nonce += 1;
            c
        })
        .collect()
}

fn random_action(rng: &mut DetRng, state: &ExchangeState, markets: u32, now: u64) -> Action {
    let market = MarketId(rng.below(markets as u64) as u32);
    let book = state.market(market).map(|m| &m.book);
    let mid = book.and_then(|b| Some((b.best_bid()?.price.0 + b.best_ask()?.price.0) / 2)).unwrap_or(10_000);
    let side = if rng.chance(1, 2) { Side::Buy } else { Side::Sell };
    let live = |rng: &mut DetRng| -> Option<OrderId> {
        let b = book?;
        let n = b.order_count() as u64;
        let pick = rng.below(n.max(1));
        [Side::Buy, Side::Sell].iter().flat_map(|s| b.orders(*s)).nth(pick as usize).map(|o| o.id)
    };
    match rng.below(100) {
        0..=49 => {
            let off = rng.range_i64(-3, 12);
            let price = if side == Side::Buy { mid - off } else { mid + off };
            let tif = if rng.chance(1, 10) {
                TimeInForce::Gtd(Timestamp(now + 1_000_000_000))
            } else {
                TimeInForce::Gtc
            };
            order(market, side, OrderKind::Limit, price, 1 + rng.below(100), tif)
        }
        50..=59 => order(
            market,
            side,
            OrderKind::Limit,
            if side == Side::Buy { mid + 5 } else { mid - 5 },
            1 + rng.below(60),
            TimeInForce::Ioc,
        ),
        60..=64 => {
            let protection = if side == Side::Buy { mid + 50 } else { mid - 50 };
            order(market, side, OrderKind::Market, protection, 1 + rng.below(80), TimeInForce::Ioc)
        }
        65..=79 => match live(rng) {
            Some(order_id) => Action::Cancel { market, order_id },
            None => Action::MassCancel { market, side: None },
        },
        80..=87 => match live(rng) {
            Some(order_id) => Action::Amend {
                market,
                order_id,
                price: Price(mid + rng.range_i64(-20, 20)),
                qty: Qty(1 + rng.below(100)),
            },
            None => Action::MassCancel { market, side: None },
        },
        88..=89 => Action::MassCancel { market, side: Some(side) },
        _ => Action::Withdraw {
            asset: if rng.chance(1, 2) { BASE } else { QUOTE },
            amount: Amount(1 + rng.below(10_000) as u128),
        },
    }
}

fn batch_commands(
    pre: &ExchangeState,
    header: &BatchHeader,
    wallets: &mut [Wallet],
    p: GenerateParams,
) -> Result<Vec<Command>, GenerateError> {
    let mut rng = DetRng::seed_from_u64(p.seed);
    let mut scratch = pre.clone();
    scratch.apply_batch(&NativeCrypto, header, header.prev_root, &[])?;
    let stranger = Wallet::derive(p.seed, b"stranger", 0);
    let mut out = Vec::with_capacity(p.commands);
    for i in 0..p.commands {
        let cmd = match i % 97 {
            41 => {
                let mut to = [0u8; 20];
                to[..8].copy_from_slice(&(i as u64).to_le_bytes());
                Command::Deposit {
                    to: Address(to),
                    asset: QUOTE,
                    amount: Amount(1 + rng.below(1_000_000) as u128),
                }
            }
            43 => stranger.sign(0, Action::Withdraw { asset: BASE, amount: Amount(1) }), // no account
            61 => {
                // A trader asking for the fees: only the operator may (refused).
                let w = &wallets[rng.below(wallets.len() as u64) as usize];
                w.sign(w.nonce, Action::CollectFees { asset: QUOTE, amount: Amount(1) })
            }
            _ => {
                let who = rng.below(wallets.len() as u64) as usize;
                let action = random_action(&mut rng, &scratch, p.markets, header.timestamp.0);
                let w = &wallets[who];
                match i % 97 {
                    47 => w.sign(w.nonce.saturating_sub(1), action), // replayed nonce
                    53 => {
                        let mut c = w.sign(w.nonce, action);
                        if let Command::Signed(s) = &mut c {
                            s.signature[5] ^= 0x10; // forged
                        }
                        c
                    }
                    59 => {
                        let mut c = w.sign(w.nonce, action);
                        if let Command::Signed(s) = &mut c {
                            malleate(&mut s.signature); // a valid but high-s twin: refused
                        }
                        c
                    }
                    _ => w.sign(w.nonce, action),
                }
            }
        };
        let receipt = scratch.apply(&NativeCrypto, &cmd);
        if let (Command::Signed(s), Receipt::Applied(_)) = (&cmd, receipt) {
            if let Some(w) = wallets.iter_mut().find(|w| w.pubkey == s.signer) {
                w.nonce += 1;
            }
        }
        out.push(cmd);
    }
    Ok(out)
}

/// Replaces `s` by `n − s` (n the secp256k1 group order): the malleable twin of a valid signature,
/// which verifies under plain ECDSA but which zkclob refuses (only low-`s` signatures count).
fn malleate(signature: &mut [u8; 64]) {
    const ORDER: [u8; 32] = [
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 0xBA,
        0xAE, 0xDC, 0xE6, 0xAF, 0x48, 0xA0, 0x3B, 0xBF, 0xD2, 0x5E, 0x8C, 0xD0, 0x36, 0x41, 0x41,
    ];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let d = ORDER[i] as i16 - signature[32 + i] as i16 - borrow;
        borrow = i16::from(d < 0);
        signature[32 + i] = d.rem_euclid(256) as u8;
    }
}
