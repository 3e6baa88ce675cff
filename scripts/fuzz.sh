#!/usr/bin/env bash
# Runs each cargo-fuzz target for SECONDS (default 60). Needs the nightly toolchain (installed here)
# and cargo-fuzz (installed with `cargo install cargo-fuzz` when missing).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-60}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
for target in codec_decode lobster_parse book_actions node_decode rollup_decode batch_decode secp_x8; do
  echo "== fuzzing $target for ${seconds}s"
  cargo +nightly fuzz run "$target" -- -max_total_time="$seconds" -rss_limit_mb=2048 2>&1 | grep -E "^#[0-9]+.*DONE|ERROR|panicked|SUMMARY|Done" || true
done
