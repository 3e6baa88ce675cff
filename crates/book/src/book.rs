//! The book's storage: an order arena, price levels, per-account lists and the id index, and the
//! primitives that keep them consistent. Matching logic lives in `engine.rs`.
//!
//! Layout, chosen for speed and determinism:
//! - orders live in a slab (`Vec<OrderNode>` plus a free list) and are linked into a doubly linked
//!   FIFO per price level and a doubly linked list per account;
//! - levels live in a slab too; each side keeps a `Vec` of `(key, level)` sorted ascending by key
//!   with the **best level last** (key = price for bids, −price for asks), so the touch is at the
//!   end and opening or closing a level near the touch moves few entries;
//! - an id → slot hash map answers point lookups only; nothing ever iterates it in an order that
//!   could reach the output.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use zkclob_core::{AccountId, MarketSpec, OrderId, Price, Qty, Side, Timestamp};

use crate::direct::DirectMap;
use crate::event::Event;
use crate::hash::IdMap;
use crate::limits::BookLimits;
use crate::order::StpMode;

pub(crate) const NIL: u32 = u32::MAX;

#[derive(Clone, Debug)]
pub(crate) struct OrderNode {
    pub id: u64,
    pub account: u64,
    pub price: i64,
    /// Displayed quantity, in lots (> 0 while the order is live).
    pub visible: u64,
    /// Iceberg reserve, in lots.
    pub reserve: u64,
    /// Iceberg slice size, in lots; 0 for a plain order.
    pub display: u64,
    /// GTD expiry in ns, or 0.
    pub expires_at: u64,
    /// Arrival sequence number; a new one on every loss of priority.
    pub seq: u64,
    pub prev: u32,
    pub next: u32,
    pub acct_prev: u32,
    pub acct_next: u32,
    /// Slot of the owner's entry in `account_slots`.
    pub acct: u32,
    pub level: u32,
    pub side: Side,
    pub stp: StpMode,
    pub post_only: bool,
}

