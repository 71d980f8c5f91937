/**
 * `npm start`: the local stack. Starts a Hardhat node (JSON-RPC on 127.0.0.1), deploys the whole suite with the
 * Ignition modules, gives demo wallets locks at Staking Score levels 0, 2, 5, 8 and 10, shares a demo epoch of
 * revenue, starts the example data API and the access gateway in front of it (SQLite), creates a demo API key per
 * wallet by signing in with it, prints everything with `curl` examples, and keeps running until Ctrl-C, then stops
 * everything it started.
 *
 * One clock: the demo epoch moves the chain's clock 3 days (`DEMO_EPOCH_SECONDS`), so the node starts that long (and
 * an hour more, for the deployment and the locks) before now; the demo brings it back to the wall clock, the one the
 * gateway reads. A chain left ahead would make `/v1/me` and `balanceOf()` disagree by days of decay.
 *
 * Environment: TMAI_RPC_PORT (default 8545), TMAI_GATEWAY_PORT (8787), TMAI_EXAMPLE_API_PORT (8788).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, mkdirSync, readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createPublicClient, http, toHex } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { deploymentFile, loadDeployment } from "../src/chain/deployments.ts";
import { veBalanceAt } from "../src/chain/veBalance.ts";
import { DEMO_EPOCH_SECONDS, runDemoEpoch } from "../src/demo/demoEpoch.ts";
import { createKeyBySigningIn } from "../src/demo/demoKeys.ts";
import { seedDemoWallets } from "../src/demo/seedDemoWallets.ts";
import { waitForRpc } from "../src/demo/waitForRpc.ts";
import { formatTable } from "../src/format/formatTable.ts";
import { formatDate, formatTokens } from "../src/format/formatTokens.ts";
import { gatewayConfigFrom } from "../src/gateway/config.ts";
import { createExampleDataApi } from "../src/gateway/exampleDataApi.ts";
import { createGatewayLogger } from "../src/gateway/logger.ts";
import { startGateway } from "../src/gateway/startGateway.ts";

const CHAIN_ID = 31337;
/** The Hardhat node's accounts come from this public test mnemonic; never use it on a real network. */
const TEST_MNEMONIC = "test test test test test test test test test test test junk";
const testKey = (index: number) =>
  toHex(mnemonicToAccount(TEST_MNEMONIC, { addressIndex: index }).getHdKey().privateKey as Uint8Array);
const port = Number(process.env.TMAI_RPC_PORT ?? 8545);
const gatewayPort = Number(process.env.TMAI_GATEWAY_PORT ?? 8787);
const exampleApiPort = Number(process.env.TMAI_EXAMPLE_API_PORT ?? 8788);
const rpcUrl = `http://127.0.0.1:${port}`;
const root = new URL("../", import.meta.url);
const hardhatCli = fileURLToPath(new URL("node_modules/hardhat/dist/src/cli.js", root));
const children = new Set<ChildProcess>();

function stopAll(code: number): never {
  for (const child of children) child.kill("SIGTERM");
  process.exit(code);
}

function fail(message: string): never {
  console.error(`\nnpm start: ${message}`);
  stopAll(1);
}

/** Runs `hardhat <args>` to completion with its output in `logFile`; fails the stack, showing the log, if it fails. */
function hardhat(args: string[], logFile: URL): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [hardhatCli, ...args], {
      cwd: fileURLToPath(root),
      env: { ...process.env, TMAI_RPC_PORT: String(port) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.add(child);
    const output = createWriteStream(logFile);
    child.stdout?.pipe(output);
    child.stderr?.pipe(output);
    child.on("exit", (code) => {
      children.delete(child);
      if (code === 0) return resolve();
      output.end(() => {
        console.error(readFileSync(logFile, "utf8").trim().split("\n").slice(-15).join("\n"));
        fail(`\`hardhat ${args.join(" ")}\` exited with code ${code}; full output in ${logFile.pathname}`);
      });
    });
  });
}

