//! [`RpcChain`]: an Ethereum node over JSON-RPC as a [`Chain`] (feature `json-rpc`), through
//! alloy's HTTP provider with local signing keys. The same [`L1`](super::L1) client, derivation
//! and node bridge then run against a real execution client instead of the in-process
//! [`DevChain`](super::DevChain).
//!
//! What differs from the dev chain, by design:
//! - **Reverts are not sent.** A plain transaction is first estimated (`eth_estimateGas`); if it
//!   would revert, its receipt comes back with [`Outcome::Revert`] (and the revert data) at the
//!   head block, and nothing is sent, so no gas is spent on a doomed transaction. A blob
//!   transaction cannot be estimated (execution clients do not simulate `BLOBHASH`), so it is
//!   sent with [`BLOB_TX_GAS_LIMIT`]; if it reverts on chain the receipt says so without data.
//! - **Blobs.** An execution client does not serve blobs (a consensus client's blob API does,
//!   for about 18 days). Every blob this client sends is first stored in `dir/blobs/` under its
//!   CIDv1 (checked against the CID on every read) and indexed by versioned hash in
//!   `dir/blob-index`, both fsynced before the transaction leaves; [`Chain::blob_by_hash`] reads
//!   from there. A follower of someone else's proposals needs an archive or a beacon node.
//! - **Sidecar format.** Blob transactions carry the EIP-4844 sidecar (one blob proof per blob).
//!   Nodes past Fusaka (Osaka) that require EIP-7594 cell proofs will refuse them: see
//!   `docs/rollup.md`.
//! - **Fees.** EIP-1559 fees are filled by alloy from the node; the blob fee cap is twice the
//!   node's `eth_blobBaseFee` (at least 1 wei).
//!
//! Calls block the calling thread: alloy's futures run on this client's own one-thread Tokio
//! runtime and the caller waits on a channel, so it may be called from any thread, including a
//! Tokio worker of another runtime.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::string::{String, ToString};
use std::sync::Mutex;
use std::time::Duration;
use std::vec::Vec;

use alloy::consensus::BlobTransactionSidecar;
use alloy::eips::BlockNumberOrTag;
use alloy::network::{EthereumWallet, TransactionBuilder, TransactionBuilder4844};
use alloy::primitives::{Address, Bytes, FixedBytes, B256, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::{Filter, TransactionReceipt, TransactionRequest};
use alloy::signers::local::PrivateKeySigner;
use alloy::transports::{RpcError, TransportErrorKind};

use super::chain::{Chain, ChainError, Outcome, Receipt, TxRequest};
use crate::blob::Blob;
use crate::cas::CasStore;
use crate::kzg::BlobSidecar;

/// Gas limit of a blob (proposal) transaction: `propose` uses about 100,000.
pub const BLOB_TX_GAS_LIMIT: u64 = 1_000_000;
/// How long to wait for a receipt.
pub const RECEIPT_TIMEOUT: Duration = Duration::from_secs(120);
/// How long [`RpcChain::connect`] waits for the node's first answer.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// An Ethereum node reached over JSON-RPC. See the module docs.
pub struct RpcChain {
    runtime: tokio::runtime::Runtime,
    provider: DynProvider,
    url: String,
    chain_id: u64,
    accounts: Vec<Address>,
    store: CasStore,
    index_path: PathBuf,
    /// Versioned hash → CID of the blobs this client sent.
    index: Mutex<BTreeMap<B256, String>>,
}

impl std::fmt::Debug for RpcChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RpcChain")
            .field("url", &self.url)
            .field("chain_id", &self.chain_id)
            .field("accounts", &self.accounts)
            .finish_non_exhaustive()
    }
}

fn rpc_err(e: impl std::fmt::Display) -> ChainError {
    ChainError::Rpc(e.to_string())
}

/// The revert data in a JSON-RPC error, if it is a revert.
fn revert_of(e: &RpcError<TransportErrorKind>) -> Option<Bytes> {
    let payload = e.as_error_resp()?;
    if let Some(data) = payload.as_revert_data() {
        return Some(data);
    }
    payload.message.contains("revert").then(Bytes::new)
}

