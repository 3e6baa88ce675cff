//! Commands, their signed envelope, batches and receipts.

use alloc::vec::Vec;
use borsh::{BorshDeserialize, BorshSerialize};
use zkclob_book::{OrderKind, RejectReason, StpMode, TimeInForce};
use zkclob_core::{Amount, AssetId, MarketId, MarketSpec, OrderId, Price, Qty, Side, Timestamp};

use crate::crypto::{Address, Crypto, PublicKey, Signature};

/// Most commands in one batch.
pub const MAX_BATCH_COMMANDS: usize = 100_000;
/// Largest encoded command accepted by [`crate::codec`-style decoders], in bytes.
pub const MAX_COMMAND_BYTES: usize = 1_024;
/// Highest fee rate, in basis points (10%).
pub const MAX_FEE_BPS: u16 = 1_000;
/// Domain tag of the signed payload; changes with any change of the signed encoding.
pub const SIGNING_DOMAIN: &[u8] = b"zkclob/command/v1";

/// Maker and taker fee rates of a market, in basis points of the amount the trader *receives*
/// (a buyer pays in base, a seller in quote), rounded up to a whole atom.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct FeeSchedule {
    /// Fee of the resting side, bps.
    pub maker_bps: u16,
    /// Fee of the incoming side, bps.
    pub taker_bps: u16,
}

/// A new order as a user signs it; the exchange assigns its id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct OrderParams {
    /// The market.
    pub market: MarketId,
    /// Buy or sell.
    pub side: Side,
    /// Limit or market.
    pub kind: OrderKind,
    /// Limit price, or a market order's protection price.
    pub price: Price,
    /// Quantity in lots.
    pub qty: Qty,
    /// Time in force.
    pub tif: TimeInForce,
    /// Post-only.
    pub post_only: bool,
    /// Iceberg slice.
    pub display_qty: Option<Qty>,
    /// Self-trade prevention.
    pub stp: StpMode,
}

/// What a signed command asks for.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum Action {
    /// Place an order.
    Place(OrderParams),
    /// Cancel one of the signer's orders.
    Cancel {
        /// Its market.
        market: MarketId,
        /// The order.
        order_id: OrderId,
    },
    /// Change the price and/or total quantity of one of the signer's orders.
    Amend {
        /// Its market.
        market: MarketId,
        /// The order.
        order_id: OrderId,
        /// New price.
        price: Price,
        /// New total quantity.
        qty: Qty,
    },
    /// Cancel all of the signer's orders in a market, or those on one side.
    MassCancel {
        /// The market.
        market: MarketId,
        /// Only this side, if given.
        side: Option<Side>,
    },
    /// Move available funds out to L1 (queued for the settlement contract).
    Withdraw {
        /// The asset.
        asset: AssetId,
        /// Atoms.
        amount: Amount,
    },
    /// Open a market (operator only).
    AddMarket {
        /// Its spec; `spec.market_id` must be new.
        spec: MarketSpec,
        /// Its fees.
        fees: FeeSchedule,
    },
    /// Move collected trading fees into the operator's own account (operator only, with the
    /// account's nonce; the account must exist — one deposit creates it). From there they trade
    /// or leave with [`Action::Withdraw`] like any balance.
    CollectFees {
        /// The asset.
        asset: AssetId,
        /// Atoms, at most what has been collected and not yet taken.
        amount: Amount,
    },
}

/// A command signed by its account's key.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct SignedCommand {
    /// The signer's public key; its address is the account.
    pub signer: PublicKey,
    /// Must equal the account's next nonce.
    pub nonce: u64,
    /// What to do.
    pub action: Action,
    /// ECDSA over [`signing_hash`].
    pub signature: Signature,
}

/// One entry of a batch.
// Nearly every command is `Signed`; boxing it would add an allocation to each.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum Command {
    /// Credit from L1, included by the sequencer (the rollup ties it to an L1 deposit event).
    Deposit {
        /// The credited account.
        to: Address,
        /// The asset.
        asset: AssetId,
        /// Atoms.
        amount: Amount,
    },
    /// A user or operator command.
    Signed(SignedCommand),
}

