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
 * On a local chain: funds the distributor, lets one day pass, computes epoch 1 over that day, proposes it, lets
 * the 2-day delay pass and accepts it — so claims can be tried at once. Moves the chain's clock 3 days ahead.
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
  await pass(2n * 86_400n);
  await write({ address: distributor, abi: revenueDistributorAbi, functionName: "acceptRoot" });
  return { file, report };
}
