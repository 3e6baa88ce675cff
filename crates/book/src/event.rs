//! What the book reports: every action returns a list of [`Event`]s in a deterministic order.

use borsh::{BorshDeserialize, BorshSerialize};
use zkclob_core::{AccountId, OrderId, Price, PriceError, Qty, QtyError, Side};

/// One trade between a resting (maker) order and an incoming (taker) order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Fill {
    /// The resting order.
    pub maker_order: OrderId,
    /// Its owner.
    pub maker_account: AccountId,
    /// The incoming order.
    pub taker_order: OrderId,
    /// Its owner.
    pub taker_account: AccountId,
    /// The taker's side (the maker is on the other side).
    pub taker_side: Side,
    /// The trade price: always the maker's price.
    pub price: Price,
    /// Traded quantity, in lots.
    pub qty: Qty,
    /// What the maker has left after this fill, displayed plus reserve; zero means it is gone.
    pub maker_remaining: Qty,
}

/// Why the book refused an action. A rejected action changes nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum RejectReason {
    /// The quantity is not acceptable for this market.
    Qty(QtyError),
    /// The price is not acceptable for this market.
    Price(PriceError),
    /// The iceberg display quantity is zero, not below the total, off the lot grid or below the
    /// minimum order size.
    InvalidDisplayQty,
    /// The options contradict each other (a market order that could rest, a post-only IOC, an
    /// iceberg that can never rest).
    InvalidCombination,
    /// A live order already has this id.
    DuplicateOrderId,
    /// No live order has this id.
    UnknownOrder,
    /// The order belongs to another account.
    NotOwner,
    /// A post-only order would trade on arrival.
    WouldTake,
    /// A GTD order whose expiry is not after the book's current time.
    AlreadyExpired,
    /// The book holds its maximum number of orders.
    BookFull,
    /// The account holds its maximum number of orders in this book.
    AccountLimit,
    /// The side holds its maximum number of price levels and the order would open a new one.
    LevelLimit,
    /// An amendment that changes nothing.
    NoChange,
}

impl From<QtyError> for RejectReason {
    fn from(e: QtyError) -> Self {
        RejectReason::Qty(e)
    }
}

impl From<PriceError> for RejectReason {
    fn from(e: PriceError) -> Self {
        RejectReason::Price(e)
    }
}

/// Why (part of) an order left the book or never rested.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum CancelReason {
    /// Its owner asked.
    UserRequested,
    /// Mass cancel by account (and side).
    MassCancel,
    /// The unfilled rest of an IOC or market order.
    ImmediateOrCancel,
    /// A fill-or-kill order that could not be filled in full.
    FillOrKill,
    /// Self-trade prevention.
    SelfTrade,
}

/// Something that happened in the book.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum Event {
    /// A new order passed validation and is being processed.
    Accepted {
        /// The order.
        order_id: OrderId,
        /// Its owner.
        account: AccountId,
        /// Its side.
        side: Side,
        /// Its limit (or protection) price.
        price: Price,
        /// Its total quantity.
        qty: Qty,
    },
    /// An action was refused; nothing changed.
    Rejected {
        /// The order the action named.
        order_id: OrderId,
        /// Why.
        reason: RejectReason,
    },
    /// A trade.
    Fill(Fill),
    /// Part or all of an order was cancelled.
    Cancelled {
        /// The order.
        order_id: OrderId,
        /// Its owner.
        account: AccountId,
        /// Its side.
        side: Side,
        /// Its limit price (what its lock was computed at).
        price: Price,
        /// How much was cancelled.
        cancelled: Qty,
        /// What is left live (zero: the order is gone).
        remaining: Qty,
        /// Why.
        reason: CancelReason,
    },
    /// A GTD order reached its expiry and left the book.
    Expired {
        /// The order.
        order_id: OrderId,
        /// Its owner.
        account: AccountId,
        /// Its side.
        side: Side,
        /// Its limit price.
        price: Price,
        /// What it had left.
        remaining: Qty,
    },
    /// An order's price or quantity changed.
    Amended {
        /// The order.
        order_id: OrderId,
        /// Its new price.
        price: Price,
        /// Its new total quantity (displayed plus reserve).
        qty: Qty,
        /// Whether it kept its place in the queue (only a quantity decrease does).
        priority_kept: bool,
    },
    /// Processing of an incoming (or re-entered) order is finished.
    Done {
        /// The order.
        order_id: OrderId,
        /// Quantity filled by this action.
        filled: Qty,
        /// Quantity left resting on the book (displayed plus reserve).
        resting: Qty,
    },
}
