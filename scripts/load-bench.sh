#!/usr/bin/env bash
# Load bench (bounded, loopback only): for each offered rate, a fresh in-process node with fsync
# on and the open-loop load generator over WebSocket order entry (8 connections, signed orders
# pre-signed before the clock starts), 5 s measured after 1 s of warm-up. Prints one JSON line
# per rate (acked_per_sec, acks_in_window_per_sec, latency_us_p50/p99/p999, errors, ...) and
# the CPU seconds of each thread. Node and generator share this machine's cores.
#   LOADGEN_RATES=5000,20000 LOADGEN_SECS=10 LOADGEN_REPEAT=3 scripts/load-bench.sh  (medians at the end)
#   LOADGEN_RATES=50000 LOADGEN_SECS=40 scripts/load-bench.sh  (the steady state: periodic disk work
#   such as the index's commits and the audit log's writeback comes due in longer runs only)
#   LOADGEN_REALTIME_PRIORITY=10 scripts/load-bench.sh  (the node's ack path in SCHED_RR, as
#   engine.realtime_priority = 10 does; needs CAP_SYS_NICE; each run reports realtime_threads)
# Then the machine's own floor, with no node running (crates/node/tests/platform.rs: wake-ups
# across cores, stalls of busy cores, fdatasync with the cores idle and busy; PLATFORM_SECS=2
# each here); LOADGEN_NO_PLATFORM=1 skips it.
set -euo pipefail
cd "$(dirname "$0")/.."
export LOADGEN_RATES="${LOADGEN_RATES:-2000,5000,10000,20000,30000,50000}"
cargo test --release -p zkclob-node --test loadgen measure_offered_rates -- --ignored --nocapture 2>&1 | grep -E '^\{'
if [ -z "${LOADGEN_NO_PLATFORM:-}" ]; then
  PLATFORM_SECS="${PLATFORM_SECS:-2}" cargo test --release -p zkclob-node --test platform measure_platform \
    -- --ignored --nocapture 2>&1 | grep -E '^\{'
fi
