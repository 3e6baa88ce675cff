//! A durable [`DevChain`]: every state change (included transaction, blob transaction, empty
//! blocks, funding) is appended to a log and fsynced before the call returns, and
//! [`DevChain::open_logged`] rebuilds the same chain by replaying it — the chain is deterministic
//! (fixed genesis, one block per transaction, fixed block time), so the rebuilt state, receipts,
//! events and blobs are the originals. A node's in-process L1 survives restarts this way.
//!
//! Layout of `dir`: `txlog` (the records) and `blobs/` (each blob under its CIDv1, see
//! [`crate::cas`]; a blob record names its CIDs, commitments and proofs, and replay re-checks each
//! sidecar as a consensus client would).
//!
//! Record framing: `len u32 LE ‖ check [4] ‖ payload`, where `check` is the first four bytes of
//! sha256(payload). Payloads: `0x01 Tx`, `0x02 BlobTx`, `0x03 Mine`, `0x04 Fund`; addresses 20
//! bytes, values 32 bytes big-endian, data `u32 LE` length + bytes. A record that ends early or
//! fails its check at the end of the log is a torn write: it is cut off (its call never
//! returned). Anything else — a bad record followed by more bytes, a length over 4 MiB, an
//! unknown tag, a replayed transaction that no longer applies — stops the open with
//! [`TxLogError`].
//!
//! A transaction is logged after it is included: one that crashed between inclusion and fsync is
//! absent from the rebuilt chain, as if never sent (its sender never saw a receipt).

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::string::{String, ToString};
use std::vec::Vec;

use alloy_primitives::{Address, Bytes, U256};
use sha2::{Digest, Sha256};
use thiserror::Error;

use super::chain::{ChainError, DevChain, TxRequest};
use crate::blob::Blob;
use crate::cas::{CasError, CasStore, Cid};
use crate::kzg::BlobSidecar;

const TAG_TX: u8 = 1;
const TAG_BLOB_TX: u8 = 2;
const TAG_MINE: u8 = 3;
const TAG_FUND: u8 = 4;
/// Largest record payload (a creation with large code, or six blob references).
const MAX_RECORD_BYTES: usize = 4 << 20;

/// Why a logged chain could not be opened or written.
#[derive(Debug, Error)]
pub enum TxLogError {
    /// Reading or writing the log failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// The operation.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The log is damaged before its end.
    #[error("L1 transaction log {path} is corrupt at byte {offset}: {why}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Where.
        offset: u64,
        /// What is wrong.
        why: String,
    },
    /// A blob the log names is missing or damaged.
    #[error("blob store: {0}")]
    Blob(#[from] CasError),
    /// A logged transaction did not apply on replay (the log is not this chain's).
    #[error("replaying record {record}: {source}")]
    Replay {
        /// Record number.
        record: u64,
        /// What the chain said.
        source: ChainError,
    },
}

/// The open log of a [`DevChain`].
#[derive(Debug)]
pub struct TxLog {
    path: PathBuf,
    file: File,
    blobs: CasStore,
}

/// What opening a logged chain found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Replayed {
    /// Records replayed.
    pub records: u64,
    /// Bytes of a torn last record that were cut off, if any.
    pub torn_tail: Option<u64>,
}

fn io<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> TxLogError + 'a {
    move |source| TxLogError::Io { what, path: path.to_path_buf(), source }
}

fn check(payload: &[u8]) -> [u8; 4] {
    let h = Sha256::digest(payload);
    [h[0], h[1], h[2], h[3]]
}

fn put_tx(out: &mut Vec<u8>, tx: &TxRequest) {
    out.extend_from_slice(tx.from.as_slice());
    match tx.to {
        Some(to) => {
            out.push(1);
            out.extend_from_slice(to.as_slice());
        }
        None => out.push(0),
    }
    out.extend_from_slice(&tx.value.to_be_bytes::<32>());
    out.extend_from_slice(&(tx.data.len() as u32).to_le_bytes());
    out.extend_from_slice(&tx.data);
}

