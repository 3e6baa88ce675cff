// `hardhat node` serves the network named "node": an in-memory Ethereum chain (Hardhat's EDR,
// Osaka rules) with automine, chain id 31337 and twenty funded development accounts from the
// standard test mnemonic. Blob transactions are accepted through eth_sendRawTransaction with the
// EIP-4844 sidecar.
import { defineConfig } from "hardhat/config";

export default defineConfig({
  networks: {
    node: {
      type: "edr-simulated",
      chainType: "l1",
      hardfork: process.env.HARDFORK ?? "osaka",
    },
  },
});
