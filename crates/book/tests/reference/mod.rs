//! A deliberately naive order book: a flat `Vec` of orders and linear scans, written from the rules
//! in the crate docs without sharing any code with the engine. Differential tests drive both with
//! the same actions and require identical events and identical books.

use zkclob_book::{
    BookLimits, CancelReason, Event, Fill, NewOrder, OrderKind, RejectReason, StpMode, TimeInForce,
};
use zkclob_core::{AccountId, MarketSpec, OrderId, Price, Qty, QtyError, Side, Timestamp};

#[derive(Clone, Debug)]
pub struct RefOrder {
    pub id: u64,
    pub account: u64,
    pub side: Side,
    pub price: i64,
    pub visible: u64,
    pub reserve: u64,
    display: u64,
    expires_at: u64,
    /// Time priority.
    seq: u64,
    /// Arrival into the account's list (re-entry after an amend is a new arrival).
    acct_seq: u64,
    stp: StpMode,
    post_only: bool,
}

pub struct RefBook {
    spec: MarketSpec,
    limits: BookLimits,
    pub orders: Vec<RefOrder>,
    seq: u64,
    now: u64,
    ev: Vec<Event>,
}

struct Taker {
    id: u64,
    account: u64,
    side: Side,
    limit: i64,
    remaining: u64,
    filled: u64,
    stp: StpMode,
    killed: bool,
}

impl RefBook {
    pub fn new(spec: MarketSpec, limits: BookLimits) -> Self {
        RefBook { spec, limits, orders: Vec::new(), seq: 0, now: 0, ev: Vec::new() }
    }

    fn pos(&self, id: u64) -> Option<usize> {
        self.orders.iter().position(|o| o.id == id)
    }

    /// Orders of `side` sorted by priority (best price, then time).
    pub fn sorted(&self, side: Side) -> Vec<RefOrder> {
        let mut v: Vec<RefOrder> = self.orders.iter().filter(|o| o.side == side).cloned().collect();
        v.sort_by(|a, b| {
            let by_price = if side == Side::Buy { b.price.cmp(&a.price) } else { a.price.cmp(&b.price) };
            by_price.then(a.seq.cmp(&b.seq))
        });
        v
    }

    fn best_opposite(&self, side: Side) -> Option<u64> {
        self.sorted(side.opposite()).first().map(|o| o.id)
    }

    fn levels(&self, side: Side) -> Vec<i64> {
        let mut p: Vec<i64> = self.orders.iter().filter(|o| o.side == side).map(|o| o.price).collect();
        p.sort();
        p.dedup();
        p
    }

    fn begin(&mut self, now: Timestamp) {
        self.ev.clear();
        self.now = self.now.max(now.0);
        let mut due: Vec<RefOrder> =
            self.orders.iter().filter(|o| o.expires_at != 0 && o.expires_at <= self.now).cloned().collect();
        due.sort_by_key(|o| (o.expires_at, o.seq));
        for o in due {
            self.ev.push(Event::Expired {
                order_id: OrderId(o.id),
                account: AccountId(o.account),
                side: o.side,
                price: Price(o.price),
                remaining: Qty(o.visible + o.reserve),
            });
            self.orders.retain(|x| x.id != o.id);
        }
    }

    fn crosses(&self, side: Side, price: i64) -> bool {
        self.best_opposite(side).is_some_and(|id| {
            let o = &self.orders[self.pos(id).unwrap()];
            side.accepts(Price(price), Price(o.price))
        })
    }

    fn limits_ok(&self, account: u64, side: Side, price: i64) -> Result<(), RejectReason> {
        if self.orders.len() >= self.limits.max_orders as usize {
            return Err(RejectReason::BookFull);
        }
        if self.orders.iter().filter(|o| o.account == account).count()
            >= self.limits.max_orders_per_account as usize
        {
            return Err(RejectReason::AccountLimit);
        }
        let levels = self.levels(side);
        if levels.len() >= self.limits.max_levels_per_side as usize && !levels.contains(&price) {
            return Err(RejectReason::LevelLimit);
        }
        Ok(())
    }

