import { network } from "hardhat";
import type { PublicClient } from "viem";
import { DEFAULT_THRESHOLDS } from "../../../src/chain/stakingLevel.ts";
import { TierTracker } from "../../../src/gateway/TierTracker.ts";

/** An in-process chain with TMAI, VotingEscrow and StakingScore (default thresholds) and a started TierTracker. */
export async function deployGatewayChain(
  clientOverride?: (connection: Awaited<ReturnType<typeof network.create>>) => PublicClient,
) {
  const connection = await network.create();
  const { viem } = connection;
  const [owner] = await viem.getWalletClients();
  if (!owner) throw new Error("no wallet on the in-process chain");
  const tmai = await viem.deployContract("TestTMAI", [owner.account.address]);
  const ve = await viem.deployContract("VotingEscrow", [tmai.address]);
  const score = await viem.deployContract("StakingScore", [ve.address, [...DEFAULT_THRESHOLDS], owner.account.address]);
  const client = clientOverride?.(connection) ?? ((await viem.getPublicClient()) as unknown as PublicClient);
  const tracker = new TierTracker({ client, votingEscrow: ve.address, stakingScore: score.address });
  await tracker.start();
  return { connection, owner, tmai, ve, score, client, tracker, chainId: await client.getChainId() };
}
