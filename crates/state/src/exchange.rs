//! [`ExchangeState`] and the state transition [`ExchangeState::apply_batch`].
//!
//! Spot trading, fully collateralised: a resting buy locks quote (its limit price times its
//! remaining quantity), a resting sell locks base; fills move balances; cancels and expiries
//! unlock. Fees are charged in the asset a trader receives, rounded up to a whole atom, and credited
//! to the fee account, so the lock of an order is always exact and never needs topping up.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;
use thiserror::Error;
use zkclob_book::{Book, BookLimits, Event, Fill, NewOrder};
use zkclob_core::{AccountId, Amount, AssetId, MarketId, MarketSpec, OrderId, Price, Qty, Side, Timestamp};

use crate::accounts::{Account, AccountTable, AssetMap, Balance, Balances, IdTable};
use crate::command::{
    signing_hash, signing_hash_encoded, Action, Applied, BatchHeader, Command, FeeSchedule, OrderParams,
    Receipt, RejectCode, SignedCommand, MAX_BATCH_COMMANDS, MAX_FEE_BPS,
};
use crate::crypto::{Address, Crypto};

/// A live order as the state sees it: read from its market's book, which is the only record of
/// live orders (the book's events carry what settlement needs: fills their maker's and taker's
/// accounts, cancellations and expiries the order's side and limit price).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderMeta {
    /// Its market.
    pub market: MarketId,
    /// Its owner.
    pub account: AccountId,
    /// Its side.
    pub side: Side,
    /// Its limit price.
    pub price: Price,
    /// What is left of it, displayed plus reserve.
    pub remaining: Qty,
}

impl OrderMeta {
    fn of(market: MarketId, o: &zkclob_book::OrderView) -> OrderMeta {
        OrderMeta {
            market,
            account: o.account,
            side: o.side,
            price: o.price,
            remaining: Qty(o.visible.0 + o.reserve.0),
        }
    }
}

/// One market: its spec, fees and book.
#[derive(Clone, Debug)]
pub struct Market {
    /// The spec.
    pub spec: MarketSpec,
    /// The fees.
    pub fees: FeeSchedule,
    /// The order book.
    pub book: Book,
}

/// A withdrawal queued for L1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct Withdrawal {
    /// Who withdrew (and receives on L1).
    pub to: Address,
    /// The asset.
    pub asset: AssetId,
    /// Atoms.
    pub amount: Amount,
}

/// Why a whole batch was refused (its commands are never looked at).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum BatchError {
    /// The batch number is not the next one.
    #[error("batch {got} does not follow batch {current}")]
    WrongBatchNumber {
        /// The state's last batch.
        current: u64,
        /// The header's.
        got: u64,
    },
    /// The timestamp is before the previous batch's.
    #[error("batch time goes backwards")]
    TimeWentBack,
    /// The header's previous root is not the state's root.
    #[error("the header's previous root is not the state's root")]
    WrongPrevRoot,
    /// More than [`MAX_BATCH_COMMANDS`].
    #[error("too many commands in one batch")]
    TooManyCommands,
}

/// The whole exchange state.
#[derive(Clone, Debug)]
pub struct ExchangeState {
    /// Signatures commit to this, so they cannot be replayed on another deployment.
    pub chain_id: u64,
    /// May open markets.
    pub operator: Address,
    /// The last applied batch.
    pub batch_number: u64,
    /// The last applied batch's time.
    pub timestamp: Timestamp,
    /// Accounts by id. Natively every account; in a witness-built state only the touched ones.
    pub(crate) accounts: AccountTable,
    /// Accounts ever created: the next account id.
    pub(crate) account_count: u64,
    pub(crate) by_address: BTreeMap<Address, AccountId>,
    pub(crate) markets: IdTable<MarketId, Market>,
    pub(crate) next_order_id: u64,
    /// Fees collected, by asset.
    pub(crate) fees: AssetMap<u128>,
    pub(crate) deposited: AssetMap<u128>,
    pub(crate) withdrawn: AssetMap<u128>,
    /// Queued withdrawals: natively all of them; in a witness-built state those of this batch.
    pub(crate) withdrawals: Vec<Withdrawal>,
    /// Withdrawals ever queued.
    pub(crate) withdrawal_count: u64,
    /// keccak-256 chain over `withdrawals` (what the commitment and L1 see; keccak because the L1
    /// contract replays it).
    pub(crate) withdrawal_chain: [u8; 32],
    /// Address buckets of the commitment: bucket → (address, id), ascending address.
    pub(crate) buckets: BTreeMap<u32, Vec<(Address, AccountId)>>,
    /// Leaves changed since the commitment last looked, with repeats (a push costs a fraction of
    /// a set insert in a zkVM guest, which never reads them); [`ExchangeState::take_dirty`]
    /// sorts them and drops the repeats.
    pub(crate) dirty_accounts: Vec<AccountId>,
    pub(crate) dirty_markets: Vec<MarketId>,
    pub(crate) dirty_buckets: Vec<u32>,
    /// The events of the book action being settled: one buffer reused by every command instead of
    /// a fresh allocation each. Not part of the state.
    pub(crate) scratch: Vec<Event>,
    /// Every book event settled, with its market, while recording is on (the node turns it on
    /// to feed market data and order updates; the guests never do). Not part of the state.
    pub(crate) event_log: Option<Vec<(MarketId, Event)>>,
}

