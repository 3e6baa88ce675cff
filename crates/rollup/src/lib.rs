//! # zkclob-rollup
//!
//! What turns the proven state transition into a rollup: the canonical batch data, its
//! compression, packing into EIP-4844 blobs with real KZG commitments, the content-addressed
//! backup store, derivation of batches from L1, and the L1 contracts with their client — on the
//! in-process chain, or (feature `json-rpc`) on an Ethereum node through alloy.
//!
//! | module | what | `no_std` |
//! |---|---|---|
//! | [`batch_data`] | canonical bytes of one batch (header + borsh commands), total decoder | yes |
//! | [`compress`] | zlib via `miniz_oxide`, decompression with a hard output limit | yes |
//! | [`blob`] | packing bytes into 4096 × 32-byte field elements (31 data bytes each) | yes |
//! | [`field`] | BLS12-381 scalar field arithmetic (own 4 × u64 Montgomery) | yes |
//! | [`evaluation`] | blob polynomial at a point (barycentric), versioned hash | yes |
//! | [`pipeline`] | batch → blobs → batch; [`pipeline::BatchBlobs`] with sidecars (std) | decode: yes |
//! | [`program`] | the settlement program the zkVM guests run: derive, execute, queue chains, withdrawals root, blob openings, `abi.encode`d public values | yes |
//! | [`derivation`] | the batch an L1 proposal stands for: L1 deposits and forced commands, then the blobs' commands or nothing | yes |
//! | `kzg` | commitments, proofs, versioned hashes via `c-kzg` | no (`std`) |
//! | `cas` | CIDv1 (raw, sha2-256) content-addressed store | no (`std`) |
//! | `l1` | the client over any `l1::Chain` (the in-process revm chain; `l1::rpc` over JSON-RPC with `json-rpc`), settlement data, a node that syncs from L1 (`l1::derive`) | no (`l1`) |
//!
//! Without the default `std` feature the crate is `no_std` + `alloc`, for the zkVM guest: it
//! can decode the blobs it proves and evaluate their polynomials, but not commit to them. Every
//! decoder here is total: any input decodes or gives a typed error, never a panic.
//!
//! This crate must never depend on the node, the prover or any research crate; the state crate
//! is its only zkclob dependency besides the core.
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

pub mod batch_data;
pub mod blob;
#[cfg(feature = "std")]
pub mod cas;
pub mod compress;
pub mod derivation;
pub mod evaluation;
pub mod field;
#[cfg(feature = "std")]
pub mod kzg;
#[cfg(feature = "l1")]
pub mod l1;
pub mod pipeline;
pub mod program;

pub use blob::Blob;
pub use evaluation::{evaluate_blob_polynomial, versioned_hash};
#[cfg(feature = "std")]
pub use kzg::BlobSidecar;
#[cfg(feature = "std")]
pub use pipeline::BatchBlobs;
pub use pipeline::{decode_blobs, encode_blobs};
