import { network } from "hardhat";
import type { PublicClient } from "viem";
import { DEFAULT_THRESHOLDS } from "../../../src/chain/stakingLevel.ts";
import { TierTracker, type TierTrackerParameters } from "../../../src/gateway/TierTracker.ts";

/**
 * An in-process chain with TMAI, VotingEscrow and StakingScore (default thresholds) and a started TierTracker. The
 * chain mines a block per transaction, so the tracker follows the head (0 confirmations) unless `trackerOptions` say.
 */
export async function deployGatewayChain(
  clientOverride?: (connection: Awaited<ReturnType<typeof network.create>>) => PublicClient,
  trackerOptions: Partial<Omit<TierTrackerParameters, "client" | "votingEscrow" | "stakingScore">> = {},
) {
  const connection = await network.create();
  const { viem } = connection;
  const [owner] = await viem.getWalletClients();
  if (!owner) throw new Error("no wallet on the in-process chain");
  const tmai = await viem.deployContract("TestTMAI", [owner.account.address]);
  const ve = await viem.deployContract("VotingEscrow", [tmai.address]);
  const score = await viem.deployContract("StakingScore", [ve.address, [...DEFAULT_THRESHOLDS], owner.account.address]);
  const client = clientOverride?.(connection) ?? ((await viem.getPublicClient()) as unknown as PublicClient);
  // Loop bound: the confirmations asked for; a tracker that stays behind the head starts after the deployment.
  for (let i = 0; i < (trackerOptions.confirmations ?? 0); i++)
    await connection.provider.request({ method: "evm_mine" });
  const tracker = new TierTracker({
    client,
    votingEscrow: ve.address,
    stakingScore: score.address,
    confirmations: 0,
    ...trackerOptions,
  });
  await tracker.start();
  return { connection, owner, tmai, ve, score, client, tracker, chainId: await client.getChainId() };
}
