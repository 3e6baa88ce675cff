//! A small L1 block producer over revm: an in-memory state, funded dev accounts, one block per
//! transaction, blob (type-3) transactions whose blobs are checked and kept like a consensus
//! client keeps sidecars, receipts with gas and logs.
//!
//! It runs mainnet rules of the Osaka fork (revm's default spec): `BLOBHASH` sees a blob
//! transaction's versioned hashes, the point-evaluation precompile (0x0a) is live, at most
//! [`MAX_BLOBS_PER_TX`] blobs per transaction (EIP-7594) and 2^24 gas per transaction
//! (EIP-7825). Fees: the base fee is zero (gas is metered and reported, not paid in ETH) and the
//! blob base fee is its minimum, 1 wei per blob gas.
//!
//! ```
//! use alloy_primitives::U256;
//! use zkclob_rollup::l1::chain::{DevChain, TxRequest};
//! let mut chain = DevChain::new();
//! let [alice, bob] = [chain.dev_account(0), chain.dev_account(1)];
//! let receipt = chain.send(TxRequest::call(alice, bob).value(U256::from(1_000))).unwrap();
//! assert!(receipt.is_success());
//! assert_eq!(receipt.gas_used, 21_000);
//! assert_eq!(chain.block_number(), 1);
//! ```

use std::collections::HashMap;
use std::string::{String, ToString};
use std::sync::Once;
use std::vec::Vec;

use alloy_primitives::{keccak256, Address, Bytes, Log, B256, U256};
use revm::context::{BlockEnv, TxEnv};
use revm::context_interface::block::BlobExcessGasAndPrice;
use revm::context_interface::result::ExecutionResult;
use revm::database::InMemoryDB;
use revm::database_interface::DatabaseRef;
use revm::primitives::eip4844::BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE;
use revm::primitives::TxKind;
use revm::state::AccountInfo;
use revm::{Context, ExecuteCommitEvm, ExecuteEvm, MainBuilder, MainContext};
use thiserror::Error;

use crate::blob::Blob;
use crate::kzg::{BlobSidecar, KzgError};

/// Blobs one transaction may carry (EIP-7594, Osaka).
pub const MAX_BLOBS_PER_TX: usize = 6;
/// Gas limit of every block.
pub const BLOCK_GAS_LIMIT: u64 = 60_000_000;
/// Gas limit given to every transaction: the Osaka cap (EIP-7825).
pub const TX_GAS_LIMIT: u64 = 1 << 24;
/// Dev accounts funded at genesis.
pub const DEV_ACCOUNTS: usize = 10;
/// Genesis balance of each dev account: 10,000 ETH.
pub const DEV_BALANCE_WEI: u128 = 10_000 * 1_000_000_000_000_000_000;
/// Chain id unless configured otherwise (the usual local-devnet id).
pub const DEFAULT_CHAIN_ID: u64 = 31_337;
/// Seconds between blocks.
pub const BLOCK_TIME_S: u64 = 12;
/// Timestamp of block 0.
pub const GENESIS_TIMESTAMP_S: u64 = 1_767_225_600;

/// Why a transaction was not included (it changed nothing, not even a nonce).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ChainError {
    /// revm refused the transaction before execution (nonce, balance, gas, blob rules).
    #[error("transaction refused: {0}")]
    Invalid(String),
    /// More blobs than [`MAX_BLOBS_PER_TX`].
    #[error("{0} blobs; a transaction carries at most {MAX_BLOBS_PER_TX}")]
    TooManyBlobs(usize),
    /// A blob sidecar does not verify against its commitment and versioned hash.
    #[error("blob sidecar {index} does not verify: {source}")]
    BadSidecar {
        /// Position in the transaction.
        index: usize,
        /// What failed.
        source: KzgError,
    },
    /// The chain's transaction log could not be written (see [`DevChain::open_logged`]): the
    /// change is in memory but not durable, and the chain refuses everything after it.
    #[error("L1 transaction log: {0}")]
    Log(String),
    /// The JSON-RPC node could not be reached or answered with an error.
    #[error("L1 JSON-RPC: {0}")]
    Rpc(String),
}

/// A transaction to send: `to = None` creates a contract from `data`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxRequest {
    /// Sender.
    pub from: Address,
    /// Callee, or `None` to create.
    pub to: Option<Address>,
    /// Wei sent along.
    pub value: U256,
    /// Calldata, or creation code with constructor arguments.
    pub data: Bytes,
}

impl TxRequest {
    /// A call from `from` to `to`, no value, no data.
    pub fn call(from: Address, to: Address) -> TxRequest {
        TxRequest { from, to: Some(to), value: U256::ZERO, data: Bytes::new() }
    }