impl RpcChain {
    /// Connects to the node at `url` (`http://...`), signing with `keys` (32-byte secp256k1
    /// secret keys; the first is [`Chain::accounts`]`[0]`), keeping sent blobs under `dir`.
    /// Checks that the node answers and reports its chain id.
    pub fn connect(url: &str, keys: &[B256], dir: &Path) -> Result<RpcChain, ChainError> {
        if keys.is_empty() {
            return Err(ChainError::Rpc("no signing key configured".into()));
        }
        let parsed = url.parse().map_err(|e| ChainError::Rpc(format!("bad L1 URL {url:?}: {e}")))?;
        let mut signers = Vec::with_capacity(keys.len());
        for key in keys {
            signers.push(
                PrivateKeySigner::from_bytes(key).map_err(|e| rpc_err(format!("bad signing key: {e}")))?,
            );
        }
        let accounts: Vec<Address> = signers.iter().map(|s| s.address()).collect();
        let mut wallet = EthereumWallet::new(signers[0].clone());
        for s in &signers[1..] {
            wallet.register_signer(s.clone());
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("zkclob-l1-rpc")
            .enable_all()
            .build()
            .map_err(rpc_err)?;
        let provider = {
            let _guard = runtime.enter();
            ProviderBuilder::new().with_simple_nonce_management().wallet(wallet).connect_http(parsed).erased()
        };
        std::fs::create_dir_all(dir).map_err(rpc_err)?;
        let store = CasStore::open(dir.join("blobs")).map_err(rpc_err)?;
        let index_path = dir.join("blob-index");
        let index = read_index(&index_path)?;
        let mut chain = RpcChain {
            runtime,
            provider,
            url: url.to_string(),
            chain_id: 0,
            accounts,
            store,
            index_path,
            index: Mutex::new(index),
        };
        let p = chain.provider.clone();
        let answer = chain.run(async move { tokio::time::timeout(CONNECT_TIMEOUT, p.get_chain_id()).await });
        chain.chain_id = match answer {
            Ok(Ok(id)) => id,
            Ok(Err(e)) => return Err(ChainError::Rpc(format!("{url} does not answer eth_chainId: {e}"))),
            Err(_) => {
                return Err(ChainError::Rpc(format!(
                    "{url} does not answer eth_chainId within {} s",
                    CONNECT_TIMEOUT.as_secs()
                )))
            }
        };
        Ok(chain)
    }

    /// The node's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Runs `fut` on this client's runtime and waits for it.
    fn run<F>(&self, fut: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (tx, rx) = std::sync::mpsc::channel();
        self.runtime.spawn(async move {
            let _ = tx.send(fut.await);
        });
        rx.recv().expect("the L1 client's runtime dropped a call")
    }

    /// Mines `n` empty blocks on a development node (`hardhat_mine`).
    pub fn dev_mine(&self, n: u64) -> Result<(), ChainError> {
        let p = self.provider.clone();
        self.run(async move {
            p.raw_request::<_, serde_json::Value>("hardhat_mine".into(), (U256::from(n),))
                .await
                .map(|_| ())
                .map_err(rpc_err)
        })
    }

    fn request(tx: &TxRequest) -> TransactionRequest {
        let req = TransactionRequest::default().with_from(tx.from).with_value(tx.value);
        match tx.to {
            Some(to) => req.with_to(to).with_input(tx.data.clone()),
            None => req.with_deploy_code(tx.data.clone()),
        }
    }

    /// Sends a filled request and turns its receipt into ours.
    fn send_request(&self, req: TransactionRequest, blob_count: u64) -> Result<Receipt, ChainError> {
        let p = self.provider.clone();
        let receipt: TransactionReceipt = self.run(async move {
            let pending = p.send_transaction(req).await.map_err(rpc_err)?;
            pending.with_timeout(Some(RECEIPT_TIMEOUT)).get_receipt().await.map_err(rpc_err)
        })?;
        let block = receipt.block_number.ok_or_else(|| rpc_err("a receipt without a block number"))?;
        let timestamp_s = self.block_timestamp(block)?;
        let outcome = if receipt.status() {
            Outcome::Success { output: Bytes::new(), created: receipt.contract_address }
        } else {
            Outcome::Revert { data: Bytes::new() }
        };
        let logs = receipt.inner.logs().iter().map(|l| l.inner.clone()).collect();
        Ok(Receipt {
            block,
            timestamp_s,
            from: receipt.from,
            to: receipt.to,
            gas_used: receipt.gas_used,
            blob_gas_used: blob_count * 131_072,
            logs: if receipt.status() { logs } else { Vec::new() },
            outcome,
        })
    }

    fn block_timestamp(&self, block: u64) -> Result<u64, ChainError> {
        let p = self.provider.clone();
        let header = self.run(async move { p.get_block_by_number(BlockNumberOrTag::Number(block)).await });
        Ok(header
            .map_err(rpc_err)?
            .ok_or_else(|| rpc_err(format!("block {block} not found")))?
            .header
            .timestamp)
    }

    /// A receipt for a transaction that would revert and was not sent.
    fn not_sent(&self, tx: &TxRequest, data: Bytes) -> Result<Receipt, ChainError> {
        let block = self.head()?;
        Ok(Receipt {
            block,
            timestamp_s: self.block_timestamp(block)?,
            from: tx.from,
            to: tx.to,
            gas_used: 0,
            blob_gas_used: 0,
            logs: Vec::new(),
            outcome: Outcome::Revert { data },
        })
    }

    /// Stores the blobs of `sidecars` (CAS + index, fsynced).
    fn archive(&self, sidecars: &[BlobSidecar]) -> Result<(), ChainError> {
        let mut index = self.index.lock().unwrap_or_else(|p| p.into_inner());
        let mut lines = String::new();
        for s in sidecars {
            let hash = B256::from(s.versioned_hash);
            if index.contains_key(&hash) {
                continue;
            }
            let cid = self.store.put(s.blob.as_bytes()).map_err(rpc_err)?.to_string();
            lines.push_str(&format!("{hash} {cid}\n"));
            index.insert(hash, cid);
        }
        if lines.is_empty() {
            return Ok(());
        }
        let mut f = OpenOptions::new().create(true).append(true).open(&self.index_path).map_err(rpc_err)?;
        f.write_all(lines.as_bytes()).map_err(rpc_err)?;
        f.sync_data().map_err(rpc_err)
    }
}

fn read_index(path: &Path) -> Result<BTreeMap<B256, String>, ChainError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(rpc_err(format!("{}: {e}", path.display()))),
    };
    let mut index = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let parsed = line.split_once(' ').and_then(|(h, c)| Some((h.parse::<B256>().ok()?, c.to_string())));
        match parsed {
            Some((hash, cid)) => {
                index.insert(hash, cid);
            }
            // A torn last line (crash while appending): its blob's transaction was never sent.
            None if i + 1 == text.lines().count() && !text.ends_with('\n') => {}
            None => return Err(rpc_err(format!("{} line {}: malformed", path.display(), i + 1))),
        }
    }
    Ok(index)
}

