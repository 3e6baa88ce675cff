//! [`BookSnapshot`]: the book's canonical, restorable content.
//!
//! A snapshot holds exactly what determines the book's future behaviour: its time, its sequence
//! counter, every order (in priority order, with its iceberg slice, expiry and options) and each
//! account's orders in arrival order (the order mass cancel follows). Arena slots, hash-table
//! layout and free lists are not in it: they never influence events. Restoring a snapshot gives a
//! book that answers every future action with the same events as the original; a test drives both
//! side by side to hold that.
//!
//! The borsh encoding of a snapshot is canonical, so its hash commits to the book (the exchange
//! state's Merkle leaves do that), and a zkVM guest can rebuild a book from it.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use borsh::{BorshDeserialize, BorshSerialize};
use thiserror::Error;
use zkclob_core::{AccountId, MarketSpec, OrderId, Price, Qty, Side, Timestamp};

use crate::book::{Book, OrderNode, NIL};
use crate::limits::BookLimits;
use crate::order::StpMode;

/// One resting order in a snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct SnapshotOrder {
    /// Id.
    pub id: OrderId,
    /// Owner.
    pub account: AccountId,
    /// Side.
    pub side: Side,
    /// Price.
    pub price: Price,
    /// Displayed quantity.
    pub visible: Qty,
    /// Iceberg reserve.
    pub reserve: Qty,
    /// Iceberg slice size (0: plain order).
    pub display: Qty,
    /// GTD expiry (0: none).
    pub expires_at: Timestamp,
    /// Priority sequence number.
    pub seq: u64,
    /// Self-trade prevention mode.
    pub stp: StpMode,
    /// Post-only flag.
    pub post_only: bool,
}

/// A book's canonical content; see the module docs.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct BookSnapshot {
    /// The book's time, ns.
    pub now: Timestamp,
    /// The book's sequence counter.
    pub seq: u64,
    /// Bids then asks, each best level first and FIFO within a level.
    pub orders: Vec<SnapshotOrder>,
    /// Each account with orders (ascending id) and its order ids in arrival order.
    pub accounts: Vec<(AccountId, Vec<OrderId>)>,
}

/// Why a snapshot cannot be restored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum SnapshotError {
    /// Two orders share an id, or an account list names an unknown or foreign order.
    #[error("orders and account lists do not match")]
    Inconsistent,
    /// An order breaks the spec, the limits, or the book's own rules (empty, bad slice, expired,
    /// out of priority order, crossed book).
    #[error("an order is invalid for this market")]
    InvalidOrder,
    /// The sequence counter is at or above [`MAX_SEQ`].
    #[error("the sequence counter is out of range")]
    SeqOutOfRange,
    /// The market spec itself is invalid (zero tick or lot size, empty band, ...).
    #[error("the market spec is invalid")]
    InvalidSpec,
}

/// Words of one order in the word encoding ([`Book::write_words`]): one SHA-256 block.
pub const ORDER_WORDS: usize = 16;

/// A book's sequence counter stays below this (2⁵⁶ placements: over 2,000 years at a million per
/// second), which leaves the top byte of an order's sequence number for its flags in the word
/// encoding. [`Book::restore`] refuses a snapshot at or above it.
pub const MAX_SEQ: u64 = 1 << 56;

/// A consumer of 32-bit words: what [`Book::write_words`] and [`BookSnapshot::write_words`]
/// write a book's word encoding to (a SHA-256 stream in the exchange state's commitment, a
/// `Vec<u32>` in tests).
pub trait WordSink {
    /// Appends `words`.
    fn put(&mut self, words: &[u32]);
    /// Appends zero words until the stream's length is a multiple of 16 words (a SHA-256 block).
    fn align_block(&mut self);
    /// Appends one block of words; called only right after [`WordSink::align_block`] or another
    /// `put_block`, so a SHA-256 stream can compress it as it is, without copying it.
    fn put_block(&mut self, words: &[u32; 16]) {
        self.put(words);
    }
}

impl WordSink for Vec<u32> {
    fn put(&mut self, words: &[u32]) {
        self.extend_from_slice(words);
    }

    fn align_block(&mut self) {
        self.resize(self.len().next_multiple_of(16), 0);
    }
}