if (
  await waitForRpc(rpcUrl, 500).then(
    () => true,
    () => false,
  )
) {
  fail(`something already answers JSON-RPC on ${rpcUrl}: stop it, or choose another port with TMAI_RPC_PORT=8546`);
}

// A fresh chain: forget the previous run's local deployment, or Ignition would try to resume it.
rmSync(new URL(`deploy/deployments/chain-${CHAIN_ID}`, root), { recursive: true, force: true });
mkdirSync(new URL("cache/", root), { recursive: true });
const nodeLog = new URL("cache/hardhat-node.log", root);
const chainStart = new Date(Date.now() - (DEMO_EPOCH_SECONDS + 3_600) * 1000);
const node = spawn(process.execPath, [hardhatCli, "node", "--hostname", "127.0.0.1", "--port", String(port)], {
  cwd: fileURLToPath(root),
  // Read by hardhat.config.ts (`networks.node.initialDate`).
  env: { ...process.env, TMAI_CHAIN_START: chainStart.toISOString() },
  stdio: ["ignore", "pipe", "pipe"],
});
children.add(node);
const log = createWriteStream(nodeLog);
node.stdout?.pipe(log);
node.stderr?.pipe(log);
let stopping = false;
node.on("exit", (code, signal) => {
  children.delete(node);
  if (!stopping) fail(`the Hardhat node stopped unexpectedly (${signal ?? `code ${code}`}); see ${nodeLog.pathname}`);
});
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    stopping = true;
    console.log("\nStopping the local stack…");
    stopAll(0);
  });
}

console.log(
  `Starting a Hardhat node on ${rpcUrl}, its clock at ${chainStart.toISOString()} (log: ${nodeLog.pathname})…`,
);
await waitForRpc(rpcUrl, 60_000).catch((error: Error) => fail(error.message));

console.log("Deploying the suite with Hardhat Ignition (deploy/modules/LocalSuite.ts)…");
await hardhat(
  [
    "ignition",
    "deploy",
    "deploy/modules/LocalSuite.ts",
    "--network",
    "localhost",
    "--parameters",
    "deploy/parameters/local.json",
  ],
  new URL("cache/ignition-deploy.log", root),
);
const addresses = loadDeployment(CHAIN_ID);
if (addresses.token === undefined)
  fail(`the local deployment has no test token (${deploymentFile(CHAIN_ID).pathname})`);

console.log("Locking for the demo wallets…");
const wallets = await seedDemoWallets({ rpcUrl, addresses: { ...addresses, token: addresses.token } });

console.log("Sharing 100,000 TMAI of revenue in a demo epoch (the chain's clock moves 3 days, up to now)…\n");
const demoReport = fileURLToPath(new URL("distributions/local/", root));
const epoch = await runDemoEpoch({
  rpcUrl,
  addresses: { ...addresses, token: addresses.token },
  outDir: demoReport,
  reward: "100000",
});
// veTMAI now (the chain's clock after the demo epoch), computed from each lock as the gateway computes it.
const chainNow = (await createPublicClient({ transport: http(rpcUrl) }).getBlock()).timestamp;
console.log(
  formatTable([
    ["wallet", "address", "locked TMAI", "unlocks", "veTMAI now", "level", "tier"],
    ...wallets.map((w) => [
      w.label,
      w.address,
      formatTokens(w.amount),
      w.permanent ? "never (permanent)" : formatDate(w.end),
      formatTokens(veBalanceAt(w, chainNow)),
      String(w.level),
      w.tier,
    ]),
  ]),
);
console.log();
console.log(
  formatTable([
    ["wallet", "revenue share (TMAI)", "share of the epoch's veTMAI·seconds"],
    ...wallets.map((w) => {
      const row = epoch.report.accounts.find((a) => a.account === w.address);
      return [w.label, formatTokens(BigInt(row?.rewards[0]?.cumulative ?? "0"), 18, 2), row?.share ?? "0"];
    }),
  ]),
);
console.log(`Root ${epoch.report.root} accepted; report ${epoch.file}.
Claim as the level-2 wallet (Hardhat test account 2):
  TMAI_PRIVATE_KEY=${testKey(2)} npx tmai claim --report ${epoch.file}
(add --relock to put it into that wallet's veTMAI lock instead)`);

