import type {
  AddressResolvableFuture,
  IgnitionModuleBuilder,
  ModuleParameterRuntimeValue,
} from "@nomicfoundation/ignition-core";
import { keccak256, toHex, zeroAddress, zeroHash } from "viem";
import { DEFAULT_THRESHOLDS } from "../src/chain/stakingLevel.ts";

const PROPOSER_ROLE = keccak256(toHex("PROPOSER_ROLE"));
const CANCELLER_ROLE = keccak256(toHex("CANCELLER_ROLE"));

/** Two days, the default minimum delay between a proposal passing and its execution. */
export const DEFAULT_TIMELOCK_DELAY = 2n * 24n * 3600n;

/**
 * The futures of the whole suite over `token`, shared by the `Suite` (existing TMAI) and `LocalSuite` (test
 * token) modules. Parameters of the calling module: `timelockMinDelay` (seconds, default 2 days) and
 * `thresholds` (ten ascending veTMAI amounts in base units, default: the vendor table).
 *
 * The RevenueDistributor is owned by the Timelock; parameters `distributorGuardian` (may revoke pending roots)
 * and `rootProposer` (the DAO's operator) default to the deployer.
 *
 * Order: the Timelock first (it owns StakingScore from birth, so no ownership transfer is pending), then
 * VotingEscrow, StakingScore and the Governor; the Governor becomes the Timelock's only proposer and canceller,
 * anyone may execute, and the deployer gives up the Timelock's admin role: no admin is left.
 */
export function deploySuite(
  m: IgnitionModuleBuilder,
  token: AddressResolvableFuture | ModuleParameterRuntimeValue<string>,
) {
  const deployer = m.getAccount(0);
  const minDelay = m.getParameter("timelockMinDelay", DEFAULT_TIMELOCK_DELAY);
  const thresholds = m.getParameter("thresholds", [...DEFAULT_THRESHOLDS]);

  const timelock = m.contract("TimelockController", [minDelay, [], [zeroAddress], deployer]);
  const votingEscrow = m.contract("VotingEscrow", [token]);
  const stakingScore = m.contract("StakingScore", [votingEscrow, thresholds, timelock]);
  const governor = m.contract("TMAIGovernor", [votingEscrow, stakingScore, timelock]);
  const guardian = m.getParameter("distributorGuardian", deployer);
  const rootProposer = m.getParameter("rootProposer", deployer);
  const revenueDistributor = m.contract("RevenueDistributor", [votingEscrow, timelock, guardian, [rootProposer]]);

  const proposer = m.call(timelock, "grantRole", [PROPOSER_ROLE, governor], { id: "GrantProposer" });
  const canceller = m.call(timelock, "grantRole", [CANCELLER_ROLE, governor], { id: "GrantCanceller" });
  m.call(timelock, "renounceRole", [zeroHash, deployer], { id: "RenounceAdmin", after: [proposer, canceller] });

  return { timelock, votingEscrow, stakingScore, governor, revenueDistributor };
}