/// A cursor over one record's payload; every read is checked.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.bytes.len() < n {
            return Err("record ends early".into());
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }

    fn address(&mut self) -> Result<Address, String> {
        Ok(Address::from_slice(self.take(20)?))
    }

    fn u256(&mut self) -> Result<U256, String> {
        Ok(U256::from_be_slice(self.take(32)?))
    }

    fn tx(&mut self) -> Result<TxRequest, String> {
        let from = self.address()?;
        let to = match self.u8()? {
            0 => None,
            1 => Some(self.address()?),
            other => return Err(format!("bad callee flag {other}")),
        };
        let value = self.u256()?;
        let len = self.u32()? as usize;
        let data = Bytes::copy_from_slice(self.take(len)?);
        Ok(TxRequest { from, to, value, data })
    }

    fn end(&self) -> Result<(), String> {
        if self.bytes.is_empty() {
            Ok(())
        } else {
            Err("bytes after the record".into())
        }
    }
}

impl TxLog {
    fn append(&mut self, payload: &[u8]) -> Result<(), TxLogError> {
        let mut framed = Vec::with_capacity(8 + payload.len());
        framed.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        framed.extend_from_slice(&check(payload));
        framed.extend_from_slice(payload);
        self.file.write_all(&framed).map_err(io("append to", &self.path))?;
        self.file.sync_data().map_err(io("sync", &self.path))
    }
}

impl DevChain {
    /// Opens the chain logged in `dir` (creating an empty one), replaying every record; from
    /// then on every change is logged. `chain_id` must be the one the log was written with.
    pub fn open_logged(dir: &Path, chain_id: u64) -> Result<(DevChain, Replayed), TxLogError> {
        std::fs::create_dir_all(dir).map_err(io("create", dir))?;
        let blobs = CasStore::open(dir.join("blobs"))?;
        let path = dir.join("txlog");
        let mut bytes = Vec::new();
        if path.exists() {
            File::open(&path).and_then(|mut f| f.read_to_end(&mut bytes)).map_err(io("read", &path))?;
        }
        let mut chain = DevChain::with_chain_id(chain_id);
        let mut replayed = Replayed::default();
        let mut offset = 0usize;
        while offset < bytes.len() {
            let corrupt =
                |why: String| TxLogError::Corrupt { path: path.clone(), offset: offset as u64, why };
            let rest = &bytes[offset..];
            let framed = rest.get(..8).map(|h| {
                let len = u32::from_le_bytes(h[..4].try_into().expect("4 bytes")) as usize;
                (len, [h[4], h[5], h[6], h[7]])
            });
            let whole = framed.and_then(|(len, sum)| {
                let payload = rest.get(8..8usize.checked_add(len)?)?;
                (len <= MAX_RECORD_BYTES && check(payload) == sum).then_some(payload)
            });
            let Some(payload) = whole else {
                // Torn only if nothing valid could follow: it must be the log's last record.
                let len = framed.map_or(0, |(len, _)| len);
                if len > MAX_RECORD_BYTES {
                    return Err(corrupt(format!("a record claims {len} bytes")));
                }
                if framed.is_none() || 8 + len >= rest.len() {
                    replayed.torn_tail = Some(rest.len() as u64);
                    break;
                }
                return Err(corrupt("a record fails its check before the end of the log".into()));
            };
            apply(&mut chain, &blobs, payload, replayed.records).map_err(|e| match e {
                ApplyError::Format(why) => corrupt(why),
                ApplyError::Other(e) => e,
            })?;
            replayed.records += 1;
            offset += 8 + payload.len();
        }
        if let Some(torn) = replayed.torn_tail {
            let keep = (bytes.len() as u64) - torn;
            let file = OpenOptions::new().write(true).open(&path).map_err(io("open", &path))?;
            file.set_len(keep).and_then(|_| file.sync_all()).map_err(io("truncate", &path))?;
        }
        let file = OpenOptions::new().create(true).append(true).open(&path).map_err(io("open", &path))?;
        File::open(dir).and_then(|d| d.sync_all()).map_err(io("sync", dir))?;
        chain.log = Some(TxLog { path, file, blobs });
        Ok((chain, replayed))
    }