    fn validate(&self, o: &NewOrder) -> Result<(), RejectReason> {
        if self.pos(o.id.0).is_some() {
            return Err(RejectReason::DuplicateOrderId);
        }
        self.spec.check_qty(o.qty)?;
        self.spec.check_price(o.price)?;
        let rests = o.kind == OrderKind::Limit && matches!(o.tif, TimeInForce::Gtc | TimeInForce::Gtd(_));
        if o.kind == OrderKind::Market && !matches!(o.tif, TimeInForce::Ioc | TimeInForce::Fok) {
            return Err(RejectReason::InvalidCombination);
        }
        if o.post_only && !rests {
            return Err(RejectReason::InvalidCombination);
        }
        if let Some(d) = o.display_qty {
            if !rests {
                return Err(RejectReason::InvalidCombination);
            }
            if d.0 == 0 || d.0 >= o.qty.0 || d.0 % self.spec.lot_size != 0 || d.0 < self.spec.min_qty.0 {
                return Err(RejectReason::InvalidDisplayQty);
            }
        }
        if let TimeInForce::Gtd(t) = o.tif {
            if t.0 <= self.now {
                return Err(RejectReason::AlreadyExpired);
            }
        }
        if rests {
            self.limits_ok(o.account.0, o.side, o.price.0)?;
        }
        if o.post_only && self.crosses(o.side, o.price.0) {
            return Err(RejectReason::WouldTake);
        }
        Ok(())
    }

    /// `o` is the order: (id, account, side, limit price).
    fn cancel_ev(&mut self, o: (u64, u64, Side, i64), cancelled: u64, remaining: u64, reason: CancelReason) {
        let (id, account, side, price) = o;
        self.ev.push(Event::Cancelled {
            order_id: OrderId(id),
            account: AccountId(account),
            side,
            price: Price(price),
            cancelled: Qty(cancelled),
            remaining: Qty(remaining),
            reason,
        });
    }

    fn fok_ok(&self, t: &Taker) -> bool {
        let mut need = t.remaining;
        for o in self.sorted(t.side.opposite()) {
            if !t.side.accepts(Price(t.limit), Price(o.price)) {
                return false;
            }
            if o.account == t.account {
                if t.stp != StpMode::CancelOldest {
                    return false;
                }
                continue;
            }
            let total = o.visible + o.reserve;
            if total >= need {
                return true;
            }
            need -= total;
        }
        false
    }

