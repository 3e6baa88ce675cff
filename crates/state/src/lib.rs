//! # zkclob-state
//!
//! The exchange's state and its state transition — the code that runs natively in the node and,
//! unchanged, inside the SP1 and ZisK guests. It owns:
//!
//! - [`ExchangeState`]: markets (each a [`zkclob_book::Book`] with its spec and fees), accounts
//!   keyed by Ethereum address with per-asset available and locked balances (flat tables:
//!   [`accounts`]), the fee totals, and the withdrawal queue; live orders are the books' own;
//! - commands ([`Command`], [`Action`]) signed with secp256k1 over a canonical encoding with a
//!   per-account nonce ([`SignedCommand`], [`signing_hash`]);
//! - [`ExchangeState::apply_batch`]: header checks, time, and one [`Receipt`] per command; a
//!   rejected command changes nothing;
//! - the only cryptography interface of the transition ([`Crypto`]), implemented natively here and
//!   with zkVM precompiles in the guests;
//! - the Merkle tree of the state commitment ([`merkle`]), and the keccak tree of a batch's
//!   withdrawals that L1 claims prove against ([`withdrawals`]);
//! - what a guest reads: [`ReceivedBatch`] and its hand-written command decoder ([`decode`],
//!   equal to borsh's), whose received bytes are what the batch and signing hashes cover.
//!
//! It is `#![no_std]` + `alloc`: integers only, ordered maps and sorted vectors only (no hash
//! maps), no clocks. It must never depend
//! on the node, the prover or any research crate.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

pub mod accounts;
pub mod command;
pub mod commitment;
pub mod crypto;
pub mod decode;
pub mod exchange;
mod invariants;
pub mod merkle;
pub mod withdrawals;
pub mod witness;

pub use accounts::{Account, AccountTable, AssetMap, Balance, Balances, DenseId, IdTable};
pub use command::{
    signing_hash, signing_hash_encoded, Action, Applied, BatchHeader, Command, FeeSchedule, OrderParams,
    Receipt, RejectCode, SignedCommand,
};
pub use commitment::StateCommitment;
pub use crypto::{Address, Crypto, NativeCrypto, PublicKey, Sha256Writer, Signature, SHA256_IV};
pub use exchange::{BatchError, ExchangeState, Market, OrderMeta, Withdrawal};
pub use invariants::StateViolation;
pub use witness::{
    execute, execute_with_state, PublicOutput, ReceivedBatch, StateSnapshot, Witness, WitnessError,
};
