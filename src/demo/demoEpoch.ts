import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  type Address,
  createPublicClient,
  createTestClient,
  createWalletClient,
  http,
  parseUnits,
  type WriteContractParameters,
} from "viem";
import { hardhat } from "viem/chains";
import { revenueDistributorAbi, testTmaiAbi } from "../chain/abis.ts";
import type { SuiteAddresses } from "../chain/deployments.ts";
import { computeEpoch } from "../distribution/computeEpoch.ts";
import { reportCsv, reportHashOf, serializeReport } from "../distribution/report.ts";

export interface DemoEpochParameters {
  rpcUrl: string;
  addresses: SuiteAddresses & { token: Address };
  /** Where to write the report (e.g. distributions/local). */
  outDir: string;
  /** Whole TMAI to share. */
  reward: string;
}

/**
 * How far the demo epoch moves a chain's clock: the epoch's day, then the root's delay (the distributor's
 * `rootDelay`, two days as deployed by the local suite).
 */
export const DEMO_EPOCH_SECONDS = 3 * 86_400;

/**
 * On a local chain: funds the distributor, lets one day pass, computes epoch 1 over that day, proposes it, lets
 * the 2-day delay pass and accepts it — so claims can be tried at once. Moves the chain's clock `DEMO_EPOCH_SECONDS`
 * ahead, but never past the wall clock when the chain is that far behind it: a chain started that long before now
 * (as `npm start` starts its node) ends on the wall clock, so the chain and the gateway (which reads the wall
 * clock) compute the same veTMAI. Otherwise the chain is left ahead of the wall clock.
 */
export async function runDemoEpoch({ rpcUrl, addresses, outDir, reward }: DemoEpochParameters) {
  const transport = http(rpcUrl);
  const publicClient = createPublicClient({ chain: hardhat, transport });
  const walletClient = createWalletClient({ chain: hardhat, transport });
  const testClient = createTestClient({ chain: hardhat, mode: "hardhat", transport });
  const [deployer] = await walletClient.getAddresses();
  if (deployer === undefined) throw new Error(`the node at ${rpcUrl} has no unlocked account`);
  const write = async (request: Omit<WriteContractParameters, "account" | "chain">) =>
    publicClient.waitForTransactionReceipt({
      hash: await walletClient.writeContract({
        ...request,
        account: deployer,
        chain: hardhat,
      } as WriteContractParameters),
    });
  const pass = async (seconds: bigint) => {
    await testClient.increaseTime({ seconds: Number(seconds) });
    await testClient.mine({ blocks: 1 });
  };

  const amount = parseUnits(reward, 18);
  const distributor = addresses.revenueDistributor;
  await write({ address: addresses.token, abi: testTmaiAbi, functionName: "mint", args: [deployer, amount] });
  await write({ address: addresses.token, abi: testTmaiAbi, functionName: "approve", args: [distributor, amount] });
  await write({
    address: distributor,
    abi: revenueDistributorAbi,
    functionName: "fund",
    args: [addresses.token, amount],
  });

  const start = (await publicClient.getBlock()).timestamp - 600n;
  const end = start + 86_400n;
  await pass(86_400n);
  const report = await computeEpoch({
    client: publicClient,
    chainId: hardhat.id,
    votingEscrow: addresses.votingEscrow,
    revenueDistributor: distributor,
    input: { epoch: 1, start, end, rewards: [{ token: addresses.token, amount }], exclude: [], fromBlock: 0n },
    inputDir: outDir,
  });
  mkdirSync(outDir, { recursive: true });
  const text = serializeReport(report);
  const file = path.join(outDir, "epoch-1.json");
  writeFileSync(file, text);
  writeFileSync(path.join(outDir, "epoch-1.csv"), reportCsv(report));
  await write({
    address: distributor,
    abi: revenueDistributorAbi,
    functionName: "proposeRoot",
    args: [
      report.root,
      reportHashOf(text),
      report.totals.map((t) => t.token),
      report.totals.map((t) => BigInt(t.cumulative)),
    ],
  });
  // The root is accepted in the first block past its delay, or at the wall clock if that is later.
  const rootDelay = await publicClient.readContract({
    address: distributor,
    abi: revenueDistributorAbi,
    functionName: "rootDelay",
  });
  const acceptable = (await publicClient.getBlock()).timestamp + rootDelay;
  const wallClock = BigInt(Math.floor(Date.now() / 1000));
  await testClient.setNextBlockTimestamp({ timestamp: acceptable > wallClock ? acceptable : wallClock });
  await write({ address: distributor, abi: revenueDistributorAbi, functionName: "acceptRoot" });
  return { file, report };
}