    /// A contract creation from `from` with creation code `code`.
    pub fn create(from: Address, code: impl Into<Bytes>) -> TxRequest {
        TxRequest { from, to: None, value: U256::ZERO, data: code.into() }
    }

    /// With calldata.
    pub fn data(mut self, data: impl Into<Bytes>) -> TxRequest {
        self.data = data.into();
        self
    }

    /// With value, in wei.
    pub fn value(mut self, wei: U256) -> TxRequest {
        self.value = wei;
        self
    }
}

/// How an included transaction ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It succeeded.
    Success {
        /// Return data (the runtime code for a creation).
        output: Bytes,
        /// The created contract, for a creation.
        created: Option<Address>,
    },
    /// It reverted with `data` (an ABI-encoded error).
    Revert {
        /// Revert data.
        data: Bytes,
    },
    /// It halted (out of gas, invalid opcode, ...).
    Halt {
        /// revm's reason.
        reason: String,
    },
}

/// An included transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// Block it was included in (each transaction has its own block).
    pub block: u64,
    /// That block's timestamp, in seconds.
    pub timestamp_s: u64,
    /// Sender.
    pub from: Address,
    /// Callee (`None` for a creation).
    pub to: Option<Address>,
    /// How it ended.
    pub outcome: Outcome,
    /// Gas used, as a receipt reports it (after refunds and the EIP-7623 floor).
    pub gas_used: u64,
    /// Blob gas used (131,072 per blob).
    pub blob_gas_used: u64,
    /// Logs (empty unless it succeeded).
    pub logs: Vec<Log>,
}

impl Receipt {
    /// Whether it succeeded.
    pub fn is_success(&self) -> bool {
        matches!(self.outcome, Outcome::Success { .. })
    }
}

/// What the rollup's L1 client ([`super::L1`]) and derivation need from a chain. Implemented by
/// the in-process [`DevChain`] and, with the `json-rpc` feature, by
/// [`RpcChain`](super::rpc::RpcChain): an Ethereum node reached over JSON-RPC.
pub trait Chain: Send {
    /// Chain id.
    fn chain_id(&self) -> u64;
    /// Number of the last block.
    fn head(&self) -> Result<u64, ChainError>;
    /// Accounts this client can send from, in a fixed order (dev accounts, or configured keys).
    fn accounts(&self) -> Vec<Address>;
    /// Sends `tx` and waits for its receipt. A transaction that reverts comes back with an
    /// [`Outcome::Revert`] receipt (included on the dev chain; see `RpcChain` for JSON-RPC).
    fn send_tx(&mut self, tx: TxRequest) -> Result<Receipt, ChainError>;
    /// Sends `tx` as a blob transaction carrying `sidecars`.
    fn send_blob_tx(&mut self, tx: TxRequest, sidecars: &[BlobSidecar]) -> Result<Receipt, ChainError>;
    /// Runs `tx` against the head's state without including it (`eth_call`).
    fn call_tx(&self, tx: TxRequest) -> Result<Outcome, ChainError>;
    /// Balance of `address`, wei.
    fn balance_of(&self, address: Address) -> Result<U256, ChainError>;
    /// The logs `address` emitted in blocks `from..=to`, grouped by transaction, in chain order
    /// (each as a [`Receipt`] whose `logs` are that emitter's).
    fn logs(&self, address: Address, from: u64, to: u64) -> Result<Vec<Receipt>, ChainError>;
    /// The blob with this versioned hash, if this client has it (sent it, or an archive).
    fn blob_by_hash(&self, versioned_hash: &B256) -> Option<Blob>;
    /// Sets `address`'s balance on a development chain (a faucet); a production node refuses.
    fn dev_set_balance(&mut self, address: Address, wei: U256) -> Result<(), ChainError>;
}

impl Chain for DevChain {
    fn chain_id(&self) -> u64 {
        self.chain_id
    }

    fn head(&self) -> Result<u64, ChainError> {
        Ok(self.block_number())
    }

    fn accounts(&self) -> Vec<Address> {
        self.dev_accounts.clone()
    }

    fn send_tx(&mut self, tx: TxRequest) -> Result<Receipt, ChainError> {
        self.send(tx)
    }

    fn send_blob_tx(&mut self, tx: TxRequest, sidecars: &[BlobSidecar]) -> Result<Receipt, ChainError> {
        self.send_with_blobs(tx, sidecars)
    }

    fn call_tx(&self, tx: TxRequest) -> Result<Outcome, ChainError> {
        self.call(tx)
    }

    fn balance_of(&self, address: Address) -> Result<U256, ChainError> {
        Ok(self.balance(address))
    }

