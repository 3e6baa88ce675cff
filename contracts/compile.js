// Compiles every contracts/src/*.sol with the pinned solc-js and writes one JSON artifact per
// contract to contracts/artifacts/<Name>.json: { contractName, sourceName, compiler, settings,
// abi, bytecode, deployedBytecode }. Deterministic: sorted inputs, fixed settings, stable key
// order, stale artifacts removed. Run through scripts/build-contracts.sh.
"use strict";
const fs = require("fs");
const path = require("path");
const solc = require("solc");

const root = __dirname;
const srcDir = path.join(root, "src");
const outDir = path.join(root, "artifacts");

// Osaka is mainnet's fork since December 2025; the in-process L1 runs the same spec.
const settings = {
  evmVersion: "osaka",
  optimizer: { enabled: true, runs: 200 },
  outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
};

const files = fs.readdirSync(srcDir).filter((f) => f.endsWith(".sol")).sort();
const sources = {};
for (const f of files) {
  sources[`src/${f}`] = { content: fs.readFileSync(path.join(srcDir, f), "utf8") };
}
const output = JSON.parse(solc.compile(JSON.stringify({ language: "Solidity", sources, settings })));
// Warnings fail the build too: the contracts stay warning-free.
const problems = (output.errors || []).filter((e) => e.severity !== "info");
for (const e of output.errors || []) {
  process.stderr.write(e.formattedMessage + "\n");
}
if (problems.length > 0) {
  process.exit(1);
}

fs.mkdirSync(outDir, { recursive: true });
for (const f of fs.readdirSync(outDir)) {
  if (f.endsWith(".json")) fs.unlinkSync(path.join(outDir, f));
}
const hex = (object) => (object && object.length > 0 ? "0x" + object : "0x");
let count = 0;
for (const sourceName of Object.keys(output.contracts).sort()) {
  for (const contractName of Object.keys(output.contracts[sourceName]).sort()) {
    const c = output.contracts[sourceName][contractName];
    const artifact = {
      contractName,
      sourceName,
      compiler: `solc-js ${solc.version()}`,
      settings: { evmVersion: settings.evmVersion, optimizer: settings.optimizer },
      abi: c.abi,
      bytecode: hex(c.evm.bytecode.object),
      deployedBytecode: hex(c.evm.deployedBytecode.object),
    };
    fs.writeFileSync(path.join(outDir, `${contractName}.json`), JSON.stringify(artifact, null, 2) + "\n");
    count++;
  }
}
process.stdout.write(`compiled ${files.length} sources into ${count} artifacts with solc ${solc.version()}\n`);
