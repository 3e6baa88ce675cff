//! Limits on everything the book holds. Each is a named constant with a test at and past it.

/// Default maximum number of live orders in one book.
pub const MAX_ORDERS: u32 = 1_000_000;
/// Default maximum number of live orders of one account in one book.
pub const MAX_ORDERS_PER_ACCOUNT: u32 = 10_000;
/// Default maximum number of price levels on one side of a book.
pub const MAX_LEVELS_PER_SIDE: u32 = 20_000;

/// The book's capacity limits. An order that could rest is rejected up front when resting it
/// would exceed one of them; orders that never rest (IOC, FOK, market) are not limited by them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BookLimits {
    /// Live orders in the book.
    pub max_orders: u32,
    /// Live orders per account.
    pub max_orders_per_account: u32,
    /// Price levels per side.
    pub max_levels_per_side: u32,
}

impl Default for BookLimits {
    fn default() -> Self {
        BookLimits {
            max_orders: MAX_ORDERS,
            max_orders_per_account: MAX_ORDERS_PER_ACCOUNT,
            max_levels_per_side: MAX_LEVELS_PER_SIDE,
        }
    }
}