impl Chain for RpcChain {
    fn chain_id(&self) -> u64 {
        self.chain_id
    }

    fn head(&self) -> Result<u64, ChainError> {
        let p = self.provider.clone();
        self.run(async move { p.get_block_number().await }).map_err(rpc_err)
    }

    fn accounts(&self) -> Vec<Address> {
        self.accounts.clone()
    }

    fn send_tx(&mut self, tx: TxRequest) -> Result<Receipt, ChainError> {
        let req = Self::request(&tx);
        let p = self.provider.clone();
        let probe = req.clone();
        match self.run(async move { p.estimate_gas(probe).await }) {
            Ok(gas) => self.send_request(req.with_gas_limit(gas + gas / 4 + 10_000), 0),
            Err(e) => match revert_of(&e) {
                Some(data) => self.not_sent(&tx, data),
                None => Err(rpc_err(e)),
            },
        }
    }

    fn send_blob_tx(&mut self, tx: TxRequest, sidecars: &[BlobSidecar]) -> Result<Receipt, ChainError> {
        if sidecars.len() > super::chain::MAX_BLOBS_PER_TX {
            return Err(ChainError::TooManyBlobs(sidecars.len()));
        }
        for (index, sidecar) in sidecars.iter().enumerate() {
            sidecar.verify().map_err(|source| ChainError::BadSidecar { index, source })?;
        }
        self.archive(sidecars)?;
        let p = self.provider.clone();
        let blob_fee = self.run(async move { p.get_blob_base_fee().await }).map_err(rpc_err)?;
        let sidecar = BlobTransactionSidecar::new(
            sidecars.iter().map(|s| FixedBytes::from(*s.blob.as_bytes())).collect(),
            sidecars.iter().map(|s| FixedBytes::from(s.commitment)).collect(),
            sidecars.iter().map(|s| FixedBytes::from(s.proof)).collect(),
        );
        let to = tx.to.ok_or_else(|| rpc_err("a blob transaction cannot create a contract"))?;
        let req = TransactionRequest::default()
            .with_from(tx.from)
            .with_to(to)
            .with_value(tx.value)
            .with_input(tx.data.clone())
            .with_blob_sidecar_4844(sidecar)
            .with_gas_limit(BLOB_TX_GAS_LIMIT)
            .with_max_fee_per_blob_gas(blob_fee.max(1) * 2);
        self.send_request(req, sidecars.len() as u64)
    }

