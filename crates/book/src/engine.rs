//! Matching: placing, amending, cancelling and expiring orders.
//!
//! Every public action follows the same shape: clear the event buffer, advance the book's time
//! and expire due GTD orders, validate (a rejection changes nothing), then act. The returned slice
//! holds the events of this action only.

use zkclob_core::{AccountId, OrderId, Price, Qty, Side, Timestamp};

use crate::book::{Book, OrderNode, NIL};
use crate::event::{CancelReason, Event, Fill, RejectReason};
use crate::order::{NewOrder, OrderKind, StpMode, TimeInForce};

/// The incoming side of a match.
struct Taker {
    id: u64,
    account: u64,
    side: Side,
    limit: i64,
    remaining: u64,
    filled: u64,
    stp: StpMode,
    /// Self-trade prevention ended matching and cancels the rest.
    stp_cancelled: bool,
}

/// How the unfilled rest of a taker is treated.
#[derive(Clone, Copy)]
struct RestAttrs {
    can_rest: bool,
    display: u64,
    expires_at: u64,
    post_only: bool,
    /// The owner's account slot as validation found it.
    account_hint: Option<u32>,
}

enum StpOutcome {
    Continue,
    Stop,
}

impl Book {
    /// Places a new order at time `now` and returns what happened.
    ///
    /// Events, in order: any GTD expiries due at `now`; then either `Rejected`, or `Accepted`,
    /// the fills (and self-trade cancellations) in price-time order, a `Cancelled` for an unfilled
    /// rest that cannot rest, and `Done`.
    pub fn place(&mut self, order: NewOrder, now: Timestamp) -> &[Event] {
        self.begin(now);
        let account_hint = match self.validate_new(&order) {
            Ok(hint) => hint,
            Err(reason) => {
                self.events.push(Event::Rejected { order_id: order.id, reason });
                return &self.events;
            }
        };
        self.events.push(Event::Accepted {
            order_id: order.id,
            account: order.account,
            side: order.side,
            price: order.price,
            qty: order.qty,
        });
        let mut taker = Taker {
            id: order.id.0,
            account: order.account.0,
            side: order.side,
            limit: order.price.0,
            remaining: order.qty.0,
            filled: 0,
            stp: order.stp,
            stp_cancelled: false,
        };
        if order.tif == TimeInForce::Fok && !self.fok_fillable(&taker) {
            let o = (order.id.0, order.account.0, order.side, order.price.0);
            self.push_cancel(o, order.qty.0, 0, CancelReason::FillOrKill);
            self.events.push(Event::Done { order_id: order.id, filled: Qty::ZERO, resting: Qty::ZERO });
            return &self.events;
        }
        self.match_incoming(&mut taker);
        let attrs = RestAttrs {
            can_rest: order.kind == OrderKind::Limit && order.tif.can_rest(),
            display: order.display_qty.map_or(0, |d| d.0),
            expires_at: match order.tif {
                TimeInForce::Gtd(t) => t.0,
                _ => 0,
            },
            post_only: order.post_only,
            account_hint,
        };
        self.finish_taker(&taker, attrs);
        &self.events
    }

    /// Cancels a live order of `account`.
    pub fn cancel(&mut self, order_id: OrderId, account: AccountId, now: Timestamp) -> &[Event] {
        self.begin(now);
        match self.owned_slot(order_id, account) {
            Ok(slot) => self.cancel_slot_inline(slot, CancelReason::UserRequested),
            Err(reason) => self.events.push(Event::Rejected { order_id, reason }),
        }
        &self.events
    }

    /// Cancels every live order of `account`, or only those on `side`, in the order they arrived.
    pub fn mass_cancel(&mut self, account: AccountId, side: Option<Side>, now: Timestamp) -> &[Event] {
        self.begin(now);
        let mut cur = self.account_entry(account.0).map_or(NIL, |a| a.head);
        while cur != NIL {
            let (next, order_side) = {
                let n = &self.orders[cur as usize];
                (n.acct_next, n.side)
            };
            if side.is_none_or(|s| s == order_side) {
                self.cancel_slot(cur, CancelReason::MassCancel);
            }
            cur = next;
        }
        &self.events
    }

    /// Changes a live order's price and/or total quantity (displayed plus reserve).
    ///
    /// A quantity decrease at the same price keeps the order's place in the queue (an iceberg
    /// loses reserve first). A price change or a quantity increase re-enters the order at the
    /// back of its new level, and it may trade if the new price crosses (a post-only order is
    /// then rejected and left as it was). The new quantity must be non-zero, on the lot grid and
    /// not above the maximum; it may be below the minimum order size, as a partly filled order
    /// may be.
    pub fn amend(
        &mut self,
        order_id: OrderId,
        account: AccountId,
        price: Price,
        qty: Qty,
        now: Timestamp,
    ) -> &[Event] {
        self.begin(now);
        if let Err(reason) = self.try_amend(order_id, account, price, qty) {
            self.events.push(Event::Rejected { order_id, reason });
        }
        &self.events
    }