    pub(super) fn log_tx(&mut self, tx: &TxRequest) -> Result<(), TxLogError> {
        let Some(log) = self.log.as_mut() else { return Ok(()) };
        let mut payload = vec![TAG_TX];
        put_tx(&mut payload, tx);
        log.append(&payload)
    }

    pub(super) fn log_blob_tx(&mut self, tx: &TxRequest, sidecars: &[BlobSidecar]) -> Result<(), TxLogError> {
        let Some(log) = self.log.as_mut() else { return Ok(()) };
        let mut payload = vec![TAG_BLOB_TX];
        put_tx(&mut payload, tx);
        payload.push(sidecars.len() as u8);
        for s in sidecars {
            let cid = log.blobs.put(s.blob.as_bytes())?.to_string();
            payload.push(cid.len() as u8);
            payload.extend_from_slice(cid.as_bytes());
            payload.extend_from_slice(&s.commitment);
            payload.extend_from_slice(&s.proof);
        }
        log.append(&payload)
    }

    pub(super) fn log_mine(&mut self, n: u64) -> Result<(), TxLogError> {
        let Some(log) = self.log.as_mut() else { return Ok(()) };
        let mut payload = vec![TAG_MINE];
        payload.extend_from_slice(&n.to_le_bytes());
        log.append(&payload)
    }

    pub(super) fn log_fund(&mut self, address: Address, wei: U256) -> Result<(), TxLogError> {
        let Some(log) = self.log.as_mut() else { return Ok(()) };
        let mut payload = vec![TAG_FUND];
        payload.extend_from_slice(address.as_slice());
        payload.extend_from_slice(&wei.to_be_bytes::<32>());
        log.append(&payload)
    }
}

enum ApplyError {
    Format(String),
    Other(TxLogError),
}

fn apply(chain: &mut DevChain, blobs: &CasStore, payload: &[u8], record: u64) -> Result<(), ApplyError> {
    let format = ApplyError::Format;
    let replay = |source| ApplyError::Other(TxLogError::Replay { record, source });
    let mut r = Reader { bytes: payload };
    match r.u8().map_err(format)? {
        TAG_TX => {
            let tx = r.tx().map_err(format)?;
            r.end().map_err(format)?;
            chain.include_unlogged(tx, Vec::new()).map_err(replay)?;
        }
        TAG_BLOB_TX => {
            let tx = r.tx().map_err(format)?;
            let n = r.u8().map_err(format)? as usize;
            let mut sidecars = Vec::with_capacity(n);
            for _ in 0..n {
                let len = r.u8().map_err(format)? as usize;
                let cid_text = core::str::from_utf8(r.take(len).map_err(format)?)
                    .map_err(|_| ApplyError::Format("a CID is not text".into()))?;
                let cid: Cid =
                    cid_text.parse().map_err(|_| ApplyError::Format("a CID does not parse".into()))?;
                let commitment: [u8; 48] = r.take(48).map_err(format)?.try_into().expect("48 bytes");
                let proof: [u8; 48] = r.take(48).map_err(format)?.try_into().expect("48 bytes");
                let bytes = blobs.get(&cid).map_err(|e| ApplyError::Other(e.into()))?;
                let blob = Blob::from_bytes(&bytes)
                    .map_err(|_| ApplyError::Format("a stored blob has the wrong size".into()))?;
                let versioned_hash = crate::evaluation::versioned_hash(&commitment);
                sidecars.push(BlobSidecar { blob, commitment, proof, versioned_hash });
            }
            r.end().map_err(format)?;
            chain.send_blobs_unlogged(tx, &sidecars).map_err(replay)?;
        }
        TAG_MINE => {
            let n = u64::from_le_bytes(r.take(8).map_err(format)?.try_into().expect("8 bytes"));
            r.end().map_err(format)?;
            chain.mine_unlogged(n);
        }
        TAG_FUND => {
            let address = r.address().map_err(format)?;
            let wei = r.u256().map_err(format)?;
            r.end().map_err(format)?;
            chain.fund_unlogged(address, wei);
        }
        other => return Err(ApplyError::Format(format!("unknown record tag {other}"))),
    }
    Ok(())
}
