import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { DEFAULT_THRESHOLDS } from "../../src/chain/stakingLevel.ts";

/**
 * VotingEscrow and StakingScore over an existing TMAI token.
 *
 * Parameters (module `VeTMAI`): `token` — the TMAI address (required); `scoreOwner` — who may change the
 * thresholds (default: the deployer; the governance module hands it to the Timelock); `thresholds` — ten
 * ascending veTMAI amounts in base units (default: the vendor table).
 */
export default buildModule("VeTMAI", (m) => {
  const token = m.getParameter<string>("token");
  const scoreOwner = m.getParameter("scoreOwner", m.getAccount(0));
  const thresholds = m.getParameter("thresholds", [...DEFAULT_THRESHOLDS]);
  const votingEscrow = m.contract("VotingEscrow", [token]);
  const stakingScore = m.contract("StakingScore", [votingEscrow, thresholds, scoreOwner]);
  return { votingEscrow, stakingScore };
});