/// What a caller derived for one signed command before applying it: its signer's address
/// (`address_of(signer)`) and the bytes of its action as received (the canonical encoding the
/// signing hash covers). Giving wrong values changes the outcome, so only the witness path,
/// which derives them itself, passes them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Prepared<'a> {
    pub(crate) address: Address,
    /// The action's borsh encoding; `None` to encode it again.
    pub(crate) action: Option<&'a [u8]>,
    /// The signer's account if it existed before the batch (accounts are never removed or
    /// renumbered, so it still is); `None` to look the address up.
    pub(crate) account: Option<AccountId>,
}

/// The market a command names, if any.
pub fn command_market(command: &Command) -> Option<MarketId> {
    match command {
        Command::Signed(s) => match &s.action {
            Action::Place(p) => Some(p.market),
            Action::Cancel { market, .. }
            | Action::Amend { market, .. }
            | Action::MassCancel { market, .. } => Some(*market),
            Action::AddMarket { spec, .. } => Some(spec.market_id),
            Action::Withdraw { .. } | Action::CollectFees { .. } => None,
        },
        Command::Deposit { .. } => None,
    }
}

/// The markets a batch's commands name, ascending.
pub fn referenced_markets(commands: &[Command]) -> BTreeSet<MarketId> {
    commands.iter().filter_map(command_market).collect()
}

/// What the withdrawal chain hashes to take in `w`: the chain so far, then `w`'s borsh encoding
/// (address, asset, amount), on the stack.
fn withdrawal_link(chain: &[u8; 32], w: &Withdrawal) -> [u8; 72] {
    let mut link = [0u8; 72];
    link[..32].copy_from_slice(chain);
    link[32..52].copy_from_slice(&w.to.0);
    link[52..56].copy_from_slice(&w.asset.0.to_le_bytes());
    link[56..].copy_from_slice(&w.amount.0.to_le_bytes());
    link
}

/// Atoms of `amount` charged at `bps`, rounded up.
pub fn fee_atoms(amount: u128, bps: u16) -> Option<u128> {
    let scaled = amount.checked_mul(bps as u128)?;
    // The same quotient; a 64-bit division when it fits (a zkVM guest has no 128-bit divide:
    // it runs a software routine of ~140 cycles).
    Some(match u64::try_from(scaled) {
        Ok(small) => small.div_ceil(10_000) as u128,
        Err(_) => scaled.div_ceil(10_000),
    })
}

impl ExchangeState {
    /// An empty exchange.
    pub fn new(chain_id: u64, operator: Address) -> ExchangeState {
        ExchangeState {
            chain_id,
            operator,
            batch_number: 0,
            timestamp: Timestamp(0),
            accounts: AccountTable::default(),
            account_count: 0,
            by_address: BTreeMap::new(),
            markets: IdTable::default(),
            next_order_id: 1,
            fees: AssetMap::default(),
            deposited: AssetMap::default(),
            withdrawn: AssetMap::default(),
            withdrawals: Vec::new(),
            withdrawal_count: 0,
            withdrawal_chain: [0; 32],
            buckets: BTreeMap::new(),
            dirty_accounts: Vec::new(),
            dirty_markets: Vec::new(),
            dirty_buckets: Vec::new(),
            scratch: Vec::new(),
            event_log: None,
        }
    }

    /// Turns recording of book events on or off (off by default). While on, every event the
    /// transition settles — accepted, fill, cancel, expiry, amend, done — is kept, in order, with
    /// its market, until [`ExchangeState::drain_events`] takes it. It changes no outcome.
    pub fn record_events(&mut self, on: bool) {
        self.event_log = if on { Some(self.event_log.take().unwrap_or_default()) } else { None };
    }

    /// Moves the recorded events into `out` (appending), oldest first.
    pub fn drain_events(&mut self, out: &mut Vec<(MarketId, Event)>) {
        if let Some(log) = &mut self.event_log {
            out.append(log);
        }
    }

