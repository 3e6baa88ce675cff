#!/usr/bin/env bash
# Makes a real SP1 core proof of the settlement program end to end (crates/prover/tests/e2e_l1.rs,
# `with_a_real_sp1_proof`): deposits on the in-process L1, a trading batch proposed as blobs,
# derived from L1, proven in SP1, verified (and a flipped byte refused), attested, settled, and the
# withdrawal claimed. Prints wall time and peak memory.
#
# Not part of CI (tens of minutes and ~13 GB on 2 cores; see docs/benchmarks.md). Runs SP1's CPU
# prover with one worker on small shards, as scripts/sp1-prove.sh does; override from the env.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
. "$root/scripts/sp1-env.sh"
out=${ZKCLOB_PROOF_DIR:-$root/target/sp1-proof}
mkdir -p "$out"
if [ -z "${ZKCLOB_SKIP_BUILD:-}" ]; then
  ./scripts/build-guests.sh sp1
fi
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
/usr/bin/time -v -o "$out/settlement.time" cargo test --release --locked -p zkclob-prover --features sp1 \
  --test e2e_l1 with_a_real_sp1_proof -- --ignored --nocapture
echo "settlement proof: $(grep -E 'Elapsed' "$out/settlement.time" | sed 's/.*: //') wall, $(grep -E 'Maximum resident' "$out/settlement.time" | sed 's/.*: //') KB peak RSS"