    /// Swaps the book's event buffer — the events of its last action — with `buf`: the caller
    /// takes the events without copying them, and the book keeps `buf`'s allocation (its next
    /// action clears it first, whatever it holds). For a caller that must hold the events while
    /// it changes other state (the exchange settling them into balances).
    pub fn swap_events(&mut self, buf: &mut alloc::vec::Vec<Event>) {
        core::mem::swap(&mut self.events, buf);
    }

    /// Advances the book's time to `now`, expiring due GTD orders. Time never goes backwards:
    /// an earlier `now` than the book has seen is treated as the book's current time.
    pub fn advance_time(&mut self, now: Timestamp) -> &[Event] {
        self.begin(now);
        &self.events
    }

    #[inline(always)]
    fn begin(&mut self, now: Timestamp) {
        self.events.clear();
        if now.0 > self.now {
            self.now = now.0;
        }
        while let Some((&(expires_at, _), &slot)) = self.gtd.first_key_value() {
            if expires_at > self.now {
                break;
            }
            let n = &self.orders[slot as usize];
            self.events.push(Event::Expired {
                order_id: OrderId(n.id),
                account: AccountId(n.account),
                side: n.side,
                price: Price(n.price),
                remaining: Qty(n.total()),
            });
            self.remove_order(slot);
        }
    }

    /// Validates a new order; on success returns the owner's account slot, if it has one.
    ///
    /// The common case, a plain GTC limit or IOC market order with a fresh id, a quantity and a
    /// price that pass, is recognised with few branches; it gives the same answer as
    /// [`Book::validate_new_full`], which handles everything else and finds the first failing
    /// check.
    #[inline(always)]
    fn validate_new(&self, o: &NewOrder) -> Result<Option<u32>, RejectReason> {
        let spec = &self.spec;
        let (qty, price) = (o.qty.0, o.price.0);
        let limit = o.kind == OrderKind::Limit;
        let plain = o.display_qty.is_none()
            & !o.post_only
            & ((limit & matches!(o.tif, TimeInForce::Gtc)) | (!limit & matches!(o.tif, TimeInForce::Ioc)));
        let passes = plain
            & (o.id.0 > self.id_ceiling)
            & (qty != 0)
            & (qty >= spec.min_qty.0)
            & (qty <= spec.max_qty.0)
            & (price >= spec.min_price.0)
            & (price <= spec.max_price.0);
        if passes
            && (spec.lot_size == 1 || qty % spec.lot_size == 0)
            && (spec.tick_size == 1 || price % spec.tick_size == 0)
        {
            // A plain limit order rests (GTC), a plain market order does not (IOC); neither is
            // post-only.
            return if limit { self.check_rest_limits(o.account.0, o.side, price) } else { Ok(None) };
        }
        self.validate_new_full(o)
    }

    /// Every check of a new order, in order; the first that fails gives the reason.
    #[cold]
    #[inline(never)]
    fn validate_new_full(&self, o: &NewOrder) -> Result<Option<u32>, RejectReason> {
        if self.is_live_id(o.id.0) {
            return Err(RejectReason::DuplicateOrderId);
        }
        self.spec.check_qty(o.qty)?;
        self.spec.check_price(o.price)?;
        let rests = o.kind == OrderKind::Limit && o.tif.can_rest();
        if (o.kind == OrderKind::Market && o.tif.can_rest()) || (o.post_only && !rests) {
            return Err(RejectReason::InvalidCombination);
        }
        if let Some(display) = o.display_qty {
            if !rests {
                return Err(RejectReason::InvalidCombination);
            }
            let d = display.0;
            if d == 0 || d >= o.qty.0 || d % self.spec.lot_size != 0 || d < self.spec.min_qty.0 {
                return Err(RejectReason::InvalidDisplayQty);
            }
        }
        if let TimeInForce::Gtd(t) = o.tif {
            if t.0 <= self.now {
                return Err(RejectReason::AlreadyExpired);
            }
        }
        let account_slot = if rests { self.check_rest_limits(o.account.0, o.side, o.price.0)? } else { None };
        if o.post_only && self.crosses(o.side, o.price.0) {
            return Err(RejectReason::WouldTake);
        }
        Ok(account_slot)
    }