    /// An account the state must hold: its id came from the state itself, and a witness-built
    /// state is checked to hold every account a batch can reach before it runs.
    pub(crate) fn acct(&self, id: AccountId) -> &Account {
        self.accounts
            .get(&id)
            .expect("account present: ids come from the state; witnesses are checked complete")
    }

    pub(crate) fn acct_mut(&mut self, id: AccountId) -> &mut Account {
        self.accounts
            .get_mut(&id)
            .expect("account present: ids come from the state; witnesses are checked complete")
    }

    /// Takes the sets of accounts, markets and address buckets changed since the last call.
    pub(crate) fn take_dirty(&mut self) -> (Vec<AccountId>, Vec<MarketId>, Vec<u32>) {
        fn settle<T: Ord>(mut v: Vec<T>) -> Vec<T> {
            v.sort_unstable();
            v.dedup();
            v
        }
        (
            settle(core::mem::take(&mut self.dirty_accounts)),
            settle(core::mem::take(&mut self.dirty_markets)),
            settle(core::mem::take(&mut self.dirty_buckets)),
        )
    }

    /// Makes room in each book for the orders `commands` may add to it (one per place or
    /// amend naming it), so that a batch run from a witness re-allocates no book.
    pub(crate) fn reserve_for(&mut self, commands: &[Command]) {
        let mut adds: BTreeMap<MarketId, usize> = BTreeMap::new();
        for c in commands {
            if let Command::Signed(SignedCommand {
                action: Action::Place(OrderParams { market, .. }), ..
            })
            | Command::Signed(SignedCommand { action: Action::Amend { market, .. }, .. }) = c
            {
                *adds.entry(*market).or_insert(0) += 1;
            }
        }
        for (id, n) in adds {
            if let Some(m) = self.markets.get_mut(&id) {
                m.book.reserve(n);
            }
        }
    }

    /// Marks an account's leaf changed.
    #[inline]
    pub(crate) fn touch_account(&mut self, id: AccountId) {
        if self.dirty_accounts.last() != Some(&id) {
            self.dirty_accounts.push(id);
        }
    }

    /// Marks a market's leaf changed.
    #[inline]
    pub(crate) fn touch_market(&mut self, id: MarketId) {
        if self.dirty_markets.last() != Some(&id) {
            self.dirty_markets.push(id);
        }
    }

    pub(crate) fn clear_dirty(&mut self) {
        self.take_dirty();
    }

    /// The account of an address.
    pub fn account(&self, address: &Address) -> Option<&Account> {
        self.by_address.get(address).and_then(|id| self.accounts.get(id))
    }

    /// An account by id.
    pub fn account_by_id(&self, id: AccountId) -> Option<&Account> {
        self.accounts.get(&id)
    }