/// A 64-bit value as its high and low words.
#[inline(always)]
const fn split(v: u64) -> [u32; 2] {
    [(v >> 32) as u32, v as u32]
}

fn stp_code(stp: StpMode) -> u32 {
    match stp {
        StpMode::CancelNewest => 0,
        StpMode::CancelOldest => 1,
        StpMode::CancelBoth => 2,
        StpMode::Decrement => 3,
    }
}

/// The word encoding's head: `now`, `seq`, the number of orders, then zeros to a block boundary
/// (both writers of the encoding go through here and [`put_account_words`]).
fn put_head_words(sink: &mut impl WordSink, now: u64, seq: u64, orders: usize) {
    let [now_hi, now_lo] = split(now);
    let [seq_hi, seq_lo] = split(seq);
    sink.put(&[now_hi, now_lo, seq_hi, seq_lo, orders as u32]);
    sink.align_block();
}

/// One account's entry in the word encoding: its id, its number of orders, each order id.
fn put_account_words(sink: &mut impl WordSink, account: u64, count: u32, ids: impl Iterator<Item = u64>) {
    let [hi, lo] = split(account);
    sink.put(&[hi, lo, count]);
    for id in ids {
        sink.put(&split(id));
    }
}

impl SnapshotOrder {
    /// The order in the word encoding, one 16-word block: id, account, price (two's complement),
    /// visible, reserve, display, expiry and sequence number, each as its high then low word,
    /// with the order's flags in the top byte of the sequence number's high word (below
    /// [`MAX_SEQ`] that byte is free): side (bit 0: 0 buy, 1 sell), self-trade prevention mode
    /// (bits 1–2, in declaration order) and post-only (bit 3).
    #[inline(always)]
    ///
    /// Defined for any sequence number, since a snapshot to be hashed may come from outside (a
    /// witness); it is injective only below [`MAX_SEQ`], which is why [`Book::restore`] refuses
    /// a book whose counter — and so any of its orders' numbers — is not below it.
    pub fn words(&self) -> [u32; ORDER_WORDS] {
        let [id_hi, id_lo] = split(self.id.0);
        let [acct_hi, acct_lo] = split(self.account.0);
        let [px_hi, px_lo] = split(self.price.0 as u64);
        let [vis_hi, vis_lo] = split(self.visible.0);
        let [res_hi, res_lo] = split(self.reserve.0);
        let [disp_hi, disp_lo] = split(self.display.0);
        let [exp_hi, exp_lo] = split(self.expires_at.0);
        let [seq_hi, seq_lo] = split(self.seq);
        let flags = (self.side as u32) | stp_code(self.stp) << 1 | (self.post_only as u32) << 3;
        [
            id_hi,
            id_lo,
            acct_hi,
            acct_lo,
            px_hi,
            px_lo,
            vis_hi,
            vis_lo,
            res_hi,
            res_lo,
            disp_hi,
            disp_lo,
            exp_hi,
            exp_lo,
            flags << 24 | seq_hi,
            seq_lo,
        ]
    }
}

impl BookSnapshot {
    /// The snapshot's word encoding: the same content as its borsh encoding laid out as 32-bit
    /// words, each 64-bit value as its high then low word, so that a SHA-256 precompile takes
    /// it as its message words with no byte shuffling (what a market's commitment leaf hashes):
    ///
    /// `now`, `seq` (two words each), the number of orders, zero words up to a block boundary
    /// of the stream ([`WordSink::align_block`]), each order as one block
    /// ([`SnapshotOrder::words`], in snapshot order), the number of accounts, then per account
    /// its id (two words), its number of orders and each order id (two words).
    ///
    /// Counts fit a word: a book holds at most [`crate::MAX_ORDERS`] orders. The encoding is
    /// injective on books (fixed widths, counts before lists, sequence numbers below
    /// [`MAX_SEQ`]), so its hash commits to the snapshot.
    pub fn write_words(&self, sink: &mut impl WordSink) {
        put_head_words(sink, self.now.0, self.seq, self.orders.len());
        for o in &self.orders {
            sink.put_block(&o.words());
        }
        sink.put(&[self.accounts.len() as u32]);
        for (account, ids) in &self.accounts {
            put_account_words(sink, account.0, ids.len() as u32, ids.iter().map(|id| id.0));
        }
    }
}

