//! The L1 side of the rollup, in process: the Solidity contracts (compiled by solc-js, artifacts
//! committed under `contracts/artifacts`) running on revm with a small block producer.
//!
//! | module | what |
//! |---|---|
//! | [`chain`] | [`Chain`], what the client needs of a chain; [`DevChain`]: revm block producer, dev accounts, blob transactions, receipts |
//! | `rpc` | (feature `json-rpc`) `RpcChain`: an Ethereum node over JSON-RPC through alloy |
//! | [`contracts`] | `sol!` bindings and bytecode of `Rollup`, `CommitteeVerifier`, `TestToken` |
//! | [`rollup`] | [`L1`]: deploy, propose, deposit, force a command, settle, claim a withdrawal, freeze and escape, views, events |
//! | [`settlement`] | public values (`abi.encode(PublicValues)`), blob openings, queue hash chains |
//! | [`derive`] | [`derive::L1Follower`]: rebuilds the L2 state from the contract's events and blobs |
//! | [`txlog`] | a durable `DevChain`: every change logged and fsynced, replayed on open |
//! | [`committee`] | committee attestations: the digest, signing, proofs for `CommitteeVerifier` |
//!
//! The contracts and the `publicValues` layout are described in `contracts/README.md`.
//!
//! ```
//! use alloy_primitives::{B256, U256};
//! use zkclob_rollup::l1::{committee::{Committee, CommitteeMember}, AssetUnits, DevChain, L1, L1Config};
//! let committee = Committee::new((1..=3).map(CommitteeMember::dev).collect());
//! let chain = DevChain::new();
//! let deployer = chain.dev_account(0);
//! let config = L1Config {
//!     committee: committee.addresses(),
//!     threshold: 2,
//!     program_vkey: B256::repeat_byte(7),
//!     genesis_root: B256::repeat_byte(1),
//!     escape_delay_blocks: 7_200,
//!     inclusion_delay_blocks: 64,
//!     eth: Some(AssetUnits { asset_id: 1, units_per_atom: 1_000_000_000 }),
//!     tokens: vec![],
//! };
//! let mut l1 = L1::deploy(chain, deployer, &config).unwrap();
//! let deposit = l1.deposit_eth(deployer, [9; 20], U256::from(5_000_000_000u64)).unwrap();
//! assert_eq!(deposit.event.atoms, 5);
//! assert_eq!(l1.state_root().unwrap(), B256::repeat_byte(1));
//! ```

pub mod chain;
pub mod committee;
pub mod contracts;
pub mod derive;
pub mod rollup;
#[cfg(feature = "json-rpc")]
pub mod rpc;
pub mod settlement;
pub mod txlog;

pub use chain::{Chain, ChainError, DevChain, Receipt, TxRequest};
pub use rollup::{AssetUnits, Included, L1Config, L1Error, L1Event, Settlement, WithdrawalClaim, L1};
