//! # zkclob-node
//!
//! The running exchange. It owns:
//!
//! - the command journal ([`journal`]: checksummed, sequenced, segmented write-ahead log with
//!   group commit) and snapshots ([`snapshot`]);
//! - the engine thread ([`engine`]): the single writer of the exchange state, fed by a bounded
//!   queue; command → journal → apply → events to clients, market data and the audit log
//!   ([`audit`]); batch cutting for the prover; recovery;
//! - market data derived from the books ([`market_data`]): depth with sequenced diffs, trades,
//!   best bid/offer;
//! - signature checks eight at a time with AVX-512 IFMA ([`secp_x8`], on x86-64 CPUs that
//!   have it), for order entry and recovery;
//! - the REST/WebSocket API ([`api`]), metrics ([`metrics`]), configuration with hot reload
//!   ([`config`]), and the whole node put together ([`node`]);
//! - how its threads are scheduled ([`sched`]): the acknowledgement path (optionally
//!   real-time), background threads in the idle class that catch up when far behind;
//! - the client side: signing keys ([`crypto`]) and a small client library ([`client`]);
//! - `zkclob disk-check` ([`diskcheck`]): what a group commit costs on the disk under a data
//!   directory, with the node's own journal;
//! - with `rollup.l1 = "in-process"`, the L1 side ([`l1`]): the rollup contracts on an
//!   in-process chain, the queue mirror batches take from, the publisher's proposals and the
//!   settler that follows L1 and settles.
//!
//! The state transition itself lives in `zkclob-state`; the node only ever changes the state
//! through `ExchangeState::apply`, the code the zkVM guests run.
#![warn(missing_docs)]

pub mod api;
pub mod audit;
pub mod client;
pub mod config;
pub mod crypto;
pub mod diskcheck;
pub mod engine;
pub mod entry;
pub mod index;
pub mod journal;
pub mod l1;
pub mod loadgen;
pub mod market_data;
pub mod metrics;
pub mod node;
pub mod sched;
#[cfg(target_arch = "x86_64")]
pub mod secp_x8;
pub mod snapshot;
