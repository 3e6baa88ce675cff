#!/usr/bin/env bash
# Cycles per command in SP1 and steps in ZisK, by kind of command, measured by difference:
# for each workload, batches of N1 and N2 commands over the same pre-state (same seed, same
# --book-orders), executed in both zkVMs; per command = (total(N2) − total(N1)) / (N2 − N1), which
# cancels the fixed cost of a batch (witness of the global leaf, output hashes of the header...).
# Signature verification is reported apart (SP1's cycle tracker, per verification).
# Needs the guests and ziskemu (scripts/build-guests.sh, scripts/install-ziskemu.sh); guests are
# read from $ZKCLOB_GUEST_OUT when set (as build-guests.sh writes them).
# Usage: scripts/cycles-per-command.sh [N1 N2 BOOK_ORDERS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
n1=${1:-100}
n2=${2:-500}
book=${3:-500}
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
cargo build --release --locked --quiet -p zkclob-cli --features sp1,zisk
bin="${CARGO_TARGET_DIR:-$root/target}/release/zkclob"
guests=${ZKCLOB_GUEST_OUT:-$root/target/guests}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "| workload (book of $book extra orders) | SP1 cycles/command (no signature) | SP1 signature cycles/verify | SP1 phases/command | ZisK steps/command |"
echo "|---|---:|---:|---|---:|"
for w in resting crossing cancel mixed; do
  for n in "$n1" "$n2"; do
    $bin batch gen --orders "$n" --markets 2 --seed 3 --workload "$w" --book-orders "$book" --out "$tmp/$w-$n.bin" >/dev/null
    $bin prove --backend sp1 --mode execute --batch "$tmp/$w-$n.bin" --elf "$guests/zkclob-guest-sp1.elf" >"$tmp/$w-$n.sp1.json"
    $bin prove --backend zisk --mode execute --batch "$tmp/$w-$n.bin" --elf "$guests/zkclob-guest-zisk.elf" >"$tmp/$w-$n.zisk.json"
  done
  python3 - "$tmp/$w-$n1" "$tmp/$w-$n2" "$n1" "$n2" "$w" <<'PY'
import json, sys
a, b, n1, n2, w = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
sa, sb = json.load(open(a + ".sp1.json")), json.load(open(b + ".sp1.json"))
za, zb = json.load(open(a + ".zisk.json")), json.load(open(b + ".zisk.json"))
for j in (sa, sb, za, zb):
    assert j["matches_native_node"], "a zkVM disagreed with the native node"
d = n2 - n1
sig = (sb["signature_cycles"] - sa["signature_cycles"]) / d
cyc = (sb["cycles"] - sa["cycles"]) / d - sig
ba, bb = sa["cycle_breakdown"], sb["cycle_breakdown"]
phases = {k: (bb.get(k, 0) - ba.get(k, 0)) / d for k in bb if k != "secp256k1_verify"}
if "apply" in phases:
    phases["apply"] -= sig  # signature checks run inside apply
ph = ", ".join(f"{k} {v:,.0f}" for k, v in sorted(phases.items()))
print(f"| {w} | {cyc:,.0f} | {sig:,.0f} | {ph} | {(zb['cycles'] - za['cycles']) / d:,.0f} |")
PY
done
