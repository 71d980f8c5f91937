import { createRequire } from "node:module";
import hardhatEthers from "@nomicfoundation/hardhat-ethers";
import hardhatEthersChaiMatchers from "@nomicfoundation/hardhat-ethers-chai-matchers";
import hardhatIgnitionEthers from "@nomicfoundation/hardhat-ignition-ethers";
import hardhatKeystore from "@nomicfoundation/hardhat-keystore";
import hardhatMocha from "@nomicfoundation/hardhat-mocha";
import hardhatNetworkHelpers from "@nomicfoundation/hardhat-network-helpers";
import hardhatTypechain from "@nomicfoundation/hardhat-typechain";
import hardhatViem from "@nomicfoundation/hardhat-viem";
import { configVariable, defineConfig } from "hardhat/config";
import warningsAsErrors from "./hardhat/warningsAsErrors.ts";

const require = createRequire(import.meta.url);

/**
 * solc comes from the `solc` npm package (its WASM build): Hardhat cannot download compilers on
 * machines without access to binaries.soliditylang.org. The npm package's version must equal
 * SOLC_VERSION (checked below); `hardhat/warningsAsErrors.ts` fails the build on any warning.
 */
export const SOLC_VERSION = "0.8.37";
const installedSolc = (require("solc/package.json") as { version: string }).version;
if (installedSolc !== SOLC_VERSION) {
  throw new Error(
    `hardhat.config.ts compiles with solc ${SOLC_VERSION} but the npm package solc is ${installedSolc}: ` +
      `run \`npm install --save-exact solc@${SOLC_VERSION}\` (or change SOLC_VERSION to match).`,
  );
}

export default defineConfig({
  plugins: [
    hardhatEthers,
    hardhatEthersChaiMatchers,
    hardhatIgnitionEthers,
    hardhatKeystore,
    hardhatMocha,
    hardhatNetworkHelpers,
    hardhatTypechain,
    hardhatViem,
    warningsAsErrors,
  ],
  solidity: {
    version: SOLC_VERSION,
    path: require.resolve("solc/soljson.js"),
    // Deployed as is by the Ignition modules, so it needs an artifact of its own.
    npmFilesToBuild: ["@openzeppelin/contracts/governance/TimelockController.sol"],
    settings: {
      optimizer: { enabled: true, runs: 10_000 },
      evmVersion: "osaka",
    },
  },
  // Ignition modules live in deploy/modules and deployments are recorded in deploy/deployments/chain-<id>.
  paths: { ignition: "deploy" },
  networks: {
    // `npx hardhat node`; its clock starts at TMAI_CHAIN_START when set: `npm start` starts it in the past, so that
    // the demo epoch's time travel ends at the wall clock, the one the gateway reads (see scripts/stack.ts).
    node: {
      type: "edr-simulated",
      ...(process.env.TMAI_CHAIN_START ? { initialDate: process.env.TMAI_CHAIN_START } : {}),
    },
    // `npm start` runs a Hardhat node here; the wallet CLI and the scripts reach it with `--network localhost`.
    localhost: { type: "http", chainType: "l1", url: `http://127.0.0.1:${process.env.TMAI_RPC_PORT ?? 8545}` },
    // RPC URLs and the deployer key come from the Hardhat keystore (`npx hardhat keystore set BASE_RPC_URL`)
    // or the environment: never from a file.
    baseSepolia: {
      type: "http",
      chainType: "op",
      chainId: 84532,
      url: configVariable("BASE_SEPOLIA_RPC_URL"),
      accounts: [configVariable("DEPLOYER_PRIVATE_KEY")],
    },
    base: {
      type: "http",
      chainType: "op",
      chainId: 8453,
      url: configVariable("BASE_RPC_URL"),
      accounts: [configVariable("DEPLOYER_PRIVATE_KEY")],
    },
  },
  test: {
    solidity: {
      fuzz: { runs: 512 },
      invariant: { runs: 64, depth: 64, failOnRevert: true },
    },
    mocha: { timeout: 120_000 },
  },
  typechain: { outDir: "types/ethers-contracts" },
});
