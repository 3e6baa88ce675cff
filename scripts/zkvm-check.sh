#!/usr/bin/env bash
# The zkVM tests: builds both guests (scripts/build-guests.sh) and ziskemu
# (scripts/install-ziskemu.sh), lints the zkVM backends, then runs crates/prover/tests/zkvm.rs:
# 1,000 random signed commands over two markets executed in the real SP1 executor and in ziskemu
# must give the native node's post-root; the settlement program of one L1 proposal (blobs, L1
# deposits, forced commands) must give the native public values (SP1: the bytes; ZisK: their
# keccak); a tampered witness or a wrong pre-root must make each guest fail; and end to end
# (crates/prover/tests/e2e_l1.rs): deposit on the in-process L1, trade, propose as blobs, derive,
# run the settlement program in SP1, settle with the committee and the blob opening, claim the
# withdrawal; the node itself on its in-process L1 with SP1's executor running every settlement
# (crates/node/tests/l1.rs). Finally prints the CLI's JSON for one batch in each zkVM (cycles, steps).
# Cold, this builds ~600 crates and ZisK's C++ emulator: ~30 minutes on 2 cores.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
start=$(date +%s)
step() { echo "== zkvm: $* ($(( $(date +%s) - start ))s)"; }

step "guests"
./scripts/build-guests.sh all
step "ziskemu"
./scripts/install-ziskemu.sh
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
step "clippy (zkVM backends)"
cargo clippy --release --locked -p zkclob-prover -p zkclob-rollup -p zkclob-node -p zkclob-cli --features zkclob-cli/sp1,zkclob-cli/zisk,zkclob-cli/json-rpc --all-targets -- -D warnings
step "tests in SP1 and ZisK"
cargo test --release --locked -p zkclob-prover --features sp1,zisk --test zkvm --test e2e_l1 -- --nocapture
step "the node on its in-process L1, settling through SP1's executor"
cargo test --release --locked -p zkclob-node --features sp1,zisk --test l1 -- --nocapture the_same_with_the_sp1
step "CLI"
cargo build --release --locked -p zkclob-cli --features sp1,zisk
batch="$root/target/zkvm-check-batch.bin"
bin="${CARGO_TARGET_DIR:-$root/target}/release/zkclob"
"$bin" batch gen --orders 1000 --markets 2 --seed 1 --out "$batch"
"$bin" prove --backend sp1 --mode execute --batch "$batch"
"$bin" prove --backend zisk --mode execute --batch "$batch"
step "done"