    /// Every market, ascending id.
    pub fn markets(&self) -> impl Iterator<Item = &Market> + '_ {
        self.markets.values()
    }

    /// Live orders of an account, ascending id (each book's list of the account's orders).
    pub fn orders_of(&self, id: AccountId) -> Vec<(OrderId, OrderMeta)> {
        let mut out: Vec<(OrderId, OrderMeta)> = self
            .markets
            .iter()
            .flat_map(|(&market, m)| {
                m.book.account_orders(id).map(move |o| (o.id, OrderMeta::of(market, &o)))
            })
            .collect();
        out.sort_unstable_by_key(|(id, _)| *id);
        out
    }

    /// The id of an address's account.
    pub fn account_id(&self, address: &Address) -> Option<AccountId> {
        self.by_address.get(address).copied()
    }

    /// An account's balance of an asset.
    pub fn balance(&self, address: &Address, asset: AssetId) -> Balance {
        self.account(address).and_then(|a| a.balances.get(&asset).copied()).unwrap_or_default()
    }

    /// A market.
    pub fn market(&self, id: MarketId) -> Option<&Market> {
        self.markets.get(&id)
    }

    /// A live order (looked up in each market's book).
    pub fn order(&self, id: OrderId) -> Option<OrderMeta> {
        self.markets.iter().find_map(|(&market, m)| m.book.order(id).map(|o| OrderMeta::of(market, &o)))
    }

    /// Fees collected in an asset.
    pub fn fees_collected(&self, asset: AssetId) -> u128 {
        self.fees.get(&asset).copied().unwrap_or(0)
    }

    /// Withdrawals queued for L1, oldest first.
    pub fn withdrawals(&self) -> &[Withdrawal] {
        &self.withdrawals
    }

    /// Withdrawals ever queued (the number the next one gets, counting from 0). Natively
    /// `withdrawals()[n]` is number `n`; in a witness-built state `withdrawals()` holds only the
    /// batch's, numbered from the pre-state's count.
    pub fn withdrawal_count(&self) -> u64 {
        self.withdrawal_count
    }

    /// Applies a batch: [`ExchangeState::begin_batch`], then [`ExchangeState::apply`] on each
    /// command in order, receipting each. `state_root` is the caller's view of the current root
    /// (the commitment computes it); the header must name it.
    pub fn apply_batch(
        &mut self,
        crypto: &impl Crypto,
        header: &BatchHeader,
        state_root: [u8; 32],
        commands: &[Command],
    ) -> Result<Vec<Receipt>, BatchError> {
        if commands.len() > MAX_BATCH_COMMANDS {
            return Err(BatchError::TooManyCommands);
        }
        self.begin_batch(header, state_root)?;
        Ok(commands.iter().map(|c| self.apply(crypto, c)).collect())
    }

    /// Opens a batch: checks the header against the state (next batch number, time never going
    /// back, `state_root` named as the previous root) and takes its number and time. The node
    /// calls this when it opens a batch and then [`ExchangeState::apply`] on each command as it
    /// arrives; the result is the same as [`ExchangeState::apply_batch`] on the whole batch.
    pub fn begin_batch(&mut self, header: &BatchHeader, state_root: [u8; 32]) -> Result<(), BatchError> {
        if header.batch_number != self.batch_number + 1 {
            return Err(BatchError::WrongBatchNumber {
                current: self.batch_number,
                got: header.batch_number,
            });
        }
        if header.timestamp < self.timestamp {
            return Err(BatchError::TimeWentBack);
        }
        if header.prev_root != state_root {
            return Err(BatchError::WrongPrevRoot);
        }
        self.batch_number = header.batch_number;
        self.timestamp = header.timestamp;
        Ok(())
    }

    /// Advances one market's book to the batch time and settles its expiries. Runs before every
    /// command that names the market, whatever the command's outcome, so the first command of a
    /// batch that names a market moves its time and no command ever sees time move under it (a
    /// rejected command truly changes nothing). The time a market moves is thus a function of the
    /// command sequence alone, which lets the node apply commands one by one as they arrive
    /// without knowing the rest of the batch. Markets a batch never names keep expired GTD orders
    /// until a later batch names them (they can never trade: a book expires due orders before it
    /// matches), which keeps a batch's effects within what its witness holds.
    fn advance_market(&mut self, id: MarketId) {
        let now = self.timestamp;
        let Some(m) = self.markets.get_mut(&id) else { return };
        let due = m.book.advance_time(now);
        // The common case — nothing due — allocates nothing.
        if due.is_empty() {
            return;
        }
        let events = due.to_vec();
        self.settle_events(id, &events, None);
    }

    /// Applies one command; the receipt says what happened.
    pub fn apply(&mut self, crypto: &impl Crypto, command: &Command) -> Receipt {
        self.apply_prepared(crypto, command, None)
    }

    /// [`ExchangeState::apply`] for a caller that already derived the signer's address of a
    /// signed command (`signer` must be `crypto.address_of` of its public key; it is ignored for
    /// a deposit): the address is then not derived again.
    pub fn apply_by(&mut self, crypto: &impl Crypto, command: &Command, signer: Address) -> Receipt {
        let prepared = Prepared { address: signer, action: None, account: None };
        self.apply_prepared(crypto, command, Some(&prepared))
    }

    /// [`ExchangeState::apply`] with what the caller already derived for a signed command (its
    /// signer's address and signing hash; ignored for a deposit). The witness path derives both
    /// once per command (the address while checking the witness, the hash from the received
    /// bytes) instead of again here.
    pub(crate) fn apply_prepared(
        &mut self,
        crypto: &impl Crypto,
        command: &Command,
        prepared: Option<&Prepared<'_>>,
    ) -> Receipt {
        if let Some(market) = command_market(command) {
            self.advance_market(market);
        }
        let result = match command {
            Command::Deposit { to, asset, amount } => self.deposit(crypto, *to, *asset, *amount),
            Command::Signed(cmd) => self.apply_signed(crypto, cmd, prepared),
        };
        match result {
            Ok(applied) => Receipt::Applied(applied),
            Err(code) => Receipt::Rejected(code),
        }
    }

    fn deposit(
        &mut self,
        crypto: &impl Crypto,
        to: Address,
        asset: AssetId,
        amount: Amount,
    ) -> Result<Applied, RejectCode> {
        if amount.0 == 0 {
            return Err(RejectCode::ZeroAmount);
        }
        let total = self.deposited.get(&asset).copied().unwrap_or(0);
        let new_total = total.checked_add(amount.0).ok_or(RejectCode::Overflow)?;
        let existing = self.by_address.get(&to).copied();
        if let Some(id) = existing {
            let held = self.acct(id).balances.get(&asset).map_or(0, |b| b.available);
            held.checked_add(amount.0).ok_or(RejectCode::Overflow)?;
        } else if self.account_count >= 1 << crate::commitment::ID_BITS {
            return Err(RejectCode::Overflow);
        }
        let id = existing.unwrap_or_else(|| self.create_account(crypto, to));
        self.balance_mut(id, asset).available += amount.0;
        self.deposited.insert(asset, new_total);
        Ok(Applied { order_id: None, filled: Qty(0), resting: Qty(0), fills: 0 })
    }

    fn create_account(&mut self, crypto: &impl Crypto, address: Address) -> AccountId {
        let id = AccountId(self.account_count);
        self.account_count += 1;
        self.accounts.insert(id, Account { address, nonce: 0, balances: Balances::default() });
        self.by_address.insert(address, id);
        let bucket = crate::commitment::bucket_of(crypto, &address);
        let entries = self.buckets.entry(bucket).or_default();
        let pos = entries.partition_point(|(a, _)| *a < address);
        entries.insert(pos, (address, id));
        self.dirty_buckets.push(bucket);
        self.touch_account(id);
        id
    }

    /// Checks signature and nonce, applies the action, and consumes the nonce only on success.
    fn apply_signed(
        &mut self,
        crypto: &impl Crypto,
        cmd: &SignedCommand,
        prepared: Option<&Prepared<'_>>,
    ) -> Result<Applied, RejectCode> {
        let address = match prepared {
            Some(p) => p.address,
            None => crypto.address_of(&cmd.signer),
        };
        let chain_id = self.chain_id;
        let signed_bytes = prepared.and_then(|p| p.action);
        let prehash = || match signed_bytes {
            Some(action) => signing_hash_encoded(crypto, chain_id, cmd.nonce, action),
            None => signing_hash(crypto, chain_id, cmd.nonce, &cmd.action),
        };
        if !crypto.secp256k1_verify_hashed(&cmd.signer, &cmd.signature, prehash) {
            return Err(RejectCode::BadSignature);
        }
        if let Action::AddMarket { spec, fees } = &cmd.action {
            // The operator needs no deposit to act; it has no account nonce either way, so its
            // commands are protected from replay by the market id being taken afterwards.
            if address != self.operator {
                return Err(RejectCode::NotOperator);
            }
            return self.add_market(*spec, *fees);
        }
        let known = prepared.and_then(|p| p.account);
        let id = match known {
            Some(id) => id,
            None => *self.by_address.get(&address).ok_or(RejectCode::UnknownAccount)?,
        };
        // Looked up mutably: the account table then tries this account first in the command's
        // later lookups (balance check, lock, nonce increment).
        let expected = self.acct_mut(id).nonce;
        if cmd.nonce < expected {
            return Err(RejectCode::NonceReused { expected });
        }
        if cmd.nonce > expected {
            return Err(RejectCode::NonceGap { expected });
        }
        let applied = match &cmd.action {
            Action::Place(p) => self.place(id, p),
            Action::Cancel { market, order_id } => self.cancel(id, *market, *order_id),
            Action::Amend { market, order_id, price, qty } => {
                self.amend(id, *market, *order_id, *price, *qty)
            }
            Action::MassCancel { market, side } => self.mass_cancel(id, *market, *side),
            Action::Withdraw { asset, amount } => self.withdraw(crypto, id, *asset, *amount),
            Action::CollectFees { asset, amount } if address == self.operator => {
                self.collect_fees(id, *asset, *amount)
            }
            Action::AddMarket { .. } | Action::CollectFees { .. } => Err(RejectCode::NotOperator),
        }?;
        self.acct_mut(id).nonce += 1;
        self.touch_account(id);
        Ok(applied)
    }

    fn add_market(&mut self, spec: MarketSpec, fees: FeeSchedule) -> Result<Applied, RejectCode> {
        if self.markets.contains_key(&spec.market_id) {
            return Err(RejectCode::MarketExists);
        }
        if spec.market_id.0 as u64 >= 1 << crate::commitment::ID_BITS {
            return Err(RejectCode::InvalidSpec);
        }
        spec.validate().map_err(|_| RejectCode::InvalidSpec)?;
        if fees.maker_bps > MAX_FEE_BPS || fees.taker_bps > MAX_FEE_BPS {
            return Err(RejectCode::InvalidFees);
        }
        // Fees on the largest possible amounts must be computable.
        let max_quote =
            spec.quote_amount(spec.max_price, spec.max_qty).map_err(|_| RejectCode::InvalidSpec)?;
        let max_base = spec.base_amount(spec.max_qty).map_err(|_| RejectCode::InvalidSpec)?;
        if fee_atoms(max_quote.0, MAX_FEE_BPS).is_none() || fee_atoms(max_base.0, MAX_FEE_BPS).is_none() {
            return Err(RejectCode::InvalidSpec);
        }
        let book = Book::new(spec, BookLimits::default());
        self.markets.insert(spec.market_id, Market { spec, fees, book });
        self.touch_market(spec.market_id);
        Ok(Applied { order_id: None, filled: Qty(0), resting: Qty(0), fills: 0 })
    }

    fn withdraw(
        &mut self,
        crypto: &impl Crypto,
        id: AccountId,
        asset: AssetId,
        amount: Amount,
    ) -> Result<Applied, RejectCode> {
        if amount.0 == 0 {
            return Err(RejectCode::ZeroAmount);
        }
        let account = self.acct_mut(id);
        let bal = account.balances.get_mut(&asset).ok_or(RejectCode::InsufficientBalance)?;
        bal.available = bal.available.checked_sub(amount.0).ok_or(RejectCode::InsufficientBalance)?;
        let to = account.address;
        *self.withdrawn.entry(asset) += amount.0;
        let w = Withdrawal { to, asset, amount };
        self.withdrawal_chain = crypto.keccak256(&withdrawal_link(&self.withdrawal_chain, &w));
        self.withdrawals.push(w);
        self.withdrawal_count += 1;
        self.touch_account(id);
        Ok(Applied { order_id: None, filled: Qty(0), resting: Qty(0), fills: 0 })
    }

    /// Moves `amount` of the fees collected in `asset` into account `id` (the operator's).
    fn collect_fees(&mut self, id: AccountId, asset: AssetId, amount: Amount) -> Result<Applied, RejectCode> {
        if amount.0 == 0 {
            return Err(RejectCode::ZeroAmount);
        }
        let pool = self.fees.get(&asset).copied().unwrap_or(0);
        let left = pool.checked_sub(amount.0).ok_or(RejectCode::InsufficientBalance)?;
        let held = self.available(id, asset);
        held.checked_add(amount.0).ok_or(RejectCode::Overflow)?;
        self.fees.insert(asset, left);
        self.balance_mut(id, asset).available += amount.0;
        self.touch_account(id);
        Ok(Applied { order_id: None, filled: Qty(0), resting: Qty(0), fills: 0 })
    }

    /// The asset and atoms an order of `qty` lots at `price` on `side` locks.
    fn lock_need(
        spec: &MarketSpec,
        side: Side,
        price: Price,
        qty: Qty,
    ) -> Result<(AssetId, u128), RejectCode> {
        match side {
            Side::Buy => spec
                .quote_amount(price, qty)
                .map(|a| (spec.quote_asset, a.0))
                .map_err(|_| RejectCode::Overflow),
            Side::Sell => {
                spec.base_amount(qty).map(|a| (spec.base_asset, a.0)).map_err(|_| RejectCode::Overflow)
            }
        }
    }

    fn available(&self, id: AccountId, asset: AssetId) -> u128 {
        self.acct(id).balances.get(&asset).map_or(0, |b| b.available)
    }

    fn place(&mut self, id: AccountId, p: &OrderParams) -> Result<Applied, RejectCode> {
        let market = self.markets.get(&p.market).ok_or(RejectCode::UnknownMarket)?;
        // Validate what the lock needs before computing it; the book re-checks everything.
        market.spec.check_qty(p.qty).map_err(|e| RejectCode::Book(e.into()))?;
        market.spec.check_price(p.price).map_err(|e| RejectCode::Book(e.into()))?;
        let (asset, need) = Self::lock_need(&market.spec, p.side, p.price, p.qty)?;
        if self.available(id, asset) < need {
            return Err(RejectCode::InsufficientBalance);
        }
        let order_id = OrderId(self.next_order_id);
        let order = NewOrder {
            id: order_id,
            account: id,
            side: p.side,
            kind: p.kind,
            price: p.price,
            qty: p.qty,
            tif: p.tif,
            post_only: p.post_only,
            display_qty: p.display_qty,
            stp: p.stp,
        };
        let applied = self.book_action(p.market, None, |book, now| book.place(order, now))?;
        self.next_order_id += 1;
        Ok(applied)
    }

    /// Runs one action on a market's book at the batch time: a rejection becomes the command's
    /// reject code (the book changed nothing); otherwise the events are settled into balances.
    /// `amended` is the order an amendment names, as it was before (its lock moves).
    fn book_action(
        &mut self,
        market: MarketId,
        amended: Option<&OrderMeta>,
        act: impl FnOnce(&mut Book, Timestamp) -> &[Event],
    ) -> Result<Applied, RejectCode> {
        let now = self.timestamp;
        let m = self.markets.get_mut(&market).ok_or(RejectCode::UnknownMarket)?;
        let mut events = core::mem::take(&mut self.scratch);
        events.clear();
        act(&mut m.book, now);
        // The events change hands instead of being copied (a place's three or more events are
        // ~200 bytes); the book gets this buffer back, empty, for its next action.
        m.book.swap_events(&mut events);
        // Every book action moves the book's clock (and may expire GTD orders) even when it
        // emits nothing or is rejected: the market's leaf must be re-hashed either way, or the
        // incremental root would miss the change (found by the node's settler: a mass cancel
        // on an empty book gave the full state and the witness-built state different roots).
        self.touch_market(market);
        let result = match events.first() {
            Some(Event::Rejected { reason, .. }) => Err(RejectCode::Book(*reason)),
            _ => Ok(self.settle_events(market, &events, amended)),
        };
        self.scratch = events;
        result
    }

    fn owned(&self, id: AccountId, market: MarketId, order_id: OrderId) -> Result<OrderMeta, RejectCode> {
        let m = self.markets.get(&market).ok_or(RejectCode::UnknownMarket)?;
        // Only the named market is consulted, so the outcome never depends on other markets.
        match m.book.order(order_id) {
            Some(o) if o.account == id => Ok(OrderMeta::of(market, &o)),
            Some(_) => Err(RejectCode::NotYourOrder),
            None => Err(RejectCode::Book(zkclob_book::RejectReason::UnknownOrder)),
        }
    }

    fn cancel(&mut self, id: AccountId, market: MarketId, order_id: OrderId) -> Result<Applied, RejectCode> {
        self.owned(id, market, order_id)?;
        let mut applied = self.book_action(market, None, |book, now| book.cancel(order_id, id, now))?;
        applied.order_id = Some(order_id);
        Ok(applied)
    }

    fn mass_cancel(
        &mut self,
        id: AccountId,
        market: MarketId,
        side: Option<Side>,
    ) -> Result<Applied, RejectCode> {
        self.book_action(market, None, |book, now| book.mass_cancel(id, side, now))
    }

    fn amend(
        &mut self,
        id: AccountId,
        market: MarketId,
        order_id: OrderId,
        price: Price,
        qty: Qty,
    ) -> Result<Applied, RejectCode> {
        let meta = self.owned(id, market, order_id)?;
        let spec = self.markets.get(&market).map(|m| m.spec).ok_or(RejectCode::UnknownMarket)?;
        spec.check_price(price).map_err(|e| RejectCode::Book(e.into()))?;
        let (asset, old_need) = Self::lock_need(&spec, meta.side, meta.price, meta.remaining)?;
        let (_, new_need) = Self::lock_need(&spec, meta.side, price, qty)?;
        if new_need > old_need && self.available(id, asset) < new_need - old_need {
            return Err(RejectCode::InsufficientBalance);
        }
        let mut applied =
            self.book_action(market, Some(&meta), |book, now| book.amend(order_id, id, price, qty, now))?;
        applied.order_id = Some(order_id);
        Ok(applied)
    }

    /// Applies the balance effects of a book action's events and summarises them. `amended` is
    /// the order an amendment names, as it was before (see [`ExchangeState::book_action`]).
    fn settle_events(&mut self, market: MarketId, events: &[Event], amended: Option<&OrderMeta>) -> Applied {
        if !events.is_empty() {
            self.touch_market(market);
        }
        if let Some(log) = &mut self.event_log {
            log.extend(events.iter().map(|e| (market, *e)));
        }
        let mut applied = Applied { order_id: None, filled: Qty(0), resting: Qty(0), fills: 0 };
        let Some(&Market { spec, fees, .. }) = self.markets.get(&market) else { return applied };
        // The limit price of the order taking liquidity: fills lock and release at it.
        let mut taker_price = Price(0);
        for e in events {
            match *e {
                Event::Accepted { order_id, account, side, price, qty } => {
                    applied.order_id = Some(order_id);
                    taker_price = price;
                    self.lock(&spec, account, side, price, qty);
                }
                Event::Fill(f) => {
                    applied.fills += 1;
                    applied.filled = Qty(applied.filled.0 + f.qty.0);
                    self.settle_fill(&spec, fees, &f, taker_price);
                }
                Event::Cancelled { account, side, price, cancelled, .. } => {
                    self.release(&spec, account, side, price, cancelled)
                }
                Event::Expired { account, side, price, remaining, .. } => {
                    self.release(&spec, account, side, price, remaining)
                }
                Event::Amended { price, qty, .. } => {
                    taker_price = price;
                    if let Some(old) = amended {
                        self.release(&spec, old.account, old.side, old.price, old.remaining);
                        self.lock(&spec, old.account, old.side, price, qty);
                    }
                }
                Event::Done { resting, .. } => applied.resting = resting,
                Event::Rejected { .. } => {}
            }
        }
        applied
    }

    fn balance_mut(&mut self, account: AccountId, asset: AssetId) -> &mut Balance {
        self.touch_account(account);
        self.acct_mut(account).balances.entry(asset)
    }

    /// Locks what `qty` lots at `price` on `side` need (checked computable and available before
    /// the book acted).
    fn lock(&mut self, spec: &MarketSpec, account: AccountId, side: Side, price: Price, qty: Qty) {
        let Ok((asset, need)) = Self::lock_need(spec, side, price, qty) else { return };
        let bal = self.balance_mut(account, asset);
        debug_assert!(bal.available >= need);
        bal.available -= need;
        bal.locked += need;
    }

    /// Unlocks what `qty` lots at `price` on `side` held.
    fn release(&mut self, spec: &MarketSpec, account: AccountId, side: Side, price: Price, qty: Qty) {
        if let Ok((asset, amount)) = Self::lock_need(spec, side, price, qty) {
            let bal = self.balance_mut(account, asset);
            bal.locked -= amount;
            bal.available += amount;
        }
    }

    /// Moves the assets of one fill between maker, taker and the fee account.
    /// `taker_price` is the taking order's limit price (the maker's is the trade price).
    fn settle_fill(&mut self, spec: &MarketSpec, fees: FeeSchedule, f: &Fill, taker_price: Price) {
        // (buyer, its limit price, seller, buyer's fee, seller's fee)
        let (buyer, buyer_price, seller, buyer_bps, seller_bps) = match f.taker_side {
            Side::Buy => (f.taker_account, taker_price, f.maker_account, fees.taker_bps, fees.maker_bps),
            Side::Sell => (f.maker_account, f.price, f.taker_account, fees.maker_bps, fees.taker_bps),
        };
        // Validated at market creation: these amounts and their fees fit.
        let base = spec.base_amount(f.qty).map_or(0, |a| a.0);
        let quote = spec.quote_amount(f.price, f.qty).map_or(0, |a| a.0);
        let buyer_locked = spec.quote_amount(buyer_price, f.qty).map_or(0, |a| a.0);
        let fee_base = fee_atoms(base, buyer_bps).unwrap_or(0);
        let fee_quote = fee_atoms(quote, seller_bps).unwrap_or(0);
        // One account lookup per side of the trade.
        self.touch_account(buyer);
        let b = self.acct_mut(buyer);
        {
            let q = b.balances.entry(spec.quote_asset);
            q.locked -= buyer_locked;
            q.available += buyer_locked - quote; // price improvement comes back
        }
        b.balances.entry(spec.base_asset).available += base - fee_base;
        self.touch_account(seller);
        let s = self.acct_mut(seller);
        s.balances.entry(spec.base_asset).locked -= base;
        s.balances.entry(spec.quote_asset).available += quote - fee_quote;
        *self.fees.entry(spec.base_asset) += fee_base;
        *self.fees.entry(spec.quote_asset) += fee_quote;
    }
}