console.log("\nStarting the example data API and the access gateway (SQLite)…");
const exampleApi = await createExampleDataApi();
const exampleApiUrl = await exampleApi
  .listen({ host: "127.0.0.1", port: exampleApiPort })
  .catch((error: Error) =>
    fail(`the example data API cannot listen on ${exampleApiPort} (${error.message}): set TMAI_EXAMPLE_API_PORT`),
  );
const gatewayDb = fileURLToPath(new URL("cache/gateway.sqlite", root));
for (const suffix of ["", "-wal", "-shm"]) rmSync(`${gatewayDb}${suffix}`, { force: true });
const gatewayLog = fileURLToPath(new URL("cache/gateway.log", root));
const gateway = await startGateway(
  gatewayConfigFrom({
    TMAI_GATEWAY_PORT: String(gatewayPort),
    TMAI_RPC_URL: rpcUrl,
    TMAI_UPSTREAM: exampleApiUrl,
    TMAI_GATEWAY_DB: gatewayDb,
    TMAI_MASTER_KEY: randomBytes(32).toString("base64"),
    TMAI_PLANS: fileURLToPath(new URL("config/plans.example.json", root)),
    TMAI_SYNC_INTERVAL_MS: "1000",
  }),
  createGatewayLogger({ destination: createWriteStream(gatewayLog) }),
).catch((error: Error) =>
  fail(`the gateway did not start (${error.message}): is port ${gatewayPort} free? (TMAI_GATEWAY_PORT)`),
);
const demoKeys: ((typeof wallets)[number] & { key: string })[] = [];
for (const [i, wallet] of wallets.entries()) {
  const { key } = await createKeyBySigningIn(gateway.url, testKey(i + 1), CHAIN_ID, "demo");
  demoKeys.push({ ...wallet, key });
}
console.log(
  formatTable([
    ["wallet", "tier", "demo API key (Hardhat test account; shown once)"],
    ...demoKeys.map((k) => [k.label, k.tier, k.key]),
  ]),
);
const keyOf = (level: number) => demoKeys.find((k) => k.level === level)?.key as string;
console.log(`
Try the gateway (plans: config/plans.example.json; log: ${gatewayLog}):
  # a wallet's tier, quota and API discount
  curl -s ${gateway.url}/v1/me -H "x-api-key: ${keyOf(5)}"
  # 403: /whales needs VIP; the level-2 wallet is Advanced (the answer says how much more veTMAI it needs)
  curl -s ${gateway.url}/v1/data/whales -H "x-api-key: ${keyOf(2)}"
  # 429: Basic allows 10 requests a minute — the 11th is refused with Retry-After
  for i in $(seq 11); do curl -s -o /dev/null -w "%{http_code} " ${gateway.url}/v1/data/prices/TMAI -H "x-api-key: ${keyOf(0)}"; done; echo
`);
process.once("exit", () => {
  exampleApi.server.close();
});

console.log(`
RPC URL        ${rpcUrl}  (chain id ${CHAIN_ID}; the node's accounts are Hardhat's well-known test accounts)
TMAI (test)    ${addresses.token}
VotingEscrow   ${addresses.votingEscrow}
StakingScore   ${addresses.stakingScore}
TMAIGovernor   ${addresses.governor}
Timelock       ${addresses.timelock}
Revenue        ${addresses.revenueDistributor}
Gateway        ${gateway.url}  (in front of the EXAMPLE data API at ${exampleApiUrl})
Addresses: ${deploymentFile(CHAIN_ID).pathname}

Local stack ready. Press Ctrl-C to stop.`);
