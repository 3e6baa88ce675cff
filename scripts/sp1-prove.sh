#!/usr/bin/env bash
# Makes and verifies one real SP1 core proof of a batch, measuring wall time and peak memory.
#
#   scripts/sp1-prove.sh [ORDERS]        # default 100 commands over 2 markets, seed 1
#
# Not part of CI: on a 2-core machine a 100-command proof takes tens of minutes and ~12 GB
# (see docs/benchmarks.md). SP1's CPU prover defaults (4 parallel core workers, 2^24-cycle shards)
# need more than this machine's 23 GiB, so the script runs one worker on small shards; override
# any of these variables from the environment.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
orders=${1:-100}
out=${ZKCLOB_PROOF_DIR:-$root/target/sp1-proof}
mkdir -p "$out"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
. "$root/scripts/sp1-env.sh"

if [ -z "${ZKCLOB_SKIP_BUILD:-}" ]; then
  ./scripts/build-guests.sh sp1
  cargo build --release --locked --quiet -p zkclob-cli --features sp1
fi
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
bin="${CARGO_TARGET_DIR:-$root/target}/release/zkclob"
$bin batch gen --orders "$orders" --markets 2 --seed 1 --out "$out/batch.bin"
$bin prove --backend sp1 --mode execute --batch "$out/batch.bin"
/usr/bin/time -v -o "$out/prove.time" $bin prove --backend sp1 --mode prove --batch "$out/batch.bin" --out "$out/batch.proof" | tee "$out/prove.json"
/usr/bin/time -v -o "$out/verify.time" $bin verify --proof "$out/batch.proof" | tee "$out/verify.json"
for step in prove verify; do
  echo "$step: $(grep -E 'Elapsed' "$out/$step.time" | sed 's/.*: //') wall, $(grep -E 'Maximum resident' "$out/$step.time" | sed 's/.*: //') KB peak RSS"
done
# A tampered proof file must be refused.
python3 - "$out/batch.proof" "$out/tampered.proof" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
data[len(data) // 2] ^= 0x01
open(sys.argv[2], "wb").write(data)
PY
if $bin verify --proof "$out/tampered.proof" >/dev/null 2>"$out/tampered.err"; then
  echo "a tampered proof verified" >&2; exit 1
fi
echo "tampered proof refused: $(head -c 200 "$out/tampered.err")"