#[cfg(test)]
mod tests {
    use super::{fee_atoms, withdrawal_link, Withdrawal};
    use crate::crypto::Address;
    use zkclob_core::{Amount, AssetId};

    #[test]
    fn a_withdrawal_link_is_the_chain_then_the_borsh_encoding() {
        let w =
            Withdrawal { to: Address([7; 20]), asset: AssetId(0x0102_0304), amount: Amount(u128::MAX - 5) };
        let chain = [9u8; 32];
        let mut expected = chain.to_vec();
        expected.extend_from_slice(&zkclob_core::codec::encode(&w));
        assert_eq!(withdrawal_link(&chain, &w).to_vec(), expected);
    }

    #[test]
    fn fee_atoms_rounds_up_on_both_sides_of_64_bits() {
        let reference = |amount: u128, bps: u16| amount.checked_mul(bps as u128).map(|s| s.div_ceil(10_000));
        let edges =
            [0, 1, 9_999, 10_000, 10_001, u64::MAX as u128 / 7, u64::MAX as u128, u64::MAX as u128 + 1];
        for amount in edges.into_iter().chain((0..64).map(|k| (1u128 << 64) / 10_000 * k + k)) {
            for bps in [0, 1, 2, 5, 7, 1_000, 10_000, u16::MAX] {
                assert_eq!(fee_atoms(amount, bps), reference(amount, bps), "{amount} × {bps}");
            }
        }
        assert_eq!(fee_atoms(u128::MAX, 2), None);
        assert_eq!(fee_atoms(10_001, 1), Some(2));
    }
}
