import type { NetworkConnection } from "hardhat/types/network";
import LocalSuiteModule from "../../deploy/modules/LocalSuite.ts";

/** Deploys the whole suite through the Ignition module and returns typed ethers contracts. */
export async function deployLocalSuite(connection: NetworkConnection) {
  const { ignition, ethers } = connection;
  const deployed = await ignition.deploy(LocalSuiteModule);
  const at = async (contract: { getAddress(): Promise<string> }) => contract.getAddress();
  return {
    tmai: await ethers.getContractAt("TestTMAI", await at(deployed.tmai)),
    votingEscrow: await ethers.getContractAt("VotingEscrow", await at(deployed.votingEscrow)),
    stakingScore: await ethers.getContractAt("StakingScore", await at(deployed.stakingScore)),
    governor: await ethers.getContractAt("TMAIGovernor", await at(deployed.governor)),
    timelock: await ethers.getContractAt("TimelockController", await at(deployed.timelock)),
    revenueDistributor: await ethers.getContractAt("RevenueDistributor", await at(deployed.revenueDistributor)),
  };
}
