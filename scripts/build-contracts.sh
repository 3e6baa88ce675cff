#!/usr/bin/env bash
# Compiles the L1 contracts (contracts/src/*.sol) with solc-js, the npm package pinned in
# contracts/package.json + package-lock.json, and writes the ABI + bytecode artifacts that the
# Rust build reads (contracts/artifacts/*.json, committed, so cargo never needs npm).
#
# Deterministic: the same sources and compiler give byte-identical artifacts. CI runs
#   scripts/build-contracts.sh && git diff --exit-code contracts/artifacts
# to check that the committed artifacts are current.
#
# No Debian solc and no downloaded compiler binaries: solc-js is solc compiled to WebAssembly.
set -euo pipefail
cd "$(dirname "$0")/../contracts"

if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
    echo "build-contracts: installing Debian's nodejs and npm"
    sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq nodejs npm >/dev/null
fi
# `npm ci` installs exactly the lock file's versions into contracts/node_modules (git-ignored);
# skip it when that solc is already there.
want="$(node -p 'require("./package-lock.json").packages["node_modules/solc"].version')"
have="$(node -p 'try { require("./node_modules/solc/package.json").version } catch (e) { "" }')"
if [ "$want" != "$have" ]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
node compile.js