/// The 32-byte hash a signer signs: keccak-256 of the domain tag, the chain id, the nonce and the
/// canonical encoding of the action.
pub fn signing_hash(crypto: &impl Crypto, chain_id: u64, nonce: u64, action: &Action) -> [u8; 32] {
    // The payload is at most 33 + 97 bytes (the largest action is `AddMarket`): it is built on
    // the stack, which in a zkVM guest costs a fraction of a heap allocation per command.
    let mut msg = PayloadBuf::prefix(chain_id, nonce);
    if action.serialize(&mut msg).is_ok() {
        return crypto.keccak256(&msg.bytes[..msg.len]);
    }
    // Unreachable with today's actions; kept so a larger future action still hashes correctly.
    let mut long = Vec::with_capacity(2 * PAYLOAD_MAX);
    long.extend_from_slice(SIGNING_DOMAIN);
    long.extend_from_slice(&chain_id.to_le_bytes());
    long.extend_from_slice(&nonce.to_le_bytes());
    action.serialize(&mut long).expect("writing to a Vec is infallible");
    crypto.keccak256(&long)
}

/// [`signing_hash`] from the action's canonical encoding, as a batch carries it (borsh decoding is
/// canonical: the bytes an action was decoded from are the ones encoding it gives).
pub fn signing_hash_encoded(crypto: &impl Crypto, chain_id: u64, nonce: u64, action: &[u8]) -> [u8; 32] {
    let mut msg = PayloadBuf::prefix(chain_id, nonce);
    if msg.put(action) {
        return crypto.keccak256(&msg.bytes[..msg.len]);
    }
    let mut long = Vec::with_capacity(SIGNING_DOMAIN.len() + 16 + action.len());
    long.extend_from_slice(&msg.bytes[..msg.len]);
    long.extend_from_slice(action);
    crypto.keccak256(&long)
}

/// Room for a signed payload on the stack: one keccak block.
const PAYLOAD_MAX: usize = 136;

/// A fixed buffer that refuses (instead of growing) what does not fit.
struct PayloadBuf {
    bytes: [u8; PAYLOAD_MAX],
    len: usize,
}

impl PayloadBuf {
    /// The domain tag, the chain id and the nonce.
    fn prefix(chain_id: u64, nonce: u64) -> PayloadBuf {
        let mut msg = PayloadBuf { bytes: [0; PAYLOAD_MAX], len: 0 };
        let fits =
            msg.put(SIGNING_DOMAIN) && msg.put(&chain_id.to_le_bytes()) && msg.put(&nonce.to_le_bytes());
        debug_assert!(fits, "the prefix is 33 bytes");
        msg
    }

    fn put(&mut self, data: &[u8]) -> bool {
        let Some(dst) = self.bytes.get_mut(self.len..self.len + data.len()) else { return false };
        dst.copy_from_slice(data);
        self.len += data.len();
        true
    }
}