    fn call_tx(&self, tx: TxRequest) -> Result<Outcome, ChainError> {
        let req = Self::request(&tx);
        let p = self.provider.clone();
        match self.run(async move { p.call(req).await }) {
            Ok(output) => Ok(Outcome::Success { output, created: None }),
            Err(e) => match revert_of(&e) {
                Some(data) => Ok(Outcome::Revert { data }),
                None => Err(rpc_err(e)),
            },
        }
    }

    fn balance_of(&self, address: Address) -> Result<U256, ChainError> {
        let p = self.provider.clone();
        self.run(async move { p.get_balance(address).await }).map_err(rpc_err)
    }

    fn logs(&self, address: Address, from: u64, to: u64) -> Result<Vec<Receipt>, ChainError> {
        let p = self.provider.clone();
        let filter = Filter::new().address(address).from_block(from).to_block(to);
        let logs = self.run(async move { p.get_logs(&filter).await }).map_err(rpc_err)?;
        // Group by transaction, in chain order (the node returns logs in order).
        let mut out: Vec<Receipt> = Vec::new();
        let mut last_key = None;
        let mut timestamps: BTreeMap<u64, u64> = BTreeMap::new();
        for log in logs {
            let block = log.block_number.ok_or_else(|| rpc_err("a log without a block number"))?;
            let key = (block, log.transaction_index);
            if last_key == Some(key) {
                if let Some(last) = out.last_mut() {
                    last.logs.push(log.inner);
                    continue;
                }
            }
            last_key = Some(key);
            let timestamp_s = match (log.block_timestamp, timestamps.get(&block)) {
                (Some(t), _) | (None, Some(&t)) => t,
                (None, None) => {
                    let t = self.block_timestamp(block)?;
                    timestamps.insert(block, t);
                    t
                }
            };
            out.push(Receipt {
                block,
                timestamp_s,
                from: Address::ZERO,
                to: Some(address),
                gas_used: 0,
                blob_gas_used: 0,
                logs: vec![log.inner],
                outcome: Outcome::Success { output: Bytes::new(), created: None },
            });
        }
        Ok(out)
    }

    /// Sets `address`'s balance on a development node (`hardhat_setBalance`, then
    /// `anvil_setBalance`); a production node refuses.
    fn dev_set_balance(&mut self, address: Address, wei: U256) -> Result<(), ChainError> {
        let p = self.provider.clone();
        self.run(async move {
            let mut last = None;
            for method in ["hardhat_setBalance", "anvil_setBalance"] {
                match p.raw_request::<_, serde_json::Value>(method.into(), (address, wei)).await {
                    Ok(_) => return Ok(()),
                    Err(e) => last = Some(e),
                }
            }
            Err(ChainError::Rpc(format!(
                "cannot set a balance on this node: {}",
                last.map_or_else(String::new, |e| e.to_string())
            )))
        })
    }

    fn blob_by_hash(&self, versioned_hash: &B256) -> Option<Blob> {
        let cid = self.index.lock().unwrap_or_else(|p| p.into_inner()).get(versioned_hash)?.clone();
        let cid = cid.parse().ok()?;
        let bytes = self.store.get(&cid).ok()?;
        Blob::from_bytes(&bytes).ok()
    }
}