    /// Checks the capacity limits for an order that would rest; returns the owner's account slot.
    #[inline(always)]
    fn check_rest_limits(&self, account: u64, side: Side, price: i64) -> Result<Option<u32>, RejectReason> {
        if self.index.len() >= self.limits.max_orders as usize {
            return Err(RejectReason::BookFull);
        }
        let account_slot = self.account_slot(account);
        if account_slot
            .is_some_and(|s| self.account_slots[s as usize].count >= self.limits.max_orders_per_account)
        {
            return Err(RejectReason::AccountLimit);
        }
        if self.side_levels(side).len() >= self.limits.max_levels_per_side as usize
            && self.find_level(side, price).is_none()
        {
            return Err(RejectReason::LevelLimit);
        }
        Ok(account_slot)
    }

    fn owned_slot(&self, order_id: OrderId, account: AccountId) -> Result<u32, RejectReason> {
        let slot = self.slot_of(order_id).ok_or(RejectReason::UnknownOrder)?;
        if self.orders[slot as usize].account != account.0 {
            return Err(RejectReason::NotOwner);
        }
        Ok(slot)
    }

    fn try_amend(
        &mut self,
        id: OrderId,
        account: AccountId,
        price: Price,
        qty: Qty,
    ) -> Result<(), RejectReason> {
        let slot = self.owned_slot(id, account)?;
        self.spec.check_price(price)?;
        self.check_amend_qty(qty)?;
        let node = self.orders[slot as usize].clone();
        let (side, old_price, total) = (node.side, node.price, node.total());
        if price.0 == old_price && qty.0 <= total {
            if qty.0 == total {
                return Err(RejectReason::NoChange);
            }
            self.reduce_slot(slot, total - qty.0);
            self.events.push(Event::Amended { order_id: id, price, qty, priority_kept: true });
            return Ok(());
        }
        if node.post_only && self.crosses(side, price.0) {
            return Err(RejectReason::WouldTake);
        }
        let frees_level = self.levels[node.level as usize].count == 1 && price.0 != old_price;
        if !frees_level
            && self.find_level(side, price.0).is_none()
            && self.side_levels(side).len() >= self.limits.max_levels_per_side as usize
        {
            return Err(RejectReason::LevelLimit);
        }
        let attrs = RestAttrs {
            can_rest: true,
            display: node.display,
            expires_at: node.expires_at,
            post_only: node.post_only,
            account_hint: None,
        };
        let mut taker = Taker {
            id: node.id,
            account: node.account,
            side,
            limit: price.0,
            remaining: qty.0,
            filled: 0,
            stp: node.stp,
            stp_cancelled: false,
        };
        self.remove_order(slot);
        self.events.push(Event::Amended { order_id: id, price, qty, priority_kept: false });
        self.match_incoming(&mut taker);
        self.finish_taker(&taker, attrs);
        Ok(())
    }

    fn check_amend_qty(&self, qty: Qty) -> Result<(), RejectReason> {
        use zkclob_core::QtyError;
        let spec = &self.spec;
        if qty.0 == 0 {
            return Err(QtyError::Zero.into());
        }
        if qty.0 % spec.lot_size != 0 {
            return Err(QtyError::OffLot { qty_lots: qty.0, lot_size: spec.lot_size }.into());
        }
        if qty.0 > spec.max_qty.0 {
            return Err(QtyError::AboveMax { qty_lots: qty.0, max_lots: spec.max_qty.0 }.into());
        }
        Ok(())
    }

    /// Whether a FOK taker can be filled in full by trades (not by self-trade decrements).
    fn fok_fillable(&self, t: &Taker) -> bool {
        let mut need = t.remaining;
        for key in self.side_levels(t.side.opposite()).iter().rev() {
            let level = &self.levels[key.level as usize];
            if !Book::takes(t.side, t.limit, level.price) {
                return false;
            }
            let mut cur = level.head;
            while cur != NIL {
                let o = &self.orders[cur as usize];
                if o.account == t.account {
                    if t.stp != StpMode::CancelOldest {
                        return false;
                    }
                } else if o.total() >= need {
                    return true;
                } else {
                    need -= o.total();
                }
                cur = o.next;
            }
        }
        false
    }

    #[inline(always)]
    fn match_incoming(&mut self, t: &mut Taker) {
        let opposite = t.side.opposite();
        while t.remaining > 0 {
            let Some(level) = self.best_level(opposite) else { break };
            if !Book::takes(t.side, t.limit, self.levels[level as usize].price) {
                break;
            }
            if !self.match_level(t, level) {
                break;
            }
        }
    }