impl Book {
    /// The book's canonical content.
    pub fn snapshot(&self) -> BookSnapshot {
        let mut orders = Vec::with_capacity(self.order_count());
        for side in [Side::Buy, Side::Sell] {
            for key in self.side_levels(side).iter().rev() {
                let mut cur = self.levels[key.level as usize].head;
                while cur != NIL {
                    orders.push(self.snapshot_order(cur));
                    cur = self.orders[cur as usize].next;
                }
            }
        }
        let mut accounts: Vec<(AccountId, Vec<OrderId>)> = self
            .accounts
            .iter()
            .map(|(&account, &slot)| {
                let mut ids = Vec::new();
                let mut cur = self.account_slots[slot as usize].head;
                while cur != NIL {
                    ids.push(OrderId(self.orders[cur as usize].id));
                    cur = self.orders[cur as usize].acct_next;
                }
                (AccountId(account), ids)
            })
            .collect();
        // The account table is a hash table: sort so the snapshot never depends on its layout.
        accounts.sort_unstable_by_key(|(a, _)| *a);
        BookSnapshot { now: Timestamp(self.now), seq: self.seq, orders, accounts }
    }

    /// Writes the word encoding of [`Book::snapshot`] ([`BookSnapshot::write_words`]) to
    /// `sink` without building the snapshot: the same words, with no allocation per order and
    /// one write per order (what hashing a market's leaf costs, in a zkVM guest, per resting
    /// order).
    // Out of line: inlined into a caller's loop over leaves (the zkVM guests' post-root) the
    // per-order loop of its byte-oriented predecessor compiled ~100 SP1 cycles per order slower.
    #[inline(never)]
    pub fn write_words(&self, sink: &mut impl WordSink) {
        put_head_words(sink, self.now, self.seq, self.order_count());
        for side in [Side::Buy, Side::Sell] {
            for key in self.side_levels(side).iter().rev() {
                let mut cur = self.levels[key.level as usize].head;
                while cur != NIL {
                    sink.put_block(&self.snapshot_order(cur).words());
                    cur = self.orders[cur as usize].next;
                }
            }
        }
        // The account table is a hash table: ascending account id, as in the snapshot.
        let mut accounts: Vec<(u64, u32)> = self.accounts.iter().map(|(&a, &slot)| (a, slot)).collect();
        accounts.sort_unstable_by_key(|(a, _)| *a);
        sink.put(&[accounts.len() as u32]);
        for (account, slot) in accounts {
            let entry = &self.account_slots[slot as usize];
            let ids = core::iter::successors((entry.head != NIL).then_some(entry.head), |&cur| {
                let next = self.orders[cur as usize].acct_next;
                (next != NIL).then_some(next)
            })
            .map(|cur| self.orders[cur as usize].id);
            put_account_words(sink, account, entry.count, ids);
        }
    }

    #[inline(always)]
    fn snapshot_order(&self, slot: u32) -> SnapshotOrder {
        let n = &self.orders[slot as usize];
        SnapshotOrder {
            id: OrderId(n.id),
            account: AccountId(n.account),
            side: n.side,
            price: Price(n.price),
            visible: Qty(n.visible),
            reserve: Qty(n.reserve),
            display: Qty(n.display),
            expires_at: Timestamp(n.expires_at),
            seq: n.seq,
            stp: n.stp,
            post_only: n.post_only,
        }
    }