impl borsh::io::Write for PayloadBuf {
    fn write(&mut self, buf: &[u8]) -> borsh::io::Result<usize> {
        self.write_all(buf).map(|()| buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> borsh::io::Result<()> {
        if self.put(buf) {
            Ok(())
        } else {
            Err(borsh::io::Error::new(borsh::io::ErrorKind::WriteZero, "payload longer than its buffer"))
        }
    }

    fn flush(&mut self) -> borsh::io::Result<()> {
        Ok(())
    }
}

/// A batch's header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct BatchHeader {
    /// One more than the previous batch's.
    pub batch_number: u64,
    /// The batch's time; never before the previous batch's.
    pub timestamp: Timestamp,
    /// The state root the batch applies to.
    pub prev_root: [u8; 32],
}

/// Why a command was rejected. A rejected command changes nothing, its nonce included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum RejectCode {
    /// The signature does not verify for the signer's key.
    BadSignature,
    /// The nonce was already used; the account expects `expected`.
    NonceReused {
        /// The account's next nonce.
        expected: u64,
    },
    /// The nonce skips ahead; the account expects `expected`.
    NonceGap {
        /// The account's next nonce.
        expected: u64,
    },
    /// The signer has never received a deposit.
    UnknownAccount,
    /// No such market.
    UnknownMarket,
    /// The order belongs to another account, or to another market.
    NotYourOrder,
    /// Only the operator may do this.
    NotOperator,
    /// Available balance is below what the command needs.
    InsufficientBalance,
    /// Zero amount.
    ZeroAmount,
    /// The market id is taken.
    MarketExists,
    /// The market spec is invalid.
    InvalidSpec,
    /// The fee schedule is above [`MAX_FEE_BPS`].
    InvalidFees,
    /// An amount would leave its type's range.
    Overflow,
    /// The order book refused it.
    Book(RejectReason),
}

/// What an applied command did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Applied {
    /// The order placed or acted on, if any.
    pub order_id: Option<OrderId>,
    /// Quantity traded by this command.
    pub filled: Qty,
    /// Quantity left resting by this command.
    pub resting: Qty,
    /// Number of fills.
    pub fills: u32,
}

/// The outcome of one command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum Receipt {
    /// It was applied.
    Applied(Applied),
    /// It was rejected and changed nothing.
    Rejected(RejectCode),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::NativeCrypto;
    use zkclob_core::{MarketId, Price, Qty, Side, Timestamp};

    fn reference(chain_id: u64, nonce: u64, action: &Action) -> [u8; 32] {
        let mut msg = Vec::new();
        msg.extend_from_slice(SIGNING_DOMAIN);
        msg.extend_from_slice(&chain_id.to_le_bytes());
        msg.extend_from_slice(&nonce.to_le_bytes());
        action.serialize(&mut msg).unwrap();
        NativeCrypto.keccak256(&msg)
    }

    #[test]
    fn the_signing_hash_is_keccak_of_the_payload_for_every_action_and_the_largest_fits() {
        let mut spec = MarketSpec::example();
        spec.base_atoms_per_lot = u128::MAX;
        spec.quote_atoms_per_tick_lot = u128::MAX;
        let place = OrderParams {
            market: MarketId(u32::MAX),
            side: Side::Sell,
            kind: OrderKind::Limit,
            price: Price(i64::MIN),
            qty: Qty(u64::MAX),
            tif: TimeInForce::Gtd(Timestamp(u64::MAX)),
            post_only: true,
            display_qty: Some(Qty(u64::MAX)),
            stp: StpMode::Decrement,
        };
        let actions = [
            Action::Place(place),
            Action::Cancel { market: MarketId(1), order_id: OrderId(u64::MAX) },
            Action::Amend { market: MarketId(1), order_id: OrderId(7), price: Price(-3), qty: Qty(9) },
            Action::MassCancel { market: MarketId(2), side: Some(Side::Buy) },
            Action::Withdraw { asset: AssetId(3), amount: Amount(u128::MAX) },
            Action::AddMarket { spec, fees: FeeSchedule { maker_bps: u16::MAX, taker_bps: u16::MAX } },
            Action::CollectFees { asset: AssetId(u32::MAX), amount: Amount(1) },
        ];
        for action in &actions {
            let len = SIGNING_DOMAIN.len() + 16 + borsh::to_vec(action).unwrap().len();
            assert!(len <= PAYLOAD_MAX, "{action:?} takes {len} bytes");
            assert_eq!(signing_hash(&NativeCrypto, 31337, 5, action), reference(31337, 5, action));
            let encoded = borsh::to_vec(action).unwrap();
            assert_eq!(signing_hash_encoded(&NativeCrypto, 31337, 5, &encoded), reference(31337, 5, action));
        }
    }
}
