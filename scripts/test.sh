#!/usr/bin/env bash
# Runs every test: the workspace's unit, property, integration and doc tests (including the real
# `zkclob lobster-replay` on the AAPL sample), the no_std RISC-V build of the consensus crates, and
# the zkVM tests (both guests executed in SP1 and ZisK against the native root). The zkVM part
# builds heavy tools the first time (~30 minutes on 2 cores); ZKCLOB_SKIP_ZKVM=1 skips it. Last,
# the node against an Ethereum node over JSON-RPC (Hardhat from npm; ZKCLOB_SKIP_L1_NODE=1 skips).
set -euo pipefail
cd "$(dirname "$0")/.."
# The L1 contracts: compile them with the pinned solc-js and check the committed artifacts (what
# the Rust build reads) are exactly what the sources give.
./scripts/build-contracts.sh
git diff --exit-code -- contracts/artifacts || {
  echo "contracts/artifacts differ from what contracts/src compiles to: run scripts/build-contracts.sh and commit" >&2
  exit 1
}
cargo test --workspace --locked
./scripts/check-nostd.sh
if [ "${ZKCLOB_SKIP_ZKVM:-0}" = 1 ]; then
  echo "zkVM tests skipped (ZKCLOB_SKIP_ZKVM=1)"
else
  ./scripts/zkvm-check.sh
fi
# The node against a real Ethereum execution client (Hardhat's EDR from npm) over JSON-RPC.
if [ "${ZKCLOB_SKIP_L1_NODE:-0}" = 1 ]; then
  echo "JSON-RPC L1 test skipped (ZKCLOB_SKIP_L1_NODE=1)"
else
  ./scripts/l1-node-test.sh
fi