    /// Rebuilds a book from a snapshot, checking it as strictly as the book checks orders: a
    /// snapshot that the book could not have produced is refused.
    pub fn restore(spec: MarketSpec, limits: BookLimits, snap: &BookSnapshot) -> Result<Book, SnapshotError> {
        // Every order is checked against the spec, so the spec must be one a book can run on.
        spec.validate().map_err(|_| SnapshotError::InvalidSpec)?;
        let mut book = Book::new(spec, limits);
        if snap.seq >= MAX_SEQ {
            return Err(SnapshotError::SeqOutOfRange);
        }
        book.now = snap.now.0;
        book.seq = snap.seq;
        let mut by_id: BTreeMap<u64, u32> = BTreeMap::new();
        let mut seqs = alloc::collections::BTreeSet::new();
        let mut prev: Option<&SnapshotOrder> = None;
        for o in &snap.orders {
            book.check_snapshot_order(o, prev)?;
            if !seqs.insert(o.seq) {
                return Err(SnapshotError::InvalidOrder);
            }
            prev = Some(o);
            let node = OrderNode {
                id: o.id.0,
                account: o.account.0,
                price: o.price.0,
                visible: o.visible.0,
                reserve: o.reserve.0,
                display: o.display.0,
                expires_at: o.expires_at.0,
                seq: o.seq,
                prev: NIL,
                next: NIL,
                acct_prev: NIL,
                acct_next: NIL,
                acct: NIL,
                level: NIL,
                side: o.side,
                stp: o.stp,
                post_only: o.post_only,
            };
            if book.index.len() >= limits.max_orders as usize
                || (book.find_level(o.side, o.price.0).is_none()
                    && book.side_levels(o.side).len() >= limits.max_levels_per_side as usize)
            {
                return Err(SnapshotError::InvalidOrder);
            }
            if by_id.contains_key(&o.id.0) {
                return Err(SnapshotError::Inconsistent);
            }
            let slot = book.restore_order(node);
            by_id.insert(o.id.0, slot);
        }
        book.restore_accounts(snap, &by_id)?;
        if let (Some(b), Some(a)) = (book.best_bid(), book.best_ask()) {
            if b.price >= a.price {
                return Err(SnapshotError::InvalidOrder);
            }
        }
        Ok(book)
    }

    fn check_snapshot_order(
        &self,
        o: &SnapshotOrder,
        prev: Option<&SnapshotOrder>,
    ) -> Result<(), SnapshotError> {
        let bad = Err(SnapshotError::InvalidOrder);
        let total = o.visible.0.checked_add(o.reserve.0).ok_or(SnapshotError::InvalidOrder)?;
        if self.spec.check_price(o.price).is_err() || o.visible.0 == 0 || total > self.spec.max_qty.0 {
            return bad;
        }
        if (o.display.0 == 0 && o.reserve.0 != 0) || (o.display.0 != 0 && o.visible.0 > o.display.0) {
            return bad;
        }
        if (o.expires_at.0 != 0 && o.expires_at.0 <= self.now) || o.seq == 0 || o.seq > self.seq {
            return bad;
        }
        // Priority order: bids before asks; within a side better prices first; FIFO by seq.
        if let Some(p) = prev {
            let ordered = match (p.side, o.side) {
                (Side::Sell, Side::Buy) => false,
                (a, b) if a != b => true,
                _ if p.price == o.price => p.seq < o.seq,
                (side, _) => side.is_better(p.price, o.price),
            };
            if !ordered {
                return bad;
            }
        }
        Ok(())
    }

    /// Appends a restored order to the back of its level and to the id and GTD indexes.
    fn restore_order(&mut self, node: OrderNode) -> u32 {
        let (id, side, price, expires_at, seq) = (node.id, node.side, node.price, node.expires_at, node.seq);
        self.orders.push(node);
        let slot = (self.orders.len() - 1) as u32;
        let orders = &self.orders;
        self.index.insert_new(id, slot, |s| orders[s as usize].id);
        self.id_ceiling = self.id_ceiling.max(id);
        if expires_at != 0 {
            self.gtd.insert((expires_at, seq), slot);
        }
        let level = self.level_for_insert(side, price);
        self.push_back(level, slot);
        slot
    }

    fn restore_accounts(
        &mut self,
        snap: &BookSnapshot,
        by_id: &BTreeMap<u64, u32>,
    ) -> Result<(), SnapshotError> {
        let mut linked = 0usize;
        let mut last_account: Option<AccountId> = None;
        for (account, ids) in &snap.accounts {
            if last_account.is_some_and(|a| a >= *account) || ids.is_empty() {
                return Err(SnapshotError::Inconsistent);
            }
            if ids.len() > self.limits.max_orders_per_account as usize {
                return Err(SnapshotError::InvalidOrder);
            }
            last_account = Some(*account);
            for id in ids {
                let &slot = by_id.get(&id.0).ok_or(SnapshotError::Inconsistent)?;
                let n = &self.orders[slot as usize];
                if n.account != account.0 || n.acct != NIL {
                    return Err(SnapshotError::Inconsistent);
                }
                self.link_account(account.0, None, slot);
                linked += 1;
            }
        }
        if linked != by_id.len() {
            return Err(SnapshotError::Inconsistent);
        }
        Ok(())
    }
}