    /// Matches against one level until the taker is done or the level is empty. Returns false
    /// when self-trade prevention stops matching.
    fn match_level(&mut self, t: &mut Taker, level: u32) -> bool {
        let mut cur = self.levels[level as usize].head;
        while t.remaining > 0 && cur != NIL {
            let mut next = self.orders[cur as usize].next;
            if self.orders[cur as usize].account == t.account {
                match self.self_trade(t, cur) {
                    StpOutcome::Continue => {
                        cur = next;
                        continue;
                    }
                    StpOutcome::Stop => return false,
                }
            }
            let maker = &mut self.orders[cur as usize];
            let qty = t.remaining.min(maker.visible);
            maker.visible -= qty;
            let (maker_id, maker_account, price) = (maker.id, maker.account, maker.price);
            let (visible_left, reserve) = (maker.visible, maker.reserve);
            self.levels[level as usize].visible_total -= qty;
            t.remaining -= qty;
            t.filled += qty;
            self.events.push(Event::Fill(Fill {
                maker_order: OrderId(maker_id),
                maker_account: AccountId(maker_account),
                taker_order: OrderId(t.id),
                taker_account: AccountId(t.account),
                taker_side: t.side,
                price: Price(price),
                qty: Qty(qty),
                maker_remaining: Qty(visible_left + reserve),
            }));
            if visible_left == 0 {
                if reserve > 0 {
                    self.refill_iceberg(cur, level);
                    if next == NIL {
                        // It was the last order: after the refill it still is, keep matching it.
                        next = cur;
                    }
                } else {
                    self.remove_order_inline(cur);
                }
            }
            cur = next;
        }
        true
    }

    /// Refills an iceberg's displayed slice from its reserve and sends it to the back of its level.
    fn refill_iceberg(&mut self, slot: u32, level: u32) {
        let node = &mut self.orders[slot as usize];
        let slice = node.display.min(node.reserve);
        node.reserve -= slice;
        node.visible = slice;
        self.levels[level as usize].visible_total += slice;
        self.requeue(slot);
    }

    fn self_trade(&mut self, t: &mut Taker, maker: u32) -> StpOutcome {
        match t.stp {
            StpMode::CancelNewest => {
                t.stp_cancelled = true;
                StpOutcome::Stop
            }
            StpMode::CancelOldest => {
                self.cancel_slot(maker, CancelReason::SelfTrade);
                StpOutcome::Continue
            }
            StpMode::CancelBoth => {
                self.cancel_slot(maker, CancelReason::SelfTrade);
                t.stp_cancelled = true;
                StpOutcome::Stop
            }
            StpMode::Decrement => {
                let n = &self.orders[maker as usize];
                let (resting, maker_total) = ((n.id, n.account, n.side, n.price), n.total());
                let d = t.remaining.min(maker_total);
                self.push_cancel(resting, d, maker_total - d, CancelReason::SelfTrade);
                self.reduce_slot(maker, d);
                t.remaining -= d;
                self.push_cancel((t.id, t.account, t.side, t.limit), d, t.remaining, CancelReason::SelfTrade);
                StpOutcome::Continue
            }
        }
    }

    /// Rests the unfilled part of a taker if it may, otherwise cancels it; then reports `Done`.
    #[inline(always)]
    fn finish_taker(&mut self, t: &Taker, attrs: RestAttrs) {
        let mut resting = 0;
        if t.remaining > 0 {
            if t.stp_cancelled {
                self.push_cancel((t.id, t.account, t.side, t.limit), t.remaining, 0, CancelReason::SelfTrade);
            } else if attrs.can_rest {
                let visible = if attrs.display == 0 { t.remaining } else { attrs.display.min(t.remaining) };
                self.insert_resting(
                    OrderNode {
                        id: t.id,
                        account: t.account,
                        price: t.limit,
                        visible,
                        reserve: t.remaining - visible,
                        display: attrs.display,
                        expires_at: attrs.expires_at,
                        seq: 0,
                        prev: NIL,
                        next: NIL,
                        acct_prev: NIL,
                        acct_next: NIL,
                        acct: NIL,
                        level: NIL,
                        side: t.side,
                        stp: t.stp,
                        post_only: attrs.post_only,
                    },
                    attrs.account_hint,
                );
                resting = t.remaining;
            } else {
                self.push_cancel(
                    (t.id, t.account, t.side, t.limit),
                    t.remaining,
                    0,
                    CancelReason::ImmediateOrCancel,
                );
            }
        }
        self.events.push(Event::Done {
            order_id: OrderId(t.id),
            filled: Qty(t.filled),
            resting: Qty(resting),
        });
    }