    fn logs(&self, address: Address, from: u64, to: u64) -> Result<Vec<Receipt>, ChainError> {
        // Receipts are in block order: skip the older ones without reading them (a node's bridge
        // asks after every transaction it sends).
        let start = self.receipts.partition_point(|r| r.block < from);
        Ok(self.receipts[start..]
            .iter()
            .take_while(|r| r.block <= to)
            .filter_map(|r| {
                let logs: Vec<Log> = r.logs.iter().filter(|l| l.address == address).cloned().collect();
                (!logs.is_empty()).then(|| Receipt { logs, ..r.clone() })
            })
            .collect())
    }

    fn blob_by_hash(&self, versioned_hash: &B256) -> Option<Blob> {
        self.blob(versioned_hash).cloned()
    }

    fn dev_set_balance(&mut self, address: Address, wei: U256) -> Result<(), ChainError> {
        self.fund(address, wei);
        self.check_log()
    }
}

impl<C: Chain + ?Sized> Chain for Box<C> {
    fn chain_id(&self) -> u64 {
        (**self).chain_id()
    }
    fn head(&self) -> Result<u64, ChainError> {
        (**self).head()
    }
    fn accounts(&self) -> Vec<Address> {
        (**self).accounts()
    }
    fn send_tx(&mut self, tx: TxRequest) -> Result<Receipt, ChainError> {
        (**self).send_tx(tx)
    }
    fn send_blob_tx(&mut self, tx: TxRequest, sidecars: &[BlobSidecar]) -> Result<Receipt, ChainError> {
        (**self).send_blob_tx(tx, sidecars)
    }
    fn call_tx(&self, tx: TxRequest) -> Result<Outcome, ChainError> {
        (**self).call_tx(tx)
    }
    fn balance_of(&self, address: Address) -> Result<U256, ChainError> {
        (**self).balance_of(address)
    }
    fn logs(&self, address: Address, from: u64, to: u64) -> Result<Vec<Receipt>, ChainError> {
        (**self).logs(address, from, to)
    }
    fn blob_by_hash(&self, versioned_hash: &B256) -> Option<Blob> {
        (**self).blob_by_hash(versioned_hash)
    }
    fn dev_set_balance(&mut self, address: Address, wei: U256) -> Result<(), ChainError> {
        (**self).dev_set_balance(address, wei)
    }
}

/// The in-memory L1. See the module docs.
#[derive(Debug)]
pub struct DevChain {
    db: InMemoryDB,
    chain_id: u64,
    head: BlockEnv,
    dev_accounts: Vec<Address>,
    receipts: Vec<Receipt>,
    blobs: HashMap<B256, Blob>,
    /// The durable log, for a chain opened with [`DevChain::open_logged`].
    pub(super) log: Option<super::txlog::TxLog>,
    /// Set when a log append failed: later changes are refused.
    log_failed: Option<String>,
}

impl Default for DevChain {
    fn default() -> Self {
        DevChain::new()
    }
}

impl DevChain {
    /// A chain at block 0 with [`DEV_ACCOUNTS`] funded accounts and the default chain id.
    pub fn new() -> DevChain {
        DevChain::with_chain_id(DEFAULT_CHAIN_ID)
    }

    /// A chain at block 0 with [`DEV_ACCOUNTS`] funded accounts and chain id `chain_id`.
    pub fn with_chain_id(chain_id: u64) -> DevChain {
        install_kzg_backend();
        let head = BlockEnv {
            number: U256::ZERO,
            timestamp: U256::from(GENESIS_TIMESTAMP_S),
            gas_limit: BLOCK_GAS_LIMIT,
            basefee: 0,
            prevrandao: Some(B256::ZERO),
            blob_excess_gas_and_price: Some(BlobExcessGasAndPrice::new(
                0,
                BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE,
            )),
            ..BlockEnv::default()
        };
        let mut chain = DevChain {
            db: InMemoryDB::default(),
            chain_id,
            head,
            dev_accounts: Vec::new(),
            receipts: Vec::new(),
            blobs: HashMap::new(),
            log: None,
            log_failed: None,
        };
        for i in 0..DEV_ACCOUNTS {
            // Fixed, recognisable addresses: keccak("zkclob dev account" ‖ i)[12..].
            let seed = [b"zkclob dev account".as_slice(), &[i as u8]].concat();
            let address = Address::from_slice(&keccak256(seed)[12..]);
            chain.fund(address, U256::from(DEV_BALANCE_WEI));
            chain.dev_accounts.push(address);
        }
        chain
    }