impl OrderNode {
    #[inline]
    pub fn total(&self) -> u64 {
        self.visible + self.reserve
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Level {
    pub price: i64,
    /// Sum of the displayed quantities of the level's orders.
    pub visible_total: u64,
    pub count: u32,
    pub head: u32,
    pub tail: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LevelKey {
    pub key: i64,
    pub level: u32,
}

/// An account's live orders in this book; `count == 0` marks a free entry.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct AccountEntry {
    pub account: u64,
    pub count: u32,
    pub head: u32,
    pub tail: u32,
}

/// One market's order book and matching engine.
///
/// All actions take the current time from the caller (`now`, a batch timestamp), expire due GTD
/// orders first, and return the events they caused. See the crate docs for an example.
#[derive(Clone, Debug)]
pub struct Book {
    pub(crate) spec: MarketSpec,
    pub(crate) limits: BookLimits,
    pub(crate) orders: Vec<OrderNode>,
    pub(crate) free_orders: Vec<u32>,
    pub(crate) levels: Vec<Level>,
    pub(crate) free_levels: Vec<u32>,
    /// Levels per side, indexed by `Side as usize` (bids, asks); see [`Book::key`].
    pub(crate) sides: [Vec<LevelKey>; 2],
    /// Price → level, per side (indexed like `sides`): finds a level in one probe wherever it is
    /// in the side's vector. Point lookups only, never iterated into any output.
    pub(crate) level_index: [IdMap; 2],
    /// Order id → arena slot.
    pub(crate) index: DirectMap,
    /// No order with an id above this has ever been in the index, so a new order with a higher
    /// id (the usual case: the exchange assigns ids in increasing order) needs no duplicate probe.
    /// A cache, not state: it never changes an outcome, only skips a lookup that would miss.
    pub(crate) id_ceiling: u64,
    /// Account id → slot in `account_slots` (point lookups only).
    pub(crate) accounts: IdMap,
    pub(crate) account_slots: Vec<AccountEntry>,
    pub(crate) free_accounts: Vec<u32>,
    /// GTD orders by (expiry, arrival sequence) → slot.
    pub(crate) gtd: BTreeMap<(u64, u64), u32>,
    pub(crate) seq: u64,
    pub(crate) now: u64,
    pub(crate) events: Vec<Event>,
}

impl Book {
    /// An empty book for `spec` with `limits`. The spec is expected to be valid
    /// ([`MarketSpec::validate`]).
    pub fn new(spec: MarketSpec, limits: BookLimits) -> Book {
        Book {
            spec,
            limits,
            orders: Vec::new(),
            free_orders: Vec::new(),
            levels: Vec::new(),
            free_levels: Vec::new(),
            sides: [Vec::new(), Vec::new()],
            level_index: [IdMap::default(), IdMap::default()],
            index: DirectMap::default(),
            id_ceiling: 0,
            accounts: IdMap::default(),
            account_slots: Vec::new(),
            free_accounts: Vec::new(),
            gtd: BTreeMap::new(),
            seq: 0,
            now: 0,
            events: Vec::new(),
        }
    }

    /// Makes room for `additional` more resting orders, so that adding them allocates nothing
    /// and moves nothing (a caller that knows how many orders are coming, like a zkVM guest
    /// running a batch, saves the re-allocations). Changes no outcome.
    pub fn reserve(&mut self, additional: usize) {
        let free = self.free_orders.len();
        self.orders.reserve(additional.saturating_sub(free));
        let orders = &self.orders;
        self.index.reserve(additional, |s| orders[s as usize].id);
    }

    /// The market's spec.
    pub fn spec(&self) -> &MarketSpec {
        &self.spec
    }

    /// The book's limits.
    pub fn limits(&self) -> &BookLimits {
        &self.limits
    }

    /// The book's current time: the latest `now` it was given.
    pub fn now(&self) -> Timestamp {
        Timestamp(self.now)
    }

    /// Number of live orders.
    pub fn order_count(&self) -> usize {
        self.index.len()
    }

    /// Number of live orders of `account`.
    pub fn account_order_count(&self, account: AccountId) -> u32 {
        self.account_entry(account.0).map_or(0, |a| a.count)
    }

    /// Number of price levels on `side`.
    pub fn level_count(&self, side: Side) -> usize {
        self.side_levels(side).len()
    }

    #[inline]
    pub(crate) fn side_levels(&self, side: Side) -> &Vec<LevelKey> {
        // Indexing instead of matching: the side of random order flow is unpredictable, and
        // this stays branch-free.
        &self.sides[side as usize]
    }

    #[inline]
    pub(crate) fn side_levels_mut(&mut self, side: Side) -> &mut Vec<LevelKey> {
        &mut self.sides[side as usize]
    }

    /// The sort key of a price on a side: ascending keys put the best price last.
    #[inline]
    pub(crate) fn key(side: Side, price: i64) -> i64 {
        // Branch-free: +price for bids, -price for asks (prices are far inside i64).
        price * (1 - 2 * side as i64)
    }

    /// Whether a taker on `side` with limit `limit` accepts a resting price, without branching
    /// on the side: it does iff the resting level's key is not below the limit's key on the
    /// resting side.
    #[inline]
    pub(crate) fn takes(side: Side, limit: i64, resting: i64) -> bool {
        let opposite = side.opposite();
        Self::key(opposite, resting) >= Self::key(opposite, limit)
    }

    /// The best level of a side, if any.
    #[inline]
    pub(crate) fn best_level(&self, side: Side) -> Option<u32> {
        self.side_levels(side).last().map(|k| k.level)
    }

    /// Where `key` is (`Ok`) or would go (`Err`) in a side's ascending vector. Activity clusters at
    /// the touch, which is the end of the vector, so the search gallops back from the end (1, 2, 4,
    /// ... entries) and binary-searches only the bracket it lands in: O(log distance from touch).
    #[inline]
    fn locate(levels: &[LevelKey], key: i64) -> Result<usize, usize> {
        let n = levels.len();
        let mut hi = n; // levels[hi..] are all > key
        let mut step = 1;
        while hi > 0 {
            let probe = hi.saturating_sub(step);
            let k = levels[probe].key;
            if k == key {
                return Ok(probe);
            }
            if k < key {
                return levels[probe + 1..hi]
                    .binary_search_by(|x| x.key.cmp(&key))
                    .map(|i| i + probe + 1)
                    .map_err(|i| i + probe + 1);
            }
            hi = probe;
            step *= 2;
        }
        Err(0)
    }

    /// The level at `price` on `side`, if it exists.
    #[inline]
    pub(crate) fn find_level(&self, side: Side, price: i64) -> Option<u32> {
        // Prices are reinterpreted as `u64` keys: a bijection, so distinct prices never collide.
        self.level_index[side as usize].get(&(price as u64)).copied()
    }

    /// Returns the level at `price`, creating it if needed. The caller has checked the level limit.
    #[inline]
    pub(crate) fn level_for_insert(&mut self, side: Side, price: i64) -> u32 {
        match self.find_level(side, price) {
            Some(level) => level,
            None => self.new_level(side, price),
        }
    }

    /// Opens a level at `price` on `side`, which has none there.
    fn new_level(&mut self, side: Side, price: i64) -> u32 {
        let key = Self::key(side, price);
        let levels = self.side_levels(side);
        // A new level most often improves the touch: then it simply goes last.
        let pos = match levels.last() {
            Some(last) if last.key > key => {
                let found = Self::locate(levels, key);
                debug_assert!(found.is_err(), "level index and side vector disagree");
                let (Ok(i) | Err(i)) = found;
                i
            }
            _ => levels.len(),
        };
        let level = Level { price, visible_total: 0, count: 0, head: NIL, tail: NIL };
        let idx = match self.free_levels.pop() {
            Some(i) => {
                self.levels[i as usize] = level;
                i
            }
            None => {
                self.levels.push(level);
                (self.levels.len() - 1) as u32
            }
        };
        self.side_levels_mut(side).insert(pos, LevelKey { key, level: idx });
        self.level_index[side as usize].insert_new(price as u64, idx);
        idx
    }

    /// Removes an empty level from its side and frees it.
    pub(crate) fn drop_level(&mut self, side: Side, level: u32) {
        debug_assert_eq!(self.levels[level as usize].count, 0);
        let key = Self::key(side, self.levels[level as usize].price);
        let levels = self.side_levels_mut(side);
        if levels.last().is_some_and(|k| k.level == level) {
            levels.pop();
        } else if let Ok(i) = Self::locate(levels, key) {
            levels.remove(i);
        } else {
            debug_assert!(false, "level missing from its side");
        }
        self.level_index[side as usize].remove(&(self.levels[level as usize].price as u64));
        self.free_levels.push(level);
    }

    /// Appends an order (already in the arena) to the back of its level.
    #[inline]
    pub(crate) fn push_back(&mut self, level: u32, slot: u32) {
        let tail = self.levels[level as usize].tail;
        {
            let node = &mut self.orders[slot as usize];
            node.prev = tail;
            node.next = NIL;
            node.level = level;
        }
        if tail == NIL {
            self.levels[level as usize].head = slot;
        } else {
            self.orders[tail as usize].next = slot;
        }
        let visible = self.orders[slot as usize].visible;
        let lvl = &mut self.levels[level as usize];
        lvl.tail = slot;
        lvl.count += 1;
        lvl.visible_total += visible;
    }

    /// Unlinks an order from its level (the level may become empty; it is not dropped here).
    #[inline(always)]
    pub(crate) fn unlink_from_level(&mut self, slot: u32) {
        let (prev, next, level, visible) = {
            let n = &self.orders[slot as usize];
            (n.prev, n.next, n.level, n.visible)
        };
        if prev == NIL {
            self.levels[level as usize].head = next;
        } else {
            self.orders[prev as usize].next = next;
        }
        if next == NIL {
            self.levels[level as usize].tail = prev;
        } else {
            self.orders[next as usize].prev = prev;
        }
        let lvl = &mut self.levels[level as usize];
        lvl.count -= 1;
        lvl.visible_total -= visible;
    }

    /// Stores a new order in the arena, the id index, the account list and the GTD index, and
    /// puts it at the back of its level. The caller has checked every limit.
    ///
    /// Always inlined: the caller builds `node` field by field, and a call would pass it through
    /// a stack copy that is read back in wider loads than it was written in, a store-forwarding
    /// stall on every resting order.
    #[inline(always)]
    pub(crate) fn insert_resting(&mut self, mut node: OrderNode, account_hint: Option<u32>) -> u32 {
        self.seq += 1;
        node.seq = self.seq;
        let (id, account, side, price, expires_at, seq) =
            (node.id, node.account, node.side, node.price, node.expires_at, node.seq);
        let slot = match self.free_orders.pop() {
            Some(s) => {
                self.orders[s as usize] = node;
                s
            }
            None => {
                self.orders.push(node);
                (self.orders.len() - 1) as u32
            }
        };
        let orders = &self.orders;
        self.index.insert_new(id, slot, |s| orders[s as usize].id);
        self.id_ceiling = self.id_ceiling.max(id);
        self.link_account(account, account_hint, slot);
        if expires_at != 0 {
            self.gtd.insert((expires_at, seq), slot);
        }
        let level = self.level_for_insert(side, price);
        self.push_back(level, slot);
        slot
    }

    /// The live entry of `account`, if it has orders here.
    #[inline]
    pub(crate) fn account_entry(&self, account: u64) -> Option<&AccountEntry> {
        self.accounts.get(&account).map(|&s| &self.account_slots[s as usize])
    }

    /// Slot of `account`'s entry, if it has orders here.
    #[inline]
    pub(crate) fn account_slot(&self, account: u64) -> Option<u32> {
        self.accounts.get(&account).copied()
    }

    /// Finds or creates `account`'s entry. `hint` is a slot found earlier in the same action; it
    /// is used only if still live for this account (matching may have emptied and freed it).
    ///
    /// The check of the hint is inlined into the caller; the lookup and the creation of an entry
    /// are not (an account that places orders usually has some resting already).
    #[inline(always)]
    fn account_slot_for_insert(&mut self, account: u64, hint: Option<u32>) -> u32 {
        if let Some(s) = hint {
            let e = &self.account_slots[s as usize];
            if e.count > 0 && e.account == account {
                return s;
            }
        }
        self.account_slot_lookup_or_new(account)
    }

    #[inline(never)]
    fn account_slot_lookup_or_new(&mut self, account: u64) -> u32 {
        if let Some(&s) = self.accounts.get(&account) {
            return s;
        }
        let entry = AccountEntry { account, count: 0, head: NIL, tail: NIL };
        let s = match self.free_accounts.pop() {
            Some(s) => {
                self.account_slots[s as usize] = entry;
                s
            }
            None => {
                self.account_slots.push(entry);
                (self.account_slots.len() - 1) as u32
            }
        };
        self.accounts.insert(account, s);
        s
    }

    #[inline(always)]
    pub(crate) fn link_account(&mut self, account: u64, hint: Option<u32>, slot: u32) {
        let acct = self.account_slot_for_insert(account, hint);
        let entry = &mut self.account_slots[acct as usize];
        let tail = entry.tail;
        entry.tail = slot;
        entry.count += 1;
        if tail == NIL {
            entry.head = slot;
        }
        {
            let node = &mut self.orders[slot as usize];
            node.acct_prev = tail;
            node.acct_next = NIL;
            node.acct = acct;
        }
        if tail != NIL {
            self.orders[tail as usize].acct_next = slot;
        }
    }

    /// Removes a live order completely: level (dropping it if empty), account list, GTD index,
    /// id index, arena.
    ///
    /// The node is read once and the arena, levels and accounts are borrowed as separate slices:
    /// written through `self` field by field, every step reloaded the vectors and re-checked the
    /// bounds of the same node.
    pub(crate) fn remove_order(&mut self, slot: u32) {
        self.remove_order_inline(slot);
    }

    /// [`Book::remove_order`], inlined: for the two hot callers, a cancel and a maker filled in
    /// full.
    #[inline(always)]
    pub(crate) fn remove_order_inline(&mut self, slot: u32) {
        let orders = &mut self.orders[..];
        let n = &mut orders[slot as usize];
        let (prev, next, level, visible) = (n.prev, n.next, n.level, n.visible);
        let (acct_prev, acct_next, acct) = (n.acct_prev, n.acct_next, n.acct);
        let (id, side, expires_at, seq) = (n.id, n.side, n.expires_at, n.seq);
        n.visible = 0;
        n.reserve = 0;
        // Level FIFO.
        let lvl = &mut self.levels[level as usize];
        if prev == NIL {
            lvl.head = next;
        } else {
            orders[prev as usize].next = next;
        }
        if next == NIL {
            lvl.tail = prev;
        } else {
            orders[next as usize].prev = prev;
        }
        lvl.count -= 1;
        lvl.visible_total -= visible;
        let level_empty = lvl.count == 0;
        // Account list.
        if acct_prev != NIL {
            orders[acct_prev as usize].acct_next = acct_next;
        }
        if acct_next != NIL {
            orders[acct_next as usize].acct_prev = acct_prev;
        }
        let entry = &mut self.account_slots[acct as usize];
        if acct_prev == NIL {
            entry.head = acct_next;
        }
        if acct_next == NIL {
            entry.tail = acct_prev;
        }
        entry.count -= 1;
        if entry.count == 0 {
            let account = entry.account;
            self.accounts.remove(&account);
            self.free_accounts.push(acct);
        }
        if level_empty {
            self.drop_level(side, level);
        }
        if expires_at != 0 {
            self.gtd.remove(&(expires_at, seq));
        }
        self.index.remove(id, slot);
        self.free_orders.push(slot);
    }

    /// Moves a live order to the back of its level with a new sequence number (loss of priority).
    pub(crate) fn requeue(&mut self, slot: u32) {
        let level = self.orders[slot as usize].level;
        self.unlink_from_level(slot);
        self.seq += 1;
        let node = &mut self.orders[slot as usize];
        let old_seq = node.seq;
        node.seq = self.seq;
        let (expires_at, new_seq) = (node.expires_at, node.seq);
        if expires_at != 0 {
            self.gtd.remove(&(expires_at, old_seq));
            self.gtd.insert((expires_at, new_seq), slot);
        }
        self.push_back(level, slot);
    }

    /// Whether a live order has this id.
    #[inline]
    pub(crate) fn is_live_id(&self, id: u64) -> bool {
        id <= self.id_ceiling && self.index.get(id, |s| self.orders[s as usize].id).is_some()
    }

    /// Slot of a live order.
    #[inline]
    pub(crate) fn slot_of(&self, id: OrderId) -> Option<u32> {
        self.index.get(id.0, |s| self.orders[s as usize].id)
    }

    /// Whether an order on `side` at `price` would trade with the opposite side's best level.
    #[inline]
    pub(crate) fn crosses(&self, side: Side, price: i64) -> bool {
        match self.best_level(side.opposite()) {
            Some(l) => Self::takes(side, price, self.levels[l as usize].price),
            None => false,
        }
    }

    /// A public view of the order in `slot`.
    pub(crate) fn view(&self, slot: u32) -> OrderView {
        let n = &self.orders[slot as usize];
        OrderView {
            id: OrderId(n.id),
            account: AccountId(n.account),
            side: n.side,
            price: Price(n.price),
            visible: Qty(n.visible),
            reserve: Qty(n.reserve),
            expires_at: if n.expires_at == 0 { None } else { Some(Timestamp(n.expires_at)) },
            seq: n.seq,
        }
    }
}

/// A resting order as market data shows it (L3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderView {
    /// The order's id.
    pub id: OrderId,
    /// Its owner.
    pub account: AccountId,
    /// Its side.
    pub side: Side,
    /// Its price.
    pub price: Price,
    /// Displayed quantity.
    pub visible: Qty,
    /// Hidden iceberg reserve (not shown in public market data).
    pub reserve: Qty,
    /// GTD expiry, if any.
    pub expires_at: Option<Timestamp>,
    /// Arrival sequence number (time priority within a level).
    pub seq: u64,
}
