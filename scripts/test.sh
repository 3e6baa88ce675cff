#!/usr/bin/env bash
# Runs every test: the workspace's unit, property, integration and doc tests (including the real
# `zkclob lobster-replay` on the AAPL sample), the no_std RISC-V build of the consensus crates, and
# the zkVM tests (both guests executed in SP1 and ZisK against the native root). The zkVM part
# builds heavy tools the first time (~30 minutes on 2 cores); ZKCLOB_SKIP_ZKVM=1 skips it.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --locked
./scripts/check-nostd.sh
if [ "${ZKCLOB_SKIP_ZKVM:-0}" = 1 ]; then
  echo "zkVM tests skipped (ZKCLOB_SKIP_ZKVM=1)"
else
  ./scripts/zkvm-check.sh
fi