    /// Reduces a live order by `qty` lots without trading, reserve first; removes it at zero.
    fn reduce_slot(&mut self, slot: u32, qty: u64) {
        let node = &mut self.orders[slot as usize];
        debug_assert!(qty <= node.total());
        let from_reserve = qty.min(node.reserve);
        node.reserve -= from_reserve;
        let from_visible = qty - from_reserve;
        node.visible -= from_visible;
        let (level, empty) = (node.level, node.visible == 0);
        self.levels[level as usize].visible_total -= from_visible;
        if empty {
            self.remove_order(slot);
        }
    }

    fn cancel_slot(&mut self, slot: u32, reason: CancelReason) {
        let n = &self.orders[slot as usize];
        let (o, total) = ((n.id, n.account, n.side, n.price), n.total());
        self.push_cancel(o, total, 0, reason);
        self.remove_order(slot);
    }

    /// [`Book::cancel_slot`] with the removal inlined, for [`Book::cancel`].
    #[inline(always)]
    fn cancel_slot_inline(&mut self, slot: u32, reason: CancelReason) {
        let n = &self.orders[slot as usize];
        let (o, total) = ((n.id, n.account, n.side, n.price), n.total());
        self.push_cancel(o, total, 0, reason);
        self.remove_order_inline(slot);
    }

    /// `o` is the order: (id, account, side, limit price).
    fn push_cancel(
        &mut self,
        o: (u64, u64, Side, i64),
        cancelled: u64,
        remaining: u64,
        reason: CancelReason,
    ) {
        let (id, account, side, price) = o;
        self.events.push(Event::Cancelled {
            order_id: OrderId(id),
            account: AccountId(account),
            side,
            price: Price(price),
            cancelled: Qty(cancelled),
            remaining: Qty(remaining),
            reason,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::BookLimits;
    use zkclob_core::{DetRng, MarketSpec};

    /// The fast path of `validate_new` gives exactly the answer of the full check sequence, on
    /// random orders (plain and not, valid and not) against books near their limits.
    #[test]
    fn validate_new_agrees_with_the_full_checks() {
        let mut rng = DetRng::seed_from_u64(7);
        let base = MarketSpec { min_qty: Qty(4), max_qty: Qty(1_000), ..MarketSpec::example() };
        let specs = [base, MarketSpec { tick_size: 5, lot_size: 2, min_price: Price(5), ..base }];
        let mut seen = [0u32; 6];
        for spec in specs {
            let limits = BookLimits { max_orders: 12, max_orders_per_account: 4, max_levels_per_side: 5 };
            let mut book = Book::new(spec, limits);
            let mut next_id = 1u64;
            for step in 0..20_000u64 {
                let side = if rng.chance(1, 2) { Side::Buy } else { Side::Sell };
                let id = if rng.chance(1, 10) { 1 + rng.below(next_id) } else { next_id };
                let account = AccountId(1 + rng.below(5));
                let price = Price(match rng.below(20) {
                    0 => 0,
                    1 => spec.max_price.0 + 5,
                    _ => 500 + rng.below(40) as i64 - 20,
                });
                let qty = Qty(match rng.below(20) {
                    0 => 0,
                    1 => 2_000,
                    _ => rng.below(30),
                });
                let mut o = if rng.chance(1, 4) {
                    NewOrder::market(OrderId(id), account, side, price, qty)
                } else {
                    NewOrder::limit(OrderId(id), account, side, price, qty)
                };
                if rng.chance(1, 8) {
                    o.tif = match rng.below(4) {
                        0 => TimeInForce::Gtc,
                        1 => TimeInForce::Ioc,
                        2 => TimeInForce::Fok,
                        _ => TimeInForce::Gtd(Timestamp(rng.below(3))),
                    };
                }
                o.post_only = rng.chance(1, 10);
                if rng.chance(1, 10) {
                    o.display_qty = Some(Qty(rng.below(10)));
                }
                let got = book.validate_new(&o);
                assert_eq!(got, book.validate_new_full(&o), "step {step}: {o:?}");
                seen[match got {
                    Ok(Some(_)) => 0,
                    Ok(None) => 1,
                    Err(RejectReason::BookFull) => 2,
                    Err(RejectReason::AccountLimit) => 3,
                    Err(RejectReason::LevelLimit) => 4,
                    Err(_) => 5,
                }] += 1;
                book.place(o, Timestamp(1 + step / 1000));
                if id == next_id {
                    next_id += 1;
                }
                if rng.chance(1, 20) {
                    book.mass_cancel(account, None, Timestamp(1 + step / 1000));
                }
            }
        }
        assert!(seen.iter().all(|&n| n > 100), "every outcome is exercised: {seen:?}");
    }
}