    /// Dev account `i` (`i < DEV_ACCOUNTS`), funded with [`DEV_BALANCE_WEI`] at genesis.
    ///
    /// # Panics
    /// If `i >= DEV_ACCOUNTS` (a test bug).
    pub fn dev_account(&self, i: usize) -> Address {
        self.dev_accounts[i]
    }

    /// Sets `address`'s balance to `wei` (a genesis allocation or a faucet).
    pub fn fund(&mut self, address: Address, wei: U256) {
        self.fund_unlogged(address, wei);
        if let Err(e) = self.log_fund(address, wei) {
            self.log_failed = Some(e.to_string());
        }
    }

    pub(super) fn fund_unlogged(&mut self, address: Address, wei: U256) {
        let mut info = self.account(address).unwrap_or_default();
        info.balance = wei;
        self.db.insert_account_info(address, info);
    }

    fn account(&self, address: Address) -> Option<AccountInfo> {
        self.db.basic_ref(address).ok().flatten()
    }

    /// Balance of `address`, in wei.
    pub fn balance(&self, address: Address) -> U256 {
        self.account(address).map_or(U256::ZERO, |a| a.balance)
    }

    /// Next nonce of `address`.
    pub fn nonce(&self, address: Address) -> u64 {
        self.account(address).map_or(0, |a| a.nonce)
    }

    /// Chain id.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// Number of the last block.
    pub fn block_number(&self) -> u64 {
        self.head.number.saturating_to()
    }

    /// Timestamp of the last block, in seconds.
    pub fn timestamp_s(&self) -> u64 {
        self.head.timestamp.saturating_to()
    }

    /// Mines `n` empty blocks.
    pub fn mine_empty(&mut self, n: u64) {
        self.mine_unlogged(n);
        if let Err(e) = self.log_mine(n) {
            self.log_failed = Some(e.to_string());
        }
    }

    pub(super) fn mine_unlogged(&mut self, n: u64) {
        self.head.number += U256::from(n);
        self.head.timestamp += U256::from(n * BLOCK_TIME_S);
    }

    /// Every receipt so far, in inclusion order.
    pub fn receipts(&self) -> &[Receipt] {
        &self.receipts
    }

    /// The blob with this versioned hash, if a transaction carried it (what a beacon node's blob
    /// API serves; here kept forever).
    pub fn blob(&self, versioned_hash: &B256) -> Option<&Blob> {
        self.blobs.get(versioned_hash)
    }

    fn next_block(&self) -> BlockEnv {
        let mut block = self.head.clone();
        block.number += U256::from(1);
        block.timestamp += U256::from(BLOCK_TIME_S);
        block.prevrandao = Some(keccak256(block.number.to_be_bytes::<32>()));
        block
    }

    fn tx_env(&self, tx: &TxRequest, blob_hashes: Vec<B256>) -> TxEnv {
        let kind = tx.to.map_or(TxKind::Create, TxKind::Call);
        let blob_tx = !blob_hashes.is_empty();
        TxEnv {
            tx_type: if blob_tx { 3 } else { 2 },
            caller: tx.from,
            gas_limit: TX_GAS_LIMIT,
            gas_price: 0,
            gas_priority_fee: Some(0),
            kind,
            value: tx.value,
            data: tx.data.clone(),
            nonce: self.nonce(tx.from),
            chain_id: Some(self.chain_id),
            max_fee_per_blob_gas: if blob_tx { 1 } else { 0 },
            blob_hashes,
            ..TxEnv::default()
        }
    }

    /// Includes `tx` in a new block. A transaction that reverts is still included (its
    /// receipt says so); one that revm refuses is not, and changes nothing.
    pub fn send(&mut self, tx: TxRequest) -> Result<Receipt, ChainError> {
        self.check_log()?;
        let receipt = self.include_unlogged(tx.clone(), Vec::new())?;
        self.log_tx(&tx).map_err(|e| self.poison(e))?;
        Ok(receipt)
    }

    fn check_log(&self) -> Result<(), ChainError> {
        match &self.log_failed {
            Some(why) => Err(ChainError::Log(why.clone())),
            None => Ok(()),
        }
    }

    fn poison(&mut self, e: super::txlog::TxLogError) -> ChainError {
        let why = e.to_string();
        self.log_failed = Some(why.clone());
        ChainError::Log(why)
    }

    /// Includes `tx` as a blob transaction carrying `sidecars`, after checking each like a
    /// consensus client does (blob proof and versioned hash). The blobs are kept, see
    /// [`DevChain::blob`].
    pub fn send_with_blobs(
        &mut self,
        tx: TxRequest,
        sidecars: &[BlobSidecar],
    ) -> Result<Receipt, ChainError> {
        self.check_log()?;
        let receipt = self.send_blobs_unlogged(tx.clone(), sidecars)?;
        self.log_blob_tx(&tx, sidecars).map_err(|e| self.poison(e))?;
        Ok(receipt)
    }