    fn run_match(&mut self, t: &mut Taker) {
        while t.remaining > 0 {
            let Some(id) = self.best_opposite(t.side) else { break };
            let i = self.pos(id).unwrap();
            if !t.side.accepts(Price(t.limit), Price(self.orders[i].price)) {
                break;
            }
            if self.orders[i].account == t.account {
                let m = self.orders[i].clone();
                match t.stp {
                    StpMode::CancelNewest => {
                        t.killed = true;
                        break;
                    }
                    StpMode::CancelOldest | StpMode::CancelBoth => {
                        self.cancel_ev(
                            (m.id, m.account, m.side, m.price),
                            m.visible + m.reserve,
                            0,
                            CancelReason::SelfTrade,
                        );
                        self.orders.remove(i);
                        if t.stp == StpMode::CancelBoth {
                            t.killed = true;
                            break;
                        }
                    }
                    StpMode::Decrement => {
                        let total = m.visible + m.reserve;
                        let d = t.remaining.min(total);
                        self.cancel_ev(
                            (m.id, m.account, m.side, m.price),
                            d,
                            total - d,
                            CancelReason::SelfTrade,
                        );
                        let o = &mut self.orders[i];
                        let r = d.min(o.reserve);
                        o.reserve -= r;
                        o.visible -= d - r;
                        if o.visible == 0 {
                            self.orders.remove(i);
                        }
                        t.remaining -= d;
                        self.cancel_ev(
                            (t.id, t.account, t.side, t.limit),
                            d,
                            t.remaining,
                            CancelReason::SelfTrade,
                        );
                    }
                }
                continue;
            }
            let o = &mut self.orders[i];
            let q = t.remaining.min(o.visible);
            o.visible -= q;
            t.remaining -= q;
            t.filled += q;
            self.ev.push(Event::Fill(Fill {
                maker_order: OrderId(o.id),
                maker_account: AccountId(o.account),
                taker_order: OrderId(t.id),
                taker_account: AccountId(t.account),
                taker_side: t.side,
                price: Price(o.price),
                qty: Qty(q),
                maker_remaining: Qty(o.visible + o.reserve),
            }));
            if o.visible == 0 {
                if o.reserve > 0 {
                    let slice = o.display.min(o.reserve);
                    o.reserve -= slice;
                    o.visible = slice;
                    self.seq += 1;
                    o.seq = self.seq;
                } else {
                    self.orders.remove(i);
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn finish(&mut self, t: &Taker, can_rest: bool, display: u64, expires_at: u64, post_only: bool) {
        let mut resting = 0;
        if t.remaining > 0 {
            if t.killed {
                self.cancel_ev((t.id, t.account, t.side, t.limit), t.remaining, 0, CancelReason::SelfTrade);
            } else if can_rest {
                let visible = if display == 0 { t.remaining } else { display.min(t.remaining) };
                self.seq += 1;
                self.orders.push(RefOrder {
                    id: t.id,
                    account: t.account,
                    side: t.side,
                    price: t.limit,
                    visible,
                    reserve: t.remaining - visible,
                    display,
                    expires_at,
                    seq: self.seq,
                    acct_seq: self.seq,
                    stp: t.stp,
                    post_only,
                });
                resting = t.remaining;
            } else {
                self.cancel_ev(
                    (t.id, t.account, t.side, t.limit),
                    t.remaining,
                    0,
                    CancelReason::ImmediateOrCancel,
                );
            }
        }
        self.ev.push(Event::Done { order_id: OrderId(t.id), filled: Qty(t.filled), resting: Qty(resting) });
    }

    pub fn place(&mut self, o: NewOrder, now: Timestamp) -> Vec<Event> {
        self.begin(now);
        if let Err(reason) = self.validate(&o) {
            self.ev.push(Event::Rejected { order_id: o.id, reason });
            return self.ev.clone();
        }
        self.ev.push(Event::Accepted {
            order_id: o.id,
            account: o.account,
            side: o.side,
            price: o.price,
            qty: o.qty,
        });
        let mut t = Taker {
            id: o.id.0,
            account: o.account.0,
            side: o.side,
            limit: o.price.0,
            remaining: o.qty.0,
            filled: 0,
            stp: o.stp,
            killed: false,
        };
        if o.tif == TimeInForce::Fok && !self.fok_ok(&t) {
            self.cancel_ev((t.id, t.account, t.side, t.limit), o.qty.0, 0, CancelReason::FillOrKill);
            self.ev.push(Event::Done { order_id: o.id, filled: Qty(0), resting: Qty(0) });
            return self.ev.clone();
        }
        self.run_match(&mut t);
        let can_rest = o.kind == OrderKind::Limit && matches!(o.tif, TimeInForce::Gtc | TimeInForce::Gtd(_));
        let expires_at = if let TimeInForce::Gtd(ts) = o.tif { ts.0 } else { 0 };
        self.finish(&t, can_rest, o.display_qty.map_or(0, |d| d.0), expires_at, o.post_only);
        self.ev.clone()
    }

    pub fn cancel(&mut self, id: OrderId, account: AccountId, now: Timestamp) -> Vec<Event> {
        self.begin(now);
        match self.pos(id.0) {
            None => self.ev.push(Event::Rejected { order_id: id, reason: RejectReason::UnknownOrder }),
            Some(i) if self.orders[i].account != account.0 => {
                self.ev.push(Event::Rejected { order_id: id, reason: RejectReason::NotOwner })
            }
            Some(i) => {
                let o = self.orders.remove(i);
                self.cancel_ev(
                    (o.id, o.account, o.side, o.price),
                    o.visible + o.reserve,
                    0,
                    CancelReason::UserRequested,
                );
            }
        }
        self.ev.clone()
    }

    pub fn mass_cancel(&mut self, account: AccountId, side: Option<Side>, now: Timestamp) -> Vec<Event> {
        self.begin(now);
        let mut mine: Vec<RefOrder> = self
            .orders
            .iter()
            .filter(|o| o.account == account.0 && side.is_none_or(|s| s == o.side))
            .cloned()
            .collect();
        mine.sort_by_key(|o| o.acct_seq);
        for o in mine {
            self.cancel_ev(
                (o.id, o.account, o.side, o.price),
                o.visible + o.reserve,
                0,
                CancelReason::MassCancel,
            );
            self.orders.retain(|x| x.id != o.id);
        }
        self.ev.clone()
    }

    pub fn amend(
        &mut self,
        id: OrderId,
        account: AccountId,
        price: Price,
        qty: Qty,
        now: Timestamp,
    ) -> Vec<Event> {
        self.begin(now);
        if let Err(reason) = self.try_amend(id, account, price, qty) {
            self.ev.push(Event::Rejected { order_id: id, reason });
        }
        self.ev.clone()
    }

    fn try_amend(
        &mut self,
        id: OrderId,
        account: AccountId,
        price: Price,
        qty: Qty,
    ) -> Result<(), RejectReason> {
        let i = self.pos(id.0).ok_or(RejectReason::UnknownOrder)?;
        if self.orders[i].account != account.0 {
            return Err(RejectReason::NotOwner);
        }
        self.spec.check_price(price)?;
        if qty.0 == 0 {
            return Err(QtyError::Zero.into());
        }
        if qty.0 % self.spec.lot_size != 0 {
            return Err(QtyError::OffLot { qty_lots: qty.0, lot_size: self.spec.lot_size }.into());
        }
        if qty.0 > self.spec.max_qty.0 {
            return Err(QtyError::AboveMax { qty_lots: qty.0, max_lots: self.spec.max_qty.0 }.into());
        }
        let o = self.orders[i].clone();
        let total = o.visible + o.reserve;
        if price.0 == o.price && qty.0 <= total {
            if qty.0 == total {
                return Err(RejectReason::NoChange);
            }
            let d = total - qty.0;
            let m = &mut self.orders[i];
            let r = d.min(m.reserve);
            m.reserve -= r;
            m.visible -= d - r;
            self.ev.push(Event::Amended { order_id: id, price, qty, priority_kept: true });
            return Ok(());
        }
        if o.post_only && self.crosses(o.side, price.0) {
            return Err(RejectReason::WouldTake);
        }
        let levels = self.levels(o.side);
        let alone = self.orders.iter().filter(|x| x.side == o.side && x.price == o.price).count() == 1;
        let frees = alone && price.0 != o.price;
        if !frees && !levels.contains(&price.0) && levels.len() >= self.limits.max_levels_per_side as usize {
            return Err(RejectReason::LevelLimit);
        }
        self.orders.remove(i);
        self.ev.push(Event::Amended { order_id: id, price, qty, priority_kept: false });
        let mut t = Taker {
            id: o.id,
            account: o.account,
            side: o.side,
            limit: price.0,
            remaining: qty.0,
            filled: 0,
            stp: o.stp,
            killed: false,
        };
        self.run_match(&mut t);
        self.finish(&t, true, o.display, o.expires_at, o.post_only);
        Ok(())
    }

    pub fn advance_time(&mut self, now: Timestamp) -> Vec<Event> {
        self.begin(now);
        self.ev.clone()
    }
}
