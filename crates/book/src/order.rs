//! What a client asks the book to do: new orders, amendments, and their options.

use borsh::{BorshDeserialize, BorshSerialize};
use zkclob_core::{AccountId, OrderId, Price, Qty, Side, Timestamp};

/// How long an order may rest and whether it may rest at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum TimeInForce {
    /// Good till cancelled: the unfilled part rests.
    Gtc,
    /// Immediate or cancel: fill what can be filled now, cancel the rest.
    Ioc,
    /// Fill or kill: fill all of it now or nothing.
    Fok,
    /// Good till date: rests until the book's time reaches this timestamp (exclusive: the order
    /// is live while `now < expires_at`). Time comes from the caller (a batch header), never from
    /// a clock.
    Gtd(Timestamp),
}

impl TimeInForce {
    /// Whether an order with this time in force may rest on the book.
    #[inline]
    pub const fn can_rest(self) -> bool {
        matches!(self, TimeInForce::Gtc | TimeInForce::Gtd(_))
    }
}

/// What happens when an incoming order would trade with a resting order of the same account.
/// The incoming (taker) order's mode decides.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum StpMode {
    /// Cancel the rest of the incoming order; the resting order stays.
    #[default]
    CancelNewest,
    /// Cancel the resting order and keep matching.
    CancelOldest,
    /// Cancel both the resting order and the rest of the incoming order.
    CancelBoth,
    /// Reduce both by the smaller of the two quantities without trading; an order reduced to
    /// zero is gone. The resting order loses reserve before its displayed slice, so it keeps its
    /// place in the queue.
    Decrement,
}

/// Whether an order names a limit price or only a protection price.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum OrderKind {
    /// A limit order: trades at `price` or better.
    Limit,
    /// A market order: trades at any price up to its protection price (carried in
    /// [`NewOrder::price`]) and never rests. Its time in force must be IOC or FOK.
    Market,
}

/// A new order.
///
/// ```
/// use zkclob_book::{NewOrder, OrderKind, StpMode, TimeInForce};
/// use zkclob_core::{AccountId, OrderId, Price, Qty, Side};
/// let o = NewOrder::limit(OrderId(1), AccountId(7), Side::Buy, Price(100), Qty(5));
/// assert_eq!(o.tif, TimeInForce::Gtc);
/// let iceberg = NewOrder { display_qty: Some(Qty(2)), ..o };
/// let market = NewOrder::market(OrderId(2), AccountId(8), Side::Sell, Price(90), Qty(3));
/// assert_eq!(market.kind, OrderKind::Market);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct NewOrder {
    /// The order's id; must not be the id of a live order in this book.
    pub id: OrderId,
    /// The owner.
    pub account: AccountId,
    /// Buy or sell.
    pub side: Side,
    /// Limit or market.
    pub kind: OrderKind,
    /// The limit price, or for a market order its protection price (the worst price it accepts).
    pub price: Price,
    /// Total quantity, in lots.
    pub qty: Qty,
    /// Time in force.
    pub tif: TimeInForce,
    /// Post-only: rejected if any part of it would trade on arrival.
    pub post_only: bool,
    /// Iceberg: the displayed slice. The rest is held in reserve and refills the slice when it is
    /// filled; each refilled slice goes to the back of its price level.
    pub display_qty: Option<Qty>,
    /// Self-trade prevention.
    pub stp: StpMode,
}

impl NewOrder {
    /// A plain GTC limit order.
    pub const fn limit(id: OrderId, account: AccountId, side: Side, price: Price, qty: Qty) -> NewOrder {
        NewOrder {
            id,
            account,
            side,
            kind: OrderKind::Limit,
            price,
            qty,
            tif: TimeInForce::Gtc,
            post_only: false,
            display_qty: None,
            stp: StpMode::CancelNewest,
        }
    }

    /// A market order (IOC) with a protection price.
    pub const fn market(
        id: OrderId,
        account: AccountId,
        side: Side,
        protection_price: Price,
        qty: Qty,
    ) -> NewOrder {
        NewOrder {
            kind: OrderKind::Market,
            tif: TimeInForce::Ioc,
            ..NewOrder::limit(id, account, side, protection_price, qty)
        }
    }

    /// This order with a different time in force.
    pub const fn with_tif(self, tif: TimeInForce) -> NewOrder {
        NewOrder { tif, ..self }
    }

    /// This order with a different self-trade prevention mode.
    pub const fn with_stp(self, stp: StpMode) -> NewOrder {
        NewOrder { stp, ..self }
    }
}