    pub(super) fn send_blobs_unlogged(
        &mut self,
        tx: TxRequest,
        sidecars: &[BlobSidecar],
    ) -> Result<Receipt, ChainError> {
        if sidecars.len() > MAX_BLOBS_PER_TX {
            return Err(ChainError::TooManyBlobs(sidecars.len()));
        }
        for (index, sidecar) in sidecars.iter().enumerate() {
            sidecar.verify().map_err(|source| ChainError::BadSidecar { index, source })?;
        }
        let hashes = sidecars.iter().map(|s| B256::from(s.versioned_hash)).collect();
        let receipt = self.include_unlogged(tx, hashes)?;
        for sidecar in sidecars {
            self.blobs.insert(B256::from(sidecar.versioned_hash), sidecar.blob.clone());
        }
        Ok(receipt)
    }

    pub(super) fn include_unlogged(
        &mut self,
        tx: TxRequest,
        blob_hashes: Vec<B256>,
    ) -> Result<Receipt, ChainError> {
        let block = self.next_block();
        let blob_count = blob_hashes.len() as u64;
        let env = self.tx_env(&tx, blob_hashes);
        let chain_id = self.chain_id;
        let mut evm = Context::mainnet()
            .with_db(&mut self.db)
            .modify_cfg_chained(|cfg| {
                cfg.chain_id = chain_id;
                cfg.max_blobs_per_tx = Some(MAX_BLOBS_PER_TX as u64);
            })
            .with_block(block.clone())
            .build_mainnet();
        let result = evm.transact_commit(env).map_err(|e| ChainError::Invalid(e.to_string()))?;
        self.head = block;
        let receipt = Receipt {
            block: self.block_number(),
            timestamp_s: self.timestamp_s(),
            from: tx.from,
            to: tx.to,
            gas_used: result.tx_gas_used(),
            blob_gas_used: blob_count * revm::primitives::eip4844::GAS_PER_BLOB,
            logs: result.logs().to_vec(),
            outcome: outcome(result),
        };
        self.receipts.push(receipt.clone());
        Ok(receipt)
    }

    /// Runs `tx` against the last block's state without including it (`eth_call`).
    pub fn call(&self, tx: TxRequest) -> Result<Outcome, ChainError> {
        let env = self.tx_env(&tx, Vec::new());
        let chain_id = self.chain_id;
        let mut evm = Context::mainnet()
            .with_ref_db(&self.db)
            .modify_cfg_chained(|cfg| {
                cfg.chain_id = chain_id;
            })
            .with_block(self.next_block())
            .build_mainnet();
        let result = evm.transact(env).map_err(|e| ChainError::Invalid(e.to_string()))?;
        Ok(outcome(result.result))
    }
}

fn outcome(result: ExecutionResult) -> Outcome {
    match result {
        ExecutionResult::Success { output, .. } => {
            let created = output.address().copied();
            Outcome::Success { output: output.into_data(), created }
        }
        ExecutionResult::Revert { output, .. } => Outcome::Revert { data: output },
        ExecutionResult::Halt { reason, .. } => Outcome::Halt { reason: format!("{reason:?}") },
    }
}

/// revm verifies the point-evaluation precompile through a process-wide `Crypto` provider. Its
/// default backend (without revm's `c-kzg`/`blst` features) is arkworks; with `c-kzg` it would
/// load a second copy of the trusted setup (with precomputation 8). This provider sends the
/// check to [`crate::kzg::verify_kzg_proof`] instead: c-kzg with the mainnet setup the sidecars
/// already loaded. Installed once, before any transaction runs; if another provider was
/// installed first it stays (every backend gives the same answers).
fn install_kzg_backend() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let _ = revm::precompile::install_crypto(CkzgCrypto);
    });
}

#[derive(Debug)]
struct CkzgCrypto;

impl revm::precompile::Crypto for CkzgCrypto {
    fn verify_kzg_proof(
        &self,
        z: &[u8; 32],
        y: &[u8; 32],
        commitment: &[u8; 48],
        proof: &[u8; 48],
    ) -> Result<(), revm::precompile::PrecompileHalt> {
        match crate::kzg::verify_kzg_proof(commitment, z, y, proof) {
            Ok(true) => Ok(()),
            Ok(false) | Err(_) => Err(revm::precompile::PrecompileHalt::BlobVerifyKzgProofFailed),
        }
    }
}
