#!/usr/bin/env bash
# Kills a real `zkclob node` under load N times (default 500) with SIGKILL and checks, after each
# kill, that no acknowledged command is lost and that recovery (snapshot + journal) reaches the
# same root as an independent replay. CI runs the same test with 50 kills.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-500}"
ZKCLOB_CRASH_ITERATIONS="$N" cargo test --release -p zkclob-cli --test crash -- --nocapture
