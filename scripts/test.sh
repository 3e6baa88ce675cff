#!/usr/bin/env bash
# Runs every test: the workspace's unit, property, integration and doc tests (including the real
# `zkclob lobster-replay` on the AAPL sample), then the no_std RISC-V build of the consensus crates.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --locked
./scripts/check-nostd.sh
