/** The artifacts whose ABIs `scripts/generateAbis.ts` writes into `src/chain/abis.ts`, by exported name. */
export const ABI_SOURCES = {
  votingEscrowAbi: "artifacts/contracts/VotingEscrow.sol/VotingEscrow.json",
  stakingScoreAbi: "artifacts/contracts/StakingScore.sol/StakingScore.json",
  tmaiGovernorAbi: "artifacts/contracts/governance/TMAIGovernor.sol/TMAIGovernor.json",
  testTmaiAbi: "artifacts/contracts/dev/TestTMAI.sol/TestTMAI.json",
  revenueDistributorAbi: "artifacts/contracts/RevenueDistributor.sol/RevenueDistributor.json",
} as const;
