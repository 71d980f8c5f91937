/**
 * Where the suite is deployed, by chain id — the one place the gateway, the CLI and the scripts get addresses
 * from. Hardhat Ignition records every deployment in `deploy/deployments/chain-<id>/deployed_addresses.json`
 * (committed for public networks; written afresh by `npm start` for the local chain, 31337).
 */
import { existsSync, readFileSync } from "node:fs";
import { type Address, getAddress } from "viem";

export interface SuiteAddresses {
  votingEscrow: Address;
  stakingScore: Address;
  governor: Address;
  timelock: Address;
  revenueDistributor: Address;
  /** Present when the token was deployed with the suite (the test token); otherwise read `votingEscrow.token()`. */
  token?: Address;
}

/** Ignition future ids (after `<module>#`) of each contract. */
const FUTURES: Record<keyof SuiteAddresses, string> = {
  votingEscrow: "VotingEscrow",
  stakingScore: "StakingScore",
  governor: "TMAIGovernor",
  timelock: "TimelockController",
  revenueDistributor: "RevenueDistributor",
  token: "TestTMAI",
};

export class DeploymentNotFoundError extends Error {
  override name = "DeploymentNotFoundError";
}

/** The default root: this repository. */
const REPOSITORY = new URL("../../", import.meta.url);

export function deploymentFile(chainId: number, root: URL = REPOSITORY): URL {
  return new URL(`deploy/deployments/chain-${chainId}/deployed_addresses.json`, root);
}

/** The suite's addresses on `chainId`; throws `DeploymentNotFoundError` saying how to deploy when there are none. */
export function loadDeployment(chainId: number, root: URL = REPOSITORY): SuiteAddresses {
  const file = deploymentFile(chainId, root);
  if (!existsSync(file)) {
    const hint = chainId === 31337 ? "start the local stack with `npm start`" : "deploy it with Hardhat Ignition";
    throw new DeploymentNotFoundError(`no veTMAI deployment is recorded for chain ${chainId}: ${hint}`);
  }
  const recorded = JSON.parse(readFileSync(file, "utf8")) as Record<string, string>;
  const find = (future: string) => {
    const key = Object.keys(recorded).find((k) => k.endsWith(`#${future}`));
    return key === undefined ? undefined : getAddress(recorded[key] as string);
  };
  const addresses: Partial<SuiteAddresses> = {};
  for (const [name, future] of Object.entries(FUTURES) as [keyof SuiteAddresses, string][]) {
    const address = find(future);
    if (address !== undefined) addresses[name] = address;
    else if (name !== "token") {
      throw new DeploymentNotFoundError(`the deployment for chain ${chainId} (${file.pathname}) has no ${future}`);
    }
  }
  return addresses as SuiteAddresses;
}
